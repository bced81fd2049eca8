//! Start here: the check page (`/`): "is my MCP alive?".
//!
//! One URL field (Enter works), an optional token header kept in memory only,
//! one button. [`run_check`] is the I/O, apart from the view: it runs the
//! core probe in the browser ([`crate::host`]) and, when the browser cannot
//! see the server (CORS, or a network error it will not explain), runs it
//! through `POST /api/check` instead; the page says which and why. The live
//! ladder follows the exchanges as they happen; the finished verdict then
//! redraws it from its steps ([`crate::ladder`]), with the runbook for the
//! mode (from the core's [`mcprobe_core::runbook`]), the tools and their
//! schemas, the spec violations with their JSON pointers, the drift since
//! the last check of this URL in this browser ([`crate::memory`]) and a
//! downloadable transcript.
//!
//! Everything that came from the probed server (names, descriptions,
//! schemas, reasons, details) is rendered as text nodes by Leptos; nothing
//! here sets `inner_html`, so a description like `<img onerror=...>` is
//! shown, never run.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcprobe_core::fingerprint::{Drift, Snapshot};
use mcprobe_core::runbook::runbook;
use mcprobe_core::verdict::{Finding, Mode};
use mcprobe_core::{ProbeConfig, Verdict};
use serde_json::{json, Value};
use wasm_bindgen::JsCast;

use crate::host::{self, Progress};
use crate::ladder::{self, Rung};
use crate::memory::{self, Remembered};
use crate::{api, set_query_url};

/// Where the check ran.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    Browser,
    /// Through `/api/check`, with the reason the browser could not do it.
    Edge {
        why: String,
    },
}

/// A finished check.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub snapshot: Option<Snapshot>,
    pub via: Via,
    /// The drift since the last check of this URL in this browser.
    pub drift: Option<Drift>,
    /// When that last check was.
    pub baseline_at: Option<String>,
}

/// One line of the live log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLine {
    pub id: u32,
    pub label: String,
    pub started_ms: u64,
    /// `HTTP 200 after 12 ms`, or the failure.
    pub result: Option<String>,
}

/// The page state the check writes into.
#[derive(Clone, Copy)]
struct State {
    running: RwSignal<bool>,
    live: RwSignal<Vec<LiveLine>>,
    /// "in your browser" or "at the edge" while running.
    running_where: RwSignal<&'static str>,
    outcome: RwSignal<Option<Outcome>>,
    error: RwSignal<Option<String>>,
    /// ms since the check started, ticking while it runs (progress, not a spinner).
    elapsed: RwSignal<u64>,
}

/// The check page.
#[component]
pub fn CheckPage(
    /// The URL to check at once (from `/?url=`).
    initial: Option<String>,
) -> impl IntoView {
    let url = RwSignal::new(initial.clone().unwrap_or_default());
    let header_name = RwSignal::new("Authorization".to_string());
    let header_value = RwSignal::new(String::new());
    let state = State {
        running: RwSignal::new(false),
        live: RwSignal::new(Vec::new()),
        running_where: RwSignal::new(""),
        outcome: RwSignal::new(None),
        error: RwSignal::new(None),
        elapsed: RwSignal::new(0),
    };

    let start = move || {
        if state.running.get_untracked() {
            return;
        }
        let target = url.get_untracked().trim().to_string();
        if target.is_empty() {
            state
                .error
                .set(Some("Type the server's MCP endpoint URL first.".into()));
            return;
        }
        set_query_url(&target);
        let value = header_value.get_untracked();
        let headers = if value.trim().is_empty() {
            Vec::new()
        } else {
            vec![(
                header_name.get_untracked().trim().to_string(),
                value.trim().to_string(),
            )]
        };
        spawn_local(run_check(target, headers, state));
    };

    if initial.as_deref().is_some_and(|u| !u.trim().is_empty()) {
        start();
    }

    view! {
        <section class="check" aria-labelledby="check-title">
            <h1 id="check-title">"Is my MCP server alive?"</h1>
            <p class="lede">
                "Type an MCP endpoint: mcprobe climbs the ladder from DNS to the tool list, "
                "checks every answer against the spec and tells you what to fix first."
            </p>
            <form
                class="check-form"
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    start();
                }
            >
                <label for="url">"MCP endpoint URL"</label>
                <div class="row">
                    <input
                        id="url"
                        name="url"
                        type="url"
                        inputmode="url"
                        autocomplete="url"
                        spellcheck="false"
                        placeholder="https://example.com/mcp"
                        required
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))
                    />
                    <button id="check" type="submit" prop:disabled=move || state.running.get()>
                        {move || if state.running.get() { "Checking…" } else { "Check" }}
                    </button>
                </div>
                <details class="token">
                    <summary>"Send a header (token)"</summary>
                    <p class="note">
                        "Kept in this page's memory only: never stored, never in the address bar."
                    </p>
                    <div class="row">
                        <label for="hname" class="sr-only">"Header name"</label>
                        <input
                            id="hname"
                            type="text"
                            spellcheck="false"
                            prop:value=move || header_name.get()
                            on:input=move |ev| header_name.set(event_target_value(&ev))
                        />
                        <label for="hvalue" class="sr-only">"Header value"</label>
                        <input
                            id="hvalue"
                            type="password"
                            autocomplete="off"
                            placeholder="Bearer …"
                            prop:value=move || header_value.get()
                            on:input=move |ev| header_value.set(event_target_value(&ev))
                        />
                    </div>
                </details>
            </form>
            <div id="error" class="error" role="alert">
                {move || state.error.get()}
            </div>
            <div id="result" class="result" aria-live="polite" aria-busy=move || state.running.get().to_string()>
                {move || {
                    if state.running.get() {
                        running_view(state).into_any()
                    } else if let Some(o) = state.outcome.get() {
                        outcome_view(o).into_any()
                    } else {
                        ladder_view(ladder::idle_rungs(), true).into_any()
                    }
                }}
            </div>
        </section>
    }
}

