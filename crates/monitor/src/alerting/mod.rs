//! Start here: alerting, from a run of verdicts to the requests that page
//! someone. Pure: the hosts (the Worker's cron and outbox, `mcprobe watch`)
//! feed verdicts and time in and send what comes out.
//!
//! - [`policy`]: the alert state machine (confirmation, recovery, flapping,
//!   maintenance, quiet hours, escalation): verdicts in, [`policy::Event`]s out;
//! - [`config`]: a monitor's `alerts` object read once into an
//!   [`config::AlertConfig`] (routing keys, severities, quiet hours);
//! - [`delivery`]: an event and a config to one HTTP request per channel,
//!   and the retry rule;
//! - one file per channel, each with its config check, its payload builder
//!   and its tests: [`webhook`], [`slack`], [`discord`], [`pagerduty`],
//!   [`opsgenie`];
//! - shared by the channels: [`channel`] (the channel names, the context a
//!   builder is given), `facts` (what every payload says about an event,
//!   worked out once), `facts_json` (those facts as JSON members), `text`
//!   (escaping and cutting to [`limits`]), `check` (the config checks the
//!   channel checks are made of).
//!
//! [`alerts`] and [`notify`] keep the paths the hosts have always imported.

pub mod channel;
mod check;
pub mod config;
pub mod delivery;
pub mod discord;
mod facts;
mod facts_json;
pub mod limits;
pub mod opsgenie;
pub mod pagerduty;
pub mod policy;
pub mod slack;
mod text;
pub mod webhook;

/// A monitor's alert config and its deliveries (`mcprobe_monitor::alerts`).
pub mod alerts {
    pub use super::check::Endpoint;
    pub use super::config::*;
    pub use super::delivery::*;
}

/// The payload builders, one a channel, and what they share
/// (`mcprobe_monitor::notify`).
pub mod notify {
    pub use super::channel::{Action, ApiCall, Channel, NotifyContext};
    pub use super::discord::{discord, discord_color};
    pub use super::facts::{default_runbook_url, incident_dedup_key};
    pub use super::limits;
    pub use super::opsgenie::{
        opsgenie, opsgenie_priority, OPSGENIE_API_BASE, OPSGENIE_EU_API_BASE,
    };
    pub use super::pagerduty::{
        pagerduty, pagerduty_severity, PAGERDUTY_ENQUEUE_PATH, PAGERDUTY_EVENTS_BASE,
    };
    pub use super::slack::slack;
    pub use super::text::human_duration;
    pub use super::webhook::{webhook, WEBHOOK_SCHEMA};
}
