//! Start here: `POST /api/check` and `GET /api/health`, the public probe.
//!
//! `POST /api/check` `{"url": "...", "headers"?: {"Name": "value"}}` probes
//! the URL now with the core probe (through [`crate::probe_host`]) and answers
//! 200 with the verdict JSON of `failure-modes.md`. The route is public, so
//! before any probe it: rate-limits per client (429), caps the body at 16 KiB
//! (413), accepts http(s) only (400) and refuses private, loopback, link-local
//! and metadata targets (422, see [`crate::target`]; `ALLOW_LOOPBACK = "1"`
//! opens loopback for local dev and tests only). The probe's deadline is
//! 10 s. The headers a caller passes go into that one probe and nowhere else:
//! never logged, stored or echoed (an error names a bad header, never its
//! value).
//!
//! Errors are [`crate::error`]'s; the pure parts (parsing the body, checking
//! headers) are unit-tested on the host.

use mcprobe_core::http::{reserved_header, Headers};
use mcprobe_core::ProbeConfig;
use serde_json::{json, Map, Value};
use worker::{Env, Request, Response};

use crate::clock;
use crate::error::{internal, json_response, ApiError};
use crate::probe_host;
use crate::request::read_capped;
use crate::target::Policy;

/// Largest `/api/check` request body read.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The probe's whole deadline.
pub const CHECK_TIMEOUT_MS: u64 = 10_000;
/// Headers a caller may pass to one check.
pub const MAX_HEADERS: usize = 32;
/// The rate-limit binding of `wrangler.toml` (`[[ratelimits]]`).
pub const CHECK_LIMITER: &str = "CHECK_LIMITER";

/// What `POST /api/check` asked for, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    pub url: url::Url,
    pub headers: Headers,
    /// Answer `{"verdict", "snapshot"}` instead of the bare verdict.
    pub snapshot: bool,
}

/// `GET /api/health`.
pub fn health() -> Result<Response, ApiError> {
    json_response(200, json!({"ok": true}).to_string()).map_err(internal)
}

/// `POST /api/check`: probes the URL now.
pub async fn check(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    rate_limit(&req, env).await?;
    let body = read_capped(&mut req, MAX_BODY_BYTES).await?;
    let policy = Policy::from_env(env);
    let asked = parse_check(&body, policy)?;
    let mut cfg = ProbeConfig::new(asked.url.as_str());
    cfg.headers = asked.headers;
    cfg.timeout_ms = CHECK_TIMEOUT_MS;
    cfg.preflight = false;
    cfg.checked_at = clock::now_rfc3339();
    let (verdict, snapshot) = probe_host::run_with_snapshot(cfg, policy)
        .await
        .map_err(|e| {
            // Only a URL the core rejects gets here (the checks above passed).
            ApiError::new(
                400,
                e,
                "give the server's full http(s) endpoint, e.g. https://example.com/mcp",
            )
        })?;
    // `"snapshot": true` (the web page): the verdict and the tool list it
    // read, so the page shows descriptions and schemas and diffs drift itself.
    let json = if asked.snapshot {
        serde_json::to_string(&serde_json::json!({"verdict": verdict, "snapshot": snapshot}))
    } else {
        serde_json::to_string(&verdict)
    }
    .map_err(|e| {
        ApiError::new(
            500,
            format!("could not encode the verdict: {e}"),
            "report this as a bug",
        )
    })?;
    json_response(200, json).map_err(internal)
}

/// One `limit()` per request, keyed by the client's address. A missing
/// binding fails closed: a public prober without a limit is a misconfiguration.
async fn rate_limit(req: &Request, env: &Env) -> Result<(), ApiError> {
    let limiter = env.rate_limiter(CHECK_LIMITER).map_err(|_| {
        ApiError::new(
            500,
            format!("the rate-limit binding {CHECK_LIMITER} is missing"),
            "add the [[ratelimits]] block of wrangler.toml to this deployment",
        )
    })?;
    let client = req.headers().get("CF-Connecting-IP").ok().flatten();
    let outcome = limiter
        .limit(rate_key(client.as_deref()))
        .await
        .map_err(|e| {
            ApiError::new(
                503,
                format!("the rate limiter failed: {e}"),
                "try again in a minute",
            )
        })?;
    if outcome.success {
        Ok(())
    } else {
        Err(ApiError::new(
            429,
            "too many checks from your address",
            "wait a minute, or run `mcprobe check URL` yourself for unlimited checks",
        ))
    }
}

