//! Start here: verdicts that once disagreed with real servers, each pinned on a
//! fleet server shaped like the real one.
//!
//! | setup | what real servers do | verdict |
//! |---|---|---|
//! | stdio `modern --start-delay` | a cold interpreter: discover answered after the probe's wait | ok, modern, no `slow_step` |
//! | stdio `legacy --start-delay` | the same, legacy: -32601 late, then `initialize` | ok, legacy, discover ✗ "moved on" |
//! | stdio `deaf` | a huge cursor, then stdin is never read again | tools_list_failed within the deadline, child killed |
//! | stdio `crash` | the error a few lines above the last stderr line | the error is quoted |
//! | `-- /nonexistent` | no such command | a verdict JSON: connect_refused |
//! | `moved-slash-added` / `-dropped` | `/mcp` listed as `/mcp/` and the reverse | route_moved, `alternate_url` |
//! | `ok-http-sse` | 202 "Accepted" to a notification | notifications/initialized ✓ "accepted" |
//! | `sse-beside-mcp` | HTTP+SSE on /sse and Streamable HTTP on /mcp | ok, `deprecated_transport` names /mcp |
//! | `ok-legacy-json` | 400 to server/discover, then initialize | http and discover ✗, initialize ✓ |

mod support;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use mcprobe_testkit::Fleet;
use serde_json::Value;
// `mcprobe check --json`'s outcome (tests/support), read by this file's methods.
use support::fleet_bin;
use support::CheckRun as Run;

/// A run that outlives this is killed, so a hung probe fails its test.
const KILL_AFTER: Duration = Duration::from_secs(40);

// ---- harness ---------------------------------------------------------------------

fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| {
        Fleet::start_only(&[
            "moved-slash-added",
            "moved-slash-dropped",
            "ok-http-sse",
            "sse-beside-mcp",
            "ok-legacy-json",
        ])
        .expect("the fleet starts")
    })
}

impl Run {
    fn str(&self, field: &str) -> &str {
        self.verdict[field].as_str().unwrap_or("")
    }

    fn steps(&self, name: &str) -> Vec<&Value> {
        self.verdict["steps"]
            .as_array()
            .map(|s| s.iter().filter(|s| s["name"] == name).collect())
            .unwrap_or_default()
    }

