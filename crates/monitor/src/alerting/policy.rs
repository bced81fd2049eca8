//! Start here: the alerting policy, a pure per-monitor state machine.
//!
//! The host (the Worker's cron, the CLI's `watch`) feeds it every probe's verdict
//! with [`Policy::observe`] and the passing of time with [`Policy::tick`]; it
//! answers with [`Event`]s to deliver and, through [`Policy::next_reprobe_at`],
//! when to probe again quickly. It never reads a clock (every call takes
//! `now_ms`, milliseconds since the Unix epoch, UTC) and does no I/O, so the same
//! rules run in workerd, in a native daemon and in tests with a fake clock, and
//! its whole state is serde data the host persists between invocations.
//!
//! The rules, from our on-call practice and the verdict contract's severity
//! routing (README, "The verdict contract"):
//!
//! - Confirmation: a first failing probe schedules fast re-probes (+10 s, +20 s);
//!   an incident opens after 3 consecutive failing probes, re-probes counting, so
//!   a hard outage is confirmed 20 s after its first failing probe while a cold
//!   start that answers again within seconds opens nothing.
//! - Recovery: an open incident resolves after 2 consecutive passing probes.
//! - Flapping: 5 pass/fail changes within 30 minutes give ONE `flapping` event;
//!   then opens and resolves are silenced until nothing has changed for 15
//!   minutes (a `stable` event), after which the incident state is reconciled.
//! - Maintenance windows: probing goes on and the streaks are kept, but nothing
//!   opens or resolves inside a window; what is still failing when it ends opens
//!   then, what recovered inside it resolves then.
//! - Severity comes from the failing verdict's mode. A P2 nobody acknowledges
//!   within 30 minutes of being announced escalates to P1; an incident whose
//!   failures get worse (a P2 handshake failure turning into a P1 refused
//!   connection) escalates at once unless someone already acknowledged it.
//! - Quiet hours (a UTC hour range per monitor) hold P2 and P3 events for one
//!   `digest` event when they end; P1 is never held. A held P2 is not escalated
//!   during quiet hours: its 30 minutes start when the digest announces it.
//! - Schema drift is its own P3 event carrying the diff, once per new tool-list
//!   hash (every later probe against the same stale baseline repeats the diff).
//!
//! "Pass" and "fail" are the verdict's status: `up` passes (so do `auth_required`
//! and a non-breaking drift), `degraded` and `down` fail, except that a verdict
//! whose mode is `schema_drift` is a drift, never an outage.
//!
//! Every rule is evaluated level-triggered (from the state, at each call), not
//! on the edge of one observation, so a tick at the end of a window or of quiet
//! hours does the right thing whether or not a probe arrives at that moment.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use mcprobe_core::fingerprint::Drift;
use mcprobe_core::runbook;
use mcprobe_core::verdict::{Mode, Severity, Status, Verdict};

/// Milliseconds in a second, a minute, an hour and a day (for configs and tests).
pub const SECOND_MS: u64 = 1_000;
pub const MINUTE_MS: u64 = 60 * SECOND_MS;
pub const HOUR_MS: u64 = 60 * MINUTE_MS;
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// Longest reason kept in state and events: reasons can quote what a server
/// answered, and the state is persisted on every probe, so it stays bounded.
pub const MAX_REASON_CHARS: usize = 512;
/// At most this many held events wait for a digest (the state is persisted on
/// every probe, so it stays small); later ones are only counted.
pub const MAX_HELD: usize = 50;
/// Upper bound on `keep_last_verdicts`, whatever the config says.
pub const MAX_KEEP_LAST: usize = 20;
/// Upper bound on remembered state changes (the flapping window prunes them
/// anyway; this only guards against a clock that runs backwards).
const MAX_CHANGES: usize = 256;
/// Upper bound on fast re-probes per failure.
const MAX_REPROBES: usize = 10;

