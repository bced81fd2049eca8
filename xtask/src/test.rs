//! Start here: `cargo xtask test`, everything CI checks, in the order that fails
//! fastest: tools (including Chromium and playwright-core for the browser
//! tests), formatting, lints, the wasm build of the core, the tests, and last
//! `cargo xtask dev --smoke`, the newcomer's command checked end to end.
//!
//! Each stage prints a header and its duration; the first failing stage stops the
//! run with a non-zero exit naming it, and a last line sums the stages up. The
//! tests get the real MCP peers through `MCPROBE_*` variables with
//! `MCPROBE_REQUIRE_PEERS=1`, so a missing peer fails CI instead of skipping.
//! Plain `cargo test` (not nextest): CI reads its "test result:" lines. The
//! edge tests (`crates/edge-tests`, a `wrangler dev` per test) run in a lane
//! of their own beside the rest of the workspace's tests: together, not one
//! after the other, since both mostly wait on servers.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::tools::{Tools, WASM_TARGET};
use crate::{cargo, display_cmd, fmt_duration, run_cmd};

/// One stage: a name for the logs and what it runs.
struct Stage {
    name: &'static str,
    action: Action,
}

enum Action {
    Install,
    Run(Command),
    /// A task of our own (the newcomer's `cargo xtask dev --smoke`).
    Call(fn(&Path) -> Result<()>),
    /// Commands run at the same time (lanes), their output passed on line by
    /// line; the stage fails if any of them does.
    Together(Vec<(&'static str, Command)>),
}

/// `extra` goes to `cargo test` (e.g. `cargo xtask test -- peers`).
pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    let tools = Tools::new(root);
    // Only the first `--` is ours: `cargo xtask test -- -- --nocapture` keeps the second.
    let extra: Vec<&String> = match extra.split_first() {
        Some((first, rest)) if first == "--" => rest.iter().collect(),
        _ => extra.iter().collect(),
    };
    let stages = stages(root, &tools, &extra);
    let total = stages.len();
    let mut done: Vec<(&str, Duration)> = Vec::new();
    let started = Instant::now();

    for (i, stage) in stages.into_iter().enumerate() {
        let what = match &stage.action {
            Action::Install => {
                "install missing tools into .tools/ (the Worker's, Chromium, playwright-core)"
                    .to_string()
            }
            Action::Run(cmd) => display_cmd(cmd),
            Action::Call(_) => {
                "cargo xtask dev --smoke (the demo monitor up, its badge, the page)".to_string()
            }
            Action::Together(lanes) => lanes
                .iter()
                .map(|(name, cmd)| format!("[{name}] {}", display_cmd(cmd)))
                .collect::<Vec<_>>()
                .join(" & "),
        };
        println!("==> [{}/{total}] {}: {what}", i + 1, stage.name);
        let stage_started = Instant::now();
        let result = match stage.action {
            Action::Install => crate::install_all(root),
            Action::Run(mut cmd) => run_cmd(cmd.current_dir(root)),
            Action::Call(task) => task(root),
            Action::Together(lanes) => run_together(root, lanes),
        };
        let took = stage_started.elapsed();
        if let Err(e) = result {
            println!(
                "<== [{}/{total}] {} FAILED after {}",
                i + 1,
                stage.name,
                fmt_duration(took)
            );
            println!("{}", summary(&done, Some(stage.name), started.elapsed()));
            bail!("stage `{}` failed: {e:#}", stage.name);
        }
        println!(
            "<== [{}/{total}] {} ok in {}",
            i + 1,
            stage.name,
            fmt_duration(took)
        );
        done.push((stage.name, took));
    }
    println!("{}", summary(&done, None, started.elapsed()));
    Ok(())
}

fn stages(root: &Path, tools: &Tools, extra: &[&String]) -> Vec<Stage> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);

    let mut wasm = cargo();
    wasm.args([
        "build",
        "-p",
        "mcprobe-core",
        "-p",
        "mcprobe-monitor",
        "-p",
        "mcprobe-registry",
        "--target",
        WASM_TARGET,
    ]);

    // Two lanes at once: the edge tests (a wrangler dev per test, mostly
    // waiting on workerd and the cron) beside everything else (mostly waiting
    // on servers and peers). One after the other they were the bulk of CI.
    let mut rest = test_command(root, tools);
    rest.args(["--workspace", "--exclude", EDGE_TESTS])
        .args(extra);
    let mut edge = test_command(root, tools);
    edge.args(["-p", EDGE_TESTS]).args(extra);

    let mut stages = vec![
        Stage {
            name: "tools",
            action: Action::Install,
        },
        Stage {
            name: "fmt",
            action: Action::Run(fmt),
        },
        Stage {
            name: "clippy",
            action: Action::Run(clippy),
        },
        Stage {
            name: "wasm",
            action: Action::Run(wasm),
        },
        Stage {
            name: "test",
            action: Action::Together(vec![("tests", rest), ("edge", edge)]),
        },
    ];
    // Last, as a newcomer would: `cargo xtask dev` on this clone gives the
    // demo monitor, its badge and the page (skipped in a filtered run).
    if extra.is_empty() {
        stages.push(Stage {
            name: "dev-smoke",
            action: Action::Call(|root| crate::dev::run(root, &["--smoke".to_string()])),
        });
    }
    stages
}

