//! Start here: `mcprobe check` against the fault fleet (crates/testkit), one
//! `#[test]` per family of verdict modes, table-driven.
//!
//! One [`Fleet`] serves every scenario on 127.0.0.1 for the whole test binary.
//! Each row of a table names a scenario and the verdict `failure-modes.md`
//! says it must get (mode, status, severity) plus the key evidence for that
//! mode (era and transport, `alternate_url`, the platform in the reason, JSON
//! pointers of spec violations, ...). The fleet's request log then shows what
//! the probe actually did: never `delete_everything`, the safe tool when there
//! is one, the session DELETE, the modern headers on every modern request.
//!
//! Every run is a child process reaped with `wait4`, so each row also gets
//! its wall time and peak RSS: the hostile rows must end in a verdict within
//! `--timeout` + 3 s and stay under 150 MiB.
//!
//! To adjust an expectation, edit its row; a family's failures are reported
//! together, one line per row.

mod support;

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use mcprobe_testkit::{Fleet, LoggedRequest};
use serde_json::Value;

/// The `--timeout` every run gets, in seconds.
const TIMEOUT_S: u64 = 5;
/// A verdict must come within the deadline plus this.
const GRACE: Duration = Duration::from_secs(3);
/// Peak RSS allowed for the hostile rows.
const MAX_RSS_KIB: i64 = 150 * 1024;
/// The watchdog kills a run that outlives this (a hung probe fails its row
/// instead of hanging the suite).
const KILL_AFTER: Duration = Duration::from_secs(TIMEOUT_S + 25);

fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| Fleet::start().expect("the fault fleet starts"))
}

// ---- the expectations ----------------------------------------------------------

