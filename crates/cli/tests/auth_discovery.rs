//! Start here: `mcprobe check` against the refusals that are easy to misread
//! (crates/testkit/src/auth_faults.rs): OAuth discovery that goes wrong past
//! the challenge, Host refusals worded by four SDKs, a firewall's 403, API-key
//! servers. Each test reads the verdict and the fleet's request log (which
//! records every header), so what the probe sent is checked as well as what
//! it concluded.

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mcprobe_testkit::{Fleet, LoggedRequest};
use serde_json::Value;

const TIMEOUT_S: &str = "5";

/// Secrets passed with `-H`: none may reach a metadata document.
const API_KEY: &str = "sk-live-4f1c9a0e-never-leaves";
const TOKEN: &str = "tok-7d2b-never-leaves-either";

fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| {
        Fleet::start_only(&[
            "auth-oauth",
            "auth-metadata-elsewhere",
            "auth-many-metadata",
            "auth-resource-mismatch",
            "auth-resource-origin",
            "auth-server-down",
            "auth-server-no-metadata",
            "auth-server-openid-inserted",
            "host-refused-ts",
            "host-refused-rmcp",
            "host-refused-playwright",
            "host-refused-python",
            "forbidden-firewall",
            "auth-api-key",
            "auth-api-key-bare",
        ])
        .expect("the fleet starts")
    })
}

struct Run {
    v: Value,
    exit: i32,
    elapsed: Duration,
}

impl Run {
    fn str(&self, field: &str) -> String {
        self.v[field].as_str().unwrap_or_default().to_string()
    }

    fn has_rule(&self, rule: &str) -> Option<&Value> {
        self.v["findings"]
            .as_array()?
            .iter()
            .find(|f| f["rule"] == rule)
    }
}

fn check(name: &str, extra: &[&str]) -> Run {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mcprobe"))
        .args([
            "check",
            &fleet().url(name),
            "--json",
            "--timeout",
            TIMEOUT_S,
        ])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("running mcprobe");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: no JSON verdict ({e}); stdout {:?}; stderr {:?}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        v,
        exit: out.status.code().unwrap_or(-1),
        elapsed: started.elapsed(),
    }
}

fn gets(name: &str) -> Vec<LoggedRequest> {
    fleet()
        .requests(name)
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect()
}

// ---- credentials stay with the endpoint ------------------------------------------

#[test]
fn metadata_fetches_carry_no_caller_header() {
    let name = "auth-metadata-elsewhere";
    let key = format!("X-Api-Key: {API_KEY}");
    let bearer = format!("Authorization: Bearer {TOKEN}");
    let custom = format!("X-Tenant-Secret: {API_KEY}");
    let run = check(name, &["-H", &key, "-H", &bearer, "-H", &custom]);
    assert_eq!(run.str("mode"), "auth_required", "{:#}", run.v);
    let requests = fleet().requests(name);
    // The endpoint itself gets what the caller passed...
    let post = requests
        .iter()
        .find(|r| r.method == "POST" && r.path == "/mcp")
        .expect("the probe spoke to /mcp");
    assert_eq!(post.header("x-api-key"), Some(API_KEY));
    // ...and the documents on the other origin get none of it.
    let docs = gets(name);
    let paths: Vec<&str> = docs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-authorization-server"
        ]
    );
    for r in &docs {
        assert!(
            r.header("host")
                .is_some_and(|h| h.starts_with("localhost:")),
            "{r:?}"
        );
        for (k, v) in &r.headers {
            assert!(
                !v.contains(API_KEY) && !v.contains(TOKEN),
                "{} carried {k}: {v}",
                r.path
            );
        }
        assert_eq!(r.header("authorization"), None);
        assert_eq!(r.header("x-tenant-secret"), None);
    }
}

// ---- amplification -----------------------------------------------------------------

#[test]
fn a_challenge_naming_thousands_of_documents_costs_a_handful_of_requests() {
    let name = "auth-many-metadata";
    let run = check(name, &[]);
    assert_eq!(run.str("mode"), "http_error", "{:#}", run.v);
    let requests = fleet().requests(name);
    let metadata = requests
        .iter()
        .filter(|r| r.path.starts_with("/prm/"))
        .count();
    // server/discover, then at most 3 candidates (MAX_METADATA_CANDIDATES).
    assert_eq!(metadata, 3, "{} requests in all", requests.len());
    assert_eq!(requests.len(), 4);
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    assert!(
        run.str("reason").contains("/prm/0"),
        "{}",
        run.str("reason")
    );
}

// ---- RFC 9728 §3.3: the metadata must name the URL used ------------------------

#[test]
fn metadata_for_another_resource_is_not_auth_required() {
    let run = check("auth-resource-mismatch", &[]);
    assert_eq!(
        (
            run.str("mode").as_str(),
            run.str("status").as_str(),
            run.exit
        ),
        ("http_error", "down", 1),
        "{:#}",
        run.v
    );
    let reason = run.str("reason");
    assert!(reason.contains("/api"), "{reason}");
    assert!(reason.contains("RFC 9728"), "{reason}");
    assert!(!reason.contains("Bearer"), "{reason}");
    let finding = run.has_rule("rfc9728.resource-match").expect("a finding");
    assert_eq!(finding["pointer"], "/resource");
    assert_eq!(finding["mode"], "http_error");
    assert!(
        run.str("hint").contains("`resource`"),
        "{}",
        run.str("hint")
    );
}

