//! Risk zoning: five grades per grid cell and per administrative unit.
//!
//! # Grades
//!
//! Grades run from 1 to 5: **1 高 high, 2 中高 mid-high, 3 中 mid, 4 中低 mid-low, 5 低 low** (the
//! five-level scale in common use for hazard and risk maps; 0 means *not graded*: no data, or no
//! hazard when zeros are left out). A classification yields four ascending **upper bounds**
//! `b₁ ≤ b₂ ≤ b₃ ≤ b₄`; a value `v` is in class `c` = the number of bounds strictly below `v`
//! (so `v ≤ b₁` → class 0, `b₁ < v ≤ b₂` → class 1, …, `v > b₄` → class 4), and its grade is
//! `5 − c`: the highest values get grade 1 (high).
//!
//! # Where the bounds come from ([`Scheme`])
//!
//! The thresholds of the national risk census (第一次全国自然灾害综合风险普查) for a five-grade scale
//! were **not verified** (shared/STANDARDS-CN.md §8, §10 item 10), so no scheme is built in as "the
//! standard". Every result states which scheme made its bounds ([`Breaks::describe`]):
//!
//! - [`Scheme::NaturalBreaks`] — Fisher's exact optimal partition (Fisher 1958, *On grouping for
//!   maximum homogeneity*, JASA 53:789–798; the "Jenks natural breaks" of Jenks 1967): the classes
//!   of sorted values that minimise the sum of squared deviations from the class means. Computed by
//!   dynamic programming over the distinct values (equal values never need to be split, so this is
//!   exact), with the divide-and-conquer speed-up that the monotone optimal split points of 1-D
//!   least-squares partitions allow (Grønlund et al. 2017, *Fast exact k-means, k-medians and
//!   Bregman divergence clustering in 1D*, arXiv:1701.07204): `O(k·m·log m)` for `m` distinct values.
//!   Above [`MAX_EXACT_DISTINCT`] distinct values the sorted values are first pre-binned into that
//!   many consecutive groups of (nearly) equal count, and the groups are partitioned exactly: each
//!   bound is then a group edge, off from the exact bound by at most one group (1/200 000 of the
//!   values); [`NaturalBreaks::exact`] says which happened. The goodness of variance fit
//!   `GVF = 1 − SDCM/SDAM` is reported.
//! - [`Scheme::Quantiles`] — equal counts: bound `i` (1–4) is the sorted value of rank
//!   `⌈n·i/5⌉` (nearest-rank), so ties may unbalance the classes.
//! - [`Scheme::Fixed`] — four thresholds given by the user or read from the standard profile (e.g.
//!   flood depth 0.5 / 1 / 2 / 3 m under [`PROFILE_KEYS_FLOOD_DEPTH`], marked unverified `U`).
//!
//! # Per cell and per unit
//!
//! [`zone_cells`] grades the hazard layer (e.g. depth), and when given the vulnerability (damage
//! fraction or an index), exposure and loss layers, each with its own scheme. Layers are row-major
//! cell values like `Grid::values`; NaN is no data. With `positive_only` (the default) the bounds
//! are computed from the values > 0 only and cells ≤ 0 are not graded, so that a map that is mostly
//! dry does not put every wet cell into the top grades.
//!
//! [`zone_units`] aggregates per administrative unit, given the unit of every cell
//! (`renxing_geo::zonal::assign_cells(...).zone_of_cell`, `u32::MAX` = none): area (m² when cell
//! areas are given, e.g. from [`cell_areas_m2`], else cells), sums of loss and exposure, maximum
//! hazard, the share of the unit's area in each hazard grade, and a grade for the unit, from the
//! units' loss, loss per area, or share of high and mid-high hazard, classified across units with
//! a scheme of its own.

use renxing_geo::distance::EARTH_RADIUS_M;
use renxing_geo::grid::Grid;
use renxing_geo::zonal::NO_ZONE;

use crate::flood::damage::is_geographic;

