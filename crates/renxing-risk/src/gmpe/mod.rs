//! Scenario ground motion: ruptures, ground-motion prediction equations (GMPEs), sampled fields and
//! instrumental seismic intensity.
//!
//! A GMPE predicts, for one earthquake rupture and one site, the distribution of an intensity
//! measure `Y` (PGA, PGV or a 5 %-damped pseudo-spectral acceleration SA(T)):
//!
//! ```text
//! ln Y = ln Ȳ(M, distances, site) + τ·η + φ·ε
//! ```
//!
//! where `ln Ȳ` is the median, `η` the standard-normal *between-event* (inter-event) term shared by
//! every site of one event, and `ε` the standard-normal *within-event* (intra-event) term of each
//! site, correlated in space. The total standard deviation is `σ = √(τ² + φ²)`.
//!
//! Modules:
//! - [`rupture`]: rupture geometry (NRML `simpleFaultRupture`, `singlePlaneRupture`,
//!   `multiPlanesRupture`, programmatic point ruptures) and the source-to-site distances
//!   Rrup, Rjb, Rx, Ry0 with OpenQuake's definitions;
//! - [`ba08`]: Boore & Atkinson (2008), Earthquake Spectra 24(1):99–138;
//! - [`cy14`]: Chiou & Youngs (2014), Earthquake Spectra 30(3):1117–1153;
//! - [`field`]: median and sampled ground-motion fields with Jayaram & Baker (2009) spatial
//!   correlation;
//! - [`intensity`]: instrumental seismic intensity from PGA and PGV per GB/T 17742-2020 Annex A.
//!
//! Units everywhere: PGA and SA in g, PGV in cm/s, distances and depths in km, Vs30 in m/s,
//! Z1.0 in m, Z2.5 in km, angles in degrees. Natural logarithms.

pub mod ba08;
pub mod cy14;
pub mod field;
mod geodesy;
pub mod intensity;
pub mod rupture;

use std::fmt;

pub use ba08::BooreAtkinson2008;
pub use cy14::ChiouYoungs2014;

/// An intensity measure type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Imt {
    /// Peak ground acceleration, g.
    Pga,
    /// Peak ground velocity, cm/s.
    Pgv,
    /// 5 %-damped pseudo-spectral acceleration at the period in seconds, g.
    Sa(f64),
}

impl Imt {
    /// Parse `PGA`, `PGV`, `SA(0.2)` (case-insensitive).
    pub fn parse(s: &str) -> Result<Imt, GmpeError> {
        let t = s.trim().to_ascii_uppercase();
        match t.as_str() {
            "PGA" => Ok(Imt::Pga),
            "PGV" => Ok(Imt::Pgv),
            _ => {
                let inner = t
                    .strip_prefix("SA(")
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(|| GmpeError::Invalid(format!("unknown intensity measure type '{s}'")))?;
                let p: f64 = inner
                    .trim()
                    .parse()
                    .map_err(|_| GmpeError::Invalid(format!("bad period in '{s}'")))?;
                if !(p.is_finite() && p >= 0.0) {
                    return Err(GmpeError::Invalid(format!("bad period in '{s}'")));
                }
                Ok(Imt::Sa(p))
            }
        }
    }

    /// The oscillator period in seconds: 0 for PGA, `None` for PGV.
    pub fn period(&self) -> Option<f64> {
        match self {
            Imt::Pga => Some(0.0),
            Imt::Pgv => None,
            Imt::Sa(t) => Some(*t),
        }
    }

    /// Unit of the values of this IMT.
    pub fn unit(&self) -> &'static str {
        match self {
            Imt::Pgv => "cm/s",
            _ => "g",
        }
    }
}

impl fmt::Display for Imt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Imt::Pga => write!(f, "PGA"),
            Imt::Pgv => write!(f, "PGV"),
            Imt::Sa(t) => write!(f, "SA({t})"),
        }
    }
}

/// Source parameters a GMPE reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuptureContext {
    /// Moment magnitude.
    pub mag: f64,
    /// Rake angle, degrees in [-180, 180].
    pub rake: f64,
    /// Dip angle, degrees in (0, 90].
    pub dip: f64,
    /// Depth to the top of the rupture, km.
    pub ztor: f64,
    /// Hypocentre depth, km.
    pub hypo_depth: f64,
    /// Down-dip width of the rupture, km (0 for a point rupture).
    pub width: f64,
}

/// Site parameters a GMPE reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiteContext {
    /// Longitude, degrees.
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Time-averaged shear-wave velocity of the top 30 m, m/s.
    pub vs30: f64,
    /// True when Vs30 was measured, false when inferred (changes CY14's within-event sigma).
    pub vs30_measured: bool,
    /// Depth to the 1.0 km/s shear-wave horizon, m; `None` lets the model use its Vs30-based mean.
    pub z1pt0: Option<f64>,
    /// Depth to the 2.5 km/s horizon, km (not read by BA08 or CY14; kept for other models).
    pub z2pt5: Option<f64>,
}

/// Source-to-site distances (km), as defined in [`rupture`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DistanceContext {
    /// Closest distance to the rupture surface.
    pub rrup: f64,
    /// Joyner–Boore distance: closest distance to the surface projection of the rupture.
    pub rjb: f64,
    /// Horizontal distance to the top edge measured perpendicular to strike, positive on the
    /// hanging wall.
    pub rx: f64,
    /// Horizontal distance off the ends of the rupture measured parallel to strike (0 between them).
    pub ry0: f64,
    /// Hypocentral distance.
    pub rhypo: f64,
    /// Epicentral distance.
    pub repi: f64,
}

