//! Start here: the web page in real headless Chromium, against `wrangler dev`
//! serving the built page (static assets) and Worker, probing the fault
//! fleet on 127.0.0.1.
//!
//! One `#[test]`: it builds the Worker (xtask's `edge.rs`) and the page
//! (xtask's `web.rs`, lent by the library), starts the fleet and one
//! `wrangler dev` that may reach loopback, then runs the node script
//! `tests/browser/check_page.mjs` (playwright-core driving Debian's
//! Chromium) twice: phase "main" (six fleet verdicts with their ladders, a
//! shared `/?url=` link, a CORS-enabled server probed from the browser whose
//! tool description is HTML that must stay text, screenshots, first-render
//! time, a first check of `drift`), then, after the fleet's `drift` scenario
//! switched its tool list, phase "drift" (the second check shows the diff;
//! the status pages of two monitors registered and probed by cron ticks
//! before, `refused` and `drift`, show 90 bars, the incident and the drift
//! event).
//! The script's output is printed; its exit code is the verdict.
//!
//! Without the tools (Chromium, playwright-core, the Worker's tools) it says
//! why and passes, unless `MCPROBE_REQUIRE_WORKER=1` or
//! `MCPROBE_REQUIRE_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcprobe_edge_tests::edge::{self, DevOptions, EdgePaths, WranglerDev};
use mcprobe_edge_tests::web;
use mcprobe_edge_tests::{repo_root, worker_required};
use mcprobe_testkit::Fleet;
use serde_json::{json, Value};

/// The scenarios the page is tested against.
const SCENARIOS: &[&str] = &[
    "ok-modern",
    "ok-legacy-session-sse",
    "refused",
    "asleep-vercel",
    "malformed-schema-string",
    "half-auth-401",
    "drift",
];

