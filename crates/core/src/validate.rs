//! Start here: validation of every answer against the rules of the revision it
//! speaks. Each violation carries a JSON pointer into the message and a stable
//! rule id. The probe reads answers leniently (so it can keep climbing) and this
//! module judges them strictly: any violation here is `malformed_jsonrpc`.
//!
//! [`validate_response`] is the one entry point. It judges the whole JSON-RPC
//! message: the envelope first (`jsonrpc`, `id`, result xor error), then, for a
//! result, the shape the official schema of that revision gives the answer's
//! result type (`InitializeResult`, `DiscoverResult`, `ListToolsResult`, ...).
//! An error response is judged on the envelope rules only.
//!
//! How it is built, and why:
//! - Hand-written checks, no schema interpretation at run time: the probe
//!   validates every answer and a 100-tool `tools/list` must validate and
//!   fingerprint in well under 100 µs. Objects on the hot path (tools, input
//!   schemas) are walked once, member by member, instead of looked up key by
//!   key; nothing allocates unless a violation is found (a pointer is a linked
//!   list of borrowed segments on the stack, rendered only when reported),
//!   except the name-uniqueness check of a list longer than
//!   [`UNIQUE_BY_SCAN_MAX`] tools, which sorts one vector of borrowed names.
//! - Strict, but never stricter than the official schema where the schema
//!   speaks: no official schema (2024-11-05 .. 2026-07-28) forbids additional
//!   members anywhere, so unknown members are never flagged, and a member is
//!   only type-checked in the revisions whose schema declares it (a tool's
//!   `annotations` are free-form in 2024-11-05, typed from 2025-03-26).
//!   `integer` follows JSON Schema: `5.0` is an integer. String formats (`uri`,
//!   `byte`) are not checked: they are annotations in the 2020-12 schemas.
//! - Where the schema cannot express a rule, the spec text decides: the id
//!   must echo the request's (even on an error), exactly one of result/error,
//!   tool names unique, `tools` only inside `result`, a modern `resultType`
//!   must be one this client knows, and an `input_required` result must carry
//!   `inputRequests` or `requestState`.
//! - Deliberately lighter than the 2026-07-28 schema in one place: its
//!   `JSONValue` leaves out `null` and non-integer numbers, so taken literally
//!   it rejects `"experimental": {"x": {"ratio": 0.5}}`. That reads as a
//!   schema-generation artefact, and paging someone for it would be a false
//!   alarm, so capability objects are only checked to be objects.
//!
//! Rule ids are stable (they are stored and printed); see [`rules`].

use std::fmt;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::revision::Revision;
use crate::verdict::Era;

/// One breach of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Stable rule id, e.g. `jsonrpc.version`, `tools.input-schema-object`.
    pub rule: String,
    /// RFC 6901 pointer into the whole JSON-RPC message, e.g. `/result/tools/2/inputSchema`.
    pub pointer: String,
    /// Expected versus actual, in one sentence.
    pub detail: String,
}

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

