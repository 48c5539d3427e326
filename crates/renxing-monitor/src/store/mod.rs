//! Storage of the monitoring network and the operations over it.
//!
//! [`Monitor`] holds a [`Backend`] and does every change in one transaction together with its
//! audit record (so a change and its trace land or fail together), checking the caller's role
//! first. Schema changes are versioned migrations ([`MIGRATIONS`]), applied in order on open and
//! recorded in `schema_migrations`.

mod backend;
mod plans;
mod postgres;
mod report;
mod sqlite;
mod users;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

pub use backend::{Backend, Dialect, Row, Tx, Value};
pub use postgres::{Postgres, redact};
pub use report::{ExamReport, PeriodChange, ReportKind, RollupLine, StateCounts, report_kind};
pub use sqlite::Sqlite;
pub use users::UserInfo;

use crate::access::{Action, Principal, Role};
use crate::audit::{self, GENESIS, Record, Verification};
use crate::catalogue::{Aggregation, Catalogue, Indicator};
use crate::rollup::{self, Rollup};
use crate::unit::{Level, Unit};
use crate::warning::{self, Assessment};
use crate::{MonitorError, Result};

/// Versioned schema migrations: (version, the one dialect it is for or `None` for both, SQL).
/// `{id}` is the auto-increment key type of the dialect, `{real}` its double type. A migration
/// for the other dialect is recorded as applied without running, so versions stay aligned.
pub const MIGRATIONS: &[(i64, Option<Dialect>, &str)] = &[
    (
        1,
        None,
        "CREATE TABLE units (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        level INTEGER NOT NULL,
        parent TEXT REFERENCES units(code),
        path TEXT NOT NULL UNIQUE,
        geometry TEXT
    );
    CREATE INDEX units_parent ON units(parent);
    CREATE TABLE indicators (
        code TEXT PRIMARY KEY,
        definition TEXT NOT NULL
    );
    CREATE TABLE targets (
        unit TEXT NOT NULL REFERENCES units(code),
        indicator TEXT NOT NULL REFERENCES indicators(code),
        year INTEGER NOT NULL,
        value {real} NOT NULL,
        basis TEXT NOT NULL,
        set_by TEXT NOT NULL,
        PRIMARY KEY (unit, indicator, year)
    );
    CREATE TABLE observations (
        unit TEXT NOT NULL REFERENCES units(code),
        indicator TEXT NOT NULL REFERENCES indicators(code),
        year INTEGER NOT NULL,
        value {real} NOT NULL,
        status TEXT NOT NULL,
        source TEXT NOT NULL,
        run_id TEXT,
        submitter TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        approved_by TEXT,
        approved_at TEXT,
        PRIMARY KEY (unit, indicator, year)
    );
    CREATE INDEX observations_indicator ON observations(indicator, year);
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        unit TEXT NOT NULL REFERENCES units(code),
        role TEXT NOT NULL,
        password_hash TEXT,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE plans (
        id {id},
        unit TEXT NOT NULL REFERENCES units(code),
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        period_start INTEGER NOT NULL,
        period_end INTEGER NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        entity TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE audit_head (
        one INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    );",
    ),
    // Login sessions (a password login hands out a token that expires).
    (
        2,
        None,
        "CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            name TEXT NOT NULL REFERENCES users(name),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )",
    ),
    // The catalogue keeps its own order (the TOML's), not the codes'.
    (
        3,
        None,
        "ALTER TABLE indicators ADD COLUMN position INTEGER NOT NULL DEFAULT 0",
    ),
    // PostGIS: unit boundaries as geometry (from the stored GeoJSON), spatially indexed.
    (
        4,
        Some(Dialect::Postgres),
        "CREATE EXTENSION IF NOT EXISTS postgis;
        ALTER TABLE units ADD COLUMN geom geometry(Geometry, 4326)
            GENERATED ALWAYS AS (ST_SetSRID(ST_GeomFromGeoJSON(geometry), 4326)) STORED;
        CREATE INDEX units_geom ON units USING GIST (geom)",
    ),
    // A counter bumped whenever the catalogue changes, so a server can keep the parsed catalogue
    // and check one integer per request (along with the request's own query).
    (
        5,
        None,
        "CREATE TABLE catalogue_version (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            version INTEGER NOT NULL
        );
        INSERT INTO catalogue_version (one, version) VALUES (1, 1)",
    ),
    // Plan versions: their targets, who drafted them and the review.
    (
        6,
        None,
        "ALTER TABLE plans ADD COLUMN targets TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE plans ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
        ALTER TABLE plans ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
        ALTER TABLE plans ADD COLUMN submitted_by TEXT;
        ALTER TABLE plans ADD COLUMN reviewed_by TEXT;
        ALTER TABLE plans ADD COLUMN reviewed_at TEXT;
        ALTER TABLE plans ADD COLUMN comment TEXT;
        CREATE UNIQUE INDEX plans_version ON plans(unit, kind, name, version);
        CREATE UNIQUE INDEX plans_open ON plans(unit, kind, name) WHERE status IN ('draft', 'submitted')",
    ),
];

fn migration_sql(d: Dialect, sql: &str) -> String {
    let (id, real) = match d {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "REAL"),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "DOUBLE PRECISION"),
    };
    sql.replace("{id}", id).replace("{real}", real)
}

/// Set (or replace) the target `t` of `unit` with its basis, and audit it.
fn write_target(tx: &mut dyn Tx, by: &Principal, unit: &str, t: &ObservationIn, basis: &str) -> Result<()> {
    tx.exec(
        "INSERT INTO targets (unit, indicator, year, value, basis, set_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (unit, indicator, year) DO UPDATE SET value = excluded.value, basis = excluded.basis,
         set_by = excluded.set_by",
        &[
            unit.into(),
            (&t.indicator).into(),
            t.year.into(),
            t.value.into(),
            basis.into(),
            by.name().into(),
        ],
    )?;
    append_audit(
        tx,
        by.name(),
        "set_target",
        &format!("target {unit}/{}/{}", t.indicator, t.year),
        &serde_json::json!({ "value": t.value, "basis": basis }),
    )
}

/// UTC now as RFC 3339 (seconds).
pub fn now_utc() -> String {
    utc_in(0)
}

