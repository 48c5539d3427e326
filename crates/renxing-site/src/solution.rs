//! What a run asks for ([`Spec`]), what it returns ([`Solution`]) and the one entry point
//! [`solve`] that checks the request and hands it to the model's module.

use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use serde::Serialize;

use crate::milp::MilpOptions;
use crate::{Instance, SiteError, capacitated, center, cover, median};

/// The siting models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    Lscp,
    LscpB,
    Mclp,
    PMedian,
    PCenter,
    PDispersion,
    /// Capacitated p-median.
    CpMedian,
    /// Capacitated MCLP.
    Cmclp,
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::Lscp => "lscp",
            Model::LscpB => "lscp-b",
            Model::Mclp => "mclp",
            Model::PMedian => "p-median",
            Model::PCenter => "p-center",
            Model::PDispersion => "p-dispersion",
            Model::CpMedian => "cp-median",
            Model::Cmclp => "cmclp",
        }
    }

    /// Models that need a service cost (coverage radius).
    pub fn needs_service(self) -> bool {
        matches!(self, Model::Lscp | Model::LscpB | Model::Mclp | Model::Cmclp)
    }

    /// Models that choose a given number of sites (or fit a budget).
    pub fn needs_p(self) -> bool {
        !matches!(self, Model::Lscp | Model::LscpB)
    }

    /// Maximisation models.
    pub fn maximises(self) -> bool {
        matches!(self, Model::LscpB | Model::Mclp | Model::PDispersion | Model::Cmclp)
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Model, String> {
        Ok(match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "lscp" => Model::Lscp,
            "lscp-b" | "lscpb" => Model::LscpB,
            "mclp" => Model::Mclp,
            "p-median" | "pmedian" => Model::PMedian,
            "p-center" | "pcenter" | "p-centre" => Model::PCenter,
            "p-dispersion" | "pdispersion" => Model::PDispersion,
            "cp-median" | "cpmedian" | "capacitated-p-median" => Model::CpMedian,
            "cmclp" | "capacitated-mclp" => Model::Cmclp,
            other => {
                return Err(format!(
                    "unknown model '{other}': use lscp, lscp-b, mclp, p-median, p-center, p-dispersion, cp-median or cmclp"
                ));
            }
        })
    }
}

/// `Method::Auto` solves instances of at most this many demand × site pairs to proven optimality;
/// larger ones stop at the gap target with a proven bound.
pub const AUTO_EXACT_ENTRIES: usize = 20_000_000;

/// How to solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Exact when the MILP is small enough, otherwise heuristics with a Lagrangian bound.
    Auto,
    /// HiGHS MILP (with the time limit, if any).
    Exact,
    /// Greedy + interchange with a Lagrangian bound (MCLP and p-median; other models are exact).
    Heuristic,
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Method, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Method::Auto),
            "exact" => Ok(Method::Exact),
            "heuristic" => Ok(Method::Heuristic),
            o => Err(format!("unknown method '{o}': use auto, exact or heuristic")),
        }
    }
}

/// A siting request.
#[derive(Debug, Clone)]
pub struct Spec {
    pub model: Model,
    /// Number of open sites, pre-selected ones included.
    pub p: Option<usize>,
    /// Total site cost allowed, instead of `p` (MCLP, p-median and their capacitated forms).
    pub budget: Option<f64>,
    /// Service cost (coverage radius) of the coverage models.
    pub service: Option<f64>,
    /// Capacitated models: may a demand point be served by several sites (true), or by one?
    pub split: bool,
    /// Capacitated models: pre-selected sites must be used to their full capacity.
    pub fill_preselected: bool,
    pub method: Method,
    pub time_limit: Option<f64>,
    pub seed: u64,
    /// Heuristics stop once the gap to the Lagrangian bound is at most this (relative).
    pub gap_target: f64,
}

