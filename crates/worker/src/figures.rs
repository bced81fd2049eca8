//! Start here: what the monitor knows about a server, read back: the
//! [`Figures`] of one monitor, which the status route ([`crate::status`])
//! and the badges ([`crate::badges`]) both answer from.
//!
//! Sources, newest first: the monitor's accumulator in this isolate's memory
//! (the open hour and the last probe), else its `monitor_state` row (written
//! at each change); the finished hours come from the packed `rollups` rows.
//! Uptime is the share of probes not down (degraded counts as up, as in
//! `mcprobe_monitor::stats`), p50/p95 come from the merged latency histograms
//! (`rollup::Histogram`), over the last 24 h.

use std::collections::BTreeSet;

use mcprobe_core::{Mode, Status};

use mcprobe_monitor::rollup::{Accumulator, Histogram, Rollup, Write, DAY_MS, HOUR_MS};
use serde_json::Value;

use crate::error::{db_err, ApiError};
use crate::state;
use crate::store::{col_str, col_u64, Param, Store};
use crate::writer;

/// The uptime windows the status route reports.
pub const WINDOWS: [(&str, u64); 4] = [
    ("24h", DAY_MS),
    ("7d", 7 * DAY_MS),
    ("30d", 30 * DAY_MS),
    ("90d", 90 * DAY_MS),
];

/// What is known of one monitor now.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub status: Option<Status>,
    pub mode: Option<Mode>,
    pub last_check_ms: Option<u64>,
    pub last_elapsed_ms: Option<u64>,
    /// The verdict of the last change (status, mode or tool list).
    pub verdict: Option<Value>,
    pub uptime: Uptimes,
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
}

fn parse_status(s: &str) -> Option<Status> {
    serde_json::from_value(Value::String(s.to_string())).ok()
}

fn parse_mode(s: &str) -> Option<Mode> {
    serde_json::from_value(Value::String(s.to_string())).ok()
}

