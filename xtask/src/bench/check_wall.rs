//! Part 3 of `cargo xtask bench`: `mcprobe check` against the MCP Inspector
//! CLI, wall time per fresh process, against one server-everything.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::measure::{median_p95, timed_run, TimedRun};
use super::util::{path_with, tail, target_dir};
use crate::display_cmd;
use crate::tools::Tools;

/// Runs of each client thrown away first (disk cache, node's compile cache, the
/// server's first-request JIT), then runs that count.
pub(super) const WARMUPS: usize = 2;
pub(super) const TIMED_RUNS: usize = 15;

/// What each client does per run, printed next to its numbers so nobody reads the
/// ratio as like for like.
pub(super) const MCPROBE_DOES: &str = "discover + initialize + tools/list + safe call + validation";
pub(super) const INSPECTOR_DOES: &str = "initialize + tools/list";

// ---- Part 3: mcprobe check vs the inspector, wall time ----

/// Median and p95 of one client's timed runs, plus what it saw.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Wall {
    pub(super) runs: usize,
    pub(super) median_ms: f64,
    pub(super) p95_ms: f64,
    pub(super) tools_seen: usize,
}

pub(super) struct Walls {
    pub(super) url: String,
    pub(super) mcprobe: Wall,
    pub(super) inspector: Wall,
}

pub(super) fn wall_times(root: &Path, tools: &Tools, mcprobe: &Path) -> Result<Walls> {
    let server = Server::start(root, tools)?;
    let url = format!("http://127.0.0.1:{}/mcp", server.port);

    let mut probe = Command::new(mcprobe);
    probe.args(["check", &url, "--json"]);
    let mut inspector = Command::new(tools.npm_dir().join("node_modules/.bin/inspector"));
    // `--cli` first: the launcher reads it before handing the rest to the CLI client.
    inspector
        .args([
            "--cli",
            &url,
            "--transport",
            "http",
            "--method",
            "tools/list",
        ])
        .env("PATH", path_with(&tools.node_bin_dir())?);
    for cmd in [&mut probe, &mut inspector] {
        // Both talk to 127.0.0.1 directly, whatever proxy the shell has configured.
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
            cmd.env_remove(var).env_remove(var.to_ascii_lowercase());
        }
    }

    let (mut probe_ms, mut inspector_ms) = (Vec::new(), Vec::new());
    let (mut probe_tools, mut inspector_tools) = (0, 0);
    // Alternating spreads any drift in machine load over both clients equally.
    for i in 0..WARMUPS + TIMED_RUNS {
        let label = if i < WARMUPS {
            format!("warm-up {} of {WARMUPS}", i + 1)
        } else {
            format!("run {} of {TIMED_RUNS}", i - WARMUPS + 1)
        };
        let r = timed_run(&mut probe)?;
        probe_tools = mcprobe_ok(r.status, &r.stdout)
            .with_context(|| failure(&probe, &label, &r, &server))?;
        let s = timed_run(&mut inspector)?;
        inspector_tools = inspector_ok(s.status, &s.stdout)
            .with_context(|| failure(&inspector, &label, &s, &server))?;
        if i >= WARMUPS {
            probe_ms.push(r.elapsed.as_secs_f64() * 1e3);
            inspector_ms.push(s.elapsed.as_secs_f64() * 1e3);
        }
    }
    let (median_ms, p95_ms) = median_p95(&mut probe_ms).context("no timed mcprobe runs")?;
    let mcprobe = Wall {
        runs: probe_ms.len(),
        median_ms,
        p95_ms,
        tools_seen: probe_tools,
    };
    let (median_ms, p95_ms) = median_p95(&mut inspector_ms).context("no timed inspector runs")?;
    let inspector = Wall {
        runs: inspector_ms.len(),
        median_ms,
        p95_ms,
        tools_seen: inspector_tools,
    };
    drop(server);
    Ok(Walls {
        url,
        mcprobe,
        inspector,
    })
}

/// The failure message for one client run: what ran, how it ended, its output and
/// the server's log.
fn failure(cmd: &Command, label: &str, r: &TimedRun, server: &Server) -> String {
    format!(
        "{label}: `{}` failed ({}, after {} ms)\nstdout: {}\nstderr: {}\n{}",
        display_cmd(cmd),
        r.status,
        r.elapsed.as_millis(),
        tail(&String::from_utf8_lossy(&r.stdout), 40),
        tail(&String::from_utf8_lossy(&r.stderr), 20),
        server.log_tail(),
    )
}

