//! Start here: the handshake rungs of the climb, each request's outcome
//! read into the next step: `server/discover` (modern), else `initialize`
//! (legacy), else the 2024-11-05 HTTP+SSE `endpoint` stream, then
//! `notifications/initialized`; the fallback rules are the 2026-07-28
//! transport page's ("Backward Compatibility"). `steps.rs` sends the
//! requests and dispatches their outcomes here.

use serde_json::Value;

use super::conversation::LateDiscover;
use super::discovery::AuthCtx;
use super::exchange::{Outcome, Purpose};
use super::peer::Peer;
use super::Probe;
use crate::http::{header, Headers, TransportError};
use crate::jsonrpc::{self, Reply};
use crate::revision::Revision;
use crate::validate::Answer;
use crate::verdict::{Era, Mode, ServerInfo, Transport};

impl Probe {
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
