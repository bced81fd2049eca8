//! Start here: the history routes of the built Worker under `wrangler dev`
//! (real workerd, local D1), against the fault fleet on 127.0.0.1:
//! `GET /api/monitors/{id}/history?window=`, `/incidents` and `/drift`.
//!
//! One `#[test]` on purpose (as monitors_api.rs, whose harness this copies):
//! it builds the Worker, starts the fleet and one `wrangler dev` with the
//! dev-only `ALLOW_LOOPBACK:1`, registers three monitors and fires the cron
//! at chosen minutes (miniflare's `/cdn-cgi/local/scheduled?...&time=MS`)
//! across an hour boundary, two hours back so every tick is in the past and
//! inside the 24 h window:
//!
//! - `flappy` goes down and comes back: its URL is PATCHed to the fleet's
//!   refused port and back to ok-modern between ticks, so its state changes
//!   are up -> down (connect_refused) -> up: one closed incident;
//! - `drift` flips its tool list (the fleet's variant 1) at one tick: one
//!   drift event whose diff names the tools that changed;
//! - `private` is not public: its history needs the admin token.
//!
//! Ticks (H = the hour two hours before now): H-2m, H-1m (flappy down), H
//! (still down; closes hour H-1h), H+1m (flappy up, drift flipped), H+2m,
//! H+60m (closes hour H, so both hours are stored rows); last, 01:10 UTC
//! tomorrow, the minute the daily roll-ups are written, so the 90d window
//! reads daily rows where they exist and hours elsewhere.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcprobe_edge_tests::client::{cron_path, Client};
use mcprobe_edge_tests::harness::{self, TestDev};
use mcprobe_testkit::Fleet;
use serde_json::{json, Value};

const MIN: u64 = 60_000;
const HOUR: u64 = 3_600_000;

struct Servers {
    fleet: Fleet,
    dev: TestDev,
}

fn start() -> Option<Servers> {
    let dev = harness::start("history", &[])?;
    let fleet = Fleet::start_only(&["ok-modern", "refused", "drift"]).expect("the fleet starts");
    Some(Servers { fleet, dev })
}

