//! Start here: the check page (`/`): "is my MCP alive?".
//!
//! One URL field (Enter works), an optional token header kept in memory only,
//! one button. [`run::run_check`] is the I/O, apart from the views: the core
//! probe in the browser ([`crate::host`]) or, when the browser cannot see the
//! server (CORS, or a network error it will not explain), `POST /api/check`;
//! the page says which and why. The live ladder ([`running`]) follows the
//! exchanges as they happen; the finished verdict ([`outcome`]) then redraws
//! it from its steps ([`crate::ladder`]), with the runbook for the mode (from
//! the core's [`mcprobe_core::runbook`]), the tools and their schemas
//! ([`tools`]), the spec violations with their JSON pointers ([`findings`]),
//! the drift since the last check of this URL in this browser ([`drift`],
//! [`crate::memory`]) and a downloadable transcript.
//!
//! Everything that came from the probed server (names, descriptions,
//! schemas, reasons, details) is rendered as text nodes by Leptos; nothing
//! here sets `inner_html`, so a description like `<img onerror=...>` is
//! shown, never run.

pub mod drift;
pub mod findings;
pub mod ladder_view;
pub mod monitor_hint;
pub mod outcome;
pub mod run;
pub mod running;
pub mod state;
pub mod tools;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::check::ladder_view::Ladder;
use crate::check::outcome::OutcomeView;
use crate::check::run::run_check;
use crate::check::running::Running;
use crate::check::state::State;
use crate::route::set_query_url;

pub use state::{LiveLine, Outcome, Via};

/// The check page.
#[component]
pub fn CheckPage(
    /// The URL to check at once (from `/?url=`).
    initial: Option<String>,
) -> impl IntoView {
    let url = RwSignal::new(initial.clone().unwrap_or_default());
    let header_name = RwSignal::new("Authorization".to_string());
    let header_value = RwSignal::new(String::new());
    let state = State::new();

    let start = move || {
        if state.running.get_untracked() {
            return;
        }
        let target = url.get_untracked().trim().to_string();
        if target.is_empty() {
            state
                .error
                .set(Some("Type the server's MCP endpoint URL first.".into()));
            return;
        }
        set_query_url(&target);
        let value = header_value.get_untracked();
        let headers = if value.trim().is_empty() {
            Vec::new()
        } else {
            vec![(
                header_name.get_untracked().trim().to_string(),
                value.trim().to_string(),
            )]
        };
        // A check is an action with live progress, not a resource: it runs
        // when asked, and writes the ladder as its exchanges happen.
        spawn_local(run_check(target, headers, state));
    };

    if initial.as_deref().is_some_and(|u| !u.trim().is_empty()) {
        start();
    }

    view! {
        <section class="check" aria-labelledby="check-title">
            <h1 id="check-title">"Is my MCP server alive?"</h1>
            <p class="lede">
                "Type an MCP endpoint: mcprobe climbs the ladder from DNS to the tool list, "
                "checks every answer against the spec and tells you what to fix first."
            </p>
            <form
                class="check-form"
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    start();
                }
            >
                <label for="url">"MCP endpoint URL"</label>
                <div class="row">
                    <input
                        id="url"
                        name="url"
                        type="url"
                        inputmode="url"
                        autocomplete="url"
                        spellcheck="false"
                        placeholder="https://example.com/mcp"
                        required
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))
                    />
                    <button id="check" type="submit" prop:disabled=move || state.running.get()>
                        {move || if state.running.get() { "Checking…" } else { "Check" }}
                    </button>
                </div>
                <details class="token">
                    <summary>"Send a header (token)"</summary>
                    <p class="note">
                        "Kept in this page's memory only: never stored, never in the address bar."
                    </p>
                    <div class="row">
                        <label for="hname" class="sr-only">"Header name"</label>
                        <input
                            id="hname"
                            type="text"
                            spellcheck="false"
                            prop:value=move || header_name.get()
                            on:input=move |ev| header_name.set(event_target_value(&ev))
                        />
                        <label for="hvalue" class="sr-only">"Header value"</label>
                        <input
                            id="hvalue"
                            type="password"
                            autocomplete="off"
                            placeholder="Bearer …"
                            prop:value=move || header_value.get()
                            on:input=move |ev| header_value.set(event_target_value(&ev))
                        />
                    </div>
                </details>
            </form>
            <div id="error" class="error" role="alert">
                {move || state.error.get()}
            </div>
            <div id="result" class="result" aria-live="polite" aria-busy=move || state.running.get().to_string()>
                {move || {
                    if state.running.get() {
                        view! { <Running state=state/> }.into_any()
                    } else if let Some(o) = state.outcome.get() {
                        view! { <OutcomeView o=o/> }.into_any()
                    } else {
                        view! { <Ladder rungs=crate::ladder::idle_rungs() idle=true/> }.into_any()
                    }
                }}
            </div>
        </section>
    }
}
