//! The probe driven on scripted exchanges with a fake clock: no sockets, no
//! real time. Each test is a tiny server written as a function of the request,
//! so every rung of the ladder and every fallback is pinned exactly.

use mcprobe_core::http::{ExchangeId, Headers, HttpRequest, Method, TransportError};
use mcprobe_core::probe::Limits;
use mcprobe_core::{Action, Mode, Probe, ProbeConfig, Severity, Status, Verdict};
use serde_json::{json, Value};

/// What the scripted server does with one request.
enum Answer {
    Full {
        status: u16,
        headers: Headers,
        body: Vec<u8>,
    },
    /// Head and these chunks, then the stream stays open.
    Open {
        status: u16,
        headers: Headers,
        chunks: Vec<Vec<u8>>,
    },
    /// No answer at all.
    Hang,
    Fail(TransportError),
}

fn json_answer(status: u16, body: Value) -> Answer {
    Answer::Full {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

fn rpc_result(req: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": req["id"], "result": result})
}

fn body_json(req: &HttpRequest) -> Value {
    req.body
        .as_ref()
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null)
}

fn hdr<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    mcprobe_core::http::header(&req.headers, name)
}

struct Run {
    verdict: Verdict,
    requests: Vec<HttpRequest>,
    /// Fake time when the verdict came.
    at_ms: u64,
}

/// Drives a probe against `server`. Messages a server wants to push on an open
/// stream (legacy HTTP+SSE) are returned from `push`.
fn drive(cfg: ProbeConfig, mut server: impl FnMut(&HttpRequest) -> (Answer, Vec<Vec<u8>>)) -> Run {
    let mut now = 1_000u64;
    let mut probe = Probe::new(cfg, now).expect("config");
    let mut requests = Vec::new();
    let mut open_stream: Option<ExchangeId> = None;
    for _ in 0..10_000 {
        match probe.poll(now) {
            Action::Http { id, request, .. } => {
                requests.push(request.clone());
                let (answer, push) = server(&request);
                match answer {
                    Answer::Full {
                        status,
                        headers,
                        body,
                    } => {
                        probe.on_head(id, status, headers, now);
                        probe.on_body(id, &body, now);
                        probe.on_end(id, now);
                    }
                    Answer::Open {
                        status,
                        headers,
                        chunks,
                    } => {
                        probe.on_head(id, status, headers, now);
                        for c in chunks {
                            probe.on_body(id, &c, now);
                        }
                        open_stream = Some(id);
                    }
                    Answer::Hang => {}
                    Answer::Fail(e) => probe.on_error(id, e, now),
                }
                if let Some(stream) = open_stream {
                    for chunk in push {
                        probe.on_body(stream, &chunk, now);
                    }
                }
            }
            Action::Connect { .. } => panic!("no preflight in replay"),
            Action::Cancel { id } => {
                if open_stream == Some(id) {
                    open_stream = None;
                }
            }
            Action::StdioWrite { .. } => panic!("no stdio here"),
            Action::Wait { until_ms } => {
                assert!(until_ms > now, "wait must move time forward");
                now = until_ms;
            }
            Action::Done(v) => {
                return Run {
                    verdict: *v,
                    requests,
                    at_ms: now,
                }
            }
        }
    }
    panic!("the probe did not finish in 10,000 actions");
}

fn cfg(url: &str) -> ProbeConfig {
    let mut c = ProbeConfig::new(url);
    c.timeout_ms = 5_000;
    c.checked_at = "2026-11-23T00:00:00Z".into();
    c
}

fn tools() -> Value {
    json!([
        {"name": "ping", "description": "pong", "annotations": {"readOnlyHint": true}, "inputSchema": {"type": "object"}},
        {"name": "wipe", "annotations": {"destructiveHint": true}, "inputSchema": {"type": "object"}}
    ])
}

