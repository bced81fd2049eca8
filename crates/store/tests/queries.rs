//! Every query of the store, run against in-memory SQLite with the real
//! migrations applied: what is written reads back, typed.

mod common;

use mcprobe_core::verdict::Mode;
use mcprobe_monitor::policy::{Event, EventKind, Observation, PolicyState};
use mcprobe_store::sqlite::{self, SqliteError};
use mcprobe_store::{alert_state, deliveries, incidents, Executor, RowError, Statement, Value};
use rusqlite::Connection;

fn db() -> Connection {
    sqlite::open_in_memory().expect("the migrations apply")
}

#[test]
fn the_migrations_apply_once_and_reopen_cleanly() {
    let dir = std::env::temp_dir().join(format!("mcprobe-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("reopen.sqlite");
    let _ = std::fs::remove_file(&path);
    let c = sqlite::open(&path).expect("created");
    sqlite::run(&c, &alert_state::save("m", &PolicyState::default(), 5)).expect("written");
    drop(c);
    let c = sqlite::open(&path).expect("reopened: no migration runs twice");
    let applied: i64 = c
        .query_row("SELECT COUNT(*) FROM d1_migrations", [], |r| r.get(0))
        .expect("counted");
    assert_eq!(applied as usize, mcprobe_store::schema::MIGRATIONS.len());
    assert_eq!(
        sqlite::fetch(&c, &alert_state::load("m")).expect("read"),
        Some(PolicyState::default())
    );
    drop(c);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn alert_state_round_trips_and_says_when_it_is_open() {
    let c = db();
    assert_eq!(
        sqlite::fetch(&c, &alert_state::load("m")).expect("db"),
        None
    );
    let mut p = common::policy("m");
    let _ = p.observe(&Observation::of(Mode::Timeout, "slow"), 5);
    assert!(!alert_state::steady(p.state()));
    sqlite::run(&c, &alert_state::save("m", p.state(), 5)).expect("saved");
    assert_eq!(
        sqlite::fetch(&c, &alert_state::load("m"))
            .expect("db")
            .as_ref(),
        Some(p.state())
    );
    assert_eq!(
        sqlite::fetch(&c, &alert_state::is_open("m")).expect("db"),
        Some(true)
    );
    assert_eq!(
        sqlite::fetch(&c, &alert_state::open_monitors()).expect("db"),
        vec!["m".to_string()]
    );
    // Healthy again: the upsert replaces the row and closes it.
    sqlite::run(&c, &alert_state::save("m", &PolicyState::default(), 6)).expect("saved");
    assert_eq!(
        sqlite::fetch(&c, &alert_state::is_open("m")).expect("db"),
        Some(false)
    );
    assert!(sqlite::fetch(&c, &alert_state::open_monitors())
        .expect("db")
        .is_empty());
    // A row that no longer reads is told apart from a missing one.
    c.execute("UPDATE alert_state SET state_json = 'nope'", [])
        .expect("db");
    match sqlite::fetch(&c, &alert_state::load("m")) {
        Err(SqliteError::Row(RowError::Json { column, .. })) => assert_eq!(column, "state_json"),
        other => panic!("expected an unreadable row, got {other:?}"),
    }
}

#[test]
fn an_incident_opens_escalates_is_acked_and_closes_once() {
    let c = db();
    let (opened, escalated, resolved) = common::escalated_incident("m");
    let EventKind::IncidentOpened { id, .. } = &opened.kind else {
        unreachable!()
    };
    let open = incidents::record(&opened).expect("an incident write");
    assert_eq!(sqlite::run(&c, &open).expect("db"), 1);
    assert_eq!(
        sqlite::run(&c, &open).expect("db"),
        0,
        "a replay is a no-op"
    );
    let got = sqlite::fetch(&c, &incidents::get(id))
        .expect("db")
        .expect("there");
    assert_eq!(
        (
            got.monitor_id.as_str(),
            got.started_at_ms,
            got.announced_at_ms
        ),
        ("m", 1_000, 1_000)
    );
    assert_eq!(
        (
            got.severity.as_str(),
            got.mode.as_str(),
            got.reason.as_str()
        ),
        ("P2", "handshake_failed", "bad handshake")
    );
    assert_eq!(got.resolved_at_ms, None);
    sqlite::run(&c, &incidents::record(&escalated).expect("a write")).expect("db");
    sqlite::run(&c, &incidents::ack(id, 1_900_000)).expect("db");
    sqlite::run(&c, &incidents::ack(id, 1_950_000)).expect("db");
    assert_eq!(
        sqlite::fetch(&c, &incidents::list(true, 10))
            .expect("db")
            .len(),
        1
    );
    let resolve = incidents::record(&resolved).expect("a write");
    assert_eq!(sqlite::run(&c, &resolve).expect("db"), 1);
    assert_eq!(sqlite::run(&c, &resolve).expect("db"), 0, "resolved once");
    let got = sqlite::fetch(&c, &incidents::get(id))
        .expect("db")
        .expect("there");
    assert_eq!(got.severity, "P1");
    assert_eq!(got.escalated_at_ms, Some(escalated.at_ms));
    assert_eq!(got.acked_at_ms, Some(1_900_000), "the first ack stands");
    assert_eq!(
        (got.resolved_at_ms, got.duration_ms),
        (Some(2_000_000), Some(1_999_000))
    );
    assert!(sqlite::fetch(&c, &incidents::list(true, 10))
        .expect("db")
        .is_empty());
    assert_eq!(
        sqlite::fetch(&c, &incidents::list(false, 10)).expect("db"),
        vec![got.clone()]
    );
    assert_eq!(
        sqlite::fetch(&c, &incidents::of_monitor("m", 10)).expect("db"),
        vec![got]
    );
    assert!(sqlite::fetch(&c, &incidents::of_monitor("other", 10))
        .expect("db")
        .is_empty());
    assert!(incidents::record(&Event {
        kind: EventKind::Digest {
            items: Vec::new(),
            dropped: 0
        },
        ..opened
    })
    .is_none());
}

#[test]
fn rows_serialise_as_the_incidents_route_shows_them() {
    let c = db();
    let (opened, _) = common::outage("m", 1_000, 61_000);
    sqlite::run(&c, &incidents::record(&opened).expect("a write")).expect("db");
    sqlite::run(&c, &deliveries::enqueue(&opened, "hook", "webhook", 1_000)).expect("db");
    let inc = &sqlite::fetch(&c, &incidents::of_monitor("m", 1)).expect("db")[0];
    let keys: Vec<String> = serde_json::to_value(inc)
        .expect("json")
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "started_at_ms",
            "announced_at_ms",
            "severity",
            "mode",
            "reason",
            "hint",
            "acked_at_ms",
            "escalated_at_ms",
            "resolved_at_ms",
            "duration_ms"
        ]
    );
    let d = &sqlite::fetch(&c, &deliveries::of_monitor("m", 500)).expect("db")[0];
    let v = serde_json::to_value(d).expect("json");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "incident_id",
            "event",
            "severity",
            "channel_name",
            "channel",
            "at_ms",
            "status",
            "attempts",
            "http_status",
            "error",
            "done_at_ms"
        ]
    );
    assert_eq!(v["incident_id"], "m-1000");
    assert_eq!(v["http_status"], serde_json::Value::Null);
}

