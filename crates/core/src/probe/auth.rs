//! Start here: what a refusal means. A 401/403 with a challenge whose RFC 9728
//! protected-resource metadata is valid, names the URL we spoke to, and
//! whose authorization server publishes its own metadata (RFC 8414 / OpenID
//! Connect) is `auth_required` (private on purpose, and a client can get in);
//! anything less is an HTTP error at the handshake, a failed `tools/list`, or
//! `auth_half_configured` at the safe call. A 403 or 421 that refuses the
//! `Host` is DNS-rebinding protection, not a want of credentials.
//!
//! The documents fetched here live wherever the server points, so they go
//! out with no caller header (see `wire::get_raw`), and their number is
//! capped: a challenge cannot make one check fetch thousands of URLs.

use url::Url;

use super::discovery::{AuthCtx, Discovery, Phase};
use super::exchange::{Outcome, Purpose};
use super::Probe;
use crate::classify::{self, ResourceMetadata};
use crate::http::{header_joined, Headers, TransportError};
use crate::jsonrpc;
use crate::runbook::situation;
use crate::verdict::{Finding, Mode};

/// Protected-resource metadata documents fetched at most for one refusal. A
/// challenge names one `resource_metadata` (RFC 9728 §5.1); a server offering
/// two schemes (Bearer and DPoP) may repeat it, and without one the
/// well-known URI has two spellings (path-suffixed, then bare). Three covers
/// every honest server; uncapped, a challenge listing 2,000 URLs made one
/// check send 2,000 GETs wherever the server pointed.
pub(crate) const MAX_METADATA_CANDIDATES: usize = 3;

/// Characters of a server-supplied URL quoted in a reason or finding.
const URL_CHARS: usize = 200;

/// The rule id of the finding for metadata that names another resource.
pub(crate) const RULE_RESOURCE_MATCH: &str = "rfc9728.resource-match";
/// The rule id of the finding for an authorization server without metadata.
pub(crate) const RULE_AUTH_SERVER_METADATA: &str = "rfc8414.metadata";

/// Why no client can get in, and the first step that fits.
struct Refusal {
    /// A full sentence for the handshake; a clause after "HTTP 401: " later.
    why: String,
    hint: Option<&'static str>,
}

