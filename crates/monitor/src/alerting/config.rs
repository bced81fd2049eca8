//! Start here: a monitor's alert routing, its `alerts` object read once into
//! an [`AlertConfig`]. [`AlertConfig::parse`] checks what a user wrote (at
//! registration, so a typo is a 400 then, not a lost page at 3 AM): the
//! routing keys here, each channel's own fields in that channel's file
//! (`webhook.rs`, `slack.rs`, `discord.rs`, `pagerduty.rs`, `opsgenie.rs`).
//! The config keeps the object as written, so it is stored and read back
//! (serde) exactly as before, and a stored object that no longer reads is an
//! error the host can show, never an empty config.
//!
//! The `alerts` object: keys name channels, values configure them.
//!
//! ```json
//! {
//!   "webhook":   {"url": "https://hooks.example.com/mcp"},
//!   "slack":     {"url": "https://hooks.slack.com/services/...", "severity": "P2"},
//!   "discord":   {"url": "https://discord.com/api/webhooks/..."},
//!   "pagerduty": {"routing_key": "R0UT1NGKEY"},
//!   "opsgenie":  {"api_key": "...", "region": "eu"},
//!   "team-b":    {"type": "webhook", "url": "https://b.example.com/hook"},
//!   "quiet_hours": {"start_hour": 22, "end_hour": 7}
//! }
//! ```
//!
//! A key that is a channel name is that channel; any other key needs a
//! `"type"`. `severity` is the least severe event the channel takes (default
//! per `failure-modes.md`: pagers P1, chat P2, the webhook everything).
//! PagerDuty and Opsgenie accept `"api_base"` (a regional proxy, or a local
//! receiver in tests); the host applies its address policy to every URL.
//! Secrets (`routing_key`, `api_key`, webhook URLs, which are bearer
//! capabilities too) are never echoed by [`AlertConfig::public_json`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};

use super::channel::Channel;
use super::check::{bad, text, Endpoint};
use super::policy::QuietHours;
use super::{discord, opsgenie, pagerduty, slack, webhook};
use crate::error::ValidationError;
use mcprobe_core::verdict::Severity;

/// Most channels one monitor may have.
pub const MAX_CHANNELS: usize = 10;

/// One configured channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    /// The key in the `alerts` object (what deliveries are recorded under).
    pub name: String,
    pub channel: Channel,
    /// Webhook, Slack and Discord: where to POST. PagerDuty, Opsgenie: the API
    /// base (their public one unless `api_base` was given).
    pub url: String,
    /// PagerDuty's routing key or Opsgenie's API key.
    pub secret: Option<String>,
    pub min_severity: Severity,
}

/// A monitor's alert routing, checked, with the object it was read from.
///
/// Serialises as that object, so a stored config reads back the same;
/// deserialising checks it again and fails (rather than yielding an empty
/// config) when it no longer passes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertConfig {
    pub channels: Vec<ChannelConfig>,
    pub quiet_hours: Option<QuietHours>,
    /// The `alerts` object as written (what is stored, and what a PATCH
    /// merges into).
    written: Map<String, Value>,
}

const QUIET_HOURS_HINT: &str = "e.g. {\"quiet_hours\": {\"start_hour\": 22, \"end_hour\": 7}}";

fn hour(v: Option<&Value>, field: &str) -> Result<u8, ValidationError> {
    v.and_then(Value::as_u64)
        .filter(|h| *h < 24)
        .map(|h| h as u8)
        .ok_or_else(|| {
            bad(
                "quiet_hours",
                field,
                format!("alerts.quiet_hours.{field} must be an hour 0..23 (UTC)"),
                QUIET_HOURS_HINT,
            )
        })
}

fn quiet_hours(value: &Value) -> Result<QuietHours, ValidationError> {
    let q = value.as_object().ok_or_else(|| {
        bad(
            "quiet_hours",
            "",
            "alerts.quiet_hours must be an object",
            QUIET_HOURS_HINT,
        )
    })?;
    Ok(QuietHours {
        start_hour: hour(q.get("start_hour"), "start_hour")?,
        end_hour: hour(q.get("end_hour"), "end_hour")?,
    })
}

