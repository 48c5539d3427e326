//! Chiou & Youngs (2014) ground-motion model for shallow crustal earthquakes (NGA-West2),
//! California / global version.
//!
//! Chiou, B. S.-J. & Youngs, R. R. (2014). *Update of the Chiou and Youngs NGA model for the average
//! horizontal component of peak ground motion and response spectra.* Earthquake Spectra 30(3),
//! 1117–1153. doi:10.1193/072813EQS219M
//!
//! **Reference rock (eq. 11)**, Vs30 = 1130 m/s. With `cosh₂ = cosh(2·max(M − 4.5, 0))`:
//!
//! ```text
//! ln y_ref = c1 + (c1a + c1c/cosh₂)·F_RV + (c1b + c1d/cosh₂)·F_NM
//!          + (c7 + c7b/cosh₂)·ΔZtor + (c11 + c11b/cosh₂)·cos²δ
//!          + c2 (M − 6) + (c2 − c3)/cn · ln(1 + e^{cn (cM − M)})
//!          + c4 ln(Rrup + c5 cosh(c6 max(M − cHM, 0)))
//!          + (c4a − c4) ln √(Rrup² + cRB²)
//!          + (cγ1 + cγ2 / cosh(max(M − cγ3, 0))) · Rrup
//!          + c9 F_HW cos δ (c9a + (1 − c9a) tanh(Rx / c9b)) (1 − √(Rjb² + Ztor²) / (Rrup + 1))
//! ```
//!
//! `F_RV` = 1 for 30° ≤ rake ≤ 150°, `F_NM` = 1 for −120° ≤ rake ≤ −60°, `F_HW` = 1 on the hanging
//! wall (Rx ≥ 0). `ΔZtor` is Ztor minus its magnitude-dependent mean (eqs. 4–5): for reverse
//! faulting `max(2.704 − 1.226 max(M − 5.849, 0), 0)²`, otherwise
//! `max(2.673 − 1.136 max(M − 4.970, 0), 0)²`. The directivity term (`ΔDPP`) is taken as 0, its
//! centred average, as OpenQuake does by default.
//!
//! **Site (eq. 12)**, with `v = min(Vs30, 1130)`:
//!
//! ```text
//! ln y = ln y_ref + φ1 min(ln(Vs30/1130), 0)
//!      + φ2 (e^{φ3 (v − 360)} − e^{φ3 (1130 − 360)}) ln((y_ref + φ4) / φ4)
//!      + φ5 (1 − exp(−ΔZ1.0 / φ6))
//! ```
//!
//! `ΔZ1.0` is Z1.0 minus its Vs30-dependent mean for California (eq. 1),
//! `ln E[Z1.0] = −7.15/4 · ln((Vs30⁴ + 570.94⁴) / (1360⁴ + 570.94⁴))` (m). When Z1.0 is unknown
//! (`None`), ΔZ1.0 = 0 (the model's own mean); a Z1.0 ≤ 0 also gives no basin term.
//!
//! For SA with T ≤ 0.3 s, a predicted median below the median PGA is raised to the PGA (p. 1144).
//!
//! **Variance (eq. 13)**, with `m = min(max(M, 5), 6.5)` and
//! `NL0 = φ2 (e^{φ3 (v − 360)} − e^{φ3 (1130 − 360)}) · y_ref / (y_ref + φ4)`:
//!
//! ```text
//! τ = τ1 + (τ2 − τ1)(m − 5)/1.5
//! φ_NL0 = (σ1 + (σ2 − σ1)(m − 5)/1.5) · √(σ3 F_inferred + 0.7 F_measured + (1 + NL0)²)
//! σ = √((1 + NL0)² τ² + φ_NL0²)
//! ```
//!
//! reported as between-event `|1 + NL0|·τ` and within-event `φ_NL0`, as OpenQuake does.
//! Coefficients: `tables/cy14.csv`. Supported: PGA, PGV and SA at the 24 periods 0.01–10 s of
//! the paper; other periods are refused. Regional variants (Japan, Italy, Wenchuan) are not
//! implemented.

use std::sync::OnceLock;

use super::{CoeffTable, DistanceContext, Gmpe, GmpeError, GmpeOutput, Imt, RuptureContext, SiteContext, check_inputs};

const TABLE_TEXT: &str = include_str!("tables/cy14.csv");

/// Period-independent constants of CY14 (Table 1).
const C2: f64 = 1.06;
const C4: f64 = -2.1;
const C4A: f64 = -0.5;
const CRB: f64 = 50.0;
const C11: f64 = 0.0;
const PHI6: f64 = 300.0;
/// Reference velocity of y_ref, m/s.
const VREF: f64 = 1130.0;

fn table() -> &'static CoeffTable {
    static T: OnceLock<CoeffTable> = OnceLock::new();
    T.get_or_init(|| CoeffTable::parse("ChiouYoungs2014", TABLE_TEXT))
}

