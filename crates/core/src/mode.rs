//! Start here: the mode ladder and what each mode means for a status page.
//!
//! [`Mode`] codes, their order on the ladder, and the [`Status`] and
//! [`Severity`] each mode maps to are public API (CLI `--json`, the Worker's
//! API, badges, alert payloads): closed enums whose `as_str()` codes never
//! change once printed or stored. They sit below both the verdict and the
//! runbook (which explains each mode), so neither has to import the other.

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
}