/// A planned window, `[start_ms, end_ms)`, in which alerts are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub start_ms: u64,
    pub end_ms: u64,
}

impl MaintenanceWindow {
    pub fn contains(&self, now_ms: u64) -> bool {
        self.start_ms <= now_ms && now_ms < self.end_ms
    }
}

/// Quiet hours in UTC: `[start_hour, end_hour)`, wrapping midnight when
/// `start_hour > end_hour` (22 to 7 is the night). Equal hours mean none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub start_hour: u8,
    pub end_hour: u8,
}

impl QuietHours {
    fn hours(&self) -> (u64, u64) {
        // Out-of-range hours from a hand-edited config wrap instead of panicking.
        (
            u64::from(self.start_hour) % 24,
            u64::from(self.end_hour) % 24,
        )
    }

    /// Whether `now_ms` falls inside the quiet hours.
    pub fn contains(&self, now_ms: u64) -> bool {
        let (start, end) = self.hours();
        let hour = (now_ms / HOUR_MS) % 24;
        match start.cmp(&end) {
            std::cmp::Ordering::Less => start <= hour && hour < end,
            std::cmp::Ordering::Greater => hour >= start || hour < end,
            std::cmp::Ordering::Equal => false,
        }
    }

    /// The latest end of quiet hours at or before `now_ms`, if there are any.
    pub fn last_end(&self, now_ms: u64) -> Option<u64> {
        let (start, end) = self.hours();
        if start == end {
            return None;
        }
        let today_end = (now_ms - now_ms % DAY_MS).saturating_add(end * HOUR_MS);
        Some(if today_end > now_ms {
            today_end.saturating_sub(DAY_MS)
        } else {
            today_end
        })
    }
}

/// Per-monitor policy settings; `PolicyConfig::new(id)` gives the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyConfig {
    /// The monitor's id: part of every incident id and dedup key.
    pub monitor_id: String,
    /// Fast re-probes after a first failing probe, as offsets from it.
    pub reprobe_after_ms: Vec<u64>,
    /// Consecutive failing probes (re-probes included) that open an incident.
    pub confirm_failures: u32,
    /// Consecutive passing probes that resolve one.
    pub recover_passes: u32,
    /// State changes within `flap_window_ms` that make a monitor flapping.
    pub flap_changes: u32,
    pub flap_window_ms: u64,
    /// How long without a state change ends flapping.
    pub stable_after_ms: u64,
    /// Severity of the flapping / stable events.
    pub flapping_severity: Severity,
    /// An unacknowledged P2 escalates to P1 this long after it was announced;
    /// `None` never escalates.
    pub escalate_after_ms: Option<u64>,
    pub maintenance: Vec<MaintenanceWindow>,
    pub quiet_hours: Option<QuietHours>,
    /// How many recent verdicts an incident event carries (capped at
    /// [`MAX_KEEP_LAST`]).
    pub keep_last_verdicts: usize,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            monitor_id: String::new(),
            reprobe_after_ms: vec![10 * SECOND_MS, 20 * SECOND_MS],
            confirm_failures: 3,
            recover_passes: 2,
            flap_changes: 5,
            flap_window_ms: 30 * MINUTE_MS,
            stable_after_ms: 15 * MINUTE_MS,
            flapping_severity: Severity::P2,
            escalate_after_ms: Some(30 * MINUTE_MS),
            maintenance: Vec::new(),
            quiet_hours: None,
            keep_last_verdicts: 5,
        }
    }
}

impl PolicyConfig {
    /// The defaults for one monitor.
    pub fn new(monitor_id: impl Into<String>) -> Self {
        PolicyConfig {
            monitor_id: monitor_id.into(),
            ..PolicyConfig::default()
        }
    }

    pub fn in_maintenance(&self, now_ms: u64) -> bool {
        self.maintenance.iter().any(|w| w.contains(now_ms))
    }

    pub fn in_quiet_hours(&self, now_ms: u64) -> bool {
        self.quiet_hours.is_some_and(|q| q.contains(now_ms))
    }

