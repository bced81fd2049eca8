//! Start here: `mcprobe scan` end to end, against the fault fleet and the fake
//! MCP Registry of crates/testkit (`mcprobe_testkit::registry`), all on
//! 127.0.0.1.
//!
//! - `the_audit_counts_what_the_registries_list`: two registries (one with a
//!   deleted entry, a templated URL, a duplicate spelled differently and a
//!   remote declaring a required secret header) plus a URL file; the report's
//!   counts per mode must match what the fleet's scenarios are known to give.
//! - `a_second_scan_reports_drift`: `--baseline-dir` keeps snapshots, and
//!   switching the `drift` scenario's variant shows up in the next scan only.
//! - `ctrl_c_leaves_a_valid_report`: SIGINT once verdicts start to arrive.
//! - `a_429_makes_the_host_wait_and_the_probe_try_again`.
//!
//! Every run is a child process under a watchdog, so a hung scan fails its
//! test instead of hanging the suite.

// `libc::kill` (SIGINT for the Ctrl-C test) is unsafe FFI; the workspace
// denies unsafe_code, this file needs exactly that (the watchdog is in support).
#![allow(unsafe_code)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mcprobe_registry::baseline_file_name;
use mcprobe_testkit::registry::{
    duplicate_spelling, FakeRegistry, Listing, DELETED_PATH, SECRET_HEADER, TEMPLATED_URL,
};
use mcprobe_testkit::Fleet;
use serde_json::Value;
use support::{mode_counts, read_json};

/// A scan that outlives this is killed and fails its test.
const KILL_AFTER: Duration = Duration::from_secs(90);

/// The scenarios the main registry lists, and the mode each must end in.
#[rustfmt::skip]
const MAIN: &[(&str, &str)] = &[
    ("ok-modern", "ok"),
    ("ok-legacy-json", "ok"),
    ("ok-http-sse", "ok"),
    ("ok-tls", "ok"),
    ("drift", "ok"),
    ("dns-invalid", "dns_unresolved"),
    ("refused", "connect_refused"),
    ("never-answers", "timeout"),
    ("tls-expired", "tls_error"),
    ("asleep-render", "platform_asleep"),
    ("moved-to-mcp", "route_moved"),
    ("http-503", "http_error"),
    ("auth-oauth", "auth_required"),
    // Declares a required secret header: its bare 401 (http_error for
    // `mcprobe check`) is "needs credentials" here.
    ("auth-401-bare", "auth_required"),
    ("handshake-html", "handshake_failed"),
    ("tools-list-error", "tools_list_failed"),
    ("half-auth-401", "auth_half_configured"),
    ("call-error", "tool_call_error"),
    ("malformed-no-jsonrpc", "malformed_jsonrpc"),
];
const SECRET: &str = "auth-401-bare";
/// Only in the URL file.
const FILE_ONLY: (&str, &str) = ("http-500-html", "http_error");

fn temp_dir(tag: &str) -> PathBuf {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mcprobe-scan-test-{}-{tag}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}

fn spawn_scan(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mcprobe"))
        .arg("scan")
        // The fleet and the fake registry are on 127.0.0.1: scanned on purpose.
        .arg("--allow-private")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning mcprobe scan")
}

/// Waits for a child under the watchdog; (exit code, stdout, stderr).
fn finish(child: Child) -> (Option<i32>, String, String) {
    support::finish(child, Instant::now(), KILL_AFTER).outputs()
}

fn scan(args: &[String]) -> (Option<i32>, String, String) {
    finish(spawn_scan(args))
}

/// Every line of verdicts.jsonl, parsed (each must be a whole verdict).
fn verdicts(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("verdicts.jsonl")).expect("verdicts.jsonl");
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("a verdicts.jsonl line is not JSON ({e}): {l}"));
            for field in ["url", "status", "mode", "severity", "reason", "checked_at"] {
                assert!(v.get(field).is_some(), "verdict without {field}: {l}");
            }
            v
        })
        .collect()
}

fn by_url(vs: &[Value]) -> BTreeMap<String, Value> {
    vs.iter()
        .map(|v| (v["url"].as_str().unwrap_or("").to_string(), v.clone()))
        .collect()
}

fn endpoint<'a>(report: &'a Value, url: &str) -> &'a Value {
    report["endpoints"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["url"] == url))
        .unwrap_or_else(|| panic!("no endpoint {url} in report.json"))
}

