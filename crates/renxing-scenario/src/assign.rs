//! Capacitated assignment of demand to facilities on the road network, exact.
//!
//! The transportation problem: minimise Σ t_ij x_ij + M Σ s_i subject to Σ_j x_ij + s_i = d_i for
//! every demand point i, Σ_i x_ij ≤ c_j for every facility j, x, s ≥ 0, where t_ij is the
//! shortest travel time on the network (with the scenario's closures) and s_i the demand left
//! unserved at a penalty M far above any travel time, so that serving more people always comes
//! first and travel time second.
//!
//! Solved exactly by column generation over the full bipartite problem, without ever building
//! all n × m costs:
//! 1. candidate arcs: the `k` nearest facilities of every point, by one `k`-label backward
//!    Dijkstra from all facilities;
//!    plus, for every facility, its nearest people until they number twice its capacity;
//! 2. the problem over the candidate arcs, solved by the network simplex of [`crate::simplex`],
//!    gives row duals u_i (points) and w_j (facilities; ≤ 0 where the capacity binds);
//! 3. pricing: one backward multi-source Dijkstra started at every facility with offset −w_j
//!    gives min_j (t_ij − w_j) for every point at once. Where it is below u_i the arc has a
//!    negative reduced cost and joins the candidates; when no point has one, the optimum over
//!    the candidates is the optimum of the full problem (LP duality), and steps 2–3 stop.
//!    Otherwise the simplex continues from its last basis with the new arcs.
//!
//! With few usable facilities (up to [`AssignOptions::dense_up_to`], default 64) column
//! generation is skipped: one backward search per facility gives all n × m times, and
//! [`crate::fewsinks`] solves the full problem by shortest augmenting paths over the facilities.
//!
//! Points on a closed link are cut off (all unserved); a point and a facility on the same link
//! are also joined directly along it.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};

use rayon::prelude::*;
use renxing_net::cch::LinkCosts;
use renxing_net::graph::Graph;
use renxing_net::snap::Snap;
use serde::Serialize;

use crate::ScenarioError;
use crate::simplex::Transport;

/// The network of one scenario: graph, link times (with closures) and off-road walking speed.
#[derive(Clone, Copy)]
pub struct Network<'a> {
    pub graph: &'a Graph,
    pub costs: &'a LinkCosts,
    pub access_speed_mps: f64,
}

/// Penalty per unserved unit, seconds: far above any travel time on a city network.
pub const UNSERVED_PENALTY_S: f64 = 1.0e7;

/// An arc joins the candidates when its reduced cost is below −(this + 10⁻¹² |u_i|) seconds.
const PRICING_TOL_S: f64 = 2e-6;

/// Facilities priced per node in each round (at least the `k` of [`AssignOptions`]).
const PRICING_K: usize = 4;

/// Violated arcs added per facility and round: the most violated, until their demand reaches
/// this many times the facility's capacity.
const VIOLATORS_PER_CAPACITY: f64 = 4.0;

/// Where the time of one [`assign`] call went.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct AssignTimings {
    /// Candidate arcs: the k nearest facilities and the facility-side searches (column
    /// generation), or all n × m times (few facilities).
    pub candidates_s: f64,
    /// The solver over all rounds: network simplex, or shortest augmenting paths (few facilities).
    pub solver_s: f64,
    /// Pricing searches, over all rounds (none with few facilities).
    pub pricing_s: f64,
    /// Network simplex pivots over all rounds, or augmenting paths (few facilities).
    pub solver_steps: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Flow {
    pub point: usize,
    pub facility: usize,
    pub amount: f64,
    pub time_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    pub flows: Vec<Flow>,
    /// Per demand point.
    pub unserved: Vec<f64>,
    /// Per facility.
    pub load: Vec<f64>,
    /// Σ amount × time over flows, person-seconds.
    pub total_time_s: f64,
    /// Column-generation rounds and the candidate arcs of the last LP.
    pub rounds: usize,
    pub arcs: usize,
    /// Points that cannot reach any facility (closed link, other component or nothing usable).
    pub cut_off: usize,
    pub timings: AssignTimings,
}

