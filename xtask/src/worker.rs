//! Start here: the edge monitor's tools, build and local server, for
//! `cargo xtask install|test|dev` (the Worker is `crates/worker`, its
//! deployment `wrangler.toml`).
//!
//! - [`install`]: idempotent installs, each with a stamp like `tools.rs`:
//!   wasm-bindgen-cli and worker-build with `cargo install --root .tools/cargo`,
//!   wrangler + binaryen (`wasm-opt`) + esbuild from npm into `.tools/wrangler`
//!   (run with the node 22 `tools.rs` installs), and the wasm32 target.
//! - [`build`]: `worker-build` into `build/` (no GitHub downloads: see [`edge`]).
//! - [`start_wrangler_dev`]: migrations applied, `wrangler dev --local` on
//!   127.0.0.1, healthy, killed on drop.
//!
//! The build and the server live in [`edge`], in xtask's library, which the
//! edge integration tests (`crates/edge-tests`) use too. Pins and the reasons
//! for each install flag: `docs/toolchain.md`.

pub use xtask::edge;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

pub use edge::{BuildReport, DevOptions, EdgePaths, WranglerDev};

use crate::tools::Tools;
use crate::{cargo, fmt_duration, output_of, run_cmd};

// ---- Pins: exact versions, changed on purpose only. ----

/// Must equal the `wasm-bindgen` crate pinned in the root Cargo.toml.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// Must match the `worker` crate's minor version (0.8.x).
pub const WORKER_BUILD_VERSION: &str = "0.8.7";
/// Ships workerd 1.20261117 and miniflare; needs node >= 22.12.
pub const WRANGLER_VERSION: &str = "4.164.0";
/// Its `node_modules/.bin/wasm-opt` is what worker-build's own download would be.
pub const BINARYEN_VERSION: &str = "132.0.0";
/// The version worker-build 0.8.7 expects (and wrangler depends on).
pub const ESBUILD_VERSION: &str = "0.28.2";

const STAMP: &str = ".xtask-stamp";

/// One idempotent install, as in `tools.rs`: done when its stamp says `stamp`
/// and its outputs exist.
struct Step {
    label: String,
    stamp_file: PathBuf,
    stamp: String,
    outputs: Vec<PathBuf>,
    install: fn(&Path) -> Result<()>,
}

impl Step {
    fn is_done(&self) -> bool {
        std::fs::read_to_string(&self.stamp_file).is_ok_and(|s| s == self.stamp)
            && self.outputs.iter().all(|p| p.exists())
    }
}

fn steps(root: &Path) -> Vec<Step> {
    let paths = EdgePaths::new(root);
    let cargo_dir = paths.cargo_tools_dir();
    vec![
        Step {
            label: format!("wasm-bindgen-cli {WASM_BINDGEN_VERSION}"),
            // Two tools share one `--root`: one stamp file each.
            stamp_file: cargo_dir.join(format!("{STAMP}-wasm-bindgen")),
            stamp: format!("wasm-bindgen-cli@{WASM_BINDGEN_VERSION}"),
            outputs: vec![paths.wasm_bindgen()],
            install: install_wasm_bindgen,
        },
        Step {
            label: format!("worker-build {WORKER_BUILD_VERSION}"),
            stamp_file: cargo_dir.join(format!("{STAMP}-worker-build")),
            stamp: format!("worker-build@{WORKER_BUILD_VERSION}"),
            outputs: vec![paths.worker_build()],
            install: install_worker_build,
        },
        Step {
            label: format!(
                "npm wrangler {WRANGLER_VERSION}, binaryen {BINARYEN_VERSION}, esbuild {ESBUILD_VERSION}"
            ),
            stamp_file: paths.npm_dir().join(STAMP),
            stamp: npm_package_json(),
            outputs: vec![paths.wrangler(), paths.wasm_opt(), paths.esbuild()],
            install: install_npm,
        },
    ]
}

