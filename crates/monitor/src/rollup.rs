//! Start here: the write budget of the edge monitor. A probe that changes
//! nothing must cost far less than one database row.
//!
//! D1's free plan allows 100,000 rows written a day; 10,000 monitors at 60 s
//! are 14.4 M probes a day. So verdicts are not stored one row each. Each
//! monitor has an [`Accumulator`], kept in memory by the host (a Durable
//! Object, or an isolate's memory with checkpoints), that every probe's
//! [`Observation`] goes through. [`Accumulator::observe`] answers with the few
//! rows worth writing ([`Write`]):
//!
//! - [`Write::StateChange`] when status or mode differs from the previous
//!   probe (and on the very first probe), carrying the verdict that changed it;
//! - [`Write::Drift`] when the tool list's hash differs from the last one seen;
//! - [`Write::HourlyRollup`] once per finished hour: probes, failures by mode,
//!   p50/p95 latency and the latency [`Histogram`] they come from;
//! - [`Write::Checkpoint`]: the accumulator itself, at most once per 10-minute
//!   window of the host's clock, so an evicted isolate loses at most about ten
//!   minutes of counts; and right after a state change or drift, so a restored
//!   accumulator never reports the same change twice.
//!
//! [`daily_rollups`] folds hourly rows into [`Write::DailyRollup`]s (histograms
//! merge, so daily p95 is exact to a bucket, not an average of hourly ones).
//!
//! Every write carries an idempotency key, `{monitor}:{kind}:{ms}`, derived
//! from the observations only. Two cron runs that overlap and write the same
//! row produce one row: the host inserts with `INSERT OR IGNORE` (or
//! `ON CONFLICT DO NOTHING`) on that key.
//!
//! Rows per day at 10,000 monitors (measured by `tests/rollup_budget.rs`):
//! one row per write is ~0.018 rows a probe, dominated by 240,000 hourly rows,
//! which is well under one row a probe but over the free plan's 100,000 a day
//! on hourly rows alone. [`pack`] is the way under it: the periodic rows of a
//! host's unit of work (a shard of monitors, a Queue batch) go into one row
//! per kind and period, while state changes and drift keep a row each. Readers
//! unpack the items and deduplicate them by their own keys.
//!
//! For the host, in short:
//! - single rows (`state`, `drift`): `INSERT OR IGNORE` keyed by
//!   [`Write::key`], with the monitor id and time as columns to query by;
//! - packed rows: `INSERT OR IGNORE` keyed by [`Row::Packed`]'s key, the
//!   items as a JSON array (`serde_json` of the [`Write`]s);
//! - checkpoints: wherever the accumulators live (Durable Object storage, or
//!   a packed D1 row); restoring takes the newest checkpoint item of a monitor;
//! - keep indexes on these tables few: D1 counts an index update as a row
//!   written too, so every extra index multiplies the figures above.
//!
//! Time is always an argument (ms since the Unix epoch); hours and days are
//! UTC, since Unix time has no time zone and no leap seconds.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use mcprobe_core::verdict::{Mode, Status, Verdict};

pub const HOUR_MS: u64 = 3_600_000;
pub const DAY_MS: u64 = 86_400_000;
/// Checkpoint window: the most counts an evicted isolate can lose.
pub const CHECKPOINT_EVERY_MS: u64 = 600_000;

// ---------------------------------------------------------------------------
// Latency histogram

/// Fixed log-spaced bucket bounds, 1 ms to 60 s, about 20% wide. Stored
/// histograms index into this table: it must never change (a new table needs
/// a new histogram kind).
const BOUNDS: [u64; BUCKETS - 1] = bounds();
/// 55 bounded buckets plus one for everything over 60 s.
const BUCKETS: usize = 56;
const MAX_BOUND_MS: u64 = 60_000;

/// Bucket `i` holds values in `(BOUNDS[i-1], BOUNDS[i]]`; each bound is the
/// previous one times 1.2 rounded up, and at least one more.
const fn bounds() -> [u64; BUCKETS - 1] {
    let mut out = [0u64; BUCKETS - 1];
    out[0] = 1;
    let mut i = 1;
    while i < BUCKETS - 1 {
        let prev = out[i - 1];
        let grown = (prev * 6).div_ceil(5);
        let next = if grown > prev + 1 { grown } else { prev + 1 };
        out[i] = if next > MAX_BOUND_MS {
            MAX_BOUND_MS
        } else {
            next
        };
        i += 1;
    }
    out
}

