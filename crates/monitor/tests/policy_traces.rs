//! Start here: the alerting policy replayed over traces with a fake clock.
//!
//! Each trace is a server (a function from time to what a probe would see) and
//! a host loop like the Worker's: a scheduled probe every 60 s, the policy's
//! fast re-probes when `next_reprobe_at` says so, and a `tick` every 10 s in
//! between. The tests assert the exact events, in order, with their times, as
//! seconds after `T0` (2026-01-01T00:00:00Z).
//!
//! Run with `--nocapture` to see the two figures the issue asks for: the hard
//! outage's detection time and the number of alerts on the cold-start trace.

use mcprobe_core::fingerprint::{Change, Drift};
use mcprobe_core::verdict::{Mode, Severity};
use mcprobe_monitor::policy::{
    EscalationCause, Event, EventKind, MaintenanceWindow, Observation, Policy, PolicyConfig,
    QuietHours, MINUTE_MS, SECOND_MS,
};

/// 2026-01-01T00:00:00Z.
const T0: u64 = 1_767_225_600_000;
const STEP: u64 = 10 * SECOND_MS;
const PROBE_EVERY: u64 = 60 * SECOND_MS;

fn s(secs: u64) -> u64 {
    T0 + secs * SECOND_MS
}

/// The host loop: probes on schedule and when a re-probe is due, ticks
/// otherwise. `hook` runs before each step (acks, restarts).
fn run_with(
    policy: &mut Policy,
    until_secs: u64,
    server: impl Fn(u64) -> Observation,
    mut hook: impl FnMut(&mut Policy, u64),
) -> Vec<Event> {
    let mut events = Vec::new();
    let mut t = T0;
    let mut next_scheduled = T0;
    while t <= s(until_secs) {
        hook(policy, t);
        let scheduled = t == next_scheduled;
        if scheduled {
            next_scheduled += PROBE_EVERY;
        }
        let reprobe = policy.next_reprobe_at().is_some_and(|at| at <= t);
        if scheduled || reprobe {
            events.extend(policy.observe(&server(t), t));
        } else {
            events.extend(policy.tick(t));
        }
        t += STEP;
    }
    events
}

fn run(policy: &mut Policy, until_secs: u64, server: impl Fn(u64) -> Observation) -> Vec<Event> {
    run_with(policy, until_secs, server, |_, _| {})
}

/// (seconds after T0, event code, severity)
fn brief(events: &[Event]) -> Vec<(u64, &'static str, Severity)> {
    events
        .iter()
        .map(|e| ((e.at_ms - T0) / SECOND_MS, e.kind.code(), e.severity))
        .collect()
}

fn down(mode: Mode) -> Observation {
    Observation::of(mode, format!("probe failed: {}", mode.as_str()))
}

fn policy() -> Policy {
    Policy::new(PolicyConfig::new("m1"))
}

#[test]
fn cold_start_that_recovers_in_8_s_raises_nothing() {
    let mut p = policy();
    // The first probe after idling times out; the platform is up 8 s later.
    let server = |t: u64| {
        if (T0..s(8)).contains(&t) {
            down(Mode::Timeout)
        } else {
            Observation::ok()
        }
    };
    let first = p.observe(&server(T0), T0);
    assert!(first.is_empty());
    assert_eq!(p.next_reprobe_at(), Some(s(10)), "first re-probe at +10 s");
    let second = p.observe(&server(s(10)), s(10));
    assert!(second.is_empty());
    assert_eq!(
        p.next_reprobe_at(),
        None,
        "a pass cancels the +20 s re-probe"
    );

    let mut p = policy();
    let events = run(&mut p, 3600, server);
    println!("cold start: {} alerts", events.len());
    assert_eq!(events.len(), 0, "{events:?}");
    assert!(p.incident().is_none());
}

