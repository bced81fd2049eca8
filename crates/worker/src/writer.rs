//! Start here: probing a set of (monitor, slot) jobs and writing what they
//! change, the part the cron run and the Queue consumer share.
//!
//! Each verdict goes through the monitor's `rollup::Accumulator`, kept in
//! this isolate's memory ([`crate::state`]); what the accumulators answer
//! (`rollup::Write`s) is packed per shard (`rollup::pack`, the shard from
//! `schedule::shard_of`) and inserted with INSERT OR IGNORE on the core's
//! idempotency keys, so a job done twice (overlapping runs, a redelivered
//! message) writes each row once:
//!
//! - an observation's time is its slot, not the clock, so two runs of one
//!   minute observe the same instant; the accumulator drops an instant it has
//!   seen and, across isolates, the keys collide and INSERT OR IGNORE drops
//!   the copy;
//! - `monitor_state` is written only with a state change or drift, as an
//!   upsert that never goes back in time.
//! - an accumulator moves in this isolate's memory only once its rows are
//!   in D1: after a failed write it stays where D1 is, the error is in the
//!   run's log line, and the next tick observes again from there (what the
//!   failed write held, a state change say, is written then).
//!
//! Isolates come and go, and the Queue may hand a shard to another isolate
//! than last time. So before a job, an accumulator that did not see the
//! monitor's previous slot is refreshed from D1: the newer of its
//! `monitor_state` row (written at every change) and its shard's newest
//! checkpoint (at most 10 minutes old). State changes are therefore never
//! reported twice; what an isolate switch can lose is at most the counts of
//! the open hour since the last checkpoint.
//!
//! Drift is judged against the monitor's accepted baseline
//! (`monitors.baseline_hash`, set by the first tool list seen and by
//! `POST /api/monitors/{id}/baseline`): a changed list keeps the
//! `schema_drift` verdict until someone accepts it, while the drift event is
//! written once (the accumulator's hash moved once). Full tool lists are
//! stored once per hash in `snapshots`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures_util::stream::{self, StreamExt};
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::{ProbeConfig, Verdict};
use mcprobe_monitor::rollup::{self, Accumulator, Observation, Row, Write};
use mcprobe_monitor::schedule;
use serde::{Deserialize, Serialize};

use std::time::Duration;

use worker::Delay;

use crate::alerting::{AlertOutcome, Alerting, Settings};
use crate::clock;
use crate::probe_host;
use crate::rows::Monitor;
use crate::state::{accumulator, last_hash, ACCUMULATORS, SNAPSHOTS};
use crate::store::{col_str, Param, Store};
use crate::target::Policy;

/// Probes in flight at once in one invocation (the runtime's limit on open
/// outbound connections).
pub const CONCURRENCY: usize = 6;
/// A scheduled probe's deadline (as `/api/check`'s).
pub const PROBE_TIMEOUT_MS: u64 = 10_000;
/// Fast re-probes are run when due within this long of the invocation's
/// start (the policy asks for +10 s and +20 s after a failure).
pub const REPROBE_WINDOW_MS: u64 = 45_000;
/// At most this many rounds of re-probes in one invocation.
const MAX_REPROBE_ROUNDS: usize = 4;

/// One probe to run: a monitor at one of its slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub slot_ms: u64,
}

/// What one batch of jobs did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub probes: u64,
    pub writes: u64,
    pub statements: u64,
    pub rows_written: u64,
    pub restored: u64,
    /// Fast re-probes run for the alerting policy.
    pub reprobes: u64,
    pub alerts: AlertOutcome,
    pub errors: Vec<String>,
}

impl Outcome {
    pub fn add(&mut self, other: Outcome) {
        self.probes += other.probes;
        self.writes += other.writes;
        self.statements += other.statements;
        self.rows_written += other.rows_written;
        self.restored += other.restored;
        self.reprobes += other.reprobes;
        self.alerts.add(other.alerts);
        self.errors.extend(other.errors);
    }

