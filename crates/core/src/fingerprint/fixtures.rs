//! Tool definitions and helpers shared by the fingerprint tests.

use serde_json::{json, Map, Value};

pub(super) fn weather() -> Value {
    json!({
        "name": "get_weather",
        "description": "Current weather for a city",
        "inputSchema": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "units": {"type": "string", "enum": ["metric", "imperial"]}
            },
            "required": ["city"]
        },
        "annotations": {"readOnlyHint": true}
    })
}

pub(super) fn search() -> Value {
    json!({
        "name": "search",
        "description": "Full-text search",
        "inputSchema": {
            "type": "object",
            "properties": {"q": {"type": "string"}, "limit": {"type": "integer"}},
            "required": ["q"]
        }
    })
}

pub(super) fn ping() -> Value {
    json!({"name": "ping", "inputSchema": {"type": "object"}})
}

/// Rebuilds `v` with every object's keys in reverse order.
pub(super) fn reverse_keys(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter().rev() {
                out.insert(k.clone(), reverse_keys(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(reverse_keys).collect()),
        other => other.clone(),
    }
}
