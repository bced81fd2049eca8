//! Start here: building the probe's JSON-RPC messages and reading answers
//! *leniently*. An answer a real client could still use (no `"jsonrpc"`, a
//! wrong id, `tools` beside `result`) is read here so the probe can keep
//! climbing; [`crate::validate`] judges the same message strictly.

use serde_json::{json, Map, Value};

use crate::revision::Revision;

/// Who the probe says it is.
pub const CLIENT_NAME: &str = "mcprobe";
pub const CLIENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `_meta` every modern (2026-07-28) request carries.
pub fn modern_meta(rev: Revision) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": rev.as_str(),
        "io.modelcontextprotocol/clientInfo": {"name": CLIENT_NAME, "version": CLIENT_VERSION},
        "io.modelcontextprotocol/clientCapabilities": {},
    })
}

/// A JSON-RPC request object.
pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A JSON-RPC notification object (no id).
pub fn notification(method: &str, params: Option<Value>) -> Value {
    match params {
        Some(p) => json!({"jsonrpc": "2.0", "method": method, "params": p}),
        None => json!({"jsonrpc": "2.0", "method": method}),
    }
}

/// Params of the legacy `initialize` request.
pub fn initialize_params(offered: Revision) -> Value {
    json!({
        "protocolVersion": offered.as_str(),
        "capabilities": {},
        "clientInfo": {"name": CLIENT_NAME, "version": CLIENT_VERSION},
    })
}

/// Adds `_meta` (modern) to a params object.
pub fn with_modern_meta(mut params: Value, rev: Revision) -> Value {
    if !params.is_object() {
        params = Value::Object(Map::new());
    }
    if let Value::Object(map) = &mut params {
        map.insert("_meta".into(), modern_meta(rev));
    }
    params
}

/// A JSON-RPC answer as the probe reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A result. When `result` was missing but the message carried the payload
    /// at the top level (e.g. `tools` beside `result`), the probe still reads it.
    Result(Value),
    Error {
        code: i64,
        message: String,
        data: Option<Value>,
    },
}

/// Is this message a response (has `result` or `error`, or at least an id and
/// no method)? Notifications and requests on a stream are not.
pub fn is_response(msg: &Value) -> bool {
    match msg {
        Value::Object(m) => {
            m.contains_key("result")
                || m.contains_key("error")
                || (m.contains_key("id") && !m.contains_key("method"))
        }
        _ => false,
    }
}

/// Does the message's id echo `id`? (Numbers compared as numbers, and a
/// numeric string accepted leniently.)
pub fn id_matches(msg: &Value, id: u64) -> bool {
    match msg.get("id") {
        Some(Value::Number(n)) => n.as_u64() == Some(id),
        Some(Value::String(s)) => s.parse::<u64>().ok() == Some(id),
        _ => false,
    }
}

/// Reads a response leniently. `None` when the message is no response at all.
pub fn read_reply(msg: &Value) -> Option<Reply> {
    let obj = msg.as_object()?;
    if let Some(err) = obj.get("error") {
        let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
        let message = match err.get("message") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => match err {
                Value::String(s) => s.clone(),
                _ => String::new(),
            },
        };
        return Some(Reply::Error {
            code,
            // Quoted into reasons and details: a few hundred characters.
            message: crate::verdict::cut_text(&message, crate::verdict::MAX_QUOTED_CHARS),
            data: err.get("data").cloned(),
        });
    }
    if let Some(result) = obj.get("result") {
        // `result` present but the payload beside it (an early-draft shape):
        // merge the top-level members a client would still find.
        if let Value::Object(r) = result {
            let mut merged = r.clone();
            for (k, v) in obj {
                if !matches!(k.as_str(), "jsonrpc" | "id" | "result") && !merged.contains_key(k) {
                    merged.insert(k.clone(), v.clone());
                }
            }
            return Some(Reply::Result(Value::Object(merged)));
        }
        return Some(Reply::Result(result.clone()));
    }
    if obj.contains_key("method") {
        return None;
    }
    // No result member at all: treat the rest of the message as the result.
    let mut rest = Map::new();
    for (k, v) in obj {
        if !matches!(k.as_str(), "jsonrpc" | "id") {
            rest.insert(k.clone(), v.clone());
        }
    }
    Some(Reply::Result(Value::Object(rest)))
}

