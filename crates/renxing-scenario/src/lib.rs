//! Dual-use ("routine–emergency", 平急两用) scenarios.
//!
//! Public facilities serve daily life in routine times and convert, within hours, into
//! shelters, field hospitals (方舱), isolation sites, supply points and air-raid shelters. This
//! crate answers, per admin unit, per emergency role and per phase after onset: how much is
//! needed, how much the city's facilities provide once converted, where the gaps are, who goes
//! where and how long it takes. Five scenario families: pandemic, disaster, competition (large
//! events), vacation (tourist peaks) and war (civil air defence).
//!
//! The steps, each a function over plain data (I/O and the CLI live elsewhere):
//! - [`catalogue`]: facilities → emergency roles with capacity (or "unknown" and why) and
//!   conversion time, by the rules of `standards/conversions-cn.toml` and the numbers of the
//!   standard profile;
//! - [`scenario`]: the scenario file format (documented there) and its checks;
//! - [`demand`]: demand per role, point and phase (population shares, flood depth, an SEIR
//!   epidemic with care compartments, rates per 10,000, venue crowds, scenic-area visitors);
//! - [`balance`]: the time-phased balance per unit × role × phase, the conversion order, the
//!   phase from which demand is met, and conflicts between the scenarios of a compound one;
//! - [`assign`]: the exact capacitated assignment of demand to facilities on the road network
//!   (transportation problem by column generation with network pricing) and link loads;
//! - [`simplex`]: the warm-started network simplex that solves the transportation problem;
//! - [`fewsinks`]: the transportation problem with few facilities, by shortest augmenting paths
//!   over the facility graph.

pub mod assign;
pub mod balance;
pub mod catalogue;
pub mod demand;
pub mod fewsinks;
pub mod role;
pub mod scenario;
pub mod simplex;

pub use role::Role;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// A bad input file: names the file and what is wrong.
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    #[error("{0}")]
    Solver(String),
}
