//! Start here: the `mcprobe watch` daemon. One tokio task per monitor probes
//! it on its interval (sooner when the policy asks for a fast re-probe), a
//! ticker lets time pass for every policy (escalations, quiet-hour digests,
//! the end of maintenance or flapping), and the outbox task sends what is
//! owed. The policy, routing and payloads are the core's; this file only
//! moves data between them, the network and [`super::store`].
//!
//! Every apply is one SQLite transaction that reads the monitor's state,
//! runs the policy, and writes the new state, its incidents and its outbox
//! rows together. Nothing is cached in memory between probes, so another
//! process (`--ack`) can change the state under a running daemon, and a
//! killed daemon resumes exactly where its last commit left it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures_util::future::join_all;
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::{Probe, Verdict};
use mcprobe_monitor::alerts;
use mcprobe_monitor::notify::{self, NotifyContext};
use mcprobe_monitor::policy::{Event, EventKind, Observation, Policy, PolicyConfig};
use tokio::sync::{mpsc, Notify};

use super::config::{WatchConfig, WatchMonitor};
use super::deliver;
use super::store::{self, OutboxRow, Store};
use crate::host::{self, Clock, NetConfig};
use crate::tls::TlsSetup;

/// Every probe's deadline (a monitor's interval is at least 30 s).
pub const PROBE_TIMEOUT_MS: u64 = 10_000;
/// How often the policies are ticked.
pub const TICK_MS: u64 = 5_000;
/// Shortest wait the time scale may produce (keeps a test from spinning).
const MIN_WAIT_MS: u64 = 50;
/// `--once` follows at most this many fast re-probes per monitor.
const MAX_ONCE_REPROBES: usize = 10;

/// Wall-clock milliseconds since the epoch: the policy's clock (its
/// maintenance windows and quiet hours are wall-clock times).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One line to stderr per state change, event and delivery. A reason can
/// quote a server's answer: the renderer's cleaning shows control characters
/// and bidi overrides escaped, so one entry is always one harmless line.
fn log(line: impl AsRef<str>) {
    eprintln!("mcprobe watch: {}", crate::render::clean(line.as_ref()));
}

/// The running watcher: config, state file, clients.
pub struct Watch {
    cfg: WatchConfig,
    store: Mutex<Store>,
    /// Divides every interval and policy duration (tests only; 1 in use).
    time_scale: u64,
    net: NetConfig,
    probe_client: reqwest::Client,
    delivery_client: reqwest::Client,
    wake_outbox: Notify,
}

