//! Start here: [`ValidationError`], the one refusal of this crate: what a user
//! wrote (a monitor body, a patch, an `alerts` object, a query parameter) and
//! why it cannot be taken. It says what is wrong, which field and what to
//! write instead; it carries no transport. The Worker answers it as a 400
//! with the body [`ValidationError::body`]; `mcprobe watch` prints it as a
//! config error. Keeping HTTP out of here is what lets the CLI and the tests
//! use the same rules without pretending to be a web server.

use serde::Serialize;

/// A refusal of user input. Serialises to exactly `{"error", "hint"}` (the
/// body the edge API has always sent); `field` is for the host to log or
/// route on and is not part of that body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{error} ({hint})")]
pub struct ValidationError {
    /// Where in the input: `url`, `interval_s`, `headers.X-Api-Key`,
    /// `alerts.slack.url`, `minutes`, `window`; empty for the body as a whole.
    #[serde(skip)]
    pub field: String,
    /// What is wrong, in a sentence that never quotes a secret.
    pub error: String,
    /// What to send instead.
    pub hint: String,
}

impl ValidationError {
    pub fn new(
        field: impl Into<String>,
        error: impl Into<String>,
        hint: impl Into<String>,
    ) -> ValidationError {
        ValidationError {
            field: field.into(),
            error: error.into(),
            hint: hint.into(),
        }
    }

    /// The JSON body, exactly as the edge API sends it.
    pub fn body(&self) -> String {
        serde_json::json!({"error": self.error, "hint": self.hint}).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn error_bodies_have_exactly_error_and_hint() {
        let e = ValidationError::new("url", "no", "try \"this\"");
        let v: Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(v, json!({"error": "no", "hint": "try \"this\""}));
        assert_eq!(serde_json::to_value(&e).unwrap(), v);
        assert_eq!(e.field, "url");
    }
}
