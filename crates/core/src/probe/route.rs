//! Start here: the `route_moved` search. When the listed URL answers 404/405
//! everywhere, the same origin's usual MCP paths are tried: modern discover,
//! then legacy initialize, or the HTTP+SSE endpoint event for `/sse` paths.

use serde_json::{json, Value};
use url::Url;

use super::steps::{AltKind, Purpose, ALTERNATE_PATHS};
use super::wire::Outcome;
use super::Probe;
use crate::http::TransportError;
use crate::jsonrpc::{self, Reply};
use crate::revision::Revision;
use crate::verdict::Mode;

impl Probe {
    // ---- route search ------------------------------------------------------

    pub(super) fn start_route_search(&mut self, now: u64) {
        let Some(url) = self.target.clone() else {
            return self.fail_handshake(now);
        };
        let own = url.path().trim_end_matches('/').to_string();
        self.conv.alt_urls = ALTERNATE_PATHS
            .iter()
            .filter(|p| p.trim_end_matches('/') != own)
            .filter_map(|p| url.join(p).ok())
            .collect();
        self.conv.step_started_ms = now;
        self.try_alternate(0, now);
    }

    pub(super) fn try_alternate(&mut self, idx: usize, now: u64) {
        let Some(url) = self.conv.alt_urls.get(idx).cloned() else {
            let ms = self.lap(now);
            let tried: Vec<&str> = self.conv.alt_urls.iter().map(Url::path).collect();
            self.report.step(
                "route search",
                false,
                ms,
                format!("no MCP at {}", tried.join(", ")),
            );
            let statuses: Vec<String> = self
                .conv
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
        let url = self.conv.alt_urls[idx].clone();
        if found {
            let ms = self.lap(now);
            self.report.step(
                "route search",
                true,
                ms,
                format!("MCP answers at {}", url.path()),
            );
            self.report.fail(
                Mode::RouteMoved,
                format!("The listed URL answers 404, but MCP answers at {url}: the route moved without a redirect"),
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