#[test]
fn hard_outage_opens_20_s_after_it_starts_and_resolves_after_2_passes() {
    let mut p = policy();
    let server = |t: u64| {
        if t < s(300) {
            down(Mode::ConnectRefused)
        } else {
            Observation::ok()
        }
    };
    let events = run(&mut p, 3600, server);
    assert_eq!(
        brief(&events),
        vec![
            (20, "incident_opened", Severity::P1),
            (360, "incident_resolved", Severity::P1),
        ]
    );
    let detection_ms = events[0].at_ms - T0;
    println!(
        "hard outage: detected {} s after its first failing probe",
        detection_ms / SECOND_MS
    );
    assert!(detection_ms < 60 * SECOND_MS);

    match &events[0].kind {
        EventKind::IncidentOpened {
            id,
            mode,
            reason,
            hint,
            started_at_ms,
            last_verdicts,
        } => {
            assert_eq!(id, &format!("m1-{T0}"));
            assert_eq!(*mode, Mode::ConnectRefused);
            assert_eq!(reason, "probe failed: connect_refused");
            assert_eq!(hint, mcprobe_core::runbook::hint(Mode::ConnectRefused));
            assert_eq!(*started_at_ms, T0);
            let times: Vec<u64> = last_verdicts.iter().map(|v| v.at_ms).collect();
            assert_eq!(times, vec![T0, s(10), s(20)]);
            assert!(last_verdicts.iter().all(|v| v.mode == Mode::ConnectRefused));
        }
        other => panic!("expected incident_opened, got {other:?}"),
    }
    assert_eq!(
        events[1].kind,
        EventKind::IncidentResolved {
            id: format!("m1-{T0}"),
            mode: Mode::ConnectRefused,
            started_at_ms: T0,
            ended_at_ms: s(300),
            duration_ms: 300 * SECOND_MS,
        }
    );
    assert!(p.incident().is_none());
}

#[test]
fn flapping_gives_one_flapping_event_then_stable_after_15_quiet_minutes() {
    let mut p = policy();
    // Up for 3 minutes, down for 3, ... for an hour; up for good from 60 min.
    let server = |t: u64| {
        let phase = (t - T0) / (180 * SECOND_MS);
        if t < s(3600) && phase % 2 == 1 {
            down(Mode::HttpError)
        } else {
            Observation::ok()
        }
    };
    let events = run(&mut p, 2 * 3600, server);
    assert_eq!(
        brief(&events),
        vec![
            (200, "incident_opened", Severity::P1),
            (420, "incident_resolved", Severity::P1),
            (560, "incident_opened", Severity::P1),
            (780, "incident_resolved", Severity::P1),
            // The 5th pass/fail change within 30 minutes (180, 360, 540, 720, 900 s).
            (900, "flapping", Severity::P2),
            // The last change is at 3600 s: 15 quiet minutes later.
            (4500, "stable", Severity::P2),
        ]
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind.code() == "flapping")
            .count(),
        1
    );
    match &events[4].kind {
        EventKind::Flapping {
            changes,
            window_ms,
            incident_id,
            mode,
            ..
        } => {
            assert_eq!(*changes, 5);
            assert_eq!(*window_ms, 30 * MINUTE_MS);
            assert_eq!(*incident_id, None);
            assert_eq!(*mode, Some(Mode::HttpError));
        }
        other => panic!("expected flapping, got {other:?}"),
    }
    assert_eq!(
        events[5].kind,
        EventKind::Stable {
            flapping_since_ms: s(900),
            quiet_for_ms: 15 * MINUTE_MS,
            up: true,
        }
    );
}

#[test]
fn a_server_still_down_when_flapping_ends_opens_then() {
    let mut p = policy();
    // Flaps every 3 minutes for 20 minutes, then stays down.
    let server = |t: u64| {
        let phase = (t - T0) / (180 * SECOND_MS);
        if t >= s(1200) || phase % 2 == 1 {
            down(Mode::HttpError)
        } else {
            Observation::ok()
        }
    };
    let events = run(&mut p, 3600, server);
    // Changes at 180, 360, 540, 720, 900 (flapping), 1080, then 1200 down for
    // good (1080 was up): stable 15 minutes after 1200, and still failing.
    assert_eq!(
        brief(&events),
        vec![
            (200, "incident_opened", Severity::P1),
            (420, "incident_resolved", Severity::P1),
            (560, "incident_opened", Severity::P1),
            (780, "incident_resolved", Severity::P1),
            (900, "flapping", Severity::P2),
            (2100, "stable", Severity::P2),
            (2100, "incident_opened", Severity::P1),
        ]
    );
    match &events[6].kind {
        EventKind::IncidentOpened { started_at_ms, .. } => assert_eq!(*started_at_ms, s(1200)),
        other => panic!("expected incident_opened, got {other:?}"),
    }
}

fn with_window(start_secs: u64, end_secs: u64) -> Policy {
    let mut cfg = PolicyConfig::new("m1");
    cfg.maintenance.push(MaintenanceWindow {
        start_ms: s(start_secs),
        end_ms: s(end_secs),
    });
    Policy::new(cfg)
}

#[test]
fn maintenance_window_holds_everything_inside_it() {
    // Window 10..40 min; the deploy takes the server down from 15 to 30 min.
    let mut p = with_window(600, 2400);
    let events = run(&mut p, 2 * 3600, |t| {
        if (s(900)..s(1800)).contains(&t) {
            down(Mode::ConnectRefused)
        } else {
            Observation::ok()
        }
    });
    assert_eq!(brief(&events), vec![]);

    // Inside a window a failure schedules no fast re-probes.
    let mut p = with_window(600, 2400);
    assert!(p.observe(&down(Mode::ConnectRefused), s(900)).is_empty());
    assert_eq!(p.next_reprobe_at(), None);
}

