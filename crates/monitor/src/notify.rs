//! Start here: alert payloads for every channel, built from a [`crate::policy::Event`].
//!
//! Pure builders, no HTTP: the host (the Worker, the CLI's `watch`) sends what
//! they return, retries, and records failures. One function a channel:
//!
//! - [`webhook`]: our own JSON (`schema: "mcprobe.alert/v1"`), with
//!   `runbook_url`, mode, reason, hint, `started_at` and the last verdicts;
//! - [`slack`]: an incoming-webhook message in Block Kit (header, a section with
//!   fields, context, a button to the runbook);
//! - [`discord`]: an execute-webhook body with one embed, colour by severity;
//! - [`pagerduty`]: an Events API v2 `trigger` / `resolve` for `POST /v2/enqueue`;
//! - [`opsgenie`]: an Alert API create (`POST /v2/alerts`) or a close by alias
//!   (`POST /v2/alerts/{alias}/close?identifierType=alias`).
//!
//! The dedup key (PagerDuty `dedup_key`, Opsgenie `alias`) is the same string
//! for every event of one incident ([`incident_dedup_key`]), so a resolve or an
//! escalation lands on the alert its open created.
//!
//! Everything that came from outside (the reason, which can quote a server's
//! answer; server, tool and parameter names; the monitor's name and URL) is
//! data: serde escapes it for JSON, it is escaped for the channel's markup
//! where there is one (Slack's `&`, `<`, `>`, which would otherwise make links
//! and `<!channel>` mentions; Discord's markdown, with mentions switched off),
//! and it is cut to the channel's documented limits ([`limits`]), counted in
//! UTF-16 units, which is never fewer than characters, so both ways of counting
//! stay within bounds.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::policy::{EscalationCause, Event, EventKind, VerdictSummary};
use mcprobe_core::fingerprint::{sha256_tag, Drift};
use mcprobe_core::runbook;
use mcprobe_core::time::rfc3339;
use mcprobe_core::verdict::{Mode, Severity};

/// Where PagerDuty events go: `POST {PAGERDUTY_EVENTS_BASE}{PAGERDUTY_ENQUEUE_PATH}`.
pub const PAGERDUTY_EVENTS_BASE: &str = "https://events.pagerduty.com";
pub const PAGERDUTY_ENQUEUE_PATH: &str = "/v2/enqueue";
/// Opsgenie's API hosts (the account's region decides which).
pub const OPSGENIE_API_BASE: &str = "https://api.opsgenie.com";
pub const OPSGENIE_EU_API_BASE: &str = "https://api.eu.opsgenie.com";
/// The `schema` of our generic webhook body.
pub const WEBHOOK_SCHEMA: &str = "mcprobe.alert/v1";

/// The channels' documented limits, and the tighter ones we choose.
pub mod limits {
    /// Slack: header text.
    pub const SLACK_HEADER: usize = 150;
    /// Slack: a section's text.
    pub const SLACK_SECTION_TEXT: usize = 3000;
    /// Slack: one section field's text, and at most this many fields.
    pub const SLACK_FIELD_TEXT: usize = 2000;
    pub const SLACK_FIELDS: usize = 10;
    /// Slack: context elements.
    pub const SLACK_CONTEXT_ELEMENTS: usize = 10;
    /// Slack: a button's text and URL.
    pub const SLACK_BUTTON_TEXT: usize = 75;
    pub const SLACK_BUTTON_URL: usize = 3000;
    /// Slack: the notification fallback `text` (the API takes 40,000; a
    /// notification shows far less).
    pub const SLACK_FALLBACK_TEXT: usize = 3000;
    /// Discord: embed title, description, field name and value, footer, the
    /// number of fields and all of an embed's text together.
    pub const DISCORD_TITLE: usize = 256;
    pub const DISCORD_DESCRIPTION: usize = 4096;
    pub const DISCORD_FIELD_NAME: usize = 256;
    pub const DISCORD_FIELD_VALUE: usize = 1024;
    pub const DISCORD_FOOTER: usize = 2048;
    pub const DISCORD_FIELDS: usize = 25;
    pub const DISCORD_EMBED_TOTAL: usize = 6000;
    /// PagerDuty: `payload.summary` and `dedup_key`.
    pub const PAGERDUTY_SUMMARY: usize = 1024;
    pub const PAGERDUTY_DEDUP_KEY: usize = 255;
    /// Ours: `payload.source`, `component`, `group` (PagerDuty names no limit).
    pub const PAGERDUTY_SHORT: usize = 255;
    /// Opsgenie: message, alias, description, entity, source, note, tags.
    pub const OPSGENIE_MESSAGE: usize = 130;
    pub const OPSGENIE_ALIAS: usize = 512;
    pub const OPSGENIE_DESCRIPTION: usize = 15_000;
    pub const OPSGENIE_ENTITY: usize = 512;
    pub const OPSGENIE_SOURCE: usize = 100;
    pub const OPSGENIE_NOTE: usize = 25_000;
    pub const OPSGENIE_TAGS: usize = 20;
    pub const OPSGENIE_TAG: usize = 50;
    /// Opsgenie: all `details` keys and values together.
    pub const OPSGENIE_DETAILS_TOTAL: usize = 8000;
    /// Ours: drift changes and digest items listed in one message.
    pub const LIST_ITEMS: usize = 50;
    /// Ours: a reason in the generic webhook.
    pub const WEBHOOK_TEXT: usize = 2000;
}

