//! Start here: the registry crawl under real `wrangler dev`
//! (workerd, local D1, the local Queue), against a [`FakeRegistry`] in the
//! official API's shape over the fault fleet on 127.0.0.1.
//!
//! One `#[test]`, one story, three `wrangler dev` runs over one persisted D1
//! (the `REGISTRIES` var is read at start, so changing what is listed means
//! restarting with another registry URL; the state carries over):
//!
//! 1. `REGISTRIES` = the full listing: five fleet scenarios, each listed
//!    [`COPIES`] times (`?copy=K`), plus a second spelling of every
//!    ok-modern copy, a deleted entry, a templated URL and a package-only
//!    entry. An API monitor is registered first. The crawl tick (minute 5)
//!    upserts one monitor per distinct endpoint: duplicates merged, the
//!    template recorded and not a monitor. The next crawl tick, an hour on,
//!    is incremental (`updated_since`), writes no monitor row, and probes
//!    every registry monitor; the summary's per-mode counts are then
//!    exactly the fleet's, with the secret-header listing's 401 read as
//!    `auth_required`.
//! 2. `REGISTRIES` = fewer listings plus a registry that answers 404: the
//!    full crawl is incomplete, so it retires nothing; the tick's probes fan
//!    out through the Queue (a consumer reports in).
//! 3. `REGISTRIES` = fewer listings alone: the complete full crawl retires
//!    the endpoints no registry lists any more (`retired_at_ms`), and leaves
//!    the API monitor alone.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcprobe_edge_tests::client::{cron_path, Client};
use mcprobe_edge_tests::edge::{self, DevOptions, EdgePaths, WranglerDev};
use mcprobe_edge_tests::harness;
use mcprobe_edge_tests::repo_root;
use mcprobe_testkit::registry::{FakeRegistry, Listing, TEMPLATED_URL};
use mcprobe_testkit::Fleet;
use serde_json::{json, Value};

/// Fleet scenarios listed, and the mode each one's verdict has.
const LISTED: [(&str, &str); 5] = [
    ("ok-modern", "ok"),
    ("ok-legacy-json", "ok"),
    ("refused", "connect_refused"),
    ("http-503", "http_error"),
    // Declares a required secret header: its 401 is "needs credentials".
    ("auth-401-bare", "auth_required"),
];
const SECRET: &str = "auth-401-bare";
/// The scenario the later crawls no longer list.
const DROPPED: &str = "http-503";
/// Each scenario listed this many times (distinct `?copy=K` URLs).
const COPIES: usize = 40;
const DAY_MS: u64 = 86_400_000;
const HOUR_MS: u64 = 3_600_000;
/// The crawl's minute of the hour (crates/worker/src/crawl.rs CRAWL_AT_MINUTE).
const CRAWL_MINUTE_MS: u64 = 5 * 60_000;

fn tools_missing() -> bool {
    harness::tools_or_skip().is_none()
}

struct StateDir(PathBuf);