#[test]
fn what_still_fails_when_the_window_ends_opens_then() {
    let mut p = with_window(600, 2400);
    let events = run(&mut p, 2 * 3600, |t| {
        if (s(900)..s(3000)).contains(&t) {
            down(Mode::ConnectRefused)
        } else {
            Observation::ok()
        }
    });
    assert_eq!(
        brief(&events),
        vec![
            (2400, "incident_opened", Severity::P1),
            (3060, "incident_resolved", Severity::P1),
        ]
    );
    match &events[0].kind {
        EventKind::IncidentOpened { started_at_ms, .. } => assert_eq!(*started_at_ms, s(900)),
        other => panic!("expected incident_opened, got {other:?}"),
    }
}

#[test]
fn an_incident_that_recovers_inside_a_window_resolves_when_it_ends() {
    let mut p = with_window(120, 600);
    let events = run(&mut p, 3600, |t| {
        if t < s(300) {
            down(Mode::ConnectRefused)
        } else {
            Observation::ok()
        }
    });
    assert_eq!(
        brief(&events),
        vec![
            (20, "incident_opened", Severity::P1),
            (600, "incident_resolved", Severity::P1),
        ]
    );
    match &events[1].kind {
        EventKind::IncidentResolved {
            ended_at_ms,
            duration_ms,
            ..
        } => {
            assert_eq!(*ended_at_ms, s(300));
            assert_eq!(*duration_ms, 300 * SECOND_MS);
        }
        other => panic!("expected incident_resolved, got {other:?}"),
    }
}

#[test]
fn an_unacknowledged_p2_escalates_at_30_minutes() {
    let mut p = policy();
    let events = run(&mut p, 3600, |_| down(Mode::HandshakeFailed));
    assert_eq!(
        brief(&events),
        vec![
            (20, "incident_opened", Severity::P2),
            (1820, "escalated", Severity::P1),
        ]
    );
    match &events[1].kind {
        EventKind::Escalated {
            id, from, cause, ..
        } => {
            assert_eq!(id, &format!("m1-{T0}"));
            assert_eq!(*from, Severity::P2);
            assert_eq!(*cause, EscalationCause::Unacknowledged);
        }
        other => panic!("expected escalated, got {other:?}"),
    }
    assert_eq!(p.incident().map(|i| i.severity), Some(Severity::P1));
}

#[test]
fn an_acknowledged_p2_does_not_escalate() {
    let mut p = policy();
    let id = format!("m1-{T0}");
    let mut acked = Vec::new();
    let events = run_with(
        &mut p,
        3600,
        |_| down(Mode::HandshakeFailed),
        |p, t| {
            if t == s(600) {
                acked.push(p.ack("m1-0", t));
                acked.push(p.ack(&id, t));
            }
        },
    );
    assert_eq!(acked, vec![false, true], "only the open incident's id acks");
    assert_eq!(brief(&events), vec![(20, "incident_opened", Severity::P2)]);
    assert_eq!(p.incident().and_then(|i| i.acked_at_ms), Some(s(600)));
}

#[test]
fn a_p2_that_turns_into_a_p1_escalates_at_once() {
    let mut p = policy();
    let events = run(&mut p, 600, |t| {
        if t < s(300) {
            down(Mode::HandshakeFailed)
        } else {
            down(Mode::ConnectRefused)
        }
    });
    assert_eq!(
        brief(&events),
        vec![
            (20, "incident_opened", Severity::P2),
            (300, "escalated", Severity::P1),
        ]
    );
    match &events[1].kind {
        EventKind::Escalated { cause, mode, .. } => {
            assert_eq!(*cause, EscalationCause::Worsened);
            assert_eq!(*mode, Mode::ConnectRefused);
        }
        other => panic!("expected escalated, got {other:?}"),
    }
}

fn drift(to: &str) -> Drift {
    Drift {
        breaking: true,
        from_hash: "sha256:aaaa".into(),
        to_hash: to.into(),
        changes: vec![Change::ToolRemoved {
            tool: "search".into(),
        }],
    }
}

