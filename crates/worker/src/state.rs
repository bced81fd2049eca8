//! Start here: the isolate's memory, a floor. A Worker isolate is
//! single-threaded; these maps are what it keeps between events, written by
//! the background work ([`crate::writer`], [`crate::alerting`],
//! [`crate::cron`]) and read by the routes. Nothing here is lost for good
//! when the isolate goes: the accumulators and the alert policies come back
//! from D1, the snapshots too, and the write counts are per isolate by
//! design (`GET /api/debug/writes`).

use std::cell::RefCell;
use std::collections::HashMap;

use mcprobe_core::fingerprint::Snapshot;
use mcprobe_monitor::policy::Policy;
use mcprobe_monitor::rollup::Accumulator;
use serde_json::{json, Value};

thread_local! {
    /// Each monitor's roll-up accumulator, by monitor id.
    pub static ACCUMULATORS: RefCell<HashMap<String, Accumulator>> = RefCell::new(HashMap::new());
    /// Tool lists by hash (stored once per hash in `snapshots`).
    pub static SNAPSHOTS: RefCell<HashMap<String, Snapshot>> = RefCell::new(HashMap::new());
    /// Each monitor's alert policy, by monitor id.
    pub static POLICIES: RefCell<HashMap<String, Policy>> = RefCell::new(HashMap::new());
    /// Write counts since this isolate started.
    pub static STATS: RefCell<WriteStats> = RefCell::new(WriteStats::default());
}

/// The accumulator of a monitor as this isolate holds it, if it does.
pub fn accumulator(id: &str) -> Option<Accumulator> {
    ACCUMULATORS.with(|m| m.borrow().get(id).cloned())
}

/// The tool-list hash a monitor was last seen with.
pub fn last_hash(acc: Option<&Accumulator>) -> Option<String> {
    acc.and_then(Accumulator::last_probe)
        .and_then(|l| l.tools_hash.clone())
}

/// Write counts since this isolate started.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriteStats {
    pub runs: u64,
    pub messages: u64,
    pub probes: u64,
    pub statements: u64,
    pub rows_written: u64,
    pub last_run_probes: u64,
    pub last_run_rows: u64,
}

/// The write counts now.
pub fn write_stats() -> WriteStats {
    STATS.with(|s| *s.borrow())
}

/// Rows written per probe (null before any probe).
pub fn per_probe(rows: u64, probes: u64) -> Value {
    if probes == 0 {
        Value::Null
    } else {
        json!(rows as f64 / probes as f64)
    }
}
