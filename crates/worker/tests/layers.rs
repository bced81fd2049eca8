//! Start here: the Worker's file layering, checked on its sources. Every
//! file of `src/` is in one layer; a file names (`crate::x`) only files of
//! the layers below its own, handlers never name each other, and no files
//! form an import circle. A new file must be given its layer here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Files no handler and no background work: any file may import them.
const FLOORS: &[&str] = &[
    "admin",
    "clock",
    "error",
    "probe_host",
    "request",
    "routes",
    "rows",
    "state",
    "store",
    "target",
];
/// The cron's work and the read models the handlers share.
const BACKGROUND: &[&str] = &[
    "alerting",
    "crawl",
    "cron",
    "figures",
    "housekeeping",
    "outbox",
    "public_views",
    "registry_report",
    "writer",
];
/// One resource each; only the router names them.
const HANDLERS: &[&str] = &[
    "alerts",
    "badges",
    "check",
    "debug",
    "history",
    "monitors",
    "registry_api",
    "status",
];
/// The route table and the runtime's entry points.
const TOP: &[&str] = &["router", "lib"];

/// Each file of `src/` and the files it names, comments left out.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("src/ reads") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().expect("a name").to_string_lossy();
            let text = std::fs::read_to_string(&path).expect("a source reads");
            sources.insert(name.into_owned(), text);
        }
    }
    let names: BTreeSet<String> = sources.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (name, text) in &sources {
        let mut uses = BTreeSet::new();
        let code: Vec<&str> = text
            .lines()
            .map(|line| line.split("//").next().unwrap_or(""))
            .collect();
        let code = code.join("\n");
        // `crate::x` and the names of `crate::{x, y::z}` (over lines too).
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let parts: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for part in parts {
                let word: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if names.contains(&word) && word != *name {
                    uses.insert(word);
                }
            }
        }
        graph.insert(name.clone(), uses);
    }
    graph
}

fn layer(name: &str) -> usize {
    [FLOORS, BACKGROUND, HANDLERS, TOP]
        .iter()
        .position(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("src/{name}.rs has no layer: add it to tests/layers.rs"))
}

#[test]
fn every_file_imports_only_the_layers_below_and_handlers_not_each_other() {
    let graph = imports();
    assert!(graph.len() >= 20, "read {} files", graph.len());
    let mut wrong = Vec::new();
    for (from, uses) in &graph {
        for to in uses {
            let (a, b) = (layer(from), layer(to));
            // Floors and background files may use others of their layer
            // (no circle: checked below); a handler uses none of its own.
            let ok = b < a || (a == b && a < 2);
            if !ok {
                wrong.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:?}");
}

#[test]
fn no_files_form_an_import_circle() {
    let graph = imports();
    // Peel off files that import nothing left, or that nothing left
    // imports: what stays is in a circle.
    let mut left: BTreeMap<&str, BTreeSet<&str>> = graph
        .iter()
        .map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect()))
        .collect();
    loop {
        let used: BTreeSet<&str> = left.values().flatten().copied().collect();
        let done: Vec<&str> = left
            .iter()
            .filter(|(k, uses)| uses.iter().all(|u| !left.contains_key(u)) || !used.contains(*k))
            .map(|(k, _)| *k)
            .collect();
        if done.is_empty() {
            break;
        }
        for k in done {
            left.remove(k);
        }
    }
    let stuck: Vec<&str> = left.keys().copied().collect();
    assert!(stuck.is_empty(), "files in import circles: {stuck:?}");
}
