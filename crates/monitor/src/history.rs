//! Start here: a monitor's history, read back: the bodies of
//! `GET /api/monitors/{id}/history`, `/incidents` and `/drift`, computed
//! from what the write path stores (see [`crate::rollup`]), pure and
//! clock-free (the host passes `now_ms`).
//!
//! - [`incidents`]: a maximal run of non-up states in a monitor's state
//!   changes is one [`Incident`], opened by the first change to down or
//!   degraded and closed by the next change to up. No per-probe rows exist
//!   (the write budget), so the state changes are the whole record.
//! - [`history`]: uptime, failures and latency per bucket of a [`Window`]
//!   (hourly for 24h and 7d, daily for 90d) from the roll-ups, with totals.
//!   A day without a daily roll-up is folded from its hourly ones
//!   ([`rollup::daily_rollups`]), so the open day and days the daily job
//!   has not reached yet still show.
//! - [`drift_view`]: one drift event with the diff of the two tool lists it
//!   compares ([`fingerprint::diff`]), or which snapshot is missing.
//!
//! For the hosts: [`unpack`] reads a packed roll-up row, keeping one
//! monitor's items and skipping items it cannot read (a newer writer's kind
//! must not blank the whole history); [`key_range`] finds one monitor's
//! state changes or drift events by primary key; [`uncovered_days`] says
//! which days of 90 need hourly rows; [`parse_window`] and [`parse_limit`]
//! validate the query.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ValidationError;
use crate::rollup::{self, Histogram, Rollup, Write, DAY_MS, HOUR_MS};
use mcprobe_core::fingerprint::{self, Drift, Snapshot};
use mcprobe_core::verdict::{Mode, Status};

/// Incidents and drift events returned when `?limit=` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `?limit=` accepted.
pub const MAX_LIMIT: usize = 500;

// ---------------------------------------------------------------------------
// The query

/// The spans `GET /api/monitors/{id}/history` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Window {
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "90d")]
    Quarter,
}

impl Window {
    pub const ALL: [Window; 3] = [Window::Day, Window::Week, Window::Quarter];

    /// The code in `?window=` and in the body.
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Day => "24h",
            Window::Week => "7d",
            Window::Quarter => "90d",
        }
    }

    pub fn from_code(code: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.as_str() == code)
    }

    /// How long the window is.
    pub fn span_ms(self) -> u64 {
        match self {
            Window::Day => DAY_MS,
            Window::Week => 7 * DAY_MS,
            Window::Quarter => 90 * DAY_MS,
        }
    }

    /// How long one bucket is: an hour up to 7 days (168 buckets), a day for
    /// 90 days (hourly would be 2,160 buckets and 90 days of hourly rows).
    pub fn bucket_ms(self) -> u64 {
        match self {
            Window::Day | Window::Week => HOUR_MS,
            Window::Quarter => DAY_MS,
        }
    }

    /// The start of the first bucket at `now_ms`: the window is
    /// `span / bucket` whole buckets ending with the one `now_ms` is in (the
    /// open hour or day), so a chart always has the same number of bars.
    pub fn first_bucket_ms(self, now_ms: u64) -> u64 {
        let b = self.bucket_ms();
        let last = now_ms - now_ms % b;
        last.saturating_sub(self.span_ms() - b)
    }
}

/// `?window=`: absent means 24h; anything else but the three codes is a 400.
pub fn parse_window(raw: Option<&str>) -> Result<Window, ValidationError> {
    let Some(raw) = raw else {
        return Ok(Window::Day);
    };
    Window::from_code(raw.trim()).ok_or_else(|| {
        let allowed: Vec<&str> = Window::ALL.iter().map(|w| w.as_str()).collect();
        ValidationError::new(
            "window",
            format!("window {raw:?} is not one this API serves"),
            format!("use ?window= with one of {}", allowed.join(", ")),
        )
    })
}

/// `?limit=`: absent means [`DEFAULT_LIMIT`]; 1 to [`MAX_LIMIT`] else a 400.
pub fn parse_limit(raw: Option<&str>) -> Result<usize, ValidationError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ValidationError::new(
            "limit",
            format!("limit {raw:?} is not a whole number from 1 to {MAX_LIMIT}"),
            format!("use ?limit=N with N from 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}); the newest come first"),
        )),
    }
}

// ---------------------------------------------------------------------------
// Reading packed rows

/// The items of one packed `rollups` row (`items_json`, a JSON array of
/// [`Write`]s of many monitors) that belong to `monitor_id`. Items that do
/// not parse are skipped one by one; text that is not an array gives none.
pub fn unpack(items_json: &str, monitor_id: &str) -> Vec<Write> {
    let Ok(items) = serde_json::from_str::<Vec<Value>>(items_json) else {
        return Vec::new();
    };
    items
        .into_iter()
        // Cheap test before the full parse: most items are other monitors'.
        .filter(|v| v.get("monitor_id").and_then(Value::as_str) == Some(monitor_id))
        .filter_map(|v| serde_json::from_value::<Write>(v).ok())
        .collect()
}

