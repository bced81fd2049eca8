//! The view while a check runs: the ladder so far and the live log of
//! exchanges, with the time ticking.

use leptos::prelude::*;

use crate::check::ladder_view::Ladder;
use crate::check::state::State;
use crate::ladder;

/// The ladder and the live log while a check runs.
#[component]
pub fn Running(state: State) -> impl IntoView {
    let lines = state.live.get();
    let current = lines.last().map(|l| l.label.clone());
    let from_browser = state.running_where.get() == "in your browser";
    let rungs = ladder::running_rungs(
        if from_browser {
            current.as_deref()
        } else {
            None
        },
        from_browser,
    );
    view! {
        <p class="via running">
            "Checking " {state.running_where.get()} "… "
            <span class="elapsed">{move || format!("{:.1} s", state.elapsed.get() as f64 / 1000.0)}</span>
        </p>
        <Ladder rungs=rungs idle=false/>
        <ol class="live" aria-label="Exchanges so far">
            {lines
                .into_iter()
                .map(|l| {
                    view! {
                        <li>
                            <span class="t">{format!("+{} ms", l.started_ms)}</span>
                            " "
                            <code>{l.label}</code>
                            " "
                            <span class="r">{l.result.unwrap_or_else(|| "waiting…".into())}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
