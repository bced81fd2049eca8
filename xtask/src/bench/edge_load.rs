//! Start here: the edge load run of `cargo xtask bench` (`cargo xtask bench edge`
//! runs it alone): 2,000 monitors probed by the real Worker under `wrangler dev`.
//!
//! 1. builds the Worker (`crate::worker::build`) and starts `mcprobe-fleet
//!    registry` ([`FLEETS`] fleets of its 20 fast scenarios, every endpoint
//!    listed [`COPIES`] times as `?copy=K`, as the scan bench does), then reads
//!    the fake registry page by page and keeps the HEALTHY endpoints (the four
//!    `ok-*` scenarios: 4 x 4 fleets x 125 copies = 2,000 URLs on 16 ports).
//!    Healthy, because that is what most monitors are most of the time, and
//!    because a down verdict makes the Worker re-probe after a pause before it
//!    believes it: with half the fleet down (the scan mix) a tick measured the
//!    Worker's confirmation delays, not its throughput (see the issue note);
//! 2. starts `wrangler dev` on a free port with a FRESH local D1 under
//!    `target/bench/edge-state` (loopback allowed, so it may probe the fleet),
//!    from a private copy of the build ([`private_root`]: other builds in this
//!    tree would otherwise reload the Worker mid-run);
//! 3. registers the 2,000 monitors through `POST /api/monitors` (dev admin
//!    token), [`REGISTER_THREADS`] requests at once;
//! 4. fires [`TICKS`] cron ticks at consecutive minutes
//!    (`/cdn-cgi/local/scheduled?cron=*+*+*+*+*&time=MS`). The cron may hand its
//!    work to a Queue and answer before the probes finish, so after each tick we
//!    poll `GET /api/debug/writes` until its `probes` counter grew by one probe
//!    per monitor (every monitor is due each minute at `interval_s` 60),
//!    bounded by [`TICK_LIMIT`]. Per tick: probes, wall time from firing to the
//!    last probe counted, probes per minute, rows written, rows per probe; and at
//!    the end the D1 tables' row counts.
//!
//! The figures are workerd on this machine (2 shared cores, fleet and wrangler
//! on the same box), not Cloudflare's edge: they show what one local Worker
//! sustains and, more to the point, the rows each probe costs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::scan::FleetRegistry;
use super::table::{align, met, table_header};
use super::util::target_dir;
use crate::dev::{http, http_json, one_line};
use crate::worker::edge::{self, DevOptions, EdgePaths, DEV_ADMIN_TOKEN};

/// Monitors registered (the fleet registry lists exactly this many endpoints).
pub const MONITORS: usize = 2_000;
/// `mcprobe-fleet registry --fleets F --copies N`: 20 scenarios x F x N entries,
/// of which the 4 `ok-*` scenarios give 4 x F x N = [`MONITORS`].
const FLEETS: usize = 4;
const COPIES: usize = 125;
/// Cron ticks fired, one minute apart in the Worker's eyes.
pub const TICKS: usize = 3;
/// POSTs in flight at once while registering.
const REGISTER_THREADS: usize = 8;
/// One tick's probes must all be counted within this.
const TICK_LIMIT: Duration = Duration::from_secs(540);
/// The deployed cadence: 2,000 monitors at 60 s need this many probes a minute.
const NEEDED_PER_MIN: f64 = MONITORS as f64;

/// One fired tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// The scheduled time given to the cron (ms since the epoch).
    pub time_ms: u64,
    pub probes: u64,
    /// From firing the tick to its last probe counted.
    pub wall_s: f64,
    /// How long the scheduled request itself took to answer.
    pub answered_s: f64,
    pub rows_written: u64,
    /// Queue messages the cron fanned the tick out into (0: probed inline).
    pub messages: u64,
}

impl Tick {
    pub fn per_minute(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.probes as f64 * 60.0 / self.wall_s
        } else {
            f64::INFINITY
        }
    }

    pub fn rows_per_probe(&self) -> f64 {
        if self.probes > 0 {
            self.rows_written as f64 / self.probes as f64
        } else {
            0.0
        }
    }
}

