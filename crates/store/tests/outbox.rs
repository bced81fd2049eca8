//! The outbox's lease, claim and retry rules (what `crates/worker/src/outbox.rs`
//! relies on and `crates/edge-tests/tests/alerts_outbox.rs` shows end to end
//! under workerd), and the watch's simpler path, on in-memory SQLite.

mod common;

use mcprobe_store::deliveries::{self, Done, Outcome};
use mcprobe_store::sqlite;
use rusqlite::Connection;

const LEASE: u64 = 60_000;

/// One outbox row, written at 1 s: its key.
fn one_row() -> (Connection, String) {
    let c = sqlite::open_in_memory().expect("schema");
    let (opened, _) = common::outage("m", 1_000, 61_000);
    let stmt = deliveries::enqueue(&opened, "hook", "webhook", 1_000);
    assert_eq!(sqlite::run(&c, &stmt).expect("db"), 1);
    assert_eq!(
        sqlite::run(&c, &stmt).expect("db"),
        0,
        "one row per event and channel"
    );
    (c, deliveries::key(&opened, "hook"))
}

fn row(c: &Connection, key: &str) -> deliveries::Record {
    sqlite::fetch(c, &deliveries::get(key))
        .expect("db")
        .expect("the row")
}

fn due_keys(c: &Connection, now: u64) -> Vec<String> {
    sqlite::fetch(c, &deliveries::due(now, 10))
        .expect("db")
        .into_iter()
        .map(|d| d.key)
        .collect()
}

#[test]
fn a_new_row_is_pending_due_and_keeps_its_event() {
    let (c, key) = one_row();
    assert_eq!(key, "m:incident_opened:1000:hook");
    let r = row(&c, &key);
    assert_eq!((r.status.as_str(), r.attempts), ("pending", 0));
    assert_eq!(r.incident_id.as_deref(), Some("m-1000"));
    assert!(
        due_keys(&c, 999).is_empty(),
        "not due before it was written"
    );
    let due = sqlite::fetch(&c, &deliveries::due(1_000, 10)).expect("db");
    assert_eq!(due.len(), 1);
    let (opened, _) = common::outage("m", 1_000, 61_000);
    assert_eq!(due[0].event().expect("reads back"), opened);
    assert_eq!((due[0].attempts, due[0].status.as_str()), (0, "pending"));
}

#[test]
fn of_two_claims_on_one_reading_only_one_wins() {
    let (c, key) = one_row();
    assert_eq!(
        sqlite::run(&c, &deliveries::claim(&key, 0, 2_000, 2_000 + LEASE)).expect("db"),
        1
    );
    assert_eq!(
        sqlite::run(&c, &deliveries::claim(&key, 0, 2_000, 2_000 + LEASE)).expect("db"),
        0,
        "the second claimer read the same row: it lost"
    );
    let r = row(&c, &key);
    assert_eq!((r.status.as_str(), r.attempts), ("sending", 1));
    assert!(
        due_keys(&c, 2_000 + LEASE).is_empty(),
        "held until the lease runs out"
    );
}

#[test]
fn a_claim_past_its_lease_is_swept_and_the_dead_holder_is_fenced_off() {
    let (c, key) = one_row();
    sqlite::run(&c, &deliveries::claim(&key, 0, 2_000, 2_000 + LEASE)).expect("db");
    // The holder died. After the lease the sweep sees it and claims it anew.
    let after = 2_000 + LEASE + 1;
    assert_eq!(due_keys(&c, after), vec![key.clone()]);
    assert_eq!(
        sqlite::run(&c, &deliveries::claim(&key, 1, after, after + LEASE)).expect("db"),
        1
    );
    // The first holder comes back: its outcome (attempt 1) writes nothing.
    let stale = deliveries::settle(&key, 1, Outcome::Delivered, Some(200), None, after);
    assert_eq!(sqlite::run(&c, &stale).expect("db"), 0);
    assert_eq!(row(&c, &key).status, "sending");
    let mine = deliveries::settle(&key, 2, Outcome::Delivered, Some(200), None, after + 5);
    assert_eq!(sqlite::run(&c, &mine).expect("db"), 1);
    let r = row(&c, &key);
    assert_eq!((r.status.as_str(), r.attempts), ("delivered", 2));
    assert_eq!((r.http_status, r.done_at_ms), (Some(200), Some(after + 5)));
    assert!(
        due_keys(&c, u64::MAX / 2).is_empty(),
        "done rows are never due"
    );
}

