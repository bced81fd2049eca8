//! `tools/call`: the call result and an `input_required` result (their
//! content blocks are judged in `content.rs`).

use serde_json::{Map, Value};

use super::content::content_block;
use super::rules as r;
use super::sink::{check_enum, check_value, member, Path, Sink, Want};
use super::spec::Spec;

pub(super) fn call_tool_result(
    spec: Spec,
    s: &mut Sink,
    at: &Path<'_>,
    result: &Map<String, Value>,
) {
    if let Some(Value::Array(blocks)) =
        member(s, r::CALL_CONTENT, at, result, "content", Want::Arr, true)
    {
        let here = at.key("content");
        for (i, block) in blocks.iter().enumerate() {
            content_block(spec, s, &here.index(i), block);
        }
    }
    member(
        s,
        r::CALL_IS_ERROR,
        at,
        result,
        "isError",
        Want::Bool,
        false,
    );
    if spec.typed_output() {
        member(
            s,
            r::CALL_STRUCTURED_CONTENT,
            at,
            result,
            "structuredContent",
            Want::Obj,
            false,
        );
    }
}

/// A modern `InputRequiredResult`: `inputRequests` (an object of requests) or
/// `requestState` (a string), at least one of them. The requests' params are
/// checked to be objects, not deeper.
pub(super) fn input_required(s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    const RULE: &str = r::CALL_INPUT_REQUIRED;
    const METHODS: &[&str] = &["sampling/createMessage", "roots/list", "elicitation/create"];
    member(s, RULE, at, result, "requestState", Want::Str, false);
    let requests = member(s, RULE, at, result, "inputRequests", Want::Obj, false);
    if let Some(Value::Object(requests)) = requests {
        let here = at.key("inputRequests");
        for (key, req) in requests {
            let here = here.key(key);
            let Some(req) = req.as_object() else {
                check_value(s, RULE, &here, "an input request", req, Want::Obj);
                continue;
            };
            let method = req.get("method");
            if check_enum(s, RULE, &here.key("method"), "method", method, METHODS) {
                let needs_params = method.and_then(Value::as_str) != Some("roots/list");
                member(s, RULE, &here, req, "params", Want::Obj, needs_params);
            }
        }
    }
    if !result.contains_key("requestState") && !result.contains_key("inputRequests") {
        s.push(
            RULE,
            at,
            format_args!(
                "expected inputRequests or requestState in an input_required result, got neither"
            ),
        );
    }
}
