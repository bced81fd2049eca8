//! Start here: the registry crawl in the Worker. Once an hour,
//! the tick whose minute of the hour is [`CRAWL_AT_MINUTE`] pages through
//! every registry of the `REGISTRIES` var (comma-separated base URLs of the
//! official MCP Registry API; empty or unset = no crawl) and turns what they
//! list into public monitors, which the minute tick then probes like any
//! other (schedule, Queue fan-out, 60 s).
//!
//! The registry logic is the core's (`mcprobe_registry`: `page_url`,
//! `parse_page`, `EndpointSet`'s normalising and de-duplication); this module
//! brings the fetches and the rows:
//!
//! - every page fetch passes the address policy ([`crate::target`]), has a
//!   deadline ([`FETCH_TIMEOUT_MS`]) and a body cap ([`MAX_PAGE_BYTES`]), and
//!   a registry is read for at most [`MAX_PAGES`] pages (a cursor that
//!   repeats stops it too);
//! - each probe-able endpoint is a monitor with a stable id ([`monitor_id`],
//!   from the normalised URL, so a re-crawl updates instead of duplicating),
//!   `source = 'registry'`, named after its first server, with the
//!   registries that list it and the required secret headers a listing
//!   declares (probed without them: a 401 there is `auth_required`);
//! - templated URLs go to `registry_templates`, never to `monitors`;
//! - a row is written only when what the registries say about it changed
//!   ([`listing_hash`]), so an hourly crawl of an unchanged registry writes
//!   one row: its own `registry_crawls` line;
//! - registry monitors (and templates) that no registry lists any more are
//!   retired (`retired_at_ms`, never deleted), but only by a full crawl that
//!   read every page of every registry: a failed page must not retire half
//!   the world. Monitors created through the API are never touched (every
//!   statement here says `source = 'registry'`).
//!
//! Full or incremental ([`crawl_kind`]): the official API takes
//! `updated_since` (RFC 3339), answering only the servers changed since. An
//! incremental crawl adds and updates (merging registries with the row's, as
//! it sees only part of each registry) but never retires, since it cannot see
//! what vanished (deleted entries are skipped by `parse_page`). So the crawl
//! at [`FULL_AT_HOUR`] UTC, and any crawl when the last complete full crawl is
//! older than a day or absent, is full.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use mcprobe_core::fingerprint::sha256_tag;
use mcprobe_monitor::rollup::DAY_MS;
use mcprobe_monitor::schedule;
use mcprobe_registry::{self as registry, Endpoint, EndpointSet};
use serde_json::{json, Value};
use worker::{AbortController, Delay, Env, Fetch, RequestInit, RequestRedirect};

use crate::store::{col_str, col_u64, Param, Store};
use crate::target::Policy;

/// Minute of the hour the crawl runs (not 0, where other hourly work lands).
pub const CRAWL_AT_MINUTE: u64 = 5;
/// UTC hour whose crawl is always full (the others are incremental).
pub const FULL_AT_HOUR: u64 = 0;
/// `[vars]`: comma-separated registry base URLs; empty = no crawl.
pub const REGISTRIES_VAR: &str = "REGISTRIES";
/// Servers asked for per page (the official API's maximum is 100).
pub const PAGE_LIMIT: u32 = 100;
/// Pages read per registry at most: 20,000 servers at 100 a page, ten times
/// the official registry's size today, and a bound on a cursor that never ends.
pub const MAX_PAGES: usize = 200;
/// Largest page body read (a page of 100 servers is ~100-300 KB).
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Deadline of one page fetch, body included.
pub const FETCH_TIMEOUT_MS: u64 = 20_000;
/// How often a registry monitor is probed: every minute, the issue's promise.
pub const MONITOR_INTERVAL_S: u32 = 60;
/// An incremental crawl asks for changes since the last crawl's start minus
/// this, so a server updated while that crawl ran is not missed.
pub const INCREMENTAL_OVERLAP_MS: u64 = 10 * 60_000;
/// Longest monitor name kept (registry names are short; this bounds a hostile one).
const MAX_NAME_CHARS: usize = 200;
/// D1 binds at most 100 parameters a statement.
const MAX_PARAMS: usize = 100;

