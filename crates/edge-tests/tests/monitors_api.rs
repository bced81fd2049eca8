//! Start here: the scheduled monitor of the built Worker under `wrangler dev`
//! (real workerd, local D1), against the fault fleet on 127.0.0.1.
//!
//! One `#[test]` on purpose (as check_api.rs): it builds the Worker, starts
//! the fleet and one `wrangler dev` with the dev-only `ALLOW_LOOPBACK:1`, and
//! walks a monitor's story: the admin token guards registration; three
//! monitors (ok-modern, refused, drift) are registered; the cron is fired
//! twice at once for one tick and each history row exists once; the status
//! route, the badges (SVG and shields JSON) and `/metrics` say up, down and,
//! once the drift server changes its tools and another tick runs, drift.
//!
//! The cron is fired through miniflare's trigger route
//! `/cdn-cgi/local/scheduled?cron=...&time=...`, which takes the tick's time:
//! the tests choose the minute instead of waiting for the clock to turn.
//! `/__scheduled` (wrangler's `--test-scheduled`, the clock's minute) is
//! fired once too, to prove that path reaches the handler.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcprobe_edge_tests::client::{cron_path, send, Client};
use mcprobe_edge_tests::harness::{self, TestDev};
use mcprobe_testkit::Fleet;
use serde_json::json;

struct Servers {
    fleet: Fleet,
    dev: TestDev,
}

fn start(tag: &str, vars: &[(&str, &str)]) -> Option<Servers> {
    let dev = harness::start(tag, vars)?;
    let fleet = Fleet::start_only(&["ok-modern", "refused", "drift"]).expect("the fleet starts");
    Some(Servers { fleet, dev })
}

