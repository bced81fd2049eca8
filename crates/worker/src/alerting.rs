//! Start here: alerting in the Worker (issue 5). The rules are the core's
//! (`mcprobe_core::policy`, the same state machine `mcprobe watch` runs); the
//! routing and payloads too (`mcprobe_core::alerts`, `notify`). This module
//! is the host: it keeps each monitor's `Policy` (in this isolate's memory,
//! saved to `alert_state` whenever it is not plainly healthy), feeds it every
//! verdict, sends what it answers, and records every delivery.
//!
//! - Confirmation needs fast re-probes (+10 s, +20 s): [`crate::writer`] runs
//!   them in the same invocation, so a hard outage is announced about 20 s
//!   after the first failing probe.
//! - A delivery is claimed first (`INSERT OR IGNORE` on `{monitor}:{event}:
//!   {at}:{channel}`), so two runs never send one event twice; it is then
//!   tried up to `alerts::MAX_ATTEMPTS` times with backoff, and its outcome
//!   (delivered or failed, attempts, HTTP status, error) is written back. A
//!   failed delivery is never dropped silently: it is in `deliveries` and
//!   shown by `GET /api/monitors/{id}/incidents`.
//! - Every delivery URL passes the same address policy as a probe target.
//! - Maintenance (`POST /api/monitors/{id}/maintenance`) becomes a policy
//!   window: probing goes on, alerts are held. Quiet hours come from the
//!   monitor's `alerts.quiet_hours`.
//! - `POST /api/incidents/{id}/ack` (token) acknowledges an incident: no
//!   escalation of an unacknowledged P2 to P1 after 30 minutes.
//!
//! A monitor without alert channels skips all of this (nothing to send, so
//! nothing to confirm). Writes: a monitor that stays healthy writes nothing
//! here; a failing one
//! writes its state per probe until it is healthy again, plus one incident
//! row and two rows per delivery.

use std::cell::RefCell;
use std::collections::HashMap;

use futures_util::future::{join_all, select, Either};
use mcprobe_core::alerts::{self, AlertConfig, Delivery};
use mcprobe_core::notify::NotifyContext;
use mcprobe_core::policy::{
    Event, EventKind, MaintenanceWindow, Observation, Policy, PolicyConfig, PolicyState,
};
use mcprobe_core::Verdict;
use serde_json::{json, Value};
use worker::{AbortController, Delay, Env, Fetch, Headers, Method, Request, RequestInit, Response};

use crate::api::{self, ApiError};
use crate::monitors::{self, db_err, Monitor};
use crate::probe_host;
use crate::store::{col_str, col_u64, D1Store, Param, Store};
use crate::target::Policy as TargetPolicy;

/// `[vars]`: where this deployment's pages live (runbook links in alerts).
pub const PUBLIC_BASE_VAR: &str = "PUBLIC_BASE";
/// One delivery attempt's deadline.
pub const ATTEMPT_TIMEOUT_MS: u64 = 10_000;

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

/// The host side of alerting for one invocation.
pub struct Alerting<'a, S: Store> {
    pub store: &'a S,
    pub target: TargetPolicy,
    pub public_base: String,
}

/// What alerting did in one invocation.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertOutcome {
    pub events: u64,
    pub delivered: u64,
    pub failed: u64,
    pub rows_written: u64,
    pub errors: Vec<String>,
}

