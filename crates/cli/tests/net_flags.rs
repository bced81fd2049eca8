//! `--resolve` and `--cacert` against the fleet's servers: the pinned name is
//! used for the connection (and for TLS names), and trust comes only from the
//! CA file given.

use std::process::Command;
use std::sync::OnceLock;

use mcprobe_testkit::Fleet;
use serde_json::Value;

fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| Fleet::start().expect("the fleet starts"))
}

fn check(args: &[&str]) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_mcprobe"))
        .arg("check")
        .args(args)
        .args(["--json", "--timeout", "5"])
        .output()
        .expect("mcprobe runs");
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap_or(-1))
}

fn port_of(url: &str) -> u16 {
    url::Url::parse(url).unwrap().port().unwrap()
}

#[test]
fn resolve_pins_a_name_that_does_not_exist() {
    let port = port_of(&fleet().url("ok-modern"));
    let url = format!("http://mcp.fleet.invalid:{port}/mcp");
    let pin = format!("mcp.fleet.invalid:{port}:127.0.0.1");
    let (v, code) = check(&[&url, "--resolve", &pin]);
    assert_eq!((v["mode"].as_str(), code), (Some("ok"), 0), "{v:#}");
    let dns = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "dns")
        .unwrap();
    assert!(
        dns["detail"].as_str().unwrap().contains("127.0.0.1"),
        "{dns}"
    );
    // Without the pin the same name does not resolve at all.
    let (v, code) = check(&[&url]);
    assert_eq!(
        (v["mode"].as_str(), code),
        (Some("dns_unresolved"), 1),
        "{v:#}"
    );
}

#[test]
fn tls_trust_comes_from_the_ca_file_and_the_name_is_checked() {
    let fleet = fleet();
    let port = port_of(&fleet.url("ok-tls"));
    let ca = fleet.ca_pem_path();
    let ca = ca.to_str().unwrap();
    let url = format!("https://localhost:{port}/mcp");
    let (v, _) = check(&[&url, "--cacert", ca]);
    assert_eq!(v["mode"], "ok", "{v:#}");
    let tls = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "tls")
        .unwrap();
    assert!(
        tls["detail"].as_str().unwrap().contains("valid until"),
        "{tls}"
    );
    // Without the CA the same server is an unknown issuer.
    let (v, _) = check(&[&url]);
    assert_eq!(v["mode"], "tls_error", "{v:#}");
    assert!(
        v["reason"].as_str().unwrap().contains("unknown issuer"),
        "{v:#}"
    );
    // A pinned name the certificate does not cover is a name mismatch.
    let other = format!("https://other.fleet.invalid:{port}/mcp");
    let pin = format!("other.fleet.invalid:{port}:127.0.0.1");
    let (v, _) = check(&[&other, "--cacert", ca, "--resolve", &pin]);
    assert_eq!(v["mode"], "tls_error", "{v:#}");
    assert!(
        v["reason"].as_str().unwrap().contains("name mismatch"),
        "{v:#}"
    );
}