impl Drop for StateDir {
    fn drop(&mut self) {
        // A failed run keeps its wrangler logs and D1 to look at.
        if std::thread::panicking() {
            eprintln!("kept {} (wrangler logs, D1)", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// `wrangler dev` over the persisted state in `dir`, with `REGISTRIES` and,
/// when given, `DIRECT_PROBES`.
fn dev(dir: &StateDir, run: usize, registries: &str, direct: Option<&str>) -> WranglerDev {
    let paths = EdgePaths::new(&repo_root());
    let port = edge::free_port().expect("a free port");
    let mut opts = DevOptions::new(port, dir.0.join(format!("dev-{run}.log")));
    opts.inspector_port = Some(edge::free_port().expect("a free port"));
    opts.allow_loopback = true;
    opts.persist_to = Some(dir.0.join("state"));
    opts.vars = vec![("REGISTRIES".to_string(), registries.to_string())];
    if let Some(d) = direct {
        opts.vars.push(("DIRECT_PROBES".to_string(), d.to_string()));
    }
    edge::start_wrangler_dev(&paths, &opts).unwrap_or_else(|e| panic!("wrangler dev starts: {e:#}"))
}

fn tick(client: &Client, dev: &WranglerDev, at_ms: u64) {
    let a = client.get(&cron_path(at_ms));
    assert_eq!(
        a.status,
        200,
        "tick {at_ms}: {}\n{}",
        a.body,
        dev.log_tail(60)
    );
}

fn summary(client: &Client) -> Value {
    let a = client.get("/api/registry/summary");
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()
}

/// The public monitors, `id -> monitor` (all on one page: the list is paged).
fn monitors(client: &Client) -> Vec<Value> {
    let a = client.get("/api/monitors?limit=500");
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["monitors"].as_array().cloned().unwrap_or_default()
}

fn mode_count(s: &Value, mode: &str) -> u64 {
    s["table"]
        .as_array()
        .and_then(|t| t.iter().find(|r| r["mode"] == mode))
        .and_then(|r| r["count"].as_u64())
        .unwrap_or(u64::MAX)
}

#[test]
fn the_crawl_upserts_merges_probes_and_retires_only_after_a_complete_crawl() {
    if tools_missing() {
        return;
    }
    let paths = EdgePaths::new(&repo_root());
    edge::build(&paths, false).expect("the Worker builds");
    let names: Vec<&str> = LISTED.iter().map(|(n, _)| *n).collect();
    let fleet = Fleet::start_only(&names).expect("the fleet starts");
    let kept: Vec<&str> = names.iter().copied().filter(|n| *n != DROPPED).collect();
    let full = Listing::from_fleet(&fleet, &names, Some(SECRET)).copies(COPIES);
    let fewer = Listing::from_fleet(&fleet, &kept, Some(SECRET)).copies(COPIES);
    let reg = FakeRegistry::start_with_page_size(vec![("full", full), ("fewer", fewer)], 25)
        .expect("the fake registry starts");
    let dir = StateDir(
        repo_root()
            .join("target/edge-tests")
            .join(format!("registry-{}", std::process::id())),
    );
    let distinct = (names.len() * COPIES) as u64;
    let per_scenario = COPIES as u64;

    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // Midnight UTC of tomorrow: the 00:05 crawl is a full one.
    let day = now_ms - now_ms % DAY_MS + DAY_MS;

    // ---- 1. the full listing ------------------------------------------------------
    // This run probes in the cron invocation itself (DIRECT_PROBES over the
    // monitor count): a failing monitor gets the alert policy's two
    // confirmation re-probes (+10 s, +20 s), and wrangler dev's local Queue
    // runs one message at a time, so 63 fanned-out messages would take 20 s
    // each. The fan-out is checked in run 2.
    let dev1 = dev(&dir, 1, &reg.url("full"), Some("1000"));
    let client = Client::new(&dev1.url(), Duration::from_secs(300));
    let api = client.admin_post(
        "/api/monitors",
        Some(json!({"url": fleet.url("ok-modern"), "name": "mine", "public": true})),
    );
    assert_eq!(api.status, 201, "{}", api.body);
    let api_id = api.json()["id"].as_str().unwrap_or_default().to_string();

    // Before any crawl: an empty audit, not an error.
    let s = summary(&client);
    assert_eq!(s["monitors"]["live"], 0, "{s}");
    assert_eq!(s["crawl"], Value::Null, "{s}");
    assert_eq!(mode_count(&s, "ok"), 0, "{s}");

    let crawl1 = Instant::now();
    tick(&client, &dev1, day + CRAWL_MINUTE_MS);
    eprintln!(
        "measure: crawl tick of {} listings: {:.1} s",
        names.len() * COPIES,
        crawl1.elapsed().as_secs_f64()
    );
    let s = summary(&client);
    let c = &s["crawl"];
    assert_eq!(c["kind"], "full", "{s}\n{}", dev1.log_tail(40));
    assert_eq!(c["complete"], true, "{s}");
    assert_eq!(c["errors"], json!([]), "{s}");
    assert!(c["pages"].as_u64().unwrap_or(0) > 1, "paginated: {s}");
    // Distinct endpoints: the probe-able ones and the template.
    assert_eq!(c["endpoints"], distinct + 1, "{s}");
    // Every copy of ok-modern was listed twice (the second spelling).
    assert_eq!(c["duplicates"], per_scenario, "{s}");
    assert_eq!(c["templated"], 1, "{s}");
    assert_eq!(c["deleted"], 1, "{s}");
    assert_eq!(c["upserted"], distinct, "{s}");
    assert_eq!(c["retired"], 0, "{s}");
    assert_eq!(s["monitors"]["live"], distinct, "{s}");
    assert_eq!(s["monitors"]["templated"], 1, "{s}");
    assert_eq!(s["monitors"]["not_yet_probed"], distinct, "{s}");

    let listed = monitors(&client);
    let registry_ids: Vec<&Value> = listed
        .iter()
        .filter(|m| m["id"].as_str().is_some_and(|id| id.starts_with('r')))
        .collect();
    assert_eq!(registry_ids.len() as u64, distinct);
    // Duplicates merged: one registry monitor for ok-modern's URL (besides
    // the API monitor on the same URL), named after the first listing.
    let ok_url = fleet.url("ok-modern");
    let same_url: Vec<&&Value> = registry_ids
        .iter()
        .filter(|m| m["url"].as_str() == Some(ok_url.as_str()))
        .collect();
    assert_eq!(same_url.len(), 1, "{same_url:?}");
    assert_eq!(same_url[0]["name"], "io.github.mcprobe/ok-modern");
    assert_eq!(same_url[0]["interval_s"], 60);
    // The template is recorded, never a monitor.
    assert!(
        !listed
            .iter()
            .any(|m| m["url"].as_str().is_some_and(|u| u.contains('{'))),
        "{TEMPLATED_URL} became a monitor"
    );
    assert!(listed.iter().any(|m| m["id"] == api_id.as_str()));

    // An hour on: an incremental crawl (nothing changed: no monitor row
    // written), and this tick probes every registry monitor.
    let probe_tick = Instant::now();
    tick(&client, &dev1, day + HOUR_MS + CRAWL_MINUTE_MS);
    eprintln!(
        "measure: {distinct} registry monitors probed by one tick (with re-probes) in {:.1} s",
        probe_tick.elapsed().as_secs_f64()
    );
    let queries = reg.page_queries("full");
    assert!(
        queries.iter().any(|q| q.contains("updated_since=")),
        "{queries:?}"
    );
    let s = summary(&client);
    assert_eq!(
        s["monitors"]["probed"],
        distinct,
        "{s}\n{}",
        dev1.log_tail(40)
    );
    let c = &s["crawl"];
    assert_eq!(c["kind"], "incremental", "{s}");
    assert_eq!(c["upserted"], 0, "{s}");
    assert_eq!(c["unchanged"], distinct, "{s}");
    for mode in ["ok", "connect_refused", "http_error", "auth_required"] {
        let want = LISTED.iter().filter(|(_, m)| *m == mode).count() as u64 * per_scenario;
        assert_eq!(mode_count(&s, mode), want, "{mode}: {}", s["table"]);
    }
    assert_eq!(s["monitors"]["needs_credentials"], per_scenario, "{s}");
    // The stored verdict says so too (status page, badge, metrics), not down.
    let listed = client.get("/api/monitors?limit=500").json();
    let secret_id = listed["monitors"]
        .as_array()
        .and_then(|ms| {
            ms.iter().find(|m| {
                m["url"]
                    .as_str()
                    .is_some_and(|u| u.starts_with(&fleet.url(SECRET)))
            })
        })
        .and_then(|m| m["id"].as_str())
        .unwrap_or_default()
        .to_string();
    let own = client.get("/api/monitors?source=api").json();
    let own_names: Vec<&str> = own["monitors"]
        .as_array()
        .map(|ms| ms.iter().filter_map(|m| m["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(own_names, vec!["mine"], "{own}");
    assert_eq!(client.get("/api/monitors?source=nope").status, 400);
    let st = client
        .get(&format!("/api/monitors/{secret_id}/status"))
        .json();
    assert_eq!(st["mode"], "auth_required", "{secret_id}: {st}");
    assert_ne!(st["status"], "down", "{st}");
    assert_eq!(s["audit"]["probed"], distinct, "{s}");
    let loud = s["audit"]["buckets"]
        .as_array()
        .and_then(|b| b.iter().find(|x| x["bucket"] == "loud"))
        .and_then(|x| x["count"].as_u64());
    assert_eq!(loud, Some(2 * per_scenario), "{s}");
    let by_registry = &s["audit"]["registries"];
    assert_eq!(by_registry[0]["registry"], reg.url("full"), "{s}");
    assert_eq!(by_registry[0]["probed"], distinct, "{s}");
    drop(client);
    dev1.stop();

    // ---- 2. fewer listings and a registry that fails: nothing retired ------------
    let broken = reg.url("fewer").replace("/fewer", "/gone");
    let dev2 = dev(&dir, 2, &format!("{},{broken}", reg.url("fewer")), None);
    let client = Client::new(&dev2.url(), Duration::from_secs(120));
    tick(&client, &dev2, day + DAY_MS + CRAWL_MINUTE_MS);
    // This tick's probes of the registry monitors fanned out through the
    // Queue (DIRECT_PROBES is the default 6 here): a consumer reports in.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let w = client.admin_get("/api/debug/writes").json();
        if w["messages"].as_u64().unwrap_or(0) >= 1 {
            assert!(w["probes"].as_u64().unwrap_or(0) >= 1, "{w}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no Queue message consumed within 120 s: {w}\n{}",
            dev2.log_tail(40)
        );
        // Polling: the consumer runs after the tick answered, and tells
        // the test nothing when it is done.
        std::thread::sleep(Duration::from_millis(500));
    }
    let s = summary(&client);
    let c = &s["crawl"];
    assert_eq!(c["kind"], "full", "{s}");
    assert_eq!(c["complete"], false, "{s}");
    assert!(
        c["errors"].as_array().is_some_and(|e| e
            .iter()
            .any(|x| x.as_str().is_some_and(|t| t.contains("404")))),
        "{s}"
    );
    assert_eq!(c["retired"], 0, "{s}");
    assert_eq!(s["monitors"]["live"], distinct, "{s}");
    assert_eq!(s["monitors"]["retired"], 0, "{s}");
    // What it did see is added to the rows, not put in place of them.
    let regs = &s["audit"]["registries"];
    assert!(
        regs.as_array()
            .is_some_and(|r| r.iter().any(|x| x["registry"] == reg.url("fewer"))
                && r.iter().any(|x| x["registry"] == reg.url("full"))),
        "{regs}"
    );
    drop(client);
    dev2.stop();

    // ---- 3. fewer listings, a complete crawl: the dropped ones retire ------------
    let dev3 = dev(&dir, 3, &reg.url("fewer"), Some("1000"));
    let client = Client::new(&dev3.url(), Duration::from_secs(300));
    tick(&client, &dev3, day + 2 * DAY_MS + CRAWL_MINUTE_MS);
    let s = summary(&client);
    let c = &s["crawl"];
    assert_eq!(c["complete"], true, "{s}");
    assert_eq!(c["retired"], per_scenario, "{s}");
    // The kept ones were listed by "full" and (merged by the incomplete
    // crawl) "fewer"; now by "fewer" alone: each row moves once.
    assert_eq!(c["upserted"], distinct - per_scenario, "{s}");
    assert_eq!(s["monitors"]["live"], distinct - per_scenario, "{s}");
    assert_eq!(s["monitors"]["retired"], per_scenario, "{s}");
    assert_eq!(s["monitors"]["templated"], 1, "{s}");
    // The audit counts live monitors only: the dropped 503s are gone from it.
    assert_eq!(mode_count(&s, "http_error"), 0, "{}", s["table"]);
    assert_eq!(mode_count(&s, "ok"), 2 * per_scenario, "{}", s["table"]);
    let listed = monitors(&client);
    let dropped_url = fleet.url(DROPPED);
    assert!(
        !listed.iter().any(|m| m["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&dropped_url))),
        "a retired monitor is still listed"
    );
    // The API monitor is untouched, on a URL the registries still list.
    let mine = listed.iter().find(|m| m["id"] == api_id.as_str());
    assert_eq!(mine.map(|m| m["name"].clone()), Some(json!("mine")));
    assert_eq!(
        listed.len() as u64,
        distinct - per_scenario + 1,
        "registry monitors plus the API one"
    );
    drop(client);
    dev3.stop();
}
