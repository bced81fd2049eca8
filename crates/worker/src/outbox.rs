//! Start here: the alert outbox. Every delivery the policy decides is a row of
//! `deliveries`, written in the same D1 batch (one transaction) as the policy
//! state that decided it ([`crate::alerting`]), so an announced incident
//! always has its deliveries on record, whatever happens to the invocation
//! next. Rows are then sent from here.
//!
//! A row's states:
//!
//! - `pending`: to send once `next_at_ms` has passed (written with the
//!   state; or put back after a retryable failure, `next_at_ms` then being
//!   the core's backoff or the receiver's `Retry-After`);
//! - `sending`: claimed by one invocation until `lease_until_ms`
//!   ([`LEASE_MS`] after the claim); the claim counts the attempt;
//! - `delivered` / `failed`: done, with attempts, HTTP status and error.
//!
//! A claim is one `UPDATE ... WHERE` on the state the claimer read (status,
//! due time and attempt count), so of two invocations trying one row only
//! one sends; an outcome is written only by the claim's holder (fenced by
//! the attempt count). The invocation that wrote the row sends it at once,
//! retrying in process with the core's backoff (`alerts::retry_after`: 4
//! attempts, 1/2/4 s or a `Retry-After` up to 30 s, a 4xx other than
//! 408/425/429 is final). [`sweep`], on every cron tick, takes at most
//! [`SWEEP_MAX`] rows that nobody sends: `pending` and due (the writer died
//! before its claim, or a retry is due), or `sending` past the lease (the
//! sender died mid-send); one attempt each per tick.
//!
//! What the receiver sees: exactly one request per delivery while nothing
//! dies (plus the retries a failing receiver asked for). If an invocation
//! dies after the receiver got the request but before the outcome was
//! written, the sweep sends it again after the lease: one duplicate per such
//! crash. Channels that deduplicate (PagerDuty's `dedup_key`, Opsgenie's
//! alias) absorb even that.
//!
//! Secrets: a row keeps the event (`event_json`), not the request; the
//! request (URL, headers with secrets, body) is rebuilt from the event and
//! the monitor's alert settings when it is sent.

use futures_util::future::{join_all, select, Either};
use mcprobe_monitor::alerts::{self, Delivery};
use mcprobe_monitor::notify::NotifyContext;
use mcprobe_store::deliveries::{self, Outcome};
use worker::{AbortController, Delay, Env, Fetch, Headers, Method, Request, RequestInit};

use crate::clock;
use crate::db;
use crate::rows::Monitor;
use crate::store::Store;
use crate::target::Policy as TargetPolicy;

/// One delivery attempt's deadline.
pub const ATTEMPT_TIMEOUT_MS: u64 = 10_000;
/// How long a claim holds: one attempt's deadline plus the writes around it,
/// with a wide margin, so a live sender is never overtaken by the sweep.
pub const LEASE_MS: u64 = 60_000;
/// Rows the sweep takes per cron tick (bounded work: each is one attempt of
/// at most [`ATTEMPT_TIMEOUT_MS`], sent side by side).
pub const SWEEP_MAX: u64 = 10;

/// `[vars]`, test-only: stops the invocation at a point of the delivery
/// path so the edge tests can show the outbox survives it. Ignored unless
/// set: `1` stops right after the state-and-outbox batch, `claimed` right
/// after the deliveries are claimed (before anything is sent). Only the
/// path that announces an event stops; the sweep never does.
pub const CRASH_VAR: &str = "TEST_CRASH_AFTER_STATE";

/// Where the test-only switch stops an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    AfterState,
    AfterClaim,
}

impl CrashPoint {
    pub fn parse(v: &str) -> Option<CrashPoint> {
        match v.trim() {
            "1" => Some(CrashPoint::AfterState),
            "claimed" => Some(CrashPoint::AfterClaim),
            _ => None,
        }
    }

    pub fn from_env(env: &Env) -> Option<CrashPoint> {
        env.var(CRASH_VAR)
            .ok()
            .and_then(|v| CrashPoint::parse(&v.to_string()))
    }
}

/// The invocation was stopped on purpose (the test-only switch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// What alerting did in one invocation (counted here, where most of it
/// happens: the deliveries).
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

/// The row key of one event's delivery to one channel (the store's).
pub use mcprobe_store::deliveries::key;

/// What the monitor's pages and names say in an alert.
pub fn notify_context(m: &Monitor, public_base: &str) -> NotifyContext {
    NotifyContext {
        monitor_name: m.spec.name.clone(),
        url: m.spec.url.clone(),
        server_name: None,
        public_base: public_base.to_string(),
        runbook_url: m.spec.runbook_url.clone(),
    }
}

