//! [`OutcomeView`]: a finished check. How it ran, the verdict, the runbook,
//! the ladder, then the sections of the sibling files, the transcript
//! download and the monitor hint.

use leptos::prelude::*;
use mcprobe_core::fingerprint::Drift;
use mcprobe_core::runbook::runbook;
use mcprobe_core::verdict::Mode;
use mcprobe_core::Verdict;
use serde_json::json;
use wasm_bindgen::JsCast;

use crate::check::drift::DriftNote;
use crate::check::findings::Findings;
use crate::check::ladder_view::Ladder;
use crate::check::monitor_hint::MonitorHint;
use crate::check::state::{Outcome, Via};
use crate::check::tools::Tools;
use crate::ladder::{self, Rung};
use crate::rich::rich;

/// A finished check: how it ran, the verdict, the runbook, the ladder, the
/// tools, the violations, the drift and the transcript.
#[component]
pub fn OutcomeView(o: Outcome) -> impl IntoView {
    let v = o.verdict.clone();
    let from_browser = o.via == Via::Browser;
    let rb = runbook(v.mode);
    let via = match &o.via {
        Via::Browser => view! {
            <p class="via" id="via" data-via="browser">
                <strong>"Checked in your browser"</strong>
                ": the server allows cross-origin requests (CORS), so this page spoke MCP to it directly. "
                "A browser cannot see DNS, TCP or TLS; those rungs are greyed out."
            </p>
        }
        .into_any(),
        Via::Edge { why } => view! {
            <p class="via" id="via" data-via="edge">
                <strong>"Checked at the edge"</strong>
                ": " {why.clone()}
            </p>
        }
        .into_any(),
    };
    let meta = meta_line(&v);
    let transcript = transcript_json(&o);
    view! {
        {via}
        <div class=format!("verdict {}", v.status.as_str()) id="verdict"
            data-mode=v.mode.as_str() data-status=v.status.as_str() data-severity=v.severity.as_str()>
            <p class="line">
                <span class="status">{v.status.as_str().to_ascii_uppercase()}</span>
                " "
                <code class="mode">{v.mode.as_str()}</code>
                " "
                <span class="sev">{format!("severity {}", v.severity.as_str())}</span>
                " "
                <span class="elapsed">{format!("in {} ms", v.elapsed_ms)}</span>
            </p>
            <p class="reason" id="reason">{v.reason.clone()}</p>
            {v.alternate_url.clone().map(|alt| view! {
                <p class="alt">"The server answers at " <code>{alt}</code></p>
            })}
            <p class="meta">{meta}</p>
        </div>
        <section class="runbook" id="runbook" aria-labelledby="rb-title">
            <h2 id="rb-title">{rb.title}</h2>
            <p>{rich(rb.meaning)}</p>
            <ol>{rb.steps.iter().map(|s| view! { <li>{rich(s)}</li> }).collect_view()}</ol>
        </section>
        <h2>"The ladder"</h2>
        <Ladder rungs=page_rungs(&v, from_browser, o.drift.as_ref(), o.baseline_at.is_some()) idle=false/>
        <DriftNote drift=o.drift.clone() baseline_at=o.baseline_at.clone()/>
        <Findings findings=v.findings.clone()/>
        <Tools verdict=v.clone() snapshot=o.snapshot.clone()/>
        <section class="actions">
            <button type="button" id="transcript" on:click=move |_| download("mcprobe-transcript.json", &transcript)>
                "Download the transcript (JSON)"
            </button>
        </section>
        <MonitorHint url=v.url.clone()/>
    }
}

/// The verdict's rungs, with what the page adds: the number of spec
/// violations on the spec rung, and the drift this browser found against its
/// last check of the URL (the edge had no baseline to compare with).
fn page_rungs(
    v: &Verdict,
    from_browser: bool,
    drift: Option<&Drift>,
    had_baseline: bool,
) -> Vec<Rung> {
    let mut rungs = ladder::rungs(v, from_browser);
    let violations = v
        .findings
        .iter()
        .filter(|f| f.mode == Mode::MalformedJsonrpc)
        .count();
    for r in rungs.iter_mut() {
        match r.layer {
            "spec" if violations > 0 => {
                r.note = format!("{violations} violation(s), listed under Findings");
            }
            "drift" if r.steps.is_empty() && r.state != ladder::RungState::Pending => match drift {
                Some(d) => {
                    r.state = ladder::RungState::Warned;
                    r.note = format!(
                        "{} change(s) since your last check{}",
                        d.changes.len(),
                        if d.breaking { ", breaking" } else { "" }
                    );
                }
                None if had_baseline => {
                    r.state = ladder::RungState::Passed;
                    r.note = "unchanged since your last check".into();
                }
                None => {}
            },
            _ => {}
        }
    }
    rungs
}

fn meta_line(v: &Verdict) -> String {
    let mut parts = Vec::new();
    if let Some(e) = v.era {
        parts.push(match e {
            mcprobe_core::verdict::Era::Modern => "modern MCP".to_string(),
            mcprobe_core::verdict::Era::Legacy => "legacy MCP".to_string(),
        });
    }
    if let Some(p) = &v.protocol_version {
        parts.push(format!("revision {p}"));
    }
    if let Some(t) = v.transport {
        parts.push(
            serde_json::to_value(t)
                .ok()
                .and_then(|x| x.as_str().map(String::from))
                .unwrap_or_default(),
        );
    }
    if let Some(s) = &v.server {
        parts.push(format!("server {} {}", s.name, s.version));
    }
    if let Some(t) = &v.tools {
        parts.push(format!("{} tools", t.count));
    }
    parts.join(" · ")
}

/// The transcript: the verdict, how it ran, the drift and the tool snapshot.
fn transcript_json(o: &Outcome) -> String {
    let via = match &o.via {
        Via::Browser => json!({"where": "browser"}),
        Via::Edge { why } => json!({"where": "edge", "why": why}),
    };
    let doc = json!({
        "verdict": o.verdict,
        "via": via,
        "drift_since_last_check": o.drift,
        "tools_snapshot": o.snapshot,
        "runbook": runbook(o.verdict.mode).steps,
        "mode_code": Mode::as_str(o.verdict.mode),
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Saves `text` as a file through a temporary object URL.
fn download(name: &str, text: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(href) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(a) = doc
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&href);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&href);
}