#[test]
fn monitors_cron_status_badges_and_metrics_under_wrangler_dev() {
    let Some(servers) = start("monitors", &[]) else {
        return;
    };
    let client = Client::new(&servers.dev.url(), Duration::from_secs(60));
    let log = || servers.dev.log_tail(60);

    // The token guards registration and the debug route.
    let body = json!({"url": servers.fleet.url("ok-modern"), "name": "ok", "public": true});
    let no_token = client.send(
        reqwest::Method::POST,
        "/api/monitors",
        false,
        Some(body.clone()),
    );
    assert_eq!(no_token.status, 401, "{}", no_token.body);
    assert!(
        no_token.json()["hint"].as_str().is_some(),
        "{}",
        no_token.body
    );
    assert_eq!(client.get("/api/debug/writes").status, 401);

    // The Worker's address policy applies on top of the core's rules.
    let private = client.send(
        reqwest::Method::POST,
        "/api/monitors",
        true,
        Some(json!({"url": "http://10.0.0.1/mcp", "name": "x"})),
    );
    assert_eq!(private.status, 422, "{}", private.body);

    let mut ids = std::collections::BTreeMap::new();
    for name in ["ok-modern", "refused", "drift"] {
        let a = client.send(
            reqwest::Method::POST,
            "/api/monitors",
            true,
            Some(json!({"url": servers.fleet.url(name), "name": name, "public": true})),
        );
        assert_eq!(a.status, 201, "{name}: {}", a.body);
        let id = a.json()["id"].as_str().unwrap_or_default().to_string();
        assert!(!id.is_empty(), "{}", a.body);
        ids.insert(name, id);
    }
    let listed = client.get("/api/monitors").json();
    assert_eq!(
        listed["monitors"].as_array().map(Vec::len),
        Some(3),
        "{listed}"
    );

    // Before any probe: known, but no status yet.
    let before = client
        .get(&format!("/badge/{}.json", ids["ok-modern"]))
        .json();
    assert_eq!(before["message"], "unknown", "{before}");

    // One tick, fired twice at once.
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let t0 = now_ms - now_ms % 60_000;
    let tick = cron_path(t0);
    let (a, b) = client.rt.block_on(async {
        tokio::join!(
            send(
                &client.http,
                &client.base,
                reqwest::Method::GET,
                &tick,
                false,
                None
            ),
            send(
                &client.http,
                &client.base,
                reqwest::Method::GET,
                &tick,
                false,
                None
            )
        )
    });
    assert_eq!(
        (a.status, b.status),
        (200, 200),
        "{} / {}\n{}",
        a.body,
        b.body,
        log()
    );

    let writes = client.admin_get("/api/debug/writes");
    assert_eq!(writes.status, 200, "{}", writes.body);
    let w = writes.json();
    eprintln!("measure: after two concurrent runs of one tick: {w}");
    assert_eq!(
        w["tables"]["state_changes"],
        3,
        "one first state per monitor: {w}\n{}",
        log()
    );
    assert_eq!(w["tables"]["monitor_state"], 3, "{w}");
    assert_eq!(w["tables"]["drift_events"], 0, "{w}");
    // ok-modern and drift both listed their tools; they may share a list.
    let snaps = w["tables"]["snapshots"].as_u64().unwrap_or(0);
    assert!((1..=2).contains(&snaps), "{w}");
    assert!(w["probes"].as_u64().unwrap_or(0) >= 3, "{w}");
    assert!(w["rows_per_probe"].as_f64().is_some(), "{w}");

    // Status: up and down.
    let st = |name: &str| client.get(&format!("/api/monitors/{}/status", ids[name]));
    let ok = st("ok-modern");
    assert_eq!(ok.status, 200, "{}", ok.body);
    let okj = ok.json();
    assert_eq!(okj["status"], "up", "{okj}");
    assert_eq!(okj["mode"], "ok", "{okj}");
    assert_eq!(okj["uptime"]["24h"], 1.0, "{okj}");
    assert!(okj["latency_ms"]["p50"].as_u64().is_some(), "{okj}");
    assert_eq!(okj["verdict"]["mode"], "ok", "{okj}");
    let refused = st("refused").json();
    assert_eq!(refused["status"], "down", "{refused}");
    assert_eq!(refused["mode"], "connect_refused", "{refused}");
    assert_eq!(refused["uptime"]["24h"], 0.0, "{refused}");

    // Badges.
    let svg = client.get(&format!("/badge/{}.svg", ids["ok-modern"]));
    assert_eq!(svg.status, 200);
    assert!(
        svg.header("content-type").starts_with("image/svg+xml"),
        "{:?}",
        svg.headers
    );
    assert_eq!(svg.header("cache-control"), "max-age=60");
    assert!(
        svg.body.starts_with("<svg") && svg.body.contains("up 100%"),
        "{}",
        svg.body
    );
    let up = client
        .get(&format!("/badge/{}.json", ids["ok-modern"]))
        .json();
    assert_eq!(
        up,
        json!({"schemaVersion": 1, "label": "MCP", "message": "up 100%", "color": up["color"].clone()}),
        "{up}"
    );
    assert!(up["color"].as_str().is_some_and(|c| !c.is_empty()));
    let down = client
        .get(&format!("/badge/{}.json", ids["refused"]))
        .json();
    assert_eq!(down["message"], "down", "{down}");
    let down_svg = client.get(&format!("/badge/{}.svg", ids["refused"]));
    assert!(down_svg.body.contains(">down<"), "{}", down_svg.body);
    let unknown = client.get("/badge/nosuchmonitor.svg");
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("unknown"), "{}", unknown.body);
    assert_eq!(unknown.header("cache-control"), "max-age=60");

    // Metrics.
    let m = client.get("/metrics");
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(
        m.header("content-type"),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(m.body.ends_with("# EOF\n"), "{}", m.body);
    let up_line = |id: &str, v: &str| {
        m.body.lines().any(|l| {
            l.starts_with("mcprobe_up{")
                && l.contains(&format!("monitor=\"{id}\""))
                && l.ends_with(&format!(" {v}"))
        })
    };
    assert!(up_line(&ids["ok-modern"], "1"), "{}", m.body);
    assert!(up_line(&ids["refused"], "0"), "{}", m.body);

    // The drift server changes its tools; the next tick sees it.
    servers.fleet.set_variant("drift", 1);
    let next = client.get(&cron_path(t0 + 60_000));
    assert_eq!(next.status, 200, "{}", next.body);
    let drift = st("drift").json();
    assert_eq!(drift["mode"], "schema_drift", "{drift}\n{}", log());
    let dj = client.get(&format!("/badge/{}.json", ids["drift"])).json();
    assert_eq!(dj["message"], "drift", "{dj}");
    let dsvg = client.get(&format!("/badge/{}.svg", ids["drift"]));
    assert!(dsvg.body.contains(">drift<"), "{}", dsvg.body);
    let w2 = client.admin_get("/api/debug/writes").json();
    eprintln!("measure: after the drift tick: {w2}");
    assert_eq!(w2["tables"]["drift_events"], 1, "{w2}");
    // ok-modern and refused did not change: only drift's state change is new.
    assert_eq!(w2["tables"]["state_changes"], 4, "{w2}");

    // The same tick again (an overlapping run): claimed already, no probe.
    let again = client.admin_get("/api/debug/writes").json();
    assert_eq!(client.get(&cron_path(t0 + 60_000)).status, 200);
    let after = client.admin_get("/api/debug/writes").json();
    assert_eq!(after["probes"], again["probes"], "{after}");

    // Drift holds until accepted: a later tick still says schema_drift, and
    // writes no second drift event.
    let t1 = t0 + 10 * 60_000;
    assert_eq!(client.get(&cron_path(t1)).status, 200);
    let still = st("drift").json();
    assert_eq!(still["mode"], "schema_drift", "{still}\n{}", log());
    let bpath = format!("/api/monitors/{}/baseline", ids["drift"]);
    assert_eq!(
        client
            .send(reqwest::Method::POST, &bpath, false, None)
            .status,
        401
    );
    assert_eq!(
        client
            .send(
                reqwest::Method::POST,
                "/api/monitors/nosuch/baseline",
                true,
                None
            )
            .status,
        404
    );
    let accepted = client.send(reqwest::Method::POST, &bpath, true, None);
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let aj = accepted.json();
    assert!(
        aj["baseline_hash"]
            .as_str()
            .is_some_and(|h| h.starts_with("sha256:"))
            && aj["baseline_hash"] != aj["previous"],
        "{aj}"
    );
    assert_eq!(client.get(&cron_path(t1 + 60_000)).status, 200);
    let back = st("drift").json();
    assert_eq!(back["status"], "up", "{back}\n{}", log());
    assert_eq!(back["mode"], "ok", "{back}");
    let w3 = client.admin_get("/api/debug/writes").json();
    assert_eq!(w3["tables"]["drift_events"], 1, "{w3}");
    assert_eq!(w3["tables"]["state_changes"], 5, "{w3}");

    // The next day: the first tick closes the hours (hourly roll-ups), 01:10
    // UTC writes the daily roll-ups, 01:20 prunes (nothing is old enough).
    let day = 86_400_000;
    let next_day = t0 - t0 % day + day;
    for minute in [30, 70, 80] {
        let r = client.get(&cron_path(next_day + minute * 60_000));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let w4 = client.admin_get("/api/debug/writes").json();
    eprintln!("measure: after the next day's ticks: {w4}");
    assert!(
        w4["rollup_kinds"]["hourly"].as_u64().unwrap_or(0) >= 1,
        "{w4}"
    );
    assert!(
        w4["rollup_kinds"]["daily"].as_u64().unwrap_or(0) >= 1,
        "{w4}\n{}",
        log()
    );
    assert_eq!(w4["tables"]["state_changes"], 5, "{w4}");
    let ok90 = st("ok-modern").json();
    assert_eq!(ok90["uptime"]["90d"], 1.0, "{ok90}");
    assert_eq!(ok90["uptime"]["30d"], 1.0, "{ok90}");

    // wrangler's own /__scheduled (the clock's minute) reaches the handler.
    let plain = client.get("/__scheduled?cron=*+*+*+*+*");
    assert_eq!(plain.status, 200, "{}", plain.body);

    // Maintenance, patch and delete.
    let path = format!("/api/monitors/{}/maintenance", ids["refused"]);
    let mt = client.send(
        reqwest::Method::POST,
        &path,
        true,
        Some(json!({"minutes": 30})),
    );
    assert_eq!(mt.status, 200, "{}", mt.body);
    assert!(
        mt.json()["maintenance_until_ms"].as_u64().is_some(),
        "{}",
        mt.body
    );
    let too_long = client.send(
        reqwest::Method::POST,
        &path,
        true,
        Some(json!({"minutes": 600})),
    );
    assert_eq!(too_long.status, 400, "{}", too_long.body);
    let one = format!("/api/monitors/{}", ids["refused"]);
    let p = client.send(
        reqwest::Method::PATCH,
        &one,
        true,
        Some(json!({"public": false})),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.json()["public"], false, "{}", p.body);
    assert_eq!(client.get(&format!("{one}/status")).status, 401);
    assert_eq!(
        client.get("/api/monitors").json()["monitors"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        client
            .send(reqwest::Method::DELETE, &one, true, None)
            .status,
        204
    );
    assert_eq!(client.admin_get(&one).status, 404);
}

/// Past `DIRECT_PROBES` a tick fans out through the Queue (simulated by
/// wrangler dev): the cron returns at once and the consumer, in this same
/// Worker, probes and writes. Polled, bounded: the consumer runs after the
/// cron answered.
#[test]
fn a_busy_tick_fans_out_through_the_queue() {
    let Some(servers) = start("fanout", &[("DIRECT_PROBES", "0")]) else {
        return;
    };
    let client = Client::new(&servers.dev.url(), Duration::from_secs(60));
    let mut ids = Vec::new();
    for name in ["ok-modern", "refused", "drift"] {
        let a = client.send(
            reqwest::Method::POST,
            "/api/monitors",
            true,
            Some(json!({"url": servers.fleet.url(name), "name": name, "public": true})),
        );
        assert_eq!(a.status, 201, "{}", a.body);
        ids.push(a.json()["id"].as_str().unwrap_or_default().to_string());
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let t0 = now_ms - now_ms % 60_000 + 5 * 60_000;
    assert_eq!(client.get(&cron_path(t0)).status, 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let w = loop {
        let w = client.admin_get("/api/debug/writes").json();
        if w["probes"].as_u64().unwrap_or(0) >= 3 {
            break w;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the queue consumer did not probe 3 monitors within 60 s: {w}\n{}",
            servers.dev.log_tail(60)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("measure: fan-out tick: {w}");
    assert!(w["messages"].as_u64().unwrap_or(0) >= 1, "{w}");
    assert_eq!(w["probes"], 3, "{w}");
    assert_eq!(w["tables"]["state_changes"], 3, "{w}");
    let ok = client
        .get(&format!("/api/monitors/{}/status", ids[0]))
        .json();
    assert_eq!(ok["status"], "up", "{ok}");
    let refused = client
        .get(&format!("/api/monitors/{}/status", ids[1]))
        .json();
    assert_eq!(refused["mode"], "connect_refused", "{refused}");
}
