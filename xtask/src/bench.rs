//! Start here: `cargo xtask bench`, one run that prints one table (and writes it to
//! `target/bench/report.md`):
//!
//! 1. **hot path, native**: validate + fingerprint of a `tools/list` answer with 10,
//!    100 and 1,000 tools. `crates/core/benches/hot_path.rs` does the measuring; we
//!    run `cargo bench -p mcprobe-core --bench hot_path` and re-print its rows.
//! 2. **hot path, wasm32**: the same work compiled to `wasm32-unknown-unknown` and run
//!    under Node 22. A tiny harness crate is generated under `target/bench/` (no
//!    wasm-bindgen, no imports: the core is sans-IO, so it needs none), and a Node
//!    script holds the clock because wasm32-unknown-unknown has none. The harness
//!    copies `fn tool` out of hot_path.rs so both measure the same tool shape. This
//!    part is optional: if anything about it fails, the table says "wasm: not
//!    measured (why)" and the rest still runs.
//! 3. **check wall time**: `mcprobe check URL --json` against the MCP Inspector CLI
//!    (`--method tools/list`), both pointed at the same server-everything on
//!    127.0.0.1, each run as a fresh process, alternating, never concurrent. The two
//!    do different amounts of work (mcprobe: discover + initialize + tools/list + a
//!    safe call + validation; the inspector: initialize + tools/list), and the table
//!    says so next to the numbers. Every run must succeed or the bench fails.
//! 4. **scan throughput**: `mcprobe scan` of 2,000 endpoints. `mcprobe-fleet registry`
//!    starts 4 fault fleets of fast scenarios (80 ports, 3 paths) and a fake MCP
//!    Registry listing each endpoint 25 times (`?copy=K`), 100 a page; the release
//!    `mcprobe scan --registry URL --out DIR` is run [`SCAN_RUNS`] times and timed
//!    from spawn to exit (crawl, probes and report writing all count). Probes per
//!    second is endpoints probed over that wall time; peak RSS is the scan process's
//!    own, from GNU `/usr/bin/time -f %M` (left "not measured" without it). Targets
//!    (issue 7): >= 1,000 probes/s and < 100 MB on 2 cores.
//!    `cargo xtask bench scan` runs this part alone (no node, no peers).
//!
//! 5. **edge**: the Worker under `wrangler dev` with 2,000 monitors against the
//!    fleet, a few cron ticks, probes per minute and D1 rows written per probe
//!    ([`edge_load`]); and one whole probe's core work (`mcprobe_core::Probe` over
//!    canned answers of a modern server, 10 and 100 tools) in the part 2 wasm
//!    harness under node, in CPU µs per probe (`process.cpuUsage` around each
//!    batch; wall time beside it). Target < 2 ms: workerd does not report CPU time
//!    locally, and node running the same wasm is the nearest measure.
//!    `cargo xtask bench edge` runs this part alone (its own table,
//!    `target/bench/edge.md`).
//!
//! Numbers come from whatever machine runs this, builds and all: on the shared two-core
//! CI box they move by tens of percent between runs, so the header records the load.

use std::fmt::Write as _;
use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

mod edge_load;

use crate::tools::{Tools, INSPECTOR_VERSION, SERVER_EVERYTHING_VERSION, WASM_TARGET};
use crate::{cargo, display_cmd, output_of, run_cmd};

/// Runs of each client thrown away first (disk cache, node's compile cache, the
/// server's first-request JIT), then runs that count.
const WARMUPS: usize = 2;
const TIMED_RUNS: usize = 15;
/// The speed-up over the inspector the project promises (issue 7).
const SPEEDUP_TARGET: f64 = 10.0;
/// One client run that takes longer than this is hung, not slow: it is killed and
/// the bench fails, so the bench always ends.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// The scan part: fleets started by `mcprobe-fleet registry`, copies of each listed
/// endpoint, timed runs (all count: each does the same crawl and probes against the
/// same fleet, and the median hides a cold first run), and the targets.
const SCAN_FLEETS: usize = 4;
const SCAN_COPIES: usize = 25;
const SCAN_RUNS: usize = 3;
const SCAN_PROBES_TARGET: f64 = 1_000.0;
const SCAN_RSS_TARGET_MB: f64 = 100.0;
/// GNU time, for the scan's peak RSS.
const GNU_TIME: &str = "/usr/bin/time";

/// What each client does per run, printed next to its numbers so nobody reads the
/// ratio as like for like.
const MCPROBE_DOES: &str = "discover + initialize + tools/list + safe call + validation";
const INSPECTOR_DOES: &str = "initialize + tools/list";

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    match args {
        [] => {}
        [only] if only == "scan" => return run_scan_only(root),
        [only] if only == "edge" => return run_edge_only(root),
        _ => bail!("usage: cargo xtask bench [scan|edge]"),
    }
    let tools = Tools::new(root);
    tools.install_all()?;
    let load_before = load_average();

    println!("bench: building the CLI (release)");
    run_cmd(
        cargo()
            .current_dir(root)
            .args(["build", "--release", "-p", "mcprobe"]),
    )?;
    let mcprobe = target_dir(root).join("release/mcprobe");
    if !mcprobe.exists() {
        bail!("built the CLI but {} is missing", mcprobe.display());
    }
    let fleet = build_fleet(root)?;

    println!("bench: hot path, native (cargo bench -p mcprobe-core --bench hot_path)");
    let native_out = output_of(cargo().current_dir(root).args([
        "bench",
        "-p",
        "mcprobe-core",
        "--bench",
        "hot_path",
    ]))?;
    let native = parse_hot_path(&native_out)?;

    println!("bench: hot path, wasm32 under node 22");
    let wasm = wasm_hot_path(root, &tools);
    if let Err(why) = &wasm {
        println!("bench: wasm not measured: {why}");
    }

    let node_version = output_of(Command::new(tools.node()).arg("--version"))?
        .trim()
        .to_string();
    println!(
        "bench: mcprobe vs inspector, {WARMUPS} warm-ups + {TIMED_RUNS} timed runs each, alternating"
    );
    let walls = wall_times(root, &tools, &mcprobe)?;

    println!(
        "bench: mcprobe scan of {} endpoints, {SCAN_RUNS} runs",
        scan_endpoints()
    );
    let scan = scan_bench(root, &mcprobe, &fleet)?;

    println!("bench: one probe's core work, wasm32 under node 22");
    let probe = wasm_probe(root, &tools);
    if let Err(why) = &probe {
        println!("bench: probe not measured: {why}");
    }
    println!(
        "bench: edge load, {} monitors under wrangler dev",
        edge_load::MONITORS
    );
    let edge = edge_load::run(root, &fleet).map_err(|e| format!("{e:#}"));
    if let Err(why) = &edge {
        println!("bench: edge load not measured: {why}");
    }

    let header = format!(
        "mcprobe bench: {} CPU(s), load {} before / {} after; node {node_version}, \
         server-everything {SERVER_EVERYTHING_VERSION}, inspector {INSPECTOR_VERSION}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_before,
        load_average(),
    );
    let table = format!(
        "{}\n{}",
        render_report(&header, &native, &wasm, &walls, &scan),
        edge_load::table(&edge, &probe_rows(&probe))
    );
    println!("\n{table}");
    write_report(root, "report.md", &table)
}

