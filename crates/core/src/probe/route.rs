//! Start here: the `route_moved` search. When the listed URL answers 404/405
//! everywhere, the same origin's usual MCP paths are tried: modern discover,
//! then legacy initialize, or the HTTP+SSE endpoint event for `/sse` paths.

use serde_json::{json, Value};
use url::Url;

use super::exchange::{AltKind, Outcome, Purpose};
use super::steps::ALTERNATE_PATHS;
use super::Probe;
use crate::http::TransportError;
use crate::jsonrpc::{self, Reply};
use crate::revision::Revision;
use crate::verdict::Mode;

impl Probe {
    // ---- route search ------------------------------------------------------

    pub(super) fn start_route_search(&mut self, now: u64) {
        let Some(url) = self.peer.http().cloned() else {
            return self.fail_handshake(now);
        };
        let own = url.path().trim_end_matches('/').to_string();
        // The other spelling of the listed path first (`/mcp` for `/mcp/`
        // and the reverse): servers route the two apart, listings mix them.
        self.conv.route.alt_urls = other_spelling(&url)
            .into_iter()
            .chain(
                ALTERNATE_PATHS
                    .iter()
                    .filter(|p| p.trim_end_matches('/') != own)
                    .filter_map(|p| url.join(p).ok()),
            )
            .collect();
        self.conv.step_started_ms = now;
        self.try_alternate(0, now);
    }

    pub(super) fn try_alternate(&mut self, idx: usize, now: u64) {
        let Some(url) = self.conv.route.alt_urls.get(idx).cloned() else {
            let ms = self.lap(now);
            let tried: Vec<&str> = self.conv.route.alt_urls.iter().map(Url::path).collect();
            self.report.step(
                "route search",
                false,
                ms,
                format!("no MCP at {}", tried.join(", ")),
            );
            let statuses: Vec<String> = self
                .conv
                .route
                .handshake_statuses
                .iter()
                .map(u16::to_string)
                .collect();
            self.report.fail(
                Mode::HttpError,
                format!(
                    "The URL answers HTTP {} and no alternate path on the same origin ({}) answers MCP",
                    statuses.join("/"),
                    tried.join(", ")
                ),
            );
            return self.end(now);
        };
        if url.path().ends_with("/sse") {
            self.get_sse(
                Purpose::Alt {
                    idx,
                    kind: AltKind::Sse,
                },
                url,
                None,
                now,
            );
        } else {
            let id = self.rpc_id();
            let rev = Revision::LATEST_MODERN;
            let msg = jsonrpc::request(
                id,
                "server/discover",
                jsonrpc::with_modern_meta(json!({}), rev),
            );
            self.post_rpc(
                Purpose::Alt {
                    idx,
                    kind: AltKind::Discover,
                },
                &msg,
                Some(id),
                url,
                Some(rev),
                now,
            );
        }
    }

    pub(super) fn on_alternate(&mut self, idx: usize, kind: AltKind, outcome: Outcome, now: u64) {
        if matches!(kind, AltKind::SiblingDiscover | AltKind::SiblingInitialize) {
            return self.on_sibling(kind, outcome, now);
        }
        let found = match (&kind, &outcome) {
            (AltKind::Discover, Outcome::Reply { msg, .. }) => matches!(
                jsonrpc::read_reply(msg),
                Some(Reply::Result(r)) if r.get("supportedVersions").is_some()
            ),
            (AltKind::Initialize, Outcome::Reply { msg, .. }) => matches!(
                jsonrpc::read_reply(msg),
                Some(Reply::Result(r)) if r.get("protocolVersion").and_then(Value::as_str).and_then(Revision::parse).is_some()
            ),
            (AltKind::Sse, Outcome::SseEndpoint { .. }) => true,
            _ => false,
        };
        let url = self.conv.route.alt_urls[idx].clone();
        if found {
            let ms = self.lap(now);
            self.report.step(
                "route search",
                true,
                ms,
                format!("MCP answers at {}", url.path()),
            );
            let listed = self.peer.http().map(Url::path).unwrap_or_default();
            let spelling = if listed.trim_end_matches('/') == url.path().trim_end_matches('/') {
                if listed.ends_with('/') {
                    " (the listed path without its trailing slash)"
                } else {
                    " (the listed path with a trailing slash)"
                }
            } else {
                ""
            };
            self.report.fail(
                Mode::RouteMoved,
                format!("The listed URL answers 404, but MCP answers at {url}{spelling}: the route moved without a redirect"),
            );
            if let Some(f) = self.report.failure.as_mut() {
                f.alternate_url = Some(url.to_string());
            }
            return self.end(now);
        }
        if matches!(outcome, Outcome::Failed(TransportError::Timeout))
            && self.remaining_ms(now) == 0
        {
            return self.try_alternate(usize::MAX, now);
        }
        match kind {
            AltKind::Discover => self.send_initialize(
                url,
                Purpose::Alt {
                    idx,
                    kind: AltKind::Initialize,
                },
                now,
            ),
            _ => self.try_alternate(idx + 1, now),
        }
    }
}

