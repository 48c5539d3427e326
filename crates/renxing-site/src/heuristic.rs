//! Heuristics for city-scale MCLP and p-median, each paired with a Lagrangian relaxation that
//! proves how far from optimal the answer can be.
//!
//! **MCLP** (maximise covered weight with p sites). Demand points with the same covering set are
//! merged into groups first. A lazy greedy adds the site covering the most uncovered weight; a
//! best-improvement swap search (drop one open site, add one closed site, gains kept exact with
//! per-group cover counts) polishes it. The bound relaxes "a group counts as covered only if an
//! open site covers it" with multipliers λ_g ∈ [0, w_g]:
//! `L(λ) = Σ_g (w_g − λ_g) + max_{|Y| = p} Σ_{j∈Y} Σ_{g ∋ j} λ_g`, an upper bound for every λ,
//! minimised by subgradient steps (Held–Wolfe–Crowder step size). Each relaxed site set is
//! also evaluated as a solution.
//!
//! **p-median** (minimise Σ w·cost to the nearest open site). Greedy addition, then the
//! Teitz–Bart interchange evaluated for all (insert k, remove r) pairs in one pass over the
//! matrix per move, with Whitaker's nearest/second-nearest bookkeeping:
//! `Δ(k, r) = Σ_i w_i (min(c1_i, d_ik) − c1_i) + Σ_{i: φ1(i) = r} w_i (min(c2_i, d_ik) − min(c1_i, d_ik))`.
//! The bound relaxes "each demand point is assigned once" with multipliers u_i:
//! `L(u) = Σ_i u_i + min_{|Y| = p} Σ_{j∈Y} Σ_i min(0, w_i d_ij − u_i)`, a lower bound for every u.
//!
//! Pre-selected sites are open in every step and never swapped out. Everything is deterministic
//! (ties go to the lower site index; parallel sums are reduced in a fixed order).

use std::collections::BinaryHeap;
use std::time::Instant;

use rayon::prelude::*;

use crate::CostMatrix;

/// Demand groups of an MCLP: each with its covering sites and total weight.
pub struct CoverGroups {
    pub sites: Vec<Vec<u32>>,
    pub weight: Vec<f64>,
    /// Site → groups it covers.
    pub by_site: Vec<Vec<u32>>,
}

impl CoverGroups {
    pub fn new(sites: Vec<Vec<u32>>, weight: Vec<f64>, n_sites: usize) -> CoverGroups {
        let mut by_site = vec![Vec::new(); n_sites];
        for (g, s) in sites.iter().enumerate() {
            for &j in s {
                by_site[j as usize].push(g as u32);
            }
        }
        CoverGroups { sites, weight, by_site }
    }

    /// Weight covered by a set of open sites.
    pub fn covered(&self, open: &[bool]) -> f64 {
        self.sites
            .iter()
            .zip(&self.weight)
            .filter(|(s, _)| s.iter().any(|&j| open[j as usize]))
            .map(|(_, w)| w)
            .sum()
    }
}

/// Result of a heuristic: open sites, objective, and the proven bound.
#[derive(Debug, Clone)]
pub struct Heuristic {
    pub selected: Vec<usize>,
    pub objective: f64,
    pub bound: f64,
    pub iterations: usize,
}

/// Stop rules of the Lagrangian phase.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Stop once (bound − objective) / bound is at most this.
    pub gap_target: f64,
    pub max_iterations: usize,
    /// Wall-clock seconds for the whole heuristic.
    pub seconds: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            gap_target: 1e-3,
            max_iterations: 1000,
            seconds: 60.0,
        }
    }
}

impl Limits {
    /// Limits for a run that either answers on its own (`alone`: the spec's gap target, the full
    /// time) or warm-starts an exact MILP (gap 0, `warm_iterations`, a fifth of the time).
    pub fn for_spec(spec: &crate::Spec, alone: bool, warm_iterations: usize) -> Limits {
        Limits {
            gap_target: if alone { spec.gap_target } else { 0.0 },
            max_iterations: if alone { 1000 } else { warm_iterations },
            seconds: spec.time_limit.unwrap_or(60.0) * if alone { 1.0 } else { 0.2 },
        }
    }
}

