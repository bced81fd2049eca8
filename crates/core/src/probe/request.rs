//! Start here: turning the probe's requests into host actions: the
//! headers of each era, the per-check request budget, credentials kept on
//! the endpoint's own origin, and one exchange opened per request.

use serde_json::Value;
use url::Url;

use super::exchange::{BodyMode, Exchange, Purpose};
use super::headers::{header_safe, param_headers};
use super::Probe;
use crate::http::{ConnectRequest, ExchangeId, Headers, HttpRequest, Method};
use crate::jsonrpc;
use crate::revision::Revision;

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

    pub(super) fn new_exchange(
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
}
