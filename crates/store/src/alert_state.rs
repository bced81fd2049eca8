//! `alert_state`: each monitor's alert policy state (`PolicyState` as JSON),
//! written whenever it is not plainly healthy; `open` = 1 while the policy
//! has something to tick (an incident, a streak, re-probes, held events).

use mcprobe_monitor::policy::PolicyState;

use crate::sql::{self, Query, Row, Statement, Value};

/// Nothing to remember beyond "healthy": no row needed, no tick needed.
pub fn steady(s: &PolicyState) -> bool {
    s.incident.is_none()
        && s.fail_streak == 0
        && s.flapping.is_none()
        && s.held.is_empty()
        && s.reprobes.is_empty()
        && s.pending_drift.is_none()
        && !s.in_maintenance
}

/// Saves a monitor's state (an upsert); `open` is derived from the state.
pub fn save(monitor_id: &str, state: &PolicyState, now_ms: u64) -> Statement {
    Statement::new(
        "INSERT INTO alert_state (monitor_id, state_json, open, at_ms) VALUES (?, ?, ?, ?) \
         ON CONFLICT(monitor_id) DO UPDATE SET state_json = excluded.state_json, \
         open = excluded.open, at_ms = excluded.at_ms",
        vec![
            Value::text(monitor_id),
            // A PolicyState always serialises (no map with non-text keys).
            Value::text(serde_json::to_string(state).unwrap_or_default()),
            Value::int(u64::from(!steady(state))),
            Value::int(now_ms),
        ],
    )
}

/// A monitor's stored state: `None` if it has no row; a [`RowError::Json`]
/// if the row no longer reads (a hand-edited file, an older format), which
/// the caller decides about (both hosts start afresh).
pub fn load(monitor_id: &str) -> Query<Option<PolicyState>> {
    Query::new(
        Statement::new(
            "SELECT state_json FROM alert_state WHERE monitor_id = ?",
            vec![Value::text(monitor_id)],
        ),
        |rows| sql::first(rows, |r: &Row| r.json("state_json")),
    )
}

/// The monitors whose policy is not steady (the cron ticks them).
pub fn open_monitors() -> Query<Vec<String>> {
    Query::new(
        Statement::new("SELECT monitor_id FROM alert_state WHERE open = 1", vec![]),
        |rows| {
            Ok(sql::each(rows, |r: &Row| r.text("monitor_id"))?
                .into_iter()
                .filter(|id| !id.is_empty())
                .collect())
        },
    )
}

/// For tests and tools: a row's `open` flag.
pub fn is_open(monitor_id: &str) -> Query<Option<bool>> {
    Query::new(
        Statement::new(
            "SELECT open FROM alert_state WHERE monitor_id = ?",
            vec![Value::text(monitor_id)],
        ),
        |rows| sql::first(rows, |r: &Row| Ok(r.u64("open")? == 1)),
    )
}
