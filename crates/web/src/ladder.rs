//! Start here: the ladder the page draws, as plain data (no view code, so it
//! is unit-tested on the host).
//!
//! The rungs are the layers of `failure-modes.md` in order: dns, tcp, tls,
//! http, handshake, tools_list, tool_call, spec, drift. [`rungs`] turns a
//! verdict into one [`Rung`] per layer: its state and the steps of the
//! verdict that belong to it, each with its time. The failing layer is the
//! verdict's mode's layer (for `timeout`, which can strike anywhere, the
//! layer of the first failed step); layers below it passed, layers above it
//! were never reached.

use mcprobe_core::verdict::{Mode, Step, Verdict};

/// The layers, in climbing order, with the words the page shows.
pub const LAYERS: [(&str, &str); 9] = [
    ("dns", "DNS"),
    ("tcp", "TCP"),
    ("tls", "TLS"),
    ("http", "HTTP"),
    ("handshake", "Handshake"),
    ("tools_list", "tools/list"),
    ("tool_call", "Safe call"),
    ("spec", "Spec"),
    ("drift", "Drift"),
];

/// The state of one rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RungState {
    /// Not reached yet (a check is running) or never (it failed below).
    Pending,
    /// A check is on this rung now.
    Running,
    Passed,
    Failed,
    /// Passed with a remark (a finding at this layer that is not the mode).
    Warned,
    /// Skipped or not visible from where the check ran.
    Skipped,
}

impl RungState {
    /// The CSS class and the `data-state` the browser test reads.
    pub fn as_str(self) -> &'static str {
        match self {
            RungState::Pending => "pending",
            RungState::Running => "running",
            RungState::Passed => "passed",
            RungState::Failed => "failed",
            RungState::Warned => "warned",
            RungState::Skipped => "skipped",
        }
    }

    /// The word a screen reader hears.
    pub fn words(self) -> &'static str {
        match self {
            RungState::Pending => "not reached",
            RungState::Running => "running",
            RungState::Passed => "passed",
            RungState::Failed => "failed",
            RungState::Warned => "passed with findings",
            RungState::Skipped => "skipped",
        }
    }
}

/// One rung as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rung {
    pub layer: &'static str,
    pub title: &'static str,
    pub state: RungState,
    /// The verdict's steps at this layer, in order.
    pub steps: Vec<Step>,
    /// A note when the rung has no step of its own (e.g. "not visible from a browser").
    pub note: String,
    /// Total ms of its steps.
    pub ms: u64,
}

/// The layer a step of the verdict belongs to, by its name.
pub fn layer_of_step(name: &str) -> &'static str {
    let n = name.to_ascii_lowercase();
    match n.as_str() {
        "dns" => "dns",
        "tcp" => "tcp",
        "tls" => "tls",
        "http" | "redirect" => "http",
        "tools/list" => "tools_list",
        "spec" => "spec",
        "drift" => "drift",
        _ if n.starts_with("server/discover")
            || n.starts_with("initialize")
            || n.starts_with("notifications/")
            || n.contains("endpoint")
            || n.contains("session") =>
        {
            "handshake"
        }
        _ if n.starts_with("tools/list") => "tools_list",
        _ if n.contains("call")
            || n.starts_with("resources/")
            || n.starts_with("prompts/")
            || n.starts_with("tools/") =>
        {
            "tool_call"
        }
        _ if n.contains("route") || n.contains("alternate") => "http",
        _ => "handshake",
    }
}

fn layer_index(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|(l, _)| *l == layer)
}

/// The index of the layer that failed, if any.
pub fn failing_layer(v: &Verdict) -> Option<usize> {
    match v.mode {
        Mode::Ok | Mode::AuthRequired => None,
        // drift that is not breaking leaves the server up: still a failed rung.
        // The step that timed out is the last failed one: earlier failed
        // steps are attempts the probe moved on from.
        Mode::Timeout => v
            .steps
            .iter()
            .rev()
            .find(|s| !s.ok)
            .and_then(|s| layer_index(layer_of_step(&s.name)))
            .or_else(|| layer_index("http")),
        m => layer_index(m.layer()),
    }
}

/// The rungs of a finished verdict. `from_browser`: DNS, TCP and TLS cannot
/// be seen, so those rungs say so instead of claiming a pass.
pub fn rungs(v: &Verdict, from_browser: bool) -> Vec<Rung> {
    let failing = failing_layer(v);
    let warned_layers: Vec<usize> = v
        .findings
        .iter()
        .filter(|f| f.mode != v.mode)
        .filter_map(|f| layer_index(f.mode.layer()))
        .collect();
    LAYERS
        .iter()
        .enumerate()
        .map(|(i, (layer, title))| {
            // A failed step is drawn on the failing rung even when its name
            // belongs higher up: "server/discover" refused by TCP is a TCP failure.
            let home = |s: &Step| -> Option<usize> {
                let own = layer_index(layer_of_step(&s.name));
                match (failing, own) {
                    (Some(f), Some(o)) if !s.ok && o > f => Some(f),
                    _ => own,
                }
            };
            let steps: Vec<Step> = v
                .steps
                .iter()
                .filter(|s| home(s) == Some(i))
                .cloned()
                .collect();
            let ms = steps.iter().map(|s| s.ms).sum();
            let mut note = String::new();
            let state = match failing {
                Some(f) if i == f => RungState::Failed,
                Some(f) if i > f => {
                    note = "not reached".into();
                    RungState::Pending
                }
                _ => {
                    let transport = i < 3;
                    let skipped = steps.iter().any(|s| s.detail.starts_with("skipped"));
                    if transport && steps.is_empty() {
                        note = if from_browser {
                            "not visible from a browser".into()
                        } else {
                            "implied: a higher layer was reached".into()
                        };
                        if from_browser {
                            RungState::Skipped
                        } else {
                            RungState::Passed
                        }
                    } else if skipped {
                        RungState::Skipped
                    } else if *layer == "drift" && steps.is_empty() {
                        note = "no earlier check to compare with".into();
                        RungState::Skipped
                    } else if warned_layers.contains(&i) {
                        RungState::Warned
                    } else {
                        RungState::Passed
                    }
                }
            };
            Rung {
                layer,
                title,
                state,
                steps,
                note,
                ms,
            }
        })
        .collect()
}

