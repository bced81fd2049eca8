//! Start here: property tests (proptest, stable Rust) for what a person or a
//! file hands `mcprobe`: random command lines (parsed in-process by the very
//! clap definition `main` uses, plus a few real runs of the binary), the
//! argument validators, and random `watch` configs. Each asserts no panic, a
//! usage error where the input is bad (exit code 2, one line), and bounded
//! output.
//!
//! `PROPTEST_CASES=N` overrides the case counts for a longer hunt.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use clap::error::ErrorKind;
use clap::Parser;
use mcprobe::check::{parse_resolve, timeout_ms};
use mcprobe::cli::Cli;
use mcprobe::watch::config;
use proptest::prelude::*;

fn cases(n: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = n;
    }
    // Integration tests have no lib.rs beside them for proptest's regression
    // files: a failure prints its minimal input instead.
    c.failure_persistence = None;
    c
}

/// Words of mcprobe's command lines, and the kinds of junk people and
/// scripts pass.
const WORDS: &[&str] = &[
    "check",
    "scan",
    "watch",
    "--json",
    "--timeout",
    "-H",
    "--header",
    "--resolve",
    "--cacert",
    "--baseline",
    "--accept-drift",
    "--call",
    "--no-call",
    "--registry",
    "--file",
    "--out",
    "--concurrency",
    "--baseline-dir",
    "--allow-private",
    "--config",
    "--status",
    "--once",
    "--ack",
    "--forget-baseline",
    "--time-scale",
    "--",
    "-",
    "-x",
    "--timeout=",
    "--concurrency=0",
    "NaN",
    "inf",
    "-1",
    "1e308",
    "0",
    "99999999999999999999",
    "http://",
    "https://example.invalid/mcp",
    "ftp://x",
    "h:1:1.2.3.4",
    "a:b",
    "::::",
    "\u{1b}[2J",
    "\u{202e}",
    "",
];

fn arg() -> impl Strategy<Value = OsString> {
    prop_oneof![
        6 => proptest::sample::select(WORDS).prop_map(OsString::from),
        2 => ".{0,16}".prop_map(OsString::from),
        1 => proptest::collection::vec(any::<u8>(), 0..8).prop_map(os_bytes),
    ]
}

#[cfg(unix)]
fn os_bytes(b: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(b)
}

#[cfg(not(unix))]
fn os_bytes(b: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&b).into_owned())
}

/// TOML-ish lines that reach deep into the watch config reader.
const TOML_LINES: &[&str] = &[
    "[watch]",
    "[[monitor]]",
    "[monitor.alerts]",
    "[policy]",
    "state = \"s.sqlite\"",
    "public_base = \"https://status.example.com\"",
    "name = \"docs\"",
    "name = \"\"",
    "url = \"https://example.com/mcp\"",
    "url = \"ftp://x\"",
    "url = 5",
    "interval_s = 30",
    "interval_s = 0",
    "interval_s = -5",
    "interval_s = 1e400",
    "interval_s = 9223372036854775807",
    "headers = { Authorization = \"Bearer ${UNSET}\" }",
    "headers = { \"\u{1b}\" = \"x\" }",
    "runbook_url = \"https://r.example\"",
    "webhook = { url = \"https://h.example\" }",
    "slack = { url = \"\" }",
    "pagerduty = { routing_key = \"k\" }",
    "opsgenie = { api_key = \"k\" }",
    "maintenance = [{ from = \"2026-01-01T00:00:00Z\", until = \"2025-01-01T00:00:00Z\" }]",
    "maintenance = [{ from = \"not a date\" }]",
    "quiet_hours = { from = \"25:00\", to = \"x\" }",
    "escalate_after_s = 60",
    "confirm = 99999",
    "x = [[[[[[]]]]]]",
    "= broken",
    "\"",
    "[",
];

fn toml_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        5 => proptest::sample::select(TOML_LINES).prop_map(str::to_string),
        1 => ".{0,24}",
    ];
    proptest::collection::vec(line, 0..24).prop_map(|l| l.join("\n"))
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn random_command_lines_parse_or_are_usage_errors(args in proptest::collection::vec(arg(), 0..8)) {
        let argv = std::iter::once(OsString::from("mcprobe")).chain(args);
        match Cli::try_parse_from(argv) {
            Ok(_) => {}
            Err(e) => match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    prop_assert_eq!(e.exit_code(), 0)
                }
                _ => prop_assert_eq!(e.exit_code(), 2, "{}", e),
            },
        }
    }

    #[test]
    fn argument_validators_take_anything(secs in any::<f64>(), raw in ".{0,40}") {
        if let Ok(ms) = timeout_ms(secs) {
            prop_assert!(ms > 0);
        }
        let _ = parse_resolve(&raw);
    }

    #[test]
    fn random_watch_configs_are_read_or_refused(text in toml_text()) {
        let env = |name: &str| (name == "SET").then(|| "v".to_string());
        match config::parse(&text, Path::new("/etc/mcprobe"), &env) {
            Ok(cfg) => prop_assert!(cfg.monitors.len() <= text.matches("[[monitor]]").count()),
            Err(e) => {
                prop_assert!(!e.error.is_empty());
                prop_assert!(e.error.len() <= 4 * text.len() + 1024, "{} bytes", e.error.len());
            }
        }
    }
}

proptest! {
    // Each case runs the binary: few, and every one is sure to fail parsing
    // (an unknown flag), so none can probe anything.
    #![proptest_config(cases(24))]

    #[test]
    fn the_binary_answers_bad_arguments_with_exit_2_and_one_line(
        args in proptest::collection::vec(arg(), 0..6),
        at in any::<prop::sample::Index>(),
    ) {
        // No `--` (what follows it would be a stdio server to start),
        // and no NUL byte: no process can be given one.
        let mut args: Vec<OsString> = args
            .into_iter()
            .filter(|a| a != "--" && !a.as_encoded_bytes().contains(&0))
            .collect();
        let i = at.index(args.len() + 1);
        args.insert(i, OsString::from("--no-such-flag"));
        let mut all = vec![OsString::from("check")];
        all.extend(args);
        let out = Command::new(env!("CARGO_BIN_EXE_mcprobe"))
            .args(&all)
            .stdin(Stdio::null())
            .output()
            .expect("running mcprobe");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        // `--help`/`--version` before the bad flag win, as clap decides.
        if code == Some(0) {
            return Ok(());
        }
        prop_assert_eq!(code, Some(2), "{:?}: {}", all, stderr);
        prop_assert_eq!(stderr.lines().count(), 1, "{:?}: {}", all, stderr);
        prop_assert!(!stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'), "{:?}", stderr);
        prop_assert!(out.stdout.is_empty());
    }
}
