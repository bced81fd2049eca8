//! Start here: the Worker's one error type and the JSON answer every route
//! shares. A floor: it imports no handler, and every handler imports it.
//!
//! Every error is `{"error": "...", "hint": "..."}` with a fitting status
//! (and, for a 405, the `Allow` header); every JSON answer is
//! `application/json; charset=utf-8` and `Cache-Control: no-store`.
//!
//! The two internal failures (the runtime's, the database's) are logged as
//! well as answered: the log line holds the cause only, never a request's
//! headers or body (a caller's headers are usually credentials).

use mcprobe_monitor::error::ValidationError;
use serde_json::json;
use worker::{Method, Response};

/// An API error: the status and the `{"error", "hint"}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub error: String,
    pub hint: String,
    /// For 405: the methods the route accepts (the `Allow` header).
    pub allow: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: u16, error: impl Into<String>, hint: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            hint: hint.into(),
            allow: None,
        }
    }

    pub(crate) fn method_not_allowed(method: &Method, allow: &'static str) -> ApiError {
        ApiError {
            allow: Some(allow),
            ..ApiError::new(
                405,
                format!("{} is not allowed here", method.as_ref()),
                format!("use {allow}"),
            )
        }
    }

    /// The JSON body, exactly as sent.
    pub fn body(&self) -> String {
        json!({"error": self.error, "hint": self.hint}).to_string()
    }

    pub(crate) fn into_response(self) -> worker::Result<Response> {
        let resp = json_response(self.status, self.body())?;
        if let Some(allow) = self.allow {
            resp.headers().set("Allow", allow)?;
        }
        Ok(resp)
    }
}

/// A JSON answer: `body` with `status`, never cached.
pub(crate) fn json_response(status: u16, body: String) -> worker::Result<Response> {
    let resp = Response::ok(body)?.with_status(status);
    resp.headers()
        .set("Content-Type", "application/json; charset=utf-8")?;
    // Verdicts are "now"; errors are about this request.
    resp.headers().set("Cache-Control", "no-store")?;
    Ok(resp)
}

/// A JSON value as a `status` answer.
pub(crate) fn ok_json(status: u16, v: serde_json::Value) -> Result<Response, ApiError> {
    json_response(status, v.to_string()).map_err(internal)
}

/// The runtime failed (building a response, reading the URL): 500.
pub(crate) fn internal(e: worker::Error) -> ApiError {
    let e = ApiError::new(
        500,
        format!("the Worker failed: {e}"),
        "try again; report it if it persists",
    );
    log(&e);
    e
}

/// D1 failed: 503, try again.
pub(crate) fn db_err(e: String) -> ApiError {
    let e = ApiError::new(
        503,
        format!("the database failed: {e}"),
        "try again shortly",
    );
    log(&e);
    e
}

/// A refusal of what the client sent (the monitor crate's typed
/// [`ValidationError`]) is a 400 with its `{"error", "hint"}`.
pub(crate) fn core_err(e: ValidationError) -> ApiError {
    ApiError::new(400, e.error, e.hint)
}

/// Logs an internal failure by its message, which names the cause only.
fn log(e: &ApiError) {
    // The console exists only in the runtime; host tests have none.
    #[cfg(target_arch = "wasm32")]
    worker::console_error!("mcprobe {}: {}", e.status, e.error);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = e;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_validation_error_is_a_400_with_the_same_body() {
        let e = mcprobe_monitor::monitor::validate_new(&json!({"name": "x"})).unwrap_err();
        let body = e.body();
        let api = core_err(e);
        assert_eq!(api.status, 400);
        assert_eq!(api.body(), body);
        assert_eq!(
            api.body(),
            r#"{"error":"\"url\" is missing","hint":"send {\"url\": \"https://example.com/mcp\", \"name\": \"My server\"} plus any of \"interval_s\", \"headers\", \"alerts\", \"runbook_url\", \"public\""}"#
        );
    }

    #[test]
    fn error_bodies_have_exactly_error_and_hint() {
        let e = ApiError::new(422, "no", "try \"this\"");
        let v: Value = serde_json::from_str(&e.body()).expect("JSON");
        assert_eq!(v, json!({"error": "no", "hint": "try \"this\""}));
    }

    #[test]
    fn internal_failures_are_500_and_503() {
        assert_eq!(db_err("gone".into()).status, 503);
        assert!(db_err("gone".into()).error.ends_with("gone"));
        assert_eq!(internal(worker::Error::RustError("x".into())).status, 500);
    }
}
