//! Start here: `mcprobe check` against real MCP servers that nobody here wrote.
//!
//! The fault fleet (`tests/fleet.rs`) is our own idea of every failure; these peers
//! are the official SDKs as people ship them, so a passing run here means the probe
//! agrees with the reference implementations, not only with itself:
//!
//! | peer | SDK | era | transport |
//! |---|---|---|---|
//! | `peers/py_mcp2_server.py` | Python `mcp` 2.x (`MCPServer`) | modern (2026-07-28) | streamable-http |
//! | `peers/py_mcp1_server.py` | Python `mcp` 1.x (`FastMCP`) | legacy | streamable-http |
//! | server-everything `streamableHttp` | TypeScript SDK 1.x | legacy | streamable-http |
//! | server-everything `sse` | TypeScript SDK 1.x | legacy | sse (HTTP+SSE, 2024-11-05) |
//!
//! `cargo xtask install` puts the SDKs in `.tools/` and `cargo xtask test` passes
//! their paths in `MCPROBE_*` variables (`cargo xtask env` prints them for a manual
//! `cargo test -p mcprobe --test peers`). Without them each test prints
//! "skipped: ..." and passes, unless `MCPROBE_REQUIRE_PEERS=1` (CI) makes a missing
//! one a failure.
//!
//! Every peer binds 127.0.0.1 on a port picked here, and its environment is cleared
//! (server-everything's `get-env` tool, a valid safe call, echoes its environment).
//! server-everything listens on all interfaces unless told otherwise and has no
//! setting for it, so `peers/loopback.cjs` is preloaded to pin its listen address.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// Revisions of the legacy era (the `initialize` handshake).
const LEGACY_REVISIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
const MODERN_REVISION: &str = "2026-07-28";

// ---- Finding the peers ----

/// Paths from the environment, or `None` (after printing why) when the test should
/// skip. Panics when `MCPROBE_REQUIRE_PEERS=1` and one is missing, naming it.
fn peer_paths(keys: &[&str]) -> Option<Vec<PathBuf>> {
    let required = std::env::var("MCPROBE_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    let mut paths = Vec::new();
    for key in keys {
        let problem = match std::env::var_os(key) {
            None => format!("{key} is not set"),
            Some(value) => {
                let path = PathBuf::from(value);
                if path.exists() {
                    paths.push(path);
                    continue;
                }
                format!("{key}={} does not exist", path.display())
            }
        };
        if required {
            panic!("MCPROBE_REQUIRE_PEERS=1 but {problem}; run `cargo xtask install`");
        }
        println!("skipped: run `cargo xtask test` ({problem})");
        return None;
    }
    Some(paths)
}

/// `peers/` holds our small servers and the loopback preload; it is part of the
/// repository, so it has a default (xtask still passes it, for clarity in CI logs).
fn peers_dir() -> PathBuf {
    std::env::var_os("MCPROBE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../peers"))
}

// ---- Running a peer ----

