//! Start here: `mcprobe check -- CMD ARGS...`, the stdio host, against servers
//! it starts itself: the fleet's stdio kinds (`mcprobe-fleet stdio <kind>`,
//! crates/testkit/src/stdio.rs) and, when `cargo xtask test` provides them, the
//! official Python SDKs over their stdio transport.
//!
//! | kind | what it does | verdict |
//! |---|---|---|
//! | `modern` | 2026-07-28: answers `server/discover` | ok, modern |
//! | `dual` | modern with `_meta`, legacy after `initialize` | ok, modern |
//! | `legacy` | `server/discover` -> -32601, then `initialize` | ok, legacy |
//! | `legacy-silent` | no answer to `server/discover` at all | ok, legacy, after the short wait |
//! | `noisy` | legacy, but a log line on stdout first | malformed_jsonrpc (`stdio.stdout-messages-only`) |
//! | `crash` | exits 3 after reading the first line | handshake_failed, naming the exit status |
//! | `hang` | never answers, ignores EOF and SIGTERM | timeout / handshake_failed; the child is killed and reaped |
//!
//! The fleet binary lives in another package, so Cargo gives these tests no
//! `CARGO_BIN_EXE_mcprobe-fleet`: [`fleet_bin`] asks Cargo to build it (once
//! per test binary) and uses the executable Cargo reports. Each server writes
//! every line it receives to a log (`MCPROBE_STDIO_LOG`), so a test can check
//! what the probe sent, not only what it concluded.

mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;
// `mcprobe check --json`'s outcome (tests/support), read by this file's methods.
use support::fleet_bin;
use support::CheckRun as Run;

/// The `--timeout` of the fleet runs, in seconds.
const TIMEOUT_S: u64 = 4;
/// A verdict must come within the deadline plus this.
const GRACE: Duration = Duration::from_secs(3);
/// A run that outlives this is killed (a hung probe fails its test instead of
/// hanging the suite).
const KILL_AFTER: Duration = Duration::from_secs(60);

// ---- running the probe -------------------------------------------------------------

impl Run {
    fn str(&self, field: &str) -> &str {
        self.verdict[field].as_str().unwrap_or("")
    }

    fn findings_with_rule(&self, mode: &str, rule: &str) -> usize {
        self.verdict["findings"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter(|f| f["mode"] == mode && f["rule"] == rule)
                    .count()
            })
            .unwrap_or(0)
    }

    fn has_finding(&self, mode: &str) -> bool {
        self.verdict["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["mode"] == mode))
    }

    fn step(&self, name: &str) -> Option<&Value> {
        self.verdict["steps"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == name)
    }
}

/// `mcprobe check --json --timeout SECS -- CMD...` with extra environment for
/// the server (mcprobe passes its environment on to the child).
fn check_stdio(timeout_s: u64, cmd: &[OsString], env: &[(&str, OsString)]) -> Run {
    let mut args: Vec<OsString> = vec!["--".into()];
    args.extend(cmd.iter().cloned());
    support::check_json(timeout_s, &args, env, KILL_AFTER)
}

