//! Start here: the fleet's stdio servers. `mcprobe-fleet stdio <kind>` serves
//! ONE MCP conversation over its own stdin and stdout (newline-delimited
//! JSON-RPC, the stdio transport) and exits at stdin EOF, so a test can run
//! `mcprobe check -- mcprobe-fleet stdio <kind>`.
//!
//! The answers come from the same [`Engine`] the HTTP scenarios use: each
//! line read is handed to the engine as the POST an HTTP client of the same
//! conversation would have sent, and the JSON-RPC body of its answer is
//! written back as one line. stdio has no headers, so [`Session`] derives the
//! ones the engine's transport checks read (`MCP-Protocol-Version`,
//! `Mcp-Method`, `Mcp-Name`) from the message itself and, for a legacy
//! conversation, from the version `initialize` negotiated; the HTTP status is
//! dropped (on stdio only the JSON-RPC error says what went wrong). What is
//! stdio-specific lives here: the kinds that stay silent, print noise, crash,
//! hang or stop reading ([`StdioKind`]), and a slow start (`--start-delay`).
//!
//! Test hooks, both read from the environment: `MCPROBE_PID_FILE` (the
//! process writes its PID there; the `hang` kind needs it, so a test can prove
//! the probe killed it) and `MCPROBE_STDIO_LOG` (every line received is
//! appended there, so a test can see which calls the probe made).

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;

use crate::engine::legacy::{BeforeInit, LegacyCfg};
use crate::engine::{rpc_error, Engine, META_VERSION};
use crate::server::{Handler, Req, State};

/// A line longer than this is answered with a parse error and skipped: no
/// probe sends more, and a runaway writer must not grow memory without bound.
const MAX_LINE: usize = 1 << 20;
/// Answers longer than this are not read back from the engine.
const MAX_ANSWER: usize = 64 << 20;
/// Exit status of the `crash` kind.
pub const CRASH_STATUS: u8 = 3;
/// What the `noisy` kind prints on stdout before anything else.
pub const NOISE_LINE: &str = "mcprobe-fleet: starting up (this log line belongs on stderr)";
/// What the `crash` kind prints on stderr before it exits.
pub const CRASH_MESSAGE: &str =
    "mcprobe-fleet: fatal: cannot open the tool registry (a simulated crash)";
/// What the `crash` kind prints after [`CRASH_MESSAGE`], like a runtime's
/// stack trace and shutdown note: the error is a few lines up, not last.
pub const CRASH_TRAILER: [&str; 3] = [
    "    at open_registry (registry.rs:12)",
    "    at main (main.rs:3)",
    "mcprobe-fleet: shutting down",
];
/// Bytes of the cursor the `deaf` kind hands out: far more than a pipe
/// buffer holds, well under the probe's line cap.
pub const DEAF_CURSOR_BYTES: usize = 1 << 20;

/// How a stdio server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdioKind {
    /// Modern only (2026-07-28): answers `server/discover`; `initialize` gets
    /// JSON-RPC -32601 naming the versions it supports.
    Modern,
    /// Dual-era: modern for requests with `_meta`, legacy (2025-11-25) after
    /// `initialize`.
    Dual,
    /// Legacy 2025-06-18: `server/discover` before `initialize` gets JSON-RPC
    /// -32601, then the `initialize` handshake works.
    Legacy,
    /// Legacy 2025-06-18 that never answers `server/discover` at all: the
    /// probe must give up on it after a short wait and send `initialize`.
    LegacySilent,
    /// `Legacy`, but its first line on stdout is a log line, not JSON.
    Noisy,
    /// Reads the first line, writes an error to stderr and exits with status
    /// [`CRASH_STATUS`].
    Crash,
    /// Reads stdin and never answers; ignores EOF and SIGTERM and never exits
    /// on its own (only SIGKILL ends it). Writes its PID to `MCPROBE_PID_FILE`.
    Hang,
    /// Modern; its first `tools/list` page hands out a cursor of
    /// [`DEAF_CURSOR_BYTES`], then it stops reading stdin for good (a request
    /// carrying that cursor fills the pipe) and never exits on its own.
    Deaf,
}