/// MCLP: greedy + swaps, with the Lagrangian upper bound. `p` counts the pre-selected sites.
pub fn mclp(groups: &CoverGroups, n_sites: usize, pre: &[usize], p: usize, limits: Limits) -> Heuristic {
    let t = Instant::now();
    let mut open = vec![false; n_sites];
    for &j in pre {
        open[j] = true;
    }
    let mut count = vec![0u32; groups.sites.len()];
    for &j in pre {
        for &g in &groups.by_site[j] {
            count[g as usize] += 1;
        }
    }
    // Lazy greedy: gains only fall as sites open.
    let gain_of = |j: usize, count: &[u32]| -> f64 {
        groups.by_site[j]
            .iter()
            .filter(|&&g| count[g as usize] == 0)
            .map(|&g| groups.weight[g as usize])
            .sum()
    };
    let mut heap: BinaryHeap<(OrdF64, std::cmp::Reverse<usize>)> = (0..n_sites)
        .filter(|&j| !open[j])
        .map(|j| (OrdF64(gain_of(j, &count)), std::cmp::Reverse(j)))
        .collect();
    let mut n_open = pre.len();
    while n_open < p {
        let Some((OrdF64(g), std::cmp::Reverse(j))) = heap.pop() else {
            break;
        };
        let now = gain_of(j, &count);
        if now < g && heap.peek().is_some_and(|(OrdF64(top), _)| now < *top) {
            heap.push((OrdF64(now), std::cmp::Reverse(j)));
            continue;
        }
        open[j] = true;
        n_open += 1;
        for &g in &groups.by_site[j] {
            count[g as usize] += 1;
        }
    }
    mclp_swaps(groups, &mut open, &mut count, pre, &t, limits.seconds);
    let mut best_open = open.clone();
    let mut best = groups.covered(&open);
    let total: f64 = groups.weight.iter().sum();

    // Lagrangian upper bound.
    let mut lambda: Vec<f64> = groups.weight.clone();
    let mut bound = f64::INFINITY;
    let mut theta = 2.0;
    let mut stall = 0;
    let mut iterations = 0;
    let is_pre = mark(pre, n_sites);
    while iterations < limits.max_iterations && t.elapsed().as_secs_f64() < limits.seconds {
        iterations += 1;
        let mut value = vec![0.0f64; n_sites];
        for (g, s) in groups.sites.iter().enumerate() {
            for &j in s {
                value[j as usize] += lambda[g];
            }
        }
        let y = top_sites(&value, &is_pre, p, true);
        let l: f64 = groups.weight.iter().zip(&lambda).map(|(w, l)| w - l).sum::<f64>()
            + y.iter().map(|&j| value[j]).sum::<f64>();
        if !bound.is_finite() || l < bound - 1e-12 * bound.abs().max(1.0) {
            bound = l;
            stall = 0;
        } else {
            stall += 1;
            if stall >= 20 {
                theta /= 2.0;
                stall = 0;
            }
        }
        // The relaxed site set as a solution.
        let y_open = mark(&y, n_sites);
        let cov = groups.covered(&y_open);
        if cov > best + 1e-9 {
            best = cov;
            best_open = y_open.clone();
        }
        if bound.min(total) - best <= limits.gap_target * bound.min(total).max(1e-300) || theta < 1e-6 {
            break;
        }
        // Subgradient: z_g − Σ_{j∈N_g} y_j with z_g = 1 when w_g > λ_g.
        let mut norm = 0.0;
        let sub: Vec<f64> = groups
            .sites
            .iter()
            .enumerate()
            .map(|(g, s)| {
                let z = if groups.weight[g] > lambda[g] { 1.0 } else { 0.0 };
                let covered = s.iter().filter(|&&j| y_open[j as usize]).count() as f64;
                let d = z - covered;
                norm += d * d;
                d
            })
            .collect();
        if norm == 0.0 {
            break;
        }
        let step = theta * (l - best).max(1e-9 * l.abs().max(1.0)) / norm;
        for (g, d) in sub.iter().enumerate() {
            lambda[g] = (lambda[g] + step * d).clamp(0.0, groups.weight[g]);
        }
    }
    // Polish the best relaxed solution too.
    if best_open != open {
        let mut cnt = vec![0u32; groups.sites.len()];
        for (g, s) in groups.sites.iter().enumerate() {
            cnt[g] = s.iter().filter(|&&j| best_open[j as usize]).count() as u32;
        }
        mclp_swaps(groups, &mut best_open, &mut cnt, pre, &t, limits.seconds * 1.5);
        best = best.max(groups.covered(&best_open));
    }
    Heuristic {
        selected: (0..n_sites).filter(|&j| best_open[j]).collect(),
        objective: best,
        bound: bound.min(total).max(best),
        iterations,
    }
}

