//! Start here: the 2026-07-28 (modern, stateless) side of the engine, per the
//! Streamable HTTP page of that revision: POST only, and every request is
//! validated on its own: `_meta` version and capabilities, the mirrored
//! `MCP-Protocol-Version` / `Mcp-Method` / `Mcp-Name` headers, the version
//! itself. Rejections use the HTTP statuses and JSON-RPC codes the spec gives
//! them (400 + -32602 / -32020 / -32022, 404 + -32601), so a dual-era probe
//! can tell a modern server's error from a legacy server's.

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::{rpc_error, rpc_result, Engine, Era, Outcome};
use super::{META_CAPS, META_SERVER_INFO, META_VERSION, MODERN, SERVER_NAME, SERVER_VERSION};
use crate::server::{self, Req, Resp, State};

/// JSON-RPC code of a header/body mismatch (2026-07-28).
const HEADER_MISMATCH: i64 = -32020;
/// JSON-RPC code of an unsupported protocol version (2026-07-28).
const UNSUPPORTED_VERSION: i64 = -32022;

pub(super) async fn handle(eng: &Engine, st: &State, req: &Req) -> Resp {
    if req.method != Method::POST {
        // No GET stream and no sessions to DELETE in this revision.
        let resp = server::empty(StatusCode::METHOD_NOT_ALLOWED);
        return server::with_header(resp, "allow", "POST");
    }
    match check(eng, req) {
        Err((status, error)) => {
            eng.finish(Outcome::Rpc(status, error), None, Vec::new())
                .await
        }
        Ok(None) => server::empty(StatusCode::ACCEPTED),
        Ok(Some(Call { id, method, params })) => {
            let outcome = if method == "server/discover" {
                discover(eng, &id)
            } else {
                eng.call_method(st, Era::Modern, &id, &method, &params)
            };
            eng.finish(outcome, None, Vec::new()).await
        }
    }
}

/// A request that passed every transport check.
struct Call {
    id: Value,
    method: String,
    params: Value,
}

/// A rejection: the HTTP status and the JSON-RPC error to send with it.
type Rejection = (StatusCode, Value);

/// The transport-level checks, in the order the spec lists them. `Ok(None)`
/// is a notification (accepted, nothing to answer).
fn check(eng: &Engine, req: &Req) -> Result<Option<Call>, Rejection> {
    let bad = |code: i64, id: &Value, message: &str| {
        (StatusCode::BAD_REQUEST, rpc_error(id, code, message, None))
    };
    let Some(msg) = req.json.as_ref().filter(|v| v.is_object()) else {
        return Err(bad(
            -32700,
            &Value::Null,
            "Parse error: the body must be one JSON-RPC request object",
        ));
    };
    let id = msg.get("id").cloned();
    let Some(method) = msg.get("method").and_then(Value::as_str) else {
        return Err(bad(
            -32600,
            id.as_ref().unwrap_or(&Value::Null),
            "Invalid Request: no method",
        ));
    };
    let Some(id) = id else {
        return Ok(None);
    };
    if method == "initialize" {
        // A legacy client's opening move: name the versions we do speak, as
        // the versioning page asks of modern-only servers.
        return Err((
            StatusCode::NOT_FOUND,
            rpc_error(
                &id,
                -32601,
                &format!(
                    "Method not found: initialize. This server supports only protocol version(s) {}, \
                     which have no initialize handshake; send server/discover with _meta instead",
                    eng.supported_versions().join(", ")
                ),
                None,
            ),
        ));
    }
    if !knows(eng, method) {
        return Err((
            StatusCode::NOT_FOUND,
            rpc_error(&id, -32601, &format!("Method not found: {method}"), None),
        ));
    }
    let params = msg.get("params").cloned().unwrap_or_else(|| json!({}));
    let meta = params.get("_meta");
    let version = meta
        .and_then(|m| m.get(META_VERSION))
        .and_then(Value::as_str);
    let caps_ok = meta
        .and_then(|m| m.get(META_CAPS))
        .is_some_and(Value::is_object);
    let Some(version) = version.filter(|_| caps_ok) else {
        return Err(bad(
            -32602,
            &id,
            &format!("Invalid params: _meta must carry {META_VERSION} and {META_CAPS}"),
        ));
    };
    match req.header("mcp-protocol-version") {
        None => {
            return Err(bad(
                HEADER_MISMATCH,
                &id,
                "Header mismatch: the MCP-Protocol-Version header is required",
            ))
        }
        Some(h) if h != version => {
            return Err(bad(
                HEADER_MISMATCH,
                &id,
                &format!(
                    "Header mismatch: MCP-Protocol-Version header value '{h}' does not match body value '{version}'"
                ),
            ))
        }
        Some(_) => {}
    }
    if version != MODERN {
        return Err((
            StatusCode::BAD_REQUEST,
            rpc_error(
                &id,
                UNSUPPORTED_VERSION,
                "Unsupported protocol version",
                Some(json!({"supported": eng.supported_versions(), "requested": version})),
            ),
        ));
    }
    match req.header("mcp-method") {
        Some(h) if h == method => {}
        other => {
            return Err(bad(
                HEADER_MISMATCH,
                &id,
                &format!(
                    "Header mismatch: Mcp-Method header {} does not match body value '{method}'",
                    shown(other)
                ),
            ))
        }
    }
    if matches!(method, "tools/call" | "resources/read" | "prompts/get") {
        let body_name = params
            .get("name")
            .or_else(|| params.get("uri"))
            .and_then(Value::as_str);
        let header_name = req.header("mcp-name").map(decode_header_value);
        let matches = match (&header_name, body_name) {
            (Some(Some(h)), Some(b)) => h == b,
            _ => false,
        };
        if !matches {
            return Err(bad(
                HEADER_MISMATCH,
                &id,
                &format!(
                    "Header mismatch: Mcp-Name header {} does not match body value {}",
                    shown(req.header("mcp-name")),
                    shown(body_name)
                ),
            ));
        }
    }
    Ok(Some(Call {
        id,
        method: method.to_string(),
        params,
    }))
}

