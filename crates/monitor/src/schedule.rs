//! Start here: which monitors the Worker's minute cron probes now, and how the
//! work is split between the cron invocation and Queue messages. Pure: the
//! clock is an argument (ms since the Unix epoch).
//!
//! # Slots: a fixed grid per monitor
//!
//! A monitor with interval `I` is probed at the instants `phase + k * I`, where
//! `phase` ([`phase_ms`]) is a whole number of seconds in `[0, I)` taken from a
//! stable hash of its id. So:
//! - the cadence never drifts: a late cron run, a slow probe or a missed tick
//!   does not move later slots ([`next_due`] always lands on the grid);
//! - a missed slot is skipped, never caught up in a burst: after an outage the
//!   next probe is the first slot after "now";
//! - 10,000 monitors at 60 s spread over the 60 seconds of the minute (about
//!   170 a second) instead of all starting at :00, and 300 s monitors spread
//!   over five cron ticks.
//!
//! Because a slot is a pure function of `(id, interval_s, time)`, the Worker
//! does not need to write `next_due_ms` back after every probe. It should not:
//! one `UPDATE` per probe is one D1 row written per probe, the very budget
//! that `rollup` exists to save (14.4 M rows a day at 10,000 monitors against
//! 100,000 on the free plan). Build the [`DueState`]s of a tick with
//! [`DueState::at_tick`] from the monitors table, and keep a stored
//! `next_due_ms` only for exceptions (a confirmation re-probe, a monitor just
//! created); a 30 s monitor has two slots a tick ([`slots_in`]), one
//! [`DueState`] each. Overlapping cron runs are kept apart by claiming the
//! tick once (`INSERT OR IGNORE INTO ticks(tick_ms)`, one row a minute = 1,440
//! a day): the run whose insert changed no row stops. A monitor left out of a tick by
//! [`Limits::max_due`] is due again only at its next slot, so size `max_due`
//! to the fleet and log when it truncates.
//!
//! # Fan-out: 10,000 monitors at 60 s
//!
//! Assumptions (Cloudflare's published limits when this was written; check
//! them before relying on the numbers):
//! - a cron trigger fires at most once a minute;
//! - one invocation keeps at most 6 outbound connections open at once;
//! - subrequests per invocation: 50 (free), 1,000 (paid);
//! - CPU per invocation: 10 ms (free), 30 s by default (paid);
//! - Queues: `sendBatch` takes up to 100 messages; a consumer receives up to
//!   100 messages an invocation; a message may be delayed (`delaySeconds`);
//!   consumer invocations run concurrently (up to 250);
//! - a probe is about 5 subrequests (discover or initialize, initialized,
//!   tools/list, the safe call, session end), up to its 10 s deadline, and
//!   about 2 ms of core CPU (the target).
//!
//! Each minute the cron run claims the tick, builds the due set of the
//! minute (`due(states, tick + TICK_MS - 1, max)`: every slot before the next
//! tick) and calls [`plan`]:
//! - it probes the first [`Limits::direct`] monitors itself (paid: 6, one
//!   round of 6 connections, ~30 subrequests; free: 4, since 4 x 2 ms stays
//!   under the 10 ms CPU cap). An install of up to 6 monitors needs no Queue;
//! - it enqueues the rest as messages of [`Limits::per_batch`] ids (24), each
//!   delayed to its group's slot (ids grouped by [`Limits::delay_step_s`] = 5 s),
//!   sent 100 messages per `sendBatch` call.
//!
//! 10,000 monitors: ~430 messages a minute (10,000 / 24, plus a partial batch
//! per delay group) in 5 `sendBatch` calls. A consumer
//! (`max_batch_size = 1`) probes its 24 ids 6 at a time: 4 rounds, ~4 s when
//! servers answer in about a second, 40 s worst case when every probe hits the
//! 10 s deadline, so it finishes inside the minute; ~144 subrequests (< 1,000)
//! and ~50 ms CPU (paid). ~430 consumer runs of ~4 s each a minute is ~29
//! running at once, well under 250. One message per batch rather than per
//! monitor keeps Queue operations (each message is written, read and deleted)
//! 24 times lower: ~1.8 M a day instead of 43 M.
//!
//! The free plan cannot run this fleet at all (its 100,000 requests a day and
//! 10 ms CPU are hundreds of times short of 14.4 M probes a day), so these
//! numbers are for the paid plan; on the free plan the same code runs a small
//! install from the cron alone (4 probes a tick: 4 monitors at 60 s, 20 at
//! 300 s).

