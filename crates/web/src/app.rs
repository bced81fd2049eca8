//! Start here: [`App`], the shell around every page (header, main, footer),
//! mounting the page of a [`Route`].

use leptos::prelude::*;

use crate::audit::AuditPage;
use crate::check::CheckPage;
use crate::route::Route;
use crate::runbook::RunbookPage;
use crate::status::{StatusList, StatusPage};

/// The shell around every page: header, main, footer.
#[component]
pub fn App(page: Route) -> impl IntoView {
    let main = match page {
        Route::Check { url } => view! { <CheckPage initial=url/> }.into_any(),
        Route::StatusList => view! { <StatusList/> }.into_any(),
        Route::Audit => view! { <AuditPage/> }.into_any(),
        Route::Status { id } => view! { <StatusPage id=id/> }.into_any(),
        Route::Runbook { mode } => view! { <RunbookPage code=mode/> }.into_any(),
        Route::NotFound { path } => view! {
            <section><h1>"Not found"</h1><p>"No page at " <code>{path}</code> ". "
            <a href="/">"Check a server"</a> " or see " <a href="/status">"the public monitors"</a> "."</p></section>
        }
        .into_any(),
    };
    view! {
        <header class="top">
            <a class="brand" href="/">"mcprobe"</a>
            <nav aria-label="Main"><a href="/">"Check"</a> <a href="/status">"Status"</a> <a href="/audit">"Audit"</a></nav>
        </header>
        <main id="main">{main}</main>
        <footer class="foot">
            <p>"mcprobe probes MCP servers from DNS to the tool list, in your browser or at the edge."</p>
        </footer>
    }
}
