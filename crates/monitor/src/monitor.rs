//! Start here: the monitor config of the edge API (`POST /api/monitors`,
//! `PATCH /api/monitors/{id}`, `POST /api/monitors/{id}/maintenance`), checked
//! here once so the Worker, the CLI's `watch` and the tests agree on what a
//! valid monitor is.
//!
//! [`validate_new`] turns a request body into a [`MonitorSpec`];
//! [`apply_patch`] applies a partial update to one; [`maintenance_until`]
//! turns `{"minutes"}` into the end of a maintenance window. Every refusal is
//! a [`ValidationError`]: what is wrong, in which field, what to send instead
//! (the Worker answers it as a 400). The
//! address policy (no private, loopback or metadata targets) is the Worker's,
//! not this module's: it needs DNS and a dev setting, both host things.
//!
//! Header values are usually credentials: no error message here ever quotes
//! one, and [`MonitorSpec`]'s `Debug` and [`MonitorSpec::public_json`] leave
//! them out.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::alerting::config::AlertConfig;
use crate::error::ValidationError;
use mcprobe_core::http::Headers;
use mcprobe_core::http::{is_tchar, reserved_header};

/// Default probe cadence.
pub const DEFAULT_INTERVAL_S: u32 = 60;
/// The fastest cadence a monitor may ask for.
pub const MIN_INTERVAL_S: u32 = 30;
/// The slowest cadence a monitor may ask for.
pub const MAX_INTERVAL_S: u32 = 3600;
/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// At most this many custom headers per monitor.
pub const MAX_HEADERS: usize = 10;
/// Longest header value, in bytes.
pub const MAX_HEADER_VALUE_BYTES: usize = 4096;
/// Longest URL (monitor or runbook), in bytes: well past any real endpoint,
/// short enough to keep a D1 row and a badge lookup small.
pub const MAX_URL_BYTES: usize = 2048;
/// Longest maintenance window ("capped at 240").
pub const MAX_MAINTENANCE_MINUTES: u64 = 240;

/// The fields a monitor body may carry, in the order the hints list them.
const FIELDS: [&str; 7] = [
    "url",
    "name",
    "interval_s",
    "headers",
    "alerts",
    "runbook_url",
    "public",
];

/// A validated monitor: every field present, every rule of this module met.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorSpec {
    /// The endpoint, normalised by the URL parser (`https://Example.com` ->
    /// `https://example.com/`), so two spellings of one endpoint compare equal.
    pub url: String,
    pub name: String,
    pub interval_s: u32,
    /// Extra request headers (credentials). Names as given; no two differ only
    /// in case.
    pub headers: BTreeMap<String, String>,
    /// Alert routing, parsed once ([`AlertConfig::parse`]) and stored as
    /// the object the user wrote.
    pub alerts: AlertConfig,
    pub runbook_url: Option<String>,
    pub public: bool,
}

/// The header values are secrets: a `{:?}` in a log line must not leak them.
impl fmt::Debug for MonitorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitorSpec")
            .field("url", &self.url)
            .field("name", &self.name)
            .field("interval_s", &self.interval_s)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            // Webhook URLs and keys are secrets too: channel names only.
            .field("alerts", &self.alerts.public_json())
            .field("runbook_url", &self.runbook_url)
            .field("public", &self.public)
            .finish()
    }
}

impl MonitorSpec {
    /// The headers in the form the probe takes ([`crate::ProbeConfig::headers`]).
    pub fn request_headers(&self) -> Headers {
        self.headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// What anyone may see of a monitor (`GET /api/monitors`): header names
    /// but never their values, and no alert routing (webhook URLs are secrets
    /// too).
    pub fn public_json(&self) -> Value {
        serde_json::json!({
            "url": self.url,
            "name": self.name,
            "interval_s": self.interval_s,
            "headers": self.headers.keys().collect::<Vec<_>>(),
            "runbook_url": self.runbook_url,
            "public": self.public,
        })
    }
}

/// A partial update, as `PATCH` reads it: `None` leaves a field alone,
/// `Some(Value::Null)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonitorPatch {
    pub url: Option<Value>,
    pub name: Option<Value>,
    pub interval_s: Option<Value>,
    pub headers: Option<Value>,
    pub alerts: Option<Value>,
    pub runbook_url: Option<Value>,
    pub public: Option<Value>,
}

