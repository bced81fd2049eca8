//! Start here: the tool-list fingerprint and drift diff.
//!
//! Canonical JSON (object keys sorted, no insignificant whitespace, tools sorted
//! by name) hashed with SHA-256, a hash per tool, and a diff of two snapshots
//! judged breaking or not by the rules of `failure-modes.md`: breaking when a
//! tool or parameter disappeared, a parameter's type changed, or a parameter
//! became required.
//!
//! The hash is a stored contract (baselines, the Worker's drift events): a
//! change to [`canonical_json`] or to the order in [`snapshot`] moves every
//! stored hash, so it needs a new `format`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The [`Snapshot::format`] this module writes.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// What a baseline file holds, and what the Worker stores once per hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version of this structure (1).
    pub format: u32,
    /// `sha256:<hex>` over the canonical JSON of the whole (sorted) tool list.
    pub hash: String,
    /// The tools, sorted by name, each as received (canonicalised on hashing).
    pub tools: Vec<ToolSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSnapshot {
    pub name: String,
    /// `sha256:<hex>` of this tool's canonical JSON.
    pub hash: String,
    /// The tool definition as received.
    pub definition: Value,
}

/// One difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    ToolAdded {
        tool: String,
    },
    ToolRemoved {
        tool: String,
    },
    ParamAdded {
        tool: String,
        param: String,
        required: bool,
    },
    ParamRemoved {
        tool: String,
        param: String,
    },
    ParamRetyped {
        tool: String,
        param: String,
        from: String,
        to: String,
    },
    RequiredAdded {
        tool: String,
        param: String,
    },
    RequiredRemoved {
        tool: String,
        param: String,
    },
    /// Anything else in the tool's definition changed (description, annotations,
    /// output schema, nested schema details): not breaking on its own.
    ToolChanged {
        tool: String,
        detail: String,
    },
}

impl Change {
    /// The breaking rules of `failure-modes.md`: a caller that worked against
    /// the old list can fail against the new one.
    pub fn is_breaking(&self) -> bool {
        match self {
            Change::ToolRemoved { .. }
            | Change::ParamRemoved { .. }
            | Change::ParamRetyped { .. }
            | Change::RequiredAdded { .. } => true,
            Change::ParamAdded { required, .. } => *required,
            Change::ToolAdded { .. }
            | Change::RequiredRemoved { .. }
            | Change::ToolChanged { .. } => false,
        }
    }

    /// The tool this change is about.
    pub fn tool(&self) -> &str {
        match self {
            Change::ToolAdded { tool }
            | Change::ToolRemoved { tool }
            | Change::ParamAdded { tool, .. }
            | Change::ParamRemoved { tool, .. }
            | Change::ParamRetyped { tool, .. }
            | Change::RequiredAdded { tool, .. }
            | Change::RequiredRemoved { tool, .. }
            | Change::ToolChanged { tool, .. } => tool,
        }
    }

    /// The parameter this change is about, if it is about one.
    pub fn param(&self) -> Option<&str> {
        match self {
            Change::ParamAdded { param, .. }
            | Change::ParamRemoved { param, .. }
            | Change::ParamRetyped { param, .. }
            | Change::RequiredAdded { param, .. }
            | Change::RequiredRemoved { param, .. } => Some(param),
            Change::ToolAdded { .. } | Change::ToolRemoved { .. } | Change::ToolChanged { .. } => {
                None
            }
        }
    }

    /// The stable code of this change's kind, as in its JSON `kind` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::ToolAdded { .. } => "tool_added",
            Change::ToolRemoved { .. } => "tool_removed",
            Change::ParamAdded { .. } => "param_added",
            Change::ParamRemoved { .. } => "param_removed",
            Change::ParamRetyped { .. } => "param_retyped",
            Change::RequiredAdded { .. } => "required_added",
            Change::RequiredRemoved { .. } => "required_removed",
            Change::ToolChanged { .. } => "tool_changed",
        }
    }

    /// Rank of the kind in declaration order, for the diff's stable order.
    fn kind_rank(&self) -> u8 {
        match self {
            Change::ToolAdded { .. } => 0,
            Change::ToolRemoved { .. } => 1,
            Change::ParamAdded { .. } => 2,
            Change::ParamRemoved { .. } => 3,
            Change::ParamRetyped { .. } => 4,
            Change::RequiredAdded { .. } => 5,
            Change::RequiredRemoved { .. } => 6,
            Change::ToolChanged { .. } => 7,
        }
    }
}

