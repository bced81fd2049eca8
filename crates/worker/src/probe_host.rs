//! Start here: the Worker's host loop for the core probe (the Worker's twin of
//! `crates/cli/src/host.rs`).
//!
//! The core decides everything; this file only does I/O with the Workers
//! runtime. `Probe::poll` hands out an [`Action`]: each `Http` becomes a
//! `worker::Fetch` (redirects MANUAL: the core follows and counts them
//! itself) whose response streams back as events (head, body chunks, end or
//! error); `Cancel` aborts that fetch; `Wait` waits for the next event or a
//! `worker::Delay`, whichever is first. Several exchanges can be in flight at
//! once (the legacy HTTP+SSE transport keeps its GET stream open while it
//! POSTs), so every exchange is a stream of events in one `SelectAll`.
//!
//! Before any fetch, the request's URL goes through the same [`Policy`] as the
//! URL typed into `/api/check`: a public server must not be able to redirect
//! the probe to a private or metadata address.
//!
//! Time is `Date.now()`: the Worker is the host, so reading the clock here is
//! fine (the core stays pure). In workerd it only advances across I/O, which
//! is exactly where the probe measures.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::stream::{self, AbortHandle, Abortable, LocalBoxStream, SelectAll};
use futures_util::StreamExt;
use mcprobe_core::http::{ExchangeId, Headers, HttpRequest, Method, TlsErrorKind, TransportError};
use mcprobe_core::{Action, Probe, ProbeConfig, Verdict};
use worker::{
    AbortController, ByteStream, Delay, Fetch, RequestInit, RequestRedirect, SecureTransport,
    Socket,
};

use crate::target::Policy;

/// What an exchange reports back to the loop.
enum Event {
    Head(ExchangeId, u16, Headers),
    Body(ExchangeId, Vec<u8>),
    End(ExchangeId),
    Error(ExchangeId, TransportError),
}

/// An exchange in flight: how to stop it.
struct InFlight {
    /// Ends the event stream (it leaves the `SelectAll` at its next poll).
    stream: AbortHandle,
    /// Tells the runtime to drop the subrequest's connection, so an endless
    /// SSE stream does not outlive the probe.
    fetch: AbortController,
}

impl InFlight {
    fn stop(self) {
        self.stream.abort();
        self.fetch.abort();
    }
}

pub use crate::clock::{now_ms, now_rfc3339};

/// Runs a probe to its verdict. `cfg.preflight` must be false (a Worker has
/// no DNS or TCP API for a connect preflight); it is forced here.
pub async fn run(cfg: ProbeConfig, policy: Policy) -> Result<Verdict, String> {
    run_with_snapshot(cfg, policy).await.map(|(v, _)| v)
}

