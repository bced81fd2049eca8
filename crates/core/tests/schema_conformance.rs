//! Start here: our hand-written validator against the OFFICIAL MCP JSON Schemas.
//!
//! Every fixture under `tests/fixtures/validate/<revision>/<name>.json` is one
//! JSON-RPC answer:
//!
//! ```json
//! {"answer": "tools_list", "request_id": 2, "message": {...}, "expect_valid": false,
//!  "expect_rules": ["tools.in-result"], "schema_blind": true, "note": "why"}
//! ```
//!
//! For each, `validate_response` must agree with `expect_valid` (and, when
//! `expect_rules` is given, report exactly those rule ids), and so must the
//! official schema of that revision, compiled with the `jsonschema` crate from
//! `tests/fixtures/mcp-schema/<revision>.schema.json` (the upstream files,
//! unchanged; see the README there). A fixture is `schema_blind` when the schema cannot express
//! the rule it breaks (the request's id, unique tool names, a `tools` member
//! beside a valid result, ...): its `note` says why, and the test then asserts
//! that the schema really does disagree, so the flag cannot hide a mismatch.
//!
//! What the schema validates a message against: "a result response to this
//! method, or an error response", i.e. the root of the official file plus
//! `anyOf: [<result response>, <error response>]` where the result response is
//! `JSONRPCResponse`/`JSONRPCResultResponse` with `result` constrained to the
//! method's result type (`InitializeResult`, `ListToolsResult`, ...) and, in
//! 2026-07-28, the per-method `<X>ResultResponse` definitions.
//! Format assertions (`uri`, `byte`) are off: the validator does not check
//! string formats, and 2020-12 treats them as annotations anyway.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mcprobe_core::revision::Revision;
use mcprobe_core::validate::{rules, validate_response, Answer};
use serde::Deserialize;
use serde_json::{json, Value};

/// At least this many fixtures per revision, so a lost directory fails loudly.
const MIN_FIXTURES_PER_REVISION: usize = 12;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    answer: String,
    request_id: Value,
    message: Value,
    expect_valid: bool,
    #[serde(default)]
    expect_rules: Option<Vec<String>>,
    #[serde(default)]
    schema_blind: bool,
    #[serde(default)]
    note: Option<String>,
}

fn answer_of(name: &str) -> Answer {
    match name {
        "discover" => Answer::Discover,
        "initialize" => Answer::Initialize,
        "tools_list" => Answer::ToolsList,
        "tools_call" => Answer::ToolsCall,
        "resources_list" => Answer::ResourcesList,
        "prompts_list" => Answer::PromptsList,
        other => panic!("unknown answer kind {other:?}"),
    }
}

fn schema_file(rev: Revision) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/mcp-schema/"
    ))
    .join(format!("{}.schema.json", rev.as_str()))
}

fn fixtures_dir(rev: Revision) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/validate/"
    ))
    .join(rev.as_str())
}

/// The schema document for "an answer to `answer` in `rev`": the official
/// file with an `anyOf` added at its root (the root has no assertions of its
/// own, only `$schema` and the definitions, so this adds exactly one).
fn answer_schema(official: &Value, rev: Revision, answer: Answer) -> Value {
    // draft-07 files keep definitions in `definitions`, 2020-12 ones in `$defs`.
    let defs = if official.get("$defs").is_some() {
        "$defs"
    } else {
        "definitions"
    };
    let def = |name: &str| {
        assert!(
            official[defs].get(name).is_some(),
            "{rev}: no definition {name}"
        );
        json!({"$ref": format!("#/{defs}/{name}")})
    };
    let (result_response, error_response) = if rev == Revision::V2026_07_28 {
        let name = match answer {
            Answer::Discover => "DiscoverResultResponse",
            Answer::Initialize => panic!("2026-07-28 has no initialize"),
            Answer::ToolsList => "ListToolsResultResponse",
            Answer::ToolsCall => "CallToolResultResponse",
            Answer::ResourcesList => "ListResourcesResultResponse",
            Answer::PromptsList => "ListPromptsResultResponse",
        };
        (def(name), def("JSONRPCErrorResponse"))
    } else {
        let result = match answer {
            Answer::Discover => panic!("{rev} has no server/discover"),
            Answer::Initialize => "InitializeResult",
            Answer::ToolsList => "ListToolsResult",
            Answer::ToolsCall => "CallToolResult",
            Answer::ResourcesList => "ListResourcesResult",
            Answer::PromptsList => "ListPromptsResult",
        };
        // 2025-11-25 splits the envelope into result and error responses;
        // before it, `JSONRPCResponse` is the result one.
        let (ok, err) = if rev == Revision::V2025_11_25 {
            ("JSONRPCResultResponse", "JSONRPCErrorResponse")
        } else {
            ("JSONRPCResponse", "JSONRPCError")
        };
        (
            json!({"allOf": [def(ok), {"properties": {"result": def(result)}}]}),
            def(err),
        )
    };
    let mut doc = official.clone();
    let root = doc.as_object_mut().expect("schema root is an object");
    assert!(!root.contains_key("anyOf"), "{rev}: root already has anyOf");
    root.insert("anyOf".into(), json!([result_response, error_response]));
    doc
}

