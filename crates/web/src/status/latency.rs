//! The latency chart of a status page: [`chart`], the SVG geometry (plain,
//! host-tested), and the [`LatencyChart`] view with its 24 h / 7 d switch.

use leptos::prelude::*;
use mcprobe_monitor::history::{Bucket, History};

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

/// p50 and p95 over the last 24 hours or 7 days (`None`: that window did
/// not load).
#[component]
pub fn LatencyChart(day: Option<History>, week: Option<History>) -> impl IntoView {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::bars::tests::bucket;

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
}
