//! The stable rule ids, one constant each. `ALL` lists them for docs and for
//! the test that every rule has a unit test.

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
