//! `mcprobe-fleet`: runs the fault fleet for tests in other languages (the
//! Worker's, the browser's).
//!
//! Start here: it starts the fleet (`--only a,b` for a subset), prints ONE line
//! of JSON `{"ca_pem": path, "servers": {name: url, ...}}` to stdout, then
//! serves until stdin reaches EOF (the parent went away or closed the pipe) or
//! SIGTERM / SIGINT arrives, and shuts every server down.
//!
//! `mcprobe-fleet stdio <kind>` instead serves ONE MCP conversation over its
//! own stdin/stdout and exits at stdin EOF (see `mcprobe_testkit::stdio`), for
//! `mcprobe check -- mcprobe-fleet stdio <kind>`.
//!
//! `mcprobe-fleet registry [--fleets F] [--copies N]` instead starts F fleets
//! of fast scenarios only ([`REGISTRY_SCENARIOS`]) and a fake MCP Registry
//! (`mcprobe_testkit::registry`) listing each of their endpoints N times
//! (`Listing::copies`), prints ONE line `{"registry": url, "endpoints": n, ...}`
//! and serves the same way: the scan benchmark of `cargo xtask bench`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use mcprobe_testkit::registry::{FakeRegistry, Listing};
use mcprobe_testkit::Fleet;

/// What `registry` mode lists: scenarios whose verdict comes back in
/// milliseconds. Timeout-shaped ones (never-answers, drip, endless-sse, ...)
/// would cost their whole deadline, two at a time per host, and turn a
/// throughput benchmark into a measure of `--timeout`.
const REGISTRY_SCENARIOS: &[&str] = &[
    "ok-modern",
    "ok-legacy-json",
    "ok-dual-era",
    "ok-http-sse",
    "refused",
    "asleep-render",
    "asleep-heroku",
    "asleep-vercel",
    "moved-to-mcp",
    "moved-to-v1",
    "http-503",
    "http-500-html",
    "auth-oauth",
    "handshake-html",
    "tools-list-error",
    "half-auth-401",
    "call-error",
    "malformed-no-jsonrpc",
    "malformed-wrong-id",
    "malformed-schema-string",
];
/// Entries a registry page in `registry` mode (the official API's maximum).
const REGISTRY_PAGE_SIZE: usize = 100;
/// Upper bounds for `registry` mode, so a typo cannot eat the machine.
const MAX_FLEETS: usize = 64;
const MAX_COPIES: usize = 10_000;

const USAGE: &str = "usage: mcprobe-fleet [--only NAME[,NAME...]]\n\
    Prints {\"ca_pem\": ..., \"servers\": {name: url}} on one line, then serves\n\
    until stdin closes or SIGTERM/SIGINT.\n\
    \n\
    usage: mcprobe-fleet stdio KIND [--start-delay MS]\n\
    Serves one MCP conversation on stdin/stdout and exits at stdin EOF. KIND:\n\
    modern, dual, legacy, legacy-silent, noisy, crash (exits 3 after the first\n\
    line), hang (never answers or exits; writes its PID to $MCPROBE_PID_FILE),\n\
    deaf (a huge tools/list cursor, then stops reading stdin and never exits).\n\
    --start-delay sleeps MS milliseconds before reading anything (a slow start).\n\
    $MCPROBE_STDIO_LOG, when set, names a file every line received is appended to.\n\
    \n\
    usage: mcprobe-fleet registry [--fleets F] [--copies N]\n\
    Starts F fleets (default 4) of fast scenarios and a fake MCP Registry listing\n\
    each endpoint N times (default 25); prints {\"registry\": url, \"endpoints\": n,\n\
    \"fleets\": F, \"copies\": N} on one line, then serves like the fleet.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((first, rest)) if first == "stdio" => stdio(rest).map(ExitCode::from),
        Some((first, rest)) if first == "registry" => registry(rest).map(|()| ExitCode::SUCCESS),
        _ => run().map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mcprobe-fleet: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `mcprobe-fleet stdio KIND`: one conversation on stdin/stdout; returns the
/// exit status (`crash` exits 3).
fn stdio(args: &[String]) -> anyhow::Result<u8> {
    let (kind, delay_ms) = match args {
        [kind] => (kind, "0"),
        [kind, flag, ms] if flag == "--start-delay" => (kind, ms.as_str()),
        _ => anyhow::bail!("stdio needs exactly one KIND\n{USAGE}"),
    };
    if kind == "-h" || kind == "--help" {
        println!("{USAGE}");
        return Ok(0);
    }
    let delay_ms: u64 = delay_ms
        .parse()
        .map_err(|_| anyhow::anyhow!("--start-delay takes milliseconds, got {delay_ms:?}"))?;
    let kind = mcprobe_testkit::stdio::StdioKind::parse(kind)?;
    mcprobe_testkit::stdio::run(kind, std::time::Duration::from_millis(delay_ms))
}

