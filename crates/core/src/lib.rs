//! mcprobe-core: the sans-IO heart of mcprobe: the probe and its contract,
//! everything the browser needs and nothing else. Watching over time lives in
//! mcprobe-monitor, registries in mcprobe-registry; both build on this crate.
//!
//! Start here: [`probe::Probe`] is a state machine that hands its host the next
//! thing to do ([`probe::Action`]: connect, send an HTTP request, cancel one,
//! wait) and is fed what came of it. It never opens a socket or reads a clock,
//! so the native CLI, the Cloudflare Worker, the browser page and the tests all
//! drive the very same protocol logic, validation and verdict.
//!
//! Modules, one concern each:
//! - [`mode`]: the mode ladder, statuses and severities (public codes)
//! - [`verdict`]: the public verdict contract (the verdict's JSON)
//! - [`revision`]: released MCP revisions and their eras
//! - [`http`]: requests, outcomes and transport errors between core and host
//! - [`sse`]: streaming Server-Sent Events parser
//! - [`jsonrpc`]: building requests and reading answers leniently
//! - [`bounded_json`]: parsing answers with bounds on arrays and values
//! - [`validate`]: the strict judge: spec rules with JSON pointers, one file
//!   per rule family (envelope, handshake, tools, call, content, listings)
//! - [`classify`]: platform sleep pages, OAuth challenges and metadata,
//!   auth-flavoured errors
//! - [`fingerprint`]: canonical JSON, tool-list snapshots and drift diffs
//! - [`safe_call`]: choosing the one call that cannot change anything
//! - [`runbook`]: what each mode means and the first steps
//! - [`time`]: RFC 3339 written and read, from milliseconds passed in
//! - [`address`]: which addresses a probe of a stranger's URL may reach
//! - [`probe`]: the dual-era step machine that ties them together

pub mod address;
pub mod bounded_json;
pub mod classify;
pub mod fingerprint;
pub mod http;
pub mod jsonrpc;
pub mod mode;
pub mod probe;
pub mod revision;
pub mod runbook;
pub mod safe_call;
pub mod sse;
pub mod time;
pub mod validate;
pub mod verdict;

pub use probe::{Action, Probe, ProbeConfig};
pub use verdict::{Mode, Severity, Status, Verdict};