/// Files one test may use (a server log, a PID file), removed when dropped.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(test: &str) -> Scratch {
        // Tests run in parallel and two may probe the same kind.
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("mcprobe-stdio-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Kept when the test fails: the server's log explains the failure.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A fleet stdio kind probed with the default timeout; also returns the
/// JSON-RPC messages the server received.
fn check_kind(kind: &str) -> (Run, Vec<Value>) {
    let scratch = Scratch::new(kind);
    let log = scratch.path("received.jsonl");
    let cmd = [
        fleet_bin().as_os_str().to_owned(),
        "stdio".into(),
        kind.into(),
    ];
    let run = check_stdio(
        TIMEOUT_S,
        &cmd,
        &[("MCPROBE_STDIO_LOG", log.clone().into_os_string())],
    );
    let received = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (run, received)
}

fn methods(received: &[Value]) -> Vec<&str> {
    received
        .iter()
        .filter_map(|m| m["method"].as_str())
        .collect()
}

/// The tool names the server was asked to call.
fn called_tools(received: &[Value]) -> Vec<&str> {
    received
        .iter()
        .filter(|m| m["method"] == "tools/call")
        .filter_map(|m| m["params"]["name"].as_str())
        .collect()
}

/// The verdict of a healthy server: up, ok, exit 0, era, stdio, a revision of
/// that era, the fleet's three tools, the safe call made (and only that one).
fn assert_ok(run: &Run, received: &[Value], era: &str, protocol_version: &str) {
    let got = (run.str("status"), run.str("mode"), run.exit);
    assert_eq!(got, ("up", "ok", Some(0)), "{}", run.show());
    assert_eq!(run.str("era"), era, "{}", run.show());
    assert_eq!(run.str("transport"), "stdio", "{}", run.show());
    assert_eq!(
        run.str("protocol_version"),
        protocol_version,
        "{}",
        run.show()
    );
    assert_eq!(
        run.verdict["server"]["name"],
        "mcprobe-fleet",
        "{}",
        run.show()
    );
    assert_eq!(run.verdict["tools"]["count"], 3, "{}", run.show());
    let call = run.step("tools/call ping");
    assert!(
        call.is_some_and(|s| s["ok"] == true),
        "no successful `tools/call ping` step: {}",
        run.show()
    );
    // The server's own log: the safe tool was called, the destructive one never.
    assert_eq!(called_tools(received), ["ping"], "received: {received:?}");
    assert!(
        run.elapsed < Duration::from_secs(TIMEOUT_S) + GRACE,
        "{}",
        run.show()
    );
}

// ---- the fleet's stdio kinds -----------------------------------------------------------

#[test]
fn modern_server_is_ok_and_modern() {
    let (run, received) = check_kind("modern");
    assert_ok(&run, &received, "modern", "2026-07-28");
    assert!(!run.has_finding("legacy_only"), "{}", run.show());
    // Modern from the first message on: no legacy handshake was needed.
    assert_eq!(
        methods(&received),
        ["server/discover", "tools/list", "tools/call"]
    );
    for m in &received {
        assert_eq!(
            m["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"], "2026-07-28",
            "a modern request without its _meta version: {m}"
        );
    }
    assert!(
        run.str("url").starts_with("stdio: "),
        "url names the command: {}",
        run.show()
    );
}

#[test]
fn dual_era_server_is_spoken_to_in_the_modern_era() {
    let (run, received) = check_kind("dual");
    assert_ok(&run, &received, "modern", "2026-07-28");
    assert!(!methods(&received).contains(&"initialize"), "{received:?}");
}

#[test]
fn legacy_server_falls_back_to_initialize_on_its_error() {
    let (run, received) = check_kind("legacy");
    assert_ok(&run, &received, "legacy", "2025-06-18");
    assert!(run.has_finding("legacy_only"), "{}", run.show());
    assert_eq!(
        methods(&received),
        [
            "server/discover",
            "initialize",
            "notifications/initialized",
            "tools/list",
            "tools/call"
        ]
    );
    // The fallback was for the -32601 the server sent, not the silent-server wait.
    let detail = run
        .step("server/discover")
        .and_then(|s| s["detail"].as_str())
        .unwrap_or("");
    assert!(detail.contains("-32601"), "{}", run.show());
}

#[test]
fn silent_legacy_server_gets_initialize_after_the_short_wait() {
    let (run, received) = check_kind("legacy-silent");
    assert_ok(&run, &received, "legacy", "2025-06-18");
    // min(timeout / 4, 3 s) = 1 s of silence before falling back: at least
    // that long, and well short of the whole deadline.
    let discover = run.step("server/discover");
    let discover_ms = discover.and_then(|s| s["ms"].as_u64()).unwrap_or(0);
    let wait_ms = (TIMEOUT_S * 1000 / 4).min(3000);
    assert!(
        (wait_ms..TIMEOUT_S * 1000 / 2).contains(&discover_ms),
        "server/discover took {discover_ms} ms, want about {wait_ms}: {}",
        run.show()
    );
    let detail = discover.and_then(|s| s["detail"].as_str()).unwrap_or("");
    assert!(detail.contains("no answer"), "{}", run.show());
    assert_eq!(methods(&received)[..2], ["server/discover", "initialize"]);
}

#[test]
fn a_log_line_on_stdout_is_malformed_jsonrpc() {
    let (run, _) = check_kind("noisy");
    let got = (run.str("mode"), run.str("status"), run.exit);
    assert_eq!(
        got,
        ("malformed_jsonrpc", "degraded", Some(1)),
        "{}",
        run.show()
    );
    assert_eq!(
        run.findings_with_rule("malformed_jsonrpc", "stdio.stdout-messages-only"),
        1,
        "{}",
        run.show()
    );
    // The rest of the conversation still worked.
    assert_eq!(run.str("era"), "legacy", "{}", run.show());
    assert_eq!(run.verdict["tools"]["count"], 3, "{}", run.show());
}

#[test]
fn a_crash_is_down_within_the_timeout_and_names_the_exit_status() {
    let (run, received) = check_kind("crash");
    assert_eq!(
        (run.str("status"), run.exit),
        ("down", Some(1)),
        "{}",
        run.show()
    );
    assert!(
        run.str("reason").contains("status: 3") || run.str("reason").contains("status 3"),
        "the reason does not name exit status 3: {}",
        run.show()
    );
    assert!(
        run.elapsed < Duration::from_secs(TIMEOUT_S),
        "{}",
        run.show()
    );
    assert_eq!(methods(&received), ["server/discover"]);
}

#[test]
fn a_crash_during_the_handshake_is_handshake_failed() {
    // failure-modes.md: handshake_failed when neither server/discover nor
    // initialize yields a valid answer; http_error is an HTTP-layer mode that
    // a child process cannot have.
    let (run, _) = check_kind("crash");
    assert_eq!(
        (run.str("mode"), run.str("severity")),
        ("handshake_failed", "P2"),
        "{}",
        run.show()
    );
}

#[test]
fn a_hung_server_gets_a_verdict_in_time_and_is_killed_and_reaped() {
    let scratch = Scratch::new("hang");
    let pid_file = scratch.path("pid");
    let cmd = [
        fleet_bin().as_os_str().to_owned(),
        "stdio".into(),
        "hang".into(),
    ];
    let run = check_stdio(
        TIMEOUT_S,
        &cmd,
        &[("MCPROBE_PID_FILE", pid_file.clone().into_os_string())],
    );
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("the hang server wrote no PID: {}", run.show()));
    let leftover = still_there(pid);
    if leftover.is_some() {
        // Do not leave it behind for the rest of the machine.
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    assert_eq!(leftover, None, "the hung server {pid} outlived mcprobe");
    assert!(
        matches!(run.str("mode"), "timeout" | "handshake_failed"),
        "{}",
        run.show()
    );
    assert_eq!(
        (run.str("status"), run.exit),
        ("down", Some(1)),
        "{}",
        run.show()
    );
    assert!(
        run.elapsed < Duration::from_secs(TIMEOUT_S) + GRACE,
        "no verdict within --timeout + 3 s: {}",
        run.show()
    );
}

/// `None` when `pid` is gone (exited and reaped), else what is left of it:
/// its state letter from /proc (`Z` = a zombie nobody reaped). A PID reused by
/// an unrelated process counts as gone.
fn still_there(pid: u32) -> Option<String> {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !Path::new("/proc/self").exists() {
        // No /proc (not Linux): `kill -0` says whether the PID exists at all.
        let alive = Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        return alive.then(|| "exists".to_string());
    }
    let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    let cmdline = std::fs::read(proc_dir.join("cmdline")).unwrap_or_default();
    let ours = String::from_utf8_lossy(&cmdline).contains("mcprobe-fleet");
    // A zombie has an empty cmdline: judge by the name in `stat` too.
    let ours = ours || stat.contains("(mcprobe-fleet)");
    if !ours {
        return None;
    }
    // `pid (comm) S ...`: the state is the first field after the last `)`.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("?");
    Some(format!("state {state}"))
}

// ---- the official SDKs over stdio --------------------------------------------------------

/// The interpreter from `key`, or `None` (after saying why) to skip; with
/// `MCPROBE_REQUIRE_PEERS=1` a missing one fails instead (the rules of
/// tests/peers.rs).
fn peer_python(key: &str) -> Option<PathBuf> {
    let required = std::env::var("MCPROBE_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    let problem = match std::env::var_os(key).map(PathBuf::from) {
        Some(p) if p.exists() => return Some(p),
        Some(p) => format!("{key}={} does not exist", p.display()),
        None => format!("{key} is not set"),
    };
    if required {
        panic!("MCPROBE_REQUIRE_PEERS=1 but {problem}; run `cargo xtask install`");
    }
    println!("skipped: run `cargo xtask test` ({problem})");
    None
}

fn peers_dir() -> PathBuf {
    std::env::var_os("MCPROBE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../peers"))
}