struct C {
    c1: f64,
    c1a: f64,
    c1b: f64,
    c1c: f64,
    c1d: f64,
    cn: f64,
    cm: f64,
    c3: f64,
    c5: f64,
    chm: f64,
    c6: f64,
    c7: f64,
    c7b: f64,
    c9: f64,
    c9a: f64,
    c9b: f64,
    c11b: f64,
    cg1: f64,
    cg2: f64,
    cg3: f64,
    phi1: f64,
    phi2: f64,
    phi3: f64,
    phi4: f64,
    phi5: f64,
    tau1: f64,
    tau2: f64,
    sig1: f64,
    sig2: f64,
    sig3: f64,
}

fn coeffs(imt: Imt) -> Result<C, GmpeError> {
    let t = table();
    let r = t.row(imt)?;
    let g = |n: &str| r[t.col(n)];
    Ok(C {
        c1: g("c1"),
        c1a: g("c1a"),
        c1b: g("c1b"),
        c1c: g("c1c"),
        c1d: g("c1d"),
        cn: g("cn"),
        cm: g("cm"),
        c3: g("c3"),
        c5: g("c5"),
        chm: g("chm"),
        c6: g("c6"),
        c7: g("c7"),
        c7b: g("c7b"),
        c9: g("c9"),
        c9a: g("c9a"),
        c9b: g("c9b"),
        c11b: g("c11b"),
        cg1: g("cg1"),
        cg2: g("cg2"),
        cg3: g("cg3"),
        phi1: g("phi1"),
        phi2: g("phi2"),
        phi3: g("phi3"),
        phi4: g("phi4"),
        phi5: g("phi5"),
        tau1: g("tau1"),
        tau2: g("tau2"),
        sig1: g("sig1"),
        sig2: g("sig2"),
        sig3: g("sig3"),
    })
}

/// Chiou & Youngs (2014), California/global; OpenQuake class `ChiouYoungs2014` with its defaults
/// (hanging-wall term on, no directivity, no basin or backbone adjustments).
/// Reads M, rake, dip, Ztor, Rrup, Rjb, Rx, Vs30, the Vs30-measured flag and Z1.0.
#[derive(Debug, Clone, Default)]
pub struct ChiouYoungs2014;

impl ChiouYoungs2014 {
    /// The model (its coefficient table is parsed once, on first use).
    pub fn new() -> Self {
        ChiouYoungs2014
    }
}

/// Mean Z1.0 (m) for California and non-Japan regions given Vs30 (CY14 eq. 1).
pub fn mean_z1pt0_california(vs30: f64) -> f64 {
    let a = 570.94f64.powi(4);
    ((-7.15 / 4.0) * ((vs30.powi(4) + a) / (1360.0f64.powi(4) + a)).ln()).exp()
}

/// Mean Ztor (km) by mechanism (CY14 eqs. 4, 5).
fn mean_ztor(mag: f64, rake: f64) -> f64 {
    let v = if (30.0..=150.0).contains(&rake) {
        2.704 - 1.226 * (mag - 5.849).max(0.0)
    } else {
        2.673 - 1.136 * (mag - 4.970).max(0.0)
    };
    v.max(0.0).powi(2)
}

/// ln y_ref (eq. 11) for Vs30 = 1130 m/s.
fn ln_y_ref(c: &C, rup: &RuptureContext, dist: &DistanceContext) -> f64 {
    let m = rup.mag;
    let cosh2 = (2.0 * (m - 4.5).max(0.0)).cosh();
    let frv = f64::from(u8::from((30.0..=150.0).contains(&rup.rake)));
    let fnm = f64::from(u8::from((-120.0..=-60.0).contains(&rup.rake)));
    let d_ztor = rup.ztor - mean_ztor(m, rup.rake);
    let cos_dip = rup.dip.to_radians().cos();
    let source = (c.c1a + c.c1c / cosh2) * frv
        + (c.c1b + c.c1d / cosh2) * fnm
        + (c.c7 + c.c7b / cosh2) * d_ztor
        + (C11 + c.c11b / cosh2) * cos_dip * cos_dip;
    let magnitude = C2 * (m - 6.0) + ((C2 - c.c3) / c.cn) * (1.0 + (c.cn * (c.cm - m)).exp()).ln();
    let r = dist.rrup;
    let near = C4 * (r + c.c5 * (c.c6 * (m - c.chm).max(0.0)).cosh()).ln();
    let far = (C4A - C4) * (r * r + CRB * CRB).sqrt().ln();
    let anelastic = (c.cg1 + c.cg2 / (m - c.cg3).max(0.0).cosh()) * r;
    let hanging_wall = if dist.rx >= 0.0 {
        c.c9 * cos_dip
            * (c.c9a + (1.0 - c.c9a) * (dist.rx / c.c9b).tanh())
            * (1.0 - (dist.rjb * dist.rjb + rup.ztor * rup.ztor).sqrt() / (r + 1.0))
    } else {
        0.0
    };
    c.c1 + source + magnitude + near + far + anelastic + hanging_wall
}

