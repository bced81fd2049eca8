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
//!    own, from GNU `/usr/bin/time -f %M` (left "not measured" without it). Targets: at
//!    least 1,000 probes/s and under 100 MB on 2 cores.
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
//! One file per family: `hot_path.rs` (parts 1, 2 and the wasm probe of 5),
//! `check_wall.rs` (3), `scan.rs` (4), `edge_load.rs` (5); `measure.rs` times a
//! process, `report.rs` and `table.rs` lay out the table, `util.rs` holds the rest.
//!
//! Numbers come from whatever machine runs this, builds and all: on the shared two-core
//! CI box they move by tens of percent between runs, so the header records the load.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

mod check_wall;
mod edge_load;
#[cfg(test)]
mod fixtures;
mod hot_path;
mod measure;
mod report;
mod scan;
mod table;
mod util;

use crate::tools::{Tools, INSPECTOR_VERSION, SERVER_EVERYTHING_VERSION};
use crate::{cargo, output_of, run_cmd};
use check_wall::{wall_times, TIMED_RUNS, WARMUPS};
use hot_path::{parse_hot_path, probe_rows, wasm_hot_path, wasm_probe};
use report::render_report;
use scan::{scan_bench, scan_endpoints, scan_note, scan_rows, SCAN_RUNS};
use table::{align, table_header};
use util::{load_average, shown, target_dir};

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