/// What a builder knows about the monitor besides the event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyContext {
    /// The name people gave the monitor (falls back to its id when empty).
    pub monitor_name: String,
    /// The MCP endpoint it probes.
    pub url: String,
    /// The server's self-reported name, when a probe got one.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Where this deployment's pages live (`https://status.example.com`): the
    /// default runbook URLs are `{public_base}/runbook/{mode}`.
    #[serde(default)]
    pub public_base: String,
    /// The monitor's own runbook, which replaces ours when set.
    #[serde(default)]
    pub runbook_url: Option<String>,
}

/// Whether an event opens (or updates) an alert or closes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Trigger,
    Resolve,
}

/// A request to a channel's API: the method, the path under its base URL, the
/// JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    pub method: &'static str,
    pub path: String,
    pub body: Value,
}

/// The alert channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Webhook,
    Slack,
    Discord,
    Pagerduty,
    Opsgenie,
}

impl Channel {
    /// The least severe event a channel takes unless the monitor says
    /// otherwise (`failure-modes.md` "Severity routing"): pagers take P1,
    /// chat P2 and up, the webhook everything (it feeds digests and e-mail).
    pub fn default_min_severity(self) -> Severity {
        match self {
            Channel::Pagerduty | Channel::Opsgenie => Severity::P1,
            Channel::Slack | Channel::Discord => Severity::P2,
            Channel::Webhook => Severity::P3,
        }
    }

    /// Whether an event of `severity` goes to a channel that takes
    /// `min_severity` and above.
    pub fn takes(min_severity: Severity, severity: Severity) -> bool {
        severity <= min_severity
    }
}

/// The default runbook page of a mode under `public_base`.
pub fn default_runbook_url(public_base: &str, mode: Mode) -> String {
    format!(
        "{}/runbook/{}",
        public_base.trim_end_matches('/'),
        mode.as_str()
    )
}

/// The dedup key of every event of one incident: monitor id and incident id.
/// Kept as-is when it fits PagerDuty's 255 characters, else hashed, so it is
/// stable either way.
pub fn incident_dedup_key(monitor_id: &str, incident_id: &str) -> String {
    dedup_key(monitor_id, incident_id)
}

fn dedup_key(monitor_id: &str, suffix: &str) -> String {
    let key = format!("mcprobe:{monitor_id}:{suffix}");
    if key.encode_utf16().count() <= limits::PAGERDUTY_DEDUP_KEY {
        key
    } else {
        format!("mcprobe:{}", sha256_tag(key.as_bytes()))
    }
}

/// A short human duration: `45s`, `5m 20s`, `2h 5m`, `3d 4h`.
pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

// ---------------------------------------------------------------------------
// Text fitting and escaping

type Escape = fn(char, &mut String);