/// A modern 2026-07-28 server, strict about the mirrored headers.
fn modern(req: &HttpRequest) -> (Answer, Vec<Vec<u8>>) {
    let body = body_json(req);
    let method = body["method"].as_str().unwrap_or("");
    let meta_version = body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"].as_str();
    if hdr(req, "mcp-protocol-version") != meta_version || hdr(req, "mcp-method") != Some(method) {
        return (
            json_answer(
                400,
                json!({"jsonrpc":"2.0","id":body["id"],"error":{"code":-32020,"message":"header mismatch"}}),
            ),
            vec![],
        );
    }
    let answer = match method {
        "server/discover" => json_answer(
            200,
            rpc_result(
                &body,
                json!({
            "resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "modern", "version": "1.0"}},
            "ttlMs": 1000, "cacheScope": "public"}),
            ),
        ),
        "tools/list" => json_answer(
            200,
            rpc_result(
                &body,
                json!({"resultType": "complete", "tools": tools(), "ttlMs": 1000, "cacheScope": "public"}),
            ),
        ),
        "tools/call" => {
            assert_eq!(
                hdr(req, "mcp-name"),
                Some("ping"),
                "Mcp-Name mirrors params.name"
            );
            json_answer(
                200,
                rpc_result(
                    &body,
                    json!({"resultType": "complete", "content": [{"type": "text", "text": "pong"}]}),
                ),
            )
        }
        _ => json_answer(
            404,
            json!({"jsonrpc":"2.0","id":body["id"],"error":{"code":-32601,"message":"Method not found"}}),
        ),
    };
    (answer, vec![])
}

#[test]
fn modern_server_is_ok_with_headers_and_safe_call() {
    let run = drive(cfg("http://srv/mcp"), modern);
    let v = &run.verdict;
    assert_eq!(
        (v.mode, v.status, v.severity),
        (Mode::Ok, Status::Up, Severity::None),
        "{v:#?}"
    );
    assert_eq!(v.protocol_version.as_deref(), Some("2026-07-28"));
    assert_eq!(v.tools.as_ref().map(|t| t.count), Some(2));
    let calls: Vec<String> = run
        .requests
        .iter()
        .map(|r| body_json(r)["method"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(calls, ["server/discover", "tools/list", "tools/call"]);
    assert!(
        !run.requests
            .iter()
            .any(|r| body_json(r)["params"]["name"] == "wipe"),
        "never the destructive tool"
    );
}

/// A legacy 2025-11-25 server with sessions and SSE-framed answers.
fn legacy_session(req: &HttpRequest) -> (Answer, Vec<Vec<u8>>) {
    if req.method == Method::Delete {
        assert_eq!(hdr(req, "mcp-session-id"), Some("s-1"));
        return (
            Answer::Full {
                status: 200,
                headers: vec![],
                body: vec![],
            },
            vec![],
        );
    }
    let body = body_json(req);
    let method = body["method"].as_str().unwrap_or("");
    if method == "initialize" {
        let resp = rpc_result(
            &body,
            json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "legacy", "version": "2"}}),
        );
        return (
            Answer::Full {
                status: 200,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("mcp-session-id".into(), "s-1".into()),
                ],
                body: resp.to_string().into_bytes(),
            },
            vec![],
        );
    }
    if hdr(req, "mcp-session-id") != Some("s-1") {
        return (
            json_answer(
                400,
                json!({"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Server not initialized"}}),
            ),
            vec![],
        );
    }
    assert_eq!(hdr(req, "mcp-protocol-version"), Some("2025-11-25"));
    match method {
        "notifications/initialized" => (
            Answer::Full {
                status: 202,
                headers: vec![],
                body: vec![],
            },
            vec![],
        ),
        "tools/list" | "tools/call" => {
            let result = if method == "tools/list" {
                json!({"tools": tools()})
            } else {
                json!({"content": [{"type": "text", "text": "pong"}]})
            };
            let resp = rpc_result(&body, result).to_string();
            // SSE joins data lines with "\n": split where JSON allows whitespace.
            let cut = resp.find(',').unwrap() + 1;
            let (a, b) = resp.split_at(cut);
            // Comments, a notification first, the response over two data lines, CRLF.
            let sse = format!(": hi\r\nevent: message\r\ndata: {{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{{}}}}\r\n\r\ndata: {a}\r\ndata: {b}\r\n\r\n");
            (
                Answer::Full {
                    status: 200,
                    headers: vec![("content-type".into(), "text/event-stream".into())],
                    body: sse.into_bytes(),
                },
                vec![],
            )
        }
        _ => (
            json_answer(
                200,
                json!({"jsonrpc":"2.0","id":body["id"],"error":{"code":-32601,"message":"nope"}}),
            ),
            vec![],
        ),
    }
}

