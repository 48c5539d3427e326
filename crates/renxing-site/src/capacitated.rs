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
//! With p (not a budget) and few admissible site sets, the capacitated p-median is solved by
//! ranking the sets by a lower bound and solving them one by one (`by_site_sets`); otherwise
//! by the MILP above.
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
    let start = std::time::Instant::now();
    if let Some(out) = by_site_sets(inst, spec, &caps)? {
        return Ok(out);
    }
    let spec = &spec.with_time_left(start);
    let (selected, assignment, objective, bound) = assign_milp(inst, spec, &caps, None, Sense::Minimise, model, None)?;
    Ok(Outcome {
        selected,
        assignment: Some(assignment),
        objective,
        bound,
        method: format!("HiGHS MILP (assignment formulation, demand {})", demand_split(spec)),
    })
}

pub(crate) fn cmclp(inst: &Instance, spec: &Spec) -> Result<Outcome, SiteError> {
    let model = "cmclp";
    check_capacity(inst, spec, model)?;
    let total = inst.total_weight();
    let caps: Vec<f64> = (0..inst.n_sites()).map(|j| capacity(inst, j).min(total)).collect();
    let service = spec.service.expect("checked");
    let (selected, assignment, objective, bound) =
        assign_milp(inst, spec, &caps, Some(service), Sense::Maximise, model, None)?;
    Ok(Outcome {
        selected,
        assignment: Some(assignment),
        objective,
        bound,
        method: format!("HiGHS MILP (covered-flow formulation, demand {})", demand_split(spec)),
    })
}

/// Most site sets [`by_site_sets`] ranks, and most demand × site-set work (points × sets × p).
const SET_LIMIT: usize = 50_000;
const SET_WORK_LIMIT: usize = 100_000_000;
/// Most fixed-set assignment MILPs it solves before handing over to the full MILP.
const SET_SOLVES: usize = 64;

/// Exact capacitated p-median over few candidate sites: every admissible site set (the
/// pre-selected sites plus p − |pre| others, capacity enough for the demand) gets the
/// uncapacitated cost Σ_i w_i min_{j∈Y} d_ij, a lower bound of its capacitated cost. The sets are
/// taken cheapest bound first, each solved exactly as a fixed-site assignment MILP, until the
/// next bound is no better than the best solution found: that solution is then proven optimal.
/// On San Francisco (16 stores, p = 4) 2 of the 1,820 sets are solved. `None` when there are
/// too many sets, a budget instead of p, or more than [`SET_SOLVES`] solves would be needed.
fn by_site_sets(inst: &Instance, spec: &Spec, caps: &[f64]) -> Result<Option<Outcome>, SiteError> {
    let start = std::time::Instant::now();
    let (Some(p), None) = (spec.p, spec.budget) else {
        return Ok(None);
    };
    let pre = inst.preselected();
    let free: Vec<usize> = (0..inst.n_sites()).filter(|&j| !inst.sites[j].preselected).collect();
    let Some(k) = p.checked_sub(pre.len()) else {
        return Ok(None);
    };
    if k > free.len() {
        return Ok(None);
    }
    let count = binomial(free.len(), k);
    if count > SET_LIMIT || count.saturating_mul(inst.n_demand()).saturating_mul(p.max(1)) > SET_WORK_LIMIT {
        return Ok(None);
    }
    let total = inst.total_weight();
    let mut sets: Vec<(f64, Vec<usize>)> = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        let mut y = pre.clone();
        y.extend(idx.iter().map(|&t| free[t]));
        let cap: f64 = y.iter().map(|&j| caps[j]).sum();
        if cap >= total * (1.0 - 1e-12) {
            let lb: f64 = (0..inst.n_demand())
                .map(|i| {
                    let c = y.iter().map(|&j| inst.costs.get(i, j)).fold(f64::INFINITY, f64::min);
                    inst.weights[i] * c
                })
                .sum();
            if lb.is_finite() {
                y.sort_unstable();
                sets.push((lb, y));
            }
        }
        // Next combination of k out of free.len(), in lexicographic order.
        let Some(t) = (0..k).rev().find(|&t| idx[t] < free.len() - k + t) else {
            break;
        };
        idx[t] += 1;
        for u in t + 1..k {
            idx[u] = idx[u - 1] + 1;
        }
    }
    sets.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut best: Option<Assigned> = None;
    let mut solves = 0;
    for (lb, y) in &sets {
        if best.as_ref().is_some_and(|b| *lb >= b.2) {
            break;
        }
        if solves == SET_SOLVES || spec.out_of_time(start) {
            return Ok(None);
        }
        solves += 1;
        let found = match assign_milp(
            inst,
            &spec.with_time_left(start),
            caps,
            None,
            Sense::Minimise,
            "cp-median",
            Some(y),
        ) {
            Ok(a) => a,
            // This set cannot take the demand unsplit: the next one may.
            Err(SiteError::Infeasible { .. }) => continue,
            // Stopped by the time limit before any solution: the full MILP gets what is left.
            Err(_) if spec.time_limit.is_some() => return Ok(None),
            Err(e) => return Err(e),
        };
        // HiGHS's bound against the objective recounted from the rounded assignment: a gap
        // beyond the solver's tolerances means the time limit stopped it.
        if found.3 < found.2 - 1e-6 * found.2.abs().max(1.0) {
            return Ok(None);
        }
        if best.as_ref().is_none_or(|b| found.2 < b.2) {
            best = Some(found);
        }
    }
    Ok(best.map(|(selected, assignment, objective, _)| Outcome {
        selected,
        assignment: Some(assignment),
        objective,
        bound: objective,
        method: format!(
            "site sets by their uncapacitated lower bound, {solves} of {} solved exactly as assignment MILPs (demand {})",
            sets.len(),
            demand_split(spec)
        ),
    }))
}

fn binomial(n: usize, k: usize) -> usize {
    let k = k.min(n - k);
    let mut c: usize = 1;
    for i in 0..k {
        c = match c.checked_mul(n - i) {
            Some(v) => v / (i + 1),
            None => return usize::MAX,
        };
    }
    c
}

/// How demand may be served, for method descriptions.
fn demand_split(spec: &Spec) -> &'static str {
    if spec.split { "split allowed" } else { "not split" }
}

type Assigned = (Vec<usize>, Vec<Vec<(usize, f64)>>, f64, f64);

/// The shared assignment MILP: `service = None` is the p-median form (every point assigned,
/// minimise cost), `Some(S)` the covering form (pairs within S, maximise served weight).
/// `only`: these sites open, all others closed (a fixed site set; its size must fit p).
#[allow(clippy::too_many_arguments)]
fn assign_milp(
    inst: &Instance,
    spec: &Spec,
    caps: &[f64],
    service: Option<f64>,
    sense: Sense,
    model: &str,
    only: Option<&[usize]>,
) -> Result<Assigned, SiteError> {
    let (n, m) = (inst.n_demand(), inst.n_sites());
    let mut milp = Milp::new();
    let fixed = |j: usize| match only {
        Some(o) => Some(o.contains(&j)),
        None => inst.sites[j].preselected.then_some(true),
    };
    let y: Vec<Col> = (0..m).map(|j| milp.binary(0.0, fixed(j))).collect();
    let mut x: Vec<Vec<(usize, Col)>> = Vec::with_capacity(n);
    let mut by_site: Vec<Vec<(Col, f64)>> = vec![Vec::new(); m];
    for i in 0..n {
        let w = inst.weights[i];
        let mut xi = Vec::new();
        for j in 0..m {
            if fixed(j) == Some(false) {
                continue;
            }
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
