//! The probe loop (`mcprobe_core::drive`) run for real: the real `Probe`
//! over a scripted host whose exchanges are built with the same
//! `drive::exchange` the page, the Worker and the CLI use, with a fake clock.
//! No sockets, no runtime: a future polled with a no-op waker, bounded.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_util::stream::{self, LocalBoxStream, StreamExt};
use mcprobe_core::drive::{self, Event, Host, Response};
use mcprobe_core::http::{ExchangeId, Headers, HttpRequest, Method, TransportError};
use mcprobe_core::probe::Limits;
use mcprobe_core::verdict::Transport;
use mcprobe_core::{Mode, Probe, ProbeConfig, Verdict};
use serde_json::{json, Value};

/// What the scripted server does with one request.
enum Answer {
    /// A head, then these body chunks, then the end; `push` goes onto the
    /// open event stream once the body has been read (HTTP+SSE answers).
    Full {
        status: u16,
        headers: Headers,
        chunks: Vec<Vec<u8>>,
        push: Vec<Vec<u8>>,
    },
    /// A head, then whatever is pushed, forever; `ping` when nothing is.
    Open { status: u16, ping: Option<Vec<u8>> },
    /// The same chunk, endlessly, as fast as it is asked for.
    Flood { status: u16, chunk: Vec<u8> },
    /// No answer at all.
    Hang,
    /// Refused before sending.
    Refuse(TransportError),
    /// The host gives up the whole check.
    Stop(&'static str),
}

type Server = Box<dyn FnMut(&HttpRequest) -> Answer>;

/// The scripted host: a fake clock, the requests it was asked to send, and
/// counts of what the loop pulled and stopped.
struct Scripted {
    now: Rc<Cell<u64>>,
    server: Server,
    requests: Vec<HttpRequest>,
    /// Chunks waiting on the open event stream.
    pushed: Rc<RefCell<VecDeque<Vec<u8>>>>,
    /// Body bytes the loop pulled from the exchanges.
    pulled: Rc<Cell<usize>>,
    /// Exchanges dropped before their end (stopped).
    stopped: Rc<Cell<u32>>,
    heads_seen: Vec<(u32, u16)>,
}

impl Host for Scripted {
    type Stop = &'static str;
    type Exchange = LocalBoxStream<'static, Event<&'static str>>;

    fn now_ms(&self) -> u64 {
        self.now.get()
    }

    /// Fake time moves only when the timer fires, that is when no exchange
    /// had anything to say first.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        let now = self.now.clone();
        std::future::poll_fn(move |_| {
            now.set(now.get() + ms);
            Poll::Ready(())
        })
    }

    fn send(
        &mut self,
        _id: ExchangeId,
        request: HttpRequest,
    ) -> Result<Self::Exchange, TransportError> {
        let answer = (self.server)(&request);
        self.requests.push(request);
        let pulled = self.pulled.clone();
        let count = move |chunk: Vec<u8>| {
            pulled.set(pulled.get() + chunk.len());
            Ok(chunk)
        };
        let status = match &answer {
            Answer::Full { status, .. }
            | Answer::Open { status, .. }
            | Answer::Flood { status, .. } => *status,
            _ => 0,
        };
        let headers = match &answer {
            Answer::Full { headers, .. } => headers.clone(),
            Answer::Flood { .. } => vec![("content-type".into(), "application/json".into())],
            _ => vec![("content-type".into(), "text/event-stream".into())],
        };
        let body: LocalBoxStream<'static, Result<Vec<u8>, TransportError>> = match answer {
            Answer::Refuse(error) => return Err(error),
            Answer::Stop(why) => return Ok(stream::iter([Event::Stop(why)]).boxed_local()),
            Answer::Hang => stream::pending().boxed_local(),
            Answer::Full { chunks, push, .. } => {
                let queue = self.pushed.clone();
                let mut push = Some(push);
                let after = stream::poll_fn(move |_| {
                    queue.borrow_mut().extend(push.take().unwrap_or_default());
                    Poll::Ready(None)
                });
                stream::iter(chunks).map(count).chain(after).boxed_local()
            }
            Answer::Open { ref ping, .. } => {
                let queue = self.pushed.clone();
                let ping = ping.clone();
                let now = self.now.clone();
                stream::poll_fn(move |_| {
                    if let Some(chunk) = queue.borrow_mut().pop_front() {
                        return Poll::Ready(Some(chunk));
                    }
                    // A ping a millisecond: a loop that only ever read the
                    // pings would reach the deadline, not spin for ever.
                    now.set(now.get() + 1);
                    match &ping {
                        Some(chunk) => Poll::Ready(Some(chunk.clone())),
                        None => Poll::Pending,
                    }
                })
                .map(count)
                .boxed_local()
            }
            Answer::Flood { ref chunk, .. } => {
                stream::repeat(chunk.clone()).map(count).boxed_local()
            }
        };
        let send = async move {
            if status == 0 {
                // Hang: the head never comes.
                std::future::pending::<()>().await;
            }
            Ok(Response {
                status,
                headers,
                body: Some(body),
            })
        };
        let stopped = self.stopped.clone();
        let stop = move || stopped.set(stopped.get() + 1);
        Ok(drive::exchange(send, stop).boxed_local())
    }

    fn observe(&mut self, id: ExchangeId, event: &Event<&'static str>, _now_ms: u64) {
        if let Event::Head { status, .. } = event {
            self.heads_seen.push((id.0, *status));
        }
    }
}

