//! Start here: the scheduled handler (`* * * * *`) and the write path.
//!
//! Each tick: load the live monitors, take the slots of this minute from the
//! core's schedule (`schedule::slots_in`: a monitor's slots derive from its
//! id and interval, no "next check" row), probe them with
//! [`crate::probe_host`], at most [`CONCURRENCY`] at once, and feed each
//! verdict to the monitor's `rollup::Accumulator`. The accumulators live in
//! this isolate's memory ([`ACCUMULATORS`]); one missing (a fresh isolate) is
//! restored from `monitor_state`. What they answer (`rollup::Write`s) is
//! packed (`rollup::pack`) and inserted with INSERT OR IGNORE on the core's
//! idempotency keys, so two runs of one tick write each row once:
//!
//! - an observation's time is its slot, not the clock, so two runs of one
//!   minute observe the same instant; the accumulator ignores the second one
//!   (`observe` drops an instant it has seen) and, across isolates, the keys
//!   collide and INSERT OR IGNORE drops the copy;
//! - `monitor_state` is written only with a state change or drift, as an
//!   upsert that never goes back in time.
//!
//! The tool list of each probe is compared with the last one seen (the
//! probe's `baseline`), so a changed list gives a `schema_drift` verdict; the
//! full lists are stored once per hash in `snapshots`.
//!
//! Rows written are counted from D1's `meta` and shown, per probe, by
//! `GET /api/debug/writes` (token) and in the cron's log line.

use std::cell::RefCell;
use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::rollup::{self, Accumulator, Observation, Row, Write};
use mcprobe_core::schedule;
use mcprobe_core::{ProbeConfig, Verdict};
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use crate::api::{self, ApiError};
use crate::monitors::{self, db_err, Monitor};
use crate::probe_host;
use crate::store::{col_str, D1Store, Param, Store};

/// Probes in flight at once in one cron run.
pub const CONCURRENCY: usize = 6;
/// A scheduled probe's deadline (as `/api/check`'s).
pub const PROBE_TIMEOUT_MS: u64 = 10_000;
/// The shard name in packed row keys: one Worker handles every monitor.
const SHARD: &str = "cron";

/// One probe's outcome: the verdict and the tool list it read, if any.
type Probed = Result<(Verdict, Option<Snapshot>), String>;

/// Write counts since this isolate started.
#[derive(Debug, Default, Clone, Copy)]
struct WriteStats {
    runs: u64,
    probes: u64,
    statements: u64,
    rows_written: u64,
    last_run_probes: u64,
    last_run_rows: u64,
}

thread_local! {
    // A Worker isolate is single-threaded; these are its memory between
    // events. Nothing here is lost for good when the isolate goes: the
    // accumulators come back from monitor_state, the snapshots from D1.
    static ACCUMULATORS: RefCell<HashMap<String, Accumulator>> = RefCell::new(HashMap::new());
    static SNAPSHOTS: RefCell<HashMap<String, Snapshot>> = RefCell::new(HashMap::new());
    static STATS: RefCell<WriteStats> = RefCell::new(WriteStats::default());
}

/// The accumulator of a monitor as this isolate holds it, if it does.
pub fn accumulator(id: &str) -> Option<Accumulator> {
    ACCUMULATORS.with(|m| m.borrow().get(id).cloned())
}

/// The accumulator of a monitor: from memory, else restored from its
/// monitor_state row, else new.
pub async fn accumulator_or_restore<S: Store>(store: &S, id: &str) -> Accumulator {
    if let Some(acc) = accumulator(id) {
        return acc;
    }
    let restored = store
        .rows(
            "SELECT accumulator_json FROM monitor_state WHERE monitor_id = ?",
            &[Param::text(id)],
        )
        .await
        .ok()
        .and_then(|rows| {
            rows.first().and_then(|r| {
                serde_json::from_str::<Accumulator>(col_str(r, "accumulator_json")).ok()
            })
        })
        .unwrap_or_else(|| Accumulator::new(id));
    // Another run may have put one in while this one awaited: keep that one,
    // it has seen at least as much.
    ACCUMULATORS.with(|m| {
        m.borrow_mut()
            .entry(id.to_string())
            .or_insert(restored)
            .clone()
    })
}