/// [`run`], also giving the tool-list snapshot when the probe read one (the
/// scheduled monitor stores it once per hash and compares the next probes
/// with it, which is what makes a verdict `schema_drift`).
pub async fn run_with_snapshot(
    mut cfg: ProbeConfig,
    policy: Policy,
) -> Result<(Verdict, Option<mcprobe_core::fingerprint::Snapshot>), String> {
    cfg.preflight = false;
    cfg.stdio = false;
    let mut probe = Probe::new(cfg, now_ms()).map_err(|e| e.to_string())?;
    let mut events: SelectAll<Abortable<LocalBoxStream<'static, Event>>> = SelectAll::new();
    let mut in_flight: HashMap<ExchangeId, InFlight> = HashMap::new();

    let verdict = loop {
        match probe.poll(now_ms()) {
            Action::Http { id, request, .. } => {
                if let Err(refusal) = policy.check_str(&request.url) {
                    probe.on_error(
                        id,
                        TransportError::Other {
                            message: format!("not fetched: {}", refusal.describe()),
                        },
                        now_ms(),
                    );
                    continue;
                }
                let fetch = AbortController::default();
                let exchange = exchange(id, request, &fetch);
                let (stream, handle) = stream::abortable(exchange);
                events.push(stream);
                in_flight.insert(
                    id,
                    InFlight {
                        stream: handle,
                        fetch,
                    },
                );
            }
            Action::Cancel { id } => {
                if let Some(f) = in_flight.remove(&id) {
                    f.stop();
                }
            }
            Action::Connect { id, .. } => {
                // Never asked for with preflight off; answer rather than hang.
                probe.on_error(
                    id,
                    TransportError::Other {
                        message: "a Worker cannot do a connect preflight".into(),
                    },
                    now_ms(),
                );
            }
            Action::StdioWrite { .. } => {}
            Action::Wait { until_ms } => {
                let wait = Duration::from_millis(until_ms.saturating_sub(now_ms()).max(1));
                let delay = Delay::from(wait);
                let event = if events.is_empty() {
                    // An empty SelectAll is "ended" at once: only the timer can wake us.
                    delay.await;
                    None
                } else {
                    match select(events.next(), delay).await {
                        Either::Left((event, _)) => event,
                        Either::Right(((), _)) => None,
                    }
                };
                if let Some(event) = event {
                    feed(&mut probe, &mut in_flight, event);
                }
            }
            Action::Done(v) => break *v,
        }
    };
    for (_, f) in in_flight.drain() {
        f.stop();
    }
    Ok((verdict, probe.snapshot().cloned()))
}

fn feed(probe: &mut Probe, in_flight: &mut HashMap<ExchangeId, InFlight>, event: Event) {
    let now = now_ms();
    match event {
        Event::Head(id, status, headers) => probe.on_head(id, status, headers, now),
        Event::Body(id, chunk) => probe.on_body(id, &chunk, now),
        Event::End(id) => {
            in_flight.remove(&id);
            probe.on_end(id, now);
        }
        Event::Error(id, err) => {
            in_flight.remove(&id);
            probe.on_error(id, err, now);
        }
    }
}

/// Where an exchange's event stream is.
enum Phase {
    Send(Pin<Box<dyn std::future::Future<Output = worker::Result<worker::Response>>>>),
    Body(ExchangeId, ByteStream),
    End(ExchangeId),
    Over,
}

/// One HTTP exchange as a stream: `Head`, `Body`*, then `End` or `Error`.
/// Chunks are pulled only when the loop asks, so a fast server cannot run
/// ahead of the probe's body cap.
///
/// The runtime's fetch asks for and decodes gzip and brotli itself, so the
/// `ByteStream` chunks are decoded bytes and the core's body cap counts what
/// was decoded: a gzip bomb is over the cap after 4 MiB of output, not of
/// input. (A `Content-Length`, if the runtime passes one on, is the encoded
/// size; the core uses it only to refuse a body that says it is over the cap.)
fn exchange(
    id: ExchangeId,
    request: HttpRequest,
    abort: &AbortController,
) -> LocalBoxStream<'static, Event> {
    let target = Target::of(&request.url);
    let signal = abort.signal();
    let send = async move {
        let fetch = build_fetch(&request)?;
        fetch.send_with_signal(&signal).await
    };
    let first = Phase::Send(Box::pin(send));
    stream::unfold(first, move |phase| {
        let target = target.clone();
        async move {
            match phase {
                Phase::Send(fut) => match fut.await {
                    Ok(mut resp) => {
                        let status = resp.status_code();
                        let headers: Headers = resp.headers().entries().collect();
                        let next = match resp.stream() {
                            Ok(body) => Phase::Body(id, body),
                            // A null body (204, 304): the head is all there is.
                            Err(_) => Phase::End(id),
                        };
                        Some((Event::Head(id, status, headers), next))
                    }
                    Err(e) => {
                        let error = diagnose(&error_text(&e), &target).await;
                        Some((Event::Error(id, error), Phase::Over))
                    }
                },
                Phase::Body(id, mut body) => match body.next().await {
                    Some(Ok(chunk)) => Some((Event::Body(id, chunk), Phase::Body(id, body))),
                    Some(Err(e)) => Some((
                        Event::Error(
                            id,
                            classify_fetch_error(&error_text(&e), &target.authority()),
                        ),
                        Phase::Over,
                    )),
                    None => Some((Event::End(id), Phase::Over)),
                },
                Phase::End(id) => Some((Event::End(id), Phase::Over)),
                Phase::Over => None,
            }
        }
    })
    .boxed_local()
}