#[test]
fn a_batch_is_all_or_nothing() {
    let c = db();
    let (opened, _) = common::outage("m", 1_000, 61_000);
    let good = deliveries::enqueue(&opened, "hook", "webhook", 1_000);
    let bad = Statement::new("INSERT INTO nowhere VALUES (?)", vec![Value::int(1)]);
    assert!(sqlite::batch(&c, &[good.clone(), bad]).is_err());
    assert!(sqlite::fetch(&c, &deliveries::pending())
        .expect("db")
        .is_empty());
    assert_eq!(sqlite::batch(&c, &[good.clone(), good]).expect("db"), 1);
}

#[test]
fn the_async_executor_answers_what_the_sync_one_does() {
    let c = db();
    let (opened, _) = common::outage("m", 1_000, 61_000);
    let n = sqlite::ready(Executor::batch(
        &c,
        &[
            incidents::record(&opened).expect("a write"),
            deliveries::enqueue(&opened, "hook", "webhook", 1_000),
        ],
    ))
    .expect("db");
    assert_eq!(n, 2);
    let due = sqlite::ready(c.fetch(&deliveries::due(1_000, 10))).expect("db");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].event().expect("reads back"), opened);
}

#[test]
fn drift_events_are_recorded_once_listed_newest_first_and_counted() {
    let c = db();
    let (lo, hi) = mcprobe_monitor::history::key_range("m", "drift");
    for (at, from, to) in [(1_000u64, "a", "b"), (2_000, "b", "c"), (3_000, "c", "d")] {
        let key = format!("m:drift:{at}");
        let stmt = mcprobe_store::drift::record(&key, "m", at, from, to);
        assert_eq!(sqlite::run(&c, &stmt).expect("db"), 1);
        assert_eq!(sqlite::run(&c, &stmt).expect("db"), 0, "one row per key");
    }
    sqlite::run(
        &c,
        &mcprobe_store::drift::record("n:drift:5", "n", 5, "x", "y"),
    )
    .expect("db");
    let got = sqlite::fetch(&c, &mcprobe_store::drift::of_monitor("m", &lo, &hi, 2)).expect("db");
    assert_eq!(
        got.iter()
            .map(|e| (e.at_ms, e.from_hash.as_str(), e.to_hash.as_str()))
            .collect::<Vec<_>>(),
        [(3_000, "c", "d"), (2_000, "b", "c")]
    );
    assert_eq!(got[0].key, "m:drift:3000");
    assert_eq!(
        sqlite::fetch(&c, &mcprobe_store::drift::count("m", &lo, &hi)).expect("db"),
        3
    );
}
