//! Start here: the tool lists scenarios serve, in a deterministic order, and
//! what calling each tool answers. The default list is `echo` (read-only,
//! required `message`), `ping` (read-only, no params) and `delete_everything`
//! (destructive): a probe must only ever call the safe one, and the request log
//! lets tests prove `delete_everything` was never called.

use serde_json::{json, Value};

/// Which tool list an engine serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolSet {
    /// echo, ping, delete_everything.
    Default,
    /// Default at variant 0; at variant 1 echo's `message` becomes an
    /// integer, ping gains a required `channel`, delete_everything is gone.
    Drift,
    /// delete_everything, send_email (required params, no annotations),
    /// get_status (read-only, no params): the safe call is get_status.
    SafeCallPicksReadonly,
    /// Only destructive or required-param tools: no safe call exists.
    NoSafeTool,
    /// The default three plus 22 more: 25 tools.
    TwentyFive,
    /// Tool 1's inputSchema is a JSON *string*.
    SchemaString,
    /// `echo` appears twice.
    DuplicateNames,
    /// 10,000 tools.
    TenThousand,
}

impl ToolSet {
    pub fn list(self, variant: u32) -> Vec<Value> {
        match self {
            ToolSet::Default => vec![echo(), ping(), delete_everything()],
            ToolSet::Drift if variant == 0 => vec![echo(), ping(), delete_everything()],
            ToolSet::Drift => vec![
                tool(
                    "echo",
                    "Echoes the message back",
                    json!({"message": {"type": "integer", "description": "What to echo"}}),
                    &["message"],
                    Some(json!({"readOnlyHint": true})),
                ),
                tool(
                    "ping",
                    "Answers pong",
                    json!({"channel": {"type": "string", "description": "Where to ping"}}),
                    &["channel"],
                    Some(json!({"readOnlyHint": true})),
                ),
            ],
            ToolSet::SafeCallPicksReadonly => vec![delete_everything(), send_email(), get_status()],
            ToolSet::NoSafeTool => vec![
                delete_everything(),
                send_email(),
                tool(
                    "drop_table",
                    "Drops a database table",
                    json!({"table": {"type": "string"}}),
                    &["table"],
                    Some(json!({"destructiveHint": true})),
                ),
            ],
            ToolSet::TwentyFive => {
                let mut v = vec![echo(), ping(), delete_everything()];
                v.extend((4..=25).map(|i| {
                    tool(
                        &format!("fleet_tool_{i:02}"),
                        &format!("Filler tool number {i}"),
                        json!({}),
                        &[],
                        None,
                    )
                }));
                v
            }
            ToolSet::SchemaString => {
                let mut search = tool("search_docs", "Searches the docs", json!({}), &[], None);
                search["inputSchema"] =
                    json!(r#"{"type":"object","properties":{"query":{"type":"string"}}}"#);
                vec![echo(), search, ping(), delete_everything()]
            }
            ToolSet::DuplicateNames => {
                let mut again = echo();
                again["description"] = json!("Echoes the message back, again");
                vec![echo(), ping(), again, delete_everything()]
            }
            ToolSet::TenThousand => {
                let mut v = vec![echo(), ping(), delete_everything()];
                v.extend((3..10_000).map(|i| {
                    json!({
                        "name": format!("bulk_tool_{i:05}"),
                        "description": format!("Bulk tool {i}"),
                        "inputSchema": {"type": "object"}
                    })
                }));
                v
            }
        }
    }
}

fn tool(
    name: &str,
    description: &str,
    properties: Value,
    required: &[&str],
    annotations: Option<Value>,
) -> Value {
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    let mut t = json!({"name": name, "description": description, "inputSchema": schema});
    if let Some(a) = annotations {
        t["annotations"] = a;
    }
    t
}

fn echo() -> Value {
    tool(
        "echo",
        "Echoes the message back",
        json!({"message": {"type": "string", "description": "What to echo"}}),
        &["message"],
        Some(json!({"readOnlyHint": true})),
    )
}

fn ping() -> Value {
    tool(
        "ping",
        "Answers pong",
        json!({}),
        &[],
        Some(json!({"readOnlyHint": true})),
    )
}

fn delete_everything() -> Value {
    tool(
        "delete_everything",
        "Deletes every record this server holds. Irreversible.",
        json!({}),
        &[],
        Some(json!({"destructiveHint": true, "readOnlyHint": false})),
    )
}

fn send_email() -> Value {
    tool(
        "send_email",
        "Sends an email",
        json!({
            "to": {"type": "string"},
            "subject": {"type": "string"},
            "body": {"type": "string"}
        }),
        &["to", "subject", "body"],
        None,
    )
}

fn get_status() -> Value {
    tool(
        "get_status",
        "Reports the service status",
        json!({}),
        &[],
        Some(json!({"readOnlyHint": true})),
    )
}

/// The text a successful call answers.
pub(crate) fn call_text(name: &str, args: &Value) -> String {
    match name {
        "echo" => args
            .get("message")
            .map(|m| match m {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default(),
        "ping" => "pong".to_string(),
        "get_status" => "all systems nominal".to_string(),
        "delete_everything" => "deleted everything".to_string(),
        "send_email" => "email sent".to_string(),
        other => format!("{other}: ok"),
    }
}

/// Required arguments present and of the declared JSON type. Tools whose
/// schema is not an object are not checked (they are the malformed ones).
pub(crate) fn check_arguments(tool: &Value, args: &Value) -> Result<(), String> {
    let Some(schema) = tool.get("inputSchema").filter(|s| s.is_object()) else {
        return Ok(());
    };
    let Some(args) = args.as_object() else {
        return Err("arguments must be an object".to_string());
    };
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for r in required.iter().filter_map(Value::as_str) {
            if !args.contains_key(r) {
                return Err(format!("missing required argument `{r}`"));
            }
        }
    }
    let props = schema.get("properties").and_then(Value::as_object);
    for (k, v) in args {
        let Some(ty) = props
            .and_then(|p| p.get(k))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let fits = match ty {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            _ => true,
        };
        if !fits {
            return Err(format!("`{k}` must be of type {ty}"));
        }
    }
    Ok(())
}

/// Opaque-looking pagination cursors.
pub(crate) fn cursor(start: usize) -> String {
    format!("fleet-cursor-{start}")
}

pub(crate) fn parse_cursor(c: &str) -> Option<usize> {
    c.strip_prefix("fleet-cursor-")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(set: ToolSet, variant: u32) -> Vec<String> {
        set.list(variant)
            .iter()
            .filter_map(|t| t["name"].as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn drift_variant_one_retypes_requires_and_removes() {
        assert_eq!(
            names(ToolSet::Drift, 0),
            ["echo", "ping", "delete_everything"]
        );
        let v1 = ToolSet::Drift.list(1);
        assert_eq!(names(ToolSet::Drift, 1), ["echo", "ping"]);
        assert_eq!(
            v1[0]["inputSchema"]["properties"]["message"]["type"],
            "integer"
        );
        assert_eq!(v1[1]["inputSchema"]["required"], json!(["channel"]));
    }

    #[test]
    fn sizes_and_shapes_of_the_odd_lists() {
        assert_eq!(ToolSet::TwentyFive.list(0).len(), 25);
        assert_eq!(ToolSet::TenThousand.list(0).len(), 10_000);
        assert!(ToolSet::SchemaString.list(0)[1]["inputSchema"].is_string());
        let dup = names(ToolSet::DuplicateNames, 0);
        assert_eq!(dup.iter().filter(|n| *n == "echo").count(), 2);
    }

    #[test]
    fn arguments_are_checked_for_presence_and_type() {
        let echo = echo();
        assert!(check_arguments(&echo, &json!({"message": "hi"})).is_ok());
        assert!(check_arguments(&echo, &json!({})).is_err());
        assert!(check_arguments(&echo, &json!({"message": 3})).is_err());
        assert_eq!(parse_cursor(&cursor(10)), Some(10));
        assert_eq!(parse_cursor("bogus"), None);
    }
}
