//! Start here: turning host events into [`Outcome`]s: redirects (followed
//! and counted by us), body and stream caps, platform pages, deadlines.
//! Requests are built in `request.rs`, SSE events read in `stream.rs`; the
//! decisions live in `steps.rs` and the rungs it hands outcomes to; stdio
//! framing in `stdio.rs`, header value encoding in `headers.rs`.

use serde_json::Value;
use url::Url;

use super::exchange::{BodyMode, Outcome, Purpose};
use super::peer::Peer;
use super::Probe;
use crate::classify;
use crate::http::{header, ExchangeId, Headers, TransportError};
use crate::jsonrpc;
use crate::sse::SseParser;

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

impl Probe {
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
    pub(super) fn parse_answer(
        &mut self,
        bytes: &[u8],
        purpose: &Purpose,
    ) -> Result<Value, String> {
        self.parse_counted(bytes, purpose).map(|(v, _)| v)
    }

    /// [`Self::parse_answer`], also saying how many values were built.
    pub(super) fn parse_counted(
        &mut self,
        bytes: &[u8],
        purpose: &Purpose,
    ) -> Result<(Value, usize), String> {
        let parsed = jsonrpc::parse_json_bounded(bytes)?;
        if *purpose == Purpose::ToolsList {
            self.report.tool_list_values += parsed.values;
        }
        Ok((parsed.value, parsed.values))
    }

    /// Delivers an outcome for exchange `id` (removing it unless it is the
    /// long-lived legacy stream).
    pub(super) fn deliver(&mut self, id: ExchangeId, outcome: Outcome, now: u64) {
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

    pub(super) fn cancel(&mut self, id: ExchangeId) {
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
}