#[derive(Clone, Copy, PartialEq)]
struct Item {
    cost: f64,
    node: u32,
    src: u32,
}
impl Eq for Item {}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.cost
            .total_cmp(&self.cost)
            .then_with(|| o.node.cmp(&self.node))
            .then_with(|| o.src.cmp(&self.src))
    }
}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Network<'_> {
    fn partial(&self, l: usize, x: f64, off: f64) -> f64 {
        let len = self.graph.links[l].length_m;
        let t = if len > 0.0 { x / len * self.costs.time_s[l] } else { 0.0 };
        t + off / self.access_speed_mps
    }

    /// Nodes a point leaves to, with the time to get there; empty on a closed link.
    pub fn leave(&self, s: &Snap) -> Vec<(u32, f64)> {
        let li = s.link as usize;
        let (l, e) = (&self.graph.links[li], self.graph.ends(li));
        if !self.costs.open[li] {
            return if s.along_m <= 0.0 {
                vec![(e.a, self.partial(li, 0.0, s.offset_m))]
            } else if s.along_m >= l.length_m {
                vec![(e.b, self.partial(li, 0.0, s.offset_m))]
            } else {
                Vec::new()
            };
        }
        let mut v = Vec::with_capacity(2);
        if s.along_m <= 0.0 {
            v.push((e.a, self.partial(li, 0.0, s.offset_m)));
        } else if e.backward {
            v.push((e.exit_a, self.partial(li, s.along_m, s.offset_m)));
        }
        if s.along_m >= l.length_m {
            v.push((e.b, self.partial(li, 0.0, s.offset_m)));
        } else if e.forward {
            v.push((e.exit_b, self.partial(li, l.length_m - s.along_m, s.offset_m)));
        }
        v
    }

    /// Nodes from which a point is reached, with the time of the last stretch.
    pub fn enter(&self, s: &Snap) -> Vec<(u32, f64)> {
        let li = s.link as usize;
        let (g, l, e) = (self.graph, &self.graph.links[li], self.graph.ends(li));
        let at = |j: u32, c: f64| g.at_junction(j).map(move |v| (v, c));
        if !self.costs.open[li] {
            let c = self.partial(li, 0.0, s.offset_m);
            return if s.along_m <= 0.0 {
                at(e.a, c).collect()
            } else if s.along_m >= l.length_m {
                at(e.b, c).collect()
            } else {
                Vec::new()
            };
        }
        let mut v = Vec::with_capacity(2);
        if s.along_m <= 0.0 {
            v.extend(at(e.a, self.partial(li, 0.0, s.offset_m)));
        } else if e.forward {
            let c = self.partial(li, s.along_m, s.offset_m);
            v.extend(g.entries(li, true).map(|n| (n, c)));
        }
        if s.along_m >= l.length_m {
            v.extend(at(e.b, self.partial(li, 0.0, s.offset_m)));
        } else if e.backward {
            let c = self.partial(li, l.length_m - s.along_m, s.offset_m);
            v.extend(g.entries(li, false).map(|n| (n, c)));
        }
        v
    }

    /// Along a shared open link from `o` to `d`, where its direction allows.
    pub fn direct(&self, o: &Snap, d: &Snap) -> Option<f64> {
        if o.link != d.link || !self.costs.open[o.link as usize] {
            return None;
        }
        let li = o.link as usize;
        let e = self.graph.ends(li);
        let ok = (d.along_m >= o.along_m && e.forward) || (d.along_m <= o.along_m && e.backward);
        ok.then(|| self.partial(li, (d.along_m - o.along_m).abs(), o.offset_m) + d.offset_m / self.access_speed_mps)
    }

    fn arc_time(&self, link: u32) -> Option<f64> {
        let l = link as usize;
        self.costs.open[l].then(|| self.costs.time_s[l])
    }

    /// Backward search from sources (node, initial cost, source id), keeping up to `k` labels
    /// of distinct sources per node. Returns per node its labels (source, cost), best first.
    pub fn k_labels(&self, sources: &[(u32, f64, u32)], k: usize) -> Vec<Vec<(u32, f64)>> {
        let n = self.graph.node_count();
        let mut labels: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        let mut heap: BinaryHeap<Item> = sources
            .iter()
            .map(|&(node, cost, src)| Item { cost, node, src })
            .collect();
        while let Some(Item { cost, node, src }) = heap.pop() {
            let lv = &mut labels[node as usize];
            if lv.len() >= k || lv.iter().any(|&(s, _)| s == src) {
                continue;
            }
            lv.push((src, cost));
            for arc in self.graph.in_arcs(node) {
                if let Some(t) = self.arc_time(arc.link) {
                    let lt = &labels[arc.head as usize];
                    if lt.len() < k && !lt.iter().any(|&(s, _)| s == src) {
                        heap.push(Item {
                            cost: cost + t,
                            node: arc.head,
                            src,
                        });
                    }
                }
            }
        }
        labels
    }

    /// Backward search from `sources` that stops once the `weight` of the settled nodes reaches
    /// `want`: settled nodes get their cost (others ∞), and the cost at which it stopped (∞ when
    /// the whole reachable graph was settled).
    /// The search also stops once `max_hits` settled nodes had a positive weight.
    pub fn bounded(
        &self,
        sources: &[(u32, f64, u32)],
        weight: impl Fn(u32, f64) -> f64,
        want: f64,
        max_hits: usize,
    ) -> (Vec<f64>, f64) {
        let n = self.graph.node_count();
        let mut dist = vec![f64::INFINITY; n];
        let mut best = vec![f64::INFINITY; n];
        let mut heap: BinaryHeap<Item> = BinaryHeap::new();
        for &(node, cost, _) in sources {
            if cost < best[node as usize] {
                best[node as usize] = cost;
                heap.push(Item { cost, node, src: 0 });
            }
        }
        let mut got = 0.0;
        let mut hits = 0;
        while let Some(Item { cost, node, .. }) = heap.pop() {
            if dist[node as usize].is_finite() || cost > best[node as usize] {
                continue;
            }
            if got >= want || hits >= max_hits {
                return (dist, cost);
            }
            dist[node as usize] = cost;
            let w = weight(node, cost);
            if w > 0.0 {
                hits += 1;
            }
            got += w;
            for arc in self.graph.in_arcs(node) {
                if let Some(t) = self.arc_time(arc.link) {
                    let c = cost + t;
                    if c < best[arc.head as usize] {
                        best[arc.head as usize] = c;
                        heap.push(Item {
                            cost: c,
                            node: arc.head,
                            src: 0,
                        });
                    }
                }
            }
        }
        (dist, f64::INFINITY)
    }

    /// Backward multi-source search: per node the best (cost, source) and the arc towards it.
    /// `next[v]` = (next node towards the source, link taken), `u32::MAX` at sources.
    #[allow(clippy::type_complexity)]
    pub fn tree(&self, sources: &[(u32, f64, u32)]) -> (Vec<f64>, Vec<u32>, Vec<(u32, u32)>) {
        let n = self.graph.node_count();
        let mut dist = vec![f64::INFINITY; n];
        let mut src = vec![u32::MAX; n];
        // Next node towards the source and the link used (u32::MAX at sources).
        let mut next = vec![(u32::MAX, u32::MAX); n];
        let mut heap = BinaryHeap::new();
        for &(node, cost, s) in sources {
            if cost < dist[node as usize] {
                dist[node as usize] = cost;
                src[node as usize] = s;
                next[node as usize] = (u32::MAX, u32::MAX);
                heap.push(Item { cost, node, src: s });
            }
        }
        while let Some(Item { cost, node, src: s }) = heap.pop() {
            if cost > dist[node as usize] || src[node as usize] != s {
                continue;
            }
            for arc in self.graph.in_arcs(node) {
                if let Some(t) = self.arc_time(arc.link) {
                    let c = cost + t;
                    let u = arc.head as usize;
                    if c < dist[u] {
                        dist[u] = c;
                        src[u] = s;
                        next[u] = (node, arc.link);
                        heap.push(Item {
                            cost: c,
                            node: arc.head,
                            src: s,
                        });
                    }
                }
            }
        }
        (dist, src, next)
    }
}