/// Uptime per [`WINDOWS`] entry (`None`: no probes in it).
pub type Uptimes = Vec<(&'static str, Option<f64>)>;

/// Uptime per window and the 24 h latency percentiles (pure, host-tested).
/// Windows up to 7 days count hourly roll-ups; longer ones count the daily
/// roll-ups and, after the last day those cover, the hourly ones. Roll-ups
/// with one key count once.
pub fn summarise(
    hours: &[Rollup],
    days: &[Rollup],
    now_ms: u64,
) -> (Uptimes, Option<u64>, Option<u64>) {
    let mut seen = BTreeSet::new();
    let hours: Vec<&Rollup> = hours
        .iter()
        .filter(|r| seen.insert(r.key.clone()))
        .collect();
    let days: Vec<&Rollup> = days.iter().filter(|r| seen.insert(r.key.clone())).collect();
    let covered_until = days.iter().map(|d| d.start_ms + DAY_MS).max().unwrap_or(0);
    let uptime = WINDOWS
        .iter()
        .map(|(name, window)| {
            let since = now_ms.saturating_sub(*window);
            // A period counts when any of it is inside the window (periods
            // are the resolution of what is stored).
            let periods: Vec<&&Rollup> =
                if *window <= 7 * DAY_MS {
                    hours
                        .iter()
                        .filter(|r| r.start_ms + HOUR_MS > since)
                        .collect()
                } else {
                    days.iter()
                        .filter(|r| r.start_ms + DAY_MS > since)
                        .chain(hours.iter().filter(|r| {
                            r.start_ms >= covered_until && r.start_ms + HOUR_MS > since
                        }))
                        .collect()
                };
            let (probes, down) = periods.iter().fold((0u64, 0u64), |(p, d), r| {
                (p + u64::from(r.probes), d + u64::from(r.down_probes()))
            });
            let up = (probes > 0).then(|| (probes - down.min(probes)) as f64 / probes as f64);
            (*name, up)
        })
        .collect();
    let mut h = Histogram::new();
    for r in hours
        .iter()
        .filter(|r| r.start_ms + HOUR_MS + DAY_MS > now_ms)
    {
        h.merge(&r.latency);
    }
    (uptime, h.percentile(50.0), h.percentile(95.0))
}

/// The hourly (last 8 days) and daily (last 91 days) roll-ups of a monitor,
/// read by key range from its shard.
pub async fn rollups<S: Store>(
    store: &S,
    id: &str,
    now_ms: u64,
) -> Result<(Vec<Rollup>, Vec<Rollup>), ApiError> {
    let unpack = |ws: Vec<Write>| -> Vec<Rollup> {
        ws.into_iter()
            .filter_map(|w| match w {
                Write::HourlyRollup(r) | Write::DailyRollup(r) => Some(r),
                _ => None,
            })
            .collect()
    };
    let hours = writer::shard_items(store, id, "hourly", now_ms.saturating_sub(8 * DAY_MS))
        .await
        .map_err(db_err)?;
    let days = writer::shard_items(store, id, "daily", now_ms.saturating_sub(91 * DAY_MS))
        .await
        .map_err(db_err)?;
    Ok((unpack(hours), unpack(days)))
}

/// Everything known of one monitor.
pub async fn figures<S: Store>(store: &S, id: &str, now_ms: u64) -> Result<Figures, ApiError> {
    let mut f = Figures::default();
    let state = store
        .rows(
            "SELECT at_ms, status, mode, elapsed_ms, verdict_json, accumulator_json FROM monitor_state WHERE monitor_id = ?",
            &[Param::text(id)],
        )
        .await
        .map_err(db_err)?;
    let row = state.first();
    let acc: Option<Accumulator> = state::accumulator(id)
        .or_else(|| row.and_then(|r| serde_json::from_str(col_str(r, "accumulator_json")).ok()));
    if let Some(last) = acc.as_ref().and_then(Accumulator::last_probe) {
        f.status = Some(last.status);
        f.mode = Some(last.mode);
        f.last_check_ms = Some(last.at_ms);
        f.last_elapsed_ms = Some(last.elapsed_ms);
    } else if let Some(r) = row {
        f.status = parse_status(col_str(r, "status"));
        f.mode = parse_mode(col_str(r, "mode"));
        f.last_check_ms = col_u64(r, "at_ms");
        f.last_elapsed_ms = col_u64(r, "elapsed_ms");
    }
    f.verdict = row.and_then(|r| serde_json::from_str(col_str(r, "verdict_json")).ok());

    let (mut hours, days) = rollups(store, id, now_ms).await?;
    // The open hour is in memory only; a stored row of the same hour wins
    // (summarise keeps the first of a key).
    if let Some(open) = acc.as_ref().and_then(Accumulator::current_hour) {
        hours.push(open);
    }
    let (uptime, p50, p95) = summarise(&hours, &days, now_ms);
    f.uptime = uptime;
    f.p50_ms = p50;
    f.p95_ms = p95;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_monitor::rollup::Observation;

    const H0: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    fn obs(at_ms: u64, status: Status, ms: u64) -> Observation {
        Observation {
            at_ms,
            status,
            mode: if status == Status::Down {
                Mode::Timeout
            } else {
                Mode::Ok
            },
            elapsed_ms: ms,
            tools_hash: None,
            reason: String::new(),
            verdict_json: String::new(),
        }
    }

    #[test]
    fn uptime_and_percentiles_come_from_the_hours() {
        let mut acc = Accumulator::new("m");
        for i in 0..4 {
            let status = if i == 3 { Status::Down } else { Status::Up };
            acc.observe(&obs(H0 + i * 60_000, status, 100 + i), H0 + i * 60_000);
        }
        let open = acc.current_hour().expect("an open hour");
        let (uptime, p50, p95) = summarise(&[open.clone(), open], &[], H0 + 10 * 60_000);
        assert_eq!(uptime[0], ("24h", Some(0.75)));
        assert_eq!(uptime[3], ("90d", Some(0.75)));
        assert!(p50.is_some_and(|p| (100..=103).contains(&p)), "{p50:?}");
        assert!(p95 >= p50);
    }

    #[test]
    fn hours_outside_a_window_do_not_count() {
        let mut old = Accumulator::new("m");
        old.observe(&obs(H0, Status::Down, 5), H0);
        let old_hour = old.current_hour().expect("hour");
        let now = H0 + 2 * DAY_MS + HOUR_MS;
        let (uptime, p50, _) = summarise(&[old_hour], &[], now);
        assert_eq!(uptime[0], ("24h", None));
        assert_eq!(uptime[1], ("7d", Some(0.0)));
        assert_eq!(p50, None);
    }

    #[test]
    fn long_windows_count_days_then_the_hours_after_them() {
        // Day 0: 10 probes, all down (a daily row). Day 1: one open hour, up.
        let day0 = Rollup {
            key: "m:daily:0".into(),
            monitor_id: "m".into(),
            start_ms: H0,
            probes: 10,
            failures_by_mode: [("timeout".to_string(), 10)].into_iter().collect(),
            p50_ms: None,
            p95_ms: None,
            latency: Histogram::new(),
        };
        let mut acc = Accumulator::new("m");
        acc.observe(&obs(H0 + DAY_MS, Status::Up, 50), H0 + DAY_MS);
        let hour = acc.current_hour().expect("an hour");
        // An hourly row of day 0 too: the daily row covers it, so it must
        // not count twice.
        let mut old = Accumulator::new("m");
        old.observe(&obs(H0 + HOUR_MS, Status::Down, 5), H0 + HOUR_MS);
        let old_hour = old.current_hour().expect("an hour");
        let now = H0 + DAY_MS + 30 * 60_000;
        let (uptime, p50, _) = summarise(&[hour, old_hour], &[day0], now);
        // 30 d: 10 down of the day + 1 up of the hour after it.
        assert_eq!(uptime[2], ("30d", Some(1.0 / 11.0)));
        // 24 h: hours only (the day-0 hour at 01:00 is inside 24 h).
        assert_eq!(uptime[0], ("24h", Some(0.5)));
        assert!(p50.is_some());
    }
}
