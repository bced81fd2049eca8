//! Start here: alerting in the Worker. The rules are the core's
//! (`mcprobe_monitor::policy`, the same state machine `mcprobe watch` runs); the
//! routing and payloads too (`mcprobe_monitor::alerts`, `notify`). This module
//! is the host: it keeps each monitor's `Policy` (in this isolate's memory,
//! saved to `alert_state` whenever it is not plainly healthy), feeds it every
//! verdict, sends what it answers, and records every delivery.
//!
//! - Confirmation needs fast re-probes (+10 s, +20 s): [`crate::writer`] runs
//!   them in the same invocation, so a hard outage is announced about 20 s
//!   after the first failing probe.
//! - The policy state, the incident rows and the deliveries an event makes
//!   are written in one D1 batch (all or nothing): the deliveries go to the
//!   outbox of [`crate::outbox`], which sends them (claimed with a lease,
//!   retried with backoff, swept on every cron tick if their sender died) and
//!   records the outcome (delivered or failed, attempts, HTTP status, error).
//!   A failed delivery is never dropped silently: it is in `deliveries` and
//!   shown by `GET /api/monitors/{id}/incidents`, with the pending ones.
//! - Every delivery URL passes the same address policy as a probe target.
//! - Maintenance (`POST /api/monitors/{id}/maintenance`) becomes a policy
//!   window: probing goes on, alerts are held. Quiet hours come from the
//!   monitor's `alerts.quiet_hours`.
//! - `POST /api/incidents/{id}/ack` (token) acknowledges an incident: no
//!   escalation of an unacknowledged P2 to P1 after 30 minutes.
//!
//! A monitor without alert channels skips all of this (nothing to send, so
//! nothing to confirm). Writes: a monitor that stays healthy writes nothing
//! here; a failing one writes its state per probe until it is healthy again,
//! plus one incident row and, per delivery, its outbox row and two updates
//! per attempt (the claim, the outcome).

use futures_util::future::join_all;
use mcprobe_core::Verdict;
use mcprobe_monitor::alerts::{self, AlertConfig, Delivery};
use mcprobe_monitor::policy::{Event, MaintenanceWindow, Observation, Policy, PolicyConfig};
use mcprobe_store::{alert_state, deliveries, incidents, Statement};
use serde_json::{json, Value};
use worker::Env;

use crate::clock;
use crate::db;
use crate::error::{db_err, ApiError};
pub use crate::outbox::AlertOutcome;
use crate::outbox::{self, CrashPoint, Stopped};
use crate::rows::{self, Monitor};
use crate::state::POLICIES;
use crate::store::{D1Store, Store};
use crate::target::Policy as TargetPolicy;

/// `[vars]`: where this deployment's pages live (runbook links in alerts).
pub const PUBLIC_BASE_VAR: &str = "PUBLIC_BASE";
/// One delivery attempt's deadline.
pub const ATTEMPT_TIMEOUT_MS: u64 = outbox::ATTEMPT_TIMEOUT_MS;

/// Nothing to remember beyond "healthy": no row needed, no tick needed
/// (the store's definition of `alert_state.open`).
pub use mcprobe_store::alert_state::steady;

/// The policy rules of a monitor now (its maintenance and quiet hours).
pub fn config_of(m: &Monitor, alerts: Option<&AlertConfig>) -> PolicyConfig {
    let mut c = PolicyConfig::new(&m.id);
    if let Some(until) = m.maintenance_until_ms {
        c.maintenance.push(MaintenanceWindow {
            start_ms: 0,
            end_ms: until,
        });
    }
    c.quiet_hours = alerts.and_then(|a| a.quiet_hours);
    c
}

