//! [`Ladder`]: the rungs from DNS to drift, each with its state, time and
//! steps (the rungs themselves are [`crate::ladder`]'s plain data).

use leptos::prelude::*;

use crate::ladder::Rung;

/// The ladder: one item a layer with its state, time and steps.
#[component]
pub fn Ladder(rungs: Vec<Rung>, idle: bool) -> impl IntoView {
    view! {
        <ol class="ladder" id="ladder" data-idle=idle.to_string() aria-label="The ladder, from DNS to drift">
            {rungs
                .into_iter()
                .map(|r| {
                    let ms = if r.steps.is_empty() { String::new() } else { format!("{} ms", r.ms) };
                    view! {
                        <li class=format!("rung {}", r.state.as_str()) data-layer=r.layer data-state=r.state.as_str()>
                            <span class="dot" aria-hidden="true"></span>
                            <span class="name">{r.title}</span>
                            <span class="sr-only">{format!(": {}", r.state.words())}</span>
                            <span class="ms">{ms}</span>
                            <span class="note">{r.note}</span>
                            <ul class="steps">
                                {r
                                    .steps
                                    .into_iter()
                                    .map(|s| {
                                        view! {
                                            <li class:bad=!s.ok>
                                                <code>{s.name}</code>
                                                " "
                                                <span class="ms">{format!("{} ms", s.ms)}</span>
                                                " "
                                                <span class="detail">{s.detail}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
