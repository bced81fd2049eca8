//! Start here: `mcprobe watch --config monitors.toml`, the Worker's alerting
//! on one machine, for teams without Cloudflare: run it as a
//! systemd service with `Restart=on-failure` (`deploy/mcprobe-watch.service`).
//! The alerting policy, the channel routing and the payloads are the core's
//! (`policy`, `alerts`, `notify`), exactly as the Worker runs them; state
//! lives in a local SQLite file, so a restart neither forgets an incident
//! nor pages twice.
//!
//! Submodules: [`config`] reads and checks the file, [`store`] is the SQLite
//! state and outbox, [`run`] the daemon, [`deliver`] the sending.
//!
//! # The config
//!
//! ```toml
//! [watch]                                  # optional
//! state = "/var/lib/mcprobe/watch.sqlite"  # default ./mcprobe-watch.sqlite, relative to this file
//! public_base = "https://status.example.com"  # runbook links: {public_base}/runbook/{mode}
//! cacert = "internal-ca.pem"               # extra CA certificates for probing
//!
//! [[monitor]]
//! name = "Docs server"                     # id: "docs-server" unless id = "..." is given
//! url = "https://example.com/mcp"
//! interval_s = 60                          # 30..3600, default 60
//! headers = { Authorization = "Bearer ${DOCS_TOKEN}" }  # ${NAME}: from the environment
//! runbook_url = "https://wiki.example.com/docs-mcp"
//! maintenance = [{ start = "2026-11-23T02:00:00Z", end = "2026-11-23T03:00:00Z" }]
//!
//! [monitor.alerts]                         # exactly the Worker's `alerts` object
//! webhook = { url = "https://hooks.example.com/mcp" }
//! slack = { url = "${SLACK_WEBHOOK_URL}", severity = "P2" }
//! pagerduty = { routing_key = "${PD_ROUTING_KEY}" }
//! opsgenie = { api_key = "${OPSGENIE_KEY}", region = "eu" }
//! quiet_hours = { start_hour = 22, end_hour = 7 }
//! ```
//!
//! Every `[[monitor]]` goes through the core's `monitor::validate_new` and
//! `alerts::AlertConfig::parse`, so errors read as the Worker's do; a bad
//! config exits 2 with the error and a hint before anything is probed.
//! `${NAME}` is expanded in `headers` and `alerts` values (tokens stay out of
//! the file); an unset variable is a config error.
//!
//! # Modes
//!
//! - `mcprobe watch --config F`: the daemon, until SIGINT / SIGTERM (state is
//!   committed after every probe, so stopping loses nothing).
//! - `--once`: probe every monitor once (following its fast re-probes, so an
//!   outage is confirmed in one run), tick, send what is owed, exit: 0, or 1
//!   when a delivery finally failed. For cron and tests.
//! - `--status`: print open incidents and failed / pending deliveries.
//! - `--ack INCIDENT_ID`: acknowledge an incident (a P2 will not escalate); a
//!   running daemon sees it at its next probe, as it reads state per probe.
//! - `--accept-drift MONITOR_ID`: forget the monitor's baseline tool list;
//!   the next probe records the current one.
//!
//! The last three send nothing, so they run without the service's secrets
//! (an unset `${NAME}` is not an error there).
//!
//! `--time-scale N` (hidden) divides every interval, policy duration and
//! delivery backoff by N. It exists for the integration tests, which cannot
//! wait minutes; the config rules (interval_s >= 30) are checked unscaled.

pub mod config;
pub mod deliver;
pub mod run;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::UsageError;

/// The example config `--help` prints (kept in step with the module note).
const CONFIG_HELP: &str = r#"The monitors file (TOML):

  [watch]                                   # optional
  state = "/var/lib/mcprobe/watch.sqlite"   # default ./mcprobe-watch.sqlite, beside the config
  public_base = "https://status.example.com"  # runbook links in alerts

  [[monitor]]
  name = "Docs server"                      # id "docs-server" unless id = "..." is given
  url = "https://example.com/mcp"
  interval_s = 60                           # 30..3600
  headers = { Authorization = "Bearer ${DOCS_TOKEN}" }   # ${NAME}: from the environment
  runbook_url = "https://wiki.example.com/docs-mcp"
  maintenance = [{ start = "2026-11-23T02:00:00Z", end = "2026-11-23T03:00:00Z" }]

  [monitor.alerts]                          # the edge monitor's `alerts` object
  webhook = { url = "https://hooks.example.com/mcp" }
  slack = { url = "${SLACK_WEBHOOK_URL}" }
  pagerduty = { routing_key = "${PD_ROUTING_KEY}" }
  opsgenie = { api_key = "${OPSGENIE_KEY}", region = "eu" }
  quiet_hours = { start_hour = 22, end_hour = 7 }

Exit codes: 2 for a bad config (before anything is probed); --once: 1 when a
delivery finally failed, else 0."#;