/// One row as the sender sees it: its key and the attempts it had.
#[derive(Debug, Clone)]
pub struct Due {
    pub key: String,
    pub attempts: u32,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Someone else holds or finished it.
    NotOurs,
    Delivered,
    Failed(String),
    /// Put back as `pending`; the next attempt is due at this time.
    Retry(u64),
    Stopped,
}

/// Marks a row failed without an attempt (refused URL, nothing to rebuild
/// it from, the last attempt cut off), if nobody moved it since it was read.
async fn fail_unsent<S: Store>(store: &S, due: &Due, error: &str, out: &mut AlertOutcome) {
    let stmt = deliveries::fail_unsent(&due.key, due.attempts, error, clock::now_ms());
    let r = db::run(store, &stmt).await;
    match r {
        Ok(0) => {}
        Ok(n) => {
            out.rows_written += n;
            out.failed += 1;
            out.errors
                .push(format!("delivery {} failed: {error}", due.key));
        }
        Err(e) => out
            .errors
            .push(format!("marking delivery {} failed: {e}", due.key)),
    }
}

/// One attempt: claim, send, record. `now_ms` is the clock the claim is
/// judged by (the sweep's may be a tick's scheduled time).
async fn attempt<S: Store>(
    store: &S,
    due: &Due,
    d: &Delivery,
    now_ms: u64,
    crash: Option<CrashPoint>,
    out: &mut AlertOutcome,
) -> Step {
    // The row as read (`attempts`), pending and due or sending past its
    // lease, becomes ours for LEASE_MS and its attempt is counted.
    let lease_until = now_ms.saturating_add(LEASE_MS);
    let claimed = db::run(
        store,
        &deliveries::claim(&due.key, due.attempts, now_ms, lease_until),
    )
    .await;
    match claimed {
        Ok(0) => return Step::NotOurs,
        Ok(n) => out.rows_written += n,
        Err(e) => {
            out.errors
                .push(format!("claiming delivery {}: {e}", due.key));
            return Step::NotOurs;
        }
    }
    if crash == Some(CrashPoint::AfterClaim) {
        return Step::Stopped;
    }
    let mine = due.attempts + 1;
    let (status, retry_after, error) = match send_once(d).await {
        Ok((s, _)) if alerts::delivered(s) => (Some(s), None, None),
        Ok((s, ra)) => (Some(s), ra, Some(format!("the receiver answered HTTP {s}"))),
        Err(e) => (None, None, Some(e)),
    };
    let now = clock::now_ms();
    let (step, outcome) = match &error {
        None => (Step::Delivered, Outcome::Delivered),
        Some(e) => match alerts::retry_after(mine, status, retry_after) {
            Some(wait) => {
                let at = now.saturating_add(wait);
                (Step::Retry(at), Outcome::Retry { at_ms: at })
            }
            None => (Step::Failed(e.clone()), Outcome::Failed),
        },
    };
    let state = match outcome {
        Outcome::Delivered => deliveries::DELIVERED,
        Outcome::Retry { .. } => deliveries::PENDING,
        Outcome::Failed => deliveries::FAILED,
    };
    // Fenced by the attempt count: only the claim's holder writes it.
    let settle = deliveries::settle(&due.key, mine, outcome, status, error.as_deref(), now);
    let r = db::run(store, &settle).await;
    match r {
        Ok(n) => out.rows_written += n,
        // The send happened; only its record is missing. The row stays
        // `sending` and the sweep will send it again after the lease (the
        // one duplicate a lost outcome can cost).
        Err(e) => out.errors.push(format!(
            "recording delivery {} (attempt {mine}, {state}): {e}",
            due.key
        )),
    }
    match &step {
        Step::Delivered => out.delivered += 1,
        Step::Failed(e) => {
            out.failed += 1;
            out.errors.push(format!(
                "delivery {} failed after {mine} attempts: {e}",
                due.key
            ));
        }
        _ => {}
    }
    step
}

/// Sends a row just written to the outbox, retrying in this invocation as
/// the core's policy says. Answers `Err(Stopped)` only for the test switch.
pub async fn send_now<S: Store>(
    store: &S,
    key: String,
    d: &Delivery,
    target: TargetPolicy,
    crash: Option<CrashPoint>,
) -> (AlertOutcome, Result<(), Stopped>) {
    let mut out = AlertOutcome::default();
    let mut due = Due { key, attempts: 0 };
    if let Err(refusal) = target.check_str(&d.url) {
        let why = format!("refused to send to this URL: {}", refusal.describe());
        fail_unsent(store, &due, &why, &mut out).await;
        return (out, Ok(()));
    }
    let mut not_before = 0;
    loop {
        let now = clock::now_ms().max(not_before);
        match attempt(store, &due, d, now, crash, &mut out).await {
            Step::Retry(at) => {
                let wait = at.saturating_sub(clock::now_ms());
                Delay::from(std::time::Duration::from_millis(wait)).await;
                // The timer has run: the row is due, whatever the clock's
                // granularity says.
                not_before = at;
                due.attempts += 1;
            }
            Step::Stopped => return (out, Err(Stopped)),
            Step::NotOurs | Step::Delivered | Step::Failed(_) => return (out, Ok(())),
        }
    }
}

