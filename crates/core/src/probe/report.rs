//! Start here: what a probe gathers on its way (steps, findings, what the server
//! said about itself) and how that becomes the one [`Verdict`].

use crate::fingerprint::{Drift, Snapshot};
use crate::runbook;
use crate::validate::Violation;
use crate::verdict::{Era, Finding, Mode, ServerInfo, Step, ToolsSummary, Transport, Verdict};

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
}

impl Report {
    pub fn step(&mut self, name: impl Into<String>, ok: bool, ms: u64, detail: impl Into<String>) {
        self.steps.push(Step {
            name: name.into(),
            ok,
            ms,
            detail: detail.into(),
        });
    }

    pub fn finding(&mut self, mode: Mode, detail: impl Into<String>) {
        self.findings.push(Finding {
            mode,
            detail: detail.into(),
            pointer: None,
            rule: None,
        });
    }

    pub fn violations(&mut self, what: &str, violations: Vec<Violation>) {
        for v in violations {
            self.findings.push(Finding {
                mode: Mode::MalformedJsonrpc,
                detail: format!("{what}: {}", v.detail),
                pointer: Some(v.pointer),
                rule: Some(v.rule),
            });
        }
    }

    /// Records the first hard failure; later ones are ignored (the ladder's mode
    /// is the first layer that failed).
    pub fn fail(&mut self, mode: Mode, reason: impl Into<String>) {
        if self.failure.is_none() {
            self.failure = Some(Failure {
                mode,
                reason: reason.into(),
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
        for s in slow {
            self.finding(Mode::SlowStep, s);
        }
        let malformed = self
            .findings
            .iter()
            .filter(|f| f.mode == Mode::MalformedJsonrpc)
            .count();
        let drift_changed = self.drift.as_ref().is_some_and(|d| !d.changes.is_empty());
        if drift_changed {
            let d = self.drift.as_ref().map(|d| (d.breaking, d.changes.len()));
            if let Some((breaking, n)) = d {
                self.finding(
                    Mode::SchemaDrift,
                    format!(
                        "{n} change(s) against the baseline, {}",
                        if breaking { "breaking" } else { "not breaking" }
                    ),
                );
            }
        }
        let breaking = self.drift.as_ref().is_some_and(|d| d.breaking);
        let mut hint = None;
        let (mode, reason, alternate_url) = if let Some(f) = self.failure.take() {
            hint = f.hint;
            (f.mode, f.reason, f.alternate_url)
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
            )
        } else if let Some(reason) = self.auth_required_reason.take() {
            (Mode::AuthRequired, reason, None)
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
            )
        };
        let (status, severity) = mode.status_severity(breaking);
        let tools = self.snapshot.as_ref().map(|s| ToolsSummary {
            count: s.tools.len(),
            hash: s.hash.clone(),
            names: self.tool_names.clone(),
        });
        Verdict {
            url: url.to_string(),
            status,
            mode,
            severity,
            reason: ensure_sentence(reason),
            hint: hint.unwrap_or_else(|| runbook::hint(mode).to_string()),
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
}

fn ensure_sentence(mut s: String) -> String {
    let trimmed = s.trim_end().to_string();
    s = trimmed;
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}
