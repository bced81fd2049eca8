//! Start here: `cargo xtask <task>`, the project's own build-and-run tasks.
//!
//! The alias in `.cargo/config.toml` runs this crate. Each task lives in its own
//! module so a newcomer can read one at a time:
//!
//! - `tools`: idempotent installs of every outside tool into the git-ignored `.tools/`
//!   (node 22, the official MCP peers from npm and PyPI, the wasm target).
//! - `test`: what CI runs (`.ci/run`): install, fmt, clippy, wasm build, tests with the
//!   real peers wired in through environment variables.
//! - `dev`: build the CLI, start the fault fleet, show a few checks, keep serving.
//! - `bench`: the hot path (native and wasm), mcprobe vs the MCP Inspector CLI, the
//!   scan and the Worker under load.
//!
//! No clap: a handful of words is easier to read as a `match`, and this crate should
//! build in seconds because CI builds it before anything else.

mod bench;
mod dev;
mod test;
mod tools;
mod worker;

// The library half (lib.rs), shared with crates/edge-tests.
use xtask::web;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{bail, Context, Result};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  test [-- <cargo test args>]  install missing tools, then fmt, clippy, wasm build, tests
                               with the real MCP peers (what .ci/run does)
  install                      only install the missing tools into .tools/
  env                          print the MCPROBE_* variables that point tests at the peers
                               (eval \"$(cargo xtask env)\" then cargo test -p mcprobe --test peers)
  dev [--smoke [--keep-state]] build the CLI, start the fault fleet, run a few checks, run
                               the Worker under wrangler dev on 127.0.0.1:8787 with a demo
                               monitor, fire its cron every minute, serve until Ctrl-C
                               (`--smoke`: wait until the demo is up, print the time, stop)
  web                          build the web page (crates/web + www/) into build/www/, the
                               Worker's static assets (before `wrangler deploy`)
  bench                        hot path and one whole probe (native + wasm), mcprobe vs the
                               MCP Inspector, a scan of 2,000 endpoints, 2,000 monitors on
                               the Worker; prints a table, writes target/bench/report.md
                               (`bench scan`, `bench edge`: one section alone)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(&repo_root(), &args[1..]),
        Some("install") => install_all(&repo_root()),
        Some("env") => print_env(&repo_root()),
        Some("dev") => dev::run(&repo_root(), &args[1..]),
        Some("bench") => bench::run(&repo_root(), &args[1..]),
        Some("web") => web::build(&web::WebPaths::new(&repo_root()), true).map(|r| {
            println!("{}", r.line());
        }),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => {
            eprint!("xtask: unknown task `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The chain, one cause a line: the top says what failed, the rest why.
            eprintln!("xtask: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask's own manifest sits one level below it, so this holds
/// wherever `cargo xtask` is typed from.
fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The cargo that runs us (cargo sets `CARGO` for `cargo run`), so nested builds use
/// the same toolchain as the outer one.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Every tool the tests and `dev` use: the peers and the Worker's tools
/// (worker.rs), Chromium and playwright-core for the browser tests (web.rs).
fn install_all(root: &Path) -> Result<()> {
    worker::install(root)?;
    web::install_chromium()?;
    web::install_playwright(&web::WebPaths::new(root))
}

/// `cargo xtask env`: shell lines for running the peer tests by hand.
fn print_env(root: &Path) -> Result<()> {
    let tools = tools::Tools::new(root);
    for (key, value) in tools.peer_env()? {
        println!("export {key}='{}'", value.display());
    }
    Ok(())
}

/// Renders a command the way a person would type it, for the one-line logs.
fn display_cmd(cmd: &Command) -> String {
    // `cargo` reads better than the toolchain path `CARGO` holds.
    let program = cmd.get_program();
    let is_our_cargo = std::env::var_os("CARGO").is_some_and(|c| c.as_os_str() == program);
    let mut line = if is_our_cargo {
        "cargo".to_string()
    } else {
        program.to_string_lossy().into_owned()
    };
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs a command with inherited stdio and fails with the command line when it
/// exits non-zero, so the error names what to rerun by hand.
fn run_cmd(cmd: &mut Command) -> Result<()> {
    let line = display_cmd(cmd);
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}

/// Like [`run_cmd`], returning stdout (stderr still goes to the terminal).
fn output_of(cmd: &mut Command) -> Result<String> {
    let line = display_cmd(cmd);
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    if !out.status.success() {
        bail!("`{line}` failed ({})", out.status);
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{line}` printed non-UTF-8"))
}

/// `12.3s` or `2m05s`: short enough for a summary line.
fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = d.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(fmt_duration(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn commands_render_as_typed() {
        let mut cmd = Command::new("cargo");
        cmd.args(["fmt", "--all", "--", "--check"]);
        assert_eq!(display_cmd(&cmd), "cargo fmt --all -- --check");
    }
}
