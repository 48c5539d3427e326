//! renxing-risk — placeholder, being written.

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
pub mod vulnerability;
pub mod zoning;
