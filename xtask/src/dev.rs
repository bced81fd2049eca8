//! Start here: `cargo xtask dev`, a newcomer's first five minutes (until the Worker
//! exists and `wrangler dev` takes over this task).
//!
//! 1. builds the CLI in release mode;
//! 2. starts the fault fleet (`mcprobe-fleet`, crates/testkit): every failure mcprobe
//!    names, each on its own 127.0.0.1 port. It prints one JSON line
//!    `{"ca_pem": path, "servers": {name: url}}` and serves until its stdin closes;
//! 3. runs `mcprobe check` against two healthy servers and a broken one, showing
//!    the human output;
//! 4. prints every URL and keeps the fleet up so one can try `mcprobe check <url>`
//!    by hand. Ctrl-C stops everything: the terminal sends SIGINT to the whole
//!    process group, and the fleet's stdin (a pipe from us) closes when we die, so
//!    it stops even if the signal did not reach it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::{cargo, display_cmd, run_cmd};

/// The healthy servers shown first, then the first broken one found of these.
const SHOWN_OK: [&str; 2] = ["ok-modern", "ok-legacy-json"];
const SHOWN_BROKEN: [&str; 4] = ["http-503", "handshake-html", "refused", "asleep-render"];

/// What the fleet announces on its first line.
struct FleetInfo {
    ca_pem: String,
    servers: BTreeMap<String, String>,
}

pub fn run(root: &Path) -> Result<()> {
    println!("dev: building the CLI (release)");
    run_cmd(
        cargo()
            .current_dir(root)
            .args(["build", "--release", "-p", "mcprobe"]),
    )?;
    let mcprobe = target_dir(root).join("release/mcprobe");
    if !mcprobe.exists() {
        bail!("built the CLI but {} is missing", mcprobe.display());
    }

    println!("dev: starting the fault fleet (cargo run -p mcprobe-testkit --bin mcprobe-fleet)");
    let mut fleet_cmd = cargo();
    fleet_cmd
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "-p",
            "mcprobe-testkit",
            "--bin",
            "mcprobe-fleet",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut fleet = fleet_cmd
        .spawn()
        .with_context(|| format!("could not start `{}`", display_cmd(&fleet_cmd)))?;
    // Held until the end: dropping it closes the fleet's stdin, which stops it.
    let fleet_stdin = fleet.stdin.take();
    let Some(stdout) = fleet.stdout.take() else {
        bail!("the fleet's stdout was not captured");
    };
    let mut lines = BufReader::new(stdout).lines();
    let first = match lines.next() {
        Some(line) => line.context("reading the fleet's first line")?,
        None => {
            let status = fleet.wait().context("waiting for the fleet")?;
            bail!("the fleet exited ({status}) before announcing its servers");
        }
    };
    let info = parse_fleet_line(&first)?;
    // Anything else the fleet prints goes on to our stdout, so the pipe never fills.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            println!("fleet: {line}");
        }
    });

    let broken = pick_broken(&info.servers);
    for name in SHOWN_OK.iter().copied().chain(broken.as_deref()) {
        let Some(url) = info.servers.get(name) else {
            println!("dev: the fleet has no `{name}` server; skipping it");
            continue;
        };
        println!("\n--- {name}: mcprobe check {url}");
        let mut check = Command::new(&mcprobe);
        check.arg("check").arg(url);
        if url.starts_with("https:") {
            check.arg("--cacert").arg(&info.ca_pem);
        }
        // A broken server exits 1: that is the point of showing it, not an error.
        let status = check
            .status()
            .with_context(|| format!("could not run `{}`", display_cmd(&check)))?;
        println!("--- exit code {}", status.code().unwrap_or(-1));
    }

    println!(
        "\ndev: the fault fleet is serving ({} servers):",
        info.servers.len()
    );
    let width = info.servers.keys().map(String::len).max().unwrap_or(0);
    for (name, url) in &info.servers {
        println!("  {name:width$}  {url}");
    }
    println!(
        "\ndev: try `{} check <url>` (add `--cacert {}` for https URLs, `--json` for the verdict JSON).",
        shown(root, &mcprobe),
        info.ca_pem
    );
    // The edge: the Worker under real workerd, local D1, loopback allowed so it
    // can probe the fleet. Dropping the guard stops wrangler and workerd.
    println!("\ndev: building the Worker and starting wrangler dev on http://127.0.0.1:8787");
    crate::worker::build(root)?;
    let edge = crate::worker::start_wrangler_dev(root, 8787)?;
    let ok_modern = info.servers.get("ok-modern").cloned().unwrap_or_default();
    println!("dev: the Worker is up at {}", edge.url());
    println!(
        "dev: try  curl -s -X POST {}/api/check -H 'content-type: application/json' -d '{{\"url\": \"{ok_modern}\"}}'",
        edge.url()
    );
    println!("dev: Ctrl-C stops everything.");
    let _ = std::io::stdout().flush();

    let status = fleet.wait().context("waiting for the fleet")?;
    drop(edge);
    drop(fleet_stdin);
    if !status.success() {
        bail!("the fleet stopped ({status})");
    }
    Ok(())
}

/// Where cargo puts binaries: `CARGO_TARGET_DIR` when set, else `target/`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn parse_fleet_line(line: &str) -> Result<FleetInfo> {
    let value: Value = serde_json::from_str(line)
        .with_context(|| format!("the fleet's first line is not JSON: {line:?}"))?;
    let ca_pem = value["ca_pem"]
        .as_str()
        .context("the fleet's first line has no string `ca_pem`")?
        .to_string();
    let servers = value["servers"]
        .as_object()
        .context("the fleet's first line has no object `servers`")?
        .iter()
        .filter_map(|(name, url)| Some((name.clone(), url.as_str()?.to_string())))
        .collect();
    Ok(FleetInfo { ca_pem, servers })
}

/// A broken server to show: a well-known one if the fleet has it, else the first
/// whose name does not start with `ok-` (names sort, so this is stable).
fn pick_broken(servers: &BTreeMap<String, String>) -> Option<String> {
    SHOWN_BROKEN
        .iter()
        .find(|name| servers.contains_key(**name))
        .map(|name| name.to_string())
        .or_else(|| servers.keys().find(|n| !n.starts_with("ok-")).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fleet_announcement() {
        let info = parse_fleet_line(
            r#"{"ca_pem":"/tmp/ca.pem","servers":{"ok-modern":"http://127.0.0.1:1/mcp","http-503":"http://127.0.0.1:2/mcp"}}"#,
        )
        .expect("parses");
        assert_eq!(info.ca_pem, "/tmp/ca.pem");
        assert_eq!(info.servers.len(), 2);
        assert_eq!(info.servers["ok-modern"], "http://127.0.0.1:1/mcp");
        assert_eq!(pick_broken(&info.servers).as_deref(), Some("http-503"));
    }

    #[test]
    fn rejects_an_announcement_without_servers() {
        let err = parse_fleet_line(r#"{"ca_pem":"/tmp/ca.pem"}"#)
            .err()
            .expect("no servers is an error");
        assert!(err.to_string().contains("servers"), "{err}");
        assert!(parse_fleet_line("Compiling...").is_err());
    }

    #[test]
    fn picks_any_broken_server_when_none_of_the_usual_exists() {
        let servers: BTreeMap<String, String> = [("ok-modern", "u1"), ("weird-one", "u2")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(pick_broken(&servers).as_deref(), Some("weird-one"));
    }
}