impl AlertOutcome {
    pub fn add(&mut self, other: AlertOutcome) {
        self.events += other.events;
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.rows_written += other.rows_written;
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

    async fn save(
        &self,
        m: &Monitor,
        before_steady: bool,
        policy: Policy,
        now_ms: u64,
        out: &mut AlertOutcome,
    ) {
        let after_steady = steady(policy.state());
        // Healthy and still healthy: nothing worth a row.
        if !(before_steady && after_steady) {
            let json = serde_json::to_string(policy.state()).unwrap_or_default();
            match self
                .store
                .exec(
                    "INSERT INTO alert_state (monitor_id, state_json, open, at_ms) VALUES (?, ?, ?, ?) \
                     ON CONFLICT(monitor_id) DO UPDATE SET state_json = excluded.state_json, open = excluded.open, at_ms = excluded.at_ms",
                    &[
                        Param::text(&m.id),
                        Param::text(json),
                        Param::int(u64::from(!after_steady)),
                        Param::int(now_ms),
                    ],
                )
                .await
            {
                Ok(n) => out.rows_written += n,
                Err(e) => out.errors.push(e),
            }
        }
        POLICIES.with(|ps| ps.borrow_mut().insert(m.id.clone(), policy));
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
    ) -> Option<u64> {
        let alerts = AlertConfig::parse(&m.spec.alerts).ok();
        // Nobody to tell (no channel, e.g. every registry monitor): no
        // policy, no confirmation re-probes, no rows. The outage is still in
        // the monitor's history (state changes, /incidents).
        if alerts.as_ref().is_none_or(|a| a.channels.is_empty()) {
            return None;
        }
        let mut policy = self.policy(m, alerts.as_ref()).await;
        let before = steady(policy.state());
        let events = policy.observe(&Observation::from_verdict(verdict), now_ms);
        let next = policy.next_reprobe_at();
        self.save(m, before, policy, now_ms, out).await;
        self.announce(m, alerts.as_ref(), &events, out).await;
        next
    }

    /// Lets time pass for a monitor that is not steady (escalations, the end
    /// of maintenance, quiet hours or flapping).
    pub async fn tick(&self, m: &Monitor, now_ms: u64, out: &mut AlertOutcome) {
        let alerts = AlertConfig::parse(&m.spec.alerts).ok();
        let mut policy = self.policy(m, alerts.as_ref()).await;
        let before = steady(policy.state());
        let events = policy.tick(now_ms);
        self.save(m, before, policy, now_ms, out).await;
        self.announce(m, alerts.as_ref(), &events, out).await;
    }

    /// Records the events' incidents and sends them to every channel.
    async fn announce(
        &self,
        m: &Monitor,
        alerts: Option<&AlertConfig>,
        events: &[Event],
        out: &mut AlertOutcome,
    ) {
        if events.is_empty() {
            return;
        }
        out.events += events.len() as u64;
        let ctx = NotifyContext {
            monitor_name: m.spec.name.clone(),
            url: m.spec.url.clone(),
            server_name: None,
            public_base: self.public_base.clone(),
            runbook_url: m.spec.runbook_url.clone(),
        };
        for event in events {
            let r = self.record_incident(event).await;
            match r {
                Ok(n) => out.rows_written += n,
                Err(e) => out.errors.push(e),
            }
            let Some(cfg) = alerts else {
                continue;
            };
            let sends = alerts::deliveries(event, cfg, &ctx)
                .into_iter()
                .map(|d| self.deliver(event, d));
            for (rows, ok, err) in join_all(sends).await {
                out.rows_written += rows;
                match ok {
                    Some(true) => out.delivered += 1,
                    Some(false) => out.failed += 1,
                    None => {}
                }
                out.errors.extend(err);
            }
        }
    }

    async fn record_incident(&self, event: &Event) -> Result<u64, String> {
        match &event.kind {
            EventKind::IncidentOpened {
                id,
                mode,
                reason,
                hint,
                started_at_ms,
                ..
            } => {
                self.store
                    .exec(
                        "INSERT OR IGNORE INTO incidents (id, monitor_id, started_at_ms, announced_at_ms, severity, mode, reason, hint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        &[
                            Param::text(id),
                            Param::text(&event.monitor_id),
                            Param::int(*started_at_ms),
                            Param::int(event.at_ms),
                            Param::text(event.severity.as_str()),
                            Param::text(mode.as_str()),
                            Param::text(reason),
                            Param::text(hint),
                        ],
                    )
                    .await
            }
            EventKind::Escalated { id, .. } => {
                self.store
                    .exec(
                        "UPDATE incidents SET severity = ?, escalated_at_ms = ? WHERE id = ?",
                        &[
                            Param::text(event.severity.as_str()),
                            Param::int(event.at_ms),
                            Param::text(id),
                        ],
                    )
                    .await
            }
            EventKind::IncidentResolved {
                id,
                ended_at_ms,
                duration_ms,
                ..
            } => {
                self.store
                    .exec(
                        "UPDATE incidents SET resolved_at_ms = ?, duration_ms = ? WHERE id = ? AND resolved_at_ms IS NULL",
                        &[Param::int(*ended_at_ms), Param::int(*duration_ms), Param::text(id)],
                    )
                    .await
            }
            _ => Ok(0),
        }
    }

    /// Claims, sends (with retries) and records one delivery. Answers the
    /// rows written, whether it was delivered (None: another run has it), and
    /// an error for the log.
    async fn deliver(&self, event: &Event, d: Delivery) -> (u64, Option<bool>, Option<String>) {
        let key = format!(
            "{}:{}:{}:{}",
            event.monitor_id,
            event.kind.code(),
            event.at_ms,
            d.channel_name
        );
        let claimed = self
            .store
            .exec(
                "INSERT OR IGNORE INTO deliveries (key, monitor_id, incident_id, event, severity, channel_name, channel, at_ms, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sending')",
                &[
                    Param::text(&key),
                    Param::text(&event.monitor_id),
                    Param::opt_text(alerts::incident_of(event)),
                    Param::text(event.kind.code()),
                    Param::text(event.severity.as_str()),
                    Param::text(&d.channel_name),
                    Param::text(channel_code(&d)),
                    Param::int(event.at_ms),
                ],
            )
            .await;
        let mut rows = match claimed {
            Ok(0) => return (0, None, None),
            Ok(n) => n,
            Err(e) => return (0, None, Some(format!("claiming a delivery: {e}"))),
        };
        let (attempts, result) = send_with_retries(&d, self.target).await;
        let (status, http_status, error) = match &result {
            Ok(s) => ("delivered", Some(*s), None),
            Err((s, e)) => ("failed", *s, Some(e.clone())),
        };
        match self
            .store
            .exec(
                "UPDATE deliveries SET status = ?, attempts = ?, http_status = ?, error = ?, done_at_ms = ? WHERE key = ?",
                &[
                    Param::text(status),
                    Param::int(u64::from(attempts)),
                    http_status.map_or(Param::Null, |s| Param::int(u64::from(s))),
                    Param::opt_text(error.as_deref()),
                    Param::int(probe_host::now_ms()),
                    Param::text(&key),
                ],
            )
            .await
        {
            Ok(n) => rows += n,
            Err(e) => return (rows, Some(result.is_ok()), Some(e)),
        }
        let log = error.map(|e| format!("delivery {key} failed after {attempts} attempts: {e}"));
        (rows, Some(result.is_ok()), log)
    }
}

