//! Start here: the tool-list fingerprint and drift diff.
//!
//! Canonical JSON (object keys sorted, no insignificant whitespace, tools sorted
//! by name) hashed with SHA-256, a hash per tool, and a diff of two snapshots
//! judged breaking or not by the rules of `failure-modes.md`: breaking when a
//! tool or parameter disappeared, a parameter's type changed, or a parameter
//! became required.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    ToolAdded { tool: String },
    ToolRemoved { tool: String },
    ParamAdded { tool: String, param: String, required: bool },
    ParamRemoved { tool: String, param: String },
    ParamRetyped { tool: String, param: String, from: String, to: String },
    RequiredAdded { tool: String, param: String },
    RequiredRemoved { tool: String, param: String },
    /// Anything else in the tool's definition changed (description, annotations,
    /// output schema, nested schema details): not breaking on its own.
    ToolChanged { tool: String, detail: String },
}

impl Change {
    pub fn is_breaking(&self) -> bool {
        todo!("breaking rules")
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

/// Canonical JSON text of a value: keys sorted (by UTF-16? no: by Rust string
/// order of the UTF-8 keys), no whitespace, numbers as serde_json prints them.
pub fn canonical_json(value: &Value) -> String {
    let _ = value;
    todo!("canonical json")
}

/// `sha256:<lowercase hex>` of some bytes.
pub fn sha256_tag(bytes: &[u8]) -> String {
    let _ = bytes;
    todo!("sha256")
}

/// Builds the snapshot of a tool list (tools whose `name` is not a string are
/// keyed by their canonical JSON so they still count).
pub fn snapshot(tools: &[Value]) -> Snapshot {
    let _ = tools;
    todo!("snapshot")
}

/// Diff `old` -> `new`. Empty `changes` when the hashes are equal.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Drift {
    let _ = (old, new);
    todo!("diff")
}
