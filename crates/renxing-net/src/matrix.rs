//! Travel-cost matrices, nearest-k facilities and one-to-all trees between snapped points, on a
//! customised hierarchy ([`crate::cch::Customized`]).
//!
//! # Points
//!
//! Origins and destinations are points snapped onto links ([`Snap`]), as in [`crate::access`]: a
//! point on link (a, b) at `x` metres from `a`, `s` metres off the road, leaves towards `a` at cost
//! `s + x` when the link may be travelled from `b` to `a` (or the point sits on `a`), towards `b`
//! at `s + (len − x)` when it may be travelled from `a` to `b`; arriving is the mirror image. Two
//! points on the same link are also joined directly along it when its direction allows. Time on
//! a partial link is the link's (scenario) time pro rata; the off-road stretch is walked at the
//! profile's access speed. A point whose link is **closed** in the scenario has no route at all:
//! a flooded street cuts off what stands on it — unless the point stands exactly on one of the
//! link's nodes, a junction whose other links may be open.
//!
//! # Many-to-many
//!
//! The smaller side is swept: for [`LANES`] points at a time, an upward search from each and one
//! PHAST sweep give costs to every node; each point of the other side then reads the one or two
//! nodes it attaches to. Batches run in parallel. Results are delivered in **blocks** of about
//! [`MatrixOptions::max_block_bytes`] (the peak is about twice that: per-batch results and the
//! assembled block): all destinations × a range of origins
//! when origins are swept, all origins × a range of destinations otherwise; within a block values
//! are origin-major. A consumer can therefore stream a matrix far larger than memory to disk.

use std::ops::Range;

use rayon::prelude::*;

use crate::access::Metric;
use crate::cch::{Cost2, Customized, LANES, UNREACHED, add, better, from_units, to_units};
use crate::graph::Graph;
use crate::snap::Snap;

/// Distance and time of one route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub distance_m: f64,
    pub time_s: f64,
}

/// Read a `[primary, secondary]` pair (nano-units) as metres and seconds.
pub fn cost_of(metric: Metric, c: Cost2) -> Cost {
    let (p, s) = (from_units(c[0]), from_units(c[1]));
    match metric {
        Metric::Distance => Cost {
            distance_m: p,
            time_s: s,
        },
        Metric::Time => Cost {
            distance_m: s,
            time_s: p,
        },
    }
}

/// Costs of the pieces of a route that are not whole links, in one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Attach<'a> {
    pub cust: &'a Customized<'a>,
    pub graph: &'a Graph,
    /// Walking speed off the road (m/s), [`crate::profile::Profile::access_speed_mps`].
    pub access_speed_mps: f64,
}

