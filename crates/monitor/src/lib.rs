//! mcprobe-monitor: watching an MCP server over time, pure (no I/O, no clock
//! reads: every time is passed in). Start here: [`monitor::MonitorSpec`] is a
//! monitor as the API and `watch` configure it; [`alerting`] decides when a
//! run of verdicts becomes an alert and turns it into each channel's payload.
//! It builds on mcprobe-core's verdicts and fingerprints and never reaches
//! into the probe.
//!
//! Modules, one concern each:
//! - [`monitor`]: the monitor config of the edge API, validated
//! - [`schedule`]: which monitors are due, slots spread over the minute, fan-out batches
//! - [`rollup`]: in-memory aggregation and the rows a probe writes (the D1 write budget)
//! - [`history`]: probe history pages, incidents and drift over time
//! - [`stats`]: uptime and latency percentiles over probe history
//! - [`metrics`]: OpenMetrics text for public monitors
//! - [`badge`]: SVG status badges and the shields.io endpoint JSON
//! - [`alerting`]: the alert policy, the channel config, one file per channel
//!   (config check, payload, tests); [`policy`], [`alerts`] and [`notify`] are
//!   its parts under the paths the hosts import
//! - [`error`]: [`error::ValidationError`], the typed refusal of user input
//!   (no HTTP in it: the Worker answers it as a 400)
//! - [`views`]: the public monitor bodies (`GET /api/monitors`, `/status`), shared with the page

pub mod alerting;
pub mod badge;
pub mod error;
pub mod history;
pub mod metrics;
pub mod monitor;
pub mod rollup;
pub mod schedule;
pub mod stats;
pub mod views;

pub use alerting::{alerts, notify, policy};