impl MonitorPatch {
    /// Reads a PATCH body: an object of known fields only.
    pub fn parse(json: &Value) -> Result<MonitorPatch, ValidationError> {
        let obj = body_object(json, PATCH_SHAPE)?;
        reject_unknown(obj)?;
        let get = |k: &str| obj.get(k).cloned();
        Ok(MonitorPatch {
            url: get("url"),
            name: get("name"),
            interval_s: get("interval_s"),
            headers: get("headers"),
            alerts: get("alerts"),
            runbook_url: get("runbook_url"),
            public: get("public"),
        })
    }
}

const NEW_SHAPE: &str = r#"send {"url": "https://example.com/mcp", "name": "My server"} plus any of "interval_s", "headers", "alerts", "runbook_url", "public""#;
const PATCH_SHAPE: &str = r#"send only the fields to change, e.g. {"interval_s": 300}; null clears "runbook_url", "headers" or "alerts""#;

/// Checks a `POST /api/monitors` body and fills in the defaults.
pub fn validate_new(json: &Value) -> Result<MonitorSpec, ValidationError> {
    let obj = body_object(json, NEW_SHAPE)?;
    reject_unknown(obj)?;
    let url = match obj.get("url") {
        None | Some(Value::Null) => {
            return Err(ValidationError::new("url", "\"url\" is missing", NEW_SHAPE));
        }
        Some(v) => parse_http_url("url", v)?,
    };
    let name = match obj.get("name") {
        None | Some(Value::Null) => {
            return Err(ValidationError::new(
                "name",
                "\"name\" is missing",
                NEW_SHAPE,
            ));
        }
        Some(v) => parse_name(v)?,
    };
    let interval_s = match obj.get("interval_s") {
        None | Some(Value::Null) => DEFAULT_INTERVAL_S,
        Some(v) => parse_interval(v)?,
    };
    let headers = match obj.get("headers") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(v) => parse_headers(v)?,
    };
    let alerts = match obj.get("alerts") {
        None | Some(Value::Null) => AlertConfig::default(),
        Some(v) => parse_alerts(v)?,
    };
    let runbook_url = match obj.get("runbook_url") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_http_url("runbook_url", v)?),
    };
    let public = match obj.get("public") {
        None | Some(Value::Null) => false,
        Some(v) => parse_public(v)?,
    };
    Ok(MonitorSpec {
        url,
        name,
        interval_s,
        headers,
        alerts,
        runbook_url,
        public,
    })
}

