//! mcprobe, the native CLI: thin wiring around `mcprobe-core`.
//!
//! Start here: [`check`] is `mcprobe check`; [`host`] runs the core's probe
//! state machine over tokio + reqwest (with a DNS/TCP/TLS preflight), and
//! [`stdio`] over a child process; [`render`] prints verdicts.

pub mod check;
pub mod cli;
pub mod guard;
pub mod host;
pub mod render;
pub mod scan;
pub mod stdio;
pub mod time;
pub mod tls;
pub mod watch;

/// Bad input: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