/// The rate limiter's key for a client address: an IPv4 address as it is,
/// an IPv6 address by its /64 (one customer's usual allocation: keying the
/// whole address would let one host rotate through 2^64 keys), an
/// IPv4-mapped IPv6 address as its IPv4. Anything that is not an address
/// (no header: not behind Cloudflare) shares one key.
pub fn rate_key(client: Option<&str>) -> String {
    use std::net::IpAddr;
    match client.and_then(|c| c.trim().parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
        None => "unknown".to_string(),
    }
}

/// Parses and validates a `/api/check` body: the JSON shape, the URL (scheme
/// and target, by `policy`) and the headers.
pub fn parse_check(body: &[u8], policy: Policy) -> Result<CheckRequest, ApiError> {
    const SHAPE: &str = r#"send {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ..."}, "snapshot": true} (headers and snapshot optional)"#;
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(400, format!("the body is not JSON ({e})"), SHAPE))?;
    let Value::Object(mut obj) = value else {
        return Err(ApiError::new(400, "the body must be a JSON object", SHAPE));
    };
    let url = match obj.remove("url") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(ApiError::new(400, "\"url\" must be a string", SHAPE)),
        None => return Err(ApiError::new(400, "\"url\" is missing", SHAPE)),
    };
    let headers = match obj.remove("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => parse_headers(map)?,
        Some(_) => {
            return Err(ApiError::new(
                400,
                "\"headers\" must be an object of name: value strings",
                SHAPE,
            ))
        }
    };
    let snapshot = match obj.remove("snapshot") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => {
            return Err(ApiError::new(
                400,
                "\"snapshot\" must be true or false",
                SHAPE,
            ))
        }
    };
    // A typo such as "header" would silently probe without credentials.
    if let Some(extra) = obj.keys().next() {
        return Err(ApiError::new(
            400,
            format!("unknown field {extra:?}"),
            SHAPE,
        ));
    }
    let url = url.trim();
    let parsed = url::Url::parse(url).map_err(|e| {
        ApiError::new(
            400,
            format!("\"url\" is not a URL ({e})"),
            "give the server's full endpoint, e.g. https://example.com/mcp",
        )
    })?;
    policy
        .check(&parsed)
        .map_err(|r| ApiError::new(r.status(), r.describe(), r.hint()))?;
    Ok(CheckRequest {
        url: parsed,
        headers,
        snapshot,
    })
}

