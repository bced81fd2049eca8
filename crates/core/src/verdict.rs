//! Start here: the verdict contract (the README's "The verdict contract").
//!
//! Every probe ends in one [`Verdict`]. The mode codes, their order on the ladder
//! and the JSON field names are public API (CLI `--json`, the Worker's API, badges,
//! alert payloads), so they live here, in one place, as closed enums whose
//! `as_str()` codes never change once printed or stored.

use serde::{Deserialize, Serialize};

/// What a probe concluded: the first layer of the ladder that failed, or `Ok`.
///
/// Declared in ladder order; `Ord` follows it, so "the first failing layer" is the
/// minimum of the failing modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    DnsUnresolved,
    ConnectRefused,
    TlsError,
    Timeout,
    PlatformAsleep,
    RouteMoved,
    AuthRequired,
    HttpError,
    HandshakeFailed,
    ToolsListFailed,
    AuthHalfConfigured,
    ToolCallError,
    MalformedJsonrpc,
    SchemaDrift,
    Ok,
    // Findings that are never a verdict's mode on their own.
    DeprecatedTransport,
    LegacyOnly,
    ToolErrorResult,
    SpecShould,
    SlowStep,
    // Aggregates over a monitor's history (not a single probe).
    ElevatedErrorRate,
    Slow,
}

impl Mode {
    /// Every code, for tables and docs.
    pub const ALL: [Mode; 22] = [
        Mode::Ok,
        Mode::DnsUnresolved,
        Mode::ConnectRefused,
        Mode::Timeout,
        Mode::TlsError,
        Mode::PlatformAsleep,
        Mode::RouteMoved,
        Mode::HttpError,
        Mode::AuthRequired,
        Mode::HandshakeFailed,
        Mode::ToolsListFailed,
        Mode::AuthHalfConfigured,
        Mode::ToolCallError,
        Mode::MalformedJsonrpc,
        Mode::SchemaDrift,
        Mode::DeprecatedTransport,
        Mode::LegacyOnly,
        Mode::ToolErrorResult,
        Mode::SpecShould,
        Mode::SlowStep,
        Mode::ElevatedErrorRate,
        Mode::Slow,
    ];

    /// The stable code, as printed in JSON and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Ok => "ok",
            Mode::DnsUnresolved => "dns_unresolved",
            Mode::ConnectRefused => "connect_refused",
            Mode::Timeout => "timeout",
            Mode::TlsError => "tls_error",
            Mode::PlatformAsleep => "platform_asleep",
            Mode::RouteMoved => "route_moved",
            Mode::HttpError => "http_error",
            Mode::AuthRequired => "auth_required",
            Mode::HandshakeFailed => "handshake_failed",
            Mode::ToolsListFailed => "tools_list_failed",
            Mode::AuthHalfConfigured => "auth_half_configured",
            Mode::ToolCallError => "tool_call_error",
            Mode::MalformedJsonrpc => "malformed_jsonrpc",
            Mode::SchemaDrift => "schema_drift",
            Mode::DeprecatedTransport => "deprecated_transport",
            Mode::LegacyOnly => "legacy_only",
            Mode::ToolErrorResult => "tool_error_result",
            Mode::SpecShould => "spec_should",
            Mode::SlowStep => "slow_step",
            Mode::ElevatedErrorRate => "elevated_error_rate",
            Mode::Slow => "slow",
        }
    }

    /// Parses a stable code back (for stored verdicts and baselines).
    pub fn from_code(code: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == code)
    }

    /// The ladder layer this mode belongs to (`-` for ok, `any` for timeout).
    pub fn layer(self) -> &'static str {
        match self {
            Mode::Ok => "-",
            Mode::DnsUnresolved => "dns",
            Mode::ConnectRefused => "tcp",
            Mode::Timeout => "any",
            Mode::TlsError => "tls",
            Mode::PlatformAsleep | Mode::RouteMoved | Mode::HttpError | Mode::AuthRequired => {
                "http"
            }
            Mode::HandshakeFailed => "handshake",
            Mode::ToolsListFailed => "tools_list",
            Mode::AuthHalfConfigured | Mode::ToolCallError => "tool_call",
            Mode::MalformedJsonrpc => "spec",
            Mode::SchemaDrift => "drift",
            Mode::DeprecatedTransport
            | Mode::LegacyOnly
            | Mode::ToolErrorResult
            | Mode::SpecShould
            | Mode::SlowStep => "finding",
            Mode::ElevatedErrorRate | Mode::Slow => "aggregate",
        }
    }

    /// Status and severity of a verdict whose mode is `self`, per the table.
    /// `breaking` only matters for `schema_drift` (degraded when breaking, else up).
    pub fn status_severity(self, breaking: bool) -> (Status, Severity) {
        use Severity::*;
        use Status::*;
        match self {
            Mode::Ok => (Up, None),
            Mode::DnsUnresolved
            | Mode::ConnectRefused
            | Mode::Timeout
            | Mode::TlsError
            | Mode::PlatformAsleep
            | Mode::RouteMoved
            | Mode::HttpError => (Down, P1),
            Mode::AuthRequired => (Up, None),
            Mode::HandshakeFailed => (Down, P2),
            Mode::ToolsListFailed | Mode::AuthHalfConfigured | Mode::MalformedJsonrpc => {
                (Degraded, P2)
            }
            Mode::ToolCallError => (Degraded, P3),
            Mode::SchemaDrift if breaking => (Degraded, P3),
            Mode::SchemaDrift => (Up, P3),
            Mode::ElevatedErrorRate => (Degraded, P2),
            Mode::Slow => (Degraded, P3),
            Mode::DeprecatedTransport
            | Mode::LegacyOnly
            | Mode::ToolErrorResult
            | Mode::SpecShould
            | Mode::SlowStep => (Up, None),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Up,
    Degraded,
    Down,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Up => "up",
            Status::Degraded => "degraded",
            Status::Down => "down",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    P1,
    P2,
    P3,
    #[serde(rename = "none")]
    None,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
            Severity::None => "none",
        }
    }
}

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
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for m in Mode::ALL {
            assert!(seen.insert(m.as_str()), "duplicate code {}", m.as_str());
            assert_eq!(Mode::from_code(m.as_str()), Some(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.as_str()));
        }
    }

    #[test]
    fn ladder_order_puts_transport_before_protocol() {
        assert!(Mode::DnsUnresolved < Mode::HttpError);
        assert!(Mode::HandshakeFailed < Mode::MalformedJsonrpc);
        assert!(Mode::MalformedJsonrpc < Mode::SchemaDrift);
    }

    #[test]
    fn severities_follow_the_table() {
        assert_eq!(
            Mode::ConnectRefused.status_severity(false),
            (Status::Down, Severity::P1)
        );
        assert_eq!(
            Mode::AuthRequired.status_severity(false),
            (Status::Up, Severity::None)
        );
        assert_eq!(
            Mode::HandshakeFailed.status_severity(false),
            (Status::Down, Severity::P2)
        );
        assert_eq!(
            Mode::SchemaDrift.status_severity(true),
            (Status::Degraded, Severity::P3)
        );
        assert_eq!(
            Mode::SchemaDrift.status_severity(false),
            (Status::Up, Severity::P3)
        );
    }

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
