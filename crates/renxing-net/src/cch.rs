//! Customizable contraction hierarchies (CCH): shortest paths in microseconds, re-weighted in
//! milliseconds after a hazard closes roads.
//!
//! The method is that of Dibbelt, Strasser & Wagner (2016), *Customizable Contraction
//! Hierarchies*, ACM Journal of Experimental Algorithmics 21(1), in three phases:
//!
//! 1. **Order and contract** ([`Cch::build`], once per graph, independent of any weight). Nodes are
//!    ranked by nested dissection ([`crate::order`]). Contracting them in that order without
//!    witness searches gives the *chordal supergraph*: every node's higher-ranked neighbours form
//!    a clique. Each edge `{v, w}` of it is stored once, as an *arc* from the lower-ranked end to
//!    the higher; the lowest higher neighbour of a node is its parent in the **elimination
//!    tree**, and all of a node's higher neighbours are among its ancestors in that tree.
//! 2. **Customise** ([`Customized::new`], per metric and per hazard scenario). Arcs of input links
//!    get the link's cost in each direction (closed links: none); then, for every node `v` in
//!    rank order and every pair of its higher neighbours `a < b`, the *lower triangle* `a–v–b`
//!    improves arc `a→b` and `b→a`. Afterwards each arc holds the exact cost of the best path
//!    between its ends through lower-ranked nodes. Re-customising after closures repeats only
//!    this phase.
//! 3. **Query.** One-to-one: walk the elimination tree upwards from the source (relaxing upward
//!    arcs) and from the target (relaxing downward arcs); the answer is the best sum over the
//!    nodes both walks visit — no priority queue. One-to-all and many-to-many: after the upward
//!    walk, one **sweep** over all nodes in descending rank relaxes downward arcs (PHAST, Delling,
//!    Goldberg, Nowatzyk & Werneck 2013, *PHAST: Hardware-accelerated shortest path trees*, JPDC
//!    73(7)); [`LANES`] sources share each sweep so every arc is read once for all of them.
//!
//! Costs are pairs compared lexicographically: the minimised metric first (distance or time),
//! then the other, carried along the chosen path so a matrix reports both. Each link cost is
//! rounded to a whole number of **nano-units** (10⁻⁹ m, 10⁻⁹ s; [`to_units`]) held in an `f64`:
//! sums of whole numbers below 2⁵³ are exact in any order, so the hierarchy, which adds link
//! costs in another order than a Dijkstra search, finds the very same costs — ties included, and
//! so the same secondary values — up to 2⁵³ nano-units (9,007 km, 104 days). The rounding moves a
//! link by at most 0.5 nm or 0.5 ns. Removing every closure and re-customising gives back exactly
//! the original answers.
//!
//! Nodes are numbered by rank inside this module; [`Cch::rank`] and [`Cch::node_of`] translate
//! to and from [`Graph`] node ids.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{Read, Write};
use std::path::Path;

use renxing_geo::distance::LocalProjection;

use crate::access::Metric;
use crate::graph::Graph;
use crate::order::{UndirectedGraph, nested_dissection};

/// No node / no arc.
pub const NONE: u32 = u32::MAX;

/// Sources (or targets) handled together in one sweep.
pub const LANES: usize = 8;

/// A cost pair: `[primary, secondary]`, the primary being the minimised metric, in nano-units.
pub type Cost2 = [f64; 2];

/// Nano-units per metre or second.
pub const UNITS_PER: f64 = 1e9;

/// Metres or seconds → whole nano-units.
#[inline]
pub fn to_units(x: f64) -> f64 {
    (x * UNITS_PER).round()
}

/// Nano-units → metres or seconds.
#[inline]
pub fn from_units(x: f64) -> f64 {
    x / UNITS_PER
}

/// The cost of no path.
pub const UNREACHED: Cost2 = [f64::INFINITY, f64::INFINITY];

/// `a` strictly better than `b`: lower primary, or equal primary and lower secondary.
#[inline(always)]
pub fn better(a: Cost2, b: Cost2) -> bool {
    a[0] < b[0] || (a[0] == b[0] && a[1] < b[1])
}

#[inline(always)]
pub fn add(a: Cost2, b: Cost2) -> Cost2 {
    [a[0] + b[0], a[1] + b[1]]
}