/// [`read_reply`] of a message the caller gives away: the result is moved,
/// not copied (tool lists can be large).
pub fn into_reply(msg: Value) -> Option<Reply> {
    match msg {
        Value::Object(mut obj) if obj.contains_key("result") && !obj.contains_key("error") => {
            let only_envelope = obj
                .keys()
                .all(|k| matches!(k.as_str(), "jsonrpc" | "id" | "result"));
            if only_envelope || !obj.get("result").is_some_and(Value::is_object) {
                return obj.remove("result").map(Reply::Result);
            }
            read_reply(&Value::Object(obj))
        }
        other => read_reply(&other),
    }
}

/// Why a body could not be read as JSON, in words for a person. Read within
/// the default [`crate::bounded_json::JsonBounds`] (arrays and values capped).
pub fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    parse_json_bounded(bytes).map(|b| b.value)
}

/// [`parse_json`] that also says how many values it built and skipped.
pub fn parse_json_bounded(bytes: &[u8]) -> Result<crate::bounded_json::Bounded, String> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("the body is empty".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the body is not valid UTF-8 (bad byte at offset {})",
            e.valid_up_to()
        )
    })?;
    use crate::bounded_json::BoundedError;
    crate::bounded_json::parse(text, Default::default()).map_err(|e| match e {
        BoundedError::TooManyValues { .. } => format!("the body is too large to read: {e}"),
        BoundedError::Json(msg) if msg.contains("recursion limit") => {
            "the body nests JSON deeper than 128 levels".to_string()
        }
        BoundedError::Json(msg) => format!("the body is not JSON ({msg})"),
    })
}

/// Picks the response answering request `id` out of a message that may be a
/// batch array: the one with the matching id, else the first response.
pub fn pick_response(msg: Value, id: u64) -> Option<Value> {
    match msg {
        Value::Array(items) => {
            let mut first = None;
            for item in items {
                if is_response(&item) {
                    if id_matches(&item, id) {
                        return Some(item);
                    }
                    if first.is_none() {
                        first = Some(item);
                    }
                }
            }
            first
        }
        other if other.is_object() => Some(other),
        _ => None,
    }
}

/// A short, single-line excerpt of a body for evidence (never more than `max`
/// characters, control characters replaced).
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max * 4)]);
    let mut out = String::new();
    for ch in text.chars() {
        if out.chars().count() >= max {
            out.push('…');
            break;
        }
        out.push(if ch.is_control() { ' ' } else { ch });
    }
    let collapsed: Vec<&str> = out.split_whitespace().collect();
    collapsed.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tools_beside_result() {
        let msg = json!({"jsonrpc":"2.0","id":2,"result":{},"tools":[{"name":"a"}]});
        let Some(Reply::Result(r)) = read_reply(&msg) else {
            panic!("no result")
        };
        assert_eq!(r["tools"][0]["name"], "a");
    }

    #[test]
    fn reads_error_and_missing_envelope() {
        let msg = json!({"id":1,"error":{"code":-32601,"message":"nope"}});
        assert_eq!(
            read_reply(&msg),
            Some(Reply::Error {
                code: -32601,
                message: "nope".into(),
                data: None
            })
        );
        let bare = json!({"id":1,"tools":[]});
        assert!(matches!(read_reply(&bare), Some(Reply::Result(_))));
        assert_eq!(read_reply(&json!({"jsonrpc":"2.0","method":"x"})), None);
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        assert!(parse_json(b"  ").unwrap_err().contains("empty"));
        assert!(parse_json(b"\"\xff\"").unwrap_err().contains("UTF-8"));
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert!(parse_json(deep.as_bytes()).unwrap_err().contains("deeper"));
        assert!(parse_json(b"<html>").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn excerpt_is_bounded_and_single_line() {
        let e = excerpt(b"line one\nline two\tand more text", 12);
        assert!(!e.contains('\n'));
        assert!(e.chars().count() <= 13);
    }

    #[test]
    fn picks_matching_response_from_batch() {
        let batch = json!([{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":7,"result":{}},{"jsonrpc":"2.0","id":3,"result":{"x":1}}]);
        assert_eq!(pick_response(batch, 3).unwrap()["result"]["x"], 1);
    }
}
