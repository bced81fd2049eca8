//! Start here: servers that try to make the probe's answer unbounded (huge
//! tool pages, many big pages, a megabyte error message), that compress their
//! answers (honestly, or as a bomb), and that try to pull the caller's
//! credentials to another origin (a redirect, a legacy `endpoint` event).
//!
//! The other origin is given by the test in the probed URL's query,
//! `?to=http://127.0.0.1:PORT/mcp` (the `header-recorder` scenario's URL):
//! scenarios do not know each other's ports, and the probe keeps the query on
//! every request it makes to the listed URL.
//!
//! Big bodies are built per request (a few MB, in the fleet's process, not the
//! probe's); the gzip bomb is compressed as it streams, 1 MiB at a time, and
//! stops when the client leaves.

use std::convert::Infallible;
use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode};
use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};

use crate::engine::legacy::LegacyCfg;
use crate::engine::{sse_headers, Engine};
use crate::server::{self, Handler, Req, Resp, State};

/// Just under the probe's 4 MiB body cap, so only the probe's own bounds
/// (not the body cap) stand between the page and the probe's memory.
const UNDER_THE_CAP: usize = 4 * 1024 * 1024 - 1024;
/// One page of the twenty-page scenarios: 3.5 MB.
const BIG_PAGE: usize = 3_500_000;
/// Pages the twenty-page scenarios serve.
const PAGES: usize = 20;
/// The error message of `huge-error-message`: 3 MiB.
const HUGE_MESSAGE: usize = 3 * 1024 * 1024;
/// What the gzip bomb decodes to: 1 GiB.
const BOMB_BYTES: usize = 1 << 30;
/// Decoded bytes per compressed piece of the bomb.
const BOMB_STEP: usize = 1 << 20;
static SPACES: [u8; BOMB_STEP] = [b' '; BOMB_STEP];
/// The end of the bomb's gzip stream: a final empty fixed-Huffman block, then
/// the CRC32 of 1 GiB of spaces (0x9ac47fa6, computed once offline: zlib's
/// `crc32` over 1,024 MiB of 0x20) and ISIZE (2^30),
/// little-endian. A constant: computing it per request took seconds in a
/// debug build.
const BOMB_TAIL: [u8; 10] = [0x03, 0x00, 0xa6, 0x7f, 0xc4, 0x9a, 0, 0, 0, 0x40];

/// The legacy 2025-06-18 base the tool-list scenarios wrap: its tool-list
/// results have no modern fields, so a valid page draws no finding.
fn legacy_base() -> Arc<Engine> {
    Arc::new(Engine::legacy(LegacyCfg::new("2025-06-18")))
}

fn rpc_method(req: &Req) -> Option<&str> {
    req.json.as_ref()?.get("method")?.as_str()
}