/// UTC `secs` seconds from now as RFC 3339 (strings of this form sort as times do).
fn utc_in(secs: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
        + secs;
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// Today (UTC) as (year, month, day).
pub fn today_utc() -> (i32, u32, u32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    civil(secs.div_euclid(86_400))
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// How long a password login's session token is valid.
pub const SESSION_HOURS: i64 = 12;

/// 32 random bytes as hex.
fn new_token() -> Result<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(backend::storage)?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Append one audit record inside the transaction `tx`.
fn append_audit(tx: &mut dyn Tx, actor: &str, action: &str, entity: &str, detail: &serde_json::Value) -> Result<()> {
    // The head row serialises writers on both engines (a row lock on PostgreSQL).
    let head = tx.query("SELECT seq, hash FROM audit_head WHERE one = 1", &[])?;
    let (seq, prev) = match head.first() {
        Some(r) => (r[0].as_i64().unwrap_or(0), r[1].text()),
        None => (0, GENESIS.to_string()),
    };
    let seq = seq + 1;
    let at = now_utc();
    let detail = detail.to_string();
    let hash = audit::chain_hash(&prev, seq, &at, actor, action, entity, &detail);
    tx.exec(
        "INSERT INTO audit (seq, at, actor, action, entity, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            seq.into(),
            at.into(),
            actor.into(),
            action.into(),
            entity.into(),
            detail.into(),
            prev.into(),
            hash.clone().into(),
        ],
    )?;
    if head.is_empty() {
        tx.exec(
            "INSERT INTO audit_head (one, seq, hash) VALUES (1, $1, $2)",
            &[seq.into(), hash.into()],
        )?;
    } else {
        tx.exec(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE one = 1",
            &[seq.into(), hash.into()],
        )?;
    }
    Ok(())
}

/// One observation as submitted.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
pub struct ObservationIn {
    pub indicator: String,
    pub year: i32,
    pub value: f64,
}

/// One stored observation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    pub unit: String,
    pub indicator: String,
    pub year: i32,
    pub value: f64,
    /// `submitted` or `published`.
    pub status: String,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub submitter: String,
}

/// An indicator's state at a unit for a year: value, target, warning level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorRow {
    pub indicator: Indicator,
    pub year: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The target the value is held to: of its year, else the next target year's (else the last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_year: Option<i32>,
    pub assessment: Assessment,
}

type SeriesByIndicator = BTreeMap<String, Vec<(i32, f64, String)>>;
type TargetsByIndicator = BTreeMap<String, Vec<(i32, f64)>>;

/// [`indicator_row`] for every indicator of `catalogue`, in its order.
fn indicator_rows(
    catalogue: &Catalogue,
    series: &SeriesByIndicator,
    targets: &TargetsByIndicator,
    year: i32,
    today: (i32, u32, u32),
) -> Vec<IndicatorRow> {
    catalogue
        .indicators
        .iter()
        .map(|ind| {
            let s = series.get(&ind.code).map_or(&[][..], Vec::as_slice);
            let t = targets.get(&ind.code).map_or(&[][..], Vec::as_slice);
            indicator_row(ind, s, t, year, today)
        })
        .collect()
}

/// The state of `ind` in `year` from its series (year, value, status) and targets (year, value).
fn indicator_row(
    ind: &Indicator,
    series: &[(i32, f64, String)],
    targets: &[(i32, f64)],
    year: i32,
    today: (i32, u32, u32),
) -> IndicatorRow {
    let upto: Vec<(i32, f64)> = series.iter().filter(|s| s.0 <= year).map(|s| (s.0, s.1)).collect();
    let obliged = series
        .first()
        .map(|s| s.0)
        .into_iter()
        .chain(targets.first().map(|t| t.0))
        .min();
    // As of `year`: submissions of later years are not due yet for this view.
    let as_of = today.min((year + 1, 12, 31));
    let assessment = warning::assess(ind, &upto, targets, as_of, obliged);
    let this = series.iter().find(|s| s.0 == year);
    let target = targets.iter().find(|t| t.0 >= year).or(targets.last());
    IndicatorRow {
        indicator: ind.clone(),
        year,
        value: this.map(|s| s.1),
        status: this.map(|s| s.2.clone()),
        target: target.map(|t| t.1),
        target_year: target.map(|t| t.0),
        assessment,
    }
}

/// One observed value of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub year: i32,
    pub value: f64,
    pub status: String,
    pub source: String,
}

/// One target of a series, with its basis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetPoint {
    pub year: i32,
    pub value: f64,
    pub basis: String,
}

/// An indicator's values and targets at one unit over the years.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub unit: String,
    pub indicator: String,
    pub observations: Vec<SeriesPoint>,
    pub targets: Vec<TargetPoint>,
}

/// A parent's target against the sum of its children's allocations (additive indicators).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transmission {
    pub unit: String,
    pub indicator: String,
    pub year: i32,
    pub target: Option<f64>,
    pub allocated: f64,
    pub children: usize,
    pub unallocated: Vec<String>,
    /// Allocations sum to the target within 10⁻⁹ relative and every child has one.
    pub ok: bool,
}

/// Warnings of one indicator at one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitWarning {
    pub unit: String,
    pub name: String,
    pub indicator: String,
    pub warning: warning::Warning,
}

/// A unit with its children and ancestors ([`Monitor::unit_family`]).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitFamily {
    /// The unit, its boundary left out.
    pub unit: Unit,
    pub has_boundary: bool,
    /// By code.
    pub children: Vec<Unit>,
    /// From the top down.
    pub ancestors: Vec<Unit>,
}

/// Counts written by [`Monitor::init`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InitReport {
    pub units: usize,
    pub indicators: usize,
}

/// The monitoring network over a storage backend.
pub struct Monitor<B: Backend> {
    db: B,
    /// The catalogue as last parsed, with the `catalogue_version` it was read at (reads compare
    /// the version and read the definitions again only when some process changed them).
    catalogue_cache: std::sync::Mutex<Option<(i64, Arc<Catalogue>)>>,
}

fn unit_from(r: &Row) -> Result<Unit> {
    Ok(Unit {
        code: r[0].text(),
        name: r[1].text(),
        level: Level::from_rank(r[2].as_i64().unwrap_or(-1))
            .ok_or_else(|| MonitorError::Storage(format!("unit {}: bad level", r[0].text())))?,
        parent: r[3].as_str().map(str::to_string),
        path: r[4].text(),
        geometry: r.get(5).and_then(|g| g.as_str()).map(str::to_string),
    })
}

const UNIT_COLS: &str = "code, name, level, parent, path";