fn run() -> anyhow::Result<()> {
    let mut only: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--only" => {
                let list = args.next().context("--only needs a comma-separated list")?;
                only.extend(
                    list.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unexpected argument {other:?}\n{USAGE}"),
        }
    }
    let only_refs: Vec<&str> = only.iter().map(String::as_str).collect();
    let fleet = Fleet::start_only(&only_refs)?;

    let servers: serde_json::Map<String, serde_json::Value> = fleet
        .names()
        .into_iter()
        .map(|n| {
            let url = fleet.url(&n);
            (n, serde_json::Value::String(url))
        })
        .collect();
    let line = serde_json::json!({
        "ca_pem": fleet.ca_pem_path().display().to_string(),
        "servers": servers,
    });
    announce_and_serve(&line)?;
    drop(fleet);
    Ok(())
}

/// `mcprobe-fleet registry [--fleets F] [--copies N]`.
fn registry(args: &[String]) -> anyhow::Result<()> {
    let (mut fleets, mut copies) = (4usize, 25usize);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |what: &str, max: usize| -> anyhow::Result<usize> {
            let raw = it
                .next()
                .with_context(|| format!("{what} needs a number"))?;
            match raw.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => anyhow::bail!("{what} must be a number from 1 to {max} (got {raw:?})"),
            }
        };
        match arg.as_str() {
            "--fleets" => fleets = number("--fleets", MAX_FLEETS)?,
            "--copies" => copies = number("--copies", MAX_COPIES)?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unexpected argument {other:?}\n{USAGE}"),
        }
    }
    // Several fleets rather than more copies: every scenario gets a port per
    // fleet, and the scanner's per-host limit (2 in flight per host:port)
    // makes the number of ports, not of URLs, the ceiling on parallelism.
    let started: Vec<Fleet> = (0..fleets)
        .map(|_| Fleet::start_only(REGISTRY_SCENARIOS))
        .collect::<anyhow::Result<_>>()?;
    let mut listing = Listing::new();
    for (f, fleet) in started.iter().enumerate() {
        for name in REGISTRY_SCENARIOS {
            listing = listing.remote(&format!("io.github.mcprobe/f{f}-{name}"), &fleet.url(name));
        }
    }
    let listing = listing.copies(copies);
    let endpoints = listing.len();
    let reg = FakeRegistry::start_with_page_size(vec![("bench", listing)], REGISTRY_PAGE_SIZE)?;
    let line = serde_json::json!({
        "registry": reg.url("bench"),
        "endpoints": endpoints,
        "fleets": fleets,
        "copies": copies,
        "scenarios": REGISTRY_SCENARIOS,
    });
    announce_and_serve(&line)?;
    drop(reg);
    drop(started);
    Ok(())
}

/// Prints `line` (one line of JSON) and serves until stdin reaches EOF or
/// SIGTERM / SIGINT arrives.
fn announce_and_serve(line: &serde_json::Value) -> anyhow::Result<()> {
    // Signal handlers go in before the line is printed, so a parent that
    // reads it and immediately sends SIGTERM still gets a clean stop
    // (temp CA directory removed).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the signal runtime")?;
    let signals = {
        let _guard = rt.enter();
        Signals::register()?
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").context("writing to stdout")?;
    out.flush().context("flushing stdout")?;
    drop(out);

    let stdin_eof = watch_stdin()?;
    rt.block_on(async {
        tokio::select! {
            _ = stdin_eof => {}
            _ = signals.any() => {}
        }
    });
    Ok(())
}

/// Resolves when stdin reaches EOF. std's blocking stdin on a thread of its
/// own: tokio's needs a feature the workspace does not enable, and this thread
/// may simply be left blocked when the process exits.
fn watch_stdin() -> anyhow::Result<tokio::sync::oneshot::Receiver<()>> {
    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(move || {
            use std::io::Read;
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 1024];
            // Anything written is ignored; only EOF (or an error, which
            // means the same here) matters.
            while let Ok(n) = stdin.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            let _ = eof_tx.send(());
        })
        .context("spawning the stdin watcher")?;
    Ok(eof_rx)
}

#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn register() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
        })
    }

    async fn any(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn register() -> anyhow::Result<Signals> {
        Ok(Signals)
    }

    async fn any(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
