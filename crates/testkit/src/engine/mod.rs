//! Start here: the one MCP server every well-behaved (and most misbehaving)
//! scenario is built from. An [`Engine`] is plain configuration: which eras it
//! speaks ([`modern`] 2026-07-28 stateless, [`legacy`] `initialize`-based
//! Streamable HTTP, or both for dual-era), which tool list it serves, whether
//! it paginates or advertises resources, and at most one [`Fault`] that makes
//! one answer deviate from the spec. The era modules own the transport rules
//! (headers, sessions, framing); this module owns what the methods answer.
//!
//! Flow: `Handler::handle` checks the path, picks the era, the era module
//! validates transport-level rules and calls [`Engine::call_method`], then
//! [`Engine::finish`] encodes the [`Outcome`] (JSON or SSE) and applies the
//! encoding-level faults (no `"jsonrpc"`, invalid UTF-8).

pub(crate) mod legacy;
pub(crate) mod modern;
pub(crate) mod tools;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value};

use crate::server::{self, Handler, Req, Resp, State};
use legacy::LegacyCfg;
use tools::ToolSet;

/// The modern revision, the only one the modern side speaks.
pub(crate) const MODERN: &str = "2026-07-28";
pub(crate) const SERVER_NAME: &str = "mcprobe-fleet";
pub(crate) const SERVER_VERSION: &str = "1.4.2";
/// `_meta` keys of the modern era.
pub(crate) const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub(crate) const META_CAPS: &str = "io.modelcontextprotocol/clientCapabilities";
pub(crate) const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// Which era a request is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Era {
    Modern,
    Legacy,
}

/// The one way an otherwise correct engine misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    /// `initialize` answers a JSON-RPC error -32603 "boom" (HTTP 200).
    HandshakeError,
    /// `initialize` answers protocolVersion "1999-01-01".
    HandshakeBadVersion,
    /// `tools/list` answers a JSON-RPC error -32603.
    ToolsListRpcError,
    /// `tools/list` answers 200 application/json `not json at all`.
    ToolsListGarbage,
    /// `tools/list` never answers.
    ToolsListHangs,
    /// `tools/call` answers HTTP 401 without a challenge.
    CallHttp401,
    /// `tools/call` answers this JSON-RPC error.
    CallRpcError(i64, &'static str),
    /// `tools/call` answers a result with `isError: true`.
    CallIsError,
    /// No answer carries `"jsonrpc"`.
    NoJsonrpcMember,
    /// The `tools/list` answer carries id 999 whatever the request's was.
    WrongIdOnToolsList,
    /// `tools/list` answers `{"result":{}, "tools":[...]}`.
    ToolsOutsideResult,
    /// Modern `tools/list` without `resultType`, `ttlMs` and `cacheScope`.
    ModernNoCacheFields,
    /// The server name in discover / initialize answers carries raw 0xff 0xfe.
    InvalidUtf8,
}

/// What a method call came to, before encoding.
pub(crate) enum Outcome {
    /// A JSON-RPC message to send with this HTTP status.
    Rpc(StatusCode, Value),
    /// An HTTP answer that is not JSON-RPC at all (the fault decides it).
    Raw(Resp),
    /// Never answer (the connection stays open until the client leaves).
    Hang,
}

/// A configurable MCP server on one path.
pub(crate) struct Engine {
    pub path: &'static str,
    pub modern: bool,
    pub legacy: Option<LegacyCfg>,
    pub tools: ToolSet,
    pub page_size: Option<usize>,
    pub resources: bool,
    pub fault: Fault,
    /// The first request of every three waits 2 s (a cold start).
    pub slow_cold_start: bool,
}

impl Engine {
    /// A modern-only (2026-07-28) server on `/mcp` with the default tools.
    pub fn modern() -> Engine {
        Engine {
            path: "/mcp",
            modern: true,
            legacy: None,
            tools: ToolSet::Default,
            page_size: None,
            resources: false,
            fault: Fault::None,
            slow_cold_start: false,
        }
    }

    /// A legacy-only server on `/mcp` with the default tools.
    pub fn legacy(cfg: LegacyCfg) -> Engine {
        Engine {
            modern: false,
            legacy: Some(cfg),
            ..Engine::modern()
        }
    }

    /// Answers both `server/discover` (modern) and `initialize` (legacy).
    pub fn dual(cfg: LegacyCfg) -> Engine {
        Engine {
            legacy: Some(cfg),
            ..Engine::modern()
        }
    }

    pub fn fault(self, fault: Fault) -> Engine {
        Engine { fault, ..self }
    }

    pub fn tools(self, tools: ToolSet) -> Engine {
        Engine { tools, ..self }
    }

    pub fn path(self, path: &'static str) -> Engine {
        Engine { path, ..self }
    }

    pub fn with_resources(self) -> Engine {
        Engine {
            resources: true,
            ..self
        }
    }