// ---------------------------------------------------------------------------
// Incidents

/// One stored state change (a `state_changes` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    /// The row's idempotency key (`{monitor}:state:{ms}`).
    pub key: String,
    pub at_ms: u64,
    pub status: Status,
    pub mode: Mode,
    pub reason: String,
    /// The verdict that made the change, as failure-modes.md prints it.
    pub verdict_json: String,
}

/// A maximal run of non-up states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The key of the state change that opened it: stable across reads.
    pub id: String,
    pub started_ms: u64,
    /// The change back to up; `None` while it is open.
    pub ended_ms: Option<u64>,
    /// Until the end, or until `now_ms` while open.
    pub duration_ms: u64,
    pub open: bool,
    /// The worst status seen in it (down over degraded).
    pub status: Status,
    /// Every mode seen in it, once each, in the order first seen.
    pub modes: Vec<Mode>,
    /// The opening change's reason.
    pub reason: String,
    /// The opening verdict's `hint` (the runbook's first step), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The opening verdict's `runbook_url`, if it carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
    /// State changes inside it, the opening one included.
    pub changes: u32,
}

fn worse(a: Status, b: Status) -> Status {
    let rank = |s: Status| match s {
        Status::Up => 0,
        Status::Degraded => 1,
        Status::Down => 2,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

impl Incident {
    /// Takes `hint` and `runbook_url` from the opening change's verdict
    /// text (fields absent, or text that does not parse, give `None`). For a
    /// host that reads the verdicts of the incidents it shows only, rather
    /// than of every change ([`StateChange::verdict_json`] left empty).
    pub fn set_verdict(&mut self, verdict_json: &str) {
        let v: Value = serde_json::from_str(verdict_json).unwrap_or(Value::Null);
        let field = |name: &str| {
            v.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        self.hint = field("hint");
        self.runbook_url = field("runbook_url");
    }
}

/// The key range `[lo, hi)` of one monitor's single rows of one kind
/// (`state`, `drift`): their keys are `{monitor}:{kind}:{ms}`
/// ([`Write::key`]), so a primary-key range read finds them without an
/// index on `monitor_id` (the tables have none: the write budget).
pub fn key_range(monitor_id: &str, kind: &str) -> (String, String) {
    // ';' is the byte after ':'.
    (
        format!("{monitor_id}:{kind}:"),
        format!("{monitor_id}:{kind};"),
    )
}

/// The incidents in one monitor's state changes, newest first. The changes
/// may come in any order (sorted here by time, then key); a change at the
/// same status as the one before it (a mode change) extends the run.
pub fn incidents(changes: &[StateChange], now_ms: u64) -> Vec<Incident> {
    let mut sorted: Vec<&StateChange> = changes.iter().collect();
    sorted.sort_by(|a, b| (a.at_ms, &a.key).cmp(&(b.at_ms, &b.key)));
    // The same row read twice (overlapping reads, a replayed page) counts once.
    sorted.dedup_by(|a, b| a.key == b.key);

    let mut out: Vec<Incident> = Vec::new();
    let mut open: Option<Incident> = None;
    for c in sorted {
        match (&mut open, c.status) {
            (None, Status::Up) => {}
            (Some(inc), Status::Up) => {
                inc.ended_ms = Some(c.at_ms);
                inc.duration_ms = c.at_ms.saturating_sub(inc.started_ms);
                inc.open = false;
                out.extend(open.take());
            }
            (None, status) => {
                open = Some(Incident {
                    id: c.key.clone(),
                    started_ms: c.at_ms,
                    ended_ms: None,
                    duration_ms: 0,
                    open: true,
                    status,
                    modes: vec![c.mode],
                    reason: c.reason.clone(),
                    hint: None,
                    runbook_url: None,
                    changes: 1,
                });
                if let Some(inc) = open.as_mut() {
                    inc.set_verdict(&c.verdict_json);
                }
            }
            (Some(inc), status) => {
                inc.status = worse(inc.status, status);
                if !inc.modes.contains(&c.mode) {
                    inc.modes.push(c.mode);
                }
                inc.changes = inc.changes.saturating_add(1);
            }
        }
    }
    if let Some(mut inc) = open {
        inc.duration_ms = now_ms.saturating_sub(inc.started_ms);
        out.push(inc);
    }
    out.reverse();
    out
}

/// For a read that got only the newest changes (a capped query): drops the
/// leading non-up changes, whose incident began before the oldest change
/// read, so no incident is reported with a wrong start. Changes must be
/// sorted oldest first.
pub fn trim_partial(changes: &mut Vec<StateChange>) {
    let first_up = changes
        .iter()
        .position(|c| c.status == Status::Up)
        .unwrap_or(changes.len());
    changes.drain(..first_up);
}

/// The body of `GET /api/monitors/{id}/incidents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentList {
    pub monitor_id: String,
    /// Newest first, at most `limit` of them.
    pub incidents: Vec<Incident>,
    /// How many incidents the changes read hold.
    pub total: usize,
    pub limit: usize,
}

/// [`incidents`], newest `limit` kept.
pub fn incident_list(
    monitor_id: &str,
    changes: &[StateChange],
    now_ms: u64,
    limit: usize,
) -> IncidentList {
    let mut all = incidents(changes, now_ms);
    let total = all.len();
    all.truncate(limit);
    IncidentList {
        monitor_id: monitor_id.to_string(),
        incidents: all,
        total,
        limit,
    }
}

// ---------------------------------------------------------------------------
// History buckets

/// One bar of the history chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub start_ms: u64,
    pub probes: u64,
    /// Probes whose status was down (degraded counts as up, as in
    /// [`crate::stats::uptime`]).
    pub down: u64,
    /// `1 - down / probes`; `None` without probes.
    pub uptime: Option<f64>,
    /// Over the probes that reached the server.
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    /// Probes not up, by mode code.
    pub failures_by_mode: BTreeMap<String, u64>,
}

/// The window's figures as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub probes: u64,
    pub down: u64,
    pub uptime: Option<f64>,
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    pub failures_by_mode: BTreeMap<String, u64>,
}