struct Run {
    outcome: Result<Verdict, &'static str>,
    host: Scripted,
    /// Fake time when the run ended.
    at_ms: u64,
}

/// Runs a probe against `server` on the fake clock, to its end.
fn run(cfg: ProbeConfig, server: impl FnMut(&HttpRequest) -> Answer + 'static) -> Run {
    let now = Rc::new(Cell::new(1_000));
    let mut host = Scripted {
        now: now.clone(),
        server: Box::new(server),
        requests: Vec::new(),
        pushed: Rc::default(),
        pulled: Rc::default(),
        stopped: Rc::default(),
        heads_seen: Vec::new(),
    };
    let probe = Probe::new(cfg, now.get()).expect("config");
    let outcome = {
        let mut run = pin!(drive::run(probe, &mut host));
        let mut cx = Context::from_waker(Waker::noop());
        // Every scripted future is ready or pending for good, and the fake
        // timer always fires: the loop never needs a real wake-up.
        let mut polls = 0;
        loop {
            if let Poll::Ready(outcome) = run.as_mut().poll(&mut cx) {
                break outcome;
            }
            polls += 1;
            assert!(polls < 10_000, "the loop did not finish");
        }
    };
    Run {
        outcome: outcome.map(|(verdict, _)| verdict),
        at_ms: now.get(),
        host,
    }
}

fn cfg(url: &str) -> ProbeConfig {
    let mut c = ProbeConfig::new(url);
    c.timeout_ms = 5_000;
    c.checked_at = "2026-11-23T00:00:00Z".into();
    c
}

fn body_json(req: &HttpRequest) -> Value {
    req.body
        .as_ref()
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null)
}

fn rpc_result(req: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": req["id"], "result": result})
}

fn tools() -> Value {
    json!([
        {"name": "ping", "description": "pong", "annotations": {"readOnlyHint": true}, "inputSchema": {"type": "object"}},
        {"name": "wipe", "annotations": {"destructiveHint": true}, "inputSchema": {"type": "object"}}
    ])
}

/// A JSON answer cut into 7-byte chunks, the way a slow network delivers it.
fn chunked_json(status: u16, body: &Value) -> Answer {
    Answer::Full {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        chunks: body
            .to_string()
            .into_bytes()
            .chunks(7)
            .map(<[u8]>::to_vec)
            .collect(),
        push: vec![],
    }
}

/// A modern 2026-07-28 server mirroring what the probe sends.
fn modern(req: &HttpRequest) -> Answer {
    let body = body_json(req);
    let result = match body["method"].as_str().unwrap_or("") {
        "server/discover" => json!({
            "resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "modern", "version": "1.0"}},
            "ttlMs": 1000, "cacheScope": "public"}),
        "tools/list" => {
            json!({"resultType": "complete", "tools": tools(), "ttlMs": 1000, "cacheScope": "public"})
        }
        "tools/call" => {
            json!({"resultType": "complete", "content": [{"type": "text", "text": "pong"}]})
        }
        _ => {
            return chunked_json(
                404,
                &json!({"jsonrpc":"2.0","id":body["id"],"error":{"code":-32601,"message":"Method not found"}}),
            )
        }
    };
    chunked_json(200, &rpc_result(&body, result))
}