/// The facilities an `[[assign]]` of `role` at `at_h` hours can use, as (facility, capacity):
/// the offers ready by then and not made unavailable, with a known capacity. When no offer of
/// the role has a known capacity (e.g. air-raid shelters mapped without areas), the offers whose
/// capacity could be computed but whose basis is missing, each holding all of `demand`: the
/// assignment then gives walking times to the nearest one only. The flag says which.
pub fn assignable(
    offers: &[crate::catalogue::Offer],
    states: &[crate::balance::FacilityState],
    role: crate::Role,
    at_h: f64,
    demand: f64,
) -> (Vec<(usize, f64)>, bool) {
    let ready = || {
        offers
            .iter()
            .filter(move |o| o.role == role && o.hours <= at_h && states[o.facility].unavailable.is_none())
    };
    let known: Vec<(usize, f64)> = ready()
        .filter_map(|o| o.capacity.filter(|c| *c > 0.0).map(|c| (o.facility, c)))
        .collect();
    if !known.is_empty() {
        return (known, false);
    }
    let nearest = ready()
        .filter(|o| o.capacity.is_none() && !o.measured_only)
        .map(|o| (o.facility, demand))
        .collect();
    (nearest, true)
}

/// Facility entry points as search sources, with an offset per facility.
fn sources(net: &Network, facilities: &[Option<Snap>], usable: &[bool], offset: &[f64]) -> Vec<(u32, f64, u32)> {
    let mut s = Vec::new();
    for (j, f) in facilities.iter().enumerate() {
        if let (Some(f), true) = (f, usable[j]) {
            for (node, c) in net.enter(f) {
                s.push((node, c + offset[j], j as u32));
            }
        }
    }
    s
}