/// The stable rule ids, one constant each. `ALL` lists them for docs and for
/// the test that every rule has a unit test.
pub mod rules {
    /// The message is not a JSON object (an array, a string, ...).
    pub const MESSAGE_OBJECT: &str = "jsonrpc.message-object";
    /// `jsonrpc` is missing or not exactly `"2.0"`.
    pub const VERSION: &str = "jsonrpc.version";
    /// `id` does not echo the request's id (same JSON type and value).
    pub const ID: &str = "jsonrpc.id";
    /// Both or neither of `result` and `error`.
    pub const RESULT_XOR_ERROR: &str = "jsonrpc.result-xor-error";
    /// `error` is not an object with an integer `code` and a string `message`.
    pub const ERROR_SHAPE: &str = "jsonrpc.error-shape";
    /// `result` is not an object.
    pub const RESULT_OBJECT: &str = "jsonrpc.result-object";
    /// `result._meta` is not an object (modern: or its server info is malformed).
    pub const RESULT_META: &str = "result.meta";
    /// Modern: `resultType` missing, not a string, or not a value this answer may carry.
    pub const MODERN_RESULT_TYPE: &str = "modern.result-type";
    /// Modern cacheable result: `ttlMs` missing or not an integer >= 0.
    pub const MODERN_TTL_MS: &str = "modern.ttl-ms";
    /// Modern cacheable result: `cacheScope` missing or not `"public"`/`"private"`.
    pub const MODERN_CACHE_SCOPE: &str = "modern.cache-scope";
    /// `initialize`: `protocolVersion` missing or not a string.
    pub const INITIALIZE_PROTOCOL_VERSION: &str = "initialize.protocol-version";
    /// `initialize`: `capabilities` missing or not an object.
    pub const INITIALIZE_CAPABILITIES: &str = "initialize.capabilities";
    /// `initialize`: `serverInfo` missing or not an object.
    pub const INITIALIZE_SERVER_INFO: &str = "initialize.server-info";
    /// `initialize`: `instructions` present but not a string.
    pub const INITIALIZE_INSTRUCTIONS: &str = "initialize.instructions";
    /// `server/discover`: `supportedVersions` missing or not an array of strings.
    pub const DISCOVER_SUPPORTED_VERSIONS: &str = "discover.supported-versions";
    /// `server/discover`: `capabilities` missing or not an object.
    pub const DISCOVER_CAPABILITIES: &str = "discover.capabilities";
    /// `server/discover`: `instructions` present but not a string.
    pub const DISCOVER_INSTRUCTIONS: &str = "discover.instructions";
    /// A member of the server capabilities has the wrong shape.
    pub const CAPABILITIES_SHAPE: &str = "capabilities.shape";
    /// An `Implementation` (server info) lacks a string `name`/`version` or has a mistyped member.
    pub const IMPLEMENTATION_SHAPE: &str = "implementation.shape";
    /// `icons` is not an array of `Icon` objects (string `src`, ...).
    pub const ICON_SHAPE: &str = "icon.shape";
    /// `tools` found beside `result` instead of (only) inside it.
    pub const TOOLS_IN_RESULT: &str = "tools.in-result";
    /// `result.tools` missing or not an array.
    pub const TOOLS_ARRAY: &str = "tools.array";
    /// `result.nextCursor` of `tools/list` present but not a string.
    pub const TOOLS_NEXT_CURSOR: &str = "tools.next-cursor";
    /// A tool is not an object.
    pub const TOOL_OBJECT: &str = "tool.object";
    /// A tool's `name` missing or not a string.
    pub const TOOL_NAME_STRING: &str = "tool.name-string";
    /// A tool's name repeats an earlier tool's (pointer at the later one).
    pub const TOOL_NAME_UNIQUE: &str = "tool.name-unique";
    /// A tool's `inputSchema` missing or not a JSON object (a string, ...).
    pub const TOOL_INPUT_SCHEMA_OBJECT: &str = "tool.input-schema-object";
    /// A tool's `inputSchema.type` missing or not `"object"`.
    pub const TOOL_INPUT_SCHEMA_TYPE: &str = "tool.input-schema-type";
    /// A tool's `inputSchema` members the schema types (`properties`, `required`, `$schema`) are mistyped.
    pub const TOOL_INPUT_SCHEMA_SHAPE: &str = "tool.input-schema-shape";
    /// A tool's `outputSchema` is not an object (2025-06-18, 2025-11-25: of type `"object"`).
    pub const TOOL_OUTPUT_SCHEMA: &str = "tool.output-schema";
    /// A tool's `description` present but not a string.
    pub const TOOL_DESCRIPTION: &str = "tool.description";
    /// A tool's `title` present but not a string.
    pub const TOOL_TITLE: &str = "tool.title";
    /// A tool's `annotations` not an object of boolean hints and a string title.
    pub const TOOL_ANNOTATIONS: &str = "tool.annotations";
    /// A tool's `execution` (2025-11-25) malformed.
    pub const TOOL_EXECUTION: &str = "tool.execution";
    /// A tool's `_meta` present but not an object.
    pub const TOOL_META: &str = "tool.meta";
    /// `tools/call`: `content` missing or not an array.
    pub const CALL_CONTENT: &str = "call.content";
    /// `tools/call`: `isError` present but not a boolean.
    pub const CALL_IS_ERROR: &str = "call.is-error";
    /// `tools/call`: `structuredContent` present but not an object.
    pub const CALL_STRUCTURED_CONTENT: &str = "call.structured-content";
    /// Modern `tools/call` with `resultType: "input_required"`: malformed or empty request for input.
    pub const CALL_INPUT_REQUIRED: &str = "call.input-required";
    /// A content block has an unknown `type` or lacks what its type requires.
    pub const CONTENT_BLOCK: &str = "content.block";
    /// `annotations` of a content block or resource malformed (audience, priority, lastModified).
    pub const ANNOTATIONS_SHAPE: &str = "annotations.shape";
    /// `result.resources` missing or not an array.
    pub const RESOURCES_ARRAY: &str = "resources.array";
    /// `result.nextCursor` of `resources/list` present but not a string.
    pub const RESOURCES_NEXT_CURSOR: &str = "resources.next-cursor";
    /// A resource is not an object with string `uri` and `name`, or has a mistyped member.
    pub const RESOURCE_SHAPE: &str = "resource.shape";
    /// `result.prompts` missing or not an array.
    pub const PROMPTS_ARRAY: &str = "prompts.array";
    /// `result.nextCursor` of `prompts/list` present but not a string.
    pub const PROMPTS_NEXT_CURSOR: &str = "prompts.next-cursor";
    /// A prompt is not an object with a string `name`, or has a mistyped member or argument.
    pub const PROMPT_SHAPE: &str = "prompt.shape";

