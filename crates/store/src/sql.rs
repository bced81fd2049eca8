//! The vocabulary between the queries and the hosts that run them: a
//! [`Statement`] (SQL text with positional `?` parameters), the [`Value`]s
//! bound to it and read back, a result [`Row`], and a [`Query`] (a statement
//! plus the function that maps its rows into a typed answer). Nothing here
//! runs anything: [`crate::exec`] is the host's side.

use std::fmt;

use serde::de::DeserializeOwned;

/// One SQL value, as bound to a parameter or read from a column. The schema
/// holds only text, integers and NULL (times are ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl Value {
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }

    /// Times and counts: u64 in the core, i64 in SQLite; saturates rather
    /// than wraps (no real value gets near either limit).
    pub fn int(n: u64) -> Value {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    pub fn opt_text(s: Option<&str>) -> Value {
        s.map_or(Value::Null, Value::text)
    }

    pub fn opt_int(n: Option<u64>) -> Value {
        n.map_or(Value::Null, Value::int)
    }
}

/// One statement to run: SQL with `?` placeholders and their values in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: &'static str,
    pub params: Vec<Value>,
}

impl Statement {
    pub fn new(sql: &'static str, params: Vec<Value>) -> Statement {
        Statement { sql, params }
    }
}

/// One result row: its columns by name, in the order the query selected them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row(pub Vec<(String, Value)>);

/// A row that does not have the shape its query promised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("column {0} is missing")]
    Missing(&'static str),
    #[error("column {column} is {found}, not {wanted}")]
    Type {
        column: &'static str,
        wanted: &'static str,
        found: &'static str,
    },
    #[error("column {column} does not read as JSON of its type: {error}")]
    Json { column: &'static str, error: String },
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Int(_) => "an integer",
        Value::Text(_) => "text",
    }
}

impl Row {
    pub fn get(&self, column: &'static str) -> Result<&Value, RowError> {
        self.0
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, v)| v)
            .ok_or(RowError::Missing(column))
    }

    pub fn opt_text(&self, column: &'static str) -> Result<Option<String>, RowError> {
        match self.get(column)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            other => Err(RowError::Type {
                column,
                wanted: "text",
                found: kind(other),
            }),
        }
    }

    pub fn text(&self, column: &'static str) -> Result<String, RowError> {
        self.opt_text(column)?.ok_or(RowError::Type {
            column,
            wanted: "text",
            found: "NULL",
        })
    }

    /// A time or count; a negative one (never written) reads as 0.
    pub fn opt_u64(&self, column: &'static str) -> Result<Option<u64>, RowError> {
        match self.get(column)? {
            Value::Null => Ok(None),
            Value::Int(n) => Ok(Some(u64::try_from(*n).unwrap_or(0))),
            other => Err(RowError::Type {
                column,
                wanted: "an integer",
                found: kind(other),
            }),
        }
    }

    pub fn u64(&self, column: &'static str) -> Result<u64, RowError> {
        self.opt_u64(column)?.ok_or(RowError::Type {
            column,
            wanted: "an integer",
            found: "NULL",
        })
    }

    /// A count that fits 32 bits (attempts); saturates.
    pub fn u32(&self, column: &'static str) -> Result<u32, RowError> {
        Ok(u32::try_from(self.u64(column)?).unwrap_or(u32::MAX))
    }

    /// An HTTP status; anything else reads as none.
    pub fn opt_u16(&self, column: &'static str) -> Result<Option<u16>, RowError> {
        Ok(self.opt_u64(column)?.and_then(|n| u16::try_from(n).ok()))
    }

    /// A text column holding JSON, parsed into `T`.
    pub fn json<T: DeserializeOwned>(&self, column: &'static str) -> Result<T, RowError> {
        serde_json::from_str(&self.text(column)?).map_err(|e| RowError::Json {
            column,
            error: e.to_string(),
        })
    }
}

/// A statement and the mapping of its rows into `T`: what a host runs with
/// [`crate::exec::Executor::fetch`] (or the SQLite executor's `fetch`).
pub struct Query<T> {
    pub stmt: Statement,
    map: fn(Vec<Row>) -> Result<T, RowError>,
}

impl<T> Query<T> {
    pub fn new(stmt: Statement, map: fn(Vec<Row>) -> Result<T, RowError>) -> Query<T> {
        Query { stmt, map }
    }

    /// Maps the rows the statement answered.
    pub fn map(&self, rows: Vec<Row>) -> Result<T, RowError> {
        (self.map)(rows)
    }
}

impl<T> fmt::Debug for Query<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query").field("stmt", &self.stmt).finish()
    }
}

/// Every row mapped by `one`.
pub fn each<T>(rows: Vec<Row>, one: fn(&Row) -> Result<T, RowError>) -> Result<Vec<T>, RowError> {
    rows.iter().map(one).collect()
}

/// The first row mapped by `one`, if there is one.
pub fn first<T>(
    rows: Vec<Row>,
    one: fn(&Row) -> Result<T, RowError>,
) -> Result<Option<T>, RowError> {
    rows.first().map(one).transpose()
}
