//! Golden tests of the CLI's verdict rendering: `render_human` (without colour)
//! and `render_json` for hand-built verdicts, compared byte for byte with the
//! files in `tests/golden/`. After an intended change of the output, refresh
//! them with `UPDATE_GOLDEN=1 cargo test -p mcprobe --test render_golden` and
//! review the diff.

use std::path::PathBuf;

use mcprobe::render;
use mcprobe_core::fingerprint::{Change, Drift};
use mcprobe_core::verdict::{Era, Finding, ServerInfo, Step, ToolsSummary, Transport};
use mcprobe_core::{Mode, Severity, Status, Verdict};

fn step(name: &str, ok: bool, ms: u64, detail: &str) -> Step {
    Step {
        name: name.to_owned(),
        ok,
        ms,
        detail: detail.to_owned(),
    }
}

fn base(url: &str, mode: Mode, status: Status, severity: Severity) -> Verdict {
    Verdict {
        status,
        severity,
        hint: String::new(),
        checked_at: "2026-08-03T09:14:07Z".to_owned(),
        ..Verdict::of(url, mode, "")
    }
}

fn ok_modern() -> Verdict {
    let mut v = base(
        "https://weather.example.com/mcp",
        Mode::Ok,
        Status::Up,
        Severity::None,
    );
    v.reason = "The server answered server/discover, tools/list and a safe call.".to_owned();
    v.hint = "Nothing to do.".to_owned();
    v.era = Some(Era::Modern);
    v.transport = Some(Transport::StreamableHttp);
    v.protocol_version = Some("2026-07-28".to_owned());
    v.server = Some(ServerInfo {
        name: "weather-server".to_owned(),
        version: "1.4.2".to_owned(),
    });
    v.tools = Some(ToolsSummary {
        count: 3,
        hash: "sha256:5f1c0a7e9b3d2c4a6e8f0b1d3c5e7a9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c".to_owned(),
        names: vec!["get_weather".into(), "ping".into(), "search".into()],
    });
    v.steps = vec![
        step("dns", true, 3, "weather.example.com -> 203.0.113.7"),
        step("tcp", true, 12, "203.0.113.7:443"),
        step(
            "tls",
            true,
            31,
            "TLSv1.3, certificate valid until 2026-11-02",
        ),
        step("server/discover", true, 48, "revision 2026-07-28"),
        step("tools/list", true, 22, "3 tools"),
        step("tools/call", true, 104, "ping"),
    ];
    v.elapsed_ms = 220;
    v
}

fn connect_refused() -> Verdict {
    let mut v = base(
        "http://127.0.0.1:9/mcp",
        Mode::ConnectRefused,
        Status::Down,
        Severity::P1,
    );
    v.reason = "Nothing is listening on 127.0.0.1:9.".to_owned();
    v.hint = "Check that the server process is running and bound to this port.".to_owned();
    v.steps = vec![
        step("dns", true, 0, "127.0.0.1"),
        step("tcp", false, 1, "connection refused by 127.0.0.1:9"),
    ];
    v.elapsed_ms = 1;
    v
}

fn malformed() -> Verdict {
    let mut v = base(
        "https://tools.example.org/v1/mcp",
        Mode::MalformedJsonrpc,
        Status::Degraded,
        Severity::P2,
    );
    v.reason = "Answers break JSON-RPC 2.0 or the MCP shapes of 2025-06-18.".to_owned();
    v.hint = "Fix each violation at its JSON pointer; most SDKs do this for you.".to_owned();
    v.era = Some(Era::Legacy);
    v.transport = Some(Transport::StreamableHttp);
    v.protocol_version = Some("2025-06-18".to_owned());
    v.server = Some(ServerInfo {
        name: "tools-org".to_owned(),
        version: String::new(),
    });
    v.tools = Some(ToolsSummary {
        count: 1,
        hash: "sha256:0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8".to_owned(),
        names: vec!["lookup".into()],
    });
    v.steps = vec![
        step(
            "server/discover",
            false,
            35,
            "HTTP 404, falling back to initialize",
        ),
        step("initialize", true, 52, "2025-06-18"),
        step("tools/list", true, 40, "1 tool"),
        step("tools/call", true, 61, "lookup"),
        step("spec", false, 0, "2 violations"),
    ];
    v.findings = vec![
        Finding {
            mode: Mode::MalformedJsonrpc,
            detail: "expected \"jsonrpc\": \"2.0\", got no \"jsonrpc\" member".to_owned(),
            pointer: Some("".to_owned()),
            rule: Some("jsonrpc.version".to_owned()),
        },
        Finding {
            mode: Mode::MalformedJsonrpc,
            detail: "expected inputSchema to be an object, got a string".to_owned(),
            pointer: Some("/result/tools/0/inputSchema".to_owned()),
            rule: None,
        },
        Finding {
            mode: Mode::LegacyOnly,
            detail: "no modern revision supported".to_owned(),
            pointer: None,
            rule: None,
        },
    ];
    v.elapsed_ms = 188;
    v
}

