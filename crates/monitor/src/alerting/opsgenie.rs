//! Start here: the Opsgenie channel: its config check (`{"api_key"}`, a
//! `region` of us or eu or an `api_base`) and its Alert API calls: create an
//! alert (`POST /v2/alerts`) whose alias is the incident's dedup key, or close
//! it by that alias (`POST /v2/alerts/{alias}/close?identifierType=alias`).
//! The key travels in the `Authorization: GenieKey ...` header the delivery
//! adds, never in the body.

use serde_json::{json, Map, Value};

use mcprobe_core::verdict::Severity;

use super::channel::{Action, ApiCall, NotifyContext};
use super::check::{bad, http_url, text, Endpoint};
use super::facts::{facts, monitor_name, Facts};
use super::limits;
use super::policy::Event;
use super::text::{fit, units};
use crate::error::ValidationError;

/// Opsgenie's API hosts (the account's region decides which).
pub const OPSGENIE_API_BASE: &str = "https://api.opsgenie.com";
pub const OPSGENIE_EU_API_BASE: &str = "https://api.eu.opsgenie.com";

/// `alerts.{key}` of Opsgenie: `{"api_key": "...", "region"?: "us" | "eu",
/// "api_base"?: "https://..."}` (`api_base` wins over `region`).
pub fn check_config(key: &str, obj: &Map<String, Value>) -> Result<Endpoint, ValidationError> {
    let k = text(obj, key, "api_key")?.ok_or_else(|| {
        bad(
            key,
            "api_key",
            format!("alerts.{key} needs an \"api_key\""),
            "an Opsgenie API integration key",
        )
    })?;
    let url = match (text(obj, key, "api_base")?, text(obj, key, "region")?) {
        (Some(b), _) => http_url(key, "api_base", b)?,
        (None, Some("eu")) => OPSGENIE_EU_API_BASE.to_string(),
        (None, None | Some("us")) => OPSGENIE_API_BASE.to_string(),
        (None, Some(r)) => {
            return Err(bad(
                key,
                "region",
                format!("alerts.{key}.region {r:?} is not us or eu"),
                "leave it out for the US API",
            ))
        }
    };
    Ok(Endpoint {
        url,
        secret: Some(k.to_string()),
    })
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Opsgenie's priorities: P1..P3 as ours, P5 (informational) otherwise.
pub fn opsgenie_priority(severity: Severity) -> &'static str {
    match severity {
        Severity::P1 => "P1",
        Severity::P2 => "P2",
        Severity::P3 => "P3",
        Severity::None => "P5",
    }
}

/// An Opsgenie Alert API call (under [`OPSGENIE_API_BASE`] or the EU one):
/// create an alert whose alias is the dedup key, or close it by that alias.
pub fn opsgenie(event: &Event, ctx: &NotifyContext) -> ApiCall {
    let f = facts(event, ctx, 0);
    let alias = fit(&f.dedup_key, limits::OPSGENIE_ALIAS);
    match f.action {
        Action::Resolve => ApiCall {
            method: "POST",
            path: format!(
                "/v2/alerts/{}/close?identifierType=alias",
                encode_segment(&alias)
            ),
            body: json!({
                "source": "mcprobe",
                "user": "mcprobe",
                "note": fit(&format!("{}\n{}", f.title, f.body), limits::OPSGENIE_NOTE),
            }),
        },
        Action::Trigger => {
            let mut description = f.body.clone();
            if let Some(h) = f.hint.filter(|h| !h.is_empty()) {
                description.push_str(&format!("\n\nFirst step: {h}"));
            }
            if let Some(u) = &f.runbook_url {
                description.push_str(&format!("\nRunbook: {u}"));
            }
            let mut tags = vec![
                "mcprobe".to_string(),
                format!("severity:{}", event.severity.as_str()),
            ];
            if let Some(m) = f.mode {
                tags.push(format!("mode:{}", m.as_str()));
            }
            tags.push(format!("event:{}", event.kind.code()));
            let tags: Vec<String> = tags
                .into_iter()
                .take(limits::OPSGENIE_TAGS)
                .map(|t| fit(&t, limits::OPSGENIE_TAG))
                .collect();
            ApiCall {
                method: "POST",
                path: "/v2/alerts".to_string(),
                body: json!({
                    "message": fit(&f.title, limits::OPSGENIE_MESSAGE),
                    "alias": alias,
                    "description": fit(description.trim(), limits::OPSGENIE_DESCRIPTION),
                    "tags": tags,
                    "details": opsgenie_details(&f, ctx),
                    "entity": fit(monitor_name(event, ctx), limits::OPSGENIE_ENTITY),
                    "source": fit("mcprobe", limits::OPSGENIE_SOURCE),
                    "priority": opsgenie_priority(event.severity),
                }),
            }
        }
    }
}

/// Opsgenie `details`: string values only, all of it within 8000 characters.
fn opsgenie_details(f: &Facts<'_>, ctx: &NotifyContext) -> Value {
    let mut pairs = f.fields(ctx);
    pairs.push(("Event", f.event.kind.code().to_string()));
    pairs.push(("Monitor id", f.event.monitor_id.clone()));
    if let Some(r) = f.reason {
        pairs.push(("Reason", r.to_string()));
    }
    if let Some(h) = f.hint {
        pairs.push(("Hint", h.to_string()));
    }
    if let Some(u) = &f.runbook_url {
        pairs.push(("Runbook", u.clone()));
    }
    let mut left = limits::OPSGENIE_DETAILS_TOTAL;
    let mut out = Map::new();
    for (k, v) in pairs {
        let k_units = units(k);
        if v.is_empty() || left <= k_units + 1 {
            continue;
        }
        let value = fit(&v, (left - k_units).min(1000));
        left -= k_units + units(&value);
        out.insert(k.to_string(), Value::String(value));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("mcprobe:a b/c"), "mcprobe%3Aa%20b%2Fc");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }

    #[test]
    fn the_region_picks_the_api_host() {
        let obj = |v: Value| v.as_object().cloned().unwrap_or_default();
        let e = check_config("opsgenie", &obj(json!({"api_key": "GK", "region": "eu"}))).unwrap();
        assert_eq!(e.url, OPSGENIE_EU_API_BASE);
        let e = check_config("opsgenie", &obj(json!({"api_key": "GK"}))).unwrap();
        assert_eq!(e.url, OPSGENIE_API_BASE);
        let e = check_config("og", &obj(json!({"api_key": "k", "region": "mars"}))).unwrap_err();
        assert_eq!(e.field, "alerts.og.region");
    }
}
