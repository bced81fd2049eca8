//! Start here: what a probe gathers on its way (steps, findings, what the server
//! said about itself) and how that becomes the one [`Verdict`].

use crate::fingerprint::{Change, Drift, Snapshot};
use crate::runbook;
use crate::validate::Violation;
use crate::verdict::{
    cut_in_place, cut_text, Era, Finding, Mode, ServerInfo, Step, ToolsSummary, Transport, Verdict,
    MAX_DETAIL_CHARS, MAX_DRIFT_CHANGES, MAX_FINDINGS, MAX_NAME_CHARS, MAX_POINTER_CHARS,
    MAX_REASON_CHARS, MAX_TOOL_NAMES,
};

/// A hard stop on the ladder: the mode, why, and (route_moved) where.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub mode: Mode,
    pub reason: String,
    pub alternate_url: Option<String>,
    /// A first step narrower than the mode's runbook hint (an API key, not a
    /// Bearer token; the allowed-hosts setting, not a curl replay).
    pub hint: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Report {
    pub steps: Vec<Step>,
    pub findings: Vec<Finding>,
    pub failure: Option<Failure>,
    pub era: Option<Era>,
    pub transport: Option<Transport>,
    pub protocol_version: Option<String>,
    pub server: Option<ServerInfo>,
    pub snapshot: Option<Snapshot>,
    pub tool_names: Vec<String>,
    pub drift: Option<Drift>,
    /// An OAuth challenge that makes the verdict `auth_required` without a
    /// failure (tool calls need advertised credentials).
    pub auth_required_reason: Option<String>,
    /// The step whose time includes a stdio child's start-up: not the
    /// server's latency, so never a `slow_step`.
    pub startup_step: Option<usize>,
    /// Findings past [`MAX_FINDINGS`], counted, not kept.
    pub findings_dropped: usize,
    /// How many of those were spec violations (the reason counts them all).
    pub malformed_dropped: usize,
    /// Body bytes of every `tools/list` answer so far (the cross-page budget).
    pub tool_list_bytes: usize,
    /// JSON values parsed out of every `tools/list` answer so far.
    pub tool_list_values: usize,
    /// Values of the legacy-stream messages held for a later request.
    pub stream_inbox_values: usize,
    /// Origins the caller's headers were held back from (one finding each).
    pub held_back_from: Vec<String>,
}

impl Report {
    pub fn step(&mut self, name: impl Into<String>, ok: bool, ms: u64, detail: impl Into<String>) {
        let mut detail = detail.into();
        cut_in_place(&mut detail, MAX_DETAIL_CHARS);
        self.steps.push(Step {
            name: name.into(),
            ok,
            ms,
            detail,
        });
    }

    pub fn finding(&mut self, mode: Mode, detail: impl Into<String>) {
        self.keep_finding(Finding {
            mode,
            detail: detail.into(),
            pointer: None,
            rule: None,
        });
    }

    /// Spec violations of one answer as `malformed_jsonrpc` findings; `more`
    /// counts the violations the validator found but did not keep.
    pub fn violations(&mut self, what: &str, violations: Vec<Violation>, more: usize) {
        for v in violations {
            self.keep_finding(Finding {
                mode: Mode::MalformedJsonrpc,
                detail: format!("{what}: {}", v.detail),
                pointer: Some(v.pointer),
                rule: Some(v.rule),
            });
        }
        self.findings_dropped += more;
        self.malformed_dropped += more;
    }

    /// Keeps a finding (its text capped) while there is room, else counts it.
    fn keep_finding(&mut self, mut finding: Finding) {
        if self.findings.len() >= MAX_FINDINGS {
            self.findings_dropped += 1;
            if finding.mode == Mode::MalformedJsonrpc {
                self.malformed_dropped += 1;
            }
            return;
        }
        cut_in_place(&mut finding.detail, MAX_DETAIL_CHARS);
        if let Some(p) = finding.pointer.as_mut() {
            cut_in_place(p, MAX_POINTER_CHARS);
        }
        self.findings.push(finding);
    }

