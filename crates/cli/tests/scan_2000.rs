//! Start here: `mcprobe scan` at audit scale: a fake
//! MCP Registry (`mcprobe_testkit::registry`, the official API's shape, 50
//! entries a page) lists over 2,000 distinct endpoints that all point at the
//! fault fleet, plus duplicates, templated URLs and a deleted entry; one scan
//! must fetch every page, merge every duplicate and count every mode exactly
//! as the fleet's scenarios are known to end.
//!
//! Scale comes from [`FLEETS`] copies of the fleet (each scenario on a port of
//! its own, so 80 ports), on three paths (`/mcp`, `/sse`, `/old-mcp`), each
//! endpoint listed [`COPIES`] times with a distinct `?copy=K` query. Only fast
//! scenarios are used: a timeout scenario costs its whole deadline, two at a
//! time per host, and would dominate the run. Drift between two scans is
//! tested in scan.rs and not repeated here.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use mcprobe_testkit::registry::{duplicate_spelling, FakeRegistry, Listing};
use mcprobe_testkit::Fleet;
use serde_json::Value;
use support::{mode_counts, read_json};

/// A scan that outlives this is killed and fails the test.
const KILL_AFTER: Duration = Duration::from_secs(240);
/// Independent fleets started: every scenario once per fleet, on its own port.
const FLEETS: usize = 4;
/// Each listed remote `COPIES` times in all (`Listing::copies`).
const COPIES: usize = 25;
/// Entries a page the fake registry serves (the scan asks for 100).
const PAGE_SIZE: usize = 50;

/// Fast scenarios and the mode each must end in (crates/cli/tests/fleet.rs
/// holds the full table).
#[rustfmt::skip]
const FAST: &[(&str, &str)] = &[
    ("ok-modern", "ok"),
    ("ok-legacy-json", "ok"),
    ("ok-dual-era", "ok"),
    ("ok-http-sse", "ok"),
    ("refused", "connect_refused"),
    ("asleep-render", "platform_asleep"),
    ("asleep-heroku", "platform_asleep"),
    ("asleep-vercel", "platform_asleep"),
    ("moved-to-mcp", "route_moved"),
    ("moved-to-v1", "route_moved"),
    ("http-503", "http_error"),
    ("http-500-html", "http_error"),
    ("auth-oauth", "auth_required"),
    ("handshake-html", "handshake_failed"),
    ("tools-list-error", "tools_list_failed"),
    ("half-auth-401", "auth_half_configured"),
    ("call-error", "tool_call_error"),
    ("malformed-no-jsonrpc", "malformed_jsonrpc"),
    ("malformed-wrong-id", "malformed_jsonrpc"),
    ("malformed-schema-string", "malformed_jsonrpc"),
];

/// The fleet's unresolvable URL (the same in every fleet), listed once as is
/// and once with its host upper-cased, the default port spelled out and a
/// trailing slash: the one default-port variant that still points at the
/// fleet's known verdict (every fleet server is on a random port).
const DNS: (&str, &str) = ("dns-invalid", "dns_unresolved");
const DNS_DEFAULT_PORT: &str = "HTTP://MCPROBE-Fleet.INVALID:80/mcp/";

const TEMPLATES: &[&str] = &[
    "https://{tenant}.mcp.example.invalid/mcp",
    "https://mcp.example.invalid/{workspace}/mcp",
    "http://127.0.0.1:9/{region}/mcp",
];

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcprobe-scan-2000-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}

/// Runs `mcprobe scan` under a watchdog; (exit code, stdout, stderr, wall time).
fn scan(args: &[String]) -> (Option<i32>, String, String, Duration) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcprobe"));
    cmd.arg("scan")
        // The fleet and the fake registry are on 127.0.0.1: scanned on purpose.
        .arg("--allow-private")
        .args(args);
    let done = support::run(&mut cmd, KILL_AFTER);
    let (code, stdout, stderr) = done.outputs();
    (code, stdout, stderr, done.elapsed)
}

/// The URL without its `?copy=K` query: which scenario of which fleet it is.
fn original(url: &str) -> &str {
    url.split_once("?copy=").map_or(url, |(u, _)| u)
}

