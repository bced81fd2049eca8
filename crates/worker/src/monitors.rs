//! Start here: the monitor registry routes. The rules of what a monitor may
//! be are the core's (`mcprobe_monitor::monitor`: validate_new, apply_patch,
//! maintenance_until); this module adds the Worker's address policy
//! ([`crate::target`]), the admin token and the D1 rows.
//!
//! - `POST /api/monitors` (token) -> 201 `{"id"}`
//! - `GET /api/monitors` -> the public monitors, no token, no header values
//! - `GET|PATCH|DELETE /api/monitors/{id}` (token); DELETE retires the row
//!   (history keeps pointing at it) and answers 204
//! - `POST /api/monitors/{id}/maintenance` `{"minutes"}` (token)
//! - `POST /api/monitors/{id}/baseline` (token): accept the tool list last
//!   seen as the baseline drift is judged against (409 before any)
//! - `GET /api/monitors/{id}/status` is [`crate::status`]'s, the history,
//!   incidents and drift [`crate::history`]'s (the router sends them there).
//!
//! The admin check is [`crate::admin`]'s; the row model and its loaders are
//! [`crate::rows`]'.

use mcprobe_monitor::monitor::{self, MonitorSpec};
use serde_json::{json, Value};
use worker::{Env, Method, Request, Response};

use crate::admin::require_admin;
use crate::error::{core_err, db_err, internal, ok_json, ApiError};
use crate::request::read_capped;
use crate::routes::Id;
use crate::rows::{self, not_found, Monitor, SELECT};
use crate::state;
use crate::store::{D1Store, Param, Store};
use crate::target::Policy;

/// Largest monitor body read.
const MAX_BODY: usize = 32 * 1024;

/// `/api/monitors`: the public list (GET) or a new monitor (POST, token).
pub async fn collection(req: Request, env: &Env) -> Result<Response, ApiError> {
    match req.method() {
        Method::Post => create(req, env).await,
        _ => list_public(&req, env).await,
    }
}

/// `/api/monitors/{id}` (token, checked by the router and again here).
pub async fn one(req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    match req.method() {
        Method::Patch => patch(req, env, id).await,
        Method::Delete => {
            let store = D1Store::from_env(env).map_err(db_err)?;
            let n = store
                .exec(
                    "UPDATE monitors SET retired_at_ms = ? WHERE id = ? AND retired_at_ms IS NULL",
                    &[Param::int(crate::clock::now_ms()), Param::text(id)],
                )
                .await
                .map_err(db_err)?;
            if n == 0 {
                return Err(not_found(id));
            }
            Response::empty()
                .map(|r| r.with_status(204))
                .map_err(internal)
        }
        _ => {
            let m = rows::one(env, id).await?;
            ok_json(200, m.admin_json())
        }
    }
}

async fn read_json(req: &mut Request) -> Result<Value, ApiError> {
    let body = read_capped(req, MAX_BODY).await?;
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            400,
            format!("the body is not JSON ({e})"),
            "send a JSON object",
        )
    })
}

/// The core checks the URL's shape; the Worker adds where it may point.
fn check_target(url: &str, env: &Env) -> Result<(), ApiError> {
    let parsed = url::Url::parse(url).map_err(|e| {
        ApiError::new(
            400,
            format!("\"url\" is not a URL ({e})"),
            "give the server's full endpoint",
        )
    })?;
    Policy::from_env(env)
        .check(&parsed)
        .map_err(|r| ApiError::new(r.status(), r.describe(), r.hint()))
}

async fn create(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let body = read_json(&mut req).await?;
    let spec = monitor::validate_new(&body).map_err(core_err)?;
    check_target(&spec.url, env)?;
    let id = new_id();
    let store = D1Store::from_env(env).map_err(db_err)?;
    store
        .exec(
            "INSERT INTO monitors (id, url, name, interval_s, public, runbook_url, headers_json, alerts_json, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &spec_params(&id, &spec, crate::clock::now_ms()),
        )
        .await
        .map_err(db_err)?;
    ok_json(201, json!({ "id": id }))
}

/// The `alerts_json` column: the object as the user wrote it.
fn alerts_json(spec: &MonitorSpec) -> String {
    serde_json::to_string(&spec.alerts).unwrap_or_else(|_| "{}".into())
}

