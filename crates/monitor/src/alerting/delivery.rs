//! Start here: from one policy [`Event`] to the requests a host sends.
//! [`deliveries`] makes one HTTP request per channel that takes the event's
//! severity (each body from that channel's file); [`retry_after`] says
//! whether and when a failed attempt is tried again; [`incident_of`] says
//! which incident a delivery is recorded under. Pure, shared by the Worker's
//! outbox and `mcprobe watch`.

use serde::Serialize;

use super::channel::{Channel, NotifyContext};
use super::config::AlertConfig;
use super::policy::{Event, EventKind};
use super::{discord, opsgenie, pagerduty, slack, webhook};

/// Attempts per delivery (the first and its retries).
pub const MAX_ATTEMPTS: u32 = 4;
/// Wait before retry `n` (1-based): 1 s, 2 s, 4 s; a `Retry-After` up to
/// [`MAX_RETRY_AFTER_MS`] is honoured instead.
pub const BACKOFF_MS: [u64; 3] = [1_000, 2_000, 4_000];
pub const MAX_RETRY_AFTER_MS: u64 = 30_000;

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
                Channel::Webhook => (c.url.clone(), webhook::webhook(event, ctx), Vec::new()),
                Channel::Slack => (c.url.clone(), slack::slack(event, ctx), Vec::new()),
                Channel::Discord => (c.url.clone(), discord::discord(event, ctx), Vec::new()),
                Channel::Pagerduty => {
                    let call = pagerduty::pagerduty(event, ctx, &secret);
                    (format!("{base}{}", call.path), call.body, Vec::new())
                }
                Channel::Opsgenie => {
                    let call = opsgenie::opsgenie(event, ctx);
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
    use crate::alerting::policy::VerdictSummary;
    use mcprobe_core::verdict::Mode;
    use mcprobe_core::verdict::Severity;
    use serde_json::{json, Map, Value};

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
