//! Start here: stdio framing for `mcprobe check -- CMD`: one JSON-RPC message
//! per line each way; lines on stdout that are not JSON-RPC are a spec
//! finding (logs belong on stderr); a closed stdout ends what was waiting.

use serde_json::Value;

use super::steps::Purpose;
use super::wire::Outcome;
use super::Probe;
use crate::http::TransportError;
use crate::jsonrpc;

impl Probe {
    pub(super) fn stdio_send(&mut self, msg: &Value, wait: Option<(u64, Purpose, u64)>) {
        let mut bytes = msg.to_string().into_bytes();
        bytes.push(b'\n');
        self.queue.push_back(super::Action::StdioWrite { bytes });
        self.conv.stdio_wait = wait;
    }

    pub(super) fn stdio_out(&mut self, chunk: &[u8], now: u64) {
        let cap = self.cfg.limits.max_body_bytes;
        self.conv.stdio_buf.extend_from_slice(chunk);
        while let Some(pos) = self.conv.stdio_buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.conv.stdio_buf.drain(..=pos).collect();
            self.stdio_line(&line, now);
            if self.verdict.is_some() {
                return;
            }
        }
        if self.conv.stdio_buf.len() > cap {
            self.conv.stdio_buf.clear();
            if let Some((_, purpose, _)) = self.conv.stdio_wait.take() {
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
        let msg = match jsonrpc::parse_json(text) {
            Ok(m) => m,
            Err(_) => {
                if !self.conv.stdio_noise_reported {
                    self.conv.stdio_noise_reported = true;
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
        // server is modern after all (it only started slowly).
        let late_discover = self.conv.stdio_discover_id.filter(|id| {
            matches!(&self.conv.stdio_wait, Some((_, Purpose::Initialize, _)))
                && jsonrpc::id_matches(&msg, *id)
                && msg
                    .get("result")
                    .and_then(|r| r.get("supportedVersions"))
                    .is_some()
        });
        if late_discover.is_some() {
            self.conv.stdio_discover_id = None;
            self.conv.stdio_wait = None;
            return self.on_outcome(
                Purpose::Discover,
                Outcome::Reply {
                    msg,
                    status: 0,
                    headers: Vec::new(),
                },
                now,
            );
        }
        let Some((rpc_id, _, _)) = &self.conv.stdio_wait else {
            return;
        };
        let Some(resp) = jsonrpc::pick_response(msg, *rpc_id) else {
            return;
        };
        if !jsonrpc::is_response(&resp)
            || !(jsonrpc::id_matches(&resp, *rpc_id) || resp.get("id").is_none())
        {
            return;
        }
        if let Some((_, purpose, _)) = self.conv.stdio_wait.take() {
            self.on_outcome(
                purpose,
                Outcome::Reply {
                    msg: resp,
                    status: 0,
                    headers: Vec::new(),
                },
                now,
            );
        }
    }

    pub(super) fn stdio_closed(&mut self, detail: &str, now: u64) {
        if let Some((_, purpose, _)) = self.conv.stdio_wait.take() {
            let why = detail.to_string();
            self.on_outcome(
                purpose,
                Outcome::Failed(TransportError::Connection { message: why }),
                now,
            );
        }
    }
}
