//! Start here: the PagerDuty channel: its config check (`{"routing_key"}`,
//! an optional `api_base`) and its Events API v2 call, `POST /v2/enqueue`: a
//! `trigger` for opens, escalations, flapping, drift and digests, a `resolve`
//! for resolves and the end of flapping, every event of one incident under
//! one `dedup_key`.

use serde_json::{json, Map, Value};

use mcprobe_core::runbook;
use mcprobe_core::time::rfc3339;
use mcprobe_core::verdict::{Mode, Severity};

use super::channel::{Action, ApiCall, NotifyContext};
use super::check::{bad, http_url, text, Endpoint};
use super::facts::{facts, monitor_name, Facts};
use super::facts_json::{drift_json, insert_incident_facts, summary_json};
use super::limits;
use super::policy::Event;
use super::text::{fit, http_link};
use crate::error::ValidationError;

/// Where PagerDuty events go: `POST {PAGERDUTY_EVENTS_BASE}{PAGERDUTY_ENQUEUE_PATH}`.
pub const PAGERDUTY_EVENTS_BASE: &str = "https://events.pagerduty.com";
pub const PAGERDUTY_ENQUEUE_PATH: &str = "/v2/enqueue";

/// `alerts.{key}` of PagerDuty: `{"routing_key": "...", "api_base"?: "https://..."}`
/// (`api_base`: a regional proxy, or a local receiver in tests).
pub fn check_config(key: &str, obj: &Map<String, Value>) -> Result<Endpoint, ValidationError> {
    let k = text(obj, key, "routing_key")?.ok_or_else(|| {
        bad(
            key,
            "routing_key",
            format!("alerts.{key} needs a \"routing_key\""),
            "the Events API v2 integration key of a PagerDuty service",
        )
    })?;
    let url = match text(obj, key, "api_base")? {
        Some(b) => http_url(key, "api_base", b)?,
        None => PAGERDUTY_EVENTS_BASE.to_string(),
    };
    Ok(Endpoint {
        url,
        secret: Some(k.to_string()),
    })
}

/// PagerDuty's severities: P1 critical, P2 error, P3 warning, else info.
pub fn pagerduty_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::P1 => "critical",
        Severity::P2 => "error",
        Severity::P3 => "warning",
        Severity::None => "info",
    }
}

/// A PagerDuty Events API v2 call (`POST /v2/enqueue` on
/// [`PAGERDUTY_EVENTS_BASE`]): `trigger` for opens, escalations, flapping,
/// drift and digests, `resolve` for resolves and the end of flapping.
pub fn pagerduty(event: &Event, ctx: &NotifyContext, routing_key: &str) -> ApiCall {
    let f = facts(event, ctx, 0);
    let body = match f.action {
        // The documented resolve needs only the key: the payload is ignored.
        Action::Resolve => json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": f.dedup_key,
        }),
        Action::Trigger => {
            let source = url::Url::parse(&ctx.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| event.monitor_id.clone());
            let source = if source.is_empty() {
                "mcprobe".to_string()
            } else {
                source
            };
            let summary = match f.reason {
                Some(r) if !r.is_empty() => format!("{} — {r}", f.title),
                _ => f.title.clone(),
            };
            let mut payload = json!({
                "summary": fit(&summary, limits::PAGERDUTY_SUMMARY),
                "source": fit(&source, limits::PAGERDUTY_SHORT),
                "severity": pagerduty_severity(event.severity),
                "timestamp": rfc3339(event.at_ms),
                "group": fit(monitor_name(event, ctx), limits::PAGERDUTY_SHORT),
                "class": f.mode.map_or(event.kind.code(), Mode::as_str),
                "custom_details": details_json(&f, ctx),
            });
            if let Some(name) = ctx.server_name.as_deref().filter(|n| !n.is_empty()) {
                payload["component"] = json!(fit(name, limits::PAGERDUTY_SHORT));
            }
            let mut body = json!({
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": f.dedup_key,
                "payload": payload,
                "client": "mcprobe",
            });
            if let Some(base) = http_link(&ctx.public_base) {
                body["client_url"] = json!(base);
            }
            if let Some(url) = f.runbook_link() {
                let text = f.mode.map_or("Runbook".to_string(), |m| {
                    format!("Runbook: {}", runbook::runbook(m).title)
                });
                body["links"] = json!([{"href": url, "text": text}]);
            }
            body
        }
    };
    ApiCall {
        method: "POST",
        path: PAGERDUTY_ENQUEUE_PATH.to_string(),
        body,
    }
}

/// PagerDuty `custom_details`: the webhook's facts, as an object.
fn details_json(f: &Facts<'_>, ctx: &NotifyContext) -> Value {
    let mut d = Map::new();
    d.insert("event".into(), json!(f.event.kind.code()));
    d.insert("monitor_id".into(), json!(f.event.monitor_id));
    d.insert("monitor".into(), json!(monitor_name(f.event, ctx)));
    d.insert("url".into(), json!(ctx.url));
    insert_incident_facts(&mut d, f);
    if !f.body.is_empty() && Some(f.body.as_str()) != f.reason {
        d.insert(
            "details".into(),
            json!(fit(&f.body, limits::WEBHOOK_TEXT * 4)),
        );
    }
    if !f.last_verdicts.is_empty() {
        let lv: Vec<Value> = f.last_verdicts.iter().map(summary_json).collect();
        d.insert("last_verdicts".into(), Value::Array(lv));
    }
    if let Some(drift) = f.drift {
        d.insert("drift".into(), drift_json(drift));
    }
    Value::Object(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_config_is_a_routing_key_and_maybe_a_base() {
        let e = check_config("pagerduty", &obj(json!({"routing_key": "RK"}))).unwrap();
        assert_eq!(
            (e.url.as_str(), e.secret.as_deref()),
            (PAGERDUTY_EVENTS_BASE, Some("RK"))
        );
        let e = check_config("pd", &obj(json!({"routing_key": 3}))).unwrap_err();
        assert_eq!(e.field, "alerts.pd.routing_key");
        assert!(e.error.contains("non-empty string"), "{}", e.error);
        let e =
            check_config("pd", &obj(json!({"routing_key": "RK", "api_base": "x"}))).unwrap_err();
        assert_eq!(e.field, "alerts.pd.api_base");
    }

    #[test]
    fn severities_map_onto_pagerdutys() {
        assert_eq!(pagerduty_severity(Severity::P1), "critical");
        assert_eq!(pagerduty_severity(Severity::None), "info");
    }
}
