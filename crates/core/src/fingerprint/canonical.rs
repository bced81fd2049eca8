//! Canonical JSON (object keys sorted by their UTF-8 bytes, no insignificant
//! whitespace, numbers and escapes as serde_json prints them) and the
//! `sha256:<hex>` tags over it. The hash is a stored contract: a change here
//! moves every stored hash (see the module docs of `fingerprint`).

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Canonical JSON text of a value: keys sorted by the byte order of the UTF-8
/// keys (Rust's `str` order), no whitespace, strings escaped and numbers
/// printed exactly as serde_json prints them.
///
/// Iterative, with an explicit stack, so a deeply nested value built by hand
/// (not limited by serde_json's parser depth of 128) cannot overflow the stack.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::with_capacity(512);
    if write_canonical(&mut out, value, 0) {
        return out;
    }
    canonical_json_iterative(value)
}

/// Deepest nesting the recursive fast path handles; deeper values (only ever
/// built by hand: serde_json's parser stops at 128) take the iterative path.
pub(super) const FAST_PATH_DEPTH: usize = 200;

/// The fast path: recursive, no per-object allocation when the keys are
/// already in order (the common case for machine-made schemas). `false` when
/// the value nests deeper than [`FAST_PATH_DEPTH`].
pub(super) fn write_canonical(out: &mut String, value: &Value, depth: usize) -> bool {
    if depth > FAST_PATH_DEPTH {
        return false;
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => push_number(out, n),
        Value::String(s) => push_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_canonical(out, item, depth + 1) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            let sorted = map.keys().zip(map.keys().skip(1)).all(|(a, b)| a <= b);
            let write_entry = |i: usize, key: &str, item: &Value, out: &mut String| {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(out, key);
                out.push(':');
                write_canonical(out, item, depth + 1)
            };
            if sorted {
                for (i, (key, item)) in map.iter().enumerate() {
                    if !write_entry(i, key, item, out) {
                        return false;
                    }
                }
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                for (i, (key, item)) in entries.into_iter().enumerate() {
                    if !write_entry(i, key, item, out) {
                        return false;
                    }
                }
            }
            out.push('}');
        }
    }
    true
}

/// Does any byte need a JSON escape (a control byte, `"` or `\\`)? Eight
/// bytes at a time (SWAR): strings are most of a tool list's canonical form.
pub(super) fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Some byte of `w` is zero (the classic has-zero-byte test).
    let has_zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // Bytes below 0x20: subtracting 0x20 borrows into the high bit of
        // bytes < 0x20 (bytes >= 0x80 are masked out by `!w`).
        let control = w.wrapping_sub(0x20 * ONES) & !w & HIGHS != 0;
        if control
            || has_zero(w ^ (u64::from(b'"') * ONES))
            || has_zero(w ^ (u64::from(b'\\') * ONES))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A number as serde_json prints it. Integers (nearly all numbers in tool
/// schemas) are written digit by digit: `write!` costs more than the rest of
/// a small schema's canonical form.
pub(super) fn push_number(out: &mut String, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        push_u64(out, u);
    } else if let Some(i) = n.as_i64() {
        out.push('-');
        push_u64(out, i.unsigned_abs());
    } else {
        let _ = write!(out, "{n}");
    }
}

pub(super) fn push_u64(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for d in &digits[at..] {
        out.push(char::from(*d));
    }
}

