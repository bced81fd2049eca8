//! Start here: the tool-list fingerprint and drift diff.
//!
//! Canonical JSON (object keys sorted, no insignificant whitespace, tools sorted
//! by name) hashed with SHA-256, a hash per tool, and a diff of two snapshots
//! judged breaking or not by the rules of `failure-modes.md`: breaking when a
//! tool or parameter disappeared, a parameter's type changed, or a parameter
//! became required.
//!
//! The hash is a stored contract (baselines, the Worker's drift events): a
//! change to [`canonical_json`] or to the order in [`snapshot`] moves every
//! stored hash, so it needs a new `format`.

mod canonical;
mod change;
mod diff;
#[cfg(test)]
mod fixtures;
mod snapshot;

pub use canonical::{canonical_json, sha256_tag};
pub use change::{Change, Drift};
pub use diff::diff;
pub use snapshot::{snapshot, snapshot_owned, Snapshot, ToolSnapshot, SNAPSHOT_FORMAT};
