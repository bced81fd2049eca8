//! Part 4 of `cargo xtask bench`: `mcprobe scan` throughput and peak RSS over
//! a fake registry listing 2,000 fleet endpoints.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::measure::{median_p95, timed_run};
use super::table::met;
use super::util::{tail, target_dir};
use crate::display_cmd;

/// The scan part: fleets started by `mcprobe-fleet registry`, copies of each listed
/// endpoint, timed runs (all count: each does the same crawl and probes against the
/// same fleet, and the median hides a cold first run), and the targets.
const SCAN_FLEETS: usize = 4;
const SCAN_COPIES: usize = 25;
pub(super) const SCAN_RUNS: usize = 3;
const SCAN_PROBES_TARGET: f64 = 1_000.0;
const SCAN_RSS_TARGET_MB: f64 = 100.0;
/// GNU time, for the scan's peak RSS.
const GNU_TIME: &str = "/usr/bin/time";

// ---- Part 4: mcprobe scan throughput ----

/// The scan's figures over [`SCAN_RUNS`] runs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ScanBench {
    /// Distinct endpoints the fake registry lists (each probed once a run).
    pub(super) endpoints: usize,
    /// Registry pages each crawl read.
    pub(super) pages: u64,
    pub(super) runs: usize,
    /// Spawn to exit, median and slowest run.
    pub(super) median_s: f64,
    pub(super) slowest_s: f64,
    /// The probing alone as the scan reports it (`elapsed_ms`), median: the wall
    /// time minus process start and the report files.
    pub(super) median_scan_s: f64,
    /// The highest peak RSS of any run, in MB (10^6 bytes); `None` when not
    /// measured, with why in `rss_how`.
    pub(super) peak_rss_mb: Option<f64>,
    pub(super) rss_how: String,
    /// Verdicts per mode of the last run, most common first.
    pub(super) modes: Vec<(String, u64)>,
}

pub(super) fn scan_endpoints() -> usize {
    SCAN_FLEETS * 20 * SCAN_COPIES
}

/// The `mcprobe-fleet registry` process; stopped and reaped when dropped.
pub(super) struct FleetRegistry {
    child: Child,
    /// Closing it is the fleet's clean stop (its temp CA directory removed).
    stdin: Option<std::process::ChildStdin>,
    pub(super) url: String,
    endpoints: usize,
}

impl FleetRegistry {
    pub(super) fn start(fleet: &Path, fleets: usize, copies: usize) -> Result<FleetRegistry> {
        let mut cmd = Command::new(fleet);
        cmd.args([
            "registry",
            "--fleets",
            &fleets.to_string(),
            "--copies",
            &copies.to_string(),
        ])
        // A pipe we hold: the fleet also stops at its EOF if we die first.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("could not start `{}`", display_cmd(&cmd)))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("the fleet's stdout")?;
        // The first line on a thread, so a fleet that never prints cannot hang us.
        let (tx, rx) = mpsc::channel::<std::io::Result<String>>();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut line = String::new();
            let r = std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .map(|_| line);
            let _ = tx.send(r);
        });
        let mut me = FleetRegistry {
            child,
            stdin,
            url: String::new(),
            endpoints: 0,
        };
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(r) => r.context("reading the fleet's first line")?,
            Err(_) => bail!("`{}` printed nothing within 30 s", display_cmd(&cmd)),
        };
        (me.url, me.endpoints) = parse_registry_line(&line)?;
        Ok(me)
    }
}

