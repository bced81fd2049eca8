//! The handshake answers: `initialize` (legacy) and `server/discover`
//! (modern), their capabilities, implementation info and icons.

use serde_json::{Map, Value};

use super::rules as r;
use super::sink::{check_enum, check_value, member, string_array, Path, Sink, Want};
use super::spec::Spec;

pub(super) fn initialize(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    member(
        s,
        r::INITIALIZE_PROTOCOL_VERSION,
        at,
        result,
        "protocolVersion",
        Want::Str,
        true,
    );
    if let Some(Value::Object(caps)) = member(
        s,
        r::INITIALIZE_CAPABILITIES,
        at,
        result,
        "capabilities",
        Want::Obj,
        true,
    ) {
        capabilities(spec, s, &at.key("capabilities"), caps);
    }
    match result.get("serverInfo") {
        Some(info) => implementation(
            spec,
            s,
            r::INITIALIZE_SERVER_INFO,
            &at.key("serverInfo"),
            info,
        ),
        None => s.push(
            r::INITIALIZE_SERVER_INFO,
            &at.key("serverInfo"),
            format_args!("expected serverInfo to be an object, got nothing"),
        ),
    }
    member(
        s,
        r::INITIALIZE_INSTRUCTIONS,
        at,
        result,
        "instructions",
        Want::Str,
        false,
    );
}

pub(super) fn discover_result(
    spec: Spec,
    s: &mut Sink,
    at: &Path<'_>,
    result: &Map<String, Value>,
) {
    string_array(
        s,
        r::DISCOVER_SUPPORTED_VERSIONS,
        at,
        result,
        "supportedVersions",
        true,
    );
    if let Some(Value::Object(caps)) = member(
        s,
        r::DISCOVER_CAPABILITIES,
        at,
        result,
        "capabilities",
        Want::Obj,
        true,
    ) {
        capabilities(spec, s, &at.key("capabilities"), caps);
    }
    member(
        s,
        r::DISCOVER_INSTRUCTIONS,
        at,
        result,
        "instructions",
        Want::Str,
        false,
    );
}

/// `ServerCapabilities`: the members each revision declares, one level deep
/// plus the boolean flags (see the module note on `JSONValue`).
pub(super) fn capabilities(spec: Spec, s: &mut Sink, at: &Path<'_>, caps: &Map<String, Value>) {
    const RULE: &str = r::CAPABILITIES_SHAPE;
    for (key, value) in caps {
        let here = at.key(key);
        match key.as_str() {
            "experimental" => object_of_objects(s, RULE, &here, key, value),
            "extensions" if spec.modern() => object_of_objects(s, RULE, &here, key, value),
            "logging" => {
                check_value(s, RULE, &here, key, value, Want::Obj);
            }
            "completions" if spec.since_2025_03() => {
                check_value(s, RULE, &here, key, value, Want::Obj);
            }
            "tools" | "prompts" | "resources" => {
                if let Value::Object(cap) = value {
                    member(s, RULE, &here, cap, "listChanged", Want::Bool, false);
                    if key == "resources" {
                        member(s, RULE, &here, cap, "subscribe", Want::Bool, false);
                    }
                } else {
                    check_value(s, RULE, &here, key, value, Want::Obj);
                }
            }
            "tasks" if spec.tasks() => {
                let Some(tasks) = value.as_object() else {
                    check_value(s, RULE, &here, key, value, Want::Obj);
                    continue;
                };
                member(s, RULE, &here, tasks, "cancel", Want::Obj, false);
                member(s, RULE, &here, tasks, "list", Want::Obj, false);
                if let Some(Value::Object(requests)) =
                    member(s, RULE, &here, tasks, "requests", Want::Obj, false)
                {
                    let here = here.key("requests");
                    if let Some(Value::Object(tools)) =
                        member(s, RULE, &here, requests, "tools", Want::Obj, false)
                    {
                        member(s, RULE, &here.key("tools"), tools, "call", Want::Obj, false);
                    }
                }
            }
            _ => {}
        }
    }
}

/// An object every member of which is an object (`experimental`, `extensions`).
pub(super) fn object_of_objects(
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    what: &str,
    value: &Value,
) {
    let Some(obj) = value.as_object() else {
        check_value(s, rule, at, what, value, Want::Obj);
        return;
    };
    for (key, inner) in obj {
        check_value(s, rule, &at.key(key), key, inner, Want::Obj);
    }
}

/// `Implementation` (server info). `rule` reports a non-object; its members
/// report under `implementation.shape`.
pub(super) fn implementation(
    spec: Spec,
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    value: &Value,
) {
    const RULE: &str = r::IMPLEMENTATION_SHAPE;
    let Some(info) = value.as_object() else {
        check_value(s, rule, at, "server info", value, Want::Obj);
        return;
    };
    member(s, RULE, at, info, "name", Want::Str, true);
    member(s, RULE, at, info, "version", Want::Str, true);
    if spec.since_2025_06() {
        member(s, RULE, at, info, "title", Want::Str, false);
    }
    if spec.since_2025_11() {
        member(s, RULE, at, info, "description", Want::Str, false);
        member(s, RULE, at, info, "websiteUrl", Want::Str, false);
        if let Some(icons) = info.get("icons") {
            check_icons(s, &at.key("icons"), icons);
        }
    }
}

/// `icons`: an array of `Icon` (2025-11-25 on).
pub(super) fn check_icons(s: &mut Sink, at: &Path<'_>, value: &Value) {
    const RULE: &str = r::ICON_SHAPE;
    let Some(icons) = value.as_array() else {
        check_value(s, RULE, at, "icons", value, Want::Arr);
        return;
    };
    for (i, icon) in icons.iter().enumerate() {
        let here = at.index(i);
        let Some(icon) = icon.as_object() else {
            check_value(s, RULE, &here, "an icon", icon, Want::Obj);
            continue;
        };
        member(s, RULE, &here, icon, "src", Want::Str, true);
        member(s, RULE, &here, icon, "mimeType", Want::Str, false);
        string_array(s, RULE, &here, icon, "sizes", false);
        if let Some(theme) = icon.get("theme") {
            check_enum(
                s,
                RULE,
                &here.key("theme"),
                "theme",
                Some(theme),
                &["dark", "light"],
            );
        }
    }
}