/// `cargo xtask bench edge`: the edge part alone (the Worker's load run and one
/// probe's core work in wasm), its own table and file. Fails when the load run
/// does; the probe measurement says "not measured (why)" instead.
fn run_edge_only(root: &Path) -> Result<()> {
    let load_before = load_average();
    let started = Instant::now();
    let tools = Tools::new(root);
    let fleet = build_fleet(root)?;
    println!("bench: one probe's core work, wasm32 under node 22");
    let probe = wasm_probe(root, &tools);
    if let Err(why) = &probe {
        println!("bench: probe not measured: {why}");
    }
    println!(
        "bench: edge load, {} monitors under wrangler dev",
        edge_load::MONITORS
    );
    let edge = edge_load::run(root, &fleet)?;
    let header = format!(
        "mcprobe bench (edge only): {} CPU(s), load {} before / {} after, {:.0} s in all",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_before,
        load_average(),
        started.elapsed().as_secs_f64(),
    );
    let table = format!(
        "{header}\n{}",
        edge_load::table(&Ok(edge), &probe_rows(&probe))
    );
    println!("\n{table}");
    write_report(root, "edge.md", &table)
}

/// `cargo xtask bench scan`: the scan part alone, its own table and file.
fn run_scan_only(root: &Path) -> Result<()> {
    let load_before = load_average();
    println!("bench: building the CLI (release)");
    run_cmd(
        cargo()
            .current_dir(root)
            .args(["build", "--release", "-p", "mcprobe"]),
    )?;
    let mcprobe = target_dir(root).join("release/mcprobe");
    let fleet = build_fleet(root)?;
    println!(
        "bench: mcprobe scan of {} endpoints, {SCAN_RUNS} runs",
        scan_endpoints()
    );
    let scan = scan_bench(root, &mcprobe, &fleet)?;
    let header = format!(
        "mcprobe bench (scan only): {} CPU(s), load {} before / {} after",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_before,
        load_average(),
    );
    let mut rows = vec![table_header()];
    rows.extend(scan_rows(&scan));
    let table = format!("{header}\n{}{}", align(&rows), scan_note(&scan));
    println!("\n{table}");
    write_report(root, "scan.md", &table)
}

fn write_report(root: &Path, name: &str, table: &str) -> Result<()> {
    let dir = target_dir(root).join("bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let report = dir.join(name);
    std::fs::write(
        &report,
        format!("# cargo xtask bench\n\n```text\n{table}```\n"),
    )
    .with_context(|| format!("writing {}", report.display()))?;
    println!("bench: wrote {}", shown(root, &report));
    Ok(())
}

/// Builds `mcprobe-fleet` (release) and returns its path.
fn build_fleet(root: &Path) -> Result<PathBuf> {
    println!("bench: building the fault fleet (release)");
    run_cmd(cargo().current_dir(root).args([
        "build",
        "--release",
        "-p",
        "mcprobe-testkit",
        "--bin",
        "mcprobe-fleet",
    ]))?;
    let fleet = target_dir(root).join("release/mcprobe-fleet");
    if !fleet.exists() {
        bail!("built the fleet but {} is missing", fleet.display());
    }
    Ok(fleet)
}

// ---- Part 1: the native hot path ----

/// One row of the hot-path table: times in µs per validated + fingerprinted list.
#[derive(Debug, Clone, PartialEq)]
struct HotRow {
    tools: u32,
    validate_us: f64,
    fingerprint_us: f64,
    both_us: f64,
    both_p95_us: f64,
    /// hot_path's own verdict on its target (`< 100 µs: met`), empty for most rows.
    target: String,
}

/// Reads hot_path's rows: `tools validate fingerprint both p95 [target words]`. The
/// title and the column header do not start with a number, so they are skipped.
fn parse_hot_path(out: &str) -> Result<Vec<HotRow>> {
    let mut rows = Vec::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(tools) = words.first().and_then(|w| w.parse::<u32>().ok()) else {
            continue;
        };
        let numbers: Option<Vec<f64>> = words
            .get(1..5)
            .map(|ws| ws.iter().map(|w| w.parse::<f64>().ok()).collect())
            .unwrap_or(None);
        let Some(n) = numbers else {
            bail!(
                "hot_path printed a row bench.rs cannot read: {line:?} \
                 (want: tools validate fingerprint both p95 [target])"
            );
        };
        rows.push(HotRow {
            tools,
            validate_us: n[0],
            fingerprint_us: n[1],
            both_us: n[2],
            both_p95_us: n[3],
            target: words[5..].join(" "),
        });
    }
    if rows.is_empty() {
        bail!("hot_path printed no rows bench.rs could read; it printed:\n{out}");
    }
    Ok(rows)
}

// ---- Part 2: the same hot path in wasm32 under node ----

/// The harness crate's manifest; `{core}` is the core's absolute path. Its own
/// `[workspace]` keeps it out of ours, and the release profile matches ours.
const HARNESS_MANIFEST: &str = r#"# Generated by `cargo xtask bench` (xtask/src/bench.rs); rewritten on every run.
[package]
name = "mcprobe-bench-wasm"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
mcprobe-core = { path = {core} }
serde_json = { version = "1", features = ["preserve_order"] }

[profile.release]
lto = "thin"
codegen-units = 4

[workspace]
"#;

/// The harness: hot_path.rs's loop cut at the clock. JavaScript calls `prepare`,
/// reads its clock, calls `run`, reads it again, calls `finish`, so copying the tools
/// beforehand and freeing the results afterwards stay outside the timing, as natively.
/// Plain numbers cross the boundary: no pointers, no imports, no wasm-bindgen.
/// `{tool_fn}` is hot_path.rs's `fn tool`, copied at run time.
const HARNESS_LIB: &str = r#"//! Generated by `cargo xtask bench` (xtask/src/bench.rs); rewritten on every run.
//! crates/core/benches/hot_path.rs's measurement behind a C ABI for node.
use std::cell::RefCell;
use std::hint::black_box;

use mcprobe_core::fingerprint::{self, Snapshot};
use mcprobe_core::revision::Revision;
use mcprobe_core::validate::{validate_response, Answer, Violation};
use serde_json::{json, Value};

{tool_fn}