/// Grade names, index `grade − 1`: 高, 中高, 中, 中低, 低.
pub const GRADE_NAMES_ZH: [&str; 5] = ["高", "中高", "中", "中低", "低"];
/// Grade names in English, index `grade − 1`.
pub const GRADE_NAMES_EN: [&str; 5] = ["high", "mid-high", "mid", "mid-low", "low"];
/// Grade of a cell or unit that is not graded (no data, or no hazard with `positive_only`).
pub const NO_GRADE: u8 = 0;
/// Above this many distinct values, natural breaks pre-bin the sorted values (see the module doc).
pub const MAX_EXACT_DISTINCT: usize = 200_000;
/// Standard-profile keys of the fixed flood-depth bounds b₁…b₄ (m) for the hazard grade; their
/// values in `standards/cn.toml` are common practice, not verified against the census rules (U).
pub const PROFILE_KEYS_FLOOD_DEPTH: [&str; 4] = [
    "zoning.flood_depth_bound_1_m",
    "zoning.flood_depth_bound_2_m",
    "zoning.flood_depth_bound_3_m",
    "zoning.flood_depth_bound_4_m",
];

/// Chinese name of a grade (1–5), `未分级` for 0 and anything else.
pub fn grade_name_zh(grade: u8) -> &'static str {
    match grade {
        1..=5 => GRADE_NAMES_ZH[grade as usize - 1],
        _ => "未分级",
    }
}

/// English name of a grade (1–5), `not graded` otherwise.
pub fn grade_name_en(grade: u8) -> &'static str {
    match grade {
        1..=5 => GRADE_NAMES_EN[grade as usize - 1],
        _ => "not graded",
    }
}

/// How the four class bounds are obtained.
#[derive(Debug, Clone, PartialEq)]
pub enum Scheme {
    /// Fisher–Jenks natural breaks over the layer's values.
    NaturalBreaks,
    /// Equal-count classes (nearest-rank quantiles at 20 %, 40 %, 60 %, 80 %).
    Quantiles,
    /// Four ascending upper bounds; `source` says where they come from (e.g. a profile key).
    Fixed { bounds: [f64; 4], source: String },
}

/// Zoning inputs that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ZoningError {
    #[error("the {layer} layer has {got} cells, the hazard layer {expected}")]
    LengthMismatch {
        layer: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("fixed bounds {0:?} must be finite and ascending")]
    BadBounds([f64; 4]),
    #[error("the {0} layer has no value to classify (all cells no data{1})")]
    NoValues(&'static str, &'static str),
    #[error("cell {cell} names unit {unit}, but there are {units} units")]
    BadUnit { cell: usize, unit: u32, units: usize },
}

/// The bounds of one classification and how they were made.
#[derive(Debug, Clone, PartialEq)]
pub struct Breaks {
    pub scheme: Scheme,
    /// Ascending upper bounds of classes 0–3 (grades 5–2).
    pub bounds: [f64; 4],
    /// Values the bounds were computed from (for Fixed: the values classified).
    pub values: usize,
    /// Natural breaks only: details of the optimisation.
    pub natural: Option<NaturalBreaks>,
}

impl Breaks {
    /// One line for reports, e.g. `Fisher–Jenks natural breaks (exact, 18248 distinct of 18408
    /// values, GVF 0.965): 0.376, 1.05, 2.08, 3.24`.
    pub fn describe(&self) -> String {
        let b = self.bounds.map(|v| format!("{}", (v * 1e4).round() / 1e4)).join(", ");
        match &self.scheme {
            Scheme::NaturalBreaks => {
                let nb = self.natural.as_ref();
                format!(
                    "Fisher–Jenks natural breaks ({}, {} distinct of {} values, GVF {:.3}): {}",
                    if nb.is_some_and(|n| n.exact) {
                        "exact".to_string()
                    } else {
                        format!("pre-binned into {} groups", nb.map_or(0, |n| n.groups))
                    },
                    nb.map_or(0, |n| n.distinct),
                    self.values,
                    nb.map_or(f64::NAN, |n| n.gvf),
                    b
                )
            }
            Scheme::Quantiles => format!(
                "quantiles (equal counts, nearest rank) of {} values: {}",
                self.values, b
            ),
            Scheme::Fixed { source, .. } => format!("fixed bounds ({source}): {b}"),
        }
    }

    /// Grade (1–5) of a value; [`NO_GRADE`] for NaN.
    pub fn grade(&self, v: f64) -> u8 {
        grade_of(v, &self.bounds)
    }
}

/// Class (0 = lowest) of `v` for ascending upper bounds: the number of bounds strictly below `v`.
pub fn class_of(v: f64, bounds: &[f64]) -> usize {
    bounds.iter().filter(|&&b| b < v).count()
}