    // Zero thresholds from a bad config would open on a pass or never resolve:
    // treat them as one.
    fn confirm(&self) -> u32 {
        self.confirm_failures.max(1)
    }

    fn recover(&self) -> u32 {
        self.recover_passes.max(1)
    }

    fn flap_threshold(&self) -> usize {
        self.flap_changes.max(1) as usize
    }

    fn keep_last(&self) -> usize {
        self.keep_last_verdicts.min(MAX_KEEP_LAST)
    }
}

/// What the policy needs of one probe's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub status: Status,
    pub mode: Mode,
    pub severity: Severity,
    pub reason: String,
    pub hint: String,
    #[serde(default)]
    pub elapsed_ms: u64,
    /// The verdict's drift against the baseline, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
}

impl Observation {
    pub fn from_verdict(v: &Verdict) -> Self {
        Observation {
            status: v.status,
            mode: v.mode,
            severity: v.severity,
            reason: v.reason.clone(),
            hint: v.hint.clone(),
            elapsed_ms: v.elapsed_ms,
            drift: v.drift.clone(),
        }
    }

    /// An observation of `mode` with the contract's status and severity and the
    /// runbook's hint (what a probe would report), for hosts and tests.
    pub fn of(mode: Mode, reason: impl Into<String>) -> Self {
        let (status, severity) = mode.status_severity(false);
        Observation {
            status,
            mode,
            severity,
            reason: reason.into(),
            hint: runbook::hint(mode).to_string(),
            elapsed_ms: 0,
            drift: None,
        }
    }

    /// A passing probe.
    pub fn ok() -> Self {
        Observation::of(Mode::Ok, "Every step passed.")
    }

    pub fn with_drift(mut self, drift: Drift) -> Self {
        self.drift = Some(drift);
        self
    }

    /// Whether this probe counts as a failure for incidents (see the module note).
    pub fn is_failing(&self) -> bool {
        self.status != Status::Up && self.mode != Mode::SchemaDrift
    }

    /// The severity of this failure: the verdict's, or P3 if a failing verdict
    /// claims none (the contract has no such row, but stored data can be odd).
    fn failure_severity(&self) -> Severity {
        match self.severity {
            Severity::None => Severity::P3,
            s => s,
        }
    }
}

/// A compact record of one probe, carried by incident events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictSummary {
    pub at_ms: u64,
    pub status: Status,
    pub mode: Mode,
    pub severity: Severity,
    pub reason: String,
    pub elapsed_ms: u64,
}

impl VerdictSummary {
    fn of(obs: &Observation, at_ms: u64) -> Self {
        VerdictSummary {
            at_ms,
            status: obs.status,
            mode: obs.mode,
            severity: obs.severity,
            reason: clip(&obs.reason, MAX_REASON_CHARS),
            elapsed_ms: obs.elapsed_ms,
        }
    }
}

/// Why an incident was escalated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationCause {
    /// A P2 nobody acknowledged in time.
    Unacknowledged,
    /// The failures got more severe than the incident was opened with.
    Worsened,
}