#[test]
fn a_drift_is_one_p3_event_with_its_diff() {
    let mut p = policy();
    // From 5 minutes on every probe reports the same drift against a stale
    // baseline; at 30 minutes the list changes again.
    let events = run(&mut p, 3600, |t| {
        let obs = Observation::of(Mode::SchemaDrift, "the tool list changed");
        if t < s(300) {
            Observation::ok()
        } else if t < s(1800) {
            obs.with_drift(drift("sha256:bbbb"))
        } else {
            obs.with_drift(drift("sha256:cccc"))
        }
    });
    assert_eq!(
        brief(&events),
        vec![
            (300, "drift_detected", Severity::P3),
            (1800, "drift_detected", Severity::P3),
        ]
    );
    assert_eq!(
        events[0].kind,
        EventKind::DriftDetected {
            diff: drift("sha256:bbbb")
        }
    );
    assert!(p.incident().is_none(), "a drift is not an outage");
}

#[test]
fn quiet_hours_hold_p2_for_a_digest_and_never_hold_p1() {
    let mut cfg = PolicyConfig::new("m1");
    cfg.quiet_hours = Some(QuietHours {
        start_hour: 0,
        end_hour: 6,
    });
    let mut p = Policy::new(cfg);
    let h = 3600;
    let server = |t: u64| {
        let secs = (t - T0) / SECOND_MS;
        if (h..2 * h).contains(&secs) || secs >= 5 * h {
            down(Mode::HandshakeFailed)
        } else if (3 * h..3 * h + 300).contains(&secs) {
            down(Mode::ConnectRefused)
        } else {
            Observation::ok()
        }
    };
    let events = run(&mut p, 7 * h, server);
    assert_eq!(
        brief(&events),
        vec![
            (3 * h + 20, "incident_opened", Severity::P1),
            (3 * h + 360, "incident_resolved", Severity::P1),
            (6 * h, "digest", Severity::P2),
            // Announced by the digest at 06:00, unacknowledged for 30 minutes.
            (6 * h + 1800, "escalated", Severity::P1),
        ]
    );
    match &events[2].kind {
        EventKind::Digest { items, dropped } => {
            assert_eq!(*dropped, 0);
            assert_eq!(
                brief(items),
                vec![
                    (h + 20, "incident_opened", Severity::P2),
                    (2 * h + 60, "incident_resolved", Severity::P2),
                    (5 * h + 20, "incident_opened", Severity::P2),
                ]
            );
        }
        other => panic!("expected digest, got {other:?}"),
    }
}

#[test]
fn state_survives_a_restart_at_every_step() {
    // The flapping trace, but the policy is persisted and reloaded (as JSON,
    // as the Worker stores it) before every step: same events, none twice.
    let server = |t: u64| {
        let phase = (t - T0) / (180 * SECOND_MS);
        if t < s(3600) && phase % 2 == 1 {
            down(Mode::HandshakeFailed)
        } else {
            Observation::ok()
        }
    };
    let mut straight = policy();
    let expected = run(&mut straight, 2 * 3600, server);
    let mut restarted = policy();
    let events = run_with(&mut restarted, 2 * 3600, server, |p, _| {
        let text = serde_json::to_string(p.state()).expect("state serialises");
        let state = serde_json::from_str(&text).expect("state deserialises");
        *p = Policy::with_state(p.config().clone(), state);
    });
    assert_eq!(events, expected);
    assert!(expected.len() >= 6);
}

#[test]
fn events_serialise_with_a_tag_and_round_trip() {
    let mut p = policy();
    let events = run(&mut p, 400, |t| {
        if t < s(300) {
            down(Mode::ConnectRefused)
        } else {
            Observation::ok()
        }
    });
    let json = serde_json::to_value(&events[0]).expect("serialises");
    assert_eq!(json["event"], "incident_opened");
    assert_eq!(json["severity"], "P1");
    assert_eq!(json["monitor_id"], "m1");
    assert_eq!(json["at_ms"], s(20));
    assert_eq!(json["mode"], "connect_refused");
    assert_eq!(json["last_verdicts"].as_array().map(Vec::len), Some(3));
    let back: Event = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, events[0]);

    let whole = serde_json::to_string(&p).expect("policy serialises");
    let again: Policy = serde_json::from_str(&whole).expect("policy deserialises");
    assert_eq!(again, p);
}

#[test]
fn reasons_are_bounded_in_state() {
    let mut p = policy();
    let long = Observation::of(Mode::HttpError, "x".repeat(100_000));
    for i in 0..3 {
        let _ = p.observe(&long, s(i * 10));
    }
    let inc = p.incident().expect("opened");
    assert!(inc.reason.chars().count() <= mcprobe_monitor::policy::MAX_REASON_CHARS);
    assert!(p
        .state()
        .recent
        .iter()
        .all(|v| v.reason.chars().count() <= mcprobe_monitor::policy::MAX_REASON_CHARS));
}