impl Spec {
    pub fn new(model: Model) -> Spec {
        Spec {
            model,
            p: None,
            budget: None,
            service: None,
            split: false,
            fill_preselected: false,
            method: Method::Auto,
            time_limit: None,
            seed: 0,
            gap_target: 1e-3,
        }
    }

    /// Exact MILP settings (relative gap 0).
    pub(crate) fn milp(&self) -> MilpOptions {
        MilpOptions {
            time_limit: self.time_limit,
            seed: self.seed,
            rel_gap: 0.0,
        }
    }

    /// This spec with the time limit cut by what was spent since `start` (heuristic stages
    /// before a MILP), so the whole solve keeps to `--time-limit`; at least 10 ms are left, so
    /// HiGHS still returns the warm start it was given.
    pub(crate) fn with_time_left(&self, start: Instant) -> Spec {
        let mut s = self.clone();
        s.time_limit = self.time_limit.map(|t| (t - start.elapsed().as_secs_f64()).max(0.01));
        s
    }

    /// True once the time limit has passed since `start`.
    pub(crate) fn out_of_time(&self, start: Instant) -> bool {
        self.time_limit.is_some_and(|t| start.elapsed().as_secs_f64() >= t)
    }

    /// MILP settings for an instance of `entries` demand × site pairs: exact for `Exact` and
    /// for small instances under `Auto` (at most [`AUTO_EXACT_ENTRIES`]), otherwise stopping at
    /// the gap target.
    pub(crate) fn milp_for(&self, entries: usize) -> MilpOptions {
        let mut o = self.milp();
        if self.method != Method::Exact && entries > AUTO_EXACT_ENTRIES {
            o.rel_gap = self.gap_target;
        }
        o
    }
}

/// Proven optimal or not.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Optimal,
    /// Feasible, with a proven bound (see `gap`).
    Feasible,
}

/// Figures every solution carries, whatever the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub total_weight: f64,
    /// Σ weight × cost over assigned demand.
    pub weighted_cost: f64,
    /// `weighted_cost` / weight of the assigned demand.
    pub weighted_mean_cost: Option<f64>,
    /// Largest cost from a demand point to a site serving it.
    pub max_cost: Option<f64>,
    /// With a service cost: demand weight served within it.
    pub covered_weight: Option<f64>,
    pub covered_demand_share: Option<f64>,
    /// With a service cost: demand points not (fully) served within it.
    pub uncovered: Option<usize>,
    /// With a service cost: demand points with at least two open sites within it.
    pub backup_covered: Option<usize>,
    /// Demand points left without any site (unreachable, or over capacity).
    pub unassigned: usize,
    /// Smallest site-to-site cost among the open sites (p-dispersion).
    pub min_site_distance: Option<f64>,
}

/// A solved siting problem.
#[derive(Debug, Clone, Serialize)]
pub struct Solution {
    pub model: Model,
    /// Open sites (indices into `Instance::sites`, ascending), pre-selected ones included.
    pub selected: Vec<usize>,
    /// Per demand point: (site, share of its weight). One entry of share 1 unless split.
    pub assignment: Vec<Vec<(usize, f64)>>,
    /// The model's objective (count/cost of sites, covered weight, total weighted cost, max cost…).
    pub objective: f64,
    /// Proven bound on the optimum: lower for minimisation, upper for maximisation.
    pub bound: f64,
    /// Relative optimality gap |objective − bound| / |objective| (0 when proven optimal).
    pub gap: f64,
    pub status: Status,
    /// How it was solved, e.g. "HiGHS MILP (radius formulation)".
    pub method: String,
    pub seconds: f64,
    pub stats: Stats,
}

/// What a model's solver hands back before the common figures are added.
pub(crate) struct Outcome {
    pub selected: Vec<usize>,
    /// `None` = each demand point to its nearest open site.
    pub assignment: Option<Vec<Vec<(usize, f64)>>>,
    pub objective: f64,
    pub bound: f64,
    pub method: String,
}

