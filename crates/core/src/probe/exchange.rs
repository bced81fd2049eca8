//! Start here: one request and what came of it, the floor every rung of the
//! climb stands on. Each request the probe makes has a [`Purpose`]; the wire
//! (`wire.rs`) reads its answer into an [`Outcome`]; the steps (`steps.rs`,
//! `listing.rs`, `auth.rs`, `route.rs`, `stdio.rs`) decide what comes next.
//! These types live here, apart from all of them, so that none of those files
//! has to import another's.

use serde_json::Value;
use url::Url;

use super::discovery::Discovery;
use crate::http::{Headers, HttpRequest, TransportError};
use crate::sse::SseParser;

/// What a request was for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Purpose {
    Connect,
    Discover,
    Initialize,
    Initialized,
    /// GET for the 2024-11-05 `endpoint` event.
    SseOpen,
    ToolsList,
    SafeCall,
    /// GET of an RFC 9728 or RFC 8414 document (`auth.rs`).
    AuthMetadata {
        discovery: Box<Discovery>,
    },
    EndSession,
    /// The alternate-route search.
    Alt {
        idx: usize,
        kind: AltKind,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AltKind {
    Discover,
    Initialize,
    Sse,
    /// The look at `/mcp` beside a server found on the old HTTP+SSE
    /// transport: does the same origin also serve Streamable HTTP?
    SiblingDiscover,
    SiblingInitialize,
}

/// What came of one request, as the conversation sees it.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// The first response head of the probe (for the ladder's `http` step).
    Head {
        status: u16,
        ms: u64,
    },
    /// A JSON-RPC response (picked out of a batch or an SSE stream).
    Reply {
        msg: Value,
        status: u16,
        headers: Headers,
    },
    /// A 2xx answer with no body (202 to a notification or an HTTP+SSE POST).
    NoBody {
        status: u16,
    },
    /// A 2xx answer that is not JSON-RPC (HTML, garbage, empty, a stream that
    /// ended without the response).
    NotMcp {
        status: u16,
        why: String,
        excerpt: String,
    },
    /// A non-2xx answer, body read (capped), parsed as JSON-RPC when it is.
    Status {
        status: u16,
        headers: Headers,
        excerpt: String,
        reply: Option<Value>,
    },
    /// A raw answer (for non-MCP GETs: protected-resource metadata, DELETE).
    Raw {
        status: u16,
        body: Vec<u8>,
    },
    /// The legacy GET stream announced its POST endpoint.
    SseEndpoint {
        endpoint: Url,
    },
    /// A hosting platform's page.
    Platform {
        platform: &'static str,
        signature: String,
        status: u16,
    },
    RedirectLoop {
        last: String,
    },
    Failed(TransportError),
}

impl Outcome {
    /// A few words for a step detail.
    pub fn short(&self) -> String {
        match self {
            Outcome::Head { status, .. } => format!("HTTP {status}"),
            Outcome::Reply { status, .. } => format!("HTTP {status}, JSON-RPC answer"),
            Outcome::NoBody { status, .. } => format!("HTTP {status}, no body"),
            Outcome::NotMcp { status, why, .. } => format!("HTTP {status}, {why}"),
            Outcome::Status { status, .. } | Outcome::Raw { status, .. } => {
                format!("HTTP {status}")
            }
            Outcome::SseEndpoint { endpoint } => format!("endpoint {endpoint}"),
            Outcome::Platform { platform, .. } => format!("{platform} page"),
            Outcome::RedirectLoop { .. } => "redirect loop".into(),
            Outcome::Failed(e) => e.to_string(),
        }
    }
}

/// How an exchange's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyMode {
    /// Buffer it (capped) and judge at the end.
    Buffer,
    /// An SSE answer to one request: look for the response event.
    SseAnswer,
    /// The legacy HTTP+SSE GET stream: `endpoint`, then `message` events.
    LegacyStream,
    /// Raw bytes wanted (metadata documents, DELETE).
    Raw,
}

/// One exchange in flight.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub purpose: Purpose,
    pub request: Option<HttpRequest>,
    pub rpc_id: Option<u64>,
    pub redirects: u8,
    pub started_ms: u64,
    pub deadline_ms: u64,
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
    pub received: usize,
    pub mode: BodyMode,
    pub sse: Option<SseParser>,
    /// Wants the 2024-11-05 `endpoint` event (GET).
    pub wants_endpoint: bool,
    /// The body arrived in full or was judged: ignore further events.
    pub settled: bool,
}