/// The metric-independent part: order, chordal supergraph, elimination tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Cch {
    /// Rank of each graph node.
    pub rank: Vec<u32>,
    /// Graph node of each rank.
    pub node_of: Vec<u32>,
    up_first: Vec<u32>,
    up_head: Vec<u32>,
    /// Lower end (row) of each arc.
    arc_tail: Vec<u32>,
    /// Elimination-tree parent of each rank ([`NONE`] for roots).
    parent: Vec<u32>,
    /// The arc joining the two ends of each graph link.
    link_arc: Vec<u32>,
    /// Identifies the graph this hierarchy was built for (see [`Cch::fingerprint_of`]).
    pub fingerprint: u64,
}

impl Cch {
    /// Order the graph's nodes by nested dissection and contract them.
    pub fn build(graph: &Graph) -> Cch {
        let n = graph.node_count();
        let und = UndirectedGraph::from_edges(n, graph.links.iter().map(|l| (l.a, l.b)));
        let proj = LocalProjection::for_points(graph.lon.iter().copied().zip(graph.lat.iter().copied()))
            .unwrap_or(LocalProjection::new(0.0, 0.0));
        let xy: Vec<(f64, f64)> = (0..n).map(|i| proj.project(graph.lon[i], graph.lat[i])).collect();
        let order = nested_dissection(&und, &xy);
        Cch::from_order(graph, order)
    }

    /// Contract in a given order (`order[i]` = graph node ranked `i`).
    pub fn from_order(graph: &Graph, order: Vec<u32>) -> Cch {
        let n = graph.node_count();
        assert_eq!(order.len(), n, "an order lists every node once");
        let mut rank = vec![NONE; n];
        for (r, &v) in order.iter().enumerate() {
            rank[v as usize] = r as u32;
        }
        let mut up: Vec<Vec<u32>> = vec![Vec::new(); n];
        for l in &graph.links {
            let (ra, rb) = (rank[l.a as usize], rank[l.b as usize]);
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            up[lo as usize].push(hi);
        }
        let mut parent = vec![NONE; n];
        let mut merged = Vec::new();
        for r in 0..n {
            let mut set = std::mem::take(&mut up[r]);
            set.sort_unstable();
            set.dedup();
            if let Some(&p) = set.first() {
                parent[r] = p;
                // Eliminating r makes its higher neighbours a clique: p inherits the others.
                let target = &up[p as usize];
                merged.clear();
                merged.extend_from_slice(target);
                merged.extend_from_slice(&set[1..]);
                merged.sort_unstable();
                merged.dedup();
                up[p as usize].clone_from(&merged);
            }
            up[r] = set;
        }
        let mut up_first = Vec::with_capacity(n + 1);
        up_first.push(0u32);
        let mut up_head = Vec::new();
        let mut arc_tail = Vec::new();
        for (r, row) in up.iter().enumerate() {
            up_head.extend_from_slice(row);
            arc_tail.extend(std::iter::repeat_n(r as u32, row.len()));
            up_first.push(up_head.len() as u32);
        }
        let mut cch = Cch {
            rank,
            node_of: order,
            up_first,
            up_head,
            arc_tail,
            parent,
            link_arc: Vec::new(),
            fingerprint: Cch::fingerprint_of(graph),
        };
        cch.link_arc = cch.link_arcs(graph).expect("contraction keeps every link as an arc");
        cch
    }

    /// The arc joining the ends of each graph link; `None` if some link has none.
    fn link_arcs(&self, graph: &Graph) -> Option<Vec<u32>> {
        graph
            .links
            .iter()
            .map(|l| {
                let (ra, rb) = (self.rank[l.a as usize], self.rank[l.b as usize]);
                let (lo, hi) = (ra.min(rb), ra.max(rb));
                let i = self.up_head[self.row(lo)].binary_search(&hi).ok()?;
                Some((self.up_first[lo as usize] as usize + i) as u32)
            })
            .collect()
    }

    pub fn node_count(&self) -> usize {
        self.rank.len()
    }

    /// Arcs of the chordal supergraph (input links plus shortcuts).
    pub fn arc_count(&self) -> usize {
        self.up_head.len()
    }

    /// Height of the elimination tree (nodes on its longest root path): bounds the nodes an
    /// upward search visits.
    pub fn tree_height(&self) -> usize {
        let n = self.node_count();
        let mut depth = vec![0u32; n];
        let mut best = 0;
        for r in (0..n).rev() {
            let p = self.parent[r];
            depth[r] = if p == NONE { 1 } else { depth[p as usize] + 1 };
            best = best.max(depth[r]);
        }
        best as usize
    }

    fn row(&self, r: u32) -> std::ops::Range<usize> {
        self.up_first[r as usize] as usize..self.up_first[r as usize + 1] as usize
    }

