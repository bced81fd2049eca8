//! The probe's hot path, measured: validating a `tools/list` answer and
//! fingerprinting its tools, for lists of 10, 100 and 1,000 tools. Prints a
//! table (median and p95 of many timed batches); `cargo xtask bench` runs it.
//! Target: a 100-tool list validated + fingerprinted in < 100 µs.

use std::hint::black_box;
use std::time::Instant;

use mcprobe_core::fingerprint;
use mcprobe_core::revision::Revision;
use mcprobe_core::validate::{validate_response, Answer};
use serde_json::{json, Value};

/// A realistic tool: a description, three typed parameters, annotations.
fn tool(i: usize) -> Value {
    json!({
        "name": format!("tool_{i:04}"),
        "title": format!("Tool number {i}"),
        "description": "Looks something up in the catalogue and returns the matching entries with their metadata.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to look for"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                "include_archived": {"type": "boolean"}
            },
            "required": ["query"]
        },
        "annotations": {"readOnlyHint": true, "openWorldHint": false}
    })
}

fn answer(n: usize) -> Value {
    let tools: Vec<Value> = (0..n).map(tool).collect();
    json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": tools}})
}

#[derive(Clone, Copy)]
enum Part {
    Validate,
    Fingerprint,
    Both,
}

/// Median and p95 of per-iteration times (µs) over `runs` timed runs. Each
/// run times one validate / fingerprint of a tool list copied just before
/// (untimed): in the probe the tools were just parsed, so they are warm in
/// cache, and the snapshot takes them over without another copy.
fn measure(msg: &Value, part: Part, runs: usize) -> (f64, f64) {
    let id = json!(2);
    let tools = msg["result"]["tools"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let owned: Vec<Value> = tools.to_vec();
        let t = Instant::now();
        let violations = match part {
            Part::Validate | Part::Both => Some(validate_response(
                Revision::V2025_06_18,
                Answer::ToolsList,
                &id,
                black_box(msg),
            )),
            Part::Fingerprint => None,
        };
        let snapshot = match part {
            Part::Fingerprint | Part::Both => Some(fingerprint::snapshot_owned(black_box(owned))),
            Part::Validate => None,
        };
        samples.push(t.elapsed().as_secs_f64() * 1e6);
        // Freed after the clock stops: the probe keeps its snapshot.
        black_box((violations, snapshot));
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    (
        samples[samples.len() / 2],
        samples[samples.len() * 95 / 100],
    )
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    println!("validate + fingerprint of a tools/list answer (native, release)");
    println!(
        "{:>6} {:>12} {:>15} {:>11} {:>9} {:>16}",
        "tools", "validate µs", "fingerprint µs", "both µs", "both p95", "target"
    );
    for (n, runs) in [(10usize, 3_000usize), (100, 1_000), (1_000, 150)] {
        let msg = answer(n);
        // Warm up caches and the allocator.
        measure(&msg, Part::Both, runs / 10);
        let (validate, _) = measure(&msg, Part::Validate, runs);
        let (finger, _) = measure(&msg, Part::Fingerprint, runs);
        let (both, p95) = measure(&msg, Part::Both, runs);
        let target = match n {
            100 if both < 100.0 => "< 100 µs: met",
            100 => "< 100 µs: MISSED",
            _ => "",
        };
        println!("{n:>6} {validate:>12.1} {finger:>15.1} {both:>11.1} {p95:>9.1} {target:>16}");
    }
}
