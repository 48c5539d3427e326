//! # renxing-site — where to add or convert facilities
//!
//! Facility-siting models over a demand × candidate-site cost matrix (given, or computed on the
//! road network by `renxing-net`), for shelters, isolation wards, supply points and medical
//! emergency points:
//!
//! | model | question | module |
//! |---|---|---|
//! | LSCP | fewest sites (or least total site cost) so that every demand point is within the service cost | [`cover`] |
//! | LSCP-B | LSCP's number of sites, placed so that most demand points are covered twice (redundant backup) | [`cover`] |
//! | MCLP | with p sites (or a budget), the most demand weight within the service cost | [`cover`] |
//! | p-median | with p sites (or a budget), the least total weighted cost to the nearest site | [`median`] |
//! | p-center | with p sites, the least worst cost | [`center`] |
//! | p-dispersion | p sites as far from each other as possible (the least site-to-site cost largest) | [`center`] |
//! | capacitated p-median / MCLP | the same under site capacities, demand split or not | [`capacitated`] |
//!
//! Every model honours **pre-selected** sites (existing facilities that stay open; `p` counts
//! them). Each is solved **exactly** as a MILP by HiGHS ([`milp`]), with formulations that use
//! the structure of the problem (p-median on sorted distinct costs, p-center and p-dispersion by
//! bisection over distinct costs), or, for city-scale instances of MCLP and p-median, by
//! **heuristics with a Lagrangian (and, for MCLP, LP-relaxation) bound** ([`heuristic`]): every
//! answer carries a proven bound and its optimality gap. Runs are deterministic.
//!
//! Inputs (demand, candidates, long or dense cost files, column auto-detection) are read by
//! [`input`]; the formulations are written out in `docs/siting.md`.

pub mod capacitated;
pub mod center;
pub mod cover;
pub mod heuristic;
pub mod input;
pub mod instance;
pub mod median;
pub mod milp;
mod solution;

pub use instance::{CostMatrix, Coverage, Instance, Site};
pub use solution::{Method, Model, Solution, Spec, Stats, Status, evaluate, solve};

/// What can go wrong when solving: bad data, an infeasible problem (with the culprits named), or
/// a solver failure.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// Inconsistent or invalid data or parameters.
    #[error("{0}")]
    Invalid(String),
    /// The problem has no solution; `culprits` names the demand points or sites at fault.
    #[error("{model} is infeasible: {reason}{}", culprit_list(.culprits))]
    Infeasible {
        model: String,
        reason: String,
        culprits: Vec<String>,
    },
    /// An input file problem (file, position, message).
    #[error("{0}")]
    Input(#[from] renxing_io::IoError),
    /// HiGHS failed.
    #[error("solver: {0}")]
    Solver(String),
}

impl SiteError {
    pub fn invalid(msg: impl Into<String>) -> SiteError {
        SiteError::Invalid(msg.into())
    }

    pub fn infeasible(model: &str, reason: impl Into<String>, culprits: Vec<String>) -> SiteError {
        SiteError::Infeasible {
            model: model.to_string(),
            reason: reason.into(),
            culprits,
        }
    }
}

fn culprit_list(c: &[String]) -> String {
    if c.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = c.iter().take(20).map(String::as_str).collect();
    let more = if c.len() > 20 {
        format!(" and {} more", c.len() - 20)
    } else {
        String::new()
    };
    format!(" ({}{more})", shown.join(", "))
}
