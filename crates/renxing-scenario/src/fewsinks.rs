//! The transportation problem with few facilities, by successive shortest paths over the
//! facility graph.
//!
//! Same problem as [`crate::simplex`]: minimise Σ t_ij x_ij + M Σ s_i with Σ_j x_ij + s_i = d_i
//! and Σ_i x_ij ≤ c_j. When the facilities number a few dozen (fixed shelters, field hospitals,
//! air-raid shelters of one district) and the points a hundred thousand, the network simplex
//! spends its time re-hanging a facility's subtree of thousands of points on every pivot. Here the
//! points are added one at a time instead, each along a shortest augmenting path, and the paths
//! are searched on a graph of m + 1 nodes only:
//! - nodes: the facilities and one "unserved" node U (cost M from every point, no capacity);
//! - an edge a → b stands for moving people of some point k from a to b; its cost is the
//!   cheapest such move, min over points k with x_ka > 0 of t_kb − t_ka, read off the top of a
//!   heap kept per pair (a, b) (keys never change, since times do not; entries whose point has
//!   left a are dropped when they surface);
//! - a path from the new point i enters some facility a at t_ia, moves people along such edges
//!   and ends at a facility with room left, or at U.
//!
//! Node potentials φ (Johnson) keep all reduced costs ≥ 0 so that each search is a Dijkstra over
//! m + 1 nodes; after it every node's potential rises by min(distance, D), D the distance of the
//! path found. The invariant is the optimality condition of the points added so far: each
//! point's people sit only at facilities minimising t_ij − φ_j, and a facility with room has the
//! potential of U. So when the last point is in, the flow is optimal, and the facility prices
//! p_j = φ_U − φ_j ≥ 0 (zero where room is left) are the duals of the capacities.
//!
//! Work: one search per augmentation, O(m²) heap peeks each; an augmentation ends a point, fills
//! a facility or empties one move, so there are about n + m of them in practice.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Flows below this many people are zero.
const EPS: f64 = 1e-9;

