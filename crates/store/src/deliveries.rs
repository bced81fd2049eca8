//! `deliveries`, the alert outbox: one row per (event, channel), written as
//! `pending` in the same transaction as the policy state that decided it.
//!
//! Two senders use it. The Worker (`crates/worker/src/outbox.rs`) claims a
//! row before each attempt ([`claim`]: `sending` until a lease runs out, the
//! attempt counted), then [`settle`]s it (`delivered`, `failed`, or back to
//! `pending` with the next attempt's time); its cron sweeps the rows nobody
//! sends ([`due`]). Claims and outcomes are fenced by the attempt count the
//! claimer read, so of two invocations only one sends and only the claim's
//! holder writes the outcome. `mcprobe watch`, one process per file, sends
//! every [`pending`] row in process, counting attempts on the row
//! ([`record_attempt`]) and closing it ([`finish`]); a restart sends the
//! pending ones again.
//!
//! A row keeps the event (`event_json`), never the request: the request, with
//! its secret headers, is rebuilt from the event and the alert settings.

use mcprobe_monitor::alerts;
use mcprobe_monitor::policy::Event;
use serde::Serialize;

use crate::sql::{self, Query, Row, RowError, Statement, Value};

pub const PENDING: &str = "pending";
pub const SENDING: &str = "sending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// The row key of one event's delivery to one channel: the same event
/// written twice (overlapping runs, a replay) is one row.
pub fn key(event: &Event, channel_name: &str) -> String {
    format!(
        "{}:{}:{}:{}",
        event.monitor_id,
        event.kind.code(),
        event.at_ms,
        channel_name
    )
}

/// Puts a delivery in the outbox, `pending` and due at `now_ms`. INSERT OR
/// IGNORE: changes no row if the key is there already.
pub fn enqueue(event: &Event, channel_name: &str, channel: &str, now_ms: u64) -> Statement {
    Statement::new(
        "INSERT OR IGNORE INTO deliveries (key, monitor_id, incident_id, event, severity, channel_name, channel, at_ms, status, attempts, event_json, next_at_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        vec![
            Value::text(key(event, channel_name)),
            Value::text(&event.monitor_id),
            Value::opt_text(alerts::incident_of(event)),
            Value::text(event.kind.code()),
            Value::text(event.severity.as_str()),
            Value::text(channel_name),
            Value::text(channel),
            Value::int(event.at_ms),
            // An Event always serialises (no map with non-text keys).
            Value::text(serde_json::to_string(event).unwrap_or_default()),
            Value::int(now_ms),
        ],
    )
}

/// Takes a row for one attempt: the row as read (`attempts`), `pending` and
/// due or `sending` past its lease, becomes `sending` until `lease_until_ms`
/// and its attempt is counted. Changes no row if someone else moved it.
pub fn claim(key: &str, attempts: u32, now_ms: u64, lease_until_ms: u64) -> Statement {
    Statement::new(
        "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, lease_until_ms = ? \
         WHERE key = ? AND attempts = ? AND ((status = 'pending' AND COALESCE(next_at_ms, 0) <= ?) \
         OR (status = 'sending' AND COALESCE(lease_until_ms, 0) < ?))",
        vec![
            Value::int(lease_until_ms),
            Value::text(key),
            Value::int(u64::from(attempts)),
            Value::int(now_ms),
            Value::int(now_ms),
        ],
    )
}

/// What one claimed attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Back to `pending`, the next attempt due at this time.
    Retry {
        at_ms: u64,
    },
    Failed,
}

/// Records the outcome of attempt number `attempt` (the claim's count), only
/// while the row is still that claim's.
pub fn settle(
    key: &str,
    attempt: u32,
    outcome: Outcome,
    http_status: Option<u16>,
    error: Option<&str>,
    now_ms: u64,
) -> Statement {
    let (status, next_at, done_at) = match outcome {
        Outcome::Delivered => (DELIVERED, None, Some(now_ms)),
        Outcome::Retry { at_ms } => (PENDING, Some(at_ms), None),
        Outcome::Failed => (FAILED, None, Some(now_ms)),
    };
    Statement::new(
        "UPDATE deliveries SET status = ?, http_status = ?, error = ?, next_at_ms = ?, done_at_ms = ?, lease_until_ms = NULL \
         WHERE key = ? AND status = 'sending' AND attempts = ?",
        vec![
            Value::text(status),
            Value::opt_int(http_status.map(u64::from)),
            Value::opt_text(error),
            Value::opt_int(next_at),
            Value::opt_int(done_at),
            Value::text(key),
            Value::int(u64::from(attempt)),
        ],
    )
}

/// Marks a row failed without an attempt (refused URL, nothing to rebuild
/// the request from, the last attempt cut off), if nobody moved it since it
/// was read with `attempts`.
pub fn fail_unsent(key: &str, attempts: u32, error: &str, now_ms: u64) -> Statement {
    Statement::new(
        "UPDATE deliveries SET status = 'failed', error = ?, done_at_ms = ?, lease_until_ms = NULL \
         WHERE key = ? AND attempts = ? AND status IN ('pending', 'sending')",
        vec![
            Value::text(error),
            Value::int(now_ms),
            Value::text(key),
            Value::int(u64::from(attempts)),
        ],
    )
}

/// A row to send, as a sender reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub key: String,
    pub monitor_id: String,
    pub channel_name: String,
    /// The event as JSON; `None` on rows written before the outbox kept it.
    pub event_json: Option<String>,
    pub status: String,
    pub attempts: u32,
}

