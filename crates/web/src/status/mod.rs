//! Start here: the public status pages, one view a file.
//!
//! - `/status`: [`StatusList`] ([`list`]), the public monitors
//!   (`GET /api/monitors`), each with its current state ([`pill`],
//!   `/api/monitors/{id}/status`).
//! - `/status/{id}`: [`StatusPage`] ([`page`]), one monitor: name, URL and
//!   current verdict; 90 daily uptime bars ([`bars`], `/history?window=90d`;
//!   hover, focus or tap one for its figures and failure modes); a latency
//!   chart, p50 and p95, 24 h or 7 d ([`latency`], drawn as SVG here); the
//!   incidents ([`incidents`]) and the drift events with their diffs
//!   ([`drift_events`]); the badge with Markdown and HTML snippets
//!   ([`crate::badge`]).
//!
//! The JSON bodies are the monitor crate's own types
//! (`mcprobe_monitor::views`, `mcprobe_monitor::history`), so the page reads
//! exactly what the Worker writes. The maths of bars and chart is plain
//! functions ([`bars::bar_class`], [`latency::chart`],
//! [`incidents::duration`]) tested on the host. Names, URLs and reasons come
//! from monitor owners and probed servers: text nodes and escaped SVG
//! attributes only.

pub mod bars;
pub mod drift_events;
pub mod incidents;
pub mod latency;
pub mod list;
pub mod page;
pub mod pill;

pub use list::StatusList;
pub use page::StatusPage;
