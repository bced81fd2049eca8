//! [`MonitorHint`]: under a finished check, the status page and badge of a
//! monitored server, or how to monitor it.

use leptos::prelude::*;

use crate::api;
use crate::badge::Badge;

/// For a monitored server, its status page and badge snippets; otherwise
/// how to monitor it. Looks the URL up in the public monitors; a list that
/// cannot be read leaves the hint, as if the server were not monitored.
#[component]
pub fn MonitorHint(
    /// The checked URL.
    url: String,
) -> impl IntoView {
    let found = LocalResource::new(move || {
        let wanted = url.clone();
        async move {
            api::list_monitors("")
                .await
                .ok()
                .and_then(|list| list.into_iter().find(|m| m.url == wanted).map(|m| m.id))
        }
    });
    view! {
        <Suspense fallback=hint>
            {move || Suspend::new(async move {
                match found.await {
                    Some(id) => view! {
                        <section class="monitored">
                            <p>"This server is monitored: see " <a href=format!("/status/{id}")>"its status page"</a> "."</p>
                            <Badge id=id/>
                        </section>
                    }
                    .into_any(),
                    None => hint().into_any(),
                }
            })}
        </Suspense>
    }
}

fn hint() -> impl IntoView {
    view! {
        <p class="note" id="monitor-hint">
            "Watch it every minute: add it as a monitor (" <code>"POST /api/monitors"</code>
            ") and link its badge and status page from your README."
        </p>
    }
}
