//! Every rule fires at its pointer, valid answers pass, and the edge cases
//! of the judge (caps, escapes, duplicate names), through the public entry
//! point.

use super::rules as r;
use super::*;
use serde_json::json;

const L: Revision = Revision::V2024_11_05;
const L3: Revision = Revision::V2025_03_26;
const L6: Revision = Revision::V2025_06_18;
const L11: Revision = Revision::V2025_11_25;
const M: Revision = Revision::V2026_07_28;

fn run(rev: Revision, answer: Answer, msg: Value) -> Vec<Violation> {
    validate_response(rev, answer, &json!(2), &msg)
}

/// A result envelope around `result`.
fn ok(result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "result": result})
}

/// A modern cacheable result: `extra` plus the required modern members.
fn modern(extra: Value) -> Value {
    let mut r = json!({"resultType": "complete", "ttlMs": 60000, "cacheScope": "public"});
    if let (Some(r), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            r.insert(k.clone(), v.clone());
        }
    }
    ok(r)
}

fn tools(list: Value) -> Value {
    ok(json!({"tools": list}))
}

fn tool(name: &str) -> Value {
    json!({"name": name, "inputSchema": {"type": "object"}})
}

fn init(result_overrides: Value) -> Value {
    let mut r = json!({
        "protocolVersion": "2025-06-18",
        "capabilities": {"tools": {"listChanged": true}},
        "serverInfo": {"name": "srv", "version": "1.0.0"}
    });
    if let (Some(r), Some(o)) = (r.as_object_mut(), result_overrides.as_object()) {
        for (k, v) in o {
            if v.is_null() {
                r.remove(k);
            } else {
                r.insert(k.clone(), v.clone());
            }
        }
    }
    ok(r)
}

