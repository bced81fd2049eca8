//! `mcprobe`: is this MCP server up AND answering MCP correctly, and did its
//! tools change? Wiring only; see the library crate.

use clap::{Parser, Subcommand};
use mcprobe::check::{self, CheckArgs};
use mcprobe::scan::{self, ScanArgs};
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
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // One line, like every other bad-input error.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad arguments");
            let first = first.trim_start_matches("error: ");
            eprintln!("mcprobe: {first}; see `mcprobe check --help`");
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
