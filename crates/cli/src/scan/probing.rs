//! The probes: every endpoint that is not a template gets the same probe as
//! `mcprobe check` (`host::run_http_with`, `check::probe_config`), up to
//! `--concurrency` at once but never more than [`PER_HOST`] per `host:port`.
//! The address guard judges each endpoint before any connection. A 429 makes
//! that host wait (its `Retry-After`, bounded) and the probe is tried again,
//! at most [`MAX_RETRIES`] times.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::http::{header, Headers};
use mcprobe_core::verdict::{Mode, Status};
use mcprobe_core::{Probe, Verdict};
use mcprobe_registry::{self as registry, Endpoint};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::host::{Clock, NetConfig};

/// Probes in flight against one `host:port` at most: a registry lists many
/// endpoints of one host, and an audit must not look like an attack.
pub const PER_HOST: usize = 2;
/// Tries after a 429 before the verdict stands.
pub const MAX_RETRIES: u32 = 2;
/// The longest a host is made to wait after a 429, whatever `Retry-After` says.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The shortest wait after a 429 (`Retry-After: 0` still gets a breath).
const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// A probe that outlives its own deadline by this is cut off by the host.
const WATCHDOG_GRACE: Duration = Duration::from_secs(5);

/// Starts one task per endpoint of `to_probe` (indices into `endpoints`),
/// each sending its [`Done`] on the channel returned; the channel closes
/// once every task has sent. Endpoints of one `host:port` share a gate.
pub(super) fn spawn_probes(
    ctx: &Arc<Ctx>,
    endpoints: &[Endpoint],
    to_probe: &[usize],
) -> (JoinSet<()>, mpsc::Receiver<Done>) {
    let mut gates: HashMap<String, Arc<HostGate>> = HashMap::new();
    let (tx, rx) = mpsc::channel::<Done>(256);
    let mut tasks = JoinSet::new();
    for &i in to_probe {
        let url = endpoints[i].url.clone();
        let gate = gates
            .entry(endpoints[i].host_key())
            .or_insert_with(|| Arc::new(HostGate::new()))
            .clone();
        let (ctx, tx) = (ctx.clone(), tx.clone());
        tasks.spawn(async move {
            let done = probe_endpoint(ctx, gate, i, url).await;
            let _ = tx.send(done).await;
        });
    }
    (tasks, rx)
}

/// One host's politeness: its in-flight slots and when it may be asked again.
pub(super) struct HostGate {
    slots: Semaphore,
    not_before: Mutex<Option<tokio::time::Instant>>,
}

impl HostGate {
    fn new() -> HostGate {
        HostGate {
            slots: Semaphore::new(PER_HOST),
            not_before: Mutex::new(None),
        }
    }

    async fn wait_turn(&self) {
        let until = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = until {
            tokio::time::sleep_until(t).await;
        }
    }

    fn back_off(&self, wait: Duration) {
        let mut nb = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        let t = tokio::time::Instant::now() + wait;
        if nb.is_none_or(|old| old < t) {
            *nb = Some(t);
        }
    }
}

/// `Retry-After` as a wait: delta-seconds or an HTTP-date (RFC 9110 §10.2.3);
/// `None` when absent or unreadable. `now_secs` is the Unix time.
pub fn retry_after(headers: &Headers, now_secs: u64) -> Option<Duration> {
    let v = header(headers, "retry-after")?.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(v.parse().unwrap_or(u64::MAX)));
    }
    let at = parse_http_date(v)?;
    Some(Duration::from_secs(at.saturating_sub(now_secs)))
}

/// The wait before try `attempt + 1` after a 429: the server's `Retry-After`,
/// else 1 s doubling, within [`MIN_BACKOFF`, `MAX_BACKOFF`].
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let wait = retry_after.unwrap_or_else(|| Duration::from_secs(1u64 << attempt.min(16)));
    wait.clamp(MIN_BACKOFF, MAX_BACKOFF)
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers send, as
/// Unix seconds.
fn parse_http_date(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, mon, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| x == mon)? as i64 + 1;
    let d: i64 = day.parse().ok()?;
    let y: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [h, mi, se] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&d) || *h > 23 || *mi > 59 || *se > 60 {
        return None;
    }
    // Howard Hinnant's days-from-civil.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + se).ok()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What probing shares.
pub(super) struct Ctx {
    pub(super) net: NetConfig,
    pub(super) client: reqwest::Client,
    pub(super) timeout_ms: u64,
    pub(super) global: Semaphore,
    pub(super) baseline_dir: Option<PathBuf>,
}

/// One endpoint done.
pub(super) struct Done {
    pub(super) index: usize,
    pub(super) result: Result<(Verdict, Option<Snapshot>), NotProbed>,
    pub(super) retries: u32,
}