impl StdioKind {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [StdioKind; 8] = [
        StdioKind::Modern,
        StdioKind::Dual,
        StdioKind::Legacy,
        StdioKind::LegacySilent,
        StdioKind::Noisy,
        StdioKind::Crash,
        StdioKind::Hang,
        StdioKind::Deaf,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            StdioKind::Modern => "modern",
            StdioKind::Dual => "dual",
            StdioKind::Legacy => "legacy",
            StdioKind::LegacySilent => "legacy-silent",
            StdioKind::Noisy => "noisy",
            StdioKind::Crash => "crash",
            StdioKind::Hang => "hang",
            StdioKind::Deaf => "deaf",
        }
    }

    /// The kind called `name`, or an error listing the valid ones.
    pub fn parse(name: &str) -> anyhow::Result<StdioKind> {
        StdioKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let valid: Vec<&str> = StdioKind::ALL.iter().map(|k| k.name()).collect();
                anyhow::anyhow!(
                    "unknown stdio kind {name:?}; valid ones: {}",
                    valid.join(", ")
                )
            })
    }

    /// The engine behind the kinds that speak MCP; `None` for crash and hang.
    fn engine(self) -> Option<Engine> {
        // A legacy stdio SDK answers a method it does not know (the probe's
        // opening server/discover) in-band with -32601.
        let legacy =
            || Engine::legacy(LegacyCfg::new("2025-06-18").before_init(BeforeInit::MethodNotFound));
        match self {
            StdioKind::Modern | StdioKind::Deaf => Some(Engine::modern()),
            StdioKind::Dual => Some(Engine::dual(LegacyCfg::new("2025-11-25"))),
            StdioKind::Legacy | StdioKind::LegacySilent | StdioKind::Noisy => Some(legacy()),
            StdioKind::Crash | StdioKind::Hang => None,
        }
    }
}

/// Runs `kind` on this process's stdin, stdout and stderr until stdin ends;
/// returns the exit status. `Hang` and `Deaf` never return. `start_delay`
/// is slept before anything is read or written, like an interpreter that is
/// slow to start (its requests wait in the pipe meanwhile).
pub fn run(kind: StdioKind, start_delay: std::time::Duration) -> anyhow::Result<u8> {
    if let Some(path) = std::env::var_os("MCPROBE_PID_FILE") {
        write_pid_file(Path::new(&path))?;
    }
    std::thread::sleep(start_delay);
    let mut log = match std::env::var_os("MCPROBE_STDIO_LOG") {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("opening MCPROBE_STDIO_LOG {path:?}"))?,
        ),
        None => None,
    };
    if kind == StdioKind::Hang {
        hang(log.as_mut().map(|f| f as &mut dyn Write));
    }
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    let stderr = std::io::stderr().lock();
    converse(
        kind,
        stdin,
        stdout,
        stderr,
        log.as_mut().map(|f| f as &mut dyn Write),
    )
}

/// One conversation over any reader and writers (the process's pipes, or
/// buffers in tests). Returns the exit status once `input` ends, or at once
/// for `Crash`. `Hang` is the caller's business ([`run`]); here it only reads.
pub fn converse<R: BufRead, W: Write, E: Write>(
    kind: StdioKind,
    mut input: R,
    mut output: W,
    mut errors: E,
    mut log: Option<&mut dyn Write>,
) -> anyhow::Result<u8> {
    let mut session = match kind.engine() {
        Some(engine) => Some(Session::new(engine)?),
        None => None,
    };
    if kind == StdioKind::Noisy {
        // The stdio page: a server MUST NOT write anything to stdout that is
        // not an MCP message. This one does, once, like a stray println!.
        let _ = writeln!(output, "{NOISE_LINE}").and_then(|_| output.flush());
    }
    let mut line = Vec::new();
    loop {
        let Some(too_long) = read_line(&mut input, &mut line)? else {
            return Ok(0);
        };
        if let Some(log) = log.as_mut() {
            // Best effort: the log is a test aid, not part of the protocol.
            let _ = log
                .write_all(&line)
                .and_then(|_| log.write_all(b"\n"))
                .and_then(|_| log.flush());
        }
        if kind == StdioKind::Crash {
            let _ = writeln!(errors, "{CRASH_MESSAGE}")
                .and_then(|_| writeln!(errors, "{}", CRASH_TRAILER.join("\n")))
                .and_then(|_| errors.flush());
            return Ok(CRASH_STATUS);
        }
        if kind == StdioKind::Deaf && is_method(&line, "tools/list") {
            let _ = output
                .write_all(&deaf_tools_page(&line))
                .and_then(|_| output.flush());
            // Never read again; only SIGKILL ends this.
            loop {
                std::thread::park();
            }
        }
        let Some(session) = session.as_mut() else {
            continue;
        };
        let answer = if too_long {
            Some(parse_error(&format!(
                "Parse error: the line is longer than {MAX_LINE} bytes"
            )))
        } else {
            session.answer(kind, &line)
        };
        if let Some(mut bytes) = answer {
            bytes.push(b'\n');
            if output
                .write_all(&bytes)
                .and_then(|_| output.flush())
                .is_err()
            {
                // The client closed our stdout: the conversation is over.
                return Ok(0);
            }
        }
    }
}

