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

/// Runs a stdio probe to its verdict. Err only when the command cannot start.
pub async fn run_stdio(
    mut probe: Probe,
    clock: &Clock,
    argv: &[String],
) -> anyhow::Result<(Verdict, Option<mcprobe_core::fingerprint::Snapshot>)> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("no command after --"))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!("cannot start {program:?}: {e}; check the command and your PATH")
        })?;
    let mut stdin = child.stdin.take();
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout pipe"))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr pipe"))?;
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
                if let Some(pipe) = stdin.as_mut() {
                    if pipe.write_all(&bytes).await.is_err() || pipe.flush().await.is_err() {
                        stdin = None;
                    }
                }
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
                            if let Some(line) = last_line(&tail) {
                                detail.push_str(&format!("; its last words on stderr: {line}"));
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
    // Reap: close stdin (a polite server exits), wait briefly, then kill.
    drop(stdin);
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

/// The last non-empty line of the stderr tail, trimmed to 200 characters.
fn last_line(tail: &std::sync::Mutex<Vec<u8>>) -> Option<String> {
    let bytes = tail.lock().ok()?.clone();
    let text = String::from_utf8_lossy(&bytes);
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?.trim();
    Some(line.chars().filter(|c| !c.is_control()).take(200).collect())
}