    /// The arc from `lo` to `hi` (`lo < hi` in rank); it must exist.
    fn arc(&self, lo: u32, hi: u32) -> u32 {
        let row = self.row(lo);
        let i = self.up_head[row.clone()]
            .binary_search(&hi)
            .expect("arc of the chordal supergraph");
        (row.start + i) as u32
    }

    /// A hash of the graph's nodes and links, to check a cached hierarchy belongs to it
    /// (64-bit FNV-1a over node count, node source indices and link ends).
    pub fn fingerprint_of(graph: &Graph) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |x: u64| {
            for b in x.to_le_bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        eat(graph.node_count() as u64);
        for &s in &graph.node_source {
            eat(s as u64);
        }
        eat(graph.links.len() as u64);
        for l in &graph.links {
            eat(((l.a as u64) << 32) | l.b as u64);
        }
        h
    }

    // ------------------------------------------------------------------------------ cache file

    /// Write the hierarchy to `path` atomically (temporary sibling, then rename).
    ///
    /// Format (little endian): magic `RXCCH001`, fingerprint u64, node count u64, arc count u64,
    /// `node_of` (n × u32), `up_first` (n + 1 × u32), `up_head` (arcs × u32). Everything else is
    /// derived on loading.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let tmp = dir.join(format!(
            ".{}.tmp{}",
            path.file_name().and_then(|s| s.to_str()).unwrap_or("cch"),
            std::process::id()
        ));
        {
            let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            w.write_all(MAGIC)?;
            for x in [self.fingerprint, self.node_count() as u64, self.arc_count() as u64] {
                w.write_all(&x.to_le_bytes())?;
            }
            for arr in [&self.node_of, &self.up_first, &self.up_head] {
                for &x in arr.iter() {
                    w.write_all(&x.to_le_bytes())?;
                }
            }
            w.flush()?;
        }
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }

    /// Read a hierarchy written by [`Cch::save`] for this `graph`. `Ok(None)` when the file was
    /// built for another graph (stale cache); an error when it is unreadable or corrupt.
    pub fn load(path: &Path, graph: &Graph) -> Result<Option<Cch>, String> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let bad = |what: &str| format!("{}: not a Renxing CCH file ({what})", path.display());
        if bytes.len() < 32 || &bytes[..8] != MAGIC {
            return Err(bad("wrong header"));
        }
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap());
        let (fp, n, m) = (u64_at(8), u64_at(16) as usize, u64_at(24) as usize);
        if fp != Cch::fingerprint_of(graph) || n != graph.node_count() {
            return Ok(None);
        }
        let want = n
            .checked_mul(2)
            .and_then(|x| x.checked_add(1 + m))
            .and_then(|x| x.checked_mul(4))
            .and_then(|x| x.checked_add(32));
        if want != Some(bytes.len()) {
            let want = want.map_or("an impossible size".to_string(), |w| w.to_string());
            return Err(bad(&format!("{} bytes, expected {want}", bytes.len())));
        }
        let words: Vec<u32> = bytes[32..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let node_of = words[..n].to_vec();
        let up_first = words[n..2 * n + 1].to_vec();
        let up_head = words[2 * n + 1..].to_vec();
        // Validate before trusting: a permutation, monotone rows, heads above their row, sorted.
        let mut seen = vec![false; n];
        for &v in &node_of {
            if v as usize >= n || std::mem::replace(&mut seen[v as usize], true) {
                return Err(bad("order is not a permutation"));
            }
        }
        if up_first[0] != 0 || up_first[n] as usize != m || up_first.windows(2).any(|w| w[0] > w[1]) {
            return Err(bad("row index"));
        }
        let mut rank = vec![NONE; n];
        for (r, &v) in node_of.iter().enumerate() {
            rank[v as usize] = r as u32;
        }
        let mut parent = vec![NONE; n];
        let mut arc_tail = vec![0u32; m];
        for r in 0..n {
            let row = &up_head[up_first[r] as usize..up_first[r + 1] as usize];
            if row.iter().any(|&h| h as usize >= n || h as usize <= r) || row.windows(2).any(|w| w[0] >= w[1]) {
                return Err(bad("arcs"));
            }
            parent[r] = row.first().copied().unwrap_or(NONE);
            arc_tail[up_first[r] as usize..up_first[r + 1] as usize].fill(r as u32);
        }
        // Chordal: each node's higher neighbours other than its parent are the parent's too (the
        // triangle enumeration relies on it).
        for r in 0..n {
            let row = &up_head[up_first[r] as usize..up_first[r + 1] as usize];
            if let Some((&p, rest)) = row.split_first() {
                let prow = &up_head[up_first[p as usize] as usize..up_first[p as usize + 1] as usize];
                let mut q = 0;
                for &h in rest {
                    while q < prow.len() && prow[q] < h {
                        q += 1;
                    }
                    if q == prow.len() || prow[q] != h {
                        return Err(bad("not a chordal supergraph"));
                    }
                }
            }
        }
        let mut cch = Cch {
            rank,
            node_of,
            up_first,
            up_head,
            arc_tail,
            parent,
            link_arc: Vec::new(),
            fingerprint: fp,
        };
        cch.link_arc = cch.link_arcs(graph).ok_or_else(|| bad("a link has no arc"))?;
        Ok(Some(cch))
    }
}