/// Options of [`assign`].
#[derive(Debug, Clone, Copy)]
pub struct AssignOptions {
    /// Candidate facilities per point before pricing.
    pub k: usize,
    /// Stop after this many pricing rounds (an error: no proof of optimality).
    pub max_rounds: usize,
    /// Up to this many usable facilities, compute all n × m times (one backward search per
    /// facility) and solve by [`crate::fewsinks`] instead of column generation.
    pub dense_up_to: usize,
}

impl Default for AssignOptions {
    fn default() -> Self {
        AssignOptions {
            k: 8,
            max_rounds: 50,
            dense_up_to: 64,
        }
    }
}

/// Assign `amount[i]` at each snapped point to facilities with `capacity[j]`. Points or
/// facilities without a snap take no part (their demand is unserved, their capacity unused).
pub fn assign(
    net: &Network,
    points: &[Option<Snap>],
    amount: &[f64],
    facilities: &[Option<Snap>],
    capacity: &[f64],
    opts: AssignOptions,
) -> Result<Assignment, ScenarioError> {
    let started = std::time::Instant::now();
    let (n, m) = (points.len(), facilities.len());
    let usable: Vec<bool> = (0..m).map(|j| facilities[j].is_some() && capacity[j] > 0.0).collect();
    let rows: Vec<usize> = (0..n).filter(|&i| amount[i] > 0.0).collect();
    let leaves: Vec<Vec<(u32, f64)>> = rows
        .iter()
        .map(|&i| points[i].map(|s| net.leave(&s)).unwrap_or_default())
        .collect();
    if usable.iter().filter(|&&u| u).count() <= opts.dense_up_to {
        return assign_dense(
            net, points, amount, facilities, capacity, &usable, &rows, &leaves, started,
        );
    }
    // Facilities per link, for direct joins.
    let mut on_link: std::collections::HashMap<u32, Vec<usize>> = std::collections::HashMap::new();
    for j in (0..m).filter(|&j| usable[j]) {
        on_link.entry(facilities[j].expect("usable").link).or_default().push(j);
    }
    let direct = |r: usize, j: usize| -> Option<f64> {
        let p = points[rows[r]]?;
        net.direct(&p, &facilities[j]?)
    };
    // Candidates of row r from k-label search results: per facility j the best t + offset_j
    // over the point's leave nodes (and a direct join along its own link), kept only where it is
    // exact — no leave node lacking j could do better, since j is no better there than that
    // node's k-th label.
    let candidates = |r: usize, labels: &[Vec<(u32, f64)>], k: usize, offset: &[f64], cand: &mut Vec<(usize, f64)>| {
        cand.clear();
        for &(node, c) in &leaves[r] {
            for &(j, d) in &labels[node as usize] {
                let v = c + d;
                match cand.iter_mut().find(|(x, _)| *x == j as usize) {
                    Some(e) => e.1 = e.1.min(v),
                    None => cand.push((j as usize, v)),
                }
            }
        }
        cand.retain(|&(j, v)| {
            leaves[r].iter().all(|&(node, c)| {
                let lv = &labels[node as usize];
                lv.iter().any(|&(s, _)| s as usize == j) || lv.len() < k || c + lv[k - 1].1 >= v
            })
        });
        if let Some(p) = points[rows[r]]
            && let Some(js) = on_link.get(&p.link)
        {
            for &j in js {
                if let Some(t) = direct(r, j) {
                    let v = t + offset[j];
                    match cand.iter_mut().find(|(x, _)| *x == j) {
                        Some(e) => e.1 = e.1.min(v),
                        None => cand.push((j, v)),
                    }
                }
            }
        }
    };
    // 1. k nearest.
    let zero = vec![0.0; m];
    let labels = net.k_labels(&sources(net, facilities, &usable, &zero), opts.k.max(1));
    let mut arcs: Vec<(usize, usize, f64)> = Vec::new();
    let mut have: HashSet<(usize, usize)> = HashSet::new();
    let k = opts.k.max(1);
    let mut cand: Vec<(usize, f64)> = Vec::new();
    for r in 0..rows.len() {
        candidates(r, &labels, k, &zero, &mut cand);
        for &(j, t) in &cand {
            if have.insert((r, j)) {
                arcs.push((r, j, t));
            }
        }
    }
    drop(labels);
    // 1b. Facility side: the nearest points of each facility until their demand is twice its
    // capacity (or a bounded number of nodes) — where demand far exceeds supply the optimum
    // draws each facility's nearest people, often beyond their own k nearest facilities.
    let mut at_node: std::collections::HashMap<u32, Vec<(usize, f64)>> = std::collections::HashMap::new();
    for (r, lv) in leaves.iter().enumerate() {
        for &(node, c) in lv {
            at_node.entry(node).or_default().push((r, c));
        }
    }
    // Where supply exceeds demand a facility would otherwise search the whole city: a few
    // times the mean number of demand nodes per facility is plenty for a start.
    let n_usable = usable.iter().filter(|&&u| u).count().max(1);
    let max_hits = (4 * at_node.len() / n_usable).max(64);
    let extra: Vec<Vec<(usize, usize, f64)>> = (0..m)
        .into_par_iter()
        .filter(|&j| usable[j])
        .map(|j| {
            let want = 2.0 * capacity[j];
            let src: Vec<(u32, f64, u32)> = net
                .enter(&facilities[j].expect("usable"))
                .into_iter()
                .map(|(v, c)| (v, c, 0))
                .collect();
            let (dist, stop) = net.bounded(
                &src,
                |v, _| {
                    at_node
                        .get(&v)
                        .map_or(0.0, |l| l.iter().map(|&(r, _)| amount[rows[r]]).sum::<f64>())
                },
                want,
                max_hits,
            );
            let mut touched: Vec<usize> = Vec::new();
            for (v, d) in dist.iter().enumerate() {
                if d.is_finite()
                    && let Some(l) = at_node.get(&(v as u32))
                {
                    touched.extend(l.iter().map(|x| x.0));
                }
            }
            touched.sort_unstable();
            touched.dedup();
            touched
                .into_iter()
                .filter_map(|r| {
                    let mut best = direct(r, j).unwrap_or(f64::INFINITY);
                    let mut bound = f64::INFINITY;
                    for &(node, c) in &leaves[r] {
                        let d = dist[node as usize];
                        if d.is_finite() {
                            best = best.min(c + d);
                        } else {
                            bound = bound.min(c + stop);
                        }
                    }
                    (best.is_finite() && best <= bound).then_some((r, j, best))
                })
                .collect()
        })
        .collect();
    for part in extra {
        for (r, j, t) in part {
            if have.insert((r, j)) {
                arcs.push((r, j, t));
            }
        }
    }
    let candidates_s = started.elapsed().as_secs_f64();
    // 2–3. Network simplex (warm-started from the last basis) and pricing.
    let supply: Vec<f64> = rows.iter().map(|&i| amount[i]).collect();
    let cap: Vec<f64> = (0..m).map(|j| if usable[j] { capacity[j] } else { 0.0 }).collect();
    let mut tp = Transport::new(&supply, &cap, UNSERVED_PENALTY_S);
    let mut in_tp = 0;
    let (mut solver_s, mut pricing_s) = (0.0, 0.0);
    let mut rounds = 0;
    loop {
        rounds += 1;
        let t0 = std::time::Instant::now();
        for &(r, j, t) in &arcs[in_tp..] {
            tp.add_arc(r, j, t);
        }
        in_tp = arcs.len();
        tp.solve().map_err(ScenarioError::Solver)?;
        solver_s += t0.elapsed().as_secs_f64();
        if rounds >= opts.max_rounds {
            return Err(ScenarioError::Solver(format!(
                "assignment: no proof of optimality after {rounds} pricing rounds"
            )));
        }
        let t0 = std::time::Instant::now();
        let u: Vec<f64> = (0..rows.len()).map(|r| tp.point_dual(r)).collect();
        // Offsets −w_j: the marginal value of a place at facility j.
        let offset: Vec<f64> = (0..m).map(|j| -tp.facility_dual(j)).collect();
        // The PRICING_K best facilities of every node by t + offset: all arcs of a point that
        // price out join at once, which saves rounds where capacities bind.
        let kp = PRICING_K.max(opts.k);
        let labels = net.k_labels(&sources(net, facilities, &usable, &offset), kp);
        let mut added = 0;
        let mut cut_off = 0;
        // Violations per facility: (reduced cost, row, exact time).
        let mut viol: Vec<Vec<(f64, usize, f64)>> = vec![Vec::new(); m];
        for r in 0..rows.len() {
            candidates(r, &labels, kp, &offset, &mut cand);
            if cand.is_empty() && leaves[r].iter().all(|&(node, _)| labels[node as usize].is_empty()) {
                cut_off += 1;
            }
            let tol = PRICING_TOL_S + 1e-12 * u[r].abs();
            for &(j, v) in &cand {
                if v < u[r] - tol && !have.contains(&(r, j)) {
                    viol[j].push((v - u[r], r, v - offset[j]));
                }
            }
        }
        drop(labels);
        // Per facility, the most violated arcs until their demand reaches its capacity: more
        // could not all be used, and the next round prices again.
        for (j, mut list) in viol.into_iter().enumerate() {
            list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut sum = 0.0;
            for (_, r, t) in list {
                if sum >= VIOLATORS_PER_CAPACITY * capacity[j] {
                    break;
                }
                sum += amount[rows[r]];
                have.insert((r, j));
                arcs.push((r, j, t));
                added += 1;
            }
        }
        pricing_s += t0.elapsed().as_secs_f64();
        if added == 0 {
            let mut flows = Vec::new();
            let mut load = vec![0.0; m];
            let mut unserved = vec![0.0; n];
            for (r, &i) in rows.iter().enumerate() {
                unserved[i] = tp.unserved(r);
            }
            let mut total = 0.0;
            for (k, &(r, j, t)) in arcs.iter().enumerate() {
                let x = tp.flow(k);
                if x > 1e-9 {
                    flows.push(Flow {
                        point: rows[r],
                        facility: j,
                        amount: x,
                        time_s: t,
                    });
                    load[j] += x;
                    total += x * t;
                }
            }
            flows.sort_by_key(|f| (f.point, f.facility));
            return Ok(Assignment {
                flows,
                unserved,
                load,
                total_time_s: total,
                rounds,
                arcs: arcs.len(),
                cut_off,
                timings: AssignTimings {
                    candidates_s,
                    solver_s,
                    pricing_s,
                    solver_steps: tp.pivots(),
                },
            });
        }
    }
}