/// Which channel `alerts.{key}` is: its `"type"`, else its key.
fn channel_of(key: &str, obj: &Map<String, Value>) -> Result<Channel, ValidationError> {
    match text(obj, key, "type")? {
        Some(t) => Channel::from_code(t).ok_or_else(|| {
            bad(
                key,
                "type",
                format!("alerts.{key}.type {t:?} is not a channel"),
                "use webhook, slack, discord, pagerduty or opsgenie",
            )
        }),
        None => Channel::from_code(key).ok_or_else(|| {
            bad(
                key,
                "",
                format!("alerts.{key} is not a channel name and has no \"type\""),
                "name it webhook, slack, discord, pagerduty or opsgenie, or add \"type\"",
            )
        }),
    }
}

fn min_severity(
    key: &str,
    obj: &Map<String, Value>,
    channel: Channel,
) -> Result<Severity, ValidationError> {
    match text(obj, key, "severity")? {
        None => Ok(channel.default_min_severity()),
        Some("P1") => Ok(Severity::P1),
        Some("P2") => Ok(Severity::P2),
        Some("P3") => Ok(Severity::P3),
        Some(s) => Err(bad(
            key,
            "severity",
            format!("alerts.{key}.severity {s:?} is not P1, P2 or P3"),
            "the channel takes events of this severity and more severe ones",
        )),
    }
}

/// The channel's own check, in the channel's file.
fn endpoint(
    channel: Channel,
    key: &str,
    obj: &Map<String, Value>,
) -> Result<Endpoint, ValidationError> {
    match channel {
        Channel::Webhook => webhook::check_config(key, obj),
        Channel::Slack => slack::check_config(key, obj),
        Channel::Discord => discord::check_config(key, obj),
        Channel::Pagerduty => pagerduty::check_config(key, obj),
        Channel::Opsgenie => opsgenie::check_config(key, obj),
    }
}

fn channel_config(key: &str, value: &Value) -> Result<ChannelConfig, ValidationError> {
    let obj = value.as_object().ok_or_else(|| {
        bad(
            key,
            "",
            format!("alerts.{key} must be an object"),
            format!("e.g. {{\"{key}\": {{\"url\": \"https://...\"}}}}"),
        )
    })?;
    let channel = channel_of(key, obj)?;
    let min_severity = min_severity(key, obj, channel)?;
    let Endpoint { url, secret } = endpoint(channel, key, obj)?;
    Ok(ChannelConfig {
        name: key.to_string(),
        channel,
        url,
        secret,
        min_severity,
    })
}

impl AlertConfig {
    /// Parses and checks a monitor's `alerts` object.
    pub fn parse(alerts: &Map<String, Value>) -> Result<AlertConfig, ValidationError> {
        let mut cfg = AlertConfig {
            written: alerts.clone(),
            ..AlertConfig::default()
        };
        for (key, value) in alerts {
            if key == "quiet_hours" {
                cfg.quiet_hours = Some(quiet_hours(value)?);
            } else {
                cfg.channels.push(channel_config(key, value)?);
            }
        }
        if cfg.channels.len() > MAX_CHANNELS {
            return Err(ValidationError::new(
                "alerts",
                format!(
                    "{} alert channels; at most {MAX_CHANNELS}",
                    cfg.channels.len()
                ),
                "send to a webhook that fans out instead",
            ));
        }
        Ok(cfg)
    }

    /// Reads a stored config (the JSON text a host wrote with serde).
    /// Empty text is no config; anything else must parse and pass
    /// [`AlertConfig::parse`], or the error says why it cannot be used.
    pub fn from_stored(json: &str) -> Result<AlertConfig, ValidationError> {
        if json.trim().is_empty() {
            return Ok(AlertConfig::default());
        }
        let map: Map<String, Value> = serde_json::from_str(json).map_err(|e| {
            ValidationError::new(
                "alerts",
                format!("the stored alert config is not a JSON object ({e})"),
                "send the monitor's \"alerts\" again with PATCH",
            )
        })?;
        AlertConfig::parse(&map)
    }

    /// The `alerts` object as written.
    pub fn as_json(&self) -> &Map<String, Value> {
        &self.written
    }

