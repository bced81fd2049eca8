//! Start here: the page's calls to its own Worker (same origin), as plain
//! `async fn`s apart from the views: `POST /api/check` and the status reads
//! (`GET /api/monitors`, `/api/monitors/{id}/status`, `/history?window=90d`,
//! `/incidents`, `/drift`).
//!
//! Every error the Worker sends is `{"error": "...", "hint": "..."}`; it comes
//! back here as one sentence to show, never as a panic.

use gloo_net::http::Request;
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::Verdict;
use serde_json::{json, Map, Value};

/// `POST /api/check` for `url` with the caller's headers (kept in memory
/// only: this request is the one place they go), asking for the tool list
/// too (`"snapshot": true`), so an edge check shows descriptions and schemas
/// and its drift is diffed in full, as a browser check's is.
pub async fn check(
    url: &str,
    headers: &[(String, String)],
) -> Result<(Verdict, Option<Snapshot>), String> {
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
    let req = Request::post("/api/check")
        .json(&Value::Object(body))
        .map_err(|e| format!("could not build the request: {e}"))?;
    let resp = req
        .send()
        .await
        .map_err(|e| format!("the edge did not answer: {e}"))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| format!("could not read the edge's answer: {e}"))?;
    if status != 200 {
        return Err(error_sentence(status, &text));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        verdict: Verdict,
        #[serde(default)]
        snapshot: Option<Snapshot>,
    }
    serde_json::from_str::<Answer>(&text)
        .map(|a| (a.verdict, a.snapshot))
        .map_err(|e| format!("the edge's verdict did not parse ({e})"))
}

/// Pages of `GET /api/monitors` read at most (500 monitors each): the list is
/// paged by the Worker so one public request costs one D1 query; the page
/// follows `next_cursor` up to this bound rather than showing only the first page.
const MAX_MONITOR_PAGES: usize = 20;

/// Every public monitor of `GET /api/monitors` (`query` like `"source=api"`,
/// or empty), following `next_cursor` page by page.
pub async fn list_monitors(query: &str) -> Result<Vec<Value>, String> {
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
        let page = get_json(&path).await?;
        if let Some(list) = page.get("monitors").and_then(Value::as_array) {
            all.extend(list.iter().cloned());
        }
        cursor = page
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(String::from);
        if cursor.is_none() {
            break;
        }
    }
    Ok(all)
}

/// `GET path` on the Worker, as JSON.
pub async fn get_json(path: &str) -> Result<Value, String> {
    let resp = Request::get(path)
        .send()
        .await
        .map_err(|e| format!("the edge did not answer {path}: {e}"))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| format!("could not read {path}: {e}"))?;
    if status != 200 {
        return Err(error_sentence(status, &text));
    }
    serde_json::from_str(&text).map_err(|e| format!("{path} did not answer JSON ({e})"))
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
    }
}
