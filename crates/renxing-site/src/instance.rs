//! The data of a siting problem: demand points with weights, candidate sites with optional
//! capacity, cost and a pre-selected flag, and the demand × site cost matrix.
//!
//! Costs are metres or seconds (whatever the matrix holds); `f64::INFINITY` marks a pair with no
//! route (a network matrix computed with a cutoff, or an empty cell in a cost file). Every check
//! that can fail on user data (duplicate ids, negative or NaN costs and weights, a demand point no
//! site can reach) happens in [`Instance::new`], so the models can assume clean data.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::SiteError;

/// One candidate site.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub id: String,
    /// Most demand weight it can serve (capacitated models).
    pub capacity: Option<f64>,
    /// Opening (or conversion) cost, for budget-constrained models; 1 when not given.
    pub cost: f64,
    /// An existing facility that must stay open.
    pub preselected: bool,
    /// WGS84 position when known (for GeoPackage output and site-to-site distances).
    pub lonlat: Option<(f64, f64)>,
}

impl Site {
    pub fn new(id: impl Into<String>) -> Site {
        Site {
            id: id.into(),
            capacity: None,
            cost: 1.0,
            preselected: false,
            lonlat: None,
        }
    }
}

/// Demand × site (or site × site) costs, one row per demand point, one column per site.
/// `f64::INFINITY` = unreachable.
///
/// Either **dense** (row-major values, from a cost file or the road network) or **great-circle**:
/// distances computed on demand from the positions, so coverage models on city grids never hold
/// the full matrix (32,415 × 1,000 Wuhan cells would be 259 MB). Models that scan whole rows
/// (p-median, p-center, capacitated) get a dense copy first ([`CostMatrix::to_dense`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CostMatrix {
    rows: usize,
    cols: usize,
    cells: Cells,
}

#[derive(Debug, Clone, PartialEq)]
enum Cells {
    Dense(Vec<f64>),
    /// WGS84 (lon, lat) of the rows and of the columns.
    GreatCircle {
        from: Vec<(f64, f64)>,
        to: Vec<(f64, f64)>,
    },
}

impl CostMatrix {
    /// A matrix from row-major data; `data.len()` must be `rows × cols`.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> CostMatrix {
        assert_eq!(data.len(), rows * cols, "cost matrix data must be rows × cols");
        CostMatrix {
            rows,
            cols,
            cells: Cells::Dense(data),
        }
    }

    /// A matrix computed from a function of (row, column).
    pub fn from_fn(rows: usize, cols: usize, f: impl Fn(usize, usize) -> f64 + Sync) -> CostMatrix {
        use rayon::prelude::*;
        let mut data = vec![0.0; rows * cols];
        if cols > 0 {
            data.par_chunks_mut(cols)
                .enumerate()
                .for_each(|(i, row)| row.iter_mut().enumerate().for_each(|(j, c)| *c = f(i, j)));
        }
        CostMatrix::new(rows, cols, data)
    }

    /// Great-circle metres ([`haversine_m`]) from each of `from` to each of `to`, computed when
    /// asked for. Positions are WGS84 (lon, lat) degrees and must be finite.
    pub fn great_circle(from: Vec<(f64, f64)>, to: Vec<(f64, f64)>) -> CostMatrix {
        CostMatrix {
            rows: from.len(),
            cols: to.len(),
            cells: Cells::GreatCircle { from, to },
        }
    }

    /// The first row (`true`) or column (`false`) position that is not finite, for great-circle
    /// costs; `None` when all are (or the costs are stored).
    fn bad_position(&self) -> Option<(bool, usize)> {
        let bad = |v: &[(f64, f64)]| v.iter().position(|p| !(p.0.is_finite() && p.1.is_finite()));
        match &self.cells {
            Cells::Dense(_) => None,
            Cells::GreatCircle { from, to } => bad(from).map(|i| (true, i)).or(bad(to).map(|j| (false, j))),
        }
    }

    /// True when the costs are computed on demand rather than stored.
    pub fn is_computed(&self) -> bool {
        matches!(self.cells, Cells::GreatCircle { .. })
    }

    /// The same costs, stored.
    pub fn to_dense(&self) -> CostMatrix {
        match &self.cells {
            Cells::Dense(_) => self.clone(),
            Cells::GreatCircle { .. } => CostMatrix::from_fn(self.rows, self.cols, |i, j| self.get(i, j)),
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    #[inline]
    pub fn get(&self, row: usize, col: usize) -> f64 {
        match &self.cells {
            Cells::Dense(d) => d[row * self.cols + col],
            Cells::GreatCircle { from, to } => haversine_m(from[row], to[col]),
        }
    }

    /// One row: borrowed when stored, computed otherwise.
    #[inline]
    pub fn row(&self, row: usize) -> Cow<'_, [f64]> {
        match &self.cells {
            Cells::Dense(d) => Cow::Borrowed(&d[row * self.cols..(row + 1) * self.cols]),
            Cells::GreatCircle { from, to } => Cow::Owned(to.iter().map(|&b| haversine_m(from[row], b)).collect()),
        }
    }

    /// For each row, the columns with cost ≤ `limit`, in column order (compressed rows).
    fn within(&self, limit: f64) -> (Vec<usize>, Vec<u32>) {
        use rayon::prelude::*;
        let per_row: Vec<Vec<u32>> = match &self.cells {
            Cells::Dense(_) => (0..self.rows)
                .into_par_iter()
                .map(|i| {
                    let row = self.row(i);
                    (0..self.cols).filter(|&j| row[j] <= limit).map(|j| j as u32).collect()
                })
                .collect(),
            Cells::GreatCircle { from, to } => {
                // A pair whose latitudes alone differ by more than the limit (R·|Δφ| is a lower
                // bound of the great-circle distance) is skipped without the trigonometry.
                let dphi = limit / EARTH_RADIUS_M * (1.0 + 1e-9) + 1e-15;
                let to_lat: Vec<f64> = to.iter().map(|p| p.1.to_radians()).collect();
                from.par_iter()
                    .map(|&a| {
                        let phi = a.1.to_radians();
                        (0..self.cols)
                            .filter(|&j| (to_lat[j] - phi).abs() <= dphi && haversine_m(a, to[j]) <= limit)
                            .map(|j| j as u32)
                            .collect()
                    })
                    .collect()
            }
        };
        let mut offsets = Vec::with_capacity(self.rows + 1);
        offsets.push(0);
        let mut cols = Vec::with_capacity(per_row.iter().map(Vec::len).sum());
        for r in per_row {
            cols.extend_from_slice(&r);
            offsets.push(cols.len());
        }
        (offsets, cols)
    }
}

