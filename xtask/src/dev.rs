//! Start here: `cargo xtask dev`, a newcomer's first five minutes.
//!
//! 1. builds the CLI in release mode;
//! 2. starts the fault fleet (`mcprobe-fleet`, crates/testkit): every failure mcprobe
//!    names, each on its own 127.0.0.1 port. It prints one JSON line
//!    `{"ca_pem": path, "servers": {name: url}}` and serves until its stdin closes;
//! 3. runs `mcprobe check` against two healthy servers and a broken one, showing
//!    the human output;
//! 4. builds the Worker and runs `wrangler dev` on http://127.0.0.1:8787 (local D1
//!    in `.wrangler/state`, loopback allowed so it can probe the fleet);
//! 5. registers the fleet's `ok-modern` as a PUBLIC demo monitor through
//!    `POST /api/monitors` (dev admin token). Idempotent: a monitor already in the
//!    local D1 with the demo's name or URL is reused (its URL updated with a PATCH
//!    when the fleet came up on another port this time);
//! 6. fires the cron at once and then every 60 s from a thread (`wrangler dev` does
//!    not fire crons itself: `GET /__scheduled?cron=*+*+*+*+*`), and prints the
//!    monitor's status URL, its badges and a Markdown snippet.
//!
//! Ctrl-C stops everything: the terminal sends SIGINT to our process group (us and
//! the fleet, whose stdin also closes when we die). `wrangler dev` runs in its own
//! group (edge.rs, so one kill reaches node and workerd), which SIGINT does not
//! reach, so a tiny shell "reaper" that ignores SIGINT waits for our death (its
//! stdin is a pipe from us) and then stops that group.
//!
//! `cargo xtask dev --smoke` is the newcomer's path as a test: everything above
//! (with an empty local D1 of its own under `target/dev-smoke/state`, as on a
//! fresh clone; `--keep-state` keeps it to try a restart), then it polls (bounded, [`SMOKE_LIMIT`]) until the status route shows a fresh
//! verdict with status "up" and the SVG badge says "up", prints the time since the
//! command started, stops everything and exits 0 (or fails saying what it saw).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::worker::edge::DEV_ADMIN_TOKEN;
use crate::{cargo, display_cmd, fmt_duration, run_cmd};

/// The healthy servers shown first, then the first broken one found of these.
const SHOWN_OK: [&str; 2] = ["ok-modern", "ok-legacy-json"];
const SHOWN_BROKEN: [&str; 4] = ["http-503", "handshake-html", "refused", "asleep-render"];

/// The port `wrangler dev` serves on (what the README and wrangler.toml say).
const EDGE_PORT: u16 = 8787;
/// The fleet server behind the demo monitor, and the monitor's name (how a
/// restart finds the monitor it registered before).
const DEMO_SERVER: &str = "ok-modern";
const DEMO_NAME: &str = "mcprobe demo (fleet ok-modern)";
/// How often the cron thread fires, as the deployed `* * * * *` trigger would.
const CRON_EVERY: Duration = Duration::from_secs(60);
/// The path that runs the scheduled handler under `wrangler dev --test-scheduled`.
const CRON_PATH: &str = "/__scheduled?cron=*+*+*+*+*";
/// `--smoke`: how long the demo may take to show "up" once it is registered.
const SMOKE_LIMIT: Duration = Duration::from_secs(90);

/// What the fleet announces on its first line.
struct FleetInfo {
    ca_pem: String,
    servers: BTreeMap<String, String>,
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let (smoke, keep_state) = match args {
        [] => (false, false),
        [flag] if flag == "--smoke" => (true, false),
        [a, b] if a == "--smoke" && b == "--keep-state" => (true, true),
        _ => bail!("usage: cargo xtask dev [--smoke [--keep-state]]"),
    };
    let started = Instant::now();
    // Someone else's server on 8787 would answer our health check and the
    // smoke test would pass against it: refuse instead.
    if TcpListener::bind(("127.0.0.1", EDGE_PORT)).is_err() {
        bail!(
            "127.0.0.1:{EDGE_PORT} is already in use (another `cargo xtask dev`?); stop it first"
        );
    }

    // A fresh clone has nothing yet: the same idempotent installs as `test`
    // (node 22, wrangler, worker-build, wasm-bindgen, the wasm32 target).
    crate::worker::install(root)?;

