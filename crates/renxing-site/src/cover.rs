//! Coverage models: LSCP, LSCP-B and MCLP. A demand point is covered by a site when their cost
//! is at most the service cost S (`d_ij ≤ S`, as spopt computes it). Demand points with the same
//! covering set are one row of the MILP (their weights added), so city grids with many points
//! per street block stay small.
//!
//! - **LSCP**: `min Σ_j c_j y_j` s.t. `Σ_{j: d_ij ≤ S} y_j ≥ 1` for every demand point i;
//!   `y_j ∈ {0,1}`, `y_j = 1` for pre-selected sites; `c_j` = 1, or the site cost when costs are
//!   given (then the objective is the total cost). A demand point no site covers makes the model
//!   infeasible; they are all named.
//! - **LSCP-B**: first LSCP (its optimum `P*`), then `max Σ_i u_i` s.t.
//!   `Σ_{j: d_ij ≤ S} y_j ≥ 1 + u_i`, `Σ_j c_j y_j = P*`, `u_i ∈ {0,1}`: among the cheapest full
//!   covers, the one covering most demand points twice. The objective is the number of demand
//!   points covered at least twice. (spopt's LSCPB also counts points with fewer than two sites
//!   in range as backed up, so its objective is larger by that number; the sites chosen agree.)
//! - **MCLP**: `max Σ_i w_i z_i` s.t. `z_i ≤ Σ_{j: d_ij ≤ S} y_j`, `Σ_j y_j = p` (or
//!   `Σ_j c_j y_j ≤ budget`), `0 ≤ z_i ≤ 1` (integral at the optimum once y is), `y_j ∈ {0,1}`.
//!   At scale, stages that each end the run once the gap target is proven:
//!   [`crate::heuristic::mclp`] (greedy + swaps, Lagrangian bound); the LP relaxation (its
//!   optimum bounds the MILP's; the sites ranked by their LP value, rounded to p and improved by
//!   swaps, give a second solution); the MILP warm-started with the best solution.

use highs::{Col, Sense};

use crate::heuristic::{self, CoverGroups, Heuristic, Limits};
use crate::milp::{Milp, MilpOutcome};
use crate::solution::Outcome;
use crate::{Instance, Method, SiteError, Spec};

/// Covering sets (distinct), with the number of demand points and their weight per set.
pub(crate) struct Rows {
    pub sets: Vec<Vec<u32>>,
    pub count: Vec<usize>,
    pub weight: Vec<f64>,
}

/// Distinct covering sets of the instance at `service`; fails naming every demand point no
/// site covers when `all_needed`.
pub(crate) fn rows(inst: &Instance, service: f64, all_needed: bool, model: &str) -> Result<Rows, SiteError> {
    let cov = inst.coverage(service);
    if all_needed {
        let lost: Vec<String> = (0..inst.n_demand())
            .filter(|&i| cov.of(i).is_empty())
            .map(|i| {
                let near = inst.costs.row(i).iter().cloned().fold(f64::INFINITY, f64::min);
                if near.is_finite() {
                    format!("{} (nearest site at {near:.1})", inst.demand_ids[i])
                } else {
                    format!("{} (no site reachable)", inst.demand_ids[i])
                }
            })
            .collect();
        if !lost.is_empty() {
            return Err(SiteError::infeasible(
                model,
                format!(
                    "{} demand point(s) have no candidate site within the service cost {service}",
                    lost.len()
                ),
                lost,
            ));
        }
    }
    let mut out = Rows {
        sets: Vec::new(),
        count: Vec::new(),
        weight: Vec::new(),
    };
    for (set, members) in cov.groups() {
        out.sets.push(set);
        out.count.push(members.len());
        out.weight.push(members.iter().map(|&i| inst.weights[i as usize]).sum());
    }
    Ok(out)
}

fn site_cols(milp: &mut Milp, inst: &Instance, cost: impl Fn(usize) -> f64) -> Vec<Col> {
    (0..inst.n_sites())
        .map(|j| milp.binary(cost(j), inst.sites[j].preselected.then_some(true)))
        .collect()
}

fn chosen(values: &[f64], cols: &[Col]) -> Vec<usize> {
    cols.iter()
        .enumerate()
        .filter(|(_, c)| values[c.index()] > 0.5)
        .map(|(j, _)| j)
        .collect()
}