/// Median and standard deviations for one IMT (without the PGA floor of short periods).
fn mean_stds(c: &C, rup: &RuptureContext, site: &SiteContext, dist: &DistanceContext) -> GmpeOutput {
    let lnyr = ln_y_ref(c, rup, dist);
    let yr = lnyr.exp();
    let v = site.vs30.min(VREF);
    let f_lin = c.phi1 * (site.vs30 / VREF).ln().min(0.0);
    let nl_scale = c.phi2 * ((c.phi3 * (v - 360.0)).exp() - (c.phi3 * (VREF - 360.0)).exp());
    let f_nl = nl_scale * ((yr + c.phi4) / c.phi4).ln();
    let dz1 = match site.z1pt0 {
        Some(z) if z > 0.0 => z - mean_z1pt0_california(site.vs30),
        _ => 0.0,
    };
    let f_z1 = c.phi5 * (1.0 - (-dz1 / PHI6).exp());
    let ln_mean = lnyr + f_lin + f_nl + f_z1;

    let nl0 = nl_scale * (yr / (yr + c.phi4));
    let mc = (rup.mag - 5.0).clamp(0.0, 1.5);
    let tau = c.tau1 + (c.tau2 - c.tau1) / 1.5 * mc;
    let s3 = if site.vs30_measured { 0.7 } else { c.sig3 };
    let phi = (c.sig1 + (c.sig2 - c.sig1) * mc / 1.5) * (s3 + (1.0 + nl0).powi(2)).sqrt();
    let sigma = ((1.0 + nl0).powi(2) * tau * tau + phi * phi).sqrt();
    GmpeOutput {
        ln_mean,
        sigma,
        tau: ((1.0 + nl0) * tau).abs(),
        phi,
    }
}

impl Gmpe for ChiouYoungs2014 {
    fn name(&self) -> &str {
        "ChiouYoungs2014"
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
        let mut out = mean_stds(&c, rup, site, dist);
        if let Imt::Sa(t) = imt
            && t <= 0.3
        {
            let pga = mean_stds(&coeffs(Imt::Pga)?, rup, site, dist);
            out.ln_mean = out.ln_mean.max(pga.ln_mean);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_papers_periods() {
        let imts = ChiouYoungs2014.imts();
        assert_eq!(imts.len(), 26, "PGA, PGV and 24 periods");
        assert!(imts.contains(&Imt::Sa(0.12)) && imts.contains(&Imt::Sa(7.5)));
    }

    #[test]
    fn mean_z1_at_760_is_about_41_m() {
        // CY14 eq. 1 at 760 m/s gives ≈ 41 m; at 1360 m/s the ratio is 1 only for the 570.94 term.
        let z = mean_z1pt0_california(760.0);
        assert!((z - 40.7).abs() < 1.0, "{z}");
        assert!(mean_z1pt0_california(200.0) > 400.0);
    }

    #[test]
    fn unknown_z1_means_no_basin_term() {
        let rup = RuptureContext {
            mag: 6.5,
            rake: 0.0,
            dip: 90.0,
            ztor: 2.0,
            hypo_depth: 8.0,
            width: 12.0,
        };
        let d = DistanceContext {
            rrup: 20.0,
            rjb: 19.0,
            rx: -19.0,
            ..Default::default()
        };
        let mut s = SiteContext {
            lon: 0.0,
            lat: 0.0,
            vs30: 400.0,
            vs30_measured: false,
            z1pt0: None,
            z2pt5: None,
        };
        let a = ChiouYoungs2014.compute(&rup, &s, &d, Imt::Sa(1.0)).unwrap();
        s.z1pt0 = Some(mean_z1pt0_california(400.0));
        let b = ChiouYoungs2014.compute(&rup, &s, &d, Imt::Sa(1.0)).unwrap();
        assert!((a.ln_mean - b.ln_mean).abs() < 1e-12);
        s.z1pt0 = Some(1000.0);
        let deep = ChiouYoungs2014.compute(&rup, &s, &d, Imt::Sa(1.0)).unwrap();
        // φ5(1 s) = 0.067 and ΔZ1.0 = 1000 − 355 m: + 0.067·(1 − e^(−645/300)) = 0.059.
        assert!(
            (deep.ln_mean - a.ln_mean - 0.067 * (1.0 - (-(1000.0 - mean_z1pt0_california(400.0)) / 300.0f64).exp()))
                .abs()
                < 1e-12
        );
    }
}
