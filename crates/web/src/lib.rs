//! mcprobe-web: the page a stranger meets first, "is my MCP alive?", and the
//! public status pages. Leptos, client-side only, compiled to wasm32 and
//! served by the Worker as static assets (`wrangler.toml` `[assets]`).
//!
//! Start here: [`start`] reads the path and mounts one page:
//! - `/` (and `/?url=...`): [`check::CheckPage`], the core probe running in
//!   the browser ([`host`]) or through the Worker's `/api/check` ([`api`]);
//! - `/status`: [`status::StatusList`], the public monitors;
//! - `/status/{id}`: [`status::StatusPage`], one monitor's 90 days;
//! - `/runbook/{mode}`: one mode's runbook (where alert payloads link);
//! - `/audit`: [`audit::AuditPage`], the registry audit (per-mode table, bar chart, crawl facts).
//!
//! Pure logic lives apart from the views so it is unit-tested on the host:
//! [`ladder`] (the rungs a verdict lights), [`memory`] (the per-URL tool
//! list remembered for drift), the status views' chart maths. Text from probed
//! servers and from the API is only ever put in text nodes.

pub mod api;
pub mod app;
pub mod audit;
pub mod badge;
pub mod check;
pub mod failure;
pub mod host;
pub mod ladder;
pub mod memory;
pub mod rich;
pub mod route;
pub mod runbook;
pub mod status;

pub use route::{route, set_query_url, Route};

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::app::App;

/// The wasm entry point: mounts the page for the current location.
#[wasm_bindgen(start)]
pub fn start() {
    let Some(w) = web_sys::window() else {
        return;
    };
    let loc = w.location();
    let path = loc.pathname().unwrap_or_default();
    let query = loc.search().unwrap_or_default();
    let page = route(&path, query.trim_start_matches('?'));
    leptos::mount::mount_to_body(move || view! { <App page=page/> });
    // The first-render mark the browser test reads (performance.now() ms).
    if let Some(p) = w.performance() {
        let _ = js_sys::Reflect::set(
            &w,
            &JsValue::from_str("__mcprobeRendered"),
            &JsValue::from_f64(p.now()),
        );
    }
}
