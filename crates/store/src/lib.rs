//! mcprobe-store: one store for what watching remembers.
//!
//! Start here. The schema is the numbered files of `migrations/` (the D1
//! schema, [`schema`]); the queries over it are written once, each a
//! [`sql::Statement`] (SQL with positional parameters) or a [`sql::Query`]
//! (a statement and the mapping of its rows into typed rows), one module per
//! table:
//!
//! - [`alert_state`] - each monitor's alert policy state
//! - [`incidents`] - incidents opened, escalated, acknowledged, resolved
//! - [`deliveries`] - the alert outbox: enqueue, claim, settle, sweep
//! - [`drift`] - drift events: recorded once per key, listed, counted
//! - [`watch`] - what only `mcprobe watch` keeps: probe counts, baselines
//!
//! Nothing here does I/O. A host runs the statements through the small
//! [`exec::Executor`] trait: D1 in the Worker (`crates/worker/src/db.rs`),
//! SQLite in `mcprobe watch` ([`sqlite`], feature `sqlite`, which also
//! applies the migrations to a file). The tests (`tests/`) run every query
//! against in-memory SQLite with the real migrations applied.

pub mod alert_state;
pub mod deliveries;
pub mod drift;
pub mod exec;
pub mod incidents;
pub mod schema;
pub mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod watch;

pub use exec::{Error, Executor};
pub use sql::{Query, Row, RowError, Statement, Value};
