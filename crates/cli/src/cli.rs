//! The command line of `mcprobe`, in the library so that its parsing can be
//! tested in-process (`tests/fuzz_props.rs` throws random arguments at it).

use clap::{Parser, Subcommand};

use crate::check::CheckArgs;
use crate::scan::ScanArgs;
use crate::watch::WatchArgs;

#[derive(Debug, Parser)]
#[command(
    name = "mcprobe",
    version,
    about = "Probe MCP servers: one verdict for every failure mode"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe one MCP server (URL, or `-- CMD ARGS...` for stdio) and print its verdict.
    Check(CheckArgs),
    /// Probe every endpoint that registries (--registry) or files (--file) list, and write an audit.
    Scan(ScanArgs),
    /// Run the alerting policy over the monitors of a TOML file (state in SQLite).
    Watch(WatchArgs),
}
