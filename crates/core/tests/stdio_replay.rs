//! The stdio probe driven against a scripted child with a fake clock: the
//! child may start slowly (it reads nothing before `start_ms`, then answers
//! everything it was sent, in order), so the late answers of a slow start are
//! pinned exactly: each answer is judged against the request it answers, a
//! late `server/discover` answer is adopted as discover, and the ladder and
//! `slow_step` tell the probe's own wait and the start-up apart.

use mcprobe_core::verdict::Step;
use mcprobe_core::{Action, Mode, Probe, ProbeConfig, Status, Verdict};
use serde_json::{json, Value};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Child {
    /// 2026-07-28 only: `initialize` gets -32601.
    Modern,
    /// `Modern`, but what it read while starting is answered newest first
    /// (a server that handles requests concurrently).
    ModernOutOfOrder,
    /// 2025-06-18: `server/discover` gets -32601, then the handshake works.
    Legacy,
    /// 2025-06-18 that never answers `server/discover`.
    LegacySilent,
    /// Never answers `server/discover`, refuses `initialize` with -32603.
    SilentRefuser,
    /// `Legacy`, whose `tools/list` pages are 3 MiB each and never end.
    LegacyEndlessPages,
}

fn reply(req: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": req["id"], "result": result})
}

fn error(req: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": req["id"], "error": {"code": code, "message": message}})
}

fn tools() -> Value {
    json!([{"name": "ping", "annotations": {"readOnlyHint": true}, "inputSchema": {"type": "object"}}])
}

/// What the child writes back for one message it read.
fn answer(child: Child, req: &Value) -> Option<Value> {
    req.get("id")?;
    let method = req["method"].as_str().unwrap_or("");
    let modern = |result: Value| {
        let mut r = result;
        r["resultType"] = json!("complete");
        r
    };
    if child == Child::LegacyEndlessPages && method == "tools/list" {
        // A fresh cursor and tool name a page, so no loop guard stops it first.
        let page = req["params"]["cursor"].as_str().map_or(0, str::len);
        let tool = json!({"name": format!("tool{page}"), "description": "x".repeat(3 << 20),
                          "inputSchema": {"type": "object"}});
        let next = "c".repeat(page + 1);
        return Some(reply(req, json!({"tools": [tool], "nextCursor": next})));
    }
    let child = match child {
        Child::ModernOutOfOrder => Child::Modern,
        Child::LegacyEndlessPages => Child::Legacy,
        other => other,
    };
    Some(match (child, method) {
        (Child::Modern, "server/discover") => reply(
            req,
            json!({"resultType": "complete", "supportedVersions": ["2026-07-28"],
                   "capabilities": {"tools": {}}, "ttlMs": 1000, "cacheScope": "public",
                   "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "slow", "version": "1"}}}),
        ),
        (Child::Modern, "tools/list") => reply(
            req,
            modern(json!({"tools": tools(), "ttlMs": 1000, "cacheScope": "public"})),
        ),
        (Child::Modern, "tools/call") => reply(
            req,
            modern(json!({"content": [{"type": "text", "text": "pong"}]})),
        ),
        (Child::Modern, _) => error(req, -32601, "Method not found (supports 2026-07-28)"),
        (Child::LegacySilent | Child::SilentRefuser, "server/discover") => return None,
        (Child::SilentRefuser, _) => error(req, -32603, "boom"),
        (_, "server/discover") => error(req, -32601, "Method not found"),
        (_, "initialize") => reply(
            req,
            json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                   "serverInfo": {"name": "slow", "version": "1"}}),
        ),
        (_, "tools/list") => reply(req, json!({"tools": tools()})),
        (_, "tools/call") => reply(req, json!({"content": [{"type": "text", "text": "pong"}]})),
        _ => error(req, -32601, "Method not found"),
    })
}

struct Run {
    verdict: Verdict,
    /// Methods the child read, in order.
    received: Vec<String>,
}

