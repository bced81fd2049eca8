//! Start here: what the conversation with the server has learnt so far
//! (revision, session, the tools read), shared by every rung of the climb.
//! What only one transport needs is grouped apart: the stdio child's state
//! ([`StdioState`]), the 2024-11-05 HTTP+SSE stream's ([`SseStream`]), and
//! the alternate-route search's ([`RouteSearch`]).

use serde_json::Value;
use url::Url;

use super::exchange::Purpose;
use crate::revision::Revision;
use crate::safe_call::SafeCall;

/// What the conversation has learnt so far.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    pub revision: Option<Revision>,
    pub modern: bool,
    pub session_id: Option<String>,
    /// The rpc id of the request whose answer is being handled, when it is
    /// not the last one sent (stdio answers may come late): what `judge`
    /// checks the answer's id against.
    pub answering: Option<u64>,
    pub capabilities: Value,
    pub tools: Vec<Value>,
    pub pages: u32,
    pub cursors: Vec<String>,
    pub step_started_ms: u64,
    pub http_step_done: bool,
    /// Excerpts of the handshake answers (evidence for handshake_failed).
    pub answers: Vec<String>,
    /// The safe call, its label and why it was chosen.
    pub call: CallChoice,
    /// The stdio child (unused over HTTP).
    pub stdio: StdioState,
    /// The 2024-11-05 HTTP+SSE transport (unused unless it is spoken).
    pub sse: SseStream,
    /// The alternate-route search and the look at `/mcp` beside an HTTP+SSE
    /// server.
    pub route: RouteSearch,
}

/// The stdio child's side of the conversation.
#[derive(Debug, Default)]
pub(crate) struct StdioState {
    /// Waiting for a response on stdio: (rpc id, purpose, deadline).
    pub wait: Option<(u64, Purpose, u64)>,
    pub buf: Vec<u8>,
    pub noise_reported: bool,
    /// The stdio `server/discover` in flight: (rpc id, when it was sent).
    pub discover: Option<(u64, u64)>,
    /// A stdio `server/discover` the probe stopped waiting for: a server
    /// that starts slowly may still answer it while `initialize` is pending.
    pub late: Option<LateDiscover>,
    /// The stdio child has answered at least once (its first answer's time
    /// includes the process start-up).
    pub answered: bool,
    /// A stdio `initialize` refusal held while a late discover answer may
    /// still come (a server answering out of order).
    pub held_initialize: Option<Value>,
}

/// The 2024-11-05 HTTP+SSE transport: a GET stream that announces where to
/// POST and carries the answers.
#[derive(Debug, Default)]
pub(crate) struct SseStream {
    /// Speaking the 2024-11-05 HTTP+SSE transport.
    pub active: bool,
    pub endpoint: Option<Url>,
    /// Waiting for a response on the legacy SSE stream: (rpc id, purpose, deadline).
    pub wait: Option<(u64, Purpose, u64)>,
    /// Messages that came on the legacy stream before anyone waited for them.
    pub inbox: Vec<Value>,
}

/// The alternate-route search (`route.rs`).
#[derive(Debug, Default)]
pub(crate) struct RouteSearch {
    /// Statuses of the handshake attempts at the listed URL.
    pub handshake_statuses: Vec<u16>,
    pub alt_urls: Vec<Url>,
    /// The `/mcp` beside an HTTP+SSE server was looked at (once a probe).
    pub sibling_checked: bool,
}

/// The safe call, chosen when the tool list was complete.
#[derive(Debug, Default)]
pub(crate) struct CallChoice {
    pub label: String,
    pub why: String,
    pub choice: Option<SafeCall>,
}

/// A stdio `server/discover` that got no answer within the short wait.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LateDiscover {
    pub id: u64,
    pub sent_ms: u64,
    /// The ladder step that recorded the silence (index in the report).
    pub step: usize,
}

impl Conversation {
    pub fn stdio_deadline(&self) -> Option<u64> {
        self.stdio
            .wait
            .as_ref()
            .map(|w| w.2)
            .or(self.sse.wait.as_ref().map(|w| w.2))
    }
}
