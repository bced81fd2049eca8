//! The probe against hostile answers, on scripted exchanges with a fake
//! clock: credentials kept on their origin across redirects and legacy
//! `endpoint` events, and every verdict bounded (findings, quoted server
//! text, tool names, tool-list bytes across pages).

use mcprobe_core::http::{header, HttpRequest};
use mcprobe_core::verdict::{MAX_FINDINGS, MAX_REASON_CHARS, MAX_TOOL_NAMES};
use mcprobe_core::{Action, Mode, Probe, ProbeConfig, Verdict};
use serde_json::{json, Value};

/// One scripted answer: status, headers, body chunks; `open` keeps the
/// stream open after the chunks (a legacy GET stream).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    open: bool,
}

fn answer(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Answer {
    Answer {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
        open: false,
    }
}

fn json_answer(body: &Value) -> Answer {
    answer(
        200,
        &[("content-type", "application/json")],
        body.to_string(),
    )
}

fn rpc(req: &HttpRequest) -> Value {
    req.body
        .as_ref()
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null)
}

struct Run {
    verdict: Verdict,
    requests: Vec<HttpRequest>,
}

/// Drives a probe to its verdict; `server` answers each request.
fn drive(cfg: ProbeConfig, mut server: impl FnMut(&HttpRequest) -> Answer) -> Run {
    let mut now = 1_000u64;
    let mut probe = Probe::new(cfg, now).expect("config");
    let mut requests = Vec::new();
    for _ in 0..10_000 {
        match probe.poll(now) {
            Action::Http { id, request, .. } => {
                requests.push(request.clone());
                let a = server(&request);
                probe.on_head(id, a.status, a.headers, now);
                for chunk in a.body.chunks(64 * 1024) {
                    probe.on_body(id, chunk, now);
                }
                if !a.open {
                    probe.on_end(id, now);
                }
            }
            Action::Wait { until_ms } => now = until_ms,
            Action::Cancel { .. } => {}
            Action::Done(v) => {
                return Run {
                    verdict: *v,
                    requests,
                }
            }
            other => panic!("unexpected action {other:?}"),
        }
    }
    panic!("the probe did not finish in 10,000 actions");
}

fn cfg_with_secrets(url: &str) -> ProbeConfig {
    let mut c = ProbeConfig::new(url);
    c.timeout_ms = 5_000;
    c.headers = vec![
        ("X-Api-Key".into(), "s3cret".into()),
        ("Authorization".into(), "Bearer s3cret".into()),
    ];
    c
}

