//! Start here: `GET /api/monitors/{id}/status` and `GET /metrics`.
//!
//! The status of one monitor is its [`crate::figures`] (uptime per window,
//! latency percentiles, the last verdict); `/metrics` is the OpenMetrics
//! view the cron renders after each tick ([`crate::public_views`]).

use mcprobe_core::{Mode, Status};
use mcprobe_monitor::metrics;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use crate::admin::visible;
use crate::clock;
use crate::error::{db_err, internal, ok_json, ApiError};
use crate::figures::figures;
use crate::public_views;
use crate::store::D1Store;

/// `GET /api/monitors/{id}/status`: public monitors to anyone, the others
/// with the admin token.
pub async fn status(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let m = visible(req, env, id).await?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let f = figures(&store, id, clock::now_ms()).await?;
    let uptime: serde_json::Map<String, Value> = f
        .uptime
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let body = json!({
        "id": m.id,
        "name": m.spec.name,
        "status": f.status.map(Status::as_str),
        "mode": f.mode.map(Mode::as_str),
        "last_check_ms": f.last_check_ms,
        "elapsed_ms": f.last_elapsed_ms,
        "maintenance_until_ms": m.maintenance_until_ms,
        "uptime": uptime,
        "latency_ms": {"p50": f.p50_ms, "p95": f.p95_ms},
        "verdict": f.verdict,
    });
    ok_json(200, body)
}

/// `GET /metrics`: OpenMetrics for the public monitors, from the view the
/// cron renders after each tick ([`crate::public_views`]): one query
/// whatever the number of monitors. Before the first tick: no samples.
pub async fn metrics(env: &Env) -> Result<Response, ApiError> {
    let store = D1Store::from_env(env).map_err(db_err)?;
    let text = public_views::read(&store, public_views::METRICS)
        .await?
        .map(|(text, _)| text)
        .unwrap_or_else(|| metrics::render(&[]));
    let resp = Response::ok(text).map_err(internal)?.with_status(200);
    resp.headers()
        .set("Content-Type", metrics::CONTENT_TYPE)
        .map_err(internal)?;
    resp.headers()
        .set("Cache-Control", "no-store")
        .map_err(internal)?;
    Ok(resp)
}