/// LSCP.
pub(crate) fn lscp(inst: &Instance, spec: &Spec) -> Result<Outcome, SiteError> {
    let service = spec.service.expect("checked");
    let rows = rows(inst, service, true, "lscp")?;
    let (selected, objective, bound) = solve_lscp(inst, &rows, spec)?;
    Ok(Outcome {
        selected,
        assignment: None,
        objective,
        bound,
        method: "HiGHS MILP (set cover over distinct covering sets)".into(),
    })
}

fn solve_lscp(inst: &Instance, rows: &Rows, spec: &Spec) -> Result<(Vec<usize>, f64, f64), SiteError> {
    let mut milp = Milp::new();
    let y = site_cols(&mut milp, inst, |j| inst.sites[j].cost);
    for set in &rows.sets {
        let terms: Vec<(Col, f64)> = set.iter().map(|&j| (y[j as usize], 1.0)).collect();
        milp.row(1.0, f64::INFINITY, &terms);
    }
    milp.start_from(greedy_cover(inst, rows));
    let s = milp.solve(Sense::Minimise, &spec.milp(), "lscp")?;
    Ok((chosen(&s.values, &y), s.objective, s.bound))
}

/// A feasible cover by cost-effectiveness (weighted greedy set cover), as a start for HiGHS.
fn greedy_cover(inst: &Instance, rows: &Rows) -> Vec<f64> {
    let m = inst.n_sites();
    let mut open = vec![false; m];
    let mut covered = vec![false; rows.sets.len()];
    let mut by_site = vec![Vec::new(); m];
    for (g, s) in rows.sets.iter().enumerate() {
        for &j in s {
            by_site[j as usize].push(g);
        }
    }
    for j in 0..m {
        if inst.sites[j].preselected {
            open[j] = true;
            by_site[j].iter().for_each(|&g| covered[g] = true);
        }
    }
    loop {
        let best = (0..m)
            .filter(|&j| !open[j])
            .map(|j| (j, by_site[j].iter().filter(|&&g| !covered[g]).count()))
            .filter(|&(_, n)| n > 0)
            .max_by(|a, b| {
                let ea = a.1 as f64 / inst.sites[a.0].cost.max(1e-12);
                let eb = b.1 as f64 / inst.sites[b.0].cost.max(1e-12);
                ea.total_cmp(&eb).then(b.0.cmp(&a.0))
            });
        match best {
            Some((j, _)) => {
                open[j] = true;
                by_site[j].iter().for_each(|&g| covered[g] = true);
            }
            None => break,
        }
    }
    open.iter().map(|&o| if o { 1.0 } else { 0.0 }).collect()
}

/// LSCP-B.
pub(crate) fn lscp_b(inst: &Instance, spec: &Spec) -> Result<Outcome, SiteError> {
    let t0 = std::time::Instant::now();
    let service = spec.service.expect("checked");
    let rows = rows(inst, service, true, "lscp-b")?;
    let (first, cost_star, first_bound) = solve_lscp(inst, &rows, spec)?;
    if cost_star - first_bound > 1e-9 * cost_star.abs().max(1.0) {
        return Err(SiteError::invalid(format!(
            "lscp-b: the time limit stopped the first stage (minimum cover) at {cost_star} with a bound of {first_bound}; allow more time"
        )));
    }
    let mut milp = Milp::new();
    let y = site_cols(&mut milp, inst, |_| 0.0);
    let mut start: Vec<f64> = (0..inst.n_sites())
        .map(|j| if first.contains(&j) { 1.0 } else { 0.0 })
        .collect();
    for (g, set) in rows.sets.iter().enumerate() {
        if set.len() < 2 {
            // Cannot be covered twice, but must be covered.
            milp.row(1.0, f64::INFINITY, &[(y[set[0] as usize], 1.0)]);
            continue;
        }
        let u = milp.binary(rows.count[g] as f64, None);
        let twice = set.iter().filter(|&&j| first.contains(&(j as usize))).count() >= 2;
        start.push(if twice { 1.0 } else { 0.0 });
        let mut terms: Vec<(Col, f64)> = set.iter().map(|&j| (y[j as usize], 1.0)).collect();
        terms.push((u, -1.0));
        milp.row(1.0, f64::INFINITY, &terms);
    }
    let budget: Vec<(Col, f64)> = y.iter().enumerate().map(|(j, &c)| (c, inst.sites[j].cost)).collect();
    let tol = 1e-9 * cost_star.abs().max(1.0);
    milp.row(cost_star - tol, cost_star + tol, &budget);
    milp.start_from(start);
    let s = milp.solve(Sense::Maximise, &spec.with_time_left(t0).milp(), "lscp-b")?;
    Ok(Outcome {
        selected: chosen(&s.values, &y),
        assignment: None,
        objective: s.objective.round(),
        bound: if s.outcome == MilpOutcome::Optimal {
            s.objective.round()
        } else {
            s.bound
        },
        method: format!(
            "HiGHS MILP: set cover (minimum {cost_star}), then most demand points covered twice at that minimum"
        ),
    })
}