/// One thing to tell people, at `at_ms`, with the severity routing goes by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at_ms: u64,
    pub monitor_id: String,
    pub severity: Severity,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened; serialised with an `event` tag (`incident_opened`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A confirmed failure. `started_at_ms` is its first failing probe.
    IncidentOpened {
        id: String,
        mode: Mode,
        reason: String,
        hint: String,
        started_at_ms: u64,
        last_verdicts: Vec<VerdictSummary>,
    },
    /// A confirmed recovery. `ended_at_ms` is the first passing probe of the
    /// recovery, `duration_ms` runs from the first failing probe to it.
    IncidentResolved {
        id: String,
        mode: Mode,
        started_at_ms: u64,
        ended_at_ms: u64,
        duration_ms: u64,
    },
    /// The monitor changed state `changes` times within `window_ms`: one alert,
    /// then silence until [`EventKind::Stable`].
    Flapping {
        changes: u32,
        window_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<Mode>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// No state change for `quiet_for_ms`: flapping is over; `up` says how it
    /// settled.
    Stable {
        flapping_since_ms: u64,
        quiet_for_ms: u64,
        up: bool,
    },
    /// An incident raised to the event's severity.
    Escalated {
        id: String,
        from: Severity,
        cause: EscalationCause,
        mode: Mode,
        reason: String,
        hint: String,
        started_at_ms: u64,
        last_verdicts: Vec<VerdictSummary>,
    },
    /// The tool list changed against the baseline.
    DriftDetected { diff: Drift },
    /// What quiet hours held, in the order it happened; `dropped` counts what
    /// did not fit in [`MAX_HELD`].
    Digest {
        items: Vec<Event>,
        #[serde(default)]
        dropped: u32,
    },
}

impl EventKind {
    /// The stable code of the event, as in its JSON `event` tag.
    pub fn code(&self) -> &'static str {
        match self {
            EventKind::IncidentOpened { .. } => "incident_opened",
            EventKind::IncidentResolved { .. } => "incident_resolved",
            EventKind::Flapping { .. } => "flapping",
            EventKind::Stable { .. } => "stable",
            EventKind::Escalated { .. } => "escalated",
            EventKind::DriftDetected { .. } => "drift_detected",
            EventKind::Digest { .. } => "digest",
        }
    }
}

/// The id of the incident of `monitor_id` whose first failing probe was at
/// `started_at_ms`: deterministic, so a host that replays a trace or restarts
/// from persisted state names the same incident the same way.
pub fn incident_id(monitor_id: &str, started_at_ms: u64) -> String {
    format!("{monitor_id}-{started_at_ms}")
}

/// One failing probe's facts, as an incident needs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub at_ms: u64,
    pub mode: Mode,
    pub severity: Severity,
    pub reason: String,
    pub hint: String,
}

impl Failure {
    fn of(obs: &Observation, at_ms: u64) -> Self {
        Failure {
            at_ms,
            mode: obs.mode,
            severity: obs.failure_severity(),
            reason: clip(&obs.reason, MAX_REASON_CHARS),
            hint: obs.hint.clone(),
        }
    }
}

/// The open incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub severity: Severity,
    pub mode: Mode,
    pub reason: String,
    pub hint: String,
    pub started_at_ms: u64,
    pub opened_at_ms: u64,
    /// When its current severity reached people (`None` while held for a
    /// digest): the escalation clock starts here.
    pub announced_at_ms: Option<u64>,
    pub acked_at_ms: Option<u64>,
    /// A more severe failure seen since it opened, not yet escalated.
    #[serde(default)]
    pub worse: Option<Failure>,
}

/// Flapping in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlapState {
    pub since_ms: u64,
    pub severity: Severity,
}

/// Everything the policy remembers between calls (the host persists it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyState {
    /// Whether the last probe passed (`None` before the first).
    pub last_pass: Option<bool>,
    pub fail_streak: u32,
    pub fail_streak_start_ms: Option<u64>,
    pub pass_streak: u32,
    pub pass_streak_start_ms: Option<u64>,
    pub last_failure: Option<Failure>,
    pub recent: VecDeque<VerdictSummary>,
    /// Pending fast re-probes.
    pub reprobes: Vec<u64>,
    /// Times of the pass/fail changes inside the flapping window.
    pub changes: VecDeque<u64>,
    pub last_change_ms: Option<u64>,
    pub flapping: Option<FlapState>,
    pub incident: Option<Incident>,
    /// Events held by quiet hours, for the digest.
    pub held: Vec<Event>,
    pub held_dropped: u32,
    /// A drift seen inside a maintenance window, told when it ends.
    pub pending_drift: Option<Drift>,
    /// The tool-list hash of the last drift told, so a stale baseline does not
    /// repeat it every minute.
    pub last_drift_hash: Option<String>,
    /// Whether the previous call was inside a maintenance window.
    pub in_maintenance: bool,
}

