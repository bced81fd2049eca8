//! Start here: the alert channels and what every payload builder is given.
//! [`Channel`] names the five (each has its own file: config check, payload,
//! tests); [`NotifyContext`] is what a builder knows about the monitor besides
//! the event; [`Action`] and [`ApiCall`] are the shapes the pagers' builders
//! answer with.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use mcprobe_core::verdict::Severity;

/// The alert channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Webhook,
    Slack,
    Discord,
    Pagerduty,
    Opsgenie,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Webhook,
        Channel::Slack,
        Channel::Discord,
        Channel::Pagerduty,
        Channel::Opsgenie,
    ];

    /// The stable code of a channel: its key in an `alerts` object, its
    /// `"type"`, and what the outbox (D1 and `watch`'s SQLite) stores.
    pub fn code(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Slack => "slack",
            Channel::Discord => "discord",
            Channel::Pagerduty => "pagerduty",
            Channel::Opsgenie => "opsgenie",
        }
    }

    /// The channel a code names.
    pub fn from_code(code: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The least severe event a channel takes unless the monitor says
    /// otherwise (`failure-modes.md` "Severity routing"): pagers take P1,
    /// chat P2 and up, the webhook everything (it feeds digests and e-mail).
    pub fn default_min_severity(self) -> Severity {
        match self {
            Channel::Pagerduty | Channel::Opsgenie => Severity::P1,
            Channel::Slack | Channel::Discord => Severity::P2,
            Channel::Webhook => Severity::P3,
        }
    }

    /// Whether an event of `severity` goes to a channel that takes
    /// `min_severity` and above.
    pub fn takes(min_severity: Severity, severity: Severity) -> bool {
        severity <= min_severity
    }
}

/// What a builder knows about the monitor besides the event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyContext {
    /// The name people gave the monitor (falls back to its id when empty).
    pub monitor_name: String,
    /// The MCP endpoint it probes.
    pub url: String,
    /// The server's self-reported name, when a probe got one.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Where this deployment's pages live (`https://status.example.com`): the
    /// default runbook URLs are `{public_base}/runbook/{mode}`.
    #[serde(default)]
    pub public_base: String,
    /// The monitor's own runbook, which replaces ours when set.
    #[serde(default)]
    pub runbook_url: Option<String>,
}

/// Whether an event opens (or updates) an alert or closes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Trigger,
    Resolve,
}

/// A request to a channel's API: the method, the path under its base URL, the
/// JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    pub method: &'static str,
    pub path: String,
    pub body: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_serde_names_and_read_back() {
        for c in Channel::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.code());
            assert_eq!(Channel::from_code(c.code()), Some(c));
        }
        assert_eq!(Channel::from_code("email"), None);
    }
}