/// The body of `GET /api/monitors/{id}/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub monitor_id: String,
    pub window: Window,
    pub bucket_ms: u64,
    /// The first bucket's start and the time the figures were read.
    pub from_ms: u64,
    pub to_ms: u64,
    /// Oldest first, every bucket of the window (empty ones with 0 probes).
    pub buckets: Vec<Bucket>,
    pub totals: Totals,
}

/// Sums of one bucket or the window, before percentiles are read.
#[derive(Default)]
struct Sums {
    probes: u64,
    down: u64,
    failures: BTreeMap<String, u64>,
    latency: Histogram,
}

impl Sums {
    fn add(&mut self, r: &Rollup) {
        self.probes += u64::from(r.probes);
        self.down += u64::from(r.down_probes());
        for (mode, n) in &r.failures_by_mode {
            *self.failures.entry(mode.clone()).or_insert(0) += u64::from(*n);
        }
        self.latency.merge(&r.latency);
    }

    fn uptime(&self) -> Option<f64> {
        (self.probes > 0)
            .then(|| (self.probes - self.down.min(self.probes)) as f64 / self.probes as f64)
    }
}

/// The history of one monitor over `window` at `now_ms`, from its hourly and
/// daily roll-ups (other monitors' rows and rows outside the window are
/// ignored; a key read twice counts once, the first read winning, so a host
/// puts stored rows before the in-memory open hour).
pub fn history(
    monitor_id: &str,
    hourly: &[Rollup],
    daily: &[Rollup],
    window: Window,
    now_ms: u64,
) -> History {
    let bucket_ms = window.bucket_ms();
    let from_ms = window.first_bucket_ms(now_ms);
    let in_window =
        |r: &&Rollup| r.monitor_id == monitor_id && r.start_ms >= from_ms && r.start_ms <= now_ms;
    let mut seen = BTreeSet::new();
    let hours: Vec<Rollup> = hourly
        .iter()
        .filter(in_window)
        .filter(|r| seen.insert(r.key.clone()))
        .cloned()
        .collect();

    // Each roll-up lands in the bucket its start falls in.
    let mut per_bucket: BTreeMap<u64, Vec<Rollup>> = BTreeMap::new();
    match window {
        Window::Day | Window::Week => {
            for h in hours {
                per_bucket
                    .entry(h.start_ms - h.start_ms % bucket_ms)
                    .or_default()
                    .push(h);
            }
        }
        Window::Quarter => {
            let mut days_seen = BTreeSet::new();
            for d in daily.iter().filter(in_window) {
                let day = d.start_ms - d.start_ms % DAY_MS;
                // One daily row a day: a second (another key) would double it.
                if days_seen.insert(day) {
                    per_bucket.entry(day).or_default().push(d.clone());
                }
            }
            let missing: Vec<Rollup> = hours
                .into_iter()
                .filter(|h| !days_seen.contains(&(h.start_ms - h.start_ms % DAY_MS)))
                .collect();
            for w in rollup::daily_rollups(&missing) {
                if let Write::DailyRollup(d) = w {
                    per_bucket.entry(d.start_ms).or_default().push(d);
                }
            }
        }
    }

    let mut total = Sums::default();
    let n = window.span_ms() / bucket_ms;
    let buckets = (0..n)
        .map(|i| {
            let start_ms = from_ms + i * bucket_ms;
            let mut s = Sums::default();
            for r in per_bucket.get(&start_ms).into_iter().flatten() {
                s.add(r);
                total.add(r);
            }
            Bucket {
                start_ms,
                probes: s.probes,
                down: s.down,
                uptime: s.uptime(),
                p50_ms: s.latency.percentile(50.0),
                p95_ms: s.latency.percentile(95.0),
                failures_by_mode: s.failures,
            }
        })
        .collect();
    History {
        monitor_id: monitor_id.to_string(),
        window,
        bucket_ms,
        from_ms,
        to_ms: now_ms,
        buckets,
        totals: Totals {
            probes: total.probes,
            down: total.down,
            uptime: total.uptime(),
            p50_ms: total.latency.percentile(50.0),
            p95_ms: total.latency.percentile(95.0),
            failures_by_mode: total.failures,
        },
    }
}