impl Probe {
    // ---- the Streamable HTTP sibling of an HTTP+SSE server ------------------

    /// A server found on the deprecated HTTP+SSE transport, a healthy climb,
    /// time left, and a listed path other than `/mcp`: worth one look at
    /// `/mcp` on the same origin before the verdict.
    pub(super) fn wants_sibling_check(&self, now: u64) -> bool {
        !self.peer.is_stdio()
            && self.conv.sse.active
            && !self.conv.route.sibling_checked
            && self.report.failure.is_none()
            && self.remaining_ms(now) > 0
            && self
                .peer
                .http()
                .is_some_and(|u| u.path().trim_end_matches('/') != "/mcp")
    }

    pub(super) fn start_sibling_check(&mut self, now: u64) {
        self.conv.route.sibling_checked = true;
        let Some(url) = self.peer.http().and_then(|u| u.join("/mcp").ok()) else {
            return self.end(now);
        };
        // The HTTP+SSE conversation is over: answers to these POSTs are read
        // from their own responses, not awaited on the event stream.
        self.conv.sse.active = false;
        self.conv.step_started_ms = now;
        let id = self.rpc_id();
        let rev = Revision::LATEST_MODERN;
        let msg = jsonrpc::request(
            id,
            "server/discover",
            jsonrpc::with_modern_meta(json!({}), rev),
        );
        let purpose = Purpose::Alt {
            idx: 0,
            kind: AltKind::SiblingDiscover,
        };
        self.post_rpc(purpose, &msg, Some(id), url, Some(rev), now);
    }

    fn on_sibling(&mut self, kind: AltKind, outcome: Outcome, now: u64) {
        let Some(url) = self.peer.http().and_then(|u| u.join("/mcp").ok()) else {
            return self.end(now);
        };
        let era = match (&kind, &outcome) {
            (AltKind::SiblingDiscover, Outcome::Reply { msg, .. }) => {
                match jsonrpc::read_reply(msg) {
                    Some(Reply::Result(r))
                        if r.get("supportedVersions")
                            .and_then(Value::as_array)
                            .is_some_and(|v| {
                                v.iter()
                                    .any(|v| v.as_str() == Some(Revision::LATEST_MODERN.as_str()))
                            }) =>
                    {
                        Some(format!("modern MCP {}", Revision::LATEST_MODERN))
                    }
                    _ => None,
                }
            }
            (AltKind::SiblingInitialize, Outcome::Reply { msg, .. }) => {
                match jsonrpc::read_reply(msg) {
                    Some(Reply::Result(r)) => r
                        .get("protocolVersion")
                        .and_then(Value::as_str)
                        .and_then(Revision::parse)
                        .map(|v| format!("legacy MCP {v}")),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(era) = era {
            let ms = self.lap(now);
            self.report.step(
                "Streamable HTTP at /mcp",
                true,
                ms,
                format!("answers {era}"),
            );
            if let Some(f) = self
                .report
                .findings
                .iter_mut()
                .find(|f| f.mode == Mode::DeprecatedTransport)
            {
                f.detail = format!(
                    "the listed URL speaks the deprecated 2024-11-05 HTTP+SSE transport, but the same origin also serves Streamable HTTP ({era}) at {url}: list that URL instead"
                );
            }
            return self.end(now);
        }
        let out_of_time = matches!(outcome, Outcome::Failed(TransportError::Timeout))
            && self.remaining_ms(now) == 0;
        if kind == AltKind::SiblingDiscover && !out_of_time {
            // A legacy Streamable HTTP server: its `initialize` tells. No
            // session is kept: this one is only a look.
            let id = self.rpc_id();
            let msg = jsonrpc::request(
                id,
                "initialize",
                jsonrpc::initialize_params(Revision::LATEST_LEGACY),
            );
            let purpose = Purpose::Alt {
                idx: 0,
                kind: AltKind::SiblingInitialize,
            };
            return self.post_rpc(purpose, &msg, Some(id), url, None, now);
        }
        self.end(now)
    }
}

/// The listed URL with its path's trailing slash added or dropped (query
/// kept); `None` for the root path, which has no other spelling.
fn other_spelling(url: &Url) -> Option<Url> {
    let path = url.path();
    if path == "/" || path.is_empty() {
        return None;
    }
    let other = match path.strip_suffix('/') {
        Some(stripped) => stripped.to_string(),
        None => format!("{path}/"),
    };
    let mut alt = url.clone();
    alt.set_path(&other);
    Some(alt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_spelling_adds_or_drops_the_trailing_slash() {
        let u = |s: &str| Url::parse(s).expect("url");
        let other = |s: &str| other_spelling(&u(s)).map(|u| u.to_string());
        assert_eq!(other("http://h/mcp").as_deref(), Some("http://h/mcp/"));
        assert_eq!(other("http://h/mcp/").as_deref(), Some("http://h/mcp"));
        assert_eq!(
            other("http://h/a/mcp?k=1").as_deref(),
            Some("http://h/a/mcp/?k=1")
        );
        assert_eq!(other("http://h/"), None);
    }
}
