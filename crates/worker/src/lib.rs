//! mcprobe-worker: the edge monitor, a Cloudflare Worker built with workers-rs.
//!
//! Start here: this file only wires the runtime's events to the modules. The
//! Worker is a host for the very same core probe as the CLI
//! (`mcprobe_core::Probe`): it brings the I/O (`worker::Fetch`), the clock and
//! the HTTP API; the core brings the protocol, the judging and the verdict.
//!
//! Modules, one area each:
//! - [`api`]: the router and `POST /api/check`, `GET /api/health`
//! - [`target`]: which URLs a public check may reach (pure, host-tested)
//! - [`probe_host`]: the host loop driving the core probe through `Fetch`
//!
//! Build with `worker-build` (see `xtask/src/worker.rs`), run under workerd
//! with `wrangler dev` (`wrangler.toml` at the repository root). The D1
//! binding `DB` and the migrations are in place for the next slices
//! (monitors, cron, history, badges); this slice does not read them yet.

pub mod api;
pub mod probe_host;
pub mod target;

use worker::{event, Context, Env, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    api::route(req, env).await
}