/// The cron's period.
pub const TICK_MS: u64 = 60_000;

/// One monitor as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueState {
    pub id: String,
    pub interval_s: u32,
    /// When it should be probed next (ms since the epoch).
    pub next_due_ms: u64,
}

impl DueState {
    /// The state of a monitor at a cron tick, from the grid alone: its slot at
    /// or after `tick_ms`. Due in this tick when that slot is before the next.
    pub fn at_tick(id: &str, interval_s: u32, tick_ms: u64) -> DueState {
        DueState {
            id: id.to_string(),
            interval_s,
            next_due_ms: slot_at_or_after(id, interval_s, tick_ms),
        }
    }
}

/// Every slot of a monitor in `[from_ms, to_ms)`, in order. A monitor faster
/// than the cron (30 s) has two slots in a tick: the host makes a [`DueState`]
/// of each, and [`plan`] sends the second one delayed to its slot.
pub fn slots_in(id: &str, interval_s: u32, from_ms: u64, to_ms: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut t = slot_at_or_after(id, interval_s, from_ms);
    while t < to_ms {
        out.push(t);
        let next = slot_after(id, interval_s, t);
        if next <= t {
            break; // saturated at the end of time
        }
        t = next;
    }
    out
}

/// The ids due at `now_ms` (`next_due_ms <= now_ms`), most overdue first (ties
/// by id, so two runs agree), at most `max` of them.
pub fn due(states: &[DueState], now_ms: u64, max: usize) -> Vec<&str> {
    due_states(states, now_ms, max)
        .into_iter()
        .map(|s| s.id.as_str())
        .collect()
}

fn due_states(states: &[DueState], now_ms: u64, max: usize) -> Vec<&DueState> {
    let mut due: Vec<&DueState> = states.iter().filter(|s| s.next_due_ms <= now_ms).collect();
    due.sort_unstable_by(|a, b| (a.next_due_ms, &a.id).cmp(&(b.next_due_ms, &b.id)));
    due.truncate(max);
    due
}

/// The monitor's phase on its grid: whole seconds in `[0, interval_s)` from a
/// hash of its id, so a monitor keeps its place in the minute for life (until
/// its interval changes).
pub fn phase_ms(id: &str, interval_s: u32) -> u64 {
    (stable_hash(id) % u64::from(interval_s.max(1))) * 1000
}

/// The next probe of a monitor probed (or due) at `prev_due_ms`: the first
/// slot of its grid after both `prev_due_ms` and `now_ms`. Never in the past,
/// never off the grid, so the cadence does not drift however late the probe
/// ran, and slots missed in an outage are skipped, not replayed.
pub fn next_due(prev_due_ms: u64, interval_s: u32, now_ms: u64, id: &str) -> u64 {
    slot_after(id, interval_s, prev_due_ms.max(now_ms))
}

/// The first slot at or after `t`.
pub fn slot_at_or_after(id: &str, interval_s: u32, t: u64) -> u64 {
    match t.checked_sub(1) {
        Some(before) => slot_after(id, interval_s, before),
        None => phase_ms(id, interval_s),
    }
}

/// The first slot strictly after `t`.
fn slot_after(id: &str, interval_s: u32, t: u64) -> u64 {
    let phase = phase_ms(id, interval_s);
    let step = u64::from(interval_s.max(1)) * 1000;
    if t < phase {
        return phase;
    }
    let k = (t - phase) / step + 1;
    phase.saturating_add(k.saturating_mul(step))
}

/// Splits ids into batches of at most `per_batch` (0 counts as 1), in order:
/// one Queue message each.
pub fn batches<T: Clone>(ids: &[T], per_batch: usize) -> Vec<Vec<T>> {
    ids.chunks(per_batch.max(1)).map(<[T]>::to_vec).collect()
}

/// How much one cron run does itself and how it packs the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Probes the cron invocation runs itself.
    pub direct: usize,
    /// Monitor ids per Queue message.
    pub per_batch: usize,
    /// Granularity of message delays, in seconds.
    pub delay_step_s: u32,
    /// The most monitors one tick takes on; the rest wait (most overdue first).
    pub max_due: usize,
}