/// Applies a `PATCH /api/monitors/{id}` body to a monitor.
///
/// Fields present replace the stored ones; absent ones stay. `null` clears an
/// optional field back to its default (`interval_s` to 60, `runbook_url` to
/// none, `headers` and `alerts` to empty, `public` to false); `url` and `name`
/// cannot be cleared. `headers` and `alerts` merge as JSON Merge Patch
/// (RFC 7396) does: `{"headers": {"X-Old": null, "Authorization": "..."}}`
/// drops one header and rotates one token without resending the others
/// (header names match case-insensitively). The result is checked by the
/// same rules as a new monitor, so a patch can never store what a POST would
/// refuse.
pub fn apply_patch(spec: &MonitorSpec, patch: &Value) -> Result<MonitorSpec, ValidationError> {
    let p = MonitorPatch::parse(patch)?;
    let mut out = spec.clone();
    if let Some(v) = &p.url {
        if v.is_null() {
            return Err(ValidationError::new(
                "url",
                "\"url\" cannot be removed",
                "give a new URL, or DELETE the monitor",
            ));
        }
        out.url = parse_http_url("url", v)?;
    }
    if let Some(v) = &p.name {
        if v.is_null() {
            return Err(ValidationError::new(
                "name",
                "\"name\" cannot be removed",
                "give a new name of 1 to 100 characters",
            ));
        }
        out.name = parse_name(v)?;
    }
    if let Some(v) = &p.interval_s {
        out.interval_s = match v {
            Value::Null => DEFAULT_INTERVAL_S,
            v => parse_interval(v)?,
        };
    }
    if let Some(v) = &p.headers {
        out.headers = match v {
            Value::Null => BTreeMap::new(),
            Value::Object(changes) => merge_headers(&spec.headers, changes)?,
            _ => return Err(headers_not_object()),
        };
    }
    if let Some(v) = &p.alerts {
        out.alerts = match v {
            Value::Null => AlertConfig::default(),
            Value::Object(_) => {
                let mut merged = Value::Object(spec.alerts.as_json().clone());
                merge_patch(&mut merged, v);
                match merged {
                    Value::Object(m) => AlertConfig::parse(&m)?,
                    // merge_patch of an object into an object stays an object.
                    _ => AlertConfig::default(),
                }
            }
            _ => return Err(alerts_not_object()),
        };
    }
    if let Some(v) = &p.runbook_url {
        out.runbook_url = match v {
            Value::Null => None,
            v => Some(parse_http_url("runbook_url", v)?),
        };
    }
    if let Some(v) = &p.public {
        out.public = match v {
            Value::Null => false,
            v => parse_public(v)?,
        };
    }
    Ok(out)
}

/// The end of a maintenance window of `minutes` from `now_ms` (ms since the
/// epoch), for `POST /api/monitors/{id}/maintenance` `{"minutes"}`.
///
/// `minutes` must be a whole number from 0 to 240; 0 ends a running window now.
/// Longer asks are refused rather than silently shortened: an on-call person
/// who thinks alerts are held for eight hours must not be surprised by a page
/// after four.
pub fn maintenance_until(now_ms: u64, minutes: &Value) -> Result<u64, ValidationError> {
    const HINT: &str =
        "send {\"minutes\": N} with N from 1 to 240 (0 ends the window now); for longer, renew it";
    let Some(m) = minutes.as_u64() else {
        return Err(ValidationError::new(
            "minutes",
            format!(
                "\"minutes\" must be a whole number of minutes, got {}",
                describe(minutes)
            ),
            HINT,
        ));
    };
    if m > MAX_MAINTENANCE_MINUTES {
        return Err(ValidationError::new(
            "minutes",
            format!(
                "a maintenance window lasts at most {MAX_MAINTENANCE_MINUTES} minutes, got {m}"
            ),
            HINT,
        ));
    }
    Ok(now_ms.saturating_add(m * 60_000))
}

fn body_object<'a>(
    json: &'a Value,
    shape: &str,
) -> Result<&'a Map<String, Value>, ValidationError> {
    json.as_object()
        .ok_or_else(|| ValidationError::new("", "the body must be a JSON object", shape))
}

/// A typo ("interval" for "interval_s") would otherwise be dropped silently
/// and the monitor stored with a default the user did not ask for.
fn reject_unknown(obj: &Map<String, Value>) -> Result<(), ValidationError> {
    let unknown: Vec<String> = obj
        .keys()
        .filter(|k| !FIELDS.contains(&k.as_str()))
        .map(|k| format!("{k:?}"))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let noun = if unknown.len() == 1 {
        "field"
    } else {
        "fields"
    };
    Err(ValidationError::new(
        "",
        format!("unknown {noun} {}", unknown.join(", ")),
        format!("a monitor has only the fields {}", FIELDS.join(", ")),
    ))
}

/// A short description of a JSON value for error messages: its type, and the
/// value itself only when it is a small scalar (never a whole object).
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().count() <= 40 => format!("the string {s:?}"),
        Value::String(_) => "a long string".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