struct Schemas {
    official: Value,
    compiled: BTreeMap<(&'static str, Branch), jsonschema::Validator>,
}

/// Which schema a message is checked against: the whole answer, or only one
/// of its two branches (to read the schema's error locations: under `anyOf`
/// the schema reports one error at the root, which says nothing about where).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Branch {
    Either,
    Result,
    Error,
}

impl Schemas {
    fn load(rev: Revision) -> Schemas {
        let path = schema_file(rev);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        Schemas {
            official: serde_json::from_str(&text).expect("official schema is JSON"),
            compiled: BTreeMap::new(),
        }
    }

    fn validator(
        &mut self,
        rev: Revision,
        answer: Answer,
        branch: Branch,
    ) -> &jsonschema::Validator {
        let official = &self.official;
        self.compiled
            .entry((answer.method(), branch))
            .or_insert_with(|| {
                let mut doc = answer_schema(official, rev, answer);
                if branch != Branch::Either {
                    // `allOf` of one branch: errors are reported where they
                    // are, not folded into one "none of anyOf" at the root.
                    let i = usize::from(branch == Branch::Error);
                    let only = doc["anyOf"][i].take();
                    if let Some(root) = doc.as_object_mut() {
                        root.remove("anyOf");
                        root.insert("allOf".into(), json!([only]));
                    }
                }
                jsonschema::options()
                    .should_validate_formats(false)
                    .build(&doc)
                    .unwrap_or_else(|e| {
                        panic!("{rev} {}: schema does not compile: {e}", answer.method())
                    })
            })
    }
}

