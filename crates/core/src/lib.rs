//! mcprobe-core: the sans-IO heart of mcprobe.
//!
//! Start here: [`probe::Probe`] is a state machine that hands its host the next
//! thing to do ([`probe::Action`]: connect, send an HTTP request, cancel one,
//! wait) and is fed what came of it. It never opens a socket or reads a clock,
//! so the native CLI, the Cloudflare Worker, the browser page and the tests all
//! drive the very same protocol logic, validation and verdict.
//!
//! Modules, one concern each:
//! - [`verdict`]: the public verdict contract (modes, statuses, severities, JSON)
//! - [`revision`]: released MCP revisions and their eras
//! - [`http`]: requests, outcomes and transport errors between core and host
//! - [`sse`]: streaming Server-Sent Events parser
//! - [`jsonrpc`]: building requests and reading answers leniently
//! - [`bounded_json`]: parsing answers with bounds on arrays and values
//! - [`validate`]: the strict judge: spec rules with JSON pointers
//! - [`classify`]: platform sleep pages, OAuth challenges, auth-flavoured errors
//! - [`fingerprint`]: canonical tool-list hashing and drift diffs
//! - [`safe_call`]: choosing the one call that cannot change anything
//! - [`runbook`]: what each mode means and the first steps
//! - [`badge`]: SVG status badges and the shields.io endpoint JSON
//! - [`stats`]: uptime and latency percentiles over probe history
//! - [`monitor`]: the monitor config of the edge API, validated
//! - [`schedule`]: which monitors are due, slots spread over the minute, fan-out batches
//! - [`rollup`]: in-memory aggregation and the rows a probe writes (the D1 write budget)
//! - [`metrics`]: OpenMetrics text for public monitors
//! - [`policy`]: the alert state machine (confirmation, recovery, flapping, maintenance, escalation)
//! - [`notify`]: alert payloads for webhook, Slack, Discord, PagerDuty, Opsgenie
//! - [`registry`]: MCP Registry pages, endpoint normalisation, scan audits
//! - [`address`]: which addresses a probe of a stranger's URL may reach
//! - [`probe`]: the dual-era step machine that ties them together

pub mod address;
pub mod alerts;
pub mod badge;
pub mod bounded_json;
pub mod classify;
pub mod fingerprint;
pub mod history;
pub mod http;
pub mod jsonrpc;
pub mod metrics;
pub mod monitor;
pub mod notify;
pub mod policy;
pub mod probe;
pub mod registry;
pub mod revision;
pub mod rollup;
pub mod runbook;
pub mod safe_call;
pub mod schedule;
pub mod sse;
pub mod stats;
pub mod validate;
pub mod verdict;

pub use probe::{Action, Probe, ProbeConfig};
pub use verdict::{Mode, Severity, Status, Verdict};