impl Limits {
    /// Workers paid plan (see the module note).
    pub const PAID: Limits = Limits {
        direct: 6,
        per_batch: 24,
        delay_step_s: 5,
        max_due: 20_000,
    };
    /// Workers free plan: only the cron, and only what fits 10 ms of CPU.
    pub const FREE: Limits = Limits {
        direct: 4,
        per_batch: 4,
        delay_step_s: 5,
        max_due: 4,
    };
}

/// One Queue message: ids to probe once `delay_s` has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedBatch<'a> {
    pub delay_s: u32,
    pub ids: Vec<&'a str>,
}

/// What one cron run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'a> {
    /// Probe these now, in this invocation.
    pub direct: Vec<&'a str>,
    /// Send these as Queue messages.
    pub queued: Vec<QueuedBatch<'a>>,
}

/// The work of the cron run at `tick_ms`: every monitor whose slot falls before
/// the next tick, the most overdue probed directly, the rest in delayed
/// batches so probes start near their slot instead of all at the tick.
pub fn plan<'a>(states: &'a [DueState], tick_ms: u64, limits: Limits) -> Plan<'a> {
    let horizon = tick_ms.saturating_add(TICK_MS - 1);
    let due = due_states(states, horizon, limits.max_due);
    let direct_n = limits.direct.min(due.len());
    let direct = due[..direct_n].iter().map(|s| s.id.as_str()).collect();
    let step_ms = u64::from(limits.delay_step_s.max(1)) * 1000;
    let mut queued = Vec::new();
    // `due_states` sorted by slot, so each delay group is a contiguous run.
    let mut group: Vec<&str> = Vec::new();
    let mut group_delay = None;
    for s in &due[direct_n..] {
        let delay_ms = s.next_due_ms.saturating_sub(tick_ms) / step_ms * step_ms;
        let delay_s = u32::try_from(delay_ms / 1000).unwrap_or(u32::MAX);
        if group_delay != Some(delay_s) {
            if let Some(d) = group_delay {
                push_group(&mut queued, d, &group, limits.per_batch);
            }
            group.clear();
            group_delay = Some(delay_s);
        }
        group.push(s.id.as_str());
    }
    if let Some(d) = group_delay {
        push_group(&mut queued, d, &group, limits.per_batch);
    }
    Plan { direct, queued }
}

fn push_group<'a>(out: &mut Vec<QueuedBatch<'a>>, delay_s: u32, ids: &[&'a str], per: usize) {
    out.extend(
        batches(ids, per)
            .into_iter()
            .map(|ids| QueuedBatch { delay_s, ids }),
    );
}

/// Shards of the write path: the monitors whose periodic rows (hourly and
/// daily roll-ups, checkpoints) are packed together, and the prefix of those
/// rows' keys (`s07:hourly:...`), so one monitor's history is a key-range read
/// of its shard instead of a scan of every shard. Fixed: changing it moves
/// monitors to other shards, and readers would look for old rows in the
/// wrong place (a new value needs a migration that re-keys the rows).
pub const SHARDS: u32 = 64;

/// The shard of a monitor, `0..SHARDS`, from the same stable hash as its phase
/// (but the high bits, so shard and phase are independent).
pub fn shard_of(id: &str) -> u32 {
    ((stable_hash(id) >> 32) % u64::from(SHARDS)) as u32
}

/// The shard's name as it starts row keys: `s00` .. `s63`.
pub fn shard_name(shard: u32) -> String {
    format!("s{shard:02}")
}