fn channel_code(d: &Delivery) -> &'static str {
    use mcprobe_core::notify::Channel;
    match d.channel {
        Channel::Webhook => "webhook",
        Channel::Slack => "slack",
        Channel::Discord => "discord",
        Channel::Pagerduty => "pagerduty",
        Channel::Opsgenie => "opsgenie",
    }
}

/// Attempts and the outcome: the 2xx status, or the last status (if any) and
/// what went wrong.
async fn send_with_retries(
    d: &Delivery,
    target: TargetPolicy,
) -> (u32, Result<u16, (Option<u16>, String)>) {
    if let Err(refusal) = target.check_str(&d.url) {
        return (
            0,
            Err((
                None,
                format!("refused to send to this URL: {}", refusal.describe()),
            )),
        );
    }
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let (status, retry_after, error) = match send_once(d).await {
            Ok((s, _)) if alerts::delivered(s) => return (attempt, Ok(s)),
            Ok((s, ra)) => (Some(s), ra, format!("the receiver answered HTTP {s}")),
            Err(e) => (None, None, e),
        };
        match alerts::retry_after(attempt, status, retry_after) {
            Some(wait) => {
                Delay::from(std::time::Duration::from_millis(wait)).await;
            }
            None => return (attempt, Err((status, error))),
        }
    }
}

/// One POST with a deadline; the status and a `Retry-After` in ms.
async fn send_once(d: &Delivery) -> Result<(u16, Option<u64>), String> {
    let headers = Headers::new();
    let set = |h: &Headers, k: &str, v: &str| h.set(k, v).map_err(|e| e.to_string());
    set(&headers, "Content-Type", "application/json")?;
    set(&headers, "User-Agent", "mcprobe-alerts/1")?;
    for (k, v) in &d.headers {
        set(&headers, k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(worker::RequestRedirect::Manual)
        .with_body(Some(d.body.clone().into()));
    let req = Request::new_with_init(&d.url, &init).map_err(|e| e.to_string())?;
    let abort = AbortController::default();
    let signal = abort.signal();
    let send = Box::pin(async move { Fetch::Request(req).send_with_signal(&signal).await });
    let timeout = Delay::from(std::time::Duration::from_millis(ATTEMPT_TIMEOUT_MS));
    match select(send, timeout).await {
        Either::Left((Ok(resp), _)) => {
            let retry_after = resp
                .headers()
                .get("Retry-After")
                .ok()
                .flatten()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| s.saturating_mul(1000));
            Ok((resp.status_code(), retry_after))
        }
        Either::Left((Err(e), _)) => Err(format!("no answer: {e}")),
        Either::Right(_) => {
            abort.abort();
            Err(format!("no answer within {} s", ATTEMPT_TIMEOUT_MS / 1000))
        }
    }
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
    let alerting = Alerting {
        store: &store,
        target: monitors::policy(env),
        public_base: public_base(env),
    };
    let cfg = AlertConfig::parse(&m.spec.alerts).ok();
    let mut policy = alerting.policy(&m, cfg.as_ref()).await;
    let before = steady(policy.state());
    let known = policy.ack(incident_id, now);
    let mut out = AlertOutcome::default();
    alerting.save(&m, before, policy, now, &mut out).await;
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
    use mcprobe_core::monitor::MonitorSpec;

    fn monitor(maint: Option<u64>, alerts: Value) -> Monitor {
        Monitor {
            id: "m1".into(),
            spec: MonitorSpec {
                url: "https://e.com/mcp".into(),
                name: "m".into(),
                interval_s: 60,
                headers: Default::default(),
                alerts: alerts.as_object().cloned().unwrap_or_default(),
                runbook_url: None,
                public: true,
            },
            maintenance_until_ms: maint,
            baseline_hash: None,
            secret_headers: Vec::new(),
            source: "api".into(),
        }
    }

    #[test]
    fn maintenance_and_quiet_hours_reach_the_policy() {
        let m = monitor(
            Some(5_000),
            json!({"quiet_hours": {"start_hour": 22, "end_hour": 7}}),
        );
        let cfg = AlertConfig::parse(&m.spec.alerts).expect("parses");
        let c = config_of(&m, Some(&cfg));
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
