//! A JSON document read into a [`Value`] with a budget of values kept.
//!
//! `serde_json::from_slice::<Value>` keeps everything, and a small value costs
//! far more as a `Value` than as text (`{},` is 3 bytes of page and about a
//! hundred bytes of map): a hostile registry page of empty objects multiplies
//! its size in memory. Here every value kept spends one unit of the budget;
//! once it is spent the parser still reads the rest of the document (so it
//! must still be valid JSON) but keeps nothing of it, and says so.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `body`, keeping at most `max_values` values; also says whether
/// anything was left out.
pub fn parse(body: &[u8], max_values: usize) -> Result<(Value, bool), serde_json::Error> {
    let budget = Budget {
        left: Cell::new(max_values),
        cut: Cell::new(false),
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Kept(&budget).deserialize(&mut de)?;
    de.end()?;
    Ok((value.unwrap_or(Value::Null), budget.cut.get()))
}

struct Budget {
    left: Cell<usize>,
    cut: Cell<bool>,
}

impl Budget {
    /// Spends one unit; `false` (and the document marked cut) when none is left.
    fn take(&self) -> bool {
        match self.left.get() {
            0 => {
                self.cut.set(true);
                false
            }
            n => {
                self.left.set(n - 1);
                true
            }
        }
    }
}

/// Reads one value: kept (`Some`) while the budget lasts, read past (`None`) after.
#[derive(Clone, Copy)]
struct Kept<'a>(&'a Budget);

impl<'de> DeserializeSeed<'de> for Kept<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        if self.0.take() {
            d.deserialize_any(self).map(Some)
        } else {
            d.deserialize_ignored_any(IgnoredAny).map(|_| None)
        }
    }
}

impl<'de> Visitor<'de> for Kept<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            if let Some(v) = item {
                out.push(v);
            }
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if let Some(v) = map.next_value_seed(self)? {
                out.insert(key, v);
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn within_the_budget_it_reads_what_serde_json_reads() {
        let text = r#"{"a": [1, -2, 3.5, "x", null, true, {"b": {}}], "c": "d"}"#;
        let (v, cut) = parse(text.as_bytes(), 100).unwrap();
        assert_eq!(v, serde_json::from_str::<Value>(text).unwrap());
        assert!(!cut);
    }

    #[test]
    fn past_the_budget_it_keeps_nothing_more_and_says_so() {
        let body = format!("[{}{{}}]", "{},".repeat(10_000));
        let (v, cut) = parse(body.as_bytes(), 11).unwrap();
        assert_eq!(v, json!([{}, {}, {}, {}, {}, {}, {}, {}, {}, {}]));
        assert!(cut);
    }

    #[test]
    fn the_rest_must_still_be_json() {
        assert!(parse(b"[1, 2, oops]", 1).is_err());
        assert!(parse(b"[1] trailing", 10).is_err());
    }
}
