//! One difference between two tool-list snapshots ([`Change`]) and the diff
//! as the verdict's `drift` field reports it ([`Drift`]): stored and sent in
//! alerts, so the `kind` tags never change.

use serde::{Deserialize, Serialize};

/// One difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    ToolAdded {
        tool: String,
    },
    ToolRemoved {
        tool: String,
    },
    ParamAdded {
        tool: String,
        param: String,
        required: bool,
    },
    ParamRemoved {
        tool: String,
        param: String,
    },
    ParamRetyped {
        tool: String,
        param: String,
        from: String,
        to: String,
    },
    RequiredAdded {
        tool: String,
        param: String,
    },
    RequiredRemoved {
        tool: String,
        param: String,
    },
    /// Anything else in the tool's definition changed (description, annotations,
    /// output schema, nested schema details): not breaking on its own.
    ToolChanged {
        tool: String,
        detail: String,
    },
}

impl Change {
    /// The breaking rules of `failure-modes.md`: a caller that worked against
    /// the old list can fail against the new one.
    pub fn is_breaking(&self) -> bool {
        match self {
            Change::ToolRemoved { .. }
            | Change::ParamRemoved { .. }
            | Change::ParamRetyped { .. }
            | Change::RequiredAdded { .. } => true,
            Change::ParamAdded { required, .. } => *required,
            Change::ToolAdded { .. }
            | Change::RequiredRemoved { .. }
            | Change::ToolChanged { .. } => false,
        }
    }

    /// The tool this change is about.
    pub fn tool(&self) -> &str {
        match self {
            Change::ToolAdded { tool }
            | Change::ToolRemoved { tool }
            | Change::ParamAdded { tool, .. }
            | Change::ParamRemoved { tool, .. }
            | Change::ParamRetyped { tool, .. }
            | Change::RequiredAdded { tool, .. }
            | Change::RequiredRemoved { tool, .. }
            | Change::ToolChanged { tool, .. } => tool,
        }
    }

    /// The parameter this change is about, if it is about one.
    pub fn param(&self) -> Option<&str> {
        match self {
            Change::ParamAdded { param, .. }
            | Change::ParamRemoved { param, .. }
            | Change::ParamRetyped { param, .. }
            | Change::RequiredAdded { param, .. }
            | Change::RequiredRemoved { param, .. } => Some(param),
            Change::ToolAdded { .. } | Change::ToolRemoved { .. } | Change::ToolChanged { .. } => {
                None
            }
        }
    }

    /// The stable code of this change's kind, as in its JSON `kind` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::ToolAdded { .. } => "tool_added",
            Change::ToolRemoved { .. } => "tool_removed",
            Change::ParamAdded { .. } => "param_added",
            Change::ParamRemoved { .. } => "param_removed",
            Change::ParamRetyped { .. } => "param_retyped",
            Change::RequiredAdded { .. } => "required_added",
            Change::RequiredRemoved { .. } => "required_removed",
            Change::ToolChanged { .. } => "tool_changed",
        }
    }

    /// Rank of the kind in declaration order, for the diff's stable order.
    pub(super) fn kind_rank(&self) -> u8 {
        match self {
            Change::ToolAdded { .. } => 0,
            Change::ToolRemoved { .. } => 1,
            Change::ParamAdded { .. } => 2,
            Change::ParamRemoved { .. } => 3,
            Change::ParamRetyped { .. } => 4,
            Change::RequiredAdded { .. } => 5,
            Change::RequiredRemoved { .. } => 6,
            Change::ToolChanged { .. } => 7,
        }
    }
}

impl std::fmt::Display for Change {
    /// One human line, e.g. `search: parameter "q" retyped string -> integer`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::ToolAdded { tool } => write!(f, "{tool}: tool added"),
            Change::ToolRemoved { tool } => write!(f, "{tool}: tool removed"),
            Change::ParamAdded {
                tool,
                param,
                required: true,
            } => {
                write!(f, "{tool}: required parameter \"{param}\" added")
            }
            Change::ParamAdded {
                tool,
                param,
                required: false,
            } => {
                write!(f, "{tool}: optional parameter \"{param}\" added")
            }
            Change::ParamRemoved { tool, param } => {
                write!(f, "{tool}: parameter \"{param}\" removed")
            }
            Change::ParamRetyped {
                tool,
                param,
                from,
                to,
            } => {
                write!(f, "{tool}: parameter \"{param}\" retyped {from} -> {to}")
            }
            Change::RequiredAdded { tool, param } => {
                write!(f, "{tool}: parameter \"{param}\" became required")
            }
            Change::RequiredRemoved { tool, param } => {
                write!(f, "{tool}: parameter \"{param}\" became optional")
            }
            Change::ToolChanged { tool, detail } => write!(f, "{tool}: changed {detail}"),
        }
    }
}

/// The diff of two snapshots, as reported in the verdict's `drift` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub breaking: bool,
    pub from_hash: String,
    pub to_hash: String,
    pub changes: Vec<Change>,
}
