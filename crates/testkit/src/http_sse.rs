//! Start here: the deprecated 2024-11-05 HTTP+SSE transport. `GET /sse` opens
//! a stream whose first event is `endpoint` (a relative
//! `/messages?sessionId=...`); each JSON-RPC message is then POSTed there,
//! answered `202 Accepted`, and its response travels back on the GET stream as
//! an `event: message`. What the methods answer is the engine's (legacy
//! rules, revision 2024-11-05); only the plumbing lives here. A `POST /sse`,
//! which is what newer clients try first, gets 405 with an empty body.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::engine::legacy::{self, LegacyCfg};
use crate::engine::{rpc_error, sse_headers, Engine, Era, Outcome};
use crate::server::{self, lock, Handler, Req, Resp, State};

/// Keep-alive comments on idle streams, like the Python SDK's.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(crate) struct HttpSse {
    engine: Engine,
    cfg: LegacyCfg,
}

impl HttpSse {
    pub fn new() -> HttpSse {
        let cfg = LegacyCfg::new("2024-11-05").oldest("2024-11-05");
        HttpSse {
            engine: Engine::legacy(cfg.clone()),
            cfg,
        }
    }
}

impl Handler for HttpSse {
    fn handle(self: Arc<Self>, st: Arc<State>, req: Req) -> BoxFuture<'static, Resp> {
        Box::pin(async move {
            match (&req.method, req.path.as_str()) {
                (&Method::GET, "/sse") => open_stream(st),
                (_, "/sse") => server::empty(StatusCode::METHOD_NOT_ALLOWED),
                (&Method::POST, "/messages") => self.post_message(&st, &req),
                (_, "/messages") => server::empty(StatusCode::METHOD_NOT_ALLOWED),
                _ => server::text(StatusCode::NOT_FOUND, "Not Found"),
            }
        })
    }
}

/// Removes the session when the client goes away and hyper drops the body.
struct SessionGuard {
    st: Arc<State>,
    id: String,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        lock(&self.st.sse_streams).remove(&self.id);
    }
}

fn open_stream(st: Arc<State>) -> Resp {
    let id = st.mint_id("sse");
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    lock(&st.sse_streams).insert(id.clone(), tx);
    let endpoint = Bytes::from(format!(
        "event: endpoint\ndata: /messages?sessionId={id}\n\n"
    ));
    let guard = SessionGuard { st, id };
    let keep_alive = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    let rest = futures_util::stream::unfold(
        (rx, keep_alive, guard),
        |(mut rx, mut keep_alive, guard)| async move {
            let chunk = tokio::select! {
                msg = rx.recv() => msg?,
                _ = keep_alive.tick() => Bytes::from_static(b": keep-alive\n\n"),
            };
            Some((Ok::<Bytes, Infallible>(chunk), (rx, keep_alive, guard)))
        },
    );
    let first = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(endpoint) });
    let mut resp = server::empty(StatusCode::OK);
    *resp.body_mut() = Body::from_stream(futures_util::StreamExt::chain(first, rest));
    sse_headers(&mut resp);
    resp
}

impl HttpSse {
    fn post_message(&self, st: &State, req: &Req) -> Resp {
        let Some(session) = req.query_param("sessionId") else {
            return server::text(StatusCode::BAD_REQUEST, "sessionId is required");
        };
        let Some(tx) = lock(&st.sse_streams).get(session).cloned() else {
            return server::text(StatusCode::NOT_FOUND, "Could not find session");
        };
        let Some(msg) = req.json.as_ref().filter(|v| v.is_object()) else {
            return server::text(StatusCode::BAD_REQUEST, "Could not parse message");
        };
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
        let params = msg.get("params").cloned().unwrap_or_else(|| json!({}));
        let Some(id) = msg.get("id").cloned() else {
            // A notification: nothing goes back on the stream.
            return server::text(StatusCode::ACCEPTED, "Accepted");
        };
        let outcome = if method == "initialize" {
            legacy::initialize(&self.engine, &self.cfg, &id, &params).0
        } else if method.is_empty() {
            Outcome::Rpc(
                StatusCode::OK,
                rpc_error(&id, -32600, "Invalid Request", None),
            )
        } else {
            self.engine
                .call_method(st, Era::Legacy, &id, method, &params)
        };
        match outcome {
            Outcome::Raw(resp) => resp,
            Outcome::Hang => server::text(StatusCode::ACCEPTED, "Accepted"),
            Outcome::Rpc(_, value) => {
                let mut frame = b"event: message\ndata: ".to_vec();
                frame.extend(self.engine.encode(value));
                frame.extend_from_slice(b"\n\n");
                // The stream may have closed since the lookup; then the
                // answer has nowhere to go, as with a real server.
                let _ = tx.send(Bytes::from(frame));
                server::text(StatusCode::ACCEPTED, "Accepted")
            }
        }
    }
}
