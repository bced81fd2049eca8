//! The host's side: a small [`Executor`] trait that runs [`Statement`]s. Two
//! hosts implement it: D1 in the Worker (`crates/worker/src/db.rs`) and
//! SQLite for `mcprobe watch` and the tests ([`crate::sqlite`], feature
//! `sqlite`). Async because D1 is; no `Send` bound, since the Worker's
//! runtime is single-threaded (and SQLite's futures are ready at once).

use crate::sql::{Query, Row, RowError, Statement};

/// A failure to run a query or to read what it answered.
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// The database refused or failed the statement.
    #[error("{0}")]
    Db(E),
    /// The rows did not have the shape the query promised.
    #[error("reading a row: {0}")]
    Row(#[from] RowError),
}

/// Runs statements against one database.
#[allow(async_fn_in_trait)] // single-threaded hosts: no Send bound wanted
pub trait Executor {
    type Error;

    /// Runs a write; answers the rows it changed.
    async fn execute(&self, stmt: &Statement) -> Result<u64, Self::Error>;

    /// Runs a read; answers its rows.
    async fn rows(&self, stmt: &Statement) -> Result<Vec<Row>, Self::Error>;

    /// Runs writes as one transaction (all or none applied); answers the
    /// rows they changed in all.
    async fn batch(&self, stmts: &[Statement]) -> Result<u64, Self::Error>;

    /// Runs a query and maps its rows.
    async fn fetch<T>(&self, query: &Query<T>) -> Result<T, Error<Self::Error>> {
        let rows = self.rows(&query.stmt).await.map_err(Error::Db)?;
        Ok(query.map(rows)?)
    }
}
