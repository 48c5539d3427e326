//! The OpenQuake-compatible job runner: job files ([`ini`]), the run ([`job`]) and the exports
//! ([`export`]).
pub mod export;
pub mod ini;
pub mod job;

pub use job::{Mode, OqJob, OqRun};