    println!("dev: building the CLI (release)");
    run_cmd(
        cargo()
            .current_dir(root)
            .args(["build", "--release", "-p", "mcprobe"]),
    )?;
    let mcprobe = target_dir(root).join("release/mcprobe");
    if !mcprobe.exists() {
        bail!("built the CLI but {} is missing", mcprobe.display());
    }

    println!("dev: starting the fault fleet (cargo run -p mcprobe-testkit --bin mcprobe-fleet)");
    let mut fleet_cmd = cargo();
    fleet_cmd
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "-p",
            "mcprobe-testkit",
            "--bin",
            "mcprobe-fleet",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut fleet = fleet_cmd
        .spawn()
        .with_context(|| format!("could not start `{}`", display_cmd(&fleet_cmd)))?;
    // Held until the end: dropping it closes the fleet's stdin, which stops it.
    let fleet_stdin = fleet.stdin.take();
    let Some(stdout) = fleet.stdout.take() else {
        bail!("the fleet's stdout was not captured");
    };
    let mut lines = BufReader::new(stdout).lines();
    let first = match lines.next() {
        Some(line) => line.context("reading the fleet's first line")?,
        None => {
            let status = fleet.wait().context("waiting for the fleet")?;
            bail!("the fleet exited ({status}) before announcing its servers");
        }
    };
    let info = parse_fleet_line(&first)?;
    // Anything else the fleet prints goes on to our stdout, so the pipe never fills.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            println!("fleet: {line}");
        }
    });

    let broken = pick_broken(&info.servers);
    for name in SHOWN_OK.iter().copied().chain(broken.as_deref()) {
        let Some(url) = info.servers.get(name) else {
            println!("dev: the fleet has no `{name}` server; skipping it");
            continue;
        };
        println!("\n--- {name}: mcprobe check {url}");
        let mut check = Command::new(&mcprobe);
        check.arg("check").arg(url);
        if url.starts_with("https:") {
            check.arg("--cacert").arg(&info.ca_pem);
        }
        // A broken server exits 1: that is the point of showing it, not an error.
        let status = check
            .status()
            .with_context(|| format!("could not run `{}`", display_cmd(&check)))?;
        println!("--- exit code {}", status.code().unwrap_or(-1));
    }

    println!(
        "\ndev: the fault fleet is serving ({} servers):",
        info.servers.len()
    );
    let width = info.servers.keys().map(String::len).max().unwrap_or(0);
    for (name, url) in &info.servers {
        println!("  {name:width$}  {url}");
    }
    println!(
        "\ndev: try `{} check <url>` (add `--cacert {}` for https URLs, `--json` for the verdict JSON).",
        shown(root, &mcprobe),
        info.ca_pem
    );
    // The edge: the Worker under real workerd, local D1, loopback allowed so it
    // can probe the fleet. Dropping the guard stops wrangler and workerd.
    println!(
        "\ndev: building the Worker and starting wrangler dev on http://127.0.0.1:{EDGE_PORT}"
    );
    crate::worker::build(root)?;
    // The web page (crates/web + www/), served by the Worker as static assets.
    let web = crate::web::build(&crate::web::WebPaths::new(root), true)?;
    println!("{}", web.line());
    let edge = if smoke {
        // A newcomer's clone has no local D1 yet: the smoke test starts from an
        // empty one of its own (kept with --keep-state, to try a restart), so it
        // neither depends on nor touches the developer's `.wrangler/state`.
        let state = target_dir(root).join("dev-smoke/state");
        if !keep_state && state.exists() {
            std::fs::remove_dir_all(&state)
                .with_context(|| format!("removing {}", state.display()))?;
        }
        let paths = crate::worker::EdgePaths::new(root);
        let mut opts =
            crate::worker::DevOptions::new(EDGE_PORT, root.join("target/wrangler-dev.log"));
        opts.allow_loopback = true;
        opts.persist_to = Some(state);
        let edge = crate::worker::edge::start_wrangler_dev(&paths, &opts)?;
        println!(
            "worker: wrangler dev ready at {} in {} (log: target/wrangler-dev.log, D1 in target/dev-smoke/state)",
            edge.url(),
            fmt_duration(edge.startup)
        );
        edge
    } else {
        crate::worker::start_wrangler_dev(root, EDGE_PORT)?
    };
    // Held until we exit, whichever way: its stdin closing is what stops wrangler
    // after a Ctrl-C, which kills us before any Drop runs.
    let _reaper = match wrangler_group() {
        Some(pgid) => Some(Reaper::start(pgid)?),
        None => {
            println!(
                "dev: (could not find wrangler's process group: after Ctrl-C, stop it by hand)"
            );
            None
        }
    };
    let ready_at = started.elapsed();

    let Some(demo_url) = info.servers.get(DEMO_SERVER).cloned() else {
        bail!("the fleet has no `{DEMO_SERVER}` server to register as the demo monitor");
    };
    let (id, how) = ensure_demo_monitor(EDGE_PORT, &demo_url).map_err(|e| {
        let text = format!("{e:#}");
        if text.contains("no such column") || text.contains("no such table") {
            // Seen when a migration was edited after the local D1 applied it.
            let dir = if smoke {
                "target/dev-smoke/state"
            } else {
                crate::worker::DEV_STATE
            };
            e.context(format!(
                "the local D1 ({dir}) does not match migrations/: it holds only local dev \
                 data, so delete {dir} and run this again"
            ))
        } else {
            e
        }
    })?;
    println!("dev: demo monitor {id} ({how}) probes {demo_url}");
    // Read before the first tick: `--smoke` waits for a verdict newer than this,
    // so a verdict kept in the local D1 by an earlier run does not count.
    let before = status_of(EDGE_PORT, &id)
        .ok()
        .and_then(|s| last_check_ms(&s));

    let (stop_cron, cron) = start_cron(EDGE_PORT);
    print_demo(&edge.url(), &ok_or_default(&info, "ok-modern"), &id);
    let _ = std::io::stdout().flush();

    if smoke {
        let result = smoke_wait(EDGE_PORT, &id, before, started);
        // Stop everything we started, in any case: the cron thread first (its
        // channel closing ends its wait; a request in flight fails when
        // wrangler stops), then wrangler, then the fleet (stdin EOF).
        drop(stop_cron);
        let log_tail = edge.log_tail(30);
        drop(edge);
        let _ = cron.join();
        drop(fleet_stdin);
        let _ = fleet.wait();
        return match result {
            Ok(up) => {
                println!(
                    "\ndev --smoke: OK: the demo monitor is up ({}) and its badge says \"{}\" \
                     {} after the command started ({} of them building and starting; \
                     {} from wrangler ready to up)",
                    up.mode,
                    up.badge,
                    fmt_duration(up.at),
                    fmt_duration(ready_at),
                    fmt_duration(up.at.saturating_sub(ready_at)),
                );
                Ok(())
            }
            Err(e) => Err(e.context(format!(
                "dev --smoke failed; wrangler's log (target/wrangler-dev.log) ends:\n{log_tail}"
            ))),
        };
    }

    println!("dev: Ctrl-C stops everything.");
    let _ = std::io::stdout().flush();
    let status = fleet.wait().context("waiting for the fleet")?;
    drop(stop_cron);
    drop(edge);
    drop(fleet_stdin);
    if !status.success() {
        bail!("the fleet stopped ({status})");
    }
    Ok(())
}

