//! The fingerprint canonicaliser and the drift diff over any JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcprobe_core::fingerprint::{canonical_json, diff, snapshot};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let canonical = canonical_json(&v);
    let back: Value = serde_json::from_str(&canonical).expect("canonical JSON parses");
    assert_eq!(canonical_json(&back), canonical);
    let tools = match v {
        Value::Array(a) => a,
        other => vec![other],
    };
    let a = snapshot(&tools);
    let b = snapshot(&[]);
    let _ = diff(&a, &b);
    assert!(diff(&a, &a).changes.is_empty());
});
