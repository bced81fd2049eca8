//! Start here: a fake MCP Registry on 127.0.0.1 for `mcprobe scan` tests.
//!
//! [`FakeRegistry::start`] serves one or more registries, each under its own
//! path prefix (`http://127.0.0.1:PORT/<name>`), in the official Registry API's
//! shape: `GET /<name>/v0.1/servers?cursor=&limit=&version=latest` answers
//! `{servers: [{server, _meta}], metadata: {nextCursor, count}}`, a few
//! entries a page so that every crawl paginates. A [`Listing`] says what a
//! registry lists; [`Listing::from_fleet`] builds the audit fixture from the
//! fault fleet's URLs with the cases a crawler must get right: a deleted
//! entry, a templated URL, a duplicate spelled differently, a remote that
//! declares a required secret header, and a package-only entry.
//!
//! Hostile registries: [`FakeRegistry::start_raw`] serves a fixed body as
//! every page of a registry (e.g. [`amplifying_page`], one entry whose long
//! name every remote would copy), and every request to a path under
//! `/target/` ([`FakeRegistry::target_url`]) is answered and recorded
//! ([`FakeRegistry::target_hits`]), so a test can list it and see whether the
//! scanner ever connected.
//!
//! The same server also has one MCP-ish endpoint of its own,
//! [`FakeRegistry::rate_limited_url`]: it answers 429 with `Retry-After: 1`
//! once, then 503 forever, and logs when each request came, so a test can
//! see that the scanner waited before trying again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Response, StatusCode, Uri};
use axum::Router;
use serde_json::{json, Value};

use crate::Fleet;

/// The `_meta` key of the official registry's own metadata.
pub const OFFICIAL_META: &str = "io.modelcontextprotocol.registry/official";
/// The template [`Listing::from_fleet`] lists (never probeable: `.invalid`).
pub const TEMPLATED_URL: &str = "https://{tenant}.mcp.example.invalid/mcp";
/// The path, on the first scenario's origin, of the deleted entry's remote.
pub const DELETED_PATH: &str = "/deleted-mcp";
/// The required secret header [`Listing::from_fleet`] declares.
pub const SECRET_HEADER: &str = "X-API-Key";
/// Entries per page unless a test asks for another size.
pub const DEFAULT_PAGE_SIZE: usize = 4;

/// What one registry lists: `ServerResponse` objects, in order.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    entries: Vec<Value>,
}

fn server_entry(name: &str, status: &str, server: Value) -> Value {
    let mut server = server;
    server["name"] = json!(name);
    server["description"] = json!(format!("{name}, served by the mcprobe fault fleet"));
    server["version"] = json!("1.0.0");
    json!({
        "server": server,
        "_meta": {OFFICIAL_META: {
            "status": status,
            "publishedAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z",
            "isLatest": true
        }}
    })
}

/// `sse` for an HTTP+SSE endpoint (path ending in `/sse`), else `streamable-http`.
fn transport_of(url: &str) -> &'static str {
    if url.trim_end_matches('/').ends_with("/sse") {
        "sse"
    } else {
        "streamable-http"
    }
}

impl Listing {
    pub fn new() -> Listing {
        Listing::default()
    }

    /// A live server with one remote.
    pub fn remote(self, server: &str, url: &str) -> Listing {
        self.remote_with_headers(server, url, json!([]))
    }

    /// A live server whose remote declares `headers` (the `headers[]` array of
    /// server.json: `{name, isRequired, isSecret, description}` objects).
    pub fn remote_with_headers(mut self, server: &str, url: &str, headers: Value) -> Listing {
        let mut remote = json!({"type": transport_of(url), "url": url});
        if headers.as_array().is_some_and(|h| !h.is_empty()) {
            remote["headers"] = headers;
        }
        self.entries
            .push(server_entry(server, "active", json!({"remotes": [remote]})));
        self
    }

    /// A server the registry marks deleted: a crawler must skip it.
    pub fn deleted(mut self, server: &str, url: &str) -> Listing {
        self.entries.push(server_entry(
            server,
            "deleted",
            json!({"remotes": [{"type": transport_of(url), "url": url}]}),
        ));
        self
    }

    /// A live server whose remote URL is a template over `variables`.
    pub fn templated(mut self, server: &str, template: &str, variables: &[&str]) -> Listing {
        let vars: serde_json::Map<String, Value> = variables
            .iter()
            .map(|v| {
                (
                    v.to_string(),
                    json!({"description": format!("your {v}"), "isRequired": true}),
                )
            })
            .collect();
        self.entries.push(server_entry(
            server,
            "active",
            json!({"remotes": [{"type": "streamable-http", "url": template, "variables": vars}]}),
        ));
        self
    }

