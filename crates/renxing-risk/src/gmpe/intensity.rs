//! Instrumental seismic intensity from PGA and PGV per GB/T 17742-2020 《中国地震烈度表》,
//! Annex A (normative), "仪器测定的地震烈度".
//!
//! With PGA in m/s² and PGV in m/s (the standard's units; the synthesised three-component peaks
//! in the standard, here the GMPE's horizontal component):
//!
//! ```text
//! I_PGA = a · lg(PGA) + b        (A.5: a = 3.17, b = 6.59)
//! I_PGV = c · lg(PGV) + d        (A.6: c = 3.00, d = 9.77)
//! I_I   = I_PGV                  when I_PGA ≥ 6.0 and I_PGV ≥ 6.0
//!       = (I_PGA + I_PGV) / 2    otherwise
//! ```
//!
//! then limited to [1.0, 12.0] and reported to one decimal. The integer intensity (度, written
//! I–XII) is `I_I` rounded half up, so degree VI covers [5.5, 6.5).
//!
//! The numbers are parameters ([`IntensityCoefficients`]); the standard profile
//! `standards/cn.toml` (`[intensity.*]`) carries them with their source and confidence.
//! Two secondary implementations of Annex A seen while checking agree on a, b, c, d, on the clamp
//! and on the rounding; they differ on whether *both* or *either* of I_PGA, I_PGV must reach 6.0
//! for I_PGV alone to be used, so [`CombineRule`] offers both (default: both).

/// When I_PGV alone gives the intensity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CombineRule {
    /// I_PGV when I_PGA ≥ threshold **and** I_PGV ≥ threshold, else the mean.
    Both,
    /// I_PGV when I_PGA ≥ threshold **or** I_PGV ≥ threshold, else the mean.
    Either,
}

/// Coefficients of GB/T 17742-2020 Annex A.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntensityCoefficients {
    /// a of I_PGA = a lg(PGA[m/s²]) + b.
    pub pga_slope: f64,
    /// b of I_PGA.
    pub pga_intercept: f64,
    /// c of I_PGV = c lg(PGV[m/s]) + d.
    pub pgv_slope: f64,
    /// d of I_PGV.
    pub pgv_intercept: f64,
    /// Threshold (6.0) of the combination rule.
    pub combine_threshold: f64,
    /// Combination rule.
    pub rule: CombineRule,
    /// Lower limit of the intensity (1.0).
    pub min: f64,
    /// Upper limit of the intensity (12.0).
    pub max: f64,
}

impl Default for IntensityCoefficients {
    /// The values of GB/T 17742-2020 Annex A.
    fn default() -> Self {
        IntensityCoefficients {
            pga_slope: 3.17,
            pga_intercept: 6.59,
            pgv_slope: 3.00,
            pgv_intercept: 9.77,
            combine_threshold: 6.0,
            rule: CombineRule::Both,
            min: 1.0,
            max: 12.0,
        }
    }
}

impl IntensityCoefficients {
    /// Read the coefficients from a standard profile through `get(key)` (keys
    /// `intensity.pga_slope`, `intensity.pga_intercept`, `intensity.pgv_slope`,
    /// `intensity.pgv_intercept`, `intensity.combine_threshold`, `intensity.combine_requires_both`
    /// (1 = [`CombineRule::Both`], 0 = [`CombineRule::Either`]), `intensity.min`, `intensity.max`).
    pub fn from_profile<E>(get: impl Fn(&str) -> Result<f64, E>) -> Result<Self, E> {
        Ok(IntensityCoefficients {
            pga_slope: get("intensity.pga_slope")?,
            pga_intercept: get("intensity.pga_intercept")?,
            pgv_slope: get("intensity.pgv_slope")?,
            pgv_intercept: get("intensity.pgv_intercept")?,
            combine_threshold: get("intensity.combine_threshold")?,
            rule: if get("intensity.combine_requires_both")? >= 0.5 {
                CombineRule::Both
            } else {
                CombineRule::Either
            },
            min: get("intensity.min")?,
            max: get("intensity.max")?,
        })
    }
}

/// Instrumental intensity and its two parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstrumentalIntensity {
    /// I_PGA (not limited).
    pub i_pga: f64,
    /// I_PGV (not limited).
    pub i_pgv: f64,
    /// I_I limited to [min, max], not rounded.
    pub value: f64,
    /// I_I rounded to one decimal, as reported.
    pub reported: f64,
    /// Integer intensity 1–12.
    pub degree: u8,
}