/// Latency counts in fixed buckets: p50/p95 without keeping samples, a few
/// hundred bytes at most, and mergeable across hours and days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "HistogramWire", try_from = "HistogramWire")]
pub struct Histogram {
    counts: [u32; BUCKETS],
    max_ms: u64,
}

/// Stored form: only the non-empty buckets, as `[index, count]` pairs.
#[derive(Serialize, Deserialize)]
struct HistogramWire {
    buckets: Vec<[u64; 2]>,
    max_ms: u64,
}

impl From<Histogram> for HistogramWire {
    fn from(h: Histogram) -> HistogramWire {
        HistogramWire {
            buckets: h
                .counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, c)| [i as u64, u64::from(*c)])
                .collect(),
            max_ms: h.max_ms,
        }
    }
}

impl TryFrom<HistogramWire> for Histogram {
    type Error = String;
    fn try_from(w: HistogramWire) -> Result<Histogram, String> {
        let mut h = Histogram::new();
        for [i, c] in w.buckets {
            let slot = usize::try_from(i)
                .ok()
                .and_then(|i| h.counts.get_mut(i))
                .ok_or_else(|| format!("histogram bucket {i} out of range 0..{BUCKETS}"))?;
            *slot = slot.saturating_add(u32::try_from(c).unwrap_or(u32::MAX));
        }
        h.max_ms = w.max_ms;
        Ok(h)
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            counts: [0; BUCKETS],
            max_ms: 0,
        }
    }

    /// The bucket a value falls in (0 and 1 ms share bucket 0).
    pub fn bucket_of(ms: u64) -> usize {
        BOUNDS.partition_point(|&b| b < ms)
    }

    /// The largest value of bucket `i` (`u64::MAX` for the overflow bucket).
    pub fn bucket_upper(i: usize) -> u64 {
        BOUNDS.get(i).copied().unwrap_or(u64::MAX)
    }

    pub fn record(&mut self, ms: u64) {
        let i = Histogram::bucket_of(ms);
        self.counts[i] = self.counts[i].saturating_add(1);
        self.max_ms = self.max_ms.max(ms);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.max_ms = self.max_ms.max(other.max_ms);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// The `p`-th percentile (0..=100) by nearest rank, the same definition
    /// as [`crate::stats::percentile`]: the upper bound of the bucket that
    /// holds that rank, capped by the largest value seen, so the estimate is
    /// in the same bucket as the exact answer. `None` when empty.
    pub fn percentile(&self, p: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((p.clamp(0.0, 100.0) / 100.0) * n as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return Some(Histogram::bucket_upper(i).min(self.max_ms));
            }
        }
        Some(self.max_ms)
    }
}

// ---------------------------------------------------------------------------
// Observations and writes

/// What the write path needs from one probe's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// When the probe started (ms since the epoch, host clock).
    pub at_ms: u64,
    pub status: Status,
    pub mode: Mode,
    pub elapsed_ms: u64,
    /// `sha256:...` of the tool list, when the probe got that far.
    pub tools_hash: Option<String>,
    pub reason: String,
    /// The whole verdict, stored only with a state change.
    pub verdict_json: String,
}

impl Observation {
    /// The summary of a verdict. `at_ms` is the host's clock at the probe's
    /// start (the verdict's `checked_at` says the same in RFC 3339).
    pub fn from_verdict(v: &Verdict, at_ms: u64) -> Observation {
        Observation {
            at_ms,
            status: v.status,
            mode: v.mode,
            elapsed_ms: v.elapsed_ms,
            tools_hash: v.tools.as_ref().map(|t| t.hash.clone()),
            reason: v.reason.clone(),
            // A Verdict has no map with non-string keys, so this cannot fail;
            // an empty text would still leave the row's other columns right.
            verdict_json: serde_json::to_string(v).unwrap_or_default(),
        }
    }
}

/// Probes, failures and latency of one period (an hour or a UTC day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    pub key: String,
    pub monitor_id: String,
    /// Start of the hour or day (ms since the epoch, UTC).
    pub start_ms: u64,
    pub probes: u32,
    /// Probes whose status was not up, by mode code (`timeout`, ...).
    pub failures_by_mode: BTreeMap<String, u32>,
    /// Over probes that reached the server (status not down), as in
    /// [`crate::stats::latency`]; `None` when there were none.
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    pub latency: Histogram,
}

impl Rollup {
    /// Probes whose status was down (uptime = 1 - down / probes, as
    /// [`crate::stats::uptime`] counts it: degraded is up).
    pub fn down_probes(&self) -> u32 {
        self.failures_by_mode
            .iter()
            .filter(|(code, _)| {
                Mode::from_code(code).is_some_and(|m| m.status_severity(false).0 == Status::Down)
            })
            .map(|(_, n)| *n)
            .sum()
    }
}