/// The registries of the `REGISTRIES` var.
pub fn registries(env: &Env) -> Vec<String> {
    env.var(REGISTRIES_VAR)
        .map(|v| parse_registries(&v.to_string()))
        .unwrap_or_default()
}

/// `"https://a, https://b,,https://a"` -> `["https://a", "https://b"]`.
pub fn parse_registries(var: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in var.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    out
}

/// The id of a registry endpoint's monitor: `r` and 15 hex digits of the
/// SHA-256 of its normalised URL. Stable across crawls and isolates, and it
/// never collides with an API monitor's id (12 hex digits, no `r`).
pub fn monitor_id(normalised_url: &str) -> String {
    let tag = sha256_tag(normalised_url.as_bytes());
    let hex = tag.trim_start_matches("sha256:");
    format!("r{}", &hex[..hex.len().min(15)])
}

/// Full or incremental.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Full,
    /// Changes since this RFC 3339 time.
    Incremental {
        since_ms: u64,
    },
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Full => "full",
            Kind::Incremental { .. } => "incremental",
        }
    }
}

/// Which crawl the tick at `tick_ms` runs, given the start of the last
/// complete full crawl and of the last complete crawl of any kind.
pub fn crawl_kind(tick_ms: u64, last_full_ms: Option<u64>, last_any_ms: Option<u64>) -> Kind {
    let hour = (tick_ms % DAY_MS) / 3_600_000;
    match (last_full_ms, last_any_ms) {
        (Some(full), Some(any))
            if hour != FULL_AT_HOUR && tick_ms.saturating_sub(full) < DAY_MS =>
        {
            Kind::Incremental {
                since_ms: any.max(full).saturating_sub(INCREMENTAL_OVERLAP_MS),
            }
        }
        _ => Kind::Full,
    }
}

/// What a row says about one endpoint, as the crawl wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// Monitor id (for templates: the template itself).
    pub key: String,
    pub url: String,
    pub name: String,
    pub servers: Vec<String>,
    pub registries: Vec<String>,
    pub secret_headers: Vec<String>,
    pub variables: Vec<String>,
}

impl Desired {
    /// From a merged endpoint.
    pub fn of(ep: &Endpoint) -> Desired {
        let name: String = ep
            .servers
            .first()
            .map_or(ep.url.as_str(), String::as_str)
            .chars()
            .take(MAX_NAME_CHARS)
            .collect();
        Desired {
            key: if ep.templated {
                ep.url.clone()
            } else {
                monitor_id(&ep.url)
            },
            url: ep.url.clone(),
            name,
            servers: ep.servers.clone(),
            registries: ep.registries.clone(),
            secret_headers: ep.required_secret_headers.clone(),
            variables: ep.variables.clone(),
        }
    }
}

/// The digest of what a row says: a crawl rewrites a row only when it moves.
pub fn listing_hash(d: &Desired) -> String {
    let canon = json!([
        d.url,
        d.name,
        d.servers,
        d.registries,
        d.secret_headers,
        d.variables
    ]);
    sha256_tag(canon.to_string().as_bytes())
}

/// A stored registry row, as far as planning needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub hash: String,
    pub retired: bool,
    pub registries: Vec<String>,
}

/// What to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// New, changed or coming back from retirement; with their hashes.
    pub upserts: Vec<(Desired, String)>,
    pub unchanged: usize,
    /// Live rows no registry lists any more (full complete crawls only).
    pub retire: Vec<String>,
}

