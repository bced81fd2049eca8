//! Start here: `mcprobe check` as a command-line tool, apart from what it
//! concludes about servers: bad input (exit 2 and ONE line on stderr that
//! starts with `mcprobe: `), credentials passed with `--header` never echoed,
//! the `--baseline` file's life cycle (written once, left alone, rewritten by
//! `--accept-drift`), and no colour escapes when stdout is not a terminal.
//!
//! Probes that only need *a* verdict go to a refused port on 127.0.0.1 (bound,
//! noted, closed), which answers at once; the baseline tests use the fault
//! fleet's `ok-modern` and `drift` scenarios (crates/testkit).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use mcprobe_testkit::Fleet;
use serde_json::Value;

const SECRET: &str = "sekrit-123";

fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| Fleet::start_only(&["ok-modern", "drift"]).expect("the fleet starts"))
}

/// A URL nothing listens on: the probe ends at once with connect_refused.
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/mcp")
}

/// `mcprobe ARGS`, stdout piped (never a terminal) and NO_COLOR unset, so any
/// colour would be the program's own choice.
fn mcprobe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcprobe"))
        .args(args)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .output()
        .expect("running mcprobe")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit 2, nothing on stdout, exactly one line on stderr starting with
/// `mcprobe: `; returns that line.
fn assert_usage_error(args: &[&str]) -> String {
    let out = mcprobe(args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let shown = format!(
        "mcprobe {args:?}: exit {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status.code()
    );
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(stdout.is_empty(), "{shown}");
    assert_eq!(stderr.lines().count(), 1, "{shown}");
    assert!(stderr.ends_with('\n'), "{shown}");
    assert!(stderr.starts_with("mcprobe: "), "{shown}");
    stderr.trim_end().to_string()
}

/// A fresh scratch directory for one test, removed when it passes.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("mcprobe-usage-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

// ---- bad input -----------------------------------------------------------------

#[test]
fn urls_that_do_not_parse_or_are_not_http() {
    let line = assert_usage_error(&["check", "not a url"]);
    assert!(line.contains("not a url"), "{line}");
    let line = assert_usage_error(&["check", "ftp://x"]);
    assert!(line.contains("ftp"), "{line}");
    let line = assert_usage_error(&["check", "http://", "--json"]);
    assert!(line.contains("http://"), "{line}");
}

#[test]
fn malformed_headers() {
    let url = refused_url();
    let line = assert_usage_error(&["check", &url, "--header", "NoColon"]);
    assert!(line.contains("Name: value"), "{line}");
    let line = assert_usage_error(&["check", &url, "--header", "Bad Name: x"]);
    assert!(line.contains("Bad Name"), "{line}");
    // A value with a line break would smuggle a second header.
    let line = assert_usage_error(&["check", &url, "-H", "X-Key: a\r\nX-Evil: b"]);
    assert!(line.contains("X-Key"), "{line}");
}

#[test]
fn a_baseline_that_is_a_directory_is_named() {
    let scratch = Scratch::new("baseline-dir");
    let dir = scratch.path("a-directory");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let dir_text = dir.display().to_string();
    let line = assert_usage_error(&["check", &refused_url(), "--baseline", &dir_text]);
    assert!(line.contains(&dir_text), "{line}");
}

#[test]
fn a_baseline_with_invalid_json_is_named_and_left_alone() {
    let scratch = Scratch::new("baseline-bad");
    let file = scratch.path("baseline.json");
    std::fs::write(&file, "{not json").expect("write");
    let file_text = file.display().to_string();
    let line = assert_usage_error(&["check", &refused_url(), "--baseline", &file_text]);
    assert!(line.contains(&file_text), "{line}");
    // Valid JSON that is no snapshot is just as unreadable.
    std::fs::write(&file, "{\"tools\": 3}").expect("write");
    let line = assert_usage_error(&["check", &refused_url(), "--baseline", &file_text]);
    assert!(line.contains(&file_text), "{line}");
    assert_eq!(
        std::fs::read_to_string(&file).ok().as_deref(),
        Some("{\"tools\": 3}"),
        "a bad baseline must not be overwritten"
    );
}

#[test]
fn bad_timeouts() {
    let url = refused_url();
    for bad in ["0", "0.0", "NaN", "inf", "99999"] {
        let line = assert_usage_error(&["check", &url, "--timeout", bad]);
        assert!(line.contains("--timeout"), "{bad}: {line}");
    }
}

#[test]
fn a_call_with_invalid_json() {
    let url = refused_url();
    let line = assert_usage_error(&["check", &url, "--call", "ping {nope"]);
    assert!(line.contains("--call"), "{line}");
    let line = assert_usage_error(&["check", &url, "--call", "ping [1, 2]"]);
    assert!(line.contains("object"), "{line}");
}

#[test]
fn url_and_command_together_or_neither() {
    let line = assert_usage_error(&["check", &refused_url(), "--", "true"]);
    assert!(line.contains("not both"), "{line}");
    let line = assert_usage_error(&["check"]);
    assert!(line.contains("URL"), "{line}");
    let line = assert_usage_error(&["check", "--json"]);
    assert!(line.contains("URL"), "{line}");
}

#[test]
fn a_command_that_cannot_start() {
    // Not bad input but a server that is down: a verdict, as for a URL
    // nothing listens on (`--json` prints it as JSON: tests/real_world.rs).
    let missing = "/nonexistent/mcprobe-no-such-server";
    let out = mcprobe(&["check", "--", missing, "--stdio"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("connect_refused") && stdout.contains(missing),
        "{stdout}"
    );
}

// ---- secrets ---------------------------------------------------------------------

#[test]
fn a_header_value_never_appears_in_any_output() {
    let url = refused_url();
    let auth = format!("Authorization: Bearer {SECRET}");
    let key = format!("X-Api-Key: {SECRET}");
    let runs: [&[&str]; 4] = [
        &["check", &url, "--json", "--header", &auth, "-H", &key],
        &["check", &url, "--header", &auth, "-H", &key],
        // A bad header after a good one: the message names only the bad one.
        &["check", &url, "--header", &auth, "-H", "Bad Name: x"],
        &["check", &url, "-H", &format!("X-Key: {SECRET}\nX-Evil: 1")],
    ];
    for args in runs {
        let out = mcprobe(args);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(
            !stdout.contains(SECRET) && !stderr.contains(SECRET),
            "mcprobe {args:?} printed the header value\nstdout: {stdout}\nstderr: {stderr}"
        );
    }
    // The probe itself ran (and failed) in the first two: a verdict was printed.
    let json = mcprobe(runs[0]);
    let v: Value = serde_json::from_slice(&json.stdout).expect("a JSON verdict");
    assert_eq!(v["mode"], "connect_refused", "{v}");
    let human = mcprobe(runs[1]);
    assert!(text(&human.stdout).contains("connect_refused"));
}

#[test]
fn a_header_without_a_name_is_not_echoed() {
    // `-H "$TOKEN"` (the name forgotten) is all value: the error must not
    // print it to a terminal or a CI log.
    let out = mcprobe(&["check", &refused_url(), "--header", SECRET]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        !stderr.contains(SECRET),
        "the --header value was echoed: {stderr}"
    );
}

// ---- human output ------------------------------------------------------------------

#[test]
fn human_output_to_a_pipe_has_no_escape_bytes() {
    for url in [refused_url(), fleet().url("ok-modern")] {
        let out = mcprobe(&["check", &url]);
        assert!(
            !out.stdout.is_empty(),
            "no output for {url}: {}",
            text(&out.stderr)
        );
        assert!(
            !out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b),
            "an ESC byte with stdout piped and NO_COLOR unset ({url}):\n{}",
            text(&out.stdout)
        );
    }
}

// ---- the baseline file ---------------------------------------------------------------

/// `mcprobe check URL --json --baseline FILE [extra]`: (exit, verdict, stderr).
fn check_with_baseline(url: &str, file: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let file_text = file.display().to_string();
    let mut args = vec!["check", url, "--json", "--timeout", "5"];
    args.extend(["--baseline", file_text.as_str()]);
    args.extend(extra);
    let out = mcprobe(&args);
    let stderr = text(&out.stderr);
    let verdict = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no verdict ({e}): {}\nstderr: {stderr}", text(&out.stdout)));
    (out.status.code(), verdict, stderr)
}

#[test]
fn a_fresh_baseline_is_written_once_and_then_left_byte_identical() {
    let scratch = Scratch::new("baseline-fresh");
    let file = scratch.path("tools.json");
    let url = fleet().url("ok-modern");

    let (exit, v, stderr) = check_with_baseline(&url, &file, &[]);
    assert_eq!((exit, v["mode"].as_str()), (Some(0), Some("ok")), "{v}");
    assert!(stderr.contains("baseline written"), "{stderr}");
    let first = std::fs::read(&file).expect("the first run writes the baseline");
    let snapshot: Value = serde_json::from_slice(&first).expect("the baseline is JSON");
    let names: Vec<&str> = snapshot["tools"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["delete_everything", "echo", "ping"], "{snapshot}");
    assert_eq!(snapshot["hash"], v["tools"]["hash"], "{snapshot}");

    let (exit, v, stderr) = check_with_baseline(&url, &file, &[]);
    assert_eq!((exit, v["mode"].as_str()), (Some(0), Some("ok")), "{v}");
    assert!(
        v.get("drift")
            .is_none_or(|d| d["changes"] == serde_json::json!([])),
        "{v}"
    );
    assert!(!stderr.contains("baseline written"), "{stderr}");
    let second = std::fs::read(&file).expect("the baseline is still there");
    assert_eq!(first, second, "an unchanged tool list rewrote the baseline");
}

#[test]
fn accept_drift_rewrites_the_baseline() {
    let scratch = Scratch::new("baseline-accept");
    let file = scratch.path("tools.json");
    let url = fleet().url("drift");
    fleet().set_variant("drift", 0);
    let (exit, _, _) = check_with_baseline(&url, &file, &[]);
    assert_eq!(exit, Some(0));
    let before = std::fs::read(&file).expect("the first run writes the baseline");

    fleet().set_variant("drift", 1);
    // Without --accept-drift: breaking drift, and the baseline stays.
    let (exit, v, _) = check_with_baseline(&url, &file, &[]);
    assert_eq!(
        (exit, v["mode"].as_str()),
        (Some(1), Some("schema_drift")),
        "{v}"
    );
    assert_eq!(std::fs::read(&file).ok(), Some(before.clone()));

    let (exit, v, stderr) = check_with_baseline(&url, &file, &["--accept-drift"]);
    let after = std::fs::read(&file).expect("the baseline is still there");
    // What was accepted is now the reference: the same tools are no drift.
    let (exit_again, again, _) = check_with_baseline(&url, &file, &[]);
    fleet().set_variant("drift", 0);

    assert_eq!((exit, v["mode"].as_str()), (Some(0), Some("ok")), "{v}");
    assert!(
        v.get("drift").is_none(),
        "accepted drift is still reported: {v}"
    );
    assert!(stderr.contains("baseline written"), "{stderr}");
    assert_ne!(before, after, "--accept-drift left the old baseline");
    let snapshot: Value = serde_json::from_slice(&after).expect("JSON");
    assert_eq!(snapshot["hash"], v["tools"]["hash"], "{snapshot}");
    assert_eq!(
        (exit_again, again["mode"].as_str()),
        (Some(0), Some("ok")),
        "{again}"
    );
}