#[test]
fn history_incidents_and_drift_under_wrangler_dev() {
    let Some(servers) = start() else { return };
    let client = Client::new(&servers.dev.url(), Duration::from_secs(60));
    let log = || servers.dev.log_tail(60);
    let ok_url = servers.fleet.url("ok-modern");
    let refused_url = servers.fleet.url("refused");

    let mut ids = std::collections::BTreeMap::new();
    for (name, url, public) in [
        ("flappy", ok_url.clone(), true),
        ("drift", servers.fleet.url("drift"), true),
        ("private", ok_url.clone(), false),
    ] {
        let a = client.send(
            reqwest::Method::POST,
            "/api/monitors",
            true,
            Some(json!({"url": url, "name": name, "public": public})),
        );
        assert_eq!(a.status, 201, "{name}: {}", a.body);
        let id = a.json()["id"].as_str().unwrap_or_default().to_string();
        assert!(!id.is_empty(), "{}", a.body);
        ids.insert(name, id);
    }
    let path = |name: &str, route: &str| format!("/api/monitors/{}/{route}", ids[name]);
    let set_url = |name: &str, url: &str| {
        let p = client.send(
            reqwest::Method::PATCH,
            &format!("/api/monitors/{}", ids[name]),
            true,
            Some(json!({ "url": url })),
        );
        assert_eq!(p.status, 200, "{}", p.body);
    };
    let tick = |t: u64| {
        let a = client.get(&cron_path(t));
        assert_eq!(a.status, 200, "tick {t}: {}\n{}", a.body, log());
    };

    // Before any probe: empty but well-formed.
    let empty = client.get(&path("flappy", "history")).json();
    assert_eq!(empty["window"], "24h", "{empty}");
    assert_eq!(
        empty["buckets"].as_array().map(Vec::len),
        Some(24),
        "{empty}"
    );
    assert_eq!(empty["totals"]["probes"], 0, "{empty}");
    let none = client.get(&path("flappy", "incidents")).json();
    assert_eq!(none["incidents"], json!([]), "{none}");

    // Past ticks and the clock must not mix: after a failing probe the
    // alerting policy re-probes within seconds on the clock, and an
    // observation at the real time would make the accumulator drop every
    // later tick of this test (their slots are earlier). A maintenance
    // window (on the clock) holds those re-probes.
    let mt = client.send(
        reqwest::Method::POST,
        &path("flappy", "maintenance"),
        true,
        Some(json!({"minutes": 30})),
    );
    assert_eq!(mt.status, 200, "{}", mt.body);

    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let h = now_ms - now_ms % HOUR - 2 * HOUR;

    tick(h - 2 * MIN);
    set_url("flappy", &refused_url);
    tick(h - MIN);
    tick(h);
    set_url("flappy", &ok_url);
    servers.fleet.set_variant("drift", 1);
    tick(h + MIN);
    tick(h + 2 * MIN);
    tick(h + HOUR);

    // History: hour H-1h holds ticks H-2m (up) and H-1m (down); hour H holds
    // H (down), H+1m and H+2m (up); hour H+1h the last tick.
    let hist = client.get(&path("flappy", "history?window=24h"));
    assert_eq!(hist.status, 200, "{}", hist.body);
    let hj = hist.json();
    let buckets = hj["buckets"].as_array().cloned().unwrap_or_default();
    assert_eq!(buckets.len(), 24, "{hj}");
    let bucket = |start: u64| {
        buckets
            .iter()
            .find(|b| b["start_ms"] == start)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let before = bucket(h - HOUR);
    assert_eq!(before["probes"], 2, "{before}\n{hj}\n{}", log());
    assert_eq!(before["down"], 1, "{before}");
    assert_eq!(before["uptime"], 0.5, "{before}");
    assert_eq!(before["failures_by_mode"]["connect_refused"], 1, "{before}");
    assert!(before["p50_ms"].as_u64().is_some(), "{before}");
    let during = bucket(h);
    assert_eq!(during["probes"], 3, "{during}\n{hj}");
    assert_eq!(during["down"], 1, "{during}");
    let after = bucket(h + HOUR);
    assert_eq!(after["probes"], 1, "{after}\n{hj}");
    assert_eq!(after["uptime"], 1.0, "{after}");
    assert_eq!(hj["totals"]["probes"], 6, "{hj}");
    assert_eq!(hj["totals"]["down"], 2, "{hj}");
    let week = client.get(&path("flappy", "history?window=7d")).json();
    assert_eq!(
        week["buckets"].as_array().map(Vec::len),
        Some(168),
        "{week}"
    );
    assert_eq!(week["totals"]["probes"], 6, "{week}");
    // 90 days: daily buckets, folded from the hours (no daily row yet).
    let quarter = client.get(&path("flappy", "history?window=90d")).json();
    assert_eq!(quarter["bucket_ms"], 86_400_000, "{quarter}");
    assert_eq!(quarter["buckets"].as_array().map(Vec::len), Some(90));
    assert_eq!(quarter["totals"]["probes"], 6, "{quarter}");
    assert_eq!(quarter["totals"]["down"], 2, "{quarter}");

    // The incident: down from H-1m, up again at H+1m.
    let inc = client.get(&path("flappy", "incidents"));
    assert_eq!(inc.status, 200, "{}", inc.body);
    let ij = inc.json();
    assert_eq!(ij["total"], 1, "{ij}\n{}", log());
    let i0 = &ij["incidents"][0];
    // A slot is its tick's minute plus an offset the schedule derives from
    // the monitor's id (probes spread over the minute), the same each tick.
    let within = |v: &Value, minute: u64| {
        v.as_u64()
            .is_some_and(|t| (minute..minute + MIN).contains(&t))
    };
    assert!(within(&i0["started_ms"], h - MIN), "{i0}");
    assert!(within(&i0["ended_ms"], h + MIN), "{i0}");
    assert_eq!(i0["duration_ms"], 2 * MIN, "{i0}");
    assert_eq!(i0["open"], false, "{i0}");
    assert_eq!(i0["status"], "down", "{i0}");
    assert_eq!(i0["modes"], json!(["connect_refused"]), "{i0}");
    assert!(
        i0["id"]
            .as_str()
            .is_some_and(|s| s.contains(&ids["flappy"])),
        "{i0}"
    );
    assert!(i0["hint"].as_str().is_some_and(|s| !s.is_empty()), "{i0}");
    assert!(i0["reason"].as_str().is_some_and(|s| !s.is_empty()), "{i0}");
    // Stable across reads.
    assert_eq!(
        client.get(&path("flappy", "incidents")).json()["incidents"][0]["id"],
        i0["id"]
    );

    // The drift event, with its diff naming the changed tools.
    let dr = client.get(&path("drift", "drift"));
    assert_eq!(dr.status, 200, "{}", dr.body);
    let dj = dr.json();
    assert_eq!(dj["total"], 1, "{dj}\n{}", log());
    let e0 = &dj["events"][0];
    assert!(within(&e0["at_ms"], h + MIN), "{e0}");
    assert_ne!(e0["from_hash"], e0["to_hash"], "{e0}");
    assert!(e0.get("missing").is_none(), "{e0}");
    // Variant 1 removes delete_everything: breaking.
    assert_eq!(e0["breaking"], true, "{e0}");
    let changes = e0["diff"]["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "tool_removed" && c["tool"] == "delete_everything"),
        "{e0}"
    );
    assert!(
        changes.iter().any(|c| c["tool"] == "echo"),
        "echo's retype is in the diff: {e0}"
    );
    let summary = e0["summary"].as_array().cloned().unwrap_or_default();
    assert!(
        summary
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("delete_everything"))),
        "{e0}"
    );
    let no_drift = client.get(&path("flappy", "drift")).json();
    assert_eq!(no_drift["events"], json!([]), "{no_drift}");

    // A private monitor: 401 without the token, the history with it.
    for route in ["history", "incidents", "drift"] {
        let anon = client.get(&path("private", route));
        assert_eq!(anon.status, 401, "{route}: {}", anon.body);
        assert!(anon.json()["hint"].as_str().is_some(), "{}", anon.body);
        let admin = client.admin_get(&path("private", route));
        assert_eq!(admin.status, 200, "{route}: {}", admin.body);
    }
    let ph = client
        .admin_get(&path("private", "history?window=24h"))
        .json();
    assert_eq!(ph["totals"]["probes"], 6, "{ph}");
    assert_eq!(ph["totals"]["uptime"], 1.0, "{ph}");

    // Bad queries and methods.
    let bad = client.get(&path("flappy", "history?window=30d"));
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bj = bad.json();
    assert!(
        bj["error"].as_str().is_some_and(|e| e.contains("30d")),
        "{bj}"
    );
    for allowed in ["24h", "7d", "90d"] {
        assert!(
            bj["hint"].as_str().is_some_and(|h| h.contains(allowed)),
            "{bj}"
        );
    }
    assert_eq!(
        client.get(&path("flappy", "incidents?limit=501")).status,
        400
    );
    assert_eq!(client.get(&path("flappy", "drift?limit=0")).status, 400);
    let one = client.get(&path("drift", "drift?limit=1")).json();
    assert_eq!(one["limit"], 1, "{one}");
    assert_eq!(
        client.get("/api/monitors/nosuchmonitor/history").status,
        404
    );
    let post = client.send(
        reqwest::Method::POST,
        &path("flappy", "history"),
        true,
        None,
    );
    assert_eq!(post.status, 405, "{}", post.body);

    // Daily roll-ups: the tick at 01:10 UTC tomorrow folds today's and
    // yesterday's closed hours into daily rows (housekeeping, before that
    // tick's probes; hour H+1h is still open then). 90d must use them over
    // the hourly rows, which now include hour H+1h (closed by that tick).
    const DAY: u64 = 86_400_000;
    let day_of = |t: u64| t - t % DAY;
    tick(day_of(now_ms) + DAY + 70 * MIN);
    // Probes of the hours the daily rows hold, by day: H-1h (2), H (3).
    let mut folded: std::collections::BTreeMap<u64, u64> = Default::default();
    *folded.entry(day_of(h - HOUR)).or_default() += 2;
    *folded.entry(day_of(h)).or_default() += 3;
    // A day without a daily row of the shard is read from its hours.
    let expected_quarter: u64 =
        folded.values().sum::<u64>() + u64::from(!folded.contains_key(&day_of(h + HOUR)));
    let quarter = client.get(&path("flappy", "history?window=90d")).json();
    assert_eq!(
        quarter["totals"]["probes"],
        expected_quarter,
        "{quarter}\n{}",
        log()
    );
    for (day, probes) in &folded {
        let b = quarter["buckets"]
            .as_array()
            .and_then(|bs| bs.iter().find(|b| b["start_ms"] == *day).cloned())
            .unwrap_or(Value::Null);
        assert_eq!(b["probes"], *probes, "day {day}: {b}");
    }
    // The hourly view has the hour the daily rows could not.
    let day_view = client.get(&path("flappy", "history?window=24h")).json();
    assert_eq!(day_view["totals"]["probes"], 6, "{day_view}");
    assert_eq!(client.get(&path("flappy", "incidents")).json()["total"], 1);
}