/// Compares what the registries list with the stored rows. `may_retire`:
/// a complete full crawl. A `partial` crawl (incremental: only the servers
/// that changed; or one whose pages did not all arrive) merges each row's
/// registries with the stored ones rather than dropping what it did not see.
pub fn plan(
    desired: Vec<Desired>,
    existing: &BTreeMap<String, Existing>,
    may_retire: bool,
    partial: bool,
) -> Plan {
    let mut out = Plan::default();
    let mut seen: HashSet<String> = HashSet::new();
    for mut d in desired {
        seen.insert(d.key.clone());
        let old = existing.get(&d.key);
        if let (true, Some(old)) = (partial, old) {
            for r in &old.registries {
                if !d.registries.contains(r) {
                    d.registries.push(r.clone());
                }
            }
        }
        let hash = listing_hash(&d);
        match old {
            Some(o) if o.hash == hash && !o.retired => out.unchanged += 1,
            _ => out.upserts.push((d, hash)),
        }
    }
    if may_retire {
        out.retire = existing
            .iter()
            .filter(|(k, e)| !e.retired && !seen.contains(k.as_str()))
            .map(|(k, _)| k.clone())
            .collect();
    }
    out
}

/// What one crawl read.
#[derive(Debug, Default)]
struct Read {
    set: EndpointSet,
    pages: u64,
    servers: u64,
    deleted: u64,
    superseded: u64,
    problems: u64,
    errors: Vec<String>,
    complete: bool,
}

/// The tick's crawl, when its minute is the crawl minute and registries are
/// configured. Puts what it did under `"crawl"` in the tick's housekeeping
/// summary (for the log line).
pub async fn tick<S: Store>(store: &S, env: &Env, tick_ms: u64, summary: &mut Value) {
    let minute_of_hour = (tick_ms % 3_600_000) / schedule::TICK_MS;
    if minute_of_hour != CRAWL_AT_MINUTE {
        return;
    }
    let regs = registries(env);
    if regs.is_empty() {
        return;
    }
    let policy = Policy::from_env(env);
    let facts = run(store, &regs, policy, tick_ms).await;
    match summary {
        Value::Object(o) => {
            o.insert("crawl".into(), facts);
        }
        other => *other = json!({ "crawl": facts }),
    }
}

/// One crawl of `regs` at `tick_ms`: read, plan, write, record.
pub async fn run<S: Store>(store: &S, regs: &[String], policy: Policy, tick_ms: u64) -> Value {
    let started = crate::clock::now_ms();
    let last = |sql: &'static str| async move {
        store
            .rows(sql, &[])
            .await
            .ok()
            .and_then(|r| r.first().and_then(|row| col_u64(row, "at")))
    };
    let last_full =
        last("SELECT MAX(at_ms) AS at FROM registry_crawls WHERE kind = 'full' AND complete = 1")
            .await;
    let last_any = last("SELECT MAX(at_ms) AS at FROM registry_crawls WHERE complete = 1").await;
    let kind = crawl_kind(tick_ms, last_full, last_any);
    let read = read_all(regs, policy, &kind).await;
    let endpoints = read.set.endpoints();
    let mut errors = read.errors.clone();

    // Endpoints the address policy refuses would only ever be refused probes.
    let mut refused = 0u64;
    let mut monitors = Vec::new();
    let mut templates = Vec::new();
    for ep in endpoints {
        if ep.templated {
            templates.push(Desired::of(ep));
        } else if policy.check_str(&ep.url).is_err() {
            refused += 1;
        } else {
            monitors.push(Desired::of(ep));
        }
    }
    let may_retire = read.complete && kind == Kind::Full;
    // A crawl that saw only part of the registries (incremental, or a page
    // failed) adds to each row's registries instead of replacing them.
    let partial = matches!(kind, Kind::Incremental { .. }) || !read.complete;

    let mut written = 0u64;
    let (m_up, m_unchanged, m_retired) = match existing_monitors(store).await {
        Ok(existing) => {
            let p = plan(monitors, &existing, may_retire, partial);
            written += upsert_monitors(store, &p.upserts, tick_ms, &mut errors).await;
            let retired = retire(store, "monitors", "id", &p.retire, tick_ms, &mut errors).await;
            written += retired;
            (p.upserts.len(), p.unchanged, retired)
        }
        Err(e) => {
            errors.push(format!("reading the registry monitors: {e}"));
            (0, 0, 0)
        }
    };
    let (t_up, t_retired) = match existing_templates(store).await {
        Ok(existing) => {
            let p = plan(templates, &existing, may_retire, partial);
            written += upsert_templates(store, &p.upserts, tick_ms, &mut errors).await;
            let retired = retire(
                store,
                "registry_templates",
                "url",
                &p.retire,
                tick_ms,
                &mut errors,
            )
            .await;
            (p.upserts.len(), retired)
        }
        Err(e) => {
            errors.push(format!("reading the registry templates: {e}"));
            (0, 0)
        }
    };
    errors.truncate(20);
    let facts = json!({
        "at_ms": tick_ms,
        "kind": kind.as_str(),
        "since_ms": match kind { Kind::Incremental { since_ms } => json!(since_ms), Kind::Full => Value::Null },
        "complete": read.complete,
        "registries": regs,
        "pages": read.pages,
        "servers": read.servers,
        "deleted": read.deleted,
        "superseded": read.superseded,
        "problems": read.problems,
        "listings": read.set.listings(),
        "endpoints": endpoints.len(),
        "duplicates": read.set.duplicates(),
        "invalid": read.set.invalid().len(),
        "templated": endpoints.iter().filter(|e| e.templated).count(),
        "refused": refused,
        "upserted": m_up,
        "unchanged": m_unchanged,
        "retired": m_retired,
        "templates_upserted": t_up,
        "templates_retired": t_retired,
        "rows_written": written,
        "took_ms": crate::clock::now_ms().saturating_sub(started),
        "errors": errors,
    });
    if let Err(e) = store
        .exec(
            "INSERT OR REPLACE INTO registry_crawls (at_ms, kind, complete, facts_json) VALUES (?, ?, ?, ?)",
            &[
                Param::int(tick_ms),
                Param::text(kind.as_str()),
                Param::int(u64::from(read.complete)),
                Param::text(facts.to_string()),
            ],
        )
        .await
    {
        let mut facts = facts;
        if let Some(a) = facts["errors"].as_array_mut() {
            a.push(json!(format!("recording the crawl: {e}")));
        }
        return facts;
    }
    facts
}