/// Travel times from every point to every facility, row-major (`points.len()` rows), ∞ where a
/// point cannot reach a facility (closed link, other component, no snap): one backward search
/// per facility, in parallel.
pub fn time_matrix(net: &Network, points: &[Option<Snap>], facilities: &[Option<Snap>]) -> Vec<f64> {
    let leaves: Vec<Vec<(u32, f64)>> = points
        .iter()
        .map(|p| p.map(|s| net.leave(&s)).unwrap_or_default())
        .collect();
    time_matrix_from(net, points, &leaves, facilities)
}

fn time_matrix_from(
    net: &Network,
    points: &[Option<Snap>],
    leaves: &[Vec<(u32, f64)>],
    facilities: &[Option<Snap>],
) -> Vec<f64> {
    let m = facilities.len();
    let columns: Vec<Vec<f64>> = facilities
        .par_iter()
        .map(|f| {
            let Some(f) = f else {
                return vec![f64::INFINITY; points.len()];
            };
            let src: Vec<(u32, f64, u32)> = net.enter(f).into_iter().map(|(v, c)| (v, c, 0)).collect();
            let (dist, _) = net.bounded(&src, |_, _| 0.0, f64::INFINITY, usize::MAX);
            points
                .iter()
                .zip(leaves)
                .map(|(p, lv)| {
                    let mut best = p.and_then(|p| net.direct(&p, f)).unwrap_or(f64::INFINITY);
                    for &(v, c) in lv {
                        best = best.min(c + dist[v as usize]);
                    }
                    best
                })
                .collect()
        })
        .collect();
    let mut time = vec![f64::INFINITY; points.len() * m];
    for (c, col) in columns.iter().enumerate() {
        for (r, &t) in col.iter().enumerate() {
            time[r * m + c] = t;
        }
    }
    time
}