#[derive(Default)]
struct State {
    msg: Value,
    owned: Vec<Vec<Value>>,
    kept: Vec<(Option<Vec<Violation>>, Option<Snapshot>)>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Builds the `tools/list` answer with `n` tools.
#[no_mangle]
pub extern "C" fn set_list(n: u32) {
    let tools: Vec<Value> = (0..n as usize).map(tool).collect();
    STATE.with_borrow_mut(|s| {
        s.msg = json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": tools}});
    });
}

/// Untimed: the copies of the tools that fingerprinting consumes.
#[no_mangle]
pub extern "C" fn prepare(per_batch: u32) {
    STATE.with_borrow_mut(|s| {
        let tools = s.msg["result"]["tools"].as_array().cloned().unwrap_or_default();
        s.owned = (0..per_batch).map(|_| tools.clone()).collect();
        s.kept = Vec::with_capacity(per_batch as usize * 2);
    });
}

/// Timed: part 0 validates, 1 fingerprints, 2 does both, `per_batch` times.
#[no_mangle]
pub extern "C" fn run(part: u32, per_batch: u32) -> u32 {
    let id = json!(2);
    STATE.with_borrow_mut(|s| {
        for _ in 0..per_batch {
            if part == 0 || part == 2 {
                let v = validate_response(
                    Revision::V2025_06_18,
                    Answer::ToolsList,
                    &id,
                    black_box(&s.msg),
                );
                s.kept.push((Some(v), None));
            }
            if part == 1 || part == 2 {
                let owned = s.owned.pop().unwrap_or_default();
                s.kept.push((None, Some(fingerprint::snapshot_owned(black_box(owned)))));
            }
        }
        s.kept.len() as u32
    })
}

/// Untimed: frees what `run` kept.
#[no_mangle]
pub extern "C" fn finish() {
    STATE.with_borrow_mut(|s| {
        s.kept = Vec::new();
        s.owned = Vec::new();
    });
}
"#;

/// Appended to [`HARNESS_LIB`]: ONE whole `mcprobe_core::Probe` driven the way a
/// host drives it (crates/worker/src/probe_host.rs), with canned answers of a
/// modern (2026-07-28) server: `server/discover`, `tools/list` (N tools, the
/// first a read-only `ping`, the rest hot_path.rs's shape) and the safe
/// `tools/call` of `ping`. `probe_set` records the answers once from a scripted
/// server and checks the verdict is up/ok with N tools and a call made;
/// `probe_run` replays them, each probe with the first run's tool list as its
/// baseline (what the cron compares against) and its verdict serialised to JSON
/// (what the cron stores), so a probe here is the core's whole work, no I/O.
const HARNESS_PROBE_LIB: &str = r#"
// ---- One whole probe (appended by bench.rs: HARNESS_PROBE_LIB) ----
use mcprobe_core::http::{Headers, HttpRequest, TransportError};
use mcprobe_core::{Action, Mode, Probe, ProbeConfig, Status, Verdict};

/// One canned HTTP answer: status, headers, body.
type Canned = (u16, Headers, Vec<u8>);

#[derive(Default)]
struct ProbeState {
    answers: Vec<Canned>,
    baseline: Option<Snapshot>,
}

thread_local! {
    static PROBE: RefCell<ProbeState> = RefCell::new(ProbeState::default());
}

fn probe_config(baseline: Option<Snapshot>) -> ProbeConfig {
    let mut cfg = ProbeConfig::new("http://bench.invalid/mcp");
    cfg.checked_at = "2026-11-23T00:00:00Z".into();
    cfg.baseline = baseline;
    cfg
}

/// A modern server's answer to one request (used once, to record the answers).
fn serve(req: &HttpRequest, tools: &Value) -> Canned {
    let body: Value = req
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null);
    let result = match body["method"].as_str().unwrap_or("") {
        "server/discover" => json!({
            "resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "bench", "version": "1.0"}},
            "ttlMs": 1000, "cacheScope": "public"}),
        "tools/list" => json!({"resultType": "complete", "tools": tools, "ttlMs": 1000, "cacheScope": "public"}),
        "tools/call" => json!({"resultType": "complete", "content": [{"type": "text", "text": "pong"}]}),
        _ => return (404, Vec::new(), Vec::new()),
    };
    let msg = json!({"jsonrpc": "2.0", "id": body["id"], "result": result});
    (
        200,
        vec![("content-type".to_string(), "application/json".to_string())],
        msg.to_string().into_bytes(),
    )
}

/// Drives one probe to its verdict; its k-th request gets `answer(k, request)`
/// (head, the whole body as one chunk, end), `None` a transport error.
fn drive(
    cfg: ProbeConfig,
    answer: &mut dyn FnMut(usize, &HttpRequest) -> Option<Canned>,
) -> Option<(Verdict, Option<Snapshot>, usize)> {
    let mut now = 1_000u64;
    let mut probe = Probe::new(cfg, now).ok()?;
    let mut asked = 0usize;
    for _ in 0..1_000 {
        match probe.poll(now) {
            Action::Http { id, request, .. } => {
                match answer(asked, &request) {
                    Some((status, headers, body)) => {
                        probe.on_head(id, status, headers, now);
                        probe.on_body(id, &body, now);
                        probe.on_end(id, now);
                    }
                    None => probe.on_error(
                        id,
                        TransportError::Other { message: "no canned answer".to_string() },
                        now,
                    ),
                }
                asked += 1;
            }
            Action::Connect { id, .. } => probe.on_error(
                id,
                TransportError::Other { message: "no preflight".to_string() },
                now,
            ),
            Action::Wait { until_ms } => now = until_ms.max(now + 1),
            Action::Cancel { .. } | Action::StdioWrite { .. } => {}
            Action::Done(v) => return Some((*v, probe.snapshot().cloned(), asked)),
        }
    }
    None
}

/// Records the canned conversation for `n` tools; 0 when it is a healthy one,
/// else what went wrong (probe.mjs names the codes).
#[no_mangle]
pub extern "C" fn probe_set(n: u32) -> u32 {
    let mut list = vec![json!({"name": "ping", "description": "Answers pong.",
        "annotations": {"readOnlyHint": true}, "inputSchema": {"type": "object"}})];
    list.extend((1..n as usize).map(tool));
    let tools = Value::Array(list);
    let mut answers = Vec::new();
    let mut called = false;
    let run = drive(probe_config(None), &mut |_, req| {
        let a = serve(req, &tools);
        let text = req.body.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
        called |= text.contains("\"tools/call\"");
        answers.push(a.clone());
        Some(a)
    });
    let Some((v, snapshot, _)) = run else {
        return 1;
    };
    if v.mode != Mode::Ok || v.status != Status::Up {
        return 2;
    }
    if v.tools.as_ref().map(|t| t.count) != Some(n as usize) {
        return 3;
    }
    if !called {
        return 4;
    }
    PROBE.with_borrow_mut(|p| {
        p.answers = answers;
        p.baseline = snapshot;
    });
    0
}

/// HTTP requests in the recorded conversation.
#[no_mangle]
pub extern "C" fn probe_requests() -> u32 {
    PROBE.with_borrow(|p| p.answers.len() as u32)
}

/// Timed: `count` whole probes; returns how many ended up/ok.
#[no_mangle]
pub extern "C" fn probe_run(count: u32) -> u32 {
    PROBE.with_borrow(|p| {
        let mut ok = 0;
        for _ in 0..count {
            let run = drive(probe_config(p.baseline.clone()), &mut |k, _| {
                p.answers.get(k).cloned()
            });
            if let Some((v, snapshot, _)) = run {
                let stored = serde_json::to_string(&v).unwrap_or_default();
                black_box((stored, snapshot));
                if v.mode == Mode::Ok && v.status == Status::Up {
                    ok += 1;
                }
            }
        }
        ok
    })
}
"#;

/// Node's side of the probe measurement: 5 warm-up and 60 timed batches per
/// list size, median and p95 of CPU µs per probe (and the wall median). Prints
/// one JSON line.
const HARNESS_PROBE_JS: &str = r#"// Generated by `cargo xtask bench` (xtask/src/bench.rs); rewritten on every run.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const { instance } = await WebAssembly.instantiate(readFileSync(process.argv[2]), {});
const w = instance.exports;
const why = {
  1: "the probe did not finish",
  2: "the canned modern server did not give an up/ok verdict",
  3: "the verdict counted another number of tools",
  4: "the probe made no safe tools/call",
};

