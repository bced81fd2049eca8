//! What only `mcprobe watch` keeps (the tables of
//! [`crate::schema::WATCH_TABLES`]): a probe counter per monitor and the
//! tool list each monitor was first seen with, which later probes are
//! compared with for drift.

use mcprobe_core::fingerprint::Snapshot;

use crate::sql::{self, Query, Row, Statement, Value};

/// Counts one probe of the monitor, with its mode.
pub fn count_probe(monitor_id: &str, mode: &str, now_ms: u64) -> Statement {
    Statement::new(
        "INSERT INTO watch_probes (monitor_id, probes, last_probe_ms, last_mode) VALUES (?, 1, ?, ?) \
         ON CONFLICT(monitor_id) DO UPDATE SET probes = watch_probes.probes + 1, \
         last_probe_ms = excluded.last_probe_ms, last_mode = excluded.last_mode",
        vec![Value::text(monitor_id), Value::int(now_ms), Value::text(mode)],
    )
}

/// How many probes of the monitor were counted.
pub fn probe_count(monitor_id: &str) -> Query<u64> {
    Query::new(
        Statement::new(
            "SELECT probes FROM watch_probes WHERE monitor_id = ?",
            vec![Value::text(monitor_id)],
        ),
        |rows| Ok(sql::first(rows, |r: &Row| r.u64("probes"))?.unwrap_or(0)),
    )
}

/// The monitor's baseline tool list. An unreadable one reads as none: the
/// next tool list replaces it.
pub fn baseline(monitor_id: &str) -> Query<Option<Snapshot>> {
    Query::new(
        Statement::new(
            "SELECT snapshot_json FROM baselines WHERE monitor_id = ?",
            vec![Value::text(monitor_id)],
        ),
        |rows| Ok(sql::first(rows, |r: &Row| Ok(r.json("snapshot_json").ok()))?.flatten()),
    )
}

/// Records (or replaces) the monitor's baseline.
pub fn save_baseline(monitor_id: &str, snapshot: &Snapshot, now_ms: u64) -> Statement {
    Statement::new(
        "INSERT OR REPLACE INTO baselines (monitor_id, hash, snapshot_json, at_ms) VALUES (?, ?, ?, ?)",
        vec![
            Value::text(monitor_id),
            Value::text(&snapshot.hash),
            // A Snapshot always serialises (no map with non-text keys).
            Value::text(serde_json::to_string(snapshot).unwrap_or_default()),
            Value::int(now_ms),
        ],
    )
}

/// Forgets the monitor's baseline (`--accept-drift`): the next tool list
/// becomes the baseline.
pub fn forget_baseline(monitor_id: &str) -> Statement {
    Statement::new(
        "DELETE FROM baselines WHERE monitor_id = ?",
        vec![Value::text(monitor_id)],
    )
}