impl std::fmt::Display for Change {
    /// One human line, e.g. `search: parameter "q" retyped string -> integer`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::ToolAdded { tool } => write!(f, "{tool}: tool added"),
            Change::ToolRemoved { tool } => write!(f, "{tool}: tool removed"),
            Change::ParamAdded {
                tool,
                param,
                required: true,
            } => {
                write!(f, "{tool}: required parameter \"{param}\" added")
            }
            Change::ParamAdded {
                tool,
                param,
                required: false,
            } => {
                write!(f, "{tool}: optional parameter \"{param}\" added")
            }
            Change::ParamRemoved { tool, param } => {
                write!(f, "{tool}: parameter \"{param}\" removed")
            }
            Change::ParamRetyped {
                tool,
                param,
                from,
                to,
            } => {
                write!(f, "{tool}: parameter \"{param}\" retyped {from} -> {to}")
            }
            Change::RequiredAdded { tool, param } => {
                write!(f, "{tool}: parameter \"{param}\" became required")
            }
            Change::RequiredRemoved { tool, param } => {
                write!(f, "{tool}: parameter \"{param}\" became optional")
            }
            Change::ToolChanged { tool, detail } => write!(f, "{tool}: changed {detail}"),
        }
    }
}

/// The diff of two snapshots, as reported in the verdict's `drift` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub breaking: bool,
    pub from_hash: String,
    pub to_hash: String,
    pub changes: Vec<Change>,
}

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
const FAST_PATH_DEPTH: usize = 200;

