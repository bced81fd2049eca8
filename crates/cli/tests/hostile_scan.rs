//! Start here: `mcprobe scan` against registries that attack the scanner.
//!
//! - `a_registry_listing_private_addresses_gets_none_probed`: a registry lists
//!   loopback (as a literal, as `localhost`, as a public-looking name pinned to
//!   127.0.0.1, as IPv4-mapped and -compatible IPv6), private and metadata
//!   URLs; the target server records every request and must see none; the
//!   report says why each was refused. With `--allow-private` the loopback
//!   ones are probed (so the recorder is shown to work) and metadata is not.
//! - `a_registry_error_body_cannot_drive_the_terminal`: a registry answering
//!   500 with escape sequences, C1 controls and bidi overrides; stderr shows
//!   them escaped.
//! - `a_hostile_registry_page_stays_small`: one entry whose long name every
//!   remote would copy, and a page of empty objects; peak RSS of the scan is
//!   measured (`/usr/bin/time`) and must stay under 100 MiB.
//!
//! Every run is a child process under a watchdog.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mcprobe_testkit::registry::{amplifying_page, FakeRegistry, Listing};
use serde_json::Value;
use support::read_json;

const KILL_AFTER: Duration = Duration::from_secs(60);
const GNU_TIME: &str = "/usr/bin/time";

fn temp_dir(tag: &str) -> PathBuf {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mcprobe-hostile-scan-{}-{tag}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}

/// Runs a command under the watchdog; (exit code, stdout, stderr).
fn finish(child: Child) -> (Option<i32>, String, String) {
    support::finish(child, Instant::now(), KILL_AFTER).outputs()
}

fn scan_cmd(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcprobe"));
    c.arg("scan")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        c.env_remove(var).env_remove(var.to_ascii_lowercase());
    }
    c
}

