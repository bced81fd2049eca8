//! The snapshot of a tool list: tools sorted by name, a hash per tool and
//! one over the whole canonical list; what a baseline file holds and what the
//! Worker stores once per hash.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::canonical::{
    canonical_json, canonical_json_iterative, sha256_tag, tag_of, write_canonical,
};

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

/// The key a tool is sorted and matched by: its name, or the canonical JSON of
/// a name that is not a string (`null` when there is none).
pub(super) fn tool_key(tool: &Value) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::fixtures::{ping, search, weather};
    use serde_json::json;

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
}
