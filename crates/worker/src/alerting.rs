//! Start here: alerting in the Worker (issue 5). The rules are the core's
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

use std::cell::RefCell;
use std::collections::HashMap;

use futures_util::future::join_all;
use mcprobe_core::Verdict;
use mcprobe_monitor::alerts::{self, AlertConfig, Delivery};
use mcprobe_monitor::policy::{
    Event, EventKind, MaintenanceWindow, Observation, Policy, PolicyConfig, PolicyState,
};
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use crate::api::{self, ApiError};
use crate::monitors::{self, db_err, Monitor};
use crate::outbox::{self, CrashPoint, Stopped};
use crate::probe_host;
use crate::store::{col_str, col_u64, D1Store, Param, Store};
use crate::target::Policy as TargetPolicy;

/// `[vars]`: where this deployment's pages live (runbook links in alerts).
pub const PUBLIC_BASE_VAR: &str = "PUBLIC_BASE";
/// One delivery attempt's deadline.
pub const ATTEMPT_TIMEOUT_MS: u64 = outbox::ATTEMPT_TIMEOUT_MS;

thread_local! {
    static POLICIES: RefCell<HashMap<String, Policy>> = RefCell::new(HashMap::new());
}

/// Nothing to remember beyond "healthy": no row needed, no tick needed.
pub fn steady(s: &PolicyState) -> bool {
    s.incident.is_none()
        && s.fail_streak == 0
        && s.flapping.is_none()
        && s.held.is_empty()
        && s.reprobes.is_empty()
        && s.pending_drift.is_none()
        && !s.in_maintenance
}

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

/// What alerting did in one invocation.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertOutcome {
    pub events: u64,
    pub delivered: u64,
    pub failed: u64,
    pub rows_written: u64,
    /// Outbox rows the cron's sweep tried (left by a dead or failed sender).
    pub swept: u64,
    /// Attempts that failed and were put back for a later one.
    pub deferred: u64,
    /// The test-only switch stopped the invocation.
    pub stopped: bool,
    pub errors: Vec<String>,
}