/// Solve a siting problem.
pub fn solve(inst: &Instance, spec: &Spec) -> Result<Solution, SiteError> {
    let t = Instant::now();
    check(inst, spec)?;
    // Coverage models only need the pairs within the service cost (p-dispersion none at all);
    // the others scan whole rows.
    let dense;
    let inst = if matches!(
        spec.model,
        Model::Lscp | Model::LscpB | Model::Mclp | Model::PDispersion
    ) {
        inst
    } else {
        dense = inst.with_dense_costs();
        &*dense
    };
    let out = match spec.model {
        Model::Lscp => cover::lscp(inst, spec)?,
        Model::LscpB => cover::lscp_b(inst, spec)?,
        Model::Mclp => cover::mclp(inst, spec)?,
        Model::PMedian => median::p_median(inst, spec)?,
        Model::PCenter => center::p_center(inst, spec)?,
        Model::PDispersion => center::p_dispersion(inst, spec)?,
        Model::CpMedian => capacitated::cp_median(inst, spec)?,
        Model::Cmclp => capacitated::cmclp(inst, spec)?,
    };
    let mut selected = out.selected;
    selected.sort_unstable();
    selected.dedup();
    let assignment = out.assignment.unwrap_or_else(|| nearest_assignment(inst, &selected));
    let stats = evaluate(inst, &selected, &assignment, spec.service);
    let gap = relative_gap(out.objective, out.bound);
    Ok(Solution {
        model: spec.model,
        selected,
        assignment,
        objective: out.objective,
        bound: out.bound,
        gap,
        status: if gap <= 1e-9 { Status::Optimal } else { Status::Feasible },
        method: out.method,
        seconds: t.elapsed().as_secs_f64(),
        stats,
    })
}

pub(crate) fn relative_gap(objective: f64, bound: f64) -> f64 {
    if objective == bound {
        return 0.0;
    }
    if !(objective.is_finite() && bound.is_finite()) {
        return f64::INFINITY;
    }
    let d = (objective - bound).abs();
    if d <= 1e-9 * objective.abs().max(1.0) {
        0.0
    } else {
        d / objective.abs().max(bound.abs()).max(1e-300)
    }
}

fn check(inst: &Instance, spec: &Spec) -> Result<(), SiteError> {
    let m = spec.model;
    let pre = inst.preselected().len();
    if m.needs_service() {
        match spec.service {
            None => return Err(SiteError::invalid(format!("{m} needs a service cost (--service)"))),
            Some(s) if !(s.is_finite() && s >= 0.0) => {
                return Err(SiteError::invalid(format!("service cost {s}: give a number ≥ 0")));
            }
            _ => {}
        }
    }
    if m.needs_p() {
        let budget_ok = matches!(m, Model::Mclp | Model::PMedian | Model::CpMedian | Model::Cmclp);
        match (spec.p, spec.budget) {
            (Some(_), Some(_)) => return Err(SiteError::invalid("give either p or a budget, not both")),
            (None, None) if budget_ok => {
                return Err(SiteError::invalid(format!("{m} needs p (number of sites) or a budget")));
            }
            (None, None) | (None, Some(_)) if !budget_ok => {
                return Err(SiteError::invalid(format!("{m} needs p (number of sites)")));
            }
            (None, None) => unreachable!("handled above"),
            (None, Some(b)) => {
                if !(b.is_finite() && b >= 0.0) {
                    return Err(SiteError::invalid(format!("budget {b}: give a number ≥ 0")));
                }
                let pre_cost: f64 = inst.preselected().iter().map(|&j| inst.sites[j].cost).sum();
                if pre_cost > b {
                    return Err(SiteError::infeasible(
                        m.name(),
                        format!("the pre-selected sites alone cost {pre_cost}, more than the budget {b}"),
                        vec![],
                    ));
                }
            }
            (Some(p), None) => {
                if p == 0 {
                    return Err(SiteError::invalid("p must be at least 1"));
                }
                if p > inst.n_sites() {
                    return Err(SiteError::infeasible(
                        m.name(),
                        format!("p = {p} but there are only {} candidate sites", inst.n_sites()),
                        vec![],
                    ));
                }
                if pre > p {
                    return Err(SiteError::infeasible(
                        m.name(),
                        format!("{pre} sites are pre-selected, more than p = {p} (p counts them)"),
                        vec![],
                    ));
                }
                if m == Model::PDispersion && p < 2 {
                    return Err(SiteError::invalid("p-dispersion needs p ≥ 2"));
                }
            }
        }
    }
    if !(spec.gap_target.is_finite() && spec.gap_target >= 0.0) {
        return Err(SiteError::invalid("the gap target must be a number ≥ 0"));
    }
    if let Some(t) = spec.time_limit
        && !(t.is_finite() && t > 0.0)
    {
        return Err(SiteError::invalid(format!("time limit {t}: give seconds > 0")));
    }
    Ok(())
}

