//! Start here: the page's calls to its own Worker (same origin), as plain
//! `async fn`s apart from the views: `POST /api/check` and the status reads
//! (`GET /api/monitors`, `/api/monitors/{id}/status`, `/history?window=90d`,
//! `/incidents`, `/drift`).
//!
//! Every body is read into its type (the monitor crate's [`mcprobe_monitor::views`]
//! and [`mcprobe_monitor::history`], the core's verdict). Every failure is an
//! [`ApiError`]; an error the Worker sends is `{"error": "...", "hint": "..."}`
//! and its `Display` is that one sentence to show, never a panic.

use gloo_net::http::Request;
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::Verdict;
use mcprobe_monitor::history::{DriftList, History, IncidentList};
use mcprobe_monitor::views::{MonitorList, MonitorStatus, PublicMonitor};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

/// Why a call to the Worker gave no answer to show. Its `Display` is the one
/// sentence the page puts in front of the reader.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The request could not even be built (a header the browser refuses).
    #[error("could not build the request: {0}")]
    Request(String),
    /// No answer: offline, the Worker down, the request blocked.
    #[error("the edge did not answer {path}: {why}")]
    Unreachable { path: String, why: String },
    /// An answer whose body could not be read.
    #[error("could not read {path}: {why}")]
    Unreadable { path: String, why: String },
    /// A status other than 200, with the Worker's own words when it sent them.
    #[error("{}", error_sentence(*.status, .body))]
    Status { status: u16, body: String },
    /// A 200 whose body is not the JSON expected.
    #[error("{what} did not parse ({why})")]
    Parse { what: String, why: String },
}

/// `POST /api/check` for `url` with the caller's headers (kept in memory
/// only: this request is the one place they go), asking for the tool list
/// too (`"snapshot": true`), so an edge check shows descriptions and schemas
/// and its drift is diffed in full, as a browser check's is.
pub async fn check(
    url: &str,
    headers: &[(String, String)],
) -> Result<(Verdict, Option<Snapshot>), ApiError> {
    const PATH: &str = "/api/check";
    let mut body = Map::new();
    body.insert("url".into(), Value::String(url.to_string()));
    body.insert("snapshot".into(), Value::Bool(true));
    if !headers.is_empty() {
        let h: Map<String, Value> = headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        body.insert("headers".into(), Value::Object(h));
    }
    let req = Request::post(PATH)
        .json(&Value::Object(body))
        .map_err(|e| ApiError::Request(e.to_string()))?;
    #[derive(serde::Deserialize)]
    struct Answer {
        verdict: Verdict,
        #[serde(default)]
        snapshot: Option<Snapshot>,
    }
    let a: Answer = read(PATH, req.send().await, "the edge's verdict").await?;
    Ok((a.verdict, a.snapshot))
}

/// Pages of `GET /api/monitors` read at most (500 monitors each): the list is
/// paged by the Worker so one public request costs one D1 query; the page
/// follows `next_cursor` up to this bound rather than showing only the first page.
const MAX_MONITOR_PAGES: usize = 20;

/// Every public monitor of `GET /api/monitors` (`query` like `"source=api"`,
/// or empty), following `next_cursor` page by page.
pub async fn list_monitors(query: &str) -> Result<Vec<PublicMonitor>, ApiError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_MONITOR_PAGES {
        let mut path = String::from("/api/monitors?limit=500");
        if !query.is_empty() {
            path.push('&');
            path.push_str(query);
        }
        if let Some(c) = &cursor {
            path.push_str("&cursor=");
            path.extend(url::form_urlencoded::byte_serialize(c.as_bytes()));
        }
        let page: MonitorList = get(&path, "the monitor list").await?;
        all.extend(page.monitors);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(all)
}

/// The first page of `GET /api/monitors` (the Worker's default size).
pub async fn first_monitors() -> Result<Vec<PublicMonitor>, ApiError> {
    get::<MonitorList>("/api/monitors", "the monitor list")
        .await
        .map(|l| l.monitors)
}

/// `/api/monitors/{id}...`, the id encoded.
fn monitor_path(id: &str, rest: &str) -> String {
    format!("/api/monitors/{}{rest}", encode(id))
}

/// `GET /api/monitors/{id}/status`.
pub async fn monitor_status(id: &str) -> Result<MonitorStatus, ApiError> {
    get(&monitor_path(id, "/status"), "the status").await
}

/// `GET /api/monitors/{id}/history?window=` (`24h`, `7d` or `90d`).
pub async fn history(id: &str, window: &str) -> Result<History, ApiError> {
    let path = monitor_path(id, &format!("/history?window={window}"));
    get(&path, &format!("the {window} history")).await
}

/// `GET /api/monitors/{id}/incidents`.
pub async fn incidents(id: &str) -> Result<IncidentList, ApiError> {
    get(&monitor_path(id, "/incidents"), "the incidents").await
}

/// `GET /api/monitors/{id}/drift`.
pub async fn drift(id: &str) -> Result<DriftList, ApiError> {
    get(&monitor_path(id, "/drift"), "the drift events").await
}

/// `GET path` on the Worker, read as `T` (`what` names it in an error).
pub async fn get<T: DeserializeOwned>(path: &str, what: &str) -> Result<T, ApiError> {
    read(path, Request::get(path).send().await, what).await
}

/// Reads an answer: a 200 as `T`, anything else as an [`ApiError`].
async fn read<T: DeserializeOwned>(
    path: &str,
    sent: Result<gloo_net::http::Response, gloo_net::Error>,
    what: &str,
) -> Result<T, ApiError> {
    let resp = sent.map_err(|e| ApiError::Unreachable {
        path: path.to_string(),
        why: e.to_string(),
    })?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| ApiError::Unreadable {
        path: path.to_string(),
        why: e.to_string(),
    })?;
    if status != 200 {
        return Err(ApiError::Status { status, body });
    }
    // Through `Value`: one JSON parser for every body, then each type's
    // (smaller) reader of a parsed tree. Parsing straight into each `T`
    // would put one whole parser per body type in the wasm.
    let parse = |e: serde_json::Error| ApiError::Parse {
        what: what.to_string(),
        why: e.to_string(),
    };
    let tree: Value = serde_json::from_str(&body).map_err(parse)?;
    serde_json::from_value(tree).map_err(parse)
}

/// A path segment or query value, percent-encoded.
pub fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// "HTTP 429: too many checks from your address; wait a minute".
pub fn error_sentence(status: u16, body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(json!({}));
    let error = v.get("error").and_then(Value::as_str);
    let hint = v.get("hint").and_then(Value::as_str);
    match (error, hint) {
        (Some(e), Some(h)) => format!("HTTP {status}: {e}; {h}"),
        (Some(e), None) => format!("HTTP {status}: {e}"),
        _ => {
            let excerpt: String = body.chars().take(120).collect();
            format!("HTTP {status}: {excerpt}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_errors_become_one_sentence() {
        assert_eq!(
            error_sentence(429, r#"{"error":"too many checks","hint":"wait a minute"}"#),
            "HTTP 429: too many checks; wait a minute"
        );
        assert_eq!(error_sentence(502, "<html>bad"), "HTTP 502: <html>bad");
        let e = ApiError::Status {
            status: 404,
            body: r#"{"error":"no monitor \"x\""}"#.into(),
        };
        assert_eq!(e.to_string(), r#"HTTP 404: no monitor "x""#);
    }
}
