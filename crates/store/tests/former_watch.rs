//! A state file written by `mcprobe watch` before the one store (its own
//! tables: `monitor_state` with `state_json`, `incidents` with
//! `opened_at_ms`, `outbox` with an integer id) opens with the shared schema
//! and keeps every row: state, probe counts, baseline, incidents, deliveries.

mod common;

use mcprobe_core::verdict::Mode;
use mcprobe_monitor::policy::{Observation, PolicyState};
use mcprobe_store::{alert_state, deliveries, incidents, sqlite};
use rusqlite::{params, Connection};

/// The watch's schema as it was, verbatim.
const FORMER_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS monitor_state (
    monitor_id    TEXT PRIMARY KEY,
    state_json    TEXT NOT NULL,
    probes        INTEGER NOT NULL DEFAULT 0,
    last_probe_ms INTEGER,
    last_mode     TEXT,
    updated_ms    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS baselines (
    monitor_id    TEXT PRIMARY KEY,
    hash          TEXT NOT NULL,
    snapshot_json TEXT NOT NULL,
    at_ms         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS incidents (
    id              TEXT PRIMARY KEY,
    monitor_id      TEXT NOT NULL,
    severity        TEXT NOT NULL,
    mode            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    hint            TEXT NOT NULL,
    started_at_ms   INTEGER NOT NULL,
    opened_at_ms    INTEGER NOT NULL,
    escalated_at_ms INTEGER,
    acked_at_ms     INTEGER,
    resolved_at_ms  INTEGER,
    duration_ms     INTEGER
);
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    key          TEXT NOT NULL UNIQUE,
    monitor_id   TEXT NOT NULL,
    incident_id  TEXT,
    event        TEXT NOT NULL,
    severity     TEXT NOT NULL,
    channel_name TEXT NOT NULL,
    channel      TEXT NOT NULL,
    event_json   TEXT NOT NULL,
    at_ms        INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    http_status  INTEGER,
    error        TEXT,
    done_at_ms   INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status);
";

/// Writes a former-schema file: one monitor mid-outage with an open incident,
/// a pending and a failed delivery, a baseline, and one healthy monitor.
fn write_former(path: &std::path::Path) -> PolicyState {
    let c = Connection::open(path).expect("file");
    c.execute_batch(FORMER_SCHEMA).expect("former schema");
    let mut p = common::policy("m");
    let events = p.observe(&Observation::of(Mode::ConnectRefused, "refused"), 1_000);
    let opened = &events[0];
    c.execute(
        "INSERT INTO monitor_state (monitor_id, state_json, probes, last_probe_ms, last_mode, updated_ms) VALUES (?1, ?2, 7, 1000, 'connect_refused', 1000)",
        params!["m", serde_json::to_string(p.state()).expect("json")],
    )
    .expect("state");
    c.execute(
        "INSERT INTO monitor_state (monitor_id, state_json, probes, last_probe_ms, last_mode, updated_ms) VALUES ('ok', ?1, 3, 900, 'ok', 900)",
        [serde_json::to_string(&PolicyState::default()).expect("json")],
    )
    .expect("state");
    c.execute(
        "INSERT INTO baselines (monitor_id, hash, snapshot_json, at_ms) VALUES ('m', 'h1', '{\"hash\":\"h1\"}', 500)",
        [],
    )
    .expect("baseline");
    c.execute(
        "INSERT INTO incidents (id, monitor_id, severity, mode, reason, hint, started_at_ms, opened_at_ms, acked_at_ms) VALUES ('m-1000', 'm', 'P1', 'connect_refused', 'refused', 'check it', 1000, 1000, 1500)",
        [],
    )
    .expect("incident");
    for (channel, status, attempts, http) in [
        ("slack", "pending", 1, Some(500)),
        ("hook", "failed", 4, Some(404)),
    ] {
        c.execute(
            "INSERT INTO outbox (key, monitor_id, incident_id, event, severity, channel_name, channel, event_json, at_ms, status, attempts, http_status, error)
             VALUES (?1, 'm', 'm-1000', 'incident_opened', 'P1', ?2, ?2, ?3, 1000, ?4, ?5, ?6, 'HTTP error')",
            params![
                deliveries::key(opened, channel),
                channel,
                serde_json::to_string(opened).expect("json"),
                status,
                attempts,
                http
            ],
        )
        .expect("outbox");
    }
    p.state().clone()
}

#[test]
fn a_former_watch_file_opens_with_every_row_kept() {
    let dir = std::env::temp_dir().join(format!("mcprobe-store-former-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("state.sqlite");
    let _ = std::fs::remove_file(&path);
    let state = write_former(&path);

    for round in 0..2 {
        // Opened twice: the second open finds nothing left to convert.
        let c = sqlite::open(&path).expect("opens");
        assert_eq!(
            sqlite::fetch(&c, &alert_state::load("m")).expect("db"),
            Some(state.clone()),
            "round {round}"
        );
        assert_eq!(
            sqlite::fetch(&c, &alert_state::is_open("m")).expect("db"),
            Some(true)
        );
        assert_eq!(
            sqlite::fetch(&c, &alert_state::is_open("ok")).expect("db"),
            Some(false)
        );
        let probes: Vec<(String, i64, String)> = c
            .prepare("SELECT monitor_id, probes, last_mode FROM watch_probes ORDER BY monitor_id")
            .expect("sql")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            probes,
            [
                ("m".into(), 7, "connect_refused".into()),
                ("ok".into(), 3, "ok".into())
            ]
        );
        let baseline: String = c
            .query_row(
                "SELECT hash FROM baselines WHERE monitor_id = 'm'",
                [],
                |r| r.get(0),
            )
            .expect("baseline kept");
        assert_eq!(baseline, "h1");
        let inc = sqlite::fetch(&c, &incidents::get("m-1000"))
            .expect("db")
            .expect("kept");
        assert_eq!(
            (inc.announced_at_ms, inc.acked_at_ms, inc.resolved_at_ms),
            (1_000, Some(1_500), None)
        );
        assert_eq!(
            sqlite::fetch(&c, &incidents::list(true, 10))
                .expect("db")
                .len(),
            1
        );
        let pending = sqlite::fetch(&c, &deliveries::pending()).expect("db");
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].channel_name.as_str(), pending[0].attempts),
            ("slack", 1)
        );
        assert!(pending[0].event().is_ok(), "the event reads back");
        let failed =
            sqlite::fetch(&c, &deliveries::with_status(deliveries::FAILED, 10)).expect("db");
        assert_eq!(failed.len(), 1);
        assert_eq!((failed[0].attempts, failed[0].http_status), (4, Some(404)));
        let former: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('outbox', 'former_outbox', 'former_monitor_state', 'former_incidents')",
                [],
                |r| r.get(0),
            )
            .expect("counted");
        assert_eq!(former, 0, "the former tables are gone");
    }
    std::fs::remove_dir_all(&dir).ok();
}