/// A point k at facility a, keyed by the cost of moving it to b: t_kb − t_ka.
#[derive(Clone, Copy, PartialEq)]
struct Move {
    key: f64,
    point: u32,
}
impl Eq for Move {}
impl Ord for Move {
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.total_cmp(&self.key).then_with(|| o.point.cmp(&self.point))
    }
}
impl PartialOrd for Move {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// The optimal flow.
#[derive(Debug, Clone, PartialEq)]
pub struct FewSinks {
    /// Per point: (facility, people); facility `m` is "unserved".
    pub flows: Vec<Vec<(u32, f64)>>,
    /// Per facility.
    pub load: Vec<f64>,
    /// Per facility: the capacity dual p_j ≥ 0, seconds per person (zero where room is left).
    pub price: Vec<f64>,
    /// Augmenting paths found.
    pub augmentations: usize,
}

impl FewSinks {
    /// People of point `i` left unserved.
    pub fn unserved(&self, i: usize) -> f64 {
        let m = self.load.len() as u32;
        self.flows[i].iter().filter(|e| e.0 == m).map(|e| e.1).sum()
    }
}

/// Solve with `supply[i]` people at point i, `capacity[j]` places at facility j, the times
/// `time[i·m + j]` (∞ where j cannot be reached from i) and `penalty` per unserved person.
pub fn solve(supply: &[f64], capacity: &[f64], time: &[f64], penalty: f64) -> Result<FewSinks, String> {
    let (n, m) = (supply.len(), capacity.len());
    if time.len() != n * m {
        return Err(format!("{} times for {n} points × {m} facilities", time.len()));
    }
    if let Some(i) = supply.iter().position(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(format!("point {i}: supply {} is not a number ≥ 0", supply[i]));
    }
    if let Some(j) = capacity.iter().position(|c| !(c.is_finite() && *c >= 0.0)) {
        return Err(format!("facility {j}: capacity {} is not a number ≥ 0", capacity[j]));
    }
    if let Some(k) = time
        .iter()
        .position(|t| t.is_nan() || *t < 0.0 || (t.is_finite() && *t >= penalty))
    {
        return Err(format!(
            "point {} facility {}: time {} is not in [0, penalty) or ∞",
            k / m,
            k % m,
            time[k]
        ));
    }
    let nodes = m + 1;
    let u = m;
    let t = |i: usize, j: usize| if j == u { penalty } else { time[i * m + j] };
    let mut flows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    let mut load = vec![0.0; m];
    let mut phi = vec![0.0; nodes];
    let mut moves: Vec<BinaryHeap<Move>> = vec![BinaryHeap::new(); nodes * nodes];
    let at = |flows: &[Vec<(u32, f64)>], k: usize, a: usize| -> f64 {
        flows[k].iter().find(|e| e.0 as usize == a).map_or(0.0, |e| e.1)
    };
    let mut dist = vec![f64::INFINITY; nodes];
    let mut done = vec![false; nodes];
    // Per node: (node before it, point moved) on the path; NONE when entered from the new point.
    const NONE: u32 = u32::MAX;
    let mut pred = vec![(NONE, NONE); nodes];
    let mut augmentations = 0;
    let limit = 50 * (n + nodes) + 1000;
    // Nearest points first: they fill their facility and later, farther points seldom have to
    // move them again (any order gives the optimum; this one gives short paths).
    let mut order: Vec<(f64, usize)> = (0..n)
        .map(|i| {
            (
                time[i * m..(i + 1) * m].iter().copied().fold(f64::INFINITY, f64::min),
                i,
            )
        })
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, i) in order {
        let mut left = supply[i];
        while left > EPS {
            augmentations += 1;
            if augmentations > limit {
                return Err(format!("no convergence after {limit} augmenting paths"));
            }
            // Dijkstra from point i, reduced costs shifted by φ_i = max_j (φ_j − t_ij).
            let mut phi_i = f64::NEG_INFINITY;
            for (j, p) in phi.iter().enumerate() {
                phi_i = phi_i.max(p - t(i, j));
            }
            for j in 0..nodes {
                dist[j] = (t(i, j) + phi_i - phi[j]).max(0.0);
                done[j] = false;
                pred[j] = (NONE, NONE);
            }
            let end = loop {
                let mut a = NONE as usize;
                for j in 0..nodes {
                    if !done[j] && dist[j].is_finite() && (a == NONE as usize || dist[j] < dist[a]) {
                        a = j;
                    }
                }
                // U is reachable from every point, so some node is always left.
                done[a] = true;
                if a == u || load[a] < capacity[a] - EPS {
                    break a;
                }
                for b in 0..nodes {
                    if done[b] {
                        continue;
                    }
                    let heap = &mut moves[a * nodes + b];
                    while let Some(top) = heap.peek() {
                        if at(&flows, top.point as usize, a) > EPS {
                            break;
                        }
                        heap.pop();
                    }
                    if let Some(top) = heap.peek() {
                        let d = dist[a] + (top.key + phi[a] - phi[b]).max(0.0);
                        if d < dist[b] {
                            dist[b] = d;
                            pred[b] = (a as u32, top.point);
                        }
                    }
                }
            };
            let reach = dist[end];
            for j in 0..nodes {
                phi[j] += if done[j] { dist[j] } else { reach };
            }
            // How much the path carries.
            let mut delta = left;
            if end != u {
                delta = delta.min(capacity[end] - load[end]);
            }
            let mut b = end;
            while pred[b].0 != NONE {
                let (a, k) = (pred[b].0 as usize, pred[b].1 as usize);
                delta = delta.min(at(&flows, k, a));
                b = a;
            }
            let first = b;
            // Push it.
            let add =
                |flows: &mut Vec<Vec<(u32, f64)>>, moves: &mut Vec<BinaryHeap<Move>>, k: usize, j: usize, x: f64| {
                    if let Some(e) = flows[k].iter_mut().find(|e| e.0 as usize == j) {
                        e.1 += x;
                        return;
                    }
                    flows[k].push((j as u32, x));
                    for b in 0..nodes {
                        let c = t(k, b);
                        if b != j && c.is_finite() {
                            moves[j * nodes + b].push(Move {
                                key: c - t(k, j),
                                point: k as u32,
                            });
                        }
                    }
                };
            let take = |flows: &mut Vec<Vec<(u32, f64)>>, k: usize, j: usize, x: f64| {
                if let Some(p) = flows[k].iter().position(|e| e.0 as usize == j) {
                    flows[k][p].1 -= x;
                    if flows[k][p].1 <= EPS {
                        flows[k].swap_remove(p);
                    }
                }
            };
            let mut b = end;
            while pred[b].0 != NONE {
                let (a, k) = (pred[b].0 as usize, pred[b].1 as usize);
                add(&mut flows, &mut moves, k, b, delta);
                take(&mut flows, k, a, delta);
                b = a;
            }
            add(&mut flows, &mut moves, i, first, delta);
            if end != u {
                load[end] += delta;
            }
            left -= delta;
        }
    }
    to_forest(&mut flows, nodes);
    let price = (0..m).map(|j| (phi[u] - phi[j]).max(0.0)).collect();
    Ok(FewSinks {
        flows,
        load,
        price,
        augmentations,
    })
}