/// A header or body value for an error message: quoted, or "missing".
fn shown(v: Option<&str>) -> String {
    match v {
        Some(v) => format!("'{v}'"),
        None => "missing".to_string(),
    }
}

fn knows(eng: &Engine, method: &str) -> bool {
    matches!(
        method,
        "server/discover" | "ping" | "tools/list" | "tools/call"
    ) || (eng.resources && method == "resources/list")
}

fn discover(eng: &Engine, id: &Value) -> Outcome {
    let mut caps = Map::new();
    caps.insert("tools".into(), json!({}));
    if eng.resources {
        caps.insert("resources".into(), json!({}));
    }
    let mut r = Map::new();
    r.insert("resultType".into(), json!("complete"));
    r.insert("supportedVersions".into(), json!(eng.supported_versions()));
    r.insert("capabilities".into(), Value::Object(caps));
    r.insert(
        "_meta".into(),
        json!({ META_SERVER_INFO: {"name": SERVER_NAME, "version": SERVER_VERSION} }),
    );
    r.insert("ttlMs".into(), json!(3_600_000));
    r.insert("cacheScope".into(), json!("public"));
    Outcome::Rpc(StatusCode::OK, rpc_result(id, r))
}

/// Decodes the `=?base64?...?=` sentinel form of `Mcp-Name`; plain values pass
/// through. `None` when the sentinel's content is not valid base64 UTF-8.
pub(crate) fn decode_header_value(v: &str) -> Option<String> {
    match v
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    {
        None => Some(v.to_string()),
        Some(encoded) => String::from_utf8(base64_decode(encoded)?).ok(),
    }
}

/// Standard-alphabet base64 with optional padding; `None` on any other byte.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= sextet(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_base64_sentinel_and_passes_plain_values() {
        assert_eq!(
            decode_header_value("get_weather").as_deref(),
            Some("get_weather")
        );
        assert_eq!(
            decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=").as_deref(),
            Some("Hello, 世界")
        );
        assert_eq!(
            decode_header_value("=?base64?IHBhZGRlZCA=?=").as_deref(),
            Some(" padded ")
        );
        assert_eq!(
            decode_header_value("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=").as_deref(),
            Some("=?base64?literal?=")
        );
        assert_eq!(decode_header_value("=?base64?not*base64?="), None);
    }
}