/// The days of `window` at `now_ms` whose start is not in `covered` (the
/// days a daily roll-up row exists for), as `[start, end)` runs of whole
/// days, oldest first: the ranges a host must read hourly rows for. Empty
/// for the hourly windows, which read hourly rows whole.
pub fn uncovered_days(window: Window, now_ms: u64, covered: &BTreeSet<u64>) -> Vec<(u64, u64)> {
    if window.bucket_ms() != DAY_MS {
        return Vec::new();
    }
    let from = window.first_bucket_ms(now_ms);
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for day in (0..window.span_ms() / DAY_MS).map(|i| from + i * DAY_MS) {
        if covered.contains(&day) {
            continue;
        }
        match runs.last_mut() {
            Some((_, end)) if *end == day => *end = day + DAY_MS,
            _ => runs.push((day, day + DAY_MS)),
        }
    }
    runs
}

// ---------------------------------------------------------------------------
// Drift events

/// One stored drift event (a `drift_events` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftEvent {
    pub key: String,
    pub at_ms: u64,
    pub from_hash: String,
    pub to_hash: String,
}

/// One drift event as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftView {
    /// The event's key: stable across reads.
    pub id: String,
    pub at_ms: u64,
    pub from_hash: String,
    pub to_hash: String,
    /// Whether a caller of the old tool list can fail against the new one;
    /// `None` when the diff could not be made.
    pub breaking: Option<bool>,
    /// The diff (`fingerprint::diff`), when both snapshots are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<Drift>,
    /// One human line per change, e.g. `echo: parameter "message" retyped
    /// string -> integer`.
    pub summary: Vec<String>,
    /// Which snapshots are unknown (`"from"`, `"to"`): empty when the diff
    /// is there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// The view of one event given the snapshots stored under its hashes. A
/// snapshot whose own hash is not the one it was looked up by counts as
/// missing: diffing it would describe another change.
pub fn drift_view(ev: &DriftEvent, from: Option<&Snapshot>, to: Option<&Snapshot>) -> DriftView {
    let from = from.filter(|s| s.hash == ev.from_hash);
    let to = to.filter(|s| s.hash == ev.to_hash);
    let mut missing = Vec::new();
    if from.is_none() {
        missing.push("from".to_string());
    }
    if to.is_none() {
        missing.push("to".to_string());
    }
    let diff = match (from, to) {
        (Some(a), Some(b)) => Some(fingerprint::diff(a, b)),
        _ => None,
    };
    DriftView {
        id: ev.key.clone(),
        at_ms: ev.at_ms,
        from_hash: ev.from_hash.clone(),
        to_hash: ev.to_hash.clone(),
        breaking: diff.as_ref().map(|d| d.breaking),
        summary: diff
            .as_ref()
            .map(|d| d.changes.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        diff,
        missing,
    }
}

/// The body of `GET /api/monitors/{id}/drift`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftList {
    pub monitor_id: String,
    /// Newest first.
    pub events: Vec<DriftView>,
    /// How many drift events the monitor has in all.
    pub total: usize,
    pub limit: usize,
}

