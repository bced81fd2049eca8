//! `/status`: [`StatusList`], the monitors registered through the API (the
//! crawl's are on /audit), each with its [`StatePill`].

use leptos::prelude::*;
use mcprobe_monitor::views::PublicMonitor;

use crate::api::{self, encode};
use crate::failure;
use crate::status::pill::StatePill;

/// `/status`: the public monitors.
#[component]
pub fn StatusList() -> impl IntoView {
    let list = LocalResource::new(|| api::list_monitors("source=api"));
    view! {
        <section aria-labelledby="list-title">
            <h1 id="list-title">"Public monitors"</h1>
            <Suspense fallback=|| view! { <p class="note">"Loading the monitors…"</p> }>
                <ErrorBoundary fallback=failure::alert>
                    {move || Suspend::new(async move { list.await.map(monitors_view) })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

fn monitors_view(ms: Vec<PublicMonitor>) -> AnyView {
    if ms.is_empty() {
        return view! {
            <p>"No public monitors yet. Add one with " <code>"POST /api/monitors"</code> "."</p>
        }
        .into_any();
    }
    view! {
        <ul class="monitors" id="monitors">
            {ms.into_iter().map(|m| {
                let label = if m.name.is_empty() { m.id.clone() } else { m.name };
                view! {
                    <li data-id=m.id.clone()>
                        <StatePill id=m.id.clone()/>
                        " "
                        <a href=format!("/status/{}", encode(&m.id))>{label}</a>
                        <br/>
                        <code class="note">{m.url}</code>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
