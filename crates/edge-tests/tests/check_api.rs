//! Start here: `POST /api/check` of the built Worker under `wrangler dev`
//! (real workerd), probing the fault fleet on 127.0.0.1.
//!
//! One `#[test]` on purpose: it builds the Worker, starts the fleet and two
//! `wrangler dev` servers (one with the dev-only `ALLOW_LOOPBACK:1`, one
//! without, as production runs), runs every table below, and stops them all
//! when it returns or panics (the guards' drop kills each process group; a
//! `static` would never be dropped and would leak workerd processes).
//! Failures of all rows are gathered and reported together.
//!
//! Each verdict row names a fleet scenario and the verdict the core gives it
//! in the CLI too (crates/cli/tests/fleet.rs), so the rows prove the Worker
//! drives the same probe to the same answer through `worker::Fetch`. Where a
//! Worker can see less than the CLI (workerd hides socket errors) the row
//! says what workerd really reports and why.
//!
//! It prints the measurements the brief asks for: build time, wasm size,
//! `wrangler dev` startup, `/api/check` latency for ok-modern.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mcprobe_edge_tests::edge::{self, DevOptions, EdgePaths, WranglerDev};
use mcprobe_edge_tests::{repo_root, worker_required};
use mcprobe_testkit::Fleet;
use serde_json::{json, Value};

/// The scenarios these tests probe (the fleet starts only these).
const SCENARIOS: &[&str] = &[
    "ok-modern",
    "ok-legacy-session-sse",
    "ok-http-sse",
    "refused",
    "dns-invalid",
    "asleep-vercel",
    "malformed-schema-string",
    "moved-to-mcp",
    "redirect-loop",
    "never-answers",
    "tls-expired",
];