/// A checked siting problem.
#[derive(Debug, Clone)]
pub struct Instance {
    pub demand_ids: Vec<String>,
    pub weights: Vec<f64>,
    /// WGS84 positions of the demand points when known.
    pub demand_lonlat: Option<Vec<(f64, f64)>>,
    pub sites: Vec<Site>,
    /// Demand × site costs.
    pub costs: CostMatrix,
    /// Site × site costs (p-dispersion); `None` when not given.
    pub site_costs: Option<CostMatrix>,
}

impl Instance {
    /// Check and assemble a problem: ids unique, weights finite and ≥ 0, costs ≥ 0 (or
    /// unreachable), capacities and site costs finite and ≥ 0, the matrix shaped demand × site.
    pub fn new(
        demand_ids: Vec<String>,
        weights: Vec<f64>,
        sites: Vec<Site>,
        costs: CostMatrix,
    ) -> Result<Instance, SiteError> {
        if demand_ids.len() != weights.len() {
            return Err(SiteError::invalid(format!(
                "{} demand ids but {} weights",
                demand_ids.len(),
                weights.len()
            )));
        }
        if costs.rows != demand_ids.len() || costs.cols != sites.len() {
            return Err(SiteError::invalid(format!(
                "cost matrix is {} × {} but there are {} demand points and {} sites",
                costs.rows,
                costs.cols,
                demand_ids.len(),
                sites.len()
            )));
        }
        if sites.is_empty() {
            return Err(SiteError::invalid("no candidate sites"));
        }
        if demand_ids.is_empty() {
            return Err(SiteError::invalid("no demand points"));
        }
        check_unique(demand_ids.iter(), "demand point")?;
        check_unique(sites.iter().map(|s| &s.id), "candidate site")?;
        for (id, &w) in demand_ids.iter().zip(&weights) {
            if !(w.is_finite() && w >= 0.0) {
                return Err(SiteError::invalid(format!(
                    "demand point {id}: weight {w} is not a number ≥ 0"
                )));
            }
        }
        for s in &sites {
            if !(s.cost.is_finite() && s.cost >= 0.0) {
                return Err(SiteError::invalid(format!(
                    "site {}: cost {} is not a number ≥ 0",
                    s.id, s.cost
                )));
            }
            if let Some(c) = s.capacity
                && !(c.is_finite() && c >= 0.0)
            {
                return Err(SiteError::invalid(format!(
                    "site {}: capacity {c} is not a number ≥ 0",
                    s.id
                )));
            }
        }
        match costs.bad_position() {
            Some((true, i)) => {
                return Err(SiteError::invalid(format!(
                    "demand point {}: position is not a pair of finite numbers",
                    demand_ids[i]
                )));
            }
            Some((false, j)) => {
                return Err(SiteError::invalid(format!(
                    "site {}: position is not a pair of finite numbers",
                    sites[j].id
                )));
            }
            None => {}
        }
        for (i, id) in demand_ids.iter().enumerate().filter(|_| !costs.is_computed()) {
            for (j, &c) in costs.row(i).iter().enumerate() {
                if c.is_nan() || c < 0.0 || c == f64::NEG_INFINITY {
                    return Err(SiteError::invalid(format!(
                        "cost from demand point {id} to site {} is {c}: costs must be ≥ 0",
                        sites[j].id
                    )));
                }
            }
        }
        Ok(Instance {
            demand_ids,
            weights,
            demand_lonlat: None,
            sites,
            costs,
            site_costs: None,
        })
    }

