//! Primal network simplex for the capacitated transportation problem, with warm starts.
//!
//! The problem of [`crate::assign`] as a minimum-cost flow: a node per demand point (supply
//! `d_i`), a node per facility, and one root node that absorbs all flow. Arcs:
//! - point → facility, cost `t_ij`, uncapacitated: the candidate arcs, added at any time;
//! - facility → root, cost 0, capacity `c_j`: the facility's capacity;
//! - point → root, cost `M`, uncapacitated: demand left unserved.
//!
//! The unserved arcs and the capacity arcs form a spanning tree that is feasible from the start
//! (every person unserved), so no artificial arcs are needed. Arcs added later enter at their
//! lower bound (flow 0) without disturbing the tree, so column generation continues from the
//! last basis instead of starting over: that is the warm start.
//!
//! Node potentials `π` make every tree arc's reduced cost `cost + π(tail) − π(head)` zero, with
//! `π(root) = 0`. They are the LP duals of the transportation problem: a point's row dual is
//! `u_i = −π(i)` and a facility's capacity dual is `w_j = π(j)` (≤ 0 when its capacity binds).
//!
//! Pivoting: block search (the most violated arc within blocks of √A arcs, resuming where the
//! last search stopped), and the leaving arc chosen by Cunningham's rule (the last blocking arc
//! of the cycle, walked from its apex in the direction of the flow), which keeps the tree
//! strongly feasible and so rules out cycling on the many degenerate pivots of a transportation
//! problem. The tree is stored as parent pointers with depths and doubly linked child lists;
//! a pivot re-roots the moving subtree along the path to the leaving arc and updates the depths
//! and potentials of that subtree only.

const NONE: u32 = u32::MAX;
const TREE: i8 = 0;
const LOWER: i8 = 1;
const UPPER: i8 = -1;

/// Reduced costs within this many seconds of zero count as zero. Potentials are sums of travel
/// times and the unserved penalty (≈ 10⁷ s); f64 rounding there is about 10⁻⁹ s per tree level.
const EPS: f64 = 1e-6;

/// The transportation problem and its current basis.
#[derive(Debug, Clone)]
pub struct Transport {
    n: usize,
    m: usize,
    tail: Vec<u32>,
    head: Vec<u32>,
    cost: Vec<f64>,
    upper: Vec<f64>,
    flow: Vec<f64>,
    state: Vec<i8>,
    parent: Vec<u32>,
    pred: Vec<u32>,
    /// Whether the node's tree arc points from it to its parent.
    up: Vec<bool>,
    depth: Vec<u32>,
    first_child: Vec<u32>,
    next_sib: Vec<u32>,
    prev_sib: Vec<u32>,
    pi: Vec<f64>,
    next_arc: usize,
    pivots: usize,
}

impl Transport {
    /// `supply[i]` people at point i (> 0), `capacity[j]` at facility j (≥ 0), `penalty` per
    /// unserved person (above any travel time).
    pub fn new(supply: &[f64], capacity: &[f64], penalty: f64) -> Transport {
        let (n, m) = (supply.len(), capacity.len());
        let root = (n + m) as u32;
        let nodes = n + m + 1;
        let mut t = Transport {
            n,
            m,
            tail: Vec::with_capacity(n + m),
            head: Vec::with_capacity(n + m),
            cost: Vec::with_capacity(n + m),
            upper: Vec::with_capacity(n + m),
            flow: Vec::with_capacity(n + m),
            state: Vec::with_capacity(n + m),
            parent: vec![NONE; nodes],
            pred: vec![NONE; nodes],
            up: vec![true; nodes],
            depth: vec![0; nodes],
            first_child: vec![NONE; nodes],
            next_sib: vec![NONE; nodes],
            prev_sib: vec![NONE; nodes],
            pi: vec![0.0; nodes],
            next_arc: 0,
            pivots: 0,
        };
        // Unserved arcs: arc i for point i, carrying all its supply.
        for (i, &d) in supply.iter().enumerate() {
            t.push_arc(i as u32, root, penalty, f64::INFINITY);
            t.flow[i] = d.max(0.0);
            t.state[i] = TREE;
        }
        // Capacity arcs: arc n + j for facility j, empty.
        for (j, &c) in capacity.iter().enumerate() {
            t.push_arc((n + j) as u32, root, 0.0, c.max(0.0));
            t.state[n + j] = TREE;
        }
        for x in 0..n + m {
            t.parent[x] = root;
            t.pred[x] = x as u32;
            t.up[x] = true;
            t.depth[x] = 1;
            t.pi[x] = -t.cost[x];
            t.attach(x as u32, root);
        }
        t
    }

    fn push_arc(&mut self, tail: u32, head: u32, cost: f64, upper: f64) -> usize {
        self.tail.push(tail);
        self.head.push(head);
        self.cost.push(cost);
        self.upper.push(upper);
        self.flow.push(0.0);
        self.state.push(LOWER);
        self.tail.len() - 1
    }

