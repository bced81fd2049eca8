//! [`run_check`]: one check, the I/O apart from the views. It runs the core
//! probe in the browser ([`crate::host`]) and, when the browser cannot see
//! the server (CORS, or a network error it will not explain), through
//! `POST /api/check` instead, writing its progress and outcome into the
//! page's [`State`]; then the drift against this browser's last check of
//! the URL ([`crate::memory`]).

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcprobe_core::ProbeConfig;

use crate::api;
use crate::check::state::{LiveLine, Outcome, State, Via};
use crate::host::{self, Progress};
use crate::memory::{self, Remembered};

/// Runs one check and writes its progress and outcome into `state`.
pub async fn run_check(url: String, headers: Vec<(String, String)>, state: State) {
    state.running.set(true);
    state.error.set(None);
    state.outcome.set(None);
    state.live.set(Vec::new());
    state.running_where.set("in your browser");

    let remembered = memory::recall(&url);
    let mut cfg = ProbeConfig::new(url.clone());
    cfg.headers = headers.clone();
    cfg.timeout_ms = 10_000;
    cfg.checked_at = host::now_rfc3339();
    if let Some(Remembered::Snapshot { snapshot, .. }) = &remembered {
        cfg.baseline = Some(snapshot.clone());
    }
    let t0 = host::now_ms();
    state.elapsed.set(0);
    spawn_local(async move {
        // Ticks the elapsed time until the check is over.
        while state.running.get_untracked() {
            host::sleep(200).await;
            state.elapsed.set(host::now_ms().saturating_sub(t0));
        }
    });
    let live = state.live;
    let on_event: Rc<dyn Fn(Progress)> = Rc::new(move |p| record(live, p, t0));

    let outcome = match host::run(cfg, on_event).await {
        Err(bad_input) => {
            state.error.set(Some(bad_input));
            state.running.set(false);
            return;
        }
        Ok(Ok((verdict, snapshot))) => Outcome {
            verdict,
            snapshot,
            via: Via::Browser,
            drift: None,
            baseline_at: None,
        },
        Ok(Err(blocked)) => {
            state.running_where.set("at the edge");
            state.live.update(|l| {
                l.push(LiveLine {
                    id: u32::MAX,
                    label: "POST /api/check (the edge probes it)".into(),
                    started_ms: host::now_ms().saturating_sub(t0),
                    result: None,
                })
            });
            match api::check(&url, &headers).await {
                Ok((verdict, snapshot)) => Outcome {
                    verdict,
                    snapshot,
                    via: Via::Edge {
                        why: blocked.explain(),
                    },
                    drift: None,
                    baseline_at: None,
                },
                Err(e) => {
                    state.error.set(Some(format!(
                        "{} The edge could not check it either: {e}",
                        blocked.explain()
                    )));
                    state.running.set(false);
                    return;
                }
            }
        }
    };
    state
        .outcome
        .set(Some(with_drift(&url, outcome, remembered)));
    state.running.set(false);
}

/// Adds the drift against what this browser remembered, then remembers this check.
fn with_drift(url: &str, mut o: Outcome, remembered: Option<Remembered>) -> Outcome {
    if let Some(old) = &remembered {
        o.baseline_at = Some(old.at().to_string());
        o.drift = match (&o.verdict.drift, &o.verdict.tools) {
            // The core diffed the full snapshots (a browser check with a snapshot baseline).
            (Some(d), _) => Some(d.clone()),
            // An edge check that brought its tool list back: the same diff, here.
            (None, Some(_))
                if matches!(old, Remembered::Snapshot { .. }) && o.snapshot.is_some() =>
            {
                match (old, &o.snapshot) {
                    (
                        Remembered::Snapshot {
                            snapshot: before, ..
                        },
                        Some(now),
                    ) => {
                        let d = mcprobe_core::fingerprint::diff(before, now);
                        (!d.changes.is_empty()).then_some(d)
                    }
                    _ => None,
                }
            }
            (None, Some(tools)) => memory::names_diff(old, tools),
            (None, None) => None,
        };
    }
    let at = o.verdict.checked_at.clone();
    match (&o.snapshot, &o.verdict.tools) {
        (Some(s), _) => memory::remember(
            url,
            &Remembered::Snapshot {
                snapshot: s.clone(),
                at,
            },
        ),
        (None, Some(t)) => memory::remember(
            url,
            &Remembered::Names {
                summary: t.clone(),
                at,
            },
        ),
        (None, None) => {}
    }
    o
}

fn record(live: RwSignal<Vec<LiveLine>>, p: Progress, t0: u64) {
    live.update(|lines| match p {
        Progress::Sent { id, label, at_ms } => lines.push(LiveLine {
            id,
            label,
            started_ms: at_ms.saturating_sub(t0),
            result: None,
        }),
        Progress::Answered { id, status, at_ms } => {
            if let Some(l) = lines.iter_mut().rev().find(|l| l.id == id) {
                let took = at_ms.saturating_sub(t0).saturating_sub(l.started_ms);
                l.result = Some(format!("HTTP {status} after {took} ms"));
            }
        }
        Progress::Failed { id, error, at_ms } => {
            if let Some(l) = lines.iter_mut().rev().find(|l| l.id == id) {
                let took = at_ms.saturating_sub(t0).saturating_sub(l.started_ms);
                l.result = Some(format!("{error} after {took} ms"));
            }
        }
    });
}
