//! Timing one run of a process, and the median and p95 of many.

use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::display_cmd;

/// One client run that takes longer than this is hung, not slow: it is killed and
/// the bench fails, so the bench always ends.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// Median and nearest-rank p95 (with 15 runs, p95 is the slowest run).
pub(super) fn median_p95(samples: &mut [f64]) -> Option<(f64, f64)> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    };
    let rank = (n as f64 * 0.95).ceil() as usize;
    Some((median, samples[rank.clamp(1, n) - 1]))
}

/// One finished client run.
pub(super) struct TimedRun {
    pub(super) elapsed: Duration,
    pub(super) status: ExitStatus,
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
}

/// Runs `cmd` to completion, timing spawn to exit (what a user waits for). A watchdog
/// kills it by pid after [`RUN_LIMIT`] so a hung client ends the bench instead of
/// stalling it; the main thread tells the watchdog when the run is over.
pub(super) fn timed_run(cmd: &mut Command) -> Result<TimedRun> {
    let line = display_cmd(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("could not start `{line}`"))?;
    let pid = child.id().to_string();
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(RUN_LIMIT) == Err(mpsc::RecvTimeoutError::Timeout) {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            return true;
        }
        false
    });
    let out = child.wait_with_output();
    let elapsed = started.elapsed();
    let _ = done.send(());
    let killed = watchdog.join().unwrap_or(false);
    let out = out.with_context(|| format!("waiting for `{line}`"))?;
    if killed {
        bail!(
            "`{line}` did not finish within {}s and was killed",
            RUN_LIMIT.as_secs()
        );
    }
    Ok(TimedRun {
        elapsed,
        status: out.status,
        stdout: out.stdout,
        stderr: out.stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p95_by_nearest_rank() {
        let mut fifteen: Vec<f64> = (1..=15).rev().map(f64::from).collect();
        assert_eq!(median_p95(&mut fifteen), Some((8.0, 15.0)));
        let mut twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(median_p95(&mut twenty), Some((10.5, 19.0)));
        assert_eq!(median_p95(&mut []), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_timed_run_keeps_exit_code_and_output() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let r = timed_run(&mut cmd).expect("runs");
        assert_eq!(r.status.code(), Some(3));
        assert_eq!(r.stdout, b"out\n");
        assert_eq!(r.stderr, b"err\n");
        assert!(r.elapsed < RUN_LIMIT);
        let missing = timed_run(&mut Command::new("/nonexistent/mcprobe-bench"));
        assert!(missing.is_err());
    }
}