fn parse_headers(map: Map<String, Value>) -> Result<Headers, ApiError> {
    const HINT: &str = r#"pass headers as {"Name": "value"}, e.g. {"Authorization": "Bearer ..."}"#;
    if map.len() > MAX_HEADERS {
        return Err(ApiError::new(
            400,
            format!("{} headers passed; at most {MAX_HEADERS}", map.len()),
            HINT,
        ));
    }
    let mut headers = Vec::with_capacity(map.len());
    for (name, value) in map {
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name {
            return Err(ApiError::new(
                400,
                format!("{name:?} is not a valid HTTP header name"),
                HINT,
            ));
        }
        if reserved_header(&name) {
            return Err(ApiError::new(
                400,
                format!("the header {name} is set by the probe itself and cannot be passed"),
                "pass only credentials and similar headers (Authorization, X-API-Key, ...)",
            ));
        }
        // Never echo the value: it is usually a credential.
        let Value::String(value) = value else {
            return Err(ApiError::new(
                400,
                format!("the value of header {name} must be a string"),
                HINT,
            ));
        };
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(ApiError::new(
                400,
                format!("the value of header {name} holds a line break or NUL"),
                HINT,
            ));
        }
        headers.push((name, value.trim().to_string()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: Policy = Policy {
        allow_loopback: true,
    };
    const CLOSED: Policy = Policy {
        allow_loopback: false,
    };

    fn err(body: &str, policy: Policy) -> ApiError {
        match parse_check(body.as_bytes(), policy) {
            Ok(ok) => panic!("{body} was accepted as {ok:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_good_body_parses_with_headers_in_order() {
        let got = parse_check(
            br#"{"url": " https://example.com/mcp ", "headers": {"Authorization": "Bearer t", "X-Api-Key": "k"}}"#,
            CLOSED,
        )
        .expect("accepted");
        assert_eq!(got.url.as_str(), "https://example.com/mcp");
        assert_eq!(
            got.headers,
            vec![
                ("Authorization".to_string(), "Bearer t".to_string()),
                ("X-Api-Key".to_string(), "k".to_string())
            ]
        );
        assert!(!got.snapshot);
        let with = parse_check(br#"{"url": "https://e.com/mcp", "snapshot": true}"#, CLOSED)
            .expect("accepted");
        assert!(with.snapshot);
        let Err(bad) = parse_check(
            br#"{"url": "https://e.com/mcp", "snapshot": "yes"}"#,
            CLOSED,
        ) else {
            panic!("a non-boolean snapshot is refused");
        };
        assert_eq!(bad.status, 400);
    }

    #[test]
    fn shape_errors_are_400_with_a_hint() {
        for body in [
            "not json",
            "[1]",
            "{}",
            r#"{"url": 5}"#,
            r#"{"url": "https://example.com/", "header": {}}"#,
            r#"{"url": "https://example.com/", "headers": []}"#,
            r#"{"url": "no scheme here"}"#,
        ] {
            let e = err(body, OPEN);
            assert_eq!(e.status, 400, "{body}: {e:?}");
            assert!(!e.hint.is_empty(), "{body}");
        }
        assert!(err(r#"{"url": "https://e.com/", "header": {}}"#, OPEN)
            .error
            .contains("\"header\""));
    }

    #[test]
    fn schemes_are_400_and_private_targets_422() {
        assert_eq!(err(r#"{"url": "ftp://example.com/"}"#, OPEN).status, 400);
        assert_eq!(err(r#"{"url": "file:///etc/passwd"}"#, OPEN).status, 400);
        for url in [
            "http://10.0.0.1/",
            "http://169.254.169.254/",
            "http://localhost:8080/",
            "http://[::1]/",
            "http://metadata.google.internal/",
        ] {
            let e = err(&format!(r#"{{"url": "{url}"}}"#), CLOSED);
            assert_eq!(e.status, 422, "{url}");
        }
        assert!(parse_check(br#"{"url": "http://127.0.0.1:9/mcp"}"#, OPEN).is_ok());
        assert_eq!(err(r#"{"url": "http://10.0.0.1/"}"#, OPEN).status, 422);
    }

    #[test]
    fn header_errors_never_echo_the_value() {
        let secret = "s3cr3t-token";
        for body in [
            format!(r#"{{"url": "https://e.com/", "headers": {{"Bad Name": "{secret}"}}}}"#),
            format!(r#"{{"url": "https://e.com/", "headers": {{"Host": "{secret}"}}}}"#),
            format!(r#"{{"url": "https://e.com/", "headers": {{"Mcp-Session-Id": "{secret}"}}}}"#),
            format!(r#"{{"url": "https://e.com/", "headers": {{"X-Key": "{secret}\r\nX: y"}}}}"#),
            r#"{"url": "https://e.com/", "headers": {"X-Key": 12}}"#.to_string(),
        ] {
            let e = err(&body, CLOSED);
            assert_eq!(e.status, 400, "{body}");
            assert!(!e.body().contains(secret), "{}", e.body());
        }
    }

    #[test]
    fn too_many_headers_are_refused() {
        let many: Vec<String> = (0..=MAX_HEADERS)
            .map(|i| format!(r#""X-H{i}": "v""#))
            .collect();
        let body = format!(
            r#"{{"url": "https://e.com/", "headers": {{{}}}}}"#,
            many.join(",")
        );
        assert_eq!(err(&body, CLOSED).status, 400);
    }

    #[test]
    fn the_rate_key_is_the_ipv4_address_or_the_ipv6_64() {
        assert_eq!(rate_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(rate_key(Some(" 203.0.113.7 ")), "203.0.113.7");
        // Every address of one /64 shares a key; the next /64 does not.
        let a = rate_key(Some("2001:db8:1:2::1"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(rate_key(Some("2001:db8:1:2:ffff:ffff:ffff:ffff")), a);
        assert_eq!(rate_key(Some("2001:DB8:1:2:abcd::9")), a);
        assert_ne!(rate_key(Some("2001:db8:1:3::1")), a);
        // An IPv4-mapped address is its IPv4 (not a /64 shared by all IPv4).
        assert_eq!(rate_key(Some("::ffff:203.0.113.7")), "203.0.113.7");
        assert_ne!(
            rate_key(Some("::ffff:203.0.113.8")),
            rate_key(Some("::ffff:203.0.113.7"))
        );
        for junk in [None, Some(""), Some("unknown"), Some("1.2.3.4, 5.6.7.8")] {
            assert_eq!(rate_key(junk), "unknown", "{junk:?}");
        }
    }
}