/// Everything the load run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeLoad {
    pub monitors: usize,
    pub register_s: f64,
    pub ticks: Vec<Tick>,
    /// `tables` of the last `/api/debug/writes`, by name.
    pub tables: Vec<(String, u64)>,
    /// The scheduled route that worked.
    pub route: String,
}

pub fn run(root: &Path, fleet_bin: &Path) -> Result<EdgeLoad> {
    crate::worker::build(root)?;
    let reg = FleetRegistry::start(fleet_bin, FLEETS, COPIES)?;
    let listed = crawl_registry(&reg.url)?;
    let endpoints = healthy(listed);
    if endpoints.len() != MONITORS {
        bail!(
            "the fleet registry lists {} healthy (ok-*) endpoints, the load run wants {MONITORS}",
            endpoints.len()
        );
    }

    let dir = target_dir(root).join("bench");
    let state = dir.join("edge-state");
    // A fresh D1: the counts below are this run's alone.
    if state.exists() {
        std::fs::remove_dir_all(&state).with_context(|| format!("removing {}", state.display()))?;
    }
    let private = private_root(root, &dir.join("edge-root"))?;
    let mut opts = DevOptions::new(edge::free_port()?, dir.join("wrangler-edge.log"));
    opts.inspector_port = Some(edge::free_port()?);
    opts.allow_loopback = true;
    opts.persist_to = Some(state);
    let server = edge::start_wrangler_dev(&EdgePaths::new(&private), &opts)?;
    let port = server.port();
    println!(
        "bench: wrangler dev ready at {} in {:.1}s (log: target/bench/wrangler-edge.log)",
        server.url(),
        server.startup.as_secs_f64()
    );
    let result = load(port, &endpoints);
    match result {
        Ok(r) => Ok(r),
        Err(e) => Err(e.context(format!(
            "the edge load run failed; wrangler's log ends:\n{}",
            server.log_tail(30)
        ))),
    }
}

