//! Start here: a streaming Server-Sent Events parser (WHATWG "event stream"
//! interpretation), fed arbitrary byte chunks as they arrive.
//!
//! Used for Streamable HTTP answers (`text/event-stream`) and for the legacy
//! 2024-11-05 HTTP+SSE transport. It never buffers more than `max_event_bytes`
//! for one event, so a hostile endless line cannot grow memory without bound.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `"message"` when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` field seen, if any.
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an SSE event grew past {limit} bytes without ending")]
    EventTooLarge { limit: usize },
    #[error("the SSE stream is not valid UTF-8")]
    InvalidUtf8,
}

/// Incremental parser: `push` chunks, collect the events each chunk completes.
#[derive(Debug)]
pub struct SseParser {
    max_event_bytes: usize,
    // TODO(helper): internal state
}

impl SseParser {
    pub fn new(max_event_bytes: usize) -> Self {
        SseParser { max_event_bytes }
    }

    /// Feeds one chunk (any split, including inside a CRLF or a UTF-8 sequence)
    /// and returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let _ = (chunk, self.max_event_bytes);
        todo!("sse parser")
    }

    /// End of stream: an event without its closing blank line is NOT dispatched
    /// (per the spec), but a pending line is processed.
    pub fn finish(&mut self) -> Result<Vec<SseEvent>, SseError> {
        todo!("sse finish")
    }
}
