//! Start here: `mcprobe scan`: the audit of every endpoint some registries
//! (and URL files) list.
//!
//! 1. Crawl: each `--registry` is paged through with the official Registry
//!    API (`mcprobe_registry` builds the URLs and reads the pages), each
//!    `--file` read a URL a line; every listing lands in one
//!    [`EndpointSet`], normalised and de-duplicated, remembering who lists it.
//! 2. Probe: every endpoint that is not a template gets the same probe as
//!    `mcprobe check` (`host::run_http_with`, `check::probe_config`), up to
//!    `--concurrency` at once but never more than [`PER_HOST`] per `host:port`;
//!    a 429 makes that host wait (its `Retry-After`, bounded) and the probe is
//!    tried again, at most [`MAX_RETRIES`] times. A remote that declares a
//!    required secret header is probed without it, and its 401/403 becomes
//!    `auth_required` ("needs credentials", `registry::needs_credentials`).
//! 3. Write, as verdicts arrive: `verdicts.jsonl` (one verdict a line, the
//!    contract's JSON, flushed line by line) and, with `--baseline-dir`, one
//!    tool snapshot per endpoint (named after the SHA-256 of its URL; updated
//!    every scan, so drift is reported between consecutive scans). At the end,
//!    or at Ctrl-C with what is done so far: `report.json` (the aggregates of
//!    `registry::Audit` plus the crawl's totals and every endpoint) and
//!    `report.md` (the same for people).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::http::{header, Headers};
use mcprobe_core::verdict::{Mode, Status};
use mcprobe_core::{Probe, Verdict};
use mcprobe_registry::{
    self as registry, Audit, AuditReport, Bucket, Endpoint, EndpointSet, InvalidListing,
    RemoteTransport,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch, Semaphore};

use crate::guard::Guard;
use crate::host::{Clock, NetConfig};
use crate::tls::TlsSetup;
use crate::UsageError;
use mcprobe_core::address::Policy as AddressPolicy;

/// Probes in flight against one `host:port` at most: a registry lists many
/// endpoints of one host, and an audit must not look like an attack.
pub const PER_HOST: usize = 2;
/// Tries after a 429 before the verdict stands.
pub const MAX_RETRIES: u32 = 2;
/// The longest a host is made to wait after a 429, whatever `Retry-After` says.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The shortest wait after a 429 (`Retry-After: 0` still gets a breath).
const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// Entries asked for per registry page (the official registry's maximum).
const PAGE_LIMIT: u32 = 100;
/// Pages read from one registry at most (500,000 entries).
const MAX_PAGES: u32 = 5_000;
/// A registry page's deadline and size cap.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// 8 MiB: the official API's 100-entry pages are a few hundred KB, and a
/// page is held whole while it is read, so this bounds what a registry costs.
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;
/// A probe that outlives its own deadline by this is cut off by the host.
const WATCHDOG_GRACE: Duration = Duration::from_secs(5);
/// Problems of one source kept in the report (the rest are counted).
const MAX_PROBLEMS: usize = 50;
/// Exit code after Ctrl-C (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// A registry speaking the official MCP Registry API, by its base URL, e.g.
    /// https://registry.modelcontextprotocol.io (repeatable).
    #[arg(long = "registry", value_name = "URL")]
    pub registries: Vec<String>,
    /// A file of endpoint URLs, one a line; `#` starts a comment (repeatable).
    #[arg(long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Where to write report.md, verdicts.jsonl and report.json (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Probes in flight at once (and never more than 2 per host).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub concurrency: usize,
    /// Each probe's deadline, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Keep one tool snapshot per endpoint here and report drift since the last scan.
    #[arg(long, value_name = "DIR")]
    pub baseline_dir: Option<PathBuf>,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Pin a host and port to an address, like curl: HOST:PORT:ADDR (repeatable).
    /// A pinned address is judged by the address policy like a resolved one.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Also probe listed endpoints on loopback, private and link-local
    /// addresses (an internal registry, scanned on purpose). Without it they
    /// are reported as refused, not probed. Cloud metadata addresses are
    /// refused either way.
    #[arg(long)]
    pub allow_private: bool,
}

