//! Start here: the climb itself. Each request the probe makes has a
//! [`Purpose`]; when its [`Outcome`] is known, `on_outcome` here hands it to
//! the rung that reads it (`handshake.rs` for discover, initialize and the
//! HTTP+SSE stream; `listing.rs`, `auth.rs` and `route.rs` for the later
//! rungs), which decides the next request or the failure. This file also
//! sends the handshake's requests and ends the conversation.

use serde_json::{json, Value};
use url::Url;

use super::exchange::{Outcome, Purpose};
use super::peer::Peer;
use super::Probe;
use crate::http::TransportError;
use crate::jsonrpc;
use crate::revision::Revision;
use crate::validate::{self, Answer};
use crate::verdict::Mode;

/// The alternate paths of the `route_moved` search, in order.
pub(crate) const ALTERNATE_PATHS: [&str; 6] =
    ["/mcp", "/v1/mcp", "/api/mcp", "/sse", "/mcp/sse", "/"];

impl Probe {
    /// First move.
    pub(super) fn begin(&mut self, now: u64) {
        self.conv.step_started_ms = now;
        if self.peer.is_stdio() {
            self.send_discover(now);
            return;
        }
        let Some(url) = self.peer.http().cloned() else {
            return;
        };
        if self.cfg.preflight {
            let host = url
                .host_str()
                .unwrap_or_default()
                .trim_matches(['[', ']'])
                .to_string();
            let port = url.port_or_known_default().unwrap_or(80);
            self.start_connect(host, port, url.scheme() == "https", now);
        } else {
            self.send_discover(now);
        }
    }

    /// Milliseconds since the current step began, and restart the clock.
    pub(super) fn lap(&mut self, now: u64) -> u64 {
        let ms = now.saturating_sub(self.conv.step_started_ms);
        self.conv.step_started_ms = now;
        ms
    }

    pub(super) fn connected(&mut self, r: crate::http::ConnectReport, now: u64) {
        let host = self
            .peer
            .http()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let dns_detail = if host
            .trim_matches(['[', ']'])
            .parse::<core::net::IpAddr>()
            .is_ok()
        {
            format!("{host} is an IP address: no lookup")
        } else {
            format!("{host} -> {}", ip_of(&r.address))
        };
        self.report.step("dns", true, r.dns_ms, dns_detail);
        self.report
            .step("tcp", true, r.tcp_ms, format!("connected to {}", r.address));
        if let Some(tls_ms) = r.tls_ms {
            let mut detail = r.tls_version.clone().unwrap_or_else(|| "TLS".into());
            if let Some(na) = &r.cert_not_after {
                detail.push_str(&format!(", certificate valid until {na}"));
            }
            self.report.step("tls", true, tls_ms, detail);
        }
        self.conv.step_started_ms = now;
        self.send_discover(now);
    }

    // ---- sending -------------------------------------------------------

    pub(super) fn send_discover(&mut self, now: u64) {
        let rev = Revision::LATEST_MODERN;
        let id = self.rpc_id();
        let msg = jsonrpc::request(
            id,
            "server/discover",
            jsonrpc::with_modern_meta(json!({}), rev),
        );
        match self.peer.clone() {
            Peer::Stdio => {
                // On stdio a legacy server may stay silent before `initialize`:
                // wait a short while only, then fall back (2026-07-28 stdio page).
                // The wait does not grow with the deadline: a modern server that
                // answers after it is still adopted (`stdio.late`), so waiting
                // longer would only delay the silent legacy servers.
                let wait = stdio_discover_wait(self.cfg.timeout_ms);
                let deadline = (now + wait).min(self.deadline_ms);
                self.conv.stdio.discover = Some((id, now));
                self.stdio_send(&msg, Some((id, Purpose::Discover, deadline)));
            }
            Peer::Http(url) => {
                self.post_rpc(Purpose::Discover, &msg, Some(id), url, Some(rev), now);
            }
        }
    }

    /// A legacy `initialize` POSTed to `url` (the endpoint, an alternate
    /// route, the HTTP+SSE transport's announced endpoint).
    pub(super) fn send_initialize(&mut self, url: Url, purpose: Purpose, now: u64) {
        let (id, msg) = self.initialize_request();
        self.post_rpc(purpose, &msg, Some(id), url, None, now);
    }

    /// A legacy `initialize` written to the stdio child.
    pub(super) fn send_stdio_initialize(&mut self) {
        let (id, msg) = self.initialize_request();
        let deadline = self.deadline_ms;
        self.stdio_send(&msg, Some((id, Purpose::Initialize, deadline)));
    }

