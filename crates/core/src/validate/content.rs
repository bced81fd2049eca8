//! Content blocks, embedded resource contents, resources and their
//! annotations: the shapes shared by `tools/call` results and
//! `resources/list`.

use serde_json::{Map, Value};

use super::handshake::check_icons;
use super::rules as r;
use super::sink::{check_enum, check_value, member, Got, Path, Sink, Want};
use super::spec::Spec;

/// One `ContentBlock` of the types the revision knows.
pub(super) fn content_block(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::CONTENT_BLOCK;
    let Some(block) = value.as_object() else {
        check_value(s, RULE, at, "a content block", value, Want::Obj);
        return;
    };
    let ty = block.get("type");
    if !check_enum(s, RULE, &at.key("type"), "type", ty, spec.content_types()) {
        return;
    }
    match ty.and_then(Value::as_str) {
        Some("text") => {
            member(s, RULE, at, block, "text", Want::Str, true);
        }
        Some("image") | Some("audio") => {
            member(s, RULE, at, block, "data", Want::Str, true);
            member(s, RULE, at, block, "mimeType", Want::Str, true);
        }
        Some("resource") => {
            if let Some(contents) = member(s, RULE, at, block, "resource", Want::Obj, true) {
                resource_contents(spec, s, &at.key("resource"), contents);
            }
        }
        // `ResourceLink` is a `Resource` with a `type`; its own members are
        // reported as the content block's.
        Some("resource_link") => {
            resource_members(spec, s, RULE, at, block);
            return;
        }
        _ => {}
    }
    common_members(spec, s, RULE, at, block);
}

/// `annotations` and `_meta`, shared by content blocks and resources.
pub(super) fn common_members(
    spec: Spec,
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    obj: &Map<String, Value>,
) {
    if let Some(a) = obj.get("annotations") {
        annotations(spec, s, &at.key("annotations"), a);
    }
    if spec.since_2025_06() {
        member(s, rule, at, obj, "_meta", Want::Obj, false);
    }
}

/// The `resource` of an embedded resource: text or blob contents.
pub(super) fn resource_contents(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::CONTENT_BLOCK;
    let Some(c) = value.as_object() else { return };
    member(s, RULE, at, c, "uri", Want::Str, true);
    member(s, RULE, at, c, "mimeType", Want::Str, false);
    if spec.since_2025_06() {
        member(s, RULE, at, c, "_meta", Want::Obj, false);
    }
    // `anyOf [TextResourceContents, BlobResourceContents]`: either suffices.
    let text_ok = c.get("text").is_some_and(Value::is_string);
    let blob_ok = c.get("blob").is_some_and(Value::is_string);
    if !text_ok && !blob_ok {
        s.push(
            RULE,
            at,
            format_args!(
                "expected resource contents with a string text or blob, got text {} and blob {}",
                Got(c.get("text")),
                Got(c.get("blob"))
            ),
        );
    }
}

/// `Annotations`: audience of roles, priority in [0, 1], lastModified string.
pub(super) fn annotations(spec: Spec, s: &mut Sink, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::ANNOTATIONS_SHAPE;
    let Some(a) = value.as_object() else {
        check_value(s, RULE, at, "annotations", value, Want::Obj);
        return;
    };
    if let Some(Value::Array(roles)) = member(s, RULE, at, a, "audience", Want::Arr, false) {
        let here = at.key("audience");
        for (i, role) in roles.iter().enumerate() {
            check_enum(
                s,
                RULE,
                &here.index(i),
                "an audience role",
                Some(role),
                &["user", "assistant"],
            );
        }
    }
    if let Some(p) = a.get("priority") {
        if !p.as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)) {
            s.push(
                RULE,
                &at.key("priority"),
                format_args!(
                    "expected priority to be a number in [0, 1], got {}",
                    Got(Some(p))
                ),
            );
        }
    }
    if spec.since_2025_06() {
        member(s, RULE, at, a, "lastModified", Want::Str, false);
    }
}

/// The members of a `Resource` (and of a `ResourceLink` content block).
pub(super) fn resource_members(
    spec: Spec,
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    res: &Map<String, Value>,
) {
    member(s, rule, at, res, "uri", Want::Str, true);
    member(s, rule, at, res, "name", Want::Str, true);
    member(s, rule, at, res, "description", Want::Str, false);
    member(s, rule, at, res, "mimeType", Want::Str, false);
    member(s, rule, at, res, "size", Want::Int, false);
    if spec.since_2025_06() {
        member(s, rule, at, res, "title", Want::Str, false);
    }
    if spec.since_2025_11() {
        if let Some(icons) = res.get("icons") {
            check_icons(s, &at.key("icons"), icons);
        }
    }
    common_members(spec, s, rule, at, res);
}