/// The fast path: recursive, no per-object allocation when the keys are
/// already in order (the common case for machine-made schemas). `false` when
/// the value nests deeper than [`FAST_PATH_DEPTH`].
fn write_canonical(out: &mut String, value: &Value, depth: usize) -> bool {
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
fn needs_escape(bytes: &[u8]) -> bool {
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
fn push_number(out: &mut String, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        push_u64(out, u);
    } else if let Some(i) = n.as_i64() {
        out.push('-');
        push_u64(out, i.unsigned_abs());
    } else {
        let _ = write!(out, "{n}");
    }
}

fn push_u64(out: &mut String, mut v: u64) {
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
fn canonical_json_iterative(value: &Value) -> String {
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
fn push_json_string(out: &mut String, s: &str) {
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
fn tag_of(digest: &[u8]) -> String {
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

/// The key a tool is sorted and matched by: its name, or the canonical JSON of
/// a name that is not a string (`null` when there is none).
fn tool_key(tool: &Value) -> String {
    match tool.get("name") {
        Some(Value::String(name)) => name.clone(),
        Some(other) => canonical_json(other),
        None => "null".to_owned(),
    }
}

/// Builds the snapshot of a tool list (tools whose `name` is not a string are
/// keyed by their canonical JSON so they still count).
///
/// Tools are sorted by name, and tools sharing a name (a spec violation, but
/// it happens) by their canonical JSON, so the order the server listed them in
/// never moves a hash.
pub fn snapshot(tools: &[Value]) -> Snapshot {
    snapshot_owned(tools.to_vec())
}

/// [`snapshot`] of a tool list the caller gives away: no deep copy of the
/// definitions (the probe's path, where the tools were just parsed).
pub fn snapshot_owned(tools: Vec<Value>) -> Snapshot {
    // Sort by name first; only tools sharing a name need their canonical text
    // up front, as the tie-break (so the server's listing order never moves a
    // hash).
    let mut entries: Vec<(String, Option<String>, Value)> = tools
        .into_iter()
        .map(|tool| (tool_key(&tool), None, tool))
        .collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut i = 0;
    while i < entries.len() {
        let mut j = i + 1;
        while j < entries.len() && entries[j].0 == entries[i].0 {
            j += 1;
        }
        if j - i > 1 {
            for e in &mut entries[i..j] {
                e.1 = Some(canonical_json(&e.2));
            }
            entries[i..j].sort_unstable_by(|a, b| a.1.cmp(&b.1));
        }
        i = j;
    }

    // The list's canonical JSON is the sorted tools' canonical JSON joined as
    // an array: the same text `canonical_json` gives for that array. It is fed
    // to the hasher piece by piece, through one reused buffer.
    let mut list = Sha256::new();
    list.update(b"[");
    let mut buf = String::with_capacity(1024);
    let mut tools = Vec::with_capacity(entries.len());
    for (i, (name, canonical, tool)) in entries.into_iter().enumerate() {
        if i > 0 {
            list.update(b",");
        }
        let text = match canonical {
            Some(text) => text,
            None => {
                buf.clear();
                if !write_canonical(&mut buf, &tool, 0) {
                    buf = canonical_json_iterative(&tool);
                }
                std::mem::take(&mut buf)
            }
        };
        list.update(text.as_bytes());
        tools.push(ToolSnapshot {
            name,
            hash: sha256_tag(text.as_bytes()),
            definition: tool,
        });
        // Keep the buffer's capacity for the next tool.
        buf = text;
    }
    list.update(b"]");
    Snapshot {
        format: SNAPSHOT_FORMAT,
        hash: tag_of(list.finalize().as_slice()),
        tools,
    }
}

/// Diff `old` -> `new`. Empty `changes` when the hashes are equal.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Drift {
    let mut changes = Vec::new();
    if old.hash != new.hash {
        let old_by_name = group_by_name(&old.tools);
        let new_by_name = group_by_name(&new.tools);
        for (name, old_tools) in &old_by_name {
            match new_by_name.get(name) {
                None => changes.push(Change::ToolRemoved {
                    tool: (*name).to_owned(),
                }),
                Some(new_tools) => diff_same_name(name, old_tools, new_tools, &mut changes),
            }
        }
        for name in new_by_name.keys() {
            if !old_by_name.contains_key(name) {
                changes.push(Change::ToolAdded {
                    tool: (*name).to_owned(),
                });
            }
        }
    }
    changes.sort_by(|a, b| {
        (a.tool(), a.kind_rank(), a.param()).cmp(&(b.tool(), b.kind_rank(), b.param()))
    });
    Drift {
        breaking: changes.iter().any(Change::is_breaking),
        from_hash: old.hash.clone(),
        to_hash: new.hash.clone(),
        changes,
    }
}

fn group_by_name(tools: &[ToolSnapshot]) -> BTreeMap<&str, Vec<&ToolSnapshot>> {
    let mut map: BTreeMap<&str, Vec<&ToolSnapshot>> = BTreeMap::new();
    for tool in tools {
        map.entry(tool.name.as_str()).or_default().push(tool);
    }
    map
}

/// Compares the tools called `name` on both sides. Normally one each; with
/// duplicate names the first (in snapshot order) of each side is compared in
/// detail and a change among the others is reported as a `ToolChanged`.
fn diff_same_name(
    name: &str,
    old: &[&ToolSnapshot],
    new: &[&ToolSnapshot],
    changes: &mut Vec<Change>,
) {
    let (Some(first_old), Some(first_new)) = (old.first(), new.first()) else {
        return;
    };
    if first_old.hash != first_new.hash {
        diff_tool(name, &first_old.definition, &first_new.definition, changes);
    }
    let rest_old: Vec<&str> = old[1..].iter().map(|t| t.hash.as_str()).collect();
    let rest_new: Vec<&str> = new[1..].iter().map(|t| t.hash.as_str()).collect();
    if rest_old != rest_new {
        changes.push(Change::ToolChanged {
            tool: name.to_owned(),
            detail: format!(
                "duplicate definitions ({} before, {} now)",
                old.len(),
                new.len()
            ),
        });
    }
}

/// A parameter's `type` as the diff sees it: `key` compares (order and
/// duplicates in a type list do not matter), `shown` renders.
#[derive(Debug)]
struct ParamType {
    key: BTreeSet<String>,
    shown: String,
}

fn param_type(schema: &Value) -> ParamType {
    match schema.get("type") {
        None => ParamType {
            key: BTreeSet::new(),
            shown: "any".to_owned(),
        },
        Some(Value::String(t)) => ParamType {
            key: BTreeSet::from([t.clone()]),
            shown: t.clone(),
        },
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            let names: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            ParamType {
                key: names.iter().map(|s| (*s).to_owned()).collect(),
                shown: names.join("|"),
            }
        }
        // Not a valid JSON Schema type: compare and show it verbatim.
        Some(other) => {
            let text = canonical_json(other);
            ParamType {
                key: BTreeSet::from([text.clone()]),
                shown: text,
            }
        }
    }
}

/// The parts of an `inputSchema` the structured changes are about.
struct InputSchema<'a> {
    properties: Option<&'a Map<String, Value>>,
    required: BTreeSet<&'a str>,
}

fn input_schema(definition: &Value) -> InputSchema<'_> {
    let schema = definition.get("inputSchema");
    InputSchema {
        properties: schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object),
        required: schema
            .and_then(|s| s.get("required"))
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
    }
}