/// The alerting state machine of one monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    config: PolicyConfig,
    state: PolicyState,
}

impl Policy {
    pub fn new(config: PolicyConfig) -> Self {
        Policy {
            config,
            state: PolicyState::default(),
        }
    }

    /// Resumes from persisted state, with a possibly updated config.
    pub fn with_state(config: PolicyConfig, state: PolicyState) -> Self {
        Policy { config, state }
    }

    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// For changing windows or quiet hours between calls.
    pub fn config_mut(&mut self) -> &mut PolicyConfig {
        &mut self.config
    }

    pub fn state(&self) -> &PolicyState {
        &self.state
    }

    pub fn into_state(self) -> PolicyState {
        self.state
    }

    /// The open incident, if any.
    pub fn incident(&self) -> Option<&Incident> {
        self.state.incident.as_ref()
    }

    /// When to run the next fast re-probe, if one is pending (it may already be
    /// due: then probe now).
    pub fn next_reprobe_at(&self) -> Option<u64> {
        self.state.reprobes.iter().copied().min()
    }

    /// Acknowledges the open incident `incident_id`: it will not escalate.
    /// Returns false when no open incident has that id.
    pub fn ack(&mut self, incident_id: &str, now_ms: u64) -> bool {
        match self.state.incident.as_mut() {
            Some(inc) if inc.id == incident_id => {
                inc.acked_at_ms.get_or_insert(now_ms);
                true
            }
            _ => false,
        }
    }

    /// Feeds one probe's result (a scheduled probe or a fast re-probe).
    pub fn observe(&mut self, obs: &Observation, now_ms: u64) -> Vec<Event> {
        let mut out = Vec::new();
        let maint = self.config.in_maintenance(now_ms);
        let quiet = self.config.in_quiet_hours(now_ms);
        let failing = obs.is_failing();

        // This probe is the re-probe that was due (or made it unnecessary).
        self.state.reprobes.retain(|&t| t > now_ms);

        self.state.recent.push_back(VerdictSummary::of(obs, now_ms));
        while self.state.recent.len() > self.config.keep_last() {
            self.state.recent.pop_front();
        }

        self.count_change(!failing, now_ms, maint);
        if self.state.flapping.is_none()
            && !maint
            && self.state.changes.len() >= self.config.flap_threshold()
        {
            self.start_flapping(now_ms, quiet, failing, obs, &mut out);
        }

        if failing {
            self.state.fail_streak = self.state.fail_streak.saturating_add(1);
            self.state.pass_streak = 0;
            self.state.pass_streak_start_ms = None;
            if self.state.fail_streak == 1 {
                self.state.fail_streak_start_ms = Some(now_ms);
                if self.state.incident.is_none() && !maint {
                    self.schedule_reprobes(now_ms);
                }
            }
            let failure = Failure::of(obs, now_ms);
            if let Some(inc) = self.state.incident.as_mut() {
                let worst_so_far = inc.worse.as_ref().map_or(inc.severity, |w| w.severity);
                if failure.severity < worst_so_far {
                    inc.worse = Some(failure.clone());
                }
            }
            self.state.last_failure = Some(failure);
        } else {
            self.state.pass_streak = self.state.pass_streak.saturating_add(1);
            if self.state.pass_streak == 1 {
                self.state.pass_streak_start_ms = Some(now_ms);
            }
            self.state.fail_streak = 0;
            self.state.fail_streak_start_ms = None;
            self.state.reprobes.clear();
        }

        if let Some(drift) = obs.drift.as_ref().filter(|d| !d.changes.is_empty()) {
            if self.state.last_drift_hash.as_deref() != Some(drift.to_hash.as_str()) {
                self.state.last_drift_hash = Some(drift.to_hash.clone());
                if maint {
                    self.state.pending_drift = Some(drift.clone());
                } else {
                    self.emit(
                        now_ms,
                        quiet,
                        Severity::P3,
                        EventKind::DriftDetected {
                            diff: drift.clone(),
                        },
                        &mut out,
                    );
                }
            }
        }

        self.evaluate(now_ms, &mut out);
        out
    }