// CPU time is what the Workers platform bills and caps (10 ms an invocation on the
// free plan): process.cpuUsage() around each batch, so other processes on a busy box
// inflate it far less than they inflate the wall clock, which is kept alongside.
const pick = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const rows = [];
for (const [n, perBatch] of [[10, 80], [100, 16]]) {
  const code = w.probe_set(n);
  if (code !== 0) throw new Error(`probe_set(${n}): ${why[code] || code}`);
  const cpu = [];
  const wall = [];
  for (let b = 0; b < 65; b++) {
    const c = process.cpuUsage();
    const t = performance.now();
    const ok = w.probe_run(perBatch);
    const wallUs = ((performance.now() - t) * 1000) / perBatch;
    const used = process.cpuUsage(c);
    if (ok !== perBatch) throw new Error(`only ${ok} of ${perBatch} probes ended up/ok`);
    if (b >= 5) {
      cpu.push((used.user + used.system) / perBatch);
      wall.push(wallUs);
    }
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  rows.push({
    tools: n,
    requests: w.probe_requests(),
    cpu_median_us: pick(cpu, 0.5),
    cpu_p95_us: pick(cpu, 0.95),
    wall_median_us: pick(wall, 0.5),
  });
}
console.log(JSON.stringify({ probe_rows: rows }));
"#;

/// Node's side: the clock and hot_path.rs's schedule (list sizes, per-batch counts,
/// 5 warm-up and 60 timed batches, median and p95 by the same index arithmetic).
/// Prints one JSON line.
const HARNESS_JS: &str = r#"// Generated by `cargo xtask bench` (xtask/src/bench.rs); rewritten on every run.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const { instance } = await WebAssembly.instantiate(readFileSync(process.argv[2]), {});
const w = instance.exports;

function measure(part, batches, perBatch) {
  const samples = [];
  for (let b = 0; b < batches; b++) {
    w.prepare(perBatch);
    const t = performance.now();
    const kept = w.run(part, perBatch);
    samples.push(((performance.now() - t) * 1000) / perBatch);
    w.finish();
    if (kept !== (part === 2 ? 2 : 1) * perBatch) throw new Error(`run kept ${kept}`);
  }
  samples.sort((a, b) => a - b);
  return [samples[Math.floor(samples.length / 2)], samples[Math.floor((samples.length * 95) / 100)]];
}

const rows = [];
for (const [n, perBatch] of [[10, 200], [100, 40], [1000, 4]]) {
  w.set_list(n);
  measure(2, 5, perBatch);
  const [validate] = measure(0, 60, perBatch);
  const [fingerprint] = measure(1, 60, perBatch);
  const [both, p95] = measure(2, 60, perBatch);
  rows.push({ tools: n, validate_us: validate, fingerprint_us: fingerprint, both_us: both, both_p95_us: p95 });
}
console.log(JSON.stringify({ rows }));
"#;

/// Builds the harness and runs it; `Err` is the reason printed as "not measured".
fn wasm_hot_path(root: &Path, tools: &Tools) -> std::result::Result<Vec<HotRow>, String> {
    let (dir, wasm) = build_harness(root)?;
    let mut node = Command::new(tools.node());
    node.arg(dir.join("run.mjs")).arg(&wasm);
    let out = output_of(&mut node).map_err(|e| format!("{e:#}"))?;
    parse_wasm_rows(&out)
}

/// One whole probe's core work in wasm under node (see [`HARNESS_PROBE_LIB`]);
/// `Err` is the reason printed as "not measured".
fn wasm_probe(root: &Path, tools: &Tools) -> std::result::Result<Vec<ProbeRow>, String> {
    let (dir, wasm) = build_harness(root)?;
    let mut node = Command::new(tools.node());
    node.arg(dir.join("probe.mjs")).arg(&wasm);
    let out = output_of(&mut node).map_err(|e| format!("{e:#}"))?;
    parse_probe_rows(&out)
}

/// Writes the harness crate and builds it for wasm32 (a no-op when nothing
/// changed); returns its folder and the `.wasm`.
fn build_harness(root: &Path) -> std::result::Result<(PathBuf, PathBuf), String> {
    let hot_path = root.join("crates/core/benches/hot_path.rs");
    let source = std::fs::read_to_string(&hot_path)
        .map_err(|e| format!("could not read {}: {e}", hot_path.display()))?;
    let tool_fn = extract_tool_fn(&source).ok_or_else(|| {
        "crates/core/benches/hot_path.rs has no `fn tool(i: usize) -> Value` to copy".to_string()
    })?;

    let dir = target_dir(root).join("bench/wasm-harness");
    let core = root.join("crates/core").display().to_string();
    let files = [
        (
            "Cargo.toml",
            // A JSON string is a valid TOML basic string, escapes and all.
            HARNESS_MANIFEST.replace("{core}", &Value::from(core).to_string()),
        ),
        (
            "src/lib.rs",
            format!(
                "{}{HARNESS_PROBE_LIB}",
                HARNESS_LIB.replace("{tool_fn}", tool_fn)
            ),
        ),
        ("run.mjs", HARNESS_JS.to_string()),
        ("probe.mjs", HARNESS_PROBE_JS.to_string()),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        write_if_changed(&path, &text)?;
    }
    // Our lock file, so the harness builds the core against the same dependency
    // versions as the native bench (cargo adds the harness's own entry, so the copy
    // is redone only when ours changed).
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let stamp = dir.join("Cargo.lock.source");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(lock.as_str()) {
        write_if_changed(&dir.join("Cargo.lock"), &lock)?;
        write_if_changed(&stamp, &lock)?;
    }

    let mut build = cargo();
    build
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir(root))
        .args([
            "build",
            "--release",
            "--target",
            WASM_TARGET,
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"));
    run_cmd(&mut build).map_err(|e| format!("{e:#}"))?;
    let wasm = target_dir(root).join(format!("{WASM_TARGET}/release/mcprobe_bench_wasm.wasm"));
    Ok((dir, wasm))
}

/// One row of the whole-probe measurement: µs per probe.
#[derive(Debug, Clone, PartialEq)]
struct ProbeRow {
    tools: u32,
    requests: u32,
    /// CPU time (node's `process.cpuUsage`, user + system) per probe.
    cpu_median_us: f64,
    cpu_p95_us: f64,
    /// Wall time per probe (performance.now), for comparison.
    wall_median_us: f64,
}

/// The whole-probe target (issue 4): the free plan allows 10 ms of CPU an
/// invocation, and a cron invocation runs several probes.
const PROBE_TARGET_US: f64 = 2_000.0;

/// The rows under `key` in the last line of a node script's output (its one
/// JSON line).
fn json_rows(out: &str, key: &str, who: &str) -> std::result::Result<Vec<Value>, String> {
    let line = out.lines().last().unwrap_or_default();
    let value: Value =
        serde_json::from_str(line).map_err(|e| format!("{who} printed no JSON ({e}): {out:?}"))?;
    value[key]
        .as_array()
        .cloned()
        .ok_or_else(|| format!("{who}'s JSON has no {key}: {line}"))
}

/// A row's field as a finite, non-negative number.
fn number(row: &Value, key: &str) -> std::result::Result<f64, String> {
    row[key]
        .as_f64()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| format!("row {row} has no usable {key}"))
}

/// probe.mjs's JSON line, checked: two rows of finite numbers.
fn parse_probe_rows(out: &str) -> std::result::Result<Vec<ProbeRow>, String> {
    let rows = json_rows(out, "probe_rows", "probe.mjs")?;
    let mut parsed = Vec::new();
    for row in &rows {
        parsed.push(ProbeRow {
            tools: number(row, "tools")? as u32,
            requests: number(row, "requests")? as u32,
            cpu_median_us: number(row, "cpu_median_us")?,
            cpu_p95_us: number(row, "cpu_p95_us")?,
            wall_median_us: number(row, "wall_median_us")?,
        });
    }
    if parsed.len() != 2 {
        return Err(format!("probe.mjs gave {} rows, want 2", parsed.len()));
    }
    Ok(parsed)
}

/// The whole-probe rows of the table (or one saying why not measured).
fn probe_rows(probe: &std::result::Result<Vec<ProbeRow>, String>) -> Vec<[String; 5]> {
    match probe {
        Ok(rows) => rows
            .iter()
            .map(|r| {
                [
                    format!("one probe's core CPU, wasm32/node, {} tools", r.tools),
                    format!("{:.1} µs", r.cpu_median_us),
                    format!("{:.1} µs", r.cpu_p95_us),
                    format!(
                        "< {PROBE_TARGET_US:.0} µs: {}",
                        met(r.cpu_median_us < PROBE_TARGET_US)
                    ),
                    format!(
                        "whole mcprobe_core::Probe over {} canned exchanges: discover + tools/list \
                         + safe call, validation, fingerprint, drift check, verdict JSON; \
                         wall median {:.1} µs",
                        r.requests, r.wall_median_us
                    ),
                ]
            })
            .collect(),
        Err(why) => vec![[
            "one probe's core, wasm32/node".into(),
            "-".into(),
            "-".into(),
            String::new(),
            format!("not measured ({})", one_line(why)),
        ]],
    }
}

/// Leaves an unchanged file alone, so cargo does not rebuild the harness every run.
fn write_if_changed(path: &Path, text: &str) -> std::result::Result<(), String> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// hot_path.rs's `fn tool`, from its signature to the first `}` at the start of a line.
fn extract_tool_fn(source: &str) -> Option<&str> {
    let start = source.find("fn tool(i: usize) -> Value {")?;
    let len = source[start..].find("\n}\n")? + "\n}".len();
    Some(&source[start..start + len])
}

/// The node script's JSON line, checked: three rows of finite numbers.
fn parse_wasm_rows(out: &str) -> std::result::Result<Vec<HotRow>, String> {
    let rows = json_rows(out, "rows", "the node script")?;
    let mut parsed = Vec::new();
    for row in &rows {
        parsed.push(HotRow {
            tools: number(row, "tools")? as u32,
            validate_us: number(row, "validate_us")?,
            fingerprint_us: number(row, "fingerprint_us")?,
            both_us: number(row, "both_us")?,
            both_p95_us: number(row, "both_p95_us")?,
            target: String::new(),
        });
    }
    if parsed.len() != 3 {
        return Err(format!(
            "the node script gave {} rows, want 3",
            parsed.len()
        ));
    }
    Ok(parsed)
}

// ---- Part 3: mcprobe check vs the inspector, wall time ----

/// Median and p95 of one client's timed runs, plus what it saw.
#[derive(Debug, Clone, PartialEq)]
struct Wall {
    runs: usize,
    median_ms: f64,
    p95_ms: f64,
    tools_seen: usize,
}

struct Walls {
    url: String,
    mcprobe: Wall,
    inspector: Wall,
}

fn wall_times(root: &Path, tools: &Tools, mcprobe: &Path) -> Result<Walls> {
    let server = Server::start(root, tools)?;
    let url = format!("http://127.0.0.1:{}/mcp", server.port);

    let mut probe = Command::new(mcprobe);
    probe.args(["check", &url, "--json"]);
    let mut inspector = Command::new(tools.npm_dir().join("node_modules/.bin/inspector"));
    // `--cli` first: the launcher reads it before handing the rest to the CLI client.
    inspector
        .args([
            "--cli",
            &url,
            "--transport",
            "http",
            "--method",
            "tools/list",
        ])
        .env("PATH", path_with(&tools.node_bin_dir())?);
    for cmd in [&mut probe, &mut inspector] {
        // Both talk to 127.0.0.1 directly, whatever proxy the shell has configured.
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
            cmd.env_remove(var).env_remove(var.to_ascii_lowercase());
        }
    }

    let (mut probe_ms, mut inspector_ms) = (Vec::new(), Vec::new());
    let (mut probe_tools, mut inspector_tools) = (0, 0);
    // Alternating spreads any drift in machine load over both clients equally.
    for i in 0..WARMUPS + TIMED_RUNS {
        let label = if i < WARMUPS {
            format!("warm-up {} of {WARMUPS}", i + 1)
        } else {
            format!("run {} of {TIMED_RUNS}", i - WARMUPS + 1)
        };
        let r = timed_run(&mut probe)?;
        probe_tools = mcprobe_ok(r.status, &r.stdout)
            .with_context(|| failure(&probe, &label, &r, &server))?;
        let s = timed_run(&mut inspector)?;
        inspector_tools = inspector_ok(s.status, &s.stdout)
            .with_context(|| failure(&inspector, &label, &s, &server))?;
        if i >= WARMUPS {
            probe_ms.push(r.elapsed.as_secs_f64() * 1e3);
            inspector_ms.push(s.elapsed.as_secs_f64() * 1e3);
        }
    }
    let (median_ms, p95_ms) = median_p95(&mut probe_ms).context("no timed mcprobe runs")?;
    let mcprobe = Wall {
        runs: probe_ms.len(),
        median_ms,
        p95_ms,
        tools_seen: probe_tools,
    };
    let (median_ms, p95_ms) = median_p95(&mut inspector_ms).context("no timed inspector runs")?;
    let inspector = Wall {
        runs: inspector_ms.len(),
        median_ms,
        p95_ms,
        tools_seen: inspector_tools,
    };
    drop(server);
    Ok(Walls {
        url,
        mcprobe,
        inspector,
    })
}

