//! Start here: Server-Sent Events read off an exchange: an SSE answer to
//! one POST, and the 2024-11-05 HTTP+SSE transport's GET stream (its
//! `endpoint` event, then the answers to POSTs accepted with a 202).

use url::Url;

use super::exchange::{BodyMode, Outcome, Purpose};
use super::Probe;
use crate::http::{ExchangeId, Headers};
use crate::jsonrpc;
use crate::sse::SseEvent;

impl Probe {
    /// Handles one SSE event; true when the exchange was settled.
    pub(super) fn on_event(&mut self, id: ExchangeId, event: SseEvent, now: u64) -> bool {
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

    pub(super) fn stream_waiter_for(&self, id: ExchangeId) -> bool {
        self.exchanges
            .get(&id)
            .is_some_and(|e| e.mode == BodyMode::LegacyStream && !e.wants_endpoint)
            && self.conv.sse.wait.is_some()
    }

    pub(super) fn stream_broken(&mut self, id: ExchangeId, why: String, now: u64) {
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