/// The cargo-installed tools (wasm-bindgen-cli, worker-build) take ~11
/// minutes to build on 2 cores. `.tools/cargo` is made a link to a per-user
/// cache (`~/.cache/mcprobe/cargo-tools`), so a fresh clone on the same
/// machine (what CI runs) reuses them; a new machine still builds them once.
/// The stamps live beside the binaries, so versions are still checked.
fn share_cargo_tools(root: &Path) -> Result<()> {
    let local = root.join(".tools").join("cargo");
    let Some(home) = std::env::var_os("HOME") else {
        return Ok(());
    };
    if local.exists() || local.is_symlink() {
        return Ok(());
    }
    let shared = Path::new(&home)
        .join(".cache")
        .join("mcprobe")
        .join("cargo-tools");
    std::fs::create_dir_all(&shared).with_context(|| format!("creating {}", shared.display()))?;
    std::fs::create_dir_all(root.join(".tools"))?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&shared, &local)
        .with_context(|| format!("linking {} to {}", local.display(), shared.display()))?;
    println!(
        "tools: .tools/cargo -> {} (shared between clones)",
        shared.display()
    );
    Ok(())
}

/// Installs whatever the Worker needs and is missing (after `tools.rs`'s
/// node 22 and wasm target, which it needs first); one line per step.
pub fn install(root: &Path) -> Result<()> {
    Tools::new(root).install_all()?;
    share_cargo_tools(root)?;
    for step in steps(root) {
        if step.is_done() {
            println!("tools: {} already installed", step.label);
            continue;
        }
        println!("tools: installing {}", step.label);
        let started = Instant::now();
        if let Some(dir) = step.stamp_file.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        (step.install)(root).with_context(|| format!("installing {}", step.label))?;
        if let Some(missing) = step.outputs.iter().find(|p| !p.exists()) {
            bail!(
                "installing {}: finished but {} is missing",
                step.label,
                missing.display()
            );
        }
        std::fs::write(&step.stamp_file, &step.stamp)
            .with_context(|| format!("writing {}", step.stamp_file.display()))?;
        println!(
            "tools: {} installed in {}",
            step.label,
            fmt_duration(started.elapsed())
        );
    }
    Ok(())
}

fn install_wasm_bindgen(root: &Path) -> Result<()> {
    let paths = EdgePaths::new(root);
    // No --locked: its lockfile names a crate version this index lacks.
    let mut cmd = cargo();
    cmd.args(["install", "--root"])
        .arg(paths.cargo_tools_dir())
        .args(["wasm-bindgen-cli", "--version", WASM_BINDGEN_VERSION]);
    run_cmd(&mut cmd)?;
    let version = output_of(Command::new(paths.wasm_bindgen()).arg("--version"))?;
    if !version.contains(WASM_BINDGEN_VERSION) {
        bail!(
            "{} says {} (wanted {WASM_BINDGEN_VERSION})",
            paths.wasm_bindgen().display(),
            version.trim()
        );
    }
    Ok(())
}

fn install_worker_build(root: &Path) -> Result<()> {
    let paths = EdgePaths::new(root);
    let mut cmd = cargo();
    cmd.args(["install", "--root"])
        .arg(paths.cargo_tools_dir())
        .args([
            "worker-build",
            "--version",
            WORKER_BUILD_VERSION,
            "--locked",
        ]);
    run_cmd(&mut cmd)
}

/// The package.json xtask owns in `.tools/wrangler` (also the step's stamp,
/// so changing a pin reinstalls).
fn npm_package_json() -> String {
    let manifest = serde_json::json!({
        "name": "mcprobe-worker-tools",
        "private": true,
        "description": "Written by `cargo xtask install`; edit the pins in xtask/src/worker.rs",
        "dependencies": {
            "wrangler": WRANGLER_VERSION,
            "binaryen": BINARYEN_VERSION,
            "esbuild": ESBUILD_VERSION,
        }
    });
    format!("{manifest:#}\n")
}

fn install_npm(root: &Path) -> Result<()> {
    let paths = EdgePaths::new(root);
    let dir = paths.npm_dir();
    std::fs::write(dir.join("package.json"), npm_package_json())
        .with_context(|| format!("writing {}/package.json", dir.display()))?;
    let node_bin = Tools::new(root).node_bin_dir();
    let mut dirs = vec![node_bin];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    // `npm install`, not `npm ci`: workerd's other-OS packages are missing
    // from this registry and `npm ci` then fails (toolchain.md).
    let mut cmd = Command::new("npm");
    cmd.current_dir(&dir)
        .env("NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt")
        .env("PATH", std::env::join_paths(dirs).context("PATH")?)
        .args(["--no-audit", "--no-fund", "--loglevel=error", "install"]);
    run_cmd(&mut cmd)
}

