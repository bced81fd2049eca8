//! A status page's tool-list changes: the [`DriftEvents`] view.

use leptos::prelude::*;
use mcprobe_core::time::utc_minute as iso_time;
use mcprobe_monitor::history::DriftList;

/// Each change of the tool list, with whether it broke callers and its diff.
#[component]
pub fn DriftEvents(list: DriftList) -> impl IntoView {
    view! {
        <section id="drift-events" aria-labelledby="de-title">
            <h2 id="de-title">{format!("Tool-list changes ({})", list.total)}</h2>
            {if list.events.is_empty() {
                view! { <p>"The tool list has not changed."</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {list.events.into_iter().map(|e| {
                            let breaking = match e.breaking {
                                Some(true) => "breaking",
                                Some(false) => "not breaking",
                                None => "diff unavailable",
                            };
                            view! {
                                <li class="drift-event" data-breaking=format!("{:?}", e.breaking)>
                                    <strong>{iso_time(e.at_ms)}</strong> " · " {breaking}
                                    <ul class="diff">
                                        {e.summary.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
                                    </ul>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}