/// Runs `mcprobe scan`; returns the process exit code (0 done, 130 interrupted).
pub fn run(args: ScanArgs) -> anyhow::Result<i32> {
    let plan = Plan::from_args(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(scan(plan));
    // In-flight request tasks of cut-off probes die with the runtime.
    runtime.shutdown_background();
    result
}

/// The validated command line.
struct Plan {
    registries: Vec<String>,
    files: Vec<(String, String)>,
    out: PathBuf,
    concurrency: usize,
    timeout_ms: u64,
    baseline_dir: Option<PathBuf>,
    net: NetConfig,
}

impl Plan {
    fn from_args(args: &ScanArgs) -> Result<Plan, UsageError> {
        if args.registries.is_empty() && args.files.is_empty() {
            return Err(UsageError(
                "give something to scan: --registry URL (an MCP registry) and/or --file FILE (one URL a line)".into(),
            ));
        }
        let Some(out) = args.out.clone() else {
            return Err(UsageError(
                "give --out DIR: where report.md, verdicts.jsonl and report.json go".into(),
            ));
        };
        let timeout_ms = crate::check::timeout_ms(args.timeout)?;
        if !(1..=10_000).contains(&args.concurrency) {
            return Err(UsageError(format!(
                "--concurrency must be between 1 and 10000 (got {})",
                args.concurrency
            )));
        }
        let mut registries: Vec<String> = Vec::new();
        for r in &args.registries {
            registry::page_url(r, None, 1).map_err(|e| UsageError(format!("--registry: {e}")))?;
            let label = r.trim().trim_end_matches('/').to_string();
            if !registries.contains(&label) {
                registries.push(label);
            }
        }
        let mut files = Vec::new();
        for f in &args.files {
            let text = std::fs::read_to_string(f)
                .map_err(|e| UsageError(format!("cannot read --file {}: {e}", f.display())))?;
            files.push((format!("file:{}", f.display()), text));
        }
        let resolve = args
            .resolve
            .iter()
            .map(|r| crate::check::parse_resolve(r))
            .collect::<Result<Vec<_>, _>>()?;
        let guard = Arc::new(Guard::new(
            AddressPolicy {
                allow_loopback: false,
                allow_private: args.allow_private,
            },
            resolve.clone(),
            &registries,
        ));
        let ca =
            match &args.cacert {
                Some(p) => Some(std::fs::read(p).map_err(|e| {
                    UsageError(format!("cannot read --cacert {}: {e}", p.display()))
                })?),
                None => None,
            };
        let tls = TlsSetup::new(ca.as_deref()).map_err(|e| UsageError(format!("--cacert: {e}")))?;
        Ok(Plan {
            registries,
            files,
            out,
            concurrency: args.concurrency,
            timeout_ms,
            baseline_dir: args.baseline_dir.clone(),
            net: NetConfig {
                tls,
                resolve,
                guard: Some(guard),
            },
        })
    }
}

// ---- sources ----------------------------------------------------------------------

/// What one registry or file contributed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceSummary {
    pub source: String,
    /// `registry` or `file`.
    pub kind: String,
    pub pages: u32,
    /// Registry entries seen (live, deleted, superseded, package-only).
    pub servers: usize,
    /// Remotes (registry) or URL lines (file) taken in.
    pub listings: usize,
    pub deleted: usize,
    pub superseded: usize,
    pub problems: Vec<String>,
    /// Why the crawl stopped early, if it did.
    pub error: Option<String>,
}

impl SourceSummary {
    fn problem(&mut self, p: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else if self.problems.len() == MAX_PROBLEMS {
            self.problems.push("... more problems left out".into());
        }
    }
}

/// The URLs of a `--file`: the first word of each line, skipping blank lines
/// and `#` comments (a URL holds no whitespace, so `URL  # note` works too).
pub fn parse_url_list(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| !w.starts_with('#'))
        .collect()
}

fn registry_client(net: &NetConfig) -> anyhow::Result<reqwest::Client> {
    // The registries named on the command line are trusted (the guard knows
    // their hosts); a redirect elsewhere meets the address policy.
    let guard = net.guard.clone();
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 5 {
            return attempt.error("more than 5 redirects");
        }
        match guard
            .as_ref()
            .and_then(|g| g.refuse_url(attempt.url().as_str()))
        {
            Some(refused) => attempt.error(refused),
            None => attempt.follow(),
        }
    });
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls((*net.tls.client_config()).clone())
        .redirect(redirects)
        .timeout(PAGE_TIMEOUT)
        .user_agent(concat!("mcprobe/", env!("CARGO_PKG_VERSION"), " (scan)"))
        .no_proxy();
    if let Some(guard) = &net.guard {
        builder = builder.dns_resolver(guard.resolver());
    } else {
        for (host, _, addr) in &net.resolve {
            builder = builder.resolve(host, *addr);
        }
    }
    Ok(builder.build()?)
}

