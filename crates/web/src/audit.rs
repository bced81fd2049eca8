//! Start here: `/audit`, the audit of every endpoint the public registries
//! list, as the Worker's crawl and probes see it (`GET /api/registry/summary`,
//! crates/worker/src/registry_api.rs).
//!
//! The page shows the headline (how many endpoints, how many failing, loud
//! versus quiet as in the taxonomy), the per-mode table (count, share,
//! bucket; every verdict mode in ladder order, each linking its runbook), a
//! bar chart of the same counts drawn here as SVG, and the crawl's facts
//! (when, full or incremental, pages, endpoints, duplicates, templated,
//! retired). The JSON is read into plain structs and the geometry is a
//! plain function ([`bars`]) tested on the host. Registry URLs and error
//! texts come from the network: text nodes only.

use leptos::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use crate::api;
use crate::failure;

/// One line of the summary's per-mode table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModeRow {
    pub mode: String,
    /// `loud`, `quiet` or `passing`.
    pub bucket: String,
    pub count: u64,
    /// Of the probed endpoints, 0..=1.
    pub share: f64,
}

/// The monitor counts of the summary.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Counts {
    #[serde(default)]
    pub live: u64,
    #[serde(default)]
    pub probed: u64,
    #[serde(default)]
    pub not_yet_probed: u64,
    #[serde(default)]
    pub needs_credentials: u64,
    #[serde(default)]
    pub retired: u64,
    #[serde(default)]
    pub templated: u64,
}

/// `GET /api/registry/summary`, the parts this page shows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Summary {
    #[serde(default)]
    pub registries: Vec<String>,
    #[serde(default)]
    pub monitors: Counts,
    #[serde(default)]
    pub table: Vec<ModeRow>,
    /// The latest crawl's facts (null before the first crawl).
    #[serde(default)]
    pub crawl: Value,
}

impl Summary {
    /// Endpoints in `bucket` (loud / quiet / passing).
    pub fn bucket(&self, bucket: &str) -> u64 {
        self.table
            .iter()
            .filter(|r| r.bucket == bucket)
            .map(|r| r.count)
            .sum()
    }
}

/// One bar of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub mode: String,
    pub bucket: String,
    pub count: u64,
    /// Top of the bar's row.
    pub y: f64,
    /// Length, proportional to the count (the longest bar is `width`).
    pub w: f64,
}

/// Horizontal bars of the modes that have a count, most common first, each
/// `row` high, the longest `width` long.
pub fn bars(rows: &[ModeRow], width: f64, row: f64) -> Vec<Bar> {
    let mut nonzero: Vec<&ModeRow> = rows.iter().filter(|r| r.count > 0).collect();
    // Stable: ties keep the table's ladder order.
    nonzero.sort_by_key(|r| std::cmp::Reverse(r.count));
    let max = nonzero.first().map_or(1, |r| r.count.max(1));
    nonzero
        .iter()
        .enumerate()
        .map(|(i, r)| Bar {
            mode: r.mode.clone(),
            bucket: r.bucket.clone(),
            count: r.count,
            y: i as f64 * row,
            w: width * r.count as f64 / max as f64,
        })
        .collect()
}

/// `0.1234` -> `"12.3%"`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn colour(bucket: &str) -> &'static str {
    match bucket {
        "loud" => "fill: var(--down)",
        "quiet" => "fill: var(--degraded)",
        _ => "fill: var(--up)",
    }
}