/// MCLP.
pub(crate) fn mclp(inst: &Instance, spec: &Spec) -> Result<Outcome, SiteError> {
    let service = spec.service.expect("checked");
    let rows = rows(inst, service, false, "mclp")?;
    let pre = inst.preselected();
    let heuristic_allowed = spec.budget.is_none();
    let use_heuristic = heuristic_allowed && spec.method == Method::Heuristic;
    let start = std::time::Instant::now();
    let entries = inst.n_demand() * inst.n_sites();
    let opts = spec.milp_for(entries);
    let groups = CoverGroups::new(rows.sets.clone(), rows.weight.clone(), inst.n_sites());
    // Stages, each stopping once the gap target is proven: greedy + swaps with the Lagrangian
    // bound; the LP relaxation (its bound, and swaps from its rounding); the MILP.
    let mut warm: Option<Heuristic> = None;
    if heuristic_allowed {
        let p = spec.p.expect("checked");
        // At scale (or on request) the stages answer on their own; an exact run only takes the
        // heuristic's site set as HiGHS's first incumbent.
        let staged = use_heuristic || opts.rel_gap > 0.0;
        let limits = Limits::for_spec(spec, staged, 300);
        let mut h = heuristic::mclp(&groups, inst.n_sites(), &pre, p, limits);
        let mut method = format!(
            "greedy + swaps, Lagrangian upper bound ({} subgradient iterations)",
            h.iterations
        );
        let target = if use_heuristic { spec.gap_target } else { opts.rel_gap };
        // The LP stage shares the time left; an LP stopped early (or failing) adds nothing and
        // the heuristic's answer stands.
        if staged
            && !within(&h, target)
            && !spec.out_of_time(start)
            && let Ok(lp) = mclp_relaxation(inst, &rows, &spec.with_time_left(start))
            && lp.bound.is_finite()
        {
            let order = lp_order(&lp.y, &h.selected);
            let mut left = limits;
            left.seconds = spec.with_time_left(start).time_limit.unwrap_or(limits.seconds);
            let rounded = heuristic::mclp_from(&groups, inst.n_sites(), &pre, p, &order, left);
            if rounded.objective > h.objective + 1e-9 * h.objective.abs().max(1.0) {
                h.selected = rounded.selected;
                h.objective = rounded.objective;
            }
            h.bound = h.bound.min(lp.bound).max(h.objective);
            method = format!("{method}; LP relaxation bound, swaps from its rounding");
        }
        // Out of time for the MILP: the heuristic's answer and its proof stand.
        if use_heuristic || within(&h, target) || spec.out_of_time(start) {
            return Ok(Outcome {
                selected: h.selected.clone(),
                assignment: None,
                objective: h.objective,
                bound: h.bound,
                method,
            });
        }
        warm = Some(h);
    }
    let mut milp = Milp::new();
    let y = site_cols(&mut milp, inst, |_| 0.0);
    add_cover_rows(&mut milp, &rows, &y);
    add_count_or_budget(&mut milp, inst, spec, &y);
    if let Some(h) = &warm {
        milp.start_from(cover_start(inst, &rows, &h.selected));
    }
    let opts = spec.with_time_left(start).milp_for(entries);
    let s = milp.solve(Sense::Maximise, &opts, "mclp")?;
    // The Lagrangian or LP bound may be the tighter one when HiGHS stopped at the gap target.
    let bound = warm.as_ref().map_or(s.bound, |h| s.bound.min(h.bound));
    Ok(Outcome {
        selected: chosen(&s.values, &y),
        assignment: None,
        objective: s.objective,
        bound: bound.max(s.objective),
        method: if opts.rel_gap > 0.0 {
            format!(
                "HiGHS MILP (one row per distinct covering set) to a relative gap of {}",
                opts.rel_gap
            )
        } else {
            "HiGHS MILP (one row per distinct covering set)".into()
        },
    })
}