/// Drives a stdio probe with `timeout_ms` against `child`, which reads its
/// stdin only from `start_ms` on.
fn drive(child: Child, start_ms: u64, timeout_ms: u64) -> Run {
    let mut cfg = ProbeConfig::new("stdio: scripted");
    cfg.stdio = true;
    cfg.timeout_ms = timeout_ms;
    cfg.checked_at = "2026-11-23T00:00:00Z".into();
    let mut probe = Probe::new(cfg, 0).expect("config");
    let mut now = 0u64;
    let mut started = false;
    let mut unread: Vec<Value> = Vec::new();
    let mut received = Vec::new();
    let feed = |probe: &mut Probe, req: &Value, now: u64| {
        if let Some(a) = answer(child, req) {
            probe.on_stdout(format!("{a}\n").as_bytes(), now);
        }
    };
    for _ in 0..10_000 {
        match probe.poll(now) {
            Action::StdioWrite { bytes } => {
                let msg: Value = serde_json::from_slice(&bytes).expect("one JSON line");
                received.push(msg["method"].as_str().unwrap_or("").to_string());
                if started {
                    feed(&mut probe, &msg, now);
                } else {
                    unread.push(msg);
                }
            }
            Action::Wait { until_ms } => {
                if !started && until_ms >= start_ms {
                    now = start_ms;
                    started = true;
                    if child == Child::ModernOutOfOrder {
                        unread.reverse();
                    }
                    for msg in std::mem::take(&mut unread) {
                        feed(&mut probe, &msg, now);
                    }
                } else {
                    now = until_ms;
                }
            }
            Action::Done(v) => {
                return Run {
                    verdict: *v,
                    received,
                }
            }
            other => panic!("no HTTP on stdio: {other:?}"),
        }
    }
    panic!("the probe did not finish in 10,000 actions");
}

fn steps_named<'a>(v: &'a Verdict, name: &str) -> Vec<&'a Step> {
    v.steps.iter().filter(|s| s.name == name).collect()
}

fn findings(v: &Verdict, mode: Mode) -> Vec<&str> {
    v.findings
        .iter()
        .filter(|f| f.mode == mode)
        .map(|f| f.detail.as_str())
        .collect()
}

#[test]
fn a_modern_server_that_answers_discover_after_the_wait_is_ok_and_modern() {
    // The wait is min(timeout / 4, 3 s) = 2.5 s; the child starts at 4 s.
    let run = drive(Child::Modern, 4_000, 10_000);
    let v = &run.verdict;
    assert_eq!((v.mode, v.status), (Mode::Ok, Status::Up), "{v:#?}");
    assert!(findings(v, Mode::MalformedJsonrpc).is_empty(), "{v:#?}");
    assert_eq!(v.protocol_version.as_deref(), Some("2026-07-28"));
    // The initialize sent meanwhile did not make a second discover step.
    let discover = steps_named(v, "server/discover");
    assert_eq!(discover.len(), 1, "{:#?}", v.steps);
    assert!(discover[0].ok, "{:#?}", discover[0]);
    // Timed from discover's send to its answer, and said to include start-up.
    assert_eq!(discover[0].ms, 4_000, "{:#?}", discover[0]);
    assert!(
        discover[0].detail.contains("start-up"),
        "{:#?}",
        discover[0]
    );
    assert!(steps_named(v, "initialize").is_empty(), "{:#?}", v.steps);
    // 4 s is over a tenth of the deadline, but it is start-up, not latency.
    assert!(findings(v, Mode::SlowStep).is_empty(), "{v:#?}");
    assert_eq!(
        run.received[..3],
        ["server/discover", "initialize", "tools/list"]
    );
}

