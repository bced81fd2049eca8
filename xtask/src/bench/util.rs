//! Small helpers of the bench: where cargo writes, PATH, the load, text for
//! one table cell.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Where cargo puts its output: `CARGO_TARGET_DIR` when set, else `target/`.
pub(super) fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

pub(super) fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// PATH with `first` in front (node 22 before the machine's node 20).
pub(super) fn path_with(first: &Path) -> Result<std::ffi::OsString> {
    let mut dirs = vec![first.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).context("PATH holds a folder name with ':' in it")
}

/// The 1-minute load average, or `?` off Linux: how busy the box was.
pub(super) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The last `n` lines of `text`.
pub(super) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A multi-line reason squeezed into one table cell.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
