//! `mcprobe`: is this MCP server up AND answering MCP correctly, and did its
//! tools change? Wiring only; see the library crate.

use clap::{Parser, Subcommand};
use mcprobe::check::{self, CheckArgs};
use mcprobe::scan::{self, ScanArgs};
use mcprobe::watch::{self, WatchArgs};
use mcprobe::UsageError;

#[derive(Parser)]
#[command(
    name = "mcprobe",
    version,
    about = "Probe MCP servers: one verdict for every failure mode"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Probe one MCP server (URL, or `-- CMD ARGS...` for stdio) and print its verdict.
    Check(CheckArgs),
    /// Probe every endpoint that registries (--registry) or files (--file) list, and write an audit.
    Scan(ScanArgs),
    /// Run the alerting policy over the monitors of a TOML file (state in SQLite).
    Watch(WatchArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // One line, like every other bad-input error: clap's message lines
            // (not its usage block) joined, and where to read more.
            let text = e.to_string();
            let said: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:"))
                .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
                .map(|l| l.trim_start_matches("error: "))
                .collect();
            let sub = std::env::args()
                .nth(1)
                .filter(|a| matches!(a.as_str(), "check" | "scan" | "watch"))
                .map(|a| format!(" {a}"))
                .unwrap_or_default();
            eprintln!("mcprobe: {}; see `mcprobe{sub} --help`", said.join(" "));
            std::process::exit(2);
        }
        Err(e) => {
            let _ = e.print();
            std::process::exit(0);
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Watch(args) => watch::run(args),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            if let Some(usage) = e.downcast_ref::<UsageError>() {
                eprintln!("mcprobe: {usage}");
            } else {
                eprintln!("mcprobe: {e:#}");
            }
            std::process::exit(2);
        }
    }
}
