//! `resources/list` and `prompts/list` (light: the members each schema
//! types).

use serde_json::{Map, Value};

use super::content::resource_members;
use super::handshake::check_icons;
use super::rules as r;
use super::sink::{check_value, member, Path, Sink, Want};
use super::spec::Spec;

pub(super) fn resources_list(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    member(
        s,
        r::RESOURCES_NEXT_CURSOR,
        at,
        result,
        "nextCursor",
        Want::Str,
        false,
    );
    let Some(Value::Array(items)) = member(
        s,
        r::RESOURCES_ARRAY,
        at,
        result,
        "resources",
        Want::Arr,
        true,
    ) else {
        return;
    };
    let here = at.key("resources");
    for (i, item) in items.iter().enumerate() {
        let at = here.index(i);
        match item.as_object() {
            Some(res) => resource_members(spec, s, r::RESOURCE_SHAPE, &at, res),
            None => {
                check_value(s, r::RESOURCE_SHAPE, &at, "a resource", item, Want::Obj);
            }
        }
    }
}

pub(super) fn prompts_list(spec: Spec, s: &mut Sink, at: &Path<'_>, result: &Map<String, Value>) {
    const RULE: &str = r::PROMPT_SHAPE;
    member(
        s,
        r::PROMPTS_NEXT_CURSOR,
        at,
        result,
        "nextCursor",
        Want::Str,
        false,
    );
    let Some(Value::Array(items)) =
        member(s, r::PROMPTS_ARRAY, at, result, "prompts", Want::Arr, true)
    else {
        return;
    };
    let here = at.key("prompts");
    for (i, item) in items.iter().enumerate() {
        let at = here.index(i);
        let Some(p) = item.as_object() else {
            check_value(s, RULE, &at, "a prompt", item, Want::Obj);
            continue;
        };
        member(s, RULE, &at, p, "name", Want::Str, true);
        member(s, RULE, &at, p, "description", Want::Str, false);
        if spec.since_2025_06() {
            member(s, RULE, &at, p, "title", Want::Str, false);
            member(s, RULE, &at, p, "_meta", Want::Obj, false);
        }
        if spec.since_2025_11() {
            if let Some(icons) = p.get("icons") {
                check_icons(s, &at.key("icons"), icons);
            }
        }
        let Some(Value::Array(args)) = member(s, RULE, &at, p, "arguments", Want::Arr, false)
        else {
            continue;
        };
        let args_at = at.key("arguments");
        for (j, arg) in args.iter().enumerate() {
            let at = args_at.index(j);
            let Some(arg) = arg.as_object() else {
                check_value(s, RULE, &at, "a prompt argument", arg, Want::Obj);
                continue;
            };
            member(s, RULE, &at, arg, "name", Want::Str, true);
            member(s, RULE, &at, arg, "description", Want::Str, false);
            member(s, RULE, &at, arg, "required", Want::Bool, false);
            if spec.since_2025_06() {
                member(s, RULE, &at, arg, "title", Want::Str, false);
            }
        }
    }
}
