//! Start here: turning requests into host actions and host events into
//! [`Outcome`]s: headers per era, redirects (followed and counted by us), body
//! and stream caps, SSE answers, the legacy HTTP+SSE stream, platform pages,
//! deadlines. The decisions live in `steps.rs`; stdio framing in
//! `stdio.rs`, header value encoding in `headers.rs`.

use serde_json::Value;
use url::Url;

use super::exchange::{BodyMode, Exchange, Outcome, Purpose};
use super::peer::Peer;
use super::Probe;
use crate::classify;
use crate::http::{
    header, ConnectRequest, ExchangeId, Headers, HttpRequest, Method, TransportError,
};
use crate::jsonrpc;
use crate::revision::Revision;
use crate::sse::{SseEvent, SseParser};

use super::headers::{header_safe, param_headers};

/// Bytes of a non-JSON body kept for platform signatures and excerpts.
const PREFIX_BYTES: usize = 16 * 1024;

/// Body bytes of `tools/list` answers read across all pages: past it the
/// probe stops paging. Each page is capped by the body cap (4 MiB), but
/// twenty such pages kept whole were 3 GiB of tree; two pages' worth is more
/// than any real tool list and bounds what the snapshot keeps.
pub(crate) const MAX_TOOL_LIST_BYTES: usize = 8 * 1024 * 1024;

/// JSON values read out of `tools/list` answers across all pages (each
/// answer is also capped at [`crate::bounded_json::MAX_VALUES`]): past it the
/// probe stops paging, so the tools it keeps stay tens of MB at most.
pub(crate) const MAX_TOOL_LIST_VALUES: usize = crate::bounded_json::MAX_VALUES;

/// The origin (scheme, host, port) of a URL, as the Fetch standard and the
/// official SDKs compare them.
fn origin_of(url: &str) -> Option<url::Origin> {
    Url::parse(url).ok().map(|u| u.origin())
}

impl Probe {
    fn base_headers(&self) -> Headers {
        let mut h: Headers = vec![(
            "User-Agent".into(),
            format!("mcprobe/{}", jsonrpc::CLIENT_VERSION),
        )];
        for (k, v) in &self.cfg.headers {
            h.push((k.clone(), v.clone()));
        }
        h
    }

    fn new_exchange(
        &mut self,
        purpose: Purpose,
        request: Option<HttpRequest>,
        rpc_id: Option<u64>,
        mode: BodyMode,
        deadline: Option<u64>,
        now: u64,
    ) -> ExchangeId {
        let id = self.exchange_id();
        if let Some(r) = &request {
            if !self.spend_request(&purpose, r, now) {
                return id;
            }
        }
        let deadline_ms = deadline.unwrap_or(self.deadline_ms).min(self.deadline_ms);
        let request = request.map(|r| self.credentials_stay_home(r));
        self.exchanges.insert(
            id,
            Exchange {
                purpose,
                request: request.clone(),
                rpc_id,
                redirects: 0,
                started_ms: now,
                deadline_ms,
                status: 0,
                headers: Vec::new(),
                body: Vec::new(),
                received: 0,
                mode,
                sse: None,
                wants_endpoint: mode == BodyMode::LegacyStream,
                settled: false,
            },
        );
        if let Some(request) = request {
            self.queue.push_back(super::Action::Http {
                id,
                request,
                deadline_ms,
            });
        }
        id
    }