/// The package whose tests run the Worker under wrangler dev (the edge lane).
const EDGE_TESTS: &str = "mcprobe-edge-tests";

/// `cargo test` with the real peers wired in (package selection and filter
/// are the caller's).
fn test_command(root: &Path, tools: &Tools) -> Command {
    let mut test = cargo();
    // Every failing binary, not just the first: a lane that stopped early
    // would hide the failures after it until the next run.
    test.args(["test", "--no-fail-fast"]).current_dir(root);
    // The paths are computed, not checked, here: the install stage runs first, and
    // a peer that is still missing then fails the tests by name (REQUIRE_PEERS).
    test.env("MCPROBE_NODE", tools.node())
        .env("MCPROBE_EVERYTHING_JS", tools.everything_js())
        .env("MCPROBE_PY_MCP1", tools.py_mcp1())
        .env("MCPROBE_PY_MCP2", tools.py_mcp2())
        .env("MCPROBE_PEERS_DIR", root.join("peers"))
        .env("MCPROBE_REAL_PEERS_NPM", tools.real_peers_npm())
        .env("MCPROBE_REAL_PEERS_PY", tools.real_peers_py())
        .env("MCPROBE_REQUIRE_PEERS", "1")
        // The edge tests build the Worker (and the browser test the page)
        // themselves and run them under wrangler dev.
        .env("MCPROBE_REQUIRE_WORKER", "1")
        .env("MCPROBE_REQUIRE_BROWSER", "1");
    test
}