/// The failure message for one client run: what ran, how it ended, its output and
/// the server's log.
fn failure(cmd: &Command, label: &str, r: &TimedRun, server: &Server) -> String {
    format!(
        "{label}: `{}` failed ({}, after {} ms)\nstdout: {}\nstderr: {}\n{}",
        display_cmd(cmd),
        r.status,
        r.elapsed.as_millis(),
        tail(&String::from_utf8_lossy(&r.stdout), 40),
        tail(&String::from_utf8_lossy(&r.stderr), 20),
        server.log_tail(),
    )
}

/// mcprobe must exit 0 with a verdict saying `"status": "up"`; returns its tool count.
fn mcprobe_ok(status: ExitStatus, stdout: &[u8]) -> Result<usize> {
    let verdict: Value = serde_json::from_slice(stdout)
        .with_context(|| format!("mcprobe printed no verdict JSON (exit {status})"))?;
    if verdict["status"] != "up" {
        bail!(
            "mcprobe says status {} (mode {}): {}",
            verdict["status"],
            verdict["mode"],
            verdict["reason"].as_str().unwrap_or("no reason given")
        );
    }
    if !status.success() {
        bail!("mcprobe said status up but exited with {status}");
    }
    Ok(verdict["tools"]["count"].as_u64().unwrap_or(0) as usize)
}