impl AlertOutcome {
    pub fn add(&mut self, other: AlertOutcome) {
        self.events += other.events;
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.rows_written += other.rows_written;
        self.swept += other.swept;
        self.deferred += other.deferred;
        self.stopped |= other.stopped;
        self.errors.extend(other.errors);
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
        let stored = self
            .store
            .rows(
                "SELECT state_json FROM alert_state WHERE monitor_id = ?",
                &[Param::text(&m.id)],
            )
            .await
            .ok()
            .and_then(|rows| {
                rows.first().and_then(|r| {
                    serde_json::from_str::<PolicyState>(col_str(r, "state_json")).ok()
                })
            });
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
        let mut stmts: Vec<(String, Vec<Param>)> = Vec::new();
        // Healthy and still healthy: nothing worth a row.
        if !(before_steady && after_steady) {
            let json = serde_json::to_string(policy.state()).unwrap_or_default();
            stmts.push((
                "INSERT INTO alert_state (monitor_id, state_json, open, at_ms) VALUES (?, ?, ?, ?) \
                 ON CONFLICT(monitor_id) DO UPDATE SET state_json = excluded.state_json, open = excluded.open, at_ms = excluded.at_ms"
                    .to_string(),
                vec![
                    Param::text(&m.id),
                    Param::text(json),
                    Param::int(u64::from(!after_steady)),
                    Param::int(now_ms),
                ],
            ));
        }
        let ctx = outbox::notify_context(m, &self.public_base);
        let mut sends: Vec<(String, Delivery)> = Vec::new();
        for event in events {
            stmts.extend(incident_sql(event));
            let Some(cfg) = alerts else { continue };
            let event_json = serde_json::to_string(event).unwrap_or_default();
            for d in alerts::deliveries(event, cfg, &ctx) {
                stmts.push(outbox::enqueue(event, &d, &event_json, now_ms));
                sends.push((outbox::key(event, &d.channel_name), d));
            }
        }
        if !stmts.is_empty() {
            match self.store.batch(&stmts).await {
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

/// The incident row an event writes, if any.
fn incident_sql(event: &Event) -> Option<(String, Vec<Param>)> {
    let (sql, params) = match &event.kind {
        EventKind::IncidentOpened {
            id,
            mode,
            reason,
            hint,
            started_at_ms,
            ..
        } => (
            "INSERT OR IGNORE INTO incidents (id, monitor_id, started_at_ms, announced_at_ms, severity, mode, reason, hint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                Param::text(id),
                Param::text(&event.monitor_id),
                Param::int(*started_at_ms),
                Param::int(event.at_ms),
                Param::text(event.severity.as_str()),
                Param::text(mode.as_str()),
                Param::text(reason),
                Param::text(hint),
            ],
        ),
        EventKind::Escalated { id, .. } => (
            "UPDATE incidents SET severity = ?, escalated_at_ms = ? WHERE id = ?",
            vec![
                Param::text(event.severity.as_str()),
                Param::int(event.at_ms),
                Param::text(id),
            ],
        ),
        EventKind::IncidentResolved {
            id,
            ended_at_ms,
            duration_ms,
            ..
        } => (
            "UPDATE incidents SET resolved_at_ms = ?, duration_ms = ? WHERE id = ? AND resolved_at_ms IS NULL",
            vec![
                Param::int(*ended_at_ms),
                Param::int(*duration_ms),
                Param::text(id),
            ],
        ),
        _ => return None,
    };
    Some((sql.to_string(), params))
}

/// The monitors whose policy is not steady (for the cron's tick).
pub async fn open_monitors<S: Store>(store: &S) -> Result<Vec<String>, String> {
    let rows = store
        .rows("SELECT monitor_id FROM alert_state WHERE open = 1", &[])
        .await?;
    Ok(rows
        .iter()
        .map(|r| col_str(r, "monitor_id").to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// `POST /api/incidents/{id}/ack` (token).
pub async fn ack(req: &Request, env: &Env, incident_id: &str) -> Result<Response, ApiError> {
    monitors::require_admin(req, env)?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let rows = store
        .rows(
            "SELECT monitor_id, acked_at_ms, resolved_at_ms FROM incidents WHERE id = ?",
            &[Param::text(incident_id)],
        )
        .await
        .map_err(db_err)?;
    let Some(row) = rows.first() else {
        return Err(ApiError::new(
            404,
            format!("no incident {incident_id:?}"),
            "see GET /api/monitors/{id}/incidents for the ids",
        ));
    };
    if col_u64(row, "resolved_at_ms").is_some() {
        return Err(ApiError::new(
            409,
            "this incident is resolved already",
            "nothing to acknowledge",
        ));
    }
    let monitor_id = col_str(row, "monitor_id").to_string();
    let now = probe_host::now_ms();
    let m = monitors::load(env, &monitor_id).await?.ok_or_else(|| {
        ApiError::new(
            404,
            "the incident's monitor is gone",
            "nothing to acknowledge",
        )
    })?;
    let alerting = Alerting::new(&store, monitors::policy(env), &Settings::from_env(env));
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
    store
        .exec(
            "UPDATE incidents SET acked_at_ms = COALESCE(acked_at_ms, ?) WHERE id = ?",
            &[Param::int(now), Param::text(incident_id)],
        )
        .await
        .map_err(db_err)?;
    let acked = col_u64(row, "acked_at_ms").unwrap_or(now);
    api::json_response(
        200,
        json!({"id": incident_id, "acked_at_ms": acked, "open_in_policy": known}).to_string(),
    )
    .map_err(api::internal)
}

/// The alerting side of `/api/monitors/{id}/incidents`: the incidents the
/// policy announced, newest first, each with its deliveries.
pub async fn incidents_json<S: Store>(
    store: &S,
    monitor_id: &str,
    limit: u64,
) -> Result<Value, String> {
    let incidents = store
        .rows(
            "SELECT id, started_at_ms, announced_at_ms, severity, mode, reason, hint, acked_at_ms, escalated_at_ms, resolved_at_ms, duration_ms FROM incidents WHERE monitor_id = ? ORDER BY started_at_ms DESC LIMIT ?",
            &[Param::text(monitor_id), Param::int(limit)],
        )
        .await?;
    let deliveries = store
        .rows(
            "SELECT incident_id, event, severity, channel_name, channel, at_ms, status, attempts, http_status, error, done_at_ms FROM deliveries WHERE monitor_id = ? ORDER BY at_ms DESC LIMIT 500",
            &[Param::text(monitor_id)],
        )
        .await?;
    let mut out = Vec::new();
    for inc in &incidents {
        let id = col_str(inc, "id");
        let mine: Vec<&Value> = deliveries
            .iter()
            .filter(|d| col_str(d, "incident_id") == id)
            .collect();
        let mut v = inc.clone();
        v["deliveries"] = json!(mine);
        out.push(v);
    }
    // Deliveries of events without an incident (drift, digests, flapping
    // outside one), so none is ever out of sight.
    let other: Vec<&Value> = deliveries
        .iter()
        .filter(|d| d.get("incident_id").is_none_or(Value::is_null))
        .collect();
    let failed = deliveries
        .iter()
        .filter(|d| col_str(d, "status") == "failed")
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
