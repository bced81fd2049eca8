//! Start here: `mcprobe scan`: the audit of every endpoint some registries
//! (and URL files) list.
//!
//! 1. Crawl ([`crawl`]): each `--registry` is paged through with the official
//!    Registry API (`mcprobe_registry` builds the URLs and reads the pages),
//!    each `--file` read a URL a line; every listing lands in one
//!    [`EndpointSet`], normalised and de-duplicated, remembering who lists it.
//! 2. Probe ([`probing`]): every endpoint that is not a template gets the same
//!    probe as `mcprobe check` (`host::run_http_with`, `check::probe_config`),
//!    up to `--concurrency` at once but never more than [`PER_HOST`] per
//!    `host:port`; a 429 makes that host wait (its `Retry-After`, bounded) and
//!    the probe is tried again, at most [`MAX_RETRIES`] times. A remote that
//!    declares a required secret header is probed without it, and its 401/403
//!    becomes `auth_required` ("needs credentials", `registry::needs_credentials`).
//! 3. Write, as verdicts arrive: `verdicts.jsonl` (one verdict a line, the
//!    contract's JSON, flushed line by line) and, with `--baseline-dir`, one
//!    tool snapshot per endpoint (named after the SHA-256 of its URL; updated
//!    every scan, so drift is reported between consecutive scans). At the end,
//!    or at Ctrl-C with what is done so far ([`report`]): `report.json` (the
//!    aggregates of `registry::Audit` plus the crawl's totals and every
//!    endpoint) and `report.md` (the same for people).
//!
//! This file holds the command line and the run that ties the three together.

mod crawl;
mod probing;
mod report;

use std::fs::File;
use std::io::{IsTerminal, LineWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::Verdict;
use mcprobe_registry::{self as registry, Audit, Endpoint, EndpointSet};
use tokio::sync::{watch, Semaphore};

use crate::guard::Guard;
use crate::host::NetConfig;
use crate::tls::TlsSetup;
use crate::UsageError;
use mcprobe_core::address::Policy as AddressPolicy;

pub use crawl::{parse_url_list, SourceSummary};
pub use probing::{backoff, retry_after, MAX_BACKOFF, MAX_RETRIES, PER_HOST};
pub use report::{md_text, md_url, render_markdown, EndpointRow, ScanOptions, ScanReport, Totals};

use probing::{Ctx, Done, NotProbed};

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

// ---- the run ------------------------------------------------------------------------

async fn scan(plan: Plan) -> anyhow::Result<i32> {
    let started = Instant::now();
    let started_at = crate::time::now_rfc3339();
    let mut out = Outputs::create(&plan)?;
    let mut stop = stop_on_ctrl_c()?;
    let terminal = std::io::stderr().is_terminal();

    // 1. Crawl.
    let mut set = EndpointSet::new();
    let spinner = spinner(terminal);
    let (sources, mut interrupted) = crawl::crawl_all(
        &plan.registries,
        &plan.files,
        &plan.net,
        &mut set,
        &mut stop,
        &spinner,
    )
    .await?;
    spinner.finish_and_clear();
    print_crawl_errors(&sources);
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
    let bar = progress_bar(terminal, to_probe.len());
    let spawned: &[usize] = if interrupted { &[] } else { &to_probe };
    let (mut tasks, mut rx) = probing::spawn_probes(&ctx, &endpoints, spawned);

    let mut tally = Tally {
        audit: Audit::new(),
        rows: endpoints.iter().map(report::row_of).collect(),
        warnings: Vec::new(),
    };
    while !interrupted {
        let done = tokio::select! {
            d = rx.recv() => d,
            _ = stop.wait_for(|s| *s) => { interrupted = true; None }
        };
        let Some(done) = done else {
            break;
        };
        let got_verdict = tally.take(done, &endpoints, &mut out, plan.baseline_dir.as_deref())?;
        bar.inc(1);
        if got_verdict {
            bar.set_message(report::progress_line(&tally.audit));
        }
    }
    tasks.abort_all();
    out.verdicts.flush()?;
    bar.finish_and_clear();

    // 3. Report.
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
        totals: report::totals(&set, &sources, &tally.rows, to_probe.len()),
        sources,
        audit: tally.audit.report(),
        invalid: set.invalid().to_vec(),
        warnings: tally.warnings,
        endpoints: tally.rows,
    };
    write_reports(&report, &plan.out)?;
    report::print_summary(&report, &plan.out);
    Ok(if interrupted { EXIT_INTERRUPTED } else { 0 })
}

/// Where the verdicts go as they arrive.
struct Outputs {
    /// Line by line: whoever reads the file mid-scan sees whole verdicts.
    verdicts: LineWriter<File>,
    verdicts_path: PathBuf,
}