/// On every cron tick: one attempt for each row left `pending` and due, or
/// `sending` past its lease. `now_ms` is the later of the clock and the
/// tick's scheduled time (so the edge tests move time on by firing later
/// ticks; in production the two agree within the tick's start-up).
pub async fn sweep<S: Store>(
    store: &S,
    monitors: &[Monitor],
    target: TargetPolicy,
    public_base: &str,
    now_ms: u64,
) -> AlertOutcome {
    let mut out = AlertOutcome::default();
    // The rows nobody is sending, oldest first, at most SWEEP_MAX.
    let rows = match db::fetch(store, &deliveries::due(now_ms, SWEEP_MAX)).await {
        Ok(r) => r,
        Err(e) => {
            out.errors.push(format!("reading the alert outbox: {e}"));
            return out;
        }
    };
    let mut sends = Vec::new();
    for row in &rows {
        let due = Due {
            key: row.key.clone(),
            attempts: row.attempts,
        };
        match rebuild(row, monitors, public_base) {
            Err(why) => fail_unsent(store, &due, &why, &mut out).await,
            Ok(_) if row.status == deliveries::SENDING && due.attempts >= alerts::MAX_ATTEMPTS => {
                let why = format!(
                    "attempt {} was cut off (the sending invocation stopped) and was the last",
                    due.attempts
                );
                fail_unsent(store, &due, &why, &mut out).await;
            }
            Ok(d) => match target.check_str(&d.url) {
                Err(refusal) => {
                    let why = format!("refused to send to this URL: {}", refusal.describe());
                    fail_unsent(store, &due, &why, &mut out).await;
                }
                Ok(()) => sends.push((due, d)),
            },
        }
    }
    let results = join_all(sends.iter().map(|(due, d)| async move {
        let mut one = AlertOutcome::default();
        let step = attempt(store, due, d, now_ms, None, &mut one).await;
        (step, one)
    }))
    .await;
    for (step, one) in results {
        out.swept += 1;
        if matches!(step, Step::Retry(_)) {
            out.deferred += 1;
        }
        out.add(one);
    }
    out
}

/// The request of an outbox row, rebuilt from its event and the monitor's
/// alert settings now; why not, if it cannot be.
fn rebuild(
    row: &deliveries::Due,
    monitors: &[Monitor],
    public_base: &str,
) -> Result<Delivery, String> {
    let event = row
        .event()
        .map_err(|_| "no event kept with this delivery (written before the outbox)".to_string())?;
    let monitor_id = row.monitor_id.as_str();
    let m = monitors
        .iter()
        .find(|m| m.id == monitor_id)
        .ok_or_else(|| "the monitor was deleted before the delivery was sent".to_string())?;
    if let Some(bad) = &m.alerts_unreadable {
        return Err(format!(
            "the monitor's alert settings no longer read: {}",
            bad.error.error
        ));
    }
    let cfg = &m.spec.alerts;
    let channel = row.channel_name.as_str();
    alerts::deliveries(&event, cfg, &notify_context(m, public_base))
        .into_iter()
        .find(|d| d.channel_name == channel)
        .ok_or_else(|| format!("the channel {channel:?} is no longer configured for this event"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_core::Mode;
    use mcprobe_monitor::policy::{Event, Observation, Policy, PolicyConfig};

    #[test]
    fn the_switch_is_off_unless_set_to_a_known_value() {
        assert_eq!(CrashPoint::parse("1"), Some(CrashPoint::AfterState));
        assert_eq!(CrashPoint::parse("claimed"), Some(CrashPoint::AfterClaim));
        for off in ["", "0", "true", "yes", "claim"] {
            assert_eq!(CrashPoint::parse(off), None, "{off:?}");
        }
    }

    #[test]
    fn an_event_kept_in_the_outbox_reads_back_the_same() {
        // The sweep rebuilds requests from `event_json`: the round trip must
        // be exact, or a retried alert would differ from the first.
        let mut p = Policy::new(PolicyConfig::new("m1"));
        let down = Observation::of(Mode::ConnectRefused, "refused");
        let mut events = Vec::new();
        for t in [0u64, 10_000, 20_000, 30_000, 60_000] {
            events.extend(p.observe(&down, t));
        }
        assert!(!events.is_empty(), "the outage is confirmed");
        for e in &events {
            let text = serde_json::to_string(e).expect("serialises");
            let back: Event = serde_json::from_str(&text).expect("reads back");
            assert_eq!(&back, e);
        }
    }
}