#[test]
fn legacy_server_with_session_and_sse_answers() {
    let run = drive(cfg("http://srv/mcp"), legacy_session);
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::Ok, "{v:#?}");
    assert_eq!(v.era, Some(mcprobe_core::verdict::Era::Legacy));
    assert_eq!(v.protocol_version.as_deref(), Some("2025-11-25"));
    assert!(v.findings.iter().any(|f| f.mode == Mode::LegacyOnly));
    let last = run.requests.last().unwrap();
    assert_eq!(last.method, Method::Delete, "the minted session is ended");
}

/// The 2024-11-05 HTTP+SSE transport: answers come on the GET stream.
fn http_sse(req: &HttpRequest) -> (Answer, Vec<Vec<u8>>) {
    match (req.method, req.url.as_str()) {
        (Method::Post, "http://srv/sse") => (
            Answer::Full {
                status: 405,
                headers: vec![],
                body: vec![],
            },
            vec![],
        ),
        (Method::Get, "http://srv/sse") => (
            Answer::Open {
                status: 200,
                headers: vec![("content-type".into(), "text/event-stream".into())],
                chunks: vec![b"event: endpoint\ndata: /messages?sessionId=abc\n\n".to_vec()],
            },
            vec![],
        ),
        (Method::Post, "http://srv/messages?sessionId=abc") => {
            let body = body_json(req);
            let result = match body["method"].as_str() {
                Some("initialize") => {
                    json!({"protocolVersion": "2024-11-05", "capabilities": {"tools": {}}, "serverInfo": {"name": "old", "version": "0"}})
                }
                Some("tools/list") => json!({"tools": tools()}),
                Some("tools/call") => json!({"content": [{"type": "text", "text": "pong"}]}),
                _ => {
                    return (
                        Answer::Full {
                            status: 202,
                            headers: vec![],
                            body: vec![],
                        },
                        vec![],
                    )
                }
            };
            let event = format!("event: message\ndata: {}\n\n", rpc_result(&body, result));
            (
                Answer::Full {
                    status: 202,
                    headers: vec![],
                    body: b"Accepted".to_vec(),
                },
                vec![event.into_bytes()],
            )
        }
        // The look for Streamable HTTP beside it: nothing there.
        (Method::Post, "http://srv/mcp") => (
            Answer::Full {
                status: 404,
                headers: vec![],
                body: b"Not Found".to_vec(),
            },
            vec![],
        ),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn legacy_http_sse_transport_reads_answers_from_the_stream() {
    let run = drive(cfg("http://srv/sse"), http_sse);
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::Ok, "{v:#?}");
    assert_eq!(v.transport, Some(mcprobe_core::verdict::Transport::Sse));
    assert_eq!(v.protocol_version.as_deref(), Some("2024-11-05"));
    assert!(v
        .findings
        .iter()
        .any(|f| f.mode == Mode::DeprecatedTransport));
}

#[test]
fn route_moved_finds_the_alternate_path() {
    let run = drive(cfg("http://srv/old"), |req| {
        if req.url == "http://srv/v1/mcp" {
            return modern(req);
        }
        (
            Answer::Full {
                status: 404,
                headers: vec![("content-type".into(), "text/plain".into())],
                body: b"Not Found".to_vec(),
            },
            vec![],
        )
    });
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::RouteMoved, "{v:#?}");
    assert_eq!(v.alternate_url.as_deref(), Some("http://srv/v1/mcp"));
    assert_eq!((v.status, v.severity), (Status::Down, Severity::P1));
}

