//! The check's state: what the page writes while a check runs ([`State`])
//! and what a finished check holds ([`Outcome`]). Plain data, shared by the
//! flow ([`super::run`]) and the views, so neither imports the other.

use leptos::prelude::*;
use mcprobe_core::fingerprint::{Drift, Snapshot};
use mcprobe_core::Verdict;

/// Where the check ran.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    Browser,
    /// Through `/api/check`, with the reason the browser could not do it.
    Edge {
        why: String,
    },
}

/// A finished check.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub snapshot: Option<Snapshot>,
    pub via: Via,
    /// The drift since the last check of this URL in this browser.
    pub drift: Option<Drift>,
    /// When that last check was.
    pub baseline_at: Option<String>,
}

/// One line of the live log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLine {
    pub id: u32,
    pub label: String,
    pub started_ms: u64,
    /// `HTTP 200 after 12 ms`, or the failure.
    pub result: Option<String>,
}

/// The page state the check writes into.
#[derive(Clone, Copy)]
pub struct State {
    pub running: RwSignal<bool>,
    pub live: RwSignal<Vec<LiveLine>>,
    /// "in your browser" or "at the edge" while running.
    pub running_where: RwSignal<&'static str>,
    pub outcome: RwSignal<Option<Outcome>>,
    pub error: RwSignal<Option<String>>,
    /// ms since the check started, ticking while it runs (progress, not a spinner).
    pub elapsed: RwSignal<u64>,
}

impl Default for State {
    fn default() -> State {
        State::new()
    }
}

impl State {
    /// A page before any check.
    pub fn new() -> State {
        State {
            running: RwSignal::new(false),
            live: RwSignal::new(Vec::new()),
            running_where: RwSignal::new(""),
            outcome: RwSignal::new(None),
            error: RwSignal::new(None),
            elapsed: RwSignal::new(0),
        }
    }
}
