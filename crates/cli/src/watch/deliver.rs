//! Start here: sending one outbox row. The request is rebuilt from the event
//! and the monitor's current alert config with the core's
//! [`alerts::deliveries`] (routing and payloads are the core's, never
//! re-implemented here); it is POSTed with a per-attempt deadline and retried
//! as [`alerts::retry_after`] says. Every attempt is reported to the caller,
//! which records it, so a daemon killed between retries resumes the count.

use std::time::Duration;

use mcprobe_monitor::alerts::{self, AlertConfig, Delivery};
use mcprobe_monitor::notify::NotifyContext;
use mcprobe_monitor::policy::Event;

use crate::tls::TlsSetup;

/// One attempt's deadline.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a delivery ended: the 2xx status, or the last status (if any) and
/// what went wrong.
pub type Outcome = Result<u16, (Option<u16>, String)>;

/// The HTTP client deliveries go through: the Mozilla roots, no redirects
/// (a webhook that redirects is misconfigured, and following it could send
/// a routing key somewhere else), the system proxy settings.
pub fn client() -> anyhow::Result<reqwest::Client> {
    let tls = TlsSetup::new(None)?;
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls((*tls.client_config()).clone())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ATTEMPT_TIMEOUT)
        .user_agent(concat!("mcprobe-watch/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// The request for `event` to the channel called `channel_name`, or why
/// there is none (the channel was removed from the config, or no longer
/// takes this severity).
pub fn rebuild(
    event: &Event,
    channel_name: &str,
    alerts_cfg: &AlertConfig,
    ctx: &NotifyContext,
) -> Result<Delivery, String> {
    alerts::deliveries(event, alerts_cfg, ctx)
        .into_iter()
        .find(|d| d.channel_name == channel_name)
        .ok_or_else(|| {
            format!("the channel {channel_name:?} is no longer configured for this event")
        })
}

/// Sends `d`, retrying; `prior` attempts were made before (by a previous
/// run). `on_attempt(attempts, status, error)` is told after each failed
/// attempt that will be retried. `time_scale` divides the backoff (tests).
pub async fn send_with_retries(
    client: &reqwest::Client,
    d: &Delivery,
    prior: u32,
    time_scale: u64,
    on_attempt: &mut (dyn FnMut(u32, Option<u16>, &str) + Send),
) -> (u32, Outcome) {
    let mut attempt = prior;
    loop {
        attempt = attempt.saturating_add(1);
        let (status, retry_after_ms, error) = match send_once(client, d).await {
            Ok((s, _)) if alerts::delivered(s) => return (attempt, Ok(s)),
            Ok((s, ra)) => (Some(s), ra, format!("the receiver answered HTTP {s}")),
            Err(e) => (None, None, e),
        };
        match alerts::retry_after(attempt, status, retry_after_ms) {
            Some(wait) => {
                on_attempt(attempt, status, &error);
                let wait = wait / time_scale.max(1);
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            None => return (attempt, Err((status, error))),
        }
    }
}

/// One POST; the status and a `Retry-After` (seconds) in ms.
async fn send_once(client: &reqwest::Client, d: &Delivery) -> Result<(u16, Option<u64>), String> {
    let mut rb = client
        .post(&d.url)
        .header("Content-Type", "application/json")
        .body(d.body.clone());
    for (k, v) in &d.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    match rb.send().await {
        Ok(resp) => {
            let retry_after = resp
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| s.saturating_mul(1000));
            Ok((resp.status().as_u16(), retry_after))
        }
        // Never the URL: for Slack and Discord it is the secret.
        Err(e) if e.is_timeout() => {
            Err(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()))
        }
        Err(e) if e.is_connect() => Err("could not connect to the receiver".to_string()),
        Err(e) => Err(format!("no answer: {}", e.without_url())),
    }
}
