//! Auth-flavoured words in what a server says: a refused `Host` (DNS-rebinding
//! protection, not a want of credentials), talk of API keys, the message in
//! an error body, and JSON-RPC error messages about auth.

use serde_json::Value;

/// Does a refusal say the server does not serve the `Host` it was asked
/// for? That is DNS-rebinding protection with an allow-list that lacks the
/// public name (the usual case behind a proxy or load balancer), not a want
/// of credentials. HTTP 421 (Misdirected Request) says so by itself (the
/// Python SDK answers "Invalid Host header"); a 403 says it in words: the
/// TypeScript SDK's `-32000 "Invalid Host: ..."`, rmcp's "Host header is not
/// allowed", Playwright's "Access is only allowed at localhost:8931".
pub fn is_host_refusal(status: u16, text: &str) -> bool {
    const REFUSAL: [&str; 10] = [
        "invalid",
        "allowed",
        "disallowed",
        "rebinding",
        "unknown",
        "unrecognized",
        "unrecognised",
        "mismatch",
        "untrusted",
        "misdirected",
    ];
    if status == 421 {
        return true;
    }
    if status != 403 {
        return false;
    }
    let words = words_of(text);
    let host = words
        .iter()
        .any(|w| matches!(w.as_str(), "host" | "hostname" | "hosts"));
    let refused = words.iter().any(|w| REFUSAL.contains(&w.as_str()));
    host && refused
        || has_phrase(&words, &["only", "allowed", "at"])
        || has_phrase(&words, &["dns", "rebinding"])
}

/// Does the text speak of an API key (`X-API-Key`, "Invalid or missing API
/// key", `apikey`)? Then the credential wanted is a key the provider hands
/// out, not an OAuth token a client can obtain.
pub fn speaks_of_api_key(text: &str) -> bool {
    let words = words_of(text);
    words
        .iter()
        .any(|w| matches!(w.as_str(), "apikey" | "apikeys"))
        || has_phrase(&words, &["api", "key"])
        || has_phrase(&words, &["api", "keys"])
}

/// What an error body says in words: the JSON-RPC `error.message`, an OAuth
/// `error_description`, or a `message` / `detail` / `error` string of a JSON
/// object, or the text of an HTML page; `None` for anything else (then the
/// body itself is the message).
pub fn body_message(body: &str) -> Option<String> {
    if body.trim_start().starts_with('<') {
        return html_text(body);
    }
    let doc: Value = serde_json::from_str(body.trim()).ok()?;
    let obj = doc.as_object()?;
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    text(obj.get("error").and_then(|e| e.get("message")))
        .or_else(|| text(obj.get("error_description")))
        .or_else(|| text(obj.get("message")))
        .or_else(|| text(obj.get("detail")))
        .or_else(|| text(obj.get("error")))
}