/// FNV-1a 64 then the splitmix64 finaliser: stable across builds, platforms
/// and Rust versions (std's `DefaultHasher` is not), and well mixed in the
/// low bits that `%` keeps.
fn stable_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_spread_and_named_for_key_ranges() {
        let mut counts = vec![0u32; SHARDS as usize];
        for i in 0..6400 {
            let id = format!("m{i:05x}");
            let s = shard_of(&id);
            assert_eq!(s, shard_of(&id));
            counts[s as usize] += 1;
        }
        // 100 expected per shard; a poor hash would leave some near empty.
        assert!(
            counts.iter().all(|&n| (50..=160).contains(&n)),
            "{counts:?}"
        );
        assert_eq!(shard_name(7), "s07");
        assert_eq!(shard_name(63), "s63");
        // Pinned: stored rows are keyed by it, so it must never change.
        assert_eq!(shard_of("a"), 63);
    }

    const T0: u64 = 1_700_000_040_000; // a whole minute

    fn st(id: &str, interval_s: u32, next_due_ms: u64) -> DueState {
        DueState {
            id: id.to_string(),
            interval_s,
            next_due_ms,
        }
    }

    #[test]
    fn due_is_most_overdue_first_and_bounded() {
        let s = vec![
            st("c", 60, T0 - 5_000),
            st("a", 60, T0 + 1),
            st("b", 60, T0 - 60_000),
            st("d", 60, T0),
            st("e", 60, T0 - 5_000),
        ];
        assert_eq!(due(&s, T0, 10), vec!["b", "c", "e", "d"]);
        assert_eq!(due(&s, T0, 2), vec!["b", "c"]);
        assert!(due(&s, T0, 0).is_empty());
        assert!(due(&s, 0, 10).is_empty());
    }

    #[test]
    fn phases_are_stable_whole_seconds_within_the_interval() {
        // Pinned: a changed hash would move every monitor's slot in production.
        assert_eq!(phase_ms("m_abc123", 60), 10_000);
        assert_eq!(phase_ms("m_abc123", 3600), 2_710_000);
        let p = phase_ms("m_abc123", 60);
        assert_eq!(p, phase_ms("m_abc123", 60));
        assert_eq!(p % 1000, 0);
        assert!(p < 60_000);
        for i in 0..1000 {
            let id = format!("m{i}");
            assert!(phase_ms(&id, 30) < 30_000);
            assert!(phase_ms(&id, 3600) < 3_600_000);
        }
        // interval 0 must not divide by zero.
        assert_eq!(phase_ms("x", 0), 0);
    }

    #[test]
    fn ten_thousand_monitors_spread_over_the_minute() {
        let mut per_second = [0u32; 60];
        for i in 0..10_000 {
            per_second[(phase_ms(&format!("mon-{i:05}"), 60) / 1000) as usize] += 1;
        }
        let mean = 10_000.0 / 60.0;
        let max = *per_second.iter().max().unwrap();
        let min = *per_second.iter().min().unwrap();
        // Poisson-ish around 167: nowhere near "all at :00".
        assert!(f64::from(max) < mean * 1.4, "max {max} per second");
        assert!(f64::from(min) > mean * 0.6, "min {min} per second");
    }

    #[test]
    fn next_due_keeps_the_cadence_without_drift() {
        let id = "steady";
        let phase = phase_ms(id, 60);
        let mut prev = slot_at_or_after(id, 60, T0);
        assert_eq!((prev - phase) % 60_000, 0);
        // Probes that run up to 50 s late still land the next one on the grid.
        let mut lateness = 0u64;
        for _ in 0..1000 {
            lateness = (lateness * 7 + 13) % 50_000;
            let next = next_due(prev, 60, prev + lateness, id);
            assert_eq!(next - prev, 60_000, "drifted");
            prev = next;
        }
    }

    #[test]
    fn next_due_is_never_in_the_past_and_skips_missed_slots() {
        let id = "outage";
        let prev = slot_at_or_after(id, 60, T0);
        // Back after 10 minutes and 3 seconds: the first slot after now.
        let now = prev + 603_000;
        let next = next_due(prev, 60, now, id);
        assert!(next > now);
        assert!(next - now <= 60_000);
        assert_eq!((next - prev) % 60_000, 0);
        // A clock that went backwards still moves forward from the last slot.
        assert_eq!(next_due(prev, 60, prev - 30_000, id), prev + 60_000);
        // Exactly on the slot: the next one, not the same.
        assert_eq!(next_due(prev, 60, prev, id), prev + 60_000);
        // New monitors (prev 0) and the edges of time do not panic.
        assert!(next_due(0, 60, T0, id) > T0);
        assert_eq!(next_due(0, 0, 0, id), 1000);
        let _ = next_due(u64::MAX, 3600, u64::MAX, id);
        assert_eq!(slot_at_or_after(id, 60, 0), phase_ms(id, 60));
    }

    #[test]
    fn at_tick_puts_each_monitor_in_exactly_one_tick_per_interval() {
        // A 300 s monitor is due in one tick of every five.
        let id = "five-minutes";
        let mut hits = 0;
        for m in 0..50 {
            let tick = T0 + m * TICK_MS;
            let s = DueState::at_tick(id, 300, tick);
            if !due(std::slice::from_ref(&s), tick + TICK_MS - 1, 1).is_empty() {
                hits += 1;
            }
        }
        assert_eq!(hits, 10);
    }

    #[test]
    fn a_thirty_second_monitor_has_two_slots_a_tick() {
        let id = "fast";
        let slots = slots_in(id, 30, T0, T0 + TICK_MS);
        assert_eq!(slots.len(), 2);
        assert_eq!(slots[1] - slots[0], 30_000);
        assert!(slots[0] >= T0 && slots[0] < T0 + 30_000);
        // Consecutive ticks tile the grid: no slot lost or doubled.
        let mut all = Vec::new();
        for m in 0..10 {
            all.extend(slots_in(id, 30, T0 + m * TICK_MS, T0 + (m + 1) * TICK_MS));
        }
        assert_eq!(all.len(), 20);
        assert!(all.windows(2).all(|w| w[1] - w[0] == 30_000));
        assert!(slots_in(id, 300, T0, T0 + TICK_MS).len() <= 1);
        assert_eq!(slots_in(id, 60, u64::MAX - 10, u64::MAX).len(), 0);
        // Both go through the plan: one now or soon, one delayed ~30 s later.
        let states: Vec<DueState> = slots.iter().map(|&t| st(id, 30, t)).collect();
        let p = plan(
            &states,
            T0,
            Limits {
                direct: 0,
                ..Limits::PAID
            },
        );
        let delays: Vec<u32> = p.queued.iter().map(|b| b.delay_s).collect();
        assert_eq!(delays.len(), 2);
        assert!((25..=35).contains(&(delays[1] - delays[0])), "{delays:?}");
    }

    #[test]
    fn batches_chunk_in_order() {
        let ids = ["a", "b", "c", "d", "e"];
        assert_eq!(
            batches(&ids, 2),
            vec![vec!["a", "b"], vec!["c", "d"], vec!["e"]]
        );
        assert_eq!(batches(&ids, 0).len(), 5);
        assert!(batches::<&str>(&[], 24).is_empty());
    }

    #[test]
    fn plan_for_ten_thousand_monitors() {
        let states: Vec<DueState> = (0..10_000)
            .map(|i| DueState::at_tick(&format!("mon-{i:05}"), 60, T0))
            .collect();
        let p = plan(&states, T0, Limits::PAID);
        assert_eq!(p.direct.len(), 6);
        let queued: usize = p.queued.iter().map(|b| b.ids.len()).sum();
        assert_eq!(p.direct.len() + queued, 10_000, "everyone probed once");
        assert!(p
            .queued
            .iter()
            .all(|b| b.ids.len() <= 24 && !b.ids.is_empty()));
        // About 10,000 / 24 messages, plus one partial batch per delay group.
        assert!(p.queued.len() <= 10_000 / 24 + 12 + 1, "{}", p.queued.len());
        // Delays follow the slots: 12 groups of 5 s over the minute.
        let delays: std::collections::BTreeSet<u32> = p.queued.iter().map(|b| b.delay_s).collect();
        assert_eq!(
            delays.into_iter().collect::<Vec<_>>(),
            (0..12).map(|i| i * 5).collect::<Vec<_>>()
        );
        // Each id is queued no earlier than its group and not after its slot.
        let slots: std::collections::HashMap<&str, u64> = states
            .iter()
            .map(|s| (s.id.as_str(), s.next_due_ms))
            .collect();
        for b in &p.queued {
            for id in &b.ids {
                let off = slots[id] - T0;
                assert!(
                    u64::from(b.delay_s) * 1000 <= off && off < u64::from(b.delay_s + 5) * 1000
                );
            }
        }
        // A small install needs no Queue.
        let p = plan(&states[..5], T0, Limits::PAID);
        assert_eq!((p.direct.len(), p.queued.len()), (5, 0));
        // Monitors due at the next tick are left for it.
        let later = vec![st("x", 60, T0 + TICK_MS)];
        assert_eq!(
            plan(&later, T0, Limits::PAID),
            Plan {
                direct: vec![],
                queued: vec![]
            }
        );
    }
}