/// Each demand point to its cheapest open site (ties to the lower site index); empty when no
/// open site reaches it.
pub(crate) fn nearest_assignment(inst: &Instance, selected: &[usize]) -> Vec<Vec<(usize, f64)>> {
    (0..inst.n_demand())
        .map(|i| {
            let mut best: Option<(usize, f64)> = None;
            for &j in selected {
                let c = inst.costs.get(i, j);
                if c.is_finite() && best.is_none_or(|(_, b)| c < b) {
                    best = Some((j, c));
                }
            }
            best.map(|(j, _)| vec![(j, 1.0)]).unwrap_or_default()
        })
        .collect()
}

/// The common figures of a solution.
pub fn evaluate(inst: &Instance, selected: &[usize], assignment: &[Vec<(usize, f64)>], service: Option<f64>) -> Stats {
    let total_weight = inst.total_weight();
    let mut weighted_cost = 0.0;
    let mut assigned_weight = 0.0;
    let mut max_cost: Option<f64> = None;
    let mut unassigned = 0;
    let mut covered_weight = 0.0;
    let mut uncovered = 0;
    for (i, a) in assignment.iter().enumerate() {
        let w = inst.weights[i];
        let mut share = 0.0;
        let mut covered = 0.0;
        for &(j, s) in a {
            if s <= 0.0 {
                continue;
            }
            let c = inst.costs.get(i, j);
            weighted_cost += w * s * c;
            assigned_weight += w * s;
            share += s;
            max_cost = Some(max_cost.map_or(c, |m: f64| m.max(c)));
            if service.is_some_and(|sv| c <= sv) {
                covered += s;
            }
        }
        if share <= 1e-12 {
            unassigned += 1;
        }
        covered_weight += w * covered.min(1.0);
        if covered < 1.0 - 1e-9 {
            uncovered += 1;
        }
    }
    let backup_covered = service.map(|sv| {
        (0..inst.n_demand())
            .filter(|&i| selected.iter().filter(|&&j| inst.costs.get(i, j) <= sv).count() >= 2)
            .count()
    });
    let min_site_distance = inst.site_costs.as_ref().and_then(|m| {
        let mut best: Option<f64> = None;
        for (k, &a) in selected.iter().enumerate() {
            for &b in &selected[k + 1..] {
                let d = m.get(a, b).min(m.get(b, a));
                best = Some(best.map_or(d, |x: f64| x.min(d)));
            }
        }
        best
    });
    Stats {
        total_weight,
        weighted_cost,
        weighted_mean_cost: (assigned_weight > 0.0).then(|| weighted_cost / assigned_weight),
        max_cost,
        covered_weight: service.map(|_| covered_weight),
        covered_demand_share: service.map(|_| {
            if total_weight > 0.0 {
                covered_weight / total_weight
            } else {
                1.0
            }
        }),
        uncovered: service.map(|_| uncovered),
        backup_covered,
        unassigned,
        min_site_distance,
    }
}