    pub fn paginate(self, page_size: usize) -> Engine {
        Engine {
            page_size: Some(page_size),
            ..self
        }
    }

    pub fn slow_cold_start(self) -> Engine {
        Engine {
            slow_cold_start: true,
            ..self
        }
    }

    /// Every version this server speaks, newest first (discover's
    /// `supportedVersions`, the -32022 error's `supported`).
    pub fn supported_versions(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.modern {
            v.push(MODERN);
        }
        if let Some(cfg) = &self.legacy {
            v.extend(cfg.supported().into_iter().rev());
        }
        v
    }

    /// A request belongs to the modern side when it says so (the `_meta`
    /// version or a modern `MCP-Protocol-Version`); a dual-era server serves
    /// everything else, `initialize` included, as legacy.
    fn era_of(&self, req: &Req) -> Era {
        match (&self.legacy, self.modern) {
            (None, _) => Era::Modern,
            (Some(_), false) => Era::Legacy,
            (Some(_), true) => {
                let meta_version = req
                    .json
                    .as_ref()
                    .and_then(|m| m.get("params"))
                    .and_then(|p| p.get("_meta"))
                    .and_then(|m| m.get(META_VERSION))
                    .is_some();
                let header_modern = req.header("mcp-protocol-version") == Some(MODERN);
                if meta_version || header_modern {
                    Era::Modern
                } else {
                    Era::Legacy
                }
            }
        }
    }

    /// The methods both eras share, after transport checks passed. `id` is the
    /// request's id (already known to be a request, not a notification).
    pub fn call_method(
        &self,
        st: &State,
        era: Era,
        id: &Value,
        method: &str,
        params: &Value,
    ) -> Outcome {
        match method {
            "ping" => ok(id, complete(era, Map::new())),
            "tools/list" => self.tools_list(st, era, id, params),
            "tools/call" => self.tools_call(st, era, id, params),
            "resources/list" if self.resources => {
                let mut r = Map::new();
                r.insert(
                    "resources".into(),
                    json!([{
                        "uri": "fleet://status",
                        "name": "status",
                        "description": "The fleet's own status line",
                        "mimeType": "text/plain"
                    }]),
                );
                ok(id, with_cache_fields(era, complete(era, r)))
            }
            _ => Outcome::Rpc(
                if era == Era::Modern {
                    StatusCode::NOT_FOUND
                } else {
                    // Legacy SDKs answer unknown methods in-band, HTTP 200.
                    StatusCode::OK
                },
                rpc_error(id, -32601, &format!("Method not found: {method}"), None),
            ),
        }
    }

    fn tools_list(&self, st: &State, era: Era, id: &Value, params: &Value) -> Outcome {
        match self.fault {
            Fault::ToolsListHangs => return Outcome::Hang,
            Fault::ToolsListRpcError => {
                return ok_rpc(rpc_error(
                    id,
                    -32603,
                    "Internal error: tool registry unavailable",
                    None,
                ))
            }
            Fault::ToolsListGarbage => {
                return Outcome::Raw(server::respond(
                    StatusCode::OK,
                    "application/json",
                    "not json at all",
                ))
            }
            _ => {}
        }
        let all = self.tools.list(st.variant());
        let (page, next) = match self.page_size {
            None => (all, None),
            Some(size) => {
                let start = match params.get("cursor") {
                    None | Some(Value::Null) => 0,
                    Some(c) => match c.as_str().and_then(tools::parse_cursor) {
                        Some(start) if start < all.len() => start,
                        _ => {
                            return ok_rpc(rpc_error(
                                id,
                                -32602,
                                &format!("Invalid params: unknown cursor {c}"),
                                None,
                            ))
                        }
                    },
                };
                let end = (start + size).min(all.len());
                let next = (end < all.len()).then(|| tools::cursor(end));
                (all[start..end].to_vec(), next)
            }
        };
        if self.fault == Fault::ToolsOutsideResult {
            return ok_rpc(json!({"jsonrpc": "2.0", "id": id, "result": {}, "tools": page}));
        }
        let mut r = Map::new();
        r.insert("tools".into(), Value::Array(page));
        if let Some(next) = next {
            r.insert("nextCursor".into(), Value::String(next));
        }
        let r = if self.fault == Fault::ModernNoCacheFields {
            r
        } else {
            with_cache_fields(era, complete(era, r))
        };
        let id = if self.fault == Fault::WrongIdOnToolsList {
            json!(999)
        } else {
            id.clone()
        };
        ok(&id, r)
    }

