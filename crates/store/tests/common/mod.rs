#![allow(dead_code)] // each test file uses its own part
//! Shared by the store's tests: policy events made by the real policy.

use mcprobe_core::verdict::Mode;
use mcprobe_monitor::policy::{Event, EventKind, Observation, Policy, PolicyConfig};

/// A policy that opens on the first failure and resolves on the first pass.
pub fn policy(monitor: &str) -> Policy {
    Policy::new(PolicyConfig {
        confirm_failures: 1,
        recover_passes: 1,
        ..PolicyConfig::new(monitor)
    })
}

/// The `IncidentOpened` and `IncidentResolved` events of one outage of
/// `monitor` from `down_ms` to `up_ms`.
pub fn outage(monitor: &str, down_ms: u64, up_ms: u64) -> (Event, Event) {
    let mut p = policy(monitor);
    let opened = p
        .observe(&Observation::of(Mode::ConnectRefused, "refused"), down_ms)
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::IncidentOpened { .. }))
        .expect("the first failure opens an incident");
    let resolved = p
        .observe(&Observation::ok(), up_ms)
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::IncidentResolved { .. }))
        .expect("the first pass resolves it");
    (opened, resolved)
}

/// A P2 incident of `monitor` opened at 1 s, escalated to P1 unacknowledged
/// 30 minutes later, resolved at 2,000 s: its three events.
pub fn escalated_incident(monitor: &str) -> (Event, Event, Event) {
    let mut p = policy(monitor);
    let opened = p
        .observe(
            &Observation::of(Mode::HandshakeFailed, "bad handshake"),
            1_000,
        )
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::IncidentOpened { .. }))
        .expect("opened");
    let escalated = p
        .tick(1_000 + 30 * 60_000)
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::Escalated { .. }))
        .expect("escalated");
    let resolved = p
        .observe(&Observation::ok(), 2_000_000)
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::IncidentResolved { .. }))
        .expect("resolved");
    (opened, escalated, resolved)
}
