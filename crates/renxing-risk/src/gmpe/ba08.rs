//! Boore & Atkinson (2008) ground-motion prediction equations for shallow crustal earthquakes in
//! active tectonic regions (NGA West 1).
//!
//! Boore, D. M. & Atkinson, G. M. (2008). *Ground-motion prediction equations for the average
//! horizontal component of PGA, PGV, and 5%-damped PSA at spectral periods between 0.01 s and
//! 10.0 s.* Earthquake Spectra 24(1), 99–138.
//!
//! The median (eq. 1) is the sum of a magnitude term, a distance term and a site term:
//!
//! ```text
//! ln Y = F_M(M) + F_D(Rjb, M) + F_S(Vs30, Rjb, M)
//! ```
//!
//! - Distance (eqs. 3–4): with `R = √(Rjb² + h²)`, `F_D = [c1 + c2 (M − 4.5)] ln R + c3 (R − 1)`.
//! - Magnitude (eqs. 5a–5b): a mechanism constant `e2` (strike-slip), `e3` (normal) or `e4`
//!   (reverse) plus `e5 (M − Mh) + e6 (M − Mh)²` up to the hinge magnitude `Mh` and
//!   `e7 (M − Mh)` above it. The mechanism comes from the rake: within 30° of horizontal is
//!   strike-slip, 30° < rake < 150° reverse, −150° < rake < −30° normal.
//! - Site (eqs. 6–13): a linear part `blin ln(Vs30 / 760)` plus a non-linear part driven by
//!   `pga4nl`, the median PGA on the 760 m/s reference (F_M + F_D with the PGA coefficients).
//!   With the slope `bnl` = `b1` below 180 m/s, log-interpolated to `b2` at 300 m/s, then to 0 at
//!   760 m/s, the non-linear term is `bnl ln(0.06/0.1)` for `pga4nl ≤ 0.03 g`,
//!   `bnl ln(pga4nl/0.1)` above 0.09 g, and a cubic in `ln(pga4nl/0.03)` joining the two smoothly
//!   in between (eq. 8b, coefficients `c`, `d` of eqs. 9–11).
//!
//! Standard deviations are those of Table 8 for a specified fault type: within-event `σ`,
//! between-event `τ_M` and total `σ_TM` (the tabulated total is used as is, as OpenQuake does).
//! Coefficients: `tables/ba08.csv` (Tables 3, 6, 7, 8). Supported: PGA, PGV and SA at the 21
//! periods 0.01–10 s of the paper; other periods are refused.

use std::sync::OnceLock;

use super::{CoeffTable, DistanceContext, Gmpe, GmpeError, GmpeOutput, Imt, RuptureContext, SiteContext, check_inputs};

const TABLE_TEXT: &str = include_str!("tables/ba08.csv");

fn table() -> &'static CoeffTable {
    static T: OnceLock<CoeffTable> = OnceLock::new();
    T.get_or_init(|| CoeffTable::parse("BooreAtkinson2008", TABLE_TEXT))
}

/// Coefficients of one IMT, by name.
struct C {
    c1: f64,
    c2: f64,
    c3: f64,
    h: f64,
    e2: f64,
    e3: f64,
    e4: f64,
    e5: f64,
    e6: f64,
    e7: f64,
    mh: f64,
    blin: f64,
    b1: f64,
    b2: f64,
    phi: f64,
    tau: f64,
    sigma: f64,
}

fn coeffs(imt: Imt) -> Result<C, GmpeError> {
    let t = table();
    let r = t.row(imt)?;
    let g = |n: &str| r[t.col(n)];
    Ok(C {
        c1: g("c1"),
        c2: g("c2"),
        c3: g("c3"),
        h: g("h"),
        e2: g("e2"),
        e3: g("e3"),
        e4: g("e4"),
        e5: g("e5"),
        e6: g("e6"),
        e7: g("e7"),
        mh: g("mh"),
        blin: g("blin"),
        b1: g("b1"),
        b2: g("b2"),
        phi: g("phi"),
        tau: g("tau"),
        sigma: g("sigma"),
    })
}

/// Boore & Atkinson (2008); OpenQuake class `BooreAtkinson2008`. Reads M, rake, Rjb and Vs30.
#[derive(Debug, Clone, Default)]
pub struct BooreAtkinson2008;

impl BooreAtkinson2008 {
    /// The model (its coefficient table is parsed once, on first use).
    pub fn new() -> Self {
        BooreAtkinson2008
    }
}

/// Mechanism dummies (strike-slip, normal, reverse) from the rake, BA08 p. 103.
fn mechanism(rake: f64) -> (f64, f64, f64) {
    let ss = rake.abs() <= 30.0 || 180.0 - rake.abs() <= 30.0;
    let rs = rake > 30.0 && rake < 150.0;
    let ns = rake > -150.0 && rake < -30.0;
    (
        f64::from(u8::from(ss)),
        f64::from(u8::from(ns)),
        f64::from(u8::from(rs)),
    )
}

/// F_M (eqs. 5a, 5b).
fn f_mag(c: &C, mag: f64, rake: f64) -> f64 {
    let (ss, ns, rs) = mechanism(rake);
    let base = c.e2 * ss + c.e3 * ns + c.e4 * rs;
    let dm = mag - c.mh;
    if mag <= c.mh {
        base + c.e5 * dm + c.e6 * dm * dm
    } else {
        base + c.e7 * dm
    }
}