#[derive(Debug, Args)]
#[command(after_help = CONFIG_HELP)]
pub struct WatchArgs {
    /// The monitors file (TOML, shape below).
    #[arg(long, value_name = "FILE", default_value = "monitors.toml")]
    pub config: PathBuf,
    /// Probe every monitor once, deliver, and exit (for cron).
    #[arg(long, conflicts_with_all = ["status", "ack", "accept_drift"])]
    pub once: bool,
    /// Print open incidents and failed deliveries from the state file, and exit.
    #[arg(long, conflicts_with_all = ["ack", "accept_drift"])]
    pub status: bool,
    /// Acknowledge an open incident: it will not escalate.
    #[arg(long, value_name = "INCIDENT_ID", conflicts_with = "accept_drift")]
    pub ack: Option<String>,
    /// Forget a monitor's baseline tool list (the next probe records a new one).
    #[arg(long, value_name = "MONITOR_ID")]
    pub accept_drift: Option<String>,
    /// Tests only: divide every interval and policy duration by this.
    #[arg(long, hide = true, value_name = "N", default_value_t = 1)]
    pub time_scale: u64,
}

/// Runs `mcprobe watch`; returns the process exit code.
pub fn run(args: WatchArgs) -> anyhow::Result<i32> {
    if !(1..=10_000).contains(&args.time_scale) {
        return Err(UsageError("--time-scale must be 1..10000".into()).into());
    }
    // Reading the state (`--status`, `--ack`, `--accept-drift`) sends
    // nothing, so it must not need the service's secrets: an unset `${NAME}`
    // stands in as a placeholder URL (valid wherever a URL or key goes).
    let offline = args.status || args.ack.is_some() || args.accept_drift.is_some();
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| offline.then(|| "https://unset.invalid/".to_string()))
    };
    let cfg = config::load(&args.config, &env)
        .map_err(|e| UsageError(format!("{}: {e}", args.config.display())))?;
    if args.status {
        return status(&cfg);
    }
    let store = store::Store::open(&cfg.state_path).map_err(|e| {
        UsageError(format!(
            "cannot open the state file {}: {e}; check watch.state and that the folder is writable",
            cfg.state_path.display()
        ))
    })?;
    if let Some(monitor_id) = &args.accept_drift {
        if !cfg.monitors.iter().any(|m| &m.id == monitor_id) {
            return Err(UsageError(format!(
                "no monitor {monitor_id:?} in {}; ids: {}",
                args.config.display(),
                cfg.monitors
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into());
        }
        let had = store::forget_baseline(store.conn(), monitor_id)?;
        println!(
            "{}",
            if had {
                format!("baseline of {monitor_id} forgotten; the next probe records the current tool list")
            } else {
                format!("{monitor_id} had no baseline yet")
            }
        );
        return Ok(0);
    }
    let watch = Arc::new(run::Watch::new(cfg, store, args.time_scale)?);
    if let Some(id) = &args.ack {
        return if watch.ack(id, run::now_ms())? {
            println!("acknowledged {id}");
            Ok(0)
        } else {
            Err(UsageError(format!(
                "no open incident {id:?}; `mcprobe watch --status` lists them"
            ))
            .into())
        };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let code = if args.once {
        runtime.block_on(watch.once())
    } else {
        runtime.block_on(watch.run())?;
        0
    };
    runtime.shutdown_background();
    Ok(code)
}

/// `--status`: what the state file says, for people.
fn status(cfg: &config::WatchConfig) -> anyhow::Result<i32> {
    // Reasons quote servers and delivery errors quote webhook receivers:
    // printed through the renderer's cleaning, never raw.
    use crate::render::clean;
    use mcprobe_core::time::rfc3339;
    if !cfg.state_path.exists() {
        println!("no state yet at {}", cfg.state_path.display());
        return Ok(0);
    }
    let s = store::Store::open(&cfg.state_path)?;
    let c = s.conn();
    println!("state: {}", cfg.state_path.display());
    println!("monitors:");
    for m in &cfg.monitors {
        println!(
            "  {:<24} {} probe(s)  {}",
            m.id,
            store::probe_count(c, &m.id)?,
            clean(&m.spec.url)
        );
    }
    let open = store::incidents(c, true, 100)?;
    println!("open incidents: {}", open.len());
    for i in &open {
        println!(
            "  {}  {} {} since {}: {}",
            i.id,
            i.severity,
            i.mode,
            rfc3339(i.started_at_ms),
            clean(&i.reason)
        );
    }
    for (label, status) in [
        ("failed deliveries", store::FAILED),
        ("pending deliveries", store::PENDING),
    ] {
        let rows = store::deliveries(c, status, 50)?;
        println!("{label}: {}", rows.len());
        for d in &rows {
            println!(
                "  #{} {} {} -> {}: {} attempt(s){}{} at {}",
                d.key,
                d.monitor_id,
                d.event,
                d.channel_name,
                d.attempts,
                d.http_status
                    .map(|s| format!(", HTTP {s}"))
                    .unwrap_or_default(),
                d.error
                    .as_ref()
                    .map(|e| format!(", {}", clean(e)))
                    .unwrap_or_default(),
                rfc3339(d.at_ms)
            );
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_help_example_is_a_valid_config() {
        let toml: String = super::CONFIG_HELP
            .lines()
            .skip_while(|l| !l.starts_with("  [watch]"))
            .take_while(|l| !l.starts_with("Exit codes"))
            .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
            .collect();
        let env = |_: &str| Some("https://secret.example.com/x".to_string());
        let cfg = super::config::parse(&toml, std::path::Path::new("/etc/mcprobe"), &env)
            .expect("the --help example parses");
        assert_eq!(cfg.monitors.len(), 1);
        assert_eq!(cfg.monitors[0].id, "docs-server");
        assert_eq!(cfg.monitors[0].alerts.channels.len(), 4);
        assert_eq!(cfg.monitors[0].maintenance.len(), 1);
    }
}
