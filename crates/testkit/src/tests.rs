//! Start here: the fleet's own tests, speaking raw HTTP/1.1 over std
//! `TcpStream` (the testkit has no HTTP client, and a hand-rolled one sees
//! exactly the bytes a probe would). They check the spec behaviour the probe's
//! tests rely on, the request log, variants, and that nothing outlives its
//! client or the fleet.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::Fleet;

const READ_LIMIT: Duration = Duration::from_secs(10);

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `http://127.0.0.1:PORT/path` -> (`127.0.0.1:PORT`, `/path`).
fn split_url(url: &str) -> (String, String) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not a plain http URL: {url}"));
    match rest.find('/') {
        Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
        None => (rest.to_string(), "/".to_string()),
    }
}

fn send_head(url: &str, method: &str, headers: &[(&str, &str)], body: &[u8]) -> TcpStream {
    let (addr, path) = split_url(url);
    let mut s = TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(READ_LIMIT)).expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write head");
    s.write_all(body).expect("write body");
    s
}

fn request(url: &str, method: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Answer {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let mut s = send_head(url, method, headers, &body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read answer");
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

const MODERN: &str = "2026-07-28";

fn modern(url: &str, id: u64, method: &str, mut params: Value, name: Option<&str>) -> Answer {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "fleet-test", "version": "0"}
    });
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("MCP-Protocol-Version", MODERN),
        ("Mcp-Method", method),
    ];
    if let Some(n) = name {
        headers.push(("Mcp-Name", n));
    }
    request(url, "POST", &headers, Some(&body))
}

fn rpc(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn initialize(version: &str) -> Value {
    rpc(
        1,
        "initialize",
        json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    )
}

// ---- the tests ------------------------------------------------------------

#[test]
fn starts_fast_and_every_server_listens() {
    let t = Instant::now();
    let fleet = Fleet::start().expect("fleet starts");
    let took = t.elapsed();
    // The brief asks for < 1 s; leave room for a loaded 2-core CI box.
    assert!(took < Duration::from_secs(3), "startup took {took:?}");
    assert_eq!(fleet.names().len(), crate::scenarios::SCENARIOS.len());
    for name in fleet.names() {
        let url = fleet.url(&name);
        let served = fleet.states.contains_key(&name);
        if name.starts_with("dns-") {
            assert!(url.contains(".invalid"), "{name}: {url}");
            continue;
        }
        let addr = url.split('/').nth(2).expect("authority").to_string();
        let connected = TcpStream::connect(&addr).is_ok();
        assert_eq!(connected, served, "{name} at {addr}");
    }
    let pem = std::fs::read_to_string(fleet.ca_pem_path()).expect("CA PEM written");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
}

#[test]
fn unknown_names_are_refused_with_the_valid_list() {
    let err = match Fleet::start_only(&["ok-modern", "no-such"]) {
        Ok(_) => panic!("an unknown scenario started"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("no-such") && err.contains("ok-modern"),
        "{err}"
    );
    let fleet = Fleet::start_only(&["ok-modern"]).expect("fleet starts");
    assert_eq!(fleet.names(), ["ok-modern"]);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fleet.url("drift")))
        .expect_err("url of an unknown scenario panics");
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("\"drift\"") && msg.contains("ok-modern"),
        "{msg}"
    );
}

