//! renxing-risk — hazard × exposure × vulnerability: the damage and risk engine of Renxing.
//!
//! - **Models**, one module per file format, each documenting its formulas: fragility
//!   ([`fragility`]), vulnerability ([`vulnerability`]), consequences ([`consequence`]), exposure
//!   ([`exposure`]), ground-motion fields and sites ([`gmf`]), NRML parsing ([`nrml`]).
//! - **Calculators** ([`calc`]): damage-state distributions and consequences, or losses, for every
//!   asset and event, summed per asset, per event and per tag; loss curves from event sets
//!   ([`losscurve`]); assets attached to hazard sites as OpenQuake does ([`assoc`]).
//! - **OpenQuake job runner** ([`oq`]): reads a `job.ini` of `scenario_damage`,
//!   `event_based_damage` or `scenario_risk` with given fields and writes OpenQuake's exports,
//!   validated on OpenQuake's QA cases.
//! - **Native scenario damage** ([`scenario`]): rupture → own GMPE fields → damage and
//!   consequences per asset → roll-ups by exposure tags, in one pass.
//! - **Ground motion** ([`gmpe`]): ruptures, Boore & Atkinson (2008) and Chiou & Youngs (2014),
//!   median and sampled (spatially correlated) fields, GB/T 17742-2020 instrumental intensity.
//! - **Flood** ([`flood`]): depth rasters × JRC depth–damage curves per building or cell, expected
//!   annual damage, road closures above a depth threshold; **zoning** ([`zoning`]): five-grade
//!   hazard / vulnerability / loss zones per cell and per admin unit.
//!
//! No I/O beyond reading the model files; no HTTP or CLI concerns.

// `!(x >= 0.0)` is how the readers reject NaN together with out-of-range values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod assoc;
pub mod calc;
pub mod consequence;
pub mod exposure;
pub mod flood;
pub mod fragility;
pub mod gmf;
pub mod gmpe;
pub mod losscurve;
pub mod nrml;
pub mod oq;
pub mod scenario;
pub mod vulnerability;
pub mod zoning;