/// One row to write. The host inserts it with `INSERT OR IGNORE` on
/// [`Write::key`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Write {
    StateChange {
        key: String,
        monitor_id: String,
        at_ms: u64,
        status: Status,
        mode: Mode,
        reason: String,
        verdict_json: String,
    },
    Drift {
        key: String,
        monitor_id: String,
        at_ms: u64,
        from_hash: String,
        to_hash: String,
    },
    HourlyRollup(Rollup),
    DailyRollup(Rollup),
    /// The accumulator to save (replacing the previous save), so a new
    /// isolate can go on from it. `at_ms` is its last observation.
    Checkpoint {
        key: String,
        monitor_id: String,
        at_ms: u64,
        state: Box<Accumulator>,
    },
}

impl Write {
    pub fn key(&self) -> &str {
        match self {
            Write::StateChange { key, .. }
            | Write::Drift { key, .. }
            | Write::Checkpoint { key, .. } => key,
            Write::HourlyRollup(r) | Write::DailyRollup(r) => &r.key,
        }
    }

    pub fn monitor_id(&self) -> &str {
        match self {
            Write::StateChange { monitor_id, .. }
            | Write::Drift { monitor_id, .. }
            | Write::Checkpoint { monitor_id, .. } => monitor_id,
            Write::HourlyRollup(r) | Write::DailyRollup(r) => &r.monitor_id,
        }
    }

    /// The stable kind code, also the middle part of the key.
    pub fn kind(&self) -> &'static str {
        match self {
            Write::StateChange { .. } => "state",
            Write::Drift { .. } => "drift",
            Write::HourlyRollup(_) => "hourly",
            Write::DailyRollup(_) => "daily",
            Write::Checkpoint { .. } => "checkpoint",
        }
    }
}

fn key(monitor_id: &str, kind: &str, ms: u64) -> String {
    // The id comes first and the kind and time last, so a key reads back
    // unambiguously from the right even if an id held a ':'.
    format!("{monitor_id}:{kind}:{ms}")
}

fn floor_to(ms: u64, period: u64) -> u64 {
    ms - ms % period
}

// ---------------------------------------------------------------------------
// The accumulator

/// The open hour of a monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct HourBucket {
    hour_start_ms: u64,
    probes: u32,
    failures_by_mode: BTreeMap<String, u32>,
    latency: Histogram,
}

impl HourBucket {
    fn new(hour_start_ms: u64) -> HourBucket {
        HourBucket {
            hour_start_ms,
            probes: 0,
            failures_by_mode: BTreeMap::new(),
            latency: Histogram::new(),
        }
    }

    fn to_rollup(&self, monitor_id: &str) -> Rollup {
        Rollup {
            key: key(monitor_id, "hourly", self.hour_start_ms),
            monitor_id: monitor_id.to_string(),
            start_ms: self.hour_start_ms,
            probes: self.probes,
            failures_by_mode: self.failures_by_mode.clone(),
            p50_ms: self.latency.percentile(50.0),
            p95_ms: self.latency.percentile(95.0),
            latency: self.latency.clone(),
        }
    }
}

/// The last probe a monitor saw: what the next one is compared with, and what
/// `/metrics` and the status route show between rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastProbe {
    pub at_ms: u64,
    pub status: Status,
    pub mode: Mode,
    pub elapsed_ms: u64,
    /// The last tool-list hash seen (kept through probes that did not get
    /// that far: a server that is down has not changed its tools).
    pub tools_hash: Option<String>,
}

/// A monitor's in-memory aggregate between rows. Serialisable so the host can
/// checkpoint it and restore it in another isolate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accumulator {
    monitor_id: String,
    hour: Option<HourBucket>,
    last: Option<LastProbe>,
    /// Host clock of the last checkpoint (0: never).
    last_flush_ms: u64,
}

impl Accumulator {
    pub fn new(monitor_id: &str) -> Accumulator {
        Accumulator {
            monitor_id: monitor_id.to_string(),
            hour: None,
            last: None,
            last_flush_ms: 0,
        }
    }

    pub fn monitor_id(&self) -> &str {
        &self.monitor_id
    }

    pub fn last_probe(&self) -> Option<&LastProbe> {
        self.last.as_ref()
    }

