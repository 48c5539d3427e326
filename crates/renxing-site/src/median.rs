//! p-median: open p sites (or sites within a budget) to minimise the total demand-weighted cost
//! from each demand point to its nearest open site.
//!
//! Exact form (the "radius" formulation of Elloumi 2010, chained): for demand point i let
//! `D_i^1 < D_i^2 < … < D_i^K` be its distinct finite costs to the sites, cut after the cost of
//! its nearest pre-selected site (it never pays more), and `z_i^k ∈ [0,1]` mean "i pays more than
//! `D_i^k`". Then
//!
//! ```text
//! min  Σ_i w_i (D_i^1 + Σ_{k<K} (D_i^{k+1} − D_i^k) z_i^k)
//! s.t. z_i^1 + Σ_{j: d_ij = D_i^1} y_j ≥ 1
//!      z_i^k − z_i^{k−1} + Σ_{j: d_ij = D_i^k} y_j ≥ 0        k = 2 … K−1
//!      Σ_{j: d_ij = D_i^K} y_j − z_i^{K−1} ≥ 0                 (only if some site cannot reach i)
//!      Σ_j y_j = p  (or Σ_j c_j y_j ≤ budget),  y_j ∈ {0,1},  y_j = 1 when pre-selected
//! ```
//!
//! Telescoping the chain gives `z_i^k ≥ 1 − Σ_{j: d_ij ≤ D_i^k} y_j`, the original radius
//! constraints, with the same LP bound, but with one nonzero per (i, j) pair instead of up to
//! K per pair. It needs no assignment variables; assignment is to the nearest open site. HiGHS
//! starts from the heuristic's solution. City-scale instances go to
//! [`crate::heuristic::p_median`] (greedy + interchange, Lagrangian lower bound).

use highs::{Col, Sense};

use crate::cover::add_count_or_budget;
use crate::heuristic::{self, Limits};
use crate::milp::Milp;
use crate::solution::Outcome;
use crate::{Instance, Method, SiteError, Spec};

/// Radius formulations with at most this many nonzeros are solved exactly by `Method::Auto`.
const AUTO_EXACT_NONZEROS: usize = 2_000_000;

pub(crate) fn p_median(inst: &Instance, spec: &Spec) -> Result<Outcome, SiteError> {
    let start = std::time::Instant::now();
    inst.require_reachable("p-median")?;
    let pre = inst.preselected();
    let nonzeros: usize = (0..inst.n_demand())
        .map(|i| inst.costs.row(i).iter().filter(|c| c.is_finite()).count() * 2)
        .sum();
    let heuristic_allowed = spec.budget.is_none();
    let use_heuristic = heuristic_allowed
        && match spec.method {
            Method::Heuristic => true,
            Method::Exact => false,
            Method::Auto => nonzeros > AUTO_EXACT_NONZEROS,
        };
    let warm = if heuristic_allowed {
        let limits = Limits::for_spec(spec, use_heuristic, 100);
        Some(heuristic::p_median(
            &inst.costs,
            &inst.weights,
            &pre,
            spec.p.expect("checked"),
            limits,
        ))
    } else {
        None
    };
    if let Some(h) = &warm
        && h.objective >= heuristic::UNREACHED
    {
        // Some demand point is left without a reachable open site: p sites cannot serve all.
        let open: Vec<bool> = (0..inst.n_sites()).map(|j| h.selected.contains(&j)).collect();
        let lost: Vec<String> = (0..inst.n_demand())
            .filter(|&i| !(0..inst.n_sites()).any(|j| open[j] && inst.costs.get(i, j).is_finite()))
            .map(|i| inst.demand_ids[i].clone())
            .collect();
        if use_heuristic {
            return Err(SiteError::infeasible(
                "p-median",
                "the heuristic found no choice of p sites reaching every demand point (the exact method decides whether one exists)",
                lost,
            ));
        }
    }
    if let Some(h) = &warm
        && h.objective < heuristic::UNREACHED
        && (use_heuristic || h.objective - h.bound <= 1e-9 * h.objective.abs().max(1.0) || spec.out_of_time(start))
    {
        return Ok(Outcome {
            selected: h.selected.clone(),
            assignment: None,
            objective: h.objective,
            bound: h.bound,
            method: format!(
                "greedy + Teitz–Bart interchange, Lagrangian lower bound ({} subgradient iterations)",
                h.iterations
            ),
        });
    }
    let open_start = warm.as_ref().map(|h| h.selected.clone());
    let (selected, objective, bound) = radius_milp(inst, &spec.with_time_left(start), &pre, open_start.as_deref())?;
    Ok(Outcome {
        selected,
        assignment: None,
        objective,
        bound,
        method: "HiGHS MILP (radius formulation over sorted distinct costs)".into(),
    })
}

