//! Start here: the scheduled handler (`* * * * *`) and the Queue consumer.
//!
//! Each tick:
//! 1. claims the tick (`INSERT OR IGNORE INTO ticks`): of two overlapping
//!    runs of one minute only the first goes on, so a tick is probed once
//!    (the write path's idempotency keys are the second line of defence);
//! 2. takes the slots of this minute from the core's schedule
//!    (`schedule::slots_in`: a monitor's slots derive from its id and
//!    interval, no "next check" row);
//! 3. probes them itself when they are few ([`direct_max`], default
//!    `Limits::PAID.direct` = 6: one round of the runtime's 6 connections),
//!    else fans them out through the `PROBES` Queue: the jobs of each shard,
//!    [`PER_MESSAGE`] to a message, consumed by [`consume`] in this same
//!    Worker (`wrangler.toml` configures both ends; `wrangler dev` simulates
//!    the Queue locally);
//! 4. once an hour, the housekeeping of [`crate::housekeeping`] (daily
//!    roll-ups, pruning);
//! 5. before probing, sweeps the alert outbox ([`crate::outbox::sweep`]):
//!    deliveries whose sender died, or whose retry is due, get an attempt.
//!
//! The probing and the writes are [`crate::writer`]'s. Rows written are
//! counted from D1's `meta` and shown, per probe, by `GET /api/debug/writes`
//! (token, [`crate::debug`]) and in the log line of each run.

use std::collections::BTreeMap;

use mcprobe_monitor::schedule::{self, Limits};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::{Env, MessageBatch, MessageExt};

use crate::alerting::{self, AlertOutcome, Alerting, Settings};
use crate::rows::{self, Monitor};
use crate::state::{per_probe, STATS};
use crate::store::{D1Store, Param, Store};
use crate::target::Policy;
use crate::writer::{self, Job, Outcome};

/// Jobs per Queue message: ~5 subrequests a probe keeps a consumer run far
/// under the paid plan's 1,000, and 6 at a time it ends inside the minute.
pub const PER_MESSAGE: usize = Limits::PAID.per_batch;
/// `sendBatch` takes at most 100 messages.
const SEND_BATCH_MAX: usize = 100;
/// The Queue binding (`[[queues.producers]]` in wrangler.toml).
pub const QUEUE_BINDING: &str = "PROBES";
/// `[vars]`: how many probes a tick runs itself before fanning out.
pub const DIRECT_VAR: &str = "DIRECT_PROBES";

/// One Queue message: jobs of one shard and tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeBatch {
    pub tick_ms: u64,
    pub shard: String,
    pub jobs: Vec<Job>,
}

fn count(outcome: &Outcome, from_queue: bool) {
    STATS.with(|s| {
        let mut s = s.borrow_mut();
        s.probes += outcome.probes;
        s.statements += outcome.statements;
        s.rows_written += outcome.rows_written;
        if from_queue {
            s.messages += 1;
        } else {
            s.runs += 1;
            s.last_run_probes = outcome.probes;
            s.last_run_rows = outcome.rows_written;
        }
    });
}

/// The jobs of one tick: (monitor, slot) for every slot in `[tick, tick+60s)`,
/// earliest slot first, ties by id.
pub fn jobs_for_tick(monitors: &[Monitor], tick_ms: u64) -> Vec<Job> {
    let mut jobs = Vec::new();
    for m in monitors {
        for slot in schedule::slots_in(
            &m.id,
            m.spec.interval_s,
            tick_ms,
            tick_ms + schedule::TICK_MS,
        ) {
            jobs.push(Job {
                id: m.id.clone(),
                slot_ms: slot,
            });
        }
    }
    jobs.sort_by(|a, b| (a.slot_ms, &a.id).cmp(&(b.slot_ms, &b.id)));
    jobs
}

/// The Queue messages of a tick: the jobs of each shard, in slot order,
/// [`PER_MESSAGE`] at most each. Shard by shard so each consumer run packs
/// its periodic rows under one shard key.
pub fn messages_for_tick(jobs: &[Job], tick_ms: u64) -> Vec<ProbeBatch> {
    let mut by_shard: BTreeMap<String, Vec<Job>> = BTreeMap::new();
    for j in jobs {
        by_shard
            .entry(writer::shard_of(&j.id))
            .or_default()
            .push(j.clone());
    }
    let mut out = Vec::new();
    for (shard, jobs) in by_shard {
        for chunk in jobs.chunks(PER_MESSAGE) {
            out.push(ProbeBatch {
                tick_ms,
                shard: shard.clone(),
                jobs: chunk.to_vec(),
            });
        }
    }
    out
}