fn parse_http_url(field: &str, v: &Value) -> Result<String, ValidationError> {
    let hint = match field {
        "url" => "give the server's full endpoint, e.g. https://example.com/mcp",
        _ => "give an http(s) link to your runbook, e.g. https://wiki.example.com/mcp-runbook",
    };
    let Value::String(raw) = v else {
        return Err(ValidationError::new(
            field,
            format!("{field:?} must be a string, got {}", describe(v)),
            hint,
        ));
    };
    let raw = raw.trim();
    if raw.len() > MAX_URL_BYTES {
        return Err(ValidationError::new(
            field,
            format!(
                "{field:?} is {} bytes long; at most {MAX_URL_BYTES}",
                raw.len()
            ),
            hint,
        ));
    }
    let parsed = url::Url::parse(raw)
        .map_err(|e| ValidationError::new(field, format!("{field:?} is not a URL ({e})"), hint))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ValidationError::new(
            field,
            format!("{field:?} must be http or https, got {}:", parsed.scheme()),
            hint,
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(ValidationError::new(
            field,
            format!("{field:?} has no host"),
            hint,
        ));
    }
    // A stored URL is shown on public pages and in alerts: credentials in it
    // would leak there. Headers are the place for them.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ValidationError::new(field,
            format!("{field:?} holds a user name or password"),
            "remove it from the URL and pass it as a header, e.g. {\"headers\": {\"Authorization\": \"Basic ...\"}}",
        ));
    }
    Ok(parsed.to_string())
}

fn parse_name(v: &Value) -> Result<String, ValidationError> {
    const HINT: &str = "give a name of 1 to 100 characters, e.g. \"Weather MCP (prod)\"";
    let Value::String(raw) = v else {
        return Err(ValidationError::new(
            "name",
            format!("\"name\" must be a string, got {}", describe(v)),
            HINT,
        ));
    };
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(ValidationError::new("name", "\"name\" is empty", HINT));
    }
    if chars > MAX_NAME_CHARS {
        return Err(ValidationError::new(
            "name",
            format!("\"name\" is {chars} characters long; at most {MAX_NAME_CHARS}"),
            HINT,
        ));
    }
    // Names land in badges, metrics labels, page titles and chat alerts: a
    // newline or escape sequence there breaks a line-based format or a terminal.
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "name",
            "\"name\" holds a control character (newline, tab, escape, ...)",
            HINT,
        ));
    }
    Ok(name.to_string())
}

fn parse_interval(v: &Value) -> Result<u32, ValidationError> {
    let hint = format!(
        "give \"interval_s\" as whole seconds from {MIN_INTERVAL_S} to {MAX_INTERVAL_S} (default {DEFAULT_INTERVAL_S})"
    );
    match v.as_u64() {
        Some(s) if (u64::from(MIN_INTERVAL_S)..=u64::from(MAX_INTERVAL_S)).contains(&s) => {
            // In range, so it fits.
            Ok(s as u32)
        }
        Some(s) => Err(ValidationError::new(
            "interval_s",
            format!(
                "\"interval_s\" must be from {MIN_INTERVAL_S} to {MAX_INTERVAL_S} seconds, got {s}"
            ),
            hint,
        )),
        None => Err(ValidationError::new(
            "interval_s",
            format!(
                "\"interval_s\" must be a whole number of seconds, got {}",
                describe(v)
            ),
            hint,
        )),
    }
}

fn parse_public(v: &Value) -> Result<bool, ValidationError> {
    v.as_bool().ok_or_else(|| {
        ValidationError::new(
            "public",
            format!("\"public\" must be true or false, got {}", describe(v)),
            "send \"public\": true to list the monitor, its badge and metrics publicly",
        )
    })
}

fn parse_alerts(v: &Value) -> Result<AlertConfig, ValidationError> {
    match v {
        // Checked now, so a typo is a 400 at registration, not a lost page.
        Value::Object(m) => AlertConfig::parse(m),
        _ => Err(alerts_not_object()),
    }
}

fn alerts_not_object() -> ValidationError {
    ValidationError::new("alerts",
        "\"alerts\" must be an object",
        "send e.g. {\"alerts\": {\"webhook\": {\"url\": \"https://hooks.example.com/...\"}}}, or leave it out",
    )
}