impl Probe {
    /// A 401/403 (or the 421 of a refused Host) at rung `ctx`. `excerpt` is the
    /// body, already capped.
    pub(super) fn start_auth(
        &mut self,
        ctx: AuthCtx,
        status: u16,
        headers: &Headers,
        excerpt: &str,
        now: u64,
    ) {
        let challenges = header_joined(headers, "www-authenticate")
            .map(|v| classify::parse_www_authenticate(&v))
            .unwrap_or_default();
        let limit = self.cfg.limits.excerpt_chars;
        let said = challenges
            .iter()
            .find_map(|c| c.error_description.clone())
            .or_else(|| classify::body_message(excerpt))
            .or_else(|| Some(excerpt.to_string()))
            .map(|s| jsonrpc::excerpt(s.as_bytes(), limit))
            .filter(|s| !s.is_empty());
        let api_key = classify::speaks_of_api_key(excerpt)
            || said.as_deref().is_some_and(classify::speaks_of_api_key)
            || challenges.iter().any(|c| {
                classify::speaks_of_api_key(&c.scheme)
                    || c.realm.as_deref().is_some_and(classify::speaks_of_api_key)
            });
        let d = Discovery {
            ctx,
            status,
            said,
            api_key,
            bearer: challenges.iter().any(|c| c.scheme == "bearer"),
            tried: Vec::new(),
            phase: Phase::Resource {
                url: String::new(),
                left: Vec::new(),
            },
        };
        if status == 421 || challenges.is_empty() && classify::is_host_refusal(status, excerpt) {
            return self.host_refused(d, now);
        }
        if challenges.is_empty() {
            let refusal = no_challenge(&d);
            return self.refused(d, refusal, now);
        }
        let mut candidates: Vec<String> = Vec::new();
        for url in challenges
            .iter()
            .filter_map(|c| c.resource_metadata.as_deref())
        {
            let url = url.trim().to_string();
            if !candidates.contains(&url) {
                candidates.push(url);
            }
            if candidates.len() == MAX_METADATA_CANDIDATES {
                break;
            }
        }
        if candidates.is_empty() {
            // RFC 9728 §3: the well-known URI, path-suffixed first.
            if let Some(url) = self.peer.http() {
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
        let Some((first, left)) = candidates.split_first() else {
            let refusal = no_challenge(&d);
            return self.refused(d, refusal, now);
        };
        let d = Discovery {
            phase: Phase::Resource {
                url: first.clone(),
                left: left.to_vec(),
            },
            ..d
        };
        self.fetch_auth_document(d, now);
    }

    /// GETs the document the discovery is at (no caller header goes along).
    fn fetch_auth_document(&mut self, mut d: Discovery, now: u64) {
        let url = match &d.phase {
            Phase::Resource { url, .. } | Phase::AuthServer { url, .. } => url.clone(),
        };
        match Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {
                let purpose = Purpose::AuthMetadata {
                    discovery: Box::new(d),
                };
                self.get_raw(purpose, u, now);
            }
            _ => {
                d.tried
                    .push(format!("{} is not an http(s) URL", shown(&url)));
                self.next_auth_document(d, now);
            }
        }
    }

    /// Moves on to the phase's next candidate, or concludes it failed.
    fn next_auth_document(&mut self, mut d: Discovery, now: u64) {
        let next = match &mut d.phase {
            Phase::Resource { url, left } | Phase::AuthServer { url, left, .. } => {
                if left.is_empty() {
                    None
                } else {
                    *url = left.remove(0);
                    Some(())
                }
            }
        };
        if next.is_some() {
            return self.fetch_auth_document(d, now);
        }
        let evidence = d.tried.join("; ");
        let refusal = match &d.phase {
            Phase::Resource { .. } => no_metadata(&d, &evidence),
            Phase::AuthServer {
                resource_url, meta, ..
            } => {
                let issuer = shown(&meta.authorization_servers[0]);
                let detail = format!(
                    "the authorization server {issuer} (named by the protected-resource metadata at {}) publishes no usable metadata: {evidence}",
                    shown(resource_url)
                );
                let mode = failure_mode(d.ctx);
                self.report.findings.push(Finding {
                    mode,
                    detail: detail.clone(),
                    pointer: Some("/authorization_servers/0".into()),
                    rule: Some(RULE_AUTH_SERVER_METADATA.into()),
                });
                Refusal {
                    why: sentence(d.ctx, format!("{detail}, so no client can get a token")),
                    hint: Some(situation::AUTHORIZATION_SERVER_DOWN),
                }
            }
        };
        self.refused(d, refusal, now);
    }

    /// What came of one document's GET.
    pub(super) fn on_auth_metadata(&mut self, mut d: Discovery, outcome: Outcome, now: u64) {
        let url = match &d.phase {
            Phase::Resource { url, .. } | Phase::AuthServer { url, .. } => shown(url),
        };
        let body = match outcome {
            Outcome::Raw { status, body } if (200..300).contains(&status) => Ok(body),
            Outcome::Raw { status, .. } | Outcome::Status { status, .. } => {
                Err(format!("{url} answered HTTP {status}"))
            }
            Outcome::Failed(err) => {
                // Every later candidate of an authorization server is on the
                // same origin: one that cannot be reached tells for all.
                if matches!(d.phase, Phase::AuthServer { .. }) && unreachable(&err) {
                    if let Phase::AuthServer { left, .. } = &mut d.phase {
                        left.clear();
                    }
                }
                Err(format!("{url} could not be read ({err})"))
            }
            other => Err(format!("{url} could not be read ({})", other.short())),
        };
        let body = match body {
            Ok(body) => body,
            Err(why) => {
                d.tried.push(why);
                return self.next_auth_document(d, now);
            }
        };
        match d.phase.clone() {
            Phase::Resource { url, .. } => match classify::parse_resource_metadata(&body) {
                Ok(meta) => self.on_resource_metadata(d, url, meta, now),
                Err(e) => {
                    d.tried.push(format!(
                        "the protected-resource metadata at {} is not valid: {e}",
                        shown(&url)
                    ));
                    self.next_auth_document(d, now)
                }
            },
            Phase::AuthServer {
                resource_url,
                meta,
                url,
                ..
            } => match classify::parse_authorization_server_metadata(&body) {
                Ok(_) => self.auth_required(d.ctx, &resource_url, &meta, now),
                Err(e) => {
                    d.tried.push(format!("{} is no metadata: {e}", shown(&url)));
                    self.next_auth_document(d, now)
                }
            },
        }
    }

    /// Valid protected-resource metadata: used only when it names the URL
    /// we spoke to (RFC 9728 §3.3), then its authorization server is asked.
    fn on_resource_metadata(
        &mut self,
        mut d: Discovery,
        url: String,
        meta: ResourceMetadata,
        now: u64,
    ) {
        let listed = self.cfg.url.clone();
        let used = self
            .peer
            .http()
            .map(Url::to_string)
            .unwrap_or_else(|| listed.clone());
        if !classify::resource_covers(&meta.resource, &used)
            && !classify::resource_covers(&meta.resource, &listed)
        {
            let detail = format!(
                "the protected-resource metadata at {} is for {}, not for {used}; RFC 9728 §3.3: metadata for another resource must not be used, and clients refuse it",
                shown(&url),
                shown(&meta.resource)
            );
            self.report.findings.push(Finding {
                mode: failure_mode(d.ctx),
                detail: detail.clone(),
                pointer: Some("/resource".into()),
                rule: Some(RULE_RESOURCE_MATCH.into()),
            });
            let refusal = Refusal {
                why: sentence(d.ctx, format!("{detail}, so no client can log in")),
                hint: Some(situation::RESOURCE_MISMATCH),
            };
            return self.refused(d, refusal, now);
        }
        let issuer = meta.authorization_servers[0].clone();
        let mut urls = classify::authorization_server_metadata_urls(&issuer);
        if urls.is_empty() {
            // parse_resource_metadata checked it is an absolute http(s) URL.
            urls.push(issuer);
        }
        let first = urls.remove(0);
        d.tried.clear();
        d.phase = Phase::AuthServer {
            resource_url: url,
            meta,
            url: first,
            left: urls,
        };
        self.fetch_auth_document(d, now);
    }

    /// The server is private and a client can get in.
    fn auth_required(&mut self, ctx: AuthCtx, url: &str, meta: &ResourceMetadata, now: u64) {
        let servers: Vec<String> = meta
            .authorization_servers
            .iter()
            .take(4)
            .map(|s| shown(s))
            .collect();
        let url = shown(url);
        if ctx == AuthCtx::SafeCall {
            self.report.auth_required_reason = Some(format!(
                "Discovery and tools/list are public, and tool calls need OAuth credentials, advertised at {url} (authorization servers: {})",
                servers.join(", ")
            ));
        } else {
            self.report.fail(
                Mode::AuthRequired,
                format!(
                    "The server is private and says how to get in: OAuth protected-resource metadata at {url}, authorization servers {}",
                    servers.join(", ")
                ),
            );
        }
        self.end(now);
    }

    /// A 403/421 refusing the Host: the same fault whatever the SDK, one mode.
    fn host_refused(&mut self, d: Discovery, now: u64) {
        let host = self
            .peer
            .http()
            .map(|u| u.authority().to_string())
            .unwrap_or_default();
        let status = match d.status {
            421 => "HTTP 421 Misdirected Request".to_string(),
            s => format!("HTTP {s}"),
        };
        let said = d
            .said
            .as_deref()
            .map(|s| format!(": \"{s}\""))
            .unwrap_or_default();
        self.report.fail_hinted(
            Mode::HttpError,
            format!(
                "The server refuses the host it was asked for ({status}{said}): its Host-header check (DNS-rebinding protection) does not allow {host}; this is not a want of credentials"
            ),
            situation::HOST_REFUSED,
        );
        self.end(now);
    }

    /// No client can get in: the mode of the rung, the reason, the hint.
    fn refused(&mut self, d: Discovery, refusal: Refusal, now: u64) {
        let hint = refusal
            .hint
            .or_else(|| d.api_key.then(|| situation::api_key(d.bearer)));
        let status = d.status;
        let (mode, reason) = match d.ctx {
            AuthCtx::Handshake => (Mode::HttpError, refusal.why),
            AuthCtx::ToolsList => (
                Mode::ToolsListFailed,
                format!("tools/list answered HTTP {status}: {}", refusal.why),
            ),
            AuthCtx::SafeCall => {
                let label = self.conv.call.label.clone();
                (
                    Mode::AuthHalfConfigured,
                    format!("Discovery and tools/list work without credentials, but {label} answered HTTP {status} and no usable auth is advertised: {}", refusal.why),
                )
            }
        };
        match hint {
            Some(hint) => self.report.fail_hinted(mode, reason, hint),
            None => self.report.fail(mode, reason),
        }
        self.end(now);
    }
}

/// The mode a refusal at `ctx` ends in.
fn failure_mode(ctx: AuthCtx) -> Mode {
    match ctx {
        AuthCtx::Handshake => Mode::HttpError,
        AuthCtx::ToolsList => Mode::ToolsListFailed,
        AuthCtx::SafeCall => Mode::AuthHalfConfigured,
    }
}

/// At the handshake the clause becomes the reason, a sentence of its own.
fn sentence(ctx: AuthCtx, clause: String) -> String {
    if ctx != AuthCtx::Handshake {
        return clause;
    }
    let mut chars = clause.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => clause,
    }
}