#[test]
fn the_audit_counts_what_the_registries_list() {
    let names: Vec<&str> = MAIN.iter().map(|(n, _)| *n).chain([FILE_ONLY.0]).collect();
    let fleet = Fleet::start_only(&names).expect("the fleet starts");
    let main_names: Vec<&str> = MAIN.iter().map(|(n, _)| *n).collect();
    let main = Listing::from_fleet(&fleet, &main_names, Some(SECRET));
    let mirror = Listing::new()
        .remote(
            "io.github.mcprobe/ok-modern-mirror",
            &format!("{}#mirrored", fleet.url("ok-modern")),
        )
        .remote("io.github.mcprobe/call-error", &fleet.url("call-error"));
    let reg = FakeRegistry::start(vec![("main", main), ("mirror", mirror)])
        .expect("the fake registry starts");
    let out = temp_dir("audit");
    let list = out.join("urls.txt");
    std::fs::write(
        &list,
        format!(
            "# endpoints not in any registry\n\n{}\n{}/   # also in the registry\n",
            fleet.url(FILE_ONLY.0),
            fleet.url("ok-legacy-json")
        ),
    )
    .expect("writing the URL file");
    let report_dir = out.join("report");
    let args: Vec<String> = [
        "--registry",
        &reg.url("main"),
        "--registry",
        &reg.url("mirror"),
        "--file",
        &list.display().to_string(),
        "--out",
        &report_dir.display().to_string(),
        "--concurrency",
        "8",
        "--timeout",
        "4",
        "--cacert",
        &fleet.ca_pem_path().display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, stdout, stderr) = scan(&args);
    let shown = format!("exit {code:?}\nstdout: {stdout}\nstderr: {stderr}");
    assert_eq!(code, Some(0), "{shown}");
    assert!(stdout.contains("20 endpoints probed"), "{shown}");

    // Pagination: the fake serves 4 entries a page; every request asked for
    // the latest versions, and all but the first carried a cursor.
    let pages = reg.page_queries("main");
    assert!(pages.len() >= 5, "pages: {pages:?}");
    assert!(
        pages.iter().all(|q| q.contains("version=latest")),
        "{pages:?}"
    );
    assert!(
        pages[1..].iter().all(|q| q.contains("cursor=")),
        "{pages:?}"
    );

    // One verdict per distinct, probeable endpoint, each in its expected mode.
    let vs = verdicts(&report_dir);
    let got = by_url(&vs);
    assert_eq!(
        vs.len(),
        MAIN.len() + 1,
        "one line per endpoint: {:?}",
        got.keys()
    );
    let mut bad = Vec::new();
    for (name, mode) in MAIN.iter().chain([&FILE_ONLY]) {
        let url = fleet.url(name);
        match got.get(&url) {
            Some(v) if v["mode"] == *mode => {}
            Some(v) => bad.push(format!(
                "{name}: mode {}, expected {mode} ({})",
                v["mode"], v["reason"]
            )),
            None => bad.push(format!("{name}: no verdict for {url}")),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));

    // The secret-header remote: needs credentials, not down.
    let secret = &got[&fleet.url(SECRET)];
    assert_eq!(secret["status"], "up");
    let reason = secret["reason"].as_str().unwrap_or("");
    assert!(
        reason.starts_with("Needs credentials") && reason.contains(SECRET_HEADER),
        "{reason}"
    );
    assert!(
        secret["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["mode"] == "http_error")),
        "the original reading stays as a finding: {secret}"
    );

    let report = read_json(&report_dir.join("report.json"));
    // Counts per mode match the table.
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for (_, mode) in MAIN.iter().chain([&FILE_ONLY]) {
        *want.entry(mode.to_string()).or_default() += 1;
    }
    assert_eq!(mode_counts(&report), want);
    let totals = &report["totals"];
    assert_eq!(totals["probed"], 20, "{totals}");
    assert_eq!(totals["templated"], 1, "{totals}");
    assert_eq!(totals["deleted_skipped"], 1, "{totals}");
    assert_eq!(totals["endpoints"], 21, "{totals}");
    // ok-modern twice more (main, mirror), call-error, ok-legacy-json (file).
    assert_eq!(totals["duplicates_merged"], 4, "{totals}");
    assert_eq!(report["interrupted"], false);
    let bucket = |name: &str| {
        report["audit"]["buckets"]
            .as_array()
            .and_then(|a| a.iter().find(|b| b["bucket"] == name))
            .map(|b| b["count"].as_u64().unwrap_or(0))
    };
    assert_eq!(
        (bucket("loud"), bucket("quiet"), bucket("passing")),
        (Some(7), Some(6), Some(7))
    );

    // The deleted entry is nowhere.
    let deleted = format!(
        "{}{DELETED_PATH}",
        fleet.url("ok-modern").trim_end_matches("/mcp")
    );
    assert!(!got.contains_key(&deleted), "the deleted entry was probed");
    assert!(
        !std::fs::read_to_string(report_dir.join("report.json"))
            .unwrap_or_default()
            .contains(DELETED_PATH),
        "the deleted entry is in report.json"
    );

    // The template is recorded, not probed.
    let t = endpoint(&report, TEMPLATED_URL);
    assert_eq!(t["templated"], true);
    assert_eq!(t["mode"], Value::Null);
    assert_eq!(t["variables"], serde_json::json!(["tenant"]));
    assert!(!got.keys().any(|u| u.contains("example.invalid")));

    // The duplicate: one endpoint, every spelling, both registries.
    let ok = endpoint(&report, &fleet.url("ok-modern"));
    assert_eq!(
        ok["registries"],
        serde_json::json!([reg.url("main"), reg.url("mirror")])
    );
    let spellings = ok["listed_as"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(spellings, 3, "{ok}");
    assert!(
        ok["listed_as"].as_array().is_some_and(|a| a
            .iter()
            .any(|s| *s == duplicate_spelling(&fleet.url("ok-modern")))),
        "{ok}"
    );
    let legacy = endpoint(&report, &fleet.url("ok-legacy-json"));
    assert_eq!(
        legacy["registries"].as_array().map(Vec::len),
        Some(2),
        "{legacy}"
    );
    let s = endpoint(&report, &fleet.url(SECRET));
    assert_eq!(
        s["required_secret_headers"],
        serde_json::json!([SECRET_HEADER])
    );

    // Per registry: the mirror's two endpoints both work or fail as listed.
    let mirror_row = report["audit"]["registries"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["registry"] == reg.url("mirror")))
        .expect("a row for the mirror");
    assert_eq!(mirror_row["probed"], 2);
    assert_eq!(mirror_row["failing"], 1);

    let md = std::fs::read_to_string(report_dir.join("report.md")).expect("report.md");
    for needle in [
        "# MCP endpoint audit",
        "## Loud vs quiet",
        "**loud** = `dns_unresolved`, `connect_refused`, `tls_error`, `timeout`, `platform_asleep`, `http_error`",
        "## Per failure mode",
        "| `auth_required` | passing | 2 | 10.0% |",
        "## Per registry",
        &format!("`{}`", reg.url("mirror")),
        "## Latency",
        "## Most common failures",
        "## Slowest",
        "## Needs credentials",
        "## Templated URLs (recorded, not probed)",
        TEMPLATED_URL,
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_second_scan_reports_drift() {
    let fleet = Fleet::start_only(&["drift", "ok-modern"]).expect("the fleet starts");
    let listing = Listing::new()
        .remote("io.github.mcprobe/drift", &fleet.url("drift"))
        .remote("io.github.mcprobe/ok-modern", &fleet.url("ok-modern"));
    let reg = FakeRegistry::start(vec![("main", listing)]).expect("the fake registry starts");
    let dir = temp_dir("drift");
    let baselines = dir.join("baselines");
    let run = |n: u32| {
        let out = dir.join(format!("scan{n}"));
        let args: Vec<String> = [
            "--registry",
            &reg.url("main"),
            "--out",
            &out.display().to_string(),
            "--baseline-dir",
            &baselines.display().to_string(),
            "--concurrency",
            "8",
            "--timeout",
            "4",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (code, stdout, stderr) = scan(&args);
        assert_eq!(code, Some(0), "scan {n}: {stdout}\n{stderr}");
        (
            by_url(&verdicts(&out)),
            read_json(&out.join("report.json")),
            out,
        )
    };
    let drift_url = fleet.url("drift");

    let (first, report, _) = run(1);
    assert_eq!(first[&drift_url]["mode"], "ok");
    assert!(first[&drift_url].get("drift").is_none());
    assert_eq!(report["audit"]["drift"], serde_json::json!([]));
    for name in ["drift", "ok-modern"] {
        let file = baselines.join(baseline_file_name(&fleet.url(name)));
        let snap = read_json(&file);
        assert!(
            snap["tools"].as_array().is_some_and(|t| !t.is_empty()),
            "{snap}"
        );
    }

    fleet.set_variant("drift", 1);
    let (second, report, out) = run(2);
    let v = &second[&drift_url];
    assert_eq!(v["mode"], "schema_drift", "{v}");
    assert_eq!(v["drift"]["breaking"], true, "{v}");
    assert_eq!(second[&fleet.url("ok-modern")]["mode"], "ok");
    let notes = report["audit"]["drift"].as_array().expect("audit.drift");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["url"], drift_url.as_str());
    assert_eq!(notes[0]["breaking"], true);
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.contains("## Drift since the last scan"), "{md}");
    assert!(md.contains(&format!("| `{drift_url}` | yes |")), "{md}");

    // The baseline moved on: the next scan compares with the second one.
    let (third, report, _) = run(3);
    assert_eq!(third[&drift_url]["mode"], "ok", "{}", third[&drift_url]);
    assert_eq!(report["audit"]["drift"], serde_json::json!([]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_leaves_a_valid_report() {
    let fleet =
        Fleet::start_only(&["never-answers", "refused", "ok-modern"]).expect("the fleet starts");
    let dir = temp_dir("sigint");
    let list = dir.join("urls.txt");
    // Twelve copies of a server that never answers, two at a time (one
    // host): 24 s of work at --timeout 4, while the other two end at once.
    let mut text = format!("{}\n{}\n", fleet.url("refused"), fleet.url("ok-modern"));
    for k in 0..12 {
        text.push_str(&format!("{}?copy={k}\n", fleet.url("never-answers")));
    }
    std::fs::write(&list, text).expect("writing the URL file");
    let out = dir.join("report");
    let args: Vec<String> = [
        "--file",
        &list.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--concurrency",
        "8",
        "--timeout",
        "4",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let child = spawn_scan(&args);
    let pid = child.id() as libc::pid_t;

    // Bounded polling: wait until the two quick verdicts are on disk.
    let deadline = Instant::now() + Duration::from_secs(30);
    let lines = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    while lines(&out.join("verdicts.jsonl")) < 2 {
        assert!(Instant::now() < deadline, "no verdicts written within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child, which has not been waited for.
    let sent = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(sent, 0, "SIGINT could not be sent");
    let started = Instant::now();
    let (code, stdout, stderr) = finish(child);
    let shown = format!("exit {code:?}\nstdout: {stdout}\nstderr: {stderr}");
    assert_eq!(code, Some(130), "{shown}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the scan took {:?} to stop after SIGINT",
        started.elapsed()
    );

    let vs = verdicts(&out);
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["totals"]["to_probe"], 14);
    assert_eq!(
        report["totals"]["probed"],
        vs.len() as u64,
        "{}",
        report["totals"]
    );
    assert!(vs.len() >= 2 && vs.len() < 14, "{} verdicts", vs.len());
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(
        md.starts_with("# MCP endpoint audit")
            && md.contains(&format!("**Interrupted (Ctrl-C):** {} of 14", vs.len())),
        "{md}"
    );
    assert!(md.contains("## Per failure mode"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_429_makes_the_host_wait_and_the_probe_try_again() {
    let reg = FakeRegistry::start(vec![]).expect("the fake registry starts");
    let dir = temp_dir("429");
    let list = dir.join("urls.txt");
    std::fs::write(&list, format!("{}\n", reg.rate_limited_url())).expect("writing the URL file");
    let out = dir.join("report");
    let args: Vec<String> = [
        "--file",
        &list.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--timeout",
        "4",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, stdout, stderr) = scan(&args);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let hits = reg.rate_limited_hits();
    assert_eq!(hits.first().map(|h| h.0), Some(429), "{hits:?}");
    let last = hits.last().map(|h| h.1).unwrap_or_default();
    assert!(
        last >= Duration::from_millis(900) && last < Duration::from_secs(10),
        "the retry must wait out Retry-After: 1 (hits {hits:?})"
    );
    let report = read_json(&out.join("report.json"));
    let row = endpoint(&report, &reg.rate_limited_url());
    assert_eq!(row["retries"], 1, "{row}");
    let vs = verdicts(&out);
    assert_eq!(vs.len(), 1);
    assert!(
        vs[0]["reason"].as_str().is_some_and(|r| r.contains("503")),
        "the verdict is the retry's: {}",
        vs[0]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = temp_dir("usage");
    let out = dir.join("out").display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["--out", &out], "give something to scan"),
        (&["--file", "/nonexistent/urls.txt"], "give --out DIR"),
        (
            &["--out", &out, "--file", "/nonexistent/urls.txt"],
            "cannot read --file",
        ),
        (
            &["--out", &out, "--registry", "ftp://registry.example"],
            "is not a registry URL",
        ),
        (
            &[
                "--out",
                &out,
                "--registry",
                "http://127.0.0.1:9",
                "--concurrency",
                "0",
            ],
            "--concurrency must be between 1 and 10000",
        ),
    ];
    for (args, want) in cases {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (code, stdout, stderr) = scan(&args);
        assert_eq!(code, Some(2), "{args:?}: {stdout}\n{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("mcprobe: ") && stderr.contains(want),
            "{args:?}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
