//! The server store: PostgreSQL (with PostGIS for unit boundaries), through a small pool of
//! synchronous connections.
//!
//! Writers take a transaction-scoped advisory lock first, so that write transactions are
//! serialised across every process using the database (the audit chain needs one writer at a
//! time; reads never wait for it). Commits are durable with PostgreSQL's default
//! `synchronous_commit = on`.
//!
//! Values are bound as parameters typed by the server's inference: an integer goes to an
//! `INTEGER` or `BIGINT` column as what the column holds (see [`Value`]'s `ToSql`).

use std::collections::HashMap;
use std::error::Error;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, GenericClient, NoTls, Statement};

use super::backend::{Backend, Dialect, Row, Tx, Value, storage};
use crate::Result;

/// Key of the advisory lock serialising writers ("rx" in ASCII).
const WRITE_LOCK: i64 = 0x7278;

/// A connection and its prepared statements (by SQL text).
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

pub struct Postgres {
    url: String,
    clients: Vec<Mutex<Conn>>,
    next: AtomicUsize,
}

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT8 => i.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => i.to_string().to_sql(ty, out),
            },
            Value::Real(r) => match *ty {
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                _ => r.to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty)
            || <i32 as ToSql>::accepts(ty)
            || <i16 as ToSql>::accepts(ty)
            || <f64 as ToSql>::accepts(ty)
            || <f32 as ToSql>::accepts(ty)
            || <bool as ToSql>::accepts(ty)
            || <String as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

fn value_at(row: &postgres::Row, k: usize) -> Result<Value> {
    let ty = row.columns()[k].type_();
    let v = match *ty {
        Type::INT2 => row
            .try_get::<_, Option<i16>>(k)
            .map(|v| v.map(|v| Value::Int(v.into()))),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(k)
            .map(|v| v.map(|v| Value::Int(v.into()))),
        Type::INT8 => row.try_get::<_, Option<i64>>(k).map(|v| v.map(Value::Int)),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(k)
            .map(|v| v.map(|v| Value::Real(v.into()))),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(k).map(|v| v.map(Value::Real)),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(k)
            .map(|v| v.map(|v| Value::Int(v.into()))),
        _ => row.try_get::<_, Option<String>>(k).map(|v| v.map(Value::Text)),
    };
    Ok(v.map_err(storage)?.unwrap_or(Value::Null))
}

fn params(p: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

struct PgTx<'a, 'b> {
    tx: postgres::Transaction<'b>,
    statements: &'a mut HashMap<String, Statement>,
}

/// `sql` prepared on `client`, from the connection's cache when it was prepared before.
fn prepared(
    client: &mut impl GenericClient,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    let s = client.prepare(sql).map_err(storage)?;
    statements.insert(sql.to_string(), s.clone());
    Ok(s)
}

fn rows_of(rows: &[postgres::Row]) -> Result<Vec<Row>> {
    rows.iter()
        .map(|r| (0..r.len()).map(|k| value_at(r, k)).collect())
        .collect()
}

impl Tx for PgTx<'_, '_> {
    fn exec(&mut self, sql: &str, p: &[Value]) -> Result<u64> {
        let st = prepared(&mut self.tx, self.statements, sql)?;
        self.tx.execute(&st, &params(p)).map_err(storage)
    }

    fn query(&mut self, sql: &str, p: &[Value]) -> Result<Vec<Row>> {
        let st = prepared(&mut self.tx, self.statements, sql)?;
        rows_of(&self.tx.query(&st, &params(p)).map_err(storage)?)
    }
}

impl Postgres {
    /// Connect `pool` clients to `url` (`postgres://user:password@host:port/database`).
    pub fn connect(url: &str, pool: usize) -> Result<Postgres> {
        let mut clients = Vec::new();
        for _ in 0..pool.max(1) {
            let client = Client::connect(url, NoTls).map_err(|e| storage(format!("{}: {e}", redact(url))))?;
            clients.push(Mutex::new(Conn {
                client,
                statements: HashMap::new(),
            }));
        }
        Ok(Postgres {
            url: url.to_string(),
            clients,
            next: AtomicUsize::new(0),
        })
    }

    /// A free connection, else the next in turn (waiting for it); reconnected if the server
    /// closed it (a restart).
    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Conn>> {
        let mut guard = None;
        for c in &self.clients {
            if let Ok(g) = c.try_lock() {
                guard = Some(g);
                break;
            }
        }
        let mut g = match guard {
            Some(g) => g,
            None => {
                let k = self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len();
                self.clients[k].lock().map_err(|_| storage("connection poisoned"))?
            }
        };
        if g.client.is_closed() {
            g.client = Client::connect(&self.url, NoTls).map_err(|e| storage(format!("{}: {e}", redact(&self.url))))?;
            g.statements.clear();
        }
        Ok(g)
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Backend for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut guard = self.conn()?;
        let Conn { client, statements } = &mut *guard;
        let mut tx = client.transaction().map_err(storage)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(storage)?;
        let mut t = PgTx { tx, statements };
        f(&mut t)?;
        t.tx.commit().map_err(storage)
    }

    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut guard = self.conn()?;
        let Conn { client, statements } = &mut *guard;
        let tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(storage)?;
        let mut t = PgTx { tx, statements };
        f(&mut t)?;
        t.tx.commit().map_err(storage)
    }

    fn connections(&self) -> usize {
        self.clients.len()
    }

    /// In autocommit: the statement is its own snapshot; one round trip once prepared.
    fn read_statement(&self, sql: &str, p: &[Value]) -> Result<Vec<Row>> {
        let mut guard = self.conn()?;
        let Conn { client, statements } = &mut *guard;
        let st = prepared(client, statements, sql)?;
        rows_of(&client.query(&st, &params(p)).map_err(storage)?)
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres:///db?host=/run"), "postgres:///db?host=/run");
    }
}
