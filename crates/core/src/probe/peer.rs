//! Start here: whom the probe speaks to. The HTTP endpoint is held by the
//! HTTP variant, so a step that speaks HTTP takes it from there instead of
//! unwrapping an optional URL that "cannot" be missing.

use url::Url;

/// An HTTP endpoint, or the stdio child the host started.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Peer {
    /// The endpoint being spoken to (it changes on a permanent redirect).
    Http(Url),
    Stdio,
}

impl Peer {
    /// The HTTP endpoint; `None` on stdio.
    pub fn http(&self) -> Option<&Url> {
        match self {
            Peer::Http(url) => Some(url),
            Peer::Stdio => None,
        }
    }

    pub fn is_stdio(&self) -> bool {
        matches!(self, Peer::Stdio)
    }
}
