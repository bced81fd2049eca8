//! What each revision's schema declares: the switches the rule families
//! read instead of comparing revisions themselves.

use crate::revision::Revision;
use crate::verdict::Era;

/// The revision whose schema is being applied, asked feature by feature so
/// each check reads as "does this revision's schema type that member?".
#[derive(Clone, Copy)]
pub(super) struct Spec(pub(super) Revision);

impl Spec {
    pub(super) fn modern(self) -> bool {
        self.0.era() == Era::Modern
    }
    /// `ToolAnnotations`, `AudioContent`, the `completions` capability.
    pub(super) fn since_2025_03(self) -> bool {
        self.0 >= Revision::V2025_03_26
    }
    /// `title` on named things, typed `_meta` everywhere, `outputSchema`,
    /// `structuredContent`, `ResourceLink`, `annotations.lastModified`.
    pub(super) fn since_2025_06(self) -> bool {
        self.0 >= Revision::V2025_06_18
    }
    /// `icons`, `$schema` in tool schemas, `Implementation.websiteUrl` / `description`.
    pub(super) fn since_2025_11(self) -> bool {
        self.0 >= Revision::V2025_11_25
    }
    /// 2025-11-25 only: `tasks` capability and `Tool.execution` (dropped in 2026-07-28).
    pub(super) fn tasks(self) -> bool {
        self.0 == Revision::V2025_11_25
    }
    /// Up to 2025-11-25 a tool schema's `properties` and `required` are typed;
    /// 2026-07-28 leaves everything but `type` and `$schema` to JSON Schema.
    pub(super) fn typed_schema_members(self) -> bool {
        self.0 <= Revision::V2025_11_25
    }
    /// 2025-06-18 and 2025-11-25: `outputSchema.type` must be `"object"` and
    /// `structuredContent` an object; 2026-07-28 relaxes both.
    pub(super) fn typed_output(self) -> bool {
        self.since_2025_06() && self.0 <= Revision::V2025_11_25
    }
    pub(super) fn content_types(self) -> &'static [&'static str] {
        if self.since_2025_06() {
            &["text", "image", "audio", "resource_link", "resource"]
        } else if self.since_2025_03() {
            &["text", "image", "audio", "resource"]
        } else {
            &["text", "image", "resource"]
        }
    }
}