    fn exec_result(&mut self, r: Result<u64, String>) {
        self.statements += 1;
        match r {
            Ok(n) => self.rows_written += n,
            Err(e) => self.errors.push(e),
        }
    }

    /// Counts a write; answers whether it succeeded, the error kept with
    /// `what` for context.
    fn exec_ok(&mut self, r: Result<u64, String>, what: &str) -> bool {
        self.statements += 1;
        match r {
            Ok(n) => {
                self.rows_written += n;
                true
            }
            Err(e) => {
                self.errors.push(format!("{what}: {e}"));
                false
            }
        }
    }
}

/// One probe's outcome: the verdict and the tool list it read, if any.
type Probed = Result<(Verdict, Option<Snapshot>), String>;

fn last_at(acc: &Accumulator) -> u64 {
    acc.last_probe().map_or(0, |l| l.at_ms)
}

/// Whether this isolate's accumulator may be behind D1: it has none, or it
/// did not see the monitor's slot before this one (another isolate may have).
pub fn needs_refresh(acc: Option<&Accumulator>, slot_ms: u64, interval_s: u32) -> bool {
    match acc.and_then(Accumulator::last_probe) {
        None => true,
        Some(l) => l.at_ms.saturating_add(u64::from(interval_s) * 1000) < slot_ms,
    }
}

/// The row key range of one shard's packed rows of one kind, from `from_ms`
/// on: keys are `{shard}:{kind}:{start_ms}:{digest}`, start_ms 13 digits
/// until the year 2286, so they sort by time; ';' is the byte after ':'.
pub fn shard_range(shard: &str, kind: &str, from_ms: u64) -> (String, String) {
    (
        format!("{shard}:{kind}:{from_ms:013}"),
        format!("{shard}:{kind};"),
    )
}

/// The shard name of a monitor.
pub fn shard_of(id: &str) -> String {
    schedule::shard_name(schedule::shard_of(id))
}

/// The monitors' newest saved accumulators: the newer of the `monitor_state`
/// row and the shard's newest checkpoint items.
async fn restore<S: Store>(store: &S, ids: &[&str], out: &mut Outcome) -> Vec<Accumulator> {
    let mut best: BTreeMap<String, Accumulator> = BTreeMap::new();
    let keep = |acc: Accumulator, best: &mut BTreeMap<String, Accumulator>| {
        let newer = best
            .get(acc.monitor_id())
            .is_none_or(|b| last_at(&acc) > last_at(b));
        if newer {
            best.insert(acc.monitor_id().to_string(), acc);
        }
    };
    let wanted: BTreeSet<&str> = ids.iter().copied().collect();
    for chunk in ids.chunks(50) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Param> = chunk.iter().map(|id| Param::text(*id)).collect();
        match store
            .rows(
                &format!(
                    "SELECT accumulator_json FROM monitor_state WHERE monitor_id IN ({marks})"
                ),
                &params,
            )
            .await
        {
            Ok(rows) => {
                for r in &rows {
                    if let Ok(acc) =
                        serde_json::from_str::<Accumulator>(col_str(r, "accumulator_json"))
                    {
                        keep(acc, &mut best);
                    }
                }
            }
            Err(e) => out.errors.push(e),
        }
    }
    let shards: BTreeSet<String> = ids.iter().map(|id| shard_of(id)).collect();
    for shard in shards {
        let (lo, hi) = shard_range(&shard, "checkpoint", 0);
        // The newest windows' rows: a shard's window may hold several rows
        // (one per Queue message), so read a few.
        match store
            .rows(
                "SELECT items_json FROM rollups WHERE key >= ? AND key < ? ORDER BY key DESC LIMIT 12",
                &[Param::text(lo), Param::text(hi)],
            )
            .await
        {
            Ok(rows) => {
                for r in &rows {
                    let items: Vec<Write> =
                        serde_json::from_str(col_str(r, "items_json")).unwrap_or_default();
                    for w in items {
                        if let Write::Checkpoint { state, .. } = w {
                            if wanted.contains(state.monitor_id()) {
                                keep(*state, &mut best);
                            }
                        }
                    }
                }
            }
            Err(e) => out.errors.push(e),
        }
    }
    best.into_values().collect()
}