    /// No channel and no quiet hours: nothing was configured.
    pub fn is_empty(&self) -> bool {
        self.written.is_empty()
    }

    /// Every URL a delivery may go to (for the host's address policy).
    pub fn urls(&self) -> impl Iterator<Item = (&str, &str)> {
        self.channels
            .iter()
            .map(|c| (c.name.as_str(), c.url.as_str()))
    }

    /// What anyone may see: channel names, types and severities; no URL, no key.
    pub fn public_json(&self) -> Value {
        let channels: Vec<Value> = self
            .channels
            .iter()
            .map(
                |c| json!({"name": c.name, "type": c.channel, "severity": c.min_severity.as_str()}),
            )
            .collect();
        json!({"channels": channels, "quiet_hours": self.quiet_hours})
    }
}

/// A stored `alerts` object that no longer reads (edited by hand, or written
/// before a rule tightened). It is kept as stored, so no unrelated update
/// overwrites it unseen, with the reason. A host pages nobody for such a
/// monitor but says so (a log line per probe, a field on the admin API); it
/// never takes it for "no alerts configured".
#[derive(Clone, PartialEq, Eq)]
pub struct UnreadableAlerts {
    /// The text as stored (it holds secrets: never logged or shown).
    pub stored: String,
    pub error: ValidationError,
}

/// The stored text holds webhook URLs and keys: `{:?}` shows the reason only.
impl std::fmt::Debug for UnreadableAlerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnreadableAlerts")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl UnreadableAlerts {
    /// Reads a stored config: the config, or an empty one and why not.
    pub fn read(stored: &str) -> (AlertConfig, Option<UnreadableAlerts>) {
        match AlertConfig::from_stored(stored) {
            Ok(cfg) => (cfg, None),
            Err(error) => (
                AlertConfig::default(),
                Some(UnreadableAlerts {
                    stored: stored.to_string(),
                    error,
                }),
            ),
        }
    }

    /// The line a host logs for a monitor whose alerts cannot be read.
    pub fn log_line(&self, monitor_id: &str) -> String {
        format!(
            "monitor {monitor_id}: its stored alert config cannot be read ({}: {}); \
             nobody is paged for it until it is fixed ({})",
            self.error.field, self.error.error, self.error.hint
        )
    }

    /// What the admin API shows: `{"field", "error", "hint"}`.
    pub fn json(&self) -> Value {
        json!({"field": self.error.field, "error": self.error.error, "hint": self.error.hint})
    }
}

/// Stored as written: rows and `monitors.toml` keep their shape.
impl Serialize for AlertConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.written.serialize(s)
    }
}

