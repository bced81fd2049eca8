//! Start here: `tools/list` page by page (with the page and tool caps), the
//! fingerprint and drift against the baseline, then the one safe call and how
//! its answer is judged (`tool_call_error`, `auth_half_configured`, timeouts).

use serde_json::{json, Value};

use super::discovery::AuthCtx;
use super::exchange::{Outcome, Purpose};
use super::Probe;
use crate::classify;
use crate::fingerprint;
use crate::http::TransportError;
use crate::jsonrpc::{self, Reply};
use crate::safe_call::{self, SafeCall};
use crate::validate::Answer;
use crate::verdict::Mode;

impl Probe {
    // ---- tools/list ------------------------------------------------------

    pub(super) fn start_tools_list(&mut self, now: u64) {
        self.conv.step_started_ms = now;
        let caps = &self.conv.capabilities;
        if caps.is_object() && caps.get("tools").is_none() {
            self.report.step(
                "tools/list",
                true,
                0,
                "skipped: the server advertises no tools capability",
            );
            return self.start_safe_call(now);
        }
        self.send_conversation(Purpose::ToolsList, "tools/list", json!({}), now);
    }

    pub(super) fn on_tools_list(&mut self, outcome: Outcome, now: u64) {
        match outcome {
            Outcome::Reply { msg, .. } => {
                let rev = self.revision_or_latest();
                self.judge(rev, Answer::ToolsList, "tools/list", &msg);
                match jsonrpc::into_reply(msg) {
                    Some(Reply::Result(result)) => self.on_tools_page(result, now),
                    Some(Reply::Error { code, message, .. }) => self.tools_list_failed(
                        format!("JSON-RPC error {code}: {message}"),
                        format!("tools/list answered JSON-RPC error {code} ({message})"),
                        now,
                    ),
                    None => self.tools_list_failed(
                        "no response".into(),
                        "tools/list got no JSON-RPC response".into(),
                        now,
                    ),
                }
            }
            Outcome::Status {
                status,
                headers,
                excerpt,
                reply,
            } => {
                if matches!(status, 401 | 403) {
                    let ms = self.lap(now);
                    self.report
                        .step("tools/list", false, ms, format!("HTTP {status}"));
                    return self.start_auth(AuthCtx::ToolsList, status, &headers, &excerpt, now);
                }
                let said = match reply.as_ref().and_then(jsonrpc::read_reply) {
                    Some(Reply::Error { code, message, .. }) => {
                        format!("JSON-RPC error {code}: {message}")
                    }
                    _ => excerpt,
                };
                self.tools_list_failed(
                    format!("HTTP {status}"),
                    format!("tools/list answered HTTP {status} ({said})"),
                    now,
                )
            }
            Outcome::NotMcp {
                status,
                why,
                excerpt,
                ..
            } => self.tools_list_failed(
                format!("HTTP {status}, {why}"),
                format!("tools/list answered something unparseable: {why} ({excerpt})"),
                now,
            ),
            Outcome::Failed(TransportError::Timeout) => {
                let ms = now.saturating_sub(self.conv.step_started_ms);
                self.tools_list_failed(
                    "no answer".into(),
                    format!("tools/list got no answer within {ms} ms"),
                    now,
                )
            }
            Outcome::Failed(err) => {
                self.tools_list_failed(err.to_string(), format!("tools/list failed: {err}"), now)
            }
            other => {
                let s = other.short();
                self.tools_list_failed(
                    s.clone(),
                    format!("tools/list got no usable answer ({s})"),
                    now,
                )
            }
        }
    }

    /// One page of the tool list: keep its tools (up to the cap), then ask
    /// for the next page or finish.
    fn on_tools_page(&mut self, mut result: Value, now: u64) {
        let next_cursor = result
            .get("nextCursor")
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(Value::Array(tools)) = result.get_mut("tools").map(Value::take) else {
            let what = jsonrpc::excerpt(result.to_string().as_bytes(), 80);
            return self.tools_list_failed(
                "no tools array".into(),
                format!("tools/list answered a result without a tools array ({what})"),
                now,
            );
        };
        self.conv.pages += 1;
        let cap = self.cfg.limits.max_tools;
        let room = cap.saturating_sub(self.conv.tools.len());
        if tools.len() > room {
            self.conv.tools.extend(tools.into_iter().take(room));
            self.report.finding(
                Mode::SpecShould,
                format!("the tool list is longer than the {cap} tools mcprobe reads; the rest was not checked"),
            );
            return self.tools_done(now);
        }
        self.conv.tools.extend(tools);
        match next_cursor.as_deref() {
            Some(cursor) if !cursor.is_empty() => self.next_tools_page(cursor, now),
            _ => self.tools_done(now),
        }
    }