/// A stored tool list, from memory or D1.
pub async fn load_snapshot<S: Store>(store: &S, hash: &str) -> Option<Snapshot> {
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

/// The monitors whose accumulators may move on: every one observed, except
/// those with a write that failed (a packed row of their shard, or their own
/// state row). Those keep what D1 has, so the next tick observes again from
/// there and writes what was lost (a state change is then dated at that
/// tick's slot instead of being skipped for good).
pub fn committable<'a>(
    observed: impl Iterator<Item = &'a str>,
    failed_shards: &BTreeSet<String>,
    failed_ids: &BTreeSet<String>,
) -> (Vec<&'a str>, Vec<&'a str>) {
    observed.partition(|id| !failed_shards.contains(&shard_of(id)) && !failed_ids.contains(*id))
}

/// Probes the jobs (at most [`CONCURRENCY`] at once) and writes what changed.
/// `monitors` holds at least every monitor a job names; a job whose monitor
/// is missing (deleted since it was planned) is skipped.
///
/// The accumulators move in a working copy: this isolate's memory takes
/// them only once their writes are in D1 ([`committable`]).
pub async fn process<S: Store>(
    store: &S,
    monitors: &[Monitor],
    jobs: &[Job],
    policy: Policy,
    settings: &Settings,
) -> Outcome {
    let mut out = Outcome::default();
    let by_id: HashMap<&str, &Monitor> = monitors.iter().map(|m| (m.id.as_str(), m)).collect();
    let jobs: Vec<&Job> = jobs
        .iter()
        .filter(|j| by_id.contains_key(j.id.as_str()))
        .collect();

    // Accumulators this isolate may hold stale, refreshed in one go.
    let stale: Vec<&str> = {
        let mut seen = BTreeSet::new();
        jobs.iter()
            .filter(|j| {
                let m = by_id[j.id.as_str()];
                needs_refresh(accumulator(&j.id).as_ref(), j.slot_ms, m.spec.interval_s)
            })
            .map(|j| j.id.as_str())
            .filter(|id| seen.insert(*id))
            .collect()
    };
    if !stale.is_empty() {
        for saved in restore(store, &stale, &mut out).await {
            ACCUMULATORS.with(|map| {
                let mut map = map.borrow_mut();
                let id = saved.monitor_id().to_string();
                let newer = map.get(&id).is_none_or(|m| last_at(&saved) > last_at(m));
                if newer {
                    out.restored += 1;
                    map.insert(id, saved);
                }
            });
        }
    }

    // Baselines: the accepted one, else (never accepted yet) the last seen.
    let mut baselines: HashMap<&str, Option<Snapshot>> = HashMap::new();
    for j in &jobs {
        if baselines.contains_key(j.id.as_str()) {
            continue;
        }
        let m = by_id[j.id.as_str()];
        let hash = m
            .baseline_hash
            .clone()
            .or_else(|| last_hash(accumulator(&m.id).as_ref()));
        let snap = match hash {
            Some(h) => load_snapshot(store, &h).await,
            None => None,
        };
        baselines.insert(j.id.as_str(), snap);
    }

    let alerting = Alerting::new(store, policy, settings);
    let mut working: BTreeMap<String, Accumulator> = BTreeMap::new();
    let mut round: Vec<(&Monitor, u64)> = jobs
        .iter()
        .map(|j| (by_id[j.id.as_str()], j.slot_ms))
        .collect();
    let mut writes: Vec<Write> = Vec::new();
    let mut changed: Vec<(String, Observation)> = Vec::new();
    let mut new_baselines: Vec<(String, String)> = Vec::new();
    let mut reprobes: BTreeMap<String, u64> = BTreeMap::new();
    let started = clock::now_ms();
    let mut rounds = 0;
    loop {
        rounds += 1;
        let results = probe_round(&round, &baselines, policy).await;
        let now = clock::now_ms();
        for ((m, at_ms), outcome) in round.iter().zip(results) {
            let (mut verdict, snapshot) = match outcome {
                Ok(v) => v,
                // Only a URL the core refuses gets here (they were validated).
                Err(e) => {
                    out.errors.push(format!("{}: {e}", m.id));
                    continue;
                }
            };
            // A listing that declares a required secret header is probed
            // without it: its 401/403 is "needs credentials", not down.
            mcprobe_registry::needs_credentials(&mut verdict, &m.secret_headers);
            // Scheduled probes make the history (on their slots); fast
            // re-probes only answer the policy's question, so uptime stays a
            // sample at a fixed rate and a re-probe's clock time never pushes
            // a later slot out of the accumulator.
            if rounds == 1 {
                out.probes += 1;
                let obs = Observation::from_verdict(&verdict, *at_ms);
                let mut acc = working
                    .get(&m.id)
                    .cloned()
                    .or_else(|| accumulator(&m.id))
                    .unwrap_or_else(|| Accumulator::new(&m.id));
                let new = acc.observe(&obs, now);
                working.insert(m.id.clone(), acc);
                if let Some(snap) = snapshot {
                    if m.baseline_hash.is_none() && !new_baselines.iter().any(|(id, _)| *id == m.id)
                    {
                        new_baselines.push((m.id.clone(), snap.hash.clone()));
                    }
                    store_snapshot(store, &snap, *at_ms, &mut out).await;
                }
                if new
                    .iter()
                    .any(|w| matches!(w, Write::StateChange { .. } | Write::Drift { .. }))
                {
                    changed.retain(|(id, _)| *id != m.id);
                    changed.push((m.id.clone(), obs));
                }
                writes.extend(new);
            }
            // Confirmation runs on the clock: the policy sees real times.
            match alerting.observe(m, &verdict, now, &mut out.alerts).await {
                Ok(Some(t)) => reprobes.insert(m.id.clone(), t),
                Ok(None) => reprobes.remove(&m.id),
                // The test-only switch: stop here, as a crash would (no
                // accumulator moves, nothing more is written).
                Err(_) => {
                    out.alerts.stopped = true;
                    return out;
                }
            };
        }
        // Fast re-probes the policy asked for, inside this invocation.
        let horizon = started.saturating_add(REPROBE_WINDOW_MS);
        reprobes.retain(|_, t| *t <= horizon);
        let Some(&first) = reprobes.values().min() else {
            break;
        };
        if rounds > MAX_REPROBE_ROUNDS {
            break;
        }
        let now = clock::now_ms();
        if first > now {
            Delay::from(Duration::from_millis(first - now)).await;
        }
        let now = clock::now_ms();
        // Everything due within half a second goes in this round.
        let due: Vec<String> = reprobes
            .iter()
            .filter(|(_, t)| **t <= now + 500)
            .map(|(id, _)| id.clone())
            .collect();
        round = due
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).map(|m| (*m, now)))
            .collect();
        for id in &due {
            reprobes.remove(id);
        }
        out.reprobes += round.len() as u64;
    }
    out.writes = writes.len() as u64;

    // Packed per shard: the rows of a shard are found by key range.
    let mut by_shard: BTreeMap<String, Vec<Write>> = BTreeMap::new();
    for w in writes {
        by_shard
            .entry(shard_of(w.monitor_id()))
            .or_default()
            .push(w);
    }
    let mut failed_shards: BTreeSet<String> = BTreeSet::new();
    let mut failed_ids: BTreeSet<String> = BTreeSet::new();
    for (shard, ws) in &by_shard {
        for row in rollup::pack(shard, ws) {
            let (sql, params) = row_sql(&row);
            let r = store.exec(sql, &params).await;
            if !out.exec_ok(r, &format!("writing shard {shard}'s rows")) {
                failed_shards.insert(shard.clone());
            }
        }
    }
    for (id, obs) in &changed {
        let acc = working.get(id).cloned().or_else(|| accumulator(id));
        let r = write_state(store, id, obs, acc.as_ref()).await;
        if !out.exec_ok(r, &format!("writing monitor {id}'s state")) {
            failed_ids.insert(id.clone());
        }
    }
    // Only what is in D1 moves this isolate's memory.
    let (moved, held) = committable(
        working.keys().map(String::as_str),
        &failed_shards,
        &failed_ids,
    );
    ACCUMULATORS.with(|map| {
        let mut map = map.borrow_mut();
        for id in &moved {
            if let Some(acc) = working.get(*id) {
                map.insert(id.to_string(), acc.clone());
            }
        }
    });
    if !held.is_empty() {
        out.errors.push(format!(
            "accumulators of {} not advanced after a failed write; the next tick observes again from D1",
            held.join(", ")
        ));
    }
    // Alerting's rows count against the same budget.
    out.rows_written += out.alerts.rows_written;
    out.statements += out.alerts.rows_written;
    for (id, hash) in &new_baselines {
        // Only if still unset: an accepted baseline is never overwritten here.
        let r = store
            .exec(
                "UPDATE monitors SET baseline_hash = ? WHERE id = ? AND baseline_hash IS NULL",
                &[Param::text(hash), Param::text(id)],
            )
            .await;
        out.exec_result(r);
    }
    out
}