/// Cancels the cycles of the flow's support until it is a forest: a basic optimal solution, in
/// which at most m points are split between facilities (U included), as a simplex would give.
///
/// Points split between the same facilities close a cycle (point k₁ at a and b, point k₂ at b
/// and a). At an optimum every arc carrying people has reduced cost zero, so pushing people
/// around a cycle costs nothing; pushing until one of its arcs is empty removes the cycle, and
/// no facility's load changes. Only split points can lie on a cycle: the forest is grown from
/// their arcs one at a time, each closing arc cancelling the cycle it closes.
fn to_forest(flows: &mut [Vec<(u32, f64)>], nodes: usize) {
    let split: Vec<usize> = (0..flows.len()).filter(|&i| flows[i].len() >= 2).collect();
    let total = nodes + split.len();
    // Forest nodes: facilities (and U) 0..nodes, then the split points.
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut prev = vec![usize::MAX; total];
    let mut stamp = vec![0u32; total];
    let mut round = 0u32;
    let row_of = |v: usize| split[v - nodes];
    let pos = |flows: &[Vec<(u32, f64)>], row: usize, fac: usize| flows[row].iter().position(|e| e.0 as usize == fac);
    for (s, &i) in split.iter().enumerate() {
        let v = nodes + s;
        let facs: Vec<usize> = flows[i].iter().map(|e| e.0 as usize).collect();
        for j in facs {
            if pos(flows, i, j).is_none() {
                continue;
            }
            // Path j → v in the forest, by breadth-first search.
            round += 1;
            stamp[j] = round;
            prev[j] = usize::MAX;
            let mut queue = std::collections::VecDeque::from([j]);
            let mut found = false;
            while let Some(a) = queue.pop_front() {
                if a == v {
                    found = true;
                    break;
                }
                for &b in &adj[a] {
                    if stamp[b] != round {
                        stamp[b] = round;
                        prev[b] = a;
                        queue.push_back(b);
                    }
                }
            }
            if !found {
                adj[v].push(j);
                adj[j].push(v);
                continue;
            }
            // The cycle's arcs as (point, facility, sign): the new arc +, then alternately −, +
            // along the path from j to v.
            let mut cycle = vec![(i, j, 1.0)];
            let mut path = vec![v];
            while let Some(&a) = path.last() {
                if a == j {
                    break;
                }
                path.push(prev[a]);
            }
            path.reverse(); // j … v
            for (t, w) in path.windows(2).enumerate() {
                let (row, fac) = if w[0] < nodes {
                    (row_of(w[1]), w[0])
                } else {
                    (row_of(w[0]), w[1])
                };
                cycle.push((row, fac, if t % 2 == 0 { -1.0 } else { 1.0 }));
            }
            let amount = |flows: &[Vec<(u32, f64)>], row: usize, fac: usize| {
                pos(flows, row, fac).map_or(0.0, |p| flows[row][p].1)
            };
            let (row0, fac0, sign0) = cycle
                .iter()
                .copied()
                .min_by(|a, b| amount(flows, a.0, a.1).total_cmp(&amount(flows, b.0, b.1)))
                .expect("a cycle has arcs");
            let theta = amount(flows, row0, fac0);
            // Orient so that the smallest arc decreases.
            let dir = -sign0;
            for &(row, fac, sign) in &cycle {
                let p = pos(flows, row, fac).expect("cycle arcs carry people");
                flows[row][p].1 += dir * sign * theta;
            }
            let p = pos(flows, row0, fac0).expect("cycle arcs carry people");
            flows[row0].swap_remove(p);
            if (row0, fac0) != (i, j) {
                let (x, y) = (fac0, nodes + split.binary_search(&row0).expect("split point"));
                adj[x].retain(|&b| b != y);
                adj[y].retain(|&b| b != x);
                adj[v].push(j);
                adj[j].push(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(s: &FewSinks, time: &[f64], m: usize, penalty: f64) -> f64 {
        let mut c = 0.0;
        for (i, f) in s.flows.iter().enumerate() {
            for &(j, x) in f {
                c += x * if j as usize == m {
                    penalty
                } else {
                    time[i * m + j as usize]
                };
            }
        }
        c
    }

    /// Two points, two facilities of one place each, worked by hand: point 0 is 1 from A and 2
    /// from B, point 1 is 1 from A and 10 from B. Greedy puts point 0 at A first; the optimum
    /// moves it to B (total 2 + 1 = 3, not 1 + 10 = 11), so the second path must move people.
    #[test]
    fn a_later_point_moves_an_earlier_one() {
        let time = [1.0, 2.0, 1.0, 10.0];
        let s = solve(&[1.0, 1.0], &[1.0, 1.0], &time, 100.0).unwrap();
        assert_eq!(cost(&s, &time, 2, 100.0), 3.0);
        assert_eq!(s.flows[0], vec![(1, 1.0)]);
        assert_eq!(s.flows[1], vec![(0, 1.0)]);
        assert_eq!(s.load, vec![1.0, 1.0]);
        assert_eq!(s.augmentations, 2);
    }

    /// Three people, two places: the one with the longest way to go is left unserved, and
    /// splitting a point across a facility and U is allowed.
    #[test]
    fn overflow_goes_unserved_at_the_penalty() {
        // point 0: 3 people, 1 s from A; point 1: 1 person, 5 s from A; A holds 2.
        let time = [1.0, 5.0];
        let s = solve(&[3.0, 1.0], &[2.0], &time, 1000.0).unwrap();
        assert_eq!(s.load, vec![2.0]);
        assert_eq!(s.unserved(0), 1.0);
        assert_eq!(s.unserved(1), 1.0);
        assert_eq!(cost(&s, &time, 1, 1000.0), 2.0 + 2000.0);
        // A full: one more place there would serve one more person, worth 1000 − 1 s.
        assert_eq!(s.price, vec![999.0]);
    }

    /// Two points split between the same two facilities: the smallest arc (1 person of point 1
    /// at facility 0) empties, loads (3 and 7) and point totals (5 and 5) stay.
    #[test]
    fn a_cycle_of_split_points_is_cancelled() {
        let mut flows = vec![vec![(0, 2.0), (1, 3.0)], vec![(0, 1.0), (1, 4.0)]];
        to_forest(&mut flows, 3);
        let mut f0 = flows[0].clone();
        f0.sort_by_key(|e| e.0);
        assert_eq!(f0, vec![(0, 3.0), (1, 2.0)]);
        assert_eq!(flows[1], vec![(1, 5.0)]);
    }

    #[test]
    fn unreachable_facilities_are_skipped_and_bad_inputs_refused() {
        let inf = f64::INFINITY;
        let s = solve(&[2.0], &[5.0, 5.0], &[inf, 7.0], 100.0).unwrap();
        assert_eq!(s.flows[0], vec![(1, 2.0)]);
        assert_eq!(s.price, vec![0.0, 0.0]);
        assert!(
            solve(&[1.0], &[1.0], &[1.0, 2.0], 10.0)
                .unwrap_err()
                .contains("2 times")
        );
        assert!(solve(&[-1.0], &[1.0], &[1.0], 10.0).unwrap_err().contains("point 0"));
        assert!(
            solve(&[1.0], &[f64::NAN], &[1.0], 10.0)
                .unwrap_err()
                .contains("facility 0")
        );
        assert!(solve(&[1.0], &[1.0], &[20.0], 10.0).unwrap_err().contains("penalty"));
    }

    /// Random instances against the network simplex of this crate (itself checked against
    /// HiGHS on Beijing in the integration tests): equal objectives, conservation, capacities,
    /// and the duals' complementary slackness.
    #[test]
    #[allow(clippy::needless_range_loop)] // parallel arrays indexed by point and facility
    fn equals_the_network_simplex_on_random_instances() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..40 {
            let n = 5 + (rnd() * 60.0) as usize;
            let m = 1 + (rnd() * 8.0) as usize;
            let supply: Vec<f64> = (0..n).map(|_| (rnd() * 50.0).round() + 0.5).collect();
            let total: f64 = supply.iter().sum();
            let tightness = 0.3 + rnd() * 1.2;
            let capacity: Vec<f64> = (0..m)
                .map(|_| (total * tightness / m as f64 * (0.5 + rnd())).round())
                .collect();
            let time: Vec<f64> = (0..n * m)
                .map(|_| {
                    if rnd() < 0.15 {
                        f64::INFINITY
                    } else {
                        (rnd() * 900.0).round()
                    }
                })
                .collect();
            let penalty = 1e7;
            let s = solve(&supply, &capacity, &time, penalty).unwrap();
            let mut tp = crate::simplex::Transport::new(&supply, &capacity, penalty);
            for i in 0..n {
                for j in 0..m {
                    if time[i * m + j].is_finite() {
                        tp.add_arc(i, j, time[i * m + j]);
                    }
                }
            }
            tp.solve().unwrap();
            let mut reference = 0.0;
            let mut arc = 0;
            for i in 0..n {
                for j in 0..m {
                    if time[i * m + j].is_finite() {
                        reference += tp.flow(arc) * time[i * m + j];
                        arc += 1;
                    }
                }
                reference += tp.unserved(i) * penalty;
            }
            let got = cost(&s, &time, m, penalty);
            assert!(
                (got - reference).abs() <= 1e-9 * reference,
                "case {case}: {got} vs {reference}"
            );
            for i in 0..n {
                let x: f64 = s.flows[i].iter().map(|e| e.1).sum();
                assert!((x - supply[i]).abs() <= 1e-9 * supply[i], "case {case} point {i}");
            }
            for j in 0..m {
                assert!(s.load[j] <= capacity[j] + 1e-9, "case {case} facility {j}");
                if s.load[j] < capacity[j] - 1e-6 {
                    assert!(
                        s.price[j] <= 1e-6,
                        "case {case}: facility {j} has room but price {}",
                        s.price[j]
                    );
                }
            }
            // A basic solution: at most m points split (the support is a forest).
            let split = s.flows.iter().filter(|f| f.len() >= 2).count();
            assert!(split <= m, "case {case}: {split} points split among {m} facilities");
            // Every point sits at facilities minimising t_ij + p_j (U: the penalty).
            for i in 0..n {
                let best = (0..m).map(|j| time[i * m + j] + s.price[j]).fold(penalty, f64::min);
                for &(j, _) in &s.flows[i] {
                    let v = if j as usize == m {
                        penalty
                    } else {
                        time[i * m + j as usize] + s.price[j as usize]
                    };
                    assert!(v <= best + 1e-6, "case {case} point {i}: {v} > {best}");
                }
            }
        }
    }
}
