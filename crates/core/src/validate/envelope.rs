//! The JSON-RPC envelope: `jsonrpc`, an `id` that echoes the request's,
//! exactly one of result and error, the error's shape, and `tools` found
//! beside `result` instead of inside it.

use serde_json::{Map, Value};

use super::results::{check_result, Answer};
use super::rules as r;
use super::sink::{member, Got, Path, Sink, Want};
use super::spec::Spec;
use crate::revision::Revision;

pub(super) fn judge_message(
    s: &mut Sink,
    rev: Revision,
    answer: Answer,
    request_id: &Value,
    message: &Value,
) {
    let root = Path::ROOT;
    let Some(msg) = message.as_object() else {
        s.push(
            r::MESSAGE_OBJECT,
            &root,
            format_args!(
                "expected a JSON-RPC response object, got {}",
                Got(Some(message))
            ),
        );
        return;
    };

    match msg.get("jsonrpc") {
        Some(Value::String(v)) if v == "2.0" => {}
        other => s.push(
            r::VERSION,
            &root.key("jsonrpc"),
            format_args!("expected jsonrpc to be \"2.0\", got {}", Got(other)),
        ),
    }
    // serde_json compares numbers by representation, so `2.0` does not echo
    // `2`: a strict client matching ids by JSON value would miss it too.
    match msg.get("id") {
        Some(id) if id == request_id => {}
        other => s.push(
            r::ID,
            &root.key("id"),
            format_args!(
                "expected id to echo the request's {request_id}, got {}",
                Got(other)
            ),
        ),
    }

    let tools_list = answer == Answer::ToolsList;
    match (msg.get("result"), msg.get("error")) {
        (Some(_), Some(error)) => {
            s.push(
                r::RESULT_XOR_ERROR,
                &root,
                format_args!("expected exactly one of result and error, got both"),
            );
            check_error(s, &root.key("error"), error);
        }
        (None, Some(error)) => check_error(s, &root.key("error"), error),
        (None, None) => {
            s.push(
                r::RESULT_XOR_ERROR,
                &root,
                format_args!("expected one of result and error, got neither"),
            );
            if tools_list {
                tools_beside_result(s, msg, None);
            }
        }
        (Some(result), None) => {
            let here = root.key("result");
            let obj = result.as_object();
            let misplaced = tools_list && tools_beside_result(s, msg, obj);
            match obj {
                Some(obj) => check_result(Spec(rev), answer, s, &here, obj, misplaced),
                None => s.push(
                    r::RESULT_OBJECT,
                    &here,
                    format_args!("expected result to be an object, got {}", Got(Some(result))),
                ),
            }
        }
    }
}

pub(super) fn check_error(s: &mut Sink, at: &Path<'_>, error: &Value) {
    let Some(e) = error.as_object() else {
        s.push(
            r::ERROR_SHAPE,
            at,
            format_args!("expected error to be an object, got {}", Got(Some(error))),
        );
        return;
    };
    member(s, r::ERROR_SHAPE, at, e, "code", Want::Int, true);
    member(s, r::ERROR_SHAPE, at, e, "message", Want::Str, true);
}

/// Reports a top-level `tools` member of a `tools/list` answer. Returns true
/// when it stands in for a missing `result.tools` (already reported, then).
pub(super) fn tools_beside_result(
    s: &mut Sink,
    msg: &Map<String, Value>,
    result: Option<&Map<String, Value>>,
) -> bool {
    if !msg.contains_key("tools") {
        return false;
    }
    let at = Path::ROOT.key("tools");
    if result.is_some_and(|r| r.contains_key("tools")) {
        s.push(
            r::TOOLS_IN_RESULT,
            &at,
            format_args!("expected tools only inside result, got a second tools member beside it"),
        );
        false
    } else {
        s.push(
            r::TOOLS_IN_RESULT,
            &at,
            format_args!("expected tools inside result, got it beside result"),
        );
        true
    }
}
