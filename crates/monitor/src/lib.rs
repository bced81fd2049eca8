//! mcprobe-monitor: watching an MCP server over time, pure (no I/O, no clock
//! reads: every time is passed in). Start here: [`monitor::MonitorSpec`] is a
//! monitor as the API and `watch` configure it; [`policy`] decides when a run
//! of verdicts becomes an alert; [`notify`] turns an alert into each channel's
//! payload. It builds on mcprobe-core's verdicts and fingerprints and never
//! reaches into the probe.
//!
//! Modules, one concern each:
//! - [`monitor`]: the monitor config of the edge API, validated
//! - [`schedule`]: which monitors are due, slots spread over the minute, fan-out batches
//! - [`rollup`]: in-memory aggregation and the rows a probe writes (the D1 write budget)
//! - [`history`]: probe history pages, incidents and drift over time
//! - [`stats`]: uptime and latency percentiles over probe history
//! - [`metrics`]: OpenMetrics text for public monitors
//! - [`badge`]: SVG status badges and the shields.io endpoint JSON
//! - [`policy`]: the alert state machine (confirmation, recovery, flapping, maintenance, escalation)
//! - [`alerts`]: a monitor's alert config: channels, routing, validation
//! - [`notify`]: alert payloads for webhook, Slack, Discord, PagerDuty, Opsgenie
//! - [`views`]: the public monitor bodies (`GET /api/monitors`, `/status`), shared with the page

pub mod alerts;
pub mod badge;
pub mod history;
pub mod metrics;
pub mod monitor;
pub mod notify;
pub mod policy;
pub mod rollup;
pub mod schedule;
pub mod stats;
pub mod views;