    /// Attach a site × site matrix (p-dispersion); checked like the main matrix.
    pub fn with_site_costs(mut self, m: CostMatrix) -> Result<Instance, SiteError> {
        let n = self.sites.len();
        if m.rows != n || m.cols != n {
            return Err(SiteError::invalid(format!(
                "site-to-site matrix is {} × {} but there are {n} sites",
                m.rows, m.cols
            )));
        }
        for a in 0..n {
            for b in 0..n {
                let c = m.get(a, b);
                if c.is_nan() || c < 0.0 {
                    return Err(SiteError::invalid(format!(
                        "cost from site {} to site {} is {c}: costs must be ≥ 0",
                        self.sites[a].id, self.sites[b].id
                    )));
                }
            }
        }
        self.site_costs = Some(m);
        Ok(self)
    }

    /// Site × site great-circle distances (metres) from the sites' positions.
    pub fn site_distances(&self) -> Result<CostMatrix, SiteError> {
        let pos: Vec<(f64, f64)> = self
            .sites
            .iter()
            .map(|s| {
                s.lonlat.ok_or_else(|| {
                    SiteError::invalid(format!(
                        "site {}: no position, needed for site-to-site distances (give lon/lat columns or a site cost matrix)",
                        s.id
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(CostMatrix::from_fn(pos.len(), pos.len(), |a, b| {
            haversine_m(pos[a], pos[b])
        }))
    }

    pub fn n_demand(&self) -> usize {
        self.demand_ids.len()
    }

    pub fn n_sites(&self) -> usize {
        self.sites.len()
    }

    pub fn total_weight(&self) -> f64 {
        self.weights.iter().sum()
    }

    /// Indices of the pre-selected sites.
    pub fn preselected(&self) -> Vec<usize> {
        (0..self.sites.len()).filter(|&j| self.sites[j].preselected).collect()
    }

    /// For each demand point, the sites within `service` (cost ≤ service), in site order.
    pub fn coverage(&self, service: f64) -> Coverage {
        let (offsets, sites) = self.costs.within(service);
        Coverage { offsets, sites }
    }

    /// This instance with its costs stored (a copy when they are computed on demand).
    pub fn with_dense_costs(&self) -> Cow<'_, Instance> {
        if self.costs.is_computed() {
            let mut inst = self.clone();
            inst.costs = self.costs.to_dense();
            Cow::Owned(inst)
        } else {
            Cow::Borrowed(self)
        }
    }

    /// Fails, naming them, when some demand points reach no site at all (models that serve
    /// every point).
    pub fn require_reachable(&self, model: &str) -> Result<(), SiteError> {
        let lost: Vec<String> = self
            .unreachable_demand()
            .into_iter()
            .map(|i| self.demand_ids[i].clone())
            .collect();
        if lost.is_empty() {
            return Ok(());
        }
        Err(SiteError::infeasible(
            model,
            format!("{} demand point(s) reach no candidate site", lost.len()),
            lost,
        ))
    }

    /// Demand points no site reaches at all (every cost infinite).
    pub fn unreachable_demand(&self) -> Vec<usize> {
        if self.costs.is_computed() {
            return Vec::new(); // great-circle distances are all finite
        }
        (0..self.n_demand())
            .filter(|&i| self.costs.row(i).iter().all(|c| c.is_infinite()))
            .collect()
    }
}

/// Demand → sites within the service cost, in compressed rows.
#[derive(Debug, Clone)]
pub struct Coverage {
    offsets: Vec<usize>,
    sites: Vec<u32>,
}

impl Coverage {
    #[inline]
    pub fn of(&self, demand: usize) -> &[u32] {
        &self.sites[self.offsets[demand]..self.offsets[demand + 1]]
    }

    pub fn n_demand(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Site → demand points it covers.
    pub fn by_site(&self, n_sites: usize) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); n_sites];
        for i in 0..self.n_demand() {
            for &j in self.of(i) {
                out[j as usize].push(i as u32);
            }
        }
        out
    }

    /// Group demand points with the same covering set: (set, members). Groups come in order of
    /// their first member, so the result is deterministic. Points covered by no site are left out.
    pub fn groups(&self) -> Vec<(Vec<u32>, Vec<u32>)> {
        let mut index: std::collections::HashMap<&[u32], usize> = std::collections::HashMap::new();
        let mut out: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
        for i in 0..self.n_demand() {
            let set = self.of(i);
            if set.is_empty() {
                continue;
            }
            match index.get(set) {
                Some(&g) => out[g].1.push(i as u32),
                None => {
                    index.insert(set, out.len());
                    out.push((set.to_vec(), vec![i as u32]));
                }
            }
        }
        out
    }
}

fn check_unique<'a>(ids: impl Iterator<Item = &'a String>, what: &str) -> Result<(), SiteError> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id.as_str()) {
            return Err(SiteError::invalid(format!("{what} id '{id}' appears twice")));
        }
    }
    Ok(())
}

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres on the mean Earth sphere (R = 6,371,008.8 m, IUGG).
pub fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = EARTH_RADIUS_M;
    let (l1, p1) = (a.0.to_radians(), a.1.to_radians());
    let (l2, p2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((l2 - l1) / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}
