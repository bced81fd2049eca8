//! Start here: the plumbing every scenario shares. One listener per scenario,
//! an accept loop that optionally wraps each connection in TLS, hyper's HTTP/1.1
//! connection driver, and a request log. A scenario is a [`Handler`]: it gets a
//! fully read [`Req`] (body already collected and logged) and returns a
//! response whose body may stream forever; nothing here knows about MCP.
//!
//! Lifetimes: every task is spawned on the fleet's runtime, so dropping the
//! runtime (when the `Fleet` drops) ends accept loops, connections and endless
//! bodies alike. A body writer also stops on its own when the client goes away,
//! because hyper drops the response body once a write to the socket fails.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use crate::LoggedRequest;

/// Request bodies larger than this are refused (413): no probe sends more.
const MAX_REQUEST_BODY: usize = 1 << 20;
/// A client that opens TCP but never finishes the TLS handshake is dropped.
const TLS_HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

pub(crate) type Resp = Response<Body>;

/// One request as a scenario sees it: head plus the whole body.
pub(crate) struct Req {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<Value>,
}

impl Req {
    /// The header's value as text; `None` when absent or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter's raw value (`?sessionId=abc`); no percent-decoding is
    /// needed for the values this fleet mints.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then_some(v)
        })
    }
}

/// Per-scenario mutable state, shared by its connections and read by `Fleet`.
pub(crate) struct State {
    /// `http://127.0.0.1:PORT` or `https://...`: scenarios that must print
    /// their own absolute URLs (OAuth metadata) read it.
    pub origin: String,
    log: Mutex<Vec<LoggedRequest>>,
    variant: AtomicU32,
    /// Requests handled so far (slow-cold-start counts with it).
    pub counter: AtomicU64,
    next_id: AtomicU64,
    /// Legacy Streamable HTTP sessions: id -> negotiated protocol version.
    pub sessions: Mutex<HashMap<String, String>>,
    /// HTTP+SSE (2024-11-05) sessions: id -> the open GET stream's sender.
    pub sse_streams: Mutex<HashMap<String, mpsc::UnboundedSender<Bytes>>>,
    /// Live connection tasks, so tests can prove endless writers stop.
    connections: Mutex<usize>,
    connections_changed: Condvar,
}

impl State {
    pub fn new(origin: String) -> State {
        State {
            origin,
            log: Mutex::new(Vec::new()),
            variant: AtomicU32::new(0),
            counter: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            sessions: Mutex::new(HashMap::new()),
            sse_streams: Mutex::new(HashMap::new()),
            connections: Mutex::new(0),
            connections_changed: Condvar::new(),
        }
    }

    /// Connection tasks alive right now.
    #[cfg(test)]
    pub fn open_connections(&self) -> usize {
        *lock(&self.connections)
    }

    /// Blocks until no connection task is alive; false on timeout.
    #[cfg(test)]
    pub fn wait_no_connections(&self, timeout: Duration) -> bool {
        let guard = lock(&self.connections);
        let (guard, _) = self
            .connections_changed
            .wait_timeout_while(guard, timeout, |n| *n > 0)
            .unwrap_or_else(|e| e.into_inner());
        *guard == 0
    }

    pub fn variant(&self) -> u32 {
        self.variant.load(Ordering::SeqCst)
    }

    pub fn set_variant(&self, v: u32) {
        self.variant.store(v, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.log).clone()
    }

    /// A fresh session id: unique within the fleet's lifetime, visible ASCII
    /// only (the spec's rule). Not secret: these are test servers.
    pub fn mint_id(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        let port = self.origin.rsplit(':').next().unwrap_or("0");
        format!("{prefix}-{port}-{n:04}")
    }
}

/// Counts one connection task for as long as it lives (however it ends:
/// client gone, error, or the runtime dropping it).
struct ConnectionGuard(Arc<State>);

impl ConnectionGuard {
    fn new(st: Arc<State>) -> ConnectionGuard {
        *lock(&st.connections) += 1;
        st.connections_changed.notify_all();
        ConnectionGuard(st)
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut n = lock(&self.0.connections);
        *n = n.saturating_sub(1);
        self.0.connections_changed.notify_all();
    }
}

/// Locks a mutex, ignoring poisoning: a panicking test must not cascade into
/// every other scenario's requests.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a scenario does with a request.
pub(crate) trait Handler: Send + Sync + 'static {
    fn handle(self: Arc<Self>, st: Arc<State>, req: Req) -> BoxFuture<'static, Resp>;
}

/// A handler that answers synchronously from the request alone.
pub(crate) struct FnHandler(pub fn(&State, &Req) -> Resp);

impl Handler for FnHandler {
    fn handle(self: Arc<Self>, st: Arc<State>, req: Req) -> BoxFuture<'static, Resp> {
        let resp = (self.0)(&st, &req);
        Box::pin(async move { resp })
    }
}

/// Accepts connections until the runtime drops this task.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    handler: Arc<dyn Handler>,
    st: Arc<State>,
) {
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(_) => {
                // EMFILE and friends: back off instead of spinning; the
                // listener itself is still fine.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let handler = handler.clone();
        let st = st.clone();
        let tls = tls.clone();
        let guard = ConnectionGuard::new(st.clone());
        tokio::spawn(async move {
            let _guard = guard;
            match tls {
                None => serve_connection(tcp, handler, st).await,
                Some(acceptor) => {
                    // A failed handshake (the tls-* scenarios' whole point)
                    // just ends the connection.
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(TLS_HANDSHAKE_LIMIT, acceptor.accept(tcp)).await
                    {
                        serve_connection(stream, handler, st).await;
                    }
                }
            }
        });
    }
}

async fn serve_connection<S>(io: S, handler: Arc<dyn Handler>, st: Arc<State>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let handler = handler.clone();
        let st = st.clone();
        async move { Ok::<_, Infallible>(dispatch(handler, st, req).await) }
    });
    // Errors here are clients hanging up or hostile bodies being cut off:
    // nothing to report.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// Reads and logs the request, then hands it to the scenario.
async fn dispatch(
    handler: Arc<dyn Handler>,
    st: Arc<State>,
    req: Request<hyper::body::Incoming>,
) -> Resp {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(Body::new(body), MAX_REQUEST_BODY).await {
        Ok(b) => b,
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
    };
    let json: Option<Value> = if bytes.is_empty() {
        None
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    let headers_logged = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    lock(&st.log).push(LoggedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        headers: headers_logged,
        body: json.clone(),
    });
    st.counter.fetch_add(1, Ordering::SeqCst);
    let req = Req {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        json,
    };
    handler.handle(st, req).await
}

// ---- response helpers -------------------------------------------------------

/// A response with the given status, content type and body.
pub(crate) fn respond(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Resp {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

pub(crate) fn text(status: StatusCode, body: &str) -> Resp {
    respond(status, "text/plain; charset=utf-8", body.to_string())
}

pub(crate) fn html(status: StatusCode, body: &str) -> Resp {
    respond(status, "text/html; charset=utf-8", body.to_string())
}

pub(crate) fn json(status: StatusCode, v: &Value) -> Resp {
    respond(status, "application/json", v.to_string())
}

/// A status with no body and no content type (405 to POST /sse, 202...).
pub(crate) fn empty(status: StatusCode) -> Resp {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}

/// Adds a header; names and values here are compile-time constants or minted
/// by the fleet, so an invalid one is silently skipped rather than a panic.
pub(crate) fn with_header(mut resp: Resp, name: &'static str, value: &str) -> Resp {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(name, v);
    }
    resp
}