impl Due {
    /// The event the row announces, read back.
    pub fn event(&self) -> Result<Event, String> {
        let json = self
            .event_json
            .as_deref()
            .ok_or("no event kept with this delivery (written before the outbox)")?;
        serde_json::from_str(json).map_err(|e| format!("the stored event is unreadable: {e}"))
    }
}

fn due_row(r: &Row) -> Result<Due, RowError> {
    Ok(Due {
        key: r.text("key")?,
        monitor_id: r.text("monitor_id")?,
        channel_name: r.text("channel_name")?,
        event_json: r.opt_text("event_json")?,
        status: r.text("status")?,
        attempts: r.u32("attempts")?,
    })
}

/// The rows nobody is sending: `pending` and due, or `sending` past their
/// lease; oldest first, at most `limit`.
pub fn due(now_ms: u64, limit: u64) -> Query<Vec<Due>> {
    Query::new(
        Statement::new(
            "SELECT key, monitor_id, channel_name, event_json, status, attempts FROM deliveries \
             WHERE status IN ('pending', 'sending') AND ((status = 'pending' AND COALESCE(next_at_ms, 0) <= ?) \
             OR (status = 'sending' AND COALESCE(lease_until_ms, 0) < ?)) ORDER BY at_ms LIMIT ?",
            vec![Value::int(now_ms), Value::int(now_ms), Value::int(limit)],
        ),
        |rows| sql::each(rows, due_row),
    )
}

/// Every `pending` row whatever its due time, oldest first (`watch` sends
/// them all, at start and after each probe).
pub fn pending() -> Query<Vec<Due>> {
    Query::new(
        Statement::new(
            "SELECT key, monitor_id, channel_name, event_json, status, attempts FROM deliveries \
             WHERE status = 'pending' ORDER BY at_ms, key",
            vec![],
        ),
        |rows| sql::each(rows, due_row),
    )
}

/// Counts an attempt on a row that stays `pending` (`watch`).
pub fn record_attempt(
    key: &str,
    attempts: u32,
    http_status: Option<u16>,
    error: Option<&str>,
) -> Statement {
    Statement::new(
        "UPDATE deliveries SET attempts = ?, http_status = ?, error = ? WHERE key = ?",
        vec![
            Value::int(u64::from(attempts)),
            Value::opt_int(http_status.map(u64::from)),
            Value::opt_text(error),
            Value::text(key),
        ],
    )
}

/// How a row ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Delivered,
    Failed,
}

/// Closes a row (`watch`): the last HTTP status is kept when none is given.
pub fn finish(
    key: &str,
    done: Done,
    http_status: Option<u16>,
    error: Option<&str>,
    now_ms: u64,
) -> Statement {
    Statement::new(
        "UPDATE deliveries SET status = ?, http_status = COALESCE(?, http_status), error = ?, done_at_ms = ?, lease_until_ms = NULL WHERE key = ?",
        vec![
            Value::text(match done {
                Done::Delivered => DELIVERED,
                Done::Failed => FAILED,
            }),
            Value::opt_int(http_status.map(u64::from)),
            Value::opt_text(error),
            Value::int(now_ms),
            Value::text(key),
        ],
    )
}

/// A delivery row. Serialises as `GET /api/monitors/{id}/incidents` shows
/// it (without its key and monitor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    #[serde(skip)]
    pub key: String,
    #[serde(skip)]
    pub monitor_id: String,
    pub incident_id: Option<String>,
    pub event: String,
    pub severity: String,
    pub channel_name: String,
    pub channel: String,
    pub at_ms: u64,
    pub status: String,
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub done_at_ms: Option<u64>,
}

macro_rules! select_record {
    ($tail:literal) => {
        concat!(
            "SELECT key, monitor_id, incident_id, event, severity, channel_name, channel, at_ms, \
             status, attempts, http_status, error, done_at_ms FROM deliveries ",
            $tail
        )
    };
}

fn record(r: &Row) -> Result<Record, RowError> {
    Ok(Record {
        key: r.text("key")?,
        monitor_id: r.text("monitor_id")?,
        incident_id: r.opt_text("incident_id")?,
        event: r.text("event")?,
        severity: r.text("severity")?,
        channel_name: r.text("channel_name")?,
        channel: r.text("channel")?,
        at_ms: r.u64("at_ms")?,
        status: r.text("status")?,
        attempts: r.u32("attempts")?,
        http_status: r.opt_u16("http_status")?,
        error: r.opt_text("error")?,
        done_at_ms: r.opt_u64("done_at_ms")?,
    })
}

/// One row by key.
pub fn get(key: &str) -> Query<Option<Record>> {
    Query::new(
        Statement::new(select_record!("WHERE key = ?"), vec![Value::text(key)]),
        |rows| sql::first(rows, record),
    )
}

/// A monitor's deliveries, newest first, at most `limit`.
pub fn of_monitor(monitor_id: &str, limit: u64) -> Query<Vec<Record>> {
    Query::new(
        Statement::new(
            select_record!("WHERE monitor_id = ? ORDER BY at_ms DESC LIMIT ?"),
            vec![Value::text(monitor_id), Value::int(limit)],
        ),
        |rows| sql::each(rows, record),
    )
}

/// Every monitor's deliveries with `status`, newest first, at most `limit`.
pub fn with_status(status: &str, limit: u64) -> Query<Vec<Record>> {
    Query::new(
        Statement::new(
            select_record!("WHERE status = ? ORDER BY at_ms DESC, key DESC LIMIT ?"),
            vec![Value::text(status), Value::int(limit)],
        ),
        |rows| sql::each(rows, record),
    )
}
