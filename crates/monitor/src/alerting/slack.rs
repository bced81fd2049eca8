//! Start here: the Slack channel: its config check (`{"url"}` of an incoming
//! webhook) and its message in Block Kit (a header, a section with fields,
//! the first step, context, a button to the runbook). Text from outside is
//! escaped for Slack's three control characters (`&`, `<`, `>`, which would
//! otherwise make links and `<!channel>` mentions) and cut to Block Kit's
//! limits.

use serde_json::{json, Map, Value};

use mcprobe_core::time::rfc3339;
use mcprobe_core::verdict::Severity;

use super::channel::{Action, NotifyContext};
use super::check::{self, Endpoint};
use super::facts::{facts, Facts};
use super::limits;
use super::policy::Event;
use super::text::{fit, fit_with, units};
use crate::error::ValidationError;

/// `alerts.{key}` of Slack: `{"url": "https://hooks.slack.com/services/..."}`.
pub fn check_config(key: &str, obj: &Map<String, Value>) -> Result<Endpoint, ValidationError> {
    check::hook_url(key, obj)
}

/// Slack's three control characters, as its message-formatting guide asks.
fn slack_escape(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    }
}

fn fit_slack(text: &str, max: usize) -> String {
    fit_with(text, max, slack_escape)
}

fn severity_emoji(f: &Facts<'_>) -> &'static str {
    match (f.action, f.event.severity) {
        (Action::Resolve, _) => "✅",
        (_, Severity::P1) => "🔴",
        (_, Severity::P2) => "🟠",
        (_, Severity::P3) => "🟡",
        (_, Severity::None) => "ℹ️",
    }
}

/// A Slack incoming-webhook message (Block Kit).
pub fn slack(event: &Event, ctx: &NotifyContext) -> Value {
    let f = facts(event, ctx, 0);
    let header = fit(
        &format!("{} {}", severity_emoji(&f), f.title),
        limits::SLACK_HEADER,
    );
    let body = if f.body.trim().is_empty() {
        &f.title
    } else {
        &f.body
    };
    let fields: Vec<Value> = f
        .fields(ctx)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .take(limits::SLACK_FIELDS)
        .map(|(label, value)| {
            let prefix = format!("*{label}*\n");
            // Fields are the short facts: 500 reads better than the 2000 allowed.
            let room = limits::SLACK_FIELD_TEXT
                .min(500)
                .saturating_sub(units(&prefix));
            json!({"type": "mrkdwn", "text": format!("{prefix}{}", fit_slack(&value, room))})
        })
        .collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": header, "emoji": true}}),
        json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": fit_slack(body, limits::SLACK_SECTION_TEXT)},
            "fields": fields,
        }),
    ];
    if let Some(hint) = f.hint.filter(|h| !h.trim().is_empty()) {
        let prefix = "*First step:* ";
        let room = limits::SLACK_SECTION_TEXT - prefix.len();
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("{prefix}{}", fit_slack(hint, room))},
        }));
    }
    let context = format!(
        "mcprobe · {} · {} · dedup {}",
        event.kind.code(),
        rfc3339(event.at_ms),
        f.dedup_key
    );
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": fit_slack(&context, limits::SLACK_SECTION_TEXT)}],
    }));
    if let Some(url) = f
        .runbook_link()
        .filter(|u| units(u) <= limits::SLACK_BUTTON_URL)
    {
        let mut button = json!({
            "type": "button",
            "text": {"type": "plain_text", "text": "Open the runbook", "emoji": true},
            "url": url,
            "action_id": "mcprobe_runbook",
        });
        if f.action == Action::Trigger && event.severity == Severity::P1 {
            button["style"] = json!("danger");
        }
        blocks.push(json!({"type": "actions", "elements": [button]}));
    }
    json!({
        "text": fit_slack(&f.title, limits::SLACK_FALLBACK_TEXT),
        "blocks": blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_never_cuts_an_escape_and_respects_the_limit() {
        // "a&lt;b&amp;c&gt;d" does not fit 9: cut before "&amp;", not inside it.
        assert_eq!(fit_slack("a<b&c>d", 9), "a&lt;b…");
        assert_eq!(fit_slack("<>", 100), "&lt;&gt;");
    }

    #[test]
    fn the_config_is_one_http_url() {
        let obj = json!({"url": "ftp://x"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let e = check_config("slack", &obj).unwrap_err();
        assert_eq!(e.field, "alerts.slack.url");
    }
}
