//! The tools section: full definitions (description, input schema, the
//! violations that name the tool) when the tool list came back, names only
//! otherwise. Descriptions and schemas come from the server: text nodes.

use leptos::prelude::*;
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::verdict::Finding;
use mcprobe_core::Verdict;
use serde_json::Value;

/// The tools: full definitions when the browser read them, names otherwise.
#[component]
pub fn Tools(verdict: Verdict, snapshot: Option<Snapshot>) -> impl IntoView {
    let (v, snapshot) = (&verdict, snapshot.as_ref());
    let Some(summary) = v.tools.clone() else {
        return view! { <section class="tools" id="tools"><h2>"Tools"</h2><p>"The tool list was not read."</p></section> }.into_any();
    };
    let items = match snapshot {
        Some(s) => s
            .tools
            .iter()
            .map(|t| {
                let description = t
                    .definition
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let schema = t
                    .definition
                    .get("inputSchema")
                    .map(|s| serde_json::to_string_pretty(s).unwrap_or_default())
                    .unwrap_or_else(|| "(no inputSchema)".into());
                let bad: Vec<Finding> = v
                    .findings
                    .iter()
                    .filter(|f| f.pointer.is_some() && f.detail.contains(&t.name))
                    .cloned()
                    .collect();
                view! {
                    <li class="tool" data-tool=t.name.clone()>
                        <code class="tname">{t.name.clone()}</code>
                        <p class="desc">{description}</p>
                        {bad.into_iter().map(|f| view! {
                            <p class="violation"><code>{f.pointer.unwrap_or_default()}</code> " " {f.detail}</p>
                        }).collect_view()}
                        <details>
                            <summary>"Input schema"</summary>
                            <pre>{schema}</pre>
                        </details>
                    </li>
                }
                .into_any()
            })
            .collect::<Vec<_>>(),
        None => summary
            .names
            .iter()
            .map(|n| view! { <li class="tool" data-tool=n.clone()><code class="tname">{n.clone()}</code></li> }.into_any())
            .collect(),
    };
    let note = if snapshot.is_some() {
        String::new()
    } else {
        "The edge reports tool names only; a check from the browser shows descriptions and schemas."
            .to_string()
    };
    view! {
        <section class="tools" id="tools" aria-labelledby="t-title">
            <h2 id="t-title">{format!("Tools ({})", summary.count)}</h2>
            <p class="note">{note}</p>
            <p class="hash"><code>{summary.hash}</code></p>
            <ul>{items}</ul>
        </section>
    }
    .into_any()
}