    /// The open hour so far (for live figures before its row exists).
    pub fn current_hour(&self) -> Option<Rollup> {
        self.hour.as_ref().map(|b| b.to_rollup(&self.monitor_id))
    }

    /// Takes one probe's observation; `now_ms` is the host's clock. Returns
    /// the rows to write, usually none.
    ///
    /// Observations must come in order: one at or before the last observed
    /// instant is ignored (a redelivered message, or one replayed after a
    /// restore, is already counted; a late one belongs to a row that may be
    /// written already and rows are never rewritten).
    pub fn observe(&mut self, obs: &Observation, now_ms: u64) -> Vec<Write> {
        if self.last.as_ref().is_some_and(|l| obs.at_ms <= l.at_ms) {
            return Vec::new();
        }
        let mut out = Vec::new();

        let hour = floor_to(obs.at_ms, HOUR_MS);
        if let Some(b) = &self.hour {
            if b.hour_start_ms < hour {
                out.push(Write::HourlyRollup(b.to_rollup(&self.monitor_id)));
                self.hour = None;
            }
        }
        let bucket = self.hour.get_or_insert_with(|| HourBucket::new(hour));
        bucket.probes = bucket.probes.saturating_add(1);
        if obs.status != Status::Up {
            let n = bucket
                .failures_by_mode
                .entry(obs.mode.as_str().to_string())
                .or_insert(0);
            *n = n.saturating_add(1);
        }
        // A down probe's elapsed time is how long failing took (up to the
        // deadline), not the server's latency.
        if obs.status != Status::Down {
            bucket.latency.record(obs.elapsed_ms);
        }

        let changed = self
            .last
            .as_ref()
            .is_none_or(|l| l.status != obs.status || l.mode != obs.mode);
        if changed {
            out.push(Write::StateChange {
                key: key(&self.monitor_id, "state", obs.at_ms),
                monitor_id: self.monitor_id.clone(),
                at_ms: obs.at_ms,
                status: obs.status,
                mode: obs.mode,
                reason: obs.reason.clone(),
                verdict_json: obs.verdict_json.clone(),
            });
        }

        let prev_hash = self.last.as_mut().and_then(|l| l.tools_hash.take());
        let mut drifted = false;
        if let (Some(from), Some(to)) = (&prev_hash, &obs.tools_hash) {
            if from != to {
                drifted = true;
                out.push(Write::Drift {
                    key: key(&self.monitor_id, "drift", obs.at_ms),
                    monitor_id: self.monitor_id.clone(),
                    at_ms: obs.at_ms,
                    from_hash: from.clone(),
                    to_hash: to.clone(),
                });
            }
        }
        self.last = Some(LastProbe {
            at_ms: obs.at_ms,
            status: obs.status,
            mode: obs.mode,
            elapsed_ms: obs.elapsed_ms,
            tools_hash: obs.tools_hash.clone().or(prev_hash),
        });

        // Windows aligned to the clock (not "10 minutes since the last one")
        // so that all the monitors a host handles together checkpoint in the
        // same window and `pack` can put them in one row.
        let new_window = self.last_flush_ms == 0
            || floor_to(now_ms, CHECKPOINT_EVERY_MS)
                > floor_to(self.last_flush_ms, CHECKPOINT_EVERY_MS);
        if changed || drifted || new_window {
            self.last_flush_ms = now_ms.max(1);
            out.push(Write::Checkpoint {
                key: key(&self.monitor_id, "checkpoint", obs.at_ms),
                monitor_id: self.monitor_id.clone(),
                at_ms: obs.at_ms,
                state: Box::new(self.clone()),
            });
        }
        out
    }