/// Reads every page of every registry into one endpoint set.
async fn read_all(regs: &[String], policy: Policy, kind: &Kind) -> Read {
    let mut read = Read {
        complete: true,
        ..Read::default()
    };
    for base in regs {
        if let Err(e) = read_registry(base, policy, kind, &mut read).await {
            read.complete = false;
            read.errors.push(format!("{base}: {e}"));
        }
    }
    read
}

/// The base with `updated_since` for an incremental crawl (`page_url` keeps
/// a base's own query parameters).
fn crawl_base(base: &str, kind: &Kind) -> Result<String, String> {
    match kind {
        Kind::Full => Ok(base.to_string()),
        Kind::Incremental { since_ms } => {
            let mut u = url::Url::parse(base.trim()).map_err(|e| {
                format!("not a registry URL ({e}); give its base, e.g. https://registry.modelcontextprotocol.io")
            })?;
            u.query_pairs_mut()
                .append_pair("updated_since", &mcprobe_core::time::rfc3339(*since_ms));
            Ok(u.into())
        }
    }
}

async fn read_registry(
    base: &str,
    policy: Policy,
    kind: &Kind,
    read: &mut Read,
) -> Result<(), String> {
    let with_since = crawl_base(base, kind)?;
    let mut cursor: Option<String> = None;
    let mut cursors: HashSet<String> = HashSet::new();
    for _ in 0..MAX_PAGES {
        let url = registry::page_url(&with_since, cursor.as_deref(), PAGE_LIMIT)
            .map_err(|e| e.to_string())?;
        let body = fetch_capped(&url, policy).await?;
        let page = registry::parse_page(&body).map_err(|e| format!("{url}: {e}"))?;
        read.pages += 1;
        read.servers += page.servers as u64;
        read.deleted += page.deleted as u64;
        read.superseded += page.superseded as u64;
        read.problems += page.problems.len() as u64;
        for remote in &page.remotes {
            // The configured base names the registry (not the page URL).
            read.set.add_remote(base, remote);
        }
        match page.next_cursor {
            None => return Ok(()),
            Some(c) => {
                if !cursors.insert(c.clone()) {
                    return Err(format!(
                        "the cursor {c:?} came back a second time; stopped so the crawl ends"
                    ));
                }
                cursor = Some(c);
            }
        }
    }
    Err(format!(
        "more than {MAX_PAGES} pages; stopped there (raise MAX_PAGES in crawl.rs)"
    ))
}