/// Compares two definitions of the same tool.
fn diff_tool(name: &str, old: &Value, new: &Value, changes: &mut Vec<Change>) {
    // Stored hashes may come from a baseline file: trust the definitions.
    if canonical_json(old) == canonical_json(new) {
        return;
    }
    let before = changes.len();
    let tool = || name.to_owned();
    let old_schema = input_schema(old);
    let new_schema = input_schema(new);
    let empty = Map::new();
    let old_props = old_schema.properties.unwrap_or(&empty);
    let new_props = new_schema.properties.unwrap_or(&empty);

    for (param, old_param) in old_props {
        let Some(new_param) = new_props.get(param) else {
            changes.push(Change::ParamRemoved {
                tool: tool(),
                param: param.clone(),
            });
            continue;
        };
        let (from, to) = (param_type(old_param), param_type(new_param));
        if from.key != to.key {
            changes.push(Change::ParamRetyped {
                tool: tool(),
                param: param.clone(),
                from: from.shown,
                to: to.shown,
            });
        }
        let was = old_schema.required.contains(param.as_str());
        let is = new_schema.required.contains(param.as_str());
        if is && !was {
            changes.push(Change::RequiredAdded {
                tool: tool(),
                param: param.clone(),
            });
        } else if was && !is {
            changes.push(Change::RequiredRemoved {
                tool: tool(),
                param: param.clone(),
            });
        }
    }
    for param in new_props.keys() {
        if !old_props.contains_key(param) {
            changes.push(Change::ParamAdded {
                tool: tool(),
                param: param.clone(),
                required: new_schema.required.contains(param.as_str()),
            });
        }
    }

    let mut other = Vec::new();
    other_differences(old, new, &mut other);
    if !other.is_empty() {
        changes.push(Change::ToolChanged {
            tool: tool(),
            detail: other.join(", "),
        });
    } else if changes.len() == before {
        // The canonical texts differ but nothing above explains it: only the
        // order or repetition of a list the diff reads as a set changed.
        changes.push(Change::ToolChanged {
            tool: tool(),
            detail: "inputSchema (order or duplicates only)".to_owned(),
        });
    }
}

/// The differences the structured changes do not cover, as paths: top-level
/// keys (`description`, `annotations`, ...), and inside `inputSchema` the keys
/// and parameter schemas whose other parts changed.
fn other_differences(old: &Value, new: &Value, out: &mut Vec<String>) {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        out.push("definition".to_owned());
        return;
    };
    for key in union_keys(old, new) {
        let (a, b) = (old.get(key), new.get(key));
        if key == "inputSchema" {
            if let (Some(Value::Object(a)), Some(Value::Object(b))) = (a, b) {
                schema_differences(a, b, out);
                continue;
            }
        }
        if !same(a, b) {
            out.push(key.to_owned());
        }
    }
}

