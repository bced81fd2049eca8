//! Start here: alerting end to end under real `wrangler dev`, with a
//! local alert receiver ([`mcprobe_edge_tests::receiver`]) standing in for
//! every channel (the generic webhook, Slack, Discord, PagerDuty's Events API
//! and Opsgenie's Alert API, the last two through `api_base`).
//!
//! Three fleet `switch` servers (up at variant 0, 503 at variant 1) give three
//! monitors whose stories run side by side, one cron tick at a time:
//! - A: a hard outage. One incident, one P1 delivery per channel; the webhook
//!   receiver fails twice and still gets it on the third attempt; the Discord
//!   URL is dead (404), so that delivery fails and is shown in `/incidents`;
//!   the same tick fired again sends nothing; recovery resolves it on every
//!   channel (PagerDuty `resolve`, Opsgenie close by alias).
//! - B: a flapping server: one incident, then exactly one `flapping` alert,
//!   then silence.
//! - C: down inside a maintenance window: no alert at all.
//!
//! The note's detection time is measured here: from the moment A's server goes
//! down to the Slack receiver getting the incident (the first probe at the
//! tick, the policy's re-probes at +10 s and +20 s, then delivery).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcprobe_edge_tests::client::{cron_path, Client};
use mcprobe_edge_tests::harness::{self, TestDev};
use mcprobe_edge_tests::receiver::Receiver;
use mcprobe_testkit::Fleet;
use serde_json::{json, Value};

struct Servers {
    fleets: Vec<Fleet>,
    receiver: Receiver,
    dev: TestDev,
}

fn start() -> Option<Servers> {
    let dev = harness::start("alerts", &[])?;
    let fleets = (0..3)
        .map(|_| Fleet::start_only(&["switch"]).expect("a fleet starts"))
        .collect();
    let receiver = Receiver::start().expect("the receiver starts");
    Some(Servers {
        fleets,
        receiver,
        dev,
    })
}