fn no_escape(c: char, out: &mut String) {
    out.push(c);
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

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `text` escaped and cut to at most `max` UTF-16 units, never inside an
/// escape, with an ellipsis when cut.
fn fit_with(text: &str, max: usize, esc: Escape) -> String {
    let mut full = String::with_capacity(text.len());
    for c in text.chars() {
        esc(c, &mut full);
    }
    if units(&full) <= max {
        return full;
    }
    if max == 0 {
        return String::new();
    }
    let budget = max - 1; // room for the ellipsis
    let mut out = String::new();
    let mut used = 0;
    let mut piece = String::new();
    for c in text.chars() {
        piece.clear();
        esc(c, &mut piece);
        let n = units(&piece);
        if used + n > budget {
            break;
        }
        used += n;
        out.push_str(&piece);
    }
    out.push('…');
    out
}

fn fit(text: &str, max: usize) -> String {
    fit_with(text, max, no_escape)
}

fn fit_slack(text: &str, max: usize) -> String {
    fit_with(text, max, slack_escape)
}

fn fit_discord(text: &str, max: usize) -> String {
    fit_with(text, max, discord_escape)
}

/// An absolute http(s) URL a chat client will accept as a link, normalised
/// (spaces, quotes, `<`, `>` and backticks percent-encoded).
fn http_url(s: &str) -> Option<String> {
    let parsed = url::Url::parse(s.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
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

// ---------------------------------------------------------------------------
// What every builder says, worked out once

struct Facts<'a> {
    event: &'a Event,
    action: Action,
    /// One line, plain text, naming the monitor.
    title: String,
    /// The body, plain text (the reason, a list of changes or held events).
    body: String,
    mode: Option<Mode>,
    reason: Option<&'a str>,
    hint: Option<&'a str>,
    incident_id: Option<&'a str>,
    started_at_ms: Option<u64>,
    duration_ms: Option<u64>,
    dedup_key: String,
    runbook_url: Option<String>,
    last_verdicts: &'a [VerdictSummary],
    drift: Option<&'a Drift>,
    items: &'a [Event],
}

impl Facts<'_> {
    /// The runbook link when it is one a client will open.
    fn runbook_link(&self) -> Option<String> {
        self.runbook_url.as_deref().and_then(http_url)
    }

    /// Short label/value pairs every channel shows (values are plain text).
    fn fields(&self, ctx: &NotifyContext) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("Monitor", monitor_name(self.event, ctx).to_string()),
            ("Severity", severity_label(self)),
        ];
        if let Some(mode) = self.mode {
            f.push(("Mode", mode.as_str().to_string()));
        }
        if let Some(t) = self.started_at_ms {
            f.push(("Started", rfc3339(t)));
        }
        if let Some(d) = self.duration_ms {
            f.push(("Duration", human_duration(d)));
        }
        if !ctx.url.is_empty() {
            f.push(("URL", ctx.url.clone()));
        }
        if let Some(name) = ctx.server_name.as_deref().filter(|n| !n.is_empty()) {
            f.push(("Server", name.to_string()));
        }
        if let Some(id) = self.incident_id {
            f.push(("Incident", id.to_string()));
        }
        f
    }
}

fn monitor_name<'a>(event: &'a Event, ctx: &'a NotifyContext) -> &'a str {
    if ctx.monitor_name.trim().is_empty() {
        &event.monitor_id
    } else {
        &ctx.monitor_name
    }
}

fn severity_label(f: &Facts<'_>) -> String {
    match f.action {
        Action::Resolve => format!("{} (resolved)", f.event.severity.as_str()),
        Action::Trigger => f.event.severity.as_str().to_string(),
    }
}

fn runbook_for(ctx: &NotifyContext, mode: Option<Mode>) -> Option<String> {
    if let Some(own) = ctx.runbook_url.as_deref().filter(|u| !u.trim().is_empty()) {
        return Some(own.to_string());
    }
    let mode = mode?;
    (!ctx.public_base.trim().is_empty()).then(|| default_runbook_url(&ctx.public_base, mode))
}

fn list<I: IntoIterator<Item = String>>(lines: I, total: usize) -> String {
    let mut out: Vec<String> = lines
        .into_iter()
        .take(limits::LIST_ITEMS)
        .map(|l| format!("• {l}"))
        .collect();
    if total > limits::LIST_ITEMS {
        out.push(format!("… and {} more", total - limits::LIST_ITEMS));
    }
    out.join("\n")
}