/// Runs the lanes at once and waits for all of them. Each output line is
/// printed whole and unchanged as it comes (CI reads the `test result:`
/// lines; a failing test names itself in libtest's `failures:` block). Fails
/// naming every lane that failed.
fn run_together(root: &Path, lanes: Vec<(&'static str, Command)>) -> Result<()> {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;

    let mut running = Vec::new();
    let mut printers = Vec::new();
    for (name, mut cmd) in lanes {
        let line = display_cmd(&cmd);
        let mut child = cmd
            .current_dir(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start `{line}`"))?;
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            printers.push(std::thread::spawn(move || {
                for text in BufReader::new(stream).lines().map_while(|l| l.ok()) {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{text}");
                }
            }));
        }
        running.push((name, line, child));
    }
    let mut failed = Vec::new();
    for (name, line, mut child) in running {
        match child.wait() {
            Ok(status) if status.success() => println!("[{name}] done: `{line}`"),
            Ok(status) => failed.push(format!("{name} (`{line}`: {status})")),
            Err(e) => failed.push(format!("{name} (`{line}`: {e})")),
        }
    }
    for printer in printers {
        let _ = printer.join();
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("failed: {}", failed.join(", "))
    }
}

/// `xtask test: ok: tools 0.1s, fmt 0.4s, ... (total 1m02s)` or, on failure,
/// `xtask test: FAILED at clippy: tools 0.1s, fmt 0.4s (total 9.0s)`.
fn summary(done: &[(&str, Duration)], failed: Option<&str>, total: Duration) -> String {
    let stages: Vec<String> = done
        .iter()
        .map(|(name, took)| format!("{name} {}", fmt_duration(*took)))
        .collect();
    let head = match failed {
        None => "ok".to_string(),
        Some(name) => format!("FAILED at {name}"),
    };
    let listed = if stages.is_empty() {
        "no stage passed".to_string()
    } else {
        stages.join(", ")
    };
    format!(
        "xtask test: {head}: {listed} (total {})",
        fmt_duration(total)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_the_failed_stage_and_the_passed_ones() {
        let done = [
            ("tools", Duration::from_millis(100)),
            ("fmt", Duration::from_millis(400)),
        ];
        assert_eq!(
            summary(&done, Some("clippy"), Duration::from_secs(9)),
            "xtask test: FAILED at clippy: tools 0.1s, fmt 0.4s (total 9.0s)"
        );
        assert_eq!(
            summary(&done, None, Duration::from_secs(62)),
            "xtask test: ok: tools 0.1s, fmt 0.4s (total 1m02s)"
        );
        assert_eq!(
            summary(&[], Some("tools"), Duration::from_secs(1)),
            "xtask test: FAILED at tools: no stage passed (total 1.0s)"
        );
    }

    #[test]
    fn stages_run_in_the_documented_order_with_peers_wired() {
        let root = Path::new("/repo");
        let tools = Tools::new(root);
        let stages = stages(root, &tools, &[]);
        let names: Vec<&str> = stages.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            ["tools", "fmt", "clippy", "wasm", "test", "dev-smoke"]
        );
        // A filtered run (`cargo xtask test -- peers`) is only those tests.
        let filtered = super::stages(root, &tools, &[&"peers".to_string()]);
        assert_eq!(filtered.len(), 5);
        let Action::Together(lanes) = &stages[4].action else {
            panic!("the test stage runs its lanes together");
        };
        // Every test runs in exactly one lane: the edge package in its own,
        // the rest of the workspace without it.
        let args = |cmd: &Command| -> Vec<String> {
            cmd.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(lanes.len(), 2);
        assert_eq!(
            args(&lanes[0].1),
            [
                "test",
                "--no-fail-fast",
                "--workspace",
                "--exclude",
                EDGE_TESTS
            ]
        );
        assert_eq!(
            args(&lanes[1].1),
            ["test", "--no-fail-fast", "-p", EDGE_TESTS]
        );
        let Action::Together(filtered_lanes) = &filtered[4].action else {
            panic!("the filtered test stage runs its lanes together");
        };
        for (_, lane) in filtered_lanes {
            assert_eq!(args(lane).last().map(String::as_str), Some("peers"));
        }
        for (lane, test) in lanes {
            let envs: Vec<(String, String)> = test
                .get_envs()
                .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
                .collect();
            for key in [
                "MCPROBE_NODE",
                "MCPROBE_EVERYTHING_JS",
                "MCPROBE_PY_MCP1",
                "MCPROBE_PY_MCP2",
                "MCPROBE_PEERS_DIR",
                "MCPROBE_REAL_PEERS_NPM",
                "MCPROBE_REAL_PEERS_PY",
            ] {
                let value = envs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
                assert!(
                    value.is_some_and(|v| v.starts_with("/repo/")),
                    "{lane}: {key} = {value:?}"
                );
            }
            assert!(envs.contains(&("MCPROBE_REQUIRE_PEERS".into(), "1".into())));
        }
    }
}
