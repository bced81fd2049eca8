//! The findings section: spec violations with their JSON pointers and
//! rules, and the other remarks of the verdict.

use leptos::prelude::*;
use mcprobe_core::verdict::Finding;

/// The verdict's findings, or "None.".
#[component]
pub fn Findings(findings: Vec<Finding>) -> impl IntoView {
    if findings.is_empty() {
        return view! { <section class="findings" id="findings"><h2>"Findings"</h2><p>"None."</p></section> }.into_any();
    }
    view! {
        <section class="findings" id="findings" aria-labelledby="f-title">
            <h2 id="f-title">"Findings"</h2>
            <ul>
                {findings.into_iter().map(|f| view! {
                    <li data-mode=f.mode.as_str()>
                        <code class="mode">{f.mode.as_str()}</code>
                        " "
                        {f.pointer.clone().map(|p| view! { <code class="pointer">{p}</code> " " })}
                        <span class="detail">{f.detail.clone()}</span>
                        {f.rule.clone().map(|r| view! { " " <span class="rule">{format!("({r})")}</span> })}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
