//! Start here: `mcprobe check`: turns flags into a probe config, runs the
//! probe on the right host (HTTP or stdio), handles the baseline file, prints
//! the verdict and returns the exit code of failure-modes.md.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::safe_call::CallPlan;
use mcprobe_core::{Probe, ProbeConfig, Verdict};

use crate::host::{Clock, NetConfig};
use crate::tls::TlsSetup;
use crate::UsageError;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The MCP endpoint, e.g. https://example.com/mcp (or `-- CMD ARGS...` for stdio).
    pub url: Option<String>,
    /// Print the verdict as JSON (the shape of failure-modes.md).
    #[arg(long)]
    pub json: bool,
    /// The whole probe's deadline, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// An extra request header, e.g. 'Authorization: Bearer TOKEN' (repeatable; never printed).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Pin a host and port to an address, like curl: HOST:PORT:ADDR (repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Tool-list snapshot: written when missing, compared with when present.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: accept the current tool list as the new baseline.
    #[arg(long, requires = "baseline")]
    pub accept_drift: bool,
    /// The safe call to make instead of choosing one: 'TOOL {"arg": "value"}'.
    #[arg(long, value_name = "TOOL JSON-ARGS", conflicts_with = "no_call")]
    pub call: Option<String>,
    /// Make no call past tools/list.
    #[arg(long)]
    pub no_call: bool,
    /// A stdio server to start and probe: `mcprobe check -- CMD ARGS...`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Parses a `--header 'Name: value'`. The error never repeats the value.
pub fn parse_header(raw: &str) -> Result<(String, String), UsageError> {
    let Some((name, value)) = raw.split_once(':') else {
        // Never quote it: a header without ':' may be a bare secret.
        return Err(UsageError(format!(
            "--header must look like 'Name: value' (got {} characters without ':')",
            raw.chars().count()
        )));
    };
    let name = name.trim();
    let valid_name = mcprobe_core::http::is_header_name(name);
    if !valid_name {
        return Err(UsageError(format!(
            "--header name {name:?} is not a valid HTTP header name; use 'Name: value'"
        )));
    }
    let value = value.trim();
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(UsageError(format!(
            "--header {name}: the value holds a line break or NUL"
        )));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Parses `--resolve HOST:PORT:ADDR` (ADDR may be `[v6]`).
pub fn parse_resolve(raw: &str) -> Result<(String, u16, SocketAddr), UsageError> {
    let bad = || {
        UsageError(format!(
            "--resolve must be HOST:PORT:ADDR, e.g. example.com:443:127.0.0.1 (got {raw:?})"
        ))
    };
    let (host, rest) = raw.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let ip: std::net::IpAddr = addr.trim_matches(['[', ']']).parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_string(), port, SocketAddr::new(ip, port)))
}

/// Parses `--call 'TOOL {"a":1}'`.
pub fn parse_call(raw: &str) -> Result<CallPlan, UsageError> {
    let raw = raw.trim();
    let (name, args) = match raw.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (raw, "{}"),
    };
    if name.is_empty() {
        return Err(UsageError(
            "--call needs a tool name: --call 'TOOL {\"arg\": \"value\"}'".into(),
        ));
    }
    let arguments: serde_json::Value = serde_json::from_str(if args.is_empty() { "{}" } else { args })
        .map_err(|e| UsageError(format!("--call arguments are not JSON ({e}); quote them: --call '{name} {{\"arg\": \"value\"}}'")))?;
    if !arguments.is_object() {
        return Err(UsageError(
            "--call arguments must be a JSON object, e.g. {\"q\": \"x\"}".into(),
        ));
    }
    Ok(CallPlan::Tool {
        name: name.to_string(),
        arguments,
    })
}

/// The baseline file: `None` when missing (to be written), else its snapshot.
pub fn read_baseline(path: &std::path::Path) -> Result<Option<Snapshot>, UsageError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<Snapshot>(&bytes)
            .map(Some)
            .map_err(|e| {
                UsageError(format!(
                "the baseline {} is not an mcprobe snapshot ({e}); delete it to record a new one",
                path.display()
            ))
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(UsageError(format!(
            "cannot read the baseline {}: {e}",
            path.display()
        ))),
    }
}