impl Watch {
    pub fn new(cfg: WatchConfig, store: Store, time_scale: u64) -> anyhow::Result<Watch> {
        let ca = match &cfg.cacert {
            Some(p) => Some(
                std::fs::read(p)
                    .with_context(|| format!("cannot read watch.cacert {}", p.display()))?,
            ),
            None => None,
        };
        let net = NetConfig {
            tls: TlsSetup::new(ca.as_deref())?,
            resolve: Vec::new(),
            guard: None,
        };
        let probe_client = host::build_client(&net)?;
        Ok(Watch {
            cfg,
            store: Mutex::new(store),
            time_scale: time_scale.max(1),
            net,
            probe_client,
            delivery_client: deliver::client()?,
            wake_outbox: Notify::new(),
        })
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (transactions roll back), so a poisoned lock is still usable.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn scaled(&self, ms: u64) -> u64 {
        (ms / self.time_scale).max(MIN_WAIT_MS.min(ms))
    }

    /// The policy rules of a monitor: the defaults, its maintenance
    /// windows and quiet hours, every duration divided by the time scale.
    pub fn policy_config(&self, m: &WatchMonitor) -> PolicyConfig {
        let mut c = PolicyConfig::new(&m.id);
        c.maintenance = m.maintenance.clone();
        c.quiet_hours = m.alerts.quiet_hours;
        if self.time_scale > 1 {
            c.reprobe_after_ms = c.reprobe_after_ms.iter().map(|d| self.scaled(*d)).collect();
            c.flap_window_ms = self.scaled(c.flap_window_ms);
            c.stable_after_ms = self.scaled(c.stable_after_ms);
            c.escalate_after_ms = c.escalate_after_ms.map(|d| self.scaled(d));
        }
        c
    }

    fn ctx(&self, m: &WatchMonitor) -> NotifyContext {
        NotifyContext {
            monitor_name: m.spec.name.clone(),
            url: m.spec.url.clone(),
            // Not the probe's: a resend after a restart must build the same body.
            server_name: None,
            public_base: self.cfg.public_base.clone(),
            runbook_url: m.spec.runbook_url.clone(),
        }
    }

    fn interval_ms(&self, m: &WatchMonitor) -> u64 {
        self.scaled(u64::from(m.spec.interval_s) * 1000)
    }

    /// Probes a monitor against its stored baseline.
    async fn probe(&self, m: &WatchMonitor) -> anyhow::Result<(Verdict, Option<Snapshot>, bool)> {
        let baseline = store::load_baseline(self.store().conn(), &m.id)?;
        let has_baseline = baseline.is_some();
        let mut cfg = crate::check::probe_config(m.spec.url.clone(), PROBE_TIMEOUT_MS, false);
        cfg.headers = m.spec.request_headers();
        cfg.baseline = baseline;
        let clock = Clock::start();
        let probe = Probe::new(cfg, clock.now_ms()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (verdict, snapshot) =
            host::run_http_with(probe, &clock, &self.net, &self.probe_client, &mut |_, _| {})
                .await?;
        Ok((verdict, snapshot, has_baseline))
    }

    /// Probes once and applies the verdict; answers when to re-probe.
    async fn probe_and_apply(&self, m: &WatchMonitor) -> Option<u64> {
        match self.probe(m).await {
            Ok((verdict, snapshot, has_baseline)) => {
                let new_baseline = if has_baseline { None } else { snapshot };
                self.apply(m, &verdict, new_baseline.as_ref(), now_ms())
            }
            Err(e) => {
                // Could not probe at all (not a verdict): nothing to judge.
                log(format!("[{}] probe not run: {e:#}", m.id));
                None
            }
        }
    }

    /// Feeds a verdict to the monitor's policy and commits the outcome;
    /// answers the next fast re-probe time, if any.
    pub fn apply(
        &self,
        m: &WatchMonitor,
        verdict: &Verdict,
        new_baseline: Option<&Snapshot>,
        now: u64,
    ) -> Option<u64> {
        let obs = Observation::from_verdict(verdict);
        let mode = verdict.mode.as_str();
        let mut was_passing = None;
        let committed = self.commit(m, now, Some(mode), new_baseline, |p| {
            was_passing = p.state().last_pass;
            p.observe(&obs, now)
        });
        let (events, next) = match committed {
            Ok(r) => r,
            Err(e) => {
                log(format!(
                    "[{}] could not save the probe's outcome: {e:#}",
                    m.id
                ));
                return None;
            }
        };
        let passing = !obs.is_failing();
        if was_passing != Some(passing) {
            if passing {
                log(format!("[{}] passing: {}", m.id, verdict.mode.as_str()));
            } else {
                log(format!(
                    "[{}] failing: {} {}: {}",
                    m.id,
                    verdict.severity.as_str(),
                    verdict.mode.as_str(),
                    verdict.reason
                ));
            }
        }
        if new_baseline.is_some() {
            log(format!("[{}] baseline tool list recorded", m.id));
        }
        self.announce(m, &events);
        next
    }

    /// Lets time pass for every monitor that has state.
    pub fn tick(&self, now: u64) {
        for m in &self.cfg.monitors {
            match self.commit(m, now, None, None, |p| p.tick(now)) {
                Ok((events, _)) => self.announce(m, &events),
                Err(e) => log(format!("[{}] tick not saved: {e:#}", m.id)),
            }
        }
    }

    /// Acknowledges an open incident (its P2 will not escalate).
    pub fn ack(&self, incident_id: &str, now: u64) -> anyhow::Result<bool> {
        let Some(monitor_id) = store::incident_monitor(self.store().conn(), incident_id)? else {
            return Ok(false);
        };
        let Some(m) = self.cfg.monitors.iter().find(|m| m.id == monitor_id) else {
            return Ok(false);
        };
        let mut acked = false;
        self.commit(m, now, None, None, |p| {
            acked = p.ack(incident_id, now);
            Vec::new()
        })?;
        if acked {
            store::record_ack(self.store().conn(), incident_id, now)?;
        }
        Ok(acked)
    }

    /// The one transaction of an apply: state in, policy step, state,
    /// baseline, incidents and outbox rows out.
    fn commit(
        &self,
        m: &WatchMonitor,
        now: u64,
        probed: Option<&str>,
        new_baseline: Option<&Snapshot>,
        step: impl FnOnce(&mut Policy) -> Vec<Event>,
    ) -> anyhow::Result<(Vec<Event>, Option<u64>)> {
        let config = self.policy_config(m);
        let ctx = self.ctx(m);
        let mut warning = None;
        let out = self.store().with_tx(|c| {
            let stored = store::load_state(c, &m.id)?;
            let (state, exists) = match stored {
                Ok(Some(s)) => (s, true),
                Ok(None) => (Default::default(), false),
                Err(w) => {
                    warning = Some(w);
                    (Default::default(), false)
                }
            };
            // A tick of a monitor never probed has nothing to do.
            if probed.is_none() && !exists {
                return Ok((Vec::new(), None));
            }
            let mut policy = Policy::with_state(config, state);
            let before = policy.state().clone();
            let events = step(&mut policy);
            if probed.is_some() || policy.state() != &before {
                store::save_state(c, &m.id, policy.state(), now, probed)?;
            }
            if let Some(snap) = new_baseline {
                store::save_baseline(c, &m.id, snap, now)?;
            }
            for e in &events {
                store::record_incident(c, e)?;
                for d in alerts::deliveries(e, &m.alerts, &ctx) {
                    store::enqueue(c, e, &d.channel_name, d.channel.code())?;
                }
            }
            Ok((events, policy.next_reprobe_at()))
        })?;
        if let Some(w) = warning {
            log(format!("[{}] {w}", m.id));
        }
        Ok(out)
    }

    fn announce(&self, m: &WatchMonitor, events: &[Event]) {
        for e in events {
            log(format!("[{}] {}", m.id, describe(e)));
        }
        if !events.is_empty() {
            self.wake_outbox.notify_one();
        }
    }

    fn pending_rows(&self) -> Vec<OutboxRow> {
        match store::pending(self.store().conn(), now_ms()) {
            Ok((rows, broken)) => {
                for b in broken {
                    log(format!("delivery FAILED: {b}"));
                }
                rows
            }
            Err(e) => {
                log(format!("cannot read the outbox: {e}"));
                Vec::new()
            }
        }
    }

    /// Sends one outbox row to the end (delivered or finally failed) and
    /// records every attempt. True when delivered.
    async fn send_row(&self, row: OutboxRow) -> bool {
        let what = format!(
            "{} of {} to {}",
            row.event.kind.code(),
            row.monitor_id,
            row.channel_name
        );
        let rebuilt = match self.cfg.monitors.iter().find(|m| m.id == row.monitor_id) {
            Some(m) => deliver::rebuild(&row.event, &row.channel_name, &m.alerts, &self.ctx(m)),
            None => Err(format!(
                "the monitor {:?} is no longer in the config",
                row.monitor_id
            )),
        };
        let d = match rebuilt {
            Ok(d) => d,
            Err(error) => {
                self.finish(&row, store::Done::Failed, None, Some(&error));
                log(format!("delivery FAILED: {what}: {error}"));
                return false;
            }
        };
        let key = row.key.clone();
        let mut on_attempt = |n: u32, status: Option<u16>, error: &str| {
            if let Err(e) = store::record_attempt(self.store().conn(), &key, n, status, Some(error))
            {
                log(format!("cannot record a delivery attempt: {e}"));
            }
            log(format!(
                "delivery {what}: attempt {n} failed ({error}); retrying"
            ));
        };
        let (attempts, outcome) = deliver::send_with_retries(
            &self.delivery_client,
            &d,
            row.attempts,
            self.time_scale,
            &mut on_attempt,
        )
        .await;
        if let Err(e) = store::record_attempt(
            self.store().conn(),
            &key,
            attempts,
            outcome.as_ref().ok().copied(),
            None,
        ) {
            log(format!("cannot record a delivery attempt: {e}"));
        }
        match outcome {
            Ok(status) => {
                self.finish(&row, store::Done::Delivered, Some(status), None);
                log(format!(
                    "delivered {what} (HTTP {status}, attempt {attempts})"
                ));
                true
            }
            Err((status, error)) => {
                self.finish(&row, store::Done::Failed, status, Some(&error));
                log(format!(
                    "delivery FAILED: {what} after {attempts} attempts: {error}"
                ));
                false
            }
        }
    }

    fn finish(&self, row: &OutboxRow, done: store::Done, http: Option<u16>, error: Option<&str>) {
        if let Err(e) = store::finish(self.store().conn(), &row.key, done, http, error, now_ms()) {
            log(format!("cannot record a delivery outcome: {e}"));
        }
    }

    /// Sends everything owed and waits for the end of each: channels in
    /// parallel, each channel's rows in order. Answers how many finally failed.
    pub async fn flush(&self) -> usize {
        let lanes = lanes(self.pending_rows());
        let failed = join_all(lanes.into_iter().map(|lane| async move {
            let mut failed = 0;
            for row in lane {
                failed += usize::from(!self.send_row(row).await);
            }
            failed
        }))
        .await;
        failed.into_iter().sum()
    }

    /// `--once`: every monitor probed (with its fast re-probes, so an outage
    /// is confirmed in one run), a tick, everything owed sent. Exit code 1
    /// when a delivery failed, else 0.
    pub async fn once(&self) -> i32 {
        join_all(self.cfg.monitors.iter().map(|m| async move {
            let mut next = self.probe_and_apply(m).await;
            for _ in 0..MAX_ONCE_REPROBES {
                let Some(at) = next else { break };
                sleep_until_ms(at).await;
                next = self.probe_and_apply(m).await;
            }
        }))
        .await;
        self.tick(now_ms());
        let failed = self.flush().await;
        i32::from(failed > 0)
    }

    /// The daemon: runs until SIGINT or SIGTERM.
    pub async fn run(self: Arc<Self>) -> anyhow::Result<()> {
        log(format!(
            "watching {} monitor(s); state in {}",
            self.cfg.monitors.len(),
            self.cfg.state_path.display()
        ));
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(self.clone().outbox_loop()));
        tasks.push(tokio::spawn(self.clone().tick_loop()));
        for i in 0..self.cfg.monitors.len() {
            tasks.push(tokio::spawn(self.clone().monitor_loop(i)));
        }
        let signal = shutdown_signal().await;
        log(format!(
            "{signal}: stopping (state is saved after every probe)"
        ));
        for t in tasks {
            t.abort();
        }
        Ok(())
    }

    async fn monitor_loop(self: Arc<Self>, index: usize) {
        let Some(m) = self.cfg.monitors.get(index) else {
            return;
        };
        let interval = self.interval_ms(m);
        let mut scheduled = now_ms();
        loop {
            let reprobe = self.probe_and_apply(m).await;
            let now = now_ms();
            scheduled = scheduled.saturating_add(interval);
            if scheduled <= now {
                // A probe outlived its interval (or the machine slept): skip
                // the missed slots instead of probing in a burst.
                scheduled = now.saturating_add(interval);
            }
            let next = reprobe.map_or(scheduled, |r| r.min(scheduled));
            sleep_until_ms(next).await;
        }
    }

    async fn tick_loop(self: Arc<Self>) {
        let period = Duration::from_millis(self.scaled(TICK_MS));
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.tick(now_ms());
        }
    }