    fn initialize_request(&mut self) -> (u64, Value) {
        let id = self.rpc_id();
        let msg = jsonrpc::request(
            id,
            "initialize",
            jsonrpc::initialize_params(Revision::LATEST_LEGACY),
        );
        (id, msg)
    }

    /// Sends a request of the established conversation (era, session, transport).
    pub(super) fn send_conversation(
        &mut self,
        purpose: Purpose,
        method: &str,
        params: Value,
        now: u64,
    ) {
        let id = self.rpc_id();
        let modern_rev = if self.conv.modern {
            self.conv.revision
        } else {
            None
        };
        let params = match modern_rev {
            Some(rev) => jsonrpc::with_modern_meta(params, rev),
            None => params,
        };
        let msg = jsonrpc::request(id, method, params);
        let Peer::Http(target) = &self.peer else {
            let deadline = self.deadline_ms;
            self.stdio_send(&msg, Some((id, purpose, deadline)));
            return;
        };
        let url = self.conversation_url(target);
        self.post_rpc(purpose, &msg, Some(id), url, modern_rev, now);
    }

    /// Where the conversation's POSTs go: the HTTP+SSE transport's announced
    /// endpoint once there is one, else the endpoint itself.
    pub(super) fn conversation_url(&self, target: &Url) -> Url {
        if self.conv.sse.active {
            if let Some(e) = &self.conv.sse.endpoint {
                return e.clone();
            }
        }
        target.clone()
    }

    pub(super) fn send_initialized(&mut self, now: u64) {
        let msg = jsonrpc::notification("notifications/initialized", None);
        let Peer::Http(target) = &self.peer else {
            self.stdio_send(&msg, None);
            self.report
                .step("notifications/initialized", true, 0, "sent");
            self.start_tools_list(now);
            return;
        };
        let url = self.conversation_url(target);
        self.post_rpc(Purpose::Initialized, &msg, None, url, None, now);
    }

    // ---- outcomes ------------------------------------------------------

    pub(super) fn on_outcome(&mut self, purpose: Purpose, outcome: Outcome, now: u64) {
        if self.verdict.is_some() {
            return;
        }
        if let Outcome::Head { status, ms } = &outcome {
            if !self.conv.http_step_done {
                self.conv.http_step_done = true;
                // An error status is no success, even when the climb goes on
                // (a legacy server's 400 to server/discover).
                let to = match purpose {
                    Purpose::Discover => " to server/discover",
                    Purpose::Initialize => " to initialize",
                    Purpose::SseOpen => " to the event-stream GET",
                    _ => "",
                };
                self.report.step(
                    "http",
                    *status < 400,
                    *ms,
                    format!("first answer: HTTP {status}{to}"),
                );
            }
            return;
        }
        // A platform's sleep page ends the climb at any rung.
        if let Outcome::Platform {
            platform,
            signature,
            status,
        } = &outcome
        {
            let ms = self.lap(now);
            self.report.step(
                "http",
                false,
                ms,
                format!("HTTP {status}: {platform} page ({signature})"),
            );
            self.report.fail(
                Mode::PlatformAsleep,
                format!("The URL answers with {platform}'s sleep / not-found page instead of the MCP server (HTTP {status}, matched {signature})"),
            );
            return self.end(now);
        }
        match purpose {
            Purpose::Connect => self.on_connect_failed(outcome, now),
            Purpose::Discover => self.on_discover(outcome, now),
            Purpose::Initialize => self.on_initialize(outcome, now),
            Purpose::Initialized => self.on_initialized(outcome, now),
            Purpose::SseOpen => self.on_sse_open(outcome, now),
            Purpose::ToolsList => self.on_tools_list(outcome, now),
            Purpose::SafeCall => self.on_safe_call(outcome, now),
            Purpose::AuthMetadata { discovery } => self.on_auth_metadata(*discovery, outcome, now),
            Purpose::EndSession => {
                let ms = self.lap(now);
                let detail = match &outcome {
                    Outcome::Status { status, .. } | Outcome::Raw { status, .. } => {
                        format!("HTTP {status}")
                    }
                    other => other.short(),
                };
                self.report.step("DELETE session", true, ms, detail);
                self.end_now(now);
            }
            Purpose::Alt { idx, kind } => self.on_alternate(idx, kind, outcome, now),
        }
    }

