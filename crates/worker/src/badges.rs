//! Start here: `GET /badge/{id}.svg` and `GET /badge/{id}.json` (a shields.io
//! endpoint). The badge itself is the core's (`mcprobe_core::badge`); this
//! module reads the figures ([`crate::status::figures`]: latest status and
//! mode, 24 h uptime) and sets the caching: `max-age=60`, one cron tick.
//! An unknown id answers a grey "unknown" badge with 404, so an embedded
//! badge still renders something.

use mcprobe_core::badge::{self, Badge};
use worker::{Env, Request, Response};

use crate::api::{self, ApiError};
use crate::monitors::{self, db_err};
use crate::probe_host;
use crate::status;
use crate::store::D1Store;

/// Routes `/badge/...`.
pub async fn route(req: &Request, env: &Env, path: &str) -> Result<Response, ApiError> {
    if req.method() != worker::Method::Get && req.method() != worker::Method::Head {
        return Err(ApiError::method_not_allowed(&req.method(), "GET"));
    }
    let name = path.trim_start_matches("/badge/");
    let (id, json) = if let Some(id) = name.strip_suffix(".svg") {
        (id, false)
    } else if let Some(id) = name.strip_suffix(".json") {
        (id, true)
    } else {
        return Err(ApiError::new(
            404,
            format!("no route {path}"),
            "use /badge/{id}.svg or /badge/{id}.json",
        ));
    };
    let (code, b) = match monitors::load(env, id).await? {
        None => (404, badge::badge_for(None, None, None)),
        Some(_) => {
            let store = D1Store::from_env(env).map_err(db_err)?;
            let f = status::figures(&store, id, probe_host::now_ms()).await?;
            let day = f.uptime.first().and_then(|(_, u)| *u);
            (200, badge::badge_for(f.status, f.mode, day))
        }
    };
    respond(code, &b, json)
}

fn respond(code: u16, b: &Badge, json: bool) -> Result<Response, ApiError> {
    let (body, ctype) = if json {
        (
            serde_json::to_string(&b.shields()).map_err(|e| {
                ApiError::new(500, format!("badge JSON: {e}"), "report this as a bug")
            })?,
            "application/json; charset=utf-8",
        )
    } else {
        (b.svg(), "image/svg+xml; charset=utf-8")
    };
    let resp = Response::ok(body).map_err(api::internal)?.with_status(code);
    let h = resp.headers();
    h.set("Content-Type", ctype).map_err(api::internal)?;
    h.set("Cache-Control", "max-age=60")
        .map_err(api::internal)?;
    Ok(resp)
}