/// Grade (1 high … 5 low) of `v` for four ascending bounds; [`NO_GRADE`] for NaN.
pub fn grade_of(v: f64, bounds: &[f64; 4]) -> u8 {
    if v.is_nan() {
        NO_GRADE
    } else {
        5 - class_of(v, bounds) as u8
    }
}

/// Result of a natural-breaks optimisation.
#[derive(Debug, Clone, PartialEq)]
pub struct NaturalBreaks {
    /// `k − 1` ascending upper bounds (the largest value of each class but the last).
    pub breaks: Vec<f64>,
    /// Whether the partition is exact (no pre-binning).
    pub exact: bool,
    /// Distinct finite values.
    pub distinct: usize,
    /// Items partitioned: distinct values, or groups when pre-binned.
    pub groups: usize,
    /// Goodness of variance fit, 1 − within-class / total sum of squared deviations (1 when all
    /// values are equal).
    pub gvf: f64,
    /// Number of values in each class.
    pub counts: Vec<u64>,
}

/// Fisher–Jenks natural breaks of the finite values into `k` classes (see the module doc). `None`
/// when there is no finite value or `k` is 0. With fewer distinct values than `k`, each distinct
/// value is its own class from the lowest up and the upper bounds repeat the largest value.
pub fn fisher_jenks(values: &[f64], k: usize) -> Option<NaturalBreaks> {
    fisher_jenks_with_limit(values, k, MAX_EXACT_DISTINCT)
}

/// [`fisher_jenks`] with another pre-binning threshold (at least 2 groups), for tests and very
/// large inputs.
pub fn fisher_jenks_with_limit(values: &[f64], k: usize, max_exact: usize) -> Option<NaturalBreaks> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || k == 0 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    // Distinct values with their counts.
    let mut uniq: Vec<(f64, f64)> = Vec::new();
    for &x in &v {
        match uniq.last_mut() {
            Some((u, w)) if *u == x => *w += 1.0,
            _ => uniq.push((x, 1.0)),
        }
    }
    let distinct = uniq.len();
    let max_exact = max_exact.max(2);
    // Items: (weight, sum of centred values, sum of squares, largest value).
    let mut items: Vec<(f64, f64, f64, f64)> = Vec::new();
    let exact = distinct <= max_exact;
    if exact {
        items.extend(uniq.iter().map(|&(x, w)| {
            let c = x - mean;
            (w, w * c, w * c * c, x)
        }));
    } else {
        let per = n as f64 / max_exact as f64;
        let mut acc = (0.0, 0.0, 0.0, f64::NEG_INFINITY);
        let mut taken = 0.0;
        for &(x, w) in &uniq {
            let c = x - mean;
            acc.0 += w;
            acc.1 += w * c;
            acc.2 += w * c * c;
            acc.3 = x;
            taken += w;
            if taken >= per * (items.len() + 1) as f64 {
                items.push(acc);
                acc = (0.0, 0.0, 0.0, f64::NEG_INFINITY);
            }
        }
        if acc.0 > 0.0 {
            items.push(acc);
        }
    }
    let m = items.len();
    let mut pw = vec![0.0; m + 1];
    let mut ps = vec![0.0; m + 1];
    let mut pq = vec![0.0; m + 1];
    for (i, it) in items.iter().enumerate() {
        pw[i + 1] = pw[i] + it.0;
        ps[i + 1] = ps[i] + it.1;
        pq[i + 1] = pq[i] + it.2;
    }
    let cost = |i: usize, j: usize| -> f64 {
        let w = pw[j + 1] - pw[i];
        let s = ps[j + 1] - ps[i];
        (pq[j + 1] - pq[i] - s * s / w).max(0.0)
    };
    let total = cost(0, m - 1);
    let kk = k.min(m);
    // starts[c] = first item of class c.
    let (starts, within) = if kk == 1 {
        (vec![0], total)
    } else {
        let mut prev: Vec<f64> = (0..m).map(|j| cost(0, j)).collect();
        let mut args: Vec<Vec<u32>> = vec![vec![0; m]; kk];
        let mut cur = vec![f64::INFINITY; m];
        for (c, arg) in args.iter_mut().enumerate().skip(1) {
            cur.iter_mut().for_each(|x| *x = f64::INFINITY);
            let mut ctx = Dc {
                prev: &prev,
                cur: &mut cur,
                arg,
                cost: &cost,
            };
            ctx.solve(c, m - 1, c, m - 1);
            std::mem::swap(&mut prev, &mut cur);
        }
        let mut starts = vec![0usize; kk];
        let mut j = m - 1;
        for c in (1..kk).rev() {
            let i = args[c][j] as usize;
            starts[c] = i;
            j = i - 1;
        }
        (starts, prev[m - 1])
    };
    let mut breaks: Vec<f64> = (1..kk).map(|c| items[starts[c] - 1].3).collect();
    let top = items[m - 1].3;
    while breaks.len() < k - 1 {
        breaks.push(top);
    }
    let mut counts: Vec<u64> = (0..kk)
        .map(|c| {
            let end = if c + 1 < kk { starts[c + 1] } else { m };
            items[starts[c]..end].iter().map(|it| it.0).sum::<f64>() as u64
        })
        .collect();
    counts.resize(k, 0);
    let gvf = if total > 0.0 { 1.0 - within / total } else { 1.0 };
    Some(NaturalBreaks {
        breaks,
        exact,
        distinct,
        groups: m,
        gvf,
        counts,
    })
}