/// Evidence a verdict must carry besides its mode and status.
#[derive(Debug, Clone, Copy)]
enum Ev {
    Era(&'static str),
    Transport(&'static str),
    ProtocolVersion(&'static str),
    ToolCount(u64),
    Finding(&'static str),
    Pointer(&'static str),
    AlternateEndsWith(&'static str),
    Reason(&'static str),
    /// The whole check answered within this many ms.
    Within(u64),
}

use Ev::*;

struct Row {
    name: &'static str,
    mode: &'static str,
    status: &'static str,
    ev: &'static [Ev],
}

const fn row(
    name: &'static str,
    mode: &'static str,
    status: &'static str,
    ev: &'static [Ev],
) -> Row {
    Row {
        name,
        mode,
        status,
        ev,
    }
}

#[rustfmt::skip]
const VERDICTS: &[Row] = &[
    row("ok-modern", "ok", "up", &[
        Era("modern"), Transport("streamable-http"), ProtocolVersion("2026-07-28"), ToolCount(3),
    ]),
    row("ok-legacy-session-sse", "ok", "up", &[
        Era("legacy"), Transport("streamable-http"), ProtocolVersion("2025-11-25"), ToolCount(3),
    ]),
    // The legacy HTTP+SSE transport: a GET stream stays open while the probe
    // POSTs, so this row needs two exchanges in flight at once.
    row("ok-http-sse", "ok", "up", &[
        Era("legacy"), Transport("sse"), ProtocolVersion("2024-11-05"), Finding("deprecated_transport"),
    ]),
    // workerd's fetch says only "Network connection lost."; the host then
    // opens a TCP socket to the same port, and its failure (to an IP
    // literal: no DNS involved) makes it connect_refused.
    row("refused", "connect_refused", "down", &[Reason("refused")]),
    // workerd's fetch says only "internal error; reference = ..." (the
    // resolver's message goes to workerd's log) and the socket fails too: a
    // name that cannot be reached with that fetch error did not resolve.
    row("dns-invalid", "dns_unresolved", "down", &[Reason("mcprobe-fleet.invalid")]),
    row("asleep-vercel", "platform_asleep", "down", &[Reason("Vercel")]),
    row("malformed-schema-string", "malformed_jsonrpc", "degraded", &[
        Pointer("/result/tools/1/inputSchema"),
    ]),
    row("moved-to-mcp", "route_moved", "down", &[AlternateEndsWith("/mcp")]),
    // Redirects are MANUAL: the core counts them and calls the loop.
    row("redirect-loop", "http_error", "down", &[Reason("redirect")]),
    // The 10 s deadline holds through the Worker's timer (worker::Delay).
    row("never-answers", "timeout", "down", &[Within(13_000)]),
    // workerd tells the Worker nothing about why TLS failed ("internal
    // error"; the expiry is in workerd's log): TCP connects and a TLS socket
    // does not, so the TLS layer fails, kind unknown ("TLS error").
    row("tls-expired", "tls_error", "down", &[Reason("TLS error")]),
];

/// A refusal: body sent, status and error text expected.
struct Refuse {
    body: Value,
    status: u16,
    error_has: &'static str,
}

fn refusals() -> Vec<Refuse> {
    let r = |url: &str, status: u16, error_has: &'static str| Refuse {
        body: json!({ "url": url }),
        status,
        error_has,
    };
    vec![
        r("ftp://example.com/mcp", 400, "http"),
        r("file:///etc/passwd", 400, "http"),
        r("http://10.0.0.1/mcp", 422, "private"),
        r("http://192.168.1.20:8080/mcp", 422, "private"),
        r("http://169.254.169.254/latest/meta-data/", 422, "metadata"),
        r("http://metadata.google.internal/", 422, "metadata"),
        r("http://[fe80::1]/mcp", 422, "link-local"),
        r("http://localhost:8080/mcp", 422, "loopback"),
        r("http://[::1]:8080/mcp", 422, "loopback"),
        r("http://0x7f.1/mcp", 422, "loopback"),
    ]
}

struct Servers {
    fleet: Fleet,
    /// `ALLOW_LOOPBACK:1`: can reach the fleet.
    open: WranglerDev,
    /// Production settings: loopback refused.
    closed: WranglerDev,
    state_dir: PathBuf,
}

impl Drop for Servers {
    fn drop(&mut self) {
        // Stop the servers before their state and logs go away.
        self.open.shutdown();
        self.closed.shutdown();
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// An HTTP answer.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
    took: Duration,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

struct Client {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Client {
    fn new() -> Client {
        Client {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
        }
    }

    fn send(&self, method: reqwest::Method, url: &str, body: Option<Vec<u8>>) -> Answer {
        let started = Instant::now();
        self.rt.block_on(async {
            let mut req = self.http.request(method, url);
            if let Some(body) = body {
                req = req.header("content-type", "application/json").body(body);
            }
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let body = resp.text().await.unwrap_or_default();
                    Answer {
                        status,
                        headers,
                        body,
                        took: started.elapsed(),
                    }
                }
                Err(e) => Answer {
                    status: 0,
                    headers: Default::default(),
                    body: format!("request failed: {e}"),
                    took: started.elapsed(),
                },
            }
        })
    }

    fn check(&self, server: &WranglerDev, body: &Value) -> Answer {
        self.send(
            reqwest::Method::POST,
            &format!("{}/api/check", server.url()),
            Some(body.to_string().into_bytes()),
        )
    }
}

/// Builds the Worker and starts everything, or says why it cannot (`None`:
/// the tools are missing and not required).
fn start() -> Option<Servers> {
    let paths = EdgePaths::new(&repo_root());
    if let Some(missing) = paths.missing_tool() {
        let why = format!(
            "{} is not installed (run `cargo xtask install`)",
            missing.display()
        );
        assert!(!worker_required(), "MCPROBE_REQUIRE_WORKER=1 but {why}");
        eprintln!("edge tests skipped: {why}");
        return None;
    }
    let built = edge::build(&paths, false).expect("the Worker builds");
    let gz = gzipped_size(&paths.wasm());
    eprintln!(
        "measure: worker-build {:.1}s; wasm {} KiB raw, {} gzipped",
        built.took.as_secs_f64(),
        built.wasm_bytes / 1024,
        gz.map(|b| format!("{} KiB", b / 1024))
            .unwrap_or_else(|| "? (no gzip)".into())
    );

    let fleet = Fleet::start_only(SCENARIOS).expect("the fault fleet starts");
    let state_dir = repo_root()
        .join("target/edge-tests")
        .join(format!("run-{}", std::process::id()));
    let serve = |name: &str, allow_loopback: bool| -> WranglerDev {
        let port = edge::free_port().expect("a free port");
        let mut opts = DevOptions::new(port, state_dir.join(format!("{name}.log")));
        opts.inspector_port = Some(edge::free_port().expect("a free port"));
        opts.allow_loopback = allow_loopback;
        opts.persist_to = Some(state_dir.join(format!("{name}-state")));
        let t0 = Instant::now();
        let server = edge::start_wrangler_dev(&paths, &opts)
            .unwrap_or_else(|e| panic!("wrangler dev ({name}) starts: {e:#}"));
        eprintln!(
            "measure: wrangler dev ({name}) healthy {:.1}s after spawn, {:.1}s with the D1 migrations before it",
            server.startup.as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
        server
    };
    // One after the other: each applies migrations to its own local D1.
    let open = serve("open", true);
    let closed = serve("closed", false);
    Some(Servers {
        fleet,
        open,
        closed,
        state_dir,
    })
}

fn gzipped_size(path: &std::path::Path) -> Option<u64> {
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// What is wrong with one verdict row, if anything.
fn judge(row: &Row, url: &str, answer: &Answer) -> Vec<String> {
    let mut bad = Vec::new();
    if answer.status != 200 {
        return vec![format!("HTTP {} {}", answer.status, answer.body)];
    }
    let v = answer.json();
    if str_at(&v, "/url") != url {
        bad.push(format!("url {:?}, want {url:?}", str_at(&v, "/url")));
    }
    if str_at(&v, "/mode") != row.mode || str_at(&v, "/status") != row.status {
        bad.push(format!(
            "mode/status {}/{}, want {}/{} (reason: {})",
            str_at(&v, "/mode"),
            str_at(&v, "/status"),
            row.mode,
            row.status,
            str_at(&v, "/reason")
        ));
    }
    let findings: Vec<&Value> = v["findings"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    for ev in row.ev {
        let ok = match *ev {
            Era(e) => str_at(&v, "/era") == e,
            Transport(t) => str_at(&v, "/transport") == t,
            ProtocolVersion(p) => str_at(&v, "/protocol_version") == p,
            ToolCount(n) => v.pointer("/tools/count").and_then(Value::as_u64) == Some(n),
            Finding(m) => findings.iter().any(|f| f["mode"] == m),
            Pointer(p) => findings
                .iter()
                .any(|f| f["mode"] == "malformed_jsonrpc" && f["pointer"] == p),
            AlternateEndsWith(suffix) => {
                let alt = str_at(&v, "/alternate_url");
                let origin = url.split('/').take(3).collect::<Vec<_>>().join("/");
                alt.starts_with(&origin) && alt.ends_with(suffix)
            }
            Reason(text) => str_at(&v, "/reason")
                .to_lowercase()
                .contains(&text.to_lowercase()),
            Within(ms) => answer.took <= Duration::from_millis(ms),
        };
        if !ok {
            bad.push(format!("{ev:?} does not hold"));
        }
    }
    if !bad.is_empty() {
        bad.push(format!("verdict: {}", answer.body));
    }
    bad
}

#[test]
fn check_api_under_wrangler_dev() {
    let Some(servers) = start() else {
        return;
    };
    let client = Client::new();
    let mut failures: Vec<String> = Vec::new();
    let mut fail = |what: String| failures.push(what);

    // ---- verdicts, through the dev server that may reach loopback ----------------
    for row in VERDICTS {
        let url = servers.fleet.url(row.name);
        let answer = client.check(&servers.open, &json!({ "url": url }));
        let json = answer.json();
        eprintln!(
            "row {:<24} {:>5} ms  {} / {}",
            row.name,
            answer.took.as_millis(),
            str_at(&json, "/mode"),
            str_at(&json, "/reason")
        );
        for bad in judge(row, &url, &answer) {
            fail(format!("{}: {bad}", row.name));
        }
    }

    // ---- latency of a healthy check (ok-modern), warm ------------------------------
    let url = servers.fleet.url("ok-modern");
    let mut took: Vec<u128> = (0..5)
        .map(|_| {
            client
                .check(&servers.open, &json!({ "url": url }))
                .took
                .as_millis()
        })
        .collect();
    took.sort_unstable();
    eprintln!(
        "measure: /api/check ok-modern, 5 warm runs: {took:?} ms (median {} ms)",
        took[2]
    );

    // ---- the caller's headers reach the server, and nowhere else -------------------
    let secret = format!("edge-secret-{}", std::process::id());
    let before = servers.fleet.requests("ok-modern").len();
    let answer = client.check(
        &servers.open,
        &json!({ "url": url, "headers": { "X-Edge-Token": secret } }),
    );
    let seen = servers.fleet.requests("ok-modern");
    let carried = seen[before.min(seen.len())..]
        .iter()
        .filter(|r| r.header("x-edge-token") == Some(secret.as_str()))
        .count();
    if answer.status != 200 || carried == 0 {
        fail(format!(
            "headers: HTTP {}, {carried} requests carried X-Edge-Token",
            answer.status
        ));
    }
    if answer.body.contains(&secret) {
        fail("headers: the verdict echoes the passed header value".into());
    }
    if servers.open.log_tail(10_000).contains(&secret) {
        fail("headers: wrangler's log holds the passed header value".into());
    }

    // ---- refusals: production settings (no loopback) -------------------------------
    let mut refusal_rows = refusals();
    // The fleet itself is on 127.0.0.1: refused without the dev setting.
    refusal_rows.push(Refuse {
        body: json!({ "url": url }),
        status: 422,
        error_has: "loopback",
    });
    for r in &refusal_rows {
        let answer = client.check(&servers.closed, &r.body);
        let v = answer.json();
        let error = str_at(&v, "/error");
        let hint = str_at(&v, "/hint");
        if answer.status != r.status || !error.contains(r.error_has) || hint.is_empty() {
            fail(format!(
                "closed {}: HTTP {} {}, want {} with {:?} and a hint",
                r.body["url"], answer.status, answer.body, r.status, r.error_has
            ));
        }
    }
    // The dev setting opens loopback only.
    for (target, want) in [
        ("http://10.0.0.1/mcp", 422),
        ("http://169.254.169.254/", 422),
    ] {
        let answer = client.check(&servers.open, &json!({ "url": target }));
        if answer.status != want {
            fail(format!(
                "open {target}: HTTP {}, want {want}",
                answer.status
            ));
        }
    }

    // ---- the API's edges -------------------------------------------------------------
    let base = servers.closed.url();
    let health = client.send(reqwest::Method::GET, &format!("{base}/api/health"), None);
    if health.status != 200 || health.json() != json!({"ok": true}) {
        fail(format!("health: HTTP {} {}", health.status, health.body));
    }
    let wrong_method = client.send(reqwest::Method::GET, &format!("{base}/api/check"), None);
    let allow = wrong_method
        .headers
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if wrong_method.status != 405
        || allow != "POST"
        || str_at(&wrong_method.json(), "/error").is_empty()
    {
        fail(format!(
            "GET /api/check: HTTP {} allow {allow:?} {}",
            wrong_method.status, wrong_method.body
        ));
    }
    // Under /api/ the Worker answers (a JSON 404); any other path is the
    // web page's (static assets, the app shell for its client-side routes).
    let unknown = client.send(reqwest::Method::GET, &format!("{base}/api/nope"), None);
    if unknown.status != 404 || str_at(&unknown.json(), "/error").is_empty() {
        fail(format!(
            "GET /api/nope: HTTP {} {}",
            unknown.status, unknown.body
        ));
    }
    let big = json!({ "url": "https://example.com/mcp", "pad": "x".repeat(17 * 1024) });
    let too_big = client.check(&servers.closed, &big);
    if too_big.status != 413 {
        fail(format!(
            "17 KiB body: HTTP {} {}",
            too_big.status, too_big.body
        ));
    }
    let not_json = client.send(
        reqwest::Method::POST,
        &format!("{base}/api/check"),
        Some(b"url=https://example.com".to_vec()),
    );
    if not_json.status != 400 || str_at(&not_json.json(), "/hint").is_empty() {
        fail(format!(
            "non-JSON body: HTTP {} {}",
            not_json.status, not_json.body
        ));
    }

    // ---- rate limit (last: it spends this client's budget on `closed`) ----------------
    // wrangler.toml allows 30 checks a minute per client; 40 quick ones must hit it.
    let mut first_429 = None;
    for i in 0..40 {
        let answer = client.check(&servers.closed, &json!({ "url": "ftp://example.com/" }));
        if answer.status == 429 {
            let v = answer.json();
            if str_at(&v, "/error").is_empty() || str_at(&v, "/hint").is_empty() {
                fail(format!("429 body: {}", answer.body));
            }
            first_429 = Some(i);
            break;
        }
    }
    eprintln!("rate limit: first 429 after {first_429:?} more requests on the closed server");
    if first_429.is_none() {
        fail("rate limit: 40 checks in a row never got a 429".into());
    }

    let logs = format!(
        "--- open server log (tail) ---\n{}\n--- closed server log (tail) ---\n{}",
        servers.open.log_tail(30),
        servers.closed.log_tail(15)
    );
    drop(servers);
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}\n{logs}",
        failures.len(),
        failures.join("\n")
    );
}
