//! Start here: stdio framing for `mcprobe check -- CMD`: one JSON-RPC message
//! per line each way; lines on stdout that are not JSON-RPC are a spec
//! finding (logs belong on stderr); a closed stdout ends what was waiting.

use serde_json::Value;

use super::conversation::LateDiscover;
use super::exchange::{Outcome, Purpose};
use super::Probe;
use crate::http::TransportError;
use crate::jsonrpc::{self, Reply};
use crate::revision::Revision;

impl Probe {
    pub(super) fn stdio_send(&mut self, msg: &Value, wait: Option<(u64, Purpose, u64)>) {
        let mut bytes = msg.to_string().into_bytes();
        bytes.push(b'\n');
        self.queue.push_back(super::Action::StdioWrite { bytes });
        self.conv.stdio.wait = wait;
    }

    pub(super) fn stdio_out(&mut self, chunk: &[u8], now: u64) {
        let cap = self.cfg.limits.max_body_bytes;
        self.conv.stdio.buf.extend_from_slice(chunk);
        while let Some(pos) = self.conv.stdio.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.conv.stdio.buf.drain(..=pos).collect();
            self.stdio_line(&line, now);
            if self.verdict.is_some() {
                return;
            }
        }
        if self.conv.stdio.buf.len() > cap {
            self.conv.stdio.buf.clear();
            if let Some((_, purpose, _)) = self.conv.stdio.wait.take() {
                self.on_outcome(purpose, Outcome::Failed(TransportError::BodyTooLarge), now);
            }
        }
    }

    pub(super) fn stdio_line(&mut self, line: &[u8], now: u64) {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        // A line read while tools/list pages are awaited counts against the
        // cross-page budget, as an HTTP answer does (see `listing.rs`).
        let paging = matches!(&self.conv.stdio.wait, Some((_, Purpose::ToolsList, _)));
        let msg = match jsonrpc::parse_json_bounded(text) {
            Ok(parsed) => {
                if paging {
                    let r = &mut self.report;
                    r.tool_list_bytes = r.tool_list_bytes.saturating_add(text.len());
                    r.tool_list_values = r.tool_list_values.saturating_add(parsed.values);
                }
                parsed.value
            }
            Err(_) => {
                if !self.conv.stdio.noise_reported {
                    self.conv.stdio.noise_reported = true;
                    self.report.findings.push(crate::verdict::Finding {
                        mode: crate::verdict::Mode::MalformedJsonrpc,
                        detail: format!(
                            "the server wrote a line to stdout that is not a JSON-RPC message ({}); logs belong on stderr",
                            jsonrpc::excerpt(text, 80)
                        ),
                        pointer: None,
                        rule: Some("stdio.stdout-messages-only".into()),
                    });
                }
                return;
            }
        };
        // A late answer to server/discover while waiting for initialize: the
        // server only started slowly. It is the discover's answer, judged
        // against the discover's id.
        let late = self.conv.stdio.late.filter(|late| {
            matches!(&self.conv.stdio.wait, Some((_, Purpose::Initialize, _)))
                && jsonrpc::is_response(&msg)
                && jsonrpc::id_matches(&msg, late.id)
        });
        if let Some(late) = late {
            self.conv.stdio.late = None;
            return self.late_discover(late, msg, now);
        }
        let Some((rpc_id, _, _)) = &self.conv.stdio.wait else {
            return;
        };
        let rpc_id = *rpc_id;
        let Some(resp) = jsonrpc::pick_response(msg, rpc_id) else {
            return;
        };
        if !jsonrpc::is_response(&resp)
            || !(jsonrpc::id_matches(&resp, rpc_id) || resp.get("id").is_none())
        {
            return;
        }
        // A modern server that handles requests concurrently may refuse the
        // initialize before it answers the late discover: hold the refusal a
        // short while for the discover answer (delivered at the wait's end
        // if none comes, see `on_initialize`).
        let refusal = matches!(jsonrpc::read_reply(&resp), Some(Reply::Error { .. }));
        if refusal && self.conv.stdio.late.is_some() && self.conv.stdio.held_initialize.is_none() {
            if let Some((_, Purpose::Initialize, until)) = self.conv.stdio.wait.as_mut() {
                let grace = super::steps::stdio_discover_wait(self.cfg.timeout_ms);
                *until = (*until).min(now.saturating_add(grace));
                self.conv.stdio.held_initialize = Some(resp);
                return;
            }
        }
        if let Some((_, purpose, _)) = self.conv.stdio.wait.take() {
            self.stdio_deliver(purpose, rpc_id, resp, now);
        }
    }

    /// Hands an answer to the step waiting for it, judged against `rpc_id`.
    /// The child's first answer also carries its start-up time: its step
    /// says so and is never called slow.
    fn stdio_deliver(&mut self, purpose: Purpose, rpc_id: u64, msg: Value, now: u64) {
        let first = !self.conv.stdio.answered;
        self.conv.stdio.answered = true;
        let step = self.report.steps.len();
        self.conv.answering = Some(rpc_id);
        self.on_outcome(
            purpose,
            Outcome::Reply {
                msg,
                status: 0,
                headers: Vec::new(),
            },
            now,
        );
        self.conv.answering = None;
        if first {
            if let Some(s) = self.report.steps.get_mut(step) {
                s.detail
                    .push_str("; the server's first answer: the time includes its start-up");
                self.report.startup_step = Some(step);
            }
        }
    }

    /// `server/discover` answered after the probe had sent `initialize`. A
    /// modern answer wins: the silence step is replaced by the discover step
    /// (timed from when discover was sent) and initialize is no longer
    /// awaited. Any other answer (a legacy server's -32601) only completes
    /// the silence step; initialize is still awaited.
    fn late_discover(&mut self, late: LateDiscover, msg: Value, now: u64) {
        let after = now.saturating_sub(late.sent_ms);
        let modern = matches!(
            jsonrpc::read_reply(&msg),
            Some(Reply::Result(r)) if r
                .get("supportedVersions")
                .and_then(Value::as_array)
                .is_some_and(|v| v.iter().any(|v| v.as_str() == Some(Revision::LATEST_MODERN.as_str())))
        );
        let silence = self
            .report
            .steps
            .get(late.step)
            .is_some_and(|s| s.name == "server/discover");
        if !modern {
            if silence {
                let said = match jsonrpc::read_reply(&msg) {
                    Some(Reply::Error { code, message, .. }) => {
                        format!(
                            "JSON-RPC error {code} {}",
                            jsonrpc::excerpt(message.as_bytes(), 80)
                        )
                    }
                    _ => jsonrpc::excerpt(msg.to_string().as_bytes(), 80),
                };
                self.report.steps[late.step].detail = format!(
                    "not modern (answered {said} after {after} ms, once the probe had sent initialize; the time includes the server's start-up); moved on to legacy initialize"
                );
            }
            return;
        }
        if silence {
            self.report.steps.remove(late.step);
        }
        self.conv.stdio.wait = None;
        self.conv.stdio.held_initialize = None;
        self.conv.step_started_ms = late.sent_ms;
        self.stdio_deliver(Purpose::Discover, late.id, msg, now);
        if let Some(i) = self.report.startup_step {
            let s = &mut self.report.steps[i];
            if s.name == "server/discover" {
                s.detail.push_str(&format!(
                    " (answered after {after} ms, once the probe had sent initialize: a slow start)"
                ));
            }
        }
    }

    pub(super) fn stdio_spawn_failed(&mut self, message: &str, now: u64) {
        if self.verdict.is_some() {
            return;
        }
        // Nothing was written: the opening server/discover goes nowhere.
        self.queue.clear();
        self.conv.stdio.wait = None;
        let ms = self.lap(now);
        self.report.transport = Some(crate::verdict::Transport::Stdio);
        self.report.step("start", false, ms, message);
        self.report.fail(
            crate::verdict::Mode::ConnectRefused,
            format!("The server could not be started: {message}"),
        );
        self.end(now);
    }

    pub(super) fn stdio_closed(&mut self, detail: &str, now: u64) {
        if let Some((_, purpose, _)) = self.conv.stdio.wait.take() {
            let why = detail.to_string();
            self.on_outcome(
                purpose,
                Outcome::Failed(TransportError::Connection { message: why }),
                now,
            );
        }
    }
}
