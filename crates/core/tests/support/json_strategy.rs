//! Random JSON for the property tests: shared by core's `tests/fuzz_props.rs`
//! and the registry crate's (which includes this file by `#[path]`).

#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{Map, Value};

/// `n` cases unless `PROPTEST_CASES` says otherwise.
pub fn cases(n: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = n;
    }
    // Integration tests have no lib.rs beside them for proptest's regression
    // files: a failure prints its minimal input instead.
    c.failure_persistence = None;
    c
}

/// Keys the readers look for, so random documents reach deep code paths.
pub const KEYS: &[&str] = &[
    "jsonrpc",
    "id",
    "result",
    "error",
    "code",
    "message",
    "data",
    "tools",
    "name",
    "description",
    "inputSchema",
    "outputSchema",
    "type",
    "properties",
    "required",
    "annotations",
    "readOnlyHint",
    "nextCursor",
    "protocolVersion",
    "capabilities",
    "serverInfo",
    "version",
    "supportedVersions",
    "_meta",
    "content",
    "isError",
    "servers",
    "server",
    "remotes",
    "url",
    "headers",
    "isRequired",
    "isSecret",
    "variables",
    "status",
    "isLatest",
    "metadata",
    "io.modelcontextprotocol.registry/official",
    "items",
    "enum",
    "$ref",
    "title",
];

pub fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_string),
        1 => ".{0,12}",
    ]
}

pub fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        proptest::sample::select(
            &[
                "2.0",
                "2026-07-28",
                "2025-11-25",
                "sse",
                "streamable-http",
                "object",
                "string",
                "deleted",
                "active",
                "https://x.example/mcp",
                "http://127.0.0.1:1/mcp",
                "{tenant}",
                ""
            ][..]
        )
        .prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
    ]
}

/// Any JSON value, biased towards the shapes MCP and registries use.
pub fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Values in a document (every node counts one).
pub fn nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(nodes).sum(),
        Value::Object(o) => o.values().map(nodes).sum(),
        _ => 0,
    }
}