fn spec_params(id: &str, spec: &MonitorSpec, now_ms: u64) -> Vec<Param> {
    vec![
        Param::text(id),
        Param::text(&spec.url),
        Param::text(&spec.name),
        Param::int(u64::from(spec.interval_s)),
        Param::int(u64::from(spec.public)),
        Param::opt_text(spec.runbook_url.as_deref()),
        Param::text(serde_json::to_string(&spec.headers).unwrap_or_else(|_| "{}".into())),
        Param::text(alerts_json(spec)),
        Param::int(now_ms),
    ]
}

async fn patch(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let body = read_json(&mut req).await?;
    let m = rows::one(env, id).await?;
    let spec = monitor::apply_patch(&m.spec, &body).map_err(core_err)?;
    check_target(&spec.url, env)?;
    // A patch that does not send "alerts" keeps an unreadable stored config
    // as it is (still reported) rather than overwriting it with nothing.
    let alerts_unreadable = match body.get("alerts") {
        None => m.alerts_unreadable.clone(),
        Some(_) => None,
    };
    let alerts = match &alerts_unreadable {
        Some(bad) => bad.stored.clone(),
        None => alerts_json(&spec),
    };
    let store = D1Store::from_env(env).map_err(db_err)?;
    store
        .exec(
            "UPDATE monitors SET url = ?, name = ?, interval_s = ?, public = ?, runbook_url = ?, headers_json = ?, alerts_json = ? WHERE id = ? AND retired_at_ms IS NULL",
            &[
                Param::text(&spec.url),
                Param::text(&spec.name),
                Param::int(u64::from(spec.interval_s)),
                Param::int(u64::from(spec.public)),
                Param::opt_text(spec.runbook_url.as_deref()),
                Param::text(serde_json::to_string(&spec.headers).unwrap_or_else(|_| "{}".into())),
                Param::text(alerts),
                Param::text(id),
            ],
        )
        .await
        .map_err(db_err)?;
    let m = Monitor {
        spec,
        alerts_unreadable,
        ..m
    };
    ok_json(200, m.admin_json())
}

pub async fn maintenance(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let body = read_json(&mut req).await?;
    let minutes = body.get("minutes").cloned().unwrap_or(Value::Null);
    let until = monitor::maintenance_until(crate::clock::now_ms(), &minutes).map_err(core_err)?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let n = store
        .exec(
            "UPDATE monitors SET maintenance_until_ms = ? WHERE id = ? AND retired_at_ms IS NULL",
            &[Param::int(until), Param::text(id)],
        )
        .await
        .map_err(db_err)?;
    if n == 0 {
        return Err(not_found(id));
    }
    ok_json(200, json!({ "id": id, "maintenance_until_ms": until }))
}

/// `POST /api/monitors/{id}/baseline` (token): accepts the tool list last
/// seen as the one drift is judged against. 409 before any tool list.
pub async fn baseline(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let m = rows::one(env, id).await?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let mut seen = state::last_hash(state::accumulator(id).as_ref());
    if seen.is_none() {
        let rows = store
            .rows(
                "SELECT tools_hash FROM monitor_state WHERE monitor_id = ?",
                &[Param::text(id)],
            )
            .await
            .map_err(db_err)?;
        seen = rows
            .first()
            .and_then(|r| r.get("tools_hash"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let Some(hash) = seen else {
        return Err(ApiError::new(
            409,
            "no tool list has been seen for this monitor yet",
            "wait for a probe that lists tools (see GET /api/monitors/{id}/status), then accept it",
        ));
    };
    store
        .exec(
            "UPDATE monitors SET baseline_hash = ? WHERE id = ?",
            &[Param::text(&hash), Param::text(id)],
        )
        .await
        .map_err(db_err)?;
    ok_json(
        200,
        json!({"id": id, "baseline_hash": hash, "previous": m.baseline_hash}),
    )
}

/// Monitors in one page of `GET /api/monitors` when `limit` is not given.
pub const DEFAULT_PAGE: usize = 100;
/// The most a page holds (`?limit=` above it is a 400).
pub const MAX_PAGE: usize = 500;

/// What `GET /api/monitors` asked for, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// `api` or `registry`; `None`: both.
    pub source: Option<String>,
    pub limit: usize,
    /// The `next_cursor` of the page before: the last id it listed.
    pub after: Option<String>,
}

/// Parses `?source=&limit=&cursor=` (pure, host-tested): unknown sources,
/// limits outside 1..=[`MAX_PAGE`] and cursors that cannot be an id are 400.
pub fn parse_list_query<'a>(
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) -> Result<ListQuery, ApiError> {
    let mut q = ListQuery {
        source: None,
        limit: DEFAULT_PAGE,
        after: None,
    };
    for (k, v) in pairs {
        match k.as_ref() {
            "source" if q.source.is_none() => {
                if v != "api" && v != "registry" {
                    return Err(ApiError::new(
                        400,
                        "unknown source",
                        "use ?source=api or ?source=registry, or leave it out for all",
                    ));
                }
                q.source = Some(v.into_owned());
            }
            "limit" => {
                q.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| {
                        ApiError::new(
                            400,
                            "limit must be a whole number from 1 to 500",
                            format!("leave it out for {DEFAULT_PAGE} a page"),
                        )
                    })?;
            }
            "cursor" => {
                let id = Id::parse(&v).ok_or_else(|| {
                    ApiError::new(
                        400,
                        "the cursor is not one this API gave",
                        "pass the next_cursor of the page before, or leave it out for the first page",
                    )
                })?;
                q.after = Some(id.as_str().to_string());
            }
            _ => {}
        }
    }
    Ok(q)
}