#[test]
fn redirect_loop_is_an_http_error_not_a_hang() {
    let run = drive(cfg("http://srv/mcp"), |req| {
        let next = if req.url.ends_with("/a") { "/b" } else { "/a" };
        (
            Answer::Full {
                status: 307,
                headers: vec![("location".into(), next.into())],
                body: vec![],
            },
            vec![],
        )
    });
    assert_eq!(run.verdict.mode, Mode::HttpError, "{:#?}", run.verdict);
    assert!(
        run.verdict.reason.contains("redirect"),
        "{}",
        run.verdict.reason
    );
    assert!(
        run.requests.len() <= 7,
        "redirects are capped: {}",
        run.requests.len()
    );
}

#[test]
fn a_silent_server_times_out_at_the_deadline() {
    let run = drive(cfg("http://srv/mcp"), |_| (Answer::Hang, vec![]));
    assert_eq!(run.verdict.mode, Mode::Timeout, "{:#?}", run.verdict);
    assert_eq!(
        run.at_ms,
        1_000 + 5_000,
        "the verdict comes exactly at the deadline"
    );
}

#[test]
fn endless_event_stream_ends_in_a_verdict() {
    // Every POST opens a stream of notifications that never carries the answer.
    let run = drive(cfg("http://srv/mcp"), |_| {
        let note =
            b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n"
                .repeat(100);
        (
            Answer::Open {
                status: 200,
                headers: vec![("content-type".into(), "text/event-stream".into())],
                chunks: vec![note],
            },
            vec![],
        )
    });
    assert_eq!(run.verdict.mode, Mode::Timeout, "{:#?}", run.verdict);
}

#[test]
fn body_over_the_cap_is_cut_off() {
    let mut c = cfg("http://srv/mcp");
    c.limits = Limits {
        max_body_bytes: 1024,
        ..Limits::default()
    };
    let run = drive(c, |_| {
        (
            Answer::Full {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: vec![b' '; 4096],
            },
            vec![],
        )
    });
    assert_eq!(run.verdict.mode, Mode::HttpError, "{:#?}", run.verdict);
    assert!(run.verdict.reason.contains("cap"), "{}", run.verdict.reason);
}

#[test]
fn transport_errors_map_to_their_layers() {
    for (err, mode) in [
        (
            TransportError::Dns {
                message: "NXDOMAIN".into(),
            },
            Mode::DnsUnresolved,
        ),
        (
            TransportError::Refused {
                address: "1.2.3.4:443".into(),
            },
            Mode::ConnectRefused,
        ),
        (
            TransportError::Tls {
                tls: mcprobe_core::http::TlsErrorKind::Expired,
                message: "expired".into(),
                not_after: Some("2020-01-01T00:00:00Z".into()),
            },
            Mode::TlsError,
        ),
    ] {
        let run = drive(cfg("https://srv/mcp"), |_| {
            (Answer::Fail(err.clone()), vec![])
        });
        assert_eq!(run.verdict.mode, mode, "{:#?}", run.verdict);
    }
}