fn facts<'a>(event: &'a Event, ctx: &NotifyContext, depth: u8) -> Facts<'a> {
    let name = monitor_name(event, ctx);
    let sev = event.severity.as_str();
    let mid = event.monitor_id.as_str();
    let base = |action, title: String, body: String, key: String| Facts {
        event,
        action,
        title,
        body,
        mode: None,
        reason: None,
        hint: None,
        incident_id: None,
        started_at_ms: None,
        duration_ms: None,
        dedup_key: key,
        runbook_url: None,
        last_verdicts: &[],
        drift: None,
        items: &[],
    };
    let mut f = match &event.kind {
        EventKind::IncidentOpened {
            id,
            mode,
            reason,
            hint,
            started_at_ms,
            last_verdicts,
        } => Facts {
            mode: Some(*mode),
            reason: Some(reason),
            hint: Some(hint),
            incident_id: Some(id),
            started_at_ms: Some(*started_at_ms),
            last_verdicts,
            ..base(
                Action::Trigger,
                format!("[{sev}] {name}: {}", runbook::runbook(*mode).title),
                reason.clone(),
                dedup_key(mid, id),
            )
        },
        EventKind::IncidentResolved {
            id,
            mode,
            started_at_ms,
            ended_at_ms,
            duration_ms,
        } => Facts {
            mode: Some(*mode),
            incident_id: Some(id),
            started_at_ms: Some(*started_at_ms),
            duration_ms: Some(*duration_ms),
            ..base(
                Action::Resolve,
                format!(
                    "[Resolved] {name}: {} (after {})",
                    runbook::runbook(*mode).title,
                    human_duration(*duration_ms)
                ),
                format!(
                    "Passing again since {}; failing since {}.",
                    rfc3339(*ended_at_ms),
                    rfc3339(*started_at_ms)
                ),
                dedup_key(mid, id),
            )
        },
        EventKind::Escalated {
            id,
            from,
            cause,
            mode,
            reason,
            hint,
            started_at_ms,
            last_verdicts,
        } => {
            let why = match cause {
                EscalationCause::Unacknowledged => "nobody acknowledged it in time",
                EscalationCause::Worsened => "the failure got worse",
            };
            Facts {
                mode: Some(*mode),
                reason: Some(reason),
                hint: Some(hint),
                incident_id: Some(id),
                started_at_ms: Some(*started_at_ms),
                last_verdicts,
                ..base(
                    Action::Trigger,
                    format!(
                        "[{sev}] {name}: {} (escalated from {})",
                        runbook::runbook(*mode).title,
                        from.as_str()
                    ),
                    format!("{reason}\nEscalated from {}: {why}.", from.as_str()),
                    dedup_key(mid, id),
                )
            }
        }
        EventKind::Flapping {
            changes,
            window_ms,
            incident_id,
            mode,
            reason,
        } => {
            let mut body = format!(
                "{changes} pass/fail changes within {}. Further alerts are paused \
                 until the monitor is stable again.",
                human_duration(*window_ms)
            );
            if let Some(r) = reason {
                body.push_str(&format!("\nLast failure: {r}"));
            }
            Facts {
                mode: *mode,
                reason: reason.as_deref(),
                incident_id: incident_id.as_deref(),
                ..base(
                    Action::Trigger,
                    format!("[{sev}] {name} is flapping"),
                    body,
                    dedup_key(mid, &format!("flapping-{}", event.at_ms)),
                )
            }
        }
        EventKind::Stable {
            flapping_since_ms,
            quiet_for_ms,
            up,
        } => base(
            Action::Resolve,
            format!(
                "[Stable] {name}: {} after flapping",
                if *up { "passing" } else { "failing" }
            ),
            format!(
                "No pass/fail change for {} (flapping since {}).",
                human_duration(*quiet_for_ms),
                rfc3339(*flapping_since_ms)
            ),
            dedup_key(mid, &format!("flapping-{flapping_since_ms}")),
        ),
        EventKind::DriftDetected { diff } => Facts {
            mode: Some(Mode::SchemaDrift),
            drift: Some(diff),
            ..base(
                Action::Trigger,
                format!(
                    "[{sev}] {name}: tool list changed{}",
                    if diff.breaking { " (breaking)" } else { "" }
                ),
                list(
                    diff.changes.iter().map(|c| c.to_string()),
                    diff.changes.len(),
                ),
                dedup_key(mid, &format!("drift-{}", diff.to_hash)),
            )
        },
        EventKind::Digest { items, dropped } => {
            let total = items.len() + *dropped as usize;
            let lines = if depth == 0 {
                list(
                    items
                        .iter()
                        .map(|i| format!("{} {}", rfc3339(i.at_ms), facts(i, ctx, 1).title)),
                    total,
                )
            } else {
                String::new()
            };
            Facts {
                items: if depth == 0 { items } else { &[] },
                ..base(
                    Action::Trigger,
                    format!("[Digest] {name}: {total} held during quiet hours"),
                    lines,
                    dedup_key(mid, &format!("digest-{}", event.at_ms)),
                )
            }
        }
    };
    f.runbook_url = runbook_for(ctx, f.mode);
    f
}

// ---------------------------------------------------------------------------
// Builders

