//! Start here: header values the 2026-07-28 transport mirrors from the body:
//! `Mcp-Name` and `Mcp-Param-{Name}` (from `x-mcp-header` tool parameters),
//! with the base64 sentinel encoding for values that are not plain ASCII.

use serde_json::Value;

/// `Mcp-Param-{Name}` headers for a `tools/call` (2026-07-28 "Custom Headers
/// from Tool Parameters"): every property of the tool's `inputSchema` marked
/// `x-mcp-header`, followed along its chain of `properties`, whose value is
/// present in the arguments as a string, integer or boolean.
pub(crate) fn param_headers(tool: &Value, arguments: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // (schema, the instance at the same path), bounded in depth.
    let mut stack: Vec<(&Value, &Value, usize)> = vec![(&tool["inputSchema"], arguments, 0)];
    while let Some((schema, instance, depth)) = stack.pop() {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (key, sub) in props {
            let Some(value) = instance.get(key) else {
                continue;
            };
            if let Some(name) = sub.get("x-mcp-header").and_then(Value::as_str) {
                let text = match value {
                    Value::String(s) => Some(s.clone()),
                    Value::Bool(b) => Some(b.to_string()),
                    Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
                    _ => None,
                };
                if let Some(text) = text {
                    out.push((format!("Mcp-Param-{name}"), header_safe(&text)));
                }
            }
            if depth < 16 && value.is_object() {
                stack.push((sub, value, depth + 1));
            }
        }
    }
    out
}

/// `Mcp-Name` / `Mcp-Param-*` value encoding (2026-07-28 "Value Encoding"):
/// plain when visible ASCII without edge spaces, else the base64 sentinel.
pub(crate) fn header_safe(value: &str) -> String {
    let visible = value
        .bytes()
        .all(|b| (0x20..=0x7e).contains(&b) || b == b'\t');
    let edge_space = value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']);
    let sentinel = value.starts_with("=?base64?") && value.ends_with("?=");
    let plain = !value.is_empty() && visible && !edge_space && !sentinel;
    if plain {
        value.to_string()
    } else {
        format!("=?base64?{}?=", base64(value.as_bytes()))
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_mcp_header_params_are_mirrored() {
        let tool = serde_json::json!({"name": "execute_sql", "inputSchema": {"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "query": {"type": "string"},
            "opts": {"type": "object", "properties": {"dry": {"type": "boolean", "x-mcp-header": "Dry"}, "n": {"type": "integer", "x-mcp-header": "N"}}}
        }}});
        let args = serde_json::json!({"region": "us-west1", "query": "SELECT 1", "opts": {"dry": true, "n": 42}});
        let mut h = param_headers(&tool, &args);
        h.sort();
        assert_eq!(
            h,
            vec![
                ("Mcp-Param-Dry".to_string(), "true".to_string()),
                ("Mcp-Param-N".to_string(), "42".to_string()),
                ("Mcp-Param-Region".to_string(), "us-west1".to_string()),
            ]
        );
        // Absent or null values: no header.
        assert!(param_headers(&tool, &serde_json::json!({"region": null})).is_empty());
    }

    #[test]
    fn header_values_follow_the_encoding_rules() {
        assert_eq!(header_safe("us-west1"), "us-west1");
        assert_eq!(
            header_safe("Hello, 世界"),
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert_eq!(header_safe(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(header_safe("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
        assert_eq!(
            header_safe("=?base64?literal?="),
            "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
        );
    }
}
