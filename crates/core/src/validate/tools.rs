//! `tools/list`: each tool, its input and output schemas, its annotations,
//! and names unique across the list.

use serde_json::{Map, Value};

use super::handshake::{check_icons, object_of_objects};
use super::rules as r;
use super::sink::{check_enum, check_value, member, Got, Path, Sink, Want};
use super::spec::Spec;

/// Tool lists up to this long are checked for duplicate names by comparing
/// every pair (no allocation); longer ones sort a vector of borrowed names.
pub const UNIQUE_BY_SCAN_MAX: usize = 32;

pub(super) fn tools_list(
    spec: Spec,
    s: &mut Sink,
    at: &Path<'_>,
    result: &Map<String, Value>,
    tools_misplaced: bool,
) {
    let tools = match result.get("tools") {
        Some(Value::Array(tools)) => Some(tools),
        // A top-level `tools` was already reported as `tools.in-result`.
        None if tools_misplaced => None,
        other => {
            s.push(
                r::TOOLS_ARRAY,
                &at.key("tools"),
                format_args!("expected tools to be an array, got {}", Got(other)),
            );
            None
        }
    };
    member(
        s,
        r::TOOLS_NEXT_CURSOR,
        at,
        result,
        "nextCursor",
        Want::Str,
        false,
    );
    let Some(tools) = tools else { return };
    let here = at.key("tools");
    for (i, t) in tools.iter().enumerate() {
        tool(spec, s, &here.index(i), t);
    }
    unique_names(s, &here, tools);
}

/// One `Tool`, walked member by member (the hot path of a big list).
pub(super) fn tool(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value) {
    let Some(t) = value.as_object() else {
        check_value(s, r::TOOL_OBJECT, at, "a tool", value, Want::Obj);
        return;
    };
    let (mut saw_name, mut saw_input) = (false, false);
    for (key, v) in t {
        let here = at.key(key);
        match key.as_str() {
            "name" => {
                saw_name = true;
                check_value(s, r::TOOL_NAME_STRING, &here, "name", v, Want::Str);
            }
            "inputSchema" => {
                saw_input = true;
                tool_schema(spec, s, &here, v, true);
            }
            "description" => {
                check_value(s, r::TOOL_DESCRIPTION, &here, key, v, Want::Str);
            }
            "title" if spec.since_2025_06() => {
                check_value(s, r::TOOL_TITLE, &here, key, v, Want::Str);
            }
            "annotations" if spec.since_2025_03() => tool_annotations(s, &here, v),
            "outputSchema" if spec.since_2025_06() => tool_schema(spec, s, &here, v, false),
            "execution" if spec.tasks() => {
                let Some(ex) = v.as_object() else {
                    check_value(s, r::TOOL_EXECUTION, &here, key, v, Want::Obj);
                    continue;
                };
                if let Some(support) = ex.get("taskSupport") {
                    check_enum(
                        s,
                        r::TOOL_EXECUTION,
                        &here.key("taskSupport"),
                        "taskSupport",
                        Some(support),
                        &["forbidden", "optional", "required"],
                    );
                }
            }
            "_meta" if spec.since_2025_06() => {
                check_value(s, r::TOOL_META, &here, key, v, Want::Obj);
            }
            "icons" if spec.since_2025_11() => check_icons(s, &here, v),
            _ => {}
        }
    }
    if !saw_name {
        s.push(
            r::TOOL_NAME_STRING,
            &at.key("name"),
            format_args!("expected name to be a string, got nothing"),
        );
    }
    if !saw_input {
        s.push(
            r::TOOL_INPUT_SCHEMA_OBJECT,
            &at.key("inputSchema"),
            format_args!("expected inputSchema to be a JSON Schema object, got nothing"),
        );
    }
}