const HEADERS_HINT: &str =
    r#"pass headers as {"Name": "value"}, e.g. {"headers": {"Authorization": "Bearer ..."}}"#;

fn headers_not_object() -> ValidationError {
    ValidationError::new(
        "headers",
        "\"headers\" must be an object of name: value strings",
        HEADERS_HINT,
    )
}

fn parse_headers(v: &Value) -> Result<BTreeMap<String, String>, ValidationError> {
    let Value::Object(map) = v else {
        return Err(headers_not_object());
    };
    merge_headers(&BTreeMap::new(), map)
}

/// Merges header changes into `base` (a `null` value removes the header),
/// matching names case-insensitively, then checks every rule on the result.
fn merge_headers(
    base: &BTreeMap<String, String>,
    changes: &Map<String, Value>,
) -> Result<BTreeMap<String, String>, ValidationError> {
    let mut out = base.clone();
    // Two names that differ only in case would be sent as two headers; refuse
    // rather than guess which one the user meant.
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in changes {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(ValidationError::new(
                format!("headers.{name}"),
                format!("the header {name} is given twice (names are case-insensitive)"),
                HEADERS_HINT,
            ));
        }
        seen.push(lower);
        check_header_name(name)?;
        out.retain(|k, _| !k.eq_ignore_ascii_case(name));
        match value {
            Value::Null => {}
            Value::String(s) => {
                out.insert(name.clone(), check_header_value(name, s)?);
            }
            // Never echo the value: it is usually a credential.
            _ => {
                return Err(ValidationError::new(
                    format!("headers.{name}"),
                    format!("the value of header {name} must be a string"),
                    HEADERS_HINT,
                ))
            }
        }
    }
    if out.len() > MAX_HEADERS {
        return Err(ValidationError::new(
            "headers",
            format!(
                "{} headers; a monitor takes at most {MAX_HEADERS}",
                out.len()
            ),
            "keep only what the server needs (credentials, a tenant id, ...)",
        ));
    }
    Ok(out)
}

fn check_header_name(name: &str) -> Result<(), ValidationError> {
    if name.is_empty() || !name.bytes().all(is_tchar) {
        // The name is not a secret; {:?} shows a stray space or newline.
        return Err(ValidationError::new(
            format!("headers.{name}"),
            format!("{name:?} is not a valid HTTP header name"),
            "header names are letters, digits and !#$%&'*+-.^_`|~, e.g. X-Api-Key",
        ));
    }
    if reserved_header(name) {
        return Err(ValidationError::new(
            format!("headers.{name}"),
            format!("the header {name} is set by the probe itself and cannot be stored"),
            "pass only credentials and similar headers (Authorization, X-API-Key, ...)",
        ));
    }
    Ok(())
}

fn check_header_value(name: &str, value: &str) -> Result<String, ValidationError> {
    // CR or LF would split one header into two on the wire (header
    // injection); NUL is not allowed in a field value either (RFC 9110 §5.5).
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(ValidationError::new(
            format!("headers.{name}"),
            format!("the value of header {name} holds a line break or NUL"),
            HEADERS_HINT,
        ));
    }
    let value = value.trim();
    if value.len() > MAX_HEADER_VALUE_BYTES {
        return Err(ValidationError::new(
            format!("headers.{name}"),
            format!(
                "the value of header {name} is {} bytes long; at most {MAX_HEADER_VALUE_BYTES}",
                value.len()
            ),
            HEADERS_HINT,
        ));
    }
    Ok(value.to_string())
}