/// Standard gravity, m/s², to convert PGA from g.
pub const G: f64 = 9.80665;

/// Intensity from PGA in m/s² and PGV in m/s (the standard's units). Zero or negative motions
/// give the lower limit.
pub fn instrumental_intensity_si(pga_ms2: f64, pgv_ms: f64, c: &IntensityCoefficients) -> InstrumentalIntensity {
    let lg = |v: f64| if v > 0.0 { v.log10() } else { f64::NEG_INFINITY };
    let i_pga = c.pga_slope * lg(pga_ms2) + c.pga_intercept;
    let i_pgv = c.pgv_slope * lg(pgv_ms) + c.pgv_intercept;
    let pgv_only = match c.rule {
        CombineRule::Both => i_pga >= c.combine_threshold && i_pgv >= c.combine_threshold,
        CombineRule::Either => i_pga >= c.combine_threshold || i_pgv >= c.combine_threshold,
    };
    let raw = if pgv_only { i_pgv } else { (i_pga + i_pgv) / 2.0 };
    let value = if raw.is_nan() { c.min } else { raw.clamp(c.min, c.max) };
    let reported = (value * 10.0).round() / 10.0;
    InstrumentalIntensity {
        i_pga,
        i_pgv,
        value,
        reported,
        degree: intensity_degree(reported, c),
    }
}

/// Intensity from PGA in g and PGV in cm/s (the GMPE units).
pub fn instrumental_intensity(pga_g: f64, pgv_cms: f64, c: &IntensityCoefficients) -> InstrumentalIntensity {
    instrumental_intensity_si(pga_g * G, pgv_cms / 100.0, c)
}

/// Integer intensity of a (reported) instrumental intensity: rounded half up, limited to the range.
pub fn intensity_degree(i: f64, c: &IntensityCoefficients) -> u8 {
    let v = if i.is_nan() { c.min } else { i.clamp(c.min, c.max) };
    // Half up; the small epsilon keeps 5.5 reported from 5.4999999 arithmetic at VI.
    (v + 0.5 + 1e-9).floor().clamp(1.0, 12.0) as u8
}

/// Roman numeral of an intensity degree 1–12 (I … XII).
pub fn roman(degree: u8) -> &'static str {
    const R: [&str; 12] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"];
    R[(degree.clamp(1, 12) - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_a_values() {
        let c = IntensityCoefficients::default();
        // PGA 1 m/s² → I_PGA = 6.59; PGV 0.1 m/s → I_PGV = 6.77; both ≥ 6 → I = I_PGV.
        let i = instrumental_intensity_si(1.0, 0.1, &c);
        assert!((i.i_pga - 6.59).abs() < 1e-12 && (i.i_pgv - 6.77).abs() < 1e-12);
        assert_eq!((i.reported, i.degree), (6.8, 7));
        // PGA 0.1 m/s² → 3.42; PGV 0.01 m/s → 3.77: mean 3.595 → 3.6, IV.
        let i = instrumental_intensity_si(0.1, 0.01, &c);
        assert!((i.value - 3.595).abs() < 1e-12);
        assert_eq!((i.reported, i.degree), (3.6, 4));
        // Mixed: I_PGA 5.0, I_PGV 6.77 → both-rule averages, either-rule takes I_PGV.
        let pga = 10f64.powf((5.0 - 6.59) / 3.17);
        assert!((instrumental_intensity_si(pga, 0.1, &c).value - 5.885).abs() < 1e-9);
        let either = IntensityCoefficients {
            rule: CombineRule::Either,
            ..c
        };
        assert!((instrumental_intensity_si(pga, 0.1, &either).value - 6.77).abs() < 1e-9);
    }

    #[test]
    fn limits_and_units() {
        let c = IntensityCoefficients::default();
        assert_eq!(instrumental_intensity_si(0.0, 0.0, &c).value, 1.0);
        assert_eq!(instrumental_intensity_si(1e4, 1e3, &c).value, 12.0);
        let a = instrumental_intensity(0.2, 20.0, &c);
        let b = instrumental_intensity_si(0.2 * G, 0.2, &c);
        assert_eq!(a, b);
        assert_eq!(roman(intensity_degree(5.5, &c)), "VI");
        assert_eq!(roman(intensity_degree(5.4, &c)), "V");
        assert_eq!(roman(12), "XII");
    }
}