/// Divide-and-conquer step of the Fisher dynamic programme for one class count.
struct Dc<'a, F: Fn(usize, usize) -> f64> {
    prev: &'a [f64],
    cur: &'a mut [f64],
    arg: &'a mut [u32],
    cost: &'a F,
}

impl<F: Fn(usize, usize) -> f64> Dc<'_, F> {
    /// Fills `cur[j]` for `j` in `jlo..=jhi`, knowing the (leftmost) optimal start of the last
    /// class lies in `ilo..=ihi`.
    fn solve(&mut self, jlo: usize, jhi: usize, ilo: usize, ihi: usize) {
        if jlo > jhi {
            return;
        }
        let mid = (jlo + jhi) / 2;
        let mut best = f64::INFINITY;
        let mut bi = ilo;
        for i in ilo..=ihi.min(mid) {
            let v = self.prev[i - 1] + (self.cost)(i, mid);
            if v < best {
                best = v;
                bi = i;
            }
        }
        self.cur[mid] = best;
        self.arg[mid] = bi as u32;
        if mid > jlo {
            self.solve(jlo, mid - 1, ilo, bi);
        }
        self.solve(mid + 1, jhi, bi, ihi);
    }
}

/// Nearest-rank quantile bounds for `k` classes over the finite values (`None` when none).
pub fn quantile_breaks(values: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || k == 0 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(
        (1..k)
            .map(|i| {
                let rank = (n * i).div_ceil(k);
                v[rank.max(1) - 1]
            })
            .collect(),
    )
}

/// Computes the bounds of a scheme over `values` (only those that take part: finite, and > 0 with
/// `positive_only`).
pub fn breaks_for(
    values: &[f64],
    scheme: &Scheme,
    positive_only: bool,
    layer: &'static str,
) -> Result<Breaks, ZoningError> {
    let used: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && (!positive_only || *v > 0.0))
        .collect();
    let none = || ZoningError::NoValues(layer, if positive_only { " or ≤ 0" } else { "" });
    match scheme {
        Scheme::Fixed { bounds, .. } => {
            if bounds.iter().any(|b| !b.is_finite()) || bounds.windows(2).any(|w| w[0] > w[1]) {
                return Err(ZoningError::BadBounds(*bounds));
            }
            Ok(Breaks {
                scheme: scheme.clone(),
                bounds: *bounds,
                values: used.len(),
                natural: None,
            })
        }
        Scheme::Quantiles => {
            let q = quantile_breaks(&used, 5).ok_or_else(none)?;
            Ok(Breaks {
                scheme: scheme.clone(),
                bounds: [q[0], q[1], q[2], q[3]],
                values: used.len(),
                natural: None,
            })
        }
        Scheme::NaturalBreaks => {
            let nb = fisher_jenks(&used, 5).ok_or_else(none)?;
            Ok(Breaks {
                scheme: scheme.clone(),
                bounds: [nb.breaks[0], nb.breaks[1], nb.breaks[2], nb.breaks[3]],
                values: used.len(),
                natural: Some(nb),
            })
        }
    }
}