#[test]
fn a_modern_server_read_in_small_chunks_is_ok() {
    let run = run(cfg("http://srv/mcp"), modern);
    let v = run.outcome.expect("a verdict");
    assert_eq!(v.mode, Mode::Ok, "{v:#?}");
    assert_eq!(v.tools.as_ref().map(|t| t.count), Some(2));
    let calls: Vec<String> = run
        .host
        .requests
        .iter()
        .map(|r| body_json(r)["method"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(calls, ["server/discover", "tools/list", "tools/call"]);
    assert_eq!(
        run.host.heads_seen,
        [(1, 200), (2, 200), (3, 200)],
        "the host saw every head before the probe"
    );
    assert_eq!(run.host.stopped.get(), 0, "every exchange ran to its end");
}

#[test]
fn a_silent_server_times_out_at_the_deadline_and_its_exchange_is_stopped() {
    let run = run(cfg("http://srv/mcp"), |_| Answer::Hang);
    let v = run.outcome.expect("a verdict");
    assert_eq!(v.mode, Mode::Timeout, "{v:#?}");
    assert_eq!(
        run.at_ms,
        1_000 + 5_000,
        "the verdict comes at the deadline"
    );
    assert_eq!(
        run.host.stopped.get() as usize,
        run.host.requests.len(),
        "every hanging exchange was stopped"
    );
}

#[test]
fn a_flood_is_cut_at_the_body_cap_and_pulled_no_further() {
    let mut c = cfg("http://srv/mcp");
    c.limits = Limits {
        max_body_bytes: 1024,
        ..Limits::default()
    };
    let run = run(c, |_| Answer::Flood {
        status: 200,
        chunk: vec![b' '; 100],
    });
    let v = run.outcome.expect("a verdict");
    assert_eq!(v.mode, Mode::HttpError, "{v:#?}");
    assert!(v.reason.contains("cap"), "{}", v.reason);
    assert!(
        run.host.pulled.get() <= 1024 + 100,
        "chunks are pulled only when the probe wants one: {} bytes",
        run.host.pulled.get()
    );
    assert!(run.host.stopped.get() >= 1, "the flood was stopped");
}

/// The 2024-11-05 HTTP+SSE transport: the GET stream stays open (and keeps
/// sending keep-alive comments) while answers to the POSTs arrive on it.
fn http_sse(req: &HttpRequest) -> Answer {
    let empty = |status| Answer::Full {
        status,
        headers: vec![],
        chunks: vec![],
        push: vec![],
    };
    match (req.method, req.url.as_str()) {
        (Method::Post, "http://srv/sse") => empty(405),
        (Method::Post, "http://srv/mcp") => empty(404),
        (Method::Get, "http://srv/sse") => Answer::Open {
            status: 200,
            ping: Some(b": keep-alive\n\n".to_vec()),
        },
        (Method::Post, "http://srv/messages?sessionId=abc") => {
            let body = body_json(req);
            let result = match body["method"].as_str() {
                Some("initialize") => {
                    json!({"protocolVersion": "2024-11-05", "capabilities": {"tools": {}}, "serverInfo": {"name": "old", "version": "0"}})
                }
                Some("tools/list") => json!({"tools": tools()}),
                Some("tools/call") => json!({"content": [{"type": "text", "text": "pong"}]}),
                _ => return empty(202),
            };
            let event = format!("event: message\ndata: {}\n\n", rpc_result(&body, result));
            Answer::Full {
                status: 202,
                headers: vec![],
                chunks: vec![b"Accepted".to_vec()],
                push: vec![event.into_bytes()],
            }
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_chatty_open_stream_does_not_starve_the_posts_beside_it() {
    let mut sent_endpoint = false;
    let run = run(cfg("http://srv/sse"), move |req| {
        let answer = http_sse(req);
        if let (Answer::Open { .. }, false) = (&answer, sent_endpoint) {
            sent_endpoint = true;
            // The endpoint event comes first on the stream.
            return Answer::Open {
                status: 200,
                ping: Some(b"event: endpoint\ndata: /messages?sessionId=abc\n\n".to_vec()),
            };
        }
        answer
    });
    let v = run.outcome.expect("a verdict");
    assert_eq!(v.mode, Mode::Ok, "{v:#?}");
    assert_eq!(v.transport, Some(Transport::Sse));
}

#[test]
fn a_refused_send_reaches_the_probe_as_that_error() {
    let run = run(cfg("http://srv/mcp"), |_| {
        Answer::Refuse(TransportError::Refused {
            address: "10.0.0.1:80".into(),
        })
    });
    let v = run.outcome.expect("a verdict");
    assert_eq!(v.mode, Mode::ConnectRefused, "{v:#?}");
}

#[test]
fn a_host_stop_ends_the_check_with_its_reason() {
    let run = run(cfg("http://srv/mcp"), |_| Answer::Stop("cors"));
    assert_eq!(run.outcome.err(), Some("cors"));
}

#[test]
fn a_host_without_preflight_refuses_a_connect() {
    let mut c = cfg("http://srv/mcp");
    c.preflight = true;
    let run = run(c, modern);
    let v = run.outcome.expect("a verdict");
    assert!(v.reason.contains("cannot do a connect preflight"), "{v:#?}");
    assert!(run.host.requests.is_empty(), "nothing sent after it");
}