/// How many probes a tick runs itself (the `DIRECT_PROBES` var, else 6).
pub fn direct_max(env: &Env) -> usize {
    env.var(DIRECT_VAR)
        .ok()
        .and_then(|v| v.to_string().trim().parse().ok())
        .unwrap_or(Limits::PAID.direct)
}

/// The scheduled event: one tick at `scheduled_ms`.
pub async fn run(env: &Env, scheduled_ms: u64) -> Result<Value, String> {
    let tick_ms = scheduled_ms - scheduled_ms % schedule::TICK_MS;
    let store = D1Store::from_env(env)?;
    let claimed = store
        .exec(
            "INSERT OR IGNORE INTO ticks (tick_ms, claimed_at_ms) VALUES (?, ?)",
            &[Param::int(tick_ms), Param::int(crate::clock::now_ms())],
        )
        .await?;
    if claimed == 0 {
        return Ok(json!({"tick_ms": tick_ms, "skipped": "another run has this tick"}));
    }
    let all = rows::load_all(env).await.map_err(|e| e.error)?;
    let jobs = jobs_for_tick(&all, tick_ms);
    let settings = Settings::from_env(env);
    let now = crate::clock::now_ms().max(tick_ms);
    let swept = crate::outbox::sweep(
        &store,
        &all,
        Policy::from_env(env),
        &settings.public_base,
        now,
    )
    .await;
    let mut housekeeping = crate::housekeeping::run(&store, tick_ms).await;
    crate::crawl::tick(&store, env, tick_ms, &mut housekeeping).await;

    let queue = env.queue(QUEUE_BINDING).ok();
    if jobs.len() <= direct_max(env) || queue.is_none() {
        let mut outcome =
            writer::process(&store, &all, &jobs, Policy::from_env(env), &settings).await;
        outcome.rows_written += swept.rows_written;
        outcome.alerts.add(swept);
        if !outcome.alerts.stopped {
            outcome
                .alerts
                .add(tick_open(&store, env, &all, &jobs, tick_ms).await);
        }
        count(&outcome, false);
        stopped(&outcome.alerts)?;
        let mut summary = summary(tick_ms, &outcome);
        summary["housekeeping"] = housekeeping;
        if queue.is_none() && jobs.len() > direct_max(env) {
            summary["warning"] =
                json!("no PROBES queue binding: every probe ran in the cron invocation");
        }
        return Ok(summary);
    }
    let Some(queue) = queue else {
        return Err("unreachable: no queue".into());
    };
    let messages = messages_for_tick(&jobs, tick_ms);
    let mut sent = 0usize;
    for chunk in messages.chunks(SEND_BATCH_MAX) {
        queue
            .send_batch(chunk.to_vec())
            .await
            .map_err(|e| format!("sending to the {QUEUE_BINDING} queue: {e}"))?;
        sent += chunk.len();
    }
    STATS.with(|s| s.borrow_mut().runs += 1);
    let mut ticked = tick_open(&store, env, &all, &jobs, tick_ms).await;
    ticked.add(swept);
    stopped(&ticked)?;
    Ok(json!({
        "tick_ms": tick_ms,
        "queued_probes": jobs.len(),
        "messages": sent,
        "housekeeping": housekeeping,
        "alerts": ticked,
    }))
}