/// The rungs before any check: all waiting (drawn so nothing shifts later).
pub fn idle_rungs() -> Vec<Rung> {
    let mut r = running_rungs(None, false);
    for rung in r.iter_mut() {
        rung.state = RungState::Pending;
    }
    r
}

/// The rungs while a check runs and no verdict exists yet: the rung of the
/// latest exchange runs, those below it passed, the rest wait.
pub fn running_rungs(current: Option<&str>, from_browser: bool) -> Vec<Rung> {
    let at = current
        .map(layer_of_step)
        .and_then(layer_index)
        .unwrap_or(if from_browser { 3 } else { 0 });
    LAYERS
        .iter()
        .enumerate()
        .map(|(i, (layer, title))| {
            let (state, note) = if from_browser && i < 3 {
                (RungState::Skipped, "not visible from a browser".to_string())
            } else if i < at {
                (RungState::Passed, String::new())
            } else if i == at {
                (RungState::Running, String::new())
            } else {
                (RungState::Pending, String::new())
            };
            Rung {
                layer,
                title,
                state,
                steps: Vec::new(),
                note,
                ms: 0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_core::verdict::{Finding, Severity, Status};

    fn verdict(mode: Mode, steps: &[(&str, bool)]) -> Verdict {
        Verdict {
            steps: steps
                .iter()
                .map(|(n, ok)| Step {
                    name: n.to_string(),
                    ok: *ok,
                    ms: 5,
                    detail: String::new(),
                })
                .collect(),
            elapsed_ms: 10,
            ..Verdict::of("https://e.com/mcp", mode, "")
        }
    }

    fn states(r: &[Rung]) -> Vec<&'static str> {
        r.iter().map(|r| r.state.as_str()).collect()
    }

    #[test]
    fn a_refused_connection_fails_tcp_and_reaches_nothing_above() {
        let v = verdict(Mode::ConnectRefused, &[("initialize", false)]);
        let r = rungs(&v, false);
        assert_eq!(r[1].steps[0].name, "initialize");
        assert!(r[4].steps.is_empty());
        assert_eq!(
            states(&r),
            [
                "passed", "failed", "pending", "pending", "pending", "pending", "pending",
                "pending", "pending"
            ]
        );
        assert_eq!(Status::Down, v.status);
    }

    #[test]
    fn an_ok_check_passes_every_rung_with_its_steps() {
        let v = verdict(
            Mode::Ok,
            &[
                ("http", true),
                ("server/discover", true),
                ("tools/list", true),
                ("tools/call echo", true),
            ],
        );
        let r = rungs(&v, true);
        assert_eq!(
            states(&r),
            [
                "skipped", "skipped", "skipped", "passed", "passed", "passed", "passed", "passed",
                "skipped"
            ]
        );
        assert_eq!(r[4].steps[0].name, "server/discover");
        assert_eq!(r[6].steps[0].name, "tools/call echo");
        assert_eq!(r[0].note, "not visible from a browser");
    }

    #[test]
    fn findings_below_the_mode_warn_their_rung() {
        let mut v = verdict(Mode::Ok, &[("initialize", true), ("tools/list", true)]);
        v.findings.push(Finding {
            mode: Mode::MalformedJsonrpc,
            detail: "x".into(),
            pointer: None,
            rule: None,
        });
        let r = rungs(&v, false);
        assert_eq!(r[7].state, RungState::Warned);
        assert_eq!(v.severity, Severity::None);
    }

    #[test]
    fn a_timeout_fails_the_layer_of_its_last_failed_step() {
        let v = verdict(
            Mode::Timeout,
            &[("initialize", true), ("tools/list", false)],
        );
        assert_eq!(failing_layer(&v), Some(5));
        // A legacy server: the refused discover was tried and moved on from.
        let v = verdict(
            Mode::Timeout,
            &[
                ("http", false),
                ("server/discover", false),
                ("initialize", true),
                ("tools/list", false),
            ],
        );
        assert_eq!(failing_layer(&v), Some(5));
    }

    #[test]
    fn the_idle_ladder_runs_nothing() {
        assert!(idle_rungs().iter().all(|r| r.state == RungState::Pending));
        assert_eq!(idle_rungs().len(), LAYERS.len());
    }

    #[test]
    fn the_running_ladder_follows_the_latest_exchange() {
        let r = running_rungs(Some("tools/list"), true);
        assert_eq!(r[5].state, RungState::Running);
        assert_eq!(r[4].state, RungState::Passed);
        assert_eq!(r[6].state, RungState::Pending);
        assert_eq!(r[0].state, RungState::Skipped);
    }
}
