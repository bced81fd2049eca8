//! Start here: `/runbook/{mode}`, one mode's runbook, where alert payloads
//! link (`notify`'s default runbook URL): the core's runbook, the same text
//! the check page shows under a verdict.

use leptos::prelude::*;
use mcprobe_core::Mode;

use crate::rich::rich;

/// `/runbook/{mode}`: what the mode means and the first steps.
#[component]
pub fn RunbookPage(
    /// The mode's code, as in the path.
    code: String,
) -> impl IntoView {
    match Mode::from_code(&code) {
        Some(mode) => {
            let rb = mcprobe_core::runbook::runbook(mode);
            view! {
                <section class="runbook" id="runbook" data-mode=mode.as_str() aria-labelledby="rb-title">
                    <p class="note">"Runbook for " <code>{mode.as_str()}</code></p>
                    <h1 id="rb-title">{rb.title}</h1>
                    <p>{rich(rb.meaning)}</p>
                    <ol>{rb.steps.iter().map(|s| view! { <li>{rich(s)}</li> }).collect_view()}</ol>
                    <p><a href="/">"Check a server now"</a></p>
                </section>
            }
            .into_any()
        }
        None => view! {
            <section>
                <h1>"No such mode"</h1>
                <p><code>{code}</code> " is not a mcprobe mode. The modes are: "
                {Mode::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")} "."</p>
            </section>
        }
        .into_any(),
    }
}