fn ok_or_default(info: &FleetInfo, name: &str) -> String {
    info.servers.get(name).cloned().unwrap_or_default()
}

/// The newcomer's cheat sheet: where to look, what to paste in a README.
fn print_demo(base: &str, ok_modern: &str, id: &str) {
    println!("\ndev: the Worker is up at {base}");
    println!("dev: the demo monitor (probed every minute; the cron fires now and every 60 s):");
    println!("  status JSON  {base}/api/monitors/{id}/status");
    println!("  badge SVG    {base}/badge/{id}.svg");
    println!("  badge JSON   {base}/badge/{id}.json  (shields.io endpoint)");
    println!("  all public   {base}/api/monitors    metrics {base}/metrics");
    println!("dev: Markdown for a README:");
    println!("  {}", markdown_badge(base, id));
    println!(
        "dev: try  curl -s -X POST {base}/api/check -H 'content-type: application/json' -d '{{\"url\": \"{ok_modern}\"}}'"
    );
}

fn markdown_badge(base: &str, id: &str) -> String {
    format!("[![MCP status]({base}/badge/{id}.svg)]({base}/api/monitors/{id}/status)")
}

// ---- The demo monitor ----

/// What to do about the demo monitor, given `GET /api/monitors`.
#[derive(Debug, PartialEq)]
enum Demo {
    Create,
    Reuse(String),
    /// Ours (by name) but the fleet is on another port this time.
    Update(String),
}

