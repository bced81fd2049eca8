//! Start here: what the page remembers in the browser (localStorage), per
//! probed URL: the last tool-list snapshot, so the next check of the same URL
//! shows the drift. Nothing else is stored: never a header or token.
//!
//! A check that ran in the browser has the full snapshot and the core diffs
//! it ([`mcprobe_core::fingerprint::diff`], the same judgement the CLI and
//! the Worker make). A check through `/api/check` only has the verdict's
//! tool names and hash, so [`Remembered::Names`] keeps those and
//! [`names_diff`] can say what was added or removed, not what changed inside.

use mcprobe_core::fingerprint::{Change, Drift, Snapshot};
use mcprobe_core::verdict::ToolsSummary;
use serde::{Deserialize, Serialize};

const PREFIX: &str = "mcprobe:tools:";

/// What is kept for one URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Remembered {
    Snapshot { snapshot: Snapshot, at: String },
    Names { summary: ToolsSummary, at: String },
}

impl Remembered {
    pub fn hash(&self) -> &str {
        match self {
            Remembered::Snapshot { snapshot, .. } => &snapshot.hash,
            Remembered::Names { summary, .. } => &summary.hash,
        }
    }

    pub fn at(&self) -> &str {
        match self {
            Remembered::Snapshot { at, .. } | Remembered::Names { at, .. } => at,
        }
    }

    pub fn names(&self) -> Vec<String> {
        match self {
            Remembered::Snapshot { snapshot, .. } => {
                snapshot.tools.iter().map(|t| t.name.clone()).collect()
            }
            Remembered::Names { summary, .. } => summary.names.clone(),
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The remembered tool list of `url`, if any (a corrupt entry counts as none).
pub fn recall(url: &str) -> Option<Remembered> {
    let text = storage()?.get_item(&format!("{PREFIX}{url}")).ok()??;
    serde_json::from_str(&text).ok()
}

/// Remembers this check's tool list for `url`. Storage full or disabled is
/// not an error worth showing: the next check simply has no baseline.
pub fn remember(url: &str, entry: &Remembered) {
    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(entry)) {
        let _ = s.set_item(&format!("{PREFIX}{url}"), &text);
    }
}

/// The diff between two tool-name lists when no full snapshot exists:
/// removals are breaking, additions are not.
pub fn names_diff(old: &Remembered, now: &ToolsSummary) -> Option<Drift> {
    if old.hash() == now.hash {
        return None;
    }
    let before = old.names();
    let mut changes: Vec<Change> = Vec::new();
    for n in &now.names {
        if !before.contains(n) {
            changes.push(Change::ToolAdded { tool: n.clone() });
        }
    }
    for n in &before {
        if !now.names.contains(n) {
            changes.push(Change::ToolRemoved { tool: n.clone() });
        }
    }
    let breaking = changes.iter().any(Change::is_breaking);
    Some(Drift {
        breaking,
        from_hash: old.hash().to_string(),
        to_hash: now.hash.clone(),
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(hash: &str, names: &[&str]) -> ToolsSummary {
        ToolsSummary {
            count: names.len(),
            hash: hash.into(),
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_removed_tool_is_breaking_and_an_added_one_is_not() {
        let old = Remembered::Names {
            summary: summary("sha256:a", &["echo", "search"]),
            at: String::new(),
        };
        let d = names_diff(&old, &summary("sha256:b", &["echo", "fetch"])).expect("a diff");
        assert!(d.breaking);
        assert_eq!(
            d.changes,
            vec![
                Change::ToolAdded {
                    tool: "fetch".into()
                },
                Change::ToolRemoved {
                    tool: "search".into()
                }
            ]
        );
        let same = names_diff(&old, &summary("sha256:a", &["echo", "search"]));
        assert!(same.is_none());
    }

    #[test]
    fn entries_round_trip_through_json() {
        let e = Remembered::Names {
            summary: summary("sha256:a", &["echo"]),
            at: "2026-11-23T10:00:00Z".into(),
        };
        let text = serde_json::to_string(&e).expect("json");
        assert_eq!(serde_json::from_str::<Remembered>(&text).ok(), Some(e));
    }
}
