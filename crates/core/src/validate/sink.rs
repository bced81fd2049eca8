//! The plumbing every rule family uses: JSON pointers (a linked list of
//! borrowed segments on the stack, rendered only when a violation is
//! reported), the violation sink with its cap, and type expectations
//! ("expected a string, got 5").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::fmt::Write as _;

/// One breach of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Stable rule id, e.g. `jsonrpc.version`, `tools.input-schema-object`.
    pub rule: String,
    /// RFC 6901 pointer into the whole JSON-RPC message, e.g. `/result/tools/2/inputSchema`.
    pub pointer: String,
    /// Expected versus actual, in one sentence.
    pub detail: String,
}

/// Violations kept per answer: a hostile answer can break the same rule
/// millions of times (a page of a million `{}` tools), and a verdict keeps
/// only so many findings anyway (`verdict::MAX_FINDINGS`).
pub const MAX_VIOLATIONS: usize = crate::verdict::MAX_FINDINGS;

/// One step of a JSON pointer.
#[derive(Clone, Copy)]
pub(super) enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

/// A JSON pointer as a linked list of borrowed steps on the stack: building
/// one costs nothing; it becomes a `String` only when a violation is reported.
#[derive(Clone, Copy)]
pub(super) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

impl Path<'_> {
    pub(super) const ROOT: Path<'static> = Path {
        parent: None,
        seg: Seg::Root,
    };

    pub(super) fn key<'b>(&'b self, key: &'b str) -> Path<'b> {
        Path {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    pub(super) fn index(&self, i: usize) -> Path<'_> {
        Path {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }

    /// RFC 6901: `~` becomes `~0` and `/` becomes `~1` inside a step.
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        self.write_into(&mut out);
        out
    }

    pub(super) fn write_into(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write_into(out);
        }
        match self.seg {
            Seg::Root => {}
            Seg::Key(k) => {
                out.push('/');
                for c in k.chars() {
                    match c {
                        '~' => out.push_str("~0"),
                        '/' => out.push_str("~1"),
                        c => out.push(c),
                    }
                }
            }
            Seg::Index(i) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "/{i}");
            }
        }
    }
}

#[derive(Default)]
pub(super) struct Sink {
    pub(super) found: Vec<Violation>,
    /// Violations past [`MAX_VIOLATIONS`]: counted, never rendered.
    pub(super) more: usize,
}

impl Sink {
    // Out of line and cold: the happy path never comes here.
    #[cold]
    #[inline(never)]
    pub(super) fn push(&mut self, rule: &'static str, at: &Path<'_>, detail: fmt::Arguments<'_>) {
        if self.found.len() >= MAX_VIOLATIONS {
            self.more += 1;
            return;
        }
        self.found.push(Violation {
            rule: rule.to_owned(),
            pointer: at.render(),
            detail: detail.to_string(),
        });
    }
}

/// The actual value, briefly, for "got ..." in a detail.
pub(super) struct Got<'v>(pub(super) Option<&'v Value>);

impl fmt::Display for Got<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 48;
        match self.0 {
            None => f.write_str("nothing"),
            Some(Value::Null) => f.write_str("null"),
            Some(Value::Bool(b)) => write!(f, "{b}"),
            Some(Value::Number(n)) => write!(f, "{n}"),
            Some(Value::String(s)) if s.len() <= MAX => write!(f, "{s:?}"),
            Some(Value::String(s)) => {
                let cut = s
                    .char_indices()
                    .map(|(i, _)| i)
                    .take_while(|&i| i <= MAX)
                    .last()
                    .unwrap_or(0);
                write!(f, "{:?}...", &s[..cut])
            }
            Some(Value::Array(a)) => write!(f, "an array of {}", a.len()),
            Some(Value::Object(_)) => f.write_str("an object"),
        }
    }
}

/// A JSON Schema type a member must have.
#[derive(Clone, Copy)]
pub(super) enum Want {
    Str,
    Bool,
    Obj,
    Arr,
    Int,
}

impl Want {
    pub(super) fn accepts(self, v: &Value) -> bool {
        match self {
            Want::Str => v.is_string(),
            Want::Bool => v.is_boolean(),
            Want::Obj => v.is_object(),
            Want::Arr => v.is_array(),
            Want::Int => is_integer(v),
        }
    }

    pub(super) fn noun(self) -> &'static str {
        match self {
            Want::Str => "a string",
            Want::Bool => "a boolean",
            Want::Obj => "an object",
            Want::Arr => "an array",
            Want::Int => "an integer",
        }
    }
}

/// JSON Schema's `integer`: any number with no fractional part, `5.0` included.
pub(super) fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64()
                || n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

/// Checks `value` (found at `at`, called `what` in the detail) against `want`.
pub(super) fn check_value(
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    what: &str,
    value: &Value,
    want: Want,
) -> bool {
    if want.accepts(value) {
        return true;
    }
    s.push(
        rule,
        at,
        format_args!(
            "expected {what} to be {}, got {}",
            want.noun(),
            Got(Some(value))
        ),
    );
    false
}

/// Checks member `key` of `obj` (which sits at `at`) against `want`; a missing
/// member is reported only when `required`. Returns the member when it is
/// present and of the right type.
pub(super) fn member<'v>(
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    obj: &'v Map<String, Value>,
    key: &str,
    want: Want,
    required: bool,
) -> Option<&'v Value> {
    match obj.get(key) {
        Some(v) if want.accepts(v) => Some(v),
        Some(v) => {
            s.push(
                rule,
                &at.key(key),
                format_args!("expected {key} to be {}, got {}", want.noun(), Got(Some(v))),
            );
            None
        }
        None if required => {
            s.push(
                rule,
                &at.key(key),
                format_args!("expected {key} to be {}, got nothing", want.noun()),
            );
            None
        }
        None => None,
    }
}

/// Checks that `value` is one of `allowed` strings.
pub(super) fn check_enum(
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    what: &str,
    value: Option<&Value>,
    allowed: &[&str],
) -> bool {
    if let Some(v) = value.and_then(Value::as_str) {
        if allowed.contains(&v) {
            return true;
        }
    }
    s.push(
        rule,
        at,
        format_args!(
            "expected {what} to be one of {allowed:?}, got {}",
            Got(value)
        ),
    );
    false
}

/// Checks that member `key`, when present, is an array of strings.
pub(super) fn string_array(
    s: &mut Sink,
    rule: &'static str,
    at: &Path<'_>,
    obj: &Map<String, Value>,
    key: &str,
    required: bool,
) {
    if let Some(Value::Array(items)) = member(s, rule, at, obj, key, Want::Arr, required) {
        let here = at.key(key);
        for (i, item) in items.iter().enumerate() {
            check_value(s, rule, &here.index(i), key, item, Want::Str);
        }
    }
}
