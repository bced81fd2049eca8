//! Start here: the browser's host loop for the core probe (the page's twin of
//! `crates/worker/src/probe_host.rs` and the CLI's `host.rs`).
//!
//! The core decides everything, and the loop is the core's
//! (`mcprobe_core::drive`, shared with the Worker); this file only does I/O
//! with `fetch` (through gloo-net): each HTTP exchange is a fetch with
//! `redirect: "manual"` (the core follows and counts redirects itself) whose
//! body is read chunk by chunk from its `ReadableStream`; a cancelled
//! exchange aborts its fetch; the timer is a `setTimeout`.
//!
//! What a browser cannot do, and why the page then asks the edge instead:
//! a fetch that fails before any response is a bare `TypeError` ("Failed to
//! fetch"), the same for "no CORS headers", "connection refused", "name does
//! not resolve" and "bad certificate": the browser hides which on purpose.
//! A manual redirect is an opaque response whose `Location` is hidden too.
//! Either makes the browser's verdict unreliable, so [`run`] reports it as
//! [`Blocked`] and the caller re-runs the check through `POST /api/check`,
//! where the Worker can tell DNS, TCP and TLS apart.
//!
//! Progress: every exchange start and answer is also reported to an
//! `on_event` callback, which the page turns into the live ladder.

use std::rc::Rc;

use futures_util::stream::{self, LocalBoxStream, Stream, StreamExt};
use gloo_net::http::RequestBuilder;
use js_sys::{Reflect, Uint8Array};
use mcprobe_core::drive::{self, Event, Host, Response};
use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::http::{ExchangeId, HttpRequest, Method, TransportError};
use mcprobe_core::{Probe, ProbeConfig, Verdict};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader, RequestRedirect, ResponseType};

/// Why a check cannot be trusted from the browser (the page then asks the edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// fetch failed before any response: CORS, or the network. `detail` is
    /// the browser's own words.
    Fetch { url: String, detail: String },
    /// A redirect whose target the browser hides (`opaqueredirect`).
    OpaqueRedirect { url: String },
    /// The page's URL scheme forbids it (an https page fetching http://).
    MixedContent { url: String },
    /// Not one response arrived before the deadline: from a browser that
    /// says nothing about why (CORS preflight, TCP, TLS all look alike).
    NoAnswer { url: String },
}

impl Blocked {
    /// One sentence for the page: why the edge ran the check.
    pub fn explain(&self) -> String {
        match self {
            Blocked::Fetch { url, detail } => format!(
                "Your browser could not read the answer from {url} ({detail}). Either the server \
                 sends no CORS headers that allow this page, or it cannot be reached at all: a \
                 browser cannot tell which, because it hides DNS, TCP and TLS errors. The edge \
                 can see them, so it ran the check."
            ),
            Blocked::OpaqueRedirect { url } => format!(
                "{url} answered with a redirect, and a browser hides where a cross-origin \
                 redirect points, so the edge, which can follow it, ran the check."
            ),
            Blocked::NoAnswer { url } => format!(
                "Your browser got no answer at all from {url} before the deadline, and a browser \
                 cannot say whether the connection, TLS or the server stalled, so the edge, \
                 which can, ran the check."
            ),
            Blocked::MixedContent { url } => format!(
                "{url} is plain http and this page is https: the browser refuses such requests \
                 (mixed content), so the edge ran the check."
            ),
        }
    }
}

/// One thing the live ladder shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// An exchange started: `label` is the JSON-RPC method or `METHOD path`.
    Sent { id: u32, label: String, at_ms: u64 },
    /// Its response head arrived.
    Answered { id: u32, status: u16, at_ms: u64 },
    /// It failed below HTTP.
    Failed { id: u32, error: String, at_ms: u64 },
}

/// Milliseconds on the page's monotonic clock (`performance.now()`).
pub fn now_ms() -> u64 {
    let ms = web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now);
    if ms.is_finite() && ms > 0.0 {
        // A count of ms far below 2^53: the cast keeps it exactly.
        ms as u64
    } else {
        0
    }
}