    /// Every rule id.
    pub const ALL: &[&str] = &[
        MESSAGE_OBJECT,
        VERSION,
        ID,
        RESULT_XOR_ERROR,
        ERROR_SHAPE,
        RESULT_OBJECT,
        RESULT_META,
        MODERN_RESULT_TYPE,
        MODERN_TTL_MS,
        MODERN_CACHE_SCOPE,
        INITIALIZE_PROTOCOL_VERSION,
        INITIALIZE_CAPABILITIES,
        INITIALIZE_SERVER_INFO,
        INITIALIZE_INSTRUCTIONS,
        DISCOVER_SUPPORTED_VERSIONS,
        DISCOVER_CAPABILITIES,
        DISCOVER_INSTRUCTIONS,
        CAPABILITIES_SHAPE,
        IMPLEMENTATION_SHAPE,
        ICON_SHAPE,
        TOOLS_IN_RESULT,
        TOOLS_ARRAY,
        TOOLS_NEXT_CURSOR,
        TOOL_OBJECT,
        TOOL_NAME_STRING,
        TOOL_NAME_UNIQUE,
        TOOL_INPUT_SCHEMA_OBJECT,
        TOOL_INPUT_SCHEMA_TYPE,
        TOOL_INPUT_SCHEMA_SHAPE,
        TOOL_OUTPUT_SCHEMA,
        TOOL_DESCRIPTION,
        TOOL_TITLE,
        TOOL_ANNOTATIONS,
        TOOL_EXECUTION,
        TOOL_META,
        CALL_CONTENT,
        CALL_IS_ERROR,
        CALL_STRUCTURED_CONTENT,
        CALL_INPUT_REQUIRED,
        CONTENT_BLOCK,
        ANNOTATIONS_SHAPE,
        RESOURCES_ARRAY,
        RESOURCES_NEXT_CURSOR,
        RESOURCE_SHAPE,
        PROMPTS_ARRAY,
        PROMPTS_NEXT_CURSOR,
        PROMPT_SHAPE,
    ];
}

use rules as r;

/// Tool lists up to this long are checked for duplicate names by comparing
/// every pair (no allocation); longer ones sort a vector of borrowed names.
pub const UNIQUE_BY_SCAN_MAX: usize = 32;

/// Validates one JSON-RPC response message (result or error) answering a
/// request with id `request_id`, spoken in revision `rev`.
///
/// Returns the violations found (the first [`MAX_VIOLATIONS`]), envelope
/// first, then in document order (duplicate tool names last); an empty
/// vector means the message is valid.
/// `Answer::Discover` is judged by the 2026-07-28 `DiscoverResult` rules
/// whatever `rev` says (no other revision defines it).
pub fn validate_response(
    rev: Revision,
    answer: Answer,
    request_id: &Value,
    message: &Value,
) -> Vec<Violation> {
    validate_response_counted(rev, answer, request_id, message).found
}

/// Violations kept per answer: a hostile answer can break the same rule
/// millions of times (a page of a million `{}` tools), and a verdict keeps
/// only so many findings anyway (`verdict::MAX_FINDINGS`).
pub const MAX_VIOLATIONS: usize = crate::verdict::MAX_FINDINGS;

/// What [`validate_response_counted`] found: the first [`MAX_VIOLATIONS`]
/// violations, and how many more there were.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Judged {
    pub found: Vec<Violation>,
    /// Violations past [`MAX_VIOLATIONS`], counted and not kept.
    pub more: usize,
}

