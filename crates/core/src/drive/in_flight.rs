//! The exchanges in flight: each a stream of events, polled together.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;

use super::event::Event;
use crate::http::ExchangeId;

/// A handful at most (the legacy transport's GET stream beside one POST), so
/// a list polled in turn is enough; unlike a `SelectAll` it can drop one
/// exchange at once when the probe cancels it.
pub(super) struct InFlight<X> {
    exchanges: Vec<(ExchangeId, Pin<Box<X>>)>,
}

impl<X> Default for InFlight<X> {
    fn default() -> Self {
        InFlight {
            exchanges: Vec::new(),
        }
    }
}

impl<X, S> InFlight<X>
where
    X: Stream<Item = Event<S>>,
{
    pub(super) fn start(&mut self, id: ExchangeId, exchange: X) {
        self.exchanges.push((id, Box::pin(exchange)));
    }

    /// Drops the exchange, which stops it (the host's contract).
    pub(super) fn cancel(&mut self, id: ExchangeId) {
        self.exchanges.retain(|(each, _)| *each != id);
    }

    /// The next event of any exchange. One that has said its last is
    /// dropped; one that answered goes to the back, so a stream that always
    /// has a chunk ready (an SSE flood) cannot starve the others.
    pub(super) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<(ExchangeId, Event<S>)> {
        let mut i = 0;
        // Bounded: every turn either moves `i` on or removes an exchange.
        while i < self.exchanges.len() {
            match self.exchanges[i].1.as_mut().poll_next(cx) {
                Poll::Pending => i += 1,
                // Ended without a last word: nothing more will come, and the
                // probe's deadline for it still speaks.
                Poll::Ready(None) => {
                    self.exchanges.remove(i);
                }
                Poll::Ready(Some(event)) => {
                    let entry = self.exchanges.remove(i);
                    let id = entry.0;
                    if !event.is_last() {
                        self.exchanges.push(entry);
                    }
                    return Poll::Ready((id, event));
                }
            }
        }
        Poll::Pending
    }
}