/// Lets time pass for the monitors whose alerting is not steady and that
/// this tick does not probe (a P2 escalates, a maintenance window or quiet
/// hours end, flapping settles, even between an hourly monitor's probes).
async fn tick_open(
    store: &D1Store,
    env: &Env,
    all: &[Monitor],
    jobs: &[Job],
    tick_ms: u64,
) -> AlertOutcome {
    let mut out = AlertOutcome::default();
    let open = match alerting::open_monitors(store).await {
        Ok(ids) => ids,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let alerting = Alerting::new(store, Policy::from_env(env), &Settings::from_env(env));
    let now = crate::clock::now_ms().max(tick_ms);
    for id in open {
        if jobs.iter().any(|j| j.id == id) {
            continue;
        }
        if let Some(m) = all.iter().find(|m| m.id == id) {
            if alerting.tick(m, now, &mut out).await.is_err() {
                out.stopped = true;
                break;
            }
        }
    }
    out
}

/// The test-only switch of [`crate::outbox::CRASH_VAR`] stopped the run: it
/// ends as a failed invocation would (an error in the log).
fn stopped(o: &AlertOutcome) -> Result<(), String> {
    if o.stopped {
        return Err(format!(
            "stopped on purpose by {} (test-only)",
            crate::outbox::CRASH_VAR
        ));
    }
    Ok(())
}

fn summary(tick_ms: u64, o: &Outcome) -> Value {
    json!({
        "tick_ms": tick_ms,
        "probes": o.probes,
        "writes": o.writes,
        "statements": o.statements,
        "rows_written": o.rows_written,
        "restored": o.restored,
        "reprobes": o.reprobes,
        "alerts": o.alerts,
        "rows_per_probe": per_probe(o.rows_written, o.probes),
        "errors": o.errors,
    })
}

/// The Queue consumer: each message is one shard's jobs of one tick. A
/// message whose monitors cannot be read is retried (the Queue's own
/// backoff); probes that fail are verdicts, not errors, so they never retry.
pub async fn consume(batch: MessageBatch<ProbeBatch>, env: &Env) -> Result<Value, String> {
    let store = D1Store::from_env(env)?;
    let policy = Policy::from_env(env);
    let settings = Settings::from_env(env);
    let mut total = Outcome::default();
    let mut retried = 0u32;
    for msg in batch.iter() {
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                // A message this build cannot read will never read: drop it,
                // but say so in the log.
                total.errors.push(format!("unreadable message: {e}"));
                continue;
            }
        };
        let ids: Vec<&str> = msg.body().jobs.iter().map(|j| j.id.as_str()).collect();
        match rows::load_many(env, &ids).await {
            Ok(ms) => {
                let outcome =
                    writer::process(&store, &ms, &msg.body().jobs, policy, &settings).await;
                count(&outcome, true);
                let stop = stopped(&outcome.alerts);
                total.add(outcome);
                // As a crash would: the message is not acknowledged.
                stop?;
                msg.ack();
            }
            Err(e) => {
                total.errors.push(e.error);
                retried += 1;
                msg.retry();
            }
        }
    }
    let mut s = summary(0, &total);
    s["retried"] = json!(retried);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_monitor::monitor::MonitorSpec;

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
            baseline_hash: None,
            secret_headers: Vec::new(),
            source: "api".into(),
            alerts_unreadable: None,
        }
    }

    const T: u64 = 1_767_225_600_000;

    #[test]
    fn a_tick_holds_each_slot_of_its_minute_once_in_order() {
        let ms = vec![monitor("a", 60), monitor("b", 30), monitor("c", 3600)];
        let jobs = jobs_for_tick(&ms, T);
        let per = |id: &str| jobs.iter().filter(|j| j.id == id).count();
        assert_eq!(per("a"), 1);
        assert_eq!(per("b"), 2);
        assert!(per("c") <= 1);
        assert!(jobs.windows(2).all(|w| w[0].slot_ms <= w[1].slot_ms));
        assert!(jobs.iter().all(|j| (T..T + 60_000).contains(&j.slot_ms)));
        // Two runs of one tick agree exactly (what makes their keys collide).
        assert_eq!(jobs, jobs_for_tick(&ms, T));
        // An hourly monitor is in exactly one tick of its hour.
        let hourly: usize = (0..60)
            .map(|k| jobs_for_tick(&ms[2..], T + k * 60_000).len())
            .sum();
        assert_eq!(hourly, 1);
    }

    #[test]
    fn messages_hold_one_shard_each_and_every_job_once() {
        let ms: Vec<Monitor> = (0..2000)
            .map(|i| monitor(&format!("m{i:04}"), 60))
            .collect();
        let jobs = jobs_for_tick(&ms, T);
        assert_eq!(jobs.len(), 2000);
        let msgs = messages_for_tick(&jobs, T);
        let mut seen: Vec<&Job> = msgs.iter().flat_map(|m| &m.jobs).collect();
        assert_eq!(seen.len(), 2000);
        seen.sort_by(|a, b| a.id.cmp(&b.id));
        seen.dedup();
        assert_eq!(seen.len(), 2000);
        for m in &msgs {
            assert!(!m.jobs.is_empty() && m.jobs.len() <= PER_MESSAGE);
            assert!(m.jobs.iter().all(|j| writer::shard_of(&j.id) == m.shard));
            assert_eq!(m.tick_ms, T);
        }
        // 64 shards of ~31 jobs: two messages each, not 2000/24 scattered ones.
        assert!(
            msgs.len() <= 2 * schedule::SHARDS as usize,
            "{}",
            msgs.len()
        );
        // A message stays far under the Queue's 128 KB.
        let biggest = msgs
            .iter()
            .map(|m| serde_json::to_string(m).map_or(0, |s| s.len()))
            .max()
            .unwrap_or(0);
        assert!(biggest < 8 * 1024, "{biggest}");
    }
}