/// A reqwest error with its causes, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

async fn fetch_page(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut resp = client
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| error_chain(&e.without_url()))?;
    let status = resp.status();
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_PAGE_BYTES {
                    return Err(format!("the page is over {MAX_PAGE_BYTES} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(error_chain(&e)),
        }
    }
    if !status.is_success() {
        let excerpt: String = String::from_utf8_lossy(&body).chars().take(160).collect();
        return Err(format!("HTTP {} {}", status.as_u16(), excerpt.trim()));
    }
    Ok(body)
}

/// Pages through one registry into `set`.
async fn crawl(
    client: &reqwest::Client,
    base: &str,
    set: &mut EndpointSet,
    bar: &ProgressBar,
) -> SourceSummary {
    let mut s = SourceSummary {
        source: base.to_string(),
        kind: "registry".into(),
        ..SourceSummary::default()
    };
    let mut cursor: Option<String> = None;
    let mut seen_cursors = std::collections::HashSet::new();
    loop {
        if s.pages >= MAX_PAGES {
            s.error = Some(format!("stopped after {MAX_PAGES} pages"));
            break;
        }
        let url = match registry::page_url(base, cursor.as_deref(), PAGE_LIMIT) {
            Ok(u) => u,
            Err(e) => {
                s.error = Some(e.to_string());
                break;
            }
        };
        bar.set_message(format!("reading {base}: page {}", s.pages + 1));
        let page = match fetch_page(client, &url).await {
            Ok(body) => registry::parse_page(&body).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                s.error = Some(format!("page {} ({url}): {e}", s.pages + 1));
                break;
            }
        };
        s.pages += 1;
        s.servers += page.servers;
        s.deleted += page.deleted;
        s.superseded += page.superseded;
        s.listings += page.remotes.len();
        for p in page.problems {
            s.problem(p);
        }
        for remote in &page.remotes {
            set.add_remote(base, remote);
        }
        match page.next_cursor {
            Some(c) if seen_cursors.insert(c.clone()) => cursor = Some(c),
            Some(c) => {
                s.error = Some(format!(
                    "the registry handed out the cursor {c:?} twice; stopped to avoid a loop"
                ));
                break;
            }
            None => break,
        }
    }
    s
}

// ---- probing ----------------------------------------------------------------------