#[test]
fn metadata_naming_only_the_origin_stays_auth_required() {
    let run = check("auth-resource-origin", &[]);
    assert_eq!(
        (
            run.str("mode").as_str(),
            run.str("status").as_str(),
            run.exit
        ),
        ("auth_required", "up", 0),
        "{:#}",
        run.v
    );
    assert!(run.has_rule("rfc9728.resource-match").is_none());
    // The fleet's own OAuth scenario too (resource = the listed URL).
    let run = check("auth-oauth", &[]);
    assert_eq!(run.str("mode"), "auth_required", "{:#}", run.v);
}

// ---- the authorization server must answer its metadata --------------------------

#[test]
fn an_authorization_server_that_does_not_resolve_is_not_up() {
    let run = check("auth-server-down", &[]);
    assert_eq!(
        (run.str("mode").as_str(), run.str("status").as_str()),
        ("http_error", "down"),
        "{:#}",
        run.v
    );
    let reason = run.str("reason");
    assert!(reason.contains("mcprobe-auth-server.invalid"), "{reason}");
    assert!(reason.contains("no client can get a token"), "{reason}");
    let f = run.has_rule("rfc8414.metadata").expect("a finding");
    assert!(
        f["detail"]
            .as_str()
            .unwrap_or("")
            .contains("/.well-known/oauth-authorization-server"),
        "{f}"
    );
    assert!(run.str("hint").contains("authorization server"));
}

#[test]
fn an_authorization_server_without_metadata_is_not_up() {
    let name = "auth-server-no-metadata";
    let run = check(name, &[]);
    assert_eq!(run.str("mode"), "http_error", "{:#}", run.v);
    assert!(
        run.str("reason").contains("HTTP 404"),
        "{}",
        run.str("reason")
    );
    // The three names of an issuer with a path, each asked once.
    let asked: Vec<String> = gets(name)
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p != "/.well-known/oauth-protected-resource/mcp")
        .collect();
    assert_eq!(
        asked,
        [
            "/.well-known/oauth-authorization-server/tenant",
            "/.well-known/openid-configuration/tenant",
            "/tenant/.well-known/openid-configuration",
        ]
    );
}

#[test]
fn openid_configuration_with_the_path_inserted_is_found() {
    let run = check("auth-server-openid-inserted", &[]);
    assert_eq!(run.str("mode"), "auth_required", "{:#}", run.v);
}

// ---- Host refusals: one fault, one mode ------------------------------------------

#[test]
fn host_refusals_are_http_error_whatever_the_sdk() {
    for (name, quoted) in [
        ("host-refused-ts", "Invalid Host: 127.0.0.1"),
        ("host-refused-rmcp", "Host header is not allowed"),
        (
            "host-refused-playwright",
            "Access is only allowed at localhost",
        ),
        ("host-refused-python", "Invalid Host header"),
    ] {
        let run = check(name, &[]);
        assert_eq!(
            (run.str("mode").as_str(), run.str("severity").as_str()),
            ("http_error", "P1"),
            "{name}: {:#}",
            run.v
        );
        let reason = run.str("reason");
        assert!(reason.contains(quoted), "{name}: {reason}");
        assert!(reason.contains("DNS-rebinding"), "{name}: {reason}");
        assert!(!reason.contains("Bearer"), "{name}: {reason}");
        assert!(!reason.contains("wants credentials"), "{name}: {reason}");
        let hint = run.str("hint");
        assert!(hint.contains("allowed hosts"), "{name}: {hint}");
    }
}

#[test]
fn a_bare_403_quotes_what_the_server_said() {
    let run = check("forbidden-firewall", &[]);
    assert_eq!(run.str("mode"), "http_error", "{:#}", run.v);
    let reason = run.str("reason");
    assert!(
        reason.contains("Request blocked by firewall rule 1042"),
        "{reason}"
    );
    assert!(!reason.contains("Bearer"), "{reason}");
    assert!(!reason.contains("wants credentials"), "{reason}");
    assert!(run.str("hint").contains("403"), "{}", run.str("hint"));
}

// ---- API keys ------------------------------------------------------------------------

#[test]
fn api_key_servers_get_api_key_advice() {
    let run = check("auth-api-key", &[]);
    assert_eq!(run.str("mode"), "http_error", "{:#}", run.v);
    let reason = run.str("reason");
    assert!(reason.contains("Invalid or missing API key"), "{reason}");
    assert!(reason.contains("API key"), "{reason}");
    assert!(run.str("hint").contains("API key"), "{}", run.str("hint"));

    let run = check("auth-api-key-bare", &[]);
    assert_eq!(run.str("mode"), "http_error", "{:#}", run.v);
    let reason = run.str("reason");
    assert!(reason.contains("Missing X-API-Key header"), "{reason}");
    assert!(!reason.contains("Bearer"), "{reason}");
    let hint = run.str("hint");
    assert!(hint.contains("X-API-Key"), "{hint}");
    assert!(!hint.contains("Bearer"), "{hint}");
}
