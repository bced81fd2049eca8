//! Start here: a monitor's alert routing, from its `alerts` object to the
//! requests a host sends. Pure, shared by the Worker and `mcprobe watch`:
//! [`AlertConfig::parse`] checks what a user wrote (at registration, so a typo
//! is a 400 then, not a lost page at 3 AM), [`deliveries`] turns one policy
//! [`Event`] into one HTTP request per channel that takes its severity, and
//! [`retry_after`] says whether and when a failed attempt is tried again.
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

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::monitor::ApiError;
use crate::notify::{self, Channel, NotifyContext};
use crate::policy::{Event, EventKind, QuietHours};
use mcprobe_core::verdict::Severity;

/// Most channels one monitor may have.
pub const MAX_CHANNELS: usize = 10;
/// Attempts per delivery (the first and its retries).
pub const MAX_ATTEMPTS: u32 = 4;
/// Wait before retry `n` (1-based): 1 s, 2 s, 4 s; a `Retry-After` up to
/// [`MAX_RETRY_AFTER_MS`] is honoured instead.
pub const BACKOFF_MS: [u64; 3] = [1_000, 2_000, 4_000];
pub const MAX_RETRY_AFTER_MS: u64 = 30_000;
/// Longest URL or secret accepted.
const MAX_VALUE_LEN: usize = 2048;

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

/// A monitor's alert routing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertConfig {
    pub channels: Vec<ChannelConfig>,
    pub quiet_hours: Option<QuietHours>,
}

/// One HTTP request to send for an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub channel_name: String,
    pub channel: Channel,
    pub method: &'static str,
    pub url: String,
    /// Extra headers (Opsgenie's `Authorization: GenieKey ...`): secrets, so
    /// never logged or stored by the host.
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
    /// The JSON body, as sent.
    pub body: String,
}

fn bad(error: impl Into<String>, hint: impl Into<String>) -> ApiError {
    ApiError {
        status: 400,
        error: error.into(),
        hint: hint.into(),
    }
}

fn channel_of(name: &str) -> Option<Channel> {
    match name {
        "webhook" => Some(Channel::Webhook),
        "slack" => Some(Channel::Slack),
        "discord" => Some(Channel::Discord),
        "pagerduty" => Some(Channel::Pagerduty),
        "opsgenie" => Some(Channel::Opsgenie),
        _ => None,
    }
}

fn http_url(key: &str, field: &str, v: &str) -> Result<String, ApiError> {
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() <= MAX_VALUE_LEN
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(v.to_string())
    } else {
        Err(bad(
            format!("alerts.{key}.{field} is not an http(s) URL"),
            format!("give alerts.{key}.{field} as \"https://...\""),
        ))
    }
}

fn text<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_VALUE_LEN => Ok(Some(s)),
        Some(_) => Err(bad(
            format!("alerts.{key}.{field} must be a non-empty string"),
            format!("give alerts.{key}.{field} as a string"),
        )),
    }
}

fn hour(v: Option<&Value>, field: &str) -> Result<u8, ApiError> {
    v.and_then(Value::as_u64)
        .filter(|h| *h < 24)
        .map(|h| h as u8)
        .ok_or_else(|| {
            bad(
                format!("alerts.quiet_hours.{field} must be an hour 0..23 (UTC)"),
                "e.g. {\"quiet_hours\": {\"start_hour\": 22, \"end_hour\": 7}}",
            )
        })
}

