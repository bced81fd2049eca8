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

mod call;
mod content;
mod envelope;
mod handshake;
mod listings;
mod results;
pub mod rules;
mod sink;
mod spec;
mod tools;

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::revision::Revision;
use envelope::judge_message;
pub use results::Answer;
use sink::Sink;
pub use sink::{Violation, MAX_VIOLATIONS};
pub use tools::UNIQUE_BY_SCAN_MAX;

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
