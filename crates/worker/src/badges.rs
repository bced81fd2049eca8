//! Start here: `GET /badge/{id}.svg` and `GET /badge/{id}.json` (a shields.io
//! endpoint). The badge itself is the core's (`mcprobe_monitor::badge`); this
//! module reads the figures ([`crate::figures`]: latest status and
//! mode, 24 h uptime) and sets the caching: `max-age=60`, one cron tick.
//! An unknown id answers a grey "unknown" badge with 404, so an embedded
//! badge still renders something; so does a non-public monitor asked without
//! the admin token (the status route's visibility rule).

use mcprobe_monitor::badge::{self, Badge};
use worker::{Env, Request, Response};

use crate::admin::require_admin;
use crate::clock;
use crate::error::{db_err, internal, ApiError};
use crate::figures::figures;
use crate::rows;
use crate::store::D1Store;

/// `GET /badge/{id}.svg|.json` (the router has checked the method and the
/// id's shape). Badges follow the status route's visibility rule: a public
/// monitor's to anyone, another's only with the admin token; without it a
/// non-public monitor gets the very answer of an unknown id (a grey
/// "unknown" badge, 404), so a badge URL does not even tell that it exists.
pub async fn badge(req: &Request, env: &Env, id: &str, json: bool) -> Result<Response, ApiError> {
    // (visible, cache): a badge only the token holder may see must not
    // sit in a shared cache.
    let (visible, cache) = match rows::load(env, id).await? {
        Some(m) if m.spec.public => (true, "max-age=60"),
        Some(_) if require_admin(req, env).is_ok() => (true, "private, no-store"),
        _ => (false, "max-age=60"),
    };
    let (code, b) = if visible {
        let store = D1Store::from_env(env).map_err(db_err)?;
        let f = figures(&store, id, clock::now_ms()).await?;
        let day = f.uptime.first().and_then(|(_, u)| *u);
        (200, badge::badge_for(f.status, f.mode, day))
    } else {
        (404, badge::badge_for(None, None, None))
    };
    respond(code, &b, json, cache)
}

fn respond(code: u16, b: &Badge, json: bool, cache: &str) -> Result<Response, ApiError> {
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
    let resp = Response::ok(body).map_err(internal)?.with_status(code);
    let h = resp.headers();
    h.set("Content-Type", ctype).map_err(internal)?;
    h.set("Cache-Control", cache).map_err(internal)?;
    Ok(resp)
}