/// A private root for `wrangler dev`: copies of `build/` (just built),
/// `wrangler.toml` and `migrations/`, and a link to `.tools/`. Wrangler
/// reloads the Worker when the files its config names change, even with no
/// `[build]`, and the shared `build/` is rewritten by every other build in
/// this tree (tests, other people's `cargo xtask dev`): a reload in the
/// middle of the run reset the Worker's write counters, so the run reads its
/// own copy.
fn private_root(root: &Path, dest: &Path) -> Result<PathBuf> {
    if dest.exists() {
        std::fs::remove_dir_all(dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    copy_tree(&root.join("build"), &dest.join("build"))?;
    copy_tree(&root.join("migrations"), &dest.join("migrations"))?;
    std::fs::copy(root.join("wrangler.toml"), dest.join("wrangler.toml"))
        .context("copying wrangler.toml")?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join(".tools"), dest.join(".tools"))
        .context("linking .tools")?;
    Ok(dest.to_path_buf())
}

/// Copies a folder, skipping dot-entries (worker-build's `.tmp` work folder,
/// which another build may be writing right now).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Registers, ticks and counts against a running Worker on `port`.
fn load(port: u16, endpoints: &[(String, String)]) -> Result<EdgeLoad> {
    println!("bench: registering {} monitors", endpoints.len());
    let started = Instant::now();
    register_all(port, endpoints)?;
    let register_s = started.elapsed().as_secs_f64();
    println!("bench: registered in {register_s:.1}s");

    let mut before = writes(port)?;
    let minute0 = now_ms() / 60_000 * 60_000;
    let mut ticks = Vec::new();
    let mut route = String::new();
    for k in 0..TICKS {
        let time_ms = minute0 + k as u64 * 60_000;
        let fired = Instant::now();
        route = fire_tick(port, time_ms)?;
        let answered_s = fired.elapsed().as_secs_f64();
        let want = counter(&before, "probes") + endpoints.len() as u64;
        let after = wait_for_probes(port, want, fired)?;
        let tick = Tick {
            time_ms,
            probes: counter(&after, "probes") - counter(&before, "probes"),
            wall_s: fired.elapsed().as_secs_f64(),
            answered_s,
            rows_written: counter(&after, "rows_written")
                .saturating_sub(counter(&before, "rows_written")),
            messages: counter(&after, "messages").saturating_sub(counter(&before, "messages")),
        };
        println!(
            "bench: tick {} of {TICKS}: {} probes in {:.1}s ({:.0}/min), {} rows written ({:.3}/probe)",
            k + 1,
            tick.probes,
            tick.wall_s,
            tick.per_minute(),
            tick.rows_written,
            tick.rows_per_probe()
        );
        ticks.push(tick);
        before = after;
    }
    let tables = before["tables"]
        .as_object()
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    Ok(EdgeLoad {
        monitors: endpoints.len(),
        register_s,
        ticks,
        tables,
        route,
    })
}

/// `(name, url)` of every remote the fake registry lists, following cursors.
fn crawl_registry(url: &str) -> Result<Vec<(String, String)>> {
    let (port, base) = split_local_url(url)?;
    // The registry's base URL; its pages are the official API's `GET /v0.1/servers`.
    let path = format!("{}/v0.1/servers", base.trim_end_matches('/'));
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    // The registry pages by 100: 2,000 entries are 20 pages; 1,000 is a bound.
    for _ in 0..1_000 {
        let page_path = match &cursor {
            None => format!("{path}?limit=100"),
            Some(c) => format!("{path}?limit=100&cursor={c}"),
        };
        let page = http_json(
            port,
            "GET",
            &page_path,
            None,
            None,
            Duration::from_secs(30),
            200,
        )?;
        out.extend(page_remotes(&page));
        cursor = page["metadata"]["nextCursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            return Ok(out);
        }
    }
    bail!("the fake registry at {url} never stopped paging")
}

/// The `ok-*` scenarios' entries (`io.github.mcprobe/f0-ok-modern-copy3`).
fn healthy(listed: Vec<(String, String)>) -> Vec<(String, String)> {
    listed
        .into_iter()
        .filter(|(name, _)| {
            name.rsplit('/')
                .next()
                .and_then(|n| n.split_once('-'))
                .is_some_and(|(_, scenario)| scenario.starts_with("ok-"))
        })
        .collect()
}

/// `http://127.0.0.1:PORT/path` -> (PORT, /path).
fn split_local_url(url: &str) -> Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .with_context(|| format!("not an http://127.0.0.1 URL: {url}"))?;
    let (port, path) = rest.split_once('/').unwrap_or((rest, ""));
    let port = port.parse().with_context(|| format!("no port in {url}"))?;
    Ok((port, format!("/{path}")))
}

/// The remotes of one registry page (the official API's shape).
fn page_remotes(page: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in page["servers"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let name = entry["server"]["name"].as_str().unwrap_or("server");
        for remote in entry["server"]["remotes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            if let Some(url) = remote["url"].as_str() {
                out.push((name.to_string(), url.to_string()));
            }
        }
    }
    out
}

