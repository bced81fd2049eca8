//! `/status/{id}`: [`StatusPage`], one monitor: everything it shows is
//! loaded together ([`load`]) as one resource, then drawn by the views of
//! the sibling files.

use leptos::prelude::*;
use mcprobe_monitor::history::{DriftList, History, IncidentList};
use mcprobe_monitor::views::{MonitorStatus, PublicMonitor};

use crate::api::{self, ApiError};
use crate::badge::Badge;
use crate::failure;
use crate::status::bars::Bars;
use crate::status::drift_events::DriftEvents;
use crate::status::incidents::Incidents;
use crate::status::latency::LatencyChart;

/// Everything `/status/{id}` shows, loaded together.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// From the public list (`GET /api/monitors/{id}` is admin-only); `None`
    /// when the first page of the list does not hold it.
    pub monitor: Option<PublicMonitor>,
    pub status: MonitorStatus,
    pub quarter: History,
    /// The 24 h and 7 d windows of the latency chart: optional, a chart
    /// without figures says so rather than failing the page.
    pub day: Option<History>,
    pub week: Option<History>,
    pub incidents: IncidentList,
    pub drift: DriftList,
}

/// Reads every body of one monitor's page.
pub async fn load(id: &str) -> Result<Loaded, ApiError> {
    let status = api::monitor_status(id).await?;
    let monitor = api::first_monitors()
        .await
        .ok()
        .and_then(|list| list.into_iter().find(|m| m.id == id));
    let quarter = api::history(id, "90d").await?;
    let day = api::history(id, "24h").await.ok();
    let week = api::history(id, "7d").await.ok();
    let incidents = api::incidents(id).await?;
    let drift = api::drift(id).await?;
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
    let key = id.clone();
    let data = LocalResource::new(move || {
        let key = key.clone();
        async move { load(&key).await }
    });
    let (id_loading, id_failed, id_loaded) = (id.clone(), id.clone(), id);
    view! {
        <Suspense fallback=move || view! {
            <section><h1>"Monitor " <code>{id_loading.clone()}</code></h1><p class="note">"Loading its history…"</p></section>
        }>
            <ErrorBoundary fallback=move |errors| view! {
                <section><h1>"Monitor " <code>{id_failed.clone()}</code></h1>{failure::alert(errors)}</section>
            }>
                {move || {
                    let id = id_loaded.clone();
                    Suspend::new(async move { data.await.map(|l| view! { <Monitor id=id l=l/> }) })
                }}
            </ErrorBoundary>
        </Suspense>
    }
}

/// One loaded monitor: its verdict, then the sections of the sibling files.
#[component]
fn Monitor(id: String, l: Loaded) -> impl IntoView {
    let name = l
        .monitor
        .as_ref()
        .map_or_else(|| l.status.name.clone(), |m| m.name.clone());
    let url = l.monitor.map(|m| m.url).unwrap_or_default();
    let status = l.status.status.map_or("unknown", |s| s.as_str());
    let mode = l.status.mode.map_or("no probe yet", |m| m.as_str());
    let reason = l.status.reason().to_string();
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
            <p class=format!("verdict {status}") id="mon-verdict" data-status=status data-mode=mode>
                <span class=format!("pill {status}")>{status.to_ascii_uppercase()}</span>
                " " <code>{mode}</code> " " <span class="reason">{reason}</span>
            </p>
            <h2>"Uptime"</h2>
            <Bars buckets=l.quarter.buckets/>
            <p class="note">{uptime90}</p>
            <h2>"Latency"</h2>
            <LatencyChart day=l.day week=l.week/>
            <Incidents list=l.incidents/>
            <DriftEvents list=l.drift/>
            <Badge id=id/>
        </section>
    }
}