/// [`assign`] with all n × m times, solved by [`crate::fewsinks`]: for a few dozen facilities
/// one backward search per facility costs less than the candidate searches and pricing.
#[allow(clippy::too_many_arguments)]
fn assign_dense(
    net: &Network,
    points: &[Option<Snap>],
    amount: &[f64],
    facilities: &[Option<Snap>],
    capacity: &[f64],
    usable: &[bool],
    rows: &[usize],
    leaves: &[Vec<(u32, f64)>],
    started: std::time::Instant,
) -> Result<Assignment, ScenarioError> {
    let (n, m) = (points.len(), facilities.len());
    let cols: Vec<usize> = (0..m).filter(|&j| usable[j]).collect();
    let mc = cols.len();
    let row_snaps: Vec<Option<Snap>> = rows.iter().map(|&i| points[i]).collect();
    let col_snaps: Vec<Option<Snap>> = cols.iter().map(|&j| facilities[j]).collect();
    let time = time_matrix_from(net, &row_snaps, leaves, &col_snaps);
    let cut_off = (0..rows.len())
        .filter(|&r| time[r * mc..(r + 1) * mc].iter().all(|t| !t.is_finite()))
        .count();
    let arcs = time.iter().filter(|t| t.is_finite()).count();
    let candidates_s = started.elapsed().as_secs_f64();
    let t0 = std::time::Instant::now();
    let supply: Vec<f64> = rows.iter().map(|&i| amount[i]).collect();
    let cap: Vec<f64> = cols.iter().map(|&j| capacity[j]).collect();
    let sol = crate::fewsinks::solve(&supply, &cap, &time, UNSERVED_PENALTY_S).map_err(ScenarioError::Solver)?;
    let solver_s = t0.elapsed().as_secs_f64();
    let mut flows = Vec::new();
    let mut load = vec![0.0; m];
    let mut unserved = vec![0.0; n];
    let mut total = 0.0;
    for (r, &i) in rows.iter().enumerate() {
        for &(c, x) in &sol.flows[r] {
            let c = c as usize;
            if c == mc {
                unserved[i] += x;
            } else if x > 1e-9 {
                let t = time[r * mc + c];
                flows.push(Flow {
                    point: i,
                    facility: cols[c],
                    amount: x,
                    time_s: t,
                });
                load[cols[c]] += x;
                total += x * t;
            }
        }
    }
    flows.sort_by_key(|f| (f.point, f.facility));
    Ok(Assignment {
        flows,
        unserved,
        load,
        total_time_s: total,
        rounds: 1,
        arcs,
        cut_off,
        timings: AssignTimings {
            candidates_s,
            solver_s,
            pricing_s: 0.0,
            solver_steps: sol.augmentations,
        },
    })
}