fn is_method(line: &[u8], method: &str) -> bool {
    serde_json::from_slice::<Value>(line)
        .ok()
        .is_some_and(|m| m.get("method").and_then(Value::as_str) == Some(method))
}

/// The `deaf` kind's one `tools/list` page: a tool and a huge cursor.
fn deaf_tools_page(line: &[u8]) -> Vec<u8> {
    let id = serde_json::from_slice::<Value>(line)
        .ok()
        .and_then(|m| m.get("id").cloned())
        .unwrap_or(Value::Null);
    let answer = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {
            "resultType": "complete",
            "tools": [{"name": "ping", "inputSchema": {"type": "object"}}],
            "nextCursor": "c".repeat(DEAF_CURSOR_BYTES),
            "ttlMs": 1000,
            "cacheScope": "public"
        }
    });
    let mut bytes = answer.to_string().into_bytes();
    bytes.push(b'\n');
    bytes
}

/// Reads one line (without its `\n` / `\r\n`) into `line`. `None` at EOF;
/// `Some(true)` when the line was longer than [`MAX_LINE`] (it is consumed up
/// to its newline, but only the first [`MAX_LINE`] bytes are kept).
fn read_line<R: BufRead>(input: &mut R, line: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    line.clear();
    let n = input
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', line)?;
    if n == 0 {
        return Ok(None);
    }
    let mut too_long = false;
    if line.last() != Some(&b'\n') && line.len() > MAX_LINE {
        too_long = true;
        // Skip the rest of the line without keeping it.
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let n = input
                .by_ref()
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut rest)?;
            if n == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(Some(too_long))
}

/// The `hang` kind: read stdin to EOF, ignore it, and then wait forever.
fn hang(mut log: Option<&mut dyn Write>) -> ! {
    // With a handler installed, SIGTERM no longer ends the process: a host
    // that only asks politely never gets rid of this server.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let _term = rt.as_ref().ok().and_then(|rt| {
        let _guard = rt.enter();
        ignore_sigterm()
    });
    let mut stdin = std::io::stdin().lock();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stdin.read(&mut buf) {
        if n == 0 {
            break;
        }
        if let Some(log) = log.as_mut() {
            let _ = log.write_all(&buf[..n]).and_then(|_| log.flush());
        }
    }
    loop {
        // `park` may wake spuriously; only SIGKILL ends this loop.
        std::thread::park();
    }
}

#[cfg(unix)]
fn ignore_sigterm() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{signal, SignalKind};
    signal(SignalKind::terminate()).ok()
}

#[cfg(not(unix))]
fn ignore_sigterm() -> Option<()> {
    None
}