/// JSON Merge Patch (RFC 7396 §2): objects merge key by key, `null` deletes,
/// anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in changes {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok() -> MonitorSpec {
        validate_new(&json!({"url": "https://example.com/mcp", "name": "Example"})).unwrap()
    }

    fn err(body: Value) -> ValidationError {
        validate_new(&body).unwrap_err()
    }

    #[test]
    fn a_minimal_body_gets_the_defaults() {
        let spec = ok();
        assert_eq!(spec.url, "https://example.com/mcp");
        assert_eq!(spec.name, "Example");
        assert_eq!(spec.interval_s, 60);
        assert!(spec.headers.is_empty());
        assert!(spec.alerts.is_empty());
        assert_eq!(spec.runbook_url, None);
        assert!(!spec.public);
    }

    #[test]
    fn a_full_body_is_kept() {
        let spec = validate_new(&json!({
            "url": " https://Example.COM:8443/v1/mcp ",
            "name": "  Weather (prod) ",
            "interval_s": 300,
            "headers": {"Authorization": " Bearer t ", "X-Tenant": "a"},
            "alerts": {"slack": {"url": "https://hooks.slack.com/x"}},
            "runbook_url": "https://wiki.example.com/rb",
            "public": true
        }))
        .unwrap();
        assert_eq!(spec.url, "https://example.com:8443/v1/mcp");
        assert_eq!(spec.name, "Weather (prod)");
        assert_eq!(spec.interval_s, 300);
        assert_eq!(spec.headers["Authorization"], "Bearer t");
        assert_eq!(
            spec.request_headers(),
            vec![
                ("Authorization".to_string(), "Bearer t".to_string()),
                ("X-Tenant".to_string(), "a".to_string())
            ]
        );
        assert_eq!(
            spec.alerts.as_json()["slack"]["url"],
            "https://hooks.slack.com/x"
        );
        assert_eq!(
            spec.runbook_url.as_deref(),
            Some("https://wiki.example.com/rb")
        );
        assert!(spec.public);
        // Stored and read back unchanged.
        let back: MonitorSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(back, spec);
    }

    #[test]
    fn refusals_say_what_and_how() {
        let cases: Vec<(Value, &str)> = vec![
            (json!([]), "the body must be a JSON object"),
            (json!({"name": "x"}), "\"url\" is missing"),
            (json!({"url": "https://e.com/"}), "\"name\" is missing"),
            (
                json!({"url": 7, "name": "x"}),
                "\"url\" must be a string, got 7",
            ),
            (
                json!({"url": "not a url", "name": "x"}),
                "\"url\" is not a URL",
            ),
            (
                json!({"url": "ftp://e.com/", "name": "x"}),
                "\"url\" must be http or https, got ftp:",
            ),
            (
                json!({"url": "file:///etc/passwd", "name": "x"}),
                "\"url\" must be http or https, got file:",
            ),
            (
                json!({"url": "https://u:p@e.com/", "name": "x"}),
                "\"url\" holds a user name or password",
            ),
            (
                json!({"url": "https://e.com/", "name": "  "}),
                "\"name\" is empty",
            ),
            (
                json!({"url": "https://e.com/", "name": "a".repeat(101)}),
                "\"name\" is 101 characters long; at most 100",
            ),
            (
                json!({"url": "https://e.com/", "name": "a\nb"}),
                "\"name\" holds a control character",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "interval_s": 29}),
                "\"interval_s\" must be from 30 to 3600 seconds, got 29",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "interval_s": 3601}),
                "got 3601",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "interval_s": 60.5}),
                "\"interval_s\" must be a whole number of seconds, got 60.5",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "interval_s": "60"}),
                "got the string \"60\"",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "interval_s": -60}),
                "got -60",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "public": "yes"}),
                "\"public\" must be true or false",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "alerts": []}),
                "\"alerts\" must be an object",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "runbook_url": "javascript:alert(1)"}),
                "\"runbook_url\" must be http or https, got javascript:",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "headers": ["a"]}),
                "\"headers\" must be an object",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "headers": {"Bad Name": "v"}}),
                "\"Bad Name\" is not a valid HTTP header name",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "headers": {"": "v"}}),
                "\"\" is not a valid HTTP header name",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "headers": {"Host": "evil"}}),
                "the header Host is set by the probe itself",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "headers": {"Mcp-Session-Id": "s"}}),
                "set by the probe itself",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "headers": {"X-A": 1}}),
                "the value of header X-A must be a string",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "headers": {"X-A": "a\r\nX-B: b"}}),
                "the value of header X-A holds a line break or NUL",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "headers": {"X-A": "a", "x-a": "b"}}),
                "the header x-a is given twice",
            ),
            (
                json!({"url": "https://e.com/", "name": "x", "headers": {"X-A": "v".repeat(4097)}}),
                "the value of header X-A is 4097 bytes long; at most 4096",
            ),
        ];
        for (body, want) in cases {
            let e = err(body.clone());
            let top = e.field.split('.').next().unwrap_or_default();
            assert!(
                top.is_empty() || FIELDS.contains(&top),
                "{body}: {}",
                e.field
            );
            assert!(
                e.error.contains(want),
                "{body}: {:?} lacks {want:?}",
                e.error
            );
            assert!(!e.hint.is_empty(), "{body}: no hint");
        }
    }

    #[test]
    fn unknown_fields_are_named() {
        let e = err(json!({"url": "https://e.com/", "name": "x", "interval": 60, "tags": []}));
        assert_eq!(e.field, "");
        assert_eq!(e.error, "unknown fields \"interval\", \"tags\"");
        assert!(e.hint.contains("interval_s"), "{}", e.hint);
        let e = err(json!({"url": "https://e.com/", "name": "x", "header": {}}));
        assert_eq!(e.error, "unknown field \"header\"");
    }

    #[test]
    fn header_limits_are_exact() {
        let ten: Map<String, Value> = (0..10).map(|i| (format!("X-H{i}"), json!("v"))).collect();
        let spec =
            validate_new(&json!({"url": "https://e.com/", "name": "x", "headers": ten})).unwrap();
        assert_eq!(spec.headers.len(), 10);
        let eleven: Map<String, Value> = (0..11).map(|i| (format!("X-H{i}"), json!("v"))).collect();
        let e = err(json!({"url": "https://e.com/", "name": "x", "headers": eleven}));
        assert_eq!(e.error, "11 headers; a monitor takes at most 10");
        let max = "v".repeat(4096);
        assert!(validate_new(
            &json!({"url": "https://e.com/", "name": "x", "headers": {"X-A": max}})
        )
        .is_ok());
        // A 100-character name of multi-byte characters is fine: chars, not bytes.
        assert!(validate_new(&json!({"url": "https://e.com/", "name": "é".repeat(100)})).is_ok());
    }

    #[test]
    fn no_error_or_debug_output_quotes_a_header_value() {
        let secret = "Bearer sk-live-123";
        for headers in [
            json!({"Authorization": 5}),
            json!({"Authorization": format!("{secret}\n")}),
            json!({"Authorization": format!("{secret}{}", "x".repeat(5000))}),
        ] {
            let e = err(json!({"url": "https://e.com/", "name": "x", "headers": headers}));
            assert!(!e.body().contains("sk-live"), "{}", e.body());
        }
        let spec = validate_new(
            &json!({"url": "https://e.com/", "name": "x", "headers": {"Authorization": secret}}),
        )
        .unwrap();
        let debug = format!("{spec:?}");
        assert!(
            debug.contains("Authorization") && !debug.contains("sk-live"),
            "{debug}"
        );
        let public = spec.public_json().to_string();
        assert!(
            public.contains("Authorization") && !public.contains("sk-live"),
            "{public}"
        );
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let base = validate_new(&json!({
            "url": "https://e.com/mcp", "name": "x", "interval_s": 120,
            "headers": {"Authorization": "Bearer old", "X-Tenant": "t"},
            "alerts": {"slack": {"url": "https://s", "severity": "P2"}, "team-b": {"type": "webhook", "url": "https://b"}},
            "runbook_url": "https://rb", "public": true
        }))
        .unwrap();
        let same = apply_patch(&base, &json!({})).unwrap();
        assert_eq!(same, base);

        let p = apply_patch(&base, &json!({"interval_s": 300, "name": "y"})).unwrap();
        assert_eq!((p.interval_s, p.name.as_str()), (300, "y"));
        assert_eq!(p.url, base.url);
        assert_eq!(p.headers, base.headers);

        // Rotate one token, drop one header (case-insensitively), keep the rest.
        let p = apply_patch(
            &base,
            &json!({"headers": {"authorization": "Bearer new", "x-tenant": null}}),
        )
        .unwrap();
        assert_eq!(p.headers.len(), 1);
        assert_eq!(p.headers["authorization"], "Bearer new");

        // Alerts merge as RFC 7396.
        let p = apply_patch(
            &base,
            &json!({"alerts": {"slack": {"severity": "P1"}, "team-b": null}}),
        )
        .unwrap();
        assert_eq!(
            Value::Object(p.alerts.as_json().clone()),
            json!({"slack": {"url": "https://s", "severity": "P1"}})
        );

        // null clears optional fields back to their defaults.
        let p = apply_patch(
            &base,
            &json!({"runbook_url": null, "headers": null, "alerts": null, "public": null, "interval_s": null}),
        )
        .unwrap();
        assert_eq!(p.runbook_url, None);
        assert!(p.headers.is_empty() && p.alerts.is_empty() && !p.public);
        assert_eq!(p.interval_s, 60);
    }

    #[test]
    fn a_patch_is_held_to_the_same_rules() {
        let base = ok();
        let cases: Vec<(Value, &str)> = vec![
            (json!("x"), "the body must be a JSON object"),
            (json!({"url": null}), "\"url\" cannot be removed"),
            (json!({"name": null}), "\"name\" cannot be removed"),
            (json!({"url": "gopher://e.com/"}), "must be http or https"),
            (json!({"interval_s": 10}), "got 10"),
            (json!({"nme": "x"}), "unknown field \"nme\""),
            (
                json!({"headers": {"Content-Length": "1"}}),
                "set by the probe itself",
            ),
            (
                json!({"headers": "Authorization: x"}),
                "\"headers\" must be an object",
            ),
            (json!({"alerts": 3}), "\"alerts\" must be an object"),
        ];
        for (patch, want) in cases {
            let e = apply_patch(&base, &patch).unwrap_err();
            let top = e.field.split('.').next().unwrap_or_default();
            assert!(
                top.is_empty() || FIELDS.contains(&top),
                "{patch}: {}",
                e.field
            );
            assert!(
                e.error.contains(want),
                "{patch}: {:?} lacks {want:?}",
                e.error
            );
        }
        // Adding the 11th header through a patch is refused too.
        let ten: Map<String, Value> = (0..10).map(|i| (format!("X-H{i}"), json!("v"))).collect();
        let full = apply_patch(&base, &json!({"headers": ten})).unwrap();
        let e = apply_patch(&full, &json!({"headers": {"X-More": "v"}})).unwrap_err();
        assert_eq!(e.error, "11 headers; a monitor takes at most 10");
    }

    #[test]
    fn maintenance_windows_are_capped() {
        let now = 1_700_000_000_000;
        assert_eq!(
            maintenance_until(now, &json!(30)).unwrap(),
            now + 30 * 60_000
        );
        assert_eq!(
            maintenance_until(now, &json!(240)).unwrap(),
            now + 240 * 60_000
        );
        assert_eq!(maintenance_until(now, &json!(0)).unwrap(), now);
        let e = maintenance_until(now, &json!(241)).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.error.as_str()),
            (
                "minutes",
                "a maintenance window lasts at most 240 minutes, got 241"
            )
        );
        for bad in [json!(-5), json!(1.5), json!("30"), json!(null), json!({})] {
            let e = maintenance_until(now, &bad).unwrap_err();
            assert!(
                e.error.starts_with("\"minutes\" must be a whole number"),
                "{bad}"
            );
        }
        // No overflow near the end of time.
        assert_eq!(
            maintenance_until(u64::MAX - 1, &json!(240)).unwrap(),
            u64::MAX
        );
    }
}