    /// Records the first hard failure; later ones are ignored (the ladder's mode
    /// is the first layer that failed).
    pub fn fail(&mut self, mode: Mode, reason: impl Into<String>) {
        if self.failure.is_none() {
            let mut reason = reason.into();
            cut_in_place(&mut reason, MAX_REASON_CHARS);
            self.failure = Some(Failure {
                mode,
                reason,
                alternate_url: None,
                hint: None,
            });
        }
    }

    /// [`Report::fail`] with a hint of its own in place of the mode's.
    pub fn fail_hinted(&mut self, mode: Mode, reason: impl Into<String>, hint: impl Into<String>) {
        if self.failure.is_none() {
            self.fail(mode, reason);
            if let Some(f) = self.failure.as_mut() {
                f.hint = Some(hint.into());
            }
        }
    }

    /// Assembles the verdict. `deadline_ms` is the probe's whole budget, for
    /// the `slow_step` finding.
    pub fn into_verdict(
        mut self,
        url: &str,
        checked_at: &str,
        elapsed_ms: u64,
        timeout_ms: u64,
    ) -> Verdict {
        self.note_slow_steps(timeout_ms);
        let malformed = self
            .findings
            .iter()
            .filter(|f| f.mode == Mode::MalformedJsonrpc)
            .count()
            + self.malformed_dropped;
        let drift_changed = self.note_drift();
        let breaking = self.drift.as_ref().is_some_and(|d| d.breaking);
        let Failure {
            mode,
            reason,
            alternate_url,
            hint,
        } = self.conclusion(malformed, drift_changed, breaking);
        let (status, severity) = mode.status_severity(breaking);
        self.note_dropped_findings();
        let names = self
            .tool_names
            .iter()
            .take(MAX_TOOL_NAMES)
            .map(|n| cut_text(n, MAX_NAME_CHARS))
            .collect();
        let tools = self.snapshot.as_ref().map(|s| ToolsSummary {
            count: s.tools.len(),
            hash: s.hash.clone(),
            names,
        });
        if let Some(server) = self.server.as_mut() {
            cut_in_place(&mut server.name, MAX_NAME_CHARS);
            cut_in_place(&mut server.version, MAX_NAME_CHARS);
        }
        if let Some(drift) = self.drift.as_mut() {
            drift.changes.truncate(MAX_DRIFT_CHANGES);
            drift.changes.iter_mut().for_each(cut_change);
        }
        let mut reason = ensure_sentence(reason);
        cut_in_place(&mut reason, MAX_REASON_CHARS);
        // A situation hint may quote the server (an error_description): same cap.
        let mut hint = hint.unwrap_or_else(|| runbook::hint(mode).to_string());
        cut_in_place(&mut hint, MAX_REASON_CHARS);
        Verdict {
            url: url.to_string(),
            status,
            mode,
            severity,
            reason,
            hint,
            alternate_url,
            era: self.era,
            transport: self.transport,
            protocol_version: self.protocol_version,
            server: self.server,
            tools,
            drift: self.drift,
            steps: self.steps,
            findings: self.findings,
            checked_at: checked_at.to_string(),
            elapsed_ms,
        }
    }