impl AlertConfig {
    /// Parses and checks a monitor's `alerts` object.
    pub fn parse(alerts: &Map<String, Value>) -> Result<AlertConfig, ApiError> {
        let mut cfg = AlertConfig::default();
        for (key, value) in alerts {
            if key == "quiet_hours" {
                let q = value.as_object().ok_or_else(|| {
                    bad(
                        "alerts.quiet_hours must be an object",
                        "e.g. {\"quiet_hours\": {\"start_hour\": 22, \"end_hour\": 7}}",
                    )
                })?;
                cfg.quiet_hours = Some(QuietHours {
                    start_hour: hour(q.get("start_hour"), "start_hour")?,
                    end_hour: hour(q.get("end_hour"), "end_hour")?,
                });
                continue;
            }
            let obj = value.as_object().ok_or_else(|| {
                bad(
                    format!("alerts.{key} must be an object"),
                    format!("e.g. {{\"{key}\": {{\"url\": \"https://...\"}}}}"),
                )
            })?;
            let channel = match text(obj, key, "type")? {
                Some(t) => channel_of(t).ok_or_else(|| {
                    bad(
                        format!("alerts.{key}.type {t:?} is not a channel"),
                        "use webhook, slack, discord, pagerduty or opsgenie",
                    )
                })?,
                None => channel_of(key).ok_or_else(|| {
                    bad(
                        format!("alerts.{key} is not a channel name and has no \"type\""),
                        "name it webhook, slack, discord, pagerduty or opsgenie, or add \"type\"",
                    )
                })?,
            };
            let min_severity = match text(obj, key, "severity")? {
                None => channel.default_min_severity(),
                Some("P1") => Severity::P1,
                Some("P2") => Severity::P2,
                Some("P3") => Severity::P3,
                Some(s) => {
                    return Err(bad(
                        format!("alerts.{key}.severity {s:?} is not P1, P2 or P3"),
                        "the channel takes events of this severity and more severe ones",
                    ))
                }
            };
            let (url, secret) = match channel {
                Channel::Webhook | Channel::Slack | Channel::Discord => {
                    let url = text(obj, key, "url")?.ok_or_else(|| {
                        bad(
                            format!("alerts.{key} needs a \"url\""),
                            "the webhook URL the channel gave you",
                        )
                    })?;
                    (http_url(key, "url", url)?, None)
                }
                Channel::Pagerduty => {
                    let k = text(obj, key, "routing_key")?.ok_or_else(|| {
                        bad(
                            format!("alerts.{key} needs a \"routing_key\""),
                            "the Events API v2 integration key of a PagerDuty service",
                        )
                    })?;
                    let base = match text(obj, key, "api_base")? {
                        Some(b) => http_url(key, "api_base", b)?,
                        None => notify::PAGERDUTY_EVENTS_BASE.to_string(),
                    };
                    (base, Some(k.to_string()))
                }
                Channel::Opsgenie => {
                    let k = text(obj, key, "api_key")?.ok_or_else(|| {
                        bad(
                            format!("alerts.{key} needs an \"api_key\""),
                            "an Opsgenie API integration key",
                        )
                    })?;
                    let base = match (text(obj, key, "api_base")?, text(obj, key, "region")?) {
                        (Some(b), _) => http_url(key, "api_base", b)?,
                        (None, Some("eu")) => notify::OPSGENIE_EU_API_BASE.to_string(),
                        (None, None | Some("us")) => notify::OPSGENIE_API_BASE.to_string(),
                        (None, Some(r)) => {
                            return Err(bad(
                                format!("alerts.{key}.region {r:?} is not us or eu"),
                                "leave it out for the US API",
                            ))
                        }
                    };
                    (base, Some(k.to_string()))
                }
            };
            cfg.channels.push(ChannelConfig {
                name: key.clone(),
                channel,
                url,
                secret,
                min_severity,
            });
        }
        if cfg.channels.len() > MAX_CHANNELS {
            return Err(bad(
                format!(
                    "{} alert channels; at most {MAX_CHANNELS}",
                    cfg.channels.len()
                ),
                "send to a webhook that fans out instead",
            ));
        }
        Ok(cfg)
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

/// An incident id an event belongs to, if any (deliveries are recorded
/// under it, so `/incidents` can show them).
pub fn incident_of(event: &Event) -> Option<&str> {
    match &event.kind {
        EventKind::IncidentOpened { id, .. }
        | EventKind::IncidentResolved { id, .. }
        | EventKind::Escalated { id, .. } => Some(id),
        EventKind::Flapping { incident_id, .. } => incident_id.as_deref(),
        _ => None,
    }
}

/// The requests one event makes: one per channel that takes its severity.
/// Resolves and `stable` go to every channel that could have had the alert
/// they close (a P1 pager must hear the resolve of its page).
pub fn deliveries(event: &Event, cfg: &AlertConfig, ctx: &NotifyContext) -> Vec<Delivery> {
    let closes = matches!(
        event.kind,
        EventKind::IncidentResolved { .. } | EventKind::Stable { .. }
    );
    cfg.channels
        .iter()
        .filter(|c| closes || Channel::takes(c.min_severity, event.severity))
        .map(|c| {
            let base = c.url.trim_end_matches('/');
            let secret = c.secret.clone().unwrap_or_default();
            let (url, body, headers) = match c.channel {
                Channel::Webhook => (c.url.clone(), notify::webhook(event, ctx), Vec::new()),
                Channel::Slack => (c.url.clone(), notify::slack(event, ctx), Vec::new()),
                Channel::Discord => (c.url.clone(), notify::discord(event, ctx), Vec::new()),
                Channel::Pagerduty => {
                    let call = notify::pagerduty(event, ctx, &secret);
                    (format!("{base}{}", call.path), call.body, Vec::new())
                }
                Channel::Opsgenie => {
                    let call = notify::opsgenie(event, ctx);
                    (
                        format!("{base}{}", call.path),
                        call.body,
                        vec![("Authorization".to_string(), format!("GenieKey {secret}"))],
                    )
                }
            };
            Delivery {
                channel_name: c.name.clone(),
                channel: c.channel,
                method: "POST",
                url,
                headers,
                body: body.to_string(),
            }
        })
        .collect()
}

/// After attempt `attempt` (1-based) answered `status` (`None`: no answer at
/// all), the wait before the next attempt, or `None` to stop. Retried: no
/// answer, 408, 425, 429 and 5xx; a 2xx is done and any other 4xx will not get
/// better. `retry_after_ms` (from a `Retry-After` header) replaces the
/// backoff when it is not too long.
pub fn retry_after(attempt: u32, status: Option<u16>, retry_after_ms: Option<u64>) -> Option<u64> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let retryable = match status {
        None => true,
        Some(s) => matches!(s, 408 | 425 | 429) || (500..600).contains(&s),
    };
    if !retryable {
        return None;
    }
    let backoff = BACKOFF_MS[(attempt as usize - 1).min(BACKOFF_MS.len() - 1)];
    Some(match retry_after_ms {
        Some(ms) if ms <= MAX_RETRY_AFTER_MS => ms.max(backoff),
        _ => backoff,
    })
}

/// Whether an answer's status means delivered.
pub fn delivered(status: u16) -> bool {
    (200..300).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::VerdictSummary;
    use mcprobe_core::verdict::Mode;

    fn alerts(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn opened(severity: Severity) -> Event {
        Event {
            at_ms: 1_767_225_620_000,
            monitor_id: "m1".into(),
            severity,
            kind: EventKind::IncidentOpened {
                id: "m1-1767225600000".into(),
                mode: Mode::ConnectRefused,
                reason: "connection refused".into(),
                hint: "start the server".into(),
                started_at_ms: 1_767_225_600_000,
                last_verdicts: Vec::<VerdictSummary>::new(),
            },
        }
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
        assert_eq!(by("pagerduty").url, notify::PAGERDUTY_EVENTS_BASE);
        assert_eq!(by("opsgenie").url, notify::OPSGENIE_EU_API_BASE);
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
    fn mistakes_are_400s_that_say_what_to_write() {
        for (v, needle) in [
            (json!({"slak": {"url": "https://x"}}), "not a channel name"),
            (json!({"slack": {}}), "needs a \"url\""),
            (json!({"slack": {"url": "ftp://x"}}), "not an http(s) URL"),
            (json!({"slack": "https://x"}), "must be an object"),
            (json!({"pagerduty": {"routing_key": 3}}), "non-empty string"),
            (
                json!({"opsgenie": {"api_key": "k", "region": "mars"}}),
                "not us or eu",
            ),
            (
                json!({"webhook": {"url": "https://x", "severity": "P0"}}),
                "not P1, P2 or P3",
            ),
            (
                json!({"quiet_hours": {"start_hour": 25, "end_hour": 7}}),
                "0..23",
            ),
            (
                json!({"x": {"type": "email", "url": "https://x"}}),
                "not a channel",
            ),
        ] {
            let e = AlertConfig::parse(&alerts(v.clone())).expect_err("refused");
            assert_eq!(e.status, 400);
            assert!(e.error.contains(needle), "{v}: {}", e.error);
            assert!(!e.hint.is_empty());
        }
    }

    #[test]
    fn routing_follows_severity_and_resolves_reach_the_pagers() {
        let cfg = AlertConfig::parse(&alerts(json!({
            "webhook": {"url": "https://h.example.com/x"},
            "slack": {"url": "https://s.example.com/x"},
            "pagerduty": {"routing_key": "RK", "api_base": "http://127.0.0.1:9"},
            "opsgenie": {"api_key": "GK", "api_base": "http://127.0.0.1:9/"}
        })))
        .expect("parses");
        let ctx = NotifyContext::default();
        let names = |e: &Event| -> Vec<String> {
            deliveries(e, &cfg, &ctx)
                .into_iter()
                .map(|d| d.channel_name)
                .collect()
        };
        assert_eq!(names(&opened(Severity::P1)).len(), 4);
        assert_eq!(names(&opened(Severity::P2)), vec!["webhook", "slack"]);
        assert_eq!(names(&opened(Severity::P3)), vec!["webhook"]);
        let resolved = Event {
            kind: EventKind::IncidentResolved {
                id: "m1-1".into(),
                mode: Mode::ConnectRefused,
                started_at_ms: 1,
                ended_at_ms: 2,
                duration_ms: 1,
            },
            ..opened(Severity::P1)
        };
        assert_eq!(names(&resolved).len(), 4);
        let ds = deliveries(&opened(Severity::P1), &cfg, &ctx);
        let pd = ds
            .iter()
            .find(|d| d.channel == Channel::Pagerduty)
            .expect("pd");
        assert_eq!(pd.url, "http://127.0.0.1:9/v2/enqueue");
        let body: Value = serde_json::from_str(&pd.body).expect("json");
        assert_eq!(body["routing_key"], "RK");
        assert_eq!(body["event_action"], "trigger");
        let og = ds
            .iter()
            .find(|d| d.channel == Channel::Opsgenie)
            .expect("og");
        assert!(
            og.url.starts_with("http://127.0.0.1:9/v2/alerts"),
            "{}",
            og.url
        );
        assert_eq!(
            og.headers,
            vec![("Authorization".into(), "GenieKey GK".into())]
        );
        // Headers never serialise (they hold the key).
        assert!(!serde_json::to_string(og).expect("json").contains("GK"));
        assert_eq!(incident_of(&resolved), Some("m1-1"));
    }

    #[test]
    fn retries_back_off_on_what_can_get_better_only() {
        assert_eq!(retry_after(1, Some(503), None), Some(1_000));
        assert_eq!(retry_after(2, None, None), Some(2_000));
        assert_eq!(retry_after(3, Some(429), Some(5_000)), Some(5_000));
        assert_eq!(retry_after(3, Some(429), Some(600_000)), Some(4_000));
        assert_eq!(retry_after(MAX_ATTEMPTS, Some(503), None), None);
        assert_eq!(retry_after(1, Some(404), None), None);
        assert_eq!(retry_after(1, Some(400), None), None);
        assert!(delivered(202) && !delivered(301));
    }
}
