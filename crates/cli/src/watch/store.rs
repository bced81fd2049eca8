//! Start here: the SQLite file of `mcprobe watch`, everything a restart must
//! not forget. Four tables:
//!
//! - `monitor_state`: each monitor's [`PolicyState`] as JSON (open incident,
//!   streaks, pending re-probes, held digest items), plus a probe counter;
//! - `baselines`: the first tool list seen per monitor (a fingerprint
//!   [`Snapshot`]), which later probes are compared with for drift;
//! - `incidents`: one row per incident, opened / escalated / resolved;
//! - `outbox`: one row per (event, channel), `pending` until it is
//!   `delivered` or finally `failed`, with attempts, last HTTP status and error.
//!
//! The new policy state, its incidents and its outbox rows are written in
//! ONE transaction ([`Store::with_tx`], `BEGIN IMMEDIATE`), so a crash either
//! forgets the probe entirely or remembers it together with the pages it
//! owes; pending rows are sent on restart, delivered ones never again.
//!
//! The outbox stores the event (JSON) and the channel's name, not the request:
//! the request is rebuilt from the config when it is sent, so no routing key,
//! API key or webhook URL is ever written to this file.

use std::path::Path;

use mcprobe_core::fingerprint::Snapshot;
use mcprobe_monitor::alerts;
use mcprobe_monitor::policy::{Event, EventKind, PolicyState};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

const SCHEMA: &str = "
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

/// Outbox row states.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// The open state file.
pub struct Store {
    conn: Connection,
}

/// A delivery still owed.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub monitor_id: String,
    pub channel_name: String,
    pub event: Event,
    pub attempts: u32,
}

/// A delivery as `--status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub monitor_id: String,
    pub incident_id: Option<String>,
    pub event: String,
    pub channel_name: String,
    pub status: String,
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub at_ms: u64,
}

/// An incident row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    pub id: String,
    pub monitor_id: String,
    pub severity: String,
    pub mode: String,
    pub reason: String,
    pub started_at_ms: u64,
    pub resolved_at_ms: Option<u64>,
}

/// u64 milliseconds in SQLite's i64 (saturating: no time is near the limit).
fn int(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the state file.
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        Store::init(Connection::open(path)?)
    }

    /// A throwaway store (unit tests).
    pub fn open_in_memory() -> rusqlite::Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> rusqlite::Result<Store> {
        // Another process (`--status`, `--ack`) may hold the file briefly.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL: readers never block the daemon's writes. FULL sync: a page
        // owed must survive a power cut, not only a crash.
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn })
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when it
    /// returns `Ok` (immediate: two writers serialise instead of one failing
    /// to upgrade its read lock).
    pub fn with_tx<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// The monitor's persisted policy state. A row that no longer parses (a
/// hand-edited file, an older format) starts over rather than stopping the
/// daemon; the caller logs it.
pub fn load_state(
    conn: &Connection,
    monitor_id: &str,
) -> rusqlite::Result<Result<Option<PolicyState>, String>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT state_json FROM monitor_state WHERE monitor_id = ?1",
            [monitor_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match json {
        None => Ok(None),
        Some(j) => serde_json::from_str(&j).map(Some).map_err(|e| {
            format!("the stored policy state of {monitor_id} is unreadable ({e}); starting afresh")
        }),
    })
}

/// Saves a monitor's state; `probed` (the probe's mode) counts a probe.
pub fn save_state(
    conn: &Connection,
    monitor_id: &str,
    state: &PolicyState,
    now_ms: u64,
    probed: Option<&str>,
) -> rusqlite::Result<()> {
    let json = serde_json::to_string(state)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let probes = i64::from(probed.is_some());
    conn.execute(
        "INSERT INTO monitor_state (monitor_id, state_json, probes, last_probe_ms, last_mode, updated_ms)
         VALUES (?1, ?2, ?3, CASE WHEN ?3 = 1 THEN ?4 END, ?5, ?4)
         ON CONFLICT(monitor_id) DO UPDATE SET
            state_json = excluded.state_json,
            probes = monitor_state.probes + excluded.probes,
            last_probe_ms = COALESCE(excluded.last_probe_ms, monitor_state.last_probe_ms),
            last_mode = COALESCE(excluded.last_mode, monitor_state.last_mode),
            updated_ms = excluded.updated_ms",
        params![monitor_id, json, probes, int(now_ms), probed],
    )?;
    Ok(())
}