/// A unit's indicator data in one statement, so one snapshot without a transaction: the unit
/// with the catalogue version (kind 0), its observations (1) and its targets (2), in columns
/// (kind, text, text, text, text, integer, integer, double).
const INDICATORS_SQL: &str = "SELECT 0, code, name, parent, path, level,
        (SELECT version FROM catalogue_version WHERE one = 1), CAST(NULL AS DOUBLE PRECISION)
       FROM units WHERE code = $1
     UNION ALL
     SELECT 1, indicator, status, NULL, NULL, year, NULL, value FROM observations WHERE unit = $1
     UNION ALL
     SELECT 2, indicator, NULL, NULL, NULL, year, NULL, value FROM targets WHERE unit = $1";

/// The holder of a token: (name, role, unit code, unit path), between the columns `lead` and
/// `tail`, of the user whose API token hashes to parameter `$hash`, or whose session does and
/// is live at parameter `$now`.
fn token_holder_sql(lead: &str, tail: &str, hash: usize, now: usize) -> String {
    format!(
        "SELECT {lead}u.name, u.role, n.code, n.path{tail} FROM users u JOIN units n ON n.code = u.unit
         WHERE u.token_hash = ${hash}
         UNION ALL
         SELECT {lead}u.name, u.role, n.code, n.path{tail} FROM sessions s JOIN users u ON u.name = s.name
         JOIN units n ON n.code = u.unit WHERE s.token_hash = ${hash} AND s.expires_at > ${now}"
    )
}

/// The principal of a (name, role, unit code, unit path) row of [`token_holder_sql`].
fn principal_of(r: Option<&[Value]>) -> Result<Principal> {
    let r = r.ok_or_else(|| MonitorError::Unauthenticated("unknown or expired token".into()))?;
    Ok(Principal::User {
        name: r[0].text(),
        role: Role::parse(&r[1].text())
            .ok_or_else(|| MonitorError::Storage(format!("user {}: bad role {:?}", r[0].text(), r[1].text())))?,
        unit: r[2].text(),
        unit_path: r[3].text(),
    })
}

impl<B: Backend> Monitor<B> {
    /// Open the store, applying any migration not applied yet.
    pub fn open(db: B) -> Result<Monitor<B>> {
        let d = db.dialect();
        db.write(&mut |tx| {
            tx.exec(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                &[],
            )?;
            let done: Vec<i64> = tx
                .query("SELECT version FROM schema_migrations", &[])?
                .iter()
                .filter_map(|r| r[0].as_i64())
                .collect();
            for &(v, only, sql) in MIGRATIONS {
                if done.contains(&v) {
                    continue;
                }
                let stmts = if only.is_none_or(|o| o == d) { sql } else { "" };
                for stmt in migration_sql(d, stmts)
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                {
                    tx.exec(stmt, &[])?;
                }
                tx.exec(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    &[v.into(), now_utc().into()],
                )?;
            }
            Ok(())
        })?;
        Ok(Monitor {
            db,
            catalogue_cache: std::sync::Mutex::new(None),
        })
    }

    pub fn backend(&self) -> &B {
        &self.db
    }

    /// Load units (parents before children) and the indicator catalogue; units and indicators
    /// already present are updated. One transaction, one audit record each for units and
    /// catalogue.
    pub fn init(&self, units: &[Unit], catalogue: &Catalogue, actor: &str) -> Result<InitReport> {
        let mut sorted: Vec<&Unit> = units.iter().collect();
        sorted.sort_by_key(|u| (u.level, u.path.clone()));
        self.db.write(&mut |tx| {
            for u in &sorted {
                tx.exec(
                    "INSERT INTO units (code, name, level, parent, path, geometry) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                     parent = excluded.parent, path = excluded.path, geometry = excluded.geometry",
                    &[
                        (&u.code).into(),
                        (&u.name).into(),
                        u.level.rank().into(),
                        u.parent.clone().into(),
                        (&u.path).into(),
                        u.geometry.clone().into(),
                    ],
                )?;
            }
            let mut per_level = BTreeMap::new();
            for u in &sorted {
                *per_level.entry(u.level.as_str()).or_insert(0usize) += 1;
            }
            append_audit(
                tx,
                actor,
                "load_units",
                "units",
                &serde_json::json!({ "count": sorted.len(), "per_level": per_level }),
            )?;
            for (k, i) in catalogue.indicators.iter().enumerate() {
                let def = serde_json::to_string(i).map_err(backend::storage)?;
                tx.exec(
                    "INSERT INTO indicators (code, definition, position) VALUES ($1, $2, $3)
                     ON CONFLICT (code) DO UPDATE SET definition = excluded.definition, position = excluded.position",
                    &[(&i.code).into(), def.into(), (k as i64).into()],
                )?;
            }
            tx.exec("UPDATE catalogue_version SET version = version + 1 WHERE one = 1", &[])?;
            let codes: Vec<&str> = catalogue.indicators.iter().map(|i| i.code.as_str()).collect();
            append_audit(
                tx,
                actor,
                "load_catalogue",
                "indicators",
                &serde_json::json!({ "codes": codes }),
            )?;
            Ok(())
        })?;
        Ok(InitReport {
            units: units.len(),
            indicators: catalogue.indicators.len(),
        })
    }

    fn read<T>(&self, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut out = None;
        self.db.read(&mut |tx| {
            out = Some(f(tx)?);
            Ok(())
        })?;
        out.ok_or_else(|| MonitorError::Storage("read returned nothing".into()))
    }

    fn write<T>(&self, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut out = None;
        self.db.write(&mut |tx| {
            out = Some(f(tx)?);
            Ok(())
        })?;
        out.ok_or_else(|| MonitorError::Storage("write returned nothing".into()))
    }

    /// The indicator catalogue stored at init.
    pub fn catalogue(&self) -> Result<Catalogue> {
        self.read(|tx| self.catalogue_in(tx)).map(|c| (*c).clone())
    }

    /// The catalogue as of `tx`'s snapshot (parsed again only when its version moved).
    fn catalogue_in(&self, tx: &mut dyn Tx) -> Result<Arc<Catalogue>> {
        let version = tx
            .query("SELECT version FROM catalogue_version WHERE one = 1", &[])?
            .first()
            .and_then(|r| r[0].as_i64())
            .ok_or_else(|| MonitorError::Storage("catalogue_version has no row".into()))?;
        if let Some(c) = self.cached_catalogue(version) {
            return Ok(c);
        }
        let mut indicators = Vec::new();
        for r in tx.query("SELECT definition FROM indicators ORDER BY position, code", &[])? {
            indicators.push(serde_json::from_str(&r[0].text()).map_err(backend::storage)?);
        }
        let c = Arc::new(Catalogue { indicators });
        *self.catalogue_cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((version, c.clone()));
        Ok(c)
    }