/// F_D (eqs. 3, 4) with Mref = 4.5 and Rref = 1 km.
fn f_dist(c: &C, mag: f64, rjb: f64) -> f64 {
    let r = (rjb * rjb + c.h * c.h).sqrt();
    (c.c1 + c.c2 * (mag - 4.5)) * r.ln() + c.c3 * (r - 1.0)
}

/// Non-linear slope bnl (eqs. 13a–13d).
fn bnl(c: &C, vs30: f64) -> f64 {
    const V1: f64 = 180.0;
    const V2: f64 = 300.0;
    const VREF: f64 = 760.0;
    if vs30 <= V1 {
        c.b1
    } else if vs30 <= V2 {
        (c.b1 - c.b2) * (vs30 / V2).ln() / (V1 / V2).ln() + c.b2
    } else if vs30 < VREF {
        c.b2 * (vs30 / VREF).ln() / (V2 / VREF).ln()
    } else {
        0.0
    }
}

/// F_NL (eqs. 8a–8c with the smoothing coefficients of eqs. 9–11).
fn f_nonlinear(bnl: f64, pga4nl: f64) -> f64 {
    const A1: f64 = 0.03;
    const A2: f64 = 0.09;
    const PGA_LOW: f64 = 0.06;
    if pga4nl <= A1 {
        bnl * (PGA_LOW / 0.1).ln()
    } else if pga4nl <= A2 {
        let dx = (A2 / A1).ln();
        let dy = bnl * (A2 / PGA_LOW).ln();
        let c = (3.0 * dy - bnl * dx) / (dx * dx);
        let d = -(2.0 * dy - bnl * dx) / (dx * dx * dx);
        let x = (pga4nl / A1).ln();
        bnl * (PGA_LOW / 0.1).ln() + c * x * x + d * x * x * x
    } else {
        bnl * (pga4nl / 0.1).ln()
    }
}

impl Gmpe for BooreAtkinson2008 {
    fn name(&self) -> &str {
        "BooreAtkinson2008"
    }

    fn imts(&self) -> Vec<Imt> {
        table().imts()
    }

    fn compute(
        &self,
        rup: &RuptureContext,
        site: &SiteContext,
        dist: &DistanceContext,
        imt: Imt,
    ) -> Result<GmpeOutput, GmpeError> {
        check_inputs(rup, site, dist)?;
        let c = coeffs(imt)?;
        let cp = coeffs(Imt::Pga)?;
        let ln_pga4nl = f_mag(&cp, rup.mag, rup.rake) + f_dist(&cp, rup.mag, dist.rjb);
        let pga4nl = ln_pga4nl.exp();
        let rock = if imt == Imt::Pga {
            ln_pga4nl
        } else {
            f_mag(&c, rup.mag, rup.rake) + f_dist(&c, rup.mag, dist.rjb)
        };
        let site_term = c.blin * (site.vs30 / 760.0).ln() + f_nonlinear(bnl(&c, site.vs30), pga4nl);
        Ok(GmpeOutput {
            ln_mean: rock + site_term,
            sigma: c.sigma,
            tau: c.tau,
            phi: c.phi,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(mag: f64, rake: f64) -> RuptureContext {
        RuptureContext {
            mag,
            rake,
            dip: 90.0,
            ztor: 0.0,
            hypo_depth: 10.0,
            width: 10.0,
        }
    }

    fn site(vs30: f64) -> SiteContext {
        SiteContext {
            lon: 0.0,
            lat: 0.0,
            vs30,
            vs30_measured: true,
            z1pt0: None,
            z2pt5: None,
        }
    }

    #[test]
    fn table_has_the_papers_periods() {
        let imts = BooreAtkinson2008.imts();
        assert_eq!(imts.len(), 23, "PGA, PGV and 21 periods");
        assert!(imts.contains(&Imt::Sa(0.2)) && imts.contains(&Imt::Sa(10.0)));
    }

    #[test]
    fn unknown_period_is_refused_by_name() {
        let d = DistanceContext {
            rjb: 10.0,
            rrup: 10.0,
            ..Default::default()
        };
        let e = BooreAtkinson2008
            .compute(&ctx(6.0, 0.0), &site(760.0), &d, Imt::Sa(0.33))
            .unwrap_err();
        assert!(e.to_string().contains("SA(0.33)"), "{e}");
    }

    #[test]
    fn reference_rock_pga_is_the_sum_of_magnitude_and_distance_terms() {
        // On Vs30 = 760 m/s the site term vanishes: ln PGA = F_M + F_D with the PGA row,
        // strike-slip M6.5 at Rjb = 20 km: R = sqrt(400 + 1.35²).
        let d = DistanceContext {
            rjb: 20.0,
            rrup: 20.0,
            ..Default::default()
        };
        let o = BooreAtkinson2008
            .compute(&ctx(6.5, 0.0), &site(760.0), &d, Imt::Pga)
            .unwrap();
        let r = (400.0f64 + 1.35 * 1.35).sqrt();
        let dm = 6.5 - 6.75;
        let expect =
            -0.5035 + 0.28805 * dm - 0.10164 * dm * dm + (-0.6605 + 0.1197 * 2.0) * r.ln() - 0.01151 * (r - 1.0);
        assert!((o.ln_mean - expect).abs() < 1e-12, "{} vs {expect}", o.ln_mean);
        assert_eq!((o.sigma, o.tau, o.phi), (0.564, 0.26, 0.502));
    }
}