    /// Sends pending rows as they appear: one row in flight per lane (a
    /// monitor's channel), so a resolve never overtakes its trigger, which
    /// would leave a PagerDuty page open.
    async fn outbox_loop(self: Arc<Self>) {
        let mut busy: HashSet<(String, String)> = HashSet::new();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(String, String)>();
        loop {
            for lane in lanes(self.pending_rows()) {
                let Some(row) = lane.into_iter().next() else {
                    continue;
                };
                let key = (row.monitor_id.clone(), row.channel_name.clone());
                if busy.insert(key.clone()) {
                    let me = self.clone();
                    let done = done_tx.clone();
                    tokio::spawn(async move {
                        me.send_row(row).await;
                        let _ = done.send(key);
                    });
                }
            }
            tokio::select! {
                _ = self.wake_outbox.notified() => {}
                Some(key) = done_rx.recv() => { busy.remove(&key); }
            }
        }
    }
}

/// Pending rows grouped by (monitor, channel), each group oldest first.
fn lanes(rows: Vec<OutboxRow>) -> Vec<Vec<OutboxRow>> {
    let mut out: Vec<Vec<OutboxRow>> = Vec::new();
    for row in rows {
        match out.iter_mut().find(|l| {
            l.first().is_some_and(|f| {
                f.monitor_id == row.monitor_id && f.channel_name == row.channel_name
            })
        }) {
            Some(lane) => lane.push(row),
            None => out.push(vec![row]),
        }
    }
    out
}