/// Writes the PID beside, then renames: a reader never sees half of it.
fn write_pid_file(path: &Path) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp-mcprobe-fleet");
    std::fs::write(&tmp, format!("{}\n", std::process::id()))
        .with_context(|| format!("writing MCPROBE_PID_FILE {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("writing MCPROBE_PID_FILE {}", path.display()))
}

fn parse_error(message: &str) -> Vec<u8> {
    rpc_error(&Value::Null, -32700, message, None)
        .to_string()
        .into_bytes()
}

/// One stdio conversation with an engine: the state an HTTP session would
/// keep (the negotiated legacy version) and a runtime to run its handler on.
struct Session {
    engine: Arc<Engine>,
    state: Arc<State>,
    rt: tokio::runtime::Runtime,
    /// The version `initialize` settled on, once it has.
    negotiated: Option<String>,
}

impl Session {
    fn new(engine: Engine) -> anyhow::Result<Session> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the stdio server's runtime")?;
        Ok(Session {
            engine: Arc::new(engine),
            state: Arc::new(State::new("stdio://mcprobe-fleet".into())),
            rt,
            negotiated: None,
        })
    }

    /// The line to write back for one line read, if any (notifications and
    /// ignored requests get none).
    fn answer(&mut self, kind: StdioKind, line: &[u8]) -> Option<Vec<u8>> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let msg: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => return Some(parse_error(&format!("Parse error: {e}"))),
        };
        let method = msg.get("method").and_then(Value::as_str);
        if kind == StdioKind::LegacySilent && method == Some("server/discover") {
            return None;
        }
        let is_initialize = method == Some("initialize");
        let req = Req {
            method: Method::POST,
            path: self.engine.path.to_string(),
            query: None,
            headers: self.headers_for(&msg),
            json: Some(msg),
        };
        let engine = self.engine.clone();
        let state = self.state.clone();
        let body = self.rt.block_on(async move {
            let resp = engine.handle(state, req).await;
            axum::body::to_bytes(resp.into_body(), MAX_ANSWER).await
        });
        let Ok(body) = body else {
            return Some(
                rpc_error(
                    &Value::Null,
                    -32603,
                    "Internal error: the answer is too large",
                    None,
                )
                .to_string()
                .into_bytes(),
            );
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            // 202 Accepted for a notification: nothing goes back on stdio.
            return None;
        }
        if is_initialize {
            if let Ok(reply) = serde_json::from_slice::<Value>(&body) {
                if let Some(v) = reply
                    .get("result")
                    .and_then(|r| r.get("protocolVersion"))
                    .and_then(Value::as_str)
                {
                    self.negotiated = Some(v.to_string());
                }
            }
        }
        // One message a line: the engine's JSON never holds a raw newline,
        // but a raw (non-JSON) fault body might.
        Some(
            body.iter()
                .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
                .collect(),
        )
    }

    /// The headers the same request would carry over Streamable HTTP: the
    /// version from `_meta` (modern) or the negotiated one (legacy), the
    /// method, and the tool name or resource URI.
    fn headers_for(&self, msg: &Value) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let params = msg.get("params");
        let version = params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get(META_VERSION))
            .and_then(Value::as_str)
            .or(self.negotiated.as_deref());
        let method = msg.get("method").and_then(Value::as_str);
        let name = params
            .and_then(|p| p.get("name").or_else(|| p.get("uri")))
            .and_then(Value::as_str);
        let pairs = [
            ("mcp-protocol-version", version),
            ("mcp-method", method),
            ("mcp-name", name),
        ];
        for (header, value) in pairs {
            // A value no header could carry (a line break, say) is left out;
            // the engine then rejects the request as a header mismatch, which
            // is what an HTTP server would have done with it.
            if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(HeaderName::from_static(header), v);
            }
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Runs `kind` over these lines; returns (status, answers, stderr).
    fn talk(kind: StdioKind, lines: &[Value]) -> (u8, Vec<String>, String) {
        let mut input = Vec::new();
        for l in lines {
            input.extend_from_slice(l.to_string().as_bytes());
            input.push(b'\n');
        }
        talk_raw(kind, &input)
    }

    fn talk_raw(kind: StdioKind, input: &[u8]) -> (u8, Vec<String>, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let status = converse(kind, input, &mut out, &mut err, None).expect("converse");
        let out = String::from_utf8(out).expect("utf-8 answers");
        assert!(
            out.is_empty() || out.ends_with('\n'),
            "unterminated: {out:?}"
        );
        let lines = out.lines().map(str::to_string).collect();
        (status, lines, String::from_utf8_lossy(&err).into_owned())
    }

    fn json_of(line: &str) -> Value {
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    fn modern_meta() -> Value {
        json!({
            META_VERSION: "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        })
    }

    fn discover(id: u64) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": "server/discover",
               "params": {"_meta": modern_meta()}})
    }

    fn initialize(id: u64) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"}}})
    }

    fn initialized() -> Value {
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
    }

    fn request(id: u64, method: &str, params: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    }

    fn tool_names(answer: &Value) -> Vec<String> {
        answer["result"]["tools"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|t| t["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn kinds_parse_by_name_and_unknown_ones_list_the_valid_names() {
        for k in StdioKind::ALL {
            assert_eq!(StdioKind::parse(k.name()).ok(), Some(k));
        }
        let err = StdioKind::parse("modrn").expect_err("unknown").to_string();
        assert!(
            err.contains("modrn") && err.contains("legacy-silent"),
            "{err}"
        );
    }

    #[test]
    fn modern_answers_discover_and_tools_and_rejects_initialize_naming_versions() {
        let (status, out, _) = talk(
            StdioKind::Modern,
            &[
                discover(1),
                request(2, "tools/list", json!({"_meta": modern_meta()})),
                request(
                    3,
                    "tools/call",
                    json!({"name": "ping", "arguments": {}, "_meta": modern_meta()}),
                ),
                initialize(4),
            ],
        );
        assert_eq!(status, 0);
        assert_eq!(out.len(), 4, "{out:?}");
        let d = json_of(&out[0]);
        assert_eq!(d["id"], 1);
        assert_eq!(d["result"]["supportedVersions"], json!(["2026-07-28"]));
        let tools = json_of(&out[1]);
        assert_eq!(
            tools_names_sorted(&tools),
            ["delete_everything", "echo", "ping"]
        );
        assert_eq!(tools["result"]["resultType"], "complete");
        let call = json_of(&out[2]);
        assert_eq!(call["id"], 3);
        assert_eq!(call["result"]["isError"], false);
        let init = json_of(&out[3]);
        assert_eq!(init["id"], 4);
        assert_eq!(init["error"]["code"], -32601);
        let message = init["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("2026-07-28"), "{message}");
    }

    fn tools_names_sorted(answer: &Value) -> Vec<String> {
        let mut names = tool_names(answer);
        names.sort();
        names
    }

    #[test]
    fn modern_requests_without_meta_are_rejected_like_over_http() {
        let (_, out, _) = talk(StdioKind::Modern, &[request(7, "tools/list", json!({}))]);
        let a = json_of(&out[0]);
        assert_eq!(a["id"], 7);
        assert_eq!(a["error"]["code"], -32602, "{a}");
    }

    #[test]
    fn legacy_rejects_discover_then_shakes_hands() {
        let (status, out, _) = talk(
            StdioKind::Legacy,
            &[
                discover(1),
                initialize(2),
                initialized(),
                request(3, "tools/list", json!({})),
            ],
        );
        assert_eq!(status, 0);
        // The notification gets no line.
        assert_eq!(out.len(), 3, "{out:?}");
        let d = json_of(&out[0]);
        assert_eq!(
            (d["id"].clone(), d["error"]["code"].clone()),
            (json!(1), json!(-32601))
        );
        let init = json_of(&out[1]);
        assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
        let tools = json_of(&out[2]);
        assert_eq!(tools["id"], 3);
        assert_eq!(tool_names(&tools).len(), 3, "{tools}");
        // Legacy results carry no modern fields.
        assert!(tools["result"].get("resultType").is_none(), "{tools}");
    }

    #[test]
    fn legacy_silent_never_answers_discover() {
        let (_, out, _) = talk(
            StdioKind::LegacySilent,
            &[
                discover(1),
                initialize(2),
                request(3, "tools/list", json!({})),
            ],
        );
        let ids: Vec<Value> = out.iter().map(|l| json_of(l)["id"].clone()).collect();
        assert_eq!(ids, [json!(2), json!(3)]);
    }

    #[test]
    fn dual_serves_both_eras() {
        let (_, modern, _) = talk(StdioKind::Dual, &[discover(1)]);
        let d = json_of(&modern[0]);
        assert_eq!(d["result"]["supportedVersions"][0], "2026-07-28", "{d}");
        let (_, legacy, _) = talk(
            StdioKind::Dual,
            &[initialize(1), request(2, "tools/list", json!({}))],
        );
        assert_eq!(
            json_of(&legacy[0])["result"]["protocolVersion"],
            "2025-11-25"
        );
        assert_eq!(tool_names(&json_of(&legacy[1])).len(), 3);
    }

    #[test]
    fn noisy_prints_a_non_json_line_first() {
        let (_, out, _) = talk(StdioKind::Noisy, &[initialize(1)]);
        assert_eq!(out[0], NOISE_LINE);
        assert!(serde_json::from_str::<Value>(&out[0]).is_err());
        assert_eq!(json_of(&out[1])["id"], 1);
    }

    #[test]
    fn crash_exits_3_after_the_first_line_with_a_message_on_stderr() {
        let (status, out, err) = talk(StdioKind::Crash, &[discover(1), initialize(2)]);
        assert_eq!(status, CRASH_STATUS);
        assert!(out.is_empty(), "{out:?}");
        assert!(err.contains(CRASH_MESSAGE), "{err}");
        // The error is not the last line: a host must quote a few.
        assert!(err.trim_end().ends_with(CRASH_TRAILER[2]), "{err}");
    }

    #[test]
    fn crash_with_no_input_just_ends() {
        let (status, _, err) = talk_raw(StdioKind::Crash, b"");
        assert_eq!((status, err.as_str()), (0, ""));
    }

    #[test]
    fn garbage_lines_get_parse_errors_and_blank_ones_nothing() {
        let (status, out, _) = talk_raw(StdioKind::Legacy, b"not json\n\r\n   \n{\"a\":\n");
        assert_eq!(status, 0);
        assert_eq!(out.len(), 2, "{out:?}");
        for l in &out {
            let a = json_of(l);
            assert_eq!(a["error"]["code"], -32700, "{a}");
            assert_eq!(a["id"], Value::Null);
        }
    }

    #[test]
    fn crlf_and_a_missing_final_newline_are_read() {
        let mut input = initialize(5).to_string().into_bytes();
        input.extend_from_slice(b"\r\n");
        input.extend_from_slice(request(6, "tools/list", json!({})).to_string().as_bytes());
        let (_, out, _) = talk_raw(StdioKind::Legacy, &input);
        let ids: Vec<Value> = out.iter().map(|l| json_of(l)["id"].clone()).collect();
        assert_eq!(ids, [json!(5), json!(6)]);
    }

    #[test]
    fn an_overlong_line_is_refused_and_the_next_one_still_served() {
        let mut input = vec![b'x'; MAX_LINE * 2 + 10];
        input.push(b'\n');
        input.extend_from_slice(initialize(9).to_string().as_bytes());
        input.push(b'\n');
        let (_, out, _) = talk_raw(StdioKind::Legacy, &input);
        assert_eq!(
            out.len(),
            2,
            "{:?}",
            out.iter().map(|l| l.len()).collect::<Vec<_>>()
        );
        let refused = json_of(&out[0]);
        assert_eq!(refused["error"]["code"], -32700);
        assert!(
            refused["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("longer than")),
            "{refused}"
        );
        assert_eq!(json_of(&out[1])["id"], 9);
    }

    #[test]
    fn the_log_gets_every_line_received() {
        let mut log = Vec::new();
        let input = format!("{}\n{}\n", initialize(1), initialized());
        let mut out = Vec::new();
        converse(
            StdioKind::Legacy,
            input.as_bytes(),
            &mut out,
            std::io::sink(),
            Some(&mut log),
        )
        .expect("converse");
        let log = String::from_utf8(log).expect("utf-8");
        let methods: Vec<String> = log
            .lines()
            .map(|l| {
                json_of(l)["method"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(methods, ["initialize", "notifications/initialized"]);
    }
}