/// How many probes of the monitor were applied (tests and `--status`).
pub fn probe_count(conn: &Connection, monitor_id: &str) -> rusqlite::Result<u64> {
    let n: Option<i64> = conn
        .query_row(
            "SELECT probes FROM monitor_state WHERE monitor_id = ?1",
            [monitor_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(n.map_or(0, uint))
}

pub fn load_baseline(conn: &Connection, monitor_id: &str) -> rusqlite::Result<Option<Snapshot>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT snapshot_json FROM baselines WHERE monitor_id = ?1",
            [monitor_id],
            |r| r.get(0),
        )
        .optional()?;
    // An unreadable baseline is treated as none: the next tool list replaces it.
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// Records the baseline of a monitor that has none (or an unreadable one);
/// the caller never replaces a readable baseline, so drift is reported
/// against the first tool list until someone deletes its row.
pub fn save_baseline(
    conn: &Connection,
    monitor_id: &str,
    snapshot: &Snapshot,
    now_ms: u64,
) -> rusqlite::Result<()> {
    let json = serde_json::to_string(snapshot)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.execute(
        "INSERT OR REPLACE INTO baselines (monitor_id, hash, snapshot_json, at_ms) VALUES (?1, ?2, ?3, ?4)",
        params![monitor_id, snapshot.hash, json, int(now_ms)],
    )?;
    Ok(())
}

/// Keeps the incidents table in step with an event (as the Worker does).
pub fn record_incident(conn: &Connection, event: &Event) -> rusqlite::Result<()> {
    match &event.kind {
        EventKind::IncidentOpened {
            id,
            mode,
            reason,
            hint,
            started_at_ms,
            ..
        } => {
            conn.execute(
                "INSERT OR IGNORE INTO incidents (id, monitor_id, severity, mode, reason, hint, started_at_ms, opened_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    id,
                    event.monitor_id,
                    event.severity.as_str(),
                    mode.as_str(),
                    reason,
                    hint,
                    int(*started_at_ms),
                    int(event.at_ms)
                ],
            )?;
        }
        EventKind::Escalated { id, .. } => {
            conn.execute(
                "UPDATE incidents SET severity = ?1, escalated_at_ms = ?2 WHERE id = ?3",
                params![event.severity.as_str(), int(event.at_ms), id],
            )?;
        }
        EventKind::IncidentResolved {
            id,
            ended_at_ms,
            duration_ms,
            ..
        } => {
            conn.execute(
                "UPDATE incidents SET resolved_at_ms = ?1, duration_ms = ?2 WHERE id = ?3 AND resolved_at_ms IS NULL",
                params![int(*ended_at_ms), int(*duration_ms), id],
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Marks an incident acknowledged.
pub fn record_ack(conn: &Connection, incident_id: &str, now_ms: u64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE incidents SET acked_at_ms = COALESCE(acked_at_ms, ?1) WHERE id = ?2",
        params![int(now_ms), incident_id],
    )?;
    Ok(())
}

/// The monitor an incident belongs to.
pub fn incident_monitor(conn: &Connection, incident_id: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT monitor_id FROM incidents WHERE id = ?1",
        [incident_id],
        |r| r.get(0),
    )
    .optional()
}

/// Queues one delivery of `event` to `channel_name`; the key makes a replay
/// of the same event a no-op. True if queued now.
pub fn enqueue(
    conn: &Connection,
    event: &Event,
    channel_name: &str,
    channel: &str,
) -> rusqlite::Result<bool> {
    let key = format!(
        "{}:{}:{}:{}",
        event.monitor_id,
        event.kind.code(),
        event.at_ms,
        channel_name
    );
    let json = serde_json::to_string(event)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let n = conn.execute(
        "INSERT OR IGNORE INTO outbox (key, monitor_id, incident_id, event, severity, channel_name, channel, event_json, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            key,
            event.monitor_id,
            alerts::incident_of(event),
            event.kind.code(),
            event.severity.as_str(),
            channel_name,
            channel,
            json,
            int(event.at_ms)
        ],
    )?;
    Ok(n > 0)
}

/// Every delivery still owed, oldest first. A row whose event no longer
/// parses is marked failed (and returned in `broken`) instead of blocking the
/// queue.
pub fn pending(conn: &Connection, now_ms: u64) -> rusqlite::Result<(Vec<OutboxRow>, Vec<String>)> {
    let mut stmt = conn.prepare(
        "SELECT id, monitor_id, channel_name, event_json, attempts FROM outbox WHERE status = 'pending' ORDER BY id",
    )?;
    let raw: Vec<(i64, String, String, String, i64)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut rows = Vec::new();
    let mut broken = Vec::new();
    for (id, monitor_id, channel_name, json, attempts) in raw {
        match serde_json::from_str::<Event>(&json) {
            Ok(event) => rows.push(OutboxRow {
                id,
                monitor_id,
                channel_name,
                event,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            }),
            Err(e) => {
                let error = format!("the stored event is unreadable: {e}");
                finish(conn, id, FAILED, None, Some(&error), now_ms)?;
                broken.push(format!(
                    "outbox row {id} ({monitor_id} to {channel_name}): {error}"
                ));
            }
        }
    }
    Ok((rows, broken))
}

/// Records one attempt (the row stays pending).
pub fn record_attempt(
    conn: &Connection,
    id: i64,
    attempts: u32,
    http_status: Option<u16>,
    error: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE outbox SET attempts = ?1, http_status = ?2, error = ?3 WHERE id = ?4",
        params![attempts, http_status, error, id],
    )?;
    Ok(())
}

/// Closes a row: `delivered` or `failed`.
pub fn finish(
    conn: &Connection,
    id: i64,
    status: &str,
    http_status: Option<u16>,
    error: Option<&str>,
    now_ms: u64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE outbox SET status = ?1, http_status = COALESCE(?2, http_status), error = ?3, done_at_ms = ?4 WHERE id = ?5",
        params![status, http_status, error, int(now_ms), id],
    )?;
    Ok(())
}