async fn sleep_until_ms(at_ms: u64) {
    let wait = at_ms.saturating_sub(now_ms());
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
}

#[cfg(unix)]
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

#[cfg(not(unix))]
async fn shutdown_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

/// One line about an event, for the log.
pub fn describe(e: &Event) -> String {
    let sev = e.severity.as_str();
    match &e.kind {
        EventKind::IncidentOpened {
            id,
            mode,
            reason,
            started_at_ms,
            ..
        } => format!(
            "incident_opened {sev} {id}: {} since {}: {reason}",
            mode.as_str(),
            mcprobe_core::time::rfc3339(*started_at_ms)
        ),
        EventKind::IncidentResolved {
            id, duration_ms, ..
        } => format!(
            "incident_resolved {sev} {id} after {}",
            notify::human_duration(*duration_ms)
        ),
        EventKind::Escalated {
            id, from, cause, ..
        } => format!("escalated {id} from {} to {sev} ({cause:?})", from.as_str()),
        EventKind::Flapping { changes, .. } => {
            format!("flapping {sev}: {changes} state changes; alerts held until stable")
        }
        EventKind::Stable { up, .. } => {
            format!(
                "stable {sev}: flapping is over, {}",
                if *up { "up" } else { "down" }
            )
        }
        EventKind::DriftDetected { diff } => format!(
            "drift_detected {sev}: {} change(s){}",
            diff.changes.len(),
            if diff.breaking { ", breaking" } else { "" }
        ),
        EventKind::Digest { items, dropped } => {
            format!(
                "digest {sev}: {} held event(s), {dropped} dropped",
                items.len()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_core::verdict::Mode;
    use mcprobe_monitor::policy::Observation;

    fn row(id: i64, monitor: &str, channel: &str) -> OutboxRow {
        let mut p = Policy::new(PolicyConfig {
            confirm_failures: 1,
            ..PolicyConfig::new(monitor)
        });
        let event = p
            .observe(&Observation::of(Mode::ConnectRefused, "refused"), 1)
            .remove(0);
        OutboxRow {
            key: id.to_string(),
            monitor_id: monitor.into(),
            channel_name: channel.into(),
            event,
            attempts: 0,
        }
    }

    #[test]
    fn lanes_keep_each_channels_order_and_separate_channels() {
        let ids = |ls: Vec<Vec<OutboxRow>>| -> Vec<Vec<i64>> {
            ls.into_iter()
                .map(|l| {
                    l.into_iter()
                        .map(|r| r.key.parse().expect("an id"))
                        .collect()
                })
                .collect()
        };
        let got = lanes(vec![
            row(1, "a", "pd"),
            row(2, "a", "slack"),
            row(3, "b", "pd"),
            row(4, "a", "pd"),
            row(5, "a", "slack"),
        ]);
        assert_eq!(ids(got), vec![vec![1, 4], vec![2, 5], vec![3]]);
        assert!(lanes(Vec::new()).is_empty());
    }

    #[test]
    fn events_read_as_one_line() {
        let e = row(1, "docs", "pd").event;
        let line = describe(&e);
        assert!(
            line.starts_with(
                "incident_opened P1 docs-1: connect_refused since 1970-01-01T00:00:00.001Z"
            ),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }
}
