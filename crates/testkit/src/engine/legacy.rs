//! Start here: the legacy (`initialize`-based) side of the engine, as
//! Streamable HTTP servers of revisions 2025-03-26 to 2025-11-25 behave, with
//! the knobs real servers differ on: sessions (`Mcp-Session-Id`, DELETE),
//! strictness about `MCP-Protocol-Version`, JSON or SSE-framed answers, and
//! what a request before `initialize` gets (that is what a dual-era probe's
//! opening `server/discover` runs into). The 2024-11-05 HTTP+SSE transport
//! reuses [`initialize_result`] and the engine's methods from `http_sse`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{Method, StatusCode};
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::{chunked_body, rpc_error, rpc_result, Engine, Era, Fault, Outcome};
use super::{SERVER_NAME, SERVER_VERSION};
use crate::server::{self, lock, Req, Resp, State};

/// Every legacy revision, oldest first.
const LEGACY_REVISIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// How answers to requests are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Json,
    /// text/event-stream: comments, a notifications/message event and
    /// `progress` progress notifications before the response, whose JSON is
    /// split over two `data:` lines; CRLF line endings.
    Sse {
        progress: usize,
    },
}

/// What a request other than `initialize` gets when the server does not
/// consider the client initialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BeforeInit {
    /// 400 + JSON-RPC -32000 "Bad Request: ..." (the TypeScript SDK).
    BadRequest,
    /// 404 with a plain-text body.
    PlainNotFound,
    /// 200 + JSON-RPC -32601 Method not found.
    MethodNotFound,
}

#[derive(Debug, Clone)]
pub(crate) struct LegacyCfg {
    /// The server's own (newest) revision.
    pub revision: &'static str,
    /// The oldest revision it still accepts.
    pub oldest: &'static str,
    pub sessions: bool,
    /// Reject requests after `initialize` without the right
    /// `MCP-Protocol-Version` (only meaningful from 2025-06-18 on).
    pub strict_version_header: bool,
    pub framing: Framing,
    pub before_init: BeforeInit,
}

impl LegacyCfg {
    /// A Streamable HTTP server of `revision`: no sessions, JSON answers,
    /// strict about the version header where the revision defines it.
    pub fn new(revision: &'static str) -> LegacyCfg {
        LegacyCfg {
            revision,
            oldest: "2025-03-26",
            sessions: false,
            strict_version_header: revision >= "2025-06-18",
            framing: Framing::Json,
            before_init: BeforeInit::BadRequest,
        }
    }

    pub fn sessions(self) -> LegacyCfg {
        LegacyCfg {
            sessions: true,
            ..self
        }
    }

    pub fn sse(self, progress: usize) -> LegacyCfg {
        LegacyCfg {
            framing: Framing::Sse { progress },
            ..self
        }
    }

    pub fn oldest(self, oldest: &'static str) -> LegacyCfg {
        LegacyCfg { oldest, ..self }
    }

    pub fn before_init(self, before_init: BeforeInit) -> LegacyCfg {
        LegacyCfg {
            before_init,
            ..self
        }
    }

    /// Versions accepted in `initialize`, oldest first. ISO dates compare as
    /// strings.
    pub fn supported(&self) -> Vec<&'static str> {
        LEGACY_REVISIONS
            .into_iter()
            .filter(|v| *v >= self.oldest && *v <= self.revision)
            .collect()
    }

    fn supports(&self, v: &str) -> bool {
        self.supported().contains(&v)
    }
}