impl Drop for FleetRegistry {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // EOF stops it within milliseconds; a fleet that ignores it is killed
        // after 5 s rather than waited on forever.
        for _ in 0..250 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `{"registry": url, "endpoints": n, ...}` -> (url, n).
fn parse_registry_line(line: &str) -> Result<(String, usize)> {
    let v: Value = serde_json::from_str(line.trim())
        .with_context(|| format!("the fleet's first line is not JSON: {line:?}"))?;
    let url = v["registry"]
        .as_str()
        .context("the fleet's first line has no string `registry`")?;
    let n = v["endpoints"]
        .as_u64()
        .context("the fleet's first line has no number `endpoints`")?;
    Ok((url.to_string(), n as usize))
}

pub(super) fn scan_bench(root: &Path, mcprobe: &Path, fleet: &Path) -> Result<ScanBench> {
    let reg = FleetRegistry::start(fleet, SCAN_FLEETS, SCAN_COPIES)?;
    let dir = target_dir(root).join("bench/scan");
    let gnu_time = Path::new(GNU_TIME).exists();
    let (mut walls, mut scan_s) = (Vec::new(), Vec::new());
    let mut peak_kb: Option<u64> = None;
    let mut last: Option<Value> = None;
    for run in 1..=SCAN_RUNS {
        let out = dir.join(format!("run{run}"));
        let _ = std::fs::remove_dir_all(&out);
        let rss_file = dir.join(format!("run{run}.maxrss"));
        let _ = std::fs::remove_file(&rss_file);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut cmd = if gnu_time {
            // `-o` keeps time's line out of mcprobe's stderr. A run killed by the
            // watchdog kills time, not mcprobe; the scan then ends on its own.
            let mut c = Command::new(GNU_TIME);
            c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(mcprobe);
            c
        } else {
            Command::new(mcprobe)
        };
        cmd.arg("scan")
            .args(["--allow-private", "--registry", &reg.url, "--out"])
            .arg(&out);
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
            cmd.env_remove(var).env_remove(var.to_ascii_lowercase());
        }
        let r = timed_run(&mut cmd)?;
        if !r.status.success() {
            bail!(
                "`{}` failed ({})\nstdout: {}\nstderr: {}",
                display_cmd(&cmd),
                r.status,
                tail(&String::from_utf8_lossy(&r.stdout), 20),
                tail(&String::from_utf8_lossy(&r.stderr), 20)
            );
        }
        let report_path = out.join("report.json");
        let text = std::fs::read_to_string(&report_path)
            .with_context(|| format!("reading {}", report_path.display()))?;
        let report: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", report_path.display()))?;
        let probed = report["totals"]["probed"].as_u64().unwrap_or(0) as usize;
        if probed != reg.endpoints {
            bail!(
                "run {run}: the scan probed {probed} endpoints, the registry lists {} ({})",
                reg.endpoints,
                report["totals"]
            );
        }
        if gnu_time {
            let kb = std::fs::read_to_string(&rss_file)
                .ok()
                .and_then(|t| t.lines().last().and_then(|l| l.trim().parse::<u64>().ok()))
                .with_context(|| {
                    format!("{GNU_TIME} wrote no max RSS to {}", rss_file.display())
                })?;
            peak_kb = Some(peak_kb.map_or(kb, |p| p.max(kb)));
        }
        walls.push(r.elapsed.as_secs_f64());
        scan_s.push(report["elapsed_ms"].as_f64().unwrap_or(0.0) / 1e3);
        last = Some(report);
    }
    let report = last.context("no scan ran")?;
    let (median_s, slowest_s) = median_p95(&mut walls).context("no timed scan")?;
    let (median_scan_s, _) = median_p95(&mut scan_s).context("no timed scan")?;
    let modes = report["audit"]["modes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["mode"].as_str().unwrap_or("?").to_string(),
                        m["count"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ScanBench {
        endpoints: reg.endpoints,
        pages: report["sources"][0]["pages"].as_u64().unwrap_or(0),
        runs: walls.len(),
        median_s,
        slowest_s,
        median_scan_s,
        // GNU time's %M is in KiB.
        peak_rss_mb: peak_kb.map(|kb| kb as f64 * 1024.0 / 1e6),
        rss_how: if gnu_time {
            format!("peak RSS of the mcprobe process ({GNU_TIME} -f %M), highest run")
        } else {
            format!("not measured: no {GNU_TIME}")
        },
        modes,
    })
}

fn probes_per_s(s: &ScanBench) -> f64 {
    if s.median_s > 0.0 {
        s.endpoints as f64 / s.median_s
    } else {
        f64::INFINITY
    }
}

/// The scan's rows of the table.
pub(super) fn scan_rows(s: &ScanBench) -> Vec<[String; 5]> {
    let rate = probes_per_s(s);
    let rss = match s.peak_rss_mb {
        Some(mb) => [
            format!("{mb:.1} MB"),
            format!(
                "< {SCAN_RSS_TARGET_MB:.0} MB: {}",
                met(mb < SCAN_RSS_TARGET_MB)
            ),
        ],
        None => [
            "-".into(),
            format!("< {SCAN_RSS_TARGET_MB:.0} MB: not measured"),
        ],
    };
    let [rss_value, rss_target] = rss;
    vec![
        [
            format!("scan {} endpoints, total time", s.endpoints),
            format!("{:.2} s", s.median_s),
            format!("{:.2} s", s.slowest_s),
            String::new(),
            format!(
                "spawn to exit: crawl of {} pages + probes + report; probing {:.2} s by report.json",
                s.pages, s.median_scan_s
            ),
        ],
        [
            "scan probes per second".into(),
            format!("{rate:.0}/s"),
            String::new(),
            format!(">= {SCAN_PROBES_TARGET:.0}/s: {}", met(rate >= SCAN_PROBES_TARGET)),
            "endpoints / median total time (one probe = the whole check of one endpoint)".into(),
        ],
        [
            "scan peak RSS".into(),
            rss_value,
            String::new(),
            rss_target,
            s.rss_how.clone(),
        ],
    ]
}

/// The paragraph under the table about the scan.
pub(super) fn scan_note(s: &ScanBench) -> String {
    let modes = s
        .modes
        .iter()
        .map(|(m, n)| format!("{m} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "\nscan: release `mcprobe scan --registry URL` (defaults: --concurrency 64, 2 in flight \
         per host:port), {} runs, median and slowest; `mcprobe-fleet registry` serves {SCAN_FLEETS} \
         fleets of 20 fast scenarios (no timeouts) on {} ports, each endpoint listed \
         {SCAN_COPIES} times. Verdicts: {modes}.\n",
        s.runs,
        SCAN_FLEETS * 20,
    )
}

/// Hand-made figures for the report's tests.
#[cfg(test)]
pub(super) fn scan_figures(median_s: f64, peak_rss_mb: Option<f64>) -> ScanBench {
    ScanBench {
        endpoints: 2000,
        pages: 20,
        runs: 3,
        median_s,
        slowest_s: median_s * 1.2,
        median_scan_s: median_s * 0.9,
        peak_rss_mb,
        rss_how: "peak RSS".into(),
        modes: vec![("ok".into(), 500), ("http_error".into(), 200)],
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::{align, table_header};
    use super::*;

    #[test]
    fn the_scan_rows_mark_each_target_met_or_missed() {
        let text = |s: &ScanBench| {
            let mut rows = vec![table_header()];
            rows.extend(scan_rows(s));
            format!("{}{}", align(&rows), scan_note(s))
        };
        // 2000 endpoints in 1.6 s is 1250/s; 31.5 MB.
        let fast = text(&scan_figures(1.6, Some(31.5)));
        assert!(fast.contains("1250/s"), "{fast}");
        assert!(fast.contains(">= 1000/s: met"), "{fast}");
        assert!(fast.contains("31.5 MB"), "{fast}");
        assert!(fast.contains("< 100 MB: met"), "{fast}");
        assert!(fast.contains("ok 500, http_error 200"), "{fast}");
        // 4 s is 500/s; 150 MB.
        let slow = text(&scan_figures(4.0, Some(150.0)));
        assert!(slow.contains("500/s"), "{slow}");
        assert!(slow.contains(">= 1000/s: MISSED"), "{slow}");
        assert!(slow.contains("< 100 MB: MISSED"), "{slow}");
        let unmeasured = text(&scan_figures(1.0, None));
        assert!(
            unmeasured.contains("< 100 MB: not measured"),
            "{unmeasured}"
        );
        assert!(!unmeasured.contains("MISSED"), "{unmeasured}");
    }

    #[test]
    fn the_fleet_registry_line_gives_url_and_count() {
        let (url, n) = parse_registry_line(
            "{\"registry\":\"http://127.0.0.1:4100/bench\",\"endpoints\":2000,\"fleets\":4}\n",
        )
        .expect("parses");
        assert_eq!((url.as_str(), n), ("http://127.0.0.1:4100/bench", 2000));
        assert!(parse_registry_line("{\"endpoints\":2000}").is_err());
        assert!(parse_registry_line("{\"registry\":\"http://x\"}").is_err());
        assert!(parse_registry_line("Compiling...").is_err());
    }
}