#[test]
fn malformed_answers_keep_climbing_and_judge_strictly() {
    let run = drive(cfg("http://srv/mcp"), |req| {
        let body = body_json(req);
        match body["method"].as_str() {
            Some("server/discover") => (json_answer(404, json!({"error": "no"})), vec![]),
            Some("initialize") => (
                json_answer(
                    200,
                    json!({"id": body["id"], "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "x", "version": "1"}}}),
                ),
                vec![],
            ),
            Some("notifications/initialized") => (
                Answer::Full {
                    status: 202,
                    headers: vec![],
                    body: vec![],
                },
                vec![],
            ),
            Some("tools/list") => (
                json_answer(
                    200,
                    json!({"jsonrpc": "2.0", "id": body["id"], "result": {}, "tools": [{"name": "ping", "inputSchema": "{\"type\":\"object\"}"}]}),
                ),
                vec![],
            ),
            _ => (
                json_answer(200, rpc_result(&body, json!({"content": []}))),
                vec![],
            ),
        }
    });
    let v = &run.verdict;
    assert_eq!(
        (v.mode, v.status, v.severity),
        (Mode::MalformedJsonrpc, Status::Degraded, Severity::P2),
        "{v:#?}"
    );
    let pointers: Vec<&str> = v
        .findings
        .iter()
        .filter_map(|f| f.pointer.as_deref())
        .collect();
    assert!(
        pointers.contains(&"/jsonrpc") || pointers.iter().any(|p| p.is_empty() || *p == "/"),
        "missing jsonrpc flagged: {pointers:?}"
    );
    assert!(
        pointers.iter().any(|p| p.starts_with("/tools")),
        "tools beside result flagged: {pointers:?}"
    );
}

#[test]
fn half_configured_auth_and_plain_tool_errors_differ() {
    for (message, mode) in [
        ("Unauthorized: missing API key", Mode::AuthHalfConfigured),
        ("Request timed out", Mode::ToolCallError),
    ] {
        let run = drive(cfg("http://srv/mcp"), |req| {
            let body = body_json(req);
            if body["method"] == "tools/call" {
                return (
                    json_answer(
                        200,
                        json!({"jsonrpc":"2.0","id":body["id"],"error":{"code":-32001,"message":message}}),
                    ),
                    vec![],
                );
            }
            modern(req)
        });
        assert_eq!(run.verdict.mode, mode, "{message}: {:#?}", run.verdict);
    }
}

#[test]
fn oauth_challenge_with_metadata_is_auth_required_and_up() {
    let run = drive(cfg("http://srv/mcp"), |req| {
        if req.url == "http://srv/.well-known/oauth-protected-resource" {
            return (
                json_answer(
                    200,
                    json!({"resource": "http://srv/mcp", "authorization_servers": ["https://auth.example.com"]}),
                ),
                vec![],
            );
        }
        if req.url == "https://auth.example.com/.well-known/oauth-authorization-server" {
            return (
                json_answer(
                    200,
                    json!({"issuer": "https://auth.example.com", "authorization_endpoint": "https://auth.example.com/authorize", "token_endpoint": "https://auth.example.com/token"}),
                ),
                vec![],
            );
        }
        (
            Answer::Full {
                status: 401,
                headers: vec![(
                    "www-authenticate".into(),
                    "Bearer resource_metadata=\"http://srv/.well-known/oauth-protected-resource\""
                        .into(),
                )],
                body: vec![],
            },
            vec![],
        )
    });
    let v = &run.verdict;
    assert_eq!(
        (v.mode, v.status),
        (Mode::AuthRequired, Status::Up),
        "{v:#?}"
    );
    assert!(v.reason.contains("auth.example.com"), "{}", v.reason);
}

#[test]
fn drift_against_a_baseline_is_reported_with_its_diff() {
    let baseline = mcprobe_core::fingerprint::snapshot(&[
        json!({"name": "ping", "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}}}),
    ]);
    let mut c = cfg("http://srv/mcp");
    c.baseline = Some(baseline);
    let run = drive(c, modern);
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::SchemaDrift, "{v:#?}");
    let drift = v.drift.as_ref().expect("drift");
    assert!(drift.breaking, "the q parameter disappeared");
    assert_eq!(v.status, Status::Degraded);
}

#[test]
fn platform_sleep_page_is_named() {
    let run = drive(cfg("http://srv/mcp"), |_| {
        (
            Answer::Full {
                status: 404,
                headers: vec![
                    ("x-vercel-error".into(), "DEPLOYMENT_NOT_FOUND".into()),
                    ("content-type".into(), "text/plain".into()),
                ],
                body: b"The deployment could not be found on Vercel.".to_vec(),
            },
            vec![],
        )
    });
    assert_eq!(run.verdict.mode, Mode::PlatformAsleep, "{:#?}", run.verdict);
    assert!(run.verdict.reason.contains("Vercel"));
}
