//! Start here: the SQLite file of `mcprobe watch`, everything a restart must
//! not forget. The schema and every query are the one store's
//! (`mcprobe-store`, the same tables the Worker writes in D1); this file only
//! names what the watch does with them:
//!
//! - `alert_state`: each monitor's [`PolicyState`] as JSON (open incident,
//!   streaks, pending re-probes, held digest items), and `watch_probes`, a
//!   probe counter;
//! - `baselines`: the first tool list seen per monitor (a fingerprint
//!   [`Snapshot`]), which later probes are compared with for drift;
//! - `incidents`: one row per incident, opened / escalated / resolved;
//! - `deliveries` (the outbox): one row per (event, channel), `pending` until
//!   it is `delivered` or finally `failed`, with attempts, last HTTP status
//!   and error.
//!
//! The new policy state, its incidents and its outbox rows are written in
//! ONE transaction ([`Store::with_tx`], `BEGIN IMMEDIATE`), so a crash either
//! forgets the probe entirely or remembers it together with the pages it
//! owes; pending rows are sent on restart, delivered ones never again.
//!
//! The outbox stores the event (JSON) and the channel's name, not the request:
//! the request is rebuilt from the config when it is sent, so no routing key,
//! API key or webhook URL is ever written to this file.
//!
//! A file written before the one store (the watch's own former tables) is
//! converted when opened, keeping every row (`mcprobe_store::sqlite`).

use std::path::Path;

use mcprobe_core::fingerprint::Snapshot;
use mcprobe_monitor::policy::{Event, PolicyState};
use mcprobe_store::sqlite::{self, fetch, run};
use mcprobe_store::{alert_state, deliveries, incidents, watch, RowError};
use rusqlite::Connection;

pub use mcprobe_store::deliveries::{Done, Record as DeliveryRecord, FAILED, PENDING};
pub use mcprobe_store::incidents::Incident as IncidentRecord;
pub use mcprobe_store::sqlite::SqliteError;

/// What a statement of the state file answers.
pub type Result<T> = std::result::Result<T, SqliteError>;

/// The open state file.
pub struct Store {
    conn: Connection,
}

/// A delivery still owed.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub key: String,
    pub monitor_id: String,
    pub channel_name: String,
    pub event: Event,
    pub attempts: u32,
}