/// Grades of one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerGrades {
    /// One grade per cell (0 = not graded, 1 high … 5 low), row-major.
    pub grades: Vec<u8>,
    pub breaks: Breaks,
    /// Cells per grade, index = grade (index 0 = not graded).
    pub counts: [u64; 6],
}

/// Grades every cell of a layer (see the module doc).
pub fn grade_layer(
    values: &[f64],
    scheme: &Scheme,
    positive_only: bool,
    layer: &'static str,
) -> Result<LayerGrades, ZoningError> {
    let breaks = breaks_for(values, scheme, positive_only, layer)?;
    let mut counts = [0u64; 6];
    let grades: Vec<u8> = values
        .iter()
        .map(|&v| {
            let g = if !v.is_finite() || (positive_only && v <= 0.0) {
                NO_GRADE
            } else {
                breaks.grade(v)
            };
            counts[g as usize] += 1;
            g
        })
        .collect();
    Ok(LayerGrades { grades, breaks, counts })
}

/// Per-cell layers of a zoning, row-major, NaN = no data; all of the hazard layer's length.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZoningInput<'a> {
    /// Hazard intensity, e.g. flood depth in metres.
    pub hazard: &'a [f64],
    /// Damage fraction or a vulnerability index.
    pub vulnerability: Option<&'a [f64]>,
    /// Exposed value, people or floor area.
    pub exposure: Option<&'a [f64]>,
    /// Loss (damage) per cell, e.g. from `flood::damage::cell_damage`.
    pub loss: Option<&'a [f64]>,
    /// Area of each cell (m²), e.g. [`cell_areas_m2`]; without it areas count cells.
    pub cell_area: Option<&'a [f64]>,
}

/// Schemes of a zoning.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoningConfig {
    pub hazard: Scheme,
    pub vulnerability: Scheme,
    pub exposure: Scheme,
    pub loss: Scheme,
    /// Compute bounds from values > 0 only and leave cells ≤ 0 ungraded (default true).
    pub positive_only: bool,
}

impl Default for ZoningConfig {
    fn default() -> Self {
        ZoningConfig {
            hazard: Scheme::NaturalBreaks,
            vulnerability: Scheme::NaturalBreaks,
            exposure: Scheme::NaturalBreaks,
            loss: Scheme::NaturalBreaks,
            positive_only: true,
        }
    }
}

/// Per-cell grades of each given layer.
#[derive(Debug, Clone, PartialEq)]
pub struct CellZoning {
    pub hazard: LayerGrades,
    pub vulnerability: Option<LayerGrades>,
    pub exposure: Option<LayerGrades>,
    /// The loss grade is the cell's risk grade.
    pub loss: Option<LayerGrades>,
}

fn check_len(layer: &'static str, expected: usize, got: Option<&[f64]>) -> Result<(), ZoningError> {
    match got {
        Some(v) if v.len() != expected => Err(ZoningError::LengthMismatch {
            layer,
            expected,
            got: v.len(),
        }),
        _ => Ok(()),
    }
}

/// Grades every cell of every given layer, each with its scheme.
pub fn zone_cells(input: &ZoningInput<'_>, config: &ZoningConfig) -> Result<CellZoning, ZoningError> {
    let n = input.hazard.len();
    check_len("vulnerability", n, input.vulnerability)?;
    check_len("exposure", n, input.exposure)?;
    check_len("loss", n, input.loss)?;
    check_len("cell area", n, input.cell_area)?;
    let p = config.positive_only;
    Ok(CellZoning {
        hazard: grade_layer(input.hazard, &config.hazard, p, "hazard")?,
        vulnerability: input
            .vulnerability
            .map(|v| grade_layer(v, &config.vulnerability, p, "vulnerability"))
            .transpose()?,
        exposure: input
            .exposure
            .map(|v| grade_layer(v, &config.exposure, p, "exposure"))
            .transpose()?,
        loss: input
            .loss
            .map(|v| grade_layer(v, &config.loss, p, "loss"))
            .transpose()?,
    })
}

/// What a unit's grade is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitBasis {
    /// Sum of the cells' loss.
    Loss,
    /// Loss divided by the unit's area (m², or cells without cell areas).
    LossPerArea,
    /// Share of the unit's area in hazard grades 1 and 2 (high, mid-high).
    HighHazardShare,
}

