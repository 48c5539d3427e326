//! # renxing-exam — the resilience "physical exam" (城市体检) analyses
//!
//! Analyses that score a city's admin units against a **standard profile** — a data file of
//! national standard values with their source clauses ([`standard`]). The first exam is shelter
//! coverage ([`shelter_exam`]): per unit, population, shelters and their effective area where known,
//! shelter area per person against the target, the share of people within the emergency and fixed
//! shelter walking distances, people beyond any shelter, and a ranked list of deficient units.
//!
//! Inputs are plain data ([`population::Unit`], [`population::PopulationSet`],
//! [`shelter_exam::Shelter`]) and a walking [`renxing_net::graph::Graph`]; this crate reads no file
//! formats and knows nothing of the CLI.

pub mod population;
pub mod shelter_exam;
pub mod standard;
