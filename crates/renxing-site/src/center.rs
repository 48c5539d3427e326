//! p-center and p-dispersion, both solved exactly by bisection over the sorted distinct costs,
//! each step a small feasibility MILP instead of one big min-max MILP.
//!
//! - **p-center**: the least radius r such that p sites (pre-selected included) put every demand
//!   point within r. r is one of the distinct finite costs, at least `max_i min_j d_ij`. For a
//!   trial r, the set cover `min Σ y_j` s.t. `Σ_{j: d_ij ≤ r} y_j ≥ 1` (pre-selected fixed open)
//!   says whether p sites suffice; a greedy cover answers "yes" first when it can. Among all site
//!   sets reaching the optimal radius, the one with the least total weighted cost is returned
//!   (a p-median restricted to pairs within the radius), so the assignment is also sensible for
//!   the points that are not the farthest. The objective is unweighted, as in spopt's PCenter.
//! - **p-dispersion**: p sites whose smallest site-to-site cost is largest (spreading, e.g.,
//!   supply depots so one hazard cannot take out two). For a trial distance D, the independent
//!   set `max Σ y_j` s.t. `y_a + y_b ≤ 1` whenever `d_ab < D` (pre-selected open) says whether p
//!   sites can be at least D apart. The site-to-site matrix is given or great-circle distances
//!   from the site positions; a pair's cost is the smaller of its two directions.

use highs::{Col, Sense};

use crate::milp::Milp;
use crate::solution::Outcome;
use crate::{CostMatrix, Instance, SiteError, Spec};

pub(crate) fn p_center(inst: &Instance, spec: &Spec) -> Result<Outcome, SiteError> {
    let start_time = std::time::Instant::now();
    let p = spec.p.expect("checked");
    inst.require_reachable("p-center")?;
    let pre = inst.preselected();
    // No radius below any point's nearest site works.
    let floor = (0..inst.n_demand())
        .map(|i| inst.costs.row(i).iter().cloned().fold(f64::INFINITY, f64::min))
        .fold(0.0, f64::max);
    let mut levels: Vec<f64> = (0..inst.n_demand())
        .flat_map(|i| (0..inst.n_sites()).map(move |j| inst.costs.get(i, j)))
        .filter(|c| c.is_finite() && *c >= floor)
        .collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    // The largest level is always feasible (every point reaches some site, p ≥ 1 … unless the
    // pre-selected sites plus one cannot reach all: then the MILP tells).
    let (mut lo, mut hi) = (0usize, levels.len() - 1);
    let mut hi_sites = cover_within(inst, levels[hi], p, &pre, &spec.with_time_left(start_time))?;
    if hi_sites.is_none() {
        return Err(SiteError::infeasible(
            "p-center",
            format!("{p} sites cannot reach every demand point at any radius"),
            vec![],
        ));
    }
    let mut steps = 1;
    while lo < hi {
        let mid = (lo + hi) / 2;
        steps += 1;
        match cover_within(inst, levels[mid], p, &pre, &spec.with_time_left(start_time))? {
            Some(s) => {
                hi = mid;
                hi_sites = Some(s);
            }
            None => lo = mid + 1,
        }
    }
    let radius = levels[hi];
    // Least total weighted cost among the site sets within the radius.
    let within = CostMatrix::from_fn(inst.n_demand(), inst.n_sites(), |i, j| {
        let c = inst.costs.get(i, j);
        if c <= radius { c } else { f64::INFINITY }
    });
    let mut restricted = inst.clone();
    restricted.costs = within;
    let mut mspec = spec.with_time_left(start_time);
    mspec.p = Some(p);
    mspec.budget = None;
    let start = hi_sites.expect("feasible at the top level");
    let (selected, _, _) = crate::median::radius_milp(&restricted, &mspec, &pre, Some(&pad(start, p, inst)))?;
    Ok(Outcome {
        selected,
        assignment: None,
        objective: radius,
        bound: radius,
        method: format!(
            "bisection over {} distinct costs ({steps} set-cover MILPs), then least weighted cost within the radius",
            levels.len()
        ),
    })
}

/// Open sites up to exactly p (lowest indices first) so a start vector has p ones.
fn pad(mut sites: Vec<usize>, p: usize, inst: &Instance) -> Vec<usize> {
    let mut j = 0;
    while sites.len() < p && j < inst.n_sites() {
        if !sites.contains(&j) {
            sites.push(j);
        }
        j += 1;
    }
    sites.sort_unstable();
    sites
}