/// One with the demo's URL wins (reuse as is); else one with its name is
/// pointed at the new URL; else a new one.
fn plan_demo(list: &Value, url: &str) -> Demo {
    let monitors = list["monitors"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let id_of = |m: &Value| {
        m["id"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let Some(id) = monitors.iter().filter(|m| m["url"] == url).find_map(id_of) {
        return Demo::Reuse(id);
    }
    if let Some(id) = monitors
        .iter()
        .filter(|m| m["name"] == DEMO_NAME)
        .find_map(id_of)
    {
        return Demo::Update(id);
    }
    Demo::Create
}

/// Registers (or finds) the demo monitor; returns its id and what was done.
fn ensure_demo_monitor(port: u16, url: &str) -> Result<(String, &'static str)> {
    let timeout = Duration::from_secs(30);
    let list = http_json(port, "GET", "/api/monitors", None, None, timeout, 200)?;
    match plan_demo(&list, url) {
        Demo::Reuse(id) => Ok((id, "already registered, reused")),
        Demo::Update(id) => {
            let body = json!({ "url": url }).to_string();
            let path = format!("/api/monitors/{id}");
            http_json(
                port,
                "PATCH",
                &path,
                Some(DEV_ADMIN_TOKEN),
                Some(&body),
                timeout,
                200,
            )?;
            Ok((id, "already registered, URL updated to this run's fleet"))
        }
        Demo::Create => {
            let body = json!({
                "url": url,
                "name": DEMO_NAME,
                "interval_s": 60,
                "public": true,
            })
            .to_string();
            let created = http_json(
                port,
                "POST",
                "/api/monitors",
                Some(DEV_ADMIN_TOKEN),
                Some(&body),
                timeout,
                201,
            )?;
            let id = created["id"]
                .as_str()
                .filter(|s| !s.is_empty())
                .with_context(|| format!("POST /api/monitors answered no id: {created}"))?;
            Ok((id.to_string(), "registered now"))
        }
    }
}

fn status_of(port: u16, id: &str) -> Result<Value> {
    let path = format!("/api/monitors/{id}/status");
    http_json(port, "GET", &path, None, None, Duration::from_secs(30), 200)
}

fn last_check_ms(status: &Value) -> Option<u64> {
    status["last_check_ms"].as_u64()
}

// ---- The cron ----

/// Fires the scheduled handler now and every [`CRON_EVERY`] until the sender
/// is dropped (or the process ends).
fn start_cron(port: u16) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || loop {
        let fired = Instant::now();
        // The handler probes every due monitor before it answers: allow it time.
        match http(port, "GET", CRON_PATH, None, None, Duration::from_secs(120)) {
            Ok((200, _)) => println!(
                "dev: cron tick at {} ({} ms)",
                utc_hms(),
                fired.elapsed().as_millis()
            ),
            Ok((code, body)) => println!("dev: cron tick answered {code}: {}", one_line(&body)),
            Err(e) => println!("dev: cron tick failed: {e}"),
        }
        // The wait is the stop signal too: a closed channel ends it at once.
        match stopped.recv_timeout(CRON_EVERY) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
    });
    (stop, thread)
}

/// `HH:MM:SS` UTC, for the tick lines.
fn utc_hms() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}Z", day / 3600, day / 60 % 60, day % 60)
}

// ---- --smoke ----

/// What `--smoke` saw when the demo was up.
struct Up {
    /// Since the command started.
    at: Duration,
    mode: String,
    badge: String,
}

