//! Start here: what every payload builder says about an event, worked out
//! once. [`facts`] reads a policy [`Event`] into [`Facts`]: a one-line title,
//! a plain-text body, the action (trigger or resolve), the incident's mode,
//! reason, hint and times, the runbook link and the dedup key. Each channel's
//! builder then only lays these out in its own format, so a Slack message and
//! a PagerDuty event of one incident can never disagree.
//!
//! The dedup key (PagerDuty `dedup_key`, Opsgenie `alias`) is the same string
//! for every event of one incident ([`incident_dedup_key`]), so a resolve or
//! an escalation lands on the alert its open created.

use mcprobe_core::fingerprint::{sha256_tag, Drift};
use mcprobe_core::runbook;
use mcprobe_core::time::rfc3339;
use mcprobe_core::verdict::Mode;

use super::channel::{Action, NotifyContext};
use super::limits;
use super::policy::{EscalationCause, Event, EventKind, VerdictSummary};
use super::text::{http_link, human_duration};

/// An event, read for the builders.
pub(super) struct Facts<'a> {
    pub event: &'a Event,
    pub action: Action,
    /// One line, plain text, naming the monitor.
    pub title: String,
    /// The body, plain text (the reason, a list of changes or held events).
    pub body: String,
    pub mode: Option<Mode>,
    pub reason: Option<&'a str>,
    pub hint: Option<&'a str>,
    pub incident_id: Option<&'a str>,
    pub started_at_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    pub dedup_key: String,
    pub runbook_url: Option<String>,
    pub last_verdicts: &'a [VerdictSummary],
    pub drift: Option<&'a Drift>,
    pub items: &'a [Event],
}

impl<'a> Facts<'a> {
    /// The facts every event has; the rest start empty.
    fn base(
        event: &'a Event,
        action: Action,
        title: String,
        body: String,
        dedup_key: String,
    ) -> Facts<'a> {
        Facts {
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
            dedup_key,
            runbook_url: None,
            last_verdicts: &[],
            drift: None,
            items: &[],
        }
    }

    /// The runbook link when it is one a client will open.
    pub fn runbook_link(&self) -> Option<String> {
        self.runbook_url.as_deref().and_then(http_link)
    }

    /// Short label/value pairs every channel shows (values are plain text).
    pub fn fields(&self, ctx: &NotifyContext) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("Monitor", monitor_name(self.event, ctx).to_string()),
            ("Severity", self.severity_label()),
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

    fn severity_label(&self) -> String {
        match self.action {
            Action::Resolve => format!("{} (resolved)", self.event.severity.as_str()),
            Action::Trigger => self.event.severity.as_str().to_string(),
        }
    }
}

/// The name to show: the one people gave the monitor, else its id.
pub(super) fn monitor_name<'a>(event: &'a Event, ctx: &'a NotifyContext) -> &'a str {
    if ctx.monitor_name.trim().is_empty() {
        &event.monitor_id
    } else {
        &ctx.monitor_name
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

fn runbook_for(ctx: &NotifyContext, mode: Option<Mode>) -> Option<String> {
    if let Some(own) = ctx.runbook_url.as_deref().filter(|u| !u.trim().is_empty()) {
        return Some(own.to_string());
    }
    let mode = mode?;
    (!ctx.public_base.trim().is_empty()).then(|| default_runbook_url(&ctx.public_base, mode))
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

/// A bulleted list of at most [`limits::LIST_ITEMS`] lines, saying how many
/// more there were.
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

/// Reads an event for the builders. `depth` is 1 for the items inside a
/// digest, which do not list items of their own.
pub(super) fn facts<'a>(event: &'a Event, ctx: &NotifyContext, depth: u8) -> Facts<'a> {
    let name = monitor_name(event, ctx);
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
            ..Facts::base(
                event,
                Action::Trigger,
                format!(
                    "[{}] {name}: {}",
                    event.severity.as_str(),
                    runbook::runbook(*mode).title
                ),
                reason.clone(),
                dedup_key(&event.monitor_id, id),
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
            ..Facts::base(
                event,
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
                dedup_key(&event.monitor_id, id),
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
        } => Facts {
            mode: Some(*mode),
            reason: Some(reason),
            hint: Some(hint),
            incident_id: Some(id),
            started_at_ms: Some(*started_at_ms),
            last_verdicts,
            ..escalated(event, name, from.as_str(), *cause, *mode, reason, id)
        },
        EventKind::Flapping {
            changes,
            window_ms,
            incident_id,
            mode,
            reason,
        } => Facts {
            mode: *mode,
            reason: reason.as_deref(),
            incident_id: incident_id.as_deref(),
            ..flapping(event, name, *changes, *window_ms, reason.as_deref())
        },
        EventKind::Stable {
            flapping_since_ms,
            quiet_for_ms,
            up,
        } => stable(event, name, *flapping_since_ms, *quiet_for_ms, *up),
        EventKind::DriftDetected { diff } => Facts {
            mode: Some(Mode::SchemaDrift),
            drift: Some(diff),
            ..drift(event, name, diff)
        },
        EventKind::Digest { items, dropped } => digest(event, ctx, name, items, *dropped, depth),
    };
    f.runbook_url = runbook_for(ctx, f.mode);
    f
}

/// An escalation says from which severity and why.
fn escalated<'a>(
    event: &'a Event,
    name: &str,
    from: &str,
    cause: EscalationCause,
    mode: Mode,
    reason: &str,
    id: &str,
) -> Facts<'a> {
    let why = match cause {
        EscalationCause::Unacknowledged => "nobody acknowledged it in time",
        EscalationCause::Worsened => "the failure got worse",
    };
    Facts::base(
        event,
        Action::Trigger,
        format!(
            "[{}] {name}: {} (escalated from {from})",
            event.severity.as_str(),
            runbook::runbook(mode).title,
        ),
        format!("{reason}\nEscalated from {from}: {why}."),
        dedup_key(&event.monitor_id, id),
    )
}