pub(super) async fn handle(eng: &Engine, cfg: &LegacyCfg, st: &State, req: &Req) -> Resp {
    match req.method {
        Method::POST => {}
        Method::DELETE => return delete(cfg, st, req),
        // No standalone GET stream: 405 is the spec's way to say so.
        _ => {
            let allow = if cfg.sessions { "POST, DELETE" } else { "POST" };
            return server::with_header(
                server::empty(StatusCode::METHOD_NOT_ALLOWED),
                "allow",
                allow,
            );
        }
    }
    let Some(msg) = req.json.as_ref().filter(|v| v.is_object()) else {
        return server::json(
            StatusCode::BAD_REQUEST,
            &rpc_error(&Value::Null, -32700, "Parse error: Invalid JSON", None),
        );
    };
    let id = msg.get("id").cloned();
    let Some(method) = msg.get("method").and_then(Value::as_str) else {
        return server::json(
            StatusCode::BAD_REQUEST,
            &rpc_error(&Value::Null, -32600, "Invalid Request", None),
        );
    };
    let params = msg.get("params").cloned().unwrap_or_else(|| json!({}));
    let sse = style(cfg, method, &params);

    if method == "initialize" {
        let Some(id) = id else {
            return server::json(
                StatusCode::BAD_REQUEST,
                &rpc_error(
                    &Value::Null,
                    -32600,
                    "Invalid Request: initialize must have an id",
                    None,
                ),
            );
        };
        let (outcome, version) = initialize(eng, cfg, &id, &params);
        let mut headers = Vec::new();
        if cfg.sessions {
            if let Some(version) = version {
                let sid = st.mint_id("session");
                lock(&st.sessions).insert(sid.clone(), version);
                headers.push(("mcp-session-id", sid));
            }
        }
        return eng.finish(outcome, sse, headers).await;
    }

    // Is this client initialized, and on which version?
    let negotiated = if cfg.sessions {
        let Some(sid) = req.header("mcp-session-id") else {
            return before_init(cfg, id.as_ref(), "Bad Request: Server not initialized");
        };
        let known = lock(&st.sessions).get(sid).cloned();
        match known {
            Some(v) => Some(v),
            None => {
                return server::json(
                    StatusCode::NOT_FOUND,
                    &rpc_error(&Value::Null, -32001, "Session not found", None),
                )
            }
        }
    } else {
        match req.header("mcp-protocol-version") {
            Some(v) if !cfg.supports(v) => {
                // A stateless legacy server cannot know whether `initialize`
                // happened; a version it does not speak (a modern probe's
                // 2026-07-28) is its tell.
                return before_init(
                    cfg,
                    id.as_ref(),
                    &format!(
                        "Bad Request: Server not initialized (protocol version {v} is not one of {})",
                        cfg.supported().join(", ")
                    ),
                );
            }
            _ => None,
        }
    };
    if cfg.strict_version_header {
        let header = req.header("mcp-protocol-version");
        let expected = negotiated.as_deref();
        let needs_header = expected.unwrap_or(cfg.revision) >= "2025-06-18";
        let problem = match (header, expected) {
            (None, _) if needs_header => {
                Some("Bad Request: MCP-Protocol-Version header is required".to_string())
            }
            (Some(h), Some(e)) if h != e => Some(format!(
                "Bad Request: MCP-Protocol-Version {h} does not match the negotiated version {e}"
            )),
            _ => None,
        };
        if let Some(problem) = problem {
            return server::json(
                StatusCode::BAD_REQUEST,
                &rpc_error(&Value::Null, -32000, &problem, None),
            );
        }
    }
    let Some(id) = id else {
        // notifications/initialized and friends.
        return server::empty(StatusCode::ACCEPTED);
    };
    let outcome = eng.call_method(st, Era::Legacy, &id, method, &params);
    eng.finish(outcome, sse, Vec::new()).await
}

/// Answers `initialize`; the negotiated version is `None` when it failed.
pub(crate) fn initialize(
    eng: &Engine,
    cfg: &LegacyCfg,
    id: &Value,
    params: &Value,
) -> (Outcome, Option<String>) {
    if eng.fault == Fault::HandshakeError {
        return (
            Outcome::Rpc(StatusCode::OK, rpc_error(id, -32603, "boom", None)),
            None,
        );
    }
    let offered = params.get("protocolVersion").and_then(Value::as_str);
    let version = match offered {
        _ if eng.fault == Fault::HandshakeBadVersion => "1999-01-01".to_string(),
        Some(v) if cfg.supports(v) => v.to_string(),
        // Not one of ours: answer with our own, the client decides.
        _ => cfg.revision.to_string(),
    };
    let result = initialize_result(eng, &version);
    (
        Outcome::Rpc(StatusCode::OK, rpc_result(id, result)),
        Some(version),
    )
}

pub(crate) fn initialize_result(eng: &Engine, version: &str) -> Map<String, Value> {
    let mut caps = Map::new();
    caps.insert("tools".into(), json!({"listChanged": false}));
    if eng.resources {
        caps.insert("resources".into(), json!({}));
    }
    let mut r = Map::new();
    r.insert("protocolVersion".into(), json!(version));
    r.insert("capabilities".into(), Value::Object(caps));
    r.insert(
        "serverInfo".into(),
        json!({"name": SERVER_NAME, "version": SERVER_VERSION}),
    );
    r
}

fn before_init(cfg: &LegacyCfg, id: Option<&Value>, message: &str) -> Resp {
    match cfg.before_init {
        BeforeInit::BadRequest => server::json(
            StatusCode::BAD_REQUEST,
            &rpc_error(&Value::Null, -32000, message, None),
        ),
        BeforeInit::PlainNotFound => server::text(StatusCode::NOT_FOUND, "Not Found"),
        BeforeInit::MethodNotFound => server::json(
            StatusCode::OK,
            &rpc_error(id.unwrap_or(&Value::Null), -32601, "Method not found", None),
        ),
    }
}

