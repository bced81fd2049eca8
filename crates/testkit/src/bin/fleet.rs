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

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use mcprobe_testkit::Fleet;

const USAGE: &str = "usage: mcprobe-fleet [--only NAME[,NAME...]]\n\
    Prints {\"ca_pem\": ..., \"servers\": {name: url}} on one line, then serves\n\
    until stdin closes or SIGTERM/SIGINT.\n\
    \n\
    usage: mcprobe-fleet stdio KIND\n\
    Serves one MCP conversation on stdin/stdout and exits at stdin EOF. KIND:\n\
    modern, dual, legacy, legacy-silent, noisy, crash (exits 3 after the first\n\
    line), hang (never answers or exits; writes its PID to $MCPROBE_PID_FILE).\n\
    $MCPROBE_STDIO_LOG, when set, names a file every line received is appended to.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((first, rest)) if first == "stdio" => stdio(rest).map(ExitCode::from),
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
    let [kind] = args else {
        anyhow::bail!("stdio needs exactly one KIND\n{USAGE}");
    };
    if kind == "-h" || kind == "--help" {
        println!("{USAGE}");
        return Ok(0);
    }
    let kind = mcprobe_testkit::stdio::StdioKind::parse(kind)?;
    mcprobe_testkit::stdio::run(kind)
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

    // Signal handlers go in before the URLs are printed, so a parent that
    // reads the line and immediately sends SIGTERM still gets a clean stop
    // (temp CA directory removed).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the signal runtime")?;
    let signals = {
        let _guard = rt.enter();
        Signals::register()?
    };

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
    drop(fleet);
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
