//! Start here: `GET /api/debug/writes` (token): what this isolate wrote and
//! what the history tables hold. How the edge tests and the load bench see
//! what a tick wrote, and that overlapping runs wrote each row once.

use serde_json::{json, Value};
use worker::{Env, Request, Response};

use crate::admin::require_admin;
use crate::error::{db_err, ok_json, ApiError};
use crate::state::{per_probe, write_stats};
use crate::store::{col_str, col_u64, D1Store, Store};

/// `GET /api/debug/writes` (token): the isolate's write counts and the row
/// counts of every history table (how the tests and the load bench see what
/// a tick wrote, and that overlapping runs wrote each row once).
pub async fn writes(req: &Request, env: &Env) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let mut tables = serde_json::Map::new();
    for t in [
        "monitor_state",
        "state_changes",
        "drift_events",
        "snapshots",
        "rollups",
        "ticks",
    ] {
        let rows = store
            .rows(&format!("SELECT COUNT(*) AS n FROM {t}"), &[])
            .await
            .map_err(db_err)?;
        let n = rows.first().and_then(|r| col_u64(r, "n")).unwrap_or(0);
        tables.insert(t.to_string(), json!(n));
    }
    let kinds: serde_json::Map<String, Value> = store
        .rows("SELECT kind, COUNT(*) AS n FROM rollups GROUP BY kind", &[])
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            (
                col_str(r, "kind").to_string(),
                json!(col_u64(r, "n").unwrap_or(0)),
            )
        })
        .collect();
    let s = write_stats();
    let body = json!({
        "rollup_kinds": kinds,
        "runs": s.runs,
        "messages": s.messages,
        "probes": s.probes,
        "statements": s.statements,
        "rows_written": s.rows_written,
        "rows_per_probe": per_probe(s.rows_written, s.probes),
        "last_run": {"probes": s.last_run_probes, "rows_written": s.last_run_rows},
        "tables": tables,
    });
    ok_json(200, body)
}