/// Now, RFC 3339 UTC with whole seconds (the CLI's `checked_at` format).
pub fn now_rfc3339() -> String {
    let iso: String = js_sys::Date::new_0().to_iso_string().into();
    match (iso.find('.'), iso.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", &iso[..dot]),
        _ => iso,
    }
}

/// Waits `ms` milliseconds on the page's timer.
pub async fn sleep(ms: u64) {
    let ms = i32::try_from(ms).unwrap_or(i32::MAX);
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(w) = web_sys::window() {
            // On failure the promise never resolves; the probe's deadline
            // still ends the check through the next exchange event.
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Runs a probe in the browser to its verdict and tool-list snapshot, or says
/// why the browser cannot be trusted with this server ([`Blocked`]).
pub async fn run(
    mut cfg: ProbeConfig,
    on_event: Rc<dyn Fn(Progress)>,
) -> Result<Result<(Verdict, Option<Snapshot>), Blocked>, String> {
    cfg.preflight = false;
    cfg.stdio = false;
    if page_is_https() && cfg.url.starts_with("http://") {
        return Ok(Err(Blocked::MixedContent { url: cfg.url }));
    }
    let url = cfg.url.clone();
    let probe = Probe::new(cfg, now_ms()).map_err(|e| e.to_string())?;
    let mut page = Page {
        on_event,
        answered: false,
    };
    let outcome = match drive::run(probe, &mut page).await {
        // A verdict without one response head says only that the browser
        // saw nothing, which the edge can explain better.
        Ok(_) if !page.answered => Err(Blocked::NoAnswer { url }),
        done => done,
    };
    Ok(outcome)
}

/// The page as the probe loop's host.
struct Page {
    on_event: Rc<dyn Fn(Progress)>,
    /// Whether any response head arrived.
    answered: bool,
}

impl Host for Page {
    type Stop = Blocked;
    type Exchange = LocalBoxStream<'static, Event<Blocked>>;

    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn sleep(&self, ms: u64) -> impl std::future::Future<Output = ()> {
        sleep(ms)
    }

    fn send(
        &mut self,
        id: ExchangeId,
        request: HttpRequest,
    ) -> Result<Self::Exchange, TransportError> {
        (self.on_event)(Progress::Sent {
            id: id.0,
            label: label(&request),
            at_ms: now_ms(),
        });
        Ok(exchange(request).boxed_local())
    }

    fn observe(&mut self, id: ExchangeId, event: &Event<Blocked>, now_ms: u64) {
        match event {
            Event::Head { status, .. } => {
                self.answered = true;
                (self.on_event)(Progress::Answered {
                    id: id.0,
                    status: *status,
                    at_ms: now_ms,
                });
            }
            Event::Error(err) => (self.on_event)(Progress::Failed {
                id: id.0,
                error: err.to_string(),
                at_ms: now_ms,
            }),
            _ => {}
        }
    }
}

fn page_is_https() -> bool {
    web_sys::window()
        .and_then(|w| w.location().protocol().ok())
        .is_some_and(|p| p == "https:")
}

/// What the ladder calls an exchange: the JSON-RPC method of a POST, else
/// the HTTP method and path.
fn label(request: &HttpRequest) -> String {
    let rpc = request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("method").and_then(|m| m.as_str()).map(String::from));
    match rpc {
        Some(m) => m,
        None => {
            let path = url::Url::parse(&request.url)
                .map(|u| u.path().to_string())
                .unwrap_or_default();
            format!("{} {path}", request.method.as_str())
        }
    }
}

/// One HTTP exchange through the browser's fetch; a cancelled one aborts it
/// (and with it the body's reader). A fetch that fails before any response,
/// or a redirect the browser hides, stops the whole check ([`Blocked`]).
///
/// The browser sends `Accept-Encoding` itself (the page may not) and its
/// `ReadableStream` yields decoded bytes, so the core's body cap counts what
/// was decoded: a gzip bomb is over the cap after 4 MiB of output, not of
/// input, and reading stops there.
fn exchange(request: HttpRequest) -> impl Stream<Item = Event<Blocked>> {
    let url = request.url.clone();
    let abort = AbortController::new().ok();
    let signal = abort.as_ref().map(AbortController::signal);
    let send = async move {
        let fetched = match build_fetch(&request, signal.as_ref()) {
            Ok(req) => req.send().await.map_err(|e| e.to_string()),
            Err(detail) => Err(detail),
        };
        let resp = match fetched {
            Ok(resp) => resp,
            Err(detail) => return Err(Event::Stop(Blocked::Fetch { url, detail })),
        };
        if resp.type_() == ResponseType::Opaqueredirect {
            return Err(Event::Stop(Blocked::OpaqueRedirect { url }));
        }
        let body = resp
            .body()
            .and_then(|b| {
                b.get_reader()
                    .dyn_into::<ReadableStreamDefaultReader>()
                    .ok()
            })
            .map(body_chunks);
        Ok(Response {
            status: resp.status(),
            headers: resp.headers().entries().collect(),
            // A null body (204, 304): the head is all there is.
            body,
        })
    };
    drive::exchange(send, move || {
        if let Some(abort) = abort {
            abort.abort();
        }
    })
}

/// A body's chunks, read from its stream one at a time as they are asked for.
fn body_chunks(
    reader: ReadableStreamDefaultReader,
) -> impl Stream<Item = Result<Vec<u8>, TransportError>> {
    stream::unfold(reader, |reader| async move {
        match read_chunk(&reader).await {
            Ok(Some(chunk)) => Some((Ok(chunk), reader)),
            Ok(None) => None,
            Err(message) => Some((Err(TransportError::Connection { message }), reader)),
        }
    })
}

/// The next chunk of a body: `Ok(None)` at its end.
async fn read_chunk(reader: &ReadableStreamDefaultReader) -> Result<Option<Vec<u8>>, String> {
    let result = JsFuture::from(reader.read()).await.map_err(js_text)?;
    let done = Reflect::get(&result, &JsValue::from_str("done"))
        .map(|d| d.as_bool().unwrap_or(true))
        .unwrap_or(true);
    if done {
        return Ok(None);
    }
    let value = Reflect::get(&result, &JsValue::from_str("value")).map_err(js_text)?;
    match value.dyn_into::<Uint8Array>() {
        Ok(bytes) => Ok(Some(bytes.to_vec())),
        Err(_) => Err("the body stream gave something other than bytes".into()),
    }
}

fn js_text(v: JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| "unknown JavaScript error".into())
}

