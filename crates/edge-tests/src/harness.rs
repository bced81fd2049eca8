//! Start here: one `wrangler dev` of the built Worker for one test, the way
//! every edge test wants it: loopback allowed (the fleet is on 127.0.0.1), its
//! own local D1 under `target/edge-tests/{tag}-{pid}`, extra `--var`s, and
//! everything stopped and removed when it is dropped.
//!
//! Without the tools `cargo xtask install` puts in `.tools/`, [`start`]
//! answers `None` (the test prints why and passes), unless
//! `MCPROBE_REQUIRE_WORKER=1`, which makes that a failure.

use std::path::PathBuf;

use crate::edge::{self, DevOptions, EdgePaths, WranglerDev};
use crate::{repo_root, worker_required};

/// A running Worker for one test.
pub struct TestDev {
    pub dev: WranglerDev,
    pub state_dir: PathBuf,
}

impl TestDev {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.dev.url()
    }

    /// The end of wrangler's log, for assertion messages.
    pub fn log_tail(&self, lines: usize) -> String {
        self.dev.log_tail(lines)
    }
}

impl Drop for TestDev {
    fn drop(&mut self) {
        self.dev.shutdown();
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// Whether the Worker's tools are installed; `None` (after saying why) when
/// they are not and the tests may skip.
pub fn tools_or_skip() -> Option<EdgePaths> {
    let paths = EdgePaths::new(&repo_root());
    if let Some(missing) = paths.missing_tool() {
        let why = format!(
            "{} is not installed (run `cargo xtask install`)",
            missing.display()
        );
        assert!(!worker_required(), "MCPROBE_REQUIRE_WORKER=1 but {why}");
        eprintln!("edge tests skipped: {why}");
        return None;
    }
    Some(paths)
}

/// Builds the Worker and starts `wrangler dev` with loopback allowed, a
/// fresh D1 and `vars`.
pub fn start(tag: &str, vars: &[(&str, &str)]) -> Option<TestDev> {
    let paths = tools_or_skip()?;
    edge::build(&paths, false).expect("the Worker builds");
    let state_dir = repo_root()
        .join("target/edge-tests")
        .join(format!("{tag}-{}", std::process::id()));
    let port = edge::free_port().expect("a free port");
    let mut opts = DevOptions::new(port, state_dir.join("dev.log"));
    opts.inspector_port = Some(edge::free_port().expect("a free port"));
    opts.allow_loopback = true;
    opts.persist_to = Some(state_dir.join("state"));
    opts.vars = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let dev = edge::start_wrangler_dev(&paths, &opts)
        .unwrap_or_else(|e| panic!("wrangler dev starts: {e:#}"));
    Some(TestDev { dev, state_dir })
}