fn summary_json(v: &VerdictSummary) -> Value {
    json!({
        "at": rfc3339(v.at_ms),
        "status": v.status.as_str(),
        "mode": v.mode.as_str(),
        "severity": v.severity.as_str(),
        "reason": fit(&v.reason, limits::WEBHOOK_TEXT),
        "elapsed_ms": v.elapsed_ms,
    })
}

fn drift_json(d: &Drift) -> Value {
    let changes: Vec<Value> = d
        .changes
        .iter()
        .take(limits::LIST_ITEMS)
        .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
        .collect();
    json!({
        "breaking": d.breaking,
        "from_hash": d.from_hash,
        "to_hash": d.to_hash,
        "changes": changes,
        "changes_total": d.changes.len(),
    })
}

/// The generic webhook body.
pub fn webhook(event: &Event, ctx: &NotifyContext) -> Value {
    webhook_at(event, ctx, 0)
}

fn webhook_at(event: &Event, ctx: &NotifyContext, depth: u8) -> Value {
    let f = facts(event, ctx, depth);
    let mut o = Map::new();
    o.insert("schema".into(), json!(WEBHOOK_SCHEMA));
    o.insert("event".into(), json!(event.kind.code()));
    o.insert(
        "action".into(),
        json!(match f.action {
            Action::Trigger => "trigger",
            Action::Resolve => "resolve",
        }),
    );
    o.insert("at".into(), json!(rfc3339(event.at_ms)));
    o.insert("at_ms".into(), json!(event.at_ms));
    o.insert("severity".into(), json!(event.severity.as_str()));
    o.insert("title".into(), json!(fit(&f.title, limits::WEBHOOK_TEXT)));
    o.insert("text".into(), json!(fit(&f.body, limits::WEBHOOK_TEXT * 4)));
    o.insert(
        "monitor".into(),
        json!({
            "id": event.monitor_id,
            "name": monitor_name(event, ctx),
            "url": ctx.url,
        }),
    );
    if let Some(name) = ctx.server_name.as_deref() {
        o.insert("server".into(), json!({ "name": name }));
    }
    o.insert("dedup_key".into(), json!(f.dedup_key));
    insert_incident_facts(&mut o, &f);
    if let Some(t) = f.started_at_ms {
        o.insert("started_at_ms".into(), json!(t));
    }
    if let Some(d) = f.duration_ms {
        o.insert("duration_ms".into(), json!(d));
    }
    if !f.last_verdicts.is_empty() {
        let lv: Vec<Value> = f.last_verdicts.iter().map(summary_json).collect();
        o.insert("last_verdicts".into(), Value::Array(lv));
    }
    if let Some(d) = f.drift {
        o.insert("drift".into(), drift_json(d));
    }
    if let EventKind::Digest { dropped, .. } = &event.kind {
        let items: Vec<Value> = f.items.iter().map(|i| webhook_at(i, ctx, 1)).collect();
        o.insert("items".into(), Value::Array(items));
        o.insert("dropped".into(), json!(dropped));
    }
    Value::Object(o)
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
            let value = match http_url(&value) {
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

/// PagerDuty's severities: P1 critical, P2 error, P3 warning, else info.
pub fn pagerduty_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::P1 => "critical",
        Severity::P2 => "error",
        Severity::P3 => "warning",
        Severity::None => "info",
    }
}

/// A PagerDuty Events API v2 call (`POST /v2/enqueue` on
/// [`PAGERDUTY_EVENTS_BASE`]): `trigger` for opens, escalations, flapping,
/// drift and digests, `resolve` for resolves and the end of flapping.
pub fn pagerduty(event: &Event, ctx: &NotifyContext, routing_key: &str) -> ApiCall {
    let f = facts(event, ctx, 0);
    let body = match f.action {
        // The documented resolve needs only the key: the payload is ignored.
        Action::Resolve => json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": f.dedup_key,
        }),
        Action::Trigger => {
            let source = url::Url::parse(&ctx.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| event.monitor_id.clone());
            let source = if source.is_empty() {
                "mcprobe".to_string()
            } else {
                source
            };
            let summary = match f.reason {
                Some(r) if !r.is_empty() => format!("{} — {r}", f.title),
                _ => f.title.clone(),
            };
            let mut payload = json!({
                "summary": fit(&summary, limits::PAGERDUTY_SUMMARY),
                "source": fit(&source, limits::PAGERDUTY_SHORT),
                "severity": pagerduty_severity(event.severity),
                "timestamp": rfc3339(event.at_ms),
                "group": fit(monitor_name(event, ctx), limits::PAGERDUTY_SHORT),
                "class": f.mode.map_or(event.kind.code(), Mode::as_str),
                "custom_details": details_json(&f, ctx),
            });
            if let Some(name) = ctx.server_name.as_deref().filter(|n| !n.is_empty()) {
                payload["component"] = json!(fit(name, limits::PAGERDUTY_SHORT));
            }
            let mut body = json!({
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": f.dedup_key,
                "payload": payload,
                "client": "mcprobe",
            });
            if let Some(base) = http_url(&ctx.public_base) {
                body["client_url"] = json!(base);
            }
            if let Some(url) = f.runbook_link() {
                let text = f.mode.map_or("Runbook".to_string(), |m| {
                    format!("Runbook: {}", runbook::runbook(m).title)
                });
                body["links"] = json!([{"href": url, "text": text}]);
            }
            body
        }
    };
    ApiCall {
        method: "POST",
        path: PAGERDUTY_ENQUEUE_PATH.to_string(),
        body,
    }
}