    /// The caller's headers (`-H`, a monitor's secrets) belong to the origin
    /// of the URL they were given with. A request to any other origin (a
    /// redirect to another host, port or scheme, https to http included, or
    /// a target moved there) goes without them, as browsers do for
    /// `Authorization` and the official SDKs do for every caller header.
    fn credentials_stay_home(&mut self, mut request: HttpRequest) -> HttpRequest {
        if self.cfg.headers.is_empty() {
            return request;
        }
        let home = origin_of(&self.cfg.url);
        let there = origin_of(&request.url);
        if home.is_some() && home == there {
            return request;
        }
        let mut held: Vec<String> = Vec::new();
        request.headers.retain(|(k, v)| {
            let caller = self
                .cfg
                .headers
                .iter()
                .any(|(ck, cv)| ck.eq_ignore_ascii_case(k) && cv == v);
            if caller && !held.iter().any(|h| h.eq_ignore_ascii_case(k)) {
                held.push(k.clone());
            }
            !caller
        });
        let elsewhere = there.map(|o| o.ascii_serialization()).unwrap_or_default();
        if !held.is_empty() && !self.report.held_back_from.contains(&elsewhere) {
            self.report.held_back_from.push(elsewhere.clone());
            self.report.finding(
                crate::verdict::Mode::SpecShould,
                format!(
                    "a request went to {elsewhere}, another origin than the URL given; the caller's headers ({}) were not sent there",
                    held.join(", ")
                ),
            );
        }
        request
    }

    /// Why the probe stops reading `tools/list` pages, once the pages read so
    /// far reach [`MAX_TOOL_LIST_BYTES`] or [`MAX_TOOL_LIST_VALUES`].
    pub(super) fn tool_list_budget_spent(&self) -> Option<String> {
        let r = &self.report;
        if r.tool_list_bytes >= MAX_TOOL_LIST_BYTES {
            Some(format!(
                "stopped paging tools/list after {} bytes of answers (mcprobe reads at most {MAX_TOOL_LIST_BYTES}); the rest was not checked",
                r.tool_list_bytes
            ))
        } else if r.tool_list_values >= MAX_TOOL_LIST_VALUES {
            Some(format!(
                "stopped paging tools/list after {} JSON values (mcprobe reads at most {MAX_TOOL_LIST_VALUES}); the rest was not checked",
                r.tool_list_values
            ))
        } else {
            None
        }
    }

    /// Parses one answer within the JSON bounds, counting a `tools/list`
    /// answer's values and bytes against the cross-page budget.
    fn parse_answer(&mut self, bytes: &[u8], purpose: &Purpose) -> Result<Value, String> {
        self.parse_counted(bytes, purpose).map(|(v, _)| v)
    }

    /// [`Self::parse_answer`], also saying how many values were built.
    fn parse_counted(&mut self, bytes: &[u8], purpose: &Purpose) -> Result<(Value, usize), String> {
        let parsed = jsonrpc::parse_json_bounded(bytes)?;
        if *purpose == Purpose::ToolsList {
            self.report.tool_list_values += parsed.values;
        }
        Ok((parsed.value, parsed.values))
    }

    pub(super) fn start_connect(&mut self, host: String, port: u16, tls: bool, now: u64) {
        let id = self.new_exchange(Purpose::Connect, None, None, BodyMode::Raw, None, now);
        let deadline_ms = self.deadline_ms;
        self.queue.push_back(super::Action::Connect {
            id,
            request: ConnectRequest { host, port, tls },
            deadline_ms,
        });
    }