/// `mcprobe check -- PYTHON peers/SCRIPT --stdio` with the environment cleared
/// but for PATH (as tests/peers.rs does for its peers).
fn check_python(python: &Path, script: &str) -> Run {
    let cmd = [
        python.as_os_str().to_owned(),
        peers_dir().join(script).into_os_string(),
        "--stdio".into(),
    ];
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcprobe"));
    // 20 s: the probe waits min(timeout / 4, 3 s) for server/discover, and
    // that wait includes the interpreter's start-up (about a second here).
    c.args(["check", "--json", "--timeout", "20", "--"])
        .args(&cmd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null());
    let out = c.output().expect("running mcprobe");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let verdict = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("no verdict JSON ({e}); stdout: {stdout}\nstderr: {stderr}"));
    Run {
        exit: out.status.code(),
        verdict,
        stdout,
        stderr,
        elapsed: Duration::ZERO,
    }
}

fn assert_python_ok(run: &Run, era: &str, server: &str) {
    let got = (run.str("status"), run.str("mode"), run.exit);
    assert_eq!(got, ("up", "ok", Some(0)), "{}", run.show());
    assert_eq!(
        (run.str("era"), run.str("transport")),
        (era, "stdio"),
        "{}",
        run.show()
    );
    assert_eq!(run.verdict["server"]["name"], server, "{}", run.show());
    let names = run.verdict["tools"]["names"].to_string();
    assert!(names.contains("\"ping\""), "{}", run.show());
}

#[test]
fn python_sdk_2_over_stdio_is_modern_and_ok() {
    let Some(python) = peer_python("MCPROBE_PY_MCP2") else {
        return;
    };
    let run = check_python(&python, "py_mcp2_server.py");
    assert_python_ok(&run, "modern", "mcprobe-peer-py-mcp2");
    assert_eq!(run.str("protocol_version"), "2026-07-28", "{}", run.show());
}

#[test]
fn python_sdk_1_over_stdio_is_legacy_and_ok() {
    let Some(python) = peer_python("MCPROBE_PY_MCP1") else {
        return;
    };
    let run = check_python(&python, "py_mcp1_server.py");
    assert_python_ok(&run, "legacy", "mcprobe-peer-py-mcp1");
    assert!(run.has_finding("legacy_only"), "{}", run.show());
}