/// A port nothing listens on right now: bind :0 on loopback, note it, let it go.
/// (Another process could take it before the peer binds; the readiness wait then
/// fails with the peer's log, which says so.)
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// A running peer; killed and reaped when dropped, whatever the test did.
struct Peer {
    name: String,
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Peer {
    /// Starts `cmd` with a cleared environment plus `env`, its output in a log file,
    /// and returns once its port accepts TCP connections.
    fn start(name: &str, mut cmd: Command, port: u16, env: &[(&str, &str)]) -> Peer {
        let log = std::env::temp_dir().join(format!(
            "mcprobe-peer-{name}-{}-{port}.log",
            std::process::id()
        ));
        let out = File::create(&log).expect("create peer log");
        let err = out.try_clone().expect("clone peer log handle");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            // Keep `peers/` free of __pycache__ folders.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start peer {name} ({cmd:?}): {e}"));
        let mut peer = Peer {
            name: name.to_string(),
            child,
            port,
            log,
        };
        peer.wait_ready();
        peer
    }

    /// Readiness is the port accepting a connection (every peer here prints a line
    /// when it listens, but the port is the one signal they all share). Bounded:
    /// 400 attempts with a 50 ms pause between refused ones, ~20 s, because the
    /// Python SDKs take a few seconds to import on a busy two-core CI machine.
    fn wait_ready(&mut self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        for _ in 0..400 {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(50)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "peer {} exited ({status}) before listening on {addr}\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            // A refused connect returns at once; this pause paces the polling, the
            // successful connect above is what the test waits for.
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "peer {} did not listen on {addr} within ~20 s\n{}",
            self.name,
            self.log_tail()
        );
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The last lines of the peer's output, for failure messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(30);
        format!(
            "--- {} log ({}) ---\n{}",
            self.name,
            self.log.display(),
            lines[start..].join("\n")
        )
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the log when the test is failing: it is what explains the failure.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn start_py(name: &str, python: &Path, script: &str, port: u16, env: &[(&str, &str)]) -> Peer {
    let mut cmd = Command::new(python);
    cmd.arg(peers_dir().join(script))
        .arg("--port")
        .arg(port.to_string());
    Peer::start(name, cmd, port, env)
}

/// server-everything with `transport` = `streamableHttp` (serves /mcp) or `sse`
/// (serves GET /sse + POST /message).
fn start_everything(node: &Path, index_js: &Path, transport: &str) -> Peer {
    let port = free_port();
    let mut cmd = Command::new(node);
    cmd.arg("--require")
        .arg(peers_dir().join("loopback.cjs"))
        .arg(index_js)
        .arg(transport);
    let port_text = port.to_string();
    let env = [
        ("PORT", port_text.as_str()),
        // Its gzip tool fetches any URL (a GitHub one by default); allow only loopback.
        ("GZIP_ALLOWED_DOMAINS", "127.0.0.1"),
    ];
    Peer::start(&format!("everything-{transport}"), cmd, port, &env)
}

// ---- Running the probe ----

struct Check {
    exit: Option<i32>,
    verdict: Value,
}

/// `mcprobe check <url> --json --timeout 10 [extra]`, its verdict parsed.
fn check(peer: &Peer, url: &str, extra: &[&str]) -> Check {
    let out = Command::new(env!("CARGO_BIN_EXE_mcprobe"))
        .args(["check", url, "--json", "--timeout", "10"])
        .args(extra)
        .output()
        .expect("run mcprobe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let verdict: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "mcprobe check {url} printed no verdict JSON ({e}); exit {:?}\nstdout: {stdout}\nstderr: {}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr),
            peer.log_tail()
        )
    });
    Check {
        exit: out.status.code(),
        verdict,
    }
}

/// Asserts with the whole verdict and the peer's log in the message.
macro_rules! check_that {
    ($cond:expr, $peer:expr, $check:expr, $($what:tt)+) => {
        assert!(
            $cond,
            "{}\nverdict: {}\n{}",
            format!($($what)+),
            serde_json::to_string_pretty(&$check.verdict).unwrap_or_default(),
            $peer.log_tail()
        )
    };
}

/// The common "healthy server" assertions: up, ok, exit 0, the era and transport
/// expected, a protocol version of that era, at least one tool.
fn assert_ok(peer: &Peer, c: &Check, era: &str, transport: &str) {
    let v = &c.verdict;
    check_that!(v["status"] == "up", peer, c, "status is not up");
    check_that!(v["mode"] == "ok", peer, c, "mode is not ok");
    check_that!(c.exit == Some(0), peer, c, "exit code {:?}, want 0", c.exit);
    check_that!(v["era"] == era, peer, c, "era is not {era}");
    check_that!(
        v["transport"] == transport,
        peer,
        c,
        "transport is not {transport}"
    );
    let version = v["protocol_version"].as_str().unwrap_or_default();
    let version_fits = match era {
        "modern" => version == MODERN_REVISION,
        _ => LEGACY_REVISIONS.contains(&version),
    };
    check_that!(
        version_fits,
        peer,
        c,
        "protocol_version {version:?} is not a {era} revision"
    );
    let count = v["tools"]["count"].as_u64().unwrap_or(0);
    check_that!(count > 0, peer, c, "tools.count is {count}");
}