/// [`validate_response`] that also counts the violations it did not keep:
/// the first [`MAX_VIOLATIONS`] are returned, the rest only counted (nothing
/// is allocated for them).
pub fn validate_response_counted(
    rev: Revision,
    answer: Answer,
    request_id: &Value,
    message: &Value,
) -> Judged {
    let mut s = Sink::default();
    judge_message(&mut s, rev, answer, request_id, message);
    Judged {
        found: s.found,
        more: s.more,
    }
}

fn judge_message(s: &mut Sink, rev: Revision, answer: Answer, request_id: &Value, message: &Value) {
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

// ---------------------------------------------------------------------------
// Plumbing: pointers, the violation sink, type expectations.

/// One step of a JSON pointer.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

/// A JSON pointer as a linked list of borrowed steps on the stack: building
/// one costs nothing; it becomes a `String` only when a violation is reported.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

impl Path<'_> {
    const ROOT: Path<'static> = Path {
        parent: None,
        seg: Seg::Root,
    };

    fn key<'b>(&'b self, key: &'b str) -> Path<'b> {
        Path {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    fn index(&self, i: usize) -> Path<'_> {
        Path {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }

    /// RFC 6901: `~` becomes `~0` and `/` becomes `~1` inside a step.
    fn render(&self) -> String {
        let mut out = String::new();
        self.write_into(&mut out);
        out
    }

    fn write_into(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write_into(out);
        }
        match self.seg {
            Seg::Root => {}
            Seg::Key(k) => {
                out.push('/');
                for c in k.chars() {
                    match c {
                        '~' => out.push_str("~0"),
                        '/' => out.push_str("~1"),
                        c => out.push(c),
                    }
                }
            }
            Seg::Index(i) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "/{i}");
            }
        }
    }
}

#[derive(Default)]
struct Sink {
    found: Vec<Violation>,
    /// Violations past [`MAX_VIOLATIONS`]: counted, never rendered.
    more: usize,
}

impl Sink {
    // Out of line and cold: the happy path never comes here.
    #[cold]
    #[inline(never)]
    fn push(&mut self, rule: &'static str, at: &Path<'_>, detail: fmt::Arguments<'_>) {
        if self.found.len() >= MAX_VIOLATIONS {
            self.more += 1;
            return;
        }
        self.found.push(Violation {
            rule: rule.to_owned(),
            pointer: at.render(),
            detail: detail.to_string(),
        });
    }
}

/// The actual value, briefly, for "got ..." in a detail.
struct Got<'v>(Option<&'v Value>);

impl fmt::Display for Got<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 48;
        match self.0 {
            None => f.write_str("nothing"),
            Some(Value::Null) => f.write_str("null"),
            Some(Value::Bool(b)) => write!(f, "{b}"),
            Some(Value::Number(n)) => write!(f, "{n}"),
            Some(Value::String(s)) if s.len() <= MAX => write!(f, "{s:?}"),
            Some(Value::String(s)) => {
                let cut = s
                    .char_indices()
                    .map(|(i, _)| i)
                    .take_while(|&i| i <= MAX)
                    .last()
                    .unwrap_or(0);
                write!(f, "{:?}...", &s[..cut])
            }
            Some(Value::Array(a)) => write!(f, "an array of {}", a.len()),
            Some(Value::Object(_)) => f.write_str("an object"),
        }
    }
}

/// A JSON Schema type a member must have.
#[derive(Clone, Copy)]
enum Want {
    Str,
    Bool,
    Obj,
    Arr,
    Int,
}

impl Want {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Want::Str => v.is_string(),
            Want::Bool => v.is_boolean(),
            Want::Obj => v.is_object(),
            Want::Arr => v.is_array(),
            Want::Int => is_integer(v),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Want::Str => "a string",
            Want::Bool => "a boolean",
            Want::Obj => "an object",
            Want::Arr => "an array",
            Want::Int => "an integer",
        }
    }
}

/// JSON Schema's `integer`: any number with no fractional part, `5.0` included.
fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64()
                || n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

/// Checks `value` (found at `at`, called `what` in the detail) against `want`.
fn check_value(
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    what: &str,
    value: &Value,
    want: Want,
) -> bool {
    if want.accepts(value) {
        return true;
    }
    s.push(
        rule,
        at,
        format_args!(
            "expected {what} to be {}, got {}",
            want.noun(),
            Got(Some(value))
        ),
    );
    false
}

