//! Start here: the generic webhook channel: its config check (`{"url"}`) and
//! its body, our own JSON (`schema: "mcprobe.alert/v1"`) with `runbook_url`,
//! mode, reason, hint, `started_at` and the last verdicts; a digest carries
//! its held events as webhook bodies of their own. It takes every severity
//! by default: it feeds digests, e-mail and whatever the user builds on it.

use serde_json::{json, Map, Value};

use mcprobe_core::time::rfc3339;

use super::channel::{Action, NotifyContext};
use super::check::{self, Endpoint};
use super::facts::{facts, monitor_name};
use super::facts_json::{drift_json, insert_incident_facts, summary_json};
use super::limits;
use super::policy::{Event, EventKind};
use super::text::fit;
use crate::error::ValidationError;

/// The `schema` of our generic webhook body.
pub const WEBHOOK_SCHEMA: &str = "mcprobe.alert/v1";

/// `alerts.{key}` of a webhook: `{"url": "https://..."}`.
pub fn check_config(key: &str, obj: &Map<String, Value>) -> Result<Endpoint, ValidationError> {
    check::hook_url(key, obj)
}

/// The generic webhook body.
pub fn webhook(event: &Event, ctx: &NotifyContext) -> Value {
    webhook_at(event, ctx, 0)
}

fn webhook_at(event: &Event, ctx: &NotifyContext, depth: u8) -> Value {
    let f = facts(event, ctx, depth);
    let mut o = Map::new();
    o.insert("schema".into(), json!(WEBHOOK_SCHEMA));
    o.insert("event".into(), json!(event.kind.code()));
    o.insert(
        "action".into(),
        json!(match f.action {
            Action::Trigger => "trigger",
            Action::Resolve => "resolve",
        }),
    );
    o.insert("at".into(), json!(rfc3339(event.at_ms)));
    o.insert("at_ms".into(), json!(event.at_ms));
    o.insert("severity".into(), json!(event.severity.as_str()));
    o.insert("title".into(), json!(fit(&f.title, limits::WEBHOOK_TEXT)));
    o.insert("text".into(), json!(fit(&f.body, limits::WEBHOOK_TEXT * 4)));
    o.insert(
        "monitor".into(),
        json!({
            "id": event.monitor_id,
            "name": monitor_name(event, ctx),
            "url": ctx.url,
        }),
    );
    if let Some(name) = ctx.server_name.as_deref() {
        o.insert("server".into(), json!({ "name": name }));
    }
    o.insert("dedup_key".into(), json!(f.dedup_key));
    insert_incident_facts(&mut o, &f);
    if let Some(t) = f.started_at_ms {
        o.insert("started_at_ms".into(), json!(t));
    }
    if let Some(d) = f.duration_ms {
        o.insert("duration_ms".into(), json!(d));
    }
    if !f.last_verdicts.is_empty() {
        let lv: Vec<Value> = f.last_verdicts.iter().map(summary_json).collect();
        o.insert("last_verdicts".into(), Value::Array(lv));
    }
    if let Some(d) = f.drift {
        o.insert("drift".into(), drift_json(d));
    }
    if let EventKind::Digest { dropped, .. } = &event.kind {
        let items: Vec<Value> = f.items.iter().map(|i| webhook_at(i, ctx, 1)).collect();
        o.insert("items".into(), Value::Array(items));
        o.insert("dropped".into(), json!(dropped));
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_core::verdict::Severity;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_config_is_one_http_url() {
        let e = check_config("team-b", &obj(json!({"url": "http://127.0.0.1:9/hook"})));
        assert_eq!(e.unwrap().url, "http://127.0.0.1:9/hook");
        let e = check_config("team-b", &obj(json!({}))).unwrap_err();
        assert_eq!(e.field, "alerts.team-b.url");
        let e = check_config("webhook", &obj(json!({"url": "https://a b"}))).unwrap_err();
        assert!(e.error.contains("not an http(s) URL"), "{}", e.error);
        assert!(!e.error.contains("a b"), "never quotes the value");
    }

    #[test]
    fn a_digest_nests_its_items_one_level_deep() {
        let item = Event {
            at_ms: 1_000,
            monitor_id: "m1".into(),
            severity: Severity::P3,
            kind: EventKind::Stable {
                flapping_since_ms: 0,
                quiet_for_ms: 900_000,
                up: true,
            },
        };
        let digest = Event {
            at_ms: 2_000,
            monitor_id: "m1".into(),
            severity: Severity::P2,
            kind: EventKind::Digest {
                items: vec![item],
                dropped: 2,
            },
        };
        let body = webhook(&digest, &NotifyContext::default());
        assert_eq!(body["schema"], WEBHOOK_SCHEMA);
        assert_eq!(body["dropped"], 2);
        assert_eq!(body["items"][0]["event"], "stable");
        assert!(body["items"][0].get("items").is_none());
    }
}