/// The jobs of one tick: (monitor, slot) for every slot in `[tick, tick+60s)`.
pub fn jobs_for_tick(monitors: &[Monitor], tick_ms: u64) -> Vec<(usize, u64)> {
    let mut jobs = Vec::new();
    for (i, m) in monitors.iter().enumerate() {
        for slot in schedule::slots_in(
            &m.id,
            m.spec.interval_s,
            tick_ms,
            tick_ms + schedule::TICK_MS,
        ) {
            jobs.push((i, slot));
        }
    }
    // Earliest slot first, ties by id: both runs of a tick go in one order.
    jobs.sort_by(|a, b| (a.1, &monitors[a.0].id).cmp(&(b.1, &monitors[b.0].id)));
    jobs
}

/// The scheduled event: one tick at `scheduled_ms`.
pub async fn run(env: &Env, scheduled_ms: u64) -> Result<Value, String> {
    let tick_ms = scheduled_ms - scheduled_ms % schedule::TICK_MS;
    let store = D1Store::from_env(env)?;
    let all = monitors::load_all(env).await.map_err(|e| e.error)?;
    let jobs = jobs_for_tick(&all, tick_ms);
    let policy = monitors::policy(env);

    // Baselines first (sequentially: they may need a restore from D1).
    let mut baselines: HashMap<String, Option<Snapshot>> = HashMap::new();
    for (i, _) in &jobs {
        let m = &all[*i];
        if baselines.contains_key(&m.id) {
            continue;
        }
        let acc = accumulator_or_restore(&store, &m.id).await;
        let hash = acc.last_probe().and_then(|l| l.tools_hash.clone());
        let snap = match hash {
            Some(h) => load_snapshot(&store, &h).await,
            None => None,
        };
        baselines.insert(m.id.clone(), snap);
    }

    let results: Vec<(usize, u64, Probed)> = stream::iter(jobs.iter().copied())
        .map(|(i, slot)| {
            let m = &all[i];
            let mut cfg = ProbeConfig::new(m.spec.url.as_str());
            cfg.headers = m.spec.request_headers();
            cfg.timeout_ms = PROBE_TIMEOUT_MS;
            cfg.preflight = false;
            cfg.checked_at = probe_host::now_rfc3339();
            cfg.baseline = baselines.get(&m.id).cloned().flatten();
            async move { (i, slot, probe_host::run_with_snapshot(cfg, policy).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;

    let now = probe_host::now_ms();
    let mut writes: Vec<Write> = Vec::new();
    let mut rows_written = 0u64;
    let mut statements = 0u64;
    let mut errors: Vec<String> = Vec::new();
    // In slot order, so each accumulator sees its observations in order.
    let mut results = results;
    results.sort_by_key(|(i, slot, _)| (*slot, *i));
    let mut changed: Vec<(String, Observation)> = Vec::new();
    for (i, slot, outcome) in results {
        let m = &all[i];
        let (verdict, snapshot) = match outcome {
            Ok(v) => v,
            // Only a URL the core refuses gets here (they were validated).
            Err(e) => {
                errors.push(format!("{}: {e}", m.id));
                continue;
            }
        };
        let obs = Observation::from_verdict(&verdict, slot);
        let mut acc = accumulator_or_restore(&store, &m.id).await;
        let new = acc.observe(&obs, now);
        ACCUMULATORS.with(|map| map.borrow_mut().insert(m.id.clone(), acc));
        if let Some(snap) = snapshot {
            let known = SNAPSHOTS.with(|s| s.borrow().contains_key(&snap.hash));
            if !known {
                // Once per hash: INSERT OR IGNORE, and the memo spares the
                // statement while this isolate lives.
                let text = serde_json::to_string(&snap).unwrap_or_default();
                statements += 1;
                match store
                    .exec(
                        "INSERT OR IGNORE INTO snapshots (hash, snapshot_json, first_seen_ms) VALUES (?, ?, ?)",
                        &[Param::text(&snap.hash), Param::text(text), Param::int(slot)],
                    )
                    .await
                {
                    Ok(n) => rows_written += n,
                    Err(e) => errors.push(e),
                }
                SNAPSHOTS.with(|s| s.borrow_mut().insert(snap.hash.clone(), snap));
            }
        }
        if new
            .iter()
            .any(|w| matches!(w, Write::StateChange { .. } | Write::Drift { .. }))
        {
            changed.push((m.id.clone(), obs));
        }
        writes.extend(new);
    }

    for row in rollup::pack(SHARD, &writes) {
        let (sql, params) = row_sql(&row);
        statements += 1;
        match store.exec(sql, &params).await {
            Ok(n) => rows_written += n,
            Err(e) => errors.push(e),
        }
    }
    for (id, obs) in &changed {
        let acc = accumulator(id).unwrap_or_else(|| Accumulator::new(id));
        let acc_json = serde_json::to_string(&acc).unwrap_or_default();
        let hash = acc
            .last_probe()
            .and_then(|l| l.tools_hash.clone())
            .or_else(|| obs.tools_hash.clone());
        statements += 1;
        match store
            .exec(
                "INSERT INTO monitor_state (monitor_id, at_ms, status, mode, elapsed_ms, tools_hash, verdict_json, accumulator_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT(monitor_id) DO UPDATE SET at_ms = excluded.at_ms, status = excluded.status, mode = excluded.mode, elapsed_ms = excluded.elapsed_ms, tools_hash = excluded.tools_hash, verdict_json = excluded.verdict_json, accumulator_json = excluded.accumulator_json \
                 WHERE excluded.at_ms > monitor_state.at_ms",
                &[
                    Param::text(id),
                    Param::int(obs.at_ms),
                    Param::text(obs.status.as_str()),
                    Param::text(obs.mode.as_str()),
                    Param::int(obs.elapsed_ms),
                    Param::opt_text(hash.as_deref()),
                    Param::text(&obs.verdict_json),
                    Param::text(acc_json),
                ],
            )
            .await
        {
            Ok(n) => rows_written += n,
            Err(e) => errors.push(e),
        }
    }

    let probes = jobs.len() as u64;
    let stats = STATS.with(|s| {
        let mut s = s.borrow_mut();
        s.runs += 1;
        s.probes += probes;
        s.statements += statements;
        s.rows_written += rows_written;
        s.last_run_probes = probes;
        s.last_run_rows = rows_written;
        *s
    });
    Ok(json!({
        "tick_ms": tick_ms,
        "probes": probes,
        "writes": writes.len(),
        "statements": statements,
        "rows_written": rows_written,
        "debug": {
            "rows_per_probe": per_probe(rows_written, probes),
            "isolate_rows_per_probe": per_probe(stats.rows_written, stats.probes),
        },
        "errors": errors,
    }))
}

fn per_probe(rows: u64, probes: u64) -> Value {
    if probes == 0 {
        Value::Null
    } else {
        json!(rows as f64 / probes as f64)
    }
}

/// The SQL of one packed row: single rows go to their own tables, keyed by
/// the write's key; packed ones to `rollups`, keyed by the pack's key.
fn row_sql(row: &Row<'_>) -> (&'static str, Vec<Param>) {
    match row {
        Row::Single(Write::StateChange {
            key,
            monitor_id,
            at_ms,
            status,
            mode,
            reason,
            verdict_json,
        }) => (
            "INSERT OR IGNORE INTO state_changes (key, monitor_id, at_ms, status, mode, reason, verdict_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                Param::text(key),
                Param::text(monitor_id),
                Param::int(*at_ms),
                Param::text(status.as_str()),
                Param::text(mode.as_str()),
                Param::text(reason),
                Param::text(verdict_json),
            ],
        ),
        Row::Single(Write::Drift {
            key,
            monitor_id,
            at_ms,
            from_hash,
            to_hash,
        }) => (
            "INSERT OR IGNORE INTO drift_events (key, monitor_id, at_ms, from_hash, to_hash) VALUES (?, ?, ?, ?, ?)",
            vec![
                Param::text(key),
                Param::text(monitor_id),
                Param::int(*at_ms),
                Param::text(from_hash),
                Param::text(to_hash),
            ],
        ),
        // pack() makes singles of state changes and drift only; a periodic
        // write alone still goes to rollups, as a pack of one.
        Row::Single(w) => (
            "INSERT OR IGNORE INTO rollups (key, kind, start_ms, items_json) VALUES (?, ?, ?, ?)",
            vec![
                Param::text(w.key()),
                Param::text(w.kind()),
                Param::int(0),
                Param::text(serde_json::to_string(&[w]).unwrap_or_default()),
            ],
        ),
        Row::Packed {
            key,
            kind,
            start_ms,
            items,
        } => (
            "INSERT OR IGNORE INTO rollups (key, kind, start_ms, items_json) VALUES (?, ?, ?, ?)",
            vec![
                Param::text(key),
                Param::text(*kind),
                Param::int(*start_ms),
                Param::text(serde_json::to_string(items).unwrap_or_default()),
            ],
        ),
    }
}

async fn load_snapshot<S: Store>(store: &S, hash: &str) -> Option<Snapshot> {
    if let Some(s) = SNAPSHOTS.with(|m| m.borrow().get(hash).cloned()) {
        return Some(s);
    }
    let rows = store
        .rows(
            "SELECT snapshot_json FROM snapshots WHERE hash = ?",
            &[Param::text(hash)],
        )
        .await
        .ok()?;
    let snap: Snapshot = serde_json::from_str(col_str(rows.first()?, "snapshot_json")).ok()?;
    SNAPSHOTS.with(|m| m.borrow_mut().insert(hash.to_string(), snap.clone()));
    Some(snap)
}

/// `GET /api/debug/writes` (token): the isolate's write counts and the row
/// counts of every history table (how the tests see that two overlapping runs
/// wrote each row once).
pub async fn debug_writes(req: &Request, env: &Env) -> Result<Response, ApiError> {
    monitors::require_admin(req, env)?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let mut tables = serde_json::Map::new();
    for t in [
        "monitor_state",
        "state_changes",
        "drift_events",
        "snapshots",
        "rollups",
    ] {
        let rows = store
            .rows(&format!("SELECT COUNT(*) AS n FROM {t}"), &[])
            .await
            .map_err(db_err)?;
        let n = rows
            .first()
            .and_then(|r| crate::store::col_u64(r, "n"))
            .unwrap_or(0);
        tables.insert(t.to_string(), json!(n));
    }
    let s = STATS.with(|s| *s.borrow());
    let body = json!({
        "runs": s.runs,
        "probes": s.probes,
        "statements": s.statements,
        "rows_written": s.rows_written,
        "rows_per_probe": per_probe(s.rows_written, s.probes),
        "last_run": {"probes": s.last_run_probes, "rows_written": s.last_run_rows},
        "tables": tables,
    });
    api::json_response(200, body.to_string()).map_err(api::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_core::monitor::MonitorSpec;

    fn monitor(id: &str, interval_s: u32) -> Monitor {
        Monitor {
            id: id.into(),
            spec: MonitorSpec {
                url: "https://e.com/mcp".into(),
                name: id.into(),
                interval_s,
                headers: Default::default(),
                alerts: Default::default(),
                runbook_url: None,
                public: true,
            },
            maintenance_until_ms: None,
        }
    }

    const T: u64 = 1_767_225_600_000;

    #[test]
    fn a_tick_holds_each_slot_of_its_minute_once_in_order() {
        let ms = vec![monitor("a", 60), monitor("b", 30), monitor("c", 3600)];
        let jobs = jobs_for_tick(&ms, T);
        let per = |i: usize| jobs.iter().filter(|(j, _)| *j == i).count();
        assert_eq!(per(0), 1);
        assert_eq!(per(1), 2);
        assert!(per(2) <= 1);
        assert!(jobs.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(jobs.iter().all(|(_, s)| (T..T + 60_000).contains(s)));
        // Two runs of one tick agree exactly (what makes their keys collide).
        assert_eq!(jobs, jobs_for_tick(&ms, T));
        // An hourly monitor is in exactly one tick of its hour.
        let hourly: usize = (0..60)
            .map(|k| jobs_for_tick(&ms[2..], T + k * 60_000).len())
            .sum();
        assert_eq!(hourly, 1);
    }
}