/// Polls the status route and the SVG badge until both say up with a verdict
/// newer than `before`, at most [`SMOKE_LIMIT`].
fn smoke_wait(port: u16, id: &str, before: Option<u64>, started: Instant) -> Result<Up> {
    let deadline = Instant::now() + SMOKE_LIMIT;
    loop {
        let last_seen: String;
        match status_of(port, id) {
            Ok(status) => match fresh_up(&status, before) {
                Ok(mode) => {
                    let path = format!("/badge/{id}.svg");
                    let badge = http(port, "GET", &path, None, None, Duration::from_secs(30));
                    match badge.map(|(code, svg)| (code, badge_message(&svg))) {
                        Ok((200, Some(msg))) if msg.starts_with("up") => {
                            // The web app is served too (static assets).
                            let page = http(port, "GET", "/", None, None, Duration::from_secs(30));
                            match page {
                                Ok((200, html)) if html.contains("mcprobe") => {}
                                Ok((code, _)) => bail!("the web app at / answered {code}"),
                                Err(e) => bail!("the web app at / failed: {e:#}"),
                            }
                            return Ok(Up {
                                at: started.elapsed(),
                                mode,
                                badge: msg,
                            });
                        }
                        Ok((code, msg)) => {
                            last_seen = format!("status up, but the badge answered {code} {msg:?}")
                        }
                        Err(e) => last_seen = format!("status up, but the badge failed: {e}"),
                    }
                }
                Err(why) => last_seen = why,
            },
            Err(e) => last_seen = format!("the status route failed: {e:#}"),
        }
        if Instant::now() >= deadline {
            bail!(
                "the demo monitor {id} was not up within {}s of its registration; last seen: {last_seen}",
                SMOKE_LIMIT.as_secs()
            );
        }
        // Polling a route: nothing to wait on instead. Half a second is far
        // below the minute a probe cycle takes.
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `Ok(mode)` when the status JSON shows a verdict newer than `before` with
/// status "up"; else what it shows instead.
fn fresh_up(status: &Value, before: Option<u64>) -> std::result::Result<String, String> {
    let Some(at) = last_check_ms(status) else {
        return Err("no probe yet (last_check_ms is null)".into());
    };
    if before.is_some_and(|b| at <= b) {
        return Err(format!(
            "only the verdict of an earlier run (last_check_ms {at})"
        ));
    }
    let mode = status["mode"].as_str().unwrap_or("?").to_string();
    match status["status"].as_str() {
        Some("up") => Ok(mode),
        other => Err(format!(
            "status {} (mode {mode}): {}",
            other.unwrap_or("null"),
            status["verdict"]["reason"].as_str().unwrap_or("")
        )),
    }
}

/// The badge's message: its `<title>` is `label: message`.
fn badge_message(svg: &str) -> Option<String> {
    let start = svg.find("<title>")? + "<title>".len();
    let end = start + svg[start..].find("</title>")?;
    let (_, message) = svg[start..end].split_once(": ")?;
    Some(message.to_string())
}

// ---- Stopping wrangler after Ctrl-C ----

/// wrangler's process group: our child that leads its own group and runs
/// wrangler (edge.rs spawns it with `process_group(0)`), read from /proc since
/// the guard does not expose the pid. `None` off Linux or when not found.
fn wrangler_group() -> Option<u32> {
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((ppid, pgrp)) = parent_and_group(&stat) else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if ppid == me && pgrp == pid && String::from_utf8_lossy(&cmdline).contains("wrangler") {
            return Some(pid);
        }
    }
    None
}

/// Fields 4 and 5 of `/proc/PID/stat` (ppid, pgrp); the command name before
/// them is in parentheses and may hold spaces, so parse after the last `)`.
fn parent_and_group(stat: &str) -> Option<(u32, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((ppid, pgrp))
}

/// A shell that ignores SIGINT and, when its stdin (a pipe from us) closes,
/// that is when we exit however we exit, stops wrangler's process group.
struct Reaper {
    _stdin: ChildStdin,
    _child: Child,
}

impl Reaper {
    fn start(pgid: u32) -> Result<Reaper> {
        // `kill -SIG -PGID`: dash's builtin kill (Debian's sh) takes no `--`.
        let script = format!(
            "trap '' INT; read -r _; kill -TERM -{pgid} 2>/dev/null; \
             sleep 3; kill -KILL -{pgid} 2>/dev/null; exit 0"
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("could not start the reaper shell")?;
        let stdin = child.stdin.take().context("the reaper's stdin")?;
        Ok(Reaper {
            _stdin: stdin,
            _child: child,
        })
    }
}

// ---- A tiny HTTP/1.1 client for 127.0.0.1 (xtask has no HTTP crate) ----

/// One request to `127.0.0.1:port`: status and body (chunked bodies decoded).
/// `token` goes as `Authorization: Bearer`, `body` as JSON.
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method != "GET" {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream
        .take(16 << 20)
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the answer to {method} {path}"))?;
    parse_response(&raw).with_context(|| format!("the answer to {method} {path}"))
}

/// [`http`] expecting `want` and a JSON body.
pub(crate) fn http_json(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    timeout: Duration,
    want: u16,
) -> Result<Value> {
    let (code, text) = http(port, method, path, token, body, timeout)?;
    if code != want {
        bail!(
            "{method} {path} answered {code} (wanted {want}): {}",
            one_line(&text)
        );
    }
    serde_json::from_str(&text)
        .with_context(|| format!("{method} {path} answered non-JSON: {}", one_line(&text)))
}

/// Status and body of a whole HTTP/1.1 response read to EOF.
fn parse_response(raw: &[u8]) -> Result<(u16, String)> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let rest = &raw[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .context("no status line")?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest).context("a broken chunked body")?
    } else if let Some(n) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest[..n.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Decodes a chunked body (extensions and trailers ignored).
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size_hex = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// A multi-line text squeezed into one line, cut at 300 characters.
pub(crate) fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line,
    }
}

