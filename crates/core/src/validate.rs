//! Start here: validation of every answer against the rules of the revision it
//! speaks. Each violation carries a JSON pointer into the message and a stable
//! rule id. The probe reads answers leniently (so it can keep climbing) and this
//! module judges them strictly: any violation here is `malformed_jsonrpc`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::revision::Revision;

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

/// Validates one JSON-RPC response message (result or error) answering a
/// request with id `request_id`, spoken in revision `rev`.
pub fn validate_response(rev: Revision, answer: Answer, request_id: &Value, message: &Value) -> Vec<Violation> {
    let _ = (rev, answer, request_id, message);
    todo!("validator")
}