/// Checks member `key` of `obj` (which sits at `at`) against `want`; a missing
/// member is reported only when `required`. Returns the member when it is
/// present and of the right type.
fn member<'v>(
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    obj: &'v Map<String, Value>,
    key: &str,
    want: Want,
    required: bool,
) -> Option<&'v Value> {
    match obj.get(key) {
        Some(v) if want.accepts(v) => Some(v),
        Some(v) => {
            s.push(
                rule,
                &at.key(key),
                format_args!("expected {key} to be {}, got {}", want.noun(), Got(Some(v))),
            );
            None
        }
        None if required => {
            s.push(
                rule,
                &at.key(key),
                format_args!("expected {key} to be {}, got nothing", want.noun()),
            );
            None
        }
        None => None,
    }
}

/// Checks that `value` is one of `allowed` strings.
fn check_enum(
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    what: &str,
    value: Option<&Value>,
    allowed: &[&str],
) -> bool {
    if let Some(v) = value.and_then(Value::as_str) {
        if allowed.contains(&v) {
            return true;
        }
    }
    s.push(
        rule,
        at,
        format_args!(
            "expected {what} to be one of {allowed:?}, got {}",
            Got(value)
        ),
    );
    false
}

/// Checks that member `key`, when present, is an array of strings.
fn string_array(
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    obj: &Map<String, Value>,
    key: &str,
    required: bool,
) {
    if let Some(Value::Array(items)) = member(s, rule, at, obj, key, Want::Arr, required) {
        let here = at.key(key);
        for (i, item) in items.iter().enumerate() {
            check_value(s, rule, &here.index(i), key, item, Want::Str);
        }
    }
}

// ---------------------------------------------------------------------------
// What each revision's schema declares.

/// The revision whose schema is being applied, asked feature by feature so
/// each check reads as "does this revision's schema type that member?".
#[derive(Clone, Copy)]
struct Spec(Revision);

impl Spec {
    fn modern(self) -> bool {
        self.0.era() == Era::Modern
    }
    /// `ToolAnnotations`, `AudioContent`, the `completions` capability.
    fn since_2025_03(self) -> bool {
        self.0 >= Revision::V2025_03_26
    }
    /// `title` on named things, typed `_meta` everywhere, `outputSchema`,
    /// `structuredContent`, `ResourceLink`, `annotations.lastModified`.
    fn since_2025_06(self) -> bool {
        self.0 >= Revision::V2025_06_18
    }
    /// `icons`, `$schema` in tool schemas, `Implementation.websiteUrl` / `description`.
    fn since_2025_11(self) -> bool {
        self.0 >= Revision::V2025_11_25
    }
    /// 2025-11-25 only: `tasks` capability and `Tool.execution` (dropped in 2026-07-28).
    fn tasks(self) -> bool {
        self.0 == Revision::V2025_11_25
    }
    /// Up to 2025-11-25 a tool schema's `properties` and `required` are typed;
    /// 2026-07-28 leaves everything but `type` and `$schema` to JSON Schema.
    fn typed_schema_members(self) -> bool {
        self.0 <= Revision::V2025_11_25
    }
    /// 2025-06-18 and 2025-11-25: `outputSchema.type` must be `"object"` and
    /// `structuredContent` an object; 2026-07-28 relaxes both.
    fn typed_output(self) -> bool {
        self.since_2025_06() && self.0 <= Revision::V2025_11_25
    }
    fn content_types(self) -> &'static [&'static str] {
        if self.since_2025_06() {
            &["text", "image", "audio", "resource_link", "resource"]
        } else if self.since_2025_03() {
            &["text", "image", "audio", "resource"]
        } else {
            &["text", "image", "resource"]
        }
    }
}

// ---------------------------------------------------------------------------
// Envelope.

