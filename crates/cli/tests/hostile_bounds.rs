//! Start here: `mcprobe check` against the fault fleet's hostile-bounds group
//! (crates/testkit/src/hostile_bounds.rs): answers meant to blow up memory or
//! the verdict, compressed answers and a gzip bomb, and servers that try to
//! pull the caller's credentials to another origin.
//!
//! Every run is the real binary as a child process, reaped with `wait4` for
//! its peak RSS; each test asserts the verdict, the time (within `--timeout`
//! plus a grace), the peak memory and the size of the `--json` verdict.

mod support;

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use mcprobe_testkit::Fleet;
use serde_json::Value;

/// The `--timeout` every run gets, in seconds.
const TIMEOUT_S: u64 = 5;
/// A verdict must come within the deadline plus this.
const GRACE: Duration = Duration::from_secs(3);
/// The target for any single hostile server: under 100 MiB peak RSS.
const MAX_RSS_KIB: i64 = 100 * 1024;
/// The target for any verdict: its JSON under 256 KiB.
const MAX_JSON_BYTES: usize = 256 * 1024;
/// The watchdog kills a run that outlives this.
const KILL_AFTER: Duration = Duration::from_secs(TIMEOUT_S + 40);
/// The credentials the tests pass; the other origin must never see this.
const SECRET: &str = "hostile-secret-7f3a";

const SCENARIOS: &[&str] = &[
    "huge-tools-page",
    "twenty-empty-pages",
    "twenty-big-pages",
    "huge-error-message",
    "gzip-healthy",
    "gzip-bomb",
    "redirect-elsewhere",
    "endpoint-elsewhere",
    "header-recorder",
];

fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| Fleet::start_only(SCENARIOS).expect("the fault fleet starts"))
}

/// One finished `mcprobe check`.
struct Run {
    verdict: Value,
    exit: i32,
    elapsed: Duration,
    max_rss_kib: i64,
    json_bytes: usize,
    stderr: String,
}

impl Run {
    fn str(&self, field: &str) -> &str {
        self.verdict[field].as_str().unwrap_or("")
    }