/// A refusal without any challenge.
fn no_challenge(d: &Discovery) -> Refusal {
    let said = said_clause(d);
    let status = d.status;
    let what = format!("HTTP {status} without a WWW-Authenticate challenge{said}");
    let why = match (d.ctx, d.api_key, status) {
        (AuthCtx::ToolsList | AuthCtx::SafeCall, ..) => {
            format!("no WWW-Authenticate challenge{said}")
        }
        (AuthCtx::Handshake, true, _) => {
            format!("The server wants an API key: {what}, and no OAuth metadata to get a token from")
        }
        (AuthCtx::Handshake, false, 403) => format!(
            "The server refuses the request: {what}; nothing says credentials would help"
        ),
        (AuthCtx::Handshake, false, _) => format!(
            "The server wants credentials but does not say how to get them: {what}; pass one with --header 'Authorization: Bearer ...'"
        ),
    };
    let hint = (status == 403 && !d.api_key).then_some(situation::FORBIDDEN);
    Refusal { why, hint }
}

/// A challenge whose protected-resource metadata could not be had.
fn no_metadata(d: &Discovery, evidence: &str) -> Refusal {
    let said = said_clause(d);
    let why = match (d.ctx, d.api_key) {
        (AuthCtx::Handshake, true) => format!(
            "The server wants an API key{said} and publishes no OAuth metadata: {evidence}"
        ),
        (AuthCtx::Handshake, false) => format!(
            "The server wants credentials{said} but does not say how to get them: {evidence}; pass one with --header 'Authorization: Bearer ...'"
        ),
        _ => format!("the challenge{said} leads to no usable metadata: {evidence}"),
    };
    Refusal { why, hint: None }
}