impl Store {
    /// Opens (or creates) the state file, bringing its schema up to date.
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        Ok(Store {
            conn: sqlite::open(path)?,
        })
    }

    pub fn open_in_memory() -> rusqlite::Result<Store> {
        Ok(Store {
            conn: sqlite::open_in_memory()?,
        })
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when it
    /// returns `Ok`.
    pub fn with_tx<T>(&mut self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        sqlite::with_tx(&mut self.conn, f)
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// The monitor's persisted policy state. A row that no longer parses (a
/// hand-edited file, an older format) starts over rather than stopping the
/// daemon; the caller logs it.
pub fn load_state(
    c: &Connection,
    monitor_id: &str,
) -> Result<std::result::Result<Option<PolicyState>, String>> {
    match fetch(c, &alert_state::load(monitor_id)) {
        Ok(state) => Ok(Ok(state)),
        Err(SqliteError::Row(e @ RowError::Json { .. })) => Ok(Err(format!(
            "the stored policy state of {monitor_id} is unreadable ({e}); starting afresh"
        ))),
        Err(e) => Err(e),
    }
}

/// Saves a monitor's state; `probed` (the probe's mode) counts a probe.
pub fn save_state(
    c: &Connection,
    monitor_id: &str,
    state: &PolicyState,
    now_ms: u64,
    probed: Option<&str>,
) -> Result<()> {
    run(c, &alert_state::save(monitor_id, state, now_ms))?;
    if let Some(mode) = probed {
        run(c, &watch::count_probe(monitor_id, mode, now_ms))?;
    }
    Ok(())
}

/// How many probes of the monitor were applied (tests and `--status`).
pub fn probe_count(c: &Connection, monitor_id: &str) -> Result<u64> {
    fetch(c, &watch::probe_count(monitor_id))
}

pub fn load_baseline(c: &Connection, monitor_id: &str) -> Result<Option<Snapshot>> {
    fetch(c, &watch::baseline(monitor_id))
}

/// Records the baseline of a monitor that has none (or an unreadable one);
/// the caller never replaces a readable baseline, so drift is reported
/// against the first tool list until someone forgets it.
pub fn save_baseline(
    c: &Connection,
    monitor_id: &str,
    snapshot: &Snapshot,
    now_ms: u64,
) -> Result<()> {
    run(c, &watch::save_baseline(monitor_id, snapshot, now_ms))?;
    Ok(())
}

/// Forgets a monitor's baseline; true if it had one.
pub fn forget_baseline(c: &Connection, monitor_id: &str) -> Result<bool> {
    Ok(run(c, &watch::forget_baseline(monitor_id))? > 0)
}

/// Keeps the incidents table in step with an event (as the Worker does).
pub fn record_incident(c: &Connection, event: &Event) -> Result<()> {
    if let Some(stmt) = incidents::record(event) {
        run(c, &stmt)?;
    }
    Ok(())
}

/// Marks an incident acknowledged.
pub fn record_ack(c: &Connection, incident_id: &str, now_ms: u64) -> Result<()> {
    run(c, &incidents::ack(incident_id, now_ms))?;
    Ok(())
}

/// The monitor an incident belongs to.
pub fn incident_monitor(c: &Connection, incident_id: &str) -> Result<Option<String>> {
    Ok(fetch(c, &incidents::get(incident_id))?.map(|i| i.monitor_id))
}

/// Queues one delivery of `event` to `channel_name`; the key makes a replay
/// of the same event a no-op. True if queued now.
pub fn enqueue(c: &Connection, event: &Event, channel_name: &str, channel: &str) -> Result<bool> {
    // Due at the event's time: the watch sends every pending row anyway.
    let stmt = deliveries::enqueue(event, channel_name, channel, event.at_ms);
    Ok(run(c, &stmt)? > 0)
}

/// Every delivery still owed, oldest first. A row whose event no longer
/// parses is marked failed (and returned in `broken`) instead of blocking the
/// queue.
pub fn pending(c: &Connection, now_ms: u64) -> Result<(Vec<OutboxRow>, Vec<String>)> {
    let mut rows = Vec::new();
    let mut broken = Vec::new();
    for due in fetch(c, &deliveries::pending())? {
        match due.event() {
            Ok(event) => rows.push(OutboxRow {
                key: due.key,
                monitor_id: due.monitor_id,
                channel_name: due.channel_name,
                event,
                attempts: due.attempts,
            }),
            Err(error) => {
                finish(c, &due.key, Done::Failed, None, Some(&error), now_ms)?;
                broken.push(format!(
                    "outbox row {} ({} to {}): {error}",
                    due.key, due.monitor_id, due.channel_name
                ));
            }
        }
    }
    Ok((rows, broken))
}

/// Records one attempt (the row stays pending).
pub fn record_attempt(
    c: &Connection,
    key: &str,
    attempts: u32,
    http_status: Option<u16>,
    error: Option<&str>,
) -> Result<()> {
    run(
        c,
        &deliveries::record_attempt(key, attempts, http_status, error),
    )?;
    Ok(())
}

/// Closes a row: delivered or failed.
pub fn finish(
    c: &Connection,
    key: &str,
    done: Done,
    http_status: Option<u16>,
    error: Option<&str>,
    now_ms: u64,
) -> Result<()> {
    run(
        c,
        &deliveries::finish(key, done, http_status, error, now_ms),
    )?;
    Ok(())
}

/// Deliveries with `status`, newest first, at most `limit`.
pub fn deliveries(c: &Connection, status: &str, limit: u64) -> Result<Vec<DeliveryRecord>> {
    fetch(c, &deliveries::with_status(status, limit))
}

/// Incidents, open ones only when `open_only`, newest first.
pub fn incidents(c: &Connection, open_only: bool, limit: u64) -> Result<Vec<IncidentRecord>> {
    fetch(c, &incidents::list(open_only, limit))
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
            .execute("UPDATE alert_state SET state_json = 'nope'", [])
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
        record_attempt(s.conn(), &rows[0].key, 1, Some(500), Some("HTTP 500")).expect("db");
        finish(
            s.conn(),
            &rows[0].key,
            Done::Failed,
            None,
            Some("gave up"),
            9,
        )
        .expect("db");
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
        let r: Result<()> = s.with_tx(|c| {
            enqueue(c, &ev, "webhook", "webhook")?;
            Err(rusqlite::Error::InvalidQuery.into())
        });
        assert!(r.is_err());
        assert!(pending(s.conn(), 0).expect("db").0.is_empty());
    }

    #[test]
    fn an_unreadable_outbox_row_is_failed_not_blocking() {
        let mut s = Store::open_in_memory().expect("store");
        let ev = opened();
        s.with_tx(|c| enqueue(c, &ev, "slack", "slack"))
            .expect("tx");
        s.conn()
            .execute("UPDATE deliveries SET event_json = 'nope'", [])
            .expect("db");
        let (rows, broken) = pending(s.conn(), 7).expect("db");
        assert!(rows.is_empty());
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert_eq!(deliveries(s.conn(), FAILED, 10).expect("db").len(), 1);
    }

    /// A state file of the watch's former schema (its own CREATE TABLEs)
    /// opens through `Store::open` with its state, incidents and pending
    /// deliveries (the conversion itself is tested in mcprobe-store).
    #[test]
    fn a_former_state_file_keeps_its_state_and_incidents() {
        let dir = std::env::temp_dir().join(format!("mcprobe-watch-former-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("state.sqlite");
        let _ = std::fs::remove_file(&path);
        let ev = opened();
        let mut p = Policy::new(PolicyConfig {
            confirm_failures: 1,
            ..PolicyConfig::new("m")
        });
        let _ = p.observe(&Observation::of(Mode::ConnectRefused, "refused"), 1_000);
        {
            let c = Connection::open(&path).expect("file");
            c.execute_batch(
                "CREATE TABLE monitor_state (monitor_id TEXT PRIMARY KEY, state_json TEXT NOT NULL,
                    probes INTEGER NOT NULL DEFAULT 0, last_probe_ms INTEGER, last_mode TEXT, updated_ms INTEGER NOT NULL);
                 CREATE TABLE baselines (monitor_id TEXT PRIMARY KEY, hash TEXT NOT NULL,
                    snapshot_json TEXT NOT NULL, at_ms INTEGER NOT NULL);
                 CREATE TABLE incidents (id TEXT PRIMARY KEY, monitor_id TEXT NOT NULL, severity TEXT NOT NULL,
                    mode TEXT NOT NULL, reason TEXT NOT NULL, hint TEXT NOT NULL, started_at_ms INTEGER NOT NULL,
                    opened_at_ms INTEGER NOT NULL, escalated_at_ms INTEGER, acked_at_ms INTEGER,
                    resolved_at_ms INTEGER, duration_ms INTEGER);
                 CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
                    monitor_id TEXT NOT NULL, incident_id TEXT, event TEXT NOT NULL, severity TEXT NOT NULL,
                    channel_name TEXT NOT NULL, channel TEXT NOT NULL, event_json TEXT NOT NULL,
                    at_ms INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
                    http_status INTEGER, error TEXT, done_at_ms INTEGER);
                 CREATE INDEX outbox_status ON outbox (status);",
            )
            .expect("former schema");
            c.execute(
                "INSERT INTO monitor_state (monitor_id, state_json, probes, last_probe_ms, last_mode, updated_ms)
                 VALUES ('m', ?1, 2, 1000, 'connect_refused', 1000)",
                [serde_json::to_string(p.state()).expect("json")],
            )
            .expect("state");
            c.execute(
                "INSERT INTO incidents (id, monitor_id, severity, mode, reason, hint, started_at_ms, opened_at_ms)
                 VALUES ('m-1000', 'm', 'P1', 'connect_refused', 'refused', 'hint', 1000, 1000)",
                [],
            )
            .expect("incident");
            c.execute(
                "INSERT INTO outbox (key, monitor_id, incident_id, event, severity, channel_name, channel, event_json, at_ms)
                 VALUES ('m:incident_opened:1000:slack', 'm', 'm-1000', 'incident_opened', 'P1', 'slack', 'slack', ?1, 1000)",
                [serde_json::to_string(&ev).expect("json")],
            )
            .expect("outbox");
        }
        let s = Store::open(&path).expect("opens");
        let state = load_state(s.conn(), "m").expect("db").expect("parses");
        assert_eq!(state.as_ref(), Some(p.state()));
        assert_eq!(probe_count(s.conn(), "m").expect("db"), 2);
        assert_eq!(
            incident_monitor(s.conn(), "m-1000").expect("db").as_deref(),
            Some("m")
        );
        assert_eq!(incidents(s.conn(), true, 10).expect("db").len(), 1);
        let (rows, _) = pending(s.conn(), 0).expect("db");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].event, ev);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