    /// A live server with packages only (no remote to probe), like most
    /// entries of the real registry.
    pub fn package_only(mut self, server: &str) -> Listing {
        self.entries.push(server_entry(
            server,
            "active",
            json!({"packages": [{
                "registryType": "npm",
                "identifier": "@mcprobe/fleet-package",
                "version": "1.0.0",
                "transport": {"type": "stdio"}
            }]}),
        ));
        self
    }

    /// The audit fixture: every named scenario of the fleet as a live remote
    /// (`sse` for the HTTP+SSE one); `secret`, when given, names the scenario
    /// whose remote declares a required secret [`SECRET_HEADER`]. Then:
    /// - the first name again, spelled `HTTP://...mcp/` (scheme upper case,
    ///   trailing slash): one endpoint listed twice;
    /// - a deleted entry at [`DELETED_PATH`] on the first name's origin;
    /// - a templated remote, [`TEMPLATED_URL`], over the variable `tenant`;
    /// - a package-only entry.
    ///
    /// # Panics
    /// When a name is not a scenario of the fleet, or `names` is empty.
    pub fn from_fleet(fleet: &Fleet, names: &[&str], secret: Option<&str>) -> Listing {
        let first = names.first().expect("from_fleet needs at least one name");
        let mut listing = Listing::new();
        for name in names {
            let url = fleet.url(name);
            let server = format!("io.github.mcprobe/{name}");
            listing = if Some(*name) == secret {
                listing.remote_with_headers(
                    &server,
                    &url,
                    json!([{
                        "name": SECRET_HEADER,
                        "description": "your API key",
                        "isRequired": true,
                        "isSecret": true
                    }]),
                )
            } else {
                listing.remote(&server, &url)
            };
        }
        let first_url = fleet.url(first);
        listing
            .remote(
                &format!("io.github.mcprobe/{first}-again"),
                &duplicate_spelling(&first_url),
            )
            .deleted(
                "io.github.mcprobe/deleted",
                &format!("{}{DELETED_PATH}", origin_of(&first_url)),
            )
            .templated("io.github.mcprobe/templated", TEMPLATED_URL, &["tenant"])
            .package_only("io.github.mcprobe/package-only")
    }

    /// Every live remote again `n - 1` more times, each copy made distinct by
    /// a `?copy=K` query (the fleet routes on the path alone, so a copy gets
    /// the same verdict): how a test or a benchmark gets thousands of
    /// endpoints out of a few dozen servers.
    pub fn copies(mut self, n: usize) -> Listing {
        let originals = self.entries.clone();
        for k in 1..n {
            for e in &originals {
                let live = e
                    .pointer(&format!(
                        "/_meta/{}/status",
                        OFFICIAL_META.replace('/', "~1")
                    ))
                    .and_then(Value::as_str)
                    == Some("active");
                let Some(remotes) = e.pointer("/server/remotes").and_then(Value::as_array) else {
                    continue;
                };
                if !live
                    || remotes
                        .iter()
                        .any(|r| r["url"].as_str().is_some_and(|u| u.contains('{')))
                {
                    continue;
                }
                let mut copy = e.clone();
                if let Some(name) = copy.pointer("/server/name").and_then(Value::as_str) {
                    copy["server"]["name"] = json!(format!("{name}-copy{k}"));
                }
                if let Some(rs) = copy
                    .pointer_mut("/server/remotes")
                    .and_then(Value::as_array_mut)
                {
                    for r in rs {
                        if let Some(u) = r["url"].as_str() {
                            let sep = if u.contains('?') { '&' } else { '?' };
                            r["url"] = json!(format!("{u}{sep}copy={k}"));
                        }
                    }
                }
                self.entries.push(copy);
            }
        }
        self
    }

    /// Entries listed (live, deleted, templated, package-only alike).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `http://127.0.0.1:P/mcp` -> `HTTP://127.0.0.1:P/mcp/`.
pub fn duplicate_spelling(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let rest = if rest.ends_with('/') {
        rest.to_string()
    } else {
        format!("{rest}/")
    };
    format!("{}://{rest}", scheme.to_ascii_uppercase())
}

fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split('/').next().unwrap_or(rest);
            format!("{scheme}://{authority}")
        }
        None => url.to_string(),
    }
}

