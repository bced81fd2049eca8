//! Start here: the one call a probe makes past `tools/list`, chosen so it can
//! never change anything (failure-modes.md, "The safe call"): the user's own
//! call; else a tool annotated `readOnlyHint: true` (and not destructive) with
//! no required parameters; else a tool with no required parameters whose name
//! reads as a query; else `resources/list` or `prompts/list` when advertised;
//! else nothing, and the verdict says so. A tool annotated
//! `openWorldHint: true` is never chosen automatically: it reaches outside
//! the server (a browser, the web, a third-party API), which a monitor must
//! not set off every minute, read-only or not.

use serde_json::{json, Value};

/// What the probe will call.
#[derive(Debug, Clone, PartialEq)]
pub enum SafeCall {
    Tool {
        name: String,
        arguments: Value,
        /// Why this one, for the step detail.
        why: String,
    },
    ResourcesList,
    PromptsList,
    Skip {
        why: String,
    },
}

/// The user's wish, from `--call` / `--no-call`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CallPlan {
    /// Choose by the rules.
    #[default]
    Auto,
    /// Make no call at all.
    Skip,
    /// Call this tool with these arguments (the user vouches it is safe).
    Tool { name: String, arguments: Value },
}

fn has_required_params(tool: &Value) -> bool {
    tool.get("inputSchema")
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty())
}

/// Names that suggest the answer would expose the server's secrets
/// (environment, credentials): read-only, but not something a monitor should
/// pull every minute and keep in a transcript.
fn reads_secrets(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        matches!(
            w,
            "env"
                | "environment"
                | "secret"
                | "secrets"
                | "credential"
                | "credentials"
                | "token"
                | "tokens"
                | "password"
                | "passwords"
                | "key"
                | "keys"
        )
    }) || lower.contains("getenv")
        || lower.ends_with("env")
}

fn annotation(tool: &Value, key: &str) -> Option<bool> {
    tool.get("annotations")?.get(key)?.as_bool()
}

/// Names that read as a query: `ping`, `echo`, `health`, `status`, and
/// `list_*`, `get_*`, `search_*` (also with `-` or in camelCase).
pub fn reads_as_query(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "ping" | "echo" | "health" | "healthcheck" | "status"
    ) {
        return true;
    }
    ["list", "get", "search"].iter().any(|prefix| {
        name.len() > prefix.len() && lower.starts_with(prefix) && {
            let next = name.as_bytes()[prefix.len()];
            next == b'_' || next == b'-' || next.is_ascii_uppercase()
        }
    })
}

