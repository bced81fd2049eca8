//! Start here: [`Badge`], a monitor's status badge with the Markdown and
//! HTML snippets to paste in a README. Shown by the status page and, for a
//! monitored server, under a check.

use leptos::prelude::*;

use crate::api::encode;

/// The badge and the snippets to paste in a README.
#[component]
pub fn Badge(
    /// The monitor's id.
    id: String,
) -> impl IntoView {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let (badge, page) = (
        format!("{origin}/badge/{}.svg", encode(&id)),
        format!("{origin}/status/{}", encode(&id)),
    );
    let markdown = format!("[![MCP status]({badge})]({page})");
    let html = format!(
        "<a href=\"{page}\"><img src=\"{badge}\" alt=\"MCP status\"></a>",
        page = attr_escape(&page),
        badge = attr_escape(&badge)
    );
    view! {
        <section id="badge" aria-labelledby="badge-title">
            <h2 id="badge-title">"Badge"</h2>
            <p><img src=badge alt="MCP status badge"/></p>
            <label for="md-snippet">"Markdown"</label>
            <div class="snippet"><pre id="md-snippet" tabindex="0">{markdown.clone()}</pre><CopyButton text=markdown/></div>
            <label for="html-snippet">"HTML"</label>
            <div class="snippet"><pre id="html-snippet" tabindex="0">{html.clone()}</pre><CopyButton text=html/></div>
        </section>
    }
}

/// Copies `text` to the clipboard and says so.
#[component]
fn CopyButton(text: String) -> impl IntoView {
    let done = RwSignal::new(false);
    view! {
        <button type="button" on:click=move |_| {
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&text);
                done.set(true);
            }
        }>{move || if done.get() { "Copied" } else { "Copy" }}</button>
    }
}

/// Escapes a URL for the HTML snippet's attributes.
pub fn attr_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn snippet_attributes_are_escaped() {
        assert_eq!(super::attr_escape(r#"a"<b>&"#), "a&quot;&lt;b&gt;&amp;");
    }
}