fn write_baseline(path: &std::path::Path, snapshot: &Snapshot) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(snapshot)? + "\n";
    // Write beside, then rename: a crash never leaves half a baseline.
    let tmp = path.with_extension("tmp-mcprobe");
    std::fs::write(&tmp, text)
        .map_err(|e| anyhow::anyhow!("cannot write the baseline {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| anyhow::anyhow!("cannot write the baseline {}: {e}", path.display()))?;
    Ok(())
}

/// `--timeout SECS` as the probe's deadline in milliseconds (shared with `scan`).
pub fn timeout_ms(secs: f64) -> Result<u64, UsageError> {
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        return Err(UsageError(format!(
            "--timeout must be a number of seconds between 0 and 3600 (got {secs})"
        )));
    }
    Ok((secs * 1000.0).round().max(1.0) as u64)
}

/// The probe config of `mcprobe check` (and of each probe of `scan`) before
/// headers, the safe call and the baseline: the deadline, a connect preflight
/// for HTTP, and the wall-clock start time.
pub fn probe_config(url: String, timeout_ms: u64, stdio: bool) -> ProbeConfig {
    let mut cfg = ProbeConfig::new(url);
    cfg.timeout_ms = timeout_ms;
    cfg.preflight = !stdio;
    cfg.stdio = stdio;
    cfg.checked_at = crate::time::now_rfc3339();
    cfg
}

/// Runs `mcprobe check`; returns the process exit code.
pub fn run(args: CheckArgs) -> anyhow::Result<i32> {
    let stdio = !args.command.is_empty();
    let url = match (&args.url, stdio) {
        (Some(u), false) => u.clone(),
        (None, true) => format!("stdio: {}", args.command.join(" ")),
        (Some(_), true) => {
            return Err(UsageError("give either a URL or `-- CMD ARGS...`, not both".into()).into())
        }
        (None, false) => {
            return Err(UsageError(
                "give the MCP endpoint URL: mcprobe check https://example.com/mcp".into(),
            )
            .into())
        }
    };
    let timeout_ms = timeout_ms(args.timeout)?;
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let resolve = args
        .resolve
        .iter()
        .map(|r| parse_resolve(r))
        .collect::<Result<Vec<_>, _>>()?;
    let call = match (&args.call, args.no_call) {
        (Some(c), _) => parse_call(c)?,
        (None, true) => CallPlan::Skip,
        (None, false) => CallPlan::Auto,
    };
    let ca = match &args.cacert {
        Some(p) => Some(
            std::fs::read(p)
                .map_err(|e| UsageError(format!("cannot read --cacert {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let baseline = match &args.baseline {
        Some(p) => read_baseline(p)?,
        None => None,
    };
    let tls = TlsSetup::new(ca.as_deref()).map_err(|e| UsageError(format!("--cacert: {e}")))?;
    let mut cfg = probe_config(url, timeout_ms, stdio);
    cfg.headers = headers;
    cfg.call = call;
    cfg.baseline = if args.accept_drift {
        None
    } else {
        baseline.clone()
    };
    let clock = Clock::start();
    let probe = Probe::new(cfg, clock.now_ms()).map_err(|e| UsageError(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let net = NetConfig {
        tls,
        resolve,
        guard: None,
    };
    let (mut verdict, snapshot): (Verdict, Option<Snapshot>) = runtime.block_on(async {
        if stdio {
            crate::stdio::run_stdio(probe, &clock, &args.command).await
        } else {
            crate::host::run_http(probe, &clock, &net).await
        }
    })?;
    runtime.shutdown_background();

    let mut note = None;
    if let Some(path) = &args.baseline {
        if let Some(current) = snapshot {
            if baseline.is_none() || args.accept_drift {
                write_baseline(path, &current)?;
                note = Some(format!(
                    "baseline written to {} ({} tools)",
                    path.display(),
                    current.tools.len()
                ));
                if args.accept_drift {
                    verdict.drift = None;
                }
            }
        } else if baseline.is_none() {
            note = Some(format!(
                "no tool list to record: the baseline {} was not written",
                path.display()
            ));
        }
    }
    print_verdict(&verdict, args.json, note.as_deref())?;
    Ok(verdict.exit_code())
}

fn print_verdict(v: &Verdict, json: bool, note: Option<&str>) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let color =
        !json && stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = if json {
        crate::render::render_json(v)
    } else {
        crate::render::render_human(v, color)
    };
    let mut out = stdout.lock();
    let result = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    if let Err(e) = result {
        // A closed pipe (`| head`) is not an error worth a message.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e.into());
        }
    }
    if let Some(n) = note {
        eprintln!("{n}");
    }
    Ok(())
}
