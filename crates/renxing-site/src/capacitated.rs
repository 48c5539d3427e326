//! Capacitated p-median and capacitated MCLP: a site serves at most its capacity of demand
//! weight (people for a shelter, beds for a ward).
//!
//! Whether a demand point may be served by several sites is the caller's choice
//! (`Spec::split`): **not split** by default (a census tract or a residential compound goes to
//! one shelter, as in spopt's capacitated PMedian), split when `split` is set (x becomes a share).
//!
//! - **capacitated p-median**: `min Σ_ij w_i d_ij x_ij` s.t. `Σ_j x_ij = 1`,
//!   `Σ_i w_i x_ij ≤ Q_j y_j`, `x_ij ≤ y_j`, `Σ_j y_j = p` (or budget), y binary, x binary or in
//!   [0,1]; with `fill_preselected`, `Σ_i w_i x_ij = Q_j` for every pre-selected j (an existing
//!   facility must be used to capacity).
//! - **capacitated MCLP**: `max Σ_ij w_i x_ij` over pairs with `d_ij ≤ S`, s.t. `Σ_j x_ij ≤ 1`,
//!   `Σ_i w_i x_ij ≤ Q_j y_j`, `x_ij ≤ y_j`, `Σ_j y_j = p` (or budget).
//!
//! Sites without a capacity are uncapacitated. Infeasibility is reported with its cause: demand
//! points no site reaches, total (or p largest) capacity below total demand, a point heavier than
//! every site that can serve it when splitting is off, pre-selected capacities above the demand.

use highs::{Col, Sense};

use crate::cover::add_count_or_budget;
use crate::milp::Milp;
use crate::solution::Outcome;
use crate::{Instance, SiteError, Spec};

fn capacity(inst: &Instance, j: usize) -> f64 {
    inst.sites[j].capacity.unwrap_or(f64::INFINITY)
}

fn check_capacity(inst: &Instance, spec: &Spec, model: &str) -> Result<(), SiteError> {
    if inst.sites.iter().all(|s| s.capacity.is_none()) {
        return Err(SiteError::invalid(format!(
            "{model} needs site capacities (a capacity column in the candidates file)"
        )));
    }
    if spec.fill_preselected {
        let pre: f64 = inst.preselected().iter().map(|&j| capacity(inst, j)).sum();
        if pre > inst.total_weight() {
            return Err(SiteError::infeasible(
                model,
                format!(
                    "pre-selected sites must be filled but their capacity {pre} exceeds the total demand {}",
                    inst.total_weight()
                ),
                inst.preselected().iter().map(|&j| inst.sites[j].id.clone()).collect(),
            ));
        }
    }
    Ok(())
}

pub(crate) fn cp_median(inst: &Instance, spec: &Spec) -> Result<Outcome, SiteError> {
    let model = "cp-median";
    check_capacity(inst, spec, model)?;
    inst.require_reachable(model)?;
    let total = inst.total_weight();
    let mut caps: Vec<f64> = (0..inst.n_sites()).map(|j| capacity(inst, j)).collect();
    let all: f64 = caps.iter().sum();
    if all < total {
        return Err(SiteError::infeasible(
            model,
            format!("the capacity of all candidate sites, {all}, is below the total demand {total}"),
            vec![],
        ));
    }
    if let Some(p) = spec.p {
        let pre = inst.preselected();
        let pre_cap: f64 = pre.iter().map(|&j| caps[j]).sum();
        let mut rest: Vec<f64> = (0..inst.n_sites())
            .filter(|j| !inst.sites[*j].preselected)
            .map(|j| caps[j])
            .collect();
        rest.sort_by(|a, b| b.total_cmp(a));
        let best: f64 = pre_cap + rest.iter().take(p - pre.len()).sum::<f64>();
        if best < total {
            return Err(SiteError::infeasible(
                model,
                format!(
                    "even the {p} largest capacities (pre-selected included) add up to {best}, below the total demand {total}"
                ),
                vec![],
            ));
        }
    }
    if !spec.split {
        let heavy: Vec<String> = (0..inst.n_demand())
            .filter(|&i| {
                let w = inst.weights[i];
                !(0..inst.n_sites()).any(|j| inst.costs.get(i, j).is_finite() && caps[j] >= w)
            })
            .map(|i| format!("{} (weight {})", inst.demand_ids[i], inst.weights[i]))
            .collect();
        if !heavy.is_empty() {
            return Err(SiteError::infeasible(
                model,
                format!(
                    "{} demand point(s) outweigh every site that can reach them, and splitting is off",
                    heavy.len()
                ),
                heavy,
            ));
        }
    }
    caps.iter_mut().for_each(|c| *c = c.min(total));
    let (selected, assignment, objective, bound) = assign_milp(inst, spec, &caps, None, Sense::Minimise, model)?;
    Ok(Outcome {
        selected,
        assignment: Some(assignment),
        objective,
        bound,
        method: format!(
            "HiGHS MILP (assignment formulation, demand {})",
            if spec.split { "split allowed" } else { "not split" }
        ),
    })
}