    /// Lets time pass with no new probe: ends of maintenance windows and quiet
    /// hours, the end of flapping, escalations.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Event> {
        let mut out = Vec::new();
        self.evaluate(now_ms, &mut out);
        out
    }

    fn count_change(&mut self, pass: bool, now_ms: u64, maint: bool) {
        let changed = self.state.last_pass.is_some_and(|prev| prev != pass);
        self.state.last_pass = Some(pass);
        // Restarts during a planned window are expected, not flapping.
        if changed && !maint {
            self.state.changes.push_back(now_ms);
            self.state.last_change_ms = Some(now_ms);
        }
        let horizon = now_ms.saturating_sub(self.config.flap_window_ms);
        while self
            .state
            .changes
            .front()
            .is_some_and(|&t| t <= horizon && t < now_ms)
            || self.state.changes.len() > MAX_CHANGES
        {
            self.state.changes.pop_front();
        }
    }

    fn start_flapping(
        &mut self,
        now_ms: u64,
        quiet: bool,
        failing: bool,
        obs: &Observation,
        out: &mut Vec<Event>,
    ) {
        let severity = self.config.flapping_severity;
        self.state.flapping = Some(FlapState {
            since_ms: now_ms,
            severity,
        });
        // The failure that makes it flap is this probe or the last failing one.
        let (mode, reason) = if failing {
            (Some(obs.mode), Some(clip(&obs.reason, MAX_REASON_CHARS)))
        } else {
            self.state
                .last_failure
                .as_ref()
                .map_or((None, None), |f| (Some(f.mode), Some(f.reason.clone())))
        };
        let kind = EventKind::Flapping {
            changes: u32::try_from(self.state.changes.len()).unwrap_or(u32::MAX),
            window_ms: self.config.flap_window_ms,
            incident_id: self.state.incident.as_ref().map(|i| i.id.clone()),
            mode,
            reason,
        };
        self.emit(now_ms, quiet, severity, kind, out);
    }

    fn schedule_reprobes(&mut self, now_ms: u64) {
        self.state.reprobes = self
            .config
            .reprobe_after_ms
            .iter()
            .take(MAX_REPROBES)
            .map(|d| now_ms.saturating_add(*d))
            .collect();
    }

    /// Every time-dependent and level-triggered rule, in a fixed order.
    fn evaluate(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        let maint = self.config.in_maintenance(now_ms);
        let quiet = self.config.in_quiet_hours(now_ms);

        if self.state.in_maintenance && !maint {
            // A failure that began inside the window still needs confirming,
            // and its re-probes were not scheduled there.
            if self.state.incident.is_none()
                && self.state.fail_streak > 0
                && self.state.fail_streak < self.config.confirm()
                && self.state.reprobes.is_empty()
            {
                self.schedule_reprobes(now_ms);
            }
        }
        self.state.in_maintenance = maint;

        if !maint {
            if let Some(diff) = self.state.pending_drift.take() {
                self.emit(
                    now_ms,
                    quiet,
                    Severity::P3,
                    EventKind::DriftDetected { diff },
                    out,
                );
            }
        }

        if let Some(flap) = self.state.flapping {
            let last = self.state.last_change_ms.unwrap_or(flap.since_ms);
            if !maint && now_ms.saturating_sub(last) >= self.config.stable_after_ms {
                self.state.flapping = None;
                // Old changes must not count towards the next flapping spell.
                self.state.changes.clear();
                let kind = EventKind::Stable {
                    flapping_since_ms: flap.since_ms,
                    quiet_for_ms: self.config.stable_after_ms,
                    up: self.state.last_pass.unwrap_or(true),
                };
                self.emit(now_ms, quiet, flap.severity, kind, out);
            }
        }

        if !maint && self.state.flapping.is_none() {
            self.open_or_resolve(now_ms, quiet, out);
            self.escalate(now_ms, quiet, out);
        }

        if !quiet && !self.state.held.is_empty() {
            let items = std::mem::take(&mut self.state.held);
            let dropped = std::mem::take(&mut self.state.held_dropped);
            let severity = items
                .iter()
                .map(|e| e.severity)
                .min()
                .unwrap_or(Severity::P3);
            if let Some(inc) = self.state.incident.as_mut() {
                // A held incident reaches people now: its escalation clock starts.
                inc.announced_at_ms.get_or_insert(now_ms);
            }
            out.push(Event {
                at_ms: now_ms,
                monitor_id: self.config.monitor_id.clone(),
                severity,
                kind: EventKind::Digest { items, dropped },
            });
        }
    }

    fn open_or_resolve(&mut self, now_ms: u64, quiet: bool, out: &mut Vec<Event>) {
        if self.state.incident.is_none() && self.state.fail_streak >= self.config.confirm() {
            let Some(failure) = self.state.last_failure.clone() else {
                return;
            };
            let started_at_ms = self.state.fail_streak_start_ms.unwrap_or(failure.at_ms);
            let id = incident_id(&self.config.monitor_id, started_at_ms);
            self.state.reprobes.clear();
            self.state.incident = Some(Incident {
                id: id.clone(),
                severity: failure.severity,
                mode: failure.mode,
                reason: failure.reason.clone(),
                hint: failure.hint.clone(),
                started_at_ms,
                opened_at_ms: now_ms,
                announced_at_ms: None,
                acked_at_ms: None,
                worse: None,
            });
            let kind = EventKind::IncidentOpened {
                id,
                mode: failure.mode,
                reason: failure.reason,
                hint: failure.hint,
                started_at_ms,
                last_verdicts: self.state.recent.iter().cloned().collect(),
            };
            self.emit(now_ms, quiet, failure.severity, kind, out);
        } else if self.state.pass_streak >= self.config.recover() {
            let Some(inc) = self.state.incident.take() else {
                return;
            };
            let ended_at_ms = self.state.pass_streak_start_ms.unwrap_or(now_ms);
            let kind = EventKind::IncidentResolved {
                id: inc.id,
                mode: inc.mode,
                started_at_ms: inc.started_at_ms,
                ended_at_ms,
                duration_ms: ended_at_ms.saturating_sub(inc.started_at_ms),
            };
            self.emit(now_ms, quiet, inc.severity, kind, out);
        }
    }

    fn escalate(&mut self, now_ms: u64, quiet: bool, out: &mut Vec<Event>) {
        let last_quiet_end = self
            .config
            .quiet_hours
            .and_then(|q| q.last_end(now_ms))
            .unwrap_or(0);
        let escalate_after = self.config.escalate_after_ms;
        let recent: Vec<VerdictSummary> = self.state.recent.iter().cloned().collect();
        let Some(inc) = self.state.incident.as_mut() else {
            return;
        };
        if inc.acked_at_ms.is_some() {
            // Someone is on it: a restart they run must not page them.
            inc.worse = None;
            return;
        }
        let worse = inc.worse.take().filter(|w| w.severity < inc.severity);
        let (from, cause) = if let Some(worse) = worse {
            let from = inc.severity;
            inc.severity = worse.severity;
            inc.mode = worse.mode;
            inc.reason = worse.reason;
            inc.hint = worse.hint;
            (from, EscalationCause::Worsened)
        } else {
            let Some(after) = escalate_after else {
                return;
            };
            let Some(announced) = inc.announced_at_ms else {
                return;
            };
            // Quiet hours are for sleeping: the clock restarts when they end.
            let clock = announced.max(last_quiet_end);
            if inc.severity != Severity::P2 || quiet || now_ms < clock.saturating_add(after) {
                return;
            }
            inc.severity = Severity::P1;
            (Severity::P2, EscalationCause::Unacknowledged)
        };
        let severity = inc.severity;
        let kind = EventKind::Escalated {
            id: inc.id.clone(),
            from,
            cause,
            mode: inc.mode,
            reason: inc.reason.clone(),
            hint: inc.hint.clone(),
            started_at_ms: inc.started_at_ms,
            last_verdicts: recent,
        };
        self.emit(now_ms, quiet, severity, kind, out);
    }

    /// Delivers an event, or holds it for the digest during quiet hours.
    fn emit(
        &mut self,
        now_ms: u64,
        quiet: bool,
        severity: Severity,
        kind: EventKind,
        out: &mut Vec<Event>,
    ) {
        let hold = quiet && matches!(severity, Severity::P2 | Severity::P3 | Severity::None);
        if matches!(
            kind,
            EventKind::IncidentOpened { .. } | EventKind::Escalated { .. }
        ) {
            if let Some(inc) = self.state.incident.as_mut() {
                inc.announced_at_ms = if hold { None } else { Some(now_ms) };
            }
        }
        let event = Event {
            at_ms: now_ms,
            monitor_id: self.config.monitor_id.clone(),
            severity,
            kind,
        };
        if !hold {
            out.push(event);
        } else if self.state.held.len() < MAX_HELD {
            self.state.held.push(event);
        } else {
            self.state.held_dropped = self.state.held_dropped.saturating_add(1);
        }
    }
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_wrap_midnight_and_find_their_last_end() {
        let q = QuietHours {
            start_hour: 22,
            end_hour: 7,
        };
        let day = 20_454 * DAY_MS; // 2026-01-01T00:00Z
        assert!(q.contains(day + 23 * HOUR_MS));
        assert!(q.contains(day + 3 * HOUR_MS));
        assert!(!q.contains(day + 7 * HOUR_MS));
        assert!(!q.contains(day + 12 * HOUR_MS));
        assert_eq!(q.last_end(day + 12 * HOUR_MS), Some(day + 7 * HOUR_MS));
        assert_eq!(q.last_end(day + 3 * HOUR_MS), Some(day - 17 * HOUR_MS));
        assert_eq!(q.last_end(day + 7 * HOUR_MS), Some(day + 7 * HOUR_MS));
        let none = QuietHours {
            start_hour: 5,
            end_hour: 5,
        };
        assert!(!none.contains(day + 5 * HOUR_MS));
        assert_eq!(none.last_end(day), None);
        // Nonsense hours from a hand-edited config do not panic.
        let odd = QuietHours {
            start_hour: 250,
            end_hour: 31,
        };
        let _ = odd.contains(day);
        let _ = odd.last_end(0);
    }

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("héllo", 5), "héllo");
        assert_eq!(clip("héllo wörld", 5), "héll…");
        assert_eq!(clip("abc", 1), "…");
        assert_eq!(clip("abc", 0), "");
    }

    #[test]
    fn zero_thresholds_do_not_open_on_a_pass() {
        let mut cfg = PolicyConfig::new("m");
        cfg.confirm_failures = 0;
        cfg.recover_passes = 0;
        let mut p = Policy::new(cfg);
        assert!(p.observe(&Observation::ok(), 0).is_empty());
        let ev = p.observe(&Observation::of(Mode::ConnectRefused, "refused"), 1);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind.code(), "incident_opened");
    }

    #[test]
    fn a_clock_running_backwards_does_not_panic() {
        let mut p = Policy::new(PolicyConfig::new("m"));
        let fail = Observation::of(Mode::Timeout, "no answer");
        for t in [u64::MAX, 5, 0, u64::MAX - 1, 3] {
            let _ = p.observe(&fail, t);
            let _ = p.observe(&Observation::ok(), t);
            let _ = p.tick(t);
        }
    }
}