#[test]
fn a_slow_legacy_server_answers_discover_late_and_initialize_is_still_awaited() {
    let run = drive(Child::Legacy, 2_000, 4_000);
    let v = &run.verdict;
    assert_eq!((v.mode, v.status), (Mode::Ok, Status::Up), "{v:#?}");
    assert!(findings(v, Mode::MalformedJsonrpc).is_empty(), "{v:#?}");
    assert_eq!(v.protocol_version.as_deref(), Some("2025-06-18"));
    let discover = steps_named(v, "server/discover");
    assert_eq!(discover.len(), 1, "{:#?}", v.steps);
    // Tried and moved on: not a success, and its detail has the real answer.
    assert!(!discover[0].ok, "{:#?}", discover[0]);
    assert!(
        discover[0].detail.contains("-32601") && discover[0].detail.contains("initialize"),
        "{:#?}",
        discover[0]
    );
    let init = steps_named(v, "initialize");
    assert_eq!(init.len(), 1, "{:#?}", v.steps);
    assert!(
        init[0].ok && init[0].detail.contains("start-up"),
        "{init:#?}"
    );
    assert!(findings(v, Mode::SlowStep).is_empty(), "{v:#?}");
}

#[test]
fn a_slow_silent_legacy_server_is_ok_and_not_called_slow() {
    let run = drive(Child::LegacySilent, 3_000, 4_000);
    let v = &run.verdict;
    assert_eq!((v.mode, v.status), (Mode::Ok, Status::Up), "{v:#?}");
    assert!(findings(v, Mode::SlowStep).is_empty(), "{v:#?}");
    let discover = steps_named(v, "server/discover");
    assert_eq!(discover.len(), 1, "{:#?}", v.steps);
    assert!(
        !discover[0].ok && discover[0].detail.contains("the probe's 1000 ms wait"),
        "{:#?}",
        discover[0]
    );
}

#[test]
fn a_prompt_server_gets_no_start_up_note_past_its_first_answer() {
    let run = drive(Child::Modern, 0, 10_000);
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::Ok, "{v:#?}");
    assert_eq!(
        run.received,
        ["server/discover", "tools/list", "tools/call"]
    );
    let noted: Vec<&str> = v
        .steps
        .iter()
        .filter(|s| s.detail.contains("start-up"))
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(noted, ["server/discover"], "{:#?}", v.steps);
}

#[test]
fn a_slow_modern_server_that_refuses_initialize_before_answering_discover_is_ok() {
    let run = drive(Child::ModernOutOfOrder, 4_000, 10_000);
    let v = &run.verdict;
    assert_eq!((v.mode, v.status), (Mode::Ok, Status::Up), "{v:#?}");
    assert_eq!(v.protocol_version.as_deref(), Some("2026-07-28"));
    assert!(steps_named(v, "initialize").is_empty(), "{:#?}", v.steps);
}

#[test]
fn a_held_initialize_refusal_is_the_answer_when_discover_never_comes() {
    let run = drive(Child::SilentRefuser, 0, 10_000);
    let v = &run.verdict;
    assert_eq!(v.mode, Mode::HandshakeFailed, "{v:#?}");
    let init = steps_named(v, "initialize");
    assert!(
        init.len() == 1 && !init[0].ok && init[0].detail.contains("-32603"),
        "{:#?}",
        v.steps
    );
    // Held for the short wait, not for the whole deadline.
    assert!(v.elapsed_ms <= 5_000, "{}", v.elapsed_ms);
}

#[test]
fn tools_list_pages_over_stdio_count_against_the_cross_page_budget() {
    // Each page fits the body cap; twenty of them (60 MiB) would not fit the
    // 8 MiB the probe reads across pages, on stdio as over HTTP.
    let run = drive(Child::LegacyEndlessPages, 0, 10_000);
    let v = &run.verdict;
    let pages = run.received.iter().filter(|m| *m == "tools/list").count();
    assert!(pages <= 4, "{pages} pages read: {:#?}", v.findings);
    assert!(
        findings(v, Mode::SpecShould)
            .iter()
            .any(|d| d.contains("stopped paging tools/list after")),
        "{v:#?}"
    );
}
