//! Start here: the dual-era probe as a state machine.
//!
//! A host creates a [`Probe`], then loops: `poll(now)` returns the next
//! [`Action`] (connect, start an HTTP exchange, cancel one, write to a stdio
//! child, wait until a time, or done with the [`Verdict`]); whatever comes of
//! an action is fed back with `on_connected`, `on_head`, `on_body`, `on_end`,
//! `on_error` (HTTP) or `on_stdout` / `on_stdio_closed` (stdio). Every call
//! carries `now` in milliseconds on the host's monotonic clock; the probe
//! enforces its own deadline, body cap, redirect cap and tool caps, so a
//! hostile server cannot make it hang or grow without bound.
//!
//! The climb (failure-modes.md): connect preflight (DNS, TCP, TLS) when the
//! host can; modern `server/discover`; else legacy `initialize` +
//! `notifications/initialized`; else the 2024-11-05 HTTP+SSE `endpoint`
//! stream; on 404s everywhere, the alternate-route search; then `tools/list`
//! page by page, the safe call, a DELETE of any session, validation and drift.
//!
//! Files, each below the ones that use it (none imports another that imports
//! it back):
//! - floors: `limits.rs` (bounds), `peer.rs` (HTTP endpoint or stdio child),
//!   `discovery.rs` (an auth discovery in progress), `exchange.rs` (a
//!   request's purpose and outcome), `conversation.rs` (what was learnt),
//!   `report.rs` (the verdict being built), `headers.rs`
//! - the host side: `request.rs` (requests to actions), `wire.rs` (HTTP
//!   events to outcomes), `stream.rs` (SSE events), `stdio.rs` (stdio lines),
//!   `budget.rs` (the request budget)
//! - the climb: `steps.rs` (sending, the outcome dispatch, the end),
//!   `handshake.rs`, `route.rs` (the alternate-route search), `auth.rs`
//!   (refusals), `listing.rs` (tools/list and the safe call)

mod auth;
mod budget;
mod conversation;
mod discovery;
mod exchange;
mod handshake;
mod headers;
mod limits;
mod listing;
mod peer;
mod report;
mod request;
mod route;
mod stdio;
mod steps;
mod stream;
mod wire;

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;
use url::Url;

use crate::fingerprint::Snapshot;
use crate::http::{
    ConnectReport, ConnectRequest, ExchangeId, Headers, HttpRequest, TransportError,
};
use crate::revision::Revision;
use crate::verdict::Verdict;

pub use crate::safe_call::CallPlan;
use conversation::Conversation;
use exchange::Exchange;
pub use limits::Limits;
use peer::Peer;
use report::Report;

/// What to probe and how.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// The MCP endpoint URL (http or https), or for stdio a display name such
    /// as `stdio: npx server`.
    pub url: String,
    /// Extra request headers (credentials); used, never echoed in the verdict.
    pub headers: Headers,
    /// The whole probe's deadline.
    pub timeout_ms: u64,
    pub call: CallPlan,
    /// The tool list to compare with, if any.
    pub baseline: Option<Snapshot>,
    /// The host can do a connect preflight ([`Action::Connect`]).
    pub preflight: bool,
    /// Probe a stdio child the host started, instead of HTTP.
    pub stdio: bool,
    pub limits: Limits,
    /// The host's wall-clock time at the start, RFC 3339, for `checked_at`.
    pub checked_at: String,
}

impl ProbeConfig {
    /// A config with the defaults of `mcprobe check`.
    pub fn new(url: impl Into<String>) -> Self {
        ProbeConfig {
            url: url.into(),
            headers: Vec::new(),
            timeout_ms: 10_000,
            call: CallPlan::Auto,
            baseline: None,
            preflight: false,
            stdio: false,
            limits: Limits::default(),
            checked_at: String::new(),
        }
    }
}

/// Why a probe could not start at all (bad input, not a verdict).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "'{url}' is not a URL ({reason}); give the full endpoint, e.g. https://example.com/mcp"
    )]
    BadUrl { url: String, reason: String },
    #[error("'{scheme}' URLs are not supported; use http:// or https:// (or `mcprobe check -- CMD` for stdio)")]
    UnsupportedScheme { scheme: String },
    #[error("the timeout must be at least 1 ms")]
    ZeroTimeout,
}

/// The next thing the host must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Resolve, connect (and TLS-handshake) then report with `on_connected`.
    Connect {
        id: ExchangeId,
        request: ConnectRequest,
        deadline_ms: u64,
    },
    /// Perform this HTTP request; report its head, body chunks and end.
    Http {
        id: ExchangeId,
        request: HttpRequest,
        deadline_ms: u64,
    },
    /// Stop an exchange and drop its connection; report nothing more for it.
    Cancel { id: ExchangeId },
    /// Write these bytes (one JSON-RPC message and `\n`) to the child's stdin.
    StdioWrite { bytes: Vec<u8> },
    /// Nothing to do until something is fed or until this time.
    Wait { until_ms: u64 },
    /// The probe is over.
    Done(Box<Verdict>),
}

/// The probe. See the module docs for the host loop.
pub struct Probe {
    cfg: ProbeConfig,
    start_ms: u64,
    deadline_ms: u64,
    /// Whom the probe speaks to (the HTTP endpoint changes on a permanent
    /// redirect).
    peer: Peer,
    queue: VecDeque<Action>,
    exchanges: BTreeMap<ExchangeId, Exchange>,
    next_exchange: u32,
    next_rpc: u64,
    report: Report,
    conv: Conversation,
    verdict: Option<Verdict>,
    /// The full tool-list snapshot of this probe (for baselines and storage).
    snapshot: Option<Snapshot>,
    /// HTTP requests handed out so far (against `limits.max_requests`).
    requests_made: u32,
}

