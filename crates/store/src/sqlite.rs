//! The SQLite executor (feature `sqlite`): the file of `mcprobe watch` and
//! the in-memory database of the tests. [`open`] applies the migrations of
//! [`crate::schema`] (the D1 schema) and the watch's own tables, and converts
//! a file written by the watch's former schema (tables `monitor_state` with
//! `state_json`, `incidents` with `opened_at_ms`, `outbox`) into them, in one
//! transaction, keeping every row.
//!
//! The statements run synchronously ([`run`], [`rows`], [`fetch`], [`batch`]
//! on a `Connection`); [`rusqlite::Connection`] also implements the async
//! [`Executor`], whose futures are ready at once ([`ready`] drives them).

use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params_from_iter, Connection, OptionalExtension, ToSql, TransactionBehavior};

use crate::alert_state;
use crate::exec::Executor;
use crate::schema::{MIGRATIONS, MIGRATIONS_TABLE, WATCH_TABLES};
use crate::sql::{Query, Row, RowError, Statement, Value};

/// A failure of a SQLite statement or of the row mapping after it.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("reading a row: {0}")]
    Row(#[from] RowError),
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        // The schema stores no reals; one written by hand reads truncated.
        ValueRef::Real(f) => Value::Int(f as i64),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

/// Runs a write; answers the rows it changed.
pub fn run(c: &Connection, stmt: &Statement) -> rusqlite::Result<u64> {
    let n = c.execute(stmt.sql, params_from_iter(stmt.params.iter()))?;
    Ok(n as u64)
}

/// Runs a read; answers its rows.
pub fn rows(c: &Connection, stmt: &Statement) -> rusqlite::Result<Vec<Row>> {
    let mut prepared = c.prepare(stmt.sql)?;
    let names: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    let mut it = prepared.query(params_from_iter(stmt.params.iter()))?;
    while let Some(r) = it.next()? {
        let mut row = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            row.push((name.clone(), value(r.get_ref(i)?)));
        }
        out.push(Row(row));
    }
    Ok(out)
}

/// Runs a query and maps its rows.
pub fn fetch<T>(c: &Connection, query: &Query<T>) -> Result<T, SqliteError> {
    Ok(query.map(rows(c, &query.stmt)?)?)
}

/// Runs writes all or none (a savepoint, so it nests in a transaction).
pub fn batch(c: &Connection, stmts: &[Statement]) -> rusqlite::Result<u64> {
    c.execute_batch("SAVEPOINT store_batch")?;
    let mut n = 0;
    for stmt in stmts {
        match run(c, stmt) {
            Ok(k) => n += k,
            Err(e) => {
                c.execute_batch("ROLLBACK TO store_batch; RELEASE store_batch")?;
                return Err(e);
            }
        }
    }
    c.execute_batch("RELEASE store_batch")?;
    Ok(n)
}

impl Executor for Connection {
    type Error = rusqlite::Error;

    async fn execute(&self, stmt: &Statement) -> rusqlite::Result<u64> {
        run(self, stmt)
    }

    async fn rows(&self, stmt: &Statement) -> rusqlite::Result<Vec<Row>> {
        rows(self, stmt)
    }

    async fn batch(&self, stmts: &[Statement]) -> rusqlite::Result<u64> {
        batch(self, stmts)
    }
}

/// Drives a future that never waits (this executor's) to its output.
///
/// # Panics
/// If the future is pending: only futures that never wait belong here.
pub fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a SQLite statement never waits"),
    }
}

/// Opens (or creates) a state file for a long-running writer: waits for
/// another process's lock (a `--status` reader) up to 5 s, WAL so readers
/// never block writes, FULL sync so what is owed survives a power cut; then
/// brings the schema up to date.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous=FULL;")?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// A fresh in-memory database with the whole schema (tests).
pub fn open_in_memory() -> rusqlite::Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when it returns
/// `Ok` (immediate: two writers serialise instead of one failing to upgrade
/// its read lock).
pub fn with_tx<T, E: From<rusqlite::Error>>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

fn has_table(c: &Connection, name: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |_| Ok(()),
    )
    .optional()
    .map(|o| o.is_some())
}

/// Applies every migration not applied yet, then the watch's own tables,
/// converting a file of the former watch schema on the way; all in one
/// transaction.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    with_tx(conn, |c| {
        // The former watch schema always had `outbox`; its `monitor_state`
        // and `incidents` would shadow the shared tables of those names.
        let former = has_table(c, "outbox")?;
        if former {
            c.execute_batch(
                "ALTER TABLE monitor_state RENAME TO former_monitor_state;
                 ALTER TABLE incidents RENAME TO former_incidents;
                 ALTER TABLE outbox RENAME TO former_outbox;",
            )?;
        }
        c.execute_batch(MIGRATIONS_TABLE)?;
        for m in MIGRATIONS {
            let done = c
                .query_row(
                    "SELECT 1 FROM d1_migrations WHERE name = ?1",
                    [m.name],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if !done {
                c.execute_batch(m.sql)?;
                c.execute("INSERT INTO d1_migrations (name) VALUES (?1)", [m.name])?;
            }
        }
        c.execute_batch(WATCH_TABLES)?;
        if former {
            convert_former(c)?;
        }
        Ok(())
    })
}

/// Moves the rows of the former watch tables into the shared ones, then
/// drops the former tables. `baselines` kept its name and shape.
fn convert_former(c: &Connection) -> rusqlite::Result<()> {
    let mut former = c.prepare(
        "SELECT monitor_id, state_json, probes, last_probe_ms, last_mode, updated_ms FROM former_monitor_state",
    )?;
    let mut states = former.query([])?;
    while let Some(r) = states.next()? {
        let (monitor_id, state_json): (String, String) = (r.get(0)?, r.get(1)?);
        // Kept as written, even unreadable: the watch logs that and starts
        // afresh, as it did before.
        let open = serde_json::from_str(&state_json)
            .map(|s| !alert_state::steady(&s))
            .unwrap_or(false);
        c.execute(
            "INSERT OR REPLACE INTO alert_state (monitor_id, state_json, open, at_ms) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![monitor_id, state_json, i64::from(open), r.get::<_, i64>(5)?],
        )?;
        c.execute(
            "INSERT OR REPLACE INTO watch_probes (monitor_id, probes, last_probe_ms, last_mode) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                monitor_id,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?
            ],
        )?;
    }
    drop(states);
    drop(former);
    c.execute_batch(
        "INSERT OR IGNORE INTO incidents (id, monitor_id, started_at_ms, announced_at_ms, severity, mode, reason, hint,
                acked_at_ms, escalated_at_ms, resolved_at_ms, duration_ms)
            SELECT id, monitor_id, started_at_ms, opened_at_ms, severity, mode, reason, hint,
                acked_at_ms, escalated_at_ms, resolved_at_ms, duration_ms FROM former_incidents;
         INSERT OR IGNORE INTO deliveries (key, monitor_id, incident_id, event, severity, channel_name, channel,
                at_ms, status, attempts, http_status, error, done_at_ms, event_json, next_at_ms)
            SELECT key, monitor_id, incident_id, event, severity, channel_name, channel,
                at_ms, status, attempts, http_status, error, done_at_ms, event_json, at_ms FROM former_outbox;
         DROP TABLE former_monitor_state;
         DROP TABLE former_incidents;
         DROP TABLE former_outbox;",
    )
}