    /// A transport failure ends the climb with the mode of its layer.
    pub(super) fn fail_transport(&mut self, step: &str, err: &TransportError, ms: u64, now: u64) {
        let host = self
            .peer
            .http()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let (layer, mode, reason) = match err {
            // A stdio server that dies or closes its output during the
            // handshake: it never completed one.
            TransportError::Connection { message } | TransportError::Other { message }
                if self.peer.is_stdio() =>
            {
                (
                    step,
                    Mode::HandshakeFailed,
                    format!("{step}: {message}"),
                )
            }
            TransportError::Dns { message } => (
                "dns",
                Mode::DnsUnresolved,
                format!("The host {host} does not resolve ({message})"),
            ),
            TransportError::Refused { address } => (
                "tcp",
                Mode::ConnectRefused,
                format!("Nothing is listening at {address}: the connection was refused"),
            ),
            TransportError::Tls { tls, message, not_after } => (
                "tls",
                Mode::TlsError,
                match not_after {
                    Some(na) => format!("The TLS handshake with {host} failed: {} (certificate not valid after {na}; {message})", tls.as_str()),
                    None => format!("The TLS handshake with {host} failed: {} ({message})", tls.as_str()),
                },
            ),
            TransportError::Timeout => (
                step,
                Mode::Timeout,
                format!("{step} got no answer within {} ms", ms.max(1)),
            ),
            TransportError::BodyTooLarge => (
                step,
                Mode::HttpError,
                format!("{step}: the answer is larger than the {} byte cap", self.cfg.limits.max_body_bytes),
            ),
            TransportError::Connection { message } | TransportError::Other { message } => (
                step,
                Mode::HttpError,
                format!("{step}: the connection failed ({message})"),
            ),
        };
        self.report.step(layer, false, ms, err.to_string());
        self.report.fail(mode, reason);
        self.end(now);
    }

    pub(super) fn on_connect_failed(&mut self, outcome: Outcome, now: u64) {
        match outcome {
            Outcome::Failed(TransportError::Timeout) => {
                let ms = self.lap(now);
                let target = self
                    .peer
                    .http()
                    .map(|u| u.authority().to_string())
                    .unwrap_or_default();
                self.report.step("tcp", false, ms, "timed out");
                self.report.fail(
                    Mode::Timeout,
                    format!("Connecting to {target} got no answer within {ms} ms"),
                );
                self.end(now);
            }
            Outcome::Failed(err) => {
                let ms = self.lap(now);
                self.fail_transport("connect", &err, ms, now)
            }
            other => {
                let ms = self.lap(now);
                self.report.step("tcp", false, ms, other.short());
                self.report.fail(
                    Mode::HttpError,
                    format!("Connecting failed: {}", other.short()),
                );
                self.end(now);
            }
        }
    }

    // ---- the end -------------------------------------------------------------

    /// Ends the conversation: DELETE a minted session first, then the verdict.
    pub(super) fn end(&mut self, now: u64) {
        if self.wants_sibling_check(now) {
            return self.start_sibling_check(now);
        }
        if let Some(session) = self.conv.session_id.take() {
            if let Some(url) = self.peer.http().cloned() {
                if self.remaining_ms(now) > 0 {
                    self.conv.step_started_ms = now;
                    self.delete_session(url, session, now);
                    return;
                }
            }
        }
        self.end_now(now);
    }

    pub(super) fn end_now(&mut self, now: u64) {
        self.finish(now);
    }

    /// Validates an answer strictly and records every violation as a finding.
    pub(super) fn judge(&mut self, rev: Revision, answer: Answer, label: &str, msg: &Value) {
        let expected = match self.conv.answering {
            Some(id) => Probe::value_id(id),
            None => self.last_rpc_id_value(),
        };
        let judged = validate::validate_response_counted(rev, answer, &expected, msg);
        self.report.violations(label, judged.found, judged.more);
    }

    pub(super) fn last_rpc_id_value(&self) -> Value {
        Probe::value_id(self.next_rpc.saturating_sub(1))
    }
}

/// How long a stdio probe waits for an answer to `server/discover` before
/// it also sends `initialize`: a quarter of the deadline, at most 3 s.
pub(crate) fn stdio_discover_wait(timeout_ms: u64) -> u64 {
    (timeout_ms / 4).clamp(1, 3_000)
}

fn ip_of(address: &str) -> &str {
    address
        .rsplit_once(':')
        .map(|(ip, _)| ip)
        .unwrap_or(address)
}