fn said_clause(d: &Discovery) -> String {
    d.said
        .as_deref()
        .map(|s| format!(" (the server said: \"{s}\")"))
        .unwrap_or_default()
}

/// A failure that says the host cannot be reached at all.
fn unreachable(err: &TransportError) -> bool {
    matches!(
        err,
        TransportError::Dns { .. }
            | TransportError::Refused { .. }
            | TransportError::Tls { .. }
            | TransportError::Timeout
    )
}

/// A server-supplied URL, capped and free of control characters.
fn shown(url: &str) -> String {
    jsonrpc::excerpt(url.as_bytes(), URL_CHARS)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::http::{header, Headers, HttpRequest, TransportError};
    use crate::probe::{Action, Probe, ProbeConfig};
    use crate::verdict::{Mode, Status, Verdict};

    enum Answer {
        Full(u16, Headers, Vec<u8>),
        Fail(TransportError),
    }

    fn json_answer(status: u16, v: Value) -> Answer {
        Answer::Full(status, vec![], v.to_string().into_bytes())
    }

    fn challenge(params: &str) -> Answer {
        Answer::Full(
            401,
            vec![("www-authenticate".into(), params.into())],
            vec![],
        )
    }

    fn as_doc(issuer: &str) -> Answer {
        json_answer(
            200,
            json!({"issuer": issuer, "authorization_endpoint": format!("{issuer}/authorize"), "token_endpoint": format!("{issuer}/token")}),
        )
    }

    /// Drives a probe of `http://srv/mcp` with `headers` against `server`.
    fn drive(
        headers: &[(&str, &str)],
        mut server: impl FnMut(&HttpRequest) -> Answer,
    ) -> (Verdict, Vec<HttpRequest>) {
        let mut cfg = ProbeConfig::new("http://srv/mcp");
        cfg.headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut now = 0;
        let mut probe = Probe::new(cfg, now).expect("config");
        let mut seen = Vec::new();
        for _ in 0..10_000 {
            match probe.poll(now) {
                Action::Http { id, request, .. } => {
                    seen.push(request.clone());
                    match server(&request) {
                        Answer::Full(status, headers, body) => {
                            probe.on_head(id, status, headers, now);
                            probe.on_body(id, &body, now);
                            probe.on_end(id, now);
                        }
                        Answer::Fail(e) => probe.on_error(id, e, now),
                    }
                }
                Action::Wait { until_ms } => now = until_ms,
                Action::Done(v) => return (*v, seen),
                _ => {}
            }
        }
        panic!("no verdict");
    }

    /// A private server at `http://srv/mcp` whose metadata says `resource`.
    fn private(resource: &'static str) -> impl FnMut(&HttpRequest) -> Answer {
        move |req| match req.url.as_str() {
            "http://meta.example/prm" => json_answer(
                200,
                json!({"resource": resource, "authorization_servers": ["https://as.example"]}),
            ),
            "https://as.example/.well-known/oauth-authorization-server" => {
                as_doc("https://as.example")
            }
            _ => challenge("Bearer resource_metadata=\"http://meta.example/prm\""),
        }
    }

    #[test]
    fn documents_go_out_without_any_caller_header() {
        let (v, seen) = drive(
            &[("Authorization", "Bearer t0k"), ("X-Api-Key", "k3y")],
            private("http://srv/mcp"),
        );
        assert_eq!(
            (v.mode, v.status),
            (Mode::AuthRequired, Status::Up),
            "{v:#?}"
        );
        assert_eq!(header(&seen[0].headers, "x-api-key"), Some("k3y"));
        let docs: Vec<&HttpRequest> = seen.iter().filter(|r| !r.url.contains("srv")).collect();
        assert_eq!(docs.len(), 2, "{seen:#?}");
        for r in docs {
            for (k, val) in &r.headers {
                assert!(
                    !val.contains("t0k") && !val.contains("k3y"),
                    "{}: {k}",
                    r.url
                );
            }
        }
    }

    #[test]
    fn resource_must_cover_the_url_used() {
        let (v, _) = drive(&[], private("http://srv/api"));
        assert_eq!(v.mode, Mode::HttpError, "{v:#?}");
        assert!(v.reason.contains("RFC 9728"), "{}", v.reason);
        assert_eq!(v.hint, crate::runbook::situation::RESOURCE_MISMATCH);
        assert!(v
            .findings
            .iter()
            .any(|f| f.rule.as_deref() == Some(super::RULE_RESOURCE_MATCH)));
        // The origin alone covers every path (mcp-handler's default).
        let (v, _) = drive(&[], private("http://srv"));
        assert_eq!(v.mode, Mode::AuthRequired, "{v:#?}");
    }

    #[test]
    fn candidates_are_capped_and_deduplicated() {
        let many: Vec<String> = (0..500)
            .map(|i| format!("Bearer resource_metadata=\"http://meta.example/{}\"", i / 2))
            .collect();
        let header = many.join(", ");
        let (v, seen) = drive(&[], move |req| {
            if req.url.starts_with("http://meta.example/") {
                Answer::Full(404, vec![], b"no".to_vec())
            } else {
                challenge(&header)
            }
        });
        assert_eq!(v.mode, Mode::HttpError, "{v:#?}");
        let fetched: Vec<&str> = seen.iter().skip(1).map(|r| r.url.as_str()).collect();
        assert_eq!(
            fetched,
            [
                "http://meta.example/0",
                "http://meta.example/1",
                "http://meta.example/2"
            ]
        );
    }

    #[test]
    fn an_unreachable_authorization_server_is_asked_once() {
        let (v, seen) = drive(&[], |req| match req.url.as_str() {
            "http://meta.example/prm" => json_answer(
                200,
                json!({"resource": "http://srv/mcp", "authorization_servers": ["https://as.example/tenant"]}),
            ),
            u if u.starts_with("https://as.example") => Answer::Fail(TransportError::Dns {
                message: "no such host".into(),
            }),
            _ => challenge("Bearer resource_metadata=\"http://meta.example/prm\""),
        });
        assert_eq!(
            (v.mode, v.status),
            (Mode::HttpError, Status::Down),
            "{v:#?}"
        );
        assert_eq!(
            seen.iter()
                .filter(|r| r.url.starts_with("https://as.example"))
                .count(),
            1
        );
        assert!(
            v.reason.contains("https://as.example/tenant"),
            "{}",
            v.reason
        );
        assert_eq!(v.hint, crate::runbook::situation::AUTHORIZATION_SERVER_DOWN);
    }

    #[test]
    fn a_refused_host_is_an_http_error_at_421_and_403() {
        for (status, body) in [
            (421, "Invalid Host header"),
            (403, "Forbidden: Host header is not allowed"),
        ] {
            let (v, seen) = drive(&[], |_| {
                Answer::Full(status, vec![], body.as_bytes().to_vec())
            });
            assert_eq!(v.mode, Mode::HttpError, "{status}: {v:#?}");
            assert_eq!(seen.len(), 1, "one refusal tells");
            assert!(v.reason.contains(body), "{}", v.reason);
            assert!(v.reason.contains("srv"), "{}", v.reason);
            assert_eq!(v.hint, crate::runbook::situation::HOST_REFUSED);
        }
    }

    #[test]
    fn a_refusal_speaking_of_an_api_key_gets_api_key_advice() {
        let (v, _) = drive(&[], |_| {
            challenge(
                "Bearer error=\"invalid_token\", error_description=\"Invalid or missing API key\"",
            )
        });
        assert_eq!(v.mode, Mode::HttpError, "{v:#?}");
        assert!(
            v.reason.contains("Invalid or missing API key"),
            "{}",
            v.reason
        );
        assert_eq!(v.hint, crate::runbook::situation::api_key(true));
    }
}
