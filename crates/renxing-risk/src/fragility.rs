//! Fragility models: the probability that a building of one taxonomy reaches or exceeds each
//! limit state (damage state) given a ground-motion intensity.
//!
//! # Formulas (as the OpenQuake engine 3.26 applies them)
//! For limit states `LS₁ … LS_k` (ordered from least to most severe) a function gives the
//! probabilities of exceedance `P(≥LSᵢ | x)` at intensity `x`.
//!
//! **Discrete** functions tabulate `poes` at increasing intensity levels `imls`:
//! - a missing or zero `noDamageLimit` is read as 10⁻¹⁰ (OpenQuake's cutoff); when the limit
//!   is at or below the first level, the point (`noDamageLimit`, 0) is put in front of the
//!   table — so a table starting at 0.1 g rises linearly from (≈0, 0) to its first point;
//! - `x` above the last level is taken as the last level; below the first level the first
//!   probability holds (no extrapolation); between levels the probability is interpolated
//!   linearly in `x`;
//! - `x < noDamageLimit` gives 0 (so does `x = 0`, no ground motion).
//!
//! **Continuous** functions are lognormal CDFs given by the mean `m` and standard deviation `s`
//! of the intensity (not of its logarithm): `σ = √ln(1 + s²/m²)`, `μ = m²/√(m² + s²)`,
//! `P = Φ((ln x − ln μ)/σ)`. `x` is first clamped to `[minIML, maxIML]` (both required; a
//! `minIML` of 0 is read as 10⁻¹⁰); clamped `x ≤ noDamageLimit` gives 0.
//!
//! **Damage-state fractions** follow by differences: with `P₀ = 1` and `P_{k+1} = 0`, the fraction
//! in state `i` (0 = no damage) is `Pᵢ − Pᵢ₊₁`; fractions below 10⁻⁷ (including the negative ones
//! that crossing curves would give) are set to 0, as OpenQuake does.
//!
//! # File format (NRML 0.5 `fragilityModel`)
//! ```xml
//! <fragilityModel id="…" assetCategory="buildings" lossCategory="structural">
//!   <limitStates>slight moderate extensive complete</limitStates>
//!   <fragilityFunction id="TAXONOMY" format="discrete">
//!     <imls imt="PGA" noDamageLimit="0.05">0.1 0.2 0.3</imls>
//!     <poes ls="slight">0.1 0.5 0.9</poes> …            (one per limit state)
//!   </fragilityFunction>
//!   <fragilityFunction id="TAXONOMY" format="continuous" shape="logncdf">
//!     <imls imt="PGA" noDamageLimit="0.05" minIML="0.01" maxIML="3.0"/>
//!     <params ls="slight" mean="0.3" stddev="0.2"/> …
//!   </fragilityFunction>
//! </fragilityModel>
//! ```
//! Checked on reading (errors name the line): every limit state has exactly one `poes`/`params`
//! entry, levels strictly increase, probabilities lie in [0, 1], `poes` has as many values as
//! `imls`, means and standard deviations are positive. The NRML 0.4 layout (`<ffs>` blocks) is
//! refused with a pointer to `oq upgrade_nrml`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use renxing_io::error::IoError;

use crate::nrml::{Element, read_xml};

type Result<T> = std::result::Result<T, IoError>;

/// The no-damage limit used when a file gives none or 0 (and the lower clamp of continuous
/// functions whose `minIML` is 0), as OpenQuake does to avoid `ln 0`.
pub const TINY_IML: f64 = 1e-10;

/// One fragility function set (all limit states) for one taxonomy.
#[derive(Debug, Clone, PartialEq)]
pub struct FragilityFunction {
    /// The taxonomy (risk id) it applies to.
    pub id: String,
    /// Intensity measure type, e.g. `PGA`, `SA(0.3)`.
    pub imt: String,
    pub shape: FragilityShape,
}

/// The two kinds of fragility functions.
#[derive(Debug, Clone, PartialEq)]
pub enum FragilityShape {
    Discrete {
        /// Levels, with the no-damage point already in front when it applies.
        imls: Vec<f64>,
        /// Probabilities of exceedance, one row per limit state, aligned with `imls`.
        poes: Vec<Vec<f64>>,
        no_damage_limit: f64,
    },
    Continuous {
        /// `(mean, stddev)` of the intensity per limit state.
        params: Vec<(f64, f64)>,
        min_iml: f64,
        max_iml: f64,
        no_damage_limit: f64,
    },
}

impl FragilityFunction {
    /// Number of limit states.
    pub fn limit_states(&self) -> usize {
        match &self.shape {
            FragilityShape::Discrete { poes, .. } => poes.len(),
            FragilityShape::Continuous { params, .. } => params.len(),
        }
    }