/// Deliveries with `status`, newest first, at most `limit`.
pub fn deliveries(
    conn: &Connection,
    status: &str,
    limit: u32,
) -> rusqlite::Result<Vec<DeliveryRecord>> {
    let mut stmt = conn.prepare(
        "SELECT id, monitor_id, incident_id, event, channel_name, status, attempts, http_status, error, at_ms
         FROM outbox WHERE status = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![status, limit], |r| {
            Ok(DeliveryRecord {
                id: r.get(0)?,
                monitor_id: r.get(1)?,
                incident_id: r.get(2)?,
                event: r.get(3)?,
                channel_name: r.get(4)?,
                status: r.get(5)?,
                attempts: u32::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
                http_status: r
                    .get::<_, Option<i64>>(7)?
                    .and_then(|s| u16::try_from(s).ok()),
                error: r.get(8)?,
                at_ms: uint(r.get(9)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Incidents, open ones only when `open_only`, newest first.
pub fn incidents(
    conn: &Connection,
    open_only: bool,
    limit: u32,
) -> rusqlite::Result<Vec<IncidentRecord>> {
    let mut stmt = conn.prepare(
        "SELECT id, monitor_id, severity, mode, reason, started_at_ms, resolved_at_ms FROM incidents
         WHERE (?1 = 0 OR resolved_at_ms IS NULL) ORDER BY started_at_ms DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![i64::from(open_only), limit], |r| {
            Ok(IncidentRecord {
                id: r.get(0)?,
                monitor_id: r.get(1)?,
                severity: r.get(2)?,
                mode: r.get(3)?,
                reason: r.get(4)?,
                started_at_ms: uint(r.get(5)?),
                resolved_at_ms: r.get::<_, Option<i64>>(6)?.map(uint),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_core::verdict::Mode;
    use mcprobe_monitor::policy::{Observation, Policy, PolicyConfig};

    fn opened() -> Event {
        let mut p = Policy::new(PolicyConfig {
            confirm_failures: 1,
            ..PolicyConfig::new("m")
        });
        let mut ev = p.observe(&Observation::of(Mode::ConnectRefused, "refused"), 1_000);
        assert_eq!(ev.len(), 1);
        ev.remove(0)
    }

    #[test]
    fn state_round_trips_and_counts_probes() {
        let mut s = Store::open_in_memory().expect("store");
        let mut p = Policy::new(PolicyConfig::new("m"));
        let _ = p.observe(&Observation::of(Mode::Timeout, "slow"), 5);
        s.with_tx(|c| save_state(c, "m", p.state(), 5, Some("timeout")))
            .expect("saved");
        s.with_tx(|c| save_state(c, "m", p.state(), 6, None))
            .expect("saved");
        let back = load_state(s.conn(), "m").expect("db").expect("parses");
        assert_eq!(back.as_ref(), Some(p.state()));
        assert_eq!(probe_count(s.conn(), "m").expect("db"), 1);
        assert_eq!(load_state(s.conn(), "other").expect("db"), Ok(None));
        s.conn()
            .execute("UPDATE monitor_state SET state_json = 'nope'", [])
            .expect("db");
        assert!(load_state(s.conn(), "m").expect("db").is_err());
    }

    #[test]
    fn the_outbox_queues_once_and_keeps_failures() {
        let mut s = Store::open_in_memory().expect("store");
        let ev = opened();
        let queued = s
            .with_tx(|c| {
                record_incident(c, &ev)?;
                Ok((
                    enqueue(c, &ev, "slack", "slack")?,
                    enqueue(c, &ev, "slack", "slack")?,
                ))
            })
            .expect("tx");
        assert_eq!(queued, (true, false));
        let (rows, broken) = pending(s.conn(), 0).expect("db");
        assert!(broken.is_empty());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].event, ev);
        record_attempt(s.conn(), rows[0].id, 1, Some(500), Some("HTTP 500")).expect("db");
        finish(s.conn(), rows[0].id, FAILED, None, Some("gave up"), 9).expect("db");
        assert!(pending(s.conn(), 0).expect("db").0.is_empty());
        let failed = deliveries(s.conn(), FAILED, 10).expect("db");
        assert_eq!(failed.len(), 1);
        assert_eq!((failed[0].attempts, failed[0].http_status), (1, Some(500)));
        assert_eq!(failed[0].incident_id.as_deref(), Some("m-1000"));
        let open = incidents(s.conn(), true, 10).expect("db");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].mode, "connect_refused");
    }

    #[test]
    fn a_failed_transaction_leaves_nothing_behind() {
        let mut s = Store::open_in_memory().expect("store");
        let ev = opened();
        let r: rusqlite::Result<()> = s.with_tx(|c| {
            enqueue(c, &ev, "webhook", "webhook")?;
            Err(rusqlite::Error::InvalidQuery)
        });
        assert!(r.is_err());
        assert!(pending(s.conn(), 0).expect("db").0.is_empty());
    }
}
