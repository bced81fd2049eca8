//! `mcprobe`: is this MCP server up AND answering MCP correctly, and did its
//! tools change? Wiring only; see the library crate.

use clap::Parser;
use mcprobe::check;
use mcprobe::cli::{Cli, Command};
use mcprobe::render::clean;
use mcprobe::scan;
use mcprobe::watch;
use mcprobe::UsageError;

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
            eprintln!(
                "mcprobe: {}; see `mcprobe{sub} --help`",
                clean(&said.join(" "))
            );
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
                eprintln!("mcprobe: {}", clean(&usage.to_string()));
            } else {
                eprintln!("mcprobe: {}", clean(&format!("{e:#}")));
            }
            std::process::exit(2);
        }
    }
}
