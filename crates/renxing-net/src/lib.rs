//! # renxing-net — road networks and access
//!
//! From imported [`road::RoadData`] to answers of the form "how far is the nearest shelter":
//!
//! - [`profile`]: walk / drive profiles (speeds by `highway` class, one-way rules, access), read
//!   from the data file `profiles.toml` shipped with this crate and overridable;
//! - [`graph`]: a compact routable graph (CSR) per profile, with its connected-component report
//!   (which pieces were dropped, untagged edges left out);
//! - [`snap`]: snapping points to the nearest edge, the snap distance added to every route;
//! - [`access`]: multi-source Dijkstra — nearest facility by distance or time, with cutoffs.

pub mod access;
pub mod graph;
pub mod profile;
pub mod road;
pub mod snap;

pub use road::{Oneway, RoadData, RoadEdge, RoadNode};