/// Probes each (monitor, time) of a round, at most [`CONCURRENCY`] at once,
/// answering in the round's order.
async fn probe_round(
    round: &[(&Monitor, u64)],
    baselines: &HashMap<&str, Option<Snapshot>>,
    policy: Policy,
) -> Vec<Probed> {
    stream::iter(round.iter())
        .map(|(m, _)| {
            let mut cfg = ProbeConfig::new(m.spec.url.as_str());
            cfg.headers = m.spec.request_headers();
            cfg.timeout_ms = PROBE_TIMEOUT_MS;
            cfg.preflight = false;
            cfg.checked_at = clock::now_rfc3339();
            cfg.baseline = baselines.get(m.id.as_str()).cloned().flatten();
            probe_host::run_with_snapshot(cfg, policy)
        })
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// Stores a tool list once per hash: INSERT OR IGNORE, and the memo spares
/// the statement while this isolate lives.
async fn store_snapshot<S: Store>(store: &S, snap: &Snapshot, at_ms: u64, out: &mut Outcome) {
    if SNAPSHOTS.with(|s| s.borrow().contains_key(&snap.hash)) {
        return;
    }
    let text = serde_json::to_string(snap).unwrap_or_default();
    let r = store
        .exec(
            "INSERT OR IGNORE INTO snapshots (hash, snapshot_json, first_seen_ms) VALUES (?, ?, ?)",
            &[
                Param::text(&snap.hash),
                Param::text(text),
                Param::int(at_ms),
            ],
        )
        .await;
    out.exec_result(r);
    SNAPSHOTS.with(|s| s.borrow_mut().insert(snap.hash.clone(), snap.clone()));
}

/// The monitor's latest state: an upsert that never goes back in time.
async fn write_state<S: Store>(
    store: &S,
    id: &str,
    obs: &Observation,
    acc: Option<&Accumulator>,
) -> Result<u64, String> {
    let acc = acc.cloned().unwrap_or_else(|| Accumulator::new(id));
    let acc_json = serde_json::to_string(&acc).unwrap_or_default();
    let hash = last_hash(Some(&acc)).or_else(|| obs.tools_hash.clone());
    store
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
}

/// The SQL of one packed row: single rows go to their own tables, keyed by
/// the write's key; packed ones to `rollups`, keyed by the pack's key.
pub fn row_sql(row: &Row<'_>) -> (&'static str, Vec<Param>) {
    const ROLLUP: &str =
        "INSERT OR IGNORE INTO rollups (key, kind, start_ms, items_json) VALUES (?, ?, ?, ?)";
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
        }) => crate::db::parts(mcprobe_store::drift::record(
            key, monitor_id, *at_ms, from_hash, to_hash,
        )),
        // pack() makes singles of state changes and drift only; a periodic
        // write alone still goes to rollups, as a pack of one.
        Row::Single(w) => (
            ROLLUP,
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
            ROLLUP,
            vec![
                Param::text(key),
                Param::text(*kind),
                Param::int(*start_ms),
                Param::text(serde_json::to_string(items).unwrap_or_default()),
            ],
        ),
    }
}

