//! Start here: a streaming Server-Sent Events parser (WHATWG "event stream"
//! interpretation), fed arbitrary byte chunks as they arrive.
//!
//! Used for Streamable HTTP answers (`text/event-stream`) and for the legacy
//! 2024-11-05 HTTP+SSE transport. It never buffers more than `max_event_bytes`
//! for one event, so a hostile endless line cannot grow memory without bound.
//!
//! How it works: bytes are buffered until a line end (CRLF, LF or a lone CR),
//! and only then is the line decoded as UTF-8. Line-end bytes never occur inside
//! a multi-byte UTF-8 sequence, so chunks may split anywhere. A CR that ends one
//! chunk is remembered so that an LF opening the next chunk is not taken for a
//! second (blank, dispatching) line. Errors are terminal: once a stream is too
//! large or not UTF-8 the parser keeps returning that error, because the event
//! boundaries after it can no longer be trusted.

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

/// The UTF-8 byte order mark, skipped once at the very start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Incremental parser: `push` chunks, collect the events each chunk completes.
#[derive(Debug)]
pub struct SseParser {
    max_event_bytes: usize,
    /// Bytes of the line being read, without its line end.
    line: Vec<u8>,
    /// The previous chunk ended in CR: an LF opening this chunk belongs to it.
    pending_cr: bool,
    /// No line has been completed yet, so a leading BOM may still be there.
    first_line: bool,
    /// The spec's data buffer: each `data` value followed by `\n`.
    data: String,
    /// The spec's event type buffer.
    event_type: String,
    /// The spec's last event ID buffer; it survives dispatches, as specified.
    last_id: Option<String>,
    /// Set once the stream failed; every later call returns it again.
    failed: Option<SseError>,
}

impl SseParser {
    pub fn new(max_event_bytes: usize) -> Self {
        SseParser {
            max_event_bytes,
            line: Vec::new(),
            pending_cr: false,
            first_line: true,
            data: String::new(),
            event_type: String::new(),
            last_id: None,
            failed: None,
        }
    }

