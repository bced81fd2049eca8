//! Start here: fixture-driven tests of `classify::detect_platform`. Each file
//! in `tests/fixtures/platforms/` is one recorded-style answer (status,
//! headers, body) and what the classifier must say about it: a platform and
//! the exact signature, or `null` for answers that must NOT be called a
//! platform page (the false positives that would wrongly mark a healthy or
//! merely misrouted server as asleep). Add a case by adding a file.

use std::fs;
use std::path::{Path, PathBuf};

use mcprobe_core::classify::{detect_platform, PLATFORMS};
use serde_json::Value;

struct Case {
    file: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    expect: Option<(String, String)>,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/platforms")
}

fn load_cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = fs::read_dir(fixtures_dir())
        .expect("fixtures directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| parse_case(p)).collect()
}

fn parse_case(path: &Path) -> Case {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let status = v["status"]
        .as_u64()
        .unwrap_or_else(|| panic!("{file}: status")) as u16;
    let headers = v["headers"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: headers"))
        .iter()
        .map(|pair| {
            let k = pair[0]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: header name"));
            let val = pair[1]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: header value"));
            (k.to_string(), val.to_string())
        })
        .collect();
    let body = v["body"]
        .as_str()
        .unwrap_or_else(|| panic!("{file}: body"))
        .to_string();
    let expect = match &v["expect"] {
        Value::Null => None,
        e => Some((
            e["platform"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: platform"))
                .to_string(),
            e["signature"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: signature"))
                .to_string(),
        )),
    };
    Case {
        file,
        status,
        headers,
        body,
        expect,
    }
}

#[test]
fn every_fixture_classifies_as_expected() {
    let cases = load_cases();
    assert!(cases.len() >= 30, "only {} fixtures found", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let got = detect_platform(case.status, &case.headers, case.body.as_bytes())
            .map(|m| (m.platform.to_string(), m.signature));
        if got != case.expect {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.file, case.expect, got
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_platform_has_a_positive_fixture_with_headers_and_body() {
    let cases = load_cases();
    for platform in PLATFORMS {
        let found = cases.iter().any(|c| {
            c.expect.as_ref().is_some_and(|(p, _)| p == platform) && !c.headers.is_empty()
        });
        assert!(found, "no positive fixture (with headers) for {platform}");
    }
    // And every expected platform is one the classifier can name.
    for case in &cases {
        if let Some((p, _)) = &case.expect {
            assert!(
                PLATFORMS.contains(&p.as_str()),
                "{}: unknown platform {p}",
                case.file
            );
        }
    }
}

#[test]
fn negative_fixtures_cover_the_known_false_positives() {
    let cases = load_cases();
    let negatives: Vec<&str> = cases
        .iter()
        .filter(|c| c.expect.is_none())
        .map(|c| c.file.as_str())
        .collect();
    for must in [
        "neg-vercel-healthy-jsonrpc.json",
        "neg-netlify-healthy-site.json",
        "neg-fly-app-404.json",
        "neg-railway-fallback-on-jsonrpc.json",
        "neg-google-frontend-503.json",
    ] {
        assert!(negatives.contains(&must), "missing negative fixture {must}");
    }
}

#[test]
fn headers_match_case_insensitively() {
    // The same Render answer with the header name and value in other cases.
    let headers = vec![("X-RENDER-ROUTING".to_string(), "No-Server".to_string())];
    let m = detect_platform(404, &headers, b"Not Found").expect("render");
    assert_eq!(m.platform, "Render");
    assert_eq!(m.signature, "header x-render-routing: No-Server");
}