impl Outputs {
    /// Creates `--out` and `--baseline-dir` if missing, and `verdicts.jsonl`.
    fn create(plan: &Plan) -> Result<Outputs, UsageError> {
        std::fs::create_dir_all(&plan.out)
            .map_err(|e| UsageError(format!("cannot create --out {}: {e}", plan.out.display())))?;
        if let Some(d) = &plan.baseline_dir {
            std::fs::create_dir_all(d).map_err(|e| {
                UsageError(format!("cannot create --baseline-dir {}: {e}", d.display()))
            })?;
        }
        let verdicts_path = plan.out.join("verdicts.jsonl");
        let file = File::create(&verdicts_path)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", verdicts_path.display())))?;
        Ok(Outputs {
            verdicts: LineWriter::new(file),
            verdicts_path,
        })
    }

    fn write_verdict(&mut self, verdict: &Verdict) -> anyhow::Result<()> {
        let line = serde_json::to_string(verdict)?;
        self.verdicts
            .write_all(line.as_bytes())
            .and_then(|_| self.verdicts.write_all(b"\n"))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", self.verdicts_path.display()))
    }
}

/// Ctrl-C from here on ends the scan with what is done: the receiver turns
/// `true`. On Unix the handler is in place when this returns, before any
/// probe starts.
fn stop_on_ctrl_c() -> anyhow::Result<watch::Receiver<bool>> {
    let (stop_tx, stop) = watch::channel(false);
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
    Ok(stop)
}

/// The crawl's spinner on a terminal; nothing otherwise.
fn spinner(terminal: bool) -> ProgressBar {
    if !terminal {
        return ProgressBar::hidden();
    }
    let s = ProgressBar::new_spinner();
    s.enable_steady_tick(Duration::from_millis(120));
    s
}

/// The probes' progress bar on a terminal; nothing otherwise.
fn progress_bar(terminal: bool, len: usize) -> ProgressBar {
    if !terminal {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len as u64);
    b.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    b.enable_steady_tick(Duration::from_millis(200));
    b
}

fn print_crawl_errors(sources: &[SourceSummary]) {
    for s in sources {
        if let Some(e) = &s.error {
            // The error quotes the registry's own answer: cleaned, never raw.
            eprintln!(
                "mcprobe: registry {}: {}",
                crate::render::clean(&s.source),
                crate::render::clean(e)
            );
        }
    }
}

/// What the probes have given so far: the audit, one row per endpoint, and
/// the warnings (baselines that could not be written).
struct Tally {
    audit: Audit,
    rows: Vec<EndpointRow>,
    warnings: Vec<String>,
}

impl Tally {
    /// Takes one endpoint's outcome: its row, and for a verdict the line in
    /// `verdicts.jsonl`, the baseline and the audit. Whether it had a verdict.
    fn take(
        &mut self,
        done: Done,
        endpoints: &[Endpoint],
        out: &mut Outputs,
        baseline_dir: Option<&Path>,
    ) -> anyhow::Result<bool> {
        let Done {
            index,
            result,
            retries,
        } = done;
        let ep = &endpoints[index];
        let row = &mut self.rows[index];
        row.retries = retries;
        let (mut verdict, snapshot) = match result {
            Ok(r) => r,
            Err(NotProbed::Failed(e)) => {
                row.error = Some(e);
                return Ok(false);
            }
            Err(NotProbed::Refused(why)) => {
                row.refused = Some(why);
                return Ok(false);
            }
        };
        registry::needs_credentials(&mut verdict, &ep.required_secret_headers);
        out.write_verdict(&verdict)?;
        if let (Some(dir), Some(snap)) = (baseline_dir, &snapshot) {
            if let Err(w) = write_baseline(dir, &ep.url, snap)? {
                self.warnings.push(w);
            }
        }
        self.audit.add(&verdict, &ep.registries);
        row.mode = Some(verdict.mode);
        row.status = Some(verdict.status);
        row.elapsed_ms = Some(verdict.elapsed_ms);
        Ok(true)
    }
}

/// Writes one endpoint's tool snapshot; a file that cannot be written is a
/// warning (the inner error), not the end of the scan.
fn write_baseline(dir: &Path, url: &str, snap: &Snapshot) -> anyhow::Result<Result<(), String>> {
    let path = dir.join(registry::baseline_file_name(url));
    let text = serde_json::to_string_pretty(snap)? + "\n";
    Ok(write_atomically(&path, text.as_bytes())
        .map_err(|e| format!("cannot write the baseline {}: {e}", path.display())))
}

/// `report.json` and `report.md` in `out`.
fn write_reports(report: &ScanReport, out: &Path) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(report)? + "\n";
    write_atomically(&out.join("report.json"), json.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write report.json in {}: {e}", out.display()))?;
    write_atomically(&out.join("report.md"), render_markdown(report).as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write report.md in {}: {e}", out.display()))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Beside, then rename: an interrupted scan never leaves half a file.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp-mcprobe");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
