//! Start here: what the conversation with the server has learnt so far
//! (revision, session, the stdio child's state, the tools read), shared by
//! every rung of the climb.

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
    /// Speaking the 2024-11-05 HTTP+SSE transport.
    pub sse_transport: bool,
    pub session_id: Option<String>,
    pub sse_endpoint: Option<Url>,
    /// Waiting for a response on the legacy SSE stream: (rpc id, purpose, deadline).
    pub stream_wait: Option<(u64, Purpose, u64)>,
    /// Waiting for a response on stdio: (rpc id, purpose, deadline).
    pub stdio_wait: Option<(u64, Purpose, u64)>,
    pub stdio_buf: Vec<u8>,
    pub stdio_noise_reported: bool,
    /// The stdio `server/discover` in flight: (rpc id, when it was sent).
    pub stdio_discover: Option<(u64, u64)>,
    /// A stdio `server/discover` the probe stopped waiting for: a server
    /// that starts slowly may still answer it while `initialize` is pending.
    pub stdio_late: Option<LateDiscover>,
    /// The stdio child has answered at least once (its first answer's time
    /// includes the process start-up).
    pub stdio_answered: bool,
    /// The rpc id of the request whose answer is being handled, when it is
    /// not the last one sent (stdio answers may come late): what `judge`
    /// checks the answer's id against.
    pub answering: Option<u64>,
    /// A stdio `initialize` refusal held while a late discover answer may
    /// still come (a server answering out of order).
    pub held_initialize: Option<Value>,
    pub capabilities: Value,
    pub tools: Vec<Value>,
    pub pages: u32,
    pub cursors: Vec<String>,
    pub step_started_ms: u64,
    pub http_step_done: bool,
    /// Statuses of the handshake attempts at the listed URL (route search).
    pub handshake_statuses: Vec<u16>,
    /// Excerpts of the handshake answers (evidence for handshake_failed).
    pub answers: Vec<String>,
    pub alt_urls: Vec<Url>,
    pub call_label: String,
    pub call_why: String,
    /// The safe call, chosen when the tool list was complete.
    pub call_choice: Option<SafeCall>,
    /// Messages that came on the legacy stream before anyone waited for them.
    pub stream_inbox: Vec<Value>,
    /// The `/mcp` beside an HTTP+SSE server was looked at (once a probe).
    pub sibling_checked: bool,
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
        self.stdio_wait
            .as_ref()
            .map(|w| w.2)
            .or(self.stream_wait.as_ref().map(|w| w.2))
    }
}