fn build_fetch(
    request: &HttpRequest,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<gloo_net::http::Request, String> {
    // Headers built by hand: gloo's `append` throws (an abort here) on a
    // value the browser refuses, and this returns an error instead.
    let raw = web_sys::Headers::new().map_err(js_text)?;
    for (name, value) in &request.headers {
        raw.append(name, value)
            .map_err(|e| format!("header {name}: {}", js_text(e)))?;
    }
    let method = match request.method {
        Method::Get => gloo_net::http::Method::GET,
        Method::Post => gloo_net::http::Method::POST,
        Method::Delete => gloo_net::http::Method::DELETE,
    };
    let builder = RequestBuilder::new(&request.url)
        .method(method)
        .headers(gloo_net::http::Headers::from_raw(raw))
        .redirect(RequestRedirect::Manual)
        .cache(web_sys::RequestCache::NoStore)
        // Never the page's cookies: the probe sends exactly what the core says.
        .credentials(web_sys::RequestCredentials::Omit)
        .abort_signal(signal);
    match &request.body {
        Some(body) => builder
            .body(Uint8Array::from(body.as_slice()))
            .map_err(|e| e.to_string()),
        None => builder.build().map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_rpc_method_or_the_path() {
        let post = HttpRequest {
            method: Method::Post,
            url: "https://e.com/mcp".into(),
            headers: vec![],
            body: Some(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_vec()),
        };
        assert_eq!(label(&post), "tools/list");
        let get = HttpRequest {
            method: Method::Get,
            url: "https://e.com/sse?x=1".into(),
            headers: vec![],
            body: None,
        };
        assert_eq!(label(&get), "GET /sse");
    }
}
