//! Start here: the checks every channel's config check is made of: a value is
//! a non-empty string of bounded length, a URL is http(s) without whitespace.
//! Each refusal names its place in the `alerts` object (`alerts.slack.url`)
//! and never quotes the value (a webhook URL or key is a secret).

use serde_json::{Map, Value};

use crate::error::ValidationError;

/// Longest URL or secret accepted.
pub(super) const MAX_VALUE_LEN: usize = 2048;

/// Where a channel's deliveries go, as its config check read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Webhook, Slack and Discord: where to POST. PagerDuty, Opsgenie: the
    /// API base (their public one unless `api_base` was given).
    pub url: String,
    /// PagerDuty's routing key or Opsgenie's API key.
    pub secret: Option<String>,
}

/// A refusal of `alerts.{key}.{field}` (or of `alerts.{key}` when `field`
/// is empty).
pub(super) fn bad(
    key: &str,
    field: &str,
    error: impl Into<String>,
    hint: impl Into<String>,
) -> ValidationError {
    let at = if field.is_empty() {
        format!("alerts.{key}")
    } else {
        format!("alerts.{key}.{field}")
    };
    ValidationError::new(at, error, hint)
}

/// `alerts.{key}.{field}` as an http(s) URL.
pub(super) fn http_url(key: &str, field: &str, v: &str) -> Result<String, ValidationError> {
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() <= MAX_VALUE_LEN
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(v.to_string())
    } else {
        Err(bad(
            key,
            field,
            format!("alerts.{key}.{field} is not an http(s) URL"),
            format!("give alerts.{key}.{field} as \"https://...\""),
        ))
    }
}

/// `alerts.{key}.{field}` as a non-empty string, if present.
pub(super) fn text<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, ValidationError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_VALUE_LEN => Ok(Some(s)),
        Some(_) => Err(bad(
            key,
            field,
            format!("alerts.{key}.{field} must be a non-empty string"),
            format!("give alerts.{key}.{field} as a string"),
        )),
    }
}

/// The check of the three channels that are one URL to POST to (webhook,
/// Slack, Discord).
pub(super) fn hook_url(key: &str, obj: &Map<String, Value>) -> Result<Endpoint, ValidationError> {
    let url = text(obj, key, "url")?.ok_or_else(|| {
        bad(
            key,
            "url",
            format!("alerts.{key} needs a \"url\""),
            "the webhook URL the channel gave you",
        )
    })?;
    Ok(Endpoint {
        url: http_url(key, "url", url)?,
        secret: None,
    })
}