/// People crossing each link on their way (shortest paths of the flows), per graph link.
pub fn link_loads(net: &Network, points: &[Option<Snap>], facilities: &[Option<Snap>], flows: &[Flow]) -> Vec<f64> {
    let nl = net.graph.links.len();
    let mut by_fac: std::collections::BTreeMap<usize, Vec<&Flow>> = std::collections::BTreeMap::new();
    for f in flows {
        by_fac.entry(f.facility).or_default().push(f);
    }
    let parts: Vec<Vec<(u32, f64)>> = by_fac
        .into_par_iter()
        .map(|(j, fl)| {
            let mut out: Vec<(u32, f64)> = Vec::new();
            let Some(fs) = facilities[j] else { return out };
            let src: Vec<(u32, f64, u32)> = net.enter(&fs).into_iter().map(|(v, c)| (v, c, 0)).collect();
            let (dist, _, next) = net.tree(&src);
            for f in fl {
                let Some(p) = points[f.point] else { continue };
                // Same-link direct join, when it is the route.
                if net
                    .direct(&p, &fs)
                    .is_some_and(|t| (t - f.time_s).abs() <= 1e-6 * t.max(1.0))
                {
                    out.push((p.link, f.amount));
                    continue;
                }
                let start = net
                    .leave(&p)
                    .into_iter()
                    .filter(|(v, _)| dist[*v as usize].is_finite())
                    .min_by(|a, b| (a.1 + dist[a.0 as usize]).total_cmp(&(b.1 + dist[b.0 as usize])));
                let Some((mut v, _)) = start else { continue };
                out.push((p.link, f.amount));
                let mut guard = 0;
                while next[v as usize].0 != u32::MAX && guard < net.graph.node_count() {
                    let (w, l) = next[v as usize];
                    out.push((net.graph.road_link(l as usize) as u32, f.amount));
                    v = w;
                    guard += 1;
                }
            }
            out
        })
        .collect();
    let mut load = vec![0.0; nl];
    for part in parts {
        for (l, a) in part {
            load[l as usize] += a;
        }
    }
    load
}
