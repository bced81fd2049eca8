//! mcprobe-edge-tests: the edge monitor tested as it runs, the built Worker
//! under `wrangler dev` (real workerd), probing the fault fleet on 127.0.0.1.
//!
//! Start here: `tests/check_api.rs`. This library lends the tests the
//! build-and-serve helpers of xtask's library (`xtask/src/edge.rs`,
//! `xtask/src/web.rs`), re-exported here as [`edge`] and [`web`].
//!
//! The tests need the tools `cargo xtask install` puts in `.tools/` (node 22,
//! wrangler, worker-build, wasm-bindgen). Without them they print why and pass,
//! unless `MCPROBE_REQUIRE_WORKER=1` (what `cargo xtask test` sets), which
//! turns a missing tool into a failure.

use std::path::{Path, PathBuf};

/// The Worker's build and `wrangler dev` (xtask's library).
pub use xtask::edge;
/// The web page's build and browser tools (xtask's library).
pub use xtask::web;

pub mod client;
pub mod harness;
pub mod receiver;

/// The repository root (this crate sits at `crates/edge-tests`).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .unwrap_or(manifest)
        .to_path_buf()
}

/// Whether a missing tool fails the tests instead of skipping them.
pub fn worker_required() -> bool {
    std::env::var("MCPROBE_REQUIRE_WORKER").is_ok_and(|v| v == "1")
}
