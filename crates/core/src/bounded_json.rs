//! Start here: reading an answer's JSON without letting its shape decide how
//! much memory the probe takes.
//!
//! The body cap bounds bytes, not values: 4 MiB of `{},{},...` is 1.4 million
//! JSON values, and a `serde_json::Value` costs 80 bytes or more each (more
//! for an object's members), so a body under the cap still became over 100 MB
//! of tree, then millions of findings. [`parse`] builds the same `Value`
//! serde_json would, with two bounds:
//! - an array keeps its first [`JsonBounds::max_array_items`] items; the rest
//!   are skipped without being built (serde's `IgnoredAny`) and counted;
//! - a whole document holds at most [`JsonBounds::max_values`] values, past
//!   which it is refused as a whole.
//!
//! serde_json's own nesting limit (128) still applies to every value built,
//! and skipping is iterative in serde_json, so depth cannot overflow a stack.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// How much of one JSON document is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonBounds {
    /// Items kept per array; later ones are skipped and counted.
    pub max_array_items: usize,
    /// Values (every scalar, array and object) in the whole document.
    pub max_values: usize,
}

/// Items kept per array: twice the probe's default tool cap (5,000), so a
/// long tool list is still seen to be longer than the cap, and no real
/// answer has a longer list of anything else.
pub const MAX_ARRAY_ITEMS: usize = 10_000;

/// Values per document: 200,000 values are 16 to 25 MB of `Value` tree, and a
/// real answer (5,000 tools of 40 values each) has fewer.
pub const MAX_VALUES: usize = 200_000;

impl Default for JsonBounds {
    fn default() -> Self {
        JsonBounds {
            max_array_items: MAX_ARRAY_ITEMS,
            max_values: MAX_VALUES,
        }
    }
}

/// A document read within its bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounded {
    pub value: Value,
    /// Values built.
    pub values: usize,
    /// Array items skipped past `max_array_items` (in all arrays).
    pub skipped_items: usize,
}

/// Why a document was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoundedError {
    /// It holds more values than `max_values`.
    TooManyValues { max: usize },
    /// serde_json's own error (syntax, nesting), in its words.
    Json(String),
}

impl fmt::Display for BoundedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoundedError::TooManyValues { max } => {
                write!(
                    f,
                    "it holds more than {max} JSON values, the most mcprobe reads in one answer"
                )
            }
            BoundedError::Json(e) => f.write_str(e),
        }
    }
}

/// Parses `text` into a `Value` within `bounds`.
pub fn parse(text: &str, bounds: JsonBounds) -> Result<Bounded, BoundedError> {
    let mut budget = Budget {
        bounds,
        values: 0,
        skipped_items: 0,
        over: false,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Seed(&mut budget)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match value {
        Ok(value) => Ok(Bounded {
            value,
            values: budget.values,
            skipped_items: budget.skipped_items,
        }),
        Err(_) if budget.over => Err(BoundedError::TooManyValues {
            max: bounds.max_values,
        }),
        Err(e) => Err(BoundedError::Json(e.to_string())),
    }
}

struct Budget {
    bounds: JsonBounds,
    values: usize,
    skipped_items: usize,
    /// The value budget ran out (the error that follows says nothing else).
    over: bool,
}

impl Budget {
    fn count<E: de::Error>(&mut self) -> Result<(), E> {
        self.values += 1;
        if self.values > self.bounds.max_values {
            self.over = true;
            return Err(E::custom("too many JSON values"));
        }
        Ok(())
    }
}

/// Builds one value, counting it against the budget.
struct Seed<'a>(&'a mut Budget);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.count()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.count()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.count()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.count()?;
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.count()?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.0.count()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.0.count()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Seed(self.0).deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.count()?;
        let mut items = Vec::new();
        loop {
            if items.len() < self.0.bounds.max_array_items {
                match seq.next_element_seed(Seed(&mut *self.0))? {
                    Some(v) => items.push(v),
                    None => break,
                }
            } else {
                match seq.next_element::<IgnoredAny>()? {
                    Some(_) => self.0.skipped_items += 1,
                    None => break,
                }
            }
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.count()?;
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Seed(&mut *self.0))?;
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(items: usize, values: usize) -> JsonBounds {
        JsonBounds {
            max_array_items: items,
            max_values: values,
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":"é"}"#;
        let ours = parse(text, JsonBounds::default()).unwrap();
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours.value, theirs);
        assert_eq!(ours.values, 11);
        assert_eq!(ours.skipped_items, 0);
        // Member order is kept (preserve_order), duplicates: the last wins.
        let dup = parse(r#"{"z":1,"a":2,"z":3}"#, JsonBounds::default()).unwrap();
        assert_eq!(dup.value.to_string(), r#"{"z":3,"a":2}"#);
    }

    #[test]
    fn long_arrays_keep_their_first_items_and_count_the_rest() {
        let text = format!("[{}{{}}]", "{},".repeat(99));
        let b = parse(&text, small(10, 1_000)).unwrap();
        assert_eq!(b.value.as_array().unwrap().len(), 10);
        assert_eq!(b.skipped_items, 90);
        assert_eq!(b.values, 11);
    }

    #[test]
    fn too_many_values_is_refused_whole() {
        let text = format!("[{}1]", "1,".repeat(500));
        assert_eq!(
            parse(&text, small(10_000, 100)),
            Err(BoundedError::TooManyValues { max: 100 })
        );
        assert!(parse(&text, small(10_000, 1_000)).is_ok());
    }

    #[test]
    fn syntax_and_nesting_errors_are_serde_json_s() {
        assert!(matches!(
            parse("[1,", JsonBounds::default()),
            Err(BoundedError::Json(_))
        ));
        assert!(matches!(
            parse("[1] x", JsonBounds::default()),
            Err(BoundedError::Json(_))
        ));
        let deep = "[".repeat(1_000) + &"]".repeat(1_000);
        let Err(BoundedError::Json(e)) = parse(&deep, JsonBounds::default()) else {
            panic!("deep nesting accepted")
        };
        assert!(e.contains("recursion limit"), "{e}");
        // Deep nesting inside a skipped item is skipped without recursion.
        let skipped = format!("[0,{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        let b = parse(&skipped, small(1, 1_000)).unwrap();
        assert_eq!(b.skipped_items, 1);
    }
}
