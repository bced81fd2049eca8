//! Start here: servers that try to hang, exhaust or confuse the probe. Every
//! body here is generated lazily from static buffers or timers (a 1 GiB body
//! never exists in memory), and every writer stops when the client leaves:
//! hyper drops the body stream as soon as a write to the socket fails, and the
//! fleet's runtime drops everything else on shutdown.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;

use crate::engine::sse_headers;
use crate::server::{self, Handler, Req, Resp, State};

/// Accepts the request, reads it, never writes a byte back.
pub(crate) struct NeverAnswers;

impl Handler for NeverAnswers {
    fn handle(self: Arc<Self>, _: Arc<State>, _: Req) -> BoxFuture<'static, Resp> {
        Box::pin(futures_util::future::pending())
    }
}

/// 200 + headers + `{"jsonrpc":` and then silence, socket held open.
pub(crate) struct StallsAfterHeaders;

impl Handler for StallsAfterHeaders {
    fn handle(self: Arc<Self>, _: Arc<State>, _: Req) -> BoxFuture<'static, Resp> {
        Box::pin(async {
            let first = futures_util::stream::once(async {
                Ok::<Bytes, Infallible>(Bytes::from_static(b"{\"jsonrpc\":"))
            });
            let body = first.chain(futures_util::stream::pending());
            server::respond(StatusCode::OK, "application/json", Body::from_stream(body))
        })
    }
}

/// Every POST answers an SSE stream with a notification every 10 ms, forever,
/// and never the response.
pub(crate) struct EndlessSse;

impl Handler for EndlessSse {
    fn handle(self: Arc<Self>, _: Arc<State>, req: Req) -> BoxFuture<'static, Resp> {
        Box::pin(async move {
            if req.method != Method::POST {
                return server::empty(StatusCode::METHOD_NOT_ALLOWED);
            }
            let ticks = tokio::time::interval(Duration::from_millis(10));
            let body = futures_util::stream::unfold((ticks, 0u64), |(mut ticks, n)| async move {
                ticks.tick().await;
                let event = format!(
                    "event: message\ndata: {{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\
                     \"params\":{{\"progressToken\":\"endless\",\"progress\":{n}}}}}\n\n"
                );
                Some((Ok::<Bytes, Infallible>(Bytes::from(event)), (ticks, n + 1)))
            });
            let mut resp = server::empty(StatusCode::OK);
            *resp.body_mut() = Body::from_stream(body);
            sse_headers(&mut resp);
            resp
        })
    }
}

const CHUNK: usize = 64 * 1024;
static SPACES: [u8; CHUNK] = [b' '; CHUNK];
/// What huge-body's Content-Length claims: 1 GiB.
const HUGE: u64 = 1 << 30;

/// 200 application/json, Content-Length 1 GiB: `[` then spaces, streamed from
/// one static 64 KiB buffer.
pub(crate) struct HugeBody;

impl Handler for HugeBody {
    fn handle(self: Arc<Self>, _: Arc<State>, _: Req) -> BoxFuture<'static, Resp> {
        Box::pin(async {
            let spaces = HUGE - 1;
            let full = spaces / CHUNK as u64;
            let rest = (spaces % CHUNK as u64) as usize;
            let chunks = futures_util::stream::iter(
                (0..full)
                    .map(|_| Bytes::from_static(&SPACES))
                    .chain((rest > 0).then(|| Bytes::from_static(&SPACES[..rest]))),
            );
            let body = futures_util::stream::once(async { Bytes::from_static(b"[") })
                .chain(chunks)
                .map(Ok::<Bytes, Infallible>);
            let mut resp =
                server::respond(StatusCode::OK, "application/json", Body::from_stream(body));
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(HUGE));
            resp
        })
    }
}

const DEPTH: usize = 100_000;
const NEST: usize = 10_000;
static OPEN: [u8; NEST] = [b'['; NEST];
static CLOSE: [u8; NEST] = [b']'; NEST];

/// 200 application/json: 100,000 `[` then 100,000 `]`, from static buffers.
pub(crate) struct DeepJson;

impl Handler for DeepJson {
    fn handle(self: Arc<Self>, _: Arc<State>, _: Req) -> BoxFuture<'static, Resp> {
        Box::pin(async {
            let n = DEPTH / NEST;
            let body = futures_util::stream::iter(
                std::iter::repeat_n(Bytes::from_static(&OPEN), n)
                    .chain(std::iter::repeat_n(Bytes::from_static(&CLOSE), n))
                    .map(Ok::<Bytes, Infallible>),
            );
            let mut resp =
                server::respond(StatusCode::OK, "application/json", Body::from_stream(body));
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(2 * DEPTH as u64));
            resp
        })
    }
}

/// Wraps a correct server and sends its answers one byte per second, with
/// the true Content-Length so the client knows how much is still coming.
pub(crate) struct Drip<H>(pub Arc<H>);

impl<H: Handler> Handler for Drip<H> {
    fn handle(self: Arc<Self>, st: Arc<State>, req: Req) -> BoxFuture<'static, Resp> {
        Box::pin(async move {
            let inner = self.0.clone().handle(st, req).await;
            let (mut parts, body) = inner.into_parts();
            // Engine answers are small and finite; a bounded read is enough.
            let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
                return server::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "drip: inner answer unreadable",
                );
            };
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            let ticks = tokio::time::interval(Duration::from_secs(1));
            let body =
                futures_util::stream::unfold((ticks, bytes), |(mut ticks, mut rest)| async move {
                    if rest.is_empty() {
                        return None;
                    }
                    ticks.tick().await;
                    let byte = rest.split_to(1);
                    Some((Ok::<Bytes, Infallible>(byte), (ticks, rest)))
                });
            Resp::from_parts(parts, Body::from_stream(body))
        })
    }
}