#[test]
fn modern_server_validates_every_request_like_the_spec() {
    let fleet = Fleet::start_only(&["ok-modern"]).expect("fleet starts");
    let url = fleet.url("ok-modern");

    let d = modern(&url, 1, "server/discover", json!({}), None);
    assert_eq!(d.status, 200);
    let r = &d.json()["result"];
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["supportedVersions"], json!([MODERN]));
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "mcprobe-fleet"
    );
    assert_eq!(r["cacheScope"], "public");

    let l = modern(&url, 2, "tools/list", json!({}), None).json();
    let names: Vec<&str> = l["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["echo", "ping", "delete_everything"]);
    assert_eq!(l["result"]["ttlMs"], 60000);

    let c = modern(
        &url,
        3,
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "héllo"}}),
        Some("=?base64?ZWNobw==?="),
    );
    assert_eq!(c.json()["result"]["content"][0]["text"], "héllo");

    let wrong_name = modern(&url, 4, "tools/call", json!({"name": "ping"}), Some("echo"));
    assert_eq!(
        (
            wrong_name.status,
            wrong_name.json()["error"]["code"].clone()
        ),
        (400, json!(-32020))
    );

    let no_method_header = request(
        &url,
        "POST",
        &[("MCP-Protocol-Version", MODERN)],
        Some(&rpc(
            5,
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}}),
        )),
    );
    assert_eq!(
        (
            no_method_header.status,
            no_method_header.json()["error"]["code"].clone()
        ),
        (400, json!(-32020))
    );

    let no_meta = request(
        &url,
        "POST",
        &[
            ("MCP-Protocol-Version", MODERN),
            ("Mcp-Method", "tools/list"),
        ],
        Some(&rpc(6, "tools/list", json!({}))),
    );
    assert_eq!(
        (no_meta.status, no_meta.json()["error"]["code"].clone()),
        (400, json!(-32602))
    );

    let old = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "1999-01-01", "io.modelcontextprotocol/clientCapabilities": {}}});
    let unsupported = request(
        &url,
        "POST",
        &[
            ("MCP-Protocol-Version", "1999-01-01"),
            ("Mcp-Method", "tools/list"),
        ],
        Some(&rpc(7, "tools/list", old)),
    );
    let e = unsupported.json();
    assert_eq!(
        (unsupported.status, e["error"]["code"].clone()),
        (400, json!(-32022))
    );
    assert_eq!(
        e["error"]["data"],
        json!({"supported": [MODERN], "requested": "1999-01-01"})
    );

    let init = request(&url, "POST", &[], Some(&initialize("2025-11-25")));
    let e = init.json();
    assert_eq!(
        (init.status, e["error"]["code"].clone()),
        (404, json!(-32601))
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(MODERN),
        "{e}"
    );

    assert_eq!(request(&url, "GET", &[], None).status, 405);
    assert_eq!(request(&url, "DELETE", &[], None).status, 405);
    assert_eq!(modern(&url, 8, "prompts/list", json!({}), None).status, 404);

    // The log saw all of it, in order, headers and parsed bodies included.
    let log = fleet.requests("ok-modern");
    assert_eq!(log.len(), 11);
    assert_eq!(log[0].rpc_method(), Some("server/discover"));
    assert_eq!(log[0].header("mcp-method"), Some("server/discover"));
    assert_eq!(log[2].header("MCP-Name"), Some("=?base64?ZWNobw==?="));
    assert_eq!(
        (
            log[8].method.as_str(),
            log[8].path.as_str(),
            log[8].body.is_none()
        ),
        ("GET", "/mcp", true)
    );
}

#[test]
fn legacy_session_server_frames_sse_and_records_the_delete() {
    let fleet = Fleet::start_only(&["ok-legacy-session-sse"]).expect("fleet starts");
    let url = fleet.url("ok-legacy-session-sse");
    let accept = ("Accept", "application/json, text/event-stream");

    // What a dual-era probe's opening discover gets: the TS SDK's 400.
    let d = modern(&url, 1, "server/discover", json!({}), None);
    assert_eq!(
        (d.status, d.json()["error"]["code"].clone()),
        (400, json!(-32000))
    );

    let init = request(&url, "POST", &[accept], Some(&initialize("2025-11-25")));
    assert_eq!(init.status, 200);
    assert_eq!(init.header("content-type"), Some("text/event-stream"));
    let sid = init
        .header("mcp-session-id")
        .expect("session minted")
        .to_string();
    let text = init.text();
    assert!(text.contains("\r\n"), "CRLF line endings: {text:?}");
    let log_at = text
        .find("notifications/message")
        .expect("a log notification");
    let response_at = text.find("\"id\":1").expect("the response");
    assert!(log_at < response_at, "notification first: {text}");
    // The response's JSON spans two data: lines.
    assert!(
        text.contains("data: {\"jsonrpc\":\"2.0\",\r\ndata: \"id\":1,"),
        "{text}"
    );

    let with_session = [
        ("Mcp-Session-Id", sid.as_str()),
        ("MCP-Protocol-Version", "2025-11-25"),
        accept,
    ];
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        request(&url, "POST", &with_session, Some(&note)).status,
        202
    );
    let list = request(
        &url,
        "POST",
        &with_session,
        Some(&rpc(2, "tools/list", json!({}))),
    );
    assert_eq!(list.status, 200);
    assert!(list.text().contains("delete_everything"));

    let no_session = request(
        &url,
        "POST",
        &[("MCP-Protocol-Version", "2025-11-25")],
        Some(&rpc(3, "tools/list", json!({}))),
    );
    assert_eq!(no_session.status, 400);
    let unknown = request(
        &url,
        "POST",
        &[
            ("Mcp-Session-Id", "nope"),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        Some(&rpc(4, "tools/list", json!({}))),
    );
    assert_eq!(unknown.status, 404);
    let wrong_version = request(
        &url,
        "POST",
        &[
            ("Mcp-Session-Id", sid.as_str()),
            ("MCP-Protocol-Version", "2025-06-18"),
        ],
        Some(&rpc(5, "tools/list", json!({}))),
    );
    assert_eq!(wrong_version.status, 400);

    assert_eq!(
        request(&url, "DELETE", &[("Mcp-Session-Id", sid.as_str())], None).status,
        200
    );
    assert_eq!(
        request(&url, "DELETE", &[("Mcp-Session-Id", sid.as_str())], None).status,
        404
    );
    let deletes: Vec<_> = fleet
        .requests("ok-legacy-session-sse")
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 2);
    assert_eq!(deletes[0].header("mcp-session-id"), Some(sid.as_str()));
}