/// Read back through [`AlertConfig::parse`]: a stored object that no longer
/// passes is an error, never a config that silently pages nobody.
impl<'de> Deserialize<'de> for AlertConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        AlertConfig::parse(&map).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn every_channel_parses_with_its_defaults() {
        let cfg = AlertConfig::parse(&alerts(json!({
            "webhook": {"url": "https://h.example.com/x"},
            "slack": {"url": "https://hooks.slack.com/services/T/B/X", "severity": "P3"},
            "discord": {"url": "https://discord.com/api/webhooks/1/a"},
            "pagerduty": {"routing_key": "RK"},
            "opsgenie": {"api_key": "GK", "region": "eu"},
            "team-b": {"type": "webhook", "url": "http://127.0.0.1:9/hook"},
            "quiet_hours": {"start_hour": 22, "end_hour": 7}
        })))
        .expect("parses");
        assert_eq!(cfg.channels.len(), 6);
        let by = |n: &str| cfg.channels.iter().find(|c| c.name == n).expect(n);
        assert_eq!(by("slack").min_severity, Severity::P3);
        assert_eq!(by("discord").min_severity, Severity::P2);
        assert_eq!(by("pagerduty").min_severity, Severity::P1);
        assert_eq!(by("pagerduty").url, pagerduty::PAGERDUTY_EVENTS_BASE);
        assert_eq!(by("opsgenie").url, opsgenie::OPSGENIE_EU_API_BASE);
        assert_eq!(by("team-b").channel, Channel::Webhook);
        assert_eq!(
            cfg.quiet_hours,
            Some(QuietHours {
                start_hour: 22,
                end_hour: 7
            })
        );
        let public = cfg.public_json().to_string();
        assert!(!public.contains("RK") && !public.contains("GK") && !public.contains("hooks."));
    }

    #[test]
    fn mistakes_are_refusals_that_say_what_to_write() {
        for (v, needle, field) in [
            (
                json!({"slak": {"url": "https://x"}}),
                "not a channel name",
                "alerts.slak",
            ),
            (json!({"slack": {}}), "needs a \"url\"", "alerts.slack.url"),
            (
                json!({"slack": {"url": "ftp://x"}}),
                "not an http(s) URL",
                "alerts.slack.url",
            ),
            (
                json!({"slack": "https://x"}),
                "must be an object",
                "alerts.slack",
            ),
            (
                json!({"pagerduty": {"routing_key": 3}}),
                "non-empty string",
                "alerts.pagerduty.routing_key",
            ),
            (
                json!({"opsgenie": {"api_key": "k", "region": "mars"}}),
                "not us or eu",
                "alerts.opsgenie.region",
            ),
            (
                json!({"webhook": {"url": "https://x", "severity": "P0"}}),
                "not P1, P2 or P3",
                "alerts.webhook.severity",
            ),
            (
                json!({"quiet_hours": {"start_hour": 25, "end_hour": 7}}),
                "0..23",
                "alerts.quiet_hours.start_hour",
            ),
            (
                json!({"x": {"type": "email", "url": "https://x"}}),
                "not a channel",
                "alerts.x.type",
            ),
        ] {
            let e = AlertConfig::parse(&alerts(v.clone())).expect_err("refused");
            assert_eq!(e.field, field, "{v}");
            assert!(e.error.contains(needle), "{v}: {}", e.error);
            assert!(!e.hint.is_empty());
        }
    }

    #[test]
    fn a_config_is_stored_as_written_and_read_back_checked() {
        let written = json!({
            "opsgenie": {"api_key": "GK", "region": "eu"},
            "quiet_hours": {"start_hour": 22, "end_hour": 7}
        });
        let cfg = AlertConfig::parse(&alerts(written.clone())).expect("parses");
        assert_eq!(serde_json::to_value(&cfg).unwrap(), written);
        let back = AlertConfig::from_stored(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
        assert_eq!(
            AlertConfig::from_stored("").unwrap(),
            AlertConfig::default()
        );
        assert!(AlertConfig::from_stored("{}").unwrap().is_empty());
        // What no longer reads is an error with a reason, not an empty config.
        let e = AlertConfig::from_stored(r#"{"slack": {"url": "ftp://x"}}"#).unwrap_err();
        assert_eq!(e.field, "alerts.slack.url");
        let e = AlertConfig::from_stored("{not json").unwrap_err();
        assert!(e.error.contains("not a JSON object"), "{}", e.error);
        let e = serde_json::from_str::<AlertConfig>(r#"{"slack": 1}"#).unwrap_err();
        assert!(
            e.to_string().contains("alerts.slack must be an object"),
            "{e}"
        );
    }

    #[test]
    fn an_unreadable_stored_config_is_kept_and_explained_never_empty() {
        let stored = r#"{"slack": {"url": "ftp://hooks.example.com/s3cret"}}"#;
        let (cfg, bad) = UnreadableAlerts::read(stored);
        assert!(cfg.channels.is_empty());
        let bad = bad.expect("reported, not silently empty");
        assert_eq!(bad.stored, stored);
        assert_eq!(bad.error.field, "alerts.slack.url");
        let line = bad.log_line("m1");
        assert!(
            line.starts_with("monitor m1: its stored alert config cannot be read"),
            "{line}"
        );
        assert!(line.contains("nobody is paged"), "{line}");
        for shown in [line, format!("{bad:?}"), bad.json().to_string()] {
            assert!(!shown.contains("s3cret"), "{shown}");
        }
        assert_eq!(bad.json()["field"], "alerts.slack.url");
        // A readable one (and no config at all) is no problem.
        assert!(UnreadableAlerts::read("").1.is_none());
        assert!(
            UnreadableAlerts::read(r#"{"webhook": {"url": "https://h/x"}}"#)
                .1
                .is_none()
        );
    }
}