/// Host and port of a request, for the connect diagnosis and messages.
#[derive(Clone)]
struct Target {
    host: String,
    port: u16,
    tls: bool,
}

impl Target {
    fn of(url: &str) -> Target {
        match url::Url::parse(url) {
            Ok(u) => Target {
                // `host_str` keeps an IPv6 literal's brackets; a socket wants it bare.
                host: u
                    .host_str()
                    .unwrap_or_default()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port: u.port_or_known_default().unwrap_or(0),
                tls: u.scheme() == "https",
            },
            Err(_) => Target {
                host: String::new(),
                port: 0,
                tls: false,
            },
        }
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A fetch that failed before any response says little in workerd: "Network
/// connection lost." for a refused connection, "internal error; reference =
/// ..." for a name that does not resolve or a TLS handshake that failed (the
/// real reason goes to workerd's own log only). So when the text alone does
/// not tell, the host opens a TCP socket (`cloudflare:sockets`) to the same
/// host and port:
/// - it fails too: nothing can be reached there. An IP literal cannot fail
///   DNS, so that is refused; a name whose fetch failed with workerd's
///   "internal error" (its resolver error) did not resolve; else refused.
/// - it opens: the server took the connection. For https a TLS socket is
///   tried next: if it fails, TLS is the failing layer (a TLS error, with
///   whatever reason the runtime shows); else the exchange itself broke.
async fn diagnose(fetch_text: &str, target: &Target) -> TransportError {
    let first = classify_fetch_error(fetch_text, &target.authority());
    if !matches!(first, TransportError::Connection { .. }) || target.host.is_empty() {
        return first;
    }
    match open_socket(target, false).await {
        Err(socket_text) => {
            let literal_ip = target.host.parse::<std::net::IpAddr>().is_ok();
            let resolver_failed =
                !literal_ip && fetch_text.to_ascii_lowercase().contains("internal error");
            if resolver_failed {
                TransportError::Dns {
                    message: format!("fetch: {fetch_text}; TCP connect: {socket_text}"),
                }
            } else {
                TransportError::Refused {
                    address: target.authority(),
                }
            }
        }
        // TCP passed and TLS did not: the TLS layer is the first that fails.
        Ok(()) if target.tls => match open_socket(target, true).await {
            Err(tls_text) => match classify_fetch_error(&tls_text, &target.authority()) {
                tls @ TransportError::Tls { .. } => tls,
                _ => TransportError::Tls {
                    tls: TlsErrorKind::Other,
                    message: format!(
                        "TCP connects but TLS does not; workerd logs the certificate problem, \
                         the Worker only sees: {fetch_text}; TLS socket: {tls_text}"
                    ),
                    not_after: None,
                },
            },
            Ok(()) => TransportError::Connection {
                message: format!(
                    "{fetch_text} (TCP and TLS connect, so the server dropped the exchange)"
                ),
            },
        },
        Ok(()) => TransportError::Connection {
            message: format!("{fetch_text} (TCP connects, so the server dropped the exchange)"),
        },
    }
}

/// Opens (and closes) a socket to the target: `Err` holds the runtime's words.
async fn open_socket(target: &Target, tls: bool) -> Result<(), String> {
    let transport = if tls {
        SecureTransport::On
    } else {
        SecureTransport::Off
    };
    let mut socket = Socket::builder()
        .secure_transport(transport)
        .connect(target.host.clone(), target.port)
        .map_err(|e| error_text(&e))?;
    let opened = socket.opened().await.map_err(|e| error_text(&e));
    let _ = socket.close().await;
    opened.map(|_| ())
}

fn build_fetch(request: &HttpRequest) -> worker::Result<Fetch> {
    let headers = worker::Headers::new();
    for (name, value) in &request.headers {
        headers.append(name, value)?;
    }
    let method = match request.method {
        Method::Get => worker::Method::Get,
        Method::Post => worker::Method::Post,
        Method::Delete => worker::Method::Delete,
    };
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = &request.body {
        let bytes = js_sys::Uint8Array::from(body.as_slice());
        init.with_body(Some(bytes.into()));
    }
    let req = worker::Request::new_with_init(&request.url, &init)?;
    Ok(Fetch::Request(req))
}

/// The text of a runtime error: name, message and every cause, so the
/// classifier sees what the runtime said (workerd puts the socket error in
/// the message, sometimes in a `cause`).
fn error_text(e: &worker::Error) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        match err {
            worker::Error::UnknownJsError {
                name,
                message,
                cause,
                ..
            } => {
                parts.push(match name {
                    Some(n) => format!("{n}: {message}"),
                    None => message.clone(),
                });
                cur = cause.as_deref();
            }
            other => {
                parts.push(other.to_string());
                cur = None;
            }
        }
    }
    parts.join("; caused by: ")
}