    fn findings(&self, mode: &str) -> Vec<&str> {
        self.verdict["findings"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter(|f| f["mode"] == mode)
                    .filter_map(|f| f["detail"].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `mcprobe check --json --timeout SECS ARGS...`, killed after [`KILL_AFTER`].
fn check(timeout_s: u64, args: &[OsString], env: &[(&str, OsString)]) -> Run {
    support::check_json(timeout_s, args, env, KILL_AFTER)
}

/// `mcprobe check -- mcprobe-fleet stdio KIND EXTRA...`.
fn check_kind(timeout_s: u64, kind: &str, extra: &[&str], env: &[(&str, OsString)]) -> Run {
    let mut args: Vec<OsString> =
        vec!["--".into(), fleet_bin().into(), "stdio".into(), kind.into()];
    args.extend(extra.iter().map(OsString::from));
    check(timeout_s, &args, env)
}

fn scratch(test: &str) -> PathBuf {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("mcprobe-real-{test}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Is `pid` a live (or unreaped) mcprobe-fleet process?
fn fleet_process_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    stat.contains("(mcprobe-fleet)")
}

// ---- stdio: a slow start ----------------------------------------------------------------

#[test]
fn a_modern_stdio_server_that_starts_slowly_is_ok_and_modern() {
    // --timeout 4: the probe waits 1 s for discover, then sends initialize;
    // the server reads both 2 s after its start and answers discover first.
    let run = check_kind(4, "modern", &["--start-delay", "2000"], &[]);
    let got = (run.str("status"), run.str("mode"), run.exit);
    assert_eq!(got, ("up", "ok", Some(0)), "{}", run.show());
    assert_eq!(run.str("era"), "modern", "{}", run.show());
    assert!(
        run.findings("malformed_jsonrpc").is_empty(),
        "{}",
        run.show()
    );
    let discover = run.steps("server/discover");
    assert_eq!(discover.len(), 1, "one discover step: {}", run.show());
    assert_eq!(discover[0]["ok"], true, "{}", run.show());
    let detail = discover[0]["detail"].as_str().unwrap_or("");
    assert!(detail.contains("start-up"), "{}", run.show());
    assert!(
        discover[0]["ms"].as_u64().unwrap_or(0) >= 2000,
        "{}",
        run.show()
    );
    // 2 s of a 4 s deadline is the process start-up, not the server's latency.
    assert!(run.findings("slow_step").is_empty(), "{}", run.show());
}

#[test]
fn a_legacy_stdio_server_that_starts_slowly_is_ok_and_legacy() {
    let run = check_kind(4, "legacy", &["--start-delay", "2000"], &[]);
    let got = (run.str("status"), run.str("mode"), run.exit);
    assert_eq!(got, ("up", "ok", Some(0)), "{}", run.show());
    assert_eq!(run.str("era"), "legacy", "{}", run.show());
    assert!(
        run.findings("malformed_jsonrpc").is_empty(),
        "{}",
        run.show()
    );
    let discover = run.steps("server/discover");
    assert_eq!(discover.len(), 1, "{}", run.show());
    assert_eq!(discover[0]["ok"], false, "tried, moved on: {}", run.show());
    assert!(
        discover[0]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("-32601"),
        "the late answer completes the step: {}",
        run.show()
    );
    assert!(run.findings("slow_step").is_empty(), "{}", run.show());
}

// ---- stdio: the deadline holds --------------------------------------------------------------

#[test]
fn a_stdio_server_that_stops_reading_gets_its_verdict_within_the_deadline() {
    let dir = scratch("deaf");
    let pid_file = dir.join("pid");
    let run = check_kind(
        5,
        "deaf",
        &[],
        &[("MCPROBE_PID_FILE", pid_file.clone().into_os_string())],
    );
    let pid: Option<u32> = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let leftover = pid.filter(|p| fleet_process_alive(*p));
    if let Some(p) = leftover {
        let _ = Command::new("kill")
            .args(["-KILL", &p.to_string()])
            .status();
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        pid.is_some(),
        "the deaf server wrote no PID: {}",
        run.show()
    );
    assert_eq!(leftover, None, "the deaf server outlived mcprobe");
    // The page that carries the cursor is never read: a tools/list that got
    // no answer, as for the fleet's `tools-list-hangs`.
    assert_eq!(
        (run.str("mode"), run.str("status"), run.exit),
        ("tools_list_failed", "degraded", Some(1)),
        "{}",
        run.show()
    );
    assert!(run.str("reason").contains("tools/list"), "{}", run.show());
    assert!(
        run.elapsed < Duration::from_secs(8),
        "--timeout 5 took {:?}: {}",
        run.elapsed,
        run.show()
    );
}

// ---- stdio: how a crash and a missing command read ---------------------------------------------

#[test]
fn a_crash_quotes_the_error_above_the_last_stderr_line() {
    let run = check_kind(4, "crash", &[], &[]);
    assert_eq!(run.str("status"), "down", "{}", run.show());
    let reason = run.str("reason");
    assert!(
        reason.contains(mcprobe_testkit::stdio::CRASH_MESSAGE),
        "the error is not quoted: {}",
        run.show()
    );
}

#[test]
fn a_command_that_cannot_start_still_prints_a_verdict() {
    let missing = "/nonexistent/mcprobe-no-such-server";
    let run = check(4, &["--".into(), missing.into()], &[]);
    assert_eq!(
        (run.str("mode"), run.str("status"), run.exit),
        ("connect_refused", "down", Some(1)),
        "{}",
        run.show()
    );
    assert!(run.str("reason").contains(missing), "{}", run.show());
    assert_eq!(run.str("transport"), "stdio", "{}", run.show());
}

// ---- HTTP: the route search and the old transport ----------------------------------------------

fn check_url(name: &str) -> Run {
    check(5, &[fleet().url(name).into()], &[])
}

#[test]
fn the_other_spelling_of_the_listed_path_is_route_moved() {
    for (name, listed, found) in [
        ("moved-slash-added", "/mcp", "/mcp/"),
        ("moved-slash-dropped", "/mcp/", "/mcp"),
    ] {
        let url = fleet().url(name);
        assert!(url.ends_with(listed), "{url}");
        let run = check_url(name);
        assert_eq!(run.str("mode"), "route_moved", "{name}: {}", run.show());
        let alt = run.str("alternate_url");
        let want = format!("{}{found}", url.strip_suffix(listed).unwrap_or(&url));
        assert_eq!(alt, want, "{name}: {}", run.show());
    }
}

#[test]
fn a_202_accepted_to_a_notification_reads_as_accepted() {
    let run = check_url("ok-http-sse");
    assert_eq!(run.str("mode"), "ok", "{}", run.show());
    let step = run.steps("notifications/initialized");
    assert_eq!(step.len(), 1, "{}", run.show());
    assert_eq!(step[0]["ok"], true, "{}", run.show());
    let detail = step[0]["detail"].as_str().unwrap_or("");
    assert_eq!(detail, "HTTP 202, accepted", "{}", run.show());
    // The fallbacks on the way were no successes.
    let init = run.steps("initialize");
    assert_eq!(init[0]["ok"], false, "{}", run.show());
    assert!(
        init[0]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("moved on"),
        "{}",
        run.show()
    );
}

#[test]
fn an_old_transport_beside_streamable_http_points_to_it() {
    let url = fleet().url("sse-beside-mcp");
    let run = check_url("sse-beside-mcp");
    assert_eq!(
        (run.str("mode"), run.str("transport")),
        ("ok", "sse"),
        "{}",
        run.show()
    );
    let deprecated = run.findings("deprecated_transport");
    let mcp = format!("{}/mcp", url.strip_suffix("/sse").unwrap_or(&url));
    assert!(
        deprecated.len() == 1 && deprecated[0].contains(&mcp) && !deprecated[0].contains("only"),
        "{}",
        run.show()
    );
    // A lone HTTP+SSE server keeps the plain finding.
    let lone = check_url("ok-http-sse");
    let plain = lone.findings("deprecated_transport");
    assert!(
        plain.len() == 1 && !plain[0].contains("/mcp"),
        "{}",
        lone.show()
    );
}

#[test]
fn a_legacy_servers_refusals_are_not_shown_as_successes() {
    let run = check_url("ok-legacy-json");
    assert_eq!(run.str("mode"), "ok", "{}", run.show());
    for name in ["http", "server/discover"] {
        let s = run.steps(name);
        assert_eq!(s.len(), 1, "{name}: {}", run.show());
        assert_eq!(s[0]["ok"], false, "{name}: {}", run.show());
    }
    let init = run.steps("initialize");
    assert_eq!(init[0]["ok"], true, "{}", run.show());
}