/// The same text as [`canonical_json`], with an explicit stack, so a deeply
/// nested value built by hand cannot overflow the stack.
pub(super) fn canonical_json_iterative(value: &Value) -> String {
    enum Frame<'a> {
        Value(&'a Value),
        Key(&'a str),
        Text(&'static str),
    }

    let mut out = String::new();
    let mut stack = vec![Frame::Value(value)];
    while let Some(frame) = stack.pop() {
        match frame {
            Frame::Text(text) => out.push_str(text),
            Frame::Key(key) => {
                push_json_string(&mut out, key);
                out.push(':');
            }
            Frame::Value(value) => match value {
                Value::Null => out.push_str("null"),
                Value::Bool(true) => out.push_str("true"),
                Value::Bool(false) => out.push_str("false"),
                // serde_json's `Display` for numbers is the same itoa / ryu
                // formatting its serializer uses. Writing to a String cannot fail.
                Value::Number(n) => {
                    let _ = write!(out, "{n}");
                }
                Value::String(s) => push_json_string(&mut out, s),
                Value::Array(items) => {
                    out.push('[');
                    stack.push(Frame::Text("]"));
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push(Frame::Value(item));
                        if i > 0 {
                            stack.push(Frame::Text(","));
                        }
                    }
                }
                Value::Object(map) => {
                    // `preserve_order` keeps insertion order: sort ourselves.
                    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                    out.push('{');
                    stack.push(Frame::Text("}"));
                    for (i, (key, item)) in entries.into_iter().enumerate().rev() {
                        stack.push(Frame::Value(item));
                        stack.push(Frame::Key(key));
                        if i > 0 {
                            stack.push(Frame::Text(","));
                        }
                    }
                }
            },
        }
    }
    out
}

/// Writes `s` as a JSON string literal the way serde_json does: `"` and `\`
/// escaped, the short escapes for \b \f \n \r \t, `\u00xx` (lowercase hex) for
/// the other control characters, everything else (including `/`, DEL and
/// non-ASCII) as is.
pub(super) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    // Most strings need no escape at all: one scan, one copy.
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so `i` is always a char boundary.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// `sha256:<lowercase hex>` of some bytes.
pub fn sha256_tag(bytes: &[u8]) -> String {
    tag_of(Sha256::digest(bytes).as_slice())
}

/// `sha256:` + lowercase hex of a digest. A table, not `write!` per byte:
/// formatting machinery cost more than the hashing itself on the hot path.
pub(super) fn tag_of(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Built on the stack, allocated once: this runs once per tool.
    let mut buf = [0u8; 7 + 64];
    buf[..7].copy_from_slice(b"sha256:");
    for (i, b) in digest.iter().take(32).enumerate() {
        buf[7 + 2 * i] = HEX[usize::from(b >> 4)];
        buf[8 + 2 * i] = HEX[usize::from(b & 0x0f)];
    }
    let len = 7 + 2 * digest.len().min(32);
    // Only ASCII was written, so this cannot fail.
    std::str::from_utf8(&buf[..len])
        .unwrap_or("sha256:")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_escape_scan_agrees_with_a_plain_one() {
        // Every special byte at every offset of strings around the 8-byte chunks.
        for len in 0..20usize {
            for at in 0..len.max(1) {
                for special in [0u8, 0x1f, b'"', b'\\', 0x20, b'a', 0x7f, 0x80, 0xff] {
                    let mut bytes = vec![b'x'; len];
                    if len > 0 {
                        bytes[at] = special;
                    }
                    let plain = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
                    assert_eq!(needs_escape(&bytes), plain, "{bytes:?}");
                }
            }
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": [3, {"z": 1, "a": null}], "a": "x", "A": true, "é": 1.5 }"#,
        )
        .unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"A":true,"a":"x","b":[3,{"a":null,"z":1}],"é":1.5}"#
        );
        assert_eq!(canonical_json(&json!([])), "[]");
        assert_eq!(canonical_json(&json!({})), "{}");
    }

    #[test]
    fn canonical_json_sorts_by_utf8_bytes_not_utf16() {
        // U+FF61 is EF BD A1 in UTF-8 and U+1F600 is F0 9F 98 80, so byte order
        // puts U+FF61 first; UTF-16 order (0xFF61 vs the surrogate 0xD83D) would not.
        let v = json!({"\u{1F600}": 1, "\u{FF61}": 2});
        assert_eq!(canonical_json(&v), "{\"\u{FF61}\":2,\"\u{1F600}\":1}");
    }

    #[test]
    fn canonical_json_escapes_and_numbers_match_serde_json() {
        let mut text = String::new();
        for c in (0u8..0x80).map(char::from) {
            text.push(c);
        }
        text.push_str("é€😀\u{2028}");
        let samples = [
            json!(text),
            json!(0),
            json!(-17),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!(-0.0),
            json!(1e300),
            json!(0.1),
            json!(123456789.125),
            serde_json::from_str::<Value>("1E-7").unwrap(),
            serde_json::from_str::<Value>("2.0").unwrap(),
        ];
        for v in &samples {
            assert_eq!(
                canonical_json(v),
                serde_json::to_string(v).unwrap(),
                "{v:?}"
            );
        }
        // Keys are escaped like strings.
        let v = json!({"a\"b\n": 1});
        assert_eq!(canonical_json(&v), r#"{"a\"b\n":1}"#);
    }

    #[test]
    fn canonical_json_survives_deep_nesting() {
        let mut v = json!(1);
        for _ in 0..100_000 {
            // Not `json!([v])`: that serializes `v`, recursively.
            v = Value::Array(vec![v]);
        }
        let text = canonical_json(&v);
        // Dropping such a value recursively would overflow the stack (also when
        // a failed assertion unwinds), so take it apart before asserting.
        let mut v = v;
        while let Value::Array(mut items) = v {
            v = items.pop().unwrap_or(Value::Null);
        }
        let depth = 100_000;
        assert!(text == format!("{}1{}", "[".repeat(depth), "]".repeat(depth)));
    }

    #[test]
    fn sha256_tag_is_lowercase_hex() {
        assert_eq!(
            sha256_tag(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