#[test]
fn a_retry_goes_back_to_pending_until_its_time() {
    let (c, key) = one_row();
    sqlite::run(&c, &deliveries::claim(&key, 0, 2_000, 2_000 + LEASE)).expect("db");
    let retry = deliveries::settle(
        &key,
        1,
        Outcome::Retry { at_ms: 4_000 },
        Some(503),
        Some("the receiver answered HTTP 503"),
        2_100,
    );
    assert_eq!(sqlite::run(&c, &retry).expect("db"), 1);
    let r = row(&c, &key);
    assert_eq!(
        (r.status.as_str(), r.attempts, r.http_status),
        ("pending", 1, Some(503))
    );
    assert_eq!(r.done_at_ms, None);
    assert!(due_keys(&c, 3_999).is_empty());
    assert_eq!(
        sqlite::run(&c, &deliveries::claim(&key, 1, 3_999, 3_999 + LEASE)).expect("db"),
        0
    );
    assert_eq!(due_keys(&c, 4_000), vec![key.clone()]);
    assert_eq!(
        sqlite::run(&c, &deliveries::claim(&key, 1, 4_000, 4_000 + LEASE)).expect("db"),
        1
    );
    let fail = deliveries::settle(&key, 2, Outcome::Failed, Some(400), Some("HTTP 400"), 4_200);
    assert_eq!(sqlite::run(&c, &fail).expect("db"), 1);
    let r = row(&c, &key);
    assert_eq!((r.status.as_str(), r.attempts), ("failed", 2));
    assert_eq!(
        (r.error.as_deref(), r.done_at_ms),
        (Some("HTTP 400"), Some(4_200))
    );
}

#[test]
fn failing_unsent_is_fenced_by_the_attempts_read() {
    let (c, key) = one_row();
    sqlite::run(&c, &deliveries::claim(&key, 0, 2_000, 2_000 + LEASE)).expect("db");
    // Read before that claim: no longer ours to fail.
    assert_eq!(
        sqlite::run(&c, &deliveries::fail_unsent(&key, 0, "refused", 3_000)).expect("db"),
        0
    );
    assert_eq!(
        sqlite::run(&c, &deliveries::fail_unsent(&key, 1, "cut off", 3_000)).expect("db"),
        1
    );
    let r = row(&c, &key);
    assert_eq!(
        (r.status.as_str(), r.error.as_deref()),
        ("failed", Some("cut off"))
    );
    // Done rows stay done.
    assert_eq!(
        sqlite::run(&c, &deliveries::fail_unsent(&key, 1, "again", 4_000)).expect("db"),
        0
    );
}

#[test]
fn the_watch_path_counts_attempts_on_a_pending_row_and_closes_it() {
    let (c, key) = one_row();
    let pending = sqlite::fetch(&c, &deliveries::pending()).expect("db");
    assert_eq!(
        pending.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
        [key.as_str()]
    );
    sqlite::run(
        &c,
        &deliveries::record_attempt(&key, 1, Some(500), Some("HTTP 500")),
    )
    .expect("db");
    assert_eq!(
        sqlite::fetch(&c, &deliveries::pending()).expect("db")[0].attempts,
        1
    );
    sqlite::run(
        &c,
        &deliveries::finish(&key, Done::Failed, None, Some("gave up"), 9_000),
    )
    .expect("db");
    assert!(sqlite::fetch(&c, &deliveries::pending())
        .expect("db")
        .is_empty());
    let failed = sqlite::fetch(&c, &deliveries::with_status(deliveries::FAILED, 10)).expect("db");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (
            failed[0].attempts,
            failed[0].http_status,
            failed[0].error.as_deref()
        ),
        (1, Some(500), Some("gave up")),
        "the last HTTP status is kept when the close names none"
    );
    assert!(
        sqlite::fetch(&c, &deliveries::with_status(deliveries::PENDING, 10))
            .expect("db")
            .is_empty()
    );
}

#[test]
fn pending_rows_come_oldest_first() {
    let c = sqlite::open_in_memory().expect("schema");
    let (opened, resolved) = common::outage("m", 1_000, 61_000);
    let (other, _) = common::outage("n", 500, 61_000);
    for (e, ch) in [
        (&resolved, "a"),
        (&opened, "b"),
        (&opened, "a"),
        (&other, "z"),
    ] {
        sqlite::run(&c, &deliveries::enqueue(e, ch, "webhook", 70_000)).expect("db");
    }
    let keys: Vec<String> = sqlite::fetch(&c, &deliveries::pending())
        .expect("db")
        .into_iter()
        .map(|d| d.key)
        .collect();
    assert_eq!(
        keys,
        [
            "n:incident_opened:500:z",
            "m:incident_opened:1000:a",
            "m:incident_opened:1000:b",
            "m:incident_resolved:61000:a"
        ]
    );
    assert_eq!(due_keys(&c, 70_000).len(), 4);
    assert_eq!(
        sqlite::fetch(&c, &deliveries::due(70_000, 2))
            .expect("db")
            .len(),
        2,
        "bounded"
    );
}