    /// Asks for the page after `cursor`, unless paging must stop: a cursor
    /// seen before, the page cap, or the cross-page budget.
    fn next_tools_page(&mut self, cursor: &str, now: u64) {
        if self.conv.cursors.iter().any(|c| c == cursor) {
            self.report.finding(
                Mode::SpecShould,
                format!("tools/list returned the cursor {cursor:?} twice; stopped paging"),
            );
            return self.tools_done(now);
        }
        if self.conv.pages >= self.cfg.limits.max_tool_pages {
            self.report.finding(
                Mode::SpecShould,
                format!("stopped after {} pages of tools/list", self.conv.pages),
            );
            return self.tools_done(now);
        }
        if let Some(why) = self.tool_list_budget_spent() {
            self.report.finding(Mode::SpecShould, why);
            return self.tools_done(now);
        }
        self.conv.cursors.push(cursor.to_string());
        let params = json!({"cursor": cursor});
        self.send_conversation(Purpose::ToolsList, "tools/list", params, now);
    }

    fn tools_list_failed(&mut self, detail: String, reason: String, now: u64) {
        let ms = self.lap(now);
        self.report.step("tools/list", false, ms, detail);
        self.report.fail(Mode::ToolsListFailed, reason);
        self.end(now);
    }

    pub(super) fn tools_done(&mut self, now: u64) {
        let ms = self.lap(now);
        // Chosen now: the tool list moves into the snapshot below.
        self.conv.call.choice = Some(safe_call::choose(
            &self.cfg.call,
            &self.conv.tools,
            &self.conv.capabilities,
        ));
        let snapshot = fingerprint::snapshot_owned(std::mem::take(&mut self.conv.tools));
        self.report.tool_names = snapshot.tools.iter().map(|t| t.name.clone()).collect();
        let pages = self.conv.pages;
        self.report.step(
            "tools/list",
            true,
            ms,
            format!("{} tool(s) in {pages} page(s)", snapshot.tools.len()),
        );
        if let Some(base) = &self.cfg.baseline {
            let drift = fingerprint::diff(base, &snapshot);
            let detail = if drift.changes.is_empty() {
                "unchanged against the baseline".to_string()
            } else {
                format!(
                    "{} change(s), {}",
                    drift.changes.len(),
                    if drift.breaking {
                        "breaking"
                    } else {
                        "not breaking"
                    }
                )
            };
            self.report
                .step("drift", drift.changes.is_empty(), 0, detail);
            self.report.drift = Some(drift);
        }
        self.report.snapshot = Some(snapshot);
        self.start_safe_call(now);
    }

    // ---- the safe call ----------------------------------------------------

    pub(super) fn start_safe_call(&mut self, now: u64) {
        self.conv.step_started_ms = now;
        let choice = match self.conv.call.choice.take() {
            Some(choice) => choice,
            None => safe_call::choose(&self.cfg.call, &self.conv.tools, &self.conv.capabilities),
        };
        match choice {
            SafeCall::Tool {
                name,
                arguments,
                why,
            } => {
                self.conv.call.label = format!("tools/call {name}");
                self.conv.call.why = why;
                let params = json!({"name": name, "arguments": arguments});
                self.send_conversation(Purpose::SafeCall, "tools/call", params, now);
            }
            SafeCall::ResourcesList => {
                self.conv.call.label = "resources/list".into();
                self.send_conversation(Purpose::SafeCall, "resources/list", json!({}), now);
            }
            SafeCall::PromptsList => {
                self.conv.call.label = "prompts/list".into();
                self.send_conversation(Purpose::SafeCall, "prompts/list", json!({}), now);
            }
            SafeCall::Skip { why } => {
                self.report
                    .step("safe call", true, 0, format!("skipped: {why}"));
                self.end(now);
            }
        }
    }