/// Where this deployment's pages are (runbook links).
pub fn public_base(env: &Env) -> String {
    env.var(PUBLIC_BASE_VAR)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// One step of a monitor's policy, to be written: whether it was steady
/// before, the policy after, and the events the step answered.
struct Step {
    before_steady: bool,
    policy: Policy,
    events: Vec<Event>,
}

/// The host side of alerting for one invocation.
pub struct Alerting<'a, S: Store> {
    pub store: &'a S,
    pub target: TargetPolicy,
    pub public_base: String,
    /// The test-only switch of [`outbox::CRASH_VAR`]; `None` in production.
    pub crash: Option<CrashPoint>,
}

/// What alerting takes from the environment, once per invocation.
#[derive(Debug, Clone)]
pub struct Settings {
    pub public_base: String,
    pub crash: Option<CrashPoint>,
}

impl Settings {
    pub fn from_env(env: &Env) -> Settings {
        Settings {
            public_base: public_base(env),
            crash: CrashPoint::from_env(env),
        }
    }
}

impl<'a, S: Store> Alerting<'a, S> {
    pub fn new(store: &'a S, target: TargetPolicy, settings: &Settings) -> Alerting<'a, S> {
        Alerting {
            store,
            target,
            public_base: settings.public_base.clone(),
            crash: settings.crash,
        }
    }
}

impl<'a, S: Store> Alerting<'a, S> {
    /// The monitor's policy, always with the monitor's current rules. A
    /// steady one comes from this isolate's memory; one that is not (an
    /// outage being confirmed, an open incident) is read from its
    /// `alert_state` row, since another isolate (a Queue consumer, an ack) may
    /// have moved it on since; a monitor never seen is new.
    async fn policy(&self, m: &Monitor, alerts: Option<&AlertConfig>) -> Policy {
        let config = config_of(m, alerts);
        let memory = POLICIES.with(|ps| ps.borrow().get(&m.id).cloned());
        if let Some(p) = &memory {
            if steady(p.state()) {
                return Policy::with_state(config, p.state().clone());
            }
        }
        // A row that cannot be read (or no database) counts as none.
        let stored = db::fetch(self.store, &alert_state::load(&m.id))
            .await
            .ok()
            .flatten();
        let state = stored
            .or_else(|| memory.map(Policy::into_state))
            .unwrap_or_default();
        Policy::with_state(config, state)
    }

    /// Writes what one policy step decided, all or nothing, in one D1 batch:
    /// the policy state (unless healthy and still healthy), the events'
    /// incident rows and every delivery to make, as `pending` rows of the
    /// outbox ([`crate::outbox`]). Only then does this isolate's memory take
    /// the new state and are the deliveries sent. If the batch fails nothing
    /// moved: memory keeps the old state, so the next observation decides
    /// (and writes) the same events again.
    async fn commit(
        &self,
        m: &Monitor,
        alerts: Option<&AlertConfig>,
        step: Step,
        now_ms: u64,
        out: &mut AlertOutcome,
    ) -> Result<(), Stopped> {
        let Step {
            before_steady,
            policy,
            events,
        } = step;
        let events = events.as_slice();
        let after_steady = steady(policy.state());
        let mut stmts: Vec<Statement> = Vec::new();
        // Healthy and still healthy: nothing worth a row.
        if !(before_steady && after_steady) {
            stmts.push(alert_state::save(&m.id, policy.state(), now_ms));
        }
        let ctx = outbox::notify_context(m, &self.public_base);
        let mut sends: Vec<(String, Delivery)> = Vec::new();
        for event in events {
            stmts.extend(incidents::record(event));
            let Some(cfg) = alerts else { continue };
            for d in alerts::deliveries(event, cfg, &ctx) {
                let channel = d.channel.code();
                stmts.push(deliveries::enqueue(event, &d.channel_name, channel, now_ms));
                sends.push((deliveries::key(event, &d.channel_name), d));
            }
        }
        if !stmts.is_empty() {
            match db::batch(self.store, &stmts).await {
                Ok(n) => out.rows_written += n,
                Err(e) => {
                    out.errors.push(format!(
                        "monitor {}: writing the alert state and {} deliveries: {e} (nothing moved; the next probe decides again)",
                        m.id,
                        sends.len()
                    ));
                    return Ok(());
                }
            }
        }
        POLICIES.with(|ps| ps.borrow_mut().insert(m.id.clone(), policy));
        out.events += events.len() as u64;
        if self.crash == Some(CrashPoint::AfterState) && !sends.is_empty() {
            return Err(Stopped);
        }
        let results = join_all(sends.into_iter().map(|(key, d)| async move {
            outbox::send_now(self.store, key, &d, self.target, self.crash).await
        }))
        .await;
        let mut stopped = Ok(());
        for (one, r) in results {
            out.add(one);
            if r.is_err() {
                stopped = Err(Stopped);
            }
        }
        stopped
    }