/// Why an endpoint has no verdict.
pub(super) enum NotProbed {
    /// The probe could not run (the text says why).
    Failed(String),
    /// The address policy refused it: never connected to, not a failure of
    /// the server.
    Refused(String),
}

async fn probe_endpoint(ctx: Arc<Ctx>, gate: Arc<HostGate>, index: usize, url: String) -> Done {
    let baseline = ctx
        .baseline_dir
        .as_ref()
        .and_then(|d| read_snapshot(&d.join(registry::baseline_file_name(&url))));
    if let Some(guard) = &ctx.net.guard {
        // Judged before any connection (a slot bounds the DNS lookups too).
        let slot = ctx.global.acquire().await;
        let admitted = guard.admit(&url).await;
        drop(slot);
        if let Err(refused) = admitted {
            return Done {
                index,
                result: Err(NotProbed::Refused(refused.text)),
                retries: 0,
            };
        }
    }
    let mut attempt = 0;
    loop {
        // Host slot first, then a global one: a task waiting on a busy host
        // must not sit on a slot another host could use.
        let _host = gate.slots.acquire().await;
        gate.wait_turn().await;
        let slot = ctx.global.acquire().await;
        let (result, limited) = probe_once(&ctx, &url, baseline.clone()).await;
        drop(slot);
        let failed = match &result {
            Ok((v, _)) => v.status != Status::Up,
            Err(_) => false,
        };
        match limited {
            Some(wait) if failed && attempt < MAX_RETRIES => {
                gate.back_off(backoff(attempt, wait));
                attempt += 1;
            }
            _ => {
                return Done {
                    index,
                    result: result.map_err(NotProbed::Failed),
                    retries: attempt,
                }
            }
        }
    }
}

/// One probe; also whether it met a 429 (and the `Retry-After` it gave).
async fn probe_once(
    ctx: &Ctx,
    url: &str,
    baseline: Option<Snapshot>,
) -> (
    Result<(Verdict, Option<Snapshot>), String>,
    Option<Option<Duration>>,
) {
    let mut cfg = crate::check::probe_config(url.to_string(), ctx.timeout_ms, false);
    cfg.baseline = baseline;
    let checked_at = cfg.checked_at.clone();
    let clock = Clock::start();
    let probe = match Probe::new(cfg, clock.now_ms()) {
        Ok(p) => p,
        Err(e) => return (Err(e.to_string()), None),
    };
    let mut limited: Option<Option<Duration>> = None;
    let outcome = {
        let mut on_head = |status: u16, headers: &Headers| {
            if status == 429 && limited.is_none() {
                limited = Some(retry_after(headers, unix_now()));
            }
        };
        let run = crate::host::run_http_with(probe, &clock, &ctx.net, &ctx.client, &mut on_head);
        tokio::time::timeout(Duration::from_millis(ctx.timeout_ms) + WATCHDOG_GRACE, run).await
    };
    let result = match outcome {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => Ok((watchdog_verdict(url, checked_at, clock.now_ms()), None)),
    };
    (result, limited)
}

/// The verdict of a probe the host had to cut off (the probe enforces its own
/// deadline, so this is a safety net, not a path the fleet takes).
fn watchdog_verdict(url: &str, checked_at: String, elapsed_ms: u64) -> Verdict {
    let reason = format!(
        "No verdict within the deadline plus {} s: mcprobe cut the probe off after {elapsed_ms} ms.",
        WATCHDOG_GRACE.as_secs()
    );
    Verdict {
        checked_at,
        elapsed_ms,
        ..Verdict::of(url, Mode::Timeout, reason)
    }
}

fn read_snapshot(path: &Path) -> Option<Snapshot> {
    // A missing or unreadable snapshot is "no baseline": it is rewritten
    // after this probe, so one bad file never stops a scan.
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let h = |v: &str| vec![("Retry-After".to_string(), v.to_string())];
        assert_eq!(retry_after(&h("7"), 0), Some(Duration::from_secs(7)));
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
        assert_eq!(
            retry_after(&h("Sun, 06 Nov 1994 08:49:37 GMT"), 784_111_770),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&h("Sun, 06 Nov 1994 08:49:37 GMT"), 900_000_000),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(retry_after(&h("soon"), 0), None);
        assert_eq!(retry_after(&h("-1"), 0), None);
        assert_eq!(retry_after(&vec![], 0), None);
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Sat, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
    }

    #[test]
    fn backoff_is_bounded_both_ways() {
        assert_eq!(
            backoff(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(backoff(0, Some(Duration::from_secs(86_400))), MAX_BACKOFF);
        assert_eq!(backoff(0, Some(Duration::ZERO)), MIN_BACKOFF);
        assert_eq!(backoff(0, None), Duration::from_secs(1));
        assert_eq!(backoff(1, None), Duration::from_secs(2));
        assert_eq!(backoff(40, None), MAX_BACKOFF);
    }
}