fn schema_differences(old: &Map<String, Value>, new: &Map<String, Value>, out: &mut Vec<String>) {
    let old_props = old.get("properties").and_then(Value::as_object);
    let new_props = new.get("properties").and_then(Value::as_object);
    for key in union_keys(old, new) {
        let (a, b) = (old.get(key), new.get(key));
        match key {
            "properties" => match (old_props, new_props) {
                (Some(a), Some(b)) => {
                    // Parameters on one side only are ParamAdded / ParamRemoved;
                    // for the others, everything but `type` is left to say.
                    for (param, a) in a {
                        if let Some(b) = b.get(param) {
                            if !same(Some(&without_type(a)), Some(&without_type(b))) {
                                out.push(format!("inputSchema.properties.{param}"));
                            }
                        }
                    }
                }
                _ if !same(a, b) => out.push("inputSchema.properties".to_owned()),
                _ => {}
            },
            // Required-ness of known parameters is reported per parameter;
            // what is left is `required` naming unknown parameters, or not
            // being a list of names at all.
            "required" => {
                let unknown = |name: &&str| {
                    !old_props.is_some_and(|p| p.contains_key(*name))
                        && !new_props.is_some_and(|p| p.contains_key(*name))
                };
                let names = |v: Option<&Value>| -> Option<BTreeSet<String>> {
                    match v {
                        None => Some(BTreeSet::new()),
                        Some(Value::Array(items)) => Some(
                            items
                                .iter()
                                .filter_map(Value::as_str)
                                .filter(unknown)
                                .map(str::to_owned)
                                .collect(),
                        ),
                        Some(_) => None,
                    }
                };
                let explained = match (names(a), names(b)) {
                    (Some(a), Some(b)) => a == b,
                    _ => same(a, b),
                };
                if !explained {
                    out.push("inputSchema.required".to_owned());
                }
            }
            _ if !same(a, b) => out.push(format!("inputSchema.{key}")),
            _ => {}
        }
    }
}

fn union_keys<'a>(a: &'a Map<String, Value>, b: &'a Map<String, Value>) -> BTreeSet<&'a str> {
    a.keys().chain(b.keys()).map(String::as_str).collect()
}

/// Equal as canonical JSON (so key order never counts), absent equal to absent.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => canonical_json(a) == canonical_json(b),
        _ => false,
    }
}

