//! What the CLI's integration tests share (each test file says `mod support;`
//! and uses its own part): running a child (mcprobe, or GNU time around it)
//! under a watchdog with both pipes drained, reaped with `wait4` for its peak
//! RSS; `mcprobe check --json` run that way, its verdict read; the fleet's
//! binary built once; a scan report read.

// Each test binary compiles this file and uses only some of it.
#![allow(dead_code)]
// libc::kill and libc::wait4, on our own child only.
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A child that has ended (or been killed by the watchdog) and been reaped.
pub struct Finished {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// From `started` (before the spawn) to the reap.
    pub elapsed: Duration,
    /// Peak resident set size in KiB (Linux reports `ru_maxrss` in KiB).
    pub max_rss_kib: i64,
    /// Whether the watchdog had to kill it.
    pub killed: bool,
}

impl Finished {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// (exit code, stdout, stderr), as most assertions want them.
    pub fn outputs(&self) -> (Option<i32>, String, String) {
        (self.code, self.stdout_text(), self.stderr_text())
    }
}

/// Spawns `cmd` (stdin closed, stdout and stderr piped) and [`finish`]es it.
pub fn run(cmd: &mut Command, kill_after: Duration) -> Finished {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {}: {e}", cmd.get_program().to_string_lossy()));
    finish(child, started, kill_after)
}

/// Waits for `child` (stdout and stderr piped) and reaps it with `wait4` for
/// its rusage; a watchdog kills it after `kill_after`, so a hung child fails
/// the test instead of hanging it.
pub fn finish(mut child: Child, started: Instant, kill_after: Duration) -> Finished {
    let pid = child.id() as libc::pid_t;
    // Drained on threads: an output can be bigger than a pipe buffer (a
    // 10,000-tool verdict), and a child blocked on a full pipe never exits.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout piped")));
    let err = drain(Box::new(child.stderr.take().expect("stderr piped")));
    let (reaped_tx, reaped_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if reaped_rx.recv_timeout(kill_after).is_err() {
            // SAFETY: plain kill(2) on our own child, not yet reaped (the
            // reaper signals before this could be a stale pid).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            true
        } else {
            false
        }
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid pointers to locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    let _ = reaped_tx.send(());
    let killed = watchdog.join().unwrap_or(false);
    assert_eq!(reaped, pid, "wait4 failed for pid {pid}");
    // `child` was reaped by hand; dropping a std Child neither waits nor kills.
    drop(child);
    Finished {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed,
        max_rss_kib: usage.ru_maxrss,
        killed,
    }
}

/// One finished `mcprobe check --json`, its verdict parsed.
pub struct CheckRun {
    pub exit: Option<i32>,
    pub verdict: Value,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl CheckRun {
    /// The whole run, for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "exit {:?} after {:?}\nstdout: {}\nstderr: {}",
            self.exit, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// `mcprobe check --json --timeout SECS ARGS...` with extra environment (which
/// mcprobe passes on to a stdio server), killed after `kill_after`. Fails the
/// test when it had to be killed or printed no verdict.
pub fn check_json(
    timeout_s: u64,
    args: &[OsString],
    env: &[(&str, OsString)],
    kill_after: Duration,
) -> CheckRun {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcprobe"));
    c.args(["check", "--json", "--timeout", &timeout_s.to_string()])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v)));
    let done = run(&mut c, kill_after);
    let stdout = done.stdout_text();
    let stderr = done.stderr_text();
    assert!(
        !done.killed,
        "mcprobe was still running after {kill_after:?} and was killed\nstderr: {stderr}"
    );
    let verdict = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "no verdict JSON ({e}); exit {:?}\nstdout: {stdout}\nstderr: {stderr}",
            done.code
        )
    });
    CheckRun {
        exit: done.code,
        verdict,
        stdout,
        stderr,
        elapsed: done.elapsed,
    }
}

/// The `mcprobe-fleet` executable, built by Cargo on first use (Cargo gives
/// tests of another package no `CARGO_BIN_EXE_` for it).
pub fn fleet_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(build_fleet)
}

/// Asks Cargo for an up-to-date `mcprobe-fleet` (a no-op when it is one): a
/// binary left beside `mcprobe` by an older build would test old servers.
/// When Cargo cannot build it but a binary is there, that one is used.
fn build_fleet() -> PathBuf {
    let mcprobe = Path::new(env!("CARGO_BIN_EXE_mcprobe"));
    let beside = mcprobe.with_file_name(format!("mcprobe-fleet{}", std::env::consts::EXE_SUFFIX));
    // The profile these tests were built with, from its directory's name.
    let profile = match mcprobe
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
    {
        Some("debug") | None => "dev".to_string(),
        Some(other) => other.to_string(),
    };
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "--package",
            "mcprobe-testkit",
            "--bin",
            "mcprobe-fleet",
            "--profile",
            &profile,
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .expect("running cargo to build mcprobe-fleet");
    let built = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "mcprobe-fleet")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from));
    match built {
        Some(path) if out.status.success() => path,
        _ if beside.exists() => {
            println!(
                "note: cargo could not build mcprobe-fleet; using {}\n{}",
                beside.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            beside
        }
        _ => panic!(
            "cannot build mcprobe-fleet (cargo build -p mcprobe-testkit --bin mcprobe-fleet): {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A JSON file (`report.json`), read and parsed, or the test fails saying which.
pub fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A scan report's endpoints per mode (`audit.modes`).
pub fn mode_counts(report: &Value) -> BTreeMap<String, u64> {
    report["audit"]["modes"]
        .as_array()
        .expect("audit.modes")
        .iter()
        .map(|m| {
            (
                m["mode"].as_str().unwrap_or("").to_string(),
                m["count"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}