    fn findings(&self) -> &[Value] {
        self.verdict["findings"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Time, memory and size within the targets, with the figures on failure.
    fn assert_bounded(&self, what: &str) {
        assert!(
            self.elapsed <= Duration::from_secs(TIMEOUT_S) + GRACE,
            "{what}: took {:?}",
            self.elapsed
        );
        assert!(
            self.max_rss_kib < MAX_RSS_KIB,
            "{what}: peak RSS {} KiB",
            self.max_rss_kib
        );
        assert!(
            self.json_bytes < MAX_JSON_BYTES,
            "{what}: --json verdict of {} bytes",
            self.json_bytes
        );
        eprintln!(
            "{what}: {} in {:?}, peak RSS {} KiB, --json {} bytes",
            self.str("mode"),
            self.elapsed,
            self.max_rss_kib,
            self.json_bytes
        );
    }
}

/// Runs `mcprobe check URL --json --timeout 5 [extra]` and reaps it with
/// `wait4` for its rusage.
fn check(url: &str, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "check".into(),
        url.into(),
        "--json".into(),
        "--timeout".into(),
        TIMEOUT_S.to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let done = support::run(
        Command::new(env!("CARGO_BIN_EXE_mcprobe")).args(&args),
        KILL_AFTER,
    );
    Run {
        verdict: serde_json::from_slice(&done.stdout).unwrap_or(Value::Null),
        exit: done.code.unwrap_or(-1),
        elapsed: done.elapsed,
        max_rss_kib: done.max_rss_kib,
        json_bytes: done.stdout.len(),
        stderr: done.stderr_text(),
    }
}

fn check_scenario(name: &str) -> Run {
    check(&fleet().url(name), &[])
}

/// Every header value the other origin ever received.
fn recorder_saw_a_secret() -> Vec<String> {
    fleet()
        .requests("header-recorder")
        .iter()
        .flat_map(|r| r.headers.iter())
        .filter(|(_, v)| v.contains(SECRET))
        .map(|(k, v)| format!("{k}: {v}"))
        .collect()
}

fn with_secrets(url: &str) -> Run {
    let api_key = format!("X-Api-Key: {SECRET}");
    let bearer = format!("Authorization: Bearer {SECRET}");
    check(url, &["-H", &api_key, "-H", &bearer])
}

// ---- every answer bounded ----------------------------------------------------------

#[test]
fn a_huge_page_of_empty_tools_gets_a_bounded_verdict() {
    let run = check_scenario("huge-tools-page");
    assert_eq!(run.str("mode"), "malformed_jsonrpc", "{}", run.stderr);
    assert_eq!(run.exit, 1);
    run.assert_bounded("huge-tools-page");
    let findings = run.findings();
    assert!(findings.len() <= 110, "{} findings", findings.len());
    let last = findings.last().expect("findings");
    let detail = last["detail"].as_str().unwrap_or("");
    assert!(
        detail.starts_with("… and ") && detail.contains("more finding"),
        "the last finding counts the rest: {last}"
    );
    assert!(
        run.verdict["tools"]["names"]
            .as_array()
            .is_some_and(|n| n.len() <= 500),
        "tools.names is capped"
    );
}

#[test]
fn twenty_pages_of_empty_tools_get_a_bounded_verdict() {
    let run = check_scenario("twenty-empty-pages");
    assert_eq!(run.str("mode"), "malformed_jsonrpc", "{}", run.stderr);
    run.assert_bounded("twenty-empty-pages");
}

#[test]
fn twenty_big_pages_stop_at_the_tool_list_budget() {
    let run = check_scenario("twenty-big-pages");
    assert_eq!(run.str("mode"), "ok", "{}", run.verdict);
    run.assert_bounded("twenty-big-pages");
    assert!(
        run.findings().iter().any(|f| f["detail"]
            .as_str()
            .is_some_and(|d| d.contains("stopped paging tools/list"))),
        "a finding says why the probe stopped: {}",
        run.verdict["findings"]
    );
    let pages = fleet()
        .requests("twenty-big-pages")
        .iter()
        .filter(|r| r.rpc_method() == Some("tools/list"))
        .count();
    assert!((2..=4).contains(&pages), "{pages} pages read");
}

#[test]
fn a_three_mib_error_message_is_quoted_in_a_few_hundred_characters() {
    let run = check_scenario("huge-error-message");
    assert_eq!(run.str("mode"), "tools_list_failed", "{}", run.stderr);
    run.assert_bounded("huge-error-message");
    let reason = run.str("reason");
    assert!(
        reason.chars().count() <= 1_000,
        "reason of {} chars",
        reason.len()
    );
    assert!(
        reason.contains("ünïcödé"),
        "the message is quoted: {reason}"
    );
    assert!(
        reason.contains("cut"),
        "the quote is marked as cut: {reason}"
    );
    for step in run.verdict["steps"].as_array().into_iter().flatten() {
        let detail = step["detail"].as_str().unwrap_or("");
        assert!(
            detail.chars().count() <= 600,
            "step detail of {} chars",
            detail.len()
        );
    }
    assert!(
        run.json_bytes < 16 * 1024,
        "--json of {} bytes",
        run.json_bytes
    );
}

// ---- compressed answers read, bombs refused ------------------------------------------

#[test]
fn a_gzipped_server_is_read() {
    let run = check_scenario("gzip-healthy");
    assert_eq!(
        (run.str("mode"), run.str("era")),
        ("ok", "modern"),
        "{}",
        run.verdict
    );
    assert_eq!(run.exit, 0);
    let asked = fleet().requests("gzip-healthy");
    assert!(
        asked.iter().all(|r| r
            .header("accept-encoding")
            .is_some_and(|v| v.contains("gzip") && v.contains("br") && v.contains("deflate"))),
        "every request says which codings it reads: {asked:?}"
    );
}

#[test]
fn a_gzip_bomb_is_over_the_body_cap() {
    let run = check_scenario("gzip-bomb");
    assert_eq!(run.str("mode"), "http_error", "{}", run.verdict);
    assert!(run.str("reason").contains("cap"), "{}", run.str("reason"));
    run.assert_bounded("gzip-bomb");
}

// ---- credentials stay with their origin ---------------------------------------------------

#[test]
fn a_redirect_to_another_origin_gets_no_caller_header() {
    let to = fleet().url("header-recorder");
    let from = format!("{}?to={to}", fleet().url("redirect-elsewhere"));
    let run = with_secrets(&from);
    // The other origin is a healthy server: the probe follows, without secrets.
    assert_eq!(run.str("mode"), "ok", "{}", run.verdict);
    let followed = fleet()
        .requests("header-recorder")
        .iter()
        .any(|r| r.rpc_method() == Some("server/discover"));
    assert!(followed, "the redirect was followed");
    let leaked = recorder_saw_a_secret();
    assert!(leaked.is_empty(), "the other origin saw: {leaked:?}");
    // The listed origin still gets them: they are its credentials.
    let home = fleet().requests("redirect-elsewhere");
    assert!(
        home.iter().any(|r| r.header("x-api-key") == Some(SECRET)
            && r.header("authorization") == Some(&format!("Bearer {SECRET}"))),
        "the listed origin gets the caller's headers: {home:?}"
    );
    assert!(
        run.findings().iter().any(|f| f["detail"]
            .as_str()
            .is_some_and(|d| d.contains("were not sent there") && d.contains("X-Api-Key"))),
        "a finding says the headers were held back: {}",
        run.verdict["findings"]
    );
    assert!(
        !run.verdict.to_string().contains(SECRET),
        "the verdict never echoes a secret"
    );
}

#[test]
fn a_legacy_endpoint_on_another_origin_is_refused() {
    let to = fleet().url("header-recorder");
    let from = format!("{}?to={to}", fleet().url("endpoint-elsewhere"));
    let run = with_secrets(&from);
    assert_eq!(run.str("mode"), "handshake_failed", "{}", run.verdict);
    assert!(
        run.findings()
            .iter()
            .any(|f| f["mode"] == "handshake_failed"
                && f["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("another origin"))),
        "a finding says why: {}",
        run.verdict["findings"]
    );
    assert!(
        run.str("reason").contains("another origin"),
        "{}",
        run.str("reason")
    );
    let leaked = recorder_saw_a_secret();
    assert!(leaked.is_empty(), "the other origin saw: {leaked:?}");
    run.assert_bounded("endpoint-elsewhere");
}