/// `/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    let data = LocalResource::new(|| api::get::<Summary>("/api/registry/summary", "the summary"));
    view! {
        <section class="audit" aria-labelledby="audit-title">
            <h1 id="audit-title">"Registry audit"</h1>
            <Suspense fallback=|| view! { <p class="note">"Loading the audit…"</p> }>
                <ErrorBoundary fallback=failure::alert>
                    {move || Suspend::new(async move { data.await.map(loaded) })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

fn loaded(s: Summary) -> AnyView {
    let probed = s.monitors.probed;
    let loud = s.bucket("loud");
    let quiet = s.bucket("quiet");
    let share = |n: u64| {
        if probed == 0 {
            "0.0%".to_string()
        } else {
            percent(n as f64 / probed as f64)
        }
    };
    let headline = if probed == 0 {
        format!(
            "{} endpoints listed, none probed yet. The crawl runs hourly; probes follow within a minute.",
            s.monitors.live
        )
    } else {
        format!(
            "{probed} of {} listed endpoints probed: {} failing ({} loud: down for any uptime check; {} quiet: something answers but MCP does not work).",
            s.monitors.live,
            share(loud + quiet),
            share(loud),
            share(quiet),
        )
    };
    let chart = bars(&s.table, 220.0, 16.0);
    let height = (chart.len().max(1) as f64) * 16.0;
    let rows = s.table.clone();
    view! {
        <p class="lede" id="audit-headline">{headline}</p>
        <p class="note">
            {format!(
                "{} templated URLs recorded, not probed; {} need credentials (a listed secret header: their 401 is auth_required); {} retired (no registry lists them any more).",
                s.monitors.templated, s.monitors.needs_credentials, s.monitors.retired
            )}
        </p>
        <h2>"By failure mode"</h2>
        <table id="audit-table">
            <thead><tr><th scope="col">"Mode"</th><th scope="col">"Kind"</th><th scope="col">"Count"</th><th scope="col">"Share"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr data-mode=r.mode.clone() data-bucket=r.bucket.clone()>
                        <td><a href=format!("/runbook/{}", r.mode)><code>{r.mode.clone()}</code></a></td>
                        <td>{r.bucket.clone()}</td>
                        <td class="count">{r.count.to_string()}</td>
                        <td>{percent(r.share)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {(!chart.is_empty()).then(|| view! {
            <svg id="audit-chart" viewBox=format!("0 0 400 {height}") role="img"
                aria-label="Endpoints per mode, most common first; red loud, amber quiet, green passing">
                {chart.into_iter().map(|b| view! {
                    <g data-mode=b.mode.clone()>
                        <text x="0" y=format!("{:.1}", b.y + 12.0) style="font-size: 11px; fill: currentColor">{b.mode.clone()}</text>
                        <rect x="140" y=format!("{:.1}", b.y + 2.0) width=format!("{:.1}", b.w.max(1.0)) height="12" style=colour(&b.bucket)/>
                        <text x=format!("{:.1}", 144.0 + b.w) y=format!("{:.1}", b.y + 12.0) style="font-size: 11px; fill: currentColor">{b.count.to_string()}</text>
                    </g>
                }).collect_view()}
            </svg>
        })}
        <h2>"The crawl"</h2>
        {crawl_facts(&s)}
    }
    .into_any()
}

fn crawl_facts(s: &Summary) -> impl IntoView {
    let c = &s.crawl;
    if c.is_null() {
        return view! {
            <p class="note" id="crawl-facts">
                {if s.registries.is_empty() {
                    "No registry is configured (the REGISTRIES var is empty), so nothing is crawled."
                } else {
                    "No crawl yet: it runs at minute 5 of every hour."
                }}
            </p>
        }
        .into_any();
    }
    let n = |k: &str| c.get(k).and_then(Value::as_u64).unwrap_or(0).to_string();
    let when = c
        .get("at_ms")
        .and_then(Value::as_u64)
        .map(mcprobe_core::time::rfc3339)
        .unwrap_or_default();
    let kind = c
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let complete = c.get("complete").and_then(Value::as_bool) == Some(true);
    let errors: Vec<String> = c
        .get("errors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let facts = [
        (
            "When",
            format!(
                "{when} ({kind}{})",
                if complete { "" } else { ", incomplete" }
            ),
        ),
        ("Registries", s.registries.join(", ")),
        ("Pages", n("pages")),
        ("Listings", n("listings")),
        ("Distinct endpoints", n("endpoints")),
        ("Duplicates merged", n("duplicates")),
        ("Templated", n("templated")),
        ("Monitors written", n("upserted")),
        ("Retired", n("retired")),
    ];
    view! {
        <dl id="crawl-facts">
            {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
        </dl>
        {(!errors.is_empty()).then(|| view! {
            <p class="note">"What went wrong (nothing is retired after an incomplete crawl):"</p>
            <ul class="crawl-errors">{errors.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view()}</ul>
        })}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(mode: &str, bucket: &str, count: u64) -> ModeRow {
        ModeRow {
            mode: mode.into(),
            bucket: bucket.into(),
            count,
            share: 0.0,
        }
    }

    #[test]
    fn bars_skip_zeros_rank_by_count_and_scale_to_the_longest() {
        let rows = vec![
            row("connect_refused", "loud", 10),
            row("http_error", "loud", 0),
            row("handshake_failed", "quiet", 10),
            row("ok", "passing", 40),
        ];
        let b = bars(&rows, 200.0, 16.0);
        let modes: Vec<&str> = b.iter().map(|x| x.mode.as_str()).collect();
        assert_eq!(modes, vec!["ok", "connect_refused", "handshake_failed"]);
        assert_eq!(b[0].w, 200.0);
        assert_eq!(b[1].w, 50.0);
        assert_eq!(b[2].y, 32.0);
        assert!(bars(&[row("ok", "passing", 0)], 200.0, 16.0).is_empty());
    }

    #[test]
    fn the_summary_reads_and_buckets_add_up() {
        let s: Summary = serde_json::from_value(serde_json::json!({
            "registries": ["https://r.example"],
            "monitors": {"live": 5, "probed": 4, "retired": 1},
            "table": [
                {"mode": "connect_refused", "bucket": "loud", "layer": "tcp", "count": 2, "share": 0.5},
                {"mode": "handshake_failed", "bucket": "quiet", "layer": "handshake", "count": 1, "share": 0.25},
                {"mode": "ok", "bucket": "passing", "layer": "-", "count": 1, "share": 0.25}
            ],
            "audit": {},
            "crawl": null
        }))
        .expect("parses");
        assert_eq!(s.bucket("loud"), 2);
        assert_eq!(s.bucket("quiet"), 1);
        assert_eq!(s.monitors.templated, 0);
        assert!(s.crawl.is_null());
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(crate::route("/audit", ""), crate::Route::Audit);
    }
}