/// PagerDuty `custom_details`: the webhook's facts, as an object.
/// The incident's facts, in this order, as every payload that carries them
/// as plain JSON members spells them (the webhook body, PagerDuty
/// custom_details, Opsgenie details).
fn insert_incident_facts(m: &mut Map<String, Value>, f: &Facts<'_>) {
    if let Some(id) = f.incident_id {
        m.insert("incident_id".into(), json!(id));
    }
    if let Some(mode) = f.mode {
        m.insert("mode".into(), json!(mode.as_str()));
    }
    if let Some(r) = f.reason {
        m.insert("reason".into(), json!(fit(r, limits::WEBHOOK_TEXT)));
    }
    if let Some(h) = f.hint {
        m.insert("hint".into(), json!(fit(h, limits::WEBHOOK_TEXT)));
    }
    if let Some(u) = &f.runbook_url {
        m.insert("runbook_url".into(), json!(u));
    }
    if let Some(t) = f.started_at_ms {
        m.insert("started_at".into(), json!(rfc3339(t)));
    }
}

fn details_json(f: &Facts<'_>, ctx: &NotifyContext) -> Value {
    let mut d = Map::new();
    d.insert("event".into(), json!(f.event.kind.code()));
    d.insert("monitor_id".into(), json!(f.event.monitor_id));
    d.insert("monitor".into(), json!(monitor_name(f.event, ctx)));
    d.insert("url".into(), json!(ctx.url));
    insert_incident_facts(&mut d, f);
    if !f.body.is_empty() && Some(f.body.as_str()) != f.reason {
        d.insert(
            "details".into(),
            json!(fit(&f.body, limits::WEBHOOK_TEXT * 4)),
        );
    }
    if !f.last_verdicts.is_empty() {
        let lv: Vec<Value> = f.last_verdicts.iter().map(summary_json).collect();
        d.insert("last_verdicts".into(), Value::Array(lv));
    }
    if let Some(drift) = f.drift {
        d.insert("drift".into(), drift_json(drift));
    }
    Value::Object(d)
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
    fn fitting_never_cuts_an_escape_and_respects_the_limit() {
        // "a&lt;b&amp;c&gt;d" does not fit 9: cut before "&amp;", not inside it.
        assert_eq!(fit_slack("a<b&c>d", 9), "a&lt;b…");
        assert_eq!(fit_slack("<>", 100), "&lt;&gt;");
        assert_eq!(fit("😀😀😀", 4), "😀…"); // an emoji is two UTF-16 units
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit_discord("*hi* @everyone", 100), "\\*hi\\* \\@everyone");
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("mcprobe:a b/c"), "mcprobe%3Aa%20b%2Fc");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }

    #[test]
    fn long_dedup_keys_are_hashed_and_stable() {
        let long = "m".repeat(300);
        let a = incident_dedup_key(&long, "i-1");
        assert_eq!(a, incident_dedup_key(&long, "i-1"));
        assert_ne!(a, incident_dedup_key(&long, "i-2"));
        assert!(a.starts_with("mcprobe:sha256:"));
        assert!(a.len() <= limits::PAGERDUTY_DEDUP_KEY);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(20_000), "20s");
        assert_eq!(human_duration(300_000), "5m 0s");
        assert_eq!(human_duration(3_720_000), "1h 2m");
        assert_eq!(human_duration(90_000_000), "1d 1h");
    }
}