/// Maps what the Workers runtime says about a failed fetch to the core's
/// vocabulary. workerd reports socket failures as text only, so this reads
/// the text: refused, DNS, TLS, then anything else as a broken connection.
pub fn classify_fetch_error(text: &str, authority: &str) -> TransportError {
    let lower = text.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&["connection refused", "econnrefused", "connect(): refused"]) {
        return TransportError::Refused {
            address: authority.to_string(),
        };
    }
    if has(&[
        "dns",
        "enotfound",
        "name not resolved",
        "no such host",
        "could not resolve",
        "failed to resolve",
        "name or service not known",
        "no address associated",
    ]) {
        return TransportError::Dns {
            message: text.to_string(),
        };
    }
    if has(&["certificate", "tls", "ssl", "x509"]) {
        let kind = if has(&["expired"]) {
            TlsErrorKind::Expired
        } else if has(&["not yet valid"]) {
            TlsErrorKind::NotYetValid
        } else if has(&[
            "unknown issuer",
            "unable to get local issuer",
            "self signed",
            "self-signed",
            "unknown ca",
            "untrusted",
        ]) {
            TlsErrorKind::UnknownIssuer
        } else if has(&["hostname", "name mismatch", "does not match", "altname"]) {
            TlsErrorKind::NameMismatch
        } else {
            TlsErrorKind::Other
        };
        return TransportError::Tls {
            tls: kind,
            message: text.to_string(),
            not_after: None,
        };
    }
    if has(&["timed out", "timeout"]) {
        return TransportError::Timeout;
    }
    TransportError::Connection {
        message: text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_errors_map_to_transport_errors() {
        assert_eq!(
            classify_fetch_error("Error: connect ECONNREFUSED 127.0.0.1:9", "127.0.0.1:9"),
            TransportError::Refused {
                address: "127.0.0.1:9".into()
            }
        );
        assert!(matches!(
            classify_fetch_error("TypeError: DNS lookup failed", "x.invalid:80"),
            TransportError::Dns { .. }
        ));
        assert!(matches!(
            classify_fetch_error("Error: certificate has expired", "a:443"),
            TransportError::Tls {
                tls: TlsErrorKind::Expired,
                ..
            }
        ));
        assert!(matches!(
            classify_fetch_error("TypeError: Network connection lost.", "a:80"),
            TransportError::Connection { .. }
        ));
    }
}
