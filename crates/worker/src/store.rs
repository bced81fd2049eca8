//! Start here: the Worker's database access, behind the small [`Store`]
//! trait so the rest of the Worker speaks in SQL text and plain parameters
//! (and a test double could stand in for D1). [`D1Store`] is the real one,
//! over the `DB` binding of wrangler.toml.
//!
//! Every write reports how many rows it changed (D1's `meta.changes`), which
//! the cron adds up to measure rows written per probe.
//!
//! Every statement is also counted, with the rows it read (D1's
//! `meta.rows_read`), in this isolate's [`counters`]: the router reports the
//! difference over one request in `X-D1-Queries` / `X-D1-Rows-Read` when
//! the dev-only `D1_QUERY_HEADER` var is "1" (exact while requests do not
//! overlap, as in the tests that read it).

use std::cell::Cell;

use serde_json::Value;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

/// One bound SQL parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Null,
}

impl Param {
    pub fn text(s: impl Into<String>) -> Param {
        Param::Text(s.into())
    }

    /// Times and counts: u64 in the core, i64 in SQLite; saturates rather
    /// than wraps (no real value gets near either limit).
    pub fn int(n: u64) -> Param {
        Param::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    pub fn opt_text(s: Option<&str>) -> Param {
        s.map_or(Param::Null, Param::text)
    }

    fn to_js(&self) -> JsValue {
        match self {
            Param::Text(s) => JsValue::from_str(s),
            // D1 takes JS numbers; ms since the epoch are far below 2^53.
            Param::Int(n) => JsValue::from_f64(*n as f64),
            Param::Null => JsValue::NULL,
        }
    }
}

thread_local! {
    // An isolate is single-threaded: plain cells, no locking.
    static QUERIES: Cell<u64> = const { Cell::new(0) };
    static ROWS_READ: Cell<u64> = const { Cell::new(0) };
}

/// Statements run and rows read (D1's `meta.rows_read`) by this isolate so far.
pub fn counters() -> (u64, u64) {
    (QUERIES.with(Cell::get), ROWS_READ.with(Cell::get))
}

fn count(rows_read: Option<usize>) {
    QUERIES.with(|q| q.set(q.get() + 1));
    ROWS_READ.with(|r| r.set(r.get() + rows_read.unwrap_or(0) as u64));
}

/// The database, as the Worker uses it.
#[allow(async_fn_in_trait)] // one runtime, single-threaded: no Send bound wanted
pub trait Store {
    /// Runs a write; answers the rows it changed.
    async fn exec(&self, sql: &str, params: &[Param]) -> Result<u64, String>;
    /// Runs a query; answers its rows as JSON objects.
    async fn rows(&self, sql: &str, params: &[Param]) -> Result<Vec<Value>, String>;
    /// Runs writes as one transaction (D1's `batch`: all or none applied);
    /// answers the rows they changed in all.
    async fn batch(&self, stmts: &[(String, Vec<Param>)]) -> Result<u64, String>;
}

/// D1 through the `DB` binding.
pub struct D1Store(D1Database);

impl D1Store {
    pub fn from_env(env: &Env) -> Result<D1Store, String> {
        env.d1("DB")
            .map(D1Store)
            .map_err(|e| format!("the D1 binding DB is missing: {e}"))
    }

    /// Runs writes in one D1 batch (one transaction: all or none); answers
    /// the rows they changed.
    pub async fn batch(&self, statements: &[(&str, Vec<Param>)]) -> Result<u64, String> {
        let mut prepared = Vec::with_capacity(statements.len());
        for (sql, params) in statements {
            let args: Vec<JsValue> = params.iter().map(Param::to_js).collect();
            prepared.push(
                self.0
                    .prepare(*sql)
                    .bind(&args)
                    .map_err(|e| format!("binding: {e}"))?,
            );
        }
        let results = self.0.batch(prepared).await.map_err(|e| {
            count(None);
            format!("D1 batch: {e}")
        })?;
        let mut changed = 0u64;
        for res in &results {
            let meta = res.meta().ok().flatten();
            count(meta.as_ref().and_then(|m| m.rows_read));
            changed += meta
                .map(|m| m.rows_written.unwrap_or(0).max(m.changes.unwrap_or(0)))
                .unwrap_or(0) as u64;
        }
        Ok(changed)
    }
}

impl Store for D1Store {
    async fn exec(&self, sql: &str, params: &[Param]) -> Result<u64, String> {
        let args: Vec<JsValue> = params.iter().map(Param::to_js).collect();
        let stmt = self
            .0
            .prepare(sql)
            .bind(&args)
            .map_err(|e| format!("binding: {e}"))?;
        let res = stmt.run().await;
        let res = res.map_err(|e| {
            count(None);
            format!("D1: {e}")
        })?;
        let meta = res.meta().ok().flatten();
        count(meta.as_ref().and_then(|m| m.rows_read));
        if let Some(err) = res.error() {
            return Err(format!("D1: {err}"));
        }
        // rows_written counts index updates too (what D1 bills); changes is
        // the rows themselves. Report the larger, the honest budget figure.
        let n = meta
            .map(|m| m.rows_written.unwrap_or(0).max(m.changes.unwrap_or(0)))
            .unwrap_or(0);
        Ok(n as u64)
    }

    async fn batch(&self, stmts: &[(String, Vec<Param>)]) -> Result<u64, String> {
        let mut prepared = Vec::with_capacity(stmts.len());
        for (sql, params) in stmts {
            let args: Vec<JsValue> = params.iter().map(Param::to_js).collect();
            let stmt = self
                .0
                .prepare(sql)
                .bind(&args)
                .map_err(|e| format!("binding: {e}"))?;
            prepared.push(stmt);
        }
        let results = self
            .0
            .batch(prepared)
            .await
            .map_err(|e| format!("D1 batch: {e}"))?;
        let mut n = 0u64;
        for res in &results {
            if let Some(err) = res.error() {
                return Err(format!("D1 batch: {err}"));
            }
            let meta = res.meta().ok().flatten();
            n += meta
                .map(|m| m.rows_written.unwrap_or(0).max(m.changes.unwrap_or(0)))
                .unwrap_or(0) as u64;
        }
        Ok(n)
    }

    async fn rows(&self, sql: &str, params: &[Param]) -> Result<Vec<Value>, String> {
        let args: Vec<JsValue> = params.iter().map(Param::to_js).collect();
        let stmt = self
            .0
            .prepare(sql)
            .bind(&args)
            .map_err(|e| format!("binding: {e}"))?;
        let res = stmt.all().await.map_err(|e| {
            count(None);
            format!("D1: {e}")
        })?;
        count(res.meta().ok().flatten().and_then(|m| m.rows_read));
        res.results::<Value>().map_err(|e| format!("D1 rows: {e}"))
    }
}

/// A text column of a row (empty when absent or not text).
pub fn col_str<'a>(row: &'a Value, name: &str) -> &'a str {
    row.get(name).and_then(Value::as_str).unwrap_or("")
}

/// An integer column of a row (D1 returns numbers as JSON numbers).
pub fn col_u64(row: &Value, name: &str) -> Option<u64> {
    let v = row.get(name)?;
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}
