//! Start here: the tests' HTTP client for the Worker under `wrangler dev`:
//! JSON in, status + headers + body out, with or without the dev admin token.
//! A request that fails at the transport answers status 0 and says why in the
//! body, so an assertion shows it instead of a panic deep in reqwest.

use std::time::Duration;

use serde_json::Value;

use crate::edge::DEV_ADMIN_TOKEN;

/// One answer.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A blocking client for one base URL.
pub struct Client {
    pub rt: tokio::runtime::Runtime,
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    /// `timeout` bounds every request (a cron tick with re-probes takes ~25 s).
    pub fn new(base: &str, timeout: Duration) -> Client {
        Client {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(timeout)
                .build()
                .expect("an HTTP client"),
            base: base.to_string(),
        }
    }

    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: bool,
        body: Option<Value>,
    ) -> Answer {
        self.rt
            .block_on(send(&self.http, &self.base, method, path, token, body))
    }

    pub fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, false, None)
    }

    pub fn admin_get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, true, None)
    }

    pub fn admin_post(&self, path: &str, body: Option<Value>) -> Answer {
        self.send(reqwest::Method::POST, path, true, body)
    }
}

/// One request (async, for tests that send several at once).
pub async fn send(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: bool,
    body: Option<Value>,
) -> Answer {
    let mut req = http.request(method, format!("{base}{path}"));
    if token {
        req = req.bearer_auth(DEV_ADMIN_TOKEN);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.text().await.unwrap_or_default();
            Answer {
                status,
                headers,
                body,
            }
        }
        Err(e) => Answer {
            status: 0,
            headers: Default::default(),
            body: format!("request failed: {e}"),
        },
    }
}

/// The cron trigger of a chosen minute (miniflare's local route).
pub fn cron_path(time_ms: u64) -> String {
    format!("/cdn-cgi/local/scheduled?cron=*+*+*+*+*&time={time_ms}")
}