    /// Feeds one verdict to the monitor's policy at `now_ms` (the clock:
    /// confirmation timing is real time) and delivers what it answers.
    /// Returns when the policy wants a fast re-probe, if it does.
    pub async fn observe(
        &self,
        m: &Monitor,
        verdict: &Verdict,
        now_ms: u64,
        out: &mut AlertOutcome,
    ) -> Result<Option<u64>, Stopped> {
        // Read once when the row was loaded. One that cannot be read pages
        // nobody, so it is said on every probe (the cron's log) and on the
        // monitor's admin GET (`alerts_error`), never passed over silently.
        if let Some(bad) = &m.alerts_unreadable {
            out.errors.push(bad.log_line(&m.id));
        }
        let alerts = Some(&m.spec.alerts);
        // Nobody to tell (no channel, e.g. every registry monitor): no
        // policy, no confirmation re-probes, no rows. The outage is still in
        // the monitor's history (state changes, /incidents).
        if alerts.is_none_or(|a| a.channels.is_empty()) {
            return Ok(None);
        }
        let mut policy = self.policy(m, alerts).await;
        let before_steady = steady(policy.state());
        let events = policy.observe(&Observation::from_verdict(verdict), now_ms);
        let next = policy.next_reprobe_at();
        let step = Step {
            before_steady,
            policy,
            events,
        };
        self.commit(m, alerts, step, now_ms, out).await?;
        Ok(next)
    }