fn rpc_id(req: &Req) -> Value {
    req.json
        .as_ref()
        .and_then(|m| m.get("id"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn json_bytes(status: StatusCode, body: Vec<u8>) -> Resp {
    let len = body.len();
    let mut resp = server::respond(status, "application/json", body);
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

/// `{"jsonrpc":"2.0","id":ID,"result":{"tools":[` + items + `]` + tail + `}}`,
/// items repeated to fill about `size` bytes.
fn tools_page(id: &Value, item: &str, size: usize, cursor: Option<String>) -> Vec<u8> {
    let head = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"tools":["#);
    let tail = match cursor {
        Some(c) => format!(r#"],"nextCursor":"{c}"}}}}"#),
        None => "]}}".to_string(),
    };
    let room = size.saturating_sub(head.len() + tail.len());
    let n = (room / (item.len() + 1)).max(1);
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(head.as_bytes());
    for i in 0..n {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.as_bytes());
    }
    body.extend_from_slice(tail.as_bytes());
    body
}

/// Which page a `tools/list` asks for: 0 without a cursor, N for `page-N`.
fn page_of(req: &Req) -> usize {
    req.json
        .as_ref()
        .and_then(|m| m["params"]["cursor"].as_str())
        .and_then(|c| c.strip_prefix("page-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// What a tool-list scenario answers to `tools/list`.
#[derive(Clone, Copy)]
pub(crate) enum Pages {
    /// One page of `{},{},...` just under the body cap (1.4 million tools
    /// that each break two rules).
    HugeEmpty,
    /// Twenty pages of 3.5 MB of `{},{},...`.
    TwentyEmpty,
    /// Twenty pages of 3.5 MB of valid tools with 35 KB descriptions
    /// (2,000 tools, 70 MB in all).
    TwentyBig,
    /// A JSON-RPC error whose message is 3 MiB of multi-byte text.
    HugeError,
}

/// A healthy legacy server whose `tools/list` answers are hostile.
pub(crate) struct HostileList(pub Pages);

impl Handler for HostileList {
    fn handle(self: Arc<Self>, st: Arc<State>, req: Req) -> BoxFuture<'static, Resp> {
        if req.method != Method::POST || rpc_method(&req) != Some("tools/list") {
            return legacy_base().handle(st, req);
        }
        let id = rpc_id(&req);
        let page = page_of(&req);
        let next = (page + 1 < PAGES).then(|| format!("page-{}", page + 1));
        let body = match self.0 {
            Pages::HugeEmpty => tools_page(&id, "{}", UNDER_THE_CAP, None),
            Pages::TwentyEmpty => tools_page(&id, "{}", BIG_PAGE, next),
            Pages::TwentyBig => {
                let description = "d".repeat(35_000 - 100);
                let mut body = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"tools":["#);
                for i in 0..100 {
                    if i > 0 {
                        body.push(',');
                    }
                    body.push_str(&format!(
                        r#"{{"name":"tool_{page}_{i}","description":"{description}","inputSchema":{{"type":"object"}}}}"#
                    ));
                }
                match next {
                    Some(c) => body.push_str(&format!(r#"],"nextCursor":"{c}"}}}}"#)),
                    None => body.push_str("]}}"),
                }
                body.into_bytes()
            }
            Pages::HugeError => {
                let unit = "ünïcödé ∞ boom ";
                let message = unit.repeat(HUGE_MESSAGE / unit.len());
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": message}})
                    .to_string()
                    .into_bytes()
            }
        };
        Box::pin(async move { json_bytes(StatusCode::OK, body) })
    }
}

/// A healthy modern server that gzips every answer, whether or not the
/// request said it accepts gzip (RFC 9110: a request without
/// `Accept-Encoding` accepts any coding).
pub(crate) struct Gzipped(pub Arc<Engine>);

impl Handler for Gzipped {
    fn handle(self: Arc<Self>, st: Arc<State>, req: Req) -> BoxFuture<'static, Resp> {
        Box::pin(async move {
            let inner = self.0.clone().handle(st, req).await;
            let (mut parts, body) = inner.into_parts();
            // Engine answers are small and finite; a bounded read is enough.
            let Ok(plain) = axum::body::to_bytes(body, 1 << 20).await else {
                return server::text(StatusCode::INTERNAL_SERVER_ERROR, "gzip: inner unreadable");
            };
            let mut enc = GzEncoder::new(Vec::new(), Compression::default());
            let packed = enc.write_all(&plain).and_then(|()| enc.finish());
            let Ok(packed) = packed else {
                return server::text(StatusCode::INTERNAL_SERVER_ERROR, "gzip failed");
            };
            parts
                .headers
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(packed.len()));
            Resp::from_parts(parts, Body::from(packed))
        })
    }
}

/// Every POST answers 200 application/json, `Content-Encoding: gzip`: about
/// 1 MB on the wire that decodes to 1 GiB of spaces.
///
/// Built without compressing a GiB: one MiB of spaces is deflated once by a
/// fresh compressor and sync-flushed (byte-aligned, not final, no reference
/// to earlier data), so the same piece can follow itself any number of times
/// in one deflate stream.
pub(crate) struct GzipBomb;

/// The deflated MiB of spaces, made once.
fn bomb_piece() -> Bytes {
    static PIECE: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    PIECE
        .get_or_init(|| {
            let mut c = flate2::Compress::new(Compression::best(), false);
            // A MiB of one byte deflates to about a KiB: one call has room
            // to take all of it and flush.
            let mut out = Vec::with_capacity(256 * 1024);
            let status = c.compress_vec(&SPACES, &mut out, flate2::FlushCompress::Sync);
            assert!(
                status.is_ok() && c.total_in() == BOMB_STEP as u64,
                "the bomb's piece did not deflate in one call"
            );
            Bytes::from(out)
        })
        .clone()
}

impl Handler for GzipBomb {
    fn handle(self: Arc<Self>, _: Arc<State>, req: Req) -> BoxFuture<'static, Resp> {
        Box::pin(async move {
            if req.method != Method::POST {
                return server::empty(StatusCode::METHOD_NOT_ALLOWED);
            }
            // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown.
            const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
            let piece = bomb_piece();
            let pieces = futures_util::stream::iter(
                std::iter::repeat_n(piece, BOMB_BYTES / BOMB_STEP).chain(std::iter::once(
                    // A final empty fixed-Huffman block, CRC32, ISIZE.
                    Bytes::from_static(&BOMB_TAIL),
                )),
            );
            let body = futures_util::StreamExt::map(
                futures_util::StreamExt::chain(
                    futures_util::stream::once(async { Bytes::from_static(&HEADER) }),
                    pieces,
                ),
                Ok::<Bytes, Infallible>,
            );
            let mut resp =
                server::respond(StatusCode::OK, "application/json", Body::from_stream(body));
            resp.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            resp
        })
    }
}

/// Answers every request with `307 Temporary Redirect` to the URL in its
/// `to` query parameter (another origin: the header recorder).
pub(crate) fn redirect_elsewhere(_: &State, req: &Req) -> Resp {
    match req.query_param("to") {
        Some(to) => server::with_header(
            server::empty(StatusCode::TEMPORARY_REDIRECT),
            "location",
            to,
        ),
        None => server::text(StatusCode::BAD_REQUEST, "?to=URL is required"),
    }
}

/// A 2024-11-05 HTTP+SSE look-alike whose `endpoint` event names the URL in
/// the `to` query parameter (another origin): POSTs get 405, so the probe
/// falls back to the GET stream, which then stays open.
pub(crate) fn endpoint_elsewhere(_: &State, req: &Req) -> Resp {
    if req.method != Method::GET {
        return server::empty(StatusCode::METHOD_NOT_ALLOWED);
    }
    let Some(to) = req.query_param("to") else {
        return server::text(StatusCode::BAD_REQUEST, "?to=URL is required");
    };
    let first = Bytes::from(format!("event: endpoint\ndata: {to}?sessionId=stolen\n\n"));
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<Bytes, Infallible>(first) }),
        futures_util::stream::pending(),
    );
    let mut resp = server::empty(StatusCode::OK);
    *resp.body_mut() = Body::from_stream(body);
    sse_headers(&mut resp);
    resp
}

/// The other origin: a healthy modern server. The fleet logs every header
/// it receives (`Fleet::requests`); tests assert no secret is among them.
pub(crate) fn header_recorder() -> Arc<dyn Handler> {
    Arc::new(Engine::modern())
}

/// The hostile-bounds group of the scenario table.
pub(crate) fn list(pages: Pages) -> Arc<dyn Handler> {
    Arc::new(HostileList(pages))
}

/// A gzipping modern server.
pub(crate) fn gzipped() -> Arc<dyn Handler> {
    Arc::new(Gzipped(Arc::new(Engine::modern())))
}