const MAGIC: &[u8; 8] = b"RXCCH001";

/// Per-link costs of one scenario: lengths, times and which links are open.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkCosts {
    pub length_m: Vec<f64>,
    pub time_s: Vec<f64>,
    /// `false` = closed in both directions.
    pub open: Vec<bool>,
}

impl LinkCosts {
    /// The graph's own lengths and free-flow times, every link open.
    pub fn of(graph: &Graph) -> LinkCosts {
        LinkCosts {
            length_m: graph.links.iter().map(|l| l.length_m).collect(),
            time_s: graph.links.iter().map(|l| l.time_s).collect(),
            open: vec![true; graph.links.len()],
        }
    }

    /// Closed links.
    pub fn closed_count(&self) -> usize {
        self.open.iter().filter(|&&o| !o).count()
    }

    /// Cost pair of link `l` for `metric` (primary first), in nano-units.
    #[inline]
    pub fn pair(&self, metric: Metric, l: usize) -> Cost2 {
        let (d, t) = (to_units(self.length_m[l]), to_units(self.time_s[l]));
        match metric {
            Metric::Distance => [d, t],
            Metric::Time => [t, d],
        }
    }
}

/// A hierarchy customised for one metric and one set of link costs.
#[derive(Debug, Clone)]
pub struct Customized<'c> {
    pub cch: &'c Cch,
    pub metric: Metric,
    pub links: LinkCosts,
    /// Cost from each arc's lower end to its upper end.
    up: Vec<Cost2>,
    /// Cost from each arc's upper end to its lower end.
    down: Vec<Cost2>,
    /// How each direction got its cost: [`NONE`] (no path), `VIA_LINK | link << 1 | a_to_b` (an
    /// input link, travelled from its `a` end when the low bit is set), or the rank of the middle
    /// node of the lower triangle.
    up_via: Vec<u32>,
    down_via: Vec<u32>,
}

const VIA_LINK: u32 = 1 << 31;