    fn cached_catalogue(&self, version: i64) -> Option<Arc<Catalogue>> {
        let cache = self.catalogue_cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.as_ref().filter(|(v, _)| *v == version).map(|(_, c)| c.clone())
    }

    /// The catalogue at `version` (seen by a single-statement read): the cached one, else read
    /// afresh (then at its current version, which a concurrent change may have moved on).
    fn catalogue_at(&self, version: i64) -> Result<Arc<Catalogue>> {
        match self.cached_catalogue(version) {
            Some(c) => Ok(c),
            None => self.read(|tx| self.catalogue_in(tx)),
        }
    }

    fn indicator(tx: &mut dyn Tx, code: &str) -> Result<Indicator> {
        let r = tx.query("SELECT definition FROM indicators WHERE code = $1", &[code.into()])?;
        let r = r
            .first()
            .ok_or_else(|| MonitorError::invalid("indicator", format!("unknown indicator {code:?}")))?;
        serde_json::from_str(&r[0].text()).map_err(backend::storage)
    }

    fn unit_in(tx: &mut dyn Tx, code: &str) -> Result<Unit> {
        Self::unit_row(tx, code, false)
    }

    /// A unit, with its boundary when `geometry` (boundaries can be large: permission checks
    /// leave them out).
    fn unit_row(tx: &mut dyn Tx, code: &str, geometry: bool) -> Result<Unit> {
        let cols = if geometry { ", geometry" } else { "" };
        let rows = tx.query(
            &format!("SELECT {UNIT_COLS}{cols} FROM units WHERE code = $1"),
            &[code.into()],
        )?;
        rows.first()
            .map(unit_from)
            .transpose()?
            .ok_or_else(|| MonitorError::NotFound(format!("unit {code}")))
    }

    /// A unit (with its boundary).
    pub fn unit(&self, code: &str) -> Result<Unit> {
        self.read(|tx| Self::unit_row(tx, code, true))
    }

    /// A unit (without its boundary) with whether it has one, its children by code and its
    /// ancestors from the top: two statements, for the unit pages of a busy server.
    pub fn unit_family(&self, code: &str) -> Result<UnitFamily> {
        let rows = self.db.read_statement(
            &format!(
                "SELECT 0, {UNIT_COLS}, geometry IS NOT NULL FROM units WHERE code = $1
                 UNION ALL
                 SELECT 1, {UNIT_COLS}, geometry IS NOT NULL FROM units WHERE parent = $1
                 ORDER BY 1, 2"
            ),
            &[code.into()],
        )?;
        let head = rows
            .first()
            .filter(|r| r[0].as_i64() == Some(0))
            .ok_or_else(|| MonitorError::NotFound(format!("unit {code}")))?;
        let unit = unit_from(&head[1..6].to_vec())?;
        let has_boundary = head[6].as_i64() == Some(1);
        let children = rows[1..]
            .iter()
            .map(|r| unit_from(&r[1..6].to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let above: Vec<Value> = unit
            .path
            .split('/')
            .filter(|c| *c != unit.code)
            .map(Value::from)
            .collect();
        let mut ancestors = Vec::new();
        if !above.is_empty() {
            let marks: Vec<String> = (1..=above.len()).map(|k| format!("${k}")).collect();
            for r in self.db.read_statement(
                &format!("SELECT {UNIT_COLS} FROM units WHERE code IN ({})", marks.join(", ")),
                &above,
            )? {
                ancestors.push(unit_from(&r)?);
            }
            ancestors.sort_by_key(|u| u.level);
        }
        Ok(UnitFamily {
            unit,
            has_boundary,
            children,
            ancestors,
        })
    }

    /// The top unit(s): those without a parent, by code.
    pub fn roots(&self) -> Result<Vec<Unit>> {
        self.read(|tx| {
            tx.query(
                &format!("SELECT {UNIT_COLS} FROM units WHERE parent IS NULL ORDER BY code"),
                &[],
            )?
            .iter()
            .map(unit_from)
            .collect()
        })
    }

    /// The units directly below `code`, by code.
    pub fn children(&self, code: &str) -> Result<Vec<Unit>> {
        self.read(|tx| {
            tx.query(
                &format!("SELECT {UNIT_COLS} FROM units WHERE parent = $1 ORDER BY code"),
                &[code.into()],
            )?
            .iter()
            .map(unit_from)
            .collect()
        })
    }

    /// Units of the subtree of `code` (itself included), at one level or all.
    pub fn subtree(&self, code: &str, level: Option<Level>) -> Result<Vec<Unit>> {
        self.read(|tx| Self::subtree_in(tx, code, level))
    }

    fn subtree_in(tx: &mut dyn Tx, code: &str, level: Option<Level>) -> Result<Vec<Unit>> {
        let root = Self::unit_in(tx, code)?;
        let rows = tx.query(
            &format!("SELECT {UNIT_COLS} FROM units WHERE (path = $1 OR path LIKE $2) ORDER BY path"),
            &[(&root.path).into(), format!("{}/%", root.path).into()],
        )?;
        rows.iter()
            .map(unit_from)
            .filter(|u| u.as_ref().map_or(true, |u| level.is_none_or(|l| u.level == l)))
            .collect()
    }

    /// Create a user with `role` on `unit`; returns the new API token (shown once; only its
    /// hash is stored). `by` must be an admin over the unit, or `None` for the command line.
    pub fn add_user(
        &self,
        by: Option<&Principal>,
        name: &str,
        unit: &str,
        role: Role,
        password: Option<&str>,
    ) -> Result<String> {
        if name.trim().is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(MonitorError::invalid("name", "1–64 printable characters"));
        }
        let token = new_token()?;
        let password_hash = match password {
            Some(p) => Some(hash_password(p)?),
            None => None,
        };
        let actor = by.map_or("command line", |p| p.name()).to_string();
        self.write(|tx| {
            let u = Self::unit_in(tx, unit)?;
            if let Some(p) = by
                && !p.allows(Action::Administer, &u.path)
            {
                return Err(MonitorError::Forbidden(format!("{} may not manage users of {unit}", p.name())));
            }
            if !tx.query("SELECT 1 FROM users WHERE name = $1", &[name.into()])?.is_empty() {
                return Err(MonitorError::invalid("name", format!("user {name:?} exists")));
            }
            tx.exec(
                "INSERT INTO users (name, unit, role, password_hash, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    name.into(),
                    unit.into(),
                    role.as_str().into(),
                    password_hash.clone().into(),
                    sha256_hex(&token).into(),
                    now_utc().into(),
                ],
            )?;
            append_audit(
                tx,
                &actor,
                "add_user",
                &format!("user {name}"),
                &serde_json::json!({ "unit": unit, "role": role.as_str() }),
            )?;
            Ok(())
        })?;
        Ok(token)
    }