    /// Emits the open hour's row once its hour is over at `now_ms`, for a
    /// monitor that may not be probed again soon (paused, deleted, or the
    /// host's end-of-hour sweep). The next observation opens a new hour.
    pub fn flush(&mut self, now_ms: u64) -> Vec<Write> {
        match &self.hour {
            Some(b) if now_ms >= b.hour_start_ms.saturating_add(HOUR_MS) => {
                let row = Write::HourlyRollup(b.to_rollup(&self.monitor_id));
                self.hour = None;
                vec![row]
            }
            _ => Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------
// Daily roll-ups

/// Folds hourly roll-ups into one daily roll-up per monitor and UTC day,
/// ordered by monitor then day. Hourly rows with the same key (read twice,
/// e.g. from two packed rows of overlapping runs) count once.
pub fn daily_rollups(hourly: &[Rollup]) -> Vec<Write> {
    let mut seen = BTreeSet::new();
    let mut days: BTreeMap<(&str, u64), Rollup> = BTreeMap::new();
    for h in hourly {
        if !seen.insert(h.key.as_str()) {
            continue;
        }
        let day = floor_to(h.start_ms, DAY_MS);
        let d = days
            .entry((h.monitor_id.as_str(), day))
            .or_insert_with(|| Rollup {
                key: key(&h.monitor_id, "daily", day),
                monitor_id: h.monitor_id.clone(),
                start_ms: day,
                probes: 0,
                failures_by_mode: BTreeMap::new(),
                p50_ms: None,
                p95_ms: None,
                latency: Histogram::new(),
            });
        d.probes = d.probes.saturating_add(h.probes);
        for (mode, n) in &h.failures_by_mode {
            let e = d.failures_by_mode.entry(mode.clone()).or_insert(0);
            *e = e.saturating_add(*n);
        }
        d.latency.merge(&h.latency);
    }
    days.into_values()
        .map(|mut d| {
            d.p50_ms = d.latency.percentile(50.0);
            d.p95_ms = d.latency.percentile(95.0);
            Write::DailyRollup(d)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Packing into rows

/// A database row made of writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Row<'a> {
    /// A state change or a drift event: one row each, found by monitor.
    Single(&'a Write),
    /// The hourly or daily roll-ups, or the checkpoints, of one shard and one
    /// period, written as one row (its items as a JSON array).
    Packed {
        /// `{shard}:{kind}:{start_ms}:{digest of the item keys}`. The digest
        /// means two overlapping runs that packed different items write two
        /// rows (readers deduplicate items by their keys) instead of the
        /// second being dropped, while identical packs still collapse to one.
        key: String,
        kind: &'static str,
        start_ms: u64,
        items: Vec<&'a Write>,
    },
}

impl Row<'_> {
    pub fn key(&self) -> String {
        match self {
            Row::Single(w) => w.key().to_string(),
            Row::Packed { key, .. } => key.clone(),
        }
    }
}

/// Groups the writes of one shard (the monitors a host handles together) into
/// rows: state changes and drift stay one row each; the periodic writes go one
/// row per kind and period (hour, day, checkpoint window).
pub fn pack<'a>(shard: &str, writes: &'a [Write]) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    let mut groups: BTreeMap<(&'static str, u64), Vec<&'a Write>> = BTreeMap::new();
    for w in writes {
        match w {
            Write::StateChange { .. } | Write::Drift { .. } => rows.push(Row::Single(w)),
            Write::HourlyRollup(r) | Write::DailyRollup(r) => {
                groups.entry((w.kind(), r.start_ms)).or_default().push(w)
            }
            Write::Checkpoint { at_ms, .. } => groups
                .entry((w.kind(), floor_to(*at_ms, CHECKPOINT_EVERY_MS)))
                .or_default()
                .push(w),
        }
    }
    for ((kind, start_ms), mut items) in groups {
        items.sort_by(|a, b| a.key().cmp(b.key()));
        items.dedup_by(|a, b| a.key() == b.key());
        let mut joined = String::new();
        for w in &items {
            joined.push_str(w.key());
            joined.push('\n');
        }
        let digest = mcprobe_core::fingerprint::sha256_tag(joined.as_bytes());
        let short = digest.trim_start_matches("sha256:");
        let short = short.get(..16).unwrap_or(short);
        rows.push(Row::Packed {
            key: format!("{shard}:{kind}:{start_ms}:{short}"),
            kind,
            start_ms,
            items,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const H0: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    fn obs(
        at_ms: u64,
        status: Status,
        mode: Mode,
        elapsed_ms: u64,
        hash: Option<&str>,
    ) -> Observation {
        Observation {
            at_ms,
            status,
            mode,
            elapsed_ms,
            tools_hash: hash.map(str::to_string),
            reason: format!("{} at {at_ms}", mode.as_str()),
            verdict_json: format!("{{\"mode\":\"{}\"}}", mode.as_str()),
        }
    }

    fn up(at_ms: u64, ms: u64) -> Observation {
        obs(at_ms, Status::Up, Mode::Ok, ms, Some("sha256:a"))
    }

    fn down(at_ms: u64) -> Observation {
        obs(at_ms, Status::Down, Mode::Timeout, 10_000, None)
    }

    fn kinds(w: &[Write]) -> Vec<&'static str> {
        w.iter().map(Write::kind).collect()
    }

    #[test]
    fn bounds_are_log_spaced_from_1_ms_to_60_s() {
        assert_eq!(BOUNDS[0], 1);
        assert_eq!(BOUNDS[BOUNDS.len() - 1], 60_000);
        assert!(BOUNDS.windows(2).all(|w| w[0] < w[1]));
        for w in BOUNDS[10..].windows(2) {
            let ratio = w[1] as f64 / w[0] as f64;
            assert!((1.15..1.25).contains(&ratio), "{w:?}");
        }
        // Pinned: stored histograms index this table.
        assert_eq!(&BOUNDS[..8], &[1, 2, 3, 4, 5, 6, 8, 10]);
        assert_eq!(BOUNDS[30], 768);
        assert_eq!(Histogram::bucket_of(0), 0);
        assert_eq!(Histogram::bucket_of(1), 0);
        assert_eq!(Histogram::bucket_of(2), 1);
        assert_eq!(Histogram::bucket_of(7), 6);
        assert_eq!(Histogram::bucket_of(60_000), 54);
        assert_eq!(Histogram::bucket_of(60_001), 55);
        assert_eq!(Histogram::bucket_of(u64::MAX), 55);
    }

    #[test]
    fn histogram_percentiles_merge_and_round_trip() {
        let mut h = Histogram::new();
        assert_eq!(h.percentile(50.0), None);
        for ms in 1..=100 {
            h.record(ms);
        }
        // Exact p50 is 50, in bucket (48, 58]: capped at the bucket's bound.
        assert_eq!(h.percentile(50.0), Some(58));
        // Exact p95 is 95, in bucket (84, 101]; the largest value seen is 100.
        assert_eq!(h.percentile(95.0), Some(100));
        assert_eq!(h.percentile(100.0), Some(100));
        let mut all_same = Histogram::new();
        all_same.record(50);
        all_same.record(50);
        assert_eq!(all_same.percentile(95.0), Some(50));
        let mut slow = Histogram::new();
        slow.record(90_000);
        assert_eq!(slow.percentile(50.0), Some(90_000));
        h.merge(&slow);
        assert_eq!((h.count(), h.percentile(100.0)), (101, Some(90_000)));

        let json = serde_json::to_string(&h).unwrap();
        assert!(json.starts_with("{\"buckets\":[[0,1],[1,1]"), "{json}");
        let back: Histogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
        // A corrupt checkpoint is an error, not a panic.
        let bad = serde_json::from_str::<Histogram>(r#"{"buckets":[[56,1]],"max_ms":0}"#);
        assert!(bad.unwrap_err().to_string().contains("out of range"));
    }

    #[test]
    fn a_steady_monitor_writes_one_state_change_then_only_periodic_rows() {
        let mut acc = Accumulator::new("m1");
        let first = acc.observe(&up(H0 + 5_000, 100), H0 + 5_100);
        assert_eq!(kinds(&first), vec!["state", "checkpoint"]);
        assert_eq!(first[0].key(), format!("m1:state:{}", H0 + 5_000));
        let mut later = Vec::new();
        for m in 1..60 {
            let t = H0 + m * 60_000 + 5_000;
            later.extend(acc.observe(&up(t, 100 + m), t + 200));
        }
        // Checkpoints at minutes 10, 20, ... 50 only.
        assert_eq!(kinds(&later), vec!["checkpoint"; 5]);
        // The first probe of the next hour closes the hour, once.
        let t = H0 + HOUR_MS + 5_000;
        let next = acc.observe(&up(t, 100), t + 100);
        assert_eq!(kinds(&next), vec!["hourly", "checkpoint"]);
        let Write::HourlyRollup(r) = &next[0] else {
            unreachable!()
        };
        assert_eq!(r.key, format!("m1:hourly:{H0}"));
        assert_eq!((r.probes, r.failures_by_mode.len()), (60, 0));
        assert!(
            r.p50_ms.is_some_and(|p| (120..=160).contains(&p)),
            "{:?}",
            r.p50_ms
        );
        assert_eq!(r.down_probes(), 0);
    }

    #[test]
    fn each_change_is_reported_once_with_its_verdict() {
        let mut acc = Accumulator::new("m");
        let mut w = Vec::new();
        let trace = [
            up(H0, 50),
            up(H0 + 60_000, 50),
            down(H0 + 120_000),
            down(H0 + 180_000),
            // Same status, another mode: a change.
            obs(H0 + 240_000, Status::Down, Mode::ConnectRefused, 3, None),
            up(H0 + 300_000, 50),
            up(H0 + 360_000, 50),
        ];
        for o in &trace {
            w.extend(acc.observe(o, o.at_ms + 10));
        }
        let states: Vec<(u64, Mode)> = w
            .iter()
            .filter_map(|w| match w {
                Write::StateChange {
                    at_ms,
                    mode,
                    verdict_json,
                    ..
                } => {
                    assert!(verdict_json.contains(mode.as_str()));
                    Some((*at_ms - H0, *mode))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            states,
            vec![
                (0, Mode::Ok),
                (120_000, Mode::Timeout),
                (240_000, Mode::ConnectRefused),
                (300_000, Mode::Ok)
            ]
        );
        // Every change is followed by a checkpoint of the state after it.
        for (i, x) in w.iter().enumerate() {
            if x.kind() == "state" {
                assert_eq!(w[i + 1].kind(), "checkpoint");
            }
        }
        let hour = acc.current_hour().unwrap();
        assert_eq!(hour.probes, 7);
        assert_eq!(
            hour.failures_by_mode,
            BTreeMap::from([("connect_refused".into(), 1), ("timeout".into(), 2)])
        );
        assert_eq!(hour.down_probes(), 3);
        // Down probes' 10 s do not count as latency.
        assert_eq!(hour.latency.count(), 4);
        assert_eq!(hour.p95_ms, Some(50));
    }

    #[test]
    fn drift_is_the_hash_changing_not_disappearing() {
        let mut acc = Accumulator::new("m");
        let a = |t| obs(t, Status::Up, Mode::Ok, 10, Some("sha256:a"));
        let b = |t| obs(t, Status::Up, Mode::Ok, 10, Some("sha256:b"));
        let mut w = Vec::new();
        for o in [a(H0), down(H0 + 1), a(H0 + 2), b(H0 + 3), b(H0 + 4)] {
            w.extend(acc.observe(&o, o.at_ms));
        }
        let drifts: Vec<_> = w.iter().filter(|w| w.kind() == "drift").collect();
        assert_eq!(drifts.len(), 1);
        let Write::Drift {
            from_hash,
            to_hash,
            key,
            ..
        } = drifts[0]
        else {
            unreachable!()
        };
        assert_eq!(
            (from_hash.as_str(), to_hash.as_str()),
            ("sha256:a", "sha256:b")
        );
        assert_eq!(key, &format!("m:drift:{}", H0 + 3));
        assert_eq!(
            acc.last_probe().unwrap().tools_hash.as_deref(),
            Some("sha256:b")
        );
    }

    #[test]
    fn replays_and_late_observations_are_ignored() {
        let mut acc = Accumulator::new("m");
        acc.observe(&up(H0 + 1000, 5), H0 + 1000);
        let before = acc.clone();
        assert!(acc.observe(&up(H0 + 1000, 5), H0 + 2000).is_empty());
        assert!(acc.observe(&down(H0 + 999), H0 + 2000).is_empty());
        assert_eq!(acc, before);
    }

    #[test]
    fn a_restored_checkpoint_goes_on_exactly_like_the_original() {
        let mut acc = Accumulator::new("m");
        let trace: Vec<Observation> = (0..200)
            .map(|i| {
                let t = H0 + i * 60_000 + 7_000;
                if (50..80).contains(&i) {
                    down(t)
                } else {
                    up(t, 40 + i % 30)
                }
            })
            .collect();
        let mut saved = None;
        let mut split = 0;
        for (i, o) in trace.iter().enumerate() {
            for w in acc.observe(o, o.at_ms + 100) {
                if let Write::Checkpoint { state, .. } = w {
                    if i < 120 {
                        saved = Some(serde_json::to_string(&state).unwrap());
                        split = i;
                    }
                }
            }
        }
        // Evicted: a new isolate restores the last checkpoint before #120 and
        // is fed everything after it (including the checkpointed probe again).
        let mut restored: Accumulator = serde_json::from_str(&saved.unwrap()).unwrap();
        let mut original = Accumulator::new("m");
        let mut from_original = Vec::new();
        let mut from_restored = Vec::new();
        for (i, o) in trace.iter().enumerate() {
            let w = original.observe(o, o.at_ms + 100);
            if i > split {
                from_original.extend(w);
            }
            if i >= split {
                from_restored.extend(restored.observe(o, o.at_ms + 100));
            }
        }
        assert!(!from_original.is_empty());
        assert_eq!(from_restored, from_original);
    }

    #[test]
    fn flush_closes_only_a_finished_hour() {
        let mut acc = Accumulator::new("m");
        acc.observe(&up(H0 + 10, 5), H0 + 10);
        assert!(acc.flush(H0 + HOUR_MS - 1).is_empty());
        let w = acc.flush(H0 + HOUR_MS);
        assert_eq!(kinds(&w), vec!["hourly"]);
        assert!(acc.flush(H0 + 2 * HOUR_MS).is_empty());
        // The next probe opens a new hour and closes nothing.
        let w = acc.observe(&up(H0 + HOUR_MS + 10, 5), H0 + HOUR_MS + 10);
        assert!(!kinds(&w).contains(&"hourly"));
    }

    #[test]
    fn daily_rollups_merge_hours_by_utc_day() {
        let mut hourly = Vec::new();
        for (id, hours) in [("a", 0..26u64), ("b", 5..7u64)] {
            let mut acc = Accumulator::new(id);
            for h in hours {
                let t = H0 + h * HOUR_MS;
                acc.observe(&up(t + 1, 10 + h), t + 1);
                acc.observe(&down(t + 2), t + 2);
                for w in acc.flush(t + HOUR_MS) {
                    let Write::HourlyRollup(r) = w else {
                        unreachable!()
                    };
                    hourly.push(r);
                }
            }
        }
        // A row read twice counts once.
        hourly.push(hourly[3].clone());
        let days = daily_rollups(&hourly);
        let got: Vec<(&str, u64, u32, u32)> = days
            .iter()
            .map(|w| {
                let Write::DailyRollup(r) = w else {
                    unreachable!()
                };
                (r.monitor_id.as_str(), r.start_ms, r.probes, r.down_probes())
            })
            .collect();
        assert_eq!(
            got,
            vec![("a", H0, 48, 24), ("a", H0 + DAY_MS, 4, 2), ("b", H0, 4, 2)]
        );
        let Write::DailyRollup(a0) = &days[0] else {
            unreachable!()
        };
        assert_eq!(a0.key, format!("a:daily:{H0}"));
        assert_eq!(a0.latency.count(), 24);
        // Exact p95 of 10..=33 is 32, in bucket (27, 33].
        assert_eq!(a0.p95_ms, Some(33));
    }

    #[test]
    fn pack_keeps_events_single_and_groups_periodic_rows() {
        let mut writes = Vec::new();
        for id in ["a", "b", "c"] {
            let mut acc = Accumulator::new(id);
            writes.extend(acc.observe(&up(H0 + 1, 5), H0 + 1));
            writes.extend(acc.flush(H0 + HOUR_MS));
        }
        let rows = pack("s1", &writes);
        let singles = rows.iter().filter(|r| matches!(r, Row::Single(_))).count();
        assert_eq!(singles, 3);
        let packed: Vec<(&str, usize)> = rows
            .iter()
            .filter_map(|r| match r {
                Row::Packed {
                    kind, items, key, ..
                } => {
                    assert!(key.starts_with(&format!("s1:{kind}:")), "{key}");
                    Some((*kind, items.len()))
                }
                Row::Single(_) => None,
            })
            .collect();
        assert_eq!(packed, vec![("checkpoint", 3), ("hourly", 3)]);
        // Same items, same key; different items, different key.
        let again = pack("s1", &writes);
        assert_eq!(
            rows.iter().map(Row::key).collect::<Vec<_>>(),
            again.iter().map(Row::key).collect::<Vec<_>>()
        );
        let fewer = pack("s1", &writes[..writes.len() - 1]);
        let hourly_key = |rows: &[Row]| {
            rows.iter()
                .find(|r| matches!(r, Row::Packed { kind: "hourly", .. }))
                .map(Row::key)
        };
        assert_ne!(hourly_key(&rows), hourly_key(&fewer));
    }

    #[test]
    fn observation_from_a_verdict() {
        let v: Verdict = serde_json::from_value(serde_json::json!({
            "url": "https://e.com/mcp", "status": "down", "mode": "timeout",
            "severity": "P1", "reason": "no answer in 10 s", "hint": "check it",
            "tools": {"count": 1, "hash": "sha256:ff", "names": ["x"]},
            "steps": [], "findings": [], "checked_at": "2026-01-01T00:00:00Z",
            "elapsed_ms": 10_000
        }))
        .unwrap();
        let o = Observation::from_verdict(&v, H0);
        assert_eq!(
            (o.at_ms, o.status, o.mode, o.elapsed_ms),
            (H0, Status::Down, Mode::Timeout, 10_000)
        );
        assert_eq!(o.tools_hash.as_deref(), Some("sha256:ff"));
        assert_eq!(o.reason, "no answer in 10 s");
        let back: Verdict = serde_json::from_str(&o.verdict_json).unwrap();
        assert_eq!(back, v);
    }
}
