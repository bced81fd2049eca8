//! Start here: the daily chores of the write path, run by the tick that
//! claims their minute (so once, even when cron runs overlap):
//!
//! - at 01:10 UTC, daily roll-ups of the two previous UTC days, per shard,
//!   folded from the hourly rows (`rollup::daily_rollups`, histograms merged
//!   so a day's p95 is exact to a bucket). By 01:10 every monitor (interval at
//!   most an hour) has probed in the new day, which closes its last hour of
//!   the day before. Two days, so one missed 01:10 tick loses nothing; an
//!   identical pack has an identical key, so redoing a day writes no row;
//! - at 01:20 UTC, pruning, by shard key range for the packed rows (a primary
//!   key range, not a scan: D1 bills rows read too) and by time for the rest.
//!
//! Retention (roll-ups kept at least 90 days): see [`RETENTION`].

use mcprobe_monitor::rollup::{self, Write, DAY_MS};
use mcprobe_monitor::schedule;
use serde_json::{json, Value};

use crate::store::{Param, Store};
use crate::writer::{self, row_sql};

/// Minute of the UTC day the daily roll-ups are written.
pub const DAILY_AT_MIN: u64 = 70;
/// Minute of the UTC day the pruning runs.
pub const PRUNE_AT_MIN: u64 = 80;

// The chores have their own minutes, after the day's last hour has closed.
const _: () = assert!(DAILY_AT_MIN > 60 && PRUNE_AT_MIN > DAILY_AT_MIN);

/// How long each kind of row is kept, in days.
pub const RETENTION: [(&str, u64); 7] = [
    // Packed rows, by kind (key-range deletes per shard).
    ("checkpoint", 2),
    ("hourly", 92),
    ("daily", 400),
    // Single rows, by time.
    ("state_changes", 92),
    ("drift_events", 92),
    // Tick claims: only overlapping runs of a minute ever read them.
    ("ticks", 2),
    // Tool lists no drift event, state or baseline still points at.
    ("snapshots", 92),
];

fn days(kind: &str) -> u64 {
    RETENTION
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(400, |(_, d)| *d)
}

/// The chores due at `tick_ms`, if any; answers what they did (for the log).
pub async fn run<S: Store>(store: &S, tick_ms: u64) -> Value {
    let minute_of_day = (tick_ms % DAY_MS) / schedule::TICK_MS;
    match minute_of_day {
        DAILY_AT_MIN => daily(store, tick_ms).await,
        PRUNE_AT_MIN => prune(store, tick_ms).await,
        _ => Value::Null,
    }
}

/// Writes the daily roll-ups of the two UTC days before `tick_ms`'s.
pub async fn daily<S: Store>(store: &S, tick_ms: u64) -> Value {
    let today = tick_ms - tick_ms % DAY_MS;
    let mut rows_written = 0u64;
    let mut errors = Vec::new();
    for s in 0..schedule::SHARDS {
        let shard = schedule::shard_name(s);
        for day in [today - 2 * DAY_MS, today - DAY_MS] {
            let lo = format!("{shard}:hourly:{day:013}");
            let hi = format!("{shard}:hourly:{:013}", day + DAY_MS);
            let rows = match store
                .rows(
                    "SELECT items_json FROM rollups WHERE key >= ? AND key < ?",
                    &[Param::text(lo), Param::text(hi)],
                )
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let mut hours = Vec::new();
            for r in &rows {
                let items: Vec<Write> =
                    serde_json::from_str(crate::store::col_str(r, "items_json"))
                        .unwrap_or_default();
                hours.extend(items.into_iter().filter_map(|w| match w {
                    Write::HourlyRollup(h) => Some(h),
                    _ => None,
                }));
            }
            if hours.is_empty() {
                continue;
            }
            let daily = rollup::daily_rollups(&hours);
            for row in rollup::pack(&shard, &daily) {
                let (sql, params) = row_sql(&row);
                match store.exec(sql, &params).await {
                    Ok(n) => rows_written += n,
                    Err(e) => errors.push(e),
                }
            }
        }
    }
    json!({"daily_rollups": {"rows_written": rows_written, "errors": errors}})
}

/// Deletes what is past its retention at `tick_ms`.
pub async fn prune<S: Store>(store: &S, tick_ms: u64) -> Value {
    let cutoff = |kind: &str| tick_ms.saturating_sub(days(kind) * DAY_MS);
    let mut deleted = 0u64;
    let mut errors = Vec::new();
    let mut exec = |r: Result<u64, String>| match r {
        Ok(n) => deleted += n,
        Err(e) => errors.push(e),
    };
    for s in 0..schedule::SHARDS {
        let shard = schedule::shard_name(s);
        for kind in ["checkpoint", "hourly", "daily"] {
            let (lo, _) = writer::shard_range(&shard, kind, 0);
            let hi = format!("{shard}:{kind}:{:013}", cutoff(kind));
            exec(
                store
                    .exec(
                        "DELETE FROM rollups WHERE key >= ? AND key < ?",
                        &[Param::text(lo), Param::text(hi)],
                    )
                    .await,
            );
        }
    }
    exec(
        store
            .exec(
                "DELETE FROM state_changes WHERE at_ms < ?",
                &[Param::int(cutoff("state_changes"))],
            )
            .await,
    );
    exec(
        store
            .exec(
                "DELETE FROM drift_events WHERE at_ms < ?",
                &[Param::int(cutoff("drift_events"))],
            )
            .await,
    );
    exec(
        store
            .exec(
                "DELETE FROM ticks WHERE tick_ms < ?",
                &[Param::int(cutoff("ticks"))],
            )
            .await,
    );
    exec(
        store
            .exec(
                "DELETE FROM snapshots WHERE first_seen_ms < ? \
                 AND hash NOT IN (SELECT from_hash FROM drift_events UNION SELECT to_hash FROM drift_events) \
                 AND hash NOT IN (SELECT tools_hash FROM monitor_state WHERE tools_hash IS NOT NULL) \
                 AND hash NOT IN (SELECT baseline_hash FROM monitors WHERE baseline_hash IS NOT NULL)",
                &[Param::int(cutoff("snapshots"))],
            )
            .await,
    );
    json!({"pruned": {"rows_deleted": deleted, "errors": errors}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roll_ups_are_kept_at_least_90_days_and_checkpoints_briefly() {
        assert!(days("hourly") >= 90 && days("daily") >= 90);
        assert!(days("state_changes") >= 90 && days("drift_events") >= 90);
        assert!(days("checkpoint") <= 2);
    }
}
