//! Start here: [`rich`], our own runbook and hint text with its commands set
//! as code. Shared by the check page, the runbook page and the status page's
//! incidents, so none of them imports another.

use leptos::prelude::*;

/// Our runbook text marks commands with backticks: those parts become
/// `<code>` (the text is ours, from the core, never the server's).
pub fn rich(text: &str) -> impl IntoView {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                view! { <code>{part.to_string()}</code> }.into_any()
            } else {
                part.to_string().into_any()
            }
        })
        .collect_view()
}