impl Attach<'_> {
    fn pair(&self, dist_m: f64, time_s: f64) -> Cost2 {
        let (d, t) = (to_units(dist_m), to_units(time_s));
        match self.cust.metric {
            Metric::Distance => [d, t],
            Metric::Time => [t, d],
        }
    }

    /// Cost of `x` metres of link `l` plus `off` metres off the road.
    fn partial(&self, l: usize, x: f64, off: f64) -> Cost2 {
        let len = self.graph.links[l].length_m;
        let t = if len > 0.0 {
            x / len * self.cust.links.time_s[l]
        } else {
            0.0
        };
        // Scenario lengths equal the graph's; only times change with slowdowns. The two pieces
        // are rounded separately, as every link is.
        add(self.pair(x, t), self.pair(off, off / self.access_speed_mps))
    }

    fn usable(&self, s: &Snap) -> bool {
        self.cust.links.open[s.link as usize]
    }

    /// A point on a closed link: cut off, unless it stands exactly on one of the link's nodes —
    /// then it is at that junction, whose other links may be open.
    fn on_closed(&self, s: &Snap, arriving: bool) -> Option<Vec<(u32, Cost2)>> {
        let li = s.link as usize;
        let (l, e) = (&self.graph.links[li], self.graph.ends(li));
        let at = if s.along_m <= 0.0 {
            e.a
        } else if s.along_m >= l.length_m {
            e.b
        } else {
            return None;
        };
        Some(self.at_junction(at, arriving, self.partial(li, 0.0, s.offset_m)))
    }

    /// A point standing on junction `j`: it leaves from the junction itself and is reached by
    /// arriving there along any link (any copy of the junction, under turn restrictions).
    fn at_junction(&self, j: u32, arriving: bool, c: Cost2) -> Vec<(u32, Cost2)> {
        if arriving {
            self.graph.at_junction(j).map(|v| (v, c)).collect()
        } else {
            vec![(j, c)]
        }
    }

    /// Nodes a point can travel to, with the cost of getting there; `None` on a closed link.
    pub fn leave(&self, s: &Snap) -> Option<Vec<(u32, Cost2)>> {
        if !self.usable(s) {
            return self.on_closed(s, false);
        }
        let li = s.link as usize;
        let (l, e) = (&self.graph.links[li], self.graph.ends(li));
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
        Some(v)
    }

    /// Nodes from which a point can be reached, with the cost of the last stretch.
    pub fn enter(&self, s: &Snap) -> Option<Vec<(u32, Cost2)>> {
        if !self.usable(s) {
            return self.on_closed(s, true);
        }
        let li = s.link as usize;
        let (g, l, e) = (self.graph, &self.graph.links[li], self.graph.ends(li));
        let mut v = Vec::with_capacity(2);
        if s.along_m <= 0.0 {
            v.extend(self.at_junction(e.a, true, self.partial(li, 0.0, s.offset_m)));
        } else if e.forward {
            let c = self.partial(li, s.along_m, s.offset_m);
            v.extend(g.entries(li, true).map(|n| (n, c)));
        }
        if s.along_m >= l.length_m {
            v.extend(self.at_junction(e.b, true, self.partial(li, 0.0, s.offset_m)));
        } else if e.backward {
            let c = self.partial(li, l.length_m - s.along_m, s.offset_m);
            v.extend(g.entries(li, false).map(|n| (n, c)));
        }
        Some(v)
    }

    /// Straight along a shared link from `o` to `d`, where its direction allows.
    pub fn direct(&self, o: &Snap, d: &Snap) -> Option<Cost2> {
        if o.link != d.link || !self.usable(o) {
            return None;
        }
        let li = o.link as usize;
        let l = self.graph.ends(li);
        let ok = (d.along_m >= o.along_m && l.forward) || (d.along_m <= o.along_m && l.backward);
        ok.then(|| {
            let c = self.partial(li, (d.along_m - o.along_m).abs(), o.offset_m);
            add(c, self.pair(d.offset_m, d.offset_m / self.access_speed_mps))
        })
    }
}

/// Options of a matrix computation.
#[derive(Debug, Clone, Copy)]
pub struct MatrixOptions {
    /// Pairs whose minimised cost exceeds this (metres or seconds) are reported as unreached.
    pub cutoff: Option<f64>,
    /// Memory for one block of results (16 bytes per pair).
    pub max_block_bytes: usize,
}

impl Default for MatrixOptions {
    fn default() -> Self {
        MatrixOptions {
            cutoff: None,
            max_block_bytes: 512 << 20,
        }
    }
}

/// One block of a matrix: `costs[(o - origins.start) * destinations.len() + (d - destinations.start)]`,
/// `[primary, secondary]`, [`UNREACHED`] for no route (or beyond the cutoff).
#[derive(Debug)]
pub struct MatrixBlock<'a> {
    pub origins: Range<usize>,
    pub destinations: Range<usize>,
    pub costs: &'a [Cost2],
}

/// Which side was swept and how many blocks, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatrixStats {
    pub swept_origins: bool,
    pub sweeps: usize,
    pub blocks: usize,
}

