//! The drift diff of two snapshots, each change judged breaking or not by the
//! rules of `failure-modes.md`: breaking when a tool or parameter
//! disappeared, a parameter's type changed, or a parameter became required.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::canonical::canonical_json;
use super::change::{Change, Drift};
use super::snapshot::{Snapshot, ToolSnapshot};

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

pub(super) fn group_by_name(tools: &[ToolSnapshot]) -> BTreeMap<&str, Vec<&ToolSnapshot>> {
    let mut map: BTreeMap<&str, Vec<&ToolSnapshot>> = BTreeMap::new();
    for tool in tools {
        map.entry(tool.name.as_str()).or_default().push(tool);
    }
    map
}

/// Compares the tools called `name` on both sides. Normally one each; with
/// duplicate names the first (in snapshot order) of each side is compared in
/// detail and a change among the others is reported as a `ToolChanged`.
pub(super) fn diff_same_name(
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
pub(super) struct ParamType {
    key: BTreeSet<String>,
    shown: String,
}

pub(super) fn param_type(schema: &Value) -> ParamType {
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
pub(super) struct InputSchema<'a> {
    properties: Option<&'a Map<String, Value>>,
    required: BTreeSet<&'a str>,
}

pub(super) fn input_schema(definition: &Value) -> InputSchema<'_> {
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
pub(super) fn diff_tool(name: &str, old: &Value, new: &Value, changes: &mut Vec<Change>) {
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
pub(super) fn other_differences(old: &Value, new: &Value, out: &mut Vec<String>) {
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

pub(super) fn schema_differences(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    out: &mut Vec<String>,
) {
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

pub(super) fn union_keys<'a>(
    a: &'a Map<String, Value>,
    b: &'a Map<String, Value>,
) -> BTreeSet<&'a str> {
    a.keys().chain(b.keys()).map(String::as_str).collect()
}

/// Equal as canonical JSON (so key order never counts), absent equal to absent.
pub(super) fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => canonical_json(a) == canonical_json(b),
        _ => false,
    }
}

pub(super) fn without_type(schema: &Value) -> Value {
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
    use crate::fingerprint::canonical::sha256_tag;
    use crate::fingerprint::fixtures::{ping, reverse_keys, search, weather};
    use crate::fingerprint::snapshot::snapshot;
    use serde_json::json;

    /// Applies `edit` to a copy of `weather()` and diffs the snapshots.
    fn drift_of(edit: impl FnOnce(&mut Value)) -> Drift {
        let mut changed = weather();
        edit(&mut changed);
        diff(
            &snapshot(&[weather(), ping()]),
            &snapshot(&[changed, ping()]),
        )
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