/// `GET /api/monitors[?source=api|registry][&limit=N][&cursor=C]`: the
/// public monitors by id, one page at a time (`next_cursor` is null on the
/// last page). One query whatever the number of monitors: the partial
/// indexes of migration 0006 hold the public live ids, so the page is read
/// by an index range, [`MAX_PAGE`] + 1 rows at most.
async fn list_public(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let url = req.url().map_err(internal)?;
    let q = parse_list_query(url.query_pairs())?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let mut sql = format!("{SELECT} AND public = 1");
    let mut params = Vec::new();
    if let Some(s) = &q.source {
        sql.push_str(" AND source = ?");
        params.push(Param::text(s));
    }
    if let Some(after) = &q.after {
        sql.push_str(" AND id > ?");
        params.push(Param::text(after));
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    params.push(Param::int(q.limit as u64 + 1));
    let rows = store.rows(&sql, &params).await.map_err(db_err)?;
    let more = rows.len() > q.limit;
    let page: Vec<Monitor> = rows
        .iter()
        .take(q.limit)
        .filter_map(rows::from_row)
        .collect();
    let next = more.then(|| page.last().map(|m| m.id.clone())).flatten();
    let list: Vec<Value> = page.iter().map(Monitor::public_json).collect();
    ok_json(200, json!({ "monitors": list, "next_cursor": next }))
}

/// A fresh id: 12 hex digits (48 bits) from Math.random. Ids are public in
/// badge URLs and guard nothing (every admin route needs the token); they
/// only need to be unique, and a collision fails the INSERT (a 503, retry).
fn new_id() -> String {
    let mut out = String::with_capacity(12);
    for _ in 0..12 {
        let d = (js_sys::Math::random() * 16.0) as u32 % 16;
        out.push(char::from_digit(d, 16).unwrap_or('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> Result<ListQuery, ApiError> {
        let url = url::Url::parse(&format!("http://h/api/monitors?{q}")).expect("a URL");
        parse_list_query(url.query_pairs())
    }

    #[test]
    fn the_list_query_pages_with_a_cap() {
        let q = query("").expect("ok");
        assert_eq!((q.limit, q.after, q.source), (DEFAULT_PAGE, None, None));
        let q = query("source=registry&limit=500&cursor=r0123abc").expect("ok");
        assert_eq!(q.limit, 500);
        assert_eq!(q.after.as_deref(), Some("r0123abc"));
        assert_eq!(q.source.as_deref(), Some("registry"));
        for bad in [
            "limit=0",
            "limit=501",
            "limit=-1",
            "limit=99999999999999999999999",
            "limit=ten",
            "cursor=a%2Fb",
            "cursor=",
            "source=nope",
        ] {
            assert_eq!(query(bad).map_err(|e| e.status), Err(400), "{bad}");
        }
    }
}