/// The exact radius MILP; returns (open sites, objective, bound).
pub(crate) fn radius_milp(
    inst: &Instance,
    spec: &Spec,
    pre: &[usize],
    start: Option<&[usize]>,
) -> Result<(Vec<usize>, f64, f64), SiteError> {
    let m = inst.n_sites();
    let mut milp = Milp::new();
    let y: Vec<Col> = (0..m)
        .map(|j| milp.binary(0.0, inst.sites[j].preselected.then_some(true)))
        .collect();
    let mut start_vals: Option<Vec<f64>> =
        start.map(|s| (0..m).map(|j| if s.contains(&j) { 1.0 } else { 0.0 }).collect());
    let mut constant = 0.0;
    let mut order: Vec<usize> = Vec::with_capacity(m);
    for i in 0..inst.n_demand() {
        let w = inst.weights[i];
        let row = inst.costs.row(i);
        order.clear();
        order.extend((0..m).filter(|&j| row[j].is_finite()));
        order.sort_by(|&a, &b| row[a].total_cmp(&row[b]).then(a.cmp(&b)));
        // Cut after the level of the nearest pre-selected site.
        let cap = pre.iter().map(|&j| row[j]).fold(f64::INFINITY, f64::min);
        let all_reach = order.len() == m;
        // Distinct levels, each with its sites.
        let mut levels: Vec<(f64, Vec<usize>)> = Vec::new();
        for &j in &order {
            let c = row[j];
            if c > cap {
                break;
            }
            match levels.last_mut() {
                Some((lc, v)) if *lc == c => v.push(j),
                _ => levels.push((c, vec![j])),
            }
        }
        constant += w * levels[0].0;
        let capped = cap.is_finite();
        if w == 0.0 {
            if !all_reach && !capped {
                let terms: Vec<(Col, f64)> = order.iter().map(|&j| (y[j], 1.0)).collect();
                milp.row(1.0, f64::INFINITY, &terms);
            }
            continue;
        }
        let k_n = levels.len();
        let open_cost = start.map(|s| s.iter().map(|&j| row[j]).fold(f64::INFINITY, f64::min));
        let mut prev: Option<Col> = None;
        for k in 0..k_n {
            let mut terms: Vec<(Col, f64)> = levels[k].1.iter().map(|&j| (y[j], 1.0)).collect();
            if k + 1 < k_n {
                let z = milp.continuous(w * (levels[k + 1].0 - levels[k].0), 0.0, 1.0);
                if let (Some(v), Some(c)) = (start_vals.as_mut(), open_cost) {
                    v.push(if c > levels[k].0 { 1.0 } else { 0.0 });
                }
                terms.push((z, 1.0));
                match prev {
                    None => milp.row(1.0, f64::INFINITY, &terms),
                    Some(zp) => {
                        terms.push((zp, -1.0));
                        milp.row(0.0, f64::INFINITY, &terms);
                    }
                }
                prev = Some(z);
            } else if !all_reach && !capped {
                // The last level must be open if i is still unserved.
                match prev {
                    None => milp.row(1.0, f64::INFINITY, &terms),
                    Some(zp) => {
                        terms.push((zp, -1.0));
                        milp.row(0.0, f64::INFINITY, &terms);
                    }
                }
            }
        }
    }
    let n_y = y.len();
    add_count_or_budget(&mut milp, inst, spec, &y);
    if let Some(v) = start_vals {
        milp.start_from(v);
    }
    let s = milp.solve(Sense::Minimise, &spec.milp(), "p-median")?;
    let selected: Vec<usize> = (0..n_y).filter(|&j| s.values[y[j].index()] > 0.5).collect();
    // Recompute the objective exactly from the costs (no solver round-off).
    let objective = exact_cost(inst, &selected);
    let bound = (s.bound + constant).min(objective);
    Ok((selected, objective, bound))
}

/// Σ w·(cost to the nearest open site), summed in demand order.
pub(crate) fn exact_cost(inst: &Instance, open: &[usize]) -> f64 {
    (0..inst.n_demand())
        .map(|i| {
            let c = open.iter().map(|&j| inst.costs.get(i, j)).fold(f64::INFINITY, f64::min);
            inst.weights[i] * c
        })
        .sum()
}