/// Runs one check and writes its progress and outcome into `state`.
async fn run_check(url: String, headers: Vec<(String, String)>, state: State) {
    state.running.set(true);
    state.error.set(None);
    state.outcome.set(None);
    state.live.set(Vec::new());
    state.running_where.set("in your browser");

    let remembered = memory::recall(&url);
    let mut cfg = ProbeConfig::new(url.clone());
    cfg.headers = headers.clone();
    cfg.timeout_ms = 10_000;
    cfg.checked_at = host::now_rfc3339();
    if let Some(Remembered::Snapshot { snapshot, .. }) = &remembered {
        cfg.baseline = Some(snapshot.clone());
    }
    let t0 = host::now_ms();
    state.elapsed.set(0);
    spawn_local(async move {
        // Ticks the elapsed time until the check is over.
        while state.running.get_untracked() {
            host::sleep(200).await;
            state.elapsed.set(host::now_ms().saturating_sub(t0));
        }
    });
    let live = state.live;
    let on_event: Rc<dyn Fn(Progress)> = Rc::new(move |p| record(live, p, t0));

    let outcome = match host::run(cfg, on_event).await {
        Err(bad_input) => {
            state.error.set(Some(bad_input));
            state.running.set(false);
            return;
        }
        Ok(Ok((verdict, snapshot))) => Outcome {
            verdict,
            snapshot,
            via: Via::Browser,
            drift: None,
            baseline_at: None,
        },
        Ok(Err(blocked)) => {
            state.running_where.set("at the edge");
            state.live.update(|l| {
                l.push(LiveLine {
                    id: u32::MAX,
                    label: "POST /api/check (the edge probes it)".into(),
                    started_ms: host::now_ms().saturating_sub(t0),
                    result: None,
                })
            });
            match api::check(&url, &headers).await {
                Ok((verdict, snapshot)) => Outcome {
                    verdict,
                    snapshot,
                    via: Via::Edge {
                        why: blocked.explain(),
                    },
                    drift: None,
                    baseline_at: None,
                },
                Err(e) => {
                    state.error.set(Some(format!(
                        "{} The edge could not check it either: {e}",
                        blocked.explain()
                    )));
                    state.running.set(false);
                    return;
                }
            }
        }
    };
    state
        .outcome
        .set(Some(with_drift(&url, outcome, remembered)));
    state.running.set(false);
}