fn browser_required() -> bool {
    worker_required() || std::env::var("MCPROBE_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// The first missing tool, if any.
fn missing(root: &Path) -> Option<PathBuf> {
    let webp = web::WebPaths::new(root);
    EdgePaths::new(root)
        .missing_tool()
        .or_else(|| webp.missing_tool())
        .or_else(|| {
            let chromium = PathBuf::from(web::CHROMIUM);
            (!chromium.exists()).then_some(chromium)
        })
        .or_else(|| match webp.playwright_modules() {
            Some(_) => None,
            None => Some(webp.browser_dir().join("node_modules/playwright-core")),
        })
}

struct Run {
    fleet: Fleet,
    dev: WranglerDev,
    state_dir: PathBuf,
}

impl Drop for Run {
    fn drop(&mut self) {
        self.dev.shutdown();
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// A request to the dev server: status and body (0 and the error when it fails).
fn call(base: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        let mut req = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(edge::DEV_ADMIN_TOKEN);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        match req.send().await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    })
}

/// Fires one cron tick for the minute of `time_ms` (miniflare's trigger
/// route takes the tick's time, so the test need not wait for the clock).
fn tick(base: &str, time_ms: u64) {
    let path = format!("/cdn-cgi/local/scheduled?cron=*+*+*+*+*&time={time_ms}");
    let (status, body) = call(base, reqwest::Method::GET, &path, None);
    assert_eq!(status, 200, "cron tick: {body}");
}

/// Registers public monitors for these scenarios: name -> monitor id.
fn register(base: &str, fleet: &Fleet, names: &[&str]) -> serde_json::Map<String, Value> {
    names
        .iter()
        .map(|name| {
            let body =
                json!({"url": fleet.url(name), "name": format!("fleet {name}"), "public": true});
            let (status, text) = call(base, reqwest::Method::POST, "/api/monitors", Some(body));
            assert_eq!(status, 201, "registering {name}: {text}");
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let id = v["id"].as_str().unwrap_or_default().to_string();
            assert!(!id.is_empty(), "{text}");
            (name.to_string(), Value::from(id))
        })
        .collect()
}

/// Runs the node script for one phase: exit success and its output.
fn phase(
    root: &Path,
    run: &Run,
    name: &str,
    profile: &Path,
    monitors: &serde_json::Map<String, Value>,
) -> (bool, String) {
    let webp = web::WebPaths::new(root);
    let fleet: serde_json::Map<String, Value> = SCENARIOS
        .iter()
        .map(|s| (s.to_string(), Value::from(run.fleet.url(s))))
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/check_page.mjs");
    let out = Command::new(webp.node_bin_dir().join("node"))
        .arg(&script)
        .current_dir(root)
        .env("MCPROBE_BASE", run.dev.url())
        .env(
            "MCPROBE_FLEET",
            serde_json::Value::Object(fleet).to_string(),
        )
        .env(
            "MCPROBE_PLAYWRIGHT",
            webp.playwright_modules().unwrap_or_default(),
        )
        .env("MCPROBE_CHROMIUM", web::CHROMIUM)
        .env("MCPROBE_PROFILE", profile)
        .env("MCPROBE_SHOTS", root.join("target/browser"))
        .env("MCPROBE_PHASE", name)
        .env(
            "MCPROBE_MONITORS",
            Value::Object(monitors.clone()).to_string(),
        )
        .output();
    match out {
        Ok(o) => (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (false, format!("could not run node: {e}")),
    }
}

#[test]
fn check_page_in_chromium() {
    let root = repo_root();
    if let Some(tool) = missing(&root) {
        let why = format!(
            "{} is not installed (run `cargo xtask install`)",
            tool.display()
        );
        assert!(!browser_required(), "browser tests required but {why}");
        eprintln!("browser tests skipped: {why}");
        return;
    }
    let paths = EdgePaths::new(&root);
    let built = edge::build(&paths, false).expect("the Worker builds");
    eprintln!("measure: worker-build {:.1}s", built.took.as_secs_f64());
    let page = web::build(&web::WebPaths::new(&root), false).expect("the page builds");
    eprintln!("measure: {}", page.line());

    let fleet = Fleet::start_only(SCENARIOS).expect("the fault fleet starts");
    let state_dir = root
        .join("target/browser-tests")
        .join(format!("run-{}", std::process::id()));
    let port = edge::free_port().expect("a free port");
    let mut opts = DevOptions::new(port, state_dir.join("wrangler.log"));
    opts.inspector_port = Some(edge::free_port().expect("a free port"));
    opts.allow_loopback = true;
    opts.persist_to = Some(state_dir.join("state"));
    let dev = edge::start_wrangler_dev(&paths, &opts).expect("wrangler dev starts");
    let run = Run {
        fleet,
        dev,
        state_dir: state_dir.clone(),
    };

    // The page itself is served, and an unknown path falls back to it.
    for path in ["/", "/status/some-monitor"] {
        let (status, body) = edge::http_get(port, path).unwrap_or((0, String::new()));
        assert_eq!(status, 200, "GET {path}: HTTP {status}");
        assert!(body.contains("/pkg/mcprobe_web.js"), "GET {path}: {body}");
    }
    let (status, body) = edge::http_get(port, "/api/health").unwrap_or((0, String::new()));
    assert!(
        status == 200 && body.contains("\"ok\":true"),
        "the API still reaches the Worker: {status} {body}"
    );

    // Seeded history for the status pages: two public monitors and one
    // tick (refused opens an incident; drift lists its first tools).
    let base = run.dev.url();
    let monitors = register(&base, &run.fleet, &["refused", "drift"]);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let minute = now_ms - now_ms % 60_000;
    tick(&base, minute);

    let profile = state_dir.join("chromium-profile");
    let t0 = Instant::now();
    let (ok, out) = phase(&root, &run, "main", &profile, &monitors);
    eprintln!(
        "---- check_page.mjs (main), {:.1}s ----\n{out}",
        t0.elapsed().as_secs_f64()
    );
    if !ok {
        eprintln!("wrangler log tail:\n{}", run.dev.log_tail(30));
    }
    assert!(ok, "the browser checks failed (see above)");

    // The `drift` scenario now serves its second tool list.
    run.fleet.set_variant("drift", 1);
    // The next minute's tick sees the new tool list: a drift event.
    tick(&base, minute + 60_000);
    let (ok, out) = phase(&root, &run, "drift", &profile, &monitors);
    eprintln!("---- check_page.mjs (drift) ----\n{out}");
    assert!(ok, "the drift check failed (see above)");
    eprintln!("screenshots: {}", root.join("target/browser").display());
}