/// Where cargo puts binaries: `CARGO_TARGET_DIR` when set, else `target/`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn parse_fleet_line(line: &str) -> Result<FleetInfo> {
    let value: Value = serde_json::from_str(line)
        .with_context(|| format!("the fleet's first line is not JSON: {line:?}"))?;
    let ca_pem = value["ca_pem"]
        .as_str()
        .context("the fleet's first line has no string `ca_pem`")?
        .to_string();
    let servers = value["servers"]
        .as_object()
        .context("the fleet's first line has no object `servers`")?
        .iter()
        .filter_map(|(name, url)| Some((name.clone(), url.as_str()?.to_string())))
        .collect();
    Ok(FleetInfo { ca_pem, servers })
}

/// A broken server to show: a well-known one if the fleet has it, else the first
/// whose name does not start with `ok-` (names sort, so this is stable).
fn pick_broken(servers: &BTreeMap<String, String>) -> Option<String> {
    SHOWN_BROKEN
        .iter()
        .find(|name| servers.contains_key(**name))
        .map(|name| name.to_string())
        .or_else(|| servers.keys().find(|n| !n.starts_with("ok-")).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fleet_announcement() {
        let info = parse_fleet_line(
            r#"{"ca_pem":"/tmp/ca.pem","servers":{"ok-modern":"http://127.0.0.1:1/mcp","http-503":"http://127.0.0.1:2/mcp"}}"#,
        )
        .expect("parses");
        assert_eq!(info.ca_pem, "/tmp/ca.pem");
        assert_eq!(info.servers.len(), 2);
        assert_eq!(info.servers["ok-modern"], "http://127.0.0.1:1/mcp");
        assert_eq!(pick_broken(&info.servers).as_deref(), Some("http-503"));
    }

    #[test]
    fn rejects_an_announcement_without_servers() {
        let err = parse_fleet_line(r#"{"ca_pem":"/tmp/ca.pem"}"#)
            .err()
            .expect("no servers is an error");
        assert!(err.to_string().contains("servers"), "{err}");
        assert!(parse_fleet_line("Compiling...").is_err());
    }

    #[test]
    fn picks_any_broken_server_when_none_of_the_usual_exists() {
        let servers: BTreeMap<String, String> = [("ok-modern", "u1"), ("weird-one", "u2")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(pick_broken(&servers).as_deref(), Some("weird-one"));
    }
    #[test]
    fn the_demo_monitor_is_reused_updated_or_created() {
        let url = "http://127.0.0.1:4001/mcp";
        let list = json!({"monitors": [
            {"id": "a1", "name": "someone else's", "url": "https://example.com/mcp"},
            {"id": "b2", "name": DEMO_NAME, "url": "http://127.0.0.1:3999/mcp"},
        ]});
        assert_eq!(plan_demo(&list, url), Demo::Update("b2".into()));
        let same = json!({"monitors": [{"id": "c3", "name": "renamed", "url": url}]});
        assert_eq!(plan_demo(&same, url), Demo::Reuse("c3".into()));
        let none = json!({"monitors": [{"id": "a1", "name": "x", "url": "https://e.com/mcp"}]});
        assert_eq!(plan_demo(&none, url), Demo::Create);
        assert_eq!(plan_demo(&json!({"error": "x"}), url), Demo::Create);
        // A row without an id cannot be reused.
        let no_id = json!({"monitors": [{"name": DEMO_NAME, "url": url}]});
        assert_eq!(plan_demo(&no_id, url), Demo::Create);
    }

    #[test]
    fn smoke_needs_a_fresh_up_verdict() {
        let status = |at: Value, s: &str| json!({"status": s, "mode": "ok", "last_check_ms": at});
        assert_eq!(fresh_up(&status(json!(2000), "up"), None), Ok("ok".into()));
        assert_eq!(
            fresh_up(&status(json!(2000), "up"), Some(1000)),
            Ok("ok".into())
        );
        let stale = fresh_up(&status(json!(1000), "up"), Some(1000)).expect_err("stale");
        assert!(stale.contains("earlier run"), "{stale}");
        let down = fresh_up(&status(json!(2000), "down"), None).expect_err("down");
        assert!(down.contains("status down"), "{down}");
        assert!(fresh_up(&status(Value::Null, "up"), None).is_err());
    }

    #[test]
    fn the_badge_message_comes_from_its_title() {
        let svg = r#"<svg role="img" aria-label="MCP: up 100%"><title>MCP: up 100%</title><text>MCP</text></svg>"#;
        assert_eq!(badge_message(svg).as_deref(), Some("up 100%"));
        assert_eq!(
            badge_message("<svg><title>MCP: down</title></svg>").as_deref(),
            Some("down")
        );
        assert_eq!(badge_message("<svg>up</svg>"), None);
        assert!(markdown_badge("http://127.0.0.1:8787", "m1").contains(
            "(http://127.0.0.1:8787/badge/m1.svg)](http://127.0.0.1:8787/api/monitors/m1/status)"
        ));
    }

    #[test]
    fn responses_parse_with_length_chunks_or_eof() {
        let plain = b"HTTP/1.1 201 Created\r\ncontent-length: 10\r\n\r\n{\"id\":\"x\"}extra";
        assert_eq!(
            parse_response(plain).expect("parses"),
            (201, "{\"id\":\"x\"}".to_string())
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n6\r\npedia!\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(chunked).expect("parses"),
            (200, "Wikipedia!".to_string())
        );
        let eof = b"HTTP/1.1 404 Not Found\r\n\r\nnope";
        assert_eq!(parse_response(eof).expect("parses"), (404, "nope".into()));
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
        assert!(parse_response(b"garbage").is_err());
        assert!(dechunk(b"5\r\nab").is_none(), "a chunk cut short");
    }

    #[test]
    fn the_client_talks_to_a_real_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            // Read until the whole request (head + 2-byte body) is in.
            while !got.windows(4).any(|w| w == b"\r\n\r\n") || !got.ends_with(b"{}") {
                let n = conn.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .expect("write");
            String::from_utf8_lossy(&got).into_owned()
        });
        let (code, body) = http(
            port,
            "POST",
            "/api/x",
            Some("t0k"),
            Some("{}"),
            Duration::from_secs(5),
        )
        .expect("answered");
        assert_eq!((code, body.as_str()), (200, "ok"));
        let request = server.join().expect("server thread");
        assert!(request.starts_with("POST /api/x HTTP/1.1\r\n"), "{request}");
        assert!(
            request.contains("Authorization: Bearer t0k\r\n"),
            "{request}"
        );
        assert!(request.contains("Content-Length: 2\r\n"), "{request}");
    }

    #[test]
    fn proc_stat_gives_parent_and_group() {
        assert_eq!(
            parent_and_group("4242 (node (wrangler)) S 100 4242 100 0 -1"),
            Some((100, 4242))
        );
        assert_eq!(parent_and_group("garbage"), None);
        // Our own process: its parent is not us, its group is some group.
        let own = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        if !own.is_empty() {
            let (ppid, _) = parent_and_group(&own).expect("our own stat parses");
            assert_ne!(ppid, std::process::id());
        }
    }
    #[cfg(unix)]
    #[test]
    fn the_reaper_stops_the_group_when_its_pipe_closes() {
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        // A stand-in for wrangler: its own process group, like edge.rs makes it.
        let mut group = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .expect("sleep starts");
        let reaper = Reaper::start(group.id()).expect("reaper starts");
        assert!(
            group.try_wait().expect("try_wait").is_none(),
            "still running"
        );
        // What our death does to the pipe.
        drop(reaper);
        let status = group.wait().expect("wait");
        assert_eq!(status.signal(), Some(15), "killed by SIGTERM: {status:?}");
    }
}