#[test]
fn two_thousand_endpoints_crawled_merged_and_counted() {
    let names: Vec<&str> = FAST.iter().map(|(n, _)| *n).chain([DNS.0]).collect();
    let fleets: Vec<Fleet> = (0..FLEETS)
        .map(|_| Fleet::start_only(&names).expect("a fleet starts"))
        .collect();

    // Every fast scenario of every fleet, then COPIES - 1 more of each.
    let mut listing = Listing::new();
    // Normalised URL of every original -> the mode it must end in.
    let mut expected: BTreeMap<String, &str> = BTreeMap::new();
    for (f, fleet) in fleets.iter().enumerate() {
        for (name, mode) in FAST {
            let url = fleet.url(name);
            listing = listing.remote(&format!("io.github.mcprobe/f{f}-{name}"), &url);
            assert!(expected.insert(url, mode).is_none(), "ports are distinct");
        }
    }
    let mut listing = listing.copies(COPIES);
    let distinct_fleet = FLEETS * FAST.len() * COPIES;
    assert!(distinct_fleet >= 2_000);

    // Duplicates, added after copying so that they are not copied: every
    // original once more in upper-case scheme with a trailing slash, and
    // every tenth copy again with a fragment.
    let mut duplicates = 0;
    for (f, fleet) in fleets.iter().enumerate() {
        for (name, _) in FAST {
            let url = fleet.url(name);
            listing = listing.remote(
                &format!("io.github.mcprobe/f{f}-{name}-again"),
                &duplicate_spelling(&url),
            );
            listing = listing.remote(
                &format!("io.github.mcprobe/f{f}-{name}-fragment"),
                &format!("{url}?copy=10#readme"),
            );
            duplicates += 2;
        }
    }
    let dns_url = fleets[0].url(DNS.0);
    listing = listing
        .remote("io.github.mcprobe/dns", &dns_url)
        .remote("io.github.mcprobe/dns-default-port", DNS_DEFAULT_PORT);
    duplicates += 1;
    for (i, t) in TEMPLATES.iter().enumerate() {
        listing = listing.templated(&format!("io.github.mcprobe/templated-{i}"), t, &["v"]);
    }
    listing = listing.deleted(
        "io.github.mcprobe/deleted",
        &format!("{}?deleted=1", fleets[0].url("ok-modern")),
    );
    let entries = listing.len();
    let reg = FakeRegistry::start_with_page_size(vec![("main", listing)], PAGE_SIZE)
        .expect("the fake registry starts");

    let dir = temp_dir();
    let out = dir.join("report");
    let args: Vec<String> = [
        "--registry",
        &reg.url("main"),
        "--out",
        &out.display().to_string(),
        "--timeout",
        "10",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, stdout, stderr, wall) = scan(&args);
    let shown = format!("exit {code:?} after {wall:?}\nstdout: {stdout}\nstderr: {stderr}");
    assert_eq!(code, Some(0), "{shown}");
    let probed = distinct_fleet + 1;
    assert!(
        stdout.contains(&format!("{probed} endpoints probed")),
        "{shown}"
    );

    // The crawl: every page, in order, each cursor once, and no more.
    let pages = reg.page_queries("main");
    assert_eq!(pages.len(), entries.div_ceil(PAGE_SIZE), "{shown}");
    for (i, q) in pages.iter().enumerate() {
        assert!(q.contains("version=latest"), "page {i}: {q}");
        let cursor = format!("cursor=after-{}", i * PAGE_SIZE);
        assert_eq!(i > 0, q.contains(&cursor), "page {i}: {q}");
    }

    // De-duplication: one verdict per distinct endpoint, none twice.
    let text = std::fs::read_to_string(out.join("verdicts.jsonl")).expect("verdicts.jsonl");
    let verdicts: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let urls: BTreeSet<&str> = verdicts.iter().filter_map(|v| v["url"].as_str()).collect();
    assert_eq!(verdicts.len(), probed, "{shown}");
    assert_eq!(urls.len(), probed, "a URL was probed twice");

    // Every verdict in the mode its scenario is known to give.
    let mut bad = Vec::new();
    for v in &verdicts {
        let url = v["url"].as_str().unwrap_or("");
        let want = if url == dns_url {
            Some(DNS.1)
        } else {
            expected.get(original(url)).copied()
        };
        match want {
            Some(mode) if v["mode"] == mode => {}
            Some(mode) => bad.push(format!(
                "{url}: {} (expected {mode}): {}",
                v["mode"], v["reason"]
            )),
            None => bad.push(format!("{url}: not an endpoint the registry listed")),
        }
    }
    let head: Vec<&String> = bad.iter().take(20).collect();
    assert!(bad.is_empty(), "{} wrong verdicts:\n{head:#?}", bad.len());

    // report.json: the totals and the per-mode counts, from the table.
    let report = read_json(&out.join("report.json"));
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for (_, mode) in FAST {
        *want.entry(mode.to_string()).or_default() += (FLEETS * COPIES) as u64;
    }
    *want.entry(DNS.1.to_string()).or_default() += 1;
    assert_eq!(mode_counts(&report), want);
    let t = &report["totals"];
    assert_eq!(t["probed"], probed as u64, "{t}");
    assert_eq!(t["to_probe"], probed as u64, "{t}");
    assert_eq!(t["templated"], TEMPLATES.len() as u64, "{t}");
    assert_eq!(t["endpoints"], (probed + TEMPLATES.len()) as u64, "{t}");
    assert_eq!(t["duplicates_merged"], duplicates as u64, "{t}");
    assert_eq!(t["deleted_skipped"], 1, "{t}");
    assert_eq!(t["invalid"], 0, "{t}");
    assert_eq!(report["interrupted"], false);
    let source = &report["sources"][0];
    assert_eq!(source["pages"], pages.len() as u64, "{source}");
    assert_eq!(source["servers"], entries as u64, "{source}");

    // One merged endpoint keeps every spelling it was listed under.
    let endpoints = report["endpoints"].as_array().expect("endpoints");
    let find = |url: &str| {
        endpoints
            .iter()
            .find(|e| e["url"] == url)
            .unwrap_or_else(|| panic!("no endpoint {url} in report.json"))
    };
    let dns = find(&dns_url);
    assert_eq!(
        dns["listed_as"],
        serde_json::json!([dns_url, DNS_DEFAULT_PORT])
    );
    let ok = fleets[1].url("ok-modern");
    assert_eq!(
        find(&ok)["listed_as"],
        serde_json::json!([ok, duplicate_spelling(&ok)])
    );
    for t in TEMPLATES {
        assert_eq!(find(t)["templated"], true);
        assert!(!urls.contains(t), "a template was probed");
    }
    assert!(!urls.iter().any(|u| u.contains("deleted=1")));

    // The budget for this test is a minute in a debug build on 2 cores (it
    // takes a few seconds); a scan slower than that is a regression.
    eprintln!("scan of {probed} endpoints: {wall:?}");
    assert!(wall < Duration::from_secs(60), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}
