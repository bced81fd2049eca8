//! Start here: the probe loop, written once for every host that fetches.
//!
//! A [`Probe`] hands out [`Action`]s and is fed what came of them; [`run`] is
//! the loop between the two, over the small [`Host`] trait that does the
//! I/O: start an HTTP exchange (or a connect preflight), say what time it is,
//! sleep. The hosts implement the trait in their own crates: the page
//! (`crates/web/src/host.rs`), the Worker (`crates/worker/src/probe_host.rs`)
//! and the CLI, whose DNS/TCP/TLS preflight is the connect
//! (`crates/cli/src/host.rs`); the loop, the set of exchanges in flight and the phases of one
//! exchange ([`exchange`]) live here.
//!
//! It stays pure: no socket, no clock, no runtime. The host's futures do the
//! waiting and the host's clock is read through the trait; this code only
//! polls them. Several exchanges can be in flight at once (the legacy
//! HTTP+SSE transport keeps its GET stream open while it POSTs), so a `Wait`
//! polls all of them and the host's timer together.
//!
//! Every bound stays the probe's: body bytes (counted on the decoded bytes
//! the host's stream yields), SSE events, redirects, each exchange's deadline
//! and the whole check's. The loop pulls a chunk only while it waits for the
//! next event, so a fast server cannot run ahead of the body cap; when the
//! probe cancels an exchange (over a cap, past its deadline, or done) the
//! loop drops it, and dropping is how a host's exchange is stopped.

mod event;
mod exchange;
mod in_flight;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use futures_util::Stream;

use crate::fingerprint::Snapshot;
use crate::http::{ConnectRequest, ExchangeId, HttpRequest, TransportError};
use crate::probe::{Action, Probe};
use crate::verdict::Verdict;

pub use event::Event;
pub use exchange::{exchange, Response};
use in_flight::InFlight;

/// The I/O a host lends the probe loop.
pub trait Host {
    /// Why the host may give up a whole check ([`Event::Stop`]);
    /// `Infallible` for a host that never does.
    type Stop;
    /// One exchange's [`Event`]s. Dropping it must stop the exchange and let
    /// its connection go (the loop drops it when the probe cancels it).
    type Exchange: Stream<Item = Event<Self::Stop>>;

    /// Milliseconds on the host's clock (monotonic where it has one).
    fn now_ms(&self) -> u64;

    /// Waits `ms` milliseconds.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;

    /// Starts an HTTP exchange, performed exactly as given (no redirects
    /// followed, no cookies). `Err`: not sent at all (a policy refused its
    /// URL); the probe is told at once.
    fn send(
        &mut self,
        id: ExchangeId,
        request: HttpRequest,
    ) -> Result<Self::Exchange, TransportError>;

    /// Starts a connect preflight (DNS, TCP, TLS, each timed). Only asked of
    /// a host whose probe config says it can (`ProbeConfig::preflight`).
    fn connect(
        &mut self,
        id: ExchangeId,
        request: ConnectRequest,
    ) -> Result<Self::Exchange, TransportError> {
        let _ = (id, request);
        Err(TransportError::Other {
            message: "this host cannot do a connect preflight".into(),
        })
    }

    /// Sees every event of an exchange just before the probe is fed it (the
    /// page's live ladder, `scan` watching for 429). `Stop` is not shown.
    fn observe(&mut self, id: ExchangeId, event: &Event<Self::Stop>, now_ms: u64) {
        let _ = (id, event, now_ms);
    }
}

/// Runs `probe` to its verdict and tool-list snapshot over `host`'s I/O, or
/// to the host's [`Event::Stop`]. Exchanges still in flight at the end are
/// dropped, which stops them.
pub async fn run<H: Host>(
    mut probe: Probe,
    host: &mut H,
) -> Result<(Verdict, Option<Snapshot>), H::Stop> {
    let mut in_flight = InFlight::default();
    loop {
        match probe.poll(host.now_ms()) {
            Action::Http { id, request, .. } => match host.send(id, request) {
                Ok(exchange) => in_flight.start(id, exchange),
                Err(refused) => probe.on_error(id, refused, host.now_ms()),
            },
            Action::Connect { id, request, .. } => match host.connect(id, request) {
                Ok(exchange) => in_flight.start(id, exchange),
                Err(refused) => probe.on_error(id, refused, host.now_ms()),
            },
            Action::Cancel { id } => in_flight.cancel(id),
            // Only a stdio probe writes to a child; its host has its own loop.
            Action::StdioWrite { .. } => {}
            Action::Wait { until_ms } => {
                let wait_ms = until_ms.saturating_sub(host.now_ms()).max(1);
                let timer = host.sleep(wait_ms);
                let Some((id, event)) = next_event(&mut in_flight, timer).await else {
                    continue;
                };
                if let Event::Stop(why) = event {
                    return Err(why);
                }
                let now = host.now_ms();
                host.observe(id, &event, now);
                feed(&mut probe, id, event, now);
            }
            Action::Done(verdict) => return Ok((*verdict, probe.snapshot().cloned())),
        }
    }
}

/// The next event of any exchange in flight, or `None` when `timer` fired
/// first. With nothing in flight only the timer can wake it. (It holds no
/// reference to the host, so a host need not be `Sync` for its loop to be
/// `Send`: the CLI runs probes on a multi-threaded runtime.)
async fn next_event<X, S>(
    in_flight: &mut InFlight<X>,
    timer: impl Future<Output = ()>,
) -> Option<(ExchangeId, Event<S>)>
where
    X: Stream<Item = Event<S>>,
{
    let mut timer = pin!(timer);
    poll_fn(|cx| {
        if let Poll::Ready(next) = in_flight.poll_next(cx) {
            return Poll::Ready(Some(next));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

fn feed<S>(probe: &mut Probe, id: ExchangeId, event: Event<S>, now: u64) {
    match event {
        Event::Connected(report) => probe.on_connected(id, report, now),
        Event::Head { status, headers } => probe.on_head(id, status, headers, now),
        Event::Body(chunk) => probe.on_body(id, &chunk, now),
        Event::End => probe.on_end(id, now),
        Event::Error(error) => probe.on_error(id, error, now),
        // Ends the run before feeding (see `run`).
        Event::Stop(_) => {}
    }
}
