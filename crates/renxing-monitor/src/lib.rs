//! Plan-implementation monitoring across the five levels of China's territorial-spatial
//! planning (nation → province → city → county → township).
//!
//! Plan indicators set at one level are transmitted to the levels below (a parent's target
//! allocated to its children), values observed at each level flow up (roll-ups), deviations raise
//! warnings, every change leaves a trace in a hash-chained audit log, and the public reads what
//! reviewers have published. The pieces, each over plain data:
//! - [`unit`]: admin units and their levels, loaded from a boundary GeoJSON and the division
//!   codes (e.g. Henan: 1 province, 18 cities, 157 counties, 2,586 townships);
//! - [`catalogue`]: the indicator catalogue (`standards/monitor-indicators-cn.toml` by default);
//! - [`access`]: roles (viewer, editor, reviewer, admin) held on one unit and inherited down its
//!   subtree only, and what each may do;
//! - [`rollup`] and [`warning`]: sums and weighted means up the tree; green / yellow / red;
//! - [`audit`]: the hash chain and its verification;
//! - [`plan`]: plans (master / detailed / special) and their versions, draft → submitted →
//!   approved, whose approval sets the unit's targets;
//! - [`store`]: one storage trait ([`store::Backend`]) with an embedded SQLite implementation and
//!   versioned migrations, and [`store::Monitor`], the operations over it (every write in one
//!   transaction with its audit record).

pub mod access;
pub mod audit;
pub mod catalogue;
pub mod import;
pub mod plan;
pub mod rollup;
pub mod scratch;
pub mod store;
pub mod unit;
pub mod warning;

/// Errors of the monitoring domain. `Input` names the file (and line or feature).
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    /// A request that breaks a rule of the domain (unknown indicator, bad year, …): `field`
    /// names what is wrong.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A token that is unknown or expired.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// A request the current state does not allow (a plan that is no longer a draft, …).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("storage: {0}")]
    Storage(String),
}

impl MonitorError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        MonitorError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, MonitorError>;