/// Reads the packed rows of one monitor's shard and kind from `from_ms` on,
/// unpacked to this monitor's items (a key-range read of one shard).
pub async fn shard_items<S: Store>(
    store: &S,
    id: &str,
    kind: &str,
    from_ms: u64,
) -> Result<Vec<Write>, String> {
    let (lo, hi) = shard_range(&shard_of(id), kind, from_ms);
    let rows = store
        .rows(
            "SELECT items_json FROM rollups WHERE key >= ? AND key < ?",
            &[Param::text(lo), Param::text(hi)],
        )
        .await?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in &rows {
        let items: Vec<Write> = serde_json::from_str(col_str(r, "items_json")).unwrap_or_default();
        out.extend(
            items
                .into_iter()
                .filter(|w| w.monitor_id() == id && seen.insert(w.key().to_string())),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_monitors_whose_writes_all_landed_move_on() {
        let ids = ["a", "b", "c"];
        let none = BTreeSet::new();
        let (moved, held) = committable(ids.iter().copied(), &none, &none);
        assert_eq!((moved, held.len()), (ids.to_vec(), 0));
        // b's own state row failed: only b is held.
        let b: BTreeSet<String> = ["b".to_string()].into();
        let (moved, held) = committable(ids.iter().copied(), &none, &b);
        assert_eq!((moved, held), (vec!["a", "c"], vec!["b"]));
        // a's shard's packed rows failed: every monitor of that shard is held.
        let shard: BTreeSet<String> = [shard_of("a")].into();
        let (moved, held) = committable(ids.iter().copied(), &shard, &none);
        assert!(held.contains(&"a"), "{held:?}");
        assert!(moved.iter().all(|id| shard_of(id) != shard_of("a")));
        assert_eq!(moved.len() + held.len(), 3);
    }

    #[test]
    fn a_refresh_is_needed_only_when_the_previous_slot_was_missed() {
        let mut acc = Accumulator::new("m");
        assert!(needs_refresh(None, 120_000, 60));
        assert!(needs_refresh(Some(&acc), 120_000, 60));
        let obs = Observation {
            at_ms: 60_000,
            status: mcprobe_core::Status::Up,
            mode: mcprobe_core::Mode::Ok,
            elapsed_ms: 5,
            tools_hash: None,
            reason: String::new(),
            verdict_json: String::new(),
        };
        acc.observe(&obs, 60_000);
        // Saw the slot just before: no read.
        assert!(!needs_refresh(Some(&acc), 120_000, 60));
        // Missed one: another isolate may have seen it.
        assert!(needs_refresh(Some(&acc), 180_001, 60));
    }

    #[test]
    fn shard_ranges_hold_exactly_one_shard_and_kind_in_time_order() {
        let (lo, hi) = shard_range("s07", "hourly", 1_767_225_600_000);
        let inside = "s07:hourly:1767229200000:abcd";
        let before = "s07:hourly:1767222000000:abcd";
        assert!(lo.as_str() <= inside && inside < hi.as_str());
        assert!(before < lo.as_str());
        for other in ["s07:hourlz", "s08:hourly:1767229200000:a", "s07:daily:1"] {
            assert!(!(lo.as_str() <= other && other < hi.as_str()), "{other}");
        }
        // The whole kind, from the start of time.
        let (lo0, _) = shard_range("s07", "checkpoint", 0);
        assert!(lo0.as_str() <= "s07:checkpoint:1767225600000:ab");
    }
}