fn load_fixtures(rev: Revision) -> Vec<(String, Fixture)> {
    let dir = fixtures_dir(rev);
    let mut out = Vec::new();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_owned();
        let text = std::fs::read_to_string(&path).expect("read fixture");
        let fixture: Fixture = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: bad fixture: {e}", path.display()));
        out.push((name, fixture));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Runs every fixture of `rev`; returns the problems found (empty = agreement).
fn check_revision(rev: Revision) -> Vec<String> {
    let mut schemas = Schemas::load(rev);
    let fixtures = load_fixtures(rev);
    let mut problems = Vec::new();
    if fixtures.len() < MIN_FIXTURES_PER_REVISION {
        problems.push(format!(
            "{rev}: only {} fixtures (want >= {MIN_FIXTURES_PER_REVISION})",
            fixtures.len()
        ));
    }
    let (mut valid, mut invalid) = (0, 0);
    for (name, fx) in &fixtures {
        let answer = answer_of(&fx.answer);
        let ours = validate_response(rev, answer, &fx.request_id, &fx.message);
        let ours_valid = ours.is_empty();
        let schema_valid = schemas
            .validator(rev, answer, Branch::Either)
            .is_valid(&fx.message);
        let at = format!("{rev}/{name}");
        if fx.expect_valid {
            valid += 1;
        } else {
            invalid += 1;
        }

        if ours_valid != fx.expect_valid {
            problems.push(format!(
                "{at}: validator says valid={ours_valid}, fixture expects {}; violations: {ours:#?}",
                fx.expect_valid
            ));
        }
        if let Some(want) = &fx.expect_rules {
            let want: BTreeSet<&str> = want.iter().map(String::as_str).collect();
            let got: BTreeSet<&str> = ours.iter().map(|v| v.rule.as_str()).collect();
            if want != got {
                problems.push(format!(
                    "{at}: rules {got:?}, fixture expects {want:?}; violations: {ours:#?}"
                ));
            }
            for rule in &want {
                if !rules::ALL.contains(rule) {
                    problems.push(format!("{at}: expects unknown rule {rule}"));
                }
            }
        }
        if fx.schema_blind {
            // The flag claims the schema cannot see this breach: hold it to it.
            if schema_valid == fx.expect_valid {
                problems.push(format!(
                    "{at}: marked schema_blind but the schema agrees (valid={schema_valid}); drop the flag"
                ));
            }
            if fx.note.as_deref().is_none_or(str::is_empty) {
                problems.push(format!("{at}: schema_blind without a note saying why"));
            }
        } else if schema_valid != fx.expect_valid {
            let errors = schema_errors(&mut schemas, rev, answer, &fx.message);
            problems.push(format!(
                "{at}: official schema says valid={schema_valid}, fixture expects {}; schema errors: {errors:#?}",
                fx.expect_valid
            ));
        } else if !schema_valid {
            // Both reject it: check they reject it for the same reason, i.e.
            // at related places (one pointer equal to or inside the other; the
            // schema reports a missing member at its parent, we at the member).
            let errors = schema_errors(&mut schemas, rev, answer, &fx.message);
            let related = |a: &str, b: &str| {
                a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
            };
            // `tools.in-result` points at the misplaced `/tools` (where the
            // tools are); the schema reports the same fact as `result` lacking
            // `tools`. Compare it where the schema looks.
            let ours_at: Vec<&str> = ours
                .iter()
                .map(|v| match v.rule.as_str() {
                    rules::TOOLS_IN_RESULT => "/result/tools",
                    _ => v.pointer.as_str(),
                })
                .collect();
            let unmatched_schema: Vec<&(String, String)> = errors
                .iter()
                .filter(|(path, _)| !ours_at.iter().any(|p| related(p, path)))
                .collect();
            let unmatched_ours: Vec<&str> = ours_at
                .iter()
                .copied()
                .filter(|p| !errors.iter().any(|(path, _)| related(p, path)))
                .collect();
            if !unmatched_schema.is_empty() || !unmatched_ours.is_empty() {
                problems.push(format!(
                    "{at}: both reject it, but at different places: schema only {unmatched_schema:?}, ours only {unmatched_ours:?}"
                ));
            }
        }
    }
    // A corpus of only-valid or only-invalid messages would prove little.
    if valid == 0 || invalid == 0 {
        problems.push(format!(
            "{rev}: corpus needs both valid ({valid}) and invalid ({invalid}) messages"
        ));
    }
    problems
}

/// The schema's errors for `message` as (instance pointer, message), read
/// from the branch the message claims to be (error if it has `error`).
fn schema_errors(
    schemas: &mut Schemas,
    rev: Revision,
    answer: Answer,
    message: &Value,
) -> Vec<(String, String)> {
    let branch = if message.get("error").is_some() {
        Branch::Error
    } else {
        Branch::Result
    };
    schemas
        .validator(rev, answer, branch)
        .iter_errors(message)
        .map(|e| (e.instance_path().to_string(), e.to_string()))
        .collect()
}

fn assert_revision(rev: Revision) {
    let problems = check_revision(rev);
    assert!(
        problems.is_empty(),
        "{} disagreement(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn conformance_2024_11_05() {
    assert_revision(Revision::V2024_11_05);
}

#[test]
fn conformance_2025_03_26() {
    assert_revision(Revision::V2025_03_26);
}

#[test]
fn conformance_2025_06_18() {
    assert_revision(Revision::V2025_06_18);
}

#[test]
fn conformance_2025_11_25() {
    assert_revision(Revision::V2025_11_25);
}

#[test]
fn conformance_2026_07_28() {
    assert_revision(Revision::V2026_07_28);
}

/// Every rule id that the corpus can exercise is exercised somewhere, so a
/// rule nobody tests against the official schema stands out.
#[test]
fn corpus_covers_the_rules() {
    let mut seen = BTreeSet::new();
    for rev in Revision::ALL {
        for (_, fx) in load_fixtures(rev) {
            for rule in fx.expect_rules.unwrap_or_default() {
                seen.insert(rule);
            }
        }
    }
    let missing: Vec<&str> = rules::ALL
        .iter()
        .copied()
        .filter(|r| !seen.contains(*r))
        .collect();
    assert!(missing.is_empty(), "rules with no fixture: {missing:?}");
}
