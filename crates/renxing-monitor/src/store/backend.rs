//! The storage trait: transactions of parameterised SQL over a few value types.
//!
//! Domain code ([`super::Monitor`]) writes its SQL once, with `$1, $2 …` placeholders and the
//! portable subset both engines share; each backend adapts placeholders and runs it. No SQL is
//! ever built from values: every value is a bound parameter.

use crate::{MonitorError, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Real(r) => Some(*r as i64),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Real(r) => Some(*r),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn text(&self) -> String {
        self.as_str().unwrap_or_default().to_string()
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Text(s.clone())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<f64> for Value {
    fn from(r: f64) -> Self {
        Value::Real(r)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

pub type Row = Vec<Value>;

/// One transaction (or read snapshot).
pub trait Tx {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A database holding the monitoring network.
pub trait Backend: Send + Sync {
    fn dialect(&self) -> Dialect;
    /// Run `f` in one write transaction: committed (durably) when it returns `Ok`, rolled back
    /// otherwise. Writers are serialised.
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// Run `f` on a consistent read snapshot.
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// Run one read-only statement. A single statement sees one consistent snapshot by itself,
    /// so a backend may skip the transaction around it (PostgreSQL saves two round trips).
    fn read_statement(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        self.read(&mut |tx| {
            rows = tx.query(sql, params)?;
            Ok(())
        })?;
        Ok(rows)
    }
    /// How many calls can use the database at once without waiting for a connection (a
    /// server admits this many store calls at a time and queues the rest in order).
    fn connections(&self) -> usize {
        1
    }
    /// Run statements outside the domain's SQL (tests that tamper with rows, maintenance).
    fn raw(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut n = 0;
        self.write(&mut |tx| {
            n = tx.exec(sql, params)?;
            Ok(())
        })?;
        Ok(n)
    }
}

pub(crate) fn storage(e: impl std::fmt::Display) -> MonitorError {
    MonitorError::Storage(e.to_string())
}

impl Backend for Box<dyn Backend> {
    fn dialect(&self) -> Dialect {
        (**self).dialect()
    }
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        (**self).write(f)
    }
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        (**self).read(f)
    }
    fn read_statement(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        (**self).read_statement(sql, params)
    }
    fn connections(&self) -> usize {
        (**self).connections()
    }
}