/// (bound − objective) / bound at most `target`.
fn within(h: &Heuristic, target: f64) -> bool {
    h.bound - h.objective <= target.max(1e-9) * h.bound.abs().max(1e-300)
}

/// `z_g ≤ Σ_{j covers g} y_j`, with `z_g ∈ [0, 1]` weighted by the group's demand.
fn add_cover_rows(milp: &mut Milp, rows: &Rows, y: &[Col]) {
    for (g, set) in rows.sets.iter().enumerate() {
        let z = milp.continuous(rows.weight[g], 0.0, 1.0);
        let mut terms: Vec<(Col, f64)> = set.iter().map(|&j| (y[j as usize], -1.0)).collect();
        terms.push((z, 1.0));
        milp.row(f64::NEG_INFINITY, 0.0, &terms);
    }
}

/// 0/1 per site for the `selected` ones.
fn y_start(inst: &Instance, selected: &[usize]) -> Vec<f64> {
    let mut v = vec![0.0; inst.n_sites()];
    selected.iter().for_each(|&j| v[j] = 1.0);
    v
}

/// A full MCLP start (sites, then one z per group) from a site set.
fn cover_start(inst: &Instance, rows: &Rows, selected: &[usize]) -> Vec<f64> {
    let mut start = y_start(inst, selected);
    for set in &rows.sets {
        let z = set.iter().any(|&j| start[j as usize] > 0.5);
        start.push(if z { 1.0 } else { 0.0 });
    }
    start
}

/// The LP relaxation of the MCLP: its optimum is an upper bound on the MILP's, usually far
/// tighter than where the subgradient method stalls.
struct Relaxation {
    y: Vec<f64>,
    bound: f64,
}

fn mclp_relaxation(inst: &Instance, rows: &Rows, spec: &Spec) -> Result<Relaxation, SiteError> {
    let mut lp = Milp::new();
    let y: Vec<Col> = (0..inst.n_sites())
        .map(|j| {
            let lo = if inst.sites[j].preselected { 1.0 } else { 0.0 };
            lp.continuous(0.0, lo, 1.0)
        })
        .collect();
    add_cover_rows(&mut lp, rows, &y);
    add_count_or_budget(&mut lp, inst, spec, &y);
    let s = lp.solve(Sense::Maximise, &spec.milp(), "mclp (LP relaxation)")?;
    if s.outcome != MilpOutcome::Optimal {
        return Ok(Relaxation {
            y: vec![0.0; inst.n_sites()],
            bound: f64::INFINITY,
        });
    }
    Ok(Relaxation {
        y: y.iter().map(|c| s.values[c.index()]).collect(),
        // A hair above the LP optimum, for the solver's tolerances.
        bound: s.objective * (1.0 + 1e-9),
    })
}

/// Sites by LP value, largest first; ties go to the heuristic's sites, then the lower index.
fn lp_order(y: &[f64], heuristic: &[usize]) -> Vec<usize> {
    let mut in_h = vec![false; y.len()];
    heuristic.iter().for_each(|&j| in_h[j] = true);
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| y[b].total_cmp(&y[a]).then(in_h[b].cmp(&in_h[a])).then(a.cmp(&b)));
    order
}

/// `Σ y = p` or `Σ c·y ≤ budget`.
pub(crate) fn add_count_or_budget(milp: &mut Milp, inst: &Instance, spec: &Spec, y: &[Col]) {
    match (spec.p, spec.budget) {
        (Some(p), _) => {
            let terms: Vec<(Col, f64)> = y.iter().map(|&c| (c, 1.0)).collect();
            milp.row(p as f64, p as f64, &terms);
        }
        (None, Some(b)) => {
            let terms: Vec<(Col, f64)> = y.iter().enumerate().map(|(j, &c)| (c, inst.sites[j].cost)).collect();
            milp.row(f64::NEG_INFINITY, b, &terms);
        }
        (None, None) => unreachable!("checked: p or budget"),
    }
}