/// What a GMPE returns for one site and IMT.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GmpeOutput {
    /// Natural log of the median (g for PGA/SA, cm/s for PGV).
    pub ln_mean: f64,
    /// Total standard deviation of ln Y.
    pub sigma: f64,
    /// Between-event (inter-event) standard deviation.
    pub tau: f64,
    /// Within-event (intra-event) standard deviation.
    pub phi: f64,
}

/// Errors of the ground-motion models.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GmpeError {
    /// The model has no coefficients for this IMT (periods are not interpolated).
    #[error("{gmpe} has no coefficients for {imt}; it supports PGA, PGV and SA at periods {known} s")]
    UnsupportedImt { gmpe: String, imt: String, known: String },
    /// An input outside what the equations accept.
    #[error("invalid ground-motion input: {0}")]
    Invalid(String),
}

/// A ground-motion prediction equation.
pub trait Gmpe: Send + Sync {
    /// The model's name, as OpenQuake spells its class (`BooreAtkinson2008`, `ChiouYoungs2014`).
    fn name(&self) -> &str;
    /// The intensity measure types with coefficients.
    fn imts(&self) -> Vec<Imt>;
    /// Median and standard deviations of ln Y for one site.
    fn compute(
        &self,
        rup: &RuptureContext,
        site: &SiteContext,
        dist: &DistanceContext,
        imt: Imt,
    ) -> Result<GmpeOutput, GmpeError>;
}

/// A model by its OpenQuake class name: `BooreAtkinson2008` or `ChiouYoungs2014`.
pub fn gmpe_by_name(name: &str) -> Result<Box<dyn Gmpe>, GmpeError> {
    match name.trim() {
        "BooreAtkinson2008" | "BA08" => Ok(Box::new(BooreAtkinson2008::new())),
        "ChiouYoungs2014" | "CY14" => Ok(Box::new(ChiouYoungs2014::new())),
        other => Err(GmpeError::Invalid(format!(
            "unknown GMPE '{other}' (known: BooreAtkinson2008, ChiouYoungs2014)"
        ))),
    }
}

/// A coefficient table: one row per IMT, columns by name. Parsed from the CSV text shipped with
/// the model (`#` lines are comments; the first other line is the header, first column `imt`).
#[derive(Debug)]
pub(crate) struct CoeffTable {
    gmpe: &'static str,
    columns: Vec<String>,
    rows: Vec<(Imt, Vec<f64>)>,
}

impl CoeffTable {
    /// Parse the shipped table; a malformed shipped table is a programming error caught by tests.
    pub(crate) fn parse(gmpe: &'static str, text: &str) -> CoeffTable {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let header = lines.next().expect("coefficient table has a header");
        let columns: Vec<String> = header.split(',').skip(1).map(|c| c.trim().to_string()).collect();
        let mut rows = Vec::new();
        for line in lines {
            let mut cells = line.split(',');
            let key = cells.next().unwrap_or("").trim();
            let imt = match key.to_ascii_lowercase().as_str() {
                "pga" => Imt::Pga,
                "pgv" => Imt::Pgv,
                p => Imt::Sa(p.parse().expect("period in coefficient table")),
            };
            let vals: Vec<f64> = cells
                .map(|c| c.trim().parse().expect("number in coefficient table"))
                .collect();
            assert_eq!(
                vals.len(),
                columns.len(),
                "{gmpe}: row {key} has the wrong number of cells"
            );
            rows.push((imt, vals));
        }
        CoeffTable { gmpe, columns, rows }
    }

    /// Index of a column by name.
    pub(crate) fn col(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("{}: no coefficient column {name}", self.gmpe))
    }

    /// The IMTs of the table, in table order.
    pub(crate) fn imts(&self) -> Vec<Imt> {
        self.rows.iter().map(|(i, _)| *i).collect()
    }

    /// The row of an IMT (SA periods must match a tabulated period within 1e-6 s).
    pub(crate) fn row(&self, imt: Imt) -> Result<&[f64], GmpeError> {
        let found = self.rows.iter().find(|(i, _)| match (i, imt) {
            (Imt::Pga, Imt::Pga) | (Imt::Pgv, Imt::Pgv) => true,
            (Imt::Sa(a), Imt::Sa(b)) => (a - b).abs() < 1e-6,
            _ => false,
        });
        match found {
            Some((_, v)) => Ok(v),
            None => Err(GmpeError::UnsupportedImt {
                gmpe: self.gmpe.to_string(),
                imt: imt.to_string(),
                known: self
                    .rows
                    .iter()
                    .filter_map(|(i, _)| match i {
                        Imt::Sa(t) => Some(t.to_string()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// Check the inputs every model needs.
pub(crate) fn check_inputs(rup: &RuptureContext, site: &SiteContext, dist: &DistanceContext) -> Result<(), GmpeError> {
    let bad = |what: &str, v: f64| Err(GmpeError::Invalid(format!("{what} = {v}")));
    if !(rup.mag.is_finite() && rup.mag > 0.0 && rup.mag < 10.0) {
        return bad("magnitude", rup.mag);
    }
    if !(rup.rake.is_finite() && (-180.0..=180.0).contains(&rup.rake)) {
        return bad("rake (degrees in [-180, 180])", rup.rake);
    }
    if !(rup.dip.is_finite() && (0.0..=90.0).contains(&rup.dip)) {
        return bad("dip (degrees in [0, 90])", rup.dip);
    }
    if !(site.vs30.is_finite() && site.vs30 > 0.0) {
        return bad("vs30", site.vs30);
    }
    for (n, v) in [("rrup", dist.rrup), ("rjb", dist.rjb)] {
        if !(v.is_finite() && v >= 0.0) {
            return bad(n, v);
        }
    }
    if !dist.rx.is_finite() {
        return bad("rx", dist.rx);
    }
    Ok(())
}