/// POSTs every monitor, [`REGISTER_THREADS`] at once; the first failure fails
/// the run (with how many went in before it).
fn register_all(port: u16, endpoints: &[(String, String)]) -> Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let failure: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let bodies: Arc<Vec<String>> = Arc::new(
        endpoints
            .iter()
            .map(|(name, url)| monitor_body(name, url))
            .collect(),
    );
    let workers: Vec<_> = (0..REGISTER_THREADS)
        .map(|_| {
            let (next, failure, bodies) = (next.clone(), failure.clone(), bodies.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return;
                };
                if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                    return;
                }
                let r = http_json(
                    port,
                    "POST",
                    "/api/monitors",
                    Some(DEV_ADMIN_TOKEN),
                    Some(body),
                    Duration::from_secs(60),
                    201,
                );
                if let Err(e) = r {
                    if let Ok(mut f) = failure.lock() {
                        f.get_or_insert_with(|| format!("monitor {i} ({body}): {e:#}"));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let failed = failure.lock().ok().and_then(|f| f.clone());
    if let Some(why) = failed {
        bail!("registering the monitors failed: {why}");
    }
    Ok(())
}

fn monitor_body(name: &str, url: &str) -> String {
    json!({"url": url, "name": name, "interval_s": 60, "public": false}).to_string()
}

fn writes(port: u16) -> Result<Value> {
    http_json(
        port,
        "GET",
        "/api/debug/writes",
        Some(DEV_ADMIN_TOKEN),
        None,
        Duration::from_secs(60),
        200,
    )
}

fn counter(writes: &Value, key: &str) -> u64 {
    writes[key].as_u64().unwrap_or(0)
}

/// Fires one tick at `time_ms`; returns the route that ran it. Wrangler's
/// documented `/cdn-cgi/local/scheduled` first, then the older `/__scheduled`.
fn fire_tick(port: u16, time_ms: u64) -> Result<String> {
    let mut seen = Vec::new();
    for route in ["/cdn-cgi/local/scheduled", "/__scheduled"] {
        let path = format!("{route}?cron=*+*+*+*+*&time={time_ms}");
        // The handler may probe everything before it answers: a long wait.
        let (code, body) = http(port, "GET", &path, None, None, TICK_LIMIT)?;
        if code == 200 {
            return Ok(route.to_string());
        }
        seen.push(format!("{route} answered {code}: {}", one_line(&body)));
    }
    bail!("no scheduled route ran the cron: {}", seen.join("; "))
}

/// Polls `/api/debug/writes` until `probes >= want`, bounded by
/// [`TICK_LIMIT`] from `fired`; a counter that went DOWN means the isolate
/// was replaced and its counts lost, which is said rather than waited out.
fn wait_for_probes(port: u16, want: u64, fired: Instant) -> Result<Value> {
    let mut last = 0;
    loop {
        let w = writes(port)?;
        let probes = counter(&w, "probes");
        if probes >= want {
            return Ok(w);
        }
        if probes < last {
            bail!("the probes counter went back from {last} to {probes}: the Worker's isolate restarted mid-run");
        }
        last = probes;
        if fired.elapsed() >= TICK_LIMIT {
            bail!(
                "only {probes} of {want} probes counted within {}s of the tick; last writes: {}",
                TICK_LIMIT.as_secs(),
                one_line(&w.to_string())
            );
        }
        // Polling a counter: there is no completion event to wait on.
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

// ---- The table ----

/// The load run's rows (or one row saying why it was not measured).
pub fn rows(load: &std::result::Result<EdgeLoad, String>) -> Vec<[String; 5]> {
    let l = match load {
        Ok(l) => l,
        Err(why) => {
            return vec![[
                format!("edge load, {MONITORS} monitors"),
                "-".into(),
                "-".into(),
                String::new(),
                format!("not measured ({})", one_line(why)),
            ]]
        }
    };
    let mut rows = vec![[
        format!("edge register {} monitors", l.monitors),
        format!("{:.1} s", l.register_s),
        String::new(),
        String::new(),
        format!(
            "POST /api/monitors, {REGISTER_THREADS} at once ({:.0}/s)",
            l.monitors as f64 / l.register_s.max(1e-9)
        ),
    ]];
    for (k, t) in l.ticks.iter().enumerate() {
        rows.push([
            format!("edge tick {}: {} probes", k + 1, t.probes),
            format!("{:.1} s", t.wall_s),
            String::new(),
            format!(
                ">= {NEEDED_PER_MIN:.0}/min: {}",
                met(t.per_minute() >= NEEDED_PER_MIN)
            ),
            format!(
                "{:.0} probes/min; {} rows written, {:.3} rows/probe; cron answered in {:.1} s, \
                 {} queue messages",
                t.per_minute(),
                t.rows_written,
                t.rows_per_probe(),
                t.answered_s,
                t.messages
            ),
        ]);
    }
    // The first tick of new monitors writes each one's first state (and its
    // state change); after that a probe that changes nothing should write
    // (almost) nothing, which is the figure the write budget is about.
    let (first, later) = l.ticks.split_at(l.ticks.len().min(1));
    for (label, ticks, judged) in [("first tick", first, false), ("later ticks", later, true)] {
        let (probes, rows_written) = ticks
            .iter()
            .fold((0, 0), |(p, r), t| (p + t.probes, r + t.rows_written));
        if probes == 0 {
            continue;
        }
        let per_probe = rows_written as f64 / probes as f64;
        rows.push([
            format!("edge rows written per probe, {label}"),
            format!("{per_probe:.3}"),
            String::new(),
            if judged {
                format!("< 1: {}", met(per_probe < 1.0))
            } else {
                String::new()
            },
            if judged {
                format!(
                    "{rows_written} rows over {probes} probes of unchanged monitors \
                     (D1 meta counts, /api/debug/writes)"
                )
            } else {
                format!(
                    "{rows_written} rows over {probes} probes: every new monitor's first \
                     state and state change"
                )
            },
        ]);
    }
    rows
}

/// The paragraph under the table: the D1 tables and how the run was done.
pub fn note(load: &std::result::Result<EdgeLoad, String>) -> String {
    let Ok(l) = load else {
        return String::new();
    };
    let tables = l
        .tables
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "\nedge: the Worker (wasm-release) under `wrangler dev --local` (workerd, local D1, \
         fresh state), {} monitors at interval_s 60 against the healthy (ok-*) endpoints \
         of `mcprobe-fleet registry` (16 ports); {TICKS} ticks fired with {}?time=MS at consecutive \
         minutes; a tick's wall time runs from firing it to /api/debug/writes counting its \
         last probe. D1 rows after the run: {tables}.\n",
        l.monitors, l.route
    )
}

/// The load run as its own aligned table (for `cargo xtask bench edge`).
pub fn table(load: &std::result::Result<EdgeLoad, String>, extra: &[[String; 5]]) -> String {
    let mut all = vec![table_header()];
    all.extend(rows(load));
    all.extend_from_slice(extra);
    format!("{}{}", align(&all), note(load))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_pages_give_every_remote() {
        let page = json!({"servers": [
            {"server": {"name": "io.x/a", "remotes": [{"type": "streamable-http", "url": "http://127.0.0.1:1/mcp"}]}},
            {"server": {"name": "io.x/b", "remotes": [
                {"url": "http://127.0.0.1:2/mcp?copy=2"}, {"type": "sse"}]}},
            {"server": {"name": "io.x/pkg", "packages": []}}
        ], "metadata": {"count": 3}});
        assert_eq!(
            page_remotes(&page),
            vec![
                ("io.x/a".to_string(), "http://127.0.0.1:1/mcp".to_string()),
                (
                    "io.x/b".to_string(),
                    "http://127.0.0.1:2/mcp?copy=2".to_string()
                ),
            ]
        );
        assert!(page_remotes(&json!({"error": "x"})).is_empty());
    }

    #[test]
    fn only_the_ok_scenarios_count_as_healthy() {
        let e = |name: &str| (name.to_string(), format!("http://127.0.0.1:1/{name}"));
        let kept = healthy(vec![
            e("io.github.mcprobe/f0-ok-modern"),
            e("io.github.mcprobe/f3-ok-http-sse-copy7"),
            e("io.github.mcprobe/f0-http-503-copy2"),
            e("io.github.mcprobe/f1-malformed-no-jsonrpc"),
            e("io.github.mcprobe/f1-refused-copy-ok-9"),
        ]);
        let names: Vec<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "io.github.mcprobe/f0-ok-modern",
                "io.github.mcprobe/f3-ok-http-sse-copy7"
            ]
        );
    }

    #[test]
    fn the_private_root_copies_without_dot_entries() {
        let base = std::env::temp_dir().join(format!("xtask-edge-root-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("repo");
        for dir in ["build/worker", "build/.tmp", "migrations", ".tools"] {
            std::fs::create_dir_all(root.join(dir)).expect("dirs");
        }
        std::fs::write(root.join("build/worker/shim.mjs"), "shim").expect("shim");
        std::fs::write(root.join("build/.tmp/half.wasm"), "x").expect("tmp");
        std::fs::write(root.join("migrations/0001.sql"), "sql").expect("sql");
        std::fs::write(root.join("wrangler.toml"), "name = \"x\"").expect("toml");
        let private = private_root(&root, &base.join("private")).expect("copied");
        let read = |p: &str| std::fs::read_to_string(private.join(p)).unwrap_or_default();
        assert_eq!(read("build/worker/shim.mjs"), "shim");
        assert_eq!(read("migrations/0001.sql"), "sql");
        assert_eq!(read("wrangler.toml"), "name = \"x\"");
        assert!(!private.join("build/.tmp").exists());
        assert!(private.join(".tools").is_symlink());
        // Again over the old copy: replaced, not merged.
        std::fs::remove_file(root.join("migrations/0001.sql")).expect("rm");
        let again = private_root(&root, &base.join("private")).expect("copied again");
        assert!(!again.join("migrations/0001.sql").exists());
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn local_urls_split_into_port_and_path() {
        assert_eq!(
            split_local_url("http://127.0.0.1:4100/bench/v0.1/servers").expect("splits"),
            (4100, "/bench/v0.1/servers".to_string())
        );
        assert_eq!(
            split_local_url("http://127.0.0.1:80").expect("splits"),
            (80, "/".to_string())
        );
        assert!(split_local_url("https://example.com/x").is_err());
        assert!(split_local_url("http://127.0.0.1:x/").is_err());
    }

    #[test]
    fn a_monitor_body_is_the_api_shape() {
        let body: Value =
            serde_json::from_str(&monitor_body("io.x/a", "http://127.0.0.1:1/mcp")).expect("JSON");
        assert_eq!(body["url"], "http://127.0.0.1:1/mcp");
        assert_eq!(body["name"], "io.x/a");
        assert_eq!(body["interval_s"], 60);
    }

    fn figures() -> EdgeLoad {
        let tick = |probes, wall_s, rows_written| Tick {
            time_ms: 0,
            probes,
            wall_s,
            answered_s: 1.0,
            rows_written,
            messages: 120,
        };
        EdgeLoad {
            monitors: 2000,
            register_s: 10.0,
            // 2000 in 30 s = 4000/min; 2000 in 120 s = 1000/min.
            ticks: vec![tick(2000, 30.0, 2100), tick(2000, 120.0, 40)],
            tables: vec![("rollups".into(), 3), ("monitor_state".into(), 2000)],
            route: "/cdn-cgi/local/scheduled".into(),
        }
    }

    #[test]
    fn the_rows_give_rate_rows_per_probe_and_targets() {
        let text = table(&Ok(figures()), &[]);
        assert!(text.contains("edge register 2000 monitors"), "{text}");
        assert!(text.contains("4000 probes/min"), "{text}");
        assert!(text.contains(">= 2000/min: met"), "{text}");
        assert!(text.contains("1000 probes/min"), "{text}");
        assert!(text.contains(">= 2000/min: MISSED"), "{text}");
        assert!(text.contains("1.050 rows/probe"), "{text}");
        // The first tick is shown alone and not judged; the later ones (40
        // rows over 2000 probes) are.
        assert!(text.contains("per probe, first tick     1.050"), "{text}");
        assert!(text.contains("per probe, later ticks    0.020"), "{text}");
        assert!(text.contains("< 1: met"), "{text}");
        assert!(!text.contains("< 1: MISSED"), "{text}");
        assert!(text.contains("rollups 3, monitor_state 2000"), "{text}");
        let failed = table(&Err("wrangler\nwould not start".into()), &[]);
        assert!(
            failed.contains("not measured (wrangler would not start)"),
            "{failed}"
        );
    }
}
