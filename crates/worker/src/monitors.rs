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
//! - `GET /api/monitors/{id}/status` is [`crate::status`]'s.
//!
//! The token is the `ADMIN_TOKEN` secret (`.dev.vars` under wrangler dev). A
//! Worker without it refuses every admin call (fails closed).

use std::collections::BTreeMap;

use mcprobe_monitor::alerts::UnreadableAlerts;
use mcprobe_monitor::error::ValidationError;
use mcprobe_monitor::monitor::{self, MonitorSpec};
use serde_json::{json, Value};
use worker::{Env, Method, Request, Response};

use crate::api::{self, ApiError, ALLOW_LOOPBACK_VAR};
use crate::routes::{Id, Part};
use crate::store::{col_str, col_u64, D1Store, Param, Store};
use crate::target::Policy;

/// The secret holding the admin token.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
/// Largest monitor body read.
const MAX_BODY: usize = 32 * 1024;

/// A stored monitor.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub id: String,
    pub spec: MonitorSpec,
    pub maintenance_until_ms: Option<u64>,
    /// The accepted tool-list hash drift is judged against (None until the
    /// first tool list is seen).
    pub baseline_hash: Option<String>,
    /// Registry monitors: the required secret headers their listing
    /// declares. Probed without them, a 401/403 is `auth_required`.
    pub secret_headers: Vec<String>,
    /// `api` (registered through the API) or `registry` (the crawl's).
    pub source: String,
    /// The stored `alerts_json` no longer reads: `spec.alerts` is empty, this
    /// says why, the cron logs it on every probe and the admin GET shows it.
    pub alerts_unreadable: Option<UnreadableAlerts>,
}

impl Monitor {
    /// What anyone may see (no header values, no alert routing).
    pub fn public_json(&self) -> Value {
        let mut v = self.spec.public_json();
        if let Value::Object(o) = &mut v {
            o.insert("id".into(), json!(self.id));
            o.insert(
                "maintenance_until_ms".into(),
                json!(self.maintenance_until_ms),
            );
            o.insert("baseline_hash".into(), json!(self.baseline_hash));
            o.insert("source".into(), json!(self.source));
        }
        v
    }

    /// What the admin sees: the public view, plus `alerts_error` when the
    /// stored alert config cannot be read (so nobody is paged for it).
    pub fn admin_json(&self) -> Value {
        let mut v = self.public_json();
        if let (Value::Object(o), Some(bad)) = (&mut v, &self.alerts_unreadable) {
            o.insert("alerts_error".into(), bad.json());
        }
        v
    }
}

/// A refusal of what the client sent is a 400 with its `{"error", "hint"}`.
pub(crate) fn core_err(e: ValidationError) -> ApiError {
    ApiError::new(400, e.error, e.hint)
}

pub(crate) fn db_err(e: String) -> ApiError {
    ApiError::new(
        503,
        format!("the database failed: {e}"),
        "try again shortly",
    )
}

pub(crate) fn policy(env: &Env) -> Policy {
    Policy {
        allow_loopback: env
            .var(ALLOW_LOOPBACK_VAR)
            .map(|v| v.to_string() == "1")
            .unwrap_or(false),
    }
}

/// Checks `Authorization: Bearer <ADMIN_TOKEN>`.
pub(crate) fn require_admin(req: &Request, env: &Env) -> Result<(), ApiError> {
    let expected = env
        .secret(ADMIN_TOKEN)
        .map(|s| s.to_string())
        .or_else(|_| env.var(ADMIN_TOKEN).map(|s| s.to_string()))
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                503,
                "this Worker has no ADMIN_TOKEN",
                "set it with `wrangler secret put ADMIN_TOKEN` (.dev.vars under wrangler dev)",
            )
        })?;
    let given = req.headers().get("Authorization").ok().flatten();
    let token = given
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    match token {
        Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            401,
            "missing or wrong admin token",
            "send Authorization: Bearer <ADMIN_TOKEN>",
        )),
    }
}

/// Compares without stopping at the first difference, so the time taken does
/// not tell how much of a guessed token was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

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
                    &[Param::int(crate::probe_host::now_ms()), Param::text(id)],
                )
                .await
                .map_err(db_err)?;
            if n == 0 {
                return Err(not_found(id));
            }
            Response::empty()
                .map(|r| r.with_status(204))
                .map_err(api::internal)
        }
        _ => {
            let m = load_or_404(env, id).await?;
            ok_json(200, m.admin_json())
        }
    }
}