/// Flapping is its own alert (keyed by when it began), not the incident's.
fn flapping<'a>(
    event: &'a Event,
    name: &str,
    changes: u32,
    window_ms: u64,
    reason: Option<&str>,
) -> Facts<'a> {
    let mut body = format!(
        "{changes} pass/fail changes within {}. Further alerts are paused \
         until the monitor is stable again.",
        human_duration(window_ms)
    );
    if let Some(r) = reason {
        body.push_str(&format!("\nLast failure: {r}"));
    }
    Facts::base(
        event,
        Action::Trigger,
        format!("[{}] {name} is flapping", event.severity.as_str()),
        body,
        dedup_key(&event.monitor_id, &format!("flapping-{}", event.at_ms)),
    )
}

/// The end of flapping resolves the flapping alert (same key as its start).
fn stable<'a>(
    event: &'a Event,
    name: &str,
    flapping_since_ms: u64,
    quiet_for_ms: u64,
    up: bool,
) -> Facts<'a> {
    Facts::base(
        event,
        Action::Resolve,
        format!(
            "[Stable] {name}: {} after flapping",
            if up { "passing" } else { "failing" }
        ),
        format!(
            "No pass/fail change for {} (flapping since {}).",
            human_duration(quiet_for_ms),
            rfc3339(flapping_since_ms)
        ),
        dedup_key(&event.monitor_id, &format!("flapping-{flapping_since_ms}")),
    )
}

/// A drift lists its changes, once per new tool-list hash.
fn drift<'a>(event: &'a Event, name: &str, diff: &Drift) -> Facts<'a> {
    Facts::base(
        event,
        Action::Trigger,
        format!(
            "[{}] {name}: tool list changed{}",
            event.severity.as_str(),
            if diff.breaking { " (breaking)" } else { "" }
        ),
        list(
            diff.changes.iter().map(|c| c.to_string()),
            diff.changes.len(),
        ),
        dedup_key(&event.monitor_id, &format!("drift-{}", diff.to_hash)),
    )
}

/// A digest lists the titles of what quiet hours held (one level deep).
fn digest<'a>(
    event: &'a Event,
    ctx: &NotifyContext,
    name: &str,
    items: &'a [Event],
    dropped: u32,
    depth: u8,
) -> Facts<'a> {
    let total = items.len() + dropped as usize;
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
        ..Facts::base(
            event,
            Action::Trigger,
            format!("[Digest] {name}: {total} held during quiet hours"),
            lines,
            dedup_key(&event.monitor_id, &format!("digest-{}", event.at_ms)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_dedup_keys_are_hashed_and_stable() {
        let long = "m".repeat(300);
        let a = incident_dedup_key(&long, "i-1");
        assert_eq!(a, incident_dedup_key(&long, "i-1"));
        assert_ne!(a, incident_dedup_key(&long, "i-2"));
        assert!(a.starts_with("mcprobe:sha256:"));
        assert!(a.len() <= limits::PAGERDUTY_DEDUP_KEY);
    }
}