fn events(reqs: &[mcprobe_edge_tests::receiver::Received]) -> Vec<String> {
    reqs.iter()
        .filter(|r| r.status == 200)
        .map(|r| r.json()["event"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn outage_flapping_and_maintenance_alert_exactly_as_the_policy_says() {
    let Some(s) = start() else { return };
    let client = Client::new(&s.dev.url(), Duration::from_secs(90));
    let r = s.receiver.url();
    let log = || s.dev.log_tail(80);
    let switch = |i: usize, down: bool| s.fleets[i].set_variant("switch", u32::from(down));

    let a_alerts = json!({
        "webhook": {"url": format!("{r}/hook/a")},
        "slack": {"url": format!("{r}/slack/a")},
        "discord": {"url": format!("{r}/dead/discord")},
        "pagerduty": {"routing_key": "RK-A", "api_base": format!("{r}/pd")},
        "opsgenie": {"api_key": "GK-A", "api_base": format!("{r}/og")},
    });
    let mut ids = Vec::new();
    for (i, alerts) in [
        a_alerts,
        json!({"webhook": {"url": format!("{r}/hook/b")}}),
        json!({"webhook": {"url": format!("{r}/hook/c")}}),
    ]
    .into_iter()
    .enumerate()
    {
        let name = ["A", "B", "C"][i];
        let body = json!({
            "url": s.fleets[i].url("switch"),
            "name": name,
            "public": true,
            "alerts": alerts,
        });
        let a = client.admin_post("/api/monitors", Some(body));
        assert_eq!(a.status, 201, "{}", a.body);
        ids.push(a.json()["id"].as_str().unwrap_or_default().to_string());
    }
    // A typo in a channel is refused at registration, with a hint.
    let typo = client.admin_post(
        "/api/monitors",
        Some(json!({"url": s.fleets[0].url("switch"), "name": "x",
                    "alerts": {"slak": {"url": "https://x"}}})),
    );
    assert_eq!(typo.status, 400, "{}", typo.body);
    assert!(typo.json()["hint"]
        .as_str()
        .is_some_and(|h| h.contains("slack")));
    let mt = client.admin_post(
        &format!("/api/monitors/{}/maintenance", ids[2]),
        Some(json!({"minutes": 30})),
    );
    assert_eq!(mt.status, 200, "{}", mt.body);
    s.receiver.fail_first("/hook/a", 2);

    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let t0 = now_ms - now_ms % 60_000 + 60 * 60_000;
    let tick = |k: u64| {
        let a = client.get(&cron_path(t0 + k * 60_000));
        assert_eq!(a.status, 200, "tick {k}: {}\n{}", a.body, log());
    };

    // k=0: all up, nothing to say.
    tick(0);
    assert!(s.receiver.log().is_empty(), "{:?}", s.receiver.log());

    // k=1: all three go down.
    for i in 0..3 {
        switch(i, true);
    }
    let outage_at = Instant::now();
    tick(1);
    let got_all = s.receiver.wait_for(Duration::from_secs(30), |l| {
        l.iter().any(|x| x.path.starts_with("/og/")) && l.iter().any(|x| x.path == "/hook/b")
    });
    assert!(got_all, "{:?}\n{}", s.receiver.log(), log());
    let slack = s.receiver.to("/slack/a");
    assert_eq!(slack.len(), 1, "{slack:?}");
    let detection = slack[0].at.duration_since(outage_at);
    eprintln!(
        "measure: outage start to the Slack delivery: {:.1} s (webhook, after two 500s: {:.1} s)",
        detection.as_secs_f64(),
        s.receiver
            .to("/hook/a")
            .last()
            .map_or(0.0, |x| x.at.duration_since(outage_at).as_secs_f64())
    );
    assert!(detection < Duration::from_secs(60), "{detection:?}");
    let sj = slack[0].json();
    assert!(
        sj["blocks"].as_array().is_some_and(|b| !b.is_empty()),
        "{sj}"
    );
    // The webhook: 500, 500, then delivered.
    let hook = s.receiver.to("/hook/a");
    assert_eq!(
        hook.iter().map(|x| x.status).collect::<Vec<_>>(),
        vec![500, 500, 200],
        "{hook:?}"
    );
    let hj = hook[2].json();
    assert_eq!(hj["event"], "incident_opened", "{hj}");
    assert_eq!(hj["severity"], "P1", "{hj}");
    assert_eq!(hj["mode"], "http_error", "{hj}");
    assert!(
        hj["runbook_url"].as_str().is_some_and(|u| !u.is_empty()),
        "{hj}"
    );
    // PagerDuty: one trigger with a dedup key. Opsgenie: one create, keyed.
    let pd = s.receiver.to("/pd/");
    assert_eq!(pd.len(), 1, "{pd:?}");
    assert_eq!(pd[0].path, "/pd/v2/enqueue");
    let pdj = pd[0].json();
    assert_eq!(pdj["event_action"], "trigger", "{pdj}");
    assert_eq!(pdj["routing_key"], "RK-A", "{pdj}");
    let dedup = pdj["dedup_key"].as_str().unwrap_or_default().to_string();
    assert!(!dedup.is_empty(), "{pdj}");
    let og = s.receiver.to("/og/");
    assert_eq!(og.len(), 1, "{og:?}");
    assert_eq!(og[0].path, "/og/v2/alerts");
    assert_eq!(og[0].header("authorization"), Some("GenieKey GK-A"));
    // Discord's URL is dead: tried once (a 404 will not get better).
    assert_eq!(s.receiver.to("/dead/").len(), 1);
    // B opened too; C is in maintenance: nothing.
    assert_eq!(events(&s.receiver.to("/hook/b")), vec!["incident_opened"]);
    assert!(s.receiver.to("/hook/c").is_empty());

    // The incident and its deliveries, failed one included.
    let inc = client.get(&format!("/api/monitors/{}/incidents", ids[0]));
    assert_eq!(inc.status, 200, "{}", inc.body);
    let ij = inc.json();
    let alerts = &ij["alerts"];
    assert_eq!(alerts["failed_deliveries"], 1, "{ij}");
    let first = &alerts["incidents"][0];
    let incident_id = first["id"].as_str().unwrap_or_default().to_string();
    assert!(!incident_id.is_empty(), "{ij}");
    assert_eq!(first["severity"], "P1", "{ij}");
    assert!(first["resolved_at_ms"].is_null(), "{ij}");
    let deliveries = first["deliveries"].as_array().cloned().unwrap_or_default();
    let by = |ch: &str| -> Value {
        deliveries
            .iter()
            .find(|d| d["channel_name"] == ch)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(deliveries.len(), 5, "{ij}");
    assert_eq!(by("webhook")["status"], "delivered", "{ij}");
    assert_eq!(by("webhook")["attempts"], 3, "{ij}");
    assert_eq!(by("discord")["status"], "failed", "{ij}");
    assert_eq!(by("discord")["http_status"], 404, "{ij}");
    assert!(
        by("discord")["error"]
            .as_str()
            .is_some_and(|e| e.contains("404")),
        "{ij}"
    );
    assert!(
        client
            .get(&format!("/api/monitors/{}/incidents", ids[2]))
            .json()["alerts"]["incidents"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "maintenance opened an incident"
    );

    // Ack: by id, with the token; unknown ids are 404.
    let ack_path = format!("/api/incidents/{incident_id}/ack");
    assert_eq!(
        client
            .send(reqwest::Method::POST, &ack_path, false, None)
            .status,
        401
    );
    let acked = client.admin_post(&ack_path, None);
    assert_eq!(acked.status, 200, "{}", acked.body);
    assert!(
        acked.json()["acked_at_ms"].as_u64().is_some(),
        "{}",
        acked.body
    );
    assert_eq!(
        client.admin_post("/api/incidents/nope/ack", None).status,
        404
    );

    // The same tick again (an overlapping run): claimed, nothing sent.
    let before = s.receiver.log().len();
    tick(1);
    assert_eq!(s.receiver.log().len(), before);

    // k=2..6: C back up; A stays down one more tick then recovers (two
    // passes); B flaps down/up every tick.
    switch(2, false);
    switch(1, false);
    tick(2); // A fail, B pass (change 2)
    switch(1, true);
    switch(0, false);
    tick(3); // A pass 1, B fail (3)
    switch(1, false);
    tick(4); // A pass 2: resolved; B pass (4)
    switch(1, true);
    tick(5); // B fail (5): flapping
    switch(1, false);
    tick(6); // B pass (6): silence

    // A: resolved on every channel, once.
    let resolved = s.receiver.wait_for(Duration::from_secs(30), |l| {
        l.iter().filter(|x| x.path.starts_with("/og/")).count() >= 2
    });
    assert!(resolved, "{:?}\n{}", s.receiver.log(), log());
    assert_eq!(
        events(&s.receiver.to("/hook/a")),
        vec!["incident_opened", "incident_resolved"]
    );
    assert_eq!(s.receiver.to("/slack/a").len(), 2);
    let pd = s.receiver.to("/pd/");
    assert_eq!(pd.len(), 2, "{pd:?}");
    let pd2 = pd[1].json();
    assert_eq!(pd2["event_action"], "resolve", "{pd2}");
    assert_eq!(pd2["dedup_key"], dedup.as_str(), "{pd2}");
    let og = s.receiver.to("/og/");
    assert!(
        og[1].path.starts_with("/og/v2/alerts/") && og[1].path.contains("/close"),
        "{:?}",
        og[1].path
    );
    let after = client
        .get(&format!("/api/monitors/{}/incidents", ids[0]))
        .json();
    let a1 = &after["alerts"]["incidents"][0];
    assert!(a1["resolved_at_ms"].as_u64().is_some(), "{after}");
    assert!(a1["duration_ms"].as_u64().is_some(), "{after}");
    assert_eq!(client.admin_post(&ack_path, None).status, 409);

    // B: one incident, then one flapping alert, then nothing.
    assert_eq!(
        events(&s.receiver.to("/hook/b")),
        vec!["incident_opened", "flapping"],
        "{:?}",
        s.receiver.to("/hook/b")
    );
    // C: nothing, ever.
    assert!(s.receiver.to("/hook/c").is_empty());
}

/// Every SQLite file under a `wrangler dev` persist directory (miniflare
/// keeps each D1 database, and some of its own state, as one).
fn sqlite_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sqlite_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sqlite") {
            out.push(path);
        }
    }
}

/// The local D1 database of a running `wrangler dev`: the SQLite file that
/// holds the `monitors` table.
fn d1_connection(dir: &std::path::Path) -> Option<rusqlite::Connection> {
    let mut files = Vec::new();
    sqlite_files(dir, &mut files);
    files.into_iter().find_map(|f| {
        let conn = rusqlite::Connection::open(&f).ok()?;
        let has: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'monitors'",
                [],
                |r| r.get(0),
            )
            .ok()?;
        (has == 1).then_some(conn)
    })
}

/// A stored alert config that no longer reads (here: written straight into
/// D1, as a hand edit would) pages nobody, but says so: the admin GET shows
/// `alerts_error` (not the public list), an unrelated PATCH keeps it, the
/// cron logs it on the monitor's probe, and a PATCH of `alerts` clears it.
#[test]
fn an_unreadable_stored_alert_config_is_shown_never_silently_unpaged() {
    let Some(dev) = harness::start("alerts-unreadable", &[]) else {
        return;
    };
    let client = Client::new(&dev.url(), Duration::from_secs(90));
    let created = client.admin_post(
        "/api/monitors",
        Some(
            json!({"url": "http://127.0.0.1:9/mcp", "name": "broken alerts", "public": true,
                    "alerts": {"webhook": {"url": "http://127.0.0.1:9/hook"}}}),
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/api/monitors/{id}");
    let fine = client.admin_get(&path);
    assert_eq!(fine.status, 200, "{}", fine.body);
    assert!(fine.json().get("alerts_error").is_none(), "{}", fine.body);

    let conn = d1_connection(&dev.state_dir).expect("the local D1 database");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("a busy timeout");
    let changed = conn
        .execute(
            "UPDATE monitors SET alerts_json = ?1 WHERE id = ?2",
            rusqlite::params![
                r#"{"slack": {"url": "ftp://hooks.example.com/s3cret"}}"#,
                id
            ],
        )
        .expect("the hand edit");
    assert_eq!(changed, 1);
    drop(conn);

    let shown = client.admin_get(&path);
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(
        shown.json()["alerts_error"]["field"],
        "alerts.slack.url",
        "{}",
        shown.body
    );
    assert!(!shown.body.contains("s3cret"), "{}", shown.body);
    let public = client.get("/api/monitors");
    assert_eq!(public.status, 200, "{}", public.body);
    assert!(public.body.contains(&id) && !public.body.contains("alerts_error"));

    // An unrelated PATCH keeps the stored config (and the report) as it was.
    let renamed = client.send(
        reqwest::Method::PATCH,
        &path,
        true,
        Some(json!({"name": "renamed"})),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.json()["alerts_error"]["field"], "alerts.slack.url");

    // The monitor's probe logs it (the cron's alert errors).
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let tick = client.get(&cron_path(now_ms - now_ms % 60_000 + 60 * 60_000));
    assert_eq!(tick.status, 200, "{}", tick.body);
    let needle = format!("monitor {id}: its stored alert config cannot be read");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dev.log_tail(400).contains(&needle) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = dev.log_tail(400);
    assert!(log.contains(&needle), "{log}");
    assert!(!log.contains("s3cret"), "{log}");

    // Sending alerts again replaces it.
    let fixed = client.send(
        reqwest::Method::PATCH,
        &path,
        true,
        Some(json!({"alerts": {"webhook": {"url": "http://127.0.0.1:9/hook"}}})),
    );
    assert_eq!(fixed.status, 200, "{}", fixed.body);
    let after = client.admin_get(&path);
    assert!(after.json().get("alerts_error").is_none(), "{}", after.body);
}
