//! What an exchange tells the probe loop, one event at a time.

use crate::http::{ConnectReport, Headers, TransportError};

/// What one exchange reports, in order: for HTTP a `Head`, `Body` chunks,
/// then `End` or `Error`; for a connect preflight `Connected` or `Error`.
/// Nothing comes after `End`, `Error`, `Connected` or `Stop`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<S = std::convert::Infallible> {
    Connected(ConnectReport),
    Head {
        status: u16,
        headers: Headers,
    },
    /// Decoded bytes of the body, as they came.
    Body(Vec<u8>),
    End,
    Error(TransportError),
    /// The host gives up the whole check with its own reason (the page: a
    /// browser hides why a fetch failed, so its verdict would mislead).
    Stop(S),
}

impl<S> Event<S> {
    /// Whether nothing more comes from this exchange.
    pub(super) fn is_last(&self) -> bool {
        !matches!(self, Event::Head { .. } | Event::Body(_))
    }
}