/// Views of the events (newest `limit` kept, newest first), each with the
/// snapshots `lookup` knows; `total` is the host's count of all the
/// monitor's events (it reads only the newest).
pub fn drift_list<'a>(
    monitor_id: &str,
    events: &[DriftEvent],
    total: usize,
    limit: usize,
    lookup: impl Fn(&str) -> Option<&'a Snapshot>,
) -> DriftList {
    let mut sorted: Vec<&DriftEvent> = events.iter().collect();
    sorted.sort_by(|a, b| (b.at_ms, &b.key).cmp(&(a.at_ms, &a.key)));
    sorted.dedup_by(|a, b| a.key == b.key);
    let read = sorted.len();
    sorted.truncate(limit);
    DriftList {
        monitor_id: monitor_id.to_string(),
        events: sorted
            .into_iter()
            .map(|e| drift_view(e, lookup(&e.from_hash), lookup(&e.to_hash)))
            .collect(),
        // Never fewer than were read (a count taken before a new event).
        total: total.max(read),
        limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::{Accumulator, Observation};
    use serde_json::json;

    const H0: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    const MIN: u64 = 60_000;

    fn change(at_ms: u64, status: Status, mode: Mode) -> StateChange {
        StateChange {
            key: format!("m:state:{at_ms}"),
            at_ms,
            status,
            mode,
            reason: format!("{} at {at_ms}", mode.as_str()),
            verdict_json: json!({"mode": mode.as_str(), "hint": format!("fix {}", mode.as_str())})
                .to_string(),
        }
    }

    #[test]
    fn incidents_are_runs_of_non_up_states_newest_first() {
        let changes = vec![
            change(H0, Status::Up, Mode::Ok),
            change(H0 + 2 * MIN, Status::Degraded, Mode::ToolCallError),
            change(H0 + 3 * MIN, Status::Down, Mode::Timeout),
            change(H0 + 4 * MIN, Status::Degraded, Mode::ToolCallError),
            change(H0 + 5 * MIN, Status::Up, Mode::Ok),
            // Up in another mode: no incident.
            change(H0 + 6 * MIN, Status::Up, Mode::AuthRequired),
            change(H0 + 10 * MIN, Status::Down, Mode::ConnectRefused),
        ];
        // Order of the input does not matter; a row read twice counts once.
        let mut shuffled = changes.clone();
        shuffled.reverse();
        shuffled.push(changes[2].clone());
        let got = incidents(&shuffled, H0 + 15 * MIN);
        assert_eq!(got.len(), 2, "{got:#?}");

        let open = &got[0];
        assert_eq!(open.id, format!("m:state:{}", H0 + 10 * MIN));
        assert!(open.open);
        assert_eq!(open.ended_ms, None);
        assert_eq!(open.duration_ms, 5 * MIN);
        assert_eq!(open.status, Status::Down);

        let closed = &got[1];
        assert_eq!(closed.id, format!("m:state:{}", H0 + 2 * MIN));
        assert_eq!(
            (closed.started_ms, closed.ended_ms, closed.duration_ms),
            (H0 + 2 * MIN, Some(H0 + 5 * MIN), 3 * MIN)
        );
        assert!(!closed.open);
        // Worst seen, not the first or last.
        assert_eq!(closed.status, Status::Down);
        assert_eq!(closed.modes, vec![Mode::ToolCallError, Mode::Timeout]);
        assert_eq!(closed.changes, 3);
        assert_eq!(
            closed.reason,
            format!("tool_call_error at {}", H0 + 2 * MIN)
        );
        assert_eq!(closed.hint.as_deref(), Some("fix tool_call_error"));
        assert_eq!(closed.runbook_url, None);
    }

    #[test]
    fn a_first_probe_that_fails_opens_an_incident_and_bad_verdicts_lose_only_the_hint() {
        let mut first = change(H0, Status::Down, Mode::DnsUnresolved);
        first.verdict_json = "not json".into();
        let mut with_runbook = change(H0 + MIN, Status::Up, Mode::Ok);
        with_runbook.verdict_json = "{}".into();
        let got = incidents(&[first, with_runbook], H0 + 2 * MIN);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].started_ms, H0);
        assert_eq!(got[0].hint, None);
        assert!(incidents(&[], H0).is_empty());

        let mut c = change(H0, Status::Degraded, Mode::SchemaDrift);
        c.verdict_json = json!({"hint": "h", "runbook_url": "https://r.example/x"}).to_string();
        let got = incidents(&[c], H0 + MIN);
        assert_eq!(got[0].runbook_url.as_deref(), Some("https://r.example/x"));
        assert_eq!(got[0].status, Status::Degraded);
        // Open at read time: duration runs to now, never backwards.
        assert_eq!(got[0].duration_ms, MIN);
        let future = [change(H0 + 5 * MIN, Status::Down, Mode::Timeout)];
        assert_eq!(incidents(&future, H0)[0].duration_ms, 0);
    }

    #[test]
    fn the_key_range_holds_exactly_one_monitors_rows_of_one_kind() {
        let mut acc = Accumulator::new("m1");
        let mut keys = Vec::new();
        for (i, status) in [Status::Up, Status::Down].into_iter().enumerate() {
            let w = acc.observe(&obs(H0 + i as u64 * MIN, status, 5), H0);
            keys.extend(
                w.iter()
                    .filter(|w| w.kind() == "state")
                    .map(|w| w.key().to_string()),
            );
        }
        assert_eq!(keys.len(), 2);
        let (lo, hi) = key_range("m1", "state");
        for k in &keys {
            assert!(lo.as_str() <= k.as_str() && k.as_str() < hi.as_str(), "{k}");
        }
        for other in ["m10:state:1", "m1:drift:1", "m1:statf", "m:state:1"] {
            assert!(!(lo.as_str() <= other && other < hi.as_str()), "{other}");
        }
    }

    #[test]
    fn a_verdict_read_later_fills_the_hint() {
        let mut c = change(H0, Status::Down, Mode::Timeout);
        c.verdict_json = String::new();
        let mut got = incidents(&[c], H0 + MIN);
        assert_eq!(got[0].hint, None);
        got[0].set_verdict(&json!({"hint": "look", "runbook_url": ""}).to_string());
        assert_eq!(got[0].hint.as_deref(), Some("look"));
        assert_eq!(got[0].runbook_url, None);
    }

    #[test]
    fn a_capped_read_drops_the_incident_it_cut_into() {
        let mut changes = vec![
            change(H0, Status::Down, Mode::Timeout),
            change(H0 + MIN, Status::Degraded, Mode::ToolCallError),
            change(H0 + 2 * MIN, Status::Up, Mode::Ok),
            change(H0 + 3 * MIN, Status::Down, Mode::Timeout),
        ];
        trim_partial(&mut changes);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].status, Status::Up);
        let mut none_up = vec![change(H0, Status::Down, Mode::Timeout)];
        trim_partial(&mut none_up);
        assert!(none_up.is_empty());
    }

    #[test]
    fn the_incident_list_keeps_the_newest_and_counts_all() {
        let changes: Vec<StateChange> = (0..10)
            .map(|i| {
                let (s, m) = if i % 2 == 0 {
                    (Status::Down, Mode::Timeout)
                } else {
                    (Status::Up, Mode::Ok)
                };
                change(H0 + i * MIN, s, m)
            })
            .collect();
        let list = incident_list("m", &changes, H0 + HOUR_MS, 2);
        assert_eq!((list.total, list.limit, list.incidents.len()), (5, 2, 2));
        assert_eq!(list.incidents[0].started_ms, H0 + 8 * MIN);
        assert_eq!(list.incidents[1].started_ms, H0 + 6 * MIN);
        let body = serde_json::to_value(&list).unwrap();
        assert_eq!(body["incidents"][0]["status"], "down");
        assert_eq!(body["incidents"][0]["modes"], json!(["timeout"]));
        assert_eq!(body["incidents"][0]["ended_ms"], H0 + 9 * MIN);
    }

    #[test]
    fn windows_parse_strictly_and_say_what_is_allowed() {
        assert_eq!(parse_window(None).unwrap(), Window::Day);
        assert_eq!(parse_window(Some("7d")).unwrap(), Window::Week);
        assert_eq!(parse_window(Some("90d")).unwrap(), Window::Quarter);
        let e = parse_window(Some("30d")).unwrap_err();
        assert_eq!(e.field, "window");
        assert!(e.error.contains("\"30d\""), "{}", e.error);
        assert!(e.hint.contains("24h, 7d, 90d"), "{}", e.hint);
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some("500")).unwrap(), 500);
        for bad in ["0", "501", "-1", "ten", ""] {
            let e = parse_limit(Some(bad)).unwrap_err();
            assert_eq!(e.field, "limit", "{bad}");
            assert!(e.hint.contains("1 to 500"), "{}", e.hint);
        }
    }

    fn obs(at_ms: u64, status: Status, ms: u64) -> Observation {
        let mode = match status {
            Status::Up => Mode::Ok,
            Status::Degraded => Mode::ToolCallError,
            Status::Down => Mode::ConnectRefused,
        };
        Observation {
            at_ms,
            status,
            mode,
            elapsed_ms: ms,
            tools_hash: None,
            reason: String::new(),
            verdict_json: String::new(),
        }
    }

    /// Hourly roll-ups of `id`: hour `h` (from `start`) gets `probes[h]`
    /// probes, the first `down[h]` of them down, the rest up at 100 ms.
    fn hours(id: &str, start: u64, plan: &[(u32, u32)]) -> Vec<Rollup> {
        let mut out = Vec::new();
        for (h, (probes, down)) in plan.iter().enumerate() {
            let mut acc = Accumulator::new(id);
            let t0 = start + h as u64 * HOUR_MS;
            for p in 0..*probes {
                let s = if p < *down { Status::Down } else { Status::Up };
                acc.observe(&obs(t0 + u64::from(p) * MIN, s, 100), t0);
            }
            out.extend(acc.current_hour());
        }
        out
    }

    #[test]
    fn a_day_window_has_24_hourly_buckets_ending_with_the_open_hour() {
        let now = H0 + 30 * HOUR_MS + 20 * MIN;
        let last = H0 + 30 * HOUR_MS;
        let mut rows = hours("m", last - 2 * HOUR_MS, &[(60, 0), (60, 15), (20, 20)]);
        // Another monitor's and an out-of-window row change nothing.
        rows.extend(hours("other", last, &[(60, 60)]));
        rows.extend(hours("m", last - 30 * HOUR_MS, &[(60, 60)]));
        // A stored row and the open hour with the same key: the first wins.
        let mut dup = rows[1].clone();
        dup.probes = 1;
        rows.push(dup);

        let h = history("m", &rows, &[], Window::Day, now);
        assert_eq!(h.buckets.len(), 24);
        assert_eq!(h.bucket_ms, HOUR_MS);
        assert_eq!(h.from_ms, last - 23 * HOUR_MS);
        assert_eq!(h.buckets[23].start_ms, last);
        assert!(h
            .buckets
            .windows(2)
            .all(|w| w[1].start_ms - w[0].start_ms == HOUR_MS));
        let b = |i: usize| &h.buckets[i];
        assert_eq!((b(21).probes, b(21).down, b(21).uptime), (60, 0, Some(1.0)));
        assert_eq!(
            (b(22).probes, b(22).down, b(22).uptime),
            (60, 15, Some(0.75))
        );
        assert_eq!(b(22).failures_by_mode.get("connect_refused"), Some(&15));
        assert_eq!((b(23).uptime, b(23).p50_ms), (Some(0.0), None));
        assert_eq!(b(21).p50_ms, Some(100));
        assert_eq!((b(0).probes, b(0).uptime, b(0).p95_ms), (0, None, None));
        assert_eq!(h.totals.probes, 140);
        assert_eq!(h.totals.down, 35);
        assert_eq!(h.totals.uptime, Some(105.0 / 140.0));
        assert_eq!(h.totals.p95_ms, Some(100));
        let body = serde_json::to_value(&h).unwrap();
        assert_eq!(body["window"], "24h");
        assert_eq!(
            body["buckets"][22]["failures_by_mode"]["connect_refused"],
            15
        );
        assert_eq!(body["totals"]["uptime"], 0.75);
    }

    #[test]
    fn a_week_is_168_hours_and_an_empty_history_is_all_empty_buckets() {
        let now = H0 + 10 * DAY_MS + 5;
        let h = history("m", &[], &[], Window::Week, now);
        assert_eq!(h.buckets.len(), 168);
        assert!(h
            .buckets
            .iter()
            .all(|b| b.probes == 0 && b.uptime.is_none()));
        assert_eq!((h.totals.probes, h.totals.uptime), (0, None));
        // A clock before the window's span does not underflow.
        let early = history("m", &[], &[], Window::Quarter, 5);
        assert_eq!(early.from_ms, 0);
        assert_eq!(early.buckets.len(), 90);
    }

    #[test]
    fn ninety_days_use_daily_rows_and_fold_hours_for_days_without_one() {
        let today = H0 + 100 * DAY_MS;
        let now = today + 3 * HOUR_MS;
        // Yesterday has a daily row; its hours must not count a second time.
        let yesterday_hours = hours("m", today - DAY_MS, &[(10, 5), (10, 5)]);
        let mut daily: Vec<Rollup> = rollup::daily_rollups(&yesterday_hours)
            .into_iter()
            .filter_map(|w| match w {
                Write::DailyRollup(r) => Some(r),
                _ => None,
            })
            .collect();
        // Written before the day's last hour was stored: the daily row, not
        // the hours, is what the bucket shows.
        daily[0].probes = 40;
        // Today and two days ago have hours only.
        let mut hourly = hours("m", today, &[(60, 0), (60, 6)]);
        hourly.extend(hours("m", today - 2 * DAY_MS, &[(4, 4)]));
        hourly.extend(yesterday_hours);

        let h = history("m", &hourly, &daily, Window::Quarter, now);
        assert_eq!((h.buckets.len(), h.bucket_ms), (90, DAY_MS));
        assert_eq!(h.from_ms, today - 89 * DAY_MS);
        let b = |i: usize| &h.buckets[i];
        assert_eq!((b(89).start_ms, b(89).probes, b(89).down), (today, 120, 6));
        assert_eq!(
            (b(88).probes, b(88).down, b(88).uptime),
            (40, 10, Some(0.75))
        );
        assert_eq!((b(87).probes, b(87).uptime), (4, Some(0.0)));
        assert_eq!(h.totals.probes, 164);
        assert_eq!(h.totals.down, 20);
    }

    #[test]
    fn hourly_rows_are_read_only_for_days_without_a_daily_row() {
        let today = H0 + 100 * DAY_MS;
        let now = today + 5 * HOUR_MS;
        let first = today - 89 * DAY_MS;
        // Nothing covered: one run, the whole window.
        let all = uncovered_days(Window::Quarter, now, &BTreeSet::new());
        assert_eq!(all, vec![(first, today + DAY_MS)]);
        // The daily job covered days 10..=87 but missed day 50: the hours
        // before, the gap, and yesterday plus today.
        let covered: BTreeSet<u64> = (10..=87)
            .filter(|d| *d != 50)
            .map(|d| first + d * DAY_MS)
            .collect();
        assert_eq!(
            uncovered_days(Window::Quarter, now, &covered),
            vec![
                (first, first + 10 * DAY_MS),
                (first + 50 * DAY_MS, first + 51 * DAY_MS),
                (first + 88 * DAY_MS, today + DAY_MS),
            ]
        );
        assert!(uncovered_days(Window::Week, now, &BTreeSet::new()).is_empty());
    }

    fn snap(tools: Value) -> Snapshot {
        let list = tools.as_array().cloned().unwrap_or_default();
        fingerprint::snapshot(&list)
    }

    fn tool(name: &str, ty: &str) -> Value {
        json!({"name": name, "inputSchema": {"type": "object", "properties": {"message": {"type": ty}}}})
    }

    #[test]
    fn a_drift_event_shows_its_diff_or_which_snapshot_is_missing() {
        let a = snap(json!([tool("echo", "string"), tool("gone", "string")]));
        let b = snap(json!([tool("echo", "integer")]));
        let ev = DriftEvent {
            key: format!("m:drift:{H0}"),
            at_ms: H0,
            from_hash: a.hash.clone(),
            to_hash: b.hash.clone(),
        };
        let v = drift_view(&ev, Some(&a), Some(&b));
        assert_eq!(v.breaking, Some(true));
        assert!(v.missing.is_empty());
        assert!(
            v.summary
                .iter()
                .any(|l| l.contains("gone") && l.contains("removed")),
            "{:?}",
            v.summary
        );
        assert!(
            v.summary.iter().any(|l| l.starts_with("echo:")),
            "{:?}",
            v.summary
        );
        let body = serde_json::to_value(&v).unwrap();
        assert_eq!(body["diff"]["breaking"], true);
        assert!(body.get("missing").is_none(), "{body}");

        let half = drift_view(&ev, None, Some(&b));
        assert_eq!((half.breaking, half.diff.is_none()), (None, true));
        assert_eq!(half.missing, vec!["from"]);
        // A snapshot stored under the wrong hash is not diffed.
        let wrong = drift_view(&ev, Some(&a), Some(&a));
        assert_eq!(wrong.missing, vec!["to"]);
        let body = serde_json::to_value(&half).unwrap();
        assert_eq!(body["missing"], json!(["from"]));
        assert!(body.get("diff").is_none(), "{body}");
    }

    #[test]
    fn the_drift_list_is_newest_first_and_capped() {
        let a = snap(json!([tool("echo", "string")]));
        let b = snap(json!([tool("echo", "string"), tool("more", "string")]));
        let events: Vec<DriftEvent> = (0..4)
            .map(|i| {
                let (f, t) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
                DriftEvent {
                    key: format!("m:drift:{}", H0 + i * MIN),
                    at_ms: H0 + i * MIN,
                    from_hash: f.hash.clone(),
                    to_hash: t.hash.clone(),
                }
            })
            .collect();
        let snaps = [a.clone(), b.clone()];
        let lookup = |h: &str| snaps.iter().find(|s| s.hash == h);
        let list = drift_list("m", &events, 4, 3, lookup);
        assert_eq!((list.events.len(), list.total), (3, 4));
        assert_eq!(list.events[0].at_ms, H0 + 3 * MIN);
        // Event 3 went b -> a: "more" removed, breaking; event 2 added it.
        assert_eq!(list.events[0].breaking, Some(true));
        assert_eq!(list.events[1].breaking, Some(false));
        assert_eq!(list.events[1].summary, vec!["more: tool added"]);
    }

    #[test]
    fn unpack_keeps_one_monitors_readable_items() {
        let rows = hours("m", H0, &[(2, 1)]);
        let other = hours("x", H0, &[(2, 1)]);
        let items = json!([
            Write::HourlyRollup(rows[0].clone()),
            Write::HourlyRollup(other[0].clone()),
            {"kind": "some_future_kind", "monitor_id": "m"},
            42
        ])
        .to_string();
        let got = unpack(&items, "m");
        assert_eq!(got, vec![Write::HourlyRollup(rows[0].clone())]);
        assert!(unpack("{not json", "m").is_empty());
        assert!(unpack("{}", "m").is_empty());
    }
}