    /// Lets time pass for a monitor that is not steady (escalations, the end
    /// of maintenance, quiet hours or flapping).
    pub async fn tick(
        &self,
        m: &Monitor,
        now_ms: u64,
        out: &mut AlertOutcome,
    ) -> Result<(), Stopped> {
        let alerts = Some(&m.spec.alerts);
        let mut policy = self.policy(m, alerts).await;
        let before_steady = steady(policy.state());
        let events = policy.tick(now_ms);
        let step = Step {
            before_steady,
            policy,
            events,
        };
        self.commit(m, alerts, step, now_ms, out).await
    }
}

/// The monitors whose policy is not steady (for the cron's tick).
pub async fn open_monitors<S: Store>(store: &S) -> Result<Vec<String>, String> {
    db::fetch(store, &alert_state::open_monitors()).await
}

/// The alerting side of `POST /api/incidents/{id}/ack` (the route is
/// [`crate::alerts`]'): the incident marked acknowledged, in its row and in
/// its monitor's policy. Answers the body of the route's 200.
pub async fn ack(env: &Env, incident_id: &str) -> Result<Value, ApiError> {
    let store = D1Store::from_env(env).map_err(db_err)?;
    let found = db::fetch(&store, &incidents::get(incident_id))
        .await
        .map_err(db_err)?;
    let Some(incident) = found else {
        return Err(ApiError::new(
            404,
            format!("no incident {incident_id:?}"),
            "see GET /api/monitors/{id}/incidents for the ids",
        ));
    };
    if incident.resolved_at_ms.is_some() {
        return Err(ApiError::new(
            409,
            "this incident is resolved already",
            "nothing to acknowledge",
        ));
    }
    let monitor_id = incident.monitor_id;
    let now = clock::now_ms();
    let m = rows::load(env, &monitor_id).await?.ok_or_else(|| {
        ApiError::new(
            404,
            "the incident's monitor is gone",
            "nothing to acknowledge",
        )
    })?;
    let alerting = Alerting::new(
        &store,
        TargetPolicy::from_env(env),
        &Settings::from_env(env),
    );
    let mut policy = alerting.policy(&m, Some(&m.spec.alerts)).await;
    let before_steady = steady(policy.state());
    let known = policy.ack(incident_id, now);
    let mut out = AlertOutcome::default();
    // No events from an ack: only the state is written.
    let step = Step {
        before_steady,
        policy,
        events: Vec::new(),
    };
    let _ = alerting
        .commit(&m, Some(&m.spec.alerts), step, now, &mut out)
        .await;
    if let Some(e) = out.errors.first() {
        return Err(db_err(e.clone()));
    }
    db::run(&store, &incidents::ack(incident_id, now))
        .await
        .map_err(db_err)?;
    let acked = incident.acked_at_ms.unwrap_or(now);
    Ok(json!({"id": incident_id, "acked_at_ms": acked, "open_in_policy": known}))
}

/// The alerting side of `/api/monitors/{id}/incidents`: the incidents the
/// policy announced, newest first, each with its deliveries.
pub async fn incidents_json<S: Store>(
    store: &S,
    monitor_id: &str,
    limit: u64,
) -> Result<Value, String> {
    let incident_rows = db::fetch(store, &incidents::of_monitor(monitor_id, limit)).await?;
    let delivery_rows = db::fetch(store, &deliveries::of_monitor(monitor_id, 500)).await?;
    let mut out = Vec::new();
    for inc in &incident_rows {
        let mine: Vec<&deliveries::Record> = delivery_rows
            .iter()
            .filter(|d| d.incident_id.as_deref() == Some(inc.id.as_str()))
            .collect();
        let mut v = json!(inc);
        v["deliveries"] = json!(mine);
        out.push(v);
    }
    // Deliveries of events without an incident (drift, digests, flapping
    // outside one), so none is ever out of sight.
    let other: Vec<&deliveries::Record> = delivery_rows
        .iter()
        .filter(|d| d.incident_id.is_none())
        .collect();
    let failed = delivery_rows
        .iter()
        .filter(|d| d.status == deliveries::FAILED)
        .count();
    Ok(json!({"incidents": out, "other_deliveries": other, "failed_deliveries": failed}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_monitor::monitor::MonitorSpec;

    fn monitor(maint: Option<u64>, alerts: Value) -> Monitor {
        Monitor {
            id: "m1".into(),
            spec: MonitorSpec {
                url: "https://e.com/mcp".into(),
                name: "m".into(),
                interval_s: 60,
                headers: Default::default(),
                alerts: AlertConfig::parse(&alerts.as_object().cloned().unwrap_or_default())
                    .expect("parses"),
                runbook_url: None,
                public: true,
            },
            maintenance_until_ms: maint,
            baseline_hash: None,
            secret_headers: Vec::new(),
            source: "api".into(),
            alerts_unreadable: None,
        }
    }

    #[test]
    fn maintenance_and_quiet_hours_reach_the_policy() {
        let m = monitor(
            Some(5_000),
            json!({"quiet_hours": {"start_hour": 22, "end_hour": 7}}),
        );
        let c = config_of(&m, Some(&m.spec.alerts));
        assert!(c.in_maintenance(4_999) && !c.in_maintenance(5_000));
        assert!(c.quiet_hours.is_some());
        assert!(config_of(&monitor(None, json!({})), None)
            .maintenance
            .is_empty());
    }

    #[test]
    fn a_healthy_monitor_is_steady_and_a_failing_one_is_not() {
        let m = monitor(None, json!({}));
        let mut p = Policy::new(config_of(&m, None));
        p.observe(&Observation::ok(), 1_000);
        assert!(steady(p.state()));
        p.observe(
            &Observation::of(mcprobe_core::Mode::ConnectRefused, "refused"),
            61_000,
        );
        assert!(!steady(p.state()));
        assert!(p.next_reprobe_at().is_some());
    }
}