/// Chooses the safe call for a tool list and the server's capabilities.
pub fn choose(plan: &CallPlan, tools: &[Value], capabilities: &Value) -> SafeCall {
    match plan {
        CallPlan::Skip => {
            return SafeCall::Skip {
                why: "skipped on request (--no-call)".into(),
            }
        }
        CallPlan::Tool { name, arguments } => {
            return SafeCall::Tool {
                name: name.clone(),
                arguments: arguments.clone(),
                why: "the call named with --call".into(),
            }
        }
        CallPlan::Auto => {}
    }
    let named = |t: &&Value| t.get("name").and_then(Value::as_str).is_some();
    let not_destructive = |t: &&Value| {
        annotation(t, "destructiveHint") != Some(true)
            && annotation(t, "openWorldHint") != Some(true)
            && !reads_secrets(t.get("name").and_then(Value::as_str).unwrap_or_default())
    };
    if let Some(tool) = tools
        .iter()
        .filter(named)
        .filter(not_destructive)
        .find(|t| annotation(t, "readOnlyHint") == Some(true) && !has_required_params(t))
    {
        return SafeCall::Tool {
            name: tool["name"].as_str().unwrap_or_default().to_string(),
            arguments: json!({}),
            why: "annotated readOnlyHint, no required parameters".into(),
        };
    }
    if let Some(tool) = tools
        .iter()
        .filter(named)
        .filter(not_destructive)
        .find(|t| !has_required_params(t) && reads_as_query(t["name"].as_str().unwrap_or_default()))
    {
        return SafeCall::Tool {
            name: tool["name"].as_str().unwrap_or_default().to_string(),
            arguments: json!({}),
            why: "no required parameters and a query-like name".into(),
        };
    }
    if capabilities.get("resources").is_some_and(|v| !v.is_null()) {
        return SafeCall::ResourcesList;
    }
    if capabilities.get("prompts").is_some_and(|v| !v.is_null()) {
        return SafeCall::PromptsList;
    }
    SafeCall::Skip {
        why: "no tool is safe to call (none read-only or query-like without required parameters, none that stays inside the server) and no resources or prompts are advertised".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Vec<Value> {
        vec![
            json!({"name":"delete_everything","annotations":{"destructiveHint":true},"inputSchema":{"type":"object"}}),
            json!({"name":"send_email","inputSchema":{"type":"object","required":["to"]}}),
            json!({"name":"get_status","annotations":{"readOnlyHint":true},"inputSchema":{"type":"object"}}),
        ]
    }

    #[test]
    fn prefers_read_only_tool_and_never_destructive() {
        match choose(&CallPlan::Auto, &tools(), &json!({})) {
            SafeCall::Tool { name, .. } => assert_eq!(name, "get_status"),
            other => panic!("{other:?}"),
        }
        let only_bad = &tools()[..2];
        assert_eq!(
            choose(&CallPlan::Auto, only_bad, &json!({"resources":{}})),
            SafeCall::ResourcesList
        );
        assert!(matches!(
            choose(&CallPlan::Auto, only_bad, &json!({})),
            SafeCall::Skip { .. }
        ));
    }

    #[test]
    fn read_only_but_destructive_is_refused() {
        let t = vec![
            json!({"name":"ping","annotations":{"readOnlyHint":true,"destructiveHint":true},"inputSchema":{"type":"object"}}),
        ];
        assert!(matches!(
            choose(&CallPlan::Auto, &t, &json!({})),
            SafeCall::Skip { .. }
        ));
    }

    #[test]
    fn never_a_tool_that_reads_secrets() {
        let t = vec![
            json!({"name":"get-env","annotations":{"readOnlyHint":true},"inputSchema":{"type":"object"}}),
            json!({"name":"list_api_keys","annotations":{"readOnlyHint":true},"inputSchema":{"type":"object"}}),
            json!({"name":"getEnv","inputSchema":{"type":"object"}}),
            json!({"name":"echo","inputSchema":{"type":"object"}}),
        ];
        match choose(&CallPlan::Auto, &t, &json!({})) {
            SafeCall::Tool { name, .. } => assert_eq!(name, "echo"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn never_a_tool_that_reaches_the_outside_world() {
        // @playwright/mcp's browser_find: read-only, but it launches a browser.
        let t = vec![
            json!({"name":"browser_find","annotations":{"readOnlyHint":true,"openWorldHint":true},"inputSchema":{"type":"object"}}),
            json!({"name":"get_page","annotations":{"openWorldHint":true},"inputSchema":{"type":"object"}}),
            json!({"name":"status","annotations":{"openWorldHint":false},"inputSchema":{"type":"object"}}),
        ];
        match choose(&CallPlan::Auto, &t, &json!({})) {
            SafeCall::Tool { name, .. } => assert_eq!(name, "status"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            choose(&CallPlan::Auto, &t[..2], &json!({})),
            SafeCall::Skip { .. }
        ));
        // The user may still name one.
        let plan = CallPlan::Tool {
            name: "browser_find".into(),
            arguments: json!({}),
        };
        assert!(matches!(
            choose(&plan, &t, &json!({})),
            SafeCall::Tool { .. }
        ));
    }

    #[test]
    fn query_names() {
        for ok in [
            "ping",
            "echo",
            "list_files",
            "get-tiny-image",
            "getWeather",
            "search_docs",
        ] {
            assert!(reads_as_query(ok), "{ok}");
        }
        for no in ["getaway", "listen", "delete_file", "run", "get"] {
            assert!(!reads_as_query(no), "{no}");
        }
    }

    #[test]
    fn user_plan_wins() {
        let plan = CallPlan::Tool {
            name: "x".into(),
            arguments: json!({"a":1}),
        };
        assert!(
            matches!(choose(&plan, &[], &json!({})), SafeCall::Tool { name, .. } if name == "x")
        );
        assert!(matches!(
            choose(&CallPlan::Skip, &tools(), &json!({})),
            SafeCall::Skip { .. }
        ));
    }
}