/// GETs `url` (which must pass the address policy), redirects not followed,
/// at most [`MAX_PAGE_BYTES`] of body, within [`FETCH_TIMEOUT_MS`].
async fn fetch_capped(url: &str, policy: Policy) -> Result<Vec<u8>, String> {
    policy
        .check_str(url)
        .map_err(|r| format!("{url}: not fetched: {}", r.describe()))?;
    let abort = AbortController::default();
    let signal = abort.signal();
    let work = Box::pin(async move {
        let headers = worker::Headers::new();
        headers
            .set("Accept", "application/json")
            .map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        init.with_method(worker::Method::Get)
            .with_headers(headers)
            // A registry that redirects is told so; following would need the
            // policy re-applied to every hop.
            .with_redirect(RequestRedirect::Manual);
        let req = worker::Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
        let mut resp = Fetch::Request(req)
            .send_with_signal(&signal)
            .await
            .map_err(|e| format!("{url}: fetch failed: {e}"))?;
        let status = resp.status_code();
        if status != 200 {
            return Err(format!("{url}: HTTP {status}, expected 200"));
        }
        let mut stream = resp.stream().map_err(|e| format!("{url}: no body: {e}"))?;
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("{url}: reading the body: {e}"))?;
            if body.len() + chunk.len() > MAX_PAGE_BYTES {
                return Err(format!("{url}: the page is over {MAX_PAGE_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    });
    let deadline = Delay::from(Duration::from_millis(FETCH_TIMEOUT_MS));
    match select(work, deadline).await {
        Either::Left((r, _)) => r,
        Either::Right(((), _)) => {
            abort.abort();
            Err(format!(
                "{url}: no complete answer within {FETCH_TIMEOUT_MS} ms"
            ))
        }
    }
}

fn json_list(row: &Value, col: &str) -> Vec<String> {
    serde_json::from_str(col_str(row, col)).unwrap_or_default()
}

async fn existing_monitors<S: Store>(store: &S) -> Result<BTreeMap<String, Existing>, String> {
    let rows = store
        .rows(
            "SELECT id, listing_hash, retired_at_ms, registries_json FROM monitors WHERE source = 'registry'",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                col_str(r, "id").to_string(),
                Existing {
                    hash: col_str(r, "listing_hash").to_string(),
                    retired: col_u64(r, "retired_at_ms").is_some(),
                    registries: json_list(r, "registries_json"),
                },
            )
        })
        .collect())
}

async fn existing_templates<S: Store>(store: &S) -> Result<BTreeMap<String, Existing>, String> {
    let rows = store
        .rows(
            "SELECT url, listing_hash, retired_at_ms, registries_json FROM registry_templates",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                col_str(r, "url").to_string(),
                Existing {
                    hash: col_str(r, "listing_hash").to_string(),
                    retired: col_u64(r, "retired_at_ms").is_some(),
                    registries: json_list(r, "registries_json"),
                },
            )
        })
        .collect())
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// Multi-row upserts, as many rows a statement as D1's parameter limit allows.
async fn upsert_monitors<S: Store>(
    store: &S,
    rows: &[(Desired, String)],
    now_ms: u64,
    errors: &mut Vec<String>,
) -> u64 {
    const COLS: usize = 8;
    let mut written = 0;
    for chunk in rows.chunks(MAX_PARAMS / COLS) {
        let values =
            vec!["(?, ?, ?, ?, 1, '{}', '{}', ?, 'registry', ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO monitors (id, url, name, interval_s, public, headers_json, alerts_json, \
             created_at_ms, source, registries_json, secret_headers_json, listing_hash) VALUES {values} \
             ON CONFLICT(id) DO UPDATE SET url = excluded.url, name = excluded.name, \
             registries_json = excluded.registries_json, secret_headers_json = excluded.secret_headers_json, \
             listing_hash = excluded.listing_hash, retired_at_ms = NULL \
             WHERE monitors.source = 'registry'"
        );
        let mut params = Vec::with_capacity(chunk.len() * COLS);
        for (d, hash) in chunk {
            params.extend([
                Param::text(&d.key),
                Param::text(&d.url),
                Param::text(&d.name),
                Param::int(u64::from(MONITOR_INTERVAL_S)),
                Param::int(now_ms),
                Param::text(to_json(&d.registries)),
                Param::text(to_json(&d.secret_headers)),
                Param::text(hash),
            ]);
        }
        match store.exec(&sql, &params).await {
            Ok(n) => written += n,
            Err(e) => errors.push(format!("upserting registry monitors: {e}")),
        }
    }
    written
}