/// The inspector must exit 0 and print a `tools/list` result with at least one tool;
/// returns how many.
fn inspector_ok(status: ExitStatus, stdout: &[u8]) -> Result<usize> {
    if !status.success() {
        bail!("the inspector exited with {status}");
    }
    let result: Value = serde_json::from_slice(stdout)
        .context("the inspector exited 0 but printed no JSON result")?;
    match result["tools"].as_array() {
        Some(tools) if !tools.is_empty() => Ok(tools.len()),
        _ => bail!("the inspector exited 0 but its result lists no tools"),
    }
}

/// Median and nearest-rank p95 (with 15 runs, p95 is the slowest run).
fn median_p95(samples: &mut [f64]) -> Option<(f64, f64)> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    };
    let rank = (n as f64 * 0.95).ceil() as usize;
    Some((median, samples[rank.clamp(1, n) - 1]))
}

/// One finished client run.
struct TimedRun {
    elapsed: Duration,
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `cmd` to completion, timing spawn to exit (what a user waits for). A watchdog
/// kills it by pid after [`RUN_LIMIT`] so a hung client ends the bench instead of
/// stalling it; the main thread tells the watchdog when the run is over.
fn timed_run(cmd: &mut Command) -> Result<TimedRun> {
    let line = display_cmd(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("could not start `{line}`"))?;
    let pid = child.id().to_string();
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(RUN_LIMIT) == Err(mpsc::RecvTimeoutError::Timeout) {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            return true;
        }
        false
    });
    let out = child.wait_with_output();
    let elapsed = started.elapsed();
    let _ = done.send(());
    let killed = watchdog.join().unwrap_or(false);
    let out = out.with_context(|| format!("waiting for `{line}`"))?;
    if killed {
        bail!(
            "`{line}` did not finish within {}s and was killed",
            RUN_LIMIT.as_secs()
        );
    }
    Ok(TimedRun {
        elapsed,
        status: out.status,
        stdout: out.stdout,
        stderr: out.stderr,
    })
}

/// server-everything (`streamableHttp`, serving `/mcp`) on a free 127.0.0.1 port;
/// killed and reaped when dropped, whichever way the bench ends.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    /// Started the way `crates/cli/tests/peers.rs` starts it: node 22, the loopback
    /// preload (server-everything has no host setting and would listen everywhere), a
    /// cleared environment (its `get-env` tool echoes it) plus PORT and a gzip tool
    /// allowed to fetch only from loopback.
    fn start(root: &Path, tools: &Tools) -> Result<Server> {
        let port = free_port()?;
        let dir = target_dir(root).join("bench");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let log = dir.join("server-everything.log");
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().context("cloning the server log handle")?;
        let mut cmd = Command::new(tools.node());
        cmd.arg("--require")
            .arg(tools.peers_dir().join("loopback.cjs"))
            .arg(tools.everything_js())
            .arg("streamableHttp")
            .env_clear()
            .env("PATH", path_with(&tools.node_bin_dir())?)
            .env("PORT", port.to_string())
            .env("GZIP_ALLOWED_DOMAINS", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .with_context(|| format!("could not start `{}`", display_cmd(&cmd)))?;
        let mut server = Server { child, port, log };
        server.wait_ready()?;
        Ok(server)
    }

    /// Ready is the port accepting a TCP connection, as in peers.rs; bounded at about
    /// 20 s, and an early exit fails at once with the server's log.
    fn wait_ready(&mut self) -> Result<()> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        for _ in 0..400 {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(50)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "server-everything exited ({status}) before listening on {addr}\n{}",
                    self.log_tail()
                );
            }
            // A refused connect returns at once: this paces the polling.
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "server-everything did not listen on {addr} within ~20 s\n{}",
            self.log_tail()
        )
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!(
            "--- server-everything log ({}) ---\n{}",
            self.log.display(),
            tail(&text, 30)
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (another process could take it before the
/// server binds; the readiness wait then fails with the server's log saying so).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener
        .local_addr()
        .context("reading the bound port")?
        .port())
}

// ---- Part 4: mcprobe scan throughput ----

/// The scan's figures over [`SCAN_RUNS`] runs.
#[derive(Debug, Clone, PartialEq)]
struct ScanBench {
    /// Distinct endpoints the fake registry lists (each probed once a run).
    endpoints: usize,
    /// Registry pages each crawl read.
    pages: u64,
    runs: usize,
    /// Spawn to exit, median and slowest run.
    median_s: f64,
    slowest_s: f64,
    /// The probing alone as the scan reports it (`elapsed_ms`), median: the wall
    /// time minus process start and the report files.
    median_scan_s: f64,
    /// The highest peak RSS of any run, in MB (10^6 bytes); `None` when not
    /// measured, with why in `rss_how`.
    peak_rss_mb: Option<f64>,
    rss_how: String,
    /// Verdicts per mode of the last run, most common first.
    modes: Vec<(String, u64)>,
}

fn scan_endpoints() -> usize {
    SCAN_FLEETS * 20 * SCAN_COPIES
}

/// The `mcprobe-fleet registry` process; stopped and reaped when dropped.
struct FleetRegistry {
    child: Child,
    /// Closing it is the fleet's clean stop (its temp CA directory removed).
    stdin: Option<std::process::ChildStdin>,
    url: String,
    endpoints: usize,
}