fn without_type(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut map = map.clone();
            map.remove("type");
            Value::Object(map)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn weather() -> Value {
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

    fn search() -> Value {
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

    fn ping() -> Value {
        json!({"name": "ping", "inputSchema": {"type": "object"}})
    }

    /// Applies `edit` to a copy of `weather()` and diffs the snapshots.
    fn drift_of(edit: impl FnOnce(&mut Value)) -> Drift {
        let mut changed = weather();
        edit(&mut changed);
        diff(
            &snapshot(&[weather(), ping()]),
            &snapshot(&[changed, ping()]),
        )
    }

    /// Rebuilds `v` with every object's keys in reverse order.
    fn reverse_keys(v: &Value) -> Value {
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

    #[test]
    fn snapshot_sorts_tools_and_hashes_the_canonical_list() {
        let snap = snapshot(&[weather(), search(), ping()]);
        assert_eq!(snap.format, 1);
        let names: Vec<&str> = snap.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["get_weather", "ping", "search"]);
        let sorted = json!([weather(), ping(), search()]);
        assert_eq!(snap.hash, sha256_tag(canonical_json(&sorted).as_bytes()));
        assert_eq!(
            snap.tools[0].hash,
            sha256_tag(canonical_json(&weather()).as_bytes())
        );
        assert_eq!(snap.tools[0].definition, weather());
        assert!(snap.hash.starts_with("sha256:") && snap.hash.len() == 7 + 64);
    }

    #[test]
    fn reordering_tools_or_keys_leaves_every_hash_unchanged() {
        let a = snapshot(&[weather(), search(), ping()]);
        let b = snapshot(&[
            reverse_keys(&ping()),
            reverse_keys(&search()),
            reverse_keys(&weather()),
        ]);
        // The keys really were reordered.
        assert_ne!(
            serde_json::to_string(&weather()).unwrap(),
            serde_json::to_string(&reverse_keys(&weather())).unwrap()
        );
        assert_eq!(a.hash, b.hash);
        for (x, y) in a.tools.iter().zip(&b.tools) {
            assert_eq!((&x.name, &x.hash), (&y.name, &y.hash));
        }
        let d = diff(&a, &b);
        assert!(d.changes.is_empty() && !d.breaking);
    }

    #[test]
    fn duplicate_and_nameless_tools_still_order_deterministically() {
        let dup1 = json!({"name": "x", "description": "one"});
        let dup2 = json!({"name": "x", "description": "two"});
        let nameless = json!({"description": "no name"});
        let numbered = json!({"name": 7});
        let a = snapshot(&[
            dup1.clone(),
            nameless.clone(),
            dup2.clone(),
            numbered.clone(),
        ]);
        let b = snapshot(&[numbered, dup2, nameless, dup1]);
        assert_eq!(a.hash, b.hash);
        let names: Vec<&str> = a.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["7", "null", "x", "x"]);
    }

    #[test]
    fn any_real_change_moves_the_hash() {
        let base = snapshot(&[weather(), ping()]);
        let edits: Vec<fn(&mut Value)> = vec![
            |t| t["description"] = json!("Current weather for a town"),
            |t| t["inputSchema"]["properties"]["city"]["type"] = json!("integer"),
            |t| t["annotations"]["readOnlyHint"] = json!(false),
            |t| t["inputSchema"]["required"] = json!([]),
            |t| t["inputSchema"]["properties"]["units"]["enum"] = json!(["imperial", "metric"]),
            |t| t["description"] = json!("Current weather for a city "),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut tool = weather();
            edit(&mut tool);
            let changed = snapshot(&[tool, ping()]);
            assert_ne!(changed.hash, base.hash, "edit {i}");
            assert_ne!(changed.tools[0].hash, base.tools[0].hash, "edit {i}");
            // The other tool's hash does not move.
            assert_eq!(changed.tools[1].hash, base.tools[1].hash, "edit {i}");
        }
        // Adding or removing a tool moves the list hash.
        assert_ne!(snapshot(&[weather()]).hash, base.hash);
        assert_ne!(snapshot(&[weather(), ping(), search()]).hash, base.hash);
    }

    #[test]
    fn identical_snapshots_diff_to_nothing() {
        let a = snapshot(&[weather(), search()]);
        let d = diff(&a, &a.clone());
        assert_eq!(
            d,
            Drift {
                breaking: false,
                from_hash: a.hash.clone(),
                to_hash: a.hash.clone(),
                changes: vec![],
            }
        );
    }

    #[test]
    fn tool_added_is_not_breaking_tool_removed_is() {
        let d = diff(&snapshot(&[weather()]), &snapshot(&[weather(), ping()]));
        assert_eq!(
            d.changes,
            vec![Change::ToolAdded {
                tool: "ping".into()
            }]
        );
        assert!(!d.breaking);
        let d = diff(&snapshot(&[weather(), ping()]), &snapshot(&[weather()]));
        assert_eq!(
            d.changes,
            vec![Change::ToolRemoved {
                tool: "ping".into()
            }]
        );
        assert!(d.breaking);
    }

    #[test]
    fn param_added_optional_vs_required() {
        let d = drift_of(|t| {
            t["inputSchema"]["properties"]["lang"] = json!({"type": "string"});
        });
        assert_eq!(
            d.changes,
            vec![Change::ParamAdded {
                tool: "get_weather".into(),
                param: "lang".into(),
                required: false
            }]
        );
        assert!(!d.breaking);

        let d = drift_of(|t| {
            t["inputSchema"]["properties"]["lang"] = json!({"type": "string"});
            t["inputSchema"]["required"] = json!(["city", "lang"]);
        });
        // A new required parameter is ParamAdded{required}, not also RequiredAdded.
        assert_eq!(
            d.changes,
            vec![Change::ParamAdded {
                tool: "get_weather".into(),
                param: "lang".into(),
                required: true
            }]
        );
        assert!(d.breaking);
    }

    #[test]
    fn param_removed_is_breaking() {
        let d = drift_of(|t| {
            t["inputSchema"]["properties"]
                .as_object_mut()
                .unwrap()
                .remove("units");
        });
        assert_eq!(
            d.changes,
            vec![Change::ParamRemoved {
                tool: "get_weather".into(),
                param: "units".into()
            }]
        );
        assert!(d.breaking);
    }

    #[test]
    fn param_retyped_is_breaking_and_renders_type_lists() {
        let d = drift_of(|t| {
            t["inputSchema"]["properties"]["city"]["type"] = json!(["string", "null"]);
            t["inputSchema"]["properties"]["units"]
                .as_object_mut()
                .unwrap()
                .remove("type");
        });
        assert_eq!(
            d.changes,
            vec![
                Change::ParamRetyped {
                    tool: "get_weather".into(),
                    param: "city".into(),
                    from: "string".into(),
                    to: "string|null".into()
                },
                Change::ParamRetyped {
                    tool: "get_weather".into(),
                    param: "units".into(),
                    from: "string".into(),
                    to: "any".into()
                },
            ]
        );
        assert!(d.breaking);
    }

    #[test]
    fn reordering_a_type_list_is_not_a_retype() {
        let mut a = weather();
        a["inputSchema"]["properties"]["city"]["type"] = json!(["string", "null"]);
        let mut b = weather();
        b["inputSchema"]["properties"]["city"]["type"] = json!(["null", "string"]);
        let d = diff(&snapshot(&[a]), &snapshot(&[b]));
        assert_eq!(
            d.changes,
            vec![Change::ToolChanged {
                tool: "get_weather".into(),
                detail: "inputSchema (order or duplicates only)".into()
            }]
        );
        assert!(!d.breaking);
    }

    #[test]
    fn required_added_and_removed() {
        let d = drift_of(|t| t["inputSchema"]["required"] = json!(["city", "units"]));
        assert_eq!(
            d.changes,
            vec![Change::RequiredAdded {
                tool: "get_weather".into(),
                param: "units".into()
            }]
        );
        assert!(d.breaking);

        let d = drift_of(|t| t["inputSchema"]["required"] = json!([]));
        assert_eq!(
            d.changes,
            vec![Change::RequiredRemoved {
                tool: "get_weather".into(),
                param: "city".into()
            }]
        );
        assert!(!d.breaking);
    }

    #[test]
    fn other_changes_name_the_keys_that_differ() {
        let d = drift_of(|t| {
            t["description"] = json!("Weather now");
            t["annotations"] = json!({"readOnlyHint": false});
            t["title"] = json!("Weather");
            t["inputSchema"]["properties"]["units"]["enum"] = json!(["metric"]);
            t["inputSchema"]["additionalProperties"] = json!(false);
        });
        assert_eq!(
            d.changes,
            vec![Change::ToolChanged {
                tool: "get_weather".into(),
                detail: "annotations, description, inputSchema.additionalProperties, \
                         inputSchema.properties.units, title"
                    .into()
            }]
        );
        assert!(!d.breaking);
        // A retype alone says nothing else changed.
        let d = drift_of(|t| t["inputSchema"]["properties"]["units"]["type"] = json!("integer"));
        assert_eq!(d.changes.len(), 1);
        assert_eq!(d.changes[0].kind(), "param_retyped");
    }

    #[test]
    fn changes_are_ordered_by_tool_then_kind() {
        let mut w = weather();
        w["description"] = json!("changed");
        w["inputSchema"]["properties"]["zzz"] = json!({"type": "string"});
        w["inputSchema"]["properties"]["aaa"] = json!({"type": "string"});
        w["inputSchema"]["properties"]["city"]["type"] = json!("number");
        w["inputSchema"]["required"] = json!(["units"]);
        let old = snapshot(&[search(), weather(), ping()]);
        let new = snapshot(&[json!({"name": "alpha"}), w]);
        let d = diff(&old, &new);
        let got: Vec<(String, &str, Option<&str>)> = d
            .changes
            .iter()
            .map(|c| (c.tool().to_owned(), c.kind(), c.param()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("alpha".into(), "tool_added", None),
                ("get_weather".into(), "param_added", Some("aaa")),
                ("get_weather".into(), "param_added", Some("zzz")),
                ("get_weather".into(), "param_retyped", Some("city")),
                ("get_weather".into(), "required_added", Some("units")),
                ("get_weather".into(), "required_removed", Some("city")),
                ("get_weather".into(), "tool_changed", None),
                ("ping".into(), "tool_removed", None),
                ("search".into(), "tool_removed", None),
            ]
        );
        assert!(d.breaking);
        // Deterministic: the same inputs in another order give the same diff.
        let again = diff(
            &snapshot(&[ping(), weather(), search()]),
            &snapshot(&[new.tools[1].definition.clone(), json!({"name": "alpha"})]),
        );
        assert_eq!(again, d);
    }

    #[test]
    fn breaking_judgement_per_kind() {
        let t = || "t".to_owned();
        let p = || "p".to_owned();
        let table = [
            (Change::ToolAdded { tool: t() }, false),
            (Change::ToolRemoved { tool: t() }, true),
            (
                Change::ParamAdded {
                    tool: t(),
                    param: p(),
                    required: false,
                },
                false,
            ),
            (
                Change::ParamAdded {
                    tool: t(),
                    param: p(),
                    required: true,
                },
                true,
            ),
            (
                Change::ParamRemoved {
                    tool: t(),
                    param: p(),
                },
                true,
            ),
            (
                Change::ParamRetyped {
                    tool: t(),
                    param: p(),
                    from: "a".into(),
                    to: "b".into(),
                },
                true,
            ),
            (
                Change::RequiredAdded {
                    tool: t(),
                    param: p(),
                },
                true,
            ),
            (
                Change::RequiredRemoved {
                    tool: t(),
                    param: p(),
                },
                false,
            ),
            (
                Change::ToolChanged {
                    tool: t(),
                    detail: "description".into(),
                },
                false,
            ),
        ];
        for (change, breaking) in table {
            assert_eq!(change.is_breaking(), breaking, "{change:?}");
        }
    }

    #[test]
    fn change_json_uses_kind_tags() {
        let c = Change::ParamRetyped {
            tool: "t".into(),
            param: "p".into(),
            from: "string".into(),
            to: "integer".into(),
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"param_retyped","tool":"t","param":"p","from":"string","to":"integer"}"#
        );
        assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), c);
    }

    #[test]
    fn snapshot_round_trips_through_serde_json() {
        let snap = snapshot(&[weather(), search(), json!({"name": 3, "x": [1.5, null]})]);
        let text = serde_json::to_string_pretty(&snap).unwrap();
        let back: Snapshot = serde_json::from_str(&text).unwrap();
        assert_eq!(back, snap);
        // And the definitions still hash to what was stored.
        for tool in &back.tools {
            assert_eq!(
                tool.hash,
                sha256_tag(canonical_json(&tool.definition).as_bytes())
            );
        }
        assert_eq!(diff(&snap, &back).changes, vec![]);
    }

    #[test]
    fn duplicate_definitions_are_reported() {
        let one = json!({"name": "x", "description": "one"});
        let two = json!({"name": "x", "description": "two"});
        let d = diff(&snapshot(&[one.clone(), two]), &snapshot(&[one]));
        assert_eq!(
            d.changes,
            vec![Change::ToolChanged {
                tool: "x".into(),
                detail: "duplicate definitions (2 before, 1 now)".into()
            }]
        );
    }
}