/// One row per rule: the message must yield a violation of `rule` at
/// `pointer` (other violations may come along). A table: kept one row a
/// case rather than rustfmt's five lines a field.
#[rustfmt::skip]
fn cases() -> Vec<(&'static str, &'static str, Revision, Answer, Value)> {
    use Answer::*;
    vec![
        (r::MESSAGE_OBJECT, "", L6, ToolsList, json!([tool("a")])),
        (r::VERSION, "/jsonrpc", L6, ToolsList, json!({"id": 2, "result": {"tools": []}})),
        (r::VERSION, "/jsonrpc", L6, ToolsList,
            json!({"jsonrpc": "1.0", "id": 2, "result": {"tools": []}})),
        (r::ID, "/id", L6, ToolsList, json!({"jsonrpc": "2.0", "id": "2", "result": {"tools": []}})),
        (r::ID, "/id", L6, ToolsList, json!({"jsonrpc": "2.0", "id": 2.0, "result": {"tools": []}})),
        (r::ID, "/id", L6, ToolsList,
            json!({"jsonrpc": "2.0", "error": {"code": -32600, "message": "x"}})),
        (r::RESULT_XOR_ERROR, "", L6, ToolsList, json!({"jsonrpc": "2.0", "id": 2})),
        (r::RESULT_XOR_ERROR, "", L6, ToolsList,
            json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": []}, "error": {"code": 1, "message": "x"}})),
        (r::ERROR_SHAPE, "/error/code", L6, ToolsList,
            json!({"jsonrpc": "2.0", "id": 2, "error": {"code": "E1", "message": "x"}})),
        (r::ERROR_SHAPE, "/error/code", L6, ToolsList,
            json!({"jsonrpc": "2.0", "id": 2, "error": {"code": 1.5, "message": "x"}})),
        (r::ERROR_SHAPE, "/error/message", L6, ToolsList,
            json!({"jsonrpc": "2.0", "id": 2, "error": {"code": 1}})),
        (r::ERROR_SHAPE, "/error", L6, ToolsList, json!({"jsonrpc": "2.0", "id": 2, "error": "boom"})),
        (r::RESULT_OBJECT, "/result", L6, ToolsList, ok(json!([]))),
        (r::RESULT_META, "/result/_meta", L6, ToolsList, ok(json!({"tools": [], "_meta": 1}))),
        (r::RESULT_META, "/result/_meta/io.modelcontextprotocol~1serverInfo", M, ToolsList,
            modern(json!({"tools": [], "_meta": {"io.modelcontextprotocol/serverInfo": "srv"}}))),
        (r::MODERN_RESULT_TYPE, "/result/resultType", M, ToolsList,
            ok(json!({"tools": [], "ttlMs": 0, "cacheScope": "public"}))),
        (r::MODERN_RESULT_TYPE, "/result/resultType", M, ToolsList,
            modern(json!({"tools": [], "resultType": "partial"}))),
        (r::MODERN_RESULT_TYPE, "/result/resultType", M, ToolsList,
            modern(json!({"tools": [], "resultType": "input_required"}))),
        (r::MODERN_RESULT_TYPE, "/result/resultType", M, ToolsCall, ok(json!({"content": []}))),
        (r::MODERN_TTL_MS, "/result/ttlMs", M, ToolsList, modern(json!({"tools": [], "ttlMs": -1}))),
        (r::MODERN_TTL_MS, "/result/ttlMs", M, ToolsList, modern(json!({"tools": [], "ttlMs": "60"}))),
        (r::MODERN_TTL_MS, "/result/ttlMs", M, PromptsList,
            ok(json!({"prompts": [], "resultType": "complete", "cacheScope": "public"}))),
        (r::MODERN_CACHE_SCOPE, "/result/cacheScope", M, ResourcesList,
            modern(json!({"resources": [], "cacheScope": "shared"}))),
        (r::MODERN_CACHE_SCOPE, "/result/cacheScope", M, Discover,
            ok(json!({"resultType": "complete", "ttlMs": 0, "supportedVersions": [], "capabilities": {}}))),
        (r::INITIALIZE_PROTOCOL_VERSION, "/result/protocolVersion", L6, Initialize,
            init(json!({"protocolVersion": 20250618}))),
        (r::INITIALIZE_CAPABILITIES, "/result/capabilities", L6, Initialize,
            init(json!({"capabilities": null}))),
        (r::INITIALIZE_SERVER_INFO, "/result/serverInfo", L6, Initialize,
            init(json!({"serverInfo": null}))),
        (r::INITIALIZE_SERVER_INFO, "/result/serverInfo", L6, Initialize,
            init(json!({"serverInfo": "srv 1.0"}))),
        (r::INITIALIZE_INSTRUCTIONS, "/result/instructions", L6, Initialize,
            init(json!({"instructions": ["x"]}))),
        (r::DISCOVER_SUPPORTED_VERSIONS, "/result/supportedVersions/1", M, Discover,
            modern(json!({"supportedVersions": ["2026-07-28", 2025], "capabilities": {}}))),
        (r::DISCOVER_SUPPORTED_VERSIONS, "/result/supportedVersions", M, Discover,
            modern(json!({"capabilities": {}}))),
        (r::DISCOVER_CAPABILITIES, "/result/capabilities", M, Discover,
            modern(json!({"supportedVersions": ["2026-07-28"], "capabilities": []}))),
        (r::DISCOVER_INSTRUCTIONS, "/result/instructions", M, Discover,
            modern(json!({"supportedVersions": ["2026-07-28"], "capabilities": {}, "instructions": 1}))),
        (r::CAPABILITIES_SHAPE, "/result/capabilities/tools/listChanged", L, Initialize,
            init(json!({"capabilities": {"tools": {"listChanged": "yes"}}}))),
        (r::CAPABILITIES_SHAPE, "/result/capabilities/resources/subscribe", L, Initialize,
            init(json!({"capabilities": {"resources": {"subscribe": 1}}}))),
        (r::CAPABILITIES_SHAPE, "/result/capabilities/experimental/x", L, Initialize,
            init(json!({"capabilities": {"experimental": {"x": true}}}))),
        (r::CAPABILITIES_SHAPE, "/result/capabilities/completions", L3, Initialize,
            init(json!({"capabilities": {"completions": true}}))),
        (r::CAPABILITIES_SHAPE, "/result/capabilities/tasks/requests/tools/call", L11, Initialize,
            init(json!({"capabilities": {"tasks": {"requests": {"tools": {"call": true}}}}}))),
        (r::CAPABILITIES_SHAPE, "/result/capabilities/extensions/io.x~1y", M, Discover,
            modern(json!({"supportedVersions": [], "capabilities": {"extensions": {"io.x/y": 1}}}))),
        (r::IMPLEMENTATION_SHAPE, "/result/serverInfo/version", L, Initialize,
            init(json!({"serverInfo": {"name": "srv"}}))),
        (r::IMPLEMENTATION_SHAPE, "/result/serverInfo/name", L6, Initialize,
            init(json!({"serverInfo": {"name": 7, "version": "1"}}))),
        (r::IMPLEMENTATION_SHAPE, "/result/serverInfo/title", L6, Initialize,
            init(json!({"serverInfo": {"name": "a", "version": "1", "title": false}}))),
        (r::ICON_SHAPE, "/result/serverInfo/icons/0/src", L11, Initialize,
            init(json!({"serverInfo": {"name": "a", "version": "1", "icons": [{"mimeType": "image/png"}]}}))),
        (r::ICON_SHAPE, "/result/tools/0/icons/0/theme", L11, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object"}, "icons": [{"src": "https://x/i.png", "theme": "blue"}]}]))),
        (r::ICON_SHAPE, "/result/tools/0/icons", M, ToolsList,
            modern(json!({"tools": [{"name": "a", "inputSchema": {"type": "object"}, "icons": "i.png"}]}))),
        (r::TOOLS_IN_RESULT, "/tools", L6, ToolsList,
            json!({"jsonrpc": "2.0", "id": 2, "result": {}, "tools": []})),
        (r::TOOLS_IN_RESULT, "/tools", L6, ToolsList,
            json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": []}, "tools": []})),
        (r::TOOLS_IN_RESULT, "/tools", L6, ToolsList, json!({"jsonrpc": "2.0", "id": 2, "tools": []})),
        (r::TOOLS_ARRAY, "/result/tools", L6, ToolsList, ok(json!({}))),
        (r::TOOLS_ARRAY, "/result/tools", L6, ToolsList, ok(json!({"tools": {"a": {}}}))),
        (r::TOOLS_NEXT_CURSOR, "/result/nextCursor", L6, ToolsList,
            ok(json!({"tools": [], "nextCursor": 2}))),
        (r::TOOL_OBJECT, "/result/tools/1", L6, ToolsList, tools(json!([tool("a"), "b"]))),
        (r::TOOL_NAME_STRING, "/result/tools/0/name", L6, ToolsList,
            tools(json!([{"name": 1, "inputSchema": {"type": "object"}}]))),
        (r::TOOL_NAME_STRING, "/result/tools/0/name", L6, ToolsList,
            tools(json!([{"inputSchema": {"type": "object"}}]))),
        (r::TOOL_NAME_UNIQUE, "/result/tools/2/name", L6, ToolsList,
            tools(json!([tool("a"), tool("b"), tool("a")]))),
        (r::TOOL_INPUT_SCHEMA_OBJECT, "/result/tools/0/inputSchema", L6, ToolsList,
            tools(json!([{"name": "a", "inputSchema": "{\"type\":\"object\"}"}]))),
        (r::TOOL_INPUT_SCHEMA_OBJECT, "/result/tools/0/inputSchema", M, ToolsList,
            modern(json!({"tools": [{"name": "a"}]}))),
        (r::TOOL_INPUT_SCHEMA_TYPE, "/result/tools/0/inputSchema/type", L6, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "array"}}]))),
        (r::TOOL_INPUT_SCHEMA_TYPE, "/result/tools/0/inputSchema/type", M, ToolsList,
            modern(json!({"tools": [{"name": "a", "inputSchema": {"properties": {}}}]}))),
        (r::TOOL_INPUT_SCHEMA_SHAPE, "/result/tools/0/inputSchema/required", L, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object", "required": "q"}}]))),
        (r::TOOL_INPUT_SCHEMA_SHAPE, "/result/tools/0/inputSchema/properties/q", L6, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object", "properties": {"q": "string"}}}]))),
        (r::TOOL_INPUT_SCHEMA_SHAPE, "/result/tools/0/inputSchema/$schema", M, ToolsList,
            modern(json!({"tools": [{"name": "a", "inputSchema": {"type": "object", "$schema": 7}}]}))),
        (r::TOOL_OUTPUT_SCHEMA, "/result/tools/0/outputSchema/type", L6, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object"}, "outputSchema": {"type": "array"}}]))),
        (r::TOOL_OUTPUT_SCHEMA, "/result/tools/0/outputSchema", M, ToolsList,
            modern(json!({"tools": [{"name": "a", "inputSchema": {"type": "object"}, "outputSchema": true}]}))),
        (r::TOOL_DESCRIPTION, "/result/tools/0/description", L, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object"}, "description": null}]))),
        (r::TOOL_TITLE, "/result/tools/0/title", L6, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object"}, "title": 1}]))),
        (r::TOOL_ANNOTATIONS, "/result/tools/0/annotations/readOnlyHint", L3, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": "true"}}]))),
        (r::TOOL_ANNOTATIONS, "/result/tools/0/annotations", L6, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object"}, "annotations": []}]))),
        (r::TOOL_EXECUTION, "/result/tools/0/execution/taskSupport", L11, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object"}, "execution": {"taskSupport": "sometimes"}}]))),
        (r::TOOL_META, "/result/tools/0/_meta", L6, ToolsList,
            tools(json!([{"name": "a", "inputSchema": {"type": "object"}, "_meta": "x"}]))),
        (r::CALL_CONTENT, "/result/content", L, ToolsCall, ok(json!({"isError": false}))),
        (r::CALL_CONTENT, "/result/content", M, ToolsCall,
            ok(json!({"resultType": "complete", "content": "hi"}))),
        (r::CALL_IS_ERROR, "/result/isError", L6, ToolsCall,
            ok(json!({"content": [], "isError": "true"}))),
        (r::CALL_STRUCTURED_CONTENT, "/result/structuredContent", L6, ToolsCall,
            ok(json!({"content": [], "structuredContent": [1, 2]}))),
        (r::CALL_INPUT_REQUIRED, "/result", M, ToolsCall, ok(json!({"resultType": "input_required"}))),
        (r::CALL_INPUT_REQUIRED, "/result/inputRequests/ask/method", M, ToolsCall,
            ok(json!({"resultType": "input_required", "inputRequests": {"ask": {"method": "tools/call", "params": {}}}}))),
        (r::CALL_INPUT_REQUIRED, "/result/requestState", M, ToolsCall,
            ok(json!({"resultType": "input_required", "requestState": 5}))),
        (r::CONTENT_BLOCK, "/result/content/0/type", L, ToolsCall,
            ok(json!({"content": [{"type": "audio", "data": "AA==", "mimeType": "audio/wav"}]}))),
        (r::CONTENT_BLOCK, "/result/content/0/text", L6, ToolsCall,
            ok(json!({"content": [{"type": "text"}]}))),
        (r::CONTENT_BLOCK, "/result/content/0/mimeType", L6, ToolsCall,
            ok(json!({"content": [{"type": "image", "data": "AA=="}]}))),
        (r::CONTENT_BLOCK, "/result/content/0/resource", L6, ToolsCall,
            ok(json!({"content": [{"type": "resource", "resource": {"uri": "file:///a"}}]}))),
        (r::CONTENT_BLOCK, "/result/content/0/uri", L6, ToolsCall,
            ok(json!({"content": [{"type": "resource_link", "name": "a"}]}))),
        (r::CONTENT_BLOCK, "/result/content/1", L6, ToolsCall,
            ok(json!({"content": [{"type": "text", "text": "a"}, "b"]}))),
        (r::ANNOTATIONS_SHAPE, "/result/content/0/annotations/priority", L, ToolsCall,
            ok(json!({"content": [{"type": "text", "text": "a", "annotations": {"priority": 2}}]}))),
        (r::ANNOTATIONS_SHAPE, "/result/resources/0/annotations/audience/0", L6, ResourcesList,
            ok(json!({"resources": [{"uri": "file:///a", "name": "a", "annotations": {"audience": ["robot"]}}]}))),
        (r::RESOURCES_ARRAY, "/result/resources", L6, ResourcesList, ok(json!({}))),
        (r::RESOURCES_NEXT_CURSOR, "/result/nextCursor", L6, ResourcesList,
            ok(json!({"resources": [], "nextCursor": false}))),
        (r::RESOURCE_SHAPE, "/result/resources/0/uri", L6, ResourcesList,
            ok(json!({"resources": [{"name": "a"}]}))),
        (r::RESOURCE_SHAPE, "/result/resources/0/size", L, ResourcesList,
            ok(json!({"resources": [{"uri": "file:///a", "name": "a", "size": "1kB"}]}))),
        (r::PROMPTS_ARRAY, "/result/prompts", L6, PromptsList, ok(json!({"prompts": null}))),
        (r::PROMPTS_NEXT_CURSOR, "/result/nextCursor", L6, PromptsList,
            ok(json!({"prompts": [], "nextCursor": 1}))),
        (r::PROMPT_SHAPE, "/result/prompts/0/name", L6, PromptsList,
            ok(json!({"prompts": [{"description": "x"}]}))),
        (r::PROMPT_SHAPE, "/result/prompts/0/arguments/0/required", L6, PromptsList,
            ok(json!({"prompts": [{"name": "p", "arguments": [{"name": "a", "required": "yes"}]}]}))),
    ]
}

#[test]
fn every_rule_fires_at_its_pointer() {
    for (rule, pointer, rev, answer, msg) in cases() {
        let found = run(rev, answer, msg.clone());
        assert!(
            found.iter().any(|v| v.rule == rule && v.pointer == pointer),
            "{rule} at {pointer:?} ({rev}, {answer:?}) not among {found:#?}\nfor {msg}"
        );
        for v in &found {
            assert!(
                rules::ALL.contains(&v.rule.as_str()),
                "unlisted rule {}",
                v.rule
            );
            assert!(v.detail.starts_with("expected "), "detail {:?}", v.detail);
        }
    }
}

#[test]
fn every_rule_has_a_case() {
    let cases = cases();
    for rule in rules::ALL {
        assert!(
            cases.iter().any(|c| c.0 == *rule),
            "no unit case for {rule}"
        );
    }
}

/// Answers that must pass, each exercising members a revision types (or
/// leaves free-form: undeclared members are never flagged).
#[rustfmt::skip]
fn valid_cases() -> Vec<(Revision, Answer, Value)> {
    use Answer::*;
    let rich_tool = json!({
        "name": "search", "title": "Search", "description": "Find things",
        "inputSchema": {"type": "object", "$schema": "https://json-schema.org/draft/2020-12/schema",
            "properties": {"q": {"type": "string"}}, "required": ["q"]},
        "outputSchema": {"type": "object", "properties": {"hits": {"type": "array"}}},
        "annotations": {"title": "Search", "readOnlyHint": true, "openWorldHint": false},
        "execution": {"taskSupport": "optional"},
        "icons": [{"src": "https://x/i.png", "sizes": ["48x48"], "theme": "dark"}],
        "_meta": {"vendor/x": 1},
        "x-unknown": [1, 2]
    });
    let content = json!([
        {"type": "text", "text": "hi",
            "annotations": {"audience": ["user"], "priority": 0.5, "lastModified": "2025-01-01T00:00:00Z"}},
        {"type": "image", "data": "AA==", "mimeType": "image/png"},
        {"type": "audio", "data": "AA==", "mimeType": "audio/wav"},
        {"type": "resource", "resource": {"uri": "file:///a", "blob": "AA=="}},
        {"type": "resource_link", "uri": "file:///b", "name": "b", "size": 3}
    ]);
    vec![
        (L, ToolsList, tools(json!([tool("a"), tool("b")]))),
        (L11, ToolsList, json!({"jsonrpc": "2.0", "id": 2, "extra": true,
            "result": {"tools": [rich_tool.clone()], "nextCursor": "c2"}})),
        (L6, ToolsList, tools(json!([{"name": "a", "inputSchema": {"type": "object"},
            "outputSchema": {"type": "object"}}]))),
        // Members a revision's schema does not declare are free-form.
        (L, ToolsList, tools(json!([{"name": "a", "inputSchema": {"type": "object"},
            "annotations": "free", "title": 1}]))),
        (M, ToolsList, modern(json!({"tools": [{"name": "a",
            "inputSchema": {"type": "object", "required": "q"}, "outputSchema": {"type": "array"}}]}))),
        (M, ToolsList, modern(json!({"tools": [rich_tool], "ttlMs": 1000.0}))),
        (L6, Initialize, init(json!({}))),
        (L11, Initialize, init(json!({
            "capabilities": {"tasks": {"list": {}, "requests": {"tools": {"call": {}}}},
                "logging": {}, "completions": {}, "experimental": {"x": {}}},
            "serverInfo": {"name": "a", "version": "1", "title": "A", "websiteUrl": "https://a",
                "icons": [{"src": "https://a/i.png"}]},
            "instructions": "hi"}))),
        (L, Initialize, init(json!({"capabilities": {"completions": true}}))),
        (M, Discover, modern(json!({"supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {}, "extensions": {"io.x/y": {"on": true}},
                "experimental": {"x": {"ratio": 0.5, "n": null}}},
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}}}))),
        (L6, ToolsCall, ok(json!({"content": content.clone(), "isError": true,
            "structuredContent": {"a": 1}}))),
        (M, ToolsCall, ok(json!({"resultType": "complete", "content": content, "structuredContent": [1]}))),
        (M, ToolsCall, ok(json!({"resultType": "input_required", "requestState": "abc"}))),
        (M, ToolsCall, ok(json!({"resultType": "input_required",
            "inputRequests": {"r": {"method": "roots/list"}}}))),
        (L, ResourcesList, ok(json!({"resources": [{"uri": "file:///a", "name": "a", "size": 3.0,
            "annotations": {"priority": 1}}], "nextCursor": "n"}))),
        (L6, PromptsList, ok(json!({"prompts": [{"name": "p", "title": "P",
            "arguments": [{"name": "a", "required": true, "title": "A"}]}]}))),
        (L6, ToolsList, json!({"jsonrpc": "2.0", "id": 2,
            "error": {"code": -32601.0, "message": "Method not found", "data": null}})),
    ]
}

#[test]
fn valid_answers_have_no_violations() {
    for (rev, answer, msg) in valid_cases() {
        let found = run(rev, answer, msg.clone());
        assert!(found.is_empty(), "{rev} {answer:?}: {found:#?}\nfor {msg}");
    }
}

#[test]
fn error_response_is_judged_on_the_envelope_only() {
    // A result-shaped breach beside an error is not looked at.
    let msg = json!({"jsonrpc": "2.0", "id": 2, "error": {"code": -32603, "message": "x"}, "tools": "nope"});
    assert_eq!(run(M, Answer::ToolsList, msg), vec![]);
}

#[test]
fn violations_are_exact_for_a_typical_broken_list() {
    let msg = json!({"id": 3, "result": {"tools": [
        {"name": "a", "inputSchema": "{}"},
        {"name": "a", "inputSchema": {"type": "object"}}
    ]}});
    let found = run(L6, Answer::ToolsList, msg);
    let got: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|v| (v.rule.as_str(), v.pointer.as_str(), v.detail.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "jsonrpc.version",
                "/jsonrpc",
                "expected jsonrpc to be \"2.0\", got nothing"
            ),
            (
                "jsonrpc.id",
                "/id",
                "expected id to echo the request's 2, got 3"
            ),
            (
                "tool.input-schema-object",
                "/result/tools/0/inputSchema",
                "expected inputSchema to be a JSON object, got \"{}\""
            ),
            (
                "tool.name-unique",
                "/result/tools/1/name",
                "expected a unique tool name, got \"a\" again (first at index 0)"
            ),
        ]
    );
}

#[test]
fn duplicate_names_agree_between_scan_and_sort() {
    // Above UNIQUE_BY_SCAN_MAX the sorting path runs; it must report the
    // same later duplicates, in document order, as the scan would.
    let mut list: Vec<Value> = (0..UNIQUE_BY_SCAN_MAX + 8)
        .map(|i| tool(&format!("t{i}")))
        .collect();
    list.push(tool("t3"));
    list.push(tool("t0"));
    list.push(tool("t3"));
    list.push(json!({"name": 5, "inputSchema": {"type": "object"}}));
    let found = run(L6, Answer::ToolsList, tools(Value::Array(list.clone())));
    let dups: Vec<&str> = found
        .iter()
        .filter(|v| v.rule == r::TOOL_NAME_UNIQUE)
        .map(|v| v.pointer.as_str())
        .collect();
    let n = UNIQUE_BY_SCAN_MAX + 8;
    let want: Vec<String> = (n..n + 3)
        .map(|i| format!("/result/tools/{i}/name"))
        .collect();
    assert_eq!(dups, want);
    assert!(
        found[3].detail.contains("first at index 3"),
        "{:?}",
        found[3]
    );
    // A short list with the same duplicates takes the scan path.
    let short = vec![tool("t0"), tool("t3"), tool("t3"), tool("t0"), tool("t3")];
    let found = run(L6, Answer::ToolsList, tools(Value::Array(short)));
    let dups: Vec<&str> = found.iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(
        dups,
        vec![
            "/result/tools/2/name",
            "/result/tools/3/name",
            "/result/tools/4/name"
        ]
    );
}

#[test]
fn pointers_escape_tilde_and_slash() {
    let msg =
        modern(json!({"supportedVersions": [], "capabilities": {"experimental": {"a~b/c": 1}}}));
    let found = run(M, Answer::Discover, msg);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].pointer,
        "/result/capabilities/experimental/a~0b~1c"
    );
}

#[test]
fn discover_gets_modern_rules_whatever_the_revision() {
    let msg = ok(json!({"supportedVersions": ["2026-07-28"], "capabilities": {}}));
    let rules: Vec<String> = run(L6, Answer::Discover, msg)
        .into_iter()
        .map(|v| v.rule)
        .collect();
    assert_eq!(
        rules,
        vec![
            r::MODERN_RESULT_TYPE,
            r::MODERN_TTL_MS,
            r::MODERN_CACHE_SCOPE
        ]
    );
}

#[test]
fn long_strings_are_cut_in_details() {
    let long = "é".repeat(100);
    let found = run(
        L6,
        Answer::ToolsList,
        json!({"jsonrpc": long, "id": 2, "result": {"tools": []}}),
    );
    assert_eq!(found.len(), 1);
    assert!(found[0].detail.ends_with("\"..."), "{}", found[0].detail);
    assert!(found[0].detail.len() < 100, "{}", found[0].detail);
}