/// One host's politeness: its in-flight slots and when it may be asked again.
struct HostGate {
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
struct Ctx {
    net: NetConfig,
    client: reqwest::Client,
    timeout_ms: u64,
    global: Semaphore,
    baseline_dir: Option<PathBuf>,
}

/// One endpoint done.
struct Done {
    index: usize,
    result: Result<(Verdict, Option<Snapshot>), NotProbed>,
    retries: u32,
}

/// Why an endpoint has no verdict.
enum NotProbed {
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

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Beside, then rename: an interrupted scan never leaves half a file.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp-mcprobe");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

// ---- the scan ---------------------------------------------------------------------

/// How one endpoint ended, for `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointRow {
    pub url: String,
    pub templated: bool,
    pub registries: Vec<String>,
    pub listed_as: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub servers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transport: Option<RemoteTransport>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub required_secret_headers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub variables: Vec<String>,
    /// `None`: templated, or not reached before Ctrl-C.
    pub mode: Option<Mode>,
    pub status: Option<Status>,
    pub elapsed_ms: Option<u64>,
    /// Tries repeated after a 429.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub retries: u32,
    /// Why it could not be probed at all.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Why the address policy refused it (not probed, not a failure; see
    /// `--allow-private`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refused: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Listings read from every source, duplicates and invalid ones included.
    pub listings: usize,
    /// Distinct endpoints after normalising (templates included).
    pub endpoints: usize,
    pub duplicates_merged: usize,
    pub templated: usize,
    pub invalid: usize,
    pub deleted_skipped: usize,
    /// Endpoints that were to be probed (not templated).
    pub to_probe: usize,
    pub probed: usize,
    /// To be probed but not reached (Ctrl-C) or could not be probed.
    pub not_probed: usize,
    /// Refused by the address policy (loopback, private, metadata...): never
    /// connected to, and not counted in `to_probe`.
    #[serde(default)]
    pub refused: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanOptions {
    pub timeout_s: f64,
    pub concurrency: usize,
    pub per_host: usize,
    pub baseline_dir: Option<String>,
}

/// `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    pub format: u32,
    pub started_at: String,
    pub finished_at: String,
    pub elapsed_ms: u64,
    pub interrupted: bool,
    pub options: ScanOptions,
    pub sources: Vec<SourceSummary>,
    pub totals: Totals,
    pub audit: AuditReport,
    pub invalid: Vec<InvalidListing>,
    pub warnings: Vec<String>,
    pub endpoints: Vec<EndpointRow>,
}

async fn scan(plan: Plan) -> anyhow::Result<i32> {
    let started = Instant::now();
    let started_at = crate::time::now_rfc3339();
    std::fs::create_dir_all(&plan.out)
        .map_err(|e| UsageError(format!("cannot create --out {}: {e}", plan.out.display())))?;
    if let Some(d) = &plan.baseline_dir {
        std::fs::create_dir_all(d).map_err(|e| {
            UsageError(format!("cannot create --baseline-dir {}: {e}", d.display()))
        })?;
    }
    let verdicts_path = plan.out.join("verdicts.jsonl");
    let file = std::fs::File::create(&verdicts_path)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", verdicts_path.display())))?;
    // Line by line: whoever reads the file mid-scan sees whole verdicts.
    let mut verdicts = std::io::LineWriter::new(file);

    // Ctrl-C from here on ends the scan with what is done. On Unix the
    // handler is in place when `signal` returns, before any probe starts.
    let (stop_tx, mut stop) = watch::channel(false);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut sigint = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            if sigint.recv().await.is_some() {
                let _ = stop_tx.send(true);
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_tx.send(true);
        }
    });

    let terminal = std::io::stderr().is_terminal();
    let spinner = if terminal {
        let s = ProgressBar::new_spinner();
        s.enable_steady_tick(Duration::from_millis(120));
        s
    } else {
        ProgressBar::hidden()
    };

    // 1. Crawl.
    let mut set = EndpointSet::new();
    let mut sources = Vec::new();
    let mut interrupted = false;
    let client = registry_client(&plan.net)?;
    for base in &plan.registries {
        tokio::select! {
            s = crawl(&client, base, &mut set, &spinner) => sources.push(s),
            _ = stop.wait_for(|s| *s) => { interrupted = true; break; }
        }
    }
    for (label, text) in &plan.files {
        let urls = parse_url_list(text);
        for u in &urls {
            set.add_url(label, u);
        }
        sources.push(SourceSummary {
            source: label.clone(),
            kind: "file".into(),
            listings: urls.len(),
            ..SourceSummary::default()
        });
    }
    spinner.finish_and_clear();
    for s in &sources {
        if let Some(e) = &s.error {
            // The error quotes the registry's own answer: cleaned, never raw.
            eprintln!(
                "mcprobe: registry {}: {}",
                crate::render::clean(&s.source),
                crate::render::clean(e)
            );
        }
    }
    let endpoints: Vec<Endpoint> = set.endpoints().to_vec();
    if endpoints.is_empty() && sources.iter().any(|s| s.error.is_some()) && !interrupted {
        anyhow::bail!("no endpoint to scan: every registry failed (see above)");
    }

    // 2. Probe.
    let ctx = Arc::new(Ctx {
        client: crate::host::build_client(&plan.net)?,
        net: plan.net.clone(),
        timeout_ms: plan.timeout_ms,
        global: Semaphore::new(plan.concurrency),
        baseline_dir: plan.baseline_dir.clone(),
    });
    let to_probe: Vec<usize> = (0..endpoints.len())
        .filter(|&i| !endpoints[i].templated)
        .collect();
    let bar = if terminal {
        let b = ProgressBar::new(to_probe.len() as u64);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b.enable_steady_tick(Duration::from_millis(200));
        b
    } else {
        ProgressBar::hidden()
    };
    let mut gates: HashMap<String, Arc<HostGate>> = HashMap::new();
    let (tx, mut rx) = mpsc::channel::<Done>(256);
    let mut tasks = tokio::task::JoinSet::new();
    if !interrupted {
        for &i in &to_probe {
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
    }
    drop(tx);

    let mut audit = Audit::new();
    let mut rows: Vec<EndpointRow> = endpoints.iter().map(row_of).collect();
    let mut warnings = Vec::new();
    while !interrupted {
        let done = tokio::select! {
            d = rx.recv() => d,
            _ = stop.wait_for(|s| *s) => { interrupted = true; None }
        };
        let Some(Done {
            index,
            result,
            retries,
        }) = done
        else {
            break;
        };
        let ep = &endpoints[index];
        let row = &mut rows[index];
        row.retries = retries;
        let (mut verdict, snapshot) = match result {
            Ok(r) => r,
            Err(NotProbed::Failed(e)) => {
                row.error = Some(e);
                bar.inc(1);
                continue;
            }
            Err(NotProbed::Refused(why)) => {
                row.refused = Some(why);
                bar.inc(1);
                continue;
            }
        };
        registry::needs_credentials(&mut verdict, &ep.required_secret_headers);
        let line = serde_json::to_string(&verdict)?;
        verdicts
            .write_all(line.as_bytes())
            .and_then(|_| verdicts.write_all(b"\n"))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", verdicts_path.display()))?;
        if let (Some(dir), Some(snap)) = (&plan.baseline_dir, &snapshot) {
            let path = dir.join(registry::baseline_file_name(&ep.url));
            let text = serde_json::to_string_pretty(snap)? + "\n";
            if let Err(e) = write_atomically(&path, text.as_bytes()) {
                warnings.push(format!("cannot write the baseline {}: {e}", path.display()));
            }
        }
        audit.add(&verdict, &ep.registries);
        row.mode = Some(verdict.mode);
        row.status = Some(verdict.status);
        row.elapsed_ms = Some(verdict.elapsed_ms);
        bar.inc(1);
        bar.set_message(progress_line(&audit));
    }
    tasks.abort_all();
    verdicts.flush()?;
    bar.finish_and_clear();

    // 3. Report.
    let probed = rows.iter().filter(|r| r.mode.is_some()).count();
    let refused = rows.iter().filter(|r| r.refused.is_some()).count();
    let totals = Totals {
        listings: set.listings(),
        endpoints: endpoints.len(),
        duplicates_merged: set.duplicates(),
        templated: endpoints.iter().filter(|e| e.templated).count(),
        invalid: set.invalid().len(),
        deleted_skipped: sources.iter().map(|s| s.deleted).sum(),
        to_probe: to_probe.len() - refused,
        probed,
        not_probed: to_probe.len() - refused - probed,
        refused,
    };
    let report = ScanReport {
        format: 1,
        started_at,
        finished_at: crate::time::now_rfc3339(),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        interrupted,
        options: ScanOptions {
            timeout_s: plan.timeout_ms as f64 / 1000.0,
            concurrency: plan.concurrency,
            per_host: PER_HOST,
            baseline_dir: plan.baseline_dir.as_ref().map(|d| d.display().to_string()),
        },
        sources,
        totals,
        audit: audit.report(),
        invalid: set.invalid().to_vec(),
        warnings,
        endpoints: rows,
    };
    let json = serde_json::to_string_pretty(&report)? + "\n";
    write_atomically(&plan.out.join("report.json"), json.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write report.json in {}: {e}", plan.out.display()))?;
    write_atomically(
        &plan.out.join("report.md"),
        render_markdown(&report).as_bytes(),
    )
    .map_err(|e| anyhow::anyhow!("cannot write report.md in {}: {e}", plan.out.display()))?;
    print_summary(&report, &plan.out);
    Ok(if interrupted { EXIT_INTERRUPTED } else { 0 })
}

fn row_of(ep: &Endpoint) -> EndpointRow {
    EndpointRow {
        url: ep.url.clone(),
        templated: ep.templated,
        registries: ep.registries.clone(),
        listed_as: ep.listed_as.clone(),
        servers: ep.servers.clone(),
        transport: ep.transport,
        required_secret_headers: ep.required_secret_headers.clone(),
        variables: ep.variables.clone(),
        mode: None,
        status: None,
        elapsed_ms: None,
        retries: 0,
        error: None,
        refused: None,
    }
}

/// The progress bar's message: counts by mode, most common first.
fn progress_line(audit: &Audit) -> String {
    audit
        .mode_counts()
        .iter()
        .map(|(m, n)| format!("{m} {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn print_summary(r: &ScanReport, out: &Path) {
    let t = &r.totals;
    let a = &r.audit;
    let pct = |b: Bucket| {
        a.buckets
            .iter()
            .find(|x| x.bucket == b)
            .map(|x| percent(x.share))
            .unwrap_or_default()
    };
    let mut text = String::new();
    if r.interrupted {
        let _ = writeln!(
            text,
            "mcprobe scan: interrupted; {} of {} endpoints probed, report written with those",
            t.probed, t.to_probe
        );
    } else {
        let _ = writeln!(
            text,
            "mcprobe scan: {} endpoints probed ({} templated, not probed) in {:.1} s",
            t.probed,
            t.templated,
            r.elapsed_ms as f64 / 1000.0
        );
    }
    let _ = writeln!(
        text,
        "  up {} · degraded {} · down {}; loud failures {} · quiet failures {}",
        a.status.up,
        a.status.degraded,
        a.status.down,
        pct(Bucket::Loud),
        pct(Bucket::Quiet)
    );
    if t.refused > 0 {
        let _ = writeln!(
            text,
            "  {} endpoint(s) refused by the address policy, not probed (loopback, private or \
             metadata addresses; --allow-private probes an internal registry on purpose)",
            t.refused
        );
    }
    let _ = writeln!(text, "  report: {}", out.join("report.md").display());
    let mut stdout = std::io::stdout().lock();
    // A closed pipe is not worth an error: the files are written.
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
}

// ---- report.md --------------------------------------------------------------------

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Server-provided text for one Markdown table cell: control characters shown
/// escaped, Markdown and HTML punctuation backslashed, at most 200 characters.
pub fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        if i == 200 {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// A URL as a code span: nothing inside is Markdown, save the two characters
/// that could end the span or the table cell, which are percent-encoded.
pub fn md_url(url: &str) -> String {
    let mut out = String::from("`");
    for c in url.chars() {
        match c {
            '`' => out.push_str("%60"),
            '|' => out.push_str("%7C"),
            c if c.is_control() || c.is_whitespace() => {
                let _ = write!(out, "%{:02X}", u32::from(c) & 0xff);
            }
            c => out.push(c),
        }
    }
    out.push('`');
    out
}

fn mode_list(modes: &[Mode]) -> String {
    modes
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `report.md`: the audit for people.
pub fn render_markdown(r: &ScanReport) -> String {
    let mut o = String::new();
    let t = &r.totals;
    let a = &r.audit;
    let registries = r.sources.iter().filter(|s| s.kind == "registry").count();
    let files = r.sources.len() - registries;
    let _ = writeln!(o, "# MCP endpoint audit\n");
    let _ = writeln!(
        o,
        "`mcprobe scan` of {registries} registr{} and {files} file{}, started {}, {:.1} s; \
         each probe had {} s, {} at once, at most {} per host.\n",
        if registries == 1 { "y" } else { "ies" },
        if files == 1 { "" } else { "s" },
        r.started_at,
        r.elapsed_ms as f64 / 1000.0,
        r.options.timeout_s,
        r.options.concurrency,
        r.options.per_host
    );
    if r.interrupted {
        let _ = writeln!(
            o,
            "**Interrupted (Ctrl-C):** {} of {} endpoints were probed; every figure below covers \
             those only.\n",
            t.probed, t.to_probe
        );
    }

    let _ = writeln!(o, "## Totals\n");
    let _ = writeln!(o, "| | endpoints |\n|---|---:|");
    for (label, n) in [
        ("listings read", t.listings),
        ("distinct endpoints", t.endpoints),
        ("duplicates merged", t.duplicates_merged),
        ("deleted entries skipped", t.deleted_skipped),
        ("templated (recorded, not probed)", t.templated),
        ("invalid URLs", t.invalid),
        ("refused by the address policy (not probed)", t.refused),
        ("probed", t.probed),
        ("not probed", t.not_probed),
    ] {
        let _ = writeln!(o, "| {label} | {n} |");
    }
    let _ = writeln!(
        o,
        "| up / degraded / down | {} / {} / {} |\n",
        a.status.up, a.status.degraded, a.status.down
    );

    let _ = writeln!(o, "## Loud vs quiet\n");
    let _ = writeln!(
        o,
        "Buckets used: **loud** = {} (the server is visibly down: any uptime check sees it); \
         **quiet** = {} (something answers, but MCP does not work or changed: only a \
         protocol-aware probe sees it); **passing** = {}.\n",
        mode_list(&registry::LOUD),
        mode_list(&registry::QUIET),
        mode_list(&Bucket::Passing.modes())
    );
    let _ = writeln!(o, "| bucket | endpoints | share |\n|---|---:|---:|");
    for b in &a.buckets {
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            b.bucket.as_str(),
            b.count,
            percent(b.share)
        );
    }
    o.push('\n');

    let _ = writeln!(o, "## Per failure mode\n");
    if a.modes.is_empty() {
        let _ = writeln!(o, "No endpoint was probed.\n");
    } else {
        let _ = writeln!(
            o,
            "| mode | bucket | endpoints | share |\n|---|---|---:|---:|"
        );
        for m in &a.modes {
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} |",
                m.mode,
                Bucket::of(m.mode).as_str(),
                m.count,
                percent(m.share)
            );
        }
        o.push('\n');
    }

    let _ = writeln!(o, "## Per registry\n");
    let _ = writeln!(
        o,
        "| registry | probed | failing | failing share | modes |\n|---|---:|---:|---:|---|"
    );
    for reg in &a.registries {
        let modes = reg
            .modes
            .iter()
            .map(|m| format!("`{}` {}", m.mode, percent(m.share)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {modes} |",
            md_url(&reg.registry),
            reg.probed,
            reg.failing,
            percent(reg.failing_share)
        );
    }
    o.push('\n');

    let _ = writeln!(o, "## Latency\n");
    let ms = |v: Option<u64>| v.map(|n| format!("{n} ms")).unwrap_or_else(|| "-".into());
    let _ = writeln!(
        o,
        "p50 {}, p95 {} over every probe (a timeout counts its whole wait); p50 {}, p95 {} over \
         the probes whose server answered.\n",
        ms(a.latency_ms.p50),
        ms(a.latency_ms.p95),
        ms(a.latency_ms.answered_p50),
        ms(a.latency_ms.answered_p95)
    );

    let _ = writeln!(o, "## Most common failures\n");
    if a.common_failures.is_empty() {
        let _ = writeln!(o, "None.\n");
    } else {
        let _ = writeln!(
            o,
            "| mode | bucket | endpoints | share | example |\n|---|---|---:|---:|---|"
        );
        for c in &a.common_failures {
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} | {}: {} |",
                c.mode,
                c.bucket.as_str(),
                c.count,
                percent(c.share),
                md_url(&c.example_url),
                md_text(&c.example_reason)
            );
        }
        o.push('\n');
    }

    let _ = writeln!(o, "## Slowest\n");
    if a.slowest.is_empty() {
        let _ = writeln!(o, "None.\n");
    } else {
        let _ = writeln!(o, "| endpoint | mode | ms |\n|---|---|---:|");
        for s in &a.slowest {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} |",
                md_url(&s.url),
                s.mode,
                s.elapsed_ms
            );
        }
        o.push('\n');
    }

    if r.options.baseline_dir.is_some() {
        let _ = writeln!(o, "## Drift since the last scan\n");
        if a.drift.is_empty() {
            let _ = writeln!(o, "No tool list changed.\n");
        } else {
            let _ = writeln!(o, "| endpoint | breaking | changes |\n|---|---|---:|");
            for d in &a.drift {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} |",
                    md_url(&d.url),
                    if d.breaking { "yes" } else { "no" },
                    d.changes
                );
            }
            o.push('\n');
        }
    }

    let creds: Vec<&EndpointRow> = r
        .endpoints
        .iter()
        .filter(|e| !e.required_secret_headers.is_empty() && !e.templated)
        .collect();
    if !creds.is_empty() {
        let _ = writeln!(o, "## Needs credentials\n");
        let _ = writeln!(
            o,
            "These remotes declare a required secret header; they were probed without it, and \
             a 401/403 counts as `auth_required`.\n"
        );
        let _ = writeln!(o, "| endpoint | headers | mode |\n|---|---|---|");
        for e in creds {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md_url(&e.url),
                md_text(&e.required_secret_headers.join(", ")),
                e.mode
                    .map(|m| format!("`{m}`"))
                    .unwrap_or_else(|| "-".into())
            );
        }
        o.push('\n');
    }

    let refused: Vec<&EndpointRow> = r.endpoints.iter().filter(|e| e.refused.is_some()).collect();
    if !refused.is_empty() {
        let _ = writeln!(o, "## Refused by the address policy (not probed)\n");
        let _ = writeln!(
            o,
            "A listing may name any address; these resolve to loopback, private, link-local, \
             metadata or other non-public addresses, so no request was sent to them (and they \
             count as no failure). `--allow-private` probes loopback and private networks on \
             purpose (an internal registry); metadata services are refused either way.\n"
        );
        let _ = writeln!(o, "| endpoint | why | registries |\n|---|---|---|");
        for e in refused {
            let regs = e.registries.iter().map(|x| md_url(x)).collect::<Vec<_>>();
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md_url(&e.url),
                md_text(e.refused.as_deref().unwrap_or_default()),
                regs.join(", ")
            );
        }
        o.push('\n');
    }

    let templated: Vec<&EndpointRow> = r.endpoints.iter().filter(|e| e.templated).collect();
    if !templated.is_empty() {
        let _ = writeln!(o, "## Templated URLs (recorded, not probed)\n");
        let _ = writeln!(o, "| template | variables | registries |\n|---|---|---|");
        for e in templated {
            let regs = e.registries.iter().map(|x| md_url(x)).collect::<Vec<_>>();
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md_url(&e.url),
                md_text(&e.variables.join(", ")),
                regs.join(", ")
            );
        }
        o.push('\n');
    }

    let _ = writeln!(o, "## Sources\n");
    let _ = writeln!(
        o,
        "| source | pages | entries | listings | deleted | superseded | problems |\n\
         |---|---:|---:|---:|---:|---:|---|"
    );
    for s in &r.sources {
        let mut problems = s.problems.iter().map(|p| md_text(p)).collect::<Vec<_>>();
        if let Some(e) = &s.error {
            problems.insert(0, format!("**stopped:** {}", md_text(e)));
        }
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md_url(&s.source),
            s.pages,
            s.servers,
            s.listings,
            s.deleted,
            s.superseded,
            if problems.is_empty() {
                "-".into()
            } else {
                problems.join("<br>")
            }
        );
    }
    o.push('\n');
    if !r.invalid.is_empty() || !r.warnings.is_empty() {
        let _ = writeln!(o, "## Warnings\n");
        for i in &r.invalid {
            let _ = writeln!(
                o,
                "- {} listed {}: {}",
                md_url(&i.registry),
                md_url(&i.url),
                md_text(&i.reason)
            );
        }
        for w in &r.warnings {
            let _ = writeln!(o, "- {}", md_text(w));
        }
        o.push('\n');
    }
    let _ = writeln!(
        o,
        "Every verdict is in `verdicts.jsonl`; these figures, per endpoint too, in `report.json`."
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_lists_skip_comments_and_blank_lines() {
        let text = "# the fleet\n\nhttp://a.example/mcp\n  https://b.example/mcp   # note\n#http://c.example\n";
        assert_eq!(
            parse_url_list(text),
            ["http://a.example/mcp", "https://b.example/mcp"]
        );
    }

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

    #[test]
    fn markdown_cells_cannot_break_out() {
        assert_eq!(md_text("a|b\n<script>"), "a\\|b\\n\\<script\\>");
        assert_eq!(md_text("\u{1b}[31m"), "\\u{1b}\\[31m");
        assert_eq!(md_text(&"x".repeat(300)).chars().count(), 201);
        assert_eq!(md_url("http://h/a`b|c d"), "`http://h/a%60b%7Cc%20d`");
    }

    #[test]
    fn the_markdown_report_names_its_buckets_and_its_interruption() {
        let mut audit = Audit::new();
        let v: Verdict = serde_json::from_value(serde_json::json!({
            "url": "http://127.0.0.1:1/mcp", "status": "down", "mode": "connect_refused",
            "severity": "P1", "reason": "refused | <b>", "hint": "h", "steps": [], "findings": [],
            "checked_at": "2026-01-01T00:00:00Z", "elapsed_ms": 3
        }))
        .expect("a verdict");
        audit.add(&v, &["http://r.example".to_string()]);
        let report = ScanReport {
            format: 1,
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:01Z".into(),
            elapsed_ms: 1000,
            interrupted: true,
            options: ScanOptions {
                timeout_s: 4.0,
                concurrency: 8,
                per_host: PER_HOST,
                baseline_dir: None,
            },
            sources: vec![],
            totals: Totals {
                to_probe: 2,
                probed: 1,
                ..Totals::default()
            },
            audit: audit.report(),
            invalid: vec![],
            warnings: vec![],
            endpoints: vec![],
        };
        let md = render_markdown(&report);
        assert!(md.contains("**Interrupted (Ctrl-C):** 1 of 2"), "{md}");
        assert!(
            md.contains("**loud** = `dns_unresolved`, `connect_refused`"),
            "{md}"
        );
        assert!(
            md.contains("| `connect_refused` | loud | 1 | 100.0% |"),
            "{md}"
        );
        assert!(md.contains("refused \\| \\<b\\>"), "{md}");
        assert!(!md.contains("<b>"), "{md}");
    }
}