/// Key evidence a verdict must carry besides mode, status and severity.
#[derive(Debug, Clone, Copy)]
enum Ev {
    Era(&'static str),
    Transport(&'static str),
    ProtocolVersion(&'static str),
    ServerName(&'static str),
    ToolCount(u64),
    /// `findings` has one with this mode.
    Finding(&'static str),
    /// `findings` has none with this mode.
    NoFinding(&'static str),
    /// `findings` has one with this mode and JSON pointer.
    Pointer(&'static str, &'static str),
    /// `alternate_url` is on the listed URL's origin and ends with this.
    AlternateEndsWith(&'static str),
    /// `reason` contains this (case-insensitive).
    Reason(&'static str),
    /// `reason` names the listed URL's host:port.
    ReasonHasAddress,
    /// The run ends within `--timeout` + 3 s and under 150 MiB.
    Bounded,
}

struct Row {
    name: &'static str,
    mode: &'static str,
    status: &'static str,
    severity: &'static str,
    ev: &'static [Ev],
}

const fn row(
    name: &'static str,
    mode: &'static str,
    status: &'static str,
    severity: &'static str,
    ev: &'static [Ev],
) -> Row {
    Row {
        name,
        mode,
        status,
        severity,
        ev,
    }
}

use Ev::*;

#[rustfmt::skip]
const OK: &[Row] = &[
    row("ok-modern", "ok", "up", "none", &[
        Era("modern"), Transport("streamable-http"), ProtocolVersion("2026-07-28"),
        ServerName("mcprobe-fleet"), ToolCount(3), NoFinding("legacy_only"),
    ]),
    row("ok-legacy-json", "ok", "up", "none", &[
        Era("legacy"), Transport("streamable-http"), ProtocolVersion("2025-06-18"),
        ToolCount(3), Finding("legacy_only"),
    ]),
    row("ok-legacy-session-sse", "ok", "up", "none", &[
        Era("legacy"), Transport("streamable-http"), ProtocolVersion("2025-11-25"), ToolCount(3),
    ]),
    row("ok-2025-03-26", "ok", "up", "none", &[
        Era("legacy"), Transport("streamable-http"), ProtocolVersion("2025-03-26"), ToolCount(3),
    ]),
    row("ok-dual-era", "ok", "up", "none", &[
        Era("modern"), Transport("streamable-http"), ProtocolVersion("2026-07-28"),
    ]),
    row("ok-paginated", "ok", "up", "none", &[Era("legacy"), ToolCount(25)]),
    row("ok-http-sse", "ok", "up", "none", &[
        Era("legacy"), Transport("sse"), ProtocolVersion("2024-11-05"),
        Finding("deprecated_transport"),
    ]),
    row("ok-tls", "ok", "up", "none", &[Era("modern"), Transport("streamable-http")]),
    row("call-iserror", "ok", "up", "none", &[Era("modern"), Finding("tool_error_result")]),
    row("safe-call-picks-readonly", "ok", "up", "none", &[Era("legacy")]),
    row("no-safe-tool", "ok", "up", "none", &[Era("modern")]),
    row("sse-legacy-notifications", "ok", "up", "none", &[Era("legacy"), ToolCount(3)]),
    // 2 s of a 5 s deadline on the first request is over a tenth of it.
    row("slow-cold-start", "ok", "up", "none", &[Era("modern"), Finding("slow_step")]),
];

#[rustfmt::skip]
const UNREACHABLE: &[Row] = &[
    row("dns-invalid", "dns_unresolved", "down", "P1", &[Reason("mcprobe-fleet.invalid")]),
    row("dns-invalid-tls", "dns_unresolved", "down", "P1", &[Reason("no-such-host.invalid")]),
    row("refused", "connect_refused", "down", "P1", &[ReasonHasAddress]),
    row("refused-tls", "connect_refused", "down", "P1", &[ReasonHasAddress]),
    row("never-answers", "timeout", "down", "P1", &[Reason("server/discover"), Bounded]),
    row("stalls-after-headers", "timeout", "down", "P1", &[Reason("server/discover"), Bounded]),
];

#[rustfmt::skip]
const TLS: &[Row] = &[
    row("tls-expired", "tls_error", "down", "P1", &[Reason("expired")]),
    row("tls-unknown-issuer", "tls_error", "down", "P1", &[Reason("issuer")]),
    row("tls-name-mismatch", "tls_error", "down", "P1", &[Reason("name")]),
];

#[rustfmt::skip]
const HTTP: &[Row] = &[
    row("asleep-render", "platform_asleep", "down", "P1", &[Reason("Render")]),
    row("asleep-heroku", "platform_asleep", "down", "P1", &[Reason("Heroku")]),
    row("asleep-railway", "platform_asleep", "down", "P1", &[Reason("Railway")]),
    row("asleep-vercel", "platform_asleep", "down", "P1", &[Reason("Vercel")]),
    row("moved-to-mcp", "route_moved", "down", "P1", &[AlternateEndsWith("/mcp")]),
    row("moved-to-v1", "route_moved", "down", "P1", &[AlternateEndsWith("/v1/mcp")]),
    row("gone-everywhere", "http_error", "down", "P1", &[Reason("404")]),
    row("http-503", "http_error", "down", "P1", &[Reason("503")]),
    row("http-500-html", "http_error", "down", "P1", &[Reason("500")]),
    row("auth-401-bare", "http_error", "down", "P1", &[Reason("401")]),
    row("auth-oauth", "auth_required", "up", "none", &[
        Reason("/.well-known/oauth-protected-resource/mcp"),
    ]),
    row("auth-oauth-403-scope", "auth_required", "up", "none", &[
        Reason("/.well-known/oauth-protected-resource"),
    ]),
];

#[rustfmt::skip]
const MCP_FAILURES: &[Row] = &[
    row("handshake-html", "handshake_failed", "down", "P2", &[]),
    row("handshake-error", "handshake_failed", "down", "P2", &[Reason("-32603")]),
    row("handshake-empty", "handshake_failed", "down", "P2", &[]),
    row("handshake-bad-version", "handshake_failed", "down", "P2", &[Reason("1999-01-01")]),
    row("tools-list-error", "tools_list_failed", "degraded", "P2", &[Reason("-32603")]),
    row("tools-list-garbage", "tools_list_failed", "degraded", "P2", &[Era("modern")]),
    row("tools-list-hangs", "tools_list_failed", "degraded", "P2", &[Bounded]),
    row("half-auth-401", "auth_half_configured", "degraded", "P2", &[Reason("401")]),
    row("half-auth-jsonrpc", "auth_half_configured", "degraded", "P2", &[Reason("API key")]),
    row("call-error", "tool_call_error", "degraded", "P3", &[Reason("database unavailable")]),
    // -32001 alone is not auth: the TypeScript SDK uses it for timeouts.
    row("call-timeout-32001", "tool_call_error", "degraded", "P3", &[Reason("Request timed out")]),
];

#[rustfmt::skip]
const MALFORMED: &[Row] = &[
    row("malformed-no-jsonrpc", "malformed_jsonrpc", "degraded", "P2", &[
        Pointer("malformed_jsonrpc", "/jsonrpc"),
    ]),
    row("malformed-wrong-id", "malformed_jsonrpc", "degraded", "P2", &[
        Pointer("malformed_jsonrpc", "/id"),
    ]),
    row("malformed-tools-outside-result", "malformed_jsonrpc", "degraded", "P2", &[
        Pointer("malformed_jsonrpc", "/tools"),
    ]),
    row("malformed-schema-string", "malformed_jsonrpc", "degraded", "P2", &[
        Pointer("malformed_jsonrpc", "/result/tools/1/inputSchema"),
    ]),
    row("malformed-duplicate-names", "malformed_jsonrpc", "degraded", "P2", &[
        Pointer("malformed_jsonrpc", "/result/tools/2/name"),
    ]),
    row("malformed-modern-no-cache", "malformed_jsonrpc", "degraded", "P2", &[
        Era("modern"),
        Pointer("malformed_jsonrpc", "/result/resultType"),
        Pointer("malformed_jsonrpc", "/result/ttlMs"),
        Pointer("malformed_jsonrpc", "/result/cacheScope"),
    ]),
];

#[rustfmt::skip]
const HOSTILE: &[Row] = &[
    row("endless-sse", "timeout", "down", "P1", &[Bounded]),
    // A body over the size cap is an http_error.
    row("huge-body", "http_error", "down", "P1", &[Bounded]),
    row("drip", "timeout", "down", "P1", &[Bounded]),
    // Not UTF-8 is not JSON: no client could read it.
    row("invalid-utf8", "handshake_failed", "down", "P2", &[Bounded]),
    row("ten-thousand-tools", "ok", "up", "none", &[Era("legacy"), Bounded]),
    row("deep-json", "handshake_failed", "down", "P2", &[Bounded]),
    row("redirect-loop", "http_error", "down", "P1", &[Reason("redirect"), Bounded]),
];

// ---- running mcprobe -------------------------------------------------------------

/// One finished `mcprobe check`.
struct Run {
    verdict: Option<Value>,
    exit: i32,
    elapsed: Duration,
    max_rss_kib: i64,
    killed: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn str(&self, field: &str) -> &str {
        self.verdict
            .as_ref()
            .and_then(|v| v.get(field))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    fn findings(&self) -> Vec<&Value> {
        self.verdict
            .as_ref()
            .and_then(|v| v["findings"].as_array())
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }
}

fn is_tls(url: &str) -> bool {
    url.starts_with("https://")
}

/// Runs `mcprobe check URL --json --timeout 5 [--cacert CA] [extra]` and reaps
/// it with `wait4` for its rusage.
fn check(name: &str, extra: &[&str]) -> Run {
    let url = fleet().url(name);
    let mut args: Vec<String> = vec![
        "check".into(),
        url.clone(),
        "--json".into(),
        "--timeout".into(),
        TIMEOUT_S.to_string(),
    ];
    if is_tls(&url) {
        args.push("--cacert".into());
        args.push(fleet().ca_pem_path().display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));

    let done = support::run(
        Command::new(env!("CARGO_BIN_EXE_mcprobe")).args(&args),
        KILL_AFTER,
    );
    let stdout = done.stdout_text();
    Run {
        verdict: serde_json::from_str(stdout.trim()).ok(),
        exit: done.code.unwrap_or(-1),
        elapsed: done.elapsed,
        max_rss_kib: done.max_rss_kib,
        killed: done.killed,
        stdout,
        stderr: done.stderr_text(),
    }
}

/// Everything wrong with one run against its row (empty when it matches).
fn judge(row: &Row, run: &Run) -> Vec<String> {
    let mut bad = Vec::new();
    if run.killed {
        bad.push(format!("killed after {:?} without a verdict", run.elapsed));
    }
    let Some(v) = &run.verdict else {
        bad.push(format!(
            "no JSON verdict (exit {}); stdout: {:.300}; stderr: {:.300}",
            run.exit, run.stdout, run.stderr
        ));
        return bad;
    };
    for (field, want) in [
        ("mode", row.mode),
        ("status", row.status),
        ("severity", row.severity),
    ] {
        if run.str(field) != want {
            bad.push(format!("{field} {:?}, expected {want:?}", run.str(field)));
        }
    }
    let want_exit = if row.status == "up" { 0 } else { 1 };
    if run.exit != want_exit {
        bad.push(format!("exit {}, expected {want_exit}", run.exit));
    }
    let url = fleet().url(row.name);
    let authority = url.split('/').nth(2).unwrap_or("").to_string();
    let origin = format!("{}//{authority}", url.split('/').next().unwrap_or(""));
    let reason = run.str("reason").to_lowercase();
    let findings = run.findings();
    let has_finding = |mode: &str| findings.iter().any(|f| f["mode"] == mode);
    for ev in row.ev {
        let ok = match *ev {
            Era(e) => run.str("era") == e,
            Transport(t) => run.str("transport") == t,
            ProtocolVersion(p) => run.str("protocol_version") == p,
            ServerName(n) => v["server"]["name"] == n,
            ToolCount(n) => v["tools"]["count"] == n,
            Finding(m) => has_finding(m),
            NoFinding(m) => !has_finding(m),
            Pointer(m, p) => findings.iter().any(|f| f["mode"] == m && f["pointer"] == p),
            AlternateEndsWith(suffix) => {
                let alt = run.str("alternate_url");
                alt.starts_with(&origin) && alt.ends_with(suffix)
            }
            Reason(text) => reason.contains(&text.to_lowercase()),
            ReasonHasAddress => reason.contains(&authority),
            Bounded => {
                run.elapsed <= Duration::from_secs(TIMEOUT_S) + GRACE
                    && run.max_rss_kib < MAX_RSS_KIB
            }
        };
        if !ok {
            bad.push(format!(
                "missing evidence {ev:?} (elapsed {:?}, max RSS {} KiB; era {:?}, transport {:?}, \
                 alternate_url {:?}, reason {:?}, findings {})",
                run.elapsed,
                run.max_rss_kib,
                run.str("era"),
                run.str("transport"),
                run.str("alternate_url"),
                run.str("reason"),
                Value::Array(findings.iter().map(|f| (*f).clone()).collect()),
            ));
        }
    }
    bad
}

/// Runs every row in parallel (most of a run is waiting), judges each, checks
/// the request logs, and fails once with every problem listed.
fn run_family(rows: &[Row]) -> Vec<(&'static str, Run)> {
    let runs: Vec<(&'static str, Run)> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .iter()
            .map(|r| (r.name, s.spawn(move || check(r.name, &[]))))
            .collect();
        handles
            .into_iter()
            .map(|(name, h)| (name, h.join().expect("a run thread panicked")))
            .collect()
    });
    let mut problems = Vec::new();
    for (row, (_, run)) in rows.iter().zip(&runs) {
        for p in judge(row, run) {
            problems.push(format!("{}: {p}", row.name));
        }
        for p in never_destructive(row.name) {
            problems.push(format!("{}: {p}", row.name));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    runs
}

// ---- what the servers saw ------------------------------------------------------------

/// The `params.name` of every tools/call the scenario received.
fn calls(name: &str) -> Vec<String> {
    fleet()
        .requests(name)
        .iter()
        .filter(|r| r.rpc_method() == Some("tools/call"))
        .filter_map(|r| {
            r.body.as_ref()?["params"]["name"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

fn never_destructive(name: &str) -> Vec<String> {
    let called = calls(name);
    if called
        .iter()
        .any(|c| c == "delete_everything" || c == "send_email" || c == "drop_table")
    {
        vec![format!(
            "the probe called a tool that changes things: {called:?}"
        )]
    } else {
        Vec::new()
    }
}

fn posts_with(name: &str, method: &str) -> Vec<LoggedRequest> {
    fleet()
        .requests(name)
        .into_iter()
        .filter(|r| r.rpc_method() == Some(method))
        .collect()
}

// ---- the tests ---------------------------------------------------------------

#[test]
fn ok_servers_in_every_era() {
    run_family(OK);

    // The safe call: the read-only tool with no required parameters, and
    // nothing else, ever.
    assert_eq!(calls("ok-modern"), ["ping"], "ok-modern's safe call");
    assert_eq!(calls("safe-call-picks-readonly"), ["get_status"]);
    assert!(
        calls("no-safe-tool").is_empty(),
        "{:?}",
        calls("no-safe-tool")
    );
    assert!(
        !posts_with("no-safe-tool", "resources/list").is_empty(),
        "no-safe-tool: the probe should fall back to resources/list"
    );

    // Every modern request mirrors its body in the headers.
    let modern = fleet().requests("ok-modern");
    assert!(!modern.is_empty());
    for r in modern.iter().filter(|r| r.method == "POST") {
        let method = r.rpc_method().unwrap_or("");
        let meta_version = r
            .body
            .as_ref()
            .map(|b| b["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"].clone());
        assert_eq!(
            r.header("mcp-protocol-version"),
            Some("2026-07-28"),
            "{r:?}"
        );
        assert_eq!(meta_version, Some(Value::from("2026-07-28")), "{r:?}");
        assert_eq!(r.header("mcp-method"), Some(method), "{r:?}");
        if method == "tools/call" {
            assert!(
                r.header("mcp-name").is_some(),
                "tools/call without Mcp-Name: {r:?}"
            );
        }
    }

    // The legacy session is ended with a DELETE carrying the minted id.
    let session = fleet().requests("ok-legacy-session-sse");
    let minted = session
        .iter()
        .filter(|r| r.rpc_method() != Some("initialize"))
        .find_map(|r| r.header("mcp-session-id").map(str::to_string))
        .expect("requests after initialize carry the session id");
    assert!(
        session
            .iter()
            .any(|r| r.method == "DELETE" && r.header("mcp-session-id") == Some(minted.as_str())),
        "no DELETE for session {minted}: {session:?}"
    );

    // 2025-03-26 defines no version header; 2025-06-18+ sessions send it.
    for r in fleet().requests("ok-legacy-json") {
        if r.rpc_method()
            .is_some_and(|m| m != "initialize" && m != "server/discover")
        {
            assert_eq!(
                r.header("mcp-protocol-version"),
                Some("2025-06-18"),
                "{r:?}"
            );
        }
    }

    // HTTP+SSE: found by its GET stream after POST /sse was refused.
    assert!(fleet()
        .requests("ok-http-sse")
        .iter()
        .any(|r| r.method == "GET" && r.path == "/sse"));
}

#[test]
fn unreachable_and_silent_servers() {
    run_family(UNREACHABLE);
}

#[test]
fn tls_failures_with_the_test_ca_trusted() {
    run_family(TLS);
}

#[test]
fn http_layer_failures_and_auth() {
    run_family(HTTP);
    // auth_required means the metadata was fetched and valid, not just seen.
    for (name, path) in [
        ("auth-oauth", "/.well-known/oauth-protected-resource/mcp"),
        (
            "auth-oauth-403-scope",
            "/.well-known/oauth-protected-resource",
        ),
    ] {
        assert!(
            fleet()
                .requests(name)
                .iter()
                .any(|r| r.method == "GET" && r.path == path),
            "{name}: the probe never fetched {path}"
        );
    }
}

#[test]
fn mcp_layer_failures() {
    run_family(MCP_FAILURES);
    // auth_half_configured and tool_call_error are about the safe call.
    for name in [
        "half-auth-401",
        "half-auth-jsonrpc",
        "call-error",
        "call-timeout-32001",
    ] {
        assert_eq!(calls(name), ["ping"], "{name}: the safe call");
    }
}

#[test]
fn malformed_answers_name_the_pointer() {
    run_family(MALFORMED);
}

#[test]
fn hostile_servers_get_a_bounded_verdict() {
    run_family(HOSTILE);
}

#[test]
fn drift_against_a_baseline() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let baseline = dir.join(format!("fleet-drift-baseline-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&baseline);
    let path = baseline.display().to_string();

    fleet().set_variant("drift", 0);
    let first = check("drift", &["--baseline", &path]);
    assert_eq!(first.str("mode"), "ok", "{}", first.stdout);
    assert_eq!(first.exit, 0);
    assert!(baseline.exists(), "the first run writes the baseline");

    let same = check("drift", &["--baseline", &path]);
    assert_eq!(
        same.str("mode"),
        "ok",
        "unchanged tools are no drift: {}",
        same.stdout
    );

    fleet().set_variant("drift", 1);
    let drifted = check("drift", &["--baseline", &path]);
    fleet().set_variant("drift", 0);
    let _ = std::fs::remove_file(&baseline);

    let v = drifted
        .verdict
        .as_ref()
        .unwrap_or_else(|| panic!("no verdict: {}", drifted.stderr));
    assert_eq!(
        (
            drifted.str("mode"),
            drifted.str("status"),
            drifted.str("severity")
        ),
        ("schema_drift", "degraded", "P3"),
        "{}",
        drifted.stdout
    );
    assert_eq!(drifted.exit, 1);
    assert_eq!(v["drift"]["breaking"], true, "{}", v["drift"]);
    // The three changes: a tool removed, a parameter retyped, one required.
    let changes = v["drift"]["changes"].to_string();
    for needle in ["delete_everything", "message", "channel"] {
        assert!(changes.contains(needle), "drift lacks {needle}: {changes}");
    }
    assert!(never_destructive("drift").is_empty());
}