fn delete(cfg: &LegacyCfg, st: &State, req: &Req) -> Resp {
    if !cfg.sessions {
        return server::with_header(
            server::empty(StatusCode::METHOD_NOT_ALLOWED),
            "allow",
            "POST",
        );
    }
    match req.header("mcp-session-id") {
        None => server::text(
            StatusCode::BAD_REQUEST,
            "Bad Request: Mcp-Session-Id header is required",
        ),
        Some(sid) => {
            if lock(&st.sessions).remove(sid).is_some() {
                server::empty(StatusCode::OK)
            } else {
                server::text(StatusCode::NOT_FOUND, "Session not found")
            }
        }
    }
}

// ---- SSE framing -------------------------------------------------------------

/// What an SSE-framed answer carries besides the response.
#[derive(Debug, Clone)]
pub(crate) struct SseStyle {
    progress: usize,
    /// 2025-11-25 servers open with an event that has an id and empty data.
    prime: bool,
    method: String,
    token: Value,
}

fn style(cfg: &LegacyCfg, method: &str, params: &Value) -> Option<SseStyle> {
    let Framing::Sse { progress } = cfg.framing else {
        return None;
    };
    let token = params
        .get("_meta")
        .and_then(|m| m.get("progressToken"))
        .cloned()
        .unwrap_or_else(|| json!("mcprobe-fleet"));
    Some(SseStyle {
        progress,
        prime: cfg.revision >= "2025-11-25",
        method: method.to_string(),
        token,
    })
}

/// The SSE body for one answer; `reply` is the encoded JSON-RPC response.
pub(crate) fn sse_response(style: &SseStyle, reply: Vec<u8>) -> Resp {
    let mut chunks: Vec<Bytes> = Vec::new();
    // Event ids must be unique across every stream of a session; one counter
    // for the whole process is the simplest way to be sure.
    static EVENT_SEQ: AtomicU64 = AtomicU64::new(1);
    let next_id = || format!("fleet-{}", EVENT_SEQ.fetch_add(1, Ordering::Relaxed));
    chunks.push(Bytes::from_static(b": mcprobe-fleet SSE answer\r\n\r\n"));
    if style.prime {
        chunks.push(Bytes::from(format!("id: {}\r\ndata: \r\n\r\n", next_id())));
    }
    let log = json!({
        "jsonrpc": "2.0",
        "method": "notifications/message",
        "params": {"level": "info", "logger": SERVER_NAME, "data": format!("handling {}", style.method)}
    });
    chunks.push(event(&next_id(), &[log.to_string().as_bytes()]));
    for i in 1..=style.progress {
        chunks.push(Bytes::from(format!(
            ": progress {i} of {}\r\n",
            style.progress
        )));
        let progress = json!({
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {"progressToken": style.token, "progress": i, "total": style.progress}
        });
        chunks.push(event(&next_id(), &[progress.to_string().as_bytes()]));
    }
    // The response's JSON over two data: lines (SSE joins them with "\n",
    // which JSON reads as whitespace).
    let parts: Vec<&[u8]> = match split_point(&reply) {
        Some(at) => vec![&reply[..at], &reply[at..]],
        None => vec![&reply[..]],
    };
    chunks.push(event(&next_id(), &parts));
    let mut resp = server::empty(StatusCode::OK);
    *resp.body_mut() = chunked_body(chunks);
    super::sse_headers(&mut resp);
    resp
}

fn event(id: &str, data_lines: &[&[u8]]) -> Bytes {
    let mut out = format!("event: message\r\nid: {id}\r\n").into_bytes();
    for line in data_lines {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Bytes::from(out)
}

/// Just after the first top-level comma of a JSON object, outside strings.
fn split_point(json: &[u8]) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    for (i, &b) in json.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b',' if depth == 1 => return Some(i + 1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_skips_commas_inside_strings_and_nesting() {
        let j = br#"{"id":"a,b","result":{"x":[1,2]},"jsonrpc":"2.0"}"#;
        let at = split_point(j).expect("a top-level comma");
        assert_eq!(&j[..at], br#"{"id":"a,b","#);
        assert_eq!(split_point(br#"{"only":"one, member"}"#), None);
    }

    #[test]
    fn supported_versions_span_oldest_to_revision() {
        assert_eq!(
            LegacyCfg::new("2025-06-18").supported(),
            ["2025-03-26", "2025-06-18"]
        );
        assert_eq!(
            LegacyCfg::new("2025-03-26")
                .oldest("2025-03-26")
                .supported(),
            ["2025-03-26"]
        );
        assert_eq!(
            LegacyCfg::new("2024-11-05")
                .oldest("2024-11-05")
                .supported(),
            ["2024-11-05"]
        );
    }
}
