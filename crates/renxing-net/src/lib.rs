//! # renxing-net — road networks and access
//!
//! From imported [`road::RoadData`] to answers of the form "how far is the nearest shelter":
//!
//! - [`profile`]: walk / drive profiles (speeds by `highway` class, one-way rules, access), read
//!   from the data file `profiles.toml` shipped with this crate and overridable;
//! - [`graph`]: a compact routable graph (CSR) per profile, with its connected-component report
//!   (which pieces were dropped, untagged edges left out);
//! - [`snap`]: snapping points to the nearest edge, the snap distance added to every route;
//! - [`access`]: multi-source Dijkstra — nearest facility by distance or time, with cutoffs;
//! - [`order`] and [`cch`]: customizable contraction hierarchies — nested-dissection order and
//!   contraction once per graph (cached on disk), customisation per metric and hazard scenario in
//!   milliseconds, elimination-tree queries and PHAST sweeps;
//! - [`matrix`]: many-to-many matrices (streamed in blocks), nearest-k, one-to-all trees;
//! - [`hazard`]: flood depths per link → closed and slowed links (a scenario's link costs);
//! - [`isochrone`]: reached network pieces and reachable-area polygons for cost limits;
//! - [`turns`]: turn restrictions (via nodes and via ways) built into the graph as node copies.

pub mod access;
pub mod cch;
pub mod graph;
pub mod hazard;
pub mod isochrone;
pub mod matrix;
pub mod order;
pub mod profile;
pub mod road;
pub mod snap;
#[cfg(test)]
mod test_city;
pub mod turns;

pub use road::{Oneway, RoadData, RoadEdge, RoadNode};