/// Builds the Worker (output shown), then prints what it took and the sizes.
pub fn build(root: &Path) -> Result<BuildReport> {
    let paths = EdgePaths::new(root);
    println!(
        "worker: building crates/worker with worker-build --profile {}",
        edge::WASM_PROFILE
    );
    let report = edge::build(&paths, true)?;
    println!(
        "worker: built in {}: {} ({} KiB)",
        fmt_duration(report.took),
        shown(root, &paths.wasm()),
        report.wasm_bytes / 1024
    );
    Ok(report)
}

/// `wrangler dev` for a person at a terminal: loopback allowed (the demo
/// fleet runs on 127.0.0.1), D1 state in `.wrangler/state`, the log in
/// `target/wrangler-dev.log`. Build first with [`build`].
/// Where `cargo xtask dev` keeps its local D1 between runs.
pub const DEV_STATE: &str = "target/dev-state";

pub fn start_wrangler_dev(root: &Path, port: u16) -> Result<WranglerDev> {
    let paths = EdgePaths::new(root);
    let mut opts = DevOptions::new(port, root.join("target/wrangler-dev.log"));
    opts.allow_loopback = true;
    opts.persist_to = Some(root.join(DEV_STATE));
    let server = edge::start_wrangler_dev(&paths, &opts)?;
    println!(
        "worker: wrangler dev ready at {} in {} (log: target/wrangler-dev.log)",
        server.url(),
        fmt_duration(server.startup)
    );
    Ok(server)
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_pins_are_exact() {
        let parsed: serde_json::Value =
            serde_json::from_str(&npm_package_json()).expect("valid JSON");
        let deps = parsed["dependencies"].as_object().expect("dependencies");
        assert_eq!(deps.len(), 3);
        for (name, version) in deps {
            let v = version.as_str().expect("string version");
            assert!(
                v.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{name} is not pinned exactly: {v}"
            );
        }
    }

    #[test]
    fn edge_paths_agree_with_tools() {
        // edge.rs (the library) cannot use tools.rs (the binary's): same layout.
        let root = Path::new("/repo");
        assert_eq!(
            EdgePaths::new(root).node_bin_dir(),
            Tools::new(root).node_bin_dir()
        );
    }

    #[test]
    fn wasm_bindgen_pin_matches_the_workspace() {
        // Pinned once, in the root manifest; the wasm crates inherit it.
        let root = include_str!("../../Cargo.toml");
        assert!(
            root.contains(&format!("\nwasm-bindgen = \"={WASM_BINDGEN_VERSION}\"")),
            "Cargo.toml must pin wasm-bindgen = \"={WASM_BINDGEN_VERSION}\""
        );
        for (name, manifest) in [
            (
                "crates/worker",
                include_str!("../../crates/worker/Cargo.toml"),
            ),
            ("crates/web", include_str!("../../crates/web/Cargo.toml")),
        ] {
            assert!(
                manifest.contains("\nwasm-bindgen.workspace = true"),
                "{name}/Cargo.toml must inherit wasm-bindgen from the workspace"
            );
        }
    }

    #[test]
    fn a_step_is_done_only_with_its_stamp_and_outputs() {
        let dir = std::env::temp_dir().join(format!("xtask-worker-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let output = dir.join("bin");
        let step = Step {
            label: "demo".into(),
            stamp_file: dir.join(format!("{STAMP}-demo")),
            stamp: "demo@1".into(),
            outputs: vec![output.clone()],
            install: |_| Ok(()),
        };
        assert!(!step.is_done());
        std::fs::write(&output, "").expect("output");
        std::fs::write(&step.stamp_file, "demo@0").expect("stamp");
        assert!(!step.is_done(), "stamp of another version");
        std::fs::write(&step.stamp_file, "demo@1").expect("stamp");
        assert!(step.is_done());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