/// MCLP local search from a ranking of the sites: the pre-selected ones plus the first others
/// in `order` up to `p`, then best-improvement swaps. `objective` is exact; `bound` is left at
/// +∞ (this proves nothing).
pub fn mclp_from(
    groups: &CoverGroups,
    n_sites: usize,
    pre: &[usize],
    p: usize,
    order: &[usize],
    limits: Limits,
) -> Heuristic {
    let t = Instant::now();
    let mut open = mark(pre, n_sites);
    let mut n_open = pre.len();
    for &j in order {
        if n_open >= p {
            break;
        }
        if !open[j] {
            open[j] = true;
            n_open += 1;
        }
    }
    let mut count: Vec<u32> = groups
        .sites
        .iter()
        .map(|s| s.iter().filter(|&&j| open[j as usize]).count() as u32)
        .collect();
    mclp_swaps(groups, &mut open, &mut count, pre, &t, limits.seconds);
    Heuristic {
        selected: (0..n_sites).filter(|&j| open[j]).collect(),
        objective: groups.covered(&open),
        bound: f64::INFINITY,
        iterations: 0,
    }
}

/// Best-improvement swaps for MCLP until none gains.
fn mclp_swaps(groups: &CoverGroups, open: &mut [bool], count: &mut [u32], pre: &[usize], t: &Instant, seconds: f64) {
    let n_sites = open.len();
    let is_pre = mark(pre, n_sites);
    let total: f64 = groups.weight.iter().sum();
    loop {
        if t.elapsed().as_secs_f64() > seconds {
            return;
        }
        let removable: Vec<usize> = (0..n_sites).filter(|&j| open[j] && !is_pre[j]).collect();
        if removable.is_empty() {
            return;
        }
        let mut slot = vec![usize::MAX; n_sites];
        for (r, &j) in removable.iter().enumerate() {
            slot[j] = r;
        }
        let mut loss = vec![0.0; removable.len()];
        let mut gain = vec![0.0; n_sites];
        // corr[r][k]: weight covered only by removable r and also by closed k.
        let mut corr = vec![0.0; removable.len() * n_sites];
        for (g, s) in groups.sites.iter().enumerate() {
            let w = groups.weight[g];
            match count[g] {
                0 => s.iter().for_each(|&k| gain[k as usize] += w),
                1 => {
                    let sole = s
                        .iter()
                        .map(|&j| j as usize)
                        .find(|&j| open[j])
                        .expect("a covering site");
                    if slot[sole] != usize::MAX {
                        let r = slot[sole];
                        loss[r] += w;
                        for &k in s {
                            if !open[k as usize] {
                                corr[r * n_sites + k as usize] += w;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let mut best = (1e-12 * total.max(1.0), usize::MAX, usize::MAX);
        for (r, _) in removable.iter().enumerate() {
            for k in 0..n_sites {
                if open[k] {
                    continue;
                }
                let d = gain[k] - loss[r] + corr[r * n_sites + k];
                if d > best.0 {
                    best = (d, r, k);
                }
            }
        }
        if best.1 == usize::MAX {
            return;
        }
        let (out, inn) = (removable[best.1], best.2);
        open[out] = false;
        open[inn] = true;
        for &g in &groups.by_site[out] {
            count[g as usize] -= 1;
        }
        for &g in &groups.by_site[inn] {
            count[g as usize] += 1;
        }
    }
}

/// p-median: greedy + Teitz–Bart interchange, with the Lagrangian lower bound. `weights` per
/// demand row; unreachable pairs are infinite. `p` counts the pre-selected sites.
pub fn p_median(costs: &CostMatrix, weights: &[f64], pre: &[usize], p: usize, limits: Limits) -> Heuristic {
    let t = Instant::now();
    let (n, m) = (costs.rows(), costs.cols());
    let is_pre = mark(pre, m);
    let mut open: Vec<usize> = pre.to_vec();
    // c1 per demand: cost to the nearest open site (∞ if none).
    let mut c1: Vec<f64> = (0..n)
        .map(|i| open.iter().map(|&j| costs.get(i, j)).fold(f64::INFINITY, f64::min))
        .collect();
    let mut is_open = is_pre.clone();
    while open.len() < p {
        // Σ_i w_i (min(c1_i, d_ij) − c1_i) per site, with ∞ − ∞ counted as 0 and a big saving
        // for reaching an unreached demand point.
        let saving = column_sums(costs, |i, row, acc: &mut [f64]| {
            let w = weights[i];
            for (j, &d) in row.iter().enumerate() {
                if d < c1[i] {
                    acc[j] += if c1[i].is_finite() {
                        w * (d - c1[i])
                    } else {
                        -UNREACHED * (w + 1.0)
                    };
                }
            }
        });
        let Some(j) = (0..m)
            .filter(|&j| !is_open[j])
            .min_by(|&a, &b| saving[a].total_cmp(&saving[b]).then(a.cmp(&b)))
        else {
            break;
        };
        open.push(j);
        is_open[j] = true;
        for (i, c) in c1.iter_mut().enumerate() {
            *c = c.min(costs.get(i, j));
        }
    }
    interchange(costs, weights, &mut is_open, &is_pre, &t, limits.seconds);
    let mut best_open = is_open.clone();
    let mut best = median_cost(costs, weights, &best_open);

    // Lagrangian lower bound, from u_i = w_i × cost to the nearest open site.
    let mut u: Vec<f64> = (0..n)
        .map(|i| {
            let c = (0..m)
                .filter(|&j| best_open[j])
                .map(|j| costs.get(i, j))
                .fold(f64::INFINITY, f64::min);
            if c.is_finite() { weights[i] * c } else { 0.0 }
        })
        .collect();
    let mut bound = f64::NEG_INFINITY;
    let mut theta = 2.0;
    let mut stall = 0;
    let mut iterations = 0;
    while iterations < limits.max_iterations && t.elapsed().as_secs_f64() < limits.seconds {
        iterations += 1;
        let rho = column_sums(costs, |i, row, acc: &mut [f64]| {
            let (w, ui) = (weights[i], u[i]);
            for (j, &d) in row.iter().enumerate() {
                let v = w * d - ui;
                if v < 0.0 {
                    acc[j] += v;
                }
            }
        });
        let y = top_sites(&rho.iter().map(|v| -v).collect::<Vec<_>>(), &is_pre, p, true);
        let l = u.iter().sum::<f64>() + y.iter().map(|&j| rho[j]).sum::<f64>();
        if !bound.is_finite() || l > bound + 1e-12 * bound.abs().max(1.0) {
            bound = l;
            stall = 0;
        } else {
            stall += 1;
            if stall >= 20 {
                theta /= 2.0;
                stall = 0;
            }
        }
        let y_open = mark(&y, m);
        let c = median_cost(costs, weights, &y_open);
        if c < best - 1e-9 * best.abs().max(1.0) {
            best = c;
            best_open = y_open.clone();
        }
        if best - bound <= limits.gap_target * best.abs().max(1e-300) || theta < 1e-6 {
            break;
        }
        // Subgradient 1 − Σ_{j∈Y} [w_i d_ij < u_i].
        let sub: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| {
                let row = costs.row(i);
                1.0 - y.iter().filter(|&&j| weights[i] * row[j] < u[i]).count() as f64
            })
            .collect();
        let norm: f64 = sub.iter().map(|d| d * d).sum();
        if norm == 0.0 {
            break;
        }
        let step = theta * (best - l).max(1e-9 * best.abs().max(1.0)) / norm;
        for (ui, d) in u.iter_mut().zip(&sub) {
            *ui = (*ui + step * d).max(0.0);
        }
    }
    if best_open != is_open {
        interchange(costs, weights, &mut best_open, &is_pre, &t, limits.seconds * 1.5);
        best = best.min(median_cost(costs, weights, &best_open));
    }
    Heuristic {
        selected: (0..m).filter(|&j| best_open[j]).collect(),
        objective: best,
        bound: bound.min(best),
        iterations,
    }
}

/// A cost for leaving a demand point unreached, far above any real total.
pub(crate) const UNREACHED: f64 = 1e30;

/// Σ w·(cost to the nearest open site); unreached points count [`UNREACHED`] each.
pub fn median_cost(costs: &CostMatrix, weights: &[f64], open: &[bool]) -> f64 {
    (0..costs.rows())
        .into_par_iter()
        .map(|i| {
            let c = costs
                .row(i)
                .iter()
                .zip(open)
                .filter(|(_, o)| **o)
                .map(|(d, _)| *d)
                .fold(f64::INFINITY, f64::min);
            if c.is_finite() { weights[i] * c } else { UNREACHED }
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum()
}

/// Teitz–Bart interchange with best-improvement moves.
fn interchange(costs: &CostMatrix, weights: &[f64], open: &mut [bool], is_pre: &[bool], t: &Instant, seconds: f64) {
    let (n, m) = (costs.rows(), costs.cols());
    loop {
        if t.elapsed().as_secs_f64() > seconds {
            return;
        }
        let removable: Vec<usize> = (0..m).filter(|&j| open[j] && !is_pre[j]).collect();
        if removable.is_empty() {
            return;
        }
        let mut slot = vec![usize::MAX; m];
        for (r, &j) in removable.iter().enumerate() {
            slot[j] = r;
        }
        // Nearest and second-nearest open sites.
        let near: Vec<(usize, f64, f64)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let (mut b1, mut c1, mut c2) = (usize::MAX, f64::INFINITY, f64::INFINITY);
                for (j, &d) in costs.row(i).iter().enumerate() {
                    if !open[j] {
                        continue;
                    }
                    if d < c1 {
                        c2 = c1;
                        c1 = d;
                        b1 = j;
                    } else if d < c2 {
                        c2 = d;
                    }
                }
                (b1, c1, c2)
            })
            .collect();
        let r_n = removable.len();
        // acc[k] = base saving; acc[m + r*m + k] = extra of removing removable r when adding k.
        let acc = fold_rows(n, m + r_n * m, |i, acc: &mut [f64]| {
            let (b1, c1, c2) = near[i];
            if b1 == usize::MAX || !c1.is_finite() {
                return;
            }
            let w = weights[i];
            let r = slot[b1];
            let row = costs.row(i);
            for k in 0..m {
                if open[k] {
                    continue;
                }
                let d = row[k];
                if d < c1 {
                    acc[k] += w * (d - c1);
                } else if r != usize::MAX {
                    acc[m + r * m + k] += w * (d.min(c2) - c1);
                }
            }
            // Removing the nearest site when nothing new is closer: fall back to the second.
            if r != usize::MAX && c2.is_infinite() {
                // Unreached after removal unless k reaches it: handled by d.min(c2) = d above
                // for finite d; for infinite d both are infinite — forbid the swap.
                for k in 0..m {
                    if !open[k] && row[k].is_infinite() {
                        acc[m + r * m + k] = f64::INFINITY;
                    }
                }
            }
        });
        let total: f64 = weights.iter().sum::<f64>();
        let mut best = (-1e-12 * total.max(1.0), usize::MAX, usize::MAX);
        for r in 0..r_n {
            for k in 0..m {
                if open[k] {
                    continue;
                }
                let d = acc[k] + acc[m + r * m + k];
                if d < best.0 {
                    best = (d, r, k);
                }
            }
        }
        if best.1 == usize::MAX {
            return;
        }
        open[removable[best.1]] = false;
        open[best.2] = true;
    }
}

/// Per-site sums over all demand rows, computed in parallel chunks and added in a fixed order.
fn column_sums(costs: &CostMatrix, f: impl Fn(usize, &[f64], &mut [f64]) + Sync) -> Vec<f64> {
    let m = costs.cols();
    fold_rows(costs.rows(), m, |i, acc| f(i, &costs.row(i), acc))
}

/// `len`-long accumulators filled row by row in parallel chunks of rows; the chunk sums are
/// added in chunk order, so the result does not depend on the thread count.
fn fold_rows(n: usize, len: usize, f: impl Fn(usize, &mut [f64]) + Sync) -> Vec<f64> {
    const CHUNK: usize = 1024;
    let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = vec![0.0; len];
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                f(i, &mut acc);
            }
            acc
        })
        .collect();
    let mut out = vec![0.0; len];
    for p in parts {
        for (o, v) in out.iter_mut().zip(p) {
            *o += v;
        }
    }
    out
}

/// The pre-selected sites plus the best others by `value` (largest first, ties to the lower
/// index) up to `p` sites in all.
fn top_sites(value: &[f64], is_pre: &[bool], p: usize, _largest: bool) -> Vec<usize> {
    let mut out: Vec<usize> = (0..value.len()).filter(|&j| is_pre[j]).collect();
    let mut rest: Vec<usize> = (0..value.len()).filter(|&j| !is_pre[j]).collect();
    let k = p.saturating_sub(out.len()).min(rest.len());
    if k > 0 && k < rest.len() {
        rest.select_nth_unstable_by(k - 1, |&a, &b| value[b].total_cmp(&value[a]).then(a.cmp(&b)));
    }
    out.extend_from_slice(&rest[..k]);
    out.sort_unstable();
    out
}

fn mark(list: &[usize], n: usize) -> Vec<bool> {
    let mut v = vec![false; n];
    for &j in list {
        v[j] = true;
    }
    v
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);

impl Eq for OrdF64 {}

impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
