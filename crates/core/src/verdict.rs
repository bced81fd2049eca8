//! Start here: the verdict contract (the README's "The verdict contract").
//!
//! Every probe ends in one [`Verdict`]. Its JSON field names are public API (CLI
//! `--json`, the Worker's API, badges, alert payloads), so they live here, in
//! one place. The mode codes, statuses and severities it carries live in
//! `mode.rs` (re-exported here), below both this file and the runbook.

use serde::{Deserialize, Serialize};

pub use crate::mode::{Mode, Severity, Status};

/// Which protocol era answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Era {
    Modern,
    Legacy,
}

/// Which transport answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transport {
    #[serde(rename = "streamable-http")]
    StreamableHttp,
    #[serde(rename = "sse")]
    Sse,
    #[serde(rename = "stdio")]
    Stdio,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub name: String,
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolsSummary {
    pub count: usize,
    /// `sha256:<hex>` of the canonical tool list (see `fingerprint`).
    pub hash: String,
    pub names: Vec<String>,
}

/// One rung of the ladder as it was climbed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub ok: bool,
    pub ms: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Something noticed on the way: a mode code with detail and, for spec
/// violations, the JSON pointer and rule id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub mode: Mode,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// The verdict JSON of `failure-modes.md`, field for field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub url: String,
    pub status: Status,
    pub mode: Mode,
    pub severity: Severity,
    pub reason: String,
    pub hint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub era: Option<Era>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<ToolsSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<crate::fingerprint::Drift>,
    pub steps: Vec<Step>,
    pub findings: Vec<Finding>,
    /// RFC 3339, from the host's clock (the core never reads a clock).
    pub checked_at: String,
    pub elapsed_ms: u64,
}

impl Verdict {
    /// A verdict of `mode` for `url`: the contract's status and severity for
    /// the mode, the runbook's hint, `reason`, and nothing else (no steps,
    /// findings or times). For hosts' own verdicts (a watchdog's) and tests;
    /// fill in the rest with struct update syntax.
    pub fn of(url: impl Into<String>, mode: Mode, reason: impl Into<String>) -> Verdict {
        let (status, severity) = mode.status_severity(false);
        Verdict {
            url: url.into(),
            status,
            mode,
            severity,
            reason: reason.into(),
            hint: crate::runbook::hint(mode).to_string(),
            alternate_url: None,
            era: None,
            transport: None,
            protocol_version: None,
            server: None,
            tools: None,
            drift: None,
            steps: Vec::new(),
            findings: Vec::new(),
            checked_at: String::new(),
            elapsed_ms: 0,
        }
    }

    /// Exit code of `mcprobe check` for this verdict: 0 up, 1 degraded or down.
    pub fn exit_code(&self) -> i32 {
        match self.status {
            Status::Up => 0,
            Status::Degraded | Status::Down => 1,
        }
    }
}

// ---- bounds: how much of a hostile server a verdict can hold ----------------
//
// A verdict is printed (`--json`), stored (a D1 row: 1 MB at most, better far
// less), sent in alerts and held in a Worker isolate of 128 MB. A server
// nobody vetted decides how long its error messages, tool names and lists are,
// so everything a verdict copies from an answer is capped here: together the
// caps keep any verdict's JSON well under 256 KiB.

/// Characters of one piece of server text (a JSON-RPC error message, an
/// excerpt) quoted into a reason or detail: enough to read what went wrong.
pub const MAX_QUOTED_CHARS: usize = 300;
/// Characters of a verdict's `reason` (our words around a few quotes).
pub const MAX_REASON_CHARS: usize = 1_000;
/// Characters of one step's or finding's `detail`.
pub const MAX_DETAIL_CHARS: usize = 500;
/// Characters of a finding's JSON `pointer` (its keys are the server's).
pub const MAX_POINTER_CHARS: usize = 200;
/// Findings kept per verdict; past it a last finding counts the rest. One
/// 4 MiB page of `{},{},...` breaks two rules per entry: millions of findings
/// that say the same thing.
pub const MAX_FINDINGS: usize = 100;
/// Tool names listed in `tools.names` (`tools.count` stays the whole count).
pub const MAX_TOOL_NAMES: usize = 500;
/// Characters of one name (a tool's, a server's, a parameter's): the spec
/// allows tool names of 128 characters at most.
pub const MAX_NAME_CHARS: usize = 128;
/// Drift changes listed in `drift.changes`; the reason still counts them all.
pub const MAX_DRIFT_CHANGES: usize = 100;

/// `text` cut to at most `max_chars` characters (on a character boundary),
/// marked as cut with the size of the whole when it was longer.
pub fn cut_text(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((at, _)) => format!("{}… [cut, {} bytes in all]", &text[..at], text.len()),
    }
}

/// [`cut_text`] in place, for fields already owned.
pub fn cut_in_place(text: &mut String, max_chars: usize) {
    if text.char_indices().nth(max_chars).is_some() {
        *text = cut_text(text, max_chars);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_text_keeps_short_text_and_cuts_long_text_on_a_char_boundary() {
        assert_eq!(cut_text("short", 10), "short");
        assert_eq!(cut_text("exactly10!", 10), "exactly10!");
        // Two-byte characters: a byte cut at 5 would split one.
        let long = "é".repeat(1_000);
        let cut = cut_text(&long, 5);
        assert!(cut.starts_with("ééééé… [cut, 2000 bytes in all]"), "{cut}");
        assert_eq!(cut.chars().filter(|c| *c == 'é').count(), 5);
        let mut owned = "x".repeat(3 * 1024 * 1024);
        cut_in_place(&mut owned, MAX_QUOTED_CHARS);
        assert!(owned.len() < MAX_QUOTED_CHARS + 64, "{}", owned.len());
        assert!(owned.ends_with("[cut, 3145728 bytes in all]"));
    }
}