fn check_error(s: &mut Sink, at: &Path<'_>, error: &Value) {
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
fn tools_beside_result(
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

// ---------------------------------------------------------------------------
// Results.

fn check_result(
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
fn result_meta(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
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
fn result_type<'v>(
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
fn cache_hints(s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
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

fn initialize(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    member(
        s,
        r::INITIALIZE_PROTOCOL_VERSION,
        at,
        result,
        "protocolVersion",
        Want::Str,
        true,
    );
    if let Some(Value::Object(caps)) = member(
        s,
        r::INITIALIZE_CAPABILITIES,
        at,
        result,
        "capabilities",
        Want::Obj,
        true,
    ) {
        capabilities(spec, s, &at.key("capabilities"), caps);
    }
    match result.get("serverInfo") {
        Some(info) => implementation(
            spec,
            s,
            r::INITIALIZE_SERVER_INFO,
            &at.key("serverInfo"),
            info,
        ),
        None => s.push(
            r::INITIALIZE_SERVER_INFO,
            &at.key("serverInfo"),
            format_args!("expected serverInfo to be an object, got nothing"),
        ),
    }
    member(
        s,
        r::INITIALIZE_INSTRUCTIONS,
        at,
        result,
        "instructions",
        Want::Str,
        false,
    );
}

fn discover_result(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    string_array(
        s,
        r::DISCOVER_SUPPORTED_VERSIONS,
        at,
        result,
        "supportedVersions",
        true,
    );
    if let Some(Value::Object(caps)) = member(
        s,
        r::DISCOVER_CAPABILITIES,
        at,
        result,
        "capabilities",
        Want::Obj,
        true,
    ) {
        capabilities(spec, s, &at.key("capabilities"), caps);
    }
    member(
        s,
        r::DISCOVER_INSTRUCTIONS,
        at,
        result,
        "instructions",
        Want::Str,
        false,
    );
}

/// `ServerCapabilities`: the members each revision declares, one level deep
/// plus the boolean flags (see the module note on `JSONValue`).
fn capabilities(spec: Spec, s: &mut Sink, at: &Path<'_>, caps: &Map<String, Value>) {
    const RULE: &str = r::CAPABILITIES_SHAPE;
    for (key, value) in caps {
        let here = at.key(key);
        match key.as_str() {
            "experimental" => object_of_objects(s, RULE, &here, key, value),
            "extensions" if spec.modern() => object_of_objects(s, RULE, &here, key, value),
            "logging" => {
                check_value(s, RULE, &here, key, value, Want::Obj);
            }
            "completions" if spec.since_2025_03() => {
                check_value(s, RULE, &here, key, value, Want::Obj);
            }
            "tools" | "prompts" | "resources" => {
                if let Value::Object(cap) = value {
                    member(s, RULE, &here, cap, "listChanged", Want::Bool, false);
                    if key == "resources" {
                        member(s, RULE, &here, cap, "subscribe", Want::Bool, false);
                    }
                } else {
                    check_value(s, RULE, &here, key, value, Want::Obj);
                }
            }
            "tasks" if spec.tasks() => {
                let Some(tasks) = value.as_object() else {
                    check_value(s, RULE, &here, key, value, Want::Obj);
                    continue;
                };
                member(s, RULE, &here, tasks, "cancel", Want::Obj, false);
                member(s, RULE, &here, tasks, "list", Want::Obj, false);
                if let Some(Value::Object(requests)) =
                    member(s, RULE, &here, tasks, "requests", Want::Obj, false)
                {
                    let here = here.key("requests");
                    if let Some(Value::Object(tools)) =
                        member(s, RULE, &here, requests, "tools", Want::Obj, false)
                    {
                        member(s, RULE, &here.key("tools"), tools, "call", Want::Obj, false);
                    }
                }
            }
            _ => {}
        }
    }
}

/// An object every member of which is an object (`experimental`, `extensions`).
fn object_of_objects(s: &mut Sink, rule: &'static str, at: &Path<'_>, what: &str, value: &Value) {
    let Some(obj) = value.as_object() else {
        check_value(s, rule, at, what, value, Want::Obj);
        return;
    };
    for (key, inner) in obj {
        check_value(s, rule, &at.key(key), key, inner, Want::Obj);
    }
}

/// `Implementation` (server info). `rule` reports a non-object; its members
/// report under `implementation.shape`.
fn implementation(spec: Spec, s: &mut Sink, rule: &'static str, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::IMPLEMENTATION_SHAPE;
    let Some(info) = value.as_object() else {
        check_value(s, rule, at, "server info", value, Want::Obj);
        return;
    };
    member(s, RULE, at, info, "name", Want::Str, true);
    member(s, RULE, at, info, "version", Want::Str, true);
    if spec.since_2025_06() {
        member(s, RULE, at, info, "title", Want::Str, false);
    }
    if spec.since_2025_11() {
        member(s, RULE, at, info, "description", Want::Str, false);
        member(s, RULE, at, info, "websiteUrl", Want::Str, false);
        if let Some(icons) = info.get("icons") {
            check_icons(s, &at.key("icons"), icons);
        }
    }
}

/// `icons`: an array of `Icon` (2025-11-25 on).
fn check_icons(s: &mut Sink, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::ICON_SHAPE;
    let Some(icons) = value.as_array() else {
        check_value(s, RULE, at, "icons", value, Want::Arr);
        return;
    };
    for (i, icon) in icons.iter().enumerate() {
        let here = at.index(i);
        let Some(icon) = icon.as_object() else {
            check_value(s, RULE, &here, "an icon", icon, Want::Obj);
            continue;
        };
        member(s, RULE, &here, icon, "src", Want::Str, true);
        member(s, RULE, &here, icon, "mimeType", Want::Str, false);
        string_array(s, RULE, &here, icon, "sizes", false);
        if let Some(theme) = icon.get("theme") {
            check_enum(
                s,
                RULE,
                &here.key("theme"),
                "theme",
                Some(theme),
                &["dark", "light"],
            );
        }
    }
}

// ---------------------------------------------------------------------------
// tools/list

fn tools_list(
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
fn tool(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value) {
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
fn tool_schema(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value, input: bool) {
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
fn tool_annotations(s: &mut Sink, at: &Path<'_>, value: &Value) {
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
fn unique_names(s: &mut Sink, at: &Path<'_>, tools: &[Value]) {
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

// ---------------------------------------------------------------------------
// tools/call

fn call_tool_result(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
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
fn input_required(s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
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

/// One `ContentBlock` of the types the revision knows.
fn content_block(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::CONTENT_BLOCK;
    let Some(block) = value.as_object() else {
        check_value(s, RULE, at, "a content block", value, Want::Obj);
        return;
    };
    let ty = block.get("type");
    if !check_enum(s, RULE, &at.key("type"), "type", ty, spec.content_types()) {
        return;
    }
    match ty.and_then(Value::as_str) {
        Some("text") => {
            member(s, RULE, at, block, "text", Want::Str, true);
        }
        Some("image") | Some("audio") => {
            member(s, RULE, at, block, "data", Want::Str, true);
            member(s, RULE, at, block, "mimeType", Want::Str, true);
        }
        Some("resource") => {
            if let Some(contents) = member(s, RULE, at, block, "resource", Want::Obj, true) {
                resource_contents(spec, s, &at.key("resource"), contents);
            }
        }
        // `ResourceLink` is a `Resource` with a `type`; its own members are
        // reported as the content block's.
        Some("resource_link") => {
            resource_members(spec, s, RULE, at, block);
            return;
        }
        _ => {}
    }
    common_members(spec, s, RULE, at, block);
}

/// `annotations` and `_meta`, shared by content blocks and resources.
fn common_members(
    spec: Spec,
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    obj: &Map<String, Value>,
) {
    if let Some(a) = obj.get("annotations") {
        annotations(spec, s, &at.key("annotations"), a);
    }
    if spec.since_2025_06() {
        member(s, rule, at, obj, "_meta", Want::Obj, false);
    }
}

/// The `resource` of an embedded resource: text or blob contents.
fn resource_contents(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::CONTENT_BLOCK;
    let Some(c) = value.as_object() else { return };
    member(s, RULE, at, c, "uri", Want::Str, true);
    member(s, RULE, at, c, "mimeType", Want::Str, false);
    if spec.since_2025_06() {
        member(s, RULE, at, c, "_meta", Want::Obj, false);
    }
    // `anyOf [TextResourceContents, BlobResourceContents]`: either suffices.
    let text_ok = c.get("text").is_some_and(Value::is_string);
    let blob_ok = c.get("blob").is_some_and(Value::is_string);
    if !text_ok && !blob_ok {
        s.push(
            RULE,
            at,
            format_args!(
                "expected resource contents with a string text or blob, got text {} and blob {}",
                Got(c.get("text")),
                Got(c.get("blob"))
            ),
        );
    }
}

/// `Annotations`: audience of roles, priority in [0, 1], lastModified string.
fn annotations(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::ANNOTATIONS_SHAPE;
    let Some(a) = value.as_object() else {
        check_value(s, RULE, at, "annotations", value, Want::Obj);
        return;
    };
    if let Some(Value::Array(roles)) = member(s, RULE, at, a, "audience", Want::Arr, false) {
        let here = at.key("audience");
        for (i, role) in roles.iter().enumerate() {
            check_enum(
                s,
                RULE,
                &here.index(i),
                "an audience role",
                Some(role),
                &["user", "assistant"],
            );
        }
    }
    if let Some(p) = a.get("priority") {
        if !p.as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)) {
            s.push(
                RULE,
                &at.key("priority"),
                format_args!(
                    "expected priority to be a number in [0, 1], got {}",
                    Got(Some(p))
                ),
            );
        }
    }
    if spec.since_2025_06() {
        member(s, RULE, at, a, "lastModified", Want::Str, false);
    }
}

// ---------------------------------------------------------------------------
// resources/list, prompts/list (light: the members each schema types)

fn resources_list(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    member(
        s,
        r::RESOURCES_NEXT_CURSOR,
        at,
        result,
        "nextCursor",
        Want::Str,
        false,
    );
    let Some(Value::Array(items)) = member(
        s,
        r::RESOURCES_ARRAY,
        at,
        result,
        "resources",
        Want::Arr,
        true,
    ) else {
        return;
    };
    let here = at.key("resources");
    for (i, item) in items.iter().enumerate() {
        let at = here.index(i);
        match item.as_object() {
            Some(res) => resource_members(spec, s, r::RESOURCE_SHAPE, &at, res),
            None => {
                check_value(s, r::RESOURCE_SHAPE, &at, "a resource", item, Want::Obj);
            }
        }
    }
}

/// The members of a `Resource` (and of a `ResourceLink` content block).
fn resource_members(
    spec: Spec,
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    res: &Map<String, Value>,
) {
    member(s, rule, at, res, "uri", Want::Str, true);
    member(s, rule, at, res, "name", Want::Str, true);
    member(s, rule, at, res, "description", Want::Str, false);
    member(s, rule, at, res, "mimeType", Want::Str, false);
    member(s, rule, at, res, "size", Want::Int, false);
    if spec.since_2025_06() {
        member(s, rule, at, res, "title", Want::Str, false);
    }
    if spec.since_2025_11() {
        if let Some(icons) = res.get("icons") {
            check_icons(s, &at.key("icons"), icons);
        }
    }
    common_members(spec, s, rule, at, res);
}

fn prompts_list(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    const RULE: &str = r::PROMPT_SHAPE;
    member(
        s,
        r::PROMPTS_NEXT_CURSOR,
        at,
        result,
        "nextCursor",
        Want::Str,
        false,
    );
    let Some(Value::Array(items)) =
        member(s, r::PROMPTS_ARRAY, at, result, "prompts", Want::Arr, true)
    else {
        return;
    };
    let here = at.key("prompts");
    for (i, item) in items.iter().enumerate() {
        let at = here.index(i);
        let Some(p) = item.as_object() else {
            check_value(s, RULE, &at, "a prompt", item, Want::Obj);
            continue;
        };
        member(s, RULE, &at, p, "name", Want::Str, true);
        member(s, RULE, &at, p, "description", Want::Str, false);
        if spec.since_2025_06() {
            member(s, RULE, &at, p, "title", Want::Str, false);
            member(s, RULE, &at, p, "_meta", Want::Obj, false);
        }
        if spec.since_2025_11() {
            if let Some(icons) = p.get("icons") {
                check_icons(s, &at.key("icons"), icons);
            }
        }
        let Some(Value::Array(args)) = member(s, RULE, &at, p, "arguments", Want::Arr, false)
        else {
            continue;
        };
        let args_at = at.key("arguments");
        for (j, arg) in args.iter().enumerate() {
            let at = args_at.index(j);
            let Some(arg) = arg.as_object() else {
                check_value(s, RULE, &at, "a prompt argument", arg, Want::Obj);
                continue;
            };
            member(s, RULE, &at, arg, "name", Want::Str, true);
            member(s, RULE, &at, arg, "description", Want::Str, false);
            member(s, RULE, &at, arg, "required", Want::Bool, false);
            if spec.since_2025_06() {
                member(s, RULE, &at, arg, "title", Want::Str, false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
        let msg = modern(
            json!({"supportedVersions": [], "capabilities": {"experimental": {"a~b/c": 1}}}),
        );
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
}