    pub(super) fn on_safe_call(&mut self, outcome: Outcome, now: u64) {
        let label = self.conv.call.label.clone();
        let ms = self.lap(now);
        match outcome {
            Outcome::Reply { msg, .. } => {
                self.on_safe_call_reply(&label, &msg, ms);
                self.end(now);
            }
            Outcome::Status {
                status,
                headers,
                excerpt,
                reply,
            } => {
                self.report
                    .step(&label, false, ms, format!("HTTP {status}"));
                if matches!(status, 401 | 403) {
                    return self.start_auth(AuthCtx::SafeCall, status, &headers, &excerpt, now);
                }
                let said = match reply.as_ref().and_then(jsonrpc::read_reply) {
                    Some(Reply::Error { code, message, .. }) => {
                        if classify::is_auth_message(&message) {
                            self.report.fail(
                                Mode::AuthHalfConfigured,
                                format!("Discovery and tools/list work without credentials, but {label} answered HTTP {status} with JSON-RPC error {code} ({message}) and no auth is advertised"),
                            );
                            return self.end(now);
                        }
                        format!("JSON-RPC error {code}: {message}")
                    }
                    _ => excerpt,
                };
                self.report.fail(
                    Mode::ToolCallError,
                    format!("{label} answered HTTP {status} ({said})"),
                );
                self.end(now);
            }
            Outcome::NotMcp { status, why, .. } => {
                self.report
                    .step(&label, false, ms, format!("HTTP {status}, {why}"));
                self.report.fail(
                    Mode::ToolCallError,
                    format!("{label} answered something unparseable: {why}"),
                );
                self.end(now);
            }
            Outcome::Failed(TransportError::Timeout) => {
                self.report.step(&label, false, ms, "no answer");
                self.report.fail(
                    Mode::Timeout,
                    format!("{label} got no answer within {ms} ms"),
                );
                self.end(now);
            }
            Outcome::Failed(err) => {
                self.report.step(&label, false, ms, err.to_string());
                self.report
                    .fail(Mode::ToolCallError, format!("{label} failed: {err}"));
                self.end(now);
            }
            other => {
                self.report.step(&label, false, ms, other.short());
                self.report.fail(
                    Mode::ToolCallError,
                    format!("{label} got no usable answer ({})", other.short()),
                );
                self.end(now);
            }
        }
    }

    /// A JSON-RPC answer to the safe call: judged, then a step (and a
    /// failure when it was an error).
    fn on_safe_call_reply(&mut self, label: &str, msg: &Value, ms: u64) {
        let answer = if label.starts_with("tools/call") {
            Answer::ToolsCall
        } else if label == "resources/list" {
            Answer::ResourcesList
        } else {
            Answer::PromptsList
        };
        let rev = self.revision_or_latest();
        self.judge(rev, answer, label, msg);
        match jsonrpc::read_reply(msg) {
            Some(Reply::Result(result)) => self.safe_call_answered(label, &result, ms),
            Some(Reply::Error { code, message, .. }) => {
                self.report.step(
                    label,
                    false,
                    ms,
                    format!("JSON-RPC error {code}: {message}"),
                );
                if classify::is_auth_message(&message) {
                    self.report.fail(
                        Mode::AuthHalfConfigured,
                        format!("Discovery and tools/list work without credentials, but {label} answered JSON-RPC error {code} ({message}) and no auth is advertised"),
                    );
                } else {
                    self.report.fail(
                        Mode::ToolCallError,
                        format!("{label} answered JSON-RPC error {code} ({message})"),
                    );
                }
            }
            None => {
                self.report.step(label, false, ms, "no response");
                self.report.fail(
                    Mode::ToolCallError,
                    format!("{label} got no JSON-RPC response"),
                );
            }
        }
    }

    /// A result of the safe call: fine, or a tool-level error (`isError`),
    /// which is a finding, not a failure.
    fn safe_call_answered(&mut self, label: &str, result: &Value, ms: u64) {
        if result.get("isError").and_then(Value::as_bool) == Some(true) {
            let text = result
                .get("content")
                .and_then(|c| c.get(0))
                .and_then(|c| c.get("text"))
                .and_then(Value::as_str)
                .unwrap_or("");
            self.report.finding(
                Mode::ToolErrorResult,
                format!(
                    "{label} returned isError: true ({})",
                    jsonrpc::excerpt(text.as_bytes(), 120)
                ),
            );
            self.report.step(
                label,
                true,
                ms,
                "answered with a tool-level error (isError)",
            );
        } else {
            let why = self.conv.call.why.clone();
            let detail = if why.is_empty() {
                "answered".to_string()
            } else {
                format!("answered (chosen: {why})")
            };
            self.report.step(label, true, ms, detail);
        }
    }
}
