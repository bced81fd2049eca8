//! Start here: what a 401/403 means. A challenge with valid RFC 9728
//! protected-resource metadata is `auth_required` (private on purpose, and it
//! says how to get in); anything less is an HTTP error at the handshake, a
//! failed `tools/list`, or `auth_half_configured` at the safe call.

use url::Url;

use super::steps::{AuthCtx, Purpose};
use super::wire::Outcome;
use super::Probe;
use crate::classify;
use crate::http::{header_joined, Headers};
use crate::verdict::Mode;

impl Probe {
    // ---- auth --------------------------------------------------------------

    pub(super) fn start_auth(&mut self, ctx: AuthCtx, status: u16, headers: &Headers, now: u64) {
        let challenges = header_joined(headers, "www-authenticate")
            .map(|v| classify::parse_www_authenticate(&v))
            .unwrap_or_default();
        if challenges.is_empty() {
            return self.auth_verdict(
                ctx,
                status,
                Err(format!(
                    "HTTP {status} without a WWW-Authenticate challenge"
                )),
                now,
            );
        }
        let mut candidates: Vec<String> = challenges
            .iter()
            .filter_map(|c| c.resource_metadata.clone())
            .collect();
        if candidates.is_empty() {
            // RFC 9728 §3: the well-known URI, path-suffixed first.
            if let Some(url) = &self.target {
                let origin = url.origin().ascii_serialization();
                let path = url.path().trim_end_matches('/');
                if !path.is_empty() {
                    candidates.push(format!(
                        "{origin}/.well-known/oauth-protected-resource{path}"
                    ));
                }
                candidates.push(format!("{origin}/.well-known/oauth-protected-resource"));
            }
        }
        let first = candidates.remove(0);
        self.fetch_metadata(ctx, status, first, candidates, now);
    }

    pub(super) fn fetch_metadata(
        &mut self,
        ctx: AuthCtx,
        _status: u16,
        url: String,
        left: Vec<String>,
        now: u64,
    ) {
        match Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {
                self.get_raw(Purpose::AuthMetadata { ctx, url, left }, u, now);
            }
            _ => self.auth_verdict(
                ctx,
                401,
                Err(format!(
                    "the resource_metadata URL {url:?} is not an http(s) URL"
                )),
                now,
            ),
        }
    }

    pub(super) fn on_auth_metadata(
        &mut self,
        ctx: AuthCtx,
        url: String,
        mut left: Vec<String>,
        outcome: Outcome,
        now: u64,
    ) {
        let result = match outcome {
            Outcome::Raw { status, body, .. } if (200..300).contains(&status) => {
                classify::parse_resource_metadata(&body)
                    .map(|m| (url.clone(), m))
                    .map_err(|e| {
                        format!("the protected-resource metadata at {url} is not valid: {e}")
                    })
            }
            Outcome::Raw { status, .. } | Outcome::Status { status, .. } => Err(format!(
                "the protected-resource metadata at {url} answered HTTP {status}"
            )),
            other => Err(format!(
                "the protected-resource metadata at {url} could not be read ({})",
                other.short()
            )),
        };
        if result.is_err() && !left.is_empty() {
            let next = left.remove(0);
            return self.fetch_metadata(ctx, 401, next, left, now);
        }
        self.auth_verdict(ctx, 401, result, now);
    }

    pub(super) fn auth_verdict(
        &mut self,
        ctx: AuthCtx,
        status: u16,
        metadata: Result<(String, classify::ResourceMetadata), String>,
        now: u64,
    ) {
        match (ctx, metadata) {
            (AuthCtx::SafeCall, Ok((url, meta))) => {
                self.report.auth_required_reason = Some(format!(
                    "Discovery and tools/list are public, and tool calls need OAuth credentials, advertised at {url} (authorization servers: {})",
                    meta.authorization_servers.join(", ")
                ));
                self.end(now);
            }
            (_, Ok((url, meta))) => {
                self.report.fail(
                    Mode::AuthRequired,
                    format!(
                        "The server is private and says how to get in: OAuth protected-resource metadata at {url}, authorization servers {}",
                        meta.authorization_servers.join(", ")
                    ),
                );
                self.end(now);
            }
            (AuthCtx::SafeCall, Err(why)) => {
                let label = self.conv.call_label.clone();
                self.report.fail(
                    Mode::AuthHalfConfigured,
                    format!("Discovery and tools/list work without credentials, but {label} answered HTTP {status} and no auth is advertised ({why})"),
                );
                self.end(now);
            }
            (AuthCtx::ToolsList, Err(why)) => {
                self.report.fail(
                    Mode::ToolsListFailed,
                    format!("tools/list answered HTTP {status} ({why})"),
                );
                self.end(now);
            }
            (AuthCtx::Handshake, Err(why)) => {
                self.report.fail(
                    Mode::HttpError,
                    format!("The server wants credentials but does not say how to get them: {why}; pass one with --header 'Authorization: Bearer ...'"),
                );
                self.end(now);
            }
        }
    }
}
