//! Start here: the facts as plain JSON members, spelt once for the payloads
//! that carry them so (the webhook body, PagerDuty `custom_details`): the
//! incident's facts in a fixed order, a verdict summary, a drift.

use serde_json::{json, Map, Value};

use mcprobe_core::fingerprint::Drift;
use mcprobe_core::time::rfc3339;

use super::facts::Facts;
use super::limits;
use super::policy::VerdictSummary;
use super::text::fit;

/// The incident's facts, in this order, as every payload that carries them
/// as plain JSON members spells them.
pub(super) fn insert_incident_facts(m: &mut Map<String, Value>, f: &Facts<'_>) {
    if let Some(id) = f.incident_id {
        m.insert("incident_id".into(), json!(id));
    }
    if let Some(mode) = f.mode {
        m.insert("mode".into(), json!(mode.as_str()));
    }
    if let Some(r) = f.reason {
        m.insert("reason".into(), json!(fit(r, limits::WEBHOOK_TEXT)));
    }
    if let Some(h) = f.hint {
        m.insert("hint".into(), json!(fit(h, limits::WEBHOOK_TEXT)));
    }
    if let Some(u) = &f.runbook_url {
        m.insert("runbook_url".into(), json!(u));
    }
    if let Some(t) = f.started_at_ms {
        m.insert("started_at".into(), json!(rfc3339(t)));
    }
}

/// One of the last verdicts before an incident.
pub(super) fn summary_json(v: &VerdictSummary) -> Value {
    json!({
        "at": rfc3339(v.at_ms),
        "status": v.status.as_str(),
        "mode": v.mode.as_str(),
        "severity": v.severity.as_str(),
        "reason": fit(&v.reason, limits::WEBHOOK_TEXT),
        "elapsed_ms": v.elapsed_ms,
    })
}

/// A tool-list drift, its changes capped at [`limits::LIST_ITEMS`].
pub(super) fn drift_json(d: &Drift) -> Value {
    let changes: Vec<Value> = d
        .changes
        .iter()
        .take(limits::LIST_ITEMS)
        .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
        .collect();
    json!({
        "breaking": d.breaking,
        "from_hash": d.from_hash,
        "to_hash": d.to_hash,
        "changes": changes,
        "changes_total": d.changes.len(),
    })
}