    /// POSTs a JSON-RPC message. `modern` adds the 2026-07-28 headers; legacy
    /// requests after `initialize` carry the session and version headers.
    pub(super) fn post_rpc(
        &mut self,
        purpose: Purpose,
        msg: &Value,
        rpc_id: Option<u64>,
        url: Url,
        modern: Option<Revision>,
        now: u64,
    ) {
        let mut headers = self.base_headers();
        headers.push(("Content-Type".into(), "application/json".into()));
        headers.push((
            "Accept".into(),
            "application/json, text/event-stream".into(),
        ));
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
        if let Some(rev) = modern {
            headers.push(("MCP-Protocol-Version".into(), rev.as_str().into()));
            headers.push(("Mcp-Method".into(), method.into()));
            let name = msg
                .get("params")
                .and_then(|p| p.get("name").or_else(|| p.get("uri")))
                .and_then(Value::as_str);
            if let (Some(name), true) = (
                name,
                matches!(method, "tools/call" | "resources/read" | "prompts/get"),
            ) {
                headers.push(("Mcp-Name".into(), header_safe(name)));
                if method == "tools/call" {
                    let definition = self.report.snapshot.as_ref().and_then(|s| {
                        s.tools
                            .iter()
                            .find(|t| t.name == name)
                            .map(|t| &t.definition)
                    });
                    if let (Some(def), Some(args)) = (definition, msg["params"].get("arguments")) {
                        headers.extend(param_headers(def, args));
                    }
                }
            }
        } else if !self.conv.sse.active && method != "initialize" {
            if let Some(session) = &self.conv.session_id {
                headers.push(("Mcp-Session-Id".into(), session.clone()));
            }
            if let Some(rev) = self.conv.revision.filter(|r| r.sends_version_header()) {
                headers.push(("MCP-Protocol-Version".into(), rev.as_str().into()));
            }
        }
        let request = HttpRequest {
            method: Method::Post,
            url: url.to_string(),
            headers,
            body: Some(msg.to_string().into_bytes()),
        };
        self.new_exchange(purpose, Some(request), rpc_id, BodyMode::Buffer, None, now);
    }

    /// GET expecting the 2024-11-05 `endpoint` event.
    pub(super) fn get_sse(&mut self, purpose: Purpose, url: Url, deadline: Option<u64>, now: u64) {
        let mut headers = self.base_headers();
        headers.push(("Accept".into(), "text/event-stream".into()));
        let request = HttpRequest {
            method: Method::Get,
            url: url.to_string(),
            headers,
            body: None,
        };
        self.new_exchange(
            purpose,
            Some(request),
            None,
            BodyMode::LegacyStream,
            deadline,
            now,
        );
    }

    /// GET whose raw answer is wanted: documents about the server (RFC 9728,
    /// RFC 8414) that may live on any origin, so no caller header goes along.
    pub(super) fn get_raw(&mut self, purpose: Purpose, url: Url, now: u64) {
        let mut headers = self.base_headers();
        let callers = &self.cfg.headers;
        headers.retain(|(k, _)| !callers.iter().any(|(c, _)| c.eq_ignore_ascii_case(k)));
        headers.push(("Accept".into(), "application/json".into()));
        let request = HttpRequest {
            method: Method::Get,
            url: url.to_string(),
            headers,
            body: None,
        };
        self.new_exchange(purpose, Some(request), None, BodyMode::Raw, None, now);
    }

    pub(super) fn delete_session(&mut self, url: Url, session: String, now: u64) {
        let mut headers = self.base_headers();
        headers.push(("Mcp-Session-Id".into(), session));
        if let Some(rev) = self.conv.revision.filter(|r| r.sends_version_header()) {
            headers.push(("MCP-Protocol-Version".into(), rev.as_str().into()));
        }
        let request = HttpRequest {
            method: Method::Delete,
            url: url.to_string(),
            headers,
            body: None,
        };
        self.new_exchange(
            Purpose::EndSession,
            Some(request),
            None,
            BodyMode::Raw,
            None,
            now,
        );
    }

    /// Delivers an outcome for exchange `id` (removing it unless it is the
    /// long-lived legacy stream).
    fn deliver(&mut self, id: ExchangeId, outcome: Outcome, now: u64) {
        let Some(ex) = self.exchanges.remove(&id) else {
            return;
        };
        // On the HTTP+SSE transport a POST is only accepted (202); its answer
        // comes on the GET stream.
        if self.conv.sse.active && ex.mode == BodyMode::Buffer {
            if let Some(rpc_id) = ex.rpc_id {
                let accepted = match &outcome {
                    Outcome::NoBody { status, .. } | Outcome::NotMcp { status, .. } => {
                        (200..300).contains(status)
                    }
                    _ => false,
                };
                if accepted {
                    return self.await_on_stream(rpc_id, ex.purpose, now);
                }
            }
        }
        self.on_outcome(ex.purpose, outcome, now);
    }