#[test]
fn before_initialize_flavours_and_version_negotiation() {
    let fleet = Fleet::start_only(&[
        "ok-legacy-json",
        "ok-2025-03-26",
        "ok-paginated",
        "handshake-error",
    ])
    .expect("fleet starts");
    let probe = |name: &str| modern(&fleet.url(name), 1, "server/discover", json!({}), None);
    assert_eq!(probe("ok-legacy-json").status, 400);
    let plain = probe("ok-2025-03-26");
    assert_eq!((plain.status, plain.text()), (404, "Not Found".to_string()));
    let inband = probe("ok-paginated");
    assert_eq!(
        (inband.status, inband.json()["error"]["code"].clone()),
        (200, json!(-32601))
    );
    let boom = request(
        &fleet.url("handshake-error"),
        "POST",
        &[],
        Some(&initialize("2025-11-25")),
    );
    assert_eq!(
        boom.json()["error"],
        json!({"code": -32603, "message": "boom"})
    );

    // An unsupported offer gets the server's own revision back.
    let url = fleet.url("ok-legacy-json");
    let init = request(&url, "POST", &[], Some(&initialize("2025-11-25"))).json();
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    // Strict about the version header afterwards.
    assert_eq!(
        request(&url, "POST", &[], Some(&rpc(2, "tools/list", json!({})))).status,
        400
    );
    let ok = request(
        &url,
        "POST",
        &[("MCP-Protocol-Version", "2025-06-18")],
        Some(&rpc(2, "tools/list", json!({}))),
    );
    assert_eq!(ok.status, 200);

    // Pagination: 10 + 10 + 5, and a bad cursor is -32602.
    let url = fleet.url("ok-paginated");
    let h = [("MCP-Protocol-Version", "2025-06-18")];
    let mut cursor = Value::Null;
    let mut seen = 0;
    for _ in 0..3 {
        let page = request(
            &url,
            "POST",
            &h,
            Some(&rpc(3, "tools/list", json!({"cursor": cursor}))),
        )
        .json();
        seen += page["result"]["tools"].as_array().map_or(0, Vec::len);
        cursor = page["result"]["nextCursor"].clone();
    }
    assert_eq!((seen, cursor), (25, Value::Null));
    let bad = request(
        &url,
        "POST",
        &h,
        Some(&rpc(4, "tools/list", json!({"cursor": "nope"}))),
    )
    .json();
    assert_eq!(bad["error"]["code"], -32602);
}

#[test]
fn drift_variant_changes_the_tool_list() {
    let fleet = Fleet::start_only(&["drift"]).expect("fleet starts");
    let url = fleet.url("drift");
    let h = [("MCP-Protocol-Version", "2025-06-18")];
    let tools = || {
        request(&url, "POST", &h, Some(&rpc(2, "tools/list", json!({})))).json()["result"]["tools"]
            .clone()
    };
    assert_eq!(tools().as_array().map(Vec::len), Some(3));
    fleet.set_variant("drift", 1);
    let t = tools();
    assert_eq!(t.as_array().map(Vec::len), Some(2));
    assert_eq!(
        t[0]["inputSchema"]["properties"]["message"]["type"],
        "integer"
    );
    assert_eq!(t[1]["inputSchema"]["required"], json!(["channel"]));
    fleet.set_variant("drift", 0);
    assert_eq!(tools().as_array().map(Vec::len), Some(3));
}

#[test]
fn the_switch_goes_down_and_comes_back() {
    let fleet = Fleet::start_only(&["switch"]).expect("fleet starts");
    let url = fleet.url("switch");
    let h = [("MCP-Protocol-Version", "2026-07-28")];
    let status = || {
        request(
            &url,
            "POST",
            &h,
            Some(&rpc(1, "server/discover", json!({}))),
        )
        .status
    };
    // Up, it answers as the modern engine does (this bare request is a 400
    // there); down, a 503 whatever the request.
    let up = status();
    assert_ne!(up, 503);
    fleet.set_variant("switch", 1);
    assert_eq!(status(), 503);
    fleet.set_variant("switch", 0);
    assert_eq!(status(), up);
}

