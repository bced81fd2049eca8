//! Which answer a message is, and the members every result carries
//! (`_meta`, a modern `resultType`, cache hints), then the result shape of
//! each answer, handed to its rule family.

use serde_json::{Map, Value};

use super::call::{call_tool_result, input_required};
use super::handshake::{discover_result, implementation, initialize};
use super::listings::{prompts_list, resources_list};
use super::rules as r;
use super::sink::{check_enum, member, Got, Path, Sink, Want};
use super::spec::Spec;
use super::tools::tools_list;
use crate::revision::Revision;

/// Which answer a message is, so the right result shape is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `server/discover` (modern).
    Discover,
    /// `initialize` (legacy).
    Initialize,
    ToolsList,
    ToolsCall,
    ResourcesList,
    PromptsList,
}

impl Answer {
    /// The MCP method this is the answer to.
    pub fn method(self) -> &'static str {
        match self {
            Answer::Discover => "server/discover",
            Answer::Initialize => "initialize",
            Answer::ToolsList => "tools/list",
            Answer::ToolsCall => "tools/call",
            Answer::ResourcesList => "resources/list",
            Answer::PromptsList => "prompts/list",
        }
    }
}

pub(super) fn check_result(
    spec: Spec,
    answer: Answer,
    s: &mut Sink,
    at: &Path<'_>,
    result: &Map<String, Value>,
    tools_misplaced: bool,
) {
    let discover = answer == Answer::Discover;
    // `server/discover` only exists in the modern era, so it always gets the
    // modern rules; see `validate_response`.
    let spec = if discover && !spec.modern() {
        Spec(Revision::LATEST_MODERN)
    } else {
        spec
    };
    result_meta(spec, s, at, result);
    let result_type = if spec.modern() {
        result_type(s, at, result, answer == Answer::ToolsCall)
    } else {
        None
    };
    let cacheable = spec.modern()
        && matches!(
            answer,
            Answer::Discover | Answer::ToolsList | Answer::ResourcesList | Answer::PromptsList
        );

    match answer {
        Answer::Initialize => initialize(spec, s, at, result),
        Answer::Discover => discover_result(spec, s, at, result),
        Answer::ToolsList => tools_list(spec, s, at, result, tools_misplaced),
        Answer::ToolsCall if spec.modern() && result_type == Some("input_required") => {
            input_required(s, at, result)
        }
        Answer::ToolsCall => call_tool_result(spec, s, at, result),
        Answer::ResourcesList => resources_list(spec, s, at, result),
        Answer::PromptsList => prompts_list(spec, s, at, result),
    }
    if cacheable {
        cache_hints(s, at, result);
    }
}

/// `_meta` of any result: an object; in 2026-07-28 a `ResultMetaObject` whose
/// `io.modelcontextprotocol/serverInfo`, when present, is an `Implementation`.
pub(super) fn result_meta(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    let Some(Value::Object(meta)) =
        member(s, r::RESULT_META, at, result, "_meta", Want::Obj, false)
    else {
        return;
    };
    if spec.modern() {
        const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
        if let Some(info) = meta.get(SERVER_INFO) {
            let here = at.key("_meta");
            implementation(spec, s, r::RESULT_META, &here.key(SERVER_INFO), info);
        }
    }
}

/// Modern `resultType`: required, and one this client knows. Only `tools/call`
/// may answer `"input_required"` among the answers judged here: the 2026-07-28
/// schema admits an `InputRequiredResult` for it and for none of the others.
/// Returns the value when it is acceptable.
pub(super) fn result_type<'v>(
    s: &mut Sink,
    at: &Path<'_>,
    result: &'v Map<String, Value>,
    may_need_input: bool,
) -> Option<&'v str> {
    let allowed: &[&str] = if may_need_input {
        &["complete", "input_required"]
    } else {
        &["complete"]
    };
    let value = result.get("resultType");
    if check_enum(
        s,
        r::MODERN_RESULT_TYPE,
        &at.key("resultType"),
        "resultType",
        value,
        allowed,
    ) {
        value.and_then(Value::as_str)
    } else {
        None
    }
}

/// Modern caching hints (`CacheableResult`): `ttlMs` integer >= 0, `cacheScope`.
pub(super) fn cache_hints(s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    if let Some(ttl) = member(s, r::MODERN_TTL_MS, at, result, "ttlMs", Want::Int, true) {
        if ttl.as_f64().is_some_and(|t| t < 0.0) {
            s.push(
                r::MODERN_TTL_MS,
                &at.key("ttlMs"),
                format_args!(
                    "expected ttlMs to be an integer >= 0, got {}",
                    Got(Some(ttl))
                ),
            );
        }
    }
    check_enum(
        s,
        r::MODERN_CACHE_SCOPE,
        &at.key("cacheScope"),
        "cacheScope",
        result.get("cacheScope"),
        &["public", "private"],
    );
}