    /// Adds the arc point `i` → facility `j` at travel time `cost`, empty; returns its index
    /// (indices count from 0 in the order of the calls).
    pub fn add_arc(&mut self, i: usize, j: usize, cost: f64) -> usize {
        assert!(i < self.n && j < self.m, "arc ({i}, {j}) outside the problem");
        self.push_arc(i as u32, (self.n + j) as u32, cost, f64::INFINITY) - self.n - self.m
    }

    /// Flow on the arc returned by [`Transport::add_arc`].
    pub fn flow(&self, arc: usize) -> f64 {
        self.flow[self.n + self.m + arc]
    }

    /// Demand of point `i` left unserved.
    pub fn unserved(&self, i: usize) -> f64 {
        self.flow[i]
    }

    /// Row dual of point `i`: the marginal cost of one more person there.
    pub fn point_dual(&self, i: usize) -> f64 {
        -self.pi[i]
    }

    /// Capacity dual of facility `j` (≤ 0 when its capacity binds, in the optimum).
    pub fn facility_dual(&self, j: usize) -> f64 {
        self.pi[self.n + j]
    }

    /// Pivots made so far, over all calls of [`Transport::solve`].
    pub fn pivots(&self) -> usize {
        self.pivots
    }

    fn reduced(&self, a: usize) -> f64 {
        self.cost[a] + self.pi[self.tail[a] as usize] - self.pi[self.head[a] as usize]
    }

    fn attach(&mut self, x: u32, p: u32) {
        let (xs, ps) = (x as usize, p as usize);
        let f = self.first_child[ps];
        self.next_sib[xs] = f;
        self.prev_sib[xs] = NONE;
        if f != NONE {
            self.prev_sib[f as usize] = x;
        }
        self.first_child[ps] = x;
    }

    fn detach(&mut self, x: u32) {
        let xs = x as usize;
        let (p, nx) = (self.prev_sib[xs], self.next_sib[xs]);
        if p == NONE {
            self.first_child[self.parent[xs] as usize] = nx;
        } else {
            self.next_sib[p as usize] = nx;
        }
        if nx != NONE {
            self.prev_sib[nx as usize] = p;
        }
    }

    /// Pivots until no arc has a negative reduced cost (the optimum over the arcs added so far).
    /// Returns the number of pivots of this call.
    pub fn solve(&mut self) -> Result<usize, String> {
        let arcs = self.tail.len();
        let block = ((arcs as f64).sqrt() as usize).max(10);
        let start = self.pivots;
        loop {
            let Some(e) = self.entering(arcs, block) else {
                return Ok(self.pivots - start);
            };
            self.pivot(e)?;
            self.pivots += 1;
        }
    }

    fn entering(&mut self, arcs: usize, block: usize) -> Option<usize> {
        let mut best = None;
        let mut best_v = -EPS;
        let mut a = self.next_arc.min(arcs.saturating_sub(1));
        let mut in_block = 0;
        for _ in 0..arcs {
            let s = self.state[a];
            if s != TREE {
                let v = f64::from(s) * self.reduced(a);
                if v < best_v {
                    best_v = v;
                    best = Some(a);
                }
            }
            a += 1;
            if a == arcs {
                a = 0;
            }
            in_block += 1;
            if in_block == block {
                if best.is_some() {
                    break;
                }
                in_block = 0;
            }
        }
        self.next_arc = a;
        best
    }