/// One administrative unit of a zoning.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRow {
    /// Index of the unit (as in the zone list given to `assign_cells`).
    pub unit: usize,
    /// Cells assigned to the unit.
    pub cells: u64,
    /// Area: m² with cell areas, else the number of cells.
    pub area: f64,
    /// Sum of loss (0 without a loss layer).
    pub loss: f64,
    /// Sum of exposure (0 without an exposure layer).
    pub exposure: f64,
    /// Largest hazard value (0 when none).
    pub max_hazard: f64,
    /// Share of the area in each hazard grade, index = grade (index 0 = not graded).
    pub hazard_share: [f64; 6],
    /// The value the unit grade classifies (see [`UnitBasis`]).
    pub basis_value: f64,
    /// Unit grade (1 high … 5 low; 0 when the unit has no cell).
    pub grade: u8,
}

/// Units of a zoning and the bounds of their grade.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitZoning {
    pub rows: Vec<UnitRow>,
    pub basis: UnitBasis,
    pub breaks: Breaks,
}

/// Aggregates a cell zoning per unit and grades the units (see the module doc). `zone_of_cell`
/// gives each cell's unit (`u32::MAX` = none) and must have the hazard layer's length. Units with no
/// cell are listed with grade 0. The unit bounds are computed over the units with cells (values > 0
/// only when `positive_only`; units ≤ 0 then get grade 5, low).
pub fn zone_units(
    input: &ZoningInput<'_>,
    cells: &CellZoning,
    zone_of_cell: &[u32],
    n_units: usize,
    basis: UnitBasis,
    scheme: &Scheme,
    positive_only: bool,
) -> Result<UnitZoning, ZoningError> {
    let n = input.hazard.len();
    if zone_of_cell.len() != n {
        return Err(ZoningError::LengthMismatch {
            layer: "zone assignment",
            expected: n,
            got: zone_of_cell.len(),
        });
    }
    check_len("loss", n, input.loss)?;
    check_len("exposure", n, input.exposure)?;
    check_len("cell area", n, input.cell_area)?;
    if cells.hazard.grades.len() != n {
        return Err(ZoningError::LengthMismatch {
            layer: "hazard grade",
            expected: n,
            got: cells.hazard.grades.len(),
        });
    }
    let mut rows: Vec<UnitRow> = (0..n_units)
        .map(|u| UnitRow {
            unit: u,
            cells: 0,
            area: 0.0,
            loss: 0.0,
            exposure: 0.0,
            max_hazard: 0.0,
            hazard_share: [0.0; 6],
            basis_value: 0.0,
            grade: NO_GRADE,
        })
        .collect();
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    for (i, &z) in zone_of_cell.iter().enumerate() {
        if z == NO_ZONE {
            continue;
        }
        let r = rows.get_mut(z as usize).ok_or(ZoningError::BadUnit {
            cell: i,
            unit: z,
            units: n_units,
        })?;
        let a = input.cell_area.map_or(1.0, |a| finite(a[i]));
        r.cells += 1;
        r.area += a;
        r.hazard_share[cells.hazard.grades[i] as usize] += a;
        let h = input.hazard[i];
        if h.is_finite() && h > r.max_hazard {
            r.max_hazard = h;
        }
        if let Some(l) = input.loss {
            r.loss += finite(l[i]);
        }
        if let Some(e) = input.exposure {
            r.exposure += finite(e[i]);
        }
    }
    for r in &mut rows {
        if r.area > 0.0 {
            for s in &mut r.hazard_share {
                *s /= r.area;
            }
        }
        r.basis_value = match basis {
            UnitBasis::Loss => r.loss,
            UnitBasis::LossPerArea if r.area > 0.0 => r.loss / r.area,
            UnitBasis::LossPerArea => 0.0,
            UnitBasis::HighHazardShare => r.hazard_share[1] + r.hazard_share[2],
        };
    }
    let vals: Vec<f64> = rows.iter().filter(|r| r.cells > 0).map(|r| r.basis_value).collect();
    let breaks = breaks_for(&vals, scheme, positive_only, "unit")?;
    for r in rows.iter_mut().filter(|r| r.cells > 0) {
        r.grade = if positive_only && r.basis_value <= 0.0 {
            5
        } else {
            breaks.grade(r.basis_value)
        };
    }
    Ok(UnitZoning { rows, basis, breaks })
}