    /// A `slow_step` finding for each step (but the stdio start-up) that took
    /// over a tenth of the deadline.
    fn note_slow_steps(&mut self, timeout_ms: u64) {
        let slow_after = timeout_ms / 10;
        let slow: Vec<String> = self
            .steps
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != self.startup_step)
            .map(|(_, s)| s)
            .filter(|s| s.ok && slow_after > 0 && s.ms > slow_after)
            .map(|s| {
                format!(
                    "{} took {} ms (over a tenth of the {} ms deadline)",
                    s.name, s.ms, timeout_ms
                )
            })
            .collect();
        // Pushed past the cap: one per step at most, and worth seeing.
        for detail in slow {
            self.findings.push(Finding {
                mode: Mode::SlowStep,
                detail,
                pointer: None,
                rule: None,
            });
        }
    }

    /// A `schema_drift` finding when the tool list changed; whether it did.
    fn note_drift(&mut self) -> bool {
        let drift_changed = self.drift.as_ref().is_some_and(|d| !d.changes.is_empty());
        if drift_changed {
            let d = self.drift.as_ref().map(|d| (d.breaking, d.changes.len()));
            if let Some((breaking, n)) = d {
                self.findings.push(Finding {
                    mode: Mode::SchemaDrift,
                    detail: format!(
                        "{n} change(s) against the baseline, {}",
                        if breaking { "breaking" } else { "not breaking" }
                    ),
                    pointer: None,
                    rule: None,
                });
            }
        }
        drift_changed
    }

    /// The verdict's mode, reason, alternate URL and situation hint: the
    /// failure if the climb failed, else the worst finding that decides a
    /// mode (spec violations, auth required, drift), else ok.
    fn conclusion(&mut self, malformed: usize, drift_changed: bool, breaking: bool) -> Failure {
        let (mode, reason, alternate_url, hint) = if let Some(f) = self.failure.take() {
            (f.mode, f.reason, f.alternate_url, f.hint)
        } else if malformed > 0 {
            let first = self
                .findings
                .iter()
                .find(|f| f.mode == Mode::MalformedJsonrpc)
                .map(|f| f.detail.clone())
                .unwrap_or_default();
            (
                Mode::MalformedJsonrpc,
                format!(
                    "The server answers, but {malformed} part(s) of its answers break the spec; first: {first}."
                ),
                None,
                None,
            )
        } else if let Some(reason) = self.auth_required_reason.take() {
            (Mode::AuthRequired, reason, None, None)
        } else if drift_changed {
            let d = self.drift.as_ref();
            let n = d.map(|d| d.changes.len()).unwrap_or(0);
            (
                Mode::SchemaDrift,
                format!(
                    "The tool list changed since the baseline: {n} change(s), {}.",
                    if breaking {
                        "some of them breaking for existing clients"
                    } else {
                        "none breaking"
                    }
                ),
                None,
                None,
            )
        } else {
            let tools = self
                .snapshot
                .as_ref()
                .map(|s| format!(", {} tool(s)", s.tools.len()))
                .unwrap_or_default();
            let era = match (self.era, &self.protocol_version) {
                (Some(Era::Modern), Some(v)) => format!("modern MCP {v}"),
                (Some(Era::Legacy), Some(v)) => format!("legacy MCP {v}"),
                _ => "MCP".into(),
            };
            (
                Mode::Ok,
                format!("The server answers {era} correctly{tools}."),
                None,
                None,
            )
        };
        Failure {
            mode,
            reason,
            alternate_url,
            hint,
        }
    }

    /// One last finding counting the findings past the cap.
    fn note_dropped_findings(&mut self) {
        if self.findings_dropped > 0 {
            let n = self.findings_dropped;
            self.findings.push(Finding {
                mode: if self.malformed_dropped > 0 {
                    Mode::MalformedJsonrpc
                } else {
                    Mode::SpecShould
                },
                detail: format!(
                    "… and {} more finding(s) ({} of them spec violations), not kept: a verdict keeps the first {MAX_FINDINGS}",
                    thousands(n),
                    thousands(self.malformed_dropped)
                ),
                pointer: None,
                rule: None,
            });
        }
    }
}

/// Caps the server's names and words inside one drift change.
fn cut_change(change: &mut Change) {
    let texts: Vec<&mut String> = match change {
        Change::ToolAdded { tool } | Change::ToolRemoved { tool } => vec![tool],
        Change::ParamAdded { tool, param, .. }
        | Change::ParamRemoved { tool, param }
        | Change::RequiredAdded { tool, param }
        | Change::RequiredRemoved { tool, param } => vec![tool, param],
        Change::ParamRetyped {
            tool,
            param,
            from,
            to,
        } => vec![tool, param, from, to],
        Change::ToolChanged { tool, detail } => {
            cut_in_place(detail, MAX_DETAIL_CHARS);
            vec![tool]
        }
    };
    for text in texts {
        cut_in_place(text, MAX_NAME_CHARS);
    }
}

/// `2799873` as `2,799,873`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ensure_sentence(mut s: String) -> String {
    let trimmed = s.trim_end().to_string();
    s = trimmed;
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}
