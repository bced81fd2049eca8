//! Start here: the climb itself (the handshake here; `listing.rs`, `auth.rs`
//! and `route.rs` hold the later rungs). Each request the probe makes has a
//! [`Purpose`]; when its [`Outcome`] is known, `on_outcome` decides the next
//! request or the failure, following the ladder and the fallback rules of the
//! 2026-07-28 transport page ("Backward Compatibility").

use serde_json::{json, Value};
use url::Url;

use super::conversation::LateDiscover;
use super::discovery::AuthCtx;
use super::exchange::{Outcome, Purpose};
use super::peer::Peer;
use super::Probe;
use crate::http::{header, Headers, TransportError};
use crate::jsonrpc::{self, Reply};
use crate::revision::Revision;
use crate::validate::{self, Answer};
use crate::verdict::{Era, Mode, ServerInfo, Transport};

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
    fn send_stdio_initialize(&mut self) {
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

    pub(super) fn on_discover(&mut self, outcome: Outcome, now: u64) {
        let ms = self.lap(now);
        let stdio_discover = self.conv.stdio.discover.take();
        match outcome {
            Outcome::Reply { msg, .. } => match jsonrpc::read_reply(&msg) {
                Some(Reply::Result(result)) => self.on_discover_result(&msg, &result, ms, now),
                Some(Reply::Error {
                    code,
                    message,
                    data,
                }) => self.on_discover_error(code, &message, data, 200, ms, now),
                None => self.fallback_to_initialize(ms, "no JSON-RPC response".into(), now),
            },
            Outcome::Status {
                status,
                headers,
                excerpt,
                reply,
            } => self.on_discover_status(status, &headers, excerpt, reply, ms, now),
            Outcome::NotMcp {
                status,
                why,
                excerpt,
                ..
            } => {
                self.conv
                    .answers
                    .push(format!("server/discover: HTTP {status}, {why}: {excerpt}"));
                self.fallback_to_initialize(ms, format!("HTTP {status}, {why}"), now);
            }
            Outcome::NoBody { status, .. } | Outcome::Raw { status, .. } => {
                self.conv
                    .answers
                    .push(format!("server/discover: HTTP {status} with no body"));
                self.fallback_to_initialize(ms, format!("HTTP {status} with no body"), now);
            }
            Outcome::RedirectLoop { last } => {
                self.fail_redirect_loop("server/discover", &last, ms, now)
            }
            Outcome::Failed(TransportError::Timeout) if self.peer.is_stdio() => {
                // The time is the probe's own wait, not the server's latency.
                let step = self.report.steps.len();
                self.fallback_to_initialize(
                    ms,
                    format!("no answer within the probe's {ms} ms wait: a legacy stdio server stays silent"),
                    now,
                );
                if let Some((id, sent_ms)) = stdio_discover {
                    self.conv.stdio.late = Some(LateDiscover { id, sent_ms, step });
                }
            }
            Outcome::Failed(err) => self.fail_transport("server/discover", &err, ms, now),
            other => self.fallback_to_initialize(ms, other.short(), now),
        }
    }

    /// A result to `server/discover`: modern (adopted), legacy versions only
    /// (on to `initialize`), no version we speak, or no discover result.
    fn on_discover_result(&mut self, msg: &Value, result: &Value, ms: u64, now: u64) {
        let versions = strings(result.get("supportedVersions"));
        if versions
            .iter()
            .any(|v| v == Revision::LATEST_MODERN.as_str())
        {
            self.judge(
                Revision::LATEST_MODERN,
                Answer::Discover,
                "server/discover",
                msg,
            );
            self.adopt_modern(result, &versions);
            self.report.step(
                "server/discover",
                true,
                ms,
                format!(
                    "modern MCP {} (supports {})",
                    Revision::LATEST_MODERN,
                    versions.join(", ")
                ),
            );
            self.start_tools_list(now);
        } else if result.get("supportedVersions").is_some() {
            let legacy: Vec<&String> = versions
                .iter()
                .filter(|v| Revision::parse(v).is_some())
                .collect();
            if legacy.is_empty() {
                self.report.step(
                    "server/discover",
                    false,
                    ms,
                    format!("supports only {}", versions.join(", ")),
                );
                self.report.fail(
                    Mode::HandshakeFailed,
                    format!(
                        "server/discover lists no protocol version mcprobe speaks ({})",
                        versions.join(", ")
                    ),
                );
                return self.end(now);
            }
            self.fallback_to_initialize(
                ms,
                format!("supports only legacy {}", versions.join(", ")),
                now,
            );
        } else {
            self.conv.answers.push(format!(
                "server/discover: {}",
                jsonrpc::excerpt(msg.to_string().as_bytes(), 120)
            ));
            self.fallback_to_initialize(ms, "a result that is no discover result".into(), now);
        }
    }

    /// A non-2xx answer to `server/discover`: a refusal to look into, a
    /// modern error, or a legacy server's way of saying "not this method".
    fn on_discover_status(
        &mut self,
        status: u16,
        headers: &Headers,
        excerpt: String,
        reply: Option<Value>,
        ms: u64,
        now: u64,
    ) {
        if matches!(status, 401 | 403 | 421) {
            self.report
                .step("server/discover", false, ms, format!("HTTP {status}"));
            return self.start_auth(AuthCtx::Handshake, status, headers, &excerpt, now);
        }
        if let Some(Reply::Error {
            code,
            message,
            data,
        }) = reply.as_ref().and_then(jsonrpc::read_reply)
        {
            if is_modern_error(code) {
                return self.on_discover_error(code, &message, data, status, ms, now);
            }
            self.conv.answers.push(format!(
                "server/discover: HTTP {status}, JSON-RPC error {code} {message}"
            ));
            return self.fallback_to_initialize(
                ms,
                format!("HTTP {status}, JSON-RPC error {code}"),
                now,
            );
        }
        self.conv
            .answers
            .push(format!("server/discover: HTTP {status} {excerpt}"));
        self.fallback_to_initialize(ms, format!("HTTP {status}"), now);
    }

    pub(super) fn on_discover_error(
        &mut self,
        code: i64,
        message: &str,
        data: Option<Value>,
        status: u16,
        ms: u64,
        now: u64,
    ) {
        match code {
            -32022 => {
                let supported = strings(data.as_ref().and_then(|d| d.get("supported")));
                if supported
                    .iter()
                    .any(|v| Revision::parse(v).is_some_and(|r| r.era() == Era::Legacy))
                {
                    self.fallback_to_initialize(
                        ms,
                        format!("modern server supporting only {}", supported.join(", ")),
                        now,
                    );
                } else {
                    self.report.step(
                        "server/discover",
                        false,
                        ms,
                        format!(
                            "unsupported version; server supports {}",
                            supported.join(", ")
                        ),
                    );
                    self.report.fail(
                        Mode::HandshakeFailed,
                        format!(
                            "No mutually supported protocol version: the server supports {}",
                            if supported.is_empty() {
                                "none it names".into()
                            } else {
                                supported.join(", ")
                            }
                        ),
                    );
                    self.end(now);
                }
            }
            -32020 | -32021 => {
                self.report.step(
                    "server/discover",
                    false,
                    ms,
                    format!("HTTP {status}, JSON-RPC error {code}: {message}"),
                );
                self.report.fail(
                    Mode::HandshakeFailed,
                    format!("The modern server rejected server/discover with JSON-RPC error {code} ({message})"),
                );
                self.end(now);
            }
            _ => {
                self.conv
                    .answers
                    .push(format!("server/discover: JSON-RPC error {code} {message}"));
                self.fallback_to_initialize(ms, format!("JSON-RPC error {code}"), now);
            }
        }
    }

    pub(super) fn fallback_to_initialize(&mut self, ms: u64, why: String, now: u64) {
        // Not a success: the step failed and the probe moved on (the verdict
        // says whether the fallback worked).
        self.report.step(
            "server/discover",
            false,
            ms,
            format!("not modern ({why}); moved on to legacy initialize"),
        );
        match self.peer.clone() {
            Peer::Http(url) => self.send_initialize(url, Purpose::Initialize, now),
            Peer::Stdio => self.send_stdio_initialize(),
        }
    }

    pub(super) fn adopt_modern(&mut self, result: &Value, _versions: &[String]) {
        self.conv.modern = true;
        self.conv.revision = Some(Revision::LATEST_MODERN);
        self.conv.capabilities = result.get("capabilities").cloned().unwrap_or(Value::Null);
        self.report.era = Some(Era::Modern);
        self.report.transport = Some(if self.peer.is_stdio() {
            Transport::Stdio
        } else {
            Transport::StreamableHttp
        });
        self.report.protocol_version = Some(Revision::LATEST_MODERN.as_str().into());
        let info = result
            .get("_meta")
            .and_then(|m| m.get("io.modelcontextprotocol/serverInfo"))
            .or_else(|| result.get("serverInfo"));
        self.report.server = info.and_then(server_info);
    }

    pub(super) fn on_initialize(&mut self, outcome: Outcome, now: u64) {
        let ms = self.lap(now);
        // The wait for a late discover answer ended without one: the held
        // refusal of initialize is the answer after all.
        let outcome = match (outcome, self.conv.stdio.held_initialize.take()) {
            (Outcome::Failed(TransportError::Timeout), Some(msg)) => Outcome::Reply {
                msg,
                status: 0,
                headers: Vec::new(),
            },
            (outcome, _) => outcome,
        };
        match outcome {
            Outcome::Reply { msg, headers, .. } => self.on_initialize_reply(msg, &headers, ms, now),
            Outcome::Status {
                status,
                headers,
                excerpt,
                reply,
            } => {
                self.conv.route.handshake_statuses.push(status);
                if matches!(status, 401 | 403 | 421) {
                    self.report
                        .step("initialize", false, ms, format!("HTTP {status}"));
                    return self.start_auth(AuthCtx::Handshake, status, &headers, &excerpt, now);
                }
                let said = match reply.as_ref().and_then(jsonrpc::read_reply) {
                    Some(Reply::Error { code, message, .. }) => {
                        format!("JSON-RPC error {code} {message}")
                    }
                    _ => excerpt.clone(),
                };
                self.conv
                    .answers
                    .push(format!("initialize: HTTP {status} {said}"));
                let sse_fallback = match &self.peer {
                    Peer::Http(url) if matches!(status, 400 | 404 | 405 | 410) => Some(url.clone()),
                    _ => None,
                };
                if let Some(url) = sse_fallback {
                    // 2026-07-28 "Backward Compatibility": last, the 2024-11-05
                    // HTTP+SSE transport's GET for the `endpoint` event.
                    self.report.step(
                        "initialize",
                        false,
                        ms,
                        format!("HTTP {status}; moved on to the 2024-11-05 HTTP+SSE transport"),
                    );
                    let wait = (self.cfg.timeout_ms / 3).max(2_000);
                    self.get_sse(Purpose::SseOpen, url, Some(now + wait), now);
                } else if status >= 500 {
                    self.report
                        .step("initialize", false, ms, format!("HTTP {status}"));
                    self.report.fail(
                        Mode::HttpError,
                        format!("The server answers HTTP {status}: {excerpt}"),
                    );
                    self.end(now);
                } else {
                    self.report
                        .step("initialize", false, ms, format!("HTTP {status}"));
                    self.fail_handshake(now);
                }
            }
            Outcome::NotMcp {
                status,
                why,
                excerpt,
                ..
            } => {
                self.report
                    .step("initialize", false, ms, format!("HTTP {status}, {why}"));
                self.conv
                    .answers
                    .push(format!("initialize: HTTP {status}, {why}: {excerpt}"));
                self.fail_handshake(now);
            }
            Outcome::NoBody { status, .. } | Outcome::Raw { status, .. } => {
                self.report.step(
                    "initialize",
                    false,
                    ms,
                    format!("HTTP {status} with no body"),
                );
                self.conv
                    .answers
                    .push(format!("initialize: HTTP {status} with an empty body"));
                self.fail_handshake(now);
            }
            Outcome::RedirectLoop { last } => self.fail_redirect_loop("initialize", &last, ms, now),
            Outcome::Failed(err) => self.fail_transport("initialize", &err, ms, now),
            other => {
                self.report.step("initialize", false, ms, other.short());
                self.fail_handshake(now);
            }
        }
    }

    pub(super) fn on_initialize_reply(&mut self, msg: Value, headers: &Headers, ms: u64, now: u64) {
        match jsonrpc::read_reply(&msg) {
            Some(Reply::Result(result)) => {
                let version = result
                    .get("protocolVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let Some(rev) = Revision::parse(version).filter(|r| r.era() == Era::Legacy) else {
                    self.report.step(
                        "initialize",
                        false,
                        ms,
                        format!("protocol version {version:?}"),
                    );
                    self.conv
                        .answers
                        .push(format!("initialize: protocolVersion {version:?}"));
                    self.report.fail(
                        Mode::HandshakeFailed,
                        format!("initialize answered protocol version {version:?}, which is no released legacy MCP revision (offered {})", Revision::LATEST_LEGACY),
                    );
                    return self.end(now);
                };
                self.judge(rev, Answer::Initialize, "initialize", &msg);
                self.conv.revision = Some(rev);
                self.conv.capabilities = result.get("capabilities").cloned().unwrap_or(Value::Null);
                if !self.conv.sse.active {
                    self.conv.session_id = header(headers, "mcp-session-id").map(str::to_string);
                }
                self.report.era = Some(Era::Legacy);
                self.report.transport = Some(if self.peer.is_stdio() {
                    Transport::Stdio
                } else if self.conv.sse.active {
                    Transport::Sse
                } else {
                    Transport::StreamableHttp
                });
                self.report.protocol_version = Some(rev.as_str().into());
                self.report.server = result.get("serverInfo").and_then(server_info);
                self.report.finding(
                    Mode::LegacyOnly,
                    format!("the server speaks legacy MCP {rev} only; no modern (2026-07-28) server/discover"),
                );
                let session = match &self.conv.session_id {
                    Some(_) => ", session minted",
                    None => "",
                };
                self.report
                    .step("initialize", true, ms, format!("legacy MCP {rev}{session}"));
                self.send_initialized(now);
            }
            Some(Reply::Error { code, message, .. }) => {
                self.report.step(
                    "initialize",
                    false,
                    ms,
                    format!("JSON-RPC error {code}: {message}"),
                );
                self.conv
                    .answers
                    .push(format!("initialize: JSON-RPC error {code} {message}"));
                self.fail_handshake(now);
            }
            None => {
                self.report
                    .step("initialize", false, ms, "no JSON-RPC response");
                self.fail_handshake(now);
            }
        }
    }

    pub(super) fn fail_handshake(&mut self, now: u64) {
        let said = if self.conv.answers.is_empty() {
            "no usable answer".to_string()
        } else {
            self.conv.answers.join("; ")
        };
        self.report.fail(
            Mode::HandshakeFailed,
            format!("Neither server/discover nor initialize got a valid MCP answer: {said}"),
        );
        self.end(now);
    }

    pub(super) fn fail_redirect_loop(&mut self, step: &str, last: &str, ms: u64, now: u64) {
        self.report.step(
            step,
            false,
            ms,
            format!("more than {} redirects", self.cfg.limits.max_redirects),
        );
        self.report.fail(
            Mode::HttpError,
            format!(
                "{step} was redirected more than {} times (a redirect loop; last to {last})",
                self.cfg.limits.max_redirects
            ),
        );
        self.end(now);
    }

    pub(super) fn on_sse_open(&mut self, outcome: Outcome, now: u64) {
        if self.conv.sse.endpoint.is_some() {
            // The stream already gave its endpoint; its end only matters to a
            // request waiting on it, which is told separately.
            return;
        }
        let ms = self.lap(now);
        match outcome {
            Outcome::SseEndpoint { endpoint } => {
                self.conv.sse.active = true;
                self.conv.sse.endpoint = Some(endpoint.clone());
                self.report.step(
                    "GET endpoint",
                    true,
                    ms,
                    format!("2024-11-05 HTTP+SSE, endpoint {}", endpoint.path()),
                );
                self.report.finding(
                    Mode::DeprecatedTransport,
                    "the server answers only over the deprecated 2024-11-05 HTTP+SSE transport; migrate to Streamable HTTP",
                );
                self.send_initialize(endpoint, Purpose::Initialize, now);
            }
            Outcome::Status {
                status,
                headers,
                excerpt,
                ..
            } => {
                self.conv.route.handshake_statuses.push(status);
                if matches!(status, 401 | 403) {
                    self.report
                        .step("GET endpoint", false, ms, format!("HTTP {status}"));
                    return self.start_auth(AuthCtx::Handshake, status, &headers, &excerpt, now);
                }
                self.conv
                    .answers
                    .push(format!("GET: HTTP {status} {excerpt}"));
                self.report
                    .step("GET endpoint", false, ms, format!("HTTP {status}"));
                if self
                    .conv
                    .route
                    .handshake_statuses
                    .iter()
                    .all(|s| matches!(s, 404 | 405 | 410))
                {
                    self.start_route_search(now);
                } else if status >= 500 {
                    self.report.fail(
                        Mode::HttpError,
                        format!("The server answers HTTP {status}: {excerpt}"),
                    );
                    self.end(now);
                } else {
                    self.fail_handshake(now);
                }
            }
            Outcome::Failed(TransportError::Timeout) => {
                self.report
                    .step("GET endpoint", false, ms, "no endpoint event");
                self.conv
                    .answers
                    .push(format!("GET: no `endpoint` event within {ms} ms"));
                self.fail_handshake(now);
            }
            Outcome::Failed(err) => self.fail_transport("GET endpoint", &err, ms, now),
            Outcome::RedirectLoop { last } => {
                self.fail_redirect_loop("GET endpoint", &last, ms, now)
            }
            other => {
                self.report.step("GET endpoint", false, ms, other.short());
                self.conv.answers.push(format!("GET: {}", other.short()));
                self.fail_handshake(now);
            }
        }
    }

    pub(super) fn on_initialized(&mut self, outcome: Outcome, now: u64) {
        let ms = self.lap(now);
        match &outcome {
            // Any 2xx accepts a notification; its body means nothing (the
            // HTTP+SSE servers of the TypeScript SDK say "Accepted" in plain
            // text), so it is not read as a JSON-RPC answer.
            Outcome::NoBody { status }
            | Outcome::Raw { status, .. }
            | Outcome::NotMcp { status, .. }
            | Outcome::Reply { status, .. }
                if (200..300).contains(status) =>
            {
                self.report.step(
                    "notifications/initialized",
                    true,
                    ms,
                    format!("HTTP {status}, accepted"),
                );
            }
            Outcome::Status { status, .. } => {
                self.report.step(
                    "notifications/initialized",
                    false,
                    ms,
                    format!("HTTP {status}"),
                );
                self.report.finding(
                    Mode::SpecShould,
                    format!("notifications/initialized answered HTTP {status}; a server accepting it must answer 202"),
                );
            }
            other => {
                self.report
                    .step("notifications/initialized", false, ms, other.short());
            }
        }
        self.start_tools_list(now);
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

/// The strings of a JSON array (others skipped); empty when it is no array.
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// How long a stdio probe waits for an answer to `server/discover` before
/// it also sends `initialize`: a quarter of the deadline, at most 3 s.
pub(crate) fn stdio_discover_wait(timeout_ms: u64) -> u64 {
    (timeout_ms / 4).clamp(1, 3_000)
}

fn is_modern_error(code: i64) -> bool {
    matches!(code, -32022..=-32020)
}

fn server_info(v: &Value) -> Option<ServerInfo> {
    let name = v.get("name")?.as_str()?.to_string();
    let version = v
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Some(ServerInfo { name, version })
}

fn ip_of(address: &str) -> &str {
    address
        .rsplit_once(':')
        .map(|(ip, _)| ip)
        .unwrap_or(address)
}