    /// Probability of exceeding limit state `ls` at intensity `x`.
    pub fn poe(&self, ls: usize, x: f64) -> f64 {
        if x <= 0.0 || x.is_nan() {
            return 0.0;
        }
        match &self.shape {
            FragilityShape::Discrete {
                imls,
                poes,
                no_damage_limit,
            } => {
                if x < *no_damage_limit {
                    return 0.0;
                }
                interp_clamped(x, imls, &poes[ls])
            }
            FragilityShape::Continuous {
                params,
                min_iml,
                max_iml,
                no_damage_limit,
            } => {
                let x = x.min(*max_iml).max(*min_iml);
                if x <= *no_damage_limit {
                    return 0.0;
                }
                let (m, s) = params[ls];
                lognormal_cdf(x, m, s)
            }
        }
    }

    /// Damage-state fractions at intensity `x` into `out` (length = limit states + 1, state 0 =
    /// no damage).
    pub fn damage_fractions(&self, x: f64, out: &mut [f64]) {
        let k = self.limit_states();
        debug_assert_eq!(out.len(), k + 1);
        let mut prev = 1.0;
        for (ls, slot) in out.iter_mut().take(k).enumerate() {
            let p = self.poe(ls, x);
            *slot = prev - p;
            prev = p;
        }
        out[k] = prev;
        for v in out.iter_mut() {
            if *v < 1e-7 {
                *v = 0.0;
            }
        }
    }
}

/// Linear interpolation with the end values held outside the table (numpy `interp`).
pub(crate) fn interp_clamped(x: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len();
    if x <= xs[0] {
        return ys[0];
    }
    if x >= xs[n - 1] {
        return ys[n - 1];
    }
    // First index with xs[i] > x.
    let i = xs.partition_point(|&v| v <= x);
    let (x0, x1, y0, y1) = (xs[i - 1], xs[i], ys[i - 1], ys[i]);
    if x1 == x0 {
        return y1;
    }
    y0 + (x - x0) * (y1 - y0) / (x1 - x0)
}

