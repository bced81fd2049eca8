//! The drift section: what changed in the tool list since this browser's
//! last check of the URL.

use leptos::prelude::*;
use mcprobe_core::fingerprint::Drift;

/// `baseline_at`: when that last check was (`None`: this is the first).
#[component]
pub fn DriftNote(drift: Option<Drift>, baseline_at: Option<String>) -> impl IntoView {
    let body = match (drift, baseline_at) {
        (_, None) => view! {
            <p>"First check of this URL in this browser: its tool list is remembered, and the next check shows what changed."</p>
        }
        .into_any(),
        (None, Some(at)) => view! {
            <p data-drift="none">{format!("No change since the check of {at}.")}</p>
        }
        .into_any(),
        (Some(d), Some(at)) => {
            let verdict = if d.breaking { "Breaking changes" } else { "Non-breaking changes" };
            view! {
                <p data-drift=if d.breaking { "breaking" } else { "compatible" }>
                    {format!("{verdict} since the check of {at}:")}
                </p>
                <ul class="diff">
                    {d.changes.into_iter().map(|c| {
                        let cls = if c.is_breaking() { "breaking" } else { "ok" };
                        view! { <li class=cls data-kind=c.kind()>{c.to_string()}</li> }
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    view! {
        <section class="drift" id="drift" aria-labelledby="drift-title">
            <h2 id="drift-title">"Drift"</h2>
            {body}
        </section>
    }
}
