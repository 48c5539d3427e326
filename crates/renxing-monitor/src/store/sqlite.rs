//! The embedded default: one SQLite file (WAL journal, `synchronous = FULL`, so an acknowledged
//! write survives the server being killed). One writer connection behind a mutex; reads use a
//! small pool of connections so that they run alongside the writer.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use super::backend::{Backend, Dialect, Row, Tx, Value, storage};
use crate::Result;

pub struct Sqlite {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(r) => ToSqlOutput::Borrowed(ValueRef::Real(*r)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// `$1` → `?1` (SQLite's numbered parameters).
fn adapt(sql: &str) -> String {
    sql.replace('$', "?")
}

fn configure(c: &Connection) -> rusqlite::Result<()> {
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut st = self.0.prepare_cached(&adapt(sql)).map_err(storage)?;
        st.execute(rusqlite::params_from_iter(params.iter()))
            .map(|n| n as u64)
            .map_err(storage)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut st = self.0.prepare_cached(&adapt(sql)).map_err(storage)?;
        let cols = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params.iter())).map_err(storage)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(storage)? {
            let mut row = Vec::with_capacity(cols);
            for k in 0..cols {
                row.push(match r.get_ref(k).map_err(storage)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(x) => Value::Real(x),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => Value::Null,
                });
            }
            out.push(row);
        }
        Ok(out)
    }
}

impl Sqlite {
    /// Open (creating) the database file at `path`.
    pub fn open(path: &Path) -> Result<Sqlite> {
        let writer = Connection::open(path).map_err(|e| storage(format!("{}: {e}", path.display())))?;
        configure(&writer).map_err(storage)?;
        let mut readers = Vec::new();
        for _ in 0..4 {
            let c = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(storage)?;
            c.busy_timeout(std::time::Duration::from_secs(10)).map_err(storage)?;
            readers.push(Mutex::new(c));
        }
        Ok(Sqlite {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers,
            next: AtomicUsize::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Backend for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut c = self.writer.lock().map_err(|_| storage("writer connection poisoned"))?;
        let t = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(storage)?;
        f(&mut SqliteTx(&t))?;
        t.commit().map_err(storage)
    }

    /// The readers and the writer.
    fn connections(&self) -> usize {
        self.readers.len() + 1
    }

    /// On a free reader, else the next in turn (waiting for it).
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let free = self.readers.iter().find_map(|r| r.try_lock().ok());
        let mut c = match free {
            Some(c) => c,
            None => {
                let k = self.next.fetch_add(1, Ordering::Relaxed) % self.readers.len();
                self.readers[k]
                    .lock()
                    .map_err(|_| storage("reader connection poisoned"))?
            }
        };
        let t = c.transaction().map_err(storage)?;
        f(&mut SqliteTx(&t))?;
        t.finish().map_err(storage)
    }
}
