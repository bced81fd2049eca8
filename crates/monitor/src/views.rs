//! Start here: the public monitor bodies as types, shared by the Worker that
//! writes them and the page that reads them (crates/web/src/api.rs), so both
//! sides name the same fields once.
//!
//! - `GET /api/monitors` -> [`MonitorList`] of [`PublicMonitor`]s (what
//!   anyone may see: header names, never their values, never alert routing);
//! - `GET /api/monitors/{id}/status` -> [`MonitorStatus`].
//!
//! The history, incident and drift bodies are [`crate::history`]'s types.
//! Each field is spelled as the Worker emits it today (crates/worker/src/
//! monitors.rs `Monitor::public_json`, crates/worker/src/status.rs `status`);
//! the tests below pin that JSON.

use std::collections::BTreeMap;

use mcprobe_core::{Mode, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One monitor as the public list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicMonitor {
    pub id: String,
    pub url: String,
    pub name: String,
    pub interval_s: u64,
    /// Header names only: the values are secrets.
    #[serde(default)]
    pub headers: Vec<String>,
    #[serde(default)]
    pub runbook_url: Option<String>,
    pub public: bool,
    #[serde(default)]
    pub maintenance_until_ms: Option<u64>,
    /// The accepted tool-list hash drift is judged against.
    #[serde(default)]
    pub baseline_hash: Option<String>,
    /// `api` (registered through the API) or `registry` (the crawl's).
    pub source: String,
}

/// One page of `GET /api/monitors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorList {
    pub monitors: Vec<PublicMonitor>,
    /// The cursor of the next page (`?cursor=`); `None` on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// The latency percentiles of the last 24 hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: Option<u64>,
    pub p95: Option<u64>,
}

/// `GET /api/monitors/{id}/status`: what is known of one monitor now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorStatus {
    pub id: String,
    pub name: String,
    /// `None` before the first probe.
    pub status: Option<Status>,
    pub mode: Option<Mode>,
    pub last_check_ms: Option<u64>,
    pub elapsed_ms: Option<u64>,
    pub maintenance_until_ms: Option<u64>,
    /// Uptime (0..=1) per window (`24h`, `7d`, `30d`, `90d`); `None`: no
    /// probes in it. A JSON object: its keys carry no order.
    #[serde(default)]
    pub uptime: BTreeMap<String, Option<f64>>,
    #[serde(default)]
    pub latency_ms: Latency,
    /// The verdict of the last change, as stored. Kept as JSON: a verdict
    /// written by an older Worker must not make the whole body unreadable.
    #[serde(default)]
    pub verdict: Option<Value>,
}

impl MonitorStatus {
    /// The stored verdict's reason, or "" when there is none.
    pub fn reason(&self) -> &str {
        self.verdict
            .as_ref()
            .and_then(|v| v.get("reason"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_public_list_reads_what_the_worker_writes() {
        // The shape of `Monitor::public_json` in a `{monitors, next_cursor}` page.
        let body = json!({
            "monitors": [{
                "url": "https://e.com/mcp", "name": "E", "interval_s": 60,
                "headers": ["Authorization"], "runbook_url": null, "public": true,
                "id": "m1", "maintenance_until_ms": null, "baseline_hash": "sha256:a",
                "source": "api"
            }],
            "next_cursor": null
        });
        let list: MonitorList = serde_json::from_value(body.clone()).expect("parses");
        assert_eq!(list.monitors[0].id, "m1");
        assert_eq!(list.monitors[0].headers, ["Authorization"]);
        assert_eq!(list.next_cursor, None);
        assert_eq!(serde_json::to_value(&list).expect("writes"), body);
    }

    #[test]
    fn a_status_reads_with_and_without_a_probe() {
        let body = json!({
            "id": "m1", "name": "E", "status": "down", "mode": "connect_refused",
            "last_check_ms": 5, "elapsed_ms": 3, "maintenance_until_ms": null,
            "uptime": {"24h": 0.5, "7d": null},
            "latency_ms": {"p50": 10, "p95": null},
            "verdict": {"reason": "refused", "mode": "connect_refused"}
        });
        let s: MonitorStatus = serde_json::from_value(body).expect("parses");
        assert_eq!(s.status, Some(Status::Down));
        assert_eq!(s.mode, Some(Mode::ConnectRefused));
        assert_eq!(s.uptime["24h"], Some(0.5));
        assert_eq!(s.latency_ms.p50, Some(10));
        assert_eq!(s.reason(), "refused");

        let fresh = json!({
            "id": "m2", "name": "", "status": null, "mode": null, "last_check_ms": null,
            "elapsed_ms": null, "maintenance_until_ms": null, "uptime": {},
            "latency_ms": {"p50": null, "p95": null}, "verdict": null
        });
        let s: MonitorStatus = serde_json::from_value(fresh).expect("parses");
        assert_eq!((s.status, s.mode, s.reason()), (None, None, ""));
    }
}