/// The text of an HTML page: tags and the contents of `<head>` dropped
/// (the title repeats in the body, styles are noise), whitespace collapsed.
pub(super) fn html_text(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let body = match (lower.find("<head"), lower.find("</head>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &html[..a], &html[b + 7..]),
        _ => html.to_string(),
    };
    let mut text = String::new();
    let mut in_tag = false;
    for ch in body.chars() {
        match ch {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(ch),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Lowercase alphanumeric words (so `x-api-key` is `x`, `api`, `key`).
pub(super) fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) fn has_phrase(words: &[String], phrase: &[&str]) -> bool {
    words
        .windows(phrase.len())
        .any(|w| w.iter().zip(phrase).all(|(a, b)| a == b))
}

/// Does a JSON-RPC error message talk about auth (unauthorized, forbidden,
/// token, API key, credentials, ...)? Used for `auth_half_configured`; the code
/// alone (e.g. -32001) is not enough.
///
/// The message is split into lowercase words (so `invalid_token`,
/// `api-key` and `x-api-key` all split cleanly) and matched word by word,
/// never as raw substrings: "catalog in" must not read as "log in". "token"
/// counts only beside a word that makes it a credential (missing, invalid,
/// expired, access, bearer, ...), so "Unexpected token < in JSON" and
/// "max_tokens" don't.
pub fn is_auth_message(message: &str) -> bool {
    const WORDS: [&str; 16] = [
        "unauthorized",
        "unauthorised",
        "unauthenticated",
        "forbidden",
        "authentication",
        "authorization",
        "authorisation",
        "credential",
        "credentials",
        "apikey",
        "apikeys",
        "bearer",
        "oauth",
        "jwt",
        "401",
        "403",
    ];
    const PHRASES: [&[&str]; 12] = [
        &["not", "authenticated"],
        &["not", "authorized"],
        &["not", "authorised"],
        &["access", "denied"],
        &["permission", "denied"],
        &["api", "key"],
        &["api", "keys"],
        &["login", "required"],
        &["not", "logged", "in"],
        &["please", "log", "in"],
        &["must", "log", "in"],
        &["sign", "in", "required"],
    ];
    const TOKEN_QUALIFIERS: [&str; 19] = [
        "missing",
        "invalid",
        "expired",
        "expire",
        "expires",
        "revoked",
        "required",
        "no",
        "bad",
        "malformed",
        "valid",
        "provided",
        "access",
        "auth",
        "bearer",
        "refresh",
        "session",
        "api",
        "id",
    ];
    let lower = message.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| WORDS.contains(w)) {
        return true;
    }
    if PHRASES
        .iter()
        .any(|p| words.windows(p.len()).any(|w| w == *p))
    {
        return true;
    }
    words.iter().enumerate().any(|(i, w)| {
        if *w != "token" {
            return false;
        }
        let before = i.checked_sub(1).and_then(|j| words.get(j));
        let after = words.iter().skip(i + 1).take(2);
        before
            .into_iter()
            .chain(after)
            .any(|n| TOKEN_QUALIFIERS.contains(n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- auth messages -----------------------------------------------------

    #[test]
    fn auth_messages() {
        for m in [
            "Unauthorized",
            "401 Unauthorised",
            "Forbidden: insufficient scope",
            "Authentication failed",
            "Authorization required",
            "Missing Authorization header",
            "Access denied",
            "Missing token",
            "invalid_token",
            "Token has expired",
            "The access token provided is expired",
            "Bearer token required",
            "Invalid API key",
            "x-api-key header missing",
            "apikey is required",
            "API_KEY not set",
            "Invalid credentials",
            "Not authenticated",
            "Permission denied",
            "HTTP 403",
            "jwt malformed",
            "You are not logged in",
        ] {
            assert!(is_auth_message(m), "should be auth: {m:?}");
        }
    }

    #[test]
    fn non_auth_messages() {
        for m in [
            "Request timed out",
            "MCP error -32001: Request timed out",
            "Internal error",
            "Invalid params",
            "tool not found",
            "Tool 'login_status' not found",
            "rate limit exceeded",
            "Unexpected token < in JSON at position 0",
            "max_tokens must be at most 4096",
            "context length exceeded: 9000 tokens",
            "token limit reached for this request",
            "item not in catalog in this region",
            "port 4010 in use",
            "",
        ] {
            assert!(!is_auth_message(m), "should not be auth: {m:?}");
        }
    }

    #[test]
    fn host_refusals_are_told_from_auth_refusals() {
        for (status, body) in [
            (421, "Invalid Host header"),
            (421, ""),
            (
                403,
                r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Invalid Host: evil.example:8080"},"id":null}"#,
            ),
            (403, "Forbidden: Host header is not allowed"),
            (403, "Access is only allowed at localhost:8931"),
            (403, "Request blocked: DNS rebinding protection"),
        ] {
            assert!(is_host_refusal(status, body), "{status} {body}");
        }
        for (status, body) in [
            (403, "Forbidden"),
            (403, r#"{"error":"insufficient_scope"}"#),
            (403, "Invalid API key"),
            (403, "The host is down for maintenance"),
            (401, "Invalid Host header"),
            (400, "Invalid Host header"),
        ] {
            assert!(!is_host_refusal(status, body), "{status} {body}");
        }
    }

    #[test]
    fn api_key_wording() {
        for t in [
            "Invalid or missing API key",
            "x-api-key header missing",
            "apikey required",
            "API_KEY not set",
            "Provide one of your API keys",
        ] {
            assert!(speaks_of_api_key(t), "{t}");
        }
        for t in ["Missing bearer token", "Unauthorized", "rapid keyboard", ""] {
            assert!(!speaks_of_api_key(t), "{t}");
        }
    }

    #[test]
    fn body_messages_are_picked_out_of_json() {
        assert_eq!(
            body_message(
                r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Invalid Host: x"},"id":null}"#
            )
            .as_deref(),
            Some("Invalid Host: x")
        );
        assert_eq!(
            body_message(
                r#"{"error":"invalid_token","error_description":"Invalid or missing API key"}"#
            )
            .as_deref(),
            Some("Invalid or missing API key")
        );
        assert_eq!(
            body_message(r#"{"detail":"Not authenticated"}"#).as_deref(),
            Some("Not authenticated")
        );
        assert_eq!(
            body_message(r#"{"error":"forbidden"}"#).as_deref(),
            Some("forbidden")
        );
        assert_eq!(body_message("Forbidden"), None);
        assert_eq!(
            body_message("<html><head><title>403 Forbidden</title><style>p{}</style></head><body><h1>403 Forbidden</h1>\n<p>Blocked by rule 7.</p></body></html>").as_deref(),
            Some("403 Forbidden Blocked by rule 7.")
        );
        assert_eq!(body_message("<p>"), None);
        assert_eq!(body_message(r#"{"error":{"code":1}}"#), None);
    }
}