fn drift_breaking() -> Verdict {
    let mut v = ok_modern();
    v.mode = Mode::SchemaDrift;
    v.status = Status::Degraded;
    v.severity = Severity::P3;
    v.reason = "The tool list changed since the baseline, in a breaking way.".to_owned();
    v.hint = "Tell the clients that depend on these tools, or restore them.".to_owned();
    if let Some(tools) = &mut v.tools {
        tools.hash =
            "sha256:9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9".to_owned();
    }
    let t = |s: &str| s.to_owned();
    v.drift = Some(Drift {
        breaking: true,
        from_hash: "sha256:5f1c0a7e9b3d2c4a6e8f0b1d3c5e7a9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c"
            .to_owned(),
        to_hash: "sha256:9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9"
            .to_owned(),
        changes: vec![
            Change::ToolAdded {
                tool: t("forecast"),
            },
            Change::ParamAdded {
                tool: t("get_weather"),
                param: t("lang"),
                required: false,
            },
            Change::ParamRetyped {
                tool: t("get_weather"),
                param: t("city"),
                from: t("string"),
                to: t("string|null"),
            },
            Change::RequiredAdded {
                tool: t("get_weather"),
                param: t("units"),
            },
            Change::ToolChanged {
                tool: t("get_weather"),
                detail: t("annotations, description"),
            },
            Change::ToolRemoved { tool: t("search") },
        ],
    });
    v.findings = vec![Finding {
        mode: Mode::SpecShould,
        detail: "tools/list is not in a deterministic order between calls".to_owned(),
        pointer: None,
        rule: None,
    }];
    v
}

fn cases() -> Vec<(&'static str, Verdict)> {
    vec![
        ("ok_modern", ok_modern()),
        ("connect_refused", connect_refused()),
        ("malformed", malformed()),
        ("drift_breaking", drift_breaking()),
    ]
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden file, or rewrites it under UPDATE_GOLDEN=1.
/// Returns a description of the mismatch instead of panicking at once, so one
/// run reports every stale file.
fn check_golden(file: &str, actual: &str) -> Option<String> {
    let path = golden_dir().join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir()).expect("create tests/golden");
        std::fs::write(&path, actual).expect("write golden file");
        return None;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!(
            "{file} differs (rerun with UPDATE_GOLDEN=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}"
        )),
        Err(err) => Some(format!(
            "{file}: {err} (run with UPDATE_GOLDEN=1 to create it)"
        )),
    }
}

#[test]
fn human_and_json_output_match_the_golden_files() {
    let mut failures = Vec::new();
    for (name, verdict) in cases() {
        let human = render::render_human(&verdict, false);
        failures.extend(check_golden(&format!("{name}.txt"), &human));
        let json = render::render_json(&verdict);
        failures.extend(check_golden(&format!("{name}.json.txt"), &json));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn plain_output_has_no_escape_byte_and_colour_output_has_some() {
    for (name, verdict) in cases() {
        let plain = render::render_human(&verdict, false);
        assert!(
            !plain.contains('\x1b'),
            "{name}: escape byte without colour"
        );
        let coloured = render::render_human(&verdict, true);
        assert!(
            coloured.contains('\x1b'),
            "{name}: no colour with colour on"
        );
        // Colour only adds codes: stripped of them, the text is the plain one.
        assert_eq!(strip_ansi(&coloured), plain, "{name}");
    }
}

#[test]
fn status_colours_follow_the_status() {
    let up = render::render_human(&ok_modern(), true);
    assert!(up.contains("\x1b[32m\x1b[1mUP  ok (none)"), "{up}");
    let down = render::render_human(&connect_refused(), true);
    assert!(
        down.contains("\x1b[31m\x1b[1mDOWN  connect_refused (P1)"),
        "{down}"
    );
    let degraded = render::render_human(&malformed(), true);
    assert!(degraded.contains("\x1b[33m\x1b[1mDEGRADED  malformed_jsonrpc (P2)"));
}

#[test]
fn server_text_cannot_reach_the_terminal_raw() {
    let mut v = ok_modern();
    let hostile = "evil\x1b[2J\x1b]0;pwned\x07\r\nUP  ok\u{202e}txt.exe\u{9b}31m";
    v.server = Some(ServerInfo {
        name: hostile.to_owned(),
        version: "1".to_owned(),
    });
    v.steps[0].detail = hostile.to_owned();
    v.findings.push(Finding {
        mode: Mode::SpecShould,
        detail: hostile.to_owned(),
        pointer: Some(hostile.to_owned()),
        rule: None,
    });
    let escaped = "evil\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\r\\nUP  ok\\u{202e}txt.exe\\u{9b}31m";

    let plain = render::render_human(&v, false);
    assert!(!plain.contains('\x1b') && !plain.contains('\u{9b}') && !plain.contains('\u{202e}'));
    assert_eq!(plain.matches(escaped).count(), 4, "{plain}");
    // Still one line per item: the server's CR LF did not split any.
    assert_eq!(plain.lines().filter(|l| l.contains("evil")).count(), 3);

    // With colour on, the only escapes are our own colour codes.
    let coloured = render::render_human(&v, true);
    assert!(!coloured.contains("\x1b[2J") && !coloured.contains("\x1b]0;"));
    assert!(!strip_ansi(&coloured).contains('\x1b'));
}

#[test]
fn json_output_is_the_verdict_contract() {
    for (name, verdict) in cases() {
        let json = render::render_json(&verdict);
        assert!(json.ends_with("}\n"), "{name}: trailing newline");
        let back: Verdict = serde_json::from_str(&json).expect("render_json output parses");
        assert_eq!(back, verdict, "{name}: round trip");
    }
    // Absent optional fields are left out rather than printed as null.
    let json = render::render_json(&connect_refused());
    assert!(
        !json.contains("null") && !json.contains("\"drift\""),
        "{json}"
    );
}

/// Removes the SGR sequences this renderer emits (`ESC [ digits m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            let mut seq = String::from("\x1b[");
            chars.next();
            while let Some(&d) = chars.peek() {
                chars.next();
                seq.push(d);
                if !d.is_ascii_digit() && d != ';' {
                    break;
                }
            }
            // Keep anything that is not a colour code, so the caller can see it.
            if !seq.ends_with('m') {
                out.push_str(&seq);
            }
        } else {
            out.push(c);
        }
    }
    out
}