impl<'c> Customized<'c> {
    /// Customise `cch` for `metric` with the given link costs (closed links carry nothing).
    pub fn new(cch: &'c Cch, graph: &Graph, metric: Metric, links: LinkCosts) -> Customized<'c> {
        // Link ids are packed with a direction bit under VIA_LINK.
        assert!(
            graph.links.len() < 1 << 30,
            "more than 2^30 links: beyond this hierarchy's encoding"
        );
        let m = cch.arc_count();
        let mut c = Customized {
            cch,
            metric,
            links,
            up: vec![UNREACHED; m],
            down: vec![UNREACHED; m],
            up_via: vec![NONE; m],
            down_via: vec![NONE; m],
        };
        for (li, l) in graph.links.iter().enumerate() {
            if !c.links.open[li] {
                continue;
            }
            let w = c.links.pair(metric, li);
            let e = cch.link_arc[li] as usize;
            let a_low = cch.rank[l.a as usize] < cch.rank[l.b as usize];
            // Direction a→b is "up" when a is the lower end.
            let mut set = |upward: bool, a_to_b: bool| {
                let (cost, via) = if upward {
                    (&mut c.up[e], &mut c.up_via[e])
                } else {
                    (&mut c.down[e], &mut c.down_via[e])
                };
                if better(w, *cost) {
                    *cost = w;
                    *via = VIA_LINK | ((li as u32) << 1) | a_to_b as u32;
                }
            };
            if l.forward {
                set(a_low, true);
            }
            if l.backward {
                set(!a_low, false);
            }
        }
        c.triangles();
        c
    }

    /// Lower-triangle relaxation in rank order.
    fn triangles(&mut self) {
        let cch = self.cch;
        for v in 0..cch.node_count() as u32 {
            let row = cch.row(v);
            for i in row.clone() {
                let (up_va, down_va) = (self.up[i], self.down[i]); // v→a, a→v
                if up_va[0].is_infinite() && down_va[0].is_infinite() {
                    continue;
                }
                let a = cch.up_head[i];
                let mut q = cch.up_first[a as usize] as usize;
                for j in i + 1..row.end {
                    let b = cch.up_head[j];
                    while cch.up_head[q] != b {
                        q += 1;
                    }
                    // a→b through v: a→v, v→b.
                    let through = add(down_va, self.up[j]);
                    if better(through, self.up[q]) {
                        self.up[q] = through;
                        self.up_via[q] = v;
                    }
                    // b→a through v: b→v, v→a.
                    let through = add(self.down[j], up_va);
                    if better(through, self.down[q]) {
                        self.down[q] = through;
                        self.down_via[q] = v;
                    }
                }
            }
        }
    }

    /// Upward elimination-tree walk from `seeds` (rank, initial cost), relaxing upward arcs
    /// (`forward`: costs from the seeds) or downward arcs (costs to the seeds). Writes `dist`
    /// (and `pred`, the arc that set each value, if given) and lists visited ranks in `visited`.
    /// `dist` is laid out with `stride` lanes per rank; this search fills lane `lane`.
    fn upward(
        &self,
        seeds: &[(u32, Cost2)],
        forward: bool,
        dist: &mut [Cost2],
        (stride, lane): (usize, usize),
        mut pred: Option<&mut [u32]>,
        visited: &mut Vec<u32>,
    ) {
        let cch = self.cch;
        let weights = if forward { &self.up } else { &self.down };
        let mut heap: BinaryHeap<Reverse<u32>> = BinaryHeap::with_capacity(seeds.len() * 2);
        for &(r, w) in seeds {
            let slot = &mut dist[r as usize * stride + lane];
            if better(w, *slot) {
                *slot = w;
                if let Some(p) = pred.as_deref_mut() {
                    p[r as usize] = NONE;
                }
            }
            heap.push(Reverse(r));
        }
        let mut last = NONE;
        while let Some(Reverse(r)) = heap.pop() {
            if r == last {
                continue;
            }
            last = r;
            visited.push(r);
            let d = dist[r as usize * stride + lane];
            if d[0].is_finite() {
                for e in cch.row(r) {
                    let h = cch.up_head[e] as usize;
                    let cand = add(d, weights[e]);
                    if better(cand, dist[h * stride + lane]) {
                        dist[h * stride + lane] = cand;
                        if let Some(p) = pred.as_deref_mut() {
                            p[h] = e as u32;
                        }
                    }
                }
            }
            let p = cch.parent[r as usize];
            if p != NONE {
                heap.push(Reverse(p));
            }
        }
    }

    /// Descending-rank sweep for [`LANES`] lanes at once: `forward` pulls costs down along
    /// downward arcs (costs from sources), otherwise along upward arcs (costs to targets).
    /// `dist` holds `n × LANES` pairs, rank-major. `only` restricts the sweep to a set of ranks
    /// closed under elimination-tree ancestors, in descending order (RPHAST: Delling, Goldberg &
    /// Werneck 2011, *Faster batched shortest paths in road networks*, ATMOS); `None` sweeps all.
    fn sweep(&self, forward: bool, dist: &mut [Cost2], only: Option<&[u32]>) {
        let weights = if forward { &self.down } else { &self.up };
        match only {
            Some(ranks) => ranks.iter().for_each(|&r| self.pull(r as usize, weights, dist)),
            None => (0..self.cch.node_count())
                .rev()
                .for_each(|r| self.pull(r, weights, dist)),
        }
    }

    #[inline(always)]
    fn pull(&self, r: usize, weights: &[Cost2], dist: &mut [Cost2]) {
        let cch = self.cch;
        let (lo, rest) = dist.split_at_mut((r + 1) * LANES);
        let mine: &mut [Cost2; LANES] = (&mut lo[r * LANES..]).try_into().expect("lane block");
        for e in cch.row(r as u32) {
            let w = weights[e];
            if w[0].is_infinite() {
                continue;
            }
            let h = cch.up_head[e] as usize;
            let theirs: &[Cost2; LANES] = rest[(h - r - 1) * LANES..(h - r) * LANES]
                .try_into()
                .expect("lane block");
            for k in 0..LANES {
                let cand = add(theirs[k], w);
                if better(cand, mine[k]) {
                    mine[k] = cand;
                }
            }
        }
    }

    /// The ranks a sweep must visit so that every rank in `targets` gets its exact cost: the
    /// targets and all their elimination-tree ancestors, in descending rank order.
    pub fn sweep_selection(&self, targets: impl IntoIterator<Item = u32>) -> Vec<u32> {
        let mut mark = vec![false; self.cch.node_count()];
        let mut sel = Vec::new();
        for t in targets {
            let mut r = t;
            while r != NONE && !mark[r as usize] {
                mark[r as usize] = true;
                sel.push(r);
                r = self.cch.parent[r as usize];
            }
        }
        sel.sort_unstable_by(|a, b| b.cmp(a));
        sel
    }

    /// Costs between every node and up to [`LANES`] seed sets at once (`forward`: from each set;
    /// otherwise to it). `seeds[k]` are (graph node, initial cost). Result: `n × LANES`, indexed
    /// by **rank** then lane; use [`Cch::rank`] to read a graph node. With `only` (from
    /// [`Customized::sweep_selection`]) only those ranks are exact.
    pub fn sweep_from(&self, seeds: &[Vec<(u32, Cost2)>], forward: bool, dist: &mut Vec<Cost2>, only: Option<&[u32]>) {
        assert!(seeds.len() <= LANES);
        let n = self.cch.node_count();
        dist.clear();
        dist.resize(n * LANES, UNREACHED);
        let mut visited = Vec::new();
        let mut ranked = Vec::new();
        for (k, s) in seeds.iter().enumerate() {
            ranked.clear();
            ranked.extend(s.iter().map(|&(v, w)| (self.cch.rank[v as usize], w)));
            self.upward(&ranked, forward, dist, (LANES, k), None, &mut visited);
        }
        self.sweep(forward, dist, only);
    }

    /// Cost of the best path from the `from` seeds to the `to` seeds (graph node, initial cost),
    /// and its links in travel order with the direction each is used in (`true` = from `a` to
    /// `b`). `None` when there is no path. For many queries, reuse a [`RouteQuery`]. On a graph
    /// with turn restrictions the links may be copies: [`Graph::road_link`] names their road link.
    pub fn route(&self, from: &[(u32, Cost2)], to: &[(u32, Cost2)]) -> Option<(Cost2, Vec<(u32, bool)>)> {
        RouteQuery::new(self.cch).route(self, from, to)
    }

    /// Expand arc `e` in one direction (`upward`: lower end → upper end) into input links.
    fn unpack(&self, e: u32, upward: bool, out: &mut Vec<(u32, bool)>) {
        let via = if upward {
            self.up_via[e as usize]
        } else {
            self.down_via[e as usize]
        };
        debug_assert_ne!(via, NONE);
        if via & VIA_LINK != 0 {
            out.push(((via & !VIA_LINK) >> 1, via & 1 == 1));
            return;
        }
        let (lo, hi) = (self.cch.arc_tail[e as usize], self.cch.up_head[e as usize]);
        let (e_lo, e_hi) = (self.cch.arc(via, lo), self.cch.arc(via, hi));
        if upward {
            // lo → via → hi
            self.unpack(e_lo, false, out);
            self.unpack(e_hi, true, out);
        } else {
            // hi → via → lo
            self.unpack(e_hi, false, out);
            self.unpack(e_lo, true, out);
        }
    }
}

/// Buffers of one-to-one queries, reused so a query costs only the nodes it visits.
#[derive(Debug, Clone)]
pub struct RouteQuery {
    df: Vec<Cost2>,
    db: Vec<Cost2>,
    pf: Vec<u32>,
    pb: Vec<u32>,
    vf: Vec<u32>,
    vb: Vec<u32>,
}

impl RouteQuery {
    pub fn new(cch: &Cch) -> RouteQuery {
        let n = cch.node_count();
        RouteQuery {
            df: vec![UNREACHED; n],
            db: vec![UNREACHED; n],
            pf: vec![NONE; n],
            pb: vec![NONE; n],
            vf: Vec::new(),
            vb: Vec::new(),
        }
    }

