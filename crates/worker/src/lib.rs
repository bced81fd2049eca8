//! mcprobe-worker: the edge monitor, a Cloudflare Worker built with workers-rs.
//!
//! Start here: this file only wires the runtime's events to the modules. The
//! Worker is a host for the very same core probe as the CLI
//! (`mcprobe_core::Probe`): it brings the I/O (`worker::Fetch`, D1), the clock
//! and the HTTP API; the core brings the protocol, the judging, the verdict,
//! the monitor rules, the schedule, the roll-ups and the badges.
//!
//! Modules, in three layers; a file imports only from the layers below its
//! own, and no handler imports another, so no files form an import circle:
//!
//! Floors (no handler, no background work):
//! - [`error`] - the one `ApiError`, the JSON answer, the db error mapping
//! - [`clock`] - `now_ms`, `now_rfc3339`: the one place the clock is read
//! - [`admin`] - the admin token check and who may see a monitor
//! - [`rows`] - the monitor row model and its loaders
//! - [`state`] - the isolate's memory: accumulators, snapshots, policies
//! - [`request`] - capped body reads, query parameters
//! - [`routes`] - the typed route parser (pure, host-tested)
//! - [`store`] - D1 behind a small trait
//! - [`db`] - the one store's queries (mcprobe-store) run on D1
//! - [`target`] - which URLs may be probed (pure, host-tested)
//! - [`probe_host`] - the host loop driving the core probe through `Fetch`
//!
//! Background work and read models (floors only, never a handler):
//! - [`cron`] - the scheduled tick: claim, plan, Queue fan-out, consumer
//! - [`writer`] - probing a batch of jobs and the idempotent write path
//! - [`alerting`] - the alert policy's host: re-probes, deliveries, acks
//! - [`outbox`] - alert deliveries: written with the state, leased, swept
//! - [`housekeeping`] - daily roll-ups and pruning
//! - [`crawl`] - the hourly registry crawl: registry endpoints as public monitors
//! - [`public_views`] - `/metrics` and the registry summary, rendered by the cron
//! - [`registry_report`] - the audit of the registry monitors
//! - [`figures`] - a monitor's figures: uptime, latency, last verdict
//!
//! Handlers, one resource each ([`router`] is the one route table):
//! - [`check`] - `POST /api/check`, `GET /api/health`
//! - [`monitors`] - `/api/monitors...` (registry, maintenance, baseline)
//! - [`status`] - `/api/monitors/{id}/status` and `/metrics`
//! - [`history`] - `/api/monitors/{id}/history|incidents|drift`
//! - [`alerts`] - `POST /api/incidents/{id}/ack`
//! - [`badges`] - `/badge/{id}.svg|.json`
//! - [`registry_api`] - `GET /api/registry/summary`
//! - [`debug`] - `GET /api/debug/writes`
//!
//! Build with `worker-build` (see `xtask/src/worker.rs`), run under workerd
//! with `wrangler dev` (`wrangler.toml` at the repository root; the cron is
//! fired there by `GET /__scheduled?cron=*+*+*+*+*`).

pub mod admin;
pub mod alerting;
pub mod alerts;
pub mod badges;
pub mod check;
pub mod clock;
pub mod crawl;
pub mod cron;
pub mod db;
pub mod debug;
pub mod error;
pub mod figures;
pub mod history;
pub mod housekeeping;
pub mod monitors;
pub mod outbox;
pub mod probe_host;
pub mod public_views;
pub mod registry_api;
pub mod registry_report;
pub mod request;
pub mod router;
pub mod routes;
pub mod rows;
pub mod state;
pub mod status;
pub mod store;
pub mod target;
pub mod writer;

use worker::{
    console_log, event, Context, Env, MessageBatch, Request, Response, ScheduleContext,
    ScheduledEvent,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    router::route(req, env).await
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    // The trigger's time, not the clock: both runs of one tick agree on it.
    let at = event.schedule();
    let scheduled_ms = if at.is_finite() && at > 0.0 {
        at as u64
    } else {
        clock::now_ms()
    };
    match cron::run(&env, scheduled_ms).await {
        Ok(summary) => {
            console_log!("mcprobe cron: {summary}");
            // After the tick's own probes: the public routes read these
            // views instead of every monitor's rows. A tick another run
            // claimed is that run's to refresh.
            if summary.get("skipped").is_none() {
                let views = public_views::refresh(&env, clock::now_ms()).await;
                console_log!("mcprobe public views: {views}");
            }
        }
        Err(e) => console_log!("mcprobe cron failed: {e}"),
    }
}

#[event(queue)]
async fn queue(
    batch: MessageBatch<cron::ProbeBatch>,
    env: Env,
    _ctx: Context,
) -> worker::Result<()> {
    match cron::consume(batch, &env).await {
        Ok(summary) => console_log!("mcprobe queue: {summary}"),
        Err(e) => {
            // No database: every message goes back to the Queue to retry.
            console_log!("mcprobe queue failed: {e}");
            return Err(worker::Error::RustError(e));
        }
    }
    Ok(())
}
