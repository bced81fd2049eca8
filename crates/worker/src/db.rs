//! Start here: the one store's queries (`mcprobe-store`: alert state,
//! incidents, the outbox) run on D1. The store writes each query once, as a
//! statement with positional parameters and a typed row mapping, and tests
//! them on SQLite; this file is the D1 side of its `Executor` trait, over
//! the Worker's [`Store`] (so every statement is still counted in
//! [`crate::store::counters`] and a batch is still one D1 transaction).

use mcprobe_store::{Executor, Query, Row, Statement, Value};

use crate::store::{Param, Store};

/// The store's executor over the Worker's database access.
pub struct Db<'a, S: Store>(pub &'a S);

fn param(v: &Value) -> Param {
    match v {
        Value::Null => Param::Null,
        Value::Int(n) => Param::Int(*n),
        Value::Text(s) => Param::Text(s.clone()),
    }
}

fn params(stmt: &Statement) -> Vec<Param> {
    stmt.params.iter().map(param).collect()
}

/// One D1 result value as a store value. D1 answers integers as JSON
/// numbers (whole ms since the epoch, far below 2^53).
fn value(v: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Int(i64::from(b)),
        J::Number(n) => Value::Int(
            n.as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .unwrap_or(0),
        ),
        J::String(s) => Value::Text(s),
        other => Value::Text(other.to_string()),
    }
}

/// One D1 result row (a JSON object, columns in select order) as a store row.
fn row(v: serde_json::Value) -> Row {
    match v {
        serde_json::Value::Object(cols) => {
            Row(cols.into_iter().map(|(k, v)| (k, value(v))).collect())
        }
        _ => Row::default(),
    }
}

impl<S: Store> Executor for Db<'_, S> {
    type Error = String;

    async fn execute(&self, stmt: &Statement) -> Result<u64, String> {
        self.0.exec(stmt.sql, &params(stmt)).await
    }

    async fn rows(&self, stmt: &Statement) -> Result<Vec<Row>, String> {
        let rows = self.0.rows(stmt.sql, &params(stmt)).await?;
        Ok(rows.into_iter().map(row).collect())
    }

    async fn batch(&self, stmts: &[Statement]) -> Result<u64, String> {
        let stmts: Vec<(String, Vec<Param>)> = stmts
            .iter()
            .map(|s| (s.sql.to_string(), params(s)))
            .collect();
        self.0.batch(&stmts).await
    }
}

/// A store statement as the Worker's own statement lists hold them (the
/// writer's batches of `(sql, params)`).
pub fn parts(stmt: Statement) -> (&'static str, Vec<Param>) {
    let params = params(&stmt);
    (stmt.sql, params)
}

/// Runs a store query on `store` and maps its rows.
pub async fn fetch<S: Store, T>(store: &S, query: &Query<T>) -> Result<T, String> {
    Db(store).fetch(query).await.map_err(|e| e.to_string())
}

/// Runs a store write on `store`; answers the rows it changed.
pub async fn run<S: Store>(store: &S, stmt: &Statement) -> Result<u64, String> {
    Db(store).execute(stmt).await
}

/// Runs store writes on `store` as one transaction (D1's batch).
pub async fn batch<S: Store>(store: &S, stmts: &[Statement]) -> Result<u64, String> {
    Db(store).batch(stmts).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_d1_row_reads_as_the_store_row_it_is() {
        let r = row(
            json!({"key": "k", "attempts": 2, "http_status": null, "at_ms": 1.7e12, "open": true}),
        );
        assert_eq!(r.text("key"), Ok("k".into()));
        assert_eq!(r.u32("attempts"), Ok(2));
        assert_eq!(r.opt_u16("http_status"), Ok(None));
        assert_eq!(r.u64("at_ms"), Ok(1_700_000_000_000));
        assert_eq!(r.u64("open"), Ok(1));
        assert_eq!(row(json!([1, 2])), Row::default());
    }

    #[test]
    fn store_values_bind_as_d1_params() {
        let stmt = Statement::new(
            "SELECT ?, ?, ?",
            vec![Value::text("a"), Value::int(u64::MAX), Value::Null],
        );
        assert_eq!(
            params(&stmt),
            [Param::text("a"), Param::Int(i64::MAX), Param::Null]
        );
    }
}