fn scan(args: &[String]) -> (Option<i32>, String, String) {
    finish(scan_cmd(args).spawn().expect("spawning mcprobe scan"))
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_registry_listing_private_addresses_gets_none_probed() {
    let target = FakeRegistry::start(vec![]).expect("the recording target starts");
    let port = target
        .authority()
        .rsplit(':')
        .next()
        .expect("a port")
        .to_string();
    let pinned_host = "mcp.pinned-public.example";
    let listed = [
        target.target_url("loopback-literal"),
        format!("http://localhost:{port}/target/localhost-name"),
        format!("http://{pinned_host}:{port}/target/pinned-name"),
        format!("http://[::ffff:127.0.0.1]:{port}/target/mapped"),
        format!("http://[::7f00:1]:{port}/target/compatible"),
        format!("http://localhost.localdomain:{port}/target/alias"),
        "http://10.0.0.1/mcp".to_string(),
        "http://192.168.1.1/mcp".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://instance-data/latest/meta-data/".to_string(),
        "http://[64:ff9b:1::a9fe:a9fe]/latest/".to_string(),
        "http://198.18.0.1/mcp".to_string(),
    ];
    let mut listing = Listing::new();
    for (i, url) in listed.iter().enumerate() {
        listing = listing.remote(&format!("io.hostile/s{i}"), url);
    }
    let reg = FakeRegistry::start(vec![("main", listing)]).expect("the registry starts");
    let dir = temp_dir("policy");
    let out = dir.join("report");
    let resolve = format!("{pinned_host}:{port}:127.0.0.1");
    let base = strings(&[
        "--registry",
        &reg.url("main"),
        "--resolve",
        &resolve,
        "--timeout",
        "3",
        "--out",
        &out.display().to_string(),
    ]);

    let (code, stdout, stderr) = scan(&base);
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(
        target.target_hits(),
        Vec::<String>::new(),
        "a listed private address was connected to"
    );
    let report = read_json(&out.join("report.json"));
    let rows = report["endpoints"].as_array().expect("endpoints");
    assert_eq!(rows.len(), listed.len(), "{rows:#?}");
    for row in rows {
        let why = row["refused"].as_str().unwrap_or_else(|| panic!("{row:#}"));
        assert!(why.starts_with("refused by the address policy"), "{why}");
        assert!(
            row["mode"].is_null(),
            "no verdict for a refused row: {row:#}"
        );
    }
    let pinned = rows
        .iter()
        .find(|r| r["url"].as_str().is_some_and(|u| u.contains(pinned_host)))
        .expect("the pinned row");
    assert!(
        pinned["refused"]
            .as_str()
            .is_some_and(|w| w.contains("resolves to 127.0.0.1")),
        "{pinned:#}"
    );
    let metadata = rows
        .iter()
        .find(|r| {
            r["url"]
                .as_str()
                .is_some_and(|u| u.contains("169.254.169.254"))
        })
        .expect("the metadata row");
    assert!(
        metadata["refused"]
            .as_str()
            .is_some_and(|w| w.contains("metadata")),
        "{metadata:#}"
    );
    let totals = &report["totals"];
    assert_eq!(totals["refused"], listed.len(), "{totals:#}");
    assert_eq!(totals["probed"], 0, "{totals:#}");
    assert_eq!(totals["to_probe"], 0, "{totals:#}");
    // Not a failure of anyone's server: no verdict, nothing in the audit.
    assert_eq!(report["audit"]["status"]["down"], 0, "{report:#}");
    let verdicts = std::fs::read_to_string(out.join("verdicts.jsonl")).expect("verdicts");
    assert!(verdicts.is_empty(), "{verdicts}");
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(
        md.contains("## Refused by the address policy (not probed)"),
        "{md}"
    );
    assert!(stdout.contains("refused by the address policy"), "{stdout}");

    // On purpose: loopback is probed (the recorder sees it), metadata never.
    let out2 = dir.join("report-allowed");
    let mut allowed = base.clone();
    allowed.push("--allow-private".into());
    let n = allowed.len();
    allowed[n - 2] = out2.display().to_string();
    let (code, stdout, stderr) = scan(&allowed);
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    let hits = target.target_hits();
    for path in ["/target/loopback-literal", "/target/pinned-name"] {
        assert!(
            hits.iter().any(|h| h == path),
            "{path} not probed: {hits:?}"
        );
    }
    let report = read_json(&out2.join("report.json"));
    let rows = report["endpoints"].as_array().expect("endpoints");
    for needle in [
        "169.254.169.254",
        "instance-data",
        "64:ff9b:1::",
        "198.18.0.1",
    ] {
        let row = rows
            .iter()
            .find(|r| r["url"].as_str().is_some_and(|u| u.contains(needle)))
            .unwrap_or_else(|| panic!("no row for {needle}"));
        assert!(row["refused"].is_string(), "{needle} probed: {row:#}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_registry_error_body_cannot_drive_the_terminal() {
    let body = "\u{1b}[2J\u{1b}[H\u{1b}]0;pwned\u{7}\u{9b}31m ok \u{202e}gnp.exe";
    let reg = FakeRegistry::start_raw(vec![("evil", 500, body.as_bytes().to_vec())])
        .expect("the registry starts");
    let dir = temp_dir("ansi");
    let (code, stdout, stderr) = scan(&strings(&[
        "--registry",
        &reg.url("evil"),
        "--out",
        &dir.join("report").display().to_string(),
    ]));
    // Every registry failed: nothing to scan, exit 2 with the reason.
    assert_eq!(code, Some(2), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("HTTP 500"), "{stderr}");
    for bad in ['\u{1b}', '\u{9b}', '\u{7}', '\u{202e}'] {
        assert!(
            !stderr.contains(bad) && !stdout.contains(bad),
            "{bad:?} reached the terminal: {stderr:?}"
        );
    }
    assert!(stderr.contains("\\u{1b}[2J"), "{stderr:?}");
    assert!(stderr.contains("\\u{202e}"), "{stderr:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Peak RSS in KiB of `mcprobe scan` of one registry page.
fn scan_peak_rss_kib(page: Vec<u8>, tag: &str) -> (u64, Value) {
    let reg = FakeRegistry::start_raw(vec![("hostile", 200, page)]).expect("the registry starts");
    let dir = temp_dir(tag);
    let out = dir.join("report");
    let rss_file = dir.join("rss");
    let mut cmd = Command::new(GNU_TIME);
    cmd.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_mcprobe"))
        .args([
            "scan",
            "--registry",
            &reg.url("hostile"),
            "--timeout",
            "2",
            "--out",
        ])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (code, stdout, stderr) = finish(cmd.spawn().expect("spawning /usr/bin/time"));
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    let kib = std::fs::read_to_string(&rss_file)
        .expect("time's output")
        .trim()
        .parse::<u64>()
        .expect("a KiB figure");
    let report = read_json(&out.join("report.json"));
    let _ = std::fs::remove_dir_all(&dir);
    (kib, report)
}

#[test]
fn a_hostile_registry_page_stays_small() {
    if !Path::new(GNU_TIME).exists() {
        panic!("{GNU_TIME} (GNU time) is needed to measure peak RSS");
    }
    // 1 MB: one entry with a 64 KiB name and ~20,000 remotes (each used to
    // copy the name: about 1.3 GB).
    let (kib, report) = scan_peak_rss_kib(amplifying_page(1_000_000, 64 * 1024), "amplify");
    eprintln!("peak RSS, 1 MB amplifying page: {} MiB", kib / 1024);
    assert!(kib < 100 * 1024, "{kib} KiB");
    let problems = report["sources"][0]["problems"].to_string();
    assert!(problems.contains("over 200 characters"), "{problems}");
    // Just under the page cap, of empty objects: the value budget holds it.
    let mut page = br#"{"servers":["#.to_vec();
    while page.len() < 8 * 1024 * 1024 - 64 {
        page.extend_from_slice(b"{},");
    }
    page.extend_from_slice(br#"{}]}"#);
    let (kib, report) = scan_peak_rss_kib(page, "empties");
    eprintln!("peak RSS, 8 MiB page of empty objects: {} MiB", kib / 1024);
    assert!(kib < 100 * 1024, "{kib} KiB");
    let problems = report["sources"][0]["problems"].to_string();
    assert!(problems.contains("JSON values"), "{problems}");
}
