//! Scratch PostgreSQL databases, for the tests and benchmarks that run the same suite on both
//! stores.
//!
//! `RENXING_TEST_POSTGRES` holds the URL of a server role allowed to create databases (and the
//! PostGIS extension), e.g. `postgres://renxing:renxing@127.0.0.1:5432/postgres`. Each
//! [`ScratchDb`] creates a fresh database there and drops it when dropped. Without the variable,
//! [`ScratchDb::create`] returns `None` after printing why, unless `RENXING_REQUIRE_POSTGRES=1`
//! (CI), where that is a failure.

use postgres::{Client, NoTls};

pub const ENV: &str = "RENXING_TEST_POSTGRES";

pub struct ScratchDb {
    admin: String,
    name: String,
    /// URL of the new database.
    pub url: String,
}

/// `url` with its database (the path) replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl ScratchDb {
    /// A new empty database, or `None` (printing why) when no server is configured.
    pub fn create(test: &str) -> Option<ScratchDb> {
        let Ok(admin) = std::env::var(ENV) else {
            let why = format!("{test}: skipped on PostgreSQL: {ENV} is not set");
            assert!(
                std::env::var("RENXING_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "{why} (RENXING_REQUIRE_POSTGRES=1)"
            );
            eprintln!("{why}");
            return None;
        };
        let mut raw = [0u8; 6];
        getrandom::fill(&mut raw).expect("random bytes");
        let name = format!(
            "renxing_test_{}",
            raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let mut c =
            Client::connect(&admin, NoTls).unwrap_or_else(|e| panic!("{ENV}={}: {e}", crate::store::redact(&admin)));
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let url = with_database(&admin, &name);
        Some(ScratchDb { admin, name, url })
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&self.admin, NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "x"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