/// A healthy modern server (answers whatever URL it is reached at).
fn modern(req: &HttpRequest) -> Answer {
    let body = rpc(req);
    let id = body["id"].clone();
    let result = match body["method"].as_str().unwrap_or("") {
        "server/discover" => json!({
            "resultType": "complete", "supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {}}, "ttlMs": 1000, "cacheScope": "public",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "m", "version": "1"}}}),
        "tools/list" => json!({"resultType": "complete", "ttlMs": 1000, "cacheScope": "public",
            "tools": [{"name": "ping", "annotations": {"readOnlyHint": true}, "inputSchema": {"type": "object"}}]}),
        _ => json!({"resultType": "complete", "content": [{"type": "text", "text": "pong"}]}),
    };
    json_answer(&json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

fn has_secret(req: &HttpRequest) -> bool {
    req.headers.iter().any(|(_, v)| v.contains("s3cret"))
}

fn redirected_to(location: &'static str, status: u16) -> impl FnMut(&HttpRequest) -> Answer {
    move |req| {
        if req.url.starts_with(location) {
            modern(req)
        } else {
            answer(status, &[("location", location)], "")
        }
    }
}

// ---- credentials stay with their origin ---------------------------------------------

#[test]
fn a_redirect_to_another_port_host_or_scheme_drops_the_caller_headers() {
    for (from, to) in [
        ("http://a.test/mcp", "http://a.test:8080/mcp"),
        ("http://a.test/mcp", "http://b.test/mcp"),
        ("https://a.test/mcp", "http://a.test/mcp"),
        ("http://a.test/mcp", "https://a.test/mcp"),
    ] {
        for status in [307, 308] {
            let run = drive(cfg_with_secrets(from), redirected_to(to, status));
            let (home, away): (Vec<_>, Vec<_>) =
                run.requests.iter().partition(|r| r.url.starts_with(from));
            assert!(
                !away.is_empty(),
                "{from} -> {to}: the redirect was followed"
            );
            assert!(home.iter().all(|r| has_secret(r)), "{from}: keeps its own");
            assert!(
                away.iter().all(|r| !has_secret(r)),
                "{from} -> {to} ({status}): {away:#?}"
            );
            assert_eq!(run.verdict.mode, Mode::Ok, "{:#?}", run.verdict);
            let held = run
                .verdict
                .findings
                .iter()
                .filter(|f| f.detail.contains("were not sent there"))
                .count();
            assert_eq!(
                held, 1,
                "one finding per origin: {:#?}",
                run.verdict.findings
            );
        }
    }
}

#[test]
fn a_redirect_on_the_same_origin_keeps_the_caller_headers() {
    // `:80` is http's default port: the same origin, written differently.
    let run = drive(cfg_with_secrets("http://a.test/mcp"), |req| {
        if req.url.ends_with("/v2/mcp") {
            modern(req)
        } else {
            answer(307, &[("location", "http://a.test:80/v2/mcp")], "")
        }
    });
    assert!(run.requests.len() > 1);
    assert!(run.requests.iter().all(has_secret), "{:#?}", run.requests);
    assert_eq!(run.verdict.mode, Mode::Ok);
}

#[test]
fn a_legacy_endpoint_on_another_origin_is_refused() {
    let run = drive(cfg_with_secrets("http://a.test/sse"), |req| {
        if !req.url.starts_with("http://a.test/") {
            return modern(req);
        }
        if req.method == mcprobe_core::http::Method::Get {
            let mut a = answer(
                200,
                &[("content-type", "text/event-stream")],
                "event: endpoint\ndata: http://evil.test/messages?sessionId=1\n\n",
            );
            a.open = true;
            return a;
        }
        answer(405, &[], "")
    });
    assert!(
        run.requests
            .iter()
            .all(|r| r.url.starts_with("http://a.test/")),
        "nothing went to the other origin: {:#?}",
        run.requests
    );
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::HandshakeFailed, "{v:#?}");
    assert!(v.reason.contains("another origin"), "{}", v.reason);
    assert!(
        v.findings
            .iter()
            .any(|f| f.mode == Mode::HandshakeFailed && f.detail.contains("http://evil.test")),
        "{:#?}",
        v.findings
    );
}

// ---- every answer bounded -------------------------------------------------------------

/// A modern server whose `tools/list` answers `page(id, cursor)`.
fn with_tools_page(
    page: impl Fn(&Value, Option<&str>) -> Vec<u8>,
) -> impl FnMut(&HttpRequest) -> Answer {
    move |req| {
        let body = rpc(req);
        if body["method"] == "tools/list" {
            let bytes = page(&body["id"], body["params"]["cursor"].as_str());
            return answer(200, &[("content-type", "application/json")], bytes);
        }
        modern(req)
    }
}

#[test]
fn findings_are_capped_with_a_count_of_the_rest() {
    // 500,000 `{}` tools: two violations each, past the array cap too.
    let run = drive(
        cfg_with_secrets("http://a.test/mcp"),
        with_tools_page(|id, _| {
            let tools = vec!["{}"; 500_000].join(",");
            format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"resultType":"complete","ttlMs":1,"cacheScope":"public","tools":[{tools}]}}}}"#).into_bytes()
        }),
    );
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::MalformedJsonrpc, "{}", v.reason);
    assert!(v.findings.len() <= MAX_FINDINGS + 5, "{}", v.findings.len());
    let last = v.findings.last().expect("findings");
    assert!(last.detail.starts_with("… and "), "{}", last.detail);
    assert!(last.detail.contains("more finding"), "{}", last.detail);
    // The reason counts every violation, kept or not.
    assert!(v.reason.contains("part(s)"), "{}", v.reason);
    let names = v.tools.as_ref().map(|t| t.names.len()).unwrap_or(0);
    assert!(names <= MAX_TOOL_NAMES, "{names} names");
    let size = serde_json::to_string(v).unwrap().len();
    assert!(size < 256 * 1024, "verdict of {size} bytes");
}

#[test]
fn server_text_is_cut_to_a_few_hundred_characters() {
    let message = "ü".repeat(3 * 1024 * 1024 / 2);
    let run = drive(
        cfg_with_secrets("http://a.test/mcp"),
        with_tools_page(move |id, _| {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": message}})
                .to_string()
                .into_bytes()
        }),
    );
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::ToolsListFailed);
    assert!(
        v.reason.chars().count() <= MAX_REASON_CHARS + 40,
        "{}",
        v.reason.len()
    );
    assert!(v.reason.contains("ü"), "the message is quoted");
    assert!(v.reason.contains("[cut, "), "marked as cut: {}", v.reason);
    let size = serde_json::to_string(v).unwrap().len();
    assert!(size < 8 * 1024, "verdict of {size} bytes");
}

#[test]
fn tool_list_pages_stop_at_the_byte_budget() {
    // Pages of 3 MB of valid tools, a next cursor on every one.
    let run = drive(
        cfg_with_secrets("http://a.test/mcp"),
        with_tools_page(|id, cursor| {
            let n: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
            let description = "d".repeat(30_000);
            let tools: Vec<Value> = (0..100)
                .map(|i| json!({"name": format!("t{n}_{i}"), "description": description, "inputSchema": {"type": "object"}}))
                .collect();
            json!({"jsonrpc": "2.0", "id": id, "result": {"resultType": "complete", "ttlMs": 1, "cacheScope": "public", "tools": tools, "nextCursor": (n + 1).to_string()}})
                .to_string()
                .into_bytes()
        }),
    );
    let pages = run
        .requests
        .iter()
        .filter(|r| rpc(r)["method"] == "tools/list")
        .count();
    assert_eq!(pages, 3, "3 MB pages: the third passes 8 MiB");
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::Ok, "{}", v.reason);
    assert!(
        v.findings
            .iter()
            .any(|f| f.detail.contains("stopped paging tools/list")),
        "{:#?}",
        v.findings
    );
    assert_eq!(v.tools.as_ref().map(|t| t.count), Some(300));
    assert!(header(&run.requests[0].headers, "x-api-key").is_some());
}
