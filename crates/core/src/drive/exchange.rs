//! One HTTP exchange in the phases the probe loop wants: the host's request
//! future gives the response head, then the body is read chunk by chunk, on
//! demand, to its end or an error. The page, the Worker and the CLI each
//! supply the two halves from their own fetch; the phases are written here.

use std::future::Future;
use std::pin::Pin;

use futures_util::stream::{self, Stream, StreamExt};

use super::event::Event;
use crate::http::{Headers, TransportError};

/// A response head, with its body still to read.
pub struct Response<B> {
    pub status: u16,
    pub headers: Headers,
    /// The body's decoded chunks; `None` for a null body (204, 304), where
    /// the head is all there is.
    pub body: Option<B>,
}

enum Phase<F, B> {
    Send(F),
    Body(Pin<Box<B>>),
    End,
    Over,
}

/// Runs `stop` if dropped before disarmed: what stops a fetch that outlives
/// its future (a browser's or a Worker's `AbortController`).
struct StopOnDrop<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> StopOnDrop<F> {
    /// The exchange reached its end: nothing is left to stop.
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl<F: FnOnce()> Drop for StopOnDrop<F> {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            stop();
        }
    }
}

/// One HTTP exchange as a stream of [`Event`]s: `Head`, `Body`*, then `End`
/// or `Error`. `send` is the request in flight: the response head, or the
/// event that ends the exchange there (a transport error, or the host's
/// `Stop`). Body chunks are pulled only when the loop asks. `stop` runs when
/// the exchange is dropped before its end (the probe cancelled it, or the
/// check is over); a host whose futures stop the fetch when dropped passes
/// `|| {}`.
pub fn exchange<S, B>(
    send: impl Future<Output = Result<Response<B>, Event<S>>>,
    stop: impl FnOnce(),
) -> impl Stream<Item = Event<S>>
where
    B: Stream<Item = Result<Vec<u8>, TransportError>>,
{
    let start = (Phase::<_, B>::Send(send), StopOnDrop(Some(stop)));
    stream::unfold(start, |(phase, mut guard)| async move {
        let (event, next) = match phase {
            Phase::Send(send) => match send.await {
                Ok(response) => {
                    let next = match response.body {
                        Some(body) => Phase::Body(Box::pin(body)),
                        None => Phase::End,
                    };
                    let head = Event::Head {
                        status: response.status,
                        headers: response.headers,
                    };
                    (head, next)
                }
                Err(last) => (last, Phase::Over),
            },
            Phase::Body(mut body) => match body.next().await {
                Some(Ok(chunk)) => (Event::Body(chunk), Phase::Body(body)),
                Some(Err(error)) => (Event::Error(error), Phase::Over),
                None => (Event::End, Phase::Over),
            },
            Phase::End => (Event::End, Phase::Over),
            Phase::Over => return None,
        };
        if matches!(next, Phase::Over) {
            guard.disarm();
        }
        Some((event, (next, guard)))
    })
}