    /// The user holding API `token` (a user's API token, or a live session's), in one
    /// statement: every request with a token starts here.
    pub fn authenticate(&self, token: &str) -> Result<Principal> {
        let rows = self.db.read_statement(
            &token_holder_sql("", "", 1, 2),
            &[sha256_hex(token).into(), now_utc().into()],
        )?;
        principal_of(rows.first().map(Vec::as_slice))
    }

    /// Log `name` in with `password`: a session token valid for [`SESSION_HOURS`] (expired
    /// sessions are removed on the way). The login is audited.
    pub fn login(&self, name: &str, password: &str) -> Result<(String, Principal)> {
        let who = self.check_password(name, password)?;
        let token = new_token()?;
        let now = now_utc();
        self.write(|tx| {
            tx.exec("DELETE FROM sessions WHERE expires_at <= $1", &[(&now).into()])?;
            tx.exec(
                "INSERT INTO sessions (token_hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[
                    sha256_hex(&token).into(),
                    name.into(),
                    (&now).into(),
                    utc_in(SESSION_HOURS * 3600).into(),
                ],
            )?;
            append_audit(tx, name, "login", &format!("user {name}"), &serde_json::json!({}))
        })?;
        Ok((token, who))
    }

    /// End the session of `token` (API tokens of users are not sessions and stay valid).
    pub fn logout(&self, token: &str) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.exec(
                "DELETE FROM sessions WHERE token_hash = $1",
                &[sha256_hex(token).into()],
            )? > 0)
        })
    }

    /// The user `name` if `password` is theirs.
    /// The hash is checked after the statement, with no connection held (argon2 takes a while).
    pub fn check_password(&self, name: &str, password: &str) -> Result<Principal> {
        let rows = self.db.read_statement(
            "SELECT u.password_hash, u.name, u.role, n.code, n.path FROM users u JOIN units n ON n.code = u.unit
             WHERE u.name = $1",
            &[name.into()],
        )?;
        let denied = || MonitorError::Forbidden("wrong name or password".into());
        let r = rows.first().ok_or_else(denied)?;
        let stored = r[0].as_str().ok_or_else(denied)?;
        if !verify_password(password, stored) {
            return Err(denied());
        }
        principal_of(Some(&r[1..]))
    }

    /// Submit observations for `unit` (new or replacing earlier ones, which go back to
    /// `submitted`). All or nothing: one bad row rejects the batch, naming it.
    pub fn submit(
        &self,
        by: &Principal,
        unit: &str,
        obs: &[ObservationIn],
        source: &str,
        run_id: Option<&str>,
    ) -> Result<usize> {
        self.write(|tx| self.submit_in(tx, by, unit, obs, 0, source, run_id))
    }

    /// Submit observations of several units (an imported file) in one transaction: all or
    /// nothing; errors name the row (`observations[k]`, counted from 0 over the whole batch).
    pub fn submit_batch(
        &self,
        by: &Principal,
        batch: &[(String, ObservationIn)],
        source: &str,
        run_id: Option<&str>,
    ) -> Result<usize> {
        self.write(|tx| {
            let mut k = 0;
            while k < batch.len() {
                let unit = &batch[k].0;
                let end = (k..batch.len()).find(|&e| &batch[e].0 != unit).unwrap_or(batch.len());
                let obs: Vec<ObservationIn> = batch[k..end].iter().map(|b| b.1.clone()).collect();
                self.submit_in(tx, by, unit, &obs, k, source, run_id)?;
                k = end;
            }
            Ok(batch.len())
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn submit_in(
        &self,
        tx: &mut dyn Tx,
        by: &Principal,
        unit: &str,
        obs: &[ObservationIn],
        first: usize,
        source: &str,
        run_id: Option<&str>,
    ) -> Result<usize> {
        let u = Self::unit_in(tx, unit)?;
        if !by.allows(Action::Submit, &u.path) {
            return Err(MonitorError::Forbidden(format!(
                "{} may not submit for {unit}",
                by.name()
            )));
        }
        for (k, o) in obs.iter().enumerate() {
            let field = |f: &str| format!("observations[{}].{f}", first + k);
            Self::indicator(tx, &o.indicator).map_err(|_| {
                MonitorError::invalid(field("indicator"), format!("unknown indicator {:?}", o.indicator))
            })?;
            if !(1949..=2100).contains(&o.year) {
                return Err(MonitorError::invalid(
                    field("year"),
                    format!("{} is not a year in 1949–2100", o.year),
                ));
            }
            if !o.value.is_finite() {
                return Err(MonitorError::invalid(field("value"), "not a finite number"));
            }
            let old = tx.query(
                "SELECT value, status FROM observations WHERE unit = $1 AND indicator = $2 AND year = $3",
                &[unit.into(), (&o.indicator).into(), o.year.into()],
            )?;
            tx.exec(
                "INSERT INTO observations (unit, indicator, year, value, status, source, run_id, submitter, submitted_at)
                 VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8)
                 ON CONFLICT (unit, indicator, year) DO UPDATE SET value = excluded.value, status = 'submitted',
                 source = excluded.source, run_id = excluded.run_id, submitter = excluded.submitter,
                 submitted_at = excluded.submitted_at, approved_by = NULL, approved_at = NULL",
                &[
                    unit.into(),
                    (&o.indicator).into(),
                    o.year.into(),
                    o.value.into(),
                    source.into(),
                    run_id.map(str::to_string).into(),
                    by.name().into(),
                    now_utc().into(),
                ],
            )?;
            append_audit(
                tx,
                by.name(),
                "submit",
                &format!("observation {unit}/{}/{}", o.indicator, o.year),
                &serde_json::json!({
                    "value": o.value,
                    "old": old.first().and_then(|r| r[0].as_f64()),
                    "source": source,
                    "run_id": run_id,
                }),
            )?;
        }
        Ok(obs.len())
    }

    /// Approve (publish) the submitted values of `unit` for `year` (all indicators, or one).
    pub fn approve(&self, by: &Principal, unit: &str, year: i32, indicator: Option<&str>) -> Result<usize> {
        self.write(|tx| {
            let u = Self::unit_in(tx, unit)?;
            if !by.allows(Action::Approve, &u.path) {
                return Err(MonitorError::Forbidden(format!("{} may not approve for {unit}", by.name())));
            }
            let rows = tx.query(
                "SELECT indicator, value FROM observations WHERE unit = $1 AND year = $2 AND status = 'submitted' ORDER BY indicator",
                &[unit.into(), year.into()],
            )?;
            let mut n = 0;
            for r in rows {
                let ind = r[0].text();
                if indicator.is_some_and(|i| i != ind) {
                    continue;
                }
                tx.exec(
                    "UPDATE observations SET status = 'published', approved_by = $1, approved_at = $2
                     WHERE unit = $3 AND indicator = $4 AND year = $5",
                    &[by.name().into(), now_utc().into(), unit.into(), (&ind).into(), year.into()],
                )?;
                append_audit(
                    tx,
                    by.name(),
                    "approve",
                    &format!("observation {unit}/{ind}/{year}"),
                    &serde_json::json!({ "value": r[1].as_f64() }),
                )?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// Set targets of `unit` (the plan's, or a parent's allocation to it), with their basis
    /// (a cited plan, or "example").
    pub fn set_targets(&self, by: &Principal, unit: &str, targets: &[ObservationIn], basis: &str) -> Result<usize> {
        self.write(|tx| {
            let u = Self::unit_in(tx, unit)?;
            if !by.allows(Action::SetTarget, &u.path) {
                return Err(MonitorError::Forbidden(format!(
                    "{} may not set targets of {unit}",
                    by.name()
                )));
            }
            for (k, t) in targets.iter().enumerate() {
                let field = |f: &str| format!("targets[{k}].{f}");
                Self::indicator(tx, &t.indicator).map_err(|_| {
                    MonitorError::invalid(field("indicator"), format!("unknown indicator {:?}", t.indicator))
                })?;
                if !(1949..=2100).contains(&t.year) || !t.value.is_finite() {
                    return Err(MonitorError::invalid(
                        field("year"),
                        "year in 1949–2100 and a finite value",
                    ));
                }
                write_target(tx, by, unit, t, basis)?;
            }
            Ok(targets.len())
        })
    }

    /// Whether the children's targets of an additive indicator sum to the parent's.
    pub fn transmission(&self, unit: &str, indicator: &str, year: i32) -> Result<Transmission> {
        self.read(|tx| {
            let ind = Self::indicator(tx, indicator)?;
            if !ind.additive() {
                return Err(MonitorError::invalid(
                    "indicator",
                    format!("{indicator} is not additive"),
                ));
            }
            Self::unit_in(tx, unit)?;
            let target = tx
                .query(
                    "SELECT value FROM targets WHERE unit = $1 AND indicator = $2 AND year = $3",
                    &[unit.into(), indicator.into(), year.into()],
                )?
                .first()
                .and_then(|r| r[0].as_f64());
            let kids = tx.query(
                "SELECT u.code, t.value FROM units u LEFT JOIN targets t
                 ON t.unit = u.code AND t.indicator = $2 AND t.year = $3 WHERE u.parent = $1 ORDER BY u.code",
                &[unit.into(), indicator.into(), year.into()],
            )?;
            let allocated: f64 = kids.iter().filter_map(|r| r[1].as_f64()).sum();
            let unallocated: Vec<String> = kids
                .iter()
                .filter(|r| r[1] == Value::Null)
                .map(|r| r[0].text())
                .collect();
            let ok = unallocated.is_empty() && target.is_some_and(|t| (allocated - t).abs() <= 1e-9 * t.abs().max(1.0));
            Ok(Transmission {
                unit: unit.into(),
                indicator: indicator.into(),
                year,
                target,
                allocated,
                children: kids.len(),
                unallocated,
                ok,
            })
        })
    }

    /// Every indicator of the catalogue at `unit` for `year`: value (as `by` may see it),
    /// target and assessment on `today`.
    pub fn indicators(
        &self,
        by: &Principal,
        unit: &str,
        year: i32,
        today: (i32, u32, u32),
    ) -> Result<Vec<IndicatorRow>> {
        let rows = self.db.read_statement(INDICATORS_SQL, &[unit.into()])?;
        self.indicators_from(by, unit, &rows, year, today)
    }

    /// [`Monitor::indicators`] as the holder of `token` (the public without one), the token
    /// checked in the same statement; [`MonitorError::Unauthenticated`] if it is unknown or
    /// expired. The caller is returned with the rows.
    pub fn indicators_as(
        &self,
        token: Option<&str>,
        unit: &str,
        year: i32,
        today: (i32, u32, u32),
    ) -> Result<(Principal, Vec<IndicatorRow>)> {
        let Some(token) = token else {
            return Ok((
                Principal::Public,
                self.indicators(&Principal::Public, unit, year, today)?,
            ));
        };
        let rows = self.db.read_statement(
            &format!(
                "{INDICATORS_SQL} UNION ALL {}",
                token_holder_sql("3, ", ", NULL, NULL, CAST(NULL AS DOUBLE PRECISION)", 2, 3)
            ),
            &[unit.into(), sha256_hex(token).into(), now_utc().into()],
        )?;
        let by = principal_of(rows.iter().find(|r| r[0].as_i64() == Some(3)).map(|r| &r[1..]))?;
        let out = self.indicators_from(&by, unit, &rows, year, today)?;
        Ok((by, out))
    }

    /// The rows of [`INDICATORS_SQL`] as `by` may see them.
    fn indicators_from(
        &self,
        by: &Principal,
        unit: &str,
        rows: &[Row],
        year: i32,
        today: (i32, u32, u32),
    ) -> Result<Vec<IndicatorRow>> {
        let head = rows
            .iter()
            .find(|r| r[0].as_i64() == Some(0))
            .ok_or_else(|| MonitorError::NotFound(format!("unit {unit}")))?;
        let u = unit_from(&vec![
            head[1].clone(),
            head[2].clone(),
            head[5].clone(),
            head[3].clone(),
            head[4].clone(),
        ])?;
        let catalogue = self.catalogue_at(head[6].as_i64().unwrap_or(-1))?;
        let see_all = by.allows(Action::ReadUnpublished, &u.path);
        let mut series: SeriesByIndicator = BTreeMap::new();
        let mut targets: TargetsByIndicator = BTreeMap::new();
        for r in rows {
            let (ind, y, v) = (
                r[1].text(),
                r[5].as_i64().unwrap_or(0) as i32,
                r[7].as_f64().unwrap_or(f64::NAN),
            );
            match r[0].as_i64() {
                Some(1) if see_all || r[2].as_str() == Some("published") => {
                    series.entry(ind).or_default().push((y, v, r[2].text()))
                }
                Some(2) => targets.entry(ind).or_default().push((y, v)),
                _ => {}
            }
        }
        for s in series.values_mut() {
            s.sort_by_key(|o| o.0);
        }
        for t in targets.values_mut() {
            t.sort_by_key(|o| o.0);
        }
        Ok(indicator_rows(&catalogue, &series, &targets, year, today))
    }

    /// Values of every indicator at `u` that `by` may see, and its targets, in two queries:
    /// indicator → [(year, value, status)] and indicator → [(year, target)], by year.
    fn unit_data(tx: &mut dyn Tx, by: &Principal, u: &Unit) -> Result<(SeriesByIndicator, TargetsByIndicator)> {
        let see_all = by.allows(Action::ReadUnpublished, &u.path);
        let mut series: SeriesByIndicator = BTreeMap::new();
        for r in tx.query(
            "SELECT indicator, year, value, status FROM observations WHERE unit = $1 ORDER BY indicator, year",
            &[(&u.code).into()],
        )? {
            if see_all || r[3].as_str() == Some("published") {
                series.entry(r[0].text()).or_default().push((
                    r[1].as_i64().unwrap_or(0) as i32,
                    r[2].as_f64().unwrap_or(f64::NAN),
                    r[3].text(),
                ));
            }
        }
        let mut targets: TargetsByIndicator = BTreeMap::new();
        for r in tx.query(
            "SELECT indicator, year, value FROM targets WHERE unit = $1 ORDER BY indicator, year",
            &[(&u.code).into()],
        )? {
            targets
                .entry(r[0].text())
                .or_default()
                .push((r[1].as_i64().unwrap_or(0) as i32, r[2].as_f64().unwrap_or(f64::NAN)));
        }
        Ok((series, targets))
    }

    fn indicators_in(
        tx: &mut dyn Tx,
        by: &Principal,
        u: &Unit,
        year: i32,
        today: (i32, u32, u32),
        catalogue: &Catalogue,
    ) -> Result<Vec<IndicatorRow>> {
        let (series, targets) = Self::unit_data(tx, by, u)?;
        Ok(indicator_rows(catalogue, &series, &targets, year, today))
    }

    /// The observations `by` may see and the targets of `indicator` at `unit`, by year.
    pub fn series(&self, by: &Principal, unit: &str, indicator: &str) -> Result<Series> {
        self.read(|tx| {
            Self::indicator(tx, indicator)?;
            let u = Self::unit_in(tx, unit)?;
            let see_all = by.allows(Action::ReadUnpublished, &u.path);
            let observations = tx
                .query(
                    "SELECT year, value, status, source FROM observations WHERE unit = $1 AND indicator = $2 ORDER BY year",
                    &[unit.into(), indicator.into()],
                )?
                .iter()
                .filter(|r| see_all || r[2].as_str() == Some("published"))
                .map(|r| SeriesPoint {
                    year: r[0].as_i64().unwrap_or(0) as i32,
                    value: r[1].as_f64().unwrap_or(f64::NAN),
                    status: r[2].text(),
                    source: r[3].text(),
                })
                .collect();
            let targets = tx
                .query(
                    "SELECT year, value, basis FROM targets WHERE unit = $1 AND indicator = $2 ORDER BY year",
                    &[unit.into(), indicator.into()],
                )?
                .iter()
                .map(|r| TargetPoint {
                    year: r[0].as_i64().unwrap_or(0) as i32,
                    value: r[1].as_f64().unwrap_or(f64::NAN),
                    basis: r[2].text(),
                })
                .collect();
            Ok(Series {
                indicator: indicator.to_string(),
                unit: unit.to_string(),
                observations,
                targets,
            })
        })
    }

    /// The units a map of `code` shows: its children (by code), or the unit itself when it has
    /// none, with their boundaries.
    pub fn map_units(&self, code: &str) -> Result<Vec<Unit>> {
        self.read(|tx| Self::map_units_in(tx, code))
    }

    fn map_units_in(tx: &mut dyn Tx, code: &str) -> Result<Vec<Unit>> {
        let mut units: Vec<Unit> = tx
            .query(
                &format!("SELECT {UNIT_COLS}, geometry FROM units WHERE parent = $1 ORDER BY code"),
                &[code.into()],
            )?
            .iter()
            .map(unit_from)
            .collect::<Result<_>>()?;
        if units.is_empty() {
            units.push(Self::unit_row(tx, code, true)?);
        }
        Ok(units)
    }

    /// For a map of `indicator` in `year`: the children of `code` (or the unit itself when it
    /// has none) with their boundaries and the indicator's state as `by` may see it.
    pub fn map(
        &self,
        by: &Principal,
        code: &str,
        indicator: &str,
        year: i32,
        today: (i32, u32, u32),
    ) -> Result<Vec<(Unit, IndicatorRow)>> {
        self.read(|tx| {
            let ind = Self::indicator(tx, indicator)?;
            let units = Self::map_units_in(tx, code)?;
            let mut out = Vec::with_capacity(units.len());
            for u in units {
                let (series, targets) = Self::unit_data(tx, by, &u)?;
                let s = series.get(indicator).map_or(&[][..], Vec::as_slice);
                let t = targets.get(indicator).map_or(&[][..], Vec::as_slice);
                let row = indicator_row(&ind, s, t, year, today);
                out.push((u, row));
            }
            Ok(out)
        })
    }

    /// Roll `indicator` up to `unit` for `year` from the values `by` may see.
    pub fn rollup(&self, by: &Principal, unit: &str, indicator: &str, year: i32) -> Result<Rollup> {
        self.read(|tx| {
            let ind = Self::indicator(tx, indicator)?;
            let root = Self::unit_in(tx, unit)?;
            let rows = tx.query(
                &format!("SELECT {UNIT_COLS} FROM units WHERE path LIKE $1 ORDER BY path"),
                &[format!("{}/%", root.path).into()],
            )?;
            let units: Vec<Unit> = rows.iter().map(unit_from).collect::<Result<_>>()?;
            let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for u in &units {
                if let Some(p) = &u.parent {
                    children.entry(p.clone()).or_default().push(u.code.clone());
                }
            }
            let load = |tx: &mut dyn Tx, code: &str| -> Result<BTreeMap<String, f64>> {
                let rows = tx.query(
                    "SELECT o.unit, o.value, o.status, u.path FROM observations o JOIN units u ON u.code = o.unit
                     WHERE o.indicator = $1 AND o.year = $2 AND u.path LIKE $3",
                    &[code.into(), year.into(), format!("{}/%", root.path).into()],
                )?;
                Ok(rows
                    .iter()
                    .filter(|r| r[2].as_str() == Some("published") || by.allows(Action::ReadUnpublished, &r[3].text()))
                    .filter_map(|r| Some((r[0].text(), r[1].as_f64()?)))
                    .collect())
            };
            let values = load(tx, indicator)?;
            let weights = match (&ind.aggregation, &ind.weight) {
                (Aggregation::WeightedMean, Some(w)) => load(tx, w)?,
                _ => BTreeMap::new(),
            };
            Ok(rollup::roll_up(unit, ind.aggregation, &children, &values, &weights))
        })
    }

    /// Warnings (yellow and red) of every unit under `code` (itself included) on `today`, for
    /// the years up to `year`.
    pub fn warnings(&self, by: &Principal, code: &str, year: i32, today: (i32, u32, u32)) -> Result<Vec<UnitWarning>> {
        // One snapshot, the catalogue read once.
        self.read(|tx| {
            let catalogue = self.catalogue_in(tx)?;
            let mut out = Vec::new();
            for u in Self::subtree_in(tx, code, None)? {
                for row in Self::indicators_in(tx, by, &u, year, today, &catalogue)? {
                    for w in row.assessment.warnings {
                        out.push(UnitWarning {
                            unit: u.code.clone(),
                            name: u.name.clone(),
                            indicator: row.indicator.code.clone(),
                            warning: w,
                        });
                    }
                }
            }
            Ok(out)
        })
    }

    /// Stored observations of the subtree of `code` that `by` may see (one year or all), by
    /// unit path, indicator and year.
    pub fn observations_under(&self, by: &Principal, code: &str, year: Option<i32>) -> Result<Vec<Observation>> {
        self.read(|tx| {
            let root = Self::unit_in(tx, code)?;
            let rows = tx.query(
                "SELECT o.unit, o.indicator, o.year, o.value, o.status, o.source, o.run_id, o.submitter, u.path
                 FROM observations o JOIN units u ON u.code = o.unit
                 WHERE (u.path = $1 OR u.path LIKE $2) AND ($3 = 0 OR o.year = $3)
                 ORDER BY u.path, o.indicator, o.year",
                &[
                    (&root.path).into(),
                    format!("{}/%", root.path).into(),
                    year.unwrap_or(0).into(),
                ],
            )?;
            Ok(rows
                .iter()
                .filter(|r| r[4].as_str() == Some("published") || by.allows(Action::ReadUnpublished, &r[8].text()))
                .map(|r| Observation {
                    unit: r[0].text(),
                    indicator: r[1].text(),
                    year: r[2].as_i64().unwrap_or(0) as i32,
                    value: r[3].as_f64().unwrap_or(f64::NAN),
                    status: r[4].text(),
                    source: r[5].text(),
                    run_id: r[6].as_str().map(str::to_string),
                    submitter: r[7].text(),
                })
                .collect())
        })
    }

    /// The audit records, in order.
    pub fn audit(&self) -> Result<Vec<Record>> {
        self.read(|tx| {
            Ok(tx
                .query(
                    "SELECT seq, at, actor, action, entity, detail, prev_hash, hash FROM audit ORDER BY seq",
                    &[],
                )?
                .iter()
                .map(|r| Record {
                    seq: r[0].as_i64().unwrap_or(0),
                    at: r[1].text(),
                    actor: r[2].text(),
                    action: r[3].text(),
                    entity: r[4].text(),
                    detail: r[5].text(),
                    prev_hash: r[6].text(),
                    hash: r[7].text(),
                })
                .collect())
        })
    }

    /// Verify the hash chain, and that it ends at the recorded head (records cut off the end are
    /// found too).
    pub fn audit_verify(&self) -> Result<Verification> {
        let records = self.audit()?;
        let last = records.last().map(|r| (r.seq, r.hash.clone()));
        let mut v = audit::verify(records);
        if v.ok {
            let head = self.read(|tx| tx.query("SELECT seq, hash FROM audit_head WHERE one = 1", &[]))?;
            let head = head.first().map(|r| (r[0].as_i64().unwrap_or(0), r[1].text()));
            if head != last {
                v.ok = false;
                v.broken_at = Some(last.map_or(1, |l| l.0 + 1));
                v.reason = Some("the log ends before the recorded head (records were removed from its end)".into());
            }
        }
        Ok(v)
    }
}

/// A store for any backend chosen at run time.
pub type AnyMonitor = Monitor<Box<dyn Backend>>;

/// Open the store named by `url`: `sqlite://PATH` (the file and its folder are created) or
/// `postgres://…` / `postgresql://…` (a pool of `pool` connections).
pub fn open_url(url: &str, pool: usize) -> Result<AnyMonitor> {
    let db: Box<dyn Backend> = if let Some(path) = url.strip_prefix("sqlite://") {
        let path = std::path::Path::new(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| MonitorError::invalid("db", format!("cannot create {}: {e}", dir.display())))?;
        }
        Box::new(Sqlite::open(path)?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Box::new(Postgres::connect(url, pool)?)
    } else {
        return Err(MonitorError::invalid(
            "db",
            format!(
                "{}: expected sqlite://PATH or postgres://USER@HOST/DATABASE",
                redact(url)
            ),
        ));
    };
    Monitor::open(db)
}

fn hash_password(p: &str) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    if p.len() < 8 {
        return Err(MonitorError::invalid("password", "at least 8 characters"));
    }
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(backend::storage)?;
    let salt = SaltString::encode_b64(&raw).map_err(backend::storage)?;
    Ok(argon2::Argon2::default()
        .hash_password(p.as_bytes(), &salt)
        .map_err(backend::storage)?
        .to_string())
}

fn verify_password(p: &str, stored: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(stored).is_ok_and(|h| argon2::Argon2::default().verify_password(p.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_414), (2025, 11, 22));
        assert_eq!(civil(11_016), (2000, 2, 29));
    }
}