/// Area of every cell in m², row-major: `dx·dy` for a projected grid (CRS units taken as metres);
/// for a longitude/latitude grid the area of the cell on the sphere of radius
/// `renxing_geo::distance::EARTH_RADIUS_M`, `R²·Δλ·(sin φ_north − sin φ_south)`.
pub fn cell_areas_m2(grid: &Grid) -> Vec<f64> {
    let mut out = Vec::with_capacity(grid.nrows * grid.ncols);
    for r in 0..grid.nrows {
        let a = if is_geographic(grid.crs) {
            let north = (grid.y0 - r as f64 * grid.dy).clamp(-90.0, 90.0).to_radians();
            let south = (grid.y0 - (r + 1) as f64 * grid.dy).clamp(-90.0, 90.0).to_radians();
            EARTH_RADIUS_M * EARTH_RADIUS_M * grid.dx.to_radians() * (north.sin() - south.sin())
        } else {
            grid.dx * grid.dy
        };
        out.extend(std::iter::repeat_n(a, grid.ncols));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exhaustive search of the best partition of sorted `v` into `k` contiguous classes.
    fn brute(v: &[f64], k: usize) -> f64 {
        fn ssd(x: &[f64]) -> f64 {
            let m = x.iter().sum::<f64>() / x.len() as f64;
            x.iter().map(|a| (a - m) * (a - m)).sum()
        }
        fn rec(v: &[f64], k: usize) -> f64 {
            if k == 1 {
                return ssd(v);
            }
            (1..=v.len() - (k - 1))
                .map(|i| ssd(&v[..i]) + rec(&v[i..], k - 1))
                .fold(f64::INFINITY, f64::min)
        }
        rec(v, k)
    }

    fn within(v: &[f64], breaks: &[f64]) -> f64 {
        let mut classes: Vec<Vec<f64>> = vec![Vec::new(); breaks.len() + 1];
        for &x in v {
            classes[class_of(x, breaks)].push(x);
        }
        classes
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| {
                let m = c.iter().sum::<f64>() / c.len() as f64;
                c.iter().map(|a| (a - m) * (a - m)).sum::<f64>()
            })
            .sum()
    }

    #[test]
    fn fisher_matches_exhaustive_search() {
        // Deterministic pseudo-random samples (LCG), with ties.
        let mut s = 12345u64;
        for trial in 0..40 {
            let n = 6 + trial % 9;
            let mut v: Vec<f64> = (0..n)
                .map(|_| {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((s >> 33) % 50) as f64 / 7.0
                })
                .collect();
            v.sort_by(f64::total_cmp);
            for k in 2..=5usize.min(n) {
                let nb = fisher_jenks(&v, k).unwrap();
                let best = brute(&v, k);
                let got = within(&v, &nb.breaks);
                assert!(
                    (got - best).abs() <= 1e-9 * (1.0 + best),
                    "trial {trial} k {k}: {got} vs {best}"
                );
            }
        }
    }

    #[test]
    fn prebinning_is_close_and_flagged() {
        let v: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 5000) as f64 / 100.0 + (i % 3) as f64)
            .collect();
        let exact = fisher_jenks(&v, 5).unwrap();
        let binned = fisher_jenks_with_limit(&v, 5, 500).unwrap();
        assert!(exact.exact && !binned.exact);
        assert_eq!(binned.groups, 500);
        assert!(binned.gvf <= exact.gvf + 1e-12 && binned.gvf > exact.gvf - 1e-3);
    }

    #[test]
    fn grades_and_bounds() {
        let b = [0.5, 1.0, 2.0, 3.0];
        assert_eq!(grade_of(0.5, &b), 5);
        assert_eq!(grade_of(0.51, &b), 4);
        assert_eq!(grade_of(3.0, &b), 2);
        assert_eq!(grade_of(3.01, &b), 1);
        assert_eq!(grade_of(f64::NAN, &b), NO_GRADE);
        assert_eq!(
            quantile_breaks(&[1.0, 2.0, 3.0, 4.0, 5.0], 5).unwrap(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
        // Fewer distinct values than classes.
        let nb = fisher_jenks(&[1.0, 1.0, 2.0], 5).unwrap();
        assert_eq!(nb.breaks, vec![1.0, 2.0, 2.0, 2.0]);
        assert_eq!(nb.counts, vec![2, 1, 0, 0, 0]);
    }
}