#[test]
fn http_sse_answers_on_the_get_stream() {
    let fleet = Fleet::start_only(&["ok-http-sse"]).expect("fleet starts");
    let url = fleet.url("ok-http-sse");
    assert!(url.ends_with("/sse"));
    let post_sse = request(&url, "POST", &[], Some(&initialize("2025-11-25")));
    assert_eq!((post_sse.status, post_sse.body.len()), (405, 0));

    let stream = send_head(&url, "GET", &[("Accept", "text/event-stream")], b"");
    let mut lines = BufReader::new(stream).lines();
    let mut next_data = |event: &str| -> String {
        let mut saw_event = false;
        for line in lines.by_ref() {
            let line = line.expect("stream line");
            if line == format!("event: {event}") {
                saw_event = true;
            } else if saw_event {
                if let Some(data) = line.strip_prefix("data: ") {
                    return data.to_string();
                }
            }
        }
        panic!("stream ended before an {event} event");
    };
    let endpoint = next_data("endpoint");
    assert!(endpoint.starts_with("/messages?sessionId="), "{endpoint}");
    let messages = url.replace("/sse", &endpoint);
    let accepted = request(&messages, "POST", &[], Some(&initialize("2024-11-05")));
    assert_eq!(accepted.status, 202);
    let answer: Value = serde_json::from_str(&next_data("message")).expect("JSON");
    assert_eq!(answer["result"]["protocolVersion"], "2024-11-05");
    let call = request(
        &messages,
        "POST",
        &[],
        Some(&rpc(2, "tools/call", json!({"name": "ping"}))),
    );
    assert_eq!(call.status, 202);
    let answer: Value = serde_json::from_str(&next_data("message")).expect("JSON");
    assert_eq!(answer["result"]["content"][0]["text"], "pong");
}

#[test]
fn endless_writers_stop_when_the_client_leaves() {
    let fleet = Fleet::start_only(&["endless-sse", "stalls-after-headers"]).expect("fleet starts");
    for name in ["endless-sse", "stalls-after-headers"] {
        let st = fleet.states[name].clone();
        let mut s = send_head(&fleet.url(name), "POST", &[], b"{}");
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).expect("the stream starts");
        assert!(n > 0, "{name}");
        assert_eq!(st.open_connections(), 1, "{name}");
        drop(s);
        assert!(
            st.wait_no_connections(Duration::from_secs(5)),
            "{name}: the server kept the connection after the client left"
        );
    }
}

#[test]
fn dropping_the_fleet_closes_everything() {
    let fleet = Fleet::start_only(&["ok-modern", "endless-sse"]).expect("fleet starts");
    let (modern_addr, _) = split_url(&fleet.url("ok-modern"));
    let ca_dir = fleet.ca_dir.clone();
    let mut s = send_head(&fleet.url("endless-sse"), "POST", &[], b"{}");
    let mut buf = [0u8; 512];
    assert!(s.read(&mut buf).expect("stream starts") > 0);

    let t = Instant::now();
    drop(fleet);
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "drop took {:?}",
        t.elapsed()
    );
    // The endless stream ends (EOF or reset), rather than timing out.
    let mut rest = Vec::new();
    match s.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the stream outlived the fleet: {e}"
        ),
    }
    assert!(TcpStream::connect(&modern_addr).is_err(), "still listening");
    assert!(!ca_dir.exists(), "temp dir left behind");
}

#[test]
fn hostile_bodies_are_what_they_claim() {
    let fleet =
        Fleet::start_only(&["deep-json", "invalid-utf8", "huge-body"]).expect("fleet starts");
    let deep = request(&fleet.url("deep-json"), "POST", &[], Some(&json!({})));
    assert_eq!(deep.body.len(), 200_000);
    assert!(deep.body[..100_000].iter().all(|&b| b == b'['));
    assert!(serde_json::from_slice::<Value>(&deep.body).is_err());

    let bad = request(
        &fleet.url("invalid-utf8"),
        "POST",
        &[],
        Some(&initialize("2025-11-25")),
    );
    assert_eq!(bad.status, 200);
    assert!(bad.body.windows(2).any(|w| w == [0xff, 0xfe]));
    assert!(std::str::from_utf8(&bad.body).is_err());

    // Only the head and the first bytes: the point is that it never ends.
    let mut s = send_head(&fleet.url("huge-body"), "POST", &[], b"{}");
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).expect("head");
        assert!(n > 0, "closed before the head ended");
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.contains("content-length: 1073741824"), "{head}");
}