struct RegState {
    registries: HashMap<String, Vec<Value>>,
    /// Registries that answer every page request with one fixed status and body.
    raw: HashMap<String, (u16, Vec<u8>)>,
    /// Paths of every request under `/target/`.
    targets: Mutex<Vec<String>>,
    page_size: usize,
    /// (registry name, query string) of every page request.
    pages: Mutex<Vec<(String, String)>>,
    /// (status answered, when) of every request to the rate-limited endpoint.
    limited: Mutex<Vec<(u16, Instant)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not poison the log for the others.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running fake registry. Dropping it stops the server.
pub struct FakeRegistry {
    origin: String,
    names: Vec<String>,
    state: Arc<RegState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeRegistry {
    /// Serves each `(name, listing)` under `/<name>`, [`DEFAULT_PAGE_SIZE`] a page.
    pub fn start(registries: Vec<(&str, Listing)>) -> anyhow::Result<FakeRegistry> {
        FakeRegistry::start_with_page_size(registries, DEFAULT_PAGE_SIZE)
    }

    /// As [`FakeRegistry::start`], at most `page_size` entries a page
    /// (whatever `limit` the client asks for).
    pub fn start_with_page_size(
        registries: Vec<(&str, Listing)>,
        page_size: usize,
    ) -> anyhow::Result<FakeRegistry> {
        let mut map = HashMap::new();
        for (name, listing) in registries {
            if name.is_empty() || name.contains('/') || name == "limited" {
                bail!("registry name {name:?} must be one path segment other than \"limited\"");
            }
            if name == "target" {
                bail!("registry name \"target\" is taken by the recorded targets");
            }
            map.insert(name.to_string(), listing.entries);
        }
        FakeRegistry::serve(map, HashMap::new(), page_size)
    }

    /// Serves each `(name, status, body)` under `/<name>`: every page request
    /// gets that status and `body` as it is (a hostile or broken registry).
    pub fn start_raw(pages: Vec<(&str, u16, Vec<u8>)>) -> anyhow::Result<FakeRegistry> {
        let mut raw = HashMap::new();
        for (name, status, body) in pages {
            if name.is_empty() || name.contains('/') || matches!(name, "limited" | "target") {
                bail!("registry name {name:?} must be one path segment other than \"limited\" or \"target\"");
            }
            raw.insert(name.to_string(), (status, body));
        }
        FakeRegistry::serve(HashMap::new(), raw, DEFAULT_PAGE_SIZE)
    }

    fn serve(
        map: HashMap<String, Vec<Value>>,
        raw: HashMap<String, (u16, Vec<u8>)>,
        page_size: usize,
    ) -> anyhow::Result<FakeRegistry> {
        let names = map.keys().chain(raw.keys()).cloned().collect();
        let state = Arc::new(RegState {
            registries: map,
            raw,
            targets: Mutex::new(Vec::new()),
            page_size: page_size.max(1),
            pages: Mutex::new(Vec::new()),
            limited: Mutex::new(Vec::new()),
        });
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").context("binding the fake registry")?;
        listener.set_nonblocking(true)?;
        let origin = format!("http://{}", listener.local_addr()?);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the fake registry's runtime")?;
        let listener = {
            let _guard = rt.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mcprobe-fake-registry".into())
            .spawn(move || {
                rt.block_on(async move {
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = rx => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_secs(2));
            })
            .context("spawning the fake registry thread")?;
        Ok(FakeRegistry {
            origin,
            names,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The base URL of registry `name`, as `mcprobe scan --registry` takes it.
    ///
    /// # Panics
    /// When the registry was not started with that name.
    pub fn url(&self, name: &str) -> String {
        assert!(
            self.names.iter().any(|n| n == name),
            "no registry {name:?}; started: {:?}",
            self.names
        );
        format!("{}/{name}", self.origin)
    }

    /// The query strings of the page requests registry `name` received.
    pub fn page_queries(&self, name: &str) -> Vec<String> {
        lock(&self.state.pages)
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, q)| q.clone())
            .collect()
    }

    /// A URL on this server under `/target/` that answers 404 and records
    /// that it was asked (list it to see whether a scanner connects).
    pub fn target_url(&self, path: &str) -> String {
        format!("{}/target/{}", self.origin, path.trim_start_matches('/'))
    }

    /// The paths of every request under `/target/`, in order.
    pub fn target_hits(&self) -> Vec<String> {
        lock(&self.state.targets).clone()
    }

    /// The `host:port` this server listens on.
    pub fn authority(&self) -> &str {
        self.origin.trim_start_matches("http://")
    }

    /// An endpoint that answers 429 (`Retry-After: 1`) once, then 503.
    pub fn rate_limited_url(&self) -> String {
        format!("{}/limited/mcp", self.origin)
    }

    /// What the rate-limited endpoint answered, with each request's time
    /// since the first one.
    pub fn rate_limited_hits(&self) -> Vec<(u16, Duration)> {
        let hits = lock(&self.state.limited);
        let Some(&(_, t0)) = hits.first() else {
            return Vec::new();
        };
        hits.iter()
            .map(|&(s, t)| (s, t.duration_since(t0)))
            .collect()
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then_some(v)
    })
}

async fn handle(State(st): State<Arc<RegState>>, uri: Uri) -> Response<Body> {
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    if path.starts_with("/limited/") {
        let mut hits = lock(&st.limited);
        let first = hits.is_empty();
        let status = if first { 429 } else { 503 };
        hits.push((status, Instant::now()));
        let resp = json_response(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            &json!({"error": if first { "slow down" } else { "unavailable" }}),
        );
        return if first {
            let (mut parts, body) = resp.into_parts();
            parts
                .headers
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            Response::from_parts(parts, body)
        } else {
            resp
        };
    }
    if path.starts_with("/target/") {
        lock(&st.targets).push(path.to_string());
        return json_response(StatusCode::NOT_FOUND, &json!({"error": "recorded"}));
    }
    let Some(name) = path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/v0.1/servers"))
    else {
        return json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"}));
    };
    if let Some((status, body)) = st.raw.get(name) {
        lock(&st.pages).push((name.to_string(), query.to_string()));
        return Response::builder()
            .status(StatusCode::from_u16(*status).unwrap_or(StatusCode::OK))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.clone()))
            .unwrap_or_default();
    }
    let Some(entries) = st.registries.get(name) else {
        return json_response(StatusCode::NOT_FOUND, &json!({"error": "no such registry"}));
    };
    lock(&st.pages).push((name.to_string(), query.to_string()));
    let limit = query_param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(st.page_size)
        .clamp(1, st.page_size);
    // Cursors are opaque to clients; here, the offset of the next entry.
    let start = match query_param(query, "cursor") {
        None => 0,
        Some(c) => match c
            .strip_prefix("after-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n <= entries.len() => n,
            _ => return json_response(StatusCode::BAD_REQUEST, &json!({"error": "bad cursor"})),
        },
    };
    let end = (start + limit).min(entries.len());
    let page = &entries[start..end];
    let mut metadata = json!({"count": page.len()});
    if end < entries.len() {
        metadata["nextCursor"] = json!(format!("after-{end}"));
    }
    json_response(
        StatusCode::OK,
        &json!({"servers": page, "metadata": metadata}),
    )
}

/// A registry page built to amplify memory in a naive reader: one live
/// entry whose name is `name_len` characters, and as many small remotes as
/// fit in `page_len` bytes (a reader that copies the name into every remote
/// holds `name_len x remotes` bytes).
pub fn amplifying_page(page_len: usize, name_len: usize) -> Vec<u8> {
    let remote = r#"{"type":"sse","url":"https://amplify.example.invalid/sse"},"#;
    let name = "n".repeat(name_len);
    let head = format!(r#"{{"servers":[{{"server":{{"name":"{name}","version":"1","remotes":["#);
    let tail = format!(
        r#"{remote_last}]}},"_meta":{{"{OFFICIAL_META}":{{"status":"active","isLatest":true}}}}}}],"metadata":{{"count":1}}}}"#,
        remote_last = remote.trim_end_matches(',')
    );
    let room = page_len.saturating_sub(head.len() + tail.len());
    let mut page = head.into_bytes();
    for _ in 0..room / remote.len() {
        page.extend_from_slice(remote.as_bytes());
    }
    page.extend_from_slice(tail.as_bytes());
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_amplifying_page_is_one_entry_of_many_remotes() {
        let page = amplifying_page(100_000, 1_000);
        assert!(
            page.len() <= 100_000 && page.len() > 99_000,
            "{}",
            page.len()
        );
        let v: Value = serde_json::from_slice(&page).expect("valid JSON");
        let remotes = v["servers"][0]["server"]["remotes"].as_array().unwrap();
        assert!(remotes.len() > 1_000, "{}", remotes.len());
    }

    #[test]
    fn duplicate_spellings_differ_only_in_case_and_slash() {
        assert_eq!(
            duplicate_spelling("http://127.0.0.1:8/mcp"),
            "HTTP://127.0.0.1:8/mcp/"
        );
        assert_eq!(origin_of("http://127.0.0.1:8/mcp"), "http://127.0.0.1:8");
    }

    #[test]
    fn copies_make_distinct_live_remotes_only() {
        let l = Listing::new()
            .remote("a", "http://127.0.0.1:1/mcp")
            .deleted("d", "http://127.0.0.1:1/gone")
            .templated("t", TEMPLATED_URL, &["tenant"])
            .copies(3);
        assert_eq!(l.len(), 3 + 2);
        let urls: Vec<&str> = l
            .entries
            .iter()
            .filter_map(|e| e.pointer("/server/remotes/0/url")?.as_str())
            .collect();
        assert!(urls.contains(&"http://127.0.0.1:1/mcp?copy=2"), "{urls:?}");
    }
}
