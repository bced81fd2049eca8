//! [`StatePill`]: a monitor's current status as a coloured word.

use leptos::prelude::*;

use crate::api;

/// A monitor's current status (`GET /api/monitors/{id}/status`) and mode.
/// A status that cannot be read is shown as `unknown`, not as an error: one
/// monitor's pill must not break the list around it.
#[component]
pub fn StatePill(
    /// The monitor's id.
    id: String,
) -> impl IntoView {
    let state = LocalResource::new(move || {
        let id = id.clone();
        async move {
            match api::monitor_status(&id).await {
                Ok(s) => (
                    s.status.map_or("unknown", |s| s.as_str()),
                    s.mode.map_or("no probe yet", |m| m.as_str()),
                ),
                Err(_) => ("unknown", "status unavailable"),
            }
        }
    });
    view! {
        <Suspense fallback=|| pill("unknown", "…")>
            {move || Suspend::new(async move {
                let (status, mode) = state.await;
                pill(status, mode)
            })}
        </Suspense>
    }
}

fn pill(status: &'static str, mode: &'static str) -> impl IntoView {
    view! {
        <span class=format!("pill {status}") data-status=status>{status}</span>
        " "
        <code class="note">{mode}</code>
    }
}
