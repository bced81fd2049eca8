//! Start here: the public status pages.
//!
//! - `/status`: [`StatusList`], the public monitors (`GET /api/monitors`),
//!   each with its current state (`/api/monitors/{id}/status`).
//! - `/status/{id}`: [`StatusPage`], one monitor: name, URL and current
//!   verdict; 90 daily uptime bars (`/history?window=90d`; hover, focus or
//!   tap one for its figures and failure modes); a latency chart, p50 and
//!   p95, 24 h or 7 d (`/history?window=24h|7d`), drawn as SVG here; the
//!   incidents (`/incidents`) and the drift events with their diffs
//!   (`/drift`); the badge with Markdown and HTML snippets.
//!
//! The JSON bodies are the core's own types (`mcprobe_monitor::history`), so the
//! page reads exactly what the Worker writes. The maths of bars and chart is
//! plain functions ([`bar_class`], [`chart`], [`duration`]) tested on the host.
//! Names, URLs and reasons come from monitor owners and probed servers:
//! text nodes and escaped SVG attributes only.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcprobe_monitor::history::{Bucket, DriftList, History, IncidentList};
use serde_json::Value;

use crate::api;
use crate::check::rich;

/// `/status`: the public monitors.
#[component]
pub fn StatusList() -> impl IntoView {
    let list: RwSignal<Option<Result<Vec<Value>, String>>> = RwSignal::new(None);
    spawn_local(async move {
        // The monitors registered through the API; the crawl's are on /audit.
        let got = api::list_monitors("source=api").await;
        list.set(Some(got));
    });
    view! {
        <section aria-labelledby="list-title">
            <h1 id="list-title">"Public monitors"</h1>
            {move || match list.get() {
                None => view! { <p class="note">"Loading the monitors…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Some(Ok(ms)) if ms.is_empty() => view! {
                    <p>"No public monitors yet. Add one with " <code>"POST /api/monitors"</code> "."</p>
                }
                .into_any(),
                Some(Ok(ms)) => view! {
                    <ul class="monitors" id="monitors">
                        {ms.into_iter().map(|m| {
                            let id = str_of(&m, "id");
                            let name = str_of(&m, "name");
                            let url = str_of(&m, "url");
                            view! {
                                <li data-id=id.clone()>
                                    <StatePill id=id.clone()/>
                                    " "
                                    <a href=format!("/status/{}", encode(&id))>{if name.is_empty() { id.clone() } else { name }}</a>
                                    <br/>
                                    <code class="note">{url}</code>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

/// A monitor's current status as a coloured word.
#[component]
fn StatePill(
    /// The monitor's id.
    id: String,
) -> impl IntoView {
    let state: RwSignal<Option<(String, String)>> = RwSignal::new(None);
    spawn_local(async move {
        let path = format!("/api/monitors/{}/status", encode(&id));
        let s = match api::get_json(&path).await {
            Ok(v) => (
                str_or(&v, "status", "unknown"),
                str_or(&v, "mode", "no probe yet"),
            ),
            Err(_) => ("unknown".to_string(), "status unavailable".to_string()),
        };
        state.set(Some(s));
    });
    move || {
        let (status, mode) = state
            .get()
            .unwrap_or_else(|| ("unknown".into(), "…".into()));
        view! {
            <span class=format!("pill {status}") data-status=status.clone()>{status.clone()}</span>
            " "
            <code class="note">{mode}</code>
        }
    }
}

/// Everything `/status/{id}` shows, loaded together.
#[derive(Clone, Debug, PartialEq)]
struct Loaded {
    monitor: Value,
    status: Value,
    quarter: History,
    day: Option<History>,
    week: Option<History>,
    incidents: IncidentList,
    drift: DriftList,
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("{what} did not parse: {e}"))
}

async fn load(id: &str) -> Result<Loaded, String> {
    let base = format!("/api/monitors/{}", encode(id));
    let status = api::get_json(&format!("{base}/status")).await?;
    // GET /api/monitors/{id} is admin-only; the public list has the URL.
    let monitor = api::get_json("/api/monitors")
        .await
        .ok()
        .and_then(|v| {
            v.get("monitors")?
                .as_array()?
                .iter()
                .find(|m| m.get("id").and_then(Value::as_str) == Some(id))
                .cloned()
        })
        .unwrap_or_else(|| status.clone());
    let quarter: History = parse(
        "the 90-day history",
        api::get_json(&format!("{base}/history?window=90d")).await?,
    )?;
    let day = match api::get_json(&format!("{base}/history?window=24h")).await {
        Ok(v) => parse("the 24 h history", v).ok(),
        Err(_) => None,
    };
    let week = match api::get_json(&format!("{base}/history?window=7d")).await {
        Ok(v) => parse("the 7 d history", v).ok(),
        Err(_) => None,
    };
    let incidents = parse(
        "the incidents",
        api::get_json(&format!("{base}/incidents")).await?,
    )?;
    let drift = parse(
        "the drift events",
        api::get_json(&format!("{base}/drift")).await?,
    )?;
    Ok(Loaded {
        monitor,
        status,
        quarter,
        day,
        week,
        incidents,
        drift,
    })
}

/// `/status/{id}`: one monitor.
#[component]
pub fn StatusPage(
    /// The monitor's id.
    id: String,
) -> impl IntoView {
    let data: RwSignal<Option<Result<Loaded, String>>> = RwSignal::new(None);
    let key = id.clone();
    spawn_local(async move {
        data.set(Some(load(&key).await));
    });
    move || {
        match data.get() {
        None => view! { <section><h1>"Monitor " <code>{id.clone()}</code></h1><p class="note">"Loading its history…"</p></section> }.into_any(),
        Some(Err(e)) => view! {
            <section><h1>"Monitor " <code>{id.clone()}</code></h1><p class="error" role="alert">{e}</p></section>
        }
        .into_any(),
        Some(Ok(l)) => loaded_view(&id, l).into_any(),
    }
    }
}

fn loaded_view(id: &str, l: Loaded) -> impl IntoView {
    let name = str_or(&l.monitor, "name", id);
    let url = str_of(&l.monitor, "url");
    let status = str_or(&l.status, "status", "unknown");
    let mode = str_or(&l.status, "mode", "no probe yet");
    let reason = l
        .status
        .pointer("/verdict/reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let uptime90 = l
        .quarter
        .totals
        .uptime
        .map(|u| format!("{:.2}% up over 90 days", u * 100.0))
        .unwrap_or_else(|| "no probes in 90 days".into());
    view! {
        <section class="status-page" aria-labelledby="mon-title">
            <h1 id="mon-title">{name}</h1>
            <p><code id="mon-url">{url}</code></p>
            <p class=format!("verdict {status}") id="mon-verdict" data-status=status.clone() data-mode=mode.clone()>
                <span class=format!("pill {status}")>{status.to_uppercase()}</span>
                " " <code>{mode.clone()}</code> " " <span class="reason">{reason}</span>
            </p>
            <h2>"Uptime"</h2>
            {bars_view(l.quarter.buckets.clone())}
            <p class="note">{uptime90}</p>
            <h2>"Latency"</h2>
            {latency_view(l.day.clone(), l.week.clone())}
            {incidents_view(l.incidents.clone())}
            {drift_events_view(l.drift.clone())}
            {badge_view(id)}
        </section>
    }
}

/// The CSS class of a day's bar: none (no probes), up, degraded (failures,
/// none down) or down.
pub fn bar_class(b: &Bucket) -> &'static str {
    if b.probes == 0 {
        "none"
    } else if b.down > 0 {
        "down"
    } else if !b.failures_by_mode.is_empty() {
        "degraded"
    } else {
        "up"
    }
}

/// The words of a bar: its day, uptime, probes and failure modes.
pub fn bar_words(b: &Bucket) -> String {
    let day = iso_day(b.start_ms);
    if b.probes == 0 {
        return format!("{day}: no probes");
    }
    let up = b
        .uptime
        .map(|u| format!("{:.2}% up", u * 100.0))
        .unwrap_or_default();
    let modes: Vec<String> = b
        .failures_by_mode
        .iter()
        .map(|(m, n)| format!("{m} ×{n}"))
        .collect();
    let mut s = format!("{day}: {up}, {} probes", b.probes);
    if !modes.is_empty() {
        s.push_str(&format!("; {}", modes.join(", ")));
    }
    s
}

fn bars_view(mut buckets: Vec<Bucket>) -> impl IntoView {
    // 90 bars, whatever the window holds (the newest 90 days).
    let extra = buckets.len().saturating_sub(90);
    buckets.drain(..extra);
    let selected: RwSignal<Option<String>> = RwSignal::new(None);
    view! {
        <div class="bars" id="bars" role="list" aria-label="Daily uptime, oldest first">
            {buckets.into_iter().map(|b| {
                let words = bar_words(&b);
                let w2 = words.clone();
                let w3 = words.clone();
                view! {
                    <div class=format!("bar {}", bar_class(&b)) role="listitem" tabindex="0"
                        title=words.clone() aria-label=words
                        on:click=move |_| selected.set(Some(w2.clone()))
                        on:focus=move |_| selected.set(Some(w3.clone()))></div>
                }
            }).collect_view()}
        </div>
        <p class="note" id="bar-detail" aria-live="polite">
            {move || selected.get().unwrap_or_else(|| "Tap or focus a day for its figures.".into())}
        </p>
    }
}

/// The SVG geometry of a latency chart: polyline points for p50 and p95 and
/// the top of the y axis (ms), over buckets oldest first. Empty buckets
/// leave gaps out (the line joins the buckets that have figures).
pub fn chart(buckets: &[Bucket], width: f64, height: f64) -> (String, String, u64) {
    let max = buckets
        .iter()
        .filter_map(|b| b.p95_ms.or(b.p50_ms))
        .max()
        .unwrap_or(0)
        .max(1);
    let n = buckets.len().max(2) - 1;
    let line = |pick: fn(&Bucket) -> Option<u64>| -> String {
        buckets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                pick(b).map(|ms| {
                    let x = width * i as f64 / n as f64;
                    let y = height - height * (ms.min(max) as f64) / max as f64;
                    format!("{x:.1},{y:.1}")
                })
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    (line(|b| b.p50_ms), line(|b| b.p95_ms), max)
}

fn latency_view(day: Option<History>, week: Option<History>) -> impl IntoView {
    let show_week = RwSignal::new(false);
    let svg = move || {
        let h = if show_week.get() {
            week.clone()
        } else {
            day.clone()
        };
        let Some(h) = h.filter(|h| h.buckets.iter().any(|b| b.p50_ms.is_some())) else {
            return view! { <p class="note" id="latency">"No latency figures for this window: no probe reached the server."</p> }.into_any();
        };
        let (p50, p95, max) = chart(&h.buckets, 300.0, 100.0);
        let label = if show_week.get() {
            "7 days"
        } else {
            "24 hours"
        };
        view! {
            <svg viewBox="-30 -10 340 120" role="img" id="latency"
                aria-label=format!("Latency over {label}: p50 and p95, up to {max} ms")>
                <line class="axis" x1="0" y1="100" x2="300" y2="100"/>
                <line class="axis" x1="0" y1="0" x2="0" y2="100"/>
                <text x="-28" y="4">{format!("{max} ms")}</text>
                <text x="-28" y="100">"0"</text>
                <polyline class="p95" fill="none" stroke-width="1.5" points=p95/>
                <polyline class="p50" fill="none" stroke-width="1.5" points=p50/>
            </svg>
            <p class="legend note"><span class="k50"></span>"p50" <span class="k95"></span>"p95"</p>
        }
        .into_any()
    };
    view! {
        <div class="chart">
            <div class="row" role="group" aria-label="Window">
                <button type="button" aria-pressed=move || (!show_week.get()).to_string() on:click=move |_| show_week.set(false)>"24 h"</button>
                <button type="button" aria-pressed=move || show_week.get().to_string() on:click=move |_| show_week.set(true)>"7 d"</button>
            </div>
            {svg}
        </div>
    }
}

/// `95 ms`, `42 s`, `3 min`, `2 h 5 min`, `3 d 4 h`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn incidents_view(list: IncidentList) -> impl IntoView {
    view! {
        <section id="incidents" aria-labelledby="inc-title">
            <h2 id="inc-title">{format!("Incidents ({})", list.total)}</h2>
            {if list.incidents.is_empty() {
                view! { <p>"No incidents."</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {list.incidents.into_iter().map(|i| {
                            let modes: Vec<&str> = i.modes.iter().map(|m| m.as_str()).collect();
                            view! {
                                <li class="incident" data-open=i.open.to_string() data-status=i.status.as_str()>
                                    <strong>{iso_time(i.started_ms)}</strong>
                                    " · "
                                    {if i.open { format!("ongoing, {}", duration(i.duration_ms)) } else { duration(i.duration_ms) }}
                                    " · "
                                    <code>{modes.join(", ")}</code>
                                    <br/>
                                    <span class="reason">{i.reason.clone()}</span>
                                    {i.hint.clone().map(|h| view! { <br/><span class="note">{rich(&h)}</span> })}
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

fn drift_events_view(list: DriftList) -> impl IntoView {
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

/// The badge and the snippets to paste in a README.
pub fn badge_view(id: &str) -> impl IntoView {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let (badge, page) = (
        format!("{origin}/badge/{}.svg", encode(id)),
        format!("{origin}/status/{}", encode(id)),
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
            <div class="snippet"><pre id="md-snippet" tabindex="0">{markdown.clone()}</pre>{copy_button(markdown)}</div>
            <label for="html-snippet">"HTML"</label>
            <div class="snippet"><pre id="html-snippet" tabindex="0">{html.clone()}</pre>{copy_button(html)}</div>
        </section>
    }
}

fn copy_button(text: String) -> impl IntoView {
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

fn attr_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn str_or(v: &Value, key: &str, or: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or(or).to_string()
}

use mcprobe_core::time::{utc_day as iso_day, utc_minute as iso_time};

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn bucket(probes: u64, down: u64, p50: Option<u64>, p95: Option<u64>) -> Bucket {
        let mut failures = BTreeMap::new();
        if down > 0 {
            failures.insert("connect_refused".to_string(), down);
        }
        Bucket {
            start_ms: 1_763_856_000_000,
            probes,
            down,
            uptime: (probes > 0).then(|| 1.0 - down as f64 / probes as f64),
            p50_ms: p50,
            p95_ms: p95,
            failures_by_mode: failures,
        }
    }

    #[test]
    fn bars_say_what_the_day_was() {
        assert_eq!(bar_class(&bucket(0, 0, None, None)), "none");
        assert_eq!(bar_class(&bucket(10, 0, None, None)), "up");
        assert_eq!(bar_class(&bucket(10, 2, None, None)), "down");
        let mut d = bucket(10, 0, None, None);
        d.failures_by_mode.insert("malformed_jsonrpc".into(), 3);
        assert_eq!(bar_class(&d), "degraded");
        assert_eq!(
            bar_words(&bucket(10, 2, None, None)),
            "2025-11-23: 80.00% up, 10 probes; connect_refused ×2"
        );
    }

    #[test]
    fn the_chart_scales_to_the_slowest_p95() {
        let b = [
            bucket(1, 0, Some(10), Some(50)),
            bucket(0, 0, None, None),
            bucket(1, 0, Some(25), Some(100)),
        ];
        let (p50, p95, max) = chart(&b, 300.0, 100.0);
        assert_eq!(max, 100);
        assert_eq!(p95, "0.0,50.0 300.0,0.0");
        assert_eq!(p50, "0.0,90.0 300.0,75.0");
    }

    #[test]
    fn durations_and_times_read_well() {
        assert_eq!(duration(950), "950 ms");
        assert_eq!(duration(42_000), "42 s");
        assert_eq!(duration(7_500_000), "2 h 5 min");
        assert_eq!(duration(3 * 86_400_000 + 4 * 3_600_000), "3 d 4 h");
        assert_eq!(iso_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(iso_time(1_763_893_860_000), "2025-11-23 10:31 UTC");
        assert_eq!(iso_day(951_782_400_000), "2000-02-29");
    }
}