    fn cancel(&mut self, id: ExchangeId) {
        self.queue.push_back(super::Action::Cancel { id });
    }

    pub(super) fn wire_head(&mut self, id: ExchangeId, status: u16, headers: Headers, now: u64) {
        let max_redirects = self.cfg.limits.max_redirects;
        let cap = self.cfg.limits.max_body_bytes;
        let Some(ex) = self.exchanges.get_mut(&id) else {
            return;
        };
        if ex.status != 0 {
            return;
        }
        let ms = now.saturating_sub(ex.started_ms);
        // Redirects: followed here, counted, method and body kept.
        if matches!(status, 301 | 302 | 303 | 307 | 308) {
            let location = header(&headers, "location").map(str::to_string);
            let base = ex.request.as_ref().and_then(|r| Url::parse(&r.url).ok());
            let next = match (location, base) {
                (Some(loc), Some(base)) => base.join(&loc).ok(),
                _ => None,
            };
            if let (Some(next), Some(mut request)) = (next, ex.request.clone()) {
                if ex.redirects >= max_redirects {
                    let last = next.to_string();
                    self.cancel(id);
                    return self.deliver(id, Outcome::RedirectLoop { last }, now);
                }
                let purpose = ex.purpose.clone();
                let rpc_id = ex.rpc_id;
                let mode = ex.mode;
                let redirects = ex.redirects + 1;
                let deadline = ex.deadline_ms;
                self.exchanges.remove(&id);
                self.cancel(id);
                if (301..=303).contains(&status) && request.method == crate::http::Method::Post {
                    self.report.finding(
                        crate::verdict::Mode::SpecShould,
                        format!("{} redirects POST with HTTP {status}; many clients then switch to GET: use 307/308 or list the final URL", request.url),
                    );
                }
                if status == 308 || status == 301 {
                    if let (Peer::Http(t), Ok(from)) = (&mut self.peer, Url::parse(&request.url)) {
                        if *t == from {
                            *t = next.clone();
                        }
                    }
                }
                request.url = next.to_string();
                let new_id =
                    self.new_exchange(purpose, Some(request), rpc_id, mode, Some(deadline), now);
                if let Some(e) = self.exchanges.get_mut(&new_id) {
                    e.redirects = redirects;
                }
                return;
            }
        }
        ex.status = status;
        ex.headers = headers.clone();
        let purpose = ex.purpose.clone();
        let content_type = header(&headers, "content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        let declared_len =
            header(&headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
        let is_sse = content_type.starts_with("text/event-stream");
        if is_sse && (200..300).contains(&status) && ex.mode != BodyMode::Raw {
            if ex.mode == BodyMode::Buffer {
                ex.mode = BodyMode::SseAnswer;
            }
            ex.sse = Some(SseParser::new(cap));
        } else if ex.mode == BodyMode::LegacyStream {
            // Not an event stream: read it as an ordinary answer.
            ex.mode = BodyMode::Buffer;
        }
        let too_big = declared_len.is_some_and(|n| n > cap as u64) && !is_sse;
        self.on_outcome(purpose, Outcome::Head { status, ms }, now);
        if too_big {
            self.cancel(id);
            self.deliver(id, Outcome::Failed(TransportError::BodyTooLarge), now);
        }
    }

    pub(super) fn wire_body(&mut self, id: ExchangeId, chunk: &[u8], now: u64) {
        let cap = self.cfg.limits.max_body_bytes;
        let Some(ex) = self.exchanges.get_mut(&id) else {
            return;
        };
        if ex.settled || ex.status == 0 {
            return;
        }
        ex.received = ex.received.saturating_add(chunk.len());
        if ex.purpose == Purpose::ToolsList {
            self.report.tool_list_bytes = self.report.tool_list_bytes.saturating_add(chunk.len());
        }
        match ex.mode {
            BodyMode::Buffer | BodyMode::Raw => {
                let ok_status = (200..300).contains(&ex.status);
                let keep = if ok_status || ex.mode == BodyMode::Raw {
                    cap
                } else {
                    PREFIX_BYTES
                };
                let room = keep.saturating_sub(ex.body.len());
                ex.body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if !ok_status && ex.mode == BodyMode::Buffer && ex.body.len() >= PREFIX_BYTES {
                    // An error page: its first 16 KiB say all we need.
                    self.cancel(id);
                    return self.wire_end(id, now);
                }
                if ex.received > cap {
                    self.cancel(id);
                    self.deliver(id, Outcome::Failed(TransportError::BodyTooLarge), now);
                }
            }
            BodyMode::SseAnswer | BodyMode::LegacyStream => {
                let over = ex.received > cap && ex.mode == BodyMode::SseAnswer;
                let parsed = match ex.sse.as_mut() {
                    Some(p) => p.push(chunk),
                    None => Ok(Vec::new()),
                };
                match parsed {
                    Ok(events) => {
                        for event in events {
                            if self.on_event(id, event, now) {
                                return;
                            }
                        }
                        if over {
                            self.cancel(id);
                            self.deliver(id, Outcome::Failed(TransportError::BodyTooLarge), now);
                        }
                    }
                    Err(e) => {
                        self.cancel(id);
                        let status = self.exchanges.get(&id).map(|e| e.status).unwrap_or(0);
                        if self.stream_waiter_for(id) {
                            return self.stream_broken(
                                id,
                                format!("the event stream broke: {e}"),
                                now,
                            );
                        }
                        self.deliver(
                            id,
                            Outcome::NotMcp {
                                status,
                                why: e.to_string(),
                                excerpt: String::new(),
                            },
                            now,
                        );
                    }
                }
            }
        }
    }

    /// Handles one SSE event; true when the exchange was settled.
    fn on_event(&mut self, id: ExchangeId, event: SseEvent, now: u64) -> bool {
        let Some(ex) = self.exchanges.get_mut(&id) else {
            return true;
        };
        let status = ex.status;
        let headers = ex.headers.clone();
        if ex.mode != BodyMode::LegacyStream {
            return self.on_sse_answer(id, &event.data, status, headers, now);
        }
        if ex.wants_endpoint {
            if event.event != "endpoint" {
                return false;
            }
            ex.wants_endpoint = false;
            let base = ex.request.as_ref().and_then(|r| Url::parse(&r.url).ok());
            let purpose = ex.purpose.clone();
            return self.on_endpoint_event(id, purpose, base, &event.data, status, now);
        }
        self.on_stream_message(&event.data, status, headers, now);
        false
    }

    /// The legacy stream's `endpoint` event: where to POST, accepted only
    /// on the stream's own origin. `base` is the stream's URL.
    fn on_endpoint_event(
        &mut self,
        id: ExchangeId,
        purpose: Purpose,
        base: Option<Url>,
        data: &str,
        status: u16,
        now: u64,
    ) -> bool {
        let stream_origin = base.as_ref().map(Url::origin);
        let endpoint = base.and_then(|b| b.join(data.trim()).ok());
        match endpoint {
            // The endpoint would get every POST, with the caller's
            // headers: only on the stream's own origin, as the
            // official SDKs require.
            Some(endpoint)
                if matches!(endpoint.scheme(), "http" | "https")
                    && Some(endpoint.origin()) != stream_origin =>
            {
                self.cancel(id);
                let why = format!(
                    "the endpoint event names another origin ({}) than the event stream's: refused, as the official SDKs do, so no request or credential goes there",
                    endpoint.origin().ascii_serialization()
                );
                self.report
                    .finding(crate::verdict::Mode::HandshakeFailed, why.clone());
                self.deliver(
                    id,
                    Outcome::NotMcp {
                        status,
                        why,
                        excerpt: String::new(),
                    },
                    now,
                );
                true
            }
            Some(endpoint) if matches!(endpoint.scheme(), "http" | "https") => {
                // The stream stays open: answers arrive on it.
                let deadline = self.deadline_ms;
                if let Some(ex) = self.exchanges.get_mut(&id) {
                    ex.deadline_ms = deadline;
                }
                if matches!(purpose, Purpose::Alt { .. }) {
                    self.exchanges.remove(&id);
                    self.cancel(id);
                }
                self.on_outcome(purpose, Outcome::SseEndpoint { endpoint }, now);
                true
            }
            _ => {
                self.cancel(id);
                let why = format!(
                    "the endpoint event's data {:?} is not a usable URL",
                    crate::verdict::cut_text(data, crate::verdict::MAX_QUOTED_CHARS)
                );
                self.deliver(
                    id,
                    Outcome::NotMcp {
                        status,
                        why,
                        excerpt: String::new(),
                    },
                    now,
                );
                true
            }
        }
    }

    /// A message on the legacy stream: the answer to the request waiting on
    /// it, or kept for one not yet waiting.
    fn on_stream_message(&mut self, data: &str, status: u16, headers: Headers, now: u64) {
        // A message on the legacy stream: the answer to the request waiting on it?
        let waiting_purpose = self.conv.sse.wait.as_ref().map(|w| w.1.clone());
        if waiting_purpose == Some(Purpose::ToolsList) {
            self.report.tool_list_bytes = self.report.tool_list_bytes.saturating_add(data.len());
        }
        let Ok((msg, values)) = self.parse_counted(
            data.as_bytes(),
            waiting_purpose.as_ref().unwrap_or(&Purpose::SseOpen),
        ) else {
            return;
        };
        let waiting = self.conv.sse.wait.as_ref().map(|w| w.0);
        let Some(resp) = jsonrpc::pick_response(msg, waiting.unwrap_or(0)) else {
            return;
        };
        if !jsonrpc::is_response(&resp) {
            return;
        }
        match waiting {
            Some(rpc_id)
                if jsonrpc::id_matches(&resp, rpc_id) || self.conv.sse.inbox.len() >= 32 =>
            {
                if let Some((_, purpose, _)) = self.conv.sse.wait.take() {
                    self.on_outcome(
                        purpose,
                        Outcome::Reply {
                            msg: resp,
                            status,
                            headers,
                        },
                        now,
                    );
                }
            }
            // Kept for a request not yet waiting, within one answer's
            // worth of values in all: the stream is the server's to fill.
            _ if self.conv.sse.inbox.len() < 32
                && self.report.stream_inbox_values + values <= crate::bounded_json::MAX_VALUES =>
            {
                self.report.stream_inbox_values += values;
                self.conv.sse.inbox.push(resp)
            }
            _ => {}
        }
    }

    /// An SSE answer to one POST: notifications first, then the response.
    fn on_sse_answer(
        &mut self,
        id: ExchangeId,
        data: &str,
        status: u16,
        headers: Headers,
        now: u64,
    ) -> bool {
        let Some(ex) = self.exchanges.get(&id) else {
            return true;
        };
        let rpc_id = ex.rpc_id.unwrap_or(0);
        let purpose = ex.purpose.clone();
        let Ok(msg) = self.parse_answer(data.as_bytes(), &purpose) else {
            return false;
        };
        let Some(ex) = self.exchanges.get_mut(&id) else {
            return true;
        };
        let Some(resp) = jsonrpc::pick_response(msg, rpc_id) else {
            return false;
        };
        if !jsonrpc::is_response(&resp) {
            return false;
        }
        ex.settled = true;
        // The response SHOULD end the stream; do not wait for it to.
        self.cancel(id);
        self.deliver(
            id,
            Outcome::Reply {
                msg: resp,
                status,
                headers,
            },
            now,
        );
        true
    }

    fn stream_waiter_for(&self, id: ExchangeId) -> bool {
        self.exchanges
            .get(&id)
            .is_some_and(|e| e.mode == BodyMode::LegacyStream && !e.wants_endpoint)
            && self.conv.sse.wait.is_some()
    }

    fn stream_broken(&mut self, id: ExchangeId, why: String, now: u64) {
        self.exchanges.remove(&id);
        if let Some((_, purpose, _)) = self.conv.sse.wait.take() {
            self.on_outcome(
                purpose,
                Outcome::NotMcp {
                    status: 200,
                    why,
                    excerpt: String::new(),
                },
                now,
            );
        }
    }

    pub(super) fn wire_end(&mut self, id: ExchangeId, now: u64) {
        let excerpt_chars = self.cfg.limits.excerpt_chars;
        let Some(ex) = self.exchanges.get_mut(&id) else {
            return;
        };
        if ex.settled {
            self.exchanges.remove(&id);
            return;
        }
        let status = ex.status;
        let headers = std::mem::take(&mut ex.headers);
        let body = std::mem::take(&mut ex.body);
        let mode = ex.mode;
        let rpc_id = ex.rpc_id;
        let purpose = ex.purpose.clone();
        let wants_endpoint = ex.wants_endpoint;
        let parser = ex.sse.take();
        match mode {
            BodyMode::Raw => {
                if let Some(p) = self.platform(status, &headers, &body, &purpose) {
                    return self.deliver(id, p, now);
                }
                self.deliver(id, Outcome::Raw { status, body }, now)
            }
            BodyMode::LegacyStream => {
                if self.stream_waiter_for(id) {
                    return self.stream_broken(
                        id,
                        "the event stream ended before the answer".into(),
                        now,
                    );
                }
                let why = if wants_endpoint {
                    "the event stream ended without an endpoint event"
                } else {
                    "the event stream ended"
                };
                self.deliver(
                    id,
                    Outcome::NotMcp {
                        status,
                        why: why.into(),
                        excerpt: String::new(),
                    },
                    now,
                )
            }
            BodyMode::SseAnswer => {
                if let Some(mut parser) = parser {
                    if let Ok(events) = parser.finish() {
                        for event in events {
                            if self.on_event(id, event, now) {
                                return;
                            }
                        }
                    }
                }
                self.deliver(
                    id,
                    Outcome::NotMcp {
                        status,
                        why: "the event stream ended without a JSON-RPC response".into(),
                        excerpt: String::new(),
                    },
                    now,
                )
            }
            BodyMode::Buffer => {
                let outcome =
                    self.judge_body(status, headers, body, rpc_id, excerpt_chars, &purpose);
                self.deliver(id, outcome, now)
            }
        }
    }

    fn platform(
        &self,
        status: u16,
        headers: &Headers,
        body: &[u8],
        purpose: &Purpose,
    ) -> Option<Outcome> {
        if matches!(
            purpose,
            Purpose::Alt { .. } | Purpose::AuthMetadata { .. } | Purpose::EndSession
        ) {
            return None;
        }
        let prefix = &body[..body.len().min(PREFIX_BYTES)];
        classify::detect_platform(status, headers, prefix).map(|m| Outcome::Platform {
            platform: m.platform,
            signature: m.signature,
            status,
        })
    }

    /// Reads a buffered answer into an outcome.
    fn judge_body(
        &mut self,
        status: u16,
        headers: Headers,
        body: Vec<u8>,
        rpc_id: Option<u64>,
        excerpt_chars: usize,
        purpose: &Purpose,
    ) -> Outcome {
        let ok = (200..300).contains(&status);
        // Parsed once and picked from without a copy: a tool list can be large.
        let (reply, parsed) = match self.parse_answer(&body, purpose) {
            Ok(v) => (
                jsonrpc::pick_response(v, rpc_id.unwrap_or(0)).filter(jsonrpc::is_response),
                Ok(()),
            ),
            Err(e) => (None, Err(e)),
        };
        if let Some(p) = self.platform(status, &headers, &body, purpose) {
            if reply.is_none() {
                return p;
            }
        }
        let excerpt = jsonrpc::excerpt(&body, excerpt_chars);
        if !ok {
            return Outcome::Status {
                status,
                headers,
                excerpt,
                reply,
            };
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Outcome::NoBody { status };
        }
        match (reply, parsed) {
            (Some(msg), _) => Outcome::Reply {
                msg,
                status,
                headers,
            },
            (None, Ok(_)) => Outcome::NotMcp {
                status,
                why: "JSON that is no JSON-RPC response".into(),
                excerpt,
            },
            (None, Err(why)) => {
                let ct = header(&headers, "content-type").unwrap_or("no content type");
                let ct = crate::verdict::cut_text(ct, crate::verdict::MAX_QUOTED_CHARS);
                Outcome::NotMcp {
                    status,
                    why: format!("{why}; content type {ct}"),
                    excerpt,
                }
            }
        }
    }

    pub(super) fn wire_error(&mut self, id: ExchangeId, error: TransportError, now: u64) {
        if self.stream_waiter_for(id) {
            return self.stream_broken(id, format!("the event stream failed: {error}"), now);
        }
        self.deliver(id, Outcome::Failed(error), now);
    }

    /// Times out whatever is past its deadline.
    pub(super) fn expire(&mut self, now: u64) {
        if self.verdict.is_some() {
            return;
        }
        let due: Vec<ExchangeId> = self
            .exchanges
            .iter()
            .filter(|(_, e)| e.deadline_ms <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.cancel(id);
            if self.stream_waiter_for(id) {
                self.exchanges.remove(&id);
                if let Some((_, purpose, _)) = self.conv.sse.wait.take() {
                    self.on_outcome(purpose, Outcome::Failed(TransportError::Timeout), now);
                }
                continue;
            }
            self.deliver(id, Outcome::Failed(TransportError::Timeout), now);
        }
        let waits = [
            self.conv.sse.wait.as_ref().map(|w| w.2),
            self.conv.stdio.wait.as_ref().map(|w| w.2),
        ];
        if waits[0].is_some_and(|d| d <= now) {
            if let Some((_, purpose, _)) = self.conv.sse.wait.take() {
                self.on_outcome(purpose, Outcome::Failed(TransportError::Timeout), now);
            }
        }
        if waits[1].is_some_and(|d| d <= now) {
            if let Some((_, purpose, _)) = self.conv.stdio.wait.take() {
                self.on_outcome(purpose, Outcome::Failed(TransportError::Timeout), now);
            }
        }
        if self.verdict.is_none()
            && now >= self.deadline_ms
            && self.exchanges.is_empty()
            && self.conv.stdio.wait.is_none()
            && self.conv.sse.wait.is_none()
        {
            self.report.fail(
                crate::verdict::Mode::Timeout,
                format!(
                    "The probe ran out of its {} ms deadline",
                    self.cfg.timeout_ms
                ),
            );
            self.finish(now);
        }
    }

    // ---- HTTP+SSE POSTs: the answer comes on the stream ----------------------

    /// After a POST on the HTTP+SSE transport was accepted, wait on the stream.
    pub(super) fn await_on_stream(&mut self, rpc_id: u64, purpose: Purpose, now: u64) {
        // The answer may have raced ahead of the POST's 202.
        if let Some(pos) = self
            .conv
            .sse
            .inbox
            .iter()
            .position(|m| jsonrpc::id_matches(m, rpc_id))
        {
            let msg = self.conv.sse.inbox.remove(pos);
            return self.on_outcome(
                purpose,
                Outcome::Reply {
                    msg,
                    status: 200,
                    headers: Vec::new(),
                },
                now,
            );
        }
        self.conv.sse.wait = Some((rpc_id, purpose, self.deadline_ms));
    }
}