    fn tools_call(&self, st: &State, era: Era, id: &Value, params: &Value) -> Outcome {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return ok_rpc(rpc_error(
                id,
                -32602,
                "Invalid params: tools/call needs a string `name`",
                None,
            ));
        };
        let list = self.tools.list(st.variant());
        let Some(tool) = list
            .iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
        else {
            return ok_rpc(rpc_error(
                id,
                -32602,
                &format!("Unknown tool: {name}"),
                None,
            ));
        };
        let empty = Value::Object(Map::new());
        let args = params.get("arguments").unwrap_or(&empty);
        if let Err(problem) = tools::check_arguments(tool, args) {
            return ok_rpc(rpc_error(
                id,
                -32602,
                &format!("Invalid arguments for tool {name}: {problem}"),
                None,
            ));
        }
        match self.fault {
            Fault::CallHttp401 => {
                return Outcome::Raw(server::text(StatusCode::UNAUTHORIZED, "Unauthorized"))
            }
            Fault::CallRpcError(code, message) => {
                return ok_rpc(rpc_error(id, code, message, None))
            }
            _ => {}
        }
        let is_error = self.fault == Fault::CallIsError;
        let text = if is_error {
            "The tool failed: upstream status API answered 503".to_string()
        } else {
            tools::call_text(name, args)
        };
        let mut r = Map::new();
        r.insert("content".into(), json!([{"type": "text", "text": text}]));
        r.insert("isError".into(), Value::Bool(is_error));
        ok(id, complete(era, r))
    }

    /// Encodes an outcome: JSON or SSE framing, plus the encoding faults.
    pub async fn finish(
        &self,
        outcome: Outcome,
        sse: Option<legacy::SseStyle>,
        extra_headers: Vec<(&'static str, String)>,
    ) -> Resp {
        let (status, value) = match outcome {
            Outcome::Raw(resp) => return resp,
            Outcome::Hang => return futures_util::future::pending::<Resp>().await,
            Outcome::Rpc(status, value) => (status, value),
        };
        let bytes = self.encode(value);
        let mut resp = match sse {
            Some(style) if status == StatusCode::OK => legacy::sse_response(&style, bytes),
            _ => server::respond(status, "application/json", bytes),
        };
        for (name, value) in extra_headers {
            resp = server::with_header(resp, name, &value);
        }
        resp
    }

    /// JSON text of an answer, with the encoding-level faults applied.
    pub fn encode(&self, mut v: Value) -> Vec<u8> {
        if self.fault == Fault::NoJsonrpcMember {
            if let Some(obj) = v.as_object_mut() {
                obj.shift_remove("jsonrpc");
            }
        }
        let mut bytes = v.to_string().into_bytes();
        if self.fault == Fault::InvalidUtf8 {
            let needle = format!("\"{SERVER_NAME}\"");
            if let Some(at) = find(&bytes, needle.as_bytes()) {
                // Inside the string, just before its closing quote.
                let at = at + needle.len() - 1;
                bytes.splice(at..at, [0xff, 0xfe]);
            }
        }
        bytes
    }
}

impl Handler for Engine {
    fn handle(self: Arc<Self>, st: Arc<State>, req: Req) -> BoxFuture<'static, Resp> {
        Box::pin(async move {
            if req.path != self.path {
                return server::text(StatusCode::NOT_FOUND, "Not Found");
            }
            // The dispatcher counted this request already: 1, 2, 3, ...
            if self.slow_cold_start && st.counter.load(std::sync::atomic::Ordering::SeqCst) % 3 == 1
            {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            match (self.era_of(&req), &self.legacy) {
                (Era::Legacy, Some(cfg)) => legacy::handle(&self, cfg, &st, &req).await,
                _ => modern::handle(&self, &st, &req).await,
            }
        })
    }
}

// ---- JSON-RPC helpers ----------------------------------------------------

pub(crate) fn rpc_result(id: &Value, result: Map<String, Value>) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

pub(crate) fn rpc_error(id: &Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({"code": code, "message": message});
    if let (Some(data), Some(obj)) = (data, error.as_object_mut()) {
        obj.insert("data".into(), data);
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

fn ok(id: &Value, result: Map<String, Value>) -> Outcome {
    ok_rpc(rpc_result(id, result))
}

fn ok_rpc(v: Value) -> Outcome {
    Outcome::Rpc(StatusCode::OK, v)
}

/// Modern results start with `resultType: "complete"`.
fn complete(era: Era, rest: Map<String, Value>) -> Map<String, Value> {
    if era == Era::Legacy {
        return rest;
    }
    let mut r = Map::new();
    r.insert("resultType".into(), json!("complete"));
    r.extend(rest);
    r
}

/// Modern list results carry caching hints.
fn with_cache_fields(era: Era, mut r: Map<String, Value>) -> Map<String, Value> {
    if era == Era::Modern {
        r.insert("ttlMs".into(), json!(60000));
        r.insert("cacheScope".into(), json!("public"));
    }
    r
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A finite list of chunks as a streamed (chunked) body.
pub(crate) fn chunked_body(chunks: Vec<Bytes>) -> Body {
    Body::from_stream(futures_util::stream::iter(
        chunks.into_iter().map(Ok::<Bytes, Infallible>),
    ))
}

/// Sets the headers an SSE answer carries.
pub(crate) fn sse_headers(resp: &mut Resp) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
}