    /// Feeds one chunk (any split, including inside a CRLF or a UTF-8 sequence)
    /// and returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut events = Vec::new();
        let mut rest = chunk;
        if self.pending_cr && !rest.is_empty() {
            self.pending_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while !rest.is_empty() {
            match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                None => {
                    self.extend_line(rest)?;
                    break;
                }
                Some(end) => {
                    self.extend_line(&rest[..end])?;
                    let is_cr = rest[end] == b'\r';
                    rest = &rest[end + 1..];
                    if is_cr {
                        match rest.first() {
                            Some(b'\n') => rest = &rest[1..],
                            Some(_) => {}
                            // The LF of a CRLF may open the next chunk.
                            None => self.pending_cr = true,
                        }
                    }
                    if let Some(event) = self.complete_line()? {
                        events.push(event);
                    }
                }
            }
        }
        Ok(events)
    }

    /// End of stream: an event without its closing blank line is NOT dispatched
    /// (per the spec), but a pending line is processed.
    pub fn finish(&mut self) -> Result<Vec<SseEvent>, SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        // A non-empty line can never dispatch, so processing it only matters
        // for its side effects (the last event ID) and for reporting bad UTF-8.
        let mut events = Vec::new();
        if !self.line.is_empty() {
            if let Some(event) = self.complete_line()? {
                events.push(event);
            }
        }
        // "If the file ends in the middle of an event, before the final empty
        // line, the incomplete event is not dispatched."
        self.data.clear();
        self.event_type.clear();
        self.pending_cr = false;
        Ok(events)
    }

    /// Appends bytes to the current line, refusing to grow past the limit.
    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        let pending = self.data.len() + self.event_type.len() + self.line.len();
        if pending.saturating_add(bytes.len()) > self.max_event_bytes {
            return Err(self.fail(SseError::EventTooLarge {
                limit: self.max_event_bytes,
            }));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// Records a terminal error and frees the buffers it makes useless.
    fn fail(&mut self, err: SseError) -> SseError {
        self.line = Vec::new();
        self.data = String::new();
        self.event_type = String::new();
        self.failed = Some(err.clone());
        err
    }

    /// Interprets the buffered line (its line end already consumed).
    fn complete_line(&mut self) -> Result<Option<SseEvent>, SseError> {
        let mut bytes = std::mem::take(&mut self.line);
        if self.first_line {
            self.first_line = false;
            if bytes.starts_with(BOM) {
                bytes.drain(..BOM.len());
            }
        }
        let line = match std::str::from_utf8(&bytes) {
            Ok(line) => line,
            Err(_) => return Err(self.fail(SseError::InvalidUtf8)),
        };
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            // `retry` only matters to a reconnecting client; the probe never
            // reconnects. Unknown fields are ignored, as the spec says.
            _ => {}
        }
        // The line buffer is empty again, so this checks the data alone.
        if self.data.len() + self.event_type.len() > self.max_event_bytes {
            return Err(self.fail(SseError::EventTooLarge {
                limit: self.max_event_bytes,
            }));
        }
        // Keep the line's allocation for the next line.
        bytes.clear();
        self.line = bytes;
        Ok(None)
    }

    /// A blank line: dispatch the pending event, if it has any data.
    fn dispatch(&mut self) -> Option<SseEvent> {
        let event_type = std::mem::take(&mut self.event_type);
        if self.data.is_empty() {
            return None;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        Some(SseEvent {
            event: if event_type.is_empty() {
                "message".to_owned()
            } else {
                event_type
            },
            data,
            id: self.last_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 16;

    fn ev(event: &str, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: event.to_owned(),
            data: data.to_owned(),
            id: id.map(str::to_owned),
        }
    }

    /// Feeds the whole input in one chunk, then finishes.
    fn whole(input: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut p = SseParser::new(LIMIT);
        let mut out = p.push(input)?;
        out.extend(p.finish()?);
        Ok(out)
    }

    /// Feeds the input one byte at a time, then finishes.
    fn bytewise(input: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut p = SseParser::new(LIMIT);
        let mut out = Vec::new();
        for b in input {
            out.extend(p.push(std::slice::from_ref(b))?);
        }
        out.extend(p.finish()?);
        Ok(out)
    }

    #[test]
    fn comments_are_ignored() {
        let got = whole(b": keep-alive\n:\ndata: x\n: between\n\n").unwrap();
        assert_eq!(got, vec![ev("message", "x", None)]);
        // A stream of nothing but comments dispatches nothing.
        assert_eq!(whole(b": ping\n\n: ping\n\n").unwrap(), vec![]);
    }

    #[test]
    fn data_lines_join_with_newline_and_one_space_is_stripped() {
        let got = whole(b"data: first\ndata:second\ndata:  third\ndata\n\n").unwrap();
        assert_eq!(got, vec![ev("message", "first\nsecond\n third\n", None)]);
    }

    #[test]
    fn event_and_id_fields() {
        let got = whole(b"event: endpoint\nid: 7\ndata: /messages?s=1\n\ndata: next\n\n").unwrap();
        assert_eq!(
            got,
            vec![
                ev("endpoint", "/messages?s=1", Some("7")),
                // The event type resets after a dispatch, the last ID does not.
                ev("message", "next", Some("7")),
            ]
        );
    }

    #[test]
    fn ids_with_nul_are_ignored() {
        let got = whole(b"id: 1\n\nid: a\0b\ndata: x\n\n").unwrap();
        assert_eq!(got, vec![ev("message", "x", Some("1"))]);
    }

    #[test]
    fn blank_line_without_data_dispatches_nothing_and_resets_the_type() {
        let got = whole(b"event: ping\n\ndata: x\n\n").unwrap();
        assert_eq!(got, vec![ev("message", "x", None)]);
        // An empty `data:` line is still data: it dispatches an empty string.
        assert_eq!(whole(b"data:\n\n").unwrap(), vec![ev("message", "", None)]);
    }

    #[test]
    fn retry_and_unknown_fields_are_ignored() {
        let got = whole(b"retry: 1000\nfoo: bar\ndata: x\n\n").unwrap();
        assert_eq!(got, vec![ev("message", "x", None)]);
    }

    #[test]
    fn crlf_cr_and_lf_all_end_lines() {
        let expected = vec![ev("message", "a\nb", None), ev("message", "c", None)];
        assert_eq!(
            whole(b"data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n").unwrap(),
            expected
        );
        assert_eq!(whole(b"data: a\rdata: b\r\rdata: c\r\r").unwrap(), expected);
        assert_eq!(whole(b"data: a\ndata: b\n\ndata: c\n\n").unwrap(), expected);
        assert_eq!(
            whole(b"data: a\r\ndata: b\r\rdata: c\n\r\n").unwrap(),
            expected
        );
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let mut p = SseParser::new(LIMIT);
        assert_eq!(p.push(b"data: a\r").unwrap(), vec![]);
        // Had the LF been taken for a second line end, this blank line would
        // have dispatched "a" already.
        assert_eq!(p.push(b"\ndata: b\r").unwrap(), vec![]);
        assert_eq!(p.push(b"\n\r").unwrap(), vec![ev("message", "a\nb", None)]);
        // A lone CR at the end of a chunk followed by something else is a line end too.
        assert_eq!(p.push(b"data: c\r").unwrap(), vec![]);
        assert_eq!(p.push(b"\r").unwrap(), vec![ev("message", "c", None)]);
    }

    #[test]
    fn byte_by_byte_feeding_equals_whole_feeding() {
        let inputs: &[&[u8]] = &[
            b"\xEF\xBB\xBFevent: endpoint\r\ndata: /m?x=1\r\n\r\n",
            b"data: caf\xC3\xA9 \xF0\x9F\x98\x80\rid: 3\r\r: c\n\ndata: x\r\n\r\n",
            b"data: a\n\ndata\ndata: b\r\revent: e\ndata:c\r\n\n",
            b"data: unterminated",
        ];
        for input in inputs {
            let a = whole(input).unwrap();
            let b = bytewise(input).unwrap();
            assert_eq!(a, b, "input {:?}", String::from_utf8_lossy(input));
        }
        // And every two-way split of one input agrees with the whole.
        let input = inputs[1];
        let expected = whole(input).unwrap();
        assert_eq!(expected.len(), 2);
        for cut in 0..=input.len() {
            let mut p = SseParser::new(LIMIT);
            let mut got = p.push(&input[..cut]).unwrap();
            got.extend(p.push(&input[cut..]).unwrap());
            got.extend(p.finish().unwrap());
            assert_eq!(got, expected, "split at {cut}");
        }
    }

    #[test]
    fn notifications_come_before_the_response() {
        let stream = concat!(
            "event: message\n",
            "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n",
            "event: message\n",
            "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\"}}\n\n",
            "id: r1\n",
            "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}\n\n",
        );
        let got = whole(stream.as_bytes()).unwrap();
        assert_eq!(got.len(), 3);
        assert!(got[0].data.contains("notifications/progress"));
        assert!(got[1].data.contains("notifications/message"));
        assert_eq!(
            got[2].data,
            r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#
        );
        assert_eq!(got[2].id.as_deref(), Some("r1"));
        assert!(got.iter().all(|e| e.event == "message"));
    }

    #[test]
    fn a_leading_bom_is_skipped_once() {
        assert_eq!(
            whole(b"\xEF\xBB\xBFdata: x\n\n").unwrap(),
            vec![ev("message", "x", None)]
        );
        // Split inside the BOM.
        let mut p = SseParser::new(LIMIT);
        assert_eq!(p.push(b"\xEF").unwrap(), vec![]);
        assert_eq!(p.push(b"\xBB").unwrap(), vec![]);
        assert_eq!(
            p.push(b"\xBFdata: x\n\n").unwrap(),
            vec![ev("message", "x", None)]
        );
        // A BOM later on is not skipped: it makes the field name "\u{feff}data".
        assert_eq!(whole(b"\n\xEF\xBB\xBFdata: x\n\n").unwrap(), vec![]);
    }

    #[test]
    fn an_endless_line_hits_the_limit_and_stays_failed() {
        let mut p = SseParser::new(64);
        let chunk = [b'a'; 16];
        let mut result = Ok(vec![]);
        for _ in 0..10 {
            result = p.push(&chunk);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(SseError::EventTooLarge { limit: 64 }));
        // Memory was released and the error is sticky.
        assert!(p.line.capacity() == 0);
        assert_eq!(p.push(b"\n\n"), Err(SseError::EventTooLarge { limit: 64 }));
        assert_eq!(p.finish(), Err(SseError::EventTooLarge { limit: 64 }));
    }

    #[test]
    fn many_data_lines_count_towards_the_limit() {
        let mut p = SseParser::new(64);
        let mut failed = false;
        for _ in 0..20 {
            if p.push(b"data: 0123456789\n").is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "20 data lines of 11 bytes must exceed 64 bytes");
        // A stream of many small events never does: each dispatch empties the buffer.
        let mut p = SseParser::new(64);
        for _ in 0..100 {
            assert_eq!(p.push(b"data: 0123456789\n\n").unwrap().len(), 1);
        }
    }

    #[test]
    fn invalid_utf8_in_a_completed_line_is_an_error() {
        assert_eq!(whole(b"data: \xFF\xFE\n\n"), Err(SseError::InvalidUtf8));
        // A truncated multi-byte sequence at a line end is invalid too.
        assert_eq!(whole(b"data: \xC3\n\n"), Err(SseError::InvalidUtf8));
        // An invalid pending line is reported by finish().
        let mut p = SseParser::new(LIMIT);
        assert_eq!(p.push(b"data: ok\n\ndata: \xC3").unwrap().len(), 1);
        assert_eq!(p.finish(), Err(SseError::InvalidUtf8));
        assert_eq!(p.push(b"data: x\n\n"), Err(SseError::InvalidUtf8));
    }

    #[test]
    fn finish_discards_an_unterminated_event() {
        let mut p = SseParser::new(LIMIT);
        assert_eq!(
            p.push(b"data: a\n\ndata: b\n").unwrap(),
            vec![ev("message", "a", None)]
        );
        assert_eq!(p.finish().unwrap(), vec![]);
        let mut p = SseParser::new(LIMIT);
        assert_eq!(p.push(b"data: a\n\ndata: b").unwrap().len(), 1);
        assert_eq!(p.finish().unwrap(), vec![]);
        // Nothing pending: nothing to do.
        let mut p = SseParser::new(LIMIT);
        assert_eq!(p.finish().unwrap(), vec![]);
    }
}