/// Adds the drift against what this browser remembered, then remembers this check.
fn with_drift(url: &str, mut o: Outcome, remembered: Option<Remembered>) -> Outcome {
    if let Some(old) = &remembered {
        o.baseline_at = Some(old.at().to_string());
        o.drift = match (&o.verdict.drift, &o.verdict.tools) {
            // The core diffed the full snapshots (a browser check with a snapshot baseline).
            (Some(d), _) => Some(d.clone()),
            // An edge check that brought its tool list back: the same diff, here.
            (None, Some(_))
                if matches!(old, Remembered::Snapshot { .. }) && o.snapshot.is_some() =>
            {
                match (old, &o.snapshot) {
                    (
                        Remembered::Snapshot {
                            snapshot: before, ..
                        },
                        Some(now),
                    ) => {
                        let d = mcprobe_core::fingerprint::diff(before, now);
                        (!d.changes.is_empty()).then_some(d)
                    }
                    _ => None,
                }
            }
            (None, Some(tools)) => memory::names_diff(old, tools),
            (None, None) => None,
        };
    }
    let at = o.verdict.checked_at.clone();
    match (&o.snapshot, &o.verdict.tools) {
        (Some(s), _) => memory::remember(
            url,
            &Remembered::Snapshot {
                snapshot: s.clone(),
                at,
            },
        ),
        (None, Some(t)) => memory::remember(
            url,
            &Remembered::Names {
                summary: t.clone(),
                at,
            },
        ),
        (None, None) => {}
    }
    o
}

fn record(live: RwSignal<Vec<LiveLine>>, p: Progress, t0: u64) {
    live.update(|lines| match p {
        Progress::Sent { id, label, at_ms } => lines.push(LiveLine {
            id,
            label,
            started_ms: at_ms.saturating_sub(t0),
            result: None,
        }),
        Progress::Answered { id, status, at_ms } => {
            if let Some(l) = lines.iter_mut().rev().find(|l| l.id == id) {
                let took = at_ms.saturating_sub(t0).saturating_sub(l.started_ms);
                l.result = Some(format!("HTTP {status} after {took} ms"));
            }
        }
        Progress::Failed { id, error, at_ms } => {
            if let Some(l) = lines.iter_mut().rev().find(|l| l.id == id) {
                let took = at_ms.saturating_sub(t0).saturating_sub(l.started_ms);
                l.result = Some(format!("{error} after {took} ms"));
            }
        }
    });
}

/// The ladder and the live log while a check runs.
fn running_view(state: State) -> impl IntoView {
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
        {ladder_view(rungs, false)}
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

/// The ladder: one item a layer with its state, time and steps.
fn ladder_view(rungs: Vec<Rung>, idle: bool) -> impl IntoView {
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

/// A finished check: how it ran, the verdict, the runbook, the ladder, the
/// tools, the violations, the drift and the transcript.
fn outcome_view(o: Outcome) -> impl IntoView {
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
                <span class="status">{v.status.as_str().to_uppercase()}</span>
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
        {ladder_view(page_rungs(&v, from_browser, o.drift.as_ref(), o.baseline_at.is_some()), false)}
        {drift_view(o.drift.clone(), o.baseline_at.clone())}
        {findings_view(v.findings.clone())}
        {tools_view(&v, o.snapshot.as_ref())}
        <section class="actions">
            <button type="button" id="transcript" on:click=move |_| download("mcprobe-transcript.json", &transcript)>
                "Download the transcript (JSON)"
            </button>
        </section>
        <MonitorHint url=v.url.clone()/>
    }
}

/// For a monitored server, its status page and badge snippets; otherwise
/// how to monitor it. Looks the URL up in the public monitors.
#[component]
fn MonitorHint(
    /// The checked URL.
    url: String,
) -> impl IntoView {
    let found: RwSignal<Option<Option<String>>> = RwSignal::new(None);
    let wanted = url.clone();
    spawn_local(async move {
        let id = api::list_monitors("").await.ok().and_then(|list| {
            list.iter().find_map(|m| {
                (m.get("url")?.as_str()? == wanted)
                    .then(|| m.get("id")?.as_str().map(String::from))
                    .flatten()
            })
        });
        found.set(Some(id));
    });
    move || {
        match found.get() {
        Some(Some(id)) => view! {
            <section class="monitored">
                <p>"This server is monitored: see " <a href=format!("/status/{id}")>"its status page"</a> "."</p>
                {crate::status::badge_view(&id)}
            </section>
        }
        .into_any(),
        _ => view! {
            <p class="note" id="monitor-hint">
                "Watch it every minute: add it as a monitor (" <code>"POST /api/monitors"</code>
                ") and link its badge and status page from your README."
            </p>
        }
        .into_any(),
    }
    }
}

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

fn drift_view(drift: Option<Drift>, baseline_at: Option<String>) -> impl IntoView {
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

fn findings_view(findings: Vec<Finding>) -> impl IntoView {
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

/// The tools: full definitions when the browser read them, names otherwise.
fn tools_view(v: &Verdict, snapshot: Option<&Snapshot>) -> impl IntoView {
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
