//! What the CLI's integration tests share (each test file says `mod support;`
//! and uses its own part): running a child (mcprobe, or GNU time around it)
//! under a watchdog with both pipes drained, reaped with `wait4` for its peak
//! RSS; and `mcprobe check --json` run that way, its verdict read.

// Each test binary compiles this file and uses only some of it.
#![allow(dead_code)]
// libc::kill and libc::wait4, on our own child only.
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
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