    /// See [`Customized::route`].
    pub fn route(
        &mut self,
        cust: &Customized<'_>,
        from: &[(u32, Cost2)],
        to: &[(u32, Cost2)],
    ) -> Option<(Cost2, Vec<(u32, bool)>)> {
        let cch = cust.cch;
        let rk =
            |s: &[(u32, Cost2)]| -> Vec<(u32, Cost2)> { s.iter().map(|&(v, w)| (cch.rank[v as usize], w)).collect() };
        cust.upward(&rk(from), true, &mut self.df, (1, 0), Some(&mut self.pf), &mut self.vf);
        cust.upward(&rk(to), false, &mut self.db, (1, 0), Some(&mut self.pb), &mut self.vb);
        let mut best = (UNREACHED, NONE);
        for &r in &self.vb {
            let c = add(self.df[r as usize], self.db[r as usize]);
            if better(c, best.0) {
                best = (c, r);
            }
        }
        let result = (best.1 != NONE).then(|| {
            // Arcs from the source up to the meeting node, then down to the target.
            let mut up_arcs = Vec::new();
            let mut r = best.1;
            while self.pf[r as usize] != NONE {
                let e = self.pf[r as usize];
                up_arcs.push(e);
                r = cch.arc_tail[e as usize];
            }
            let mut links = Vec::new();
            for &e in up_arcs.iter().rev() {
                cust.unpack(e, true, &mut links);
            }
            let mut r = best.1;
            while self.pb[r as usize] != NONE {
                let e = self.pb[r as usize];
                cust.unpack(e, false, &mut links);
                r = cch.arc_tail[e as usize];
            }
            (best.0, links)
        });
        // Only visited ranks were written (a node's higher neighbours are its tree ancestors).
        for &r in &self.vf {
            self.df[r as usize] = UNREACHED;
            self.pf[r as usize] = NONE;
        }
        for &r in &self.vb {
            self.db[r as usize] = UNREACHED;
            self.pb[r as usize] = NONE;
        }
        self.vf.clear();
        self.vb.clear();
        result
    }
}

/// A heap entry of the reference Dijkstras: the cheapest pair pops first (ties by id).
#[derive(PartialEq)]
pub(crate) struct Item(pub Cost2, pub u32);
impl Eq for Item {}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0[0]
            .total_cmp(&self.0[0])
            .then(o.0[1].total_cmp(&self.0[1]))
            .then(o.1.cmp(&self.1))
    }
}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// Plain Dijkstra with lexicographic cost pairs over the open links of a scenario: the
/// reference every hierarchy query is tested against. Costs from `seeds` to every graph node.
pub fn dijkstra_pairs(graph: &Graph, links: &LinkCosts, metric: Metric, seeds: &[(u32, Cost2)]) -> Vec<Cost2> {
    let mut dist = vec![UNREACHED; graph.node_count()];
    let mut heap = BinaryHeap::new();
    for &(v, c) in seeds {
        if better(c, dist[v as usize]) {
            dist[v as usize] = c;
            heap.push(Item(c, v));
        }
    }
    while let Some(Item(c, v)) = heap.pop() {
        if better(dist[v as usize], c) {
            continue;
        }
        for arc in graph.out_arcs(v) {
            let l = arc.link as usize;
            if !links.open[l] {
                continue;
            }
            let cand = add(c, links.pair(metric, l));
            if better(cand, dist[arc.head as usize]) {
                dist[arc.head as usize] = cand;
                heap.push(Item(cand, arc.head));
            }
        }
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Mode, Profile};

    use crate::test_city::{Rng, city};

    fn close(a: Cost2, b: Cost2) -> bool {
        // Whole nano-units add exactly: the hierarchy must find the very same pair.
        a == b
    }

    #[test]
    fn queries_equal_dijkstra_on_random_cities_both_metrics_and_modes() {
        for (seed, mode) in [(1, Mode::Drive), (2, Mode::Walk), (3, Mode::Drive)] {
            let g = Graph::build(&city(18, seed), &Profile::builtin(mode));
            assert!(g.node_count() > 200, "{}", g.node_count());
            let cch = Cch::build(&g);
            assert!(cch.tree_height() < g.node_count() / 3, "height {}", cch.tree_height());
            for metric in [Metric::Distance, Metric::Time] {
                let cust = Customized::new(&cch, &g, metric, LinkCosts::of(&g));
                let n = g.node_count() as u32;
                let sources: Vec<u32> = (0..n).step_by(7).collect();
                for chunk in sources.chunks(LANES) {
                    let seeds: Vec<Vec<(u32, Cost2)>> = chunk.iter().map(|&s| vec![(s, [0.0, 0.0])]).collect();
                    let mut fwd = Vec::new();
                    let mut bwd = Vec::new();
                    cust.sweep_from(&seeds, true, &mut fwd, None);
                    cust.sweep_from(&seeds, false, &mut bwd, None);
                    for (k, &s) in chunk.iter().enumerate() {
                        let want = dijkstra_pairs(&g, &cust.links, metric, &[(s, [0.0, 0.0])]);
                        for t in 0..n {
                            let got = fwd[cch.rank[t as usize] as usize * LANES + k];
                            assert!(
                                close(got, want[t as usize]),
                                "{seed} {metric} {s}->{t}: {got:?} vs {want:?}"
                            );
                            // Backward sweep: cost from t to s equals a forward search from t.
                            if t % 13 == 0 {
                                let from_t = dijkstra_pairs(&g, &cust.links, metric, &[(t, [0.0, 0.0])]);
                                let got = bwd[cch.rank[t as usize] as usize * LANES + k];
                                assert!(close(got, from_t[s as usize]), "{t}->{s}");
                            }
                        }
                    }
                }
                // One-to-one with unpacked routes whose link costs add up to the answer, through
                // one reused query (its buffers must be clean after every query).
                let mut q = RouteQuery::new(&cch);
                for (s, t) in [(0, n - 1), (5, n / 2), (n / 3, 17), (9, 9), (n - 1, 0), (17, n / 3)] {
                    let want = dijkstra_pairs(&g, &cust.links, metric, &[(s, [0.0, 0.0])])[t as usize];
                    let (got, route) = q.route(&cust, &[(s, [0.0, 0.0])], &[(t, [0.0, 0.0])]).unwrap();
                    assert!(close(got, want));
                    let mut at = s;
                    let mut sum = [0.0, 0.0];
                    for &(li, a_to_b) in &route {
                        let l = &g.links[li as usize];
                        let (from, to) = if a_to_b { (l.a, l.b) } else { (l.b, l.a) };
                        assert_eq!(from, at, "route is connected");
                        assert!(if a_to_b { l.forward } else { l.backward }, "route obeys one-way rules");
                        sum = add(sum, cust.links.pair(metric, li as usize));
                        at = to;
                    }
                    assert_eq!(at, t);
                    assert!(close(sum, got));
                }
            }
        }
    }

    #[test]
    fn closures_are_never_crossed_and_reopening_restores_answers_exactly() {
        let g = Graph::build(&city(20, 9), &Profile::builtin(Mode::Drive));
        let cch = Cch::build(&g);
        let open = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
        let mut costs = LinkCosts::of(&g);
        let mut rng = Rng(5);
        for o in costs.open.iter_mut() {
            if rng.next() < 0.15 {
                *o = false;
            }
        }
        // Slow a few open links too.
        for l in 0..costs.time_s.len() {
            if costs.open[l] && rng.next() < 0.1 {
                costs.time_s[l] *= 3.0;
            }
        }
        let flooded = Customized::new(&cch, &g, Metric::Time, costs.clone());
        let n = g.node_count() as u32;
        let mut cut_off = 0;
        for s in (0..n).step_by(11) {
            let want = dijkstra_pairs(&g, &costs, Metric::Time, &[(s, [0.0, 0.0])]);
            for t in (0..n).step_by(5) {
                match flooded.route(&[(s, [0.0, 0.0])], &[(t, [0.0, 0.0])]) {
                    None => {
                        assert!(want[t as usize][0].is_infinite(), "{s}->{t} reachable in Dijkstra");
                        cut_off += 1;
                    }
                    Some((c, route)) => {
                        assert!(close(c, want[t as usize]));
                        assert!(route.iter().all(|&(l, _)| costs.open[l as usize]), "closed link used");
                    }
                }
            }
        }
        assert!(cut_off > 0, "15 % closures should cut some pairs off");
        // Re-customise with the original costs: identical to the first customisation, bit for bit.
        let reopened = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
        assert_eq!(reopened.up, open.up);
        assert_eq!(reopened.down, open.down);
    }

    #[test]
    fn cache_file_round_trips_and_refuses_another_graph() {
        let g = Graph::build(&city(12, 4), &Profile::builtin(Mode::Walk));
        let cch = Cch::build(&g);
        let dir = std::env::temp_dir().join(format!("renxing-cch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("walk.cch");
        cch.save(&path).unwrap();
        assert_eq!(Cch::load(&path, &g).unwrap(), Some(cch.clone()));
        let other = Graph::build(&city(12, 5), &Profile::builtin(Mode::Walk));
        assert_eq!(Cch::load(&path, &other).unwrap(), None);
        // A damaged body whose header still matches: an error, never a panic.
        let mut bytes = std::fs::read(&path).unwrap();
        let n = g.node_count();
        let first_head = 32 + 4 * (2 * n + 1);
        for (k, v) in [(0usize, 0u32), (4, u32::MAX), (8, (n - 1) as u32)] {
            let mut b = bytes.clone();
            b[first_head + k..first_head + k + 4].copy_from_slice(&v.to_le_bytes());
            std::fs::write(&path, &b).unwrap();
            assert!(Cch::load(&path, &g).is_err(), "corruption {k} accepted");
        }
        bytes.truncate(bytes.len() - 4);
        std::fs::write(&path, &bytes).unwrap();
        assert!(Cch::load(&path, &g).unwrap_err().contains("bytes, expected"));
        std::fs::write(&path, b"RXCCH001garbage").unwrap();
        assert!(Cch::load(&path, &g).unwrap_err().contains("not a Renxing CCH file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