impl Probe {
    /// Starts a probe at host time `now_ms`.
    pub fn new(cfg: ProbeConfig, now_ms: u64) -> Result<Probe, ConfigError> {
        if cfg.timeout_ms == 0 {
            return Err(ConfigError::ZeroTimeout);
        }
        let peer = if cfg.stdio {
            Peer::Stdio
        } else {
            let url = Url::parse(&cfg.url).map_err(|e| ConfigError::BadUrl {
                url: cfg.url.clone(),
                reason: e.to_string(),
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ConfigError::UnsupportedScheme {
                    scheme: url.scheme().to_string(),
                });
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(ConfigError::BadUrl {
                    url: cfg.url.clone(),
                    reason: "no host".into(),
                });
            }
            Peer::Http(url)
        };
        let mut probe = Probe {
            deadline_ms: now_ms.saturating_add(cfg.timeout_ms),
            start_ms: now_ms,
            peer,
            queue: VecDeque::new(),
            exchanges: BTreeMap::new(),
            next_exchange: 1,
            next_rpc: 1,
            report: Report::default(),
            conv: Conversation::default(),
            verdict: None,
            snapshot: None,
            requests_made: 0,
            cfg,
        };
        probe.begin(now_ms);
        Ok(probe)
    }

    /// The next action. Call again after feeding anything, and when a
    /// `Wait` expires.
    pub fn poll(&mut self, now_ms: u64) -> Action {
        self.expire(now_ms);
        if let Some(action) = self.queue.pop_front() {
            return action;
        }
        if let Some(v) = &self.verdict {
            return Action::Done(Box::new(v.clone()));
        }
        let until = self
            .exchanges
            .values()
            .map(|e| e.deadline_ms)
            .chain(self.conv.stdio_deadline())
            .min()
            .unwrap_or(self.deadline_ms)
            .min(self.deadline_ms);
        Action::Wait {
            until_ms: until.max(now_ms.saturating_add(1)),
        }
    }

    /// The tool-list snapshot (full definitions), once done and if the tool
    /// list was read: what a baseline file or a drift store keeps.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// The verdict, once done.
    pub fn verdict(&self) -> Option<&Verdict> {
        self.verdict.as_ref()
    }

    /// A connect preflight succeeded.
    pub fn on_connected(&mut self, id: ExchangeId, report: ConnectReport, now_ms: u64) {
        if self.exchanges.remove(&id).is_some() {
            self.connected(report, now_ms);
        }
    }

    /// The response head of an HTTP exchange arrived.
    pub fn on_head(&mut self, id: ExchangeId, status: u16, headers: Headers, now_ms: u64) {
        self.wire_head(id, status, headers, now_ms);
    }

    /// A chunk of an HTTP response body arrived.
    pub fn on_body(&mut self, id: ExchangeId, chunk: &[u8], now_ms: u64) {
        self.wire_body(id, chunk, now_ms);
    }

    /// The HTTP response body ended.
    pub fn on_end(&mut self, id: ExchangeId, now_ms: u64) {
        self.wire_end(id, now_ms);
    }

    /// An exchange (connect or HTTP) failed below HTTP.
    pub fn on_error(&mut self, id: ExchangeId, error: TransportError, now_ms: u64) {
        self.wire_error(id, error, now_ms);
    }

    /// Bytes from the stdio child's stdout.
    pub fn on_stdout(&mut self, chunk: &[u8], now_ms: u64) {
        self.stdio_out(chunk, now_ms);
    }

    /// The stdio child closed its stdout or exited. `detail` says how (exit
    /// status, its last lines on stderr).
    pub fn on_stdio_closed(&mut self, detail: &str, now_ms: u64) {
        self.stdio_closed(detail, now_ms);
    }

    /// The host could not start the stdio child at all (`message` says
    /// why): the verdict is `connect_refused`, nothing to talk to.
    pub fn on_stdio_spawn_failed(&mut self, message: &str, now_ms: u64) {
        self.stdio_spawn_failed(message, now_ms);
    }

    fn exchange_id(&mut self) -> ExchangeId {
        let id = ExchangeId(self.next_exchange);
        self.next_exchange += 1;
        id
    }

    fn rpc_id(&mut self) -> u64 {
        let id = self.next_rpc;
        self.next_rpc += 1;
        id
    }

    /// Ends every open exchange and produces the verdict.
    fn finish(&mut self, now_ms: u64) {
        if self.verdict.is_some() {
            return;
        }
        let open: Vec<ExchangeId> = self.exchanges.keys().copied().collect();
        for id in open {
            self.exchanges.remove(&id);
            self.queue.push_back(Action::Cancel { id });
        }
        let report = std::mem::take(&mut self.report);
        self.snapshot = report.snapshot.clone();
        let elapsed = now_ms.saturating_sub(self.start_ms);
        self.verdict = Some(report.into_verdict(
            &self.cfg.url,
            &self.cfg.checked_at,
            elapsed,
            self.cfg.timeout_ms,
        ));
    }

    fn remaining_ms(&self, now_ms: u64) -> u64 {
        self.deadline_ms.saturating_sub(now_ms)
    }

    fn value_id(id: u64) -> Value {
        Value::from(id)
    }

    fn revision_or_latest(&self) -> Revision {
        self.conv.revision.unwrap_or(Revision::LATEST_LEGACY)
    }
}