/// CDF of the lognormal distribution with the given mean and standard deviation of the variable.
pub fn lognormal_cdf(x: f64, mean: f64, stddev: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let var = stddev * stddev;
    let sigma = (var / (mean * mean) + 1.0).ln().sqrt();
    let mu = mean * mean / (var + mean * mean).sqrt();
    if sigma == 0.0 {
        return if x >= mu { 1.0 } else { 0.0 };
    }
    let z = (x.ln() - mu.ln()) / sigma;
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// A fragility model for one loss type: limit states and one function set per taxonomy.
#[derive(Debug, Clone)]
pub struct FragilityModel {
    pub path: PathBuf,
    pub limit_states: Vec<String>,
    /// Loss category named by the file (`lossCategory`), e.g. `structural`.
    pub loss_category: Option<String>,
    pub functions: HashMap<String, FragilityFunction>,
}

impl FragilityModel {
    /// Reads an NRML fragility model.
    pub fn read(path: &Path) -> Result<Self> {
        let root = read_xml(path)?;
        Self::from_element(&root, path)
    }

    /// Builds the model from a parsed NRML tree.
    pub fn from_element(root: &Element, path: &Path) -> Result<Self> {
        let model = root
            .find("fragilityModel")
            .ok_or_else(|| IoError::new(path, "no <fragilityModel> element: not an NRML fragility model"))?;
        if model.child("ffs").is_some() || model.attr("format").is_some() {
            return Err(IoError::at(
                path,
                model.position(),
                "NRML 0.4 fragility layout (<ffs>) is not read; convert it with `oq upgrade_nrml`",
            ));
        }
        let ls_el = model
            .child("limitStates")
            .ok_or_else(|| IoError::at(path, model.position(), "<limitStates> is missing"))?;
        let limit_states: Vec<String> = ls_el.text.split_whitespace().map(str::to_string).collect();
        if limit_states.is_empty() {
            return Err(IoError::at(path, ls_el.position(), "no limit states listed"));
        }
        let mut functions = HashMap::new();
        for ff in model.children_named("fragilityFunction") {
            let f = read_function(ff, &limit_states, path)?;
            if functions.contains_key(&f.id) {
                return Err(IoError::at(
                    path,
                    ff.position(),
                    format!("taxonomy '{}' has a second fragility function", f.id),
                ));
            }
            functions.insert(f.id.clone(), f);
        }
        if functions.is_empty() {
            return Err(IoError::at(
                path,
                model.position(),
                "no <fragilityFunction> in the model",
            ));
        }
        Ok(FragilityModel {
            path: path.to_path_buf(),
            limit_states,
            loss_category: model.attr("lossCategory").map(str::to_string),
            functions,
        })
    }
}

fn attr_f64(el: &Element, name: &str, path: &Path) -> Result<f64> {
    match el.attr(name) {
        None => Ok(0.0),
        Some(v) => v
            .trim()
            .parse::<f64>()
            .map_err(|_| IoError::at(path, el.position(), format!("{name}={v:?} is not a number"))),
    }
}

fn read_function(ff: &Element, limit_states: &[String], path: &Path) -> Result<FragilityFunction> {
    let id = ff
        .attr("id")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| IoError::at(path, ff.position(), "fragility function without a taxonomy id"))?
        .to_string();
    let format = ff.attr("format").unwrap_or("discrete");
    let imls_el = ff
        .child("imls")
        .ok_or_else(|| IoError::at(path, ff.position(), format!("{id}: <imls> is missing")))?;
    let imt = imls_el.req_attr(path, "imt")?.to_string();
    let mut no_damage_limit = attr_f64(imls_el, "noDamageLimit", path)?;
    if no_damage_limit < 0.0 || no_damage_limit.is_nan() {
        return Err(IoError::at(
            path,
            imls_el.position(),
            format!("{id}: noDamageLimit must be ≥ 0"),
        ));
    }
    if no_damage_limit == 0.0 {
        no_damage_limit = TINY_IML;
    }
    let shape = match format {
        "discrete" => {
            let imls = imls_el.numbers(path)?;
            if imls.is_empty() {
                return Err(IoError::at(
                    path,
                    imls_el.position(),
                    format!("{id}: no intensity levels"),
                ));
            }
            for w in imls.windows(2) {
                if !(w[1] > w[0]) {
                    return Err(IoError::at(
                        path,
                        imls_el.position(),
                        format!("{id}: intensity levels must strictly increase ({} then {})", w[0], w[1]),
                    ));
                }
            }
            if imls.iter().any(|v| *v < 0.0 || !v.is_finite()) {
                return Err(IoError::at(
                    path,
                    imls_el.position(),
                    format!("{id}: negative or non-finite level"),
                ));
            }
            let mut poes = Vec::with_capacity(limit_states.len());
            for ls in limit_states {
                let mut found = ff.children_named("poes").filter(|p| p.attr("ls") == Some(ls.as_str()));
                let el = found
                    .next()
                    .ok_or_else(|| IoError::at(path, ff.position(), format!("{id}: no <poes ls=\"{ls}\">")))?;
                if found.next().is_some() {
                    return Err(IoError::at(
                        path,
                        el.position(),
                        format!("{id}: limit state '{ls}' given twice"),
                    ));
                }
                let p = el.numbers(path)?;
                if p.len() != imls.len() {
                    return Err(IoError::at(
                        path,
                        el.position(),
                        format!("{id}/{ls}: {} probabilities for {} levels", p.len(), imls.len()),
                    ));
                }
                if let Some(bad) = p.iter().find(|v| !(0.0..=1.0).contains(*v)) {
                    return Err(IoError::at(
                        path,
                        el.position(),
                        format!("{id}/{ls}: probability {bad} is outside [0, 1]"),
                    ));
                }
                poes.push(p);
            }
            if let Some(el) = ff
                .children_named("poes")
                .find(|p| !limit_states.iter().any(|l| Some(l.as_str()) == p.attr("ls")))
            {
                return Err(IoError::at(
                    path,
                    el.position(),
                    format!(
                        "{id}: limit state {:?} is not in <limitStates>",
                        el.attr("ls").unwrap_or("")
                    ),
                ));
            }
            let mut imls = imls;
            if no_damage_limit <= imls[0] {
                imls.insert(0, no_damage_limit);
                for p in &mut poes {
                    p.insert(0, 0.0);
                }
            }
            FragilityShape::Discrete {
                imls,
                poes,
                no_damage_limit,
            }
        }
        "continuous" => {
            let shape = ff.attr("shape").unwrap_or("logncdf");
            if shape != "logncdf" {
                return Err(IoError::at(
                    path,
                    ff.position(),
                    format!("{id}: shape '{shape}' is not supported (logncdf)"),
                ));
            }
            let mut min_iml = attr_f64(imls_el, "minIML", path)?;
            let max_iml = attr_f64(imls_el, "maxIML", path)?;
            if imls_el.attr("minIML").is_none() || imls_el.attr("maxIML").is_none() {
                return Err(IoError::at(
                    path,
                    imls_el.position(),
                    format!("{id}: continuous functions need minIML and maxIML"),
                ));
            }
            if min_iml == 0.0 {
                min_iml = TINY_IML;
            }
            if !(min_iml < max_iml) {
                return Err(IoError::at(path, imls_el.position(), format!("{id}: minIML > maxIML")));
            }
            let mut params = Vec::with_capacity(limit_states.len());
            for ls in limit_states {
                let el = ff
                    .children_named("params")
                    .find(|p| p.attr("ls") == Some(ls.as_str()))
                    .ok_or_else(|| IoError::at(path, ff.position(), format!("{id}: no <params ls=\"{ls}\">")))?;
                let m = attr_f64(el, "mean", path)?;
                let s = attr_f64(el, "stddev", path)?;
                if !(m > 0.0) || !(s >= 0.0) || !m.is_finite() || !s.is_finite() {
                    return Err(IoError::at(
                        path,
                        el.position(),
                        format!("{id}/{ls}: mean must be > 0 and stddev ≥ 0 (mean={m}, stddev={s})"),
                    ));
                }
                params.push((m, s));
            }
            FragilityShape::Continuous {
                params,
                min_iml,
                max_iml,
                no_damage_limit,
            }
        }
        other => {
            return Err(IoError::at(
                path,
                ff.position(),
                format!("{id}: unknown format '{other}'"),
            ));
        }
    };
    Ok(FragilityFunction { id, imt, shape })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nrml::parse_xml;

    const XML: &str = r#"<nrml><fragilityModel id="f" lossCategory="structural">
<limitStates>LS1 LS2</limitStates>
<fragilityFunction format="discrete" id="RC"><imls imt="PGA" noDamageLimit="0.05">0.1 0.2 0.3 0.5</imls>
<poes ls="LS1">0.0073 0.35 0.74 0.99</poes><poes ls="LS2">0.001 0.02 0.25 0.72</poes></fragilityFunction>
<fragilityFunction format="continuous" id="W" shape="logncdf"><imls imt="PGA" minIML="0.1" maxIML="2.0" noDamageLimit="0.12"/>
<params ls="LS1" mean="0.3" stddev="0.2"/><params ls="LS2" mean="0.8" stddev="0.4"/></fragilityFunction>
</fragilityModel></nrml>"#;

    #[test]
    fn discrete_and_continuous() {
        let p = Path::new("f.xml");
        let m = FragilityModel::from_element(&parse_xml(XML, p).unwrap(), p).unwrap();
        let rc = &m.functions["RC"];
        // no-damage point added in front: (0.05, 0)
        assert_eq!(rc.poe(0, 0.04), 0.0);
        assert!((rc.poe(0, 0.075) - 0.0073 / 2.0).abs() < 1e-15);
        assert!((rc.poe(0, 0.15) - (0.0073 + 0.35) / 2.0).abs() < 1e-15);
        assert_eq!(rc.poe(1, 9.0), 0.72);
        let mut f = [0.0; 3];
        rc.damage_fractions(0.25, &mut f);
        let p1 = (0.35 + 0.74) / 2.0;
        let p2 = (0.02 + 0.25) / 2.0;
        assert!((f[0] - (1.0 - p1)).abs() < 1e-15 && (f[1] - (p1 - p2)).abs() < 1e-15 && (f[2] - p2).abs() < 1e-15);
        let w = &m.functions["W"];
        // below noDamageLimit after clamping to minIML: 0
        assert_eq!(w.poe(0, 0.11), 0.0);
        // scipy.stats.lognorm.cdf(0.3, s=sqrt(log(1+0.2**2/0.3**2)), scale=0.3**2/sqrt(0.2**2+0.3**2))
        assert!((w.poe(0, 0.3) - 0.619131875566845).abs() < 1e-12, "{}", w.poe(0, 0.3));
        assert_eq!(w.poe(0, 5.0), w.poe(0, 2.0));
    }

    #[test]
    fn bad_models_name_the_line() {
        let p = Path::new("bad.xml");
        let bad = XML.replace("0.1 0.2 0.3 0.5", "0.1 0.3 0.2 0.5");
        let e = FragilityModel::from_element(&parse_xml(&bad, p).unwrap(), p).unwrap_err();
        assert!(
            e.message.contains("strictly increase") && e.position.as_deref().unwrap().starts_with("line 3"),
            "{e}"
        );
        let bad = XML.replace("0.0073 0.35", "1.2 0.35");
        let e = FragilityModel::from_element(&parse_xml(&bad, p).unwrap(), p).unwrap_err();
        assert!(e.message.contains("outside [0, 1]"), "{e}");
        let bad = XML.replace(" id=\"RC\"", "");
        let e = FragilityModel::from_element(&parse_xml(&bad, p).unwrap(), p).unwrap_err();
        assert!(e.message.contains("taxonomy"), "{e}");
    }
}
