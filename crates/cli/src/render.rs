//! Start here: how `mcprobe check` prints a verdict, for people
//! ([`render_human`]) and for machines ([`render_json`]).
//!
//! Pure functions from a [`Verdict`] to text, so the output is pinned by golden
//! tests (`tests/render_golden.rs`, refreshed with `UPDATE_GOLDEN=1`). Every
//! string that came from the probed server (details, reasons, names, tool
//! names) is printed through [`clean`], so a hostile server cannot move the
//! cursor, recolour or clear the terminal: with `color = false` the output has
//! no escape byte at all. Request headers (tokens) never reach a verdict, so
//! they cannot be printed here.

use std::borrow::Cow;
use std::fmt::Write as _;

use mcprobe_core::verdict::{Era, Finding, Status, Step, Transport};
use mcprobe_core::Verdict;

/// The verdict as pretty JSON with a trailing newline: the `--json` contract of
/// `failure-modes.md`, field for field.
pub fn render_json(v: &Verdict) -> String {
    match serde_json::to_string_pretty(v) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // Unreachable for this type (every map key is a string), but a printer
        // must never panic: say what failed, as JSON.
        Err(err) => format!(
            "{}\n",
            serde_json::json!({ "error": format!("could not serialize the verdict: {err}") })
        ),
    }
}

/// The verdict for a terminal: header, ladder, verdict line and its evidence,
/// drift, findings, total time. `color` adds ANSI colours (green up, yellow
/// degraded, red down, dim details); without it the text is plain.
pub fn render_human(v: &Verdict, color: bool) -> String {
    let p = Paint { color };
    let mut out = String::new();

    // Writing to a String cannot fail, hence the ignored fmt::Results below.
    let _ = writeln!(out, "mcprobe check {}", p.bold(&clean(&v.url)));
    render_steps(&mut out, &p, &v.steps);
    out.push('\n');

    let status_color = match v.status {
        Status::Up => GREEN,
        Status::Degraded => YELLOW,
        Status::Down => RED,
    };
    let headline = format!(
        "{}  {} ({})",
        v.status.as_str().to_uppercase(),
        v.mode.as_str(),
        v.severity.as_str()
    );
    let _ = writeln!(out, "{}", p.paint(status_color, &p.bold(&headline)));

    let mut field = |label: &str, value: &str| {
        let _ = writeln!(out, "  {:<10} {}", format!("{label}:"), value);
    };
    if !v.reason.is_empty() {
        field("reason", &clean(&v.reason));
    }
    if !v.hint.is_empty() {
        field("hint", &p.dim(&clean(&v.hint)));
    }
    if let Some(alternate) = &v.alternate_url {
        field("alternate", &clean(alternate));
    }
    let mut protocol = Vec::new();
    if let Some(era) = v.era {
        protocol.push(era_label(era).to_owned());
    }
    if let Some(transport) = v.transport {
        protocol.push(transport_label(transport).to_owned());
    }
    if let Some(version) = &v.protocol_version {
        protocol.push(format!("revision {}", clean(version)));
    }
    if !protocol.is_empty() {
        field("protocol", &protocol.join(", "));
    }
    if let Some(server) = &v.server {
        let text = if server.version.is_empty() {
            clean(&server.name).into_owned()
        } else {
            format!("{} {}", clean(&server.name), clean(&server.version))
        };
        field("server", &text);
    }
    if let Some(tools) = &v.tools {
        let noun = if tools.count == 1 { "tool" } else { "tools" };
        field(
            "tools",
            &format!("{} {noun}  {}", tools.count, p.dim(&clean(&tools.hash))),
        );
    }

    if let Some(drift) = &v.drift {
        let noun = if drift.changes.len() == 1 {
            "change"
        } else {
            "changes"
        };
        let judgement = if drift.breaking {
            p.paint(RED, "breaking")
        } else {
            "not breaking".to_owned()
        };
        let _ = writeln!(
            out,
            "\ndrift: {} {noun}, {judgement}  {}",
            drift.changes.len(),
            p.dim(&format!(
                "{} -> {}",
                clean(&drift.from_hash),
                clean(&drift.to_hash)
            ))
        );
        for change in &drift.changes {
            let line = clean(&change.to_string()).into_owned();
            if change.is_breaking() {
                let _ = writeln!(
                    out,
                    "  {} {line} {}",
                    p.paint(RED, "!"),
                    p.paint(RED, "(breaking)")
                );
            } else {
                let _ = writeln!(out, "  - {line}");
            }
        }
    }

    if !v.findings.is_empty() {
        let _ = writeln!(out, "\nfindings:");
        for finding in &v.findings {
            let _ = writeln!(out, "  {}", finding_line(&p, finding));
        }
    }

    let _ = writeln!(out, "\ntotal {} ms", v.elapsed_ms);
    out
}

