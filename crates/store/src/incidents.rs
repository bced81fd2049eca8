//! `incidents`: one row per confirmed incident as the policy announced it,
//! opened, escalated, acknowledged and resolved in step with its events.

use mcprobe_monitor::policy::{Event, EventKind};
use serde::Serialize;

use crate::sql::{self, Query, Row, RowError, Statement, Value};

/// An incident row. Serialises as `GET /api/monitors/{id}/incidents` shows
/// it (without `monitor_id`, which is in the URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: String,
    #[serde(skip)]
    pub monitor_id: String,
    pub started_at_ms: u64,
    pub announced_at_ms: u64,
    pub severity: String,
    pub mode: String,
    pub reason: String,
    pub hint: String,
    pub acked_at_ms: Option<u64>,
    pub escalated_at_ms: Option<u64>,
    pub resolved_at_ms: Option<u64>,
    pub duration_ms: Option<u64>,
}

/// Every column, in [`Incident`]'s order (one select list for every read).
macro_rules! select_incident {
    ($tail:literal) => {
        concat!(
            "SELECT id, monitor_id, started_at_ms, announced_at_ms, severity, mode, reason, hint, \
             acked_at_ms, escalated_at_ms, resolved_at_ms, duration_ms FROM incidents ",
            $tail
        )
    };
}

fn incident(r: &Row) -> Result<Incident, RowError> {
    Ok(Incident {
        id: r.text("id")?,
        monitor_id: r.text("monitor_id")?,
        started_at_ms: r.u64("started_at_ms")?,
        announced_at_ms: r.u64("announced_at_ms")?,
        severity: r.text("severity")?,
        mode: r.text("mode")?,
        reason: r.text("reason")?,
        hint: r.text("hint")?,
        acked_at_ms: r.opt_u64("acked_at_ms")?,
        escalated_at_ms: r.opt_u64("escalated_at_ms")?,
        resolved_at_ms: r.opt_u64("resolved_at_ms")?,
        duration_ms: r.opt_u64("duration_ms")?,
    })
}

/// The write an event makes to its incident, if any: opened (a replay of
/// the same event is a no-op), escalated, or resolved (once).
pub fn record(event: &Event) -> Option<Statement> {
    Some(match &event.kind {
        EventKind::IncidentOpened {
            id,
            mode,
            reason,
            hint,
            started_at_ms,
            ..
        } => Statement::new(
            "INSERT OR IGNORE INTO incidents (id, monitor_id, started_at_ms, announced_at_ms, severity, mode, reason, hint) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                Value::text(id),
                Value::text(&event.monitor_id),
                Value::int(*started_at_ms),
                Value::int(event.at_ms),
                Value::text(event.severity.as_str()),
                Value::text(mode.as_str()),
                Value::text(reason),
                Value::text(hint),
            ],
        ),
        EventKind::Escalated { id, .. } => Statement::new(
            "UPDATE incidents SET severity = ?, escalated_at_ms = ? WHERE id = ?",
            vec![
                Value::text(event.severity.as_str()),
                Value::int(event.at_ms),
                Value::text(id),
            ],
        ),
        EventKind::IncidentResolved {
            id,
            ended_at_ms,
            duration_ms,
            ..
        } => Statement::new(
            "UPDATE incidents SET resolved_at_ms = ?, duration_ms = ? WHERE id = ? AND resolved_at_ms IS NULL",
            vec![
                Value::int(*ended_at_ms),
                Value::int(*duration_ms),
                Value::text(id),
            ],
        ),
        _ => return None,
    })
}

/// Marks an incident acknowledged (the first acknowledgement stands).
pub fn ack(incident_id: &str, now_ms: u64) -> Statement {
    Statement::new(
        "UPDATE incidents SET acked_at_ms = COALESCE(acked_at_ms, ?) WHERE id = ?",
        vec![Value::int(now_ms), Value::text(incident_id)],
    )
}

/// One incident by id.
pub fn get(incident_id: &str) -> Query<Option<Incident>> {
    Query::new(
        Statement::new(
            select_incident!("WHERE id = ?"),
            vec![Value::text(incident_id)],
        ),
        |rows| sql::first(rows, incident),
    )
}

/// A monitor's incidents, newest first, at most `limit`.
pub fn of_monitor(monitor_id: &str, limit: u64) -> Query<Vec<Incident>> {
    Query::new(
        Statement::new(
            select_incident!("WHERE monitor_id = ? ORDER BY started_at_ms DESC LIMIT ?"),
            vec![Value::text(monitor_id), Value::int(limit)],
        ),
        |rows| sql::each(rows, incident),
    )
}

/// Every monitor's incidents (only the unresolved ones when `open_only`),
/// newest first, at most `limit`.
pub fn list(open_only: bool, limit: u64) -> Query<Vec<Incident>> {
    Query::new(
        Statement::new(
            select_incident!(
                "WHERE (? = 0 OR resolved_at_ms IS NULL) ORDER BY started_at_ms DESC LIMIT ?"
            ),
            vec![Value::int(u64::from(open_only)), Value::int(limit)],
        ),
        |rows| sql::each(rows, incident),
    )
}
