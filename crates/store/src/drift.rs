//! `drift_events`: one row per change of a monitor's tool-list hash, keyed
//! by the monitor crate's idempotency key (`{monitor}:drift:{ms}`), so a
//! write repeated by overlapping runs is one row.

use mcprobe_monitor::history::DriftEvent;

use crate::sql::{self, Query, Row, RowError, Statement, Value};

/// Records one drift event (INSERT OR IGNORE on its key).
pub fn record(
    key: &str,
    monitor_id: &str,
    at_ms: u64,
    from_hash: &str,
    to_hash: &str,
) -> Statement {
    Statement::new(
        "INSERT OR IGNORE INTO drift_events (key, monitor_id, at_ms, from_hash, to_hash) VALUES (?, ?, ?, ?, ?)",
        vec![
            Value::text(key),
            Value::text(monitor_id),
            Value::int(at_ms),
            Value::text(from_hash),
            Value::text(to_hash),
        ],
    )
}

fn event(r: &Row) -> Result<DriftEvent, RowError> {
    Ok(DriftEvent {
        key: r.text("key")?,
        at_ms: r.u64("at_ms")?,
        from_hash: r.text("from_hash")?,
        to_hash: r.text("to_hash")?,
    })
}

/// A monitor's drift events with keys in `[lo, hi)` (the monitor crate's
/// `history::key_range`, one primary-key range read), newest first, at most
/// `limit`.
pub fn of_monitor(monitor_id: &str, lo: &str, hi: &str, limit: u64) -> Query<Vec<DriftEvent>> {
    Query::new(
        Statement::new(
            "SELECT key, at_ms, from_hash, to_hash FROM drift_events WHERE key >= ? AND key < ? AND monitor_id = ? ORDER BY at_ms DESC LIMIT ?",
            vec![Value::text(lo), Value::text(hi), Value::text(monitor_id), Value::int(limit)],
        ),
        |rows| sql::each(rows, event),
    )
}

/// How many drift events of the monitor have keys in `[lo, hi)`.
pub fn count(monitor_id: &str, lo: &str, hi: &str) -> Query<u64> {
    Query::new(
        Statement::new(
            "SELECT COUNT(*) AS n FROM drift_events WHERE key >= ? AND key < ? AND monitor_id = ?",
            vec![Value::text(lo), Value::text(hi), Value::text(monitor_id)],
        ),
        |rows| Ok(sql::first(rows, |r: &Row| r.u64("n"))?.unwrap_or(0)),
    )
}