/// `/api/monitors/{id}/{part}` (the router has checked the method).
pub async fn part(req: Request, env: &Env, id: &str, part: Part) -> Result<Response, ApiError> {
    match part {
        Part::Maintenance => maintenance(req, env, id).await,
        Part::Baseline => baseline(&req, env, id).await,
        Part::Status => crate::status::status(&req, env, id).await,
        Part::History => crate::history::history(&req, env, id).await,
        Part::Incidents => crate::history::incidents(&req, env, id).await,
        Part::Drift => crate::history::drift(&req, env, id).await,
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        404,
        format!("no monitor {id:?}"),
        "list them with GET /api/monitors",
    )
}

fn ok_json(status: u16, v: Value) -> Result<Response, ApiError> {
    api::json_response(status, v.to_string()).map_err(api::internal)
}

async fn read_json(req: &mut Request) -> Result<Value, ApiError> {
    let body = api::read_capped(req, MAX_BODY).await?;
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
    policy(env)
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
            &spec_params(&id, &spec, crate::probe_host::now_ms()),
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
    let m = load_or_404(env, id).await?;
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

async fn maintenance(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let body = read_json(&mut req).await?;
    let minutes = body.get("minutes").cloned().unwrap_or(Value::Null);
    let until =
        monitor::maintenance_until(crate::probe_host::now_ms(), &minutes).map_err(core_err)?;
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
async fn baseline(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let m = load_or_404(env, id).await?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let mut seen = crate::writer::last_hash(crate::writer::accumulator(id).as_ref());
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
    let url = req.url().map_err(api::internal)?;
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
    let page: Vec<Monitor> = rows.iter().take(q.limit).filter_map(from_row).collect();
    let next = more.then(|| page.last().map(|m| m.id.clone())).flatten();
    let list: Vec<Value> = page.iter().map(Monitor::public_json).collect();
    ok_json(200, json!({ "monitors": list, "next_cursor": next }))
}

const SELECT: &str = "SELECT id, url, name, interval_s, public, runbook_url, headers_json, alerts_json, maintenance_until_ms, baseline_hash, secret_headers_json, source FROM monitors WHERE retired_at_ms IS NULL";

/// Every live monitor (the cron and its refresh of the public views read this).
pub async fn load_all(env: &Env) -> Result<Vec<Monitor>, ApiError> {
    let store = D1Store::from_env(env).map_err(db_err)?;
    let rows = store
        .rows(&format!("{SELECT} ORDER BY id"), &[])
        .await
        .map_err(db_err)?;
    Ok(rows.iter().filter_map(from_row).collect())
}

/// The live monitors among `ids` (a Queue message's), read by key.
pub async fn load_many(env: &Env, ids: &[&str]) -> Result<Vec<Monitor>, ApiError> {
    let store = D1Store::from_env(env).map_err(db_err)?;
    let mut out = Vec::with_capacity(ids.len());
    // D1 binds at most 100 parameters a statement.
    for chunk in ids.chunks(90) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Param> = chunk.iter().map(|id| Param::text(*id)).collect();
        let rows = store
            .rows(&format!("{SELECT} AND id IN ({marks})"), &params)
            .await
            .map_err(db_err)?;
        out.extend(rows.iter().filter_map(from_row));
    }
    Ok(out)
}

/// One live monitor, if it exists.
pub async fn load(env: &Env, id: &str) -> Result<Option<Monitor>, ApiError> {
    let store = D1Store::from_env(env).map_err(db_err)?;
    let rows = store
        .rows(&format!("{SELECT} AND id = ?"), &[Param::text(id)])
        .await
        .map_err(db_err)?;
    Ok(rows.first().and_then(from_row))
}

async fn load_or_404(env: &Env, id: &str) -> Result<Monitor, ApiError> {
    load(env, id).await?.ok_or_else(|| not_found(id))
}

/// A row back to a monitor; rows this Worker wrote always parse, and one
/// that does not (edited by hand) is skipped rather than failing the list.
fn from_row(row: &Value) -> Option<Monitor> {
    let headers: BTreeMap<String, String> =
        serde_json::from_str(col_str(row, "headers_json")).unwrap_or_default();
    // Never `unwrap_or_default` here: an empty config would page nobody
    // without a word.
    let (alerts, alerts_unreadable) = UnreadableAlerts::read(col_str(row, "alerts_json"));
    let id = col_str(row, "id");
    if id.is_empty() {
        return None;
    }
    Some(Monitor {
        id: id.to_string(),
        spec: MonitorSpec {
            url: col_str(row, "url").to_string(),
            name: col_str(row, "name").to_string(),
            interval_s: col_u64(row, "interval_s")
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(monitor::DEFAULT_INTERVAL_S),
            headers,
            alerts,
            runbook_url: row
                .get("runbook_url")
                .and_then(Value::as_str)
                .map(str::to_string),
            public: col_u64(row, "public") == Some(1),
        },
        maintenance_until_ms: col_u64(row, "maintenance_until_ms"),
        baseline_hash: row
            .get("baseline_hash")
            .and_then(Value::as_str)
            .map(str::to_string),
        secret_headers: serde_json::from_str(col_str(row, "secret_headers_json"))
            .unwrap_or_default(),
        source: match col_str(row, "source") {
            "" => "api".to_string(),
            s => s.to_string(),
        },
        alerts_unreadable,
    })
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

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"dev-admin-token", b"dev-admin-token"));
        assert!(!constant_time_eq(b"dev-admin-token", b"dev-admin-tokeN"));
        assert!(!constant_time_eq(b"dev-admin-token", b"dev-admin-toke"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn a_row_reads_back_as_the_monitor_it_was() {
        let row = serde_json::json!({
            "id": "abc", "url": "https://e.com/mcp", "name": "e", "interval_s": 300,
            "public": 1, "runbook_url": null, "headers_json": "{\"X-Key\":\"k\"}",
            "alerts_json": "{}", "maintenance_until_ms": 5
        });
        let m = from_row(&row).expect("parses");
        assert_eq!(m.spec.interval_s, 300);
        assert!(m.spec.public);
        assert_eq!(m.spec.headers.get("X-Key").map(String::as_str), Some("k"));
        assert_eq!(m.maintenance_until_ms, Some(5));
        // The public view names the header but never shows its value.
        let public = m.public_json().to_string();
        assert!(
            public.contains("X-Key") && !public.contains("\"k\""),
            "{public}"
        );
        assert!(from_row(&serde_json::json!({"url": "x"})).is_none());
    }

    fn row(alerts_json: &str) -> Value {
        json!({"id": "m1", "url": "https://e.com/mcp", "name": "m", "interval_s": 60,
               "public": 1, "headers_json": "{}", "alerts_json": alerts_json})
    }

    #[test]
    fn a_stored_alert_config_is_read_once_into_its_type() {
        let stored = r#"{"webhook":{"url":"https://h.example.com/x"}}"#;
        let m = from_row(&row(stored)).expect("a monitor");
        assert!(m.alerts_unreadable.is_none());
        assert_eq!(m.spec.alerts.channels.len(), 1);
        // Written back byte for byte as it was stored.
        assert_eq!(alerts_json(&m.spec), stored);
        assert!(m.admin_json().get("alerts_error").is_none());
    }

    #[test]
    fn an_unreadable_stored_alert_config_is_shown_not_dropped() {
        for stored in [
            r#"{"slack":{"url":"ftp://hooks.example.com/s3cret"}}"#,
            "{not json",
        ] {
            let m = from_row(&row(stored)).expect("still a monitor (it is still probed)");
            assert!(m.spec.alerts.channels.is_empty());
            let bad = m.alerts_unreadable.as_ref().expect("reported");
            assert_eq!(bad.stored, stored, "kept for an unrelated PATCH");
            let admin = m.admin_json();
            assert!(admin["alerts_error"]["error"].is_string(), "{admin}");
            assert!(!admin.to_string().contains("s3cret"), "{admin}");
            // Not on the public list: it would name the alert routing.
            assert!(m.public_json().get("alerts_error").is_none());
        }
    }

    #[test]
    fn a_validation_error_is_a_400_with_the_same_body() {
        let e = monitor::validate_new(&json!({"name": "x"})).unwrap_err();
        let body = e.body();
        let api = core_err(e);
        assert_eq!(api.status, 400);
        assert_eq!(api.body(), body);
        assert_eq!(
            api.body(),
            r#"{"error":"\"url\" is missing","hint":"send {\"url\": \"https://example.com/mcp\", \"name\": \"My server\"} plus any of \"interval_s\", \"headers\", \"alerts\", \"runbook_url\", \"public\""}"#
        );
    }
}