fn tool_names(v: &Value) -> Vec<&str> {
    v["tools"]["names"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

// ---- The tests ----

#[test]
fn python_sdk_2_is_modern_and_ok() {
    let Some(paths) = peer_paths(&["MCPROBE_PY_MCP2"]) else {
        return;
    };
    let peer = start_py("py-mcp2", &paths[0], "py_mcp2_server.py", free_port(), &[]);
    let c = check(&peer, &peer.url("/mcp"), &[]);
    assert_ok(&peer, &c, "modern", "streamable-http");
    let v = &c.verdict;
    check_that!(
        v["server"]["name"] == "mcprobe-peer-py-mcp2",
        peer,
        c,
        "server name"
    );
    check_that!(
        tool_names(v) == ["echo", "ping"] || tool_names(v) == ["ping", "echo"],
        peer,
        c,
        "tool names"
    );
}

#[test]
fn python_sdk_1_is_legacy_and_ok() {
    let Some(paths) = peer_paths(&["MCPROBE_PY_MCP1"]) else {
        return;
    };
    let peer = start_py("py-mcp1", &paths[0], "py_mcp1_server.py", free_port(), &[]);
    let c = check(&peer, &peer.url("/mcp"), &[]);
    assert_ok(&peer, &c, "legacy", "streamable-http");
    let v = &c.verdict;
    check_that!(
        v["server"]["name"] == "mcprobe-peer-py-mcp1",
        peer,
        c,
        "server name"
    );
    check_that!(tool_names(v).contains(&"ping"), peer, c, "ping is listed");
}

#[test]
fn server_everything_streamable_http_is_legacy_and_ok() {
    let Some(paths) = peer_paths(&["MCPROBE_NODE", "MCPROBE_EVERYTHING_JS"]) else {
        return;
    };
    let peer = start_everything(&paths[0], &paths[1], "streamableHttp");
    let c = check(&peer, &peer.url("/mcp"), &[]);
    assert_ok(&peer, &c, "legacy", "streamable-http");
    check_that!(
        tool_names(&c.verdict).contains(&"echo"),
        peer,
        c,
        "echo is listed"
    );
}

#[test]
fn server_everything_sse_is_legacy_over_the_old_transport() {
    let Some(paths) = peer_paths(&["MCPROBE_NODE", "MCPROBE_EVERYTHING_JS"]) else {
        return;
    };
    let peer = start_everything(&paths[0], &paths[1], "sse");
    // POST /sse answers 404 text/html here ("Cannot POST /sse"): the probe must fall
    // through discover and initialize to the GET `endpoint` event.
    let c = check(&peer, &peer.url("/sse"), &[]);
    assert_ok(&peer, &c, "legacy", "sse");
    let deprecated = c.verdict["findings"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f["mode"] == "deprecated_transport"));
    check_that!(deprecated, peer, c, "no deprecated_transport finding");
}

#[test]
fn python_sdk_2_drift_against_a_baseline_is_breaking() {
    let Some(paths) = peer_paths(&["MCPROBE_PY_MCP2"]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("mcprobe-peers-drift-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let drift_file = dir.join("drift");
    let baseline = dir.join("baseline.json");
    let _ = std::fs::remove_file(&baseline);
    std::fs::write(&drift_file, "0").expect("write drift file");
    let drift_env = drift_file.to_string_lossy().into_owned();
    let env = [("MCPROBE_DRIFT_FILE", drift_env.as_str())];
    let baseline_arg = baseline.to_string_lossy().into_owned();
    let port = free_port();

    let peer = start_py("py-mcp2-drift", &paths[0], "py_mcp2_server.py", port, &env);
    let url = peer.url("/mcp");
    let first = check(&peer, &url, &["--baseline", &baseline_arg]);
    assert_ok(&peer, &first, "modern", "streamable-http");
    check_that!(
        baseline.exists(),
        peer,
        first,
        "the first run did not write {}",
        baseline.display()
    );

    // Flip the knob and restart on the same port (the server reads it at startup).
    std::fs::write(&drift_file, "1").expect("flip drift file");
    drop(peer);
    let peer = start_py("py-mcp2-drift", &paths[0], "py_mcp2_server.py", port, &env);
    let second = check(&peer, &url, &["--baseline", &baseline_arg]);
    let v = &second.verdict;
    check_that!(
        v["mode"] == "schema_drift",
        peer,
        second,
        "mode is not schema_drift"
    );
    check_that!(
        v["status"] == "degraded",
        peer,
        second,
        "breaking drift is not degraded"
    );
    check_that!(
        second.exit == Some(1),
        peer,
        second,
        "exit code {:?}, want 1",
        second.exit
    );
    check_that!(
        v["drift"]["breaking"] == true,
        peer,
        second,
        "drift.breaking is not true"
    );
    let changes = v["drift"]["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let has = |kind: &str, param: &str| {
        changes
            .iter()
            .any(|c| c["kind"] == kind && c["tool"] == "echo" && c["param"] == param)
    };
    check_that!(
        has("param_removed", "upper"),
        peer,
        second,
        "echo.upper not reported removed"
    );
    check_that!(
        has("param_added", "channel") || has("required_added", "channel"),
        peer,
        second,
        "echo.channel not reported added"
    );
    drop(peer);
    let _ = std::fs::remove_dir_all(&dir);
}