/// mcprobe must exit 0 with a verdict saying `"status": "up"`; returns its tool count.
fn mcprobe_ok(status: ExitStatus, stdout: &[u8]) -> Result<usize> {
    let verdict: Value = serde_json::from_slice(stdout)
        .with_context(|| format!("mcprobe printed no verdict JSON (exit {status})"))?;
    if verdict["status"] != "up" {
        bail!(
            "mcprobe says status {} (mode {}): {}",
            verdict["status"],
            verdict["mode"],
            verdict["reason"].as_str().unwrap_or("no reason given")
        );
    }
    if !status.success() {
        bail!("mcprobe said status up but exited with {status}");
    }
    Ok(verdict["tools"]["count"].as_u64().unwrap_or(0) as usize)
}

/// The inspector must exit 0 and print a `tools/list` result with at least one tool;
/// returns how many.
fn inspector_ok(status: ExitStatus, stdout: &[u8]) -> Result<usize> {
    if !status.success() {
        bail!("the inspector exited with {status}");
    }
    let result: Value = serde_json::from_slice(stdout)
        .context("the inspector exited 0 but printed no JSON result")?;
    match result["tools"].as_array() {
        Some(tools) if !tools.is_empty() => Ok(tools.len()),
        _ => bail!("the inspector exited 0 but its result lists no tools"),
    }
}

/// server-everything (`streamableHttp`, serving `/mcp`) on a free 127.0.0.1 port;
/// killed and reaped when dropped, whichever way the bench ends.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    /// Started the way `crates/cli/tests/peers.rs` starts it: node 22, the loopback
    /// preload (server-everything has no host setting and would listen everywhere), a
    /// cleared environment (its `get-env` tool echoes it) plus PORT and a gzip tool
    /// allowed to fetch only from loopback.
    fn start(root: &Path, tools: &Tools) -> Result<Server> {
        let port = free_port()?;
        let dir = target_dir(root).join("bench");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let log = dir.join("server-everything.log");
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().context("cloning the server log handle")?;
        let mut cmd = Command::new(tools.node());
        cmd.arg("--require")
            .arg(tools.peers_dir().join("loopback.cjs"))
            .arg(tools.everything_js())
            .arg("streamableHttp")
            .env_clear()
            .env("PATH", path_with(&tools.node_bin_dir())?)
            .env("PORT", port.to_string())
            .env("GZIP_ALLOWED_DOMAINS", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .with_context(|| format!("could not start `{}`", display_cmd(&cmd)))?;
        let mut server = Server { child, port, log };
        server.wait_ready()?;
        Ok(server)
    }

    /// Ready is the port accepting a TCP connection, as in peers.rs; bounded at about
    /// 20 s, and an early exit fails at once with the server's log.
    fn wait_ready(&mut self) -> Result<()> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        for _ in 0..400 {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(50)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "server-everything exited ({status}) before listening on {addr}\n{}",
                    self.log_tail()
                );
            }
            // A refused connect returns at once: this paces the polling.
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "server-everything did not listen on {addr} within ~20 s\n{}",
            self.log_tail()
        )
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!(
            "--- server-everything log ({}) ---\n{}",
            self.log.display(),
            tail(&text, 30)
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (another process could take it before the
/// server binds; the readiness wait then fails with the server's log saying so).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener
        .local_addr()
        .context("reading the bound port")?
        .port())
}

/// Hand-made figures for the report's tests.
#[cfg(test)]
pub(super) fn walls(mcprobe_ms: f64, inspector_ms: f64) -> Walls {
    let wall = |median_ms| Wall {
        runs: 15,
        median_ms,
        p95_ms: median_ms * 1.5,
        tools_seen: 13,
    };
    Walls {
        url: "http://127.0.0.1:4000/mcp".into(),
        mcprobe: wall(mcprobe_ms),
        inspector: wall(inspector_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::exit;
    use super::*;

    #[cfg(unix)]
    #[test]
    fn mcprobe_must_exit_0_and_say_up() {
        let up = br#"{"status":"up","mode":"ok","tools":{"count":13}}"#;
        assert_eq!(mcprobe_ok(exit(0), up).expect("up"), 13);
        let down = br#"{"status":"down","mode":"connect_refused","reason":"Nothing is listening"}"#;
        let err = mcprobe_ok(exit(1), down).expect_err("down");
        assert!(err.to_string().contains("connect_refused"), "{err}");
        assert!(mcprobe_ok(exit(2), up).is_err(), "up but non-zero exit");
        assert!(mcprobe_ok(exit(0), b"error: bad url").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn inspector_must_exit_0_and_list_tools() {
        let listed = br#"{"tools":[{"name":"echo"},{"name":"add"}]}"#;
        assert_eq!(inspector_ok(exit(0), listed).expect("ok"), 2);
        assert!(inspector_ok(exit(4), listed).is_err());
        assert!(inspector_ok(exit(0), br#"{"tools":[]}"#).is_err());
        assert!(inspector_ok(exit(0), b"{\"error\":{}}").is_err());
    }
}