/// A tool's `inputSchema` (`input`) or `outputSchema`, as each revision types it.
pub(super) fn tool_schema(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value, input: bool) {
    let (what, object_rule, type_rule, shape_rule) = if input {
        (
            "inputSchema",
            r::TOOL_INPUT_SCHEMA_OBJECT,
            r::TOOL_INPUT_SCHEMA_TYPE,
            r::TOOL_INPUT_SCHEMA_SHAPE,
        )
    } else {
        (
            "outputSchema",
            r::TOOL_OUTPUT_SCHEMA,
            r::TOOL_OUTPUT_SCHEMA,
            r::TOOL_OUTPUT_SCHEMA,
        )
    };
    let Some(schema) = value.as_object() else {
        // The classic breach: a schema serialised into a string.
        s.push(
            object_rule,
            at,
            format_args!(
                "expected {what} to be a JSON object, got {}",
                Got(Some(value))
            ),
        );
        return;
    };
    // 2026-07-28 no longer requires `outputSchema.type`.
    let type_required = input || spec.typed_output();
    let typed_members = spec.typed_schema_members() && type_required;
    let mut saw_type = false;
    for (key, v) in schema {
        let here = at.key(key);
        match key.as_str() {
            "type" if type_required => {
                saw_type = true;
                if v.as_str() != Some("object") {
                    s.push(
                        type_rule,
                        &here,
                        format_args!(
                            "expected {what}.type to be \"object\", got {}",
                            Got(Some(v))
                        ),
                    );
                }
            }
            "properties" if typed_members => object_of_objects(s, shape_rule, &here, key, v),
            "required" if typed_members => {
                if let Some(names) = v.as_array() {
                    for (i, name) in names.iter().enumerate() {
                        check_value(s, shape_rule, &here.index(i), "required", name, Want::Str);
                    }
                } else {
                    check_value(s, shape_rule, &here, key, v, Want::Arr);
                }
            }
            "$schema" if spec.since_2025_11() => {
                check_value(s, shape_rule, &here, key, v, Want::Str);
            }
            _ => {}
        }
    }
    if type_required && !saw_type {
        s.push(
            type_rule,
            &at.key("type"),
            format_args!("expected {what}.type to be \"object\", got nothing"),
        );
    }
}

/// `ToolAnnotations` (2025-03-26 on): boolean hints and a string title.
pub(super) fn tool_annotations(s: &mut Sink, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::TOOL_ANNOTATIONS;
    let Some(a) = value.as_object() else {
        check_value(s, RULE, at, "annotations", value, Want::Obj);
        return;
    };
    for (key, v) in a {
        match key.as_str() {
            "readOnlyHint" | "destructiveHint" | "idempotentHint" | "openWorldHint" => {
                check_value(s, RULE, &at.key(key), key, v, Want::Bool);
            }
            "title" => {
                check_value(s, RULE, &at.key(key), key, v, Want::Str);
            }
            _ => {}
        }
    }
}

/// Reports every tool whose string name repeats an earlier one, pointing at
/// the later tool's name. Non-string names are `tool.name-string`'s business.
pub(super) fn unique_names(s: &mut Sink, at: &Path<'_>, tools: &[Value]) {
    fn name(t: &Value) -> Option<&str> {
        t.get("name").and_then(Value::as_str)
    }
    fn report(s: &mut Sink, at: &Path<'_>, later: usize, first: usize, n: &str) {
        s.push(
            r::TOOL_NAME_UNIQUE,
            &at.index(later).key("name"),
            format_args!("expected a unique tool name, got {n:?} again (first at index {first})"),
        );
    }
    if tools.len() <= UNIQUE_BY_SCAN_MAX {
        for (i, t) in tools.iter().enumerate().skip(1) {
            let Some(n) = name(t) else { continue };
            if let Some(first) = tools[..i].iter().position(|u| name(u) == Some(n)) {
                report(s, at, i, first, n);
            }
        }
        return;
    }
    // One allocation, sized up front (`filter_map` would grow it step by step).
    let mut names: Vec<(&str, usize)> = Vec::with_capacity(tools.len());
    names.extend(
        tools
            .iter()
            .enumerate()
            .filter_map(|(i, t)| name(t).map(|n| (n, i))),
    );
    // Sorting by (name, index) puts each name's first occurrence at the head
    // of its run.
    names.sort_unstable();
    let mut dups: Vec<(usize, usize)> = Vec::new();
    for run in names.chunk_by(|a, b| a.0 == b.0) {
        if let Some(((_, first), rest)) = run.split_first() {
            dups.extend(rest.iter().map(|&(_, later)| (later, *first)));
        }
    }
    // Report in document order, like the short path.
    dups.sort_unstable();
    for (later, first) in dups {
        if let Some(n) = name(&tools[later]) {
            report(s, at, later, first, n);
        }
    }
}
