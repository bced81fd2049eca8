//! Start here: the Discord channel: its config check (`{"url"}` of an
//! execute webhook) and its body, one embed coloured by severity, mentions
//! switched off. Text from outside is escaped for Discord's markdown (a
//! backslash before anything that could format, quote, link or mention) and
//! cut to the embed limits, the 6000 units of all text together included.

use serde_json::{json, Map, Value};

use mcprobe_core::runbook;
use mcprobe_core::time::rfc3339;
use mcprobe_core::verdict::Severity;

use super::channel::{Action, NotifyContext};
use super::check::{self, Endpoint};
use super::facts::facts;
use super::limits;
use super::policy::Event;
use super::text::{fit, fit_with, http_link, units};
use crate::error::ValidationError;

/// `alerts.{key}` of Discord: `{"url": "https://discord.com/api/webhooks/..."}`.
pub fn check_config(key: &str, obj: &Map<String, Value>) -> Result<Endpoint, ValidationError> {
    check::hook_url(key, obj)
}

/// Discord markdown: a backslash before every character that could format,
/// quote, spoiler, make a masked link (`[text](url)`) or a mention.
fn discord_escape(c: char, out: &mut String) {
    if matches!(
        c,
        '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '[' | ']' | '#' | '@'
    ) {
        out.push('\\');
    }
    out.push(c);
}

fn fit_discord(text: &str, max: usize) -> String {
    fit_with(text, max, discord_escape)
}

/// Embed colours: red P1, orange P2, yellow P3, green for a resolve, grey.
pub fn discord_color(severity: Severity, action: Action) -> u32 {
    match (action, severity) {
        (Action::Resolve, _) => 0x12_B7_6A,
        (_, Severity::P1) => 0xD9_2D_20,
        (_, Severity::P2) => 0xF7_90_09,
        (_, Severity::P3) => 0xEA_AA_08,
        (_, Severity::None) => 0x66_70_85,
    }
}

/// A Discord execute-webhook body: one embed, mentions disabled.
pub fn discord(event: &Event, ctx: &NotifyContext) -> Value {
    let f = facts(event, ctx, 0);
    let title = fit_discord(&f.title, limits::DISCORD_TITLE);
    let footer = fit_discord(
        &format!("mcprobe · {} · {}", event.kind.code(), f.dedup_key),
        limits::DISCORD_FOOTER.min(512),
    );
    let mut fields: Vec<(String, String, bool)> = f
        .fields(ctx)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, value)| {
            // A URL stays clickable: escaping its `_` or `#` would break it.
            // Angle brackets make it a link in which markdown is not parsed;
            // a normalised URL has no `>` to close them early.
            let value = match http_link(&value) {
                Some(u) if name == "URL" && units(&u) <= 254 => format!("<{u}>"),
                _ => fit_discord(&value, 256),
            };
            (name.to_string(), value, true)
        })
        .collect();
    if let Some(hint) = f.hint.filter(|h| !h.trim().is_empty()) {
        // Our own runbook text keeps its code spans; anything else is data.
        let ours = f.mode.is_some_and(|m| runbook::hint(m) == hint);
        let value = if ours {
            fit(hint, limits::DISCORD_FIELD_VALUE)
        } else {
            fit_discord(hint, limits::DISCORD_FIELD_VALUE)
        };
        fields.push(("First step".into(), value, false));
    }
    if let Some(url) = f.runbook_link() {
        if units(&url) <= 510 {
            fields.push(("Runbook".into(), format!("<{url}>"), false));
        }
    }
    fields.truncate(limits::DISCORD_FIELDS);
    // All of an embed's text counts towards 6000: the description gets what
    // the title, footer and fields leave.
    let used: usize = units(&title)
        + units(&footer)
        + fields
            .iter()
            .map(|(n, v, _)| units(n) + units(v))
            .sum::<usize>();
    let room = limits::DISCORD_EMBED_TOTAL
        .saturating_sub(used)
        .min(limits::DISCORD_DESCRIPTION);
    let description = fit_discord(&f.body, room);
    let mut embed = json!({
        "title": title,
        "color": discord_color(event.severity, f.action),
        "timestamp": rfc3339(event.at_ms),
        "fields": fields
            .into_iter()
            .map(|(name, value, inline)| json!({"name": name, "value": value, "inline": inline}))
            .collect::<Vec<_>>(),
        "footer": {"text": footer},
    });
    if !description.is_empty() {
        embed["description"] = json!(description);
    }
    if let Some(url) = f.runbook_link() {
        embed["url"] = json!(url);
    }
    json!({
        "username": "mcprobe",
        "allowed_mentions": {"parse": []},
        "embeds": [embed],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_mentions_are_escaped() {
        assert_eq!(fit_discord("*hi* @everyone", 100), "\\*hi\\* \\@everyone");
        assert_eq!(fit_discord("[x](y)", 5), "\\[x…");
    }

    #[test]
    fn resolves_are_green_whatever_the_severity() {
        assert_eq!(discord_color(Severity::P1, Action::Resolve), 0x12_B7_6A);
        assert_eq!(discord_color(Severity::P1, Action::Trigger), 0xD9_2D_20);
    }
}