async fn upsert_templates<S: Store>(
    store: &S,
    rows: &[(Desired, String)],
    now_ms: u64,
    errors: &mut Vec<String>,
) -> u64 {
    const COLS: usize = 6;
    let mut written = 0;
    for chunk in rows.chunks(MAX_PARAMS / COLS) {
        let values = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO registry_templates (url, servers_json, registries_json, variables_json, \
             listing_hash, first_seen_ms) VALUES {values} \
             ON CONFLICT(url) DO UPDATE SET servers_json = excluded.servers_json, \
             registries_json = excluded.registries_json, variables_json = excluded.variables_json, \
             listing_hash = excluded.listing_hash, retired_at_ms = NULL"
        );
        let mut params = Vec::with_capacity(chunk.len() * COLS);
        for (d, hash) in chunk {
            params.extend([
                Param::text(&d.url),
                Param::text(to_json(&d.servers)),
                Param::text(to_json(&d.registries)),
                Param::text(to_json(&d.variables)),
                Param::text(hash),
                Param::int(now_ms),
            ]);
        }
        match store.exec(&sql, &params).await {
            Ok(n) => written += n,
            Err(e) => errors.push(format!("upserting registry templates: {e}")),
        }
    }
    written
}

/// Sets `retired_at_ms` on the live rows of `keys` (registry rows only).
async fn retire<S: Store>(
    store: &S,
    table: &'static str,
    key_col: &'static str,
    keys: &[String],
    now_ms: u64,
    errors: &mut Vec<String>,
) -> u64 {
    let only_registry = if table == "monitors" {
        " AND source = 'registry'"
    } else {
        ""
    };
    let mut n = 0;
    for chunk in keys.chunks(MAX_PARAMS - 1) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "UPDATE {table} SET retired_at_ms = ? WHERE retired_at_ms IS NULL{only_registry} AND {key_col} IN ({marks})"
        );
        let mut params = vec![Param::int(now_ms)];
        params.extend(chunk.iter().map(Param::text));
        match store.exec(&sql, &params).await {
            Ok(k) => n += k,
            Err(e) => errors.push(format!("retiring from {table}: {e}")),
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_registry::{Remote, RemoteTransport};

    const T: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    fn remote(server: &str, url: &str, secret: bool) -> Remote {
        Remote {
            server: server.into(),
            version: "1".into(),
            transport: RemoteTransport::StreamableHttp,
            url: url.into(),
            headers: if secret {
                vec![registry::HeaderSpec {
                    name: "X-API-Key".into(),
                    is_required: true,
                    is_secret: true,
                }]
            } else {
                vec![]
            },
            variables: vec![],
        }
    }

    #[test]
    fn the_var_splits_trims_and_dedupes() {
        assert_eq!(
            parse_registries(" https://a.example/ ,,https://b.example,https://a.example/"),
            vec!["https://a.example/", "https://b.example"]
        );
        assert!(parse_registries("").is_empty());
        assert!(parse_registries(" , ").is_empty());
    }

    #[test]
    fn ids_are_stable_per_normalised_url_and_never_look_like_api_ids() {
        let a = monitor_id("https://x.example.com/mcp");
        assert_eq!(a, monitor_id("https://x.example.com/mcp"));
        assert_ne!(a, monitor_id("https://x.example.com/mcp2"));
        assert_eq!(a.len(), 16);
        assert!(a.starts_with('r'));
        // Two spellings of one endpoint merge before the id is taken.
        let mut set = EndpointSet::new();
        set.add_remote("reg", &remote("a", "HTTPS://X.example.com:443/mcp/", false));
        set.add_remote("reg", &remote("b", "https://x.example.com/mcp", false));
        assert_eq!(set.endpoints().len(), 1);
        assert_eq!(Desired::of(&set.endpoints()[0]).key, a);
    }

    #[test]
    fn the_midnight_crawl_is_full_and_the_others_incremental() {
        let at = |h: u64| T + h * 3_600_000 + CRAWL_AT_MINUTE * 60_000;
        // Never crawled: full, whatever the hour.
        assert_eq!(crawl_kind(at(3), None, None), Kind::Full);
        // Full at 00:05, incremental at 01:05 since the last crawl (minus the overlap).
        assert_eq!(crawl_kind(at(24), Some(at(0)), Some(at(23))), Kind::Full);
        assert_eq!(
            crawl_kind(at(1), Some(at(0)), Some(at(0))),
            Kind::Incremental {
                since_ms: at(0) - INCREMENTAL_OVERLAP_MS
            }
        );
        // The last full crawl over a day old (the midnight one failed): full.
        assert_eq!(crawl_kind(at(30), Some(at(0)), Some(at(29))), Kind::Full);
    }

    #[test]
    fn an_incremental_crawl_asks_for_changes_since() {
        let base =
            crawl_base("http://127.0.0.1:9/reg", &Kind::Incremental { since_ms: T }).unwrap();
        let url = registry::page_url(&base, Some("c1"), PAGE_LIMIT).unwrap();
        assert!(
            url.contains("updated_since=2026-01-01T00%3A00%3A00Z"),
            "{url}"
        );
        assert!(url.contains("cursor=c1") && url.contains("/reg/v0.1/servers?"));
        assert_eq!(crawl_base("http://h/r", &Kind::Full).unwrap(), "http://h/r");
    }

    fn desired(url: &str, regs: &[&str]) -> Desired {
        let mut set = EndpointSet::new();
        for r in regs {
            set.add_remote(r, &remote("io.x/s", url, url.contains("secret")));
        }
        Desired::of(&set.endpoints()[0])
    }

    fn stored(d: &Desired, retired: bool) -> Existing {
        Existing {
            hash: listing_hash(d),
            retired,
            registries: d.registries.clone(),
        }
    }

    #[test]
    fn plans_write_only_what_moved_and_retire_only_when_allowed() {
        let a = desired("https://a.example/mcp", &["r1"]);
        let b = desired("https://b.example/mcp", &["r1"]);
        let c = desired("https://c.example/secret", &["r1"]);
        assert_eq!(c.secret_headers, vec!["X-API-Key"]);
        let gone = desired("https://gone.example/mcp", &["r1"]);
        let back = desired("https://back.example/mcp", &["r1"]);
        let mut existing = BTreeMap::new();
        existing.insert(a.key.clone(), stored(&a, false));
        // b is stored with another registry list: it moved.
        existing.insert(
            b.key.clone(),
            stored(&desired("https://b.example/mcp", &["r2"]), false),
        );
        existing.insert(gone.key.clone(), stored(&gone, false));
        existing.insert(back.key.clone(), stored(&back, true));

        let p = plan(
            vec![a.clone(), b.clone(), c.clone(), back.clone()],
            &existing,
            true,
            false,
        );
        assert_eq!(p.unchanged, 1);
        let keys: Vec<&str> = p.upserts.iter().map(|(d, _)| d.key.as_str()).collect();
        assert_eq!(
            keys,
            vec![b.key.as_str(), c.key.as_str(), back.key.as_str()]
        );
        assert_eq!(p.retire, vec![gone.key.clone()]);

        // An incomplete (or incremental) crawl retires nothing.
        let p = plan(vec![a.clone()], &existing, false, false);
        assert!(p.retire.is_empty());
        // Incremental: the stored registries are kept, so b lists r1 and r2.
        let p = plan(vec![b.clone()], &existing, false, true);
        assert_eq!(p.upserts.len(), 1);
        assert_eq!(p.upserts[0].0.registries, vec!["r1", "r2"]);
    }
}