/// Every origin × destination cost, delivered block by block to `sink` (see the module doc).
/// `None` points (not snapped) give unreached rows/columns.
pub fn many_to_many<E>(
    at: &Attach<'_>,
    origins: &[Option<Snap>],
    destinations: &[Option<Snap>],
    opts: &MatrixOptions,
    mut sink: impl FnMut(MatrixBlock<'_>) -> Result<(), E>,
) -> Result<MatrixStats, E> {
    let cust = at.cust;
    let forward = origins.len() <= destinations.len();
    let (sweep_pts, look_pts) = if forward {
        (origins, destinations)
    } else {
        (destinations, origins)
    };
    let sweep_seeds: Vec<Option<Vec<(u32, Cost2)>>> = sweep_pts
        .iter()
        .map(|p| p.as_ref().and_then(|s| if forward { at.leave(s) } else { at.enter(s) }))
        .collect();
    // The other side reads the sweep at its attachment nodes (by rank).
    let look: Vec<Vec<(u32, Cost2)>> = look_pts
        .iter()
        .map(|p| {
            p.as_ref()
                .and_then(|s| if forward { at.enter(s) } else { at.leave(s) })
                .unwrap_or_default()
                .into_iter()
                .map(|(v, c)| (cust.cch.rank[v as usize], c))
                .collect()
        })
        .collect();
    // Look-side points grouped by link, for direct same-link routes.
    let mut by_link: rustc_hash::FxHashMap<u32, Vec<u32>> = Default::default();
    for (j, p) in look_pts.iter().enumerate() {
        if let Some(s) = p {
            by_link.entry(s.link).or_default().push(j as u32);
        }
    }
    let nl = look.len();
    let selection = cust.sweep_selection(look.iter().flat_map(|a| a.iter().map(|&(r, _)| r)));
    let per_row = (nl.max(1) * std::mem::size_of::<Cost2>()).max(1);
    let rows = (opts.max_block_bytes / per_row).max(LANES);
    let rows = rows - rows % LANES;
    let limit = opts.cutoff.map_or(f64::INFINITY, to_units);
    let mut stats = MatrixStats {
        swept_origins: forward,
        sweeps: 0,
        blocks: 0,
    };
    let mut block_vals: Vec<Cost2> = Vec::new();
    let ns = sweep_pts.len();
    let mut start = 0;
    while start < ns {
        let end = (start + rows).min(ns);
        let batches: Vec<Range<usize>> = (start..end).step_by(LANES).map(|b| b..(b + LANES).min(end)).collect();
        stats.sweeps += batches.len();
        let outs: Vec<Vec<Cost2>> = batches
            .par_iter()
            .map_init(Vec::new, |buf, batch| {
                let seeds: Vec<Vec<(u32, Cost2)>> = batch
                    .clone()
                    .map(|i| sweep_seeds[i].clone().unwrap_or_default())
                    .collect();
                cust.sweep_from(&seeds, forward, buf, Some(&selection));
                let mut out = vec![UNREACHED; batch.len() * nl];
                // Point-major reads: all lanes of an attachment node at once.
                for (j, attach) in look.iter().enumerate() {
                    let mut best = [UNREACHED; LANES];
                    for &(r, c) in attach {
                        let lanes = &buf[r as usize * LANES..(r as usize + 1) * LANES];
                        for k in 0..LANES {
                            let v = add(lanes[k], c);
                            if better(v, best[k]) {
                                best[k] = v;
                            }
                        }
                    }
                    for k in 0..batch.len() {
                        out[k * nl + j] = best[k];
                    }
                }
                for (k, i) in batch.clone().enumerate() {
                    let row = &mut out[k * nl..(k + 1) * nl];
                    if sweep_seeds[i].is_none() {
                        row.fill(UNREACHED);
                        continue;
                    }
                    let s = sweep_pts[i].as_ref().expect("seeded points are snapped");
                    if let Some(js) = by_link.get(&s.link) {
                        for &j in js {
                            let other = look_pts[j as usize].as_ref().expect("grouped points are snapped");
                            let d = if forward {
                                at.direct(s, other)
                            } else {
                                at.direct(other, s)
                            };
                            if let Some(d) = d
                                && better(d, row[j as usize])
                            {
                                row[j as usize] = d;
                            }
                        }
                    }
                    for v in row.iter_mut() {
                        if v[0] > limit {
                            *v = UNREACHED;
                        }
                    }
                }
                out
            })
            .collect();
        stats.blocks += 1;
        if forward {
            block_vals.clear();
            for o in &outs {
                block_vals.extend_from_slice(o);
            }
            sink(MatrixBlock {
                origins: start..end,
                destinations: 0..nl,
                costs: &block_vals,
            })?;
        } else {
            let width = end - start;
            block_vals.clear();
            block_vals.resize(nl * width, UNREACHED);
            for (batch, out) in batches.iter().zip(&outs) {
                for (k, d) in batch.clone().enumerate() {
                    let col = d - start;
                    for o in 0..nl {
                        block_vals[o * width + col] = out[k * nl + o];
                    }
                }
            }
            sink(MatrixBlock {
                origins: 0..nl,
                destinations: start..end,
                costs: &block_vals,
            })?;
        }
        start = end;
    }
    Ok(stats)
}

/// The `k` cheapest destinations of every origin (within the cutoff), cheapest first; ties by
/// destination index.
pub fn nearest_k(
    at: &Attach<'_>,
    origins: &[Option<Snap>],
    destinations: &[Option<Snap>],
    k: usize,
    opts: &MatrixOptions,
) -> Vec<Vec<(u32, Cost2)>> {
    let mut best: Vec<Vec<(u32, Cost2)>> = vec![Vec::new(); origins.len()];
    if k == 0 {
        return best;
    }
    let r: Result<_, std::convert::Infallible> = many_to_many(at, origins, destinations, opts, |b| {
        let w = b.destinations.len();
        for (oi, o) in b.origins.clone().enumerate() {
            let list = &mut best[o];
            for (di, d) in b.destinations.clone().enumerate() {
                let c = b.costs[oi * w + di];
                if c[0].is_infinite() {
                    continue;
                }
                let key = (c, d as u32);
                let pos = list.partition_point(|&(dd, cc)| better(cc, c) || (cc == c && dd < key.1));
                if pos < k {
                    list.insert(pos, (d as u32, c));
                    list.truncate(k);
                }
            }
        }
        Ok(())
    });
    let Ok(_) = r;
    best
}

/// Costs from (`forward`) or to each seed set, for every graph node, handed to `visit(set
/// index, costs per graph node)`; sets are processed [`LANES`] at a time in parallel. A set may
/// hold many seeds (multi-source: the cheapest of them).
pub fn node_costs(
    cust: &Customized<'_>,
    seed_sets: &[Vec<(u32, Cost2)>],
    forward: bool,
    visit: impl Fn(usize, &[Cost2]) + Sync,
) {
    let n = cust.cch.node_count();
    seed_sets.par_chunks(LANES).enumerate().for_each_init(
        || (Vec::new(), vec![UNREACHED; n]),
        |(buf, per_node), (bi, sets)| {
            cust.sweep_from(sets, forward, buf, None);
            for k in 0..sets.len() {
                for (v, c) in per_node.iter_mut().enumerate() {
                    *c = buf[cust.cch.rank[v] as usize * LANES + k];
                }
                visit(bi * LANES + k, per_node);
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cch::{Cch, LinkCosts, dijkstra_pairs};
    use crate::profile::{Mode, Profile};
    use crate::snap::SnapIndex;
    use crate::test_city::{Rng, city};

    fn points(g: &Graph, count: usize, seed: u64) -> Vec<Option<Snap>> {
        let idx = SnapIndex::new(g);
        let mut rng = Rng(seed);
        (0..count)
            .map(|_| idx.snap(g, 116.3 + rng.next() * 0.035, 39.9 + rng.next() * 0.027))
            .collect()
    }

    /// Dijkstra from the origin's attachment nodes, then the cheapest way onto each destination.
    fn reference(at: &Attach<'_>, o: &Snap, dests: &[Option<Snap>]) -> Vec<Cost2> {
        let Some(seeds) = at.leave(o) else {
            return vec![UNREACHED; dests.len()];
        };
        let d = dijkstra_pairs(at.graph, &at.cust.links, at.cust.metric, &seeds);
        dests
            .iter()
            .map(|p| {
                let Some(s) = p else { return UNREACHED };
                let mut best = at.direct(o, s).unwrap_or(UNREACHED);
                for (v, c) in at.enter(s).unwrap_or_default() {
                    let x = add(d[v as usize], c);
                    if better(x, best) {
                        best = x;
                    }
                }
                best
            })
            .collect()
    }

    fn close(a: Cost2, b: Cost2) -> bool {
        // Whole nano-units add exactly: the hierarchy must find the very same pair.
        a == b
    }

    #[test]
    fn matrices_equal_dijkstra_whichever_side_is_swept_and_however_blocked() {
        let g = Graph::build(&city(16, 21), &Profile::builtin(Mode::Drive));
        let cch = Cch::build(&g);
        let mut costs = LinkCosts::of(&g);
        let mut rng = Rng(8);
        for o in costs.open.iter_mut() {
            if rng.next() < 0.05 {
                *o = false;
            }
        }
        for metric in [Metric::Time, Metric::Distance] {
            let cust = Customized::new(&cch, &g, metric, costs.clone());
            let at = Attach {
                cust: &cust,
                graph: &g,
                access_speed_mps: 1.2,
            };
            let mut a = points(&g, 37, 1);
            let b = points(&g, 90, 2);
            a[3] = None;
            // Two points on one link, to exercise direct routes.
            a[4] = b[5];
            for (orig, dest) in [(&a, &b), (&b, &a)] {
                for bytes in [1, 1 << 20] {
                    let opts = MatrixOptions {
                        cutoff: None,
                        max_block_bytes: bytes,
                    };
                    let mut got = vec![UNREACHED; orig.len() * dest.len()];
                    let mut seen = 0;
                    let stats = many_to_many(&at, orig, dest, &opts, |blk| -> Result<(), ()> {
                        let w = blk.destinations.len();
                        for (i, o) in blk.origins.clone().enumerate() {
                            for (j, d) in blk.destinations.clone().enumerate() {
                                got[o * dest.len() + d] = blk.costs[i * w + j];
                                seen += 1;
                            }
                        }
                        Ok(())
                    })
                    .unwrap();
                    assert_eq!(seen, orig.len() * dest.len());
                    assert_eq!(stats.swept_origins, orig.len() <= dest.len());
                    assert!(bytes > 1 || stats.blocks > 1);
                    let mut reached = 0;
                    for (oi, o) in orig.iter().enumerate() {
                        let want = match o {
                            Some(o) => reference(&at, o, dest),
                            None => vec![UNREACHED; dest.len()],
                        };
                        for (di, w) in want.iter().enumerate() {
                            let x = got[oi * dest.len() + di];
                            assert!(close(x, *w), "{metric} {oi}->{di}: {x:?} vs {w:?}");
                            reached += x[0].is_finite() as usize;
                        }
                    }
                    assert!(reached > orig.len() * dest.len() / 2);
                }
            }
            // Cutoff and nearest-k agree with the full matrix.
            let full = nearest_k(&at, &a, &b, b.len(), &MatrixOptions::default());
            let limit = (full[0][10].1[0] + full[0][11].1[0]) / 2.0;
            let near = nearest_k(
                &at,
                &a,
                &b,
                3,
                &MatrixOptions {
                    cutoff: Some(from_units(limit)),
                    max_block_bytes: 1 << 20,
                },
            );
            for (f, n) in full.iter().zip(&near) {
                let want: Vec<_> = f.iter().filter(|x| x.1[0] <= limit).take(3).copied().collect();
                assert_eq!(&want, n);
            }
            assert_eq!(near[0].len(), 3);
        }
    }
}
