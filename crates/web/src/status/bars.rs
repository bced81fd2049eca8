//! The 90 daily uptime bars of a status page: [`bar_class`] and
//! [`bar_words`] (plain, host-tested) and the [`Bars`] view, where hovering,
//! focusing or tapping a bar shows its figures.

use leptos::prelude::*;
use mcprobe_core::time::utc_day as iso_day;
use mcprobe_monitor::history::Bucket;

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

/// 90 bars, whatever the window holds (the newest 90 days), oldest first.
#[component]
pub fn Bars(mut buckets: Vec<Bucket>) -> impl IntoView {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;

    pub(crate) fn bucket(probes: u64, down: u64, p50: Option<u64>, p95: Option<u64>) -> Bucket {
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
}