pub(crate) fn cmclp(inst: &Instance, spec: &Spec) -> Result<Outcome, SiteError> {
    let model = "cmclp";
    check_capacity(inst, spec, model)?;
    let total = inst.total_weight();
    let caps: Vec<f64> = (0..inst.n_sites()).map(|j| capacity(inst, j).min(total)).collect();
    let service = spec.service.expect("checked");
    let (selected, assignment, objective, bound) =
        assign_milp(inst, spec, &caps, Some(service), Sense::Maximise, model)?;
    Ok(Outcome {
        selected,
        assignment: Some(assignment),
        objective,
        bound,
        method: format!(
            "HiGHS MILP (covered-flow formulation, demand {})",
            if spec.split { "split allowed" } else { "not split" }
        ),
    })
}

type Assigned = (Vec<usize>, Vec<Vec<(usize, f64)>>, f64, f64);

/// The shared assignment MILP: `service = None` is the p-median form (every point assigned,
/// minimise cost), `Some(S)` the covering form (pairs within S, maximise served weight).
fn assign_milp(
    inst: &Instance,
    spec: &Spec,
    caps: &[f64],
    service: Option<f64>,
    sense: Sense,
    model: &str,
) -> Result<Assigned, SiteError> {
    let (n, m) = (inst.n_demand(), inst.n_sites());
    let mut milp = Milp::new();
    let y: Vec<Col> = (0..m)
        .map(|j| milp.binary(0.0, inst.sites[j].preselected.then_some(true)))
        .collect();
    let mut x: Vec<Vec<(usize, Col)>> = Vec::with_capacity(n);
    let mut by_site: Vec<Vec<(Col, f64)>> = vec![Vec::new(); m];
    for i in 0..n {
        let w = inst.weights[i];
        let mut xi = Vec::new();
        for j in 0..m {
            let c = inst.costs.get(i, j);
            let usable = match service {
                None => c.is_finite(),
                Some(s) => c <= s,
            };
            if !usable {
                continue;
            }
            let obj = match service {
                None => w * c,
                Some(_) => w,
            };
            let col = if spec.split {
                milp.continuous(obj, 0.0, 1.0)
            } else {
                milp.binary(obj, None)
            };
            milp.row(f64::NEG_INFINITY, 0.0, &[(col, 1.0), (y[j], -1.0)]);
            by_site[j].push((col, w));
            xi.push((j, col));
        }
        let terms: Vec<(Col, f64)> = xi.iter().map(|&(_, c)| (c, 1.0)).collect();
        match service {
            None => milp.row(1.0, 1.0, &terms),
            Some(_) if !terms.is_empty() => milp.row(f64::NEG_INFINITY, 1.0, &terms),
            Some(_) => {}
        }
        x.push(xi);
    }
    for j in 0..m {
        if caps[j].is_infinite() {
            continue;
        }
        let mut terms = by_site[j].clone();
        terms.push((y[j], -caps[j]));
        if spec.fill_preselected && inst.sites[j].preselected {
            milp.row(0.0, 0.0, &terms);
        } else {
            milp.row(f64::NEG_INFINITY, 0.0, &terms);
        }
    }
    add_count_or_budget(&mut milp, inst, spec, &y);
    let s = milp.solve(sense, &spec.milp(), model)?;
    let selected: Vec<usize> = (0..m).filter(|&j| s.values[y[j].index()] > 0.5).collect();
    let assignment: Vec<Vec<(usize, f64)>> = x
        .iter()
        .map(|xi| {
            xi.iter()
                .map(|&(j, c)| (j, s.values[c.index()]))
                .filter(|&(_, v)| v > 1e-9)
                .map(|(j, v)| (j, if spec.split { v.min(1.0) } else { 1.0 }))
                .collect()
        })
        .collect();
    // The objective recomputed from the assignment (no solver round-off).
    let objective: f64 = assignment
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.iter()
                .map(|&(j, v)| match service {
                    None => inst.weights[i] * v * inst.costs.get(i, j),
                    Some(_) => inst.weights[i] * v,
                })
                .sum::<f64>()
        })
        .sum();
    let bound = match sense {
        Sense::Minimise => s.bound.min(objective),
        Sense::Maximise => s.bound.max(objective),
    };
    Ok((selected, assignment, objective, bound))
}