impl FleetRegistry {
    fn start(fleet: &Path, fleets: usize, copies: usize) -> Result<FleetRegistry> {
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

fn scan_bench(root: &Path, mcprobe: &Path, fleet: &Path) -> Result<ScanBench> {
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

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

/// The scan's rows of the table.
fn scan_rows(s: &ScanBench) -> Vec<[String; 5]> {
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
fn scan_note(s: &ScanBench) -> String {
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

// ---- The table ----

fn table_header() -> [String; 5] {
    [
        "measurement".into(),
        "median".into(),
        "p95".into(),
        "target".into(),
        "notes".into(),
    ]
}

/// The whole report: header, one aligned table, notes. Pure, so it is tested.
fn render_report(
    header: &str,
    native: &[HotRow],
    wasm: &std::result::Result<Vec<HotRow>, String>,
    walls: &Walls,
    scan: &ScanBench,
) -> String {
    let mut rows: Vec<[String; 5]> = vec![table_header()];
    let hot = |platform: &str, r: &HotRow| -> [String; 5] {
        [
            format!("hot path {platform}, {} tools", r.tools),
            format!("{:.1} µs", r.both_us),
            format!("{:.1} µs", r.both_p95_us),
            r.target.clone(),
            format!(
                "validate {:.1} µs + fingerprint {:.1} µs",
                r.validate_us, r.fingerprint_us
            ),
        ]
    };
    rows.extend(native.iter().map(|r| hot("native", r)));
    match wasm {
        Ok(w) => rows.extend(w.iter().map(|r| hot("wasm32/node", r))),
        Err(why) => rows.push([
            "hot path wasm32/node".into(),
            "-".into(),
            "-".into(),
            String::new(),
            format!("wasm: not measured ({})", one_line(why)),
        ]),
    }
    let wall = |name: &str, w: &Wall, does: &str| -> [String; 5] {
        [
            name.into(),
            format!("{:.1} ms", w.median_ms),
            format!("{:.1} ms", w.p95_ms),
            String::new(),
            format!("{does}; saw {} tools", w.tools_seen),
        ]
    };
    rows.push(wall(
        "mcprobe check --json",
        &walls.mcprobe,
        &format!("does {MCPROBE_DOES}"),
    ));
    rows.push(wall(
        "inspector --cli tools/list",
        &walls.inspector,
        &format!("does {INSPECTOR_DOES} only"),
    ));
    let (ratio, met) = speedup(walls.inspector.median_ms, walls.mcprobe.median_ms);
    rows.push([
        "inspector / mcprobe median".into(),
        format!("{ratio:.1}x"),
        String::new(),
        format!(
            ">= {SPEEDUP_TARGET:.0}x: {}",
            if met { "met" } else { "MISSED" }
        ),
        format!("mcprobe is {ratio:.1}x faster (wall time, more work per run)"),
    ]);
    rows.extend(scan_rows(scan));

    let mut out = format!("{header}\n");
    out.push_str(&align(&rows));
    let _ = writeln!(
        out,
        "\nhot path: µs per tools/list answer validated + fingerprinted, median and p95 of 60 \
         timed batches (crates/core/benches/hot_path.rs; wasm32-unknown-unknown release build, \
         timed by node's performance.now()).\n\
         check: wall ms from process start to exit, {} timed runs of each after {WARMUPS} \
         warm-ups, alternating, never concurrent, all against server-everything \
         streamableHttp at {}; p95 is nearest-rank (with {} runs, the slowest).",
        walls.mcprobe.runs, walls.url, walls.mcprobe.runs
    );
    out.push_str(&scan_note(scan));
    if walls.mcprobe.tools_seen != walls.inspector.tools_seen {
        // Seen on server-everything: it registers `get-roots-list` only for a client
        // that declares the roots capability, which the inspector does and mcprobe
        // does not. Said here so the different counts do not read as a bug.
        out.push_str(
            "tools seen differ: the server tailors its list to the capabilities each client \
             declares (server-everything adds get-roots-list for clients declaring roots).\n",
        );
    }
    out
}

/// `(inspector / mcprobe, whether that meets the target)`; a zero mcprobe median
/// (impossible for a real process) counts as infinitely faster.
fn speedup(inspector_ms: f64, mcprobe_ms: f64) -> (f64, bool) {
    let ratio = if mcprobe_ms > 0.0 {
        inspector_ms / mcprobe_ms
    } else {
        f64::INFINITY
    };
    (ratio, ratio >= SPEEDUP_TARGET)
}

/// Columns padded to their widest cell: text left, the two number columns right, the
/// last column (free text) unpadded.
fn align(rows: &[[String; 5]]) -> String {
    let mut widths = [0usize; 5];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            match i {
                1 | 2 => line.push_str(&format!("{pad}{cell}  ")),
                4 => line.push_str(cell),
                _ => line.push_str(&format!("{cell}{pad}  ")),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

// ---- Small helpers ----

/// Where cargo puts its output: `CARGO_TARGET_DIR` when set, else `target/`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// PATH with `first` in front (node 22 before the machine's node 20).
fn path_with(first: &Path) -> Result<std::ffi::OsString> {
    let mut dirs = vec![first.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).context("PATH holds a folder name with ':' in it")
}

/// The 1-minute load average, or `?` off Linux: how busy the box was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A multi-line reason squeezed into one table cell.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// hot_path.rs's output as printed on the CI box.
    const HOT_PATH_OUT: &str = "\
validate + fingerprint of a tools/list answer (native, release)
 tools  validate µs  fingerprint µs     both µs  both p95           target
    10          1.1            10.5        11.9      12.2
   100          4.9           116.4       121.6     132.7 < 100 µs: MISSED
  1000         64.9          1338.2      1371.2    1718.5
";

    #[cfg(unix)]
    fn exit(code: i32) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn hot_path_rows_are_read_with_their_target() {
        let rows = parse_hot_path(HOT_PATH_OUT).expect("parses");
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            HotRow {
                tools: 100,
                validate_us: 4.9,
                fingerprint_us: 116.4,
                both_us: 121.6,
                both_p95_us: 132.7,
                target: "< 100 µs: MISSED".into(),
            }
        );
        assert_eq!(rows[2].tools, 1000);
        assert_eq!(rows[0].target, "");
    }

    #[test]
    fn hot_path_output_without_rows_or_with_a_broken_row_fails() {
        assert!(parse_hot_path("validate + fingerprint\n tools validate\n").is_err());
        let err = parse_hot_path("  10  1.1  oops  3.0  4.0\n").expect_err("bad number");
        assert!(err.to_string().contains("cannot read"), "{err}");
    }

    #[test]
    fn the_real_hot_path_still_has_the_tool_fn_the_wasm_harness_copies() {
        let source = include_str!("../../crates/core/benches/hot_path.rs");
        let tool_fn = extract_tool_fn(source).expect("fn tool in hot_path.rs");
        assert!(tool_fn.starts_with("fn tool(i: usize) -> Value {"));
        assert!(tool_fn.ends_with("\n}"), "{tool_fn}");
        assert!(tool_fn.contains("\"inputSchema\""), "{tool_fn}");
        assert!(!tool_fn.contains("fn answer"), "took too much: {tool_fn}");
    }

    #[test]
    fn wasm_rows_need_three_rows_of_numbers() {
        let good = r#"{"rows":[
            {"tools":10,"validate_us":1.9,"fingerprint_us":36.1,"both_us":36.2,"both_p95_us":60.0},
            {"tools":100,"validate_us":7.4,"fingerprint_us":335.5,"both_us":344.3,"both_p95_us":555.1},
            {"tools":1000,"validate_us":85.6,"fingerprint_us":3392.3,"both_us":3795.1,"both_p95_us":5665.7}]}"#;
        let rows = parse_wasm_rows(&good.replace('\n', "")).expect("parses");
        assert_eq!(rows[1].tools, 100);
        assert_eq!(rows[1].both_us, 344.3);
        assert!(parse_wasm_rows("not json").is_err());
        assert!(parse_wasm_rows(r#"{"rows":[]}"#).is_err());
        assert!(parse_wasm_rows(r#"{"rows":[{"tools":10,"validate_us":null}]}"#).is_err());
    }

    #[test]
    fn probe_rows_need_two_rows_and_mark_the_2ms_target() {
        let good = r#"{"probe_rows":[{"tools":10,"requests":3,"cpu_median_us":412.5,"cpu_p95_us":600.1,"wall_median_us":420.0},{"tools":100,"requests":3,"cpu_median_us":2500.0,"cpu_p95_us":3100.0,"wall_median_us":2600.0}]}"#;
        let rows = parse_probe_rows(&format!("warming up\n{good}")).expect("parses");
        assert_eq!(
            rows[0],
            ProbeRow {
                tools: 10,
                requests: 3,
                cpu_median_us: 412.5,
                cpu_p95_us: 600.1,
                wall_median_us: 420.0,
            }
        );
        let table = align(&probe_rows(&Ok(rows)));
        assert!(table.contains("412.5 µs"), "{table}");
        assert!(table.contains("< 2000 µs: met"), "{table}");
        assert!(table.contains("< 2000 µs: MISSED"), "{table}");
        assert!(table.contains("over 3 canned exchanges"), "{table}");
        assert!(table.contains("wall median 420.0 µs"), "{table}");
        assert!(parse_probe_rows("boom").is_err());
        assert!(parse_probe_rows(r#"{"probe_rows":[]}"#).is_err());
        assert!(parse_probe_rows(r#"{"probe_rows":[{"tools":10,"cpu_median_us":-1}]}"#).is_err());
        let not = align(&probe_rows(&Err("node\nmissing".into())));
        assert!(not.contains("not measured (node missing)"), "{not}");
    }

    #[test]
    fn the_probe_harness_is_appended_without_clashing_names() {
        // The generated lib is HARNESS_LIB + HARNESS_PROBE_LIB: the probe part
        // must not re-import what the first part imports.
        for name in ["json", "Value", "Snapshot", "RefCell", "black_box"] {
            let reimport = format!("use {name}");
            assert!(!HARNESS_PROBE_LIB.contains(&reimport), "{name}");
        }
        assert!(!HARNESS_PROBE_LIB.contains("serde_json::{"));
        for export in ["fn probe_set(", "fn probe_run(", "fn probe_requests("] {
            assert!(HARNESS_PROBE_LIB.contains(export), "{export}");
            assert!(
                HARNESS_PROBE_JS.contains(&export[3..export.len() - 1]),
                "{export}"
            );
        }
    }

    #[test]
    fn median_and_p95_by_nearest_rank() {
        let mut fifteen: Vec<f64> = (1..=15).rev().map(f64::from).collect();
        assert_eq!(median_p95(&mut fifteen), Some((8.0, 15.0)));
        let mut twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(median_p95(&mut twenty), Some((10.5, 19.0)));
        assert_eq!(median_p95(&mut []), None);
    }

    #[test]
    fn speedup_meets_the_target_at_ten_times() {
        assert_eq!(speedup(350.0, 20.0), (17.5, true));
        assert_eq!(speedup(100.0, 10.0), (10.0, true));
        assert!(!speedup(99.0, 10.0).1);
    }

    #[cfg(unix)]
    #[test]
    fn mcprobe_must_exit_0_and_say_up() {
        let up = br#"{"status":"up","mode":"ok","tools":{"count":13}}"#;
        assert_eq!(mcprobe_ok(exit(0), up).expect("up"), 13);
        let down = br#"{"status":"down","mode":"connect_refused","reason":"Nothing is listening"}"#;
        let err = mcprobe_ok(exit(1), down).expect_err("down");
        assert!(err.to_string().contains("connect_refused"), "{err}");
        assert!(mcprobe_ok(exit(2), up).is_err(), "up but non-zero exit");
        assert!(mcprobe_ok(exit(0), b"error: bad url").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn inspector_must_exit_0_and_list_tools() {
        let listed = br#"{"tools":[{"name":"echo"},{"name":"add"}]}"#;
        assert_eq!(inspector_ok(exit(0), listed).expect("ok"), 2);
        assert!(inspector_ok(exit(4), listed).is_err());
        assert!(inspector_ok(exit(0), br#"{"tools":[]}"#).is_err());
        assert!(inspector_ok(exit(0), b"{\"error\":{}}").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_timed_run_keeps_exit_code_and_output() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let r = timed_run(&mut cmd).expect("runs");
        assert_eq!(r.status.code(), Some(3));
        assert_eq!(r.stdout, b"out\n");
        assert_eq!(r.stderr, b"err\n");
        assert!(r.elapsed < RUN_LIMIT);
        let missing = timed_run(&mut Command::new("/nonexistent/mcprobe-bench"));
        assert!(missing.is_err());
    }

    fn walls(mcprobe_ms: f64, inspector_ms: f64) -> Walls {
        let wall = |median_ms| Wall {
            runs: 15,
            median_ms,
            p95_ms: median_ms * 1.5,
            tools_seen: 13,
        };
        Walls {
            url: "http://127.0.0.1:4000/mcp".into(),
            mcprobe: wall(mcprobe_ms),
            inspector: wall(inspector_ms),
        }
    }

    #[test]
    fn the_report_says_what_each_client_does_and_whether_the_target_is_met() {
        let native = parse_hot_path(HOT_PATH_OUT).expect("parses");
        let report = render_report(
            "header",
            &native,
            &Err("cargo build failed\n  caused by: x".into()),
            &walls(20.0, 350.0),
            &scan_figures(1.6, Some(31.5)),
        );
        assert!(report.starts_with("header\nmeasurement"), "{report}");
        assert!(report.contains(MCPROBE_DOES), "{report}");
        assert!(report.contains(INSPECTOR_DOES), "{report}");
        assert!(report.contains("mcprobe is 17.5x faster"), "{report}");
        assert!(report.contains(">= 10x: met"), "{report}");
        assert!(
            report.contains("wasm: not measured (cargo build failed caused by: x)"),
            "{report}"
        );
        let slow = render_report(
            "h",
            &native,
            &Ok(native.clone()),
            &walls(50.0, 350.0),
            &scan_figures(1.6, Some(31.5)),
        );
        assert!(slow.contains(">= 10x: MISSED"), "{slow}");
        assert!(slow.contains("hot path wasm32/node, 100 tools"), "{slow}");
        assert!(!slow.contains("not measured"), "{slow}");
        assert!(!slow.contains("tools seen differ"), "{slow}");
        let mut differ = walls(20.0, 350.0);
        differ.inspector.tools_seen = 14;
        let noted = render_report(
            "h",
            &native,
            &Ok(native.clone()),
            &differ,
            &scan_figures(1.6, Some(31.5)),
        );
        assert!(noted.contains("tools seen differ"), "{noted}");
        assert!(noted.contains("saw 14 tools"), "{noted}");
    }

    fn scan_figures(median_s: f64, peak_rss_mb: Option<f64>) -> ScanBench {
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

    #[test]
    fn table_columns_line_up() {
        let native = parse_hot_path(HOT_PATH_OUT).expect("parses");
        let report = render_report(
            "h",
            &native,
            &Ok(native.clone()),
            &walls(20.0, 350.0),
            &scan_figures(1.6, Some(31.5)),
        );
        // Every row's median ends in the same column: right-aligned numbers.
        let ends: Vec<usize> = report
            .lines()
            .filter(|l| {
                l.starts_with("hot path ")
                    || l.starts_with("mcprobe check")
                    || l.starts_with("inspector --cli")
            })
            .map(|l| {
                let unit = l.find(" µs").or_else(|| l.find(" ms")).expect("unit");
                l[..unit].chars().count()
            })
            .collect();
        assert!(ends.len() >= 8, "{report}");
        assert!(ends.iter().all(|&e| e == ends[0]), "{ends:?}\n{report}");
    }
}
