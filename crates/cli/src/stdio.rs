//! Start here: the stdio host. `mcprobe check -- CMD ARGS...` starts the
//! server itself, feeds the probe what the child writes on stdout, writes
//! what the probe sends to its stdin, and always reaps the child: stdin is
//! closed, a grace period passes, then it is killed and waited for.

use std::process::Stdio;
use std::time::Duration;

use mcprobe_core::{Action, Probe, Verdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::mpsc;

use crate::host::Clock;

enum Out {
    Stdout(Vec<u8>),
    Closed,
}

/// Lines of the child's stderr quoted when it dies, and their cap in
/// characters: enough for an error a few lines above the stack trace.
const STDERR_LINES: usize = 5;
const STDERR_CHARS: usize = 600;

/// Runs a stdio probe to its verdict. Err only when no command was given; a
/// command that cannot start is a verdict (`connect_refused`).
pub async fn run_stdio(
    mut probe: Probe,
    clock: &Clock,
    argv: &[String],
) -> anyhow::Result<(Verdict, Option<mcprobe_core::fingerprint::Snapshot>)> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("no command after --"))?;
    let spawned = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let why = format!("cannot start {program:?}: {e}; check the command and your PATH");
            probe.on_stdio_spawn_failed(&why, clock.now_ms());
            return Ok(finish_unstarted(probe, clock));
        }
    };
    let stdin = child.stdin.take();
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout pipe"))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr pipe"))?;
    // Writes go through their own task: a child that stops reading its stdin
    // blocks that task, never the probe's loop, so the deadline still holds.
    let (write_tx, mut write_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        let Some(mut pipe) = stdin else {
            return;
        };
        while let Some(bytes) = write_rx.recv().await {
            if pipe.write_all(&bytes).await.is_err() || pipe.flush().await.is_err() {
                return;
            }
        }
    });
    let (tx, mut rx) = mpsc::channel::<Out>(64);
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match stdout.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Out::Closed).await;
                    return;
                }
                Ok(n) => {
                    if tx.send(Out::Stdout(buf[..n].to_vec())).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    // Keep the last few KiB of stderr, for the reason when the child dies.
    let tail = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let tail_writer = tail.clone();
    let mut stderr_task = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            if let Ok(mut t) = tail_writer.lock() {
                t.extend_from_slice(&buf[..n]);
                let excess = t.len().saturating_sub(4096);
                t.drain(..excess);
            }
        }
    });
    let mut closed = false;
    let verdict = loop {
        match probe.poll(clock.now_ms()) {
            Action::StdioWrite { bytes } => {
                // A send fails only once the writer gave up (the pipe broke):
                // the closed stdout tells the probe.
                let _ = write_tx.send(bytes);
            }
            Action::Wait { until_ms } => {
                tokio::select! {
                    Some(out) = rx.recv(), if !closed => match out {
                        Out::Stdout(chunk) => probe.on_stdout(&chunk, clock.now_ms()),
                        Out::Closed => {
                            closed = true;
                            let status = tokio::time::timeout(Duration::from_millis(200), child.wait()).await;
                            let mut detail = match status {
                                Ok(Ok(s)) => format!("the server exited ({s})"),
                                _ => "the server closed its stdout".to_string(),
                            };
                            // Give stderr a moment to drain its last words.
                            let _ = tokio::time::timeout(Duration::from_millis(100), &mut stderr_task).await;
                            if let Some(lines) = last_lines(&tail) {
                                detail.push_str(&format!("; its last words on stderr: {lines}"));
                            }
                            probe.on_stdio_closed(&detail, clock.now_ms());
                        }
                    },
                    _ = tokio::time::sleep_until(clock.instant_at(until_ms)) => {}
                }
            }
            Action::Done(v) => break *v,
            Action::Connect { .. } | Action::Http { .. } | Action::Cancel { .. } => {}
        }
    };
    // Reap: close stdin (a polite server exits), wait briefly, then kill. The
    // writer may be stuck on a full pipe: stopping it drops (closes) stdin.
    drop(write_tx);
    writer.abort();
    let _ = writer.await;
    if tokio::time::timeout(Duration::from_millis(500), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
        let _ = child.wait().await;
    }
    reader.abort();
    stderr_task.abort();
    Ok((verdict, probe.snapshot().cloned()))
}

/// The verdict of a probe whose child never started (nothing to write to).
fn finish_unstarted(
    mut probe: Probe,
    clock: &Clock,
) -> (Verdict, Option<mcprobe_core::fingerprint::Snapshot>) {
    // The probe is done at once; the bound only guards against a bug.
    for _ in 0..64 {
        if let Action::Done(v) = probe.poll(clock.now_ms()) {
            return (*v, None);
        }
    }
    unreachable!("a probe told its child cannot start finishes at once")
}

/// The last few non-empty lines of the stderr tail (at most
/// [`STDERR_LINES`], joined with " | ", cut to [`STDERR_CHARS`] from the
/// front so the last line stays whole). When none of them reads as an error
/// but an earlier line does (an error above a stack trace), that line leads.
fn last_lines(tail: &std::sync::Mutex<Vec<u8>>) -> Option<String> {
    let bytes = tail.lock().ok()?.clone();
    let text = String::from_utf8_lossy(&bytes);
    Some(quote_stderr(&text)).filter(|q| !q.is_empty())
}

fn quote_stderr(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.chars().filter(|c| !c.is_control()).collect::<String>())
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(STDERR_LINES);
    let mut quoted: Vec<&str> = lines[start..].iter().map(String::as_str).collect();
    if !quoted.iter().any(|l| reads_as_error(l)) {
        if let Some(err) = lines[..start].iter().rev().find(|l| reads_as_error(l)) {
            quoted.insert(0, err);
            quoted.insert(1, "...");
        }
    }
    let joined = quoted.join(" | ");
    let n = joined.chars().count();
    if n <= STDERR_CHARS {
        return joined;
    }
    let kept: String = joined.chars().skip(n - STDERR_CHARS + 1).collect();
    format!("…{kept}")
}

/// A line that names an error: what a crash quote must not leave out.
fn reads_as_error(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "error",
        "exception",
        "fatal",
        "panicked",
        "traceback",
        "cannot",
        "failed",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lines_are_quoted_together() {
        let q = quote_stderr("starting\nfatal: no config\n  while loading x\nbye\n\n");
        assert_eq!(q, "starting | fatal: no config | while loading x | bye");
    }

    #[test]
    fn an_error_above_a_long_stack_trace_leads_the_quote() {
        let mut text = String::from("Error: Cannot find module 'zod'\n");
        for i in 0..10 {
            text.push_str(&format!("    at frame{i} (file.js:{i})\n"));
        }
        let q = quote_stderr(&text);
        assert!(
            q.starts_with("Error: Cannot find module 'zod' | ... | at frame5"),
            "{q}"
        );
        assert!(q.ends_with("at frame9 (file.js:9)"), "{q}");
    }

    #[test]
    fn the_quote_is_capped_from_the_front() {
        let text = format!("{}\nlast words\n", "x".repeat(5_000));
        let q = quote_stderr(&text);
        assert_eq!(q.chars().count(), STDERR_CHARS, "{q}");
        assert!(q.starts_with('…') && q.ends_with("last words"), "{q}");
        assert_eq!(quote_stderr("\n \n"), "");
    }
}