    fn pivot(&mut self, e: usize) -> Result<(), String> {
        let (first, second) = if self.state[e] == LOWER {
            (self.tail[e], self.head[e])
        } else {
            (self.head[e], self.tail[e])
        };
        // Apex of the cycle.
        let (mut a, mut b) = (first, second);
        while a != b {
            let (da, db) = (self.depth[a as usize], self.depth[b as usize]);
            if da >= db {
                a = self.parent[a as usize];
            }
            if db >= da {
                b = self.parent[b as usize];
            }
        }
        let join = a;
        // Blocking arc (Cunningham): flow runs join → … → first → e → second → … → join.
        let mut delta = self.upper[e];
        let mut out = NONE;
        let mut side = 0;
        let mut u = first;
        while u != join {
            let us = u as usize;
            let p = self.pred[us] as usize;
            let d = if self.up[us] {
                self.flow[p]
            } else {
                self.upper[p] - self.flow[p]
            };
            if d < delta {
                delta = d;
                out = u;
                side = 1;
            }
            u = self.parent[us];
        }
        let mut u = second;
        while u != join {
            let us = u as usize;
            let p = self.pred[us] as usize;
            let d = if self.up[us] {
                self.upper[p] - self.flow[p]
            } else {
                self.flow[p]
            };
            if d <= delta {
                delta = d;
                out = u;
                side = 2;
            }
            u = self.parent[us];
        }
        if !delta.is_finite() {
            return Err("assignment: unbounded cycle in the network simplex (negative travel time?)".into());
        }
        if delta > 0.0 {
            self.flow[e] += f64::from(self.state[e]) * delta;
            let mut u = first;
            while u != join {
                let us = u as usize;
                let p = self.pred[us] as usize;
                self.flow[p] += if self.up[us] { -delta } else { delta };
                u = self.parent[us];
            }
            let mut u = second;
            while u != join {
                let us = u as usize;
                let p = self.pred[us] as usize;
                self.flow[p] += if self.up[us] { delta } else { -delta };
                u = self.parent[us];
            }
        }
        if side == 0 {
            // The entering arc itself blocks: it moves to its other bound.
            self.state[e] = -self.state[e];
            self.flow[e] = if self.state[e] == UPPER { self.upper[e] } else { 0.0 };
            return Ok(());
        }
        // The leaving arc goes to the bound it hit.
        let os = out as usize;
        let leaving = self.pred[os] as usize;
        let decreased = (side == 1) == self.up[os];
        if decreased {
            self.state[leaving] = LOWER;
            self.flow[leaving] = 0.0;
        } else {
            self.state[leaving] = UPPER;
            self.flow[leaving] = self.upper[leaving];
        }
        self.state[e] = TREE;
        // Re-hang the subtree below the leaving arc from the entering arc.
        let (u_in, v_in) = if side == 1 { (first, second) } else { (second, first) };
        let (mut x, mut new_parent, mut new_pred) = (u_in, v_in, e as u32);
        loop {
            let xs = x as usize;
            let (old_parent, old_pred) = (self.parent[xs], self.pred[xs]);
            self.detach(x);
            self.parent[xs] = new_parent;
            self.pred[xs] = new_pred;
            self.up[xs] = self.tail[new_pred as usize] == x;
            self.attach(x, new_parent);
            if x == out {
                break;
            }
            new_parent = x;
            new_pred = old_pred;
            x = old_parent;
        }
        // Depths and potentials of the moved subtree, from its new parent down.
        let mut stack = vec![u_in];
        while let Some(x) = stack.pop() {
            let xs = x as usize;
            let p = self.parent[xs] as usize;
            let c = self.cost[self.pred[xs] as usize];
            self.depth[xs] = self.depth[p] + 1;
            self.pi[xs] = if self.up[xs] { self.pi[p] - c } else { self.pi[p] + c };
            let mut ch = self.first_child[xs];
            while ch != NONE {
                stack.push(ch);
                ch = self.next_sib[ch as usize];
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over a tiny instance: two points, two facilities.
    #[test]
    fn two_by_two_by_hand() {
        // Point 0: 10 people, point 1: 5. Facility 0 holds 8, facility 1 holds 20.
        // Times: p0→f0 1, p0→f1 4, p1→f0 2, p1→f1 10.
        // Optimum: p1 (5) → f0 (cost 10, saves 8/person over f1), p0 3 → f0, 7 → f1.
        // Total 5·2 + 3·1 + 7·4 = 41. Alternative p0 8→f0, 2→f1, p1 5→f1: 8+8+50 = 66.
        let mut t = Transport::new(&[10.0, 5.0], &[8.0, 20.0], 1e7);
        let a = [
            t.add_arc(0, 0, 1.0),
            t.add_arc(0, 1, 4.0),
            t.add_arc(1, 0, 2.0),
            t.add_arc(1, 1, 10.0),
        ];
        t.solve().unwrap();
        let x: Vec<f64> = a.iter().map(|&k| t.flow(k)).collect();
        assert_eq!(x, vec![3.0, 7.0, 5.0, 0.0]);
        assert_eq!((t.unserved(0), t.unserved(1)), (0.0, 0.0));
        // Duals: facility 0 full, worth 3 s per place (p0 pays 4 at f1 instead of 1).
        assert!((t.facility_dual(0) + 3.0).abs() < 1e-12);
        assert!((t.point_dual(0) - 4.0).abs() < 1e-12);
        assert!((t.point_dual(1) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn shortage_leaves_the_farthest_unserved_and_warm_start_adds_arcs() {
        // 3 points × 1 facility of 4 places; then a second facility arrives for point 2.
        let mut t = Transport::new(&[2.0, 2.0, 2.0], &[4.0, 10.0], 1e7);
        let a0 = t.add_arc(0, 0, 5.0);
        let a1 = t.add_arc(1, 0, 1.0);
        let a2 = t.add_arc(2, 0, 3.0);
        t.solve().unwrap();
        assert_eq!((t.flow(a0), t.flow(a1), t.flow(a2)), (0.0, 2.0, 2.0));
        assert_eq!(t.unserved(0), 2.0);
        let b = t.add_arc(0, 1, 7.0);
        t.solve().unwrap();
        assert_eq!((t.flow(a0), t.flow(a1), t.flow(a2), t.flow(b)), (0.0, 2.0, 2.0, 2.0));
        assert_eq!(t.unserved(0), 0.0);
        // Cheaper: point 0 to facility 0 (5) and point 2 to 1 (now 6 < 7 + 3 − 5 …).
        let c = t.add_arc(2, 1, 6.0);
        t.solve().unwrap();
        // p0: f0 at 5 or f1 at 7; p2: f0 at 3 or f1 at 6. Moving p0 to f0 and p2 to f1 costs
        // 5 + 6 = 11 per person against 7 + 3 = 10: unchanged.
        assert_eq!((t.flow(a0), t.flow(b), t.flow(a2), t.flow(c)), (0.0, 2.0, 2.0, 0.0));
    }
}