/// One line per step: mark, name padded to the longest, ms right-aligned.
fn render_steps(out: &mut String, p: &Paint, steps: &[Step]) {
    let names: Vec<Cow<'_, str>> = steps.iter().map(|s| clean(&s.name)).collect();
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let ms_width = steps
        .iter()
        .map(|s| s.ms.to_string().len())
        .max()
        .unwrap_or(0);
    for (step, name) in steps.iter().zip(&names) {
        let mark = if step.ok {
            p.paint(GREEN, "✓")
        } else {
            p.paint(RED, "✗")
        };
        let pad = name_width - name.chars().count();
        let mut line = format!(
            "  {mark} {name}{:pad$}  {:>ms_width$} ms",
            "",
            step.ms,
            pad = pad
        );
        if !step.detail.is_empty() {
            line.push_str("  ");
            line.push_str(&p.dim(&clean(&step.detail)));
        }
        out.push_str(&line);
        out.push('\n');
    }
}

/// `- [mode] detail (at /pointer, rule r)`.
fn finding_line(p: &Paint, f: &Finding) -> String {
    let mut line = format!(
        "- [{}] {}",
        p.paint(YELLOW, f.mode.as_str()),
        clean(&f.detail)
    );
    let mut place = Vec::new();
    match f.pointer.as_deref() {
        // The empty JSON pointer is the whole document.
        Some("") => place.push("at the root".to_owned()),
        Some(pointer) => place.push(format!("at {}", clean(pointer))),
        None => {}
    }
    if let Some(rule) = &f.rule {
        place.push(format!("rule {}", clean(rule)));
    }
    if !place.is_empty() {
        line.push(' ');
        line.push_str(&p.dim(&format!("({})", place.join(", "))));
    }
    line
}

fn era_label(era: Era) -> &'static str {
    match era {
        Era::Modern => "modern",
        Era::Legacy => "legacy",
    }
}

fn transport_label(t: Transport) -> &'static str {
    match t {
        Transport::StreamableHttp => "streamable-http",
        Transport::Sse => "sse",
        Transport::Stdio => "stdio",
    }
}

/// Makes server-provided text safe for one terminal line: control characters
/// (C0 including ESC, CR and LF, DEL, C1 such as the one-byte CSI `U+009B`),
/// the bidirectional overrides, isolates and marks that can disguise text, and
/// the Unicode line and paragraph separators are shown escaped (`\u{1b}`,
/// `\n`) instead of acting. Every place where text from a server, a registry
/// or a webhook receiver reaches a terminal goes through this one function
/// (`check`, `scan`'s stderr, `watch`'s log and `--status`).
pub fn clean(s: &str) -> Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(
                c,
                '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{061c}'
                    | '\u{2028}'
                    | '\u{2029}'
            )
    }
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Wraps text in ANSI codes when colour is on, and leaves it alone otherwise.
struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    fn dim(&self, text: &str) -> String {
        self.paint(DIM, text)
    }

    fn bold(&self, text: &str) -> String {
        self.paint(BOLD, text)
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn terminal_controls_are_shown_not_obeyed() {
        for (raw, shown) in [
            ("\u{1b}[2J\u{1b}[H", "\\u{1b}[2J\\u{1b}[H"), // clear screen, home
            ("\u{1b}]0;pwned\u{7}", "\\u{1b}]0;pwned\\u{7}"), // window title (OSC)
            ("\u{9b}2J", "\\u{9b}2J"),                    // C1 CSI, one byte
            ("\u{85}next", "\\u{85}next"),                // C1 NEL
            ("a\r\nb\tc", "a\\r\\nb\\tc"),
            ("\u{7f}", "\\u{7f}"),
            ("ok \u{202e}gnp.exe", "ok \\u{202e}gnp.exe"), // right-to-left override
            ("\u{2066}x\u{2069}", "\\u{2066}x\\u{2069}"),  // isolates
            ("\u{200f}\u{61c}", "\\u{200f}\\u{61c}"),      // marks
            ("line\u{2028}break", "line\\u{2028}break"),
        ] {
            assert_eq!(clean(raw), shown, "{raw:?}");
        }
        // Plain text, accents and emoji are left alone and not copied.
        let plain = "Überprüfung ✓ 東京 🚀";
        assert!(matches!(clean(plain), std::borrow::Cow::Borrowed(_)));
    }
}