/// Sites (at most p, pre-selected included) covering every demand point within `r`, or `None`.
fn cover_within(
    inst: &Instance,
    r: f64,
    p: usize,
    pre: &[usize],
    spec: &Spec,
) -> Result<Option<Vec<usize>>, SiteError> {
    let cov = inst.coverage(r);
    if (0..inst.n_demand()).any(|i| cov.of(i).is_empty()) {
        return Ok(None);
    }
    let groups = cov.groups();
    // Greedy first: if it fits in p, done.
    let m = inst.n_sites();
    let mut open = vec![false; m];
    for &j in pre {
        open[j] = true;
    }
    let mut covered: Vec<bool> = groups
        .iter()
        .map(|(s, _)| s.iter().any(|&j| open[j as usize]))
        .collect();
    let mut by_site = vec![Vec::new(); m];
    for (g, (s, _)) in groups.iter().enumerate() {
        for &j in s {
            by_site[j as usize].push(g);
        }
    }
    let mut n_open = pre.len();
    while covered.iter().any(|c| !c) && n_open <= p {
        let j = (0..m)
            .filter(|&j| !open[j])
            .max_by_key(|&j| {
                (
                    by_site[j].iter().filter(|&&g| !covered[g]).count(),
                    std::cmp::Reverse(j),
                )
            })
            .expect("every group has a site");
        open[j] = true;
        n_open += 1;
        by_site[j].iter().for_each(|&g| covered[g] = true);
    }
    if n_open <= p && covered.iter().all(|&c| c) {
        return Ok(Some((0..m).filter(|&j| open[j]).collect()));
    }
    let mut milp = Milp::new();
    let y: Vec<Col> = (0..m)
        .map(|j| milp.binary(1.0, inst.sites[j].preselected.then_some(true)))
        .collect();
    for (s, _) in &groups {
        let terms: Vec<(Col, f64)> = s.iter().map(|&j| (y[j as usize], 1.0)).collect();
        milp.row(1.0, f64::INFINITY, &terms);
    }
    let sol = milp.solve(Sense::Minimise, &spec.milp(), "p-center (set cover step)")?;
    if sol.bound > p as f64 + 1e-6 {
        return Ok(None);
    }
    if sol.objective > p as f64 + 1e-6 {
        return Err(SiteError::Solver(format!(
            "p-center: the time limit stopped a set cover at radius {r} before deciding whether {p} sites suffice; allow more time"
        )));
    }
    Ok(Some((0..m).filter(|&j| sol.values[y[j].index()] > 0.5).collect()))
}

pub(crate) fn p_dispersion(inst: &Instance, spec: &Spec) -> Result<Outcome, SiteError> {
    let start_time = std::time::Instant::now();
    let p = spec.p.expect("checked");
    let owned;
    let d = match &inst.site_costs {
        Some(d) => d,
        None => {
            owned = inst.site_distances()?;
            &owned
        }
    };
    let m = inst.n_sites();
    let pair = |a: usize, b: usize| d.get(a, b).min(d.get(b, a));
    let pre = inst.preselected();
    // The pre-selected sites fix a ceiling.
    let mut ceiling = f64::INFINITY;
    for (k, &a) in pre.iter().enumerate() {
        for &b in &pre[k + 1..] {
            ceiling = ceiling.min(pair(a, b));
        }
    }
    let mut levels: Vec<f64> = Vec::new();
    for a in 0..m {
        for b in a + 1..m {
            let c = pair(a, b);
            if c.is_finite() && c <= ceiling {
                levels.push(c);
            }
        }
    }
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    if levels.is_empty() {
        return Err(SiteError::infeasible(
            "p-dispersion",
            "no pair of candidate sites has a finite site-to-site cost",
            vec![],
        ));
    }
    let apart = |dist: f64| -> Result<Option<Vec<usize>>, SiteError> {
        let mut milp = Milp::new();
        let y: Vec<Col> = (0..m)
            .map(|j| milp.binary(1.0, inst.sites[j].preselected.then_some(true)))
            .collect();
        for a in 0..m {
            for b in a + 1..m {
                if pair(a, b) < dist {
                    milp.row(f64::NEG_INFINITY, 1.0, &[(y[a], 1.0), (y[b], 1.0)]);
                }
            }
        }
        match milp.solve(
            Sense::Maximise,
            &spec.with_time_left(start_time).milp(),
            "p-dispersion (independent set step)",
        ) {
            Ok(s) if s.objective >= p as f64 - 1e-6 => {
                let all: Vec<usize> = (0..m).filter(|&j| s.values[y[j].index()] > 0.5).collect();
                // Keep the pre-selected ones, then the lowest other indices, p in all.
                let mut keep: Vec<usize> = all.iter().copied().filter(|j| inst.sites[*j].preselected).collect();
                keep.extend(all.iter().copied().filter(|j| !inst.sites[*j].preselected));
                keep.truncate(p);
                keep.sort_unstable();
                Ok(Some(keep))
            }
            Ok(s) if s.bound < p as f64 - 1e-6 => Ok(None),
            Ok(_) => Err(SiteError::Solver(format!(
                "p-dispersion: the time limit stopped the step at distance {dist} undecided; allow more time"
            ))),
            Err(SiteError::Infeasible { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    };
    // Largest feasible level: the smallest level is always feasible (any p sites are ≥ it apart)
    // unless the pre-selected ones conflict, which the ceiling prevents.
    let (mut lo, mut hi) = (0usize, levels.len() - 1);
    let mut best = apart(levels[0])?;
    if best.is_none() {
        return Err(SiteError::infeasible(
            "p-dispersion",
            format!("fewer than {p} sites have finite site-to-site costs"),
            vec![],
        ));
    }
    let mut steps = 1;
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        steps += 1;
        match apart(levels[mid])? {
            Some(s) => {
                lo = mid;
                best = Some(s);
            }
            None => hi = mid - 1,
        }
    }
    let selected = best.expect("feasible at the lowest level");
    let mut objective = f64::INFINITY;
    for (k, &a) in selected.iter().enumerate() {
        for &b in &selected[k + 1..] {
            objective = objective.min(pair(a, b));
        }
    }
    Ok(Outcome {
        selected,
        assignment: None,
        objective,
        // Pairs without a finite cost can make the chosen set better than every level.
        bound: levels[lo].max(objective),
        method: format!(
            "bisection over {} distinct site-to-site costs ({steps} independent-set MILPs)",
            levels.len()
        ),
    })
}
