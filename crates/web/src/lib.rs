//! mcprobe-web: the page a stranger meets first, "is my MCP alive?", and the
//! public status pages. Leptos, client-side only, compiled to wasm32 and
//! served by the Worker as static assets (`wrangler.toml` `[assets]`).
//!
//! Start here: [`start`] reads the path and mounts one page:
//! - `/` (and `/?url=...`): [`check::CheckPage`], the core probe running in
//!   the browser ([`host`]) or through the Worker's `/api/check` ([`api`]);
//! - `/status`: [`status::StatusList`], the public monitors;
//! - `/status/{id}`: [`status::StatusPage`], one monitor's 90 days;
//! - `/runbook/{mode}`: one mode's runbook (where alert payloads link);
//! - `/audit`: [`audit::AuditPage`], the registry audit (per-mode table, bar chart, crawl facts).
//!
//! Pure logic lives apart from the views so it is unit-tested on the host:
//! [`ladder`] (the rungs a verdict lights), [`memory`] (the per-URL tool
//! list remembered for drift), [`status`]'s chart maths. Text from probed
//! servers and from the API is only ever put in text nodes.

pub mod api;
pub mod audit;
pub mod check;
pub mod host;
pub mod ladder;
pub mod memory;
pub mod status;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

/// The page to show, from the location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Check {
        url: Option<String>,
    },
    StatusList,
    /// `/audit`: the registry audit.
    Audit,
    Status {
        id: String,
    },
    /// `/runbook/{mode}`: where alerts link (`notify`'s default runbook URL).
    Runbook {
        mode: String,
    },
    NotFound {
        path: String,
    },
}

/// Routes a path and query string (`?url=...`, already without the `?`).
pub fn route(path: &str, query: &str) -> Route {
    let path = path.trim_end_matches('/');
    match path {
        "" | "/index.html" => Route::Check {
            url: url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "url")
                .map(|(_, v)| v.into_owned()),
        },
        "/status" => Route::StatusList,
        "/audit" => Route::Audit,
        p => match (p.strip_prefix("/status/"), p.strip_prefix("/runbook/")) {
            (Some(id), _) if !id.is_empty() && !id.contains('/') => Route::Status {
                id: percent_decode(id),
            },
            (_, Some(mode)) if !mode.is_empty() && !mode.contains('/') => Route::Runbook {
                mode: percent_decode(mode),
            },
            _ => Route::NotFound {
                path: p.to_string(),
            },
        },
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// Puts `/?url=...` in the address bar (replacing the entry), so a result
/// can be shared. Only the URL: never a header.
pub fn set_query_url(target: &str) {
    let Some(w) = web_sys::window() else {
        return;
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("url", target)
        .finish();
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("/?{query}")));
    }
}

/// The wasm entry point: mounts the page for the current location.
#[wasm_bindgen(start)]
pub fn start() {
    let Some(w) = web_sys::window() else {
        return;
    };
    let loc = w.location();
    let path = loc.pathname().unwrap_or_default();
    let query = loc.search().unwrap_or_default();
    let page = route(&path, query.trim_start_matches('?'));
    leptos::mount::mount_to_body(move || view! { <App page=page/> });
    // The first-render mark the browser test reads (performance.now() ms).
    if let Some(p) = w.performance() {
        let _ = js_sys::Reflect::set(
            &w,
            &JsValue::from_str("__mcprobeRendered"),
            &JsValue::from_f64(p.now()),
        );
    }
}

/// The shell around every page: header, main, footer.
#[component]
fn App(page: Route) -> impl IntoView {
    let main = match page {
        Route::Check { url } => view! { <check::CheckPage initial=url/> }.into_any(),
        Route::StatusList => view! { <status::StatusList/> }.into_any(),
        Route::Audit => view! { <audit::AuditPage/> }.into_any(),
        Route::Status { id } => view! { <status::StatusPage id=id/> }.into_any(),
        Route::Runbook { mode } => runbook_page(&mode).into_any(),
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

/// `/runbook/{mode}`: what the mode means and the first steps (the core's
/// runbook, the same text the check page shows under a verdict).
fn runbook_page(code: &str) -> impl IntoView {
    match mcprobe_core::Mode::from_code(code) {
        Some(mode) => {
            let rb = mcprobe_core::runbook::runbook(mode);
            view! {
                <section class="runbook" id="runbook" data-mode=mode.as_str() aria-labelledby="rb-title">
                    <p class="note">"Runbook for " <code>{mode.as_str()}</code></p>
                    <h1 id="rb-title">{rb.title}</h1>
                    <p>{check::rich(rb.meaning)}</p>
                    <ol>{rb.steps.iter().map(|s| view! { <li>{check::rich(s)}</li> }).collect_view()}</ol>
                    <p><a href="/">"Check a server now"</a></p>
                </section>
            }
            .into_any()
        }
        None => view! {
            <section>
                <h1>"No such mode"</h1>
                <p><code>{code.to_string()}</code> " is not a mcprobe mode. The modes are: "
                {mcprobe_core::Mode::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")} "."</p>
            </section>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_to_pages() {
        assert_eq!(route("/", ""), Route::Check { url: None });
        assert_eq!(
            route("/", "url=https%3A%2F%2Fe.com%2Fmcp%3Fa%3D1"),
            Route::Check {
                url: Some("https://e.com/mcp?a=1".into())
            }
        );
        assert_eq!(route("/status", ""), Route::StatusList);
        assert_eq!(route("/status/", ""), Route::StatusList);
        assert_eq!(
            route("/status/mon%20a", ""),
            Route::Status { id: "mon a".into() }
        );
        assert!(matches!(route("/status/a/b", ""), Route::NotFound { .. }));
        assert_eq!(
            route("/runbook/connect_refused", ""),
            Route::Runbook {
                mode: "connect_refused".into()
            }
        );
        assert!(matches!(route("/nope", ""), Route::NotFound { .. }));
    }
}
