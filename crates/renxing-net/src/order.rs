//! Node orderings for customizable contraction hierarchies: nested dissection by inertial flow.
//!
//! A CCH contracts nodes in one order fixed before any weight is known; its quality (how many
//! shortcuts, how tall the elimination tree, hence how fast customisation and queries are) is the
//! quality of that order. Nested dissection gives road networks orders with few shortcuts (Dibbelt,
//! Strasser & Wagner 2016, *Customizable Contraction Hierarchies*, ACM JEA 21): find a small set of
//! nodes — a **separator** — whose removal splits the graph into parts of comparable size, rank the
//! separator above everything else, and recurse into the parts.
//!
//! Separators come from **inertial flow** (Schild & Sommer 2015, *On balanced separators in road
//! networks*, SEA): project the nodes on a line through the map (four directions: 0°, 45°, 90°,
//! 135°), take the first quarter of the nodes along the line as sources and the last quarter as
//! sinks, and compute a minimum *vertex* cut between them by unit-capacity maximum flow (every node
//! may carry one unit; links carry any amount). The direction with the smallest cut wins; ties go
//! to the more balanced split. Road networks are near-planar and their good cuts follow rivers,
//! rail lines and ring roads, which this finds.
//!
//! Each cell is first split into its connected components (no separator needed between them);
//! cells of at most [`LEAF_SIZE`] nodes are ordered by ascending degree. The procedure is
//! deterministic: the same graph gives the same order.

use std::collections::VecDeque;

/// Cells this small are not dissected further.
pub const LEAF_SIZE: usize = 8;

/// Share of a cell's nodes taken as sources (and as sinks) along a projection direction.
const TERMINAL_SHARE: f64 = 0.25;

/// An undirected graph as compressed rows (each edge listed from both ends, no self-loops).
#[derive(Debug, Clone)]
pub struct UndirectedGraph {
    pub first: Vec<u32>,
    pub adj: Vec<u32>,
}

impl UndirectedGraph {
    /// From edge pairs over `n` nodes; duplicates and self-loops are removed.
    pub fn from_edges(n: usize, edges: impl IntoIterator<Item = (u32, u32)>) -> UndirectedGraph {
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (a, b) in edges {
            if a != b {
                pairs.push((a, b));
                pairs.push((b, a));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut first = vec![0u32; n + 1];
        for &(a, _) in &pairs {
            first[a as usize + 1] += 1;
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        UndirectedGraph {
            first,
            adj: pairs.into_iter().map(|p| p.1).collect(),
        }
    }

    pub fn node_count(&self) -> usize {
        self.first.len() - 1
    }

    pub fn neighbours(&self, v: u32) -> &[u32] {
        &self.adj[self.first[v as usize] as usize..self.first[v as usize + 1] as usize]
    }
}

/// Nested-dissection order: `order[i]` is the node contracted `i`-th (separators last).
/// `xy` are planar coordinates of the nodes (any scale; only projections are compared).
///
/// Nodes of degree one or two (dead ends, chain nodes) are ranked first, in rounds of
/// independent sets so that a long chain is halved each round rather than eaten from one end
/// (which would make the elimination tree as tall as the chain); eliminating them adds no edge
/// beyond the one joining a chain node's two neighbours. The rest — the core — is dissected,
/// cells in parallel.
pub fn nested_dissection(g: &UndirectedGraph, xy: &[(f64, f64)]) -> Vec<u32> {
    let n = g.node_count();
    let (mut order, core) = peel_low_degree(g);
    let core_nodes: Vec<u32> = (0..n as u32).filter(|&v| !core.removed[v as usize]).collect();
    let mut core_id = vec![u32::MAX; n];
    for (i, &v) in core_nodes.iter().enumerate() {
        core_id[v as usize] = i as u32;
    }
    let core_graph = UndirectedGraph::from_edges(
        core_nodes.len(),
        core_nodes.iter().enumerate().flat_map(|(i, &v)| {
            let core_id = &core_id;
            core.adj[v as usize]
                .iter()
                .map(move |&w| (i as u32, core_id[w as usize]))
        }),
    );
    let core_xy: Vec<(f64, f64)> = core_nodes.iter().map(|&v| xy[v as usize]).collect();
    let mut core_order = vec![u32::MAX; core_nodes.len()];
    dissect(
        &core_graph,
        &core_xy,
        (0..core_nodes.len() as u32).collect(),
        &mut core_order,
    );
    order.extend(core_order.into_iter().map(|i| core_nodes[i as usize]));
    debug_assert_eq!(order.len(), n);
    order
}

/// What is left after peeling: the remaining adjacency (with chain edges added).
struct Peeled {
    adj: Vec<Vec<u32>>,
    removed: Vec<bool>,
}

fn peel_low_degree(g: &UndirectedGraph) -> (Vec<u32>, Peeled) {
    let n = g.node_count();
    let mut p = Peeled {
        adj: (0..n as u32).map(|v| g.neighbours(v).to_vec()).collect(),
        removed: vec![false; n],
    };
    let mut order = Vec::new();
    let mut taken = vec![false; n];
    let mut pending: Vec<u32> = (0..n as u32).filter(|&v| p.adj[v as usize].len() <= 2).collect();
    while !pending.is_empty() {
        // One round: an independent set of the low-degree nodes, in id order.
        let mut chosen = Vec::new();
        for &v in &pending {
            let vi = v as usize;
            if p.removed[vi] || p.adj[vi].len() > 2 || p.adj[vi].iter().any(|&w| taken[w as usize]) {
                continue;
            }
            taken[vi] = true;
            chosen.push(v);
        }
        let mut next = Vec::new();
        for &v in &chosen {
            let nb = std::mem::take(&mut p.adj[v as usize]);
            p.removed[v as usize] = true;
            order.push(v);
            for &w in &nb {
                p.adj[w as usize].retain(|&x| x != v);
            }
            if let [a, b] = nb[..]
                && !p.adj[a as usize].contains(&b)
            {
                p.adj[a as usize].push(b);
                p.adj[b as usize].push(a);
            }
            next.extend(nb.iter().copied().filter(|&w| p.adj[w as usize].len() <= 2));
        }
        for &v in &chosen {
            taken[v as usize] = false;
        }
        // Nodes skipped this round (a neighbour was taken) stay pending.
        next.extend(
            pending
                .iter()
                .copied()
                .filter(|&v| !p.removed[v as usize] && p.adj[v as usize].len() <= 2),
        );
        next.sort_unstable();
        next.dedup();
        pending = next;
        if chosen.is_empty() {
            break;
        }
    }
    (order, p)
}

thread_local! {
    /// Global → local id of the cell being worked on (`u32::MAX` outside it), per thread.
    static LOCAL: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Run `f` with the cell's local ids set in the thread's scratch map.
fn with_local<T>(n: usize, nodes: &[u32], f: impl FnOnce(&[u32]) -> T) -> T {
    LOCAL.with(|cell| {
        let mut local = cell.borrow_mut();
        if local.len() < n {
            local.resize(n, u32::MAX);
        }
        for (i, &v) in nodes.iter().enumerate() {
            local[v as usize] = i as u32;
        }
        let r = f(&local);
        for &v in nodes {
            local[v as usize] = u32::MAX;
        }
        r
    })
}

/// Cells below this size are dissected on the current thread.
const PARALLEL_CELL: usize = 2000;

/// Order the cell `nodes` into `out` (same length): components side by side, a separator last.
fn dissect(g: &UndirectedGraph, xy: &[(f64, f64)], nodes: Vec<u32>, out: &mut [u32]) {
    let n = g.node_count();
    let comps = with_local(n, &nodes, |local| components(g, &nodes, local, None));
    if comps.len() > 1 {
        let mut rest = out;
        rayon::scope(|s| {
            for c in comps {
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(c.len());
                rest = tail;
                if c.len() >= PARALLEL_CELL {
                    s.spawn(move |_| dissect(g, xy, c, head));
                } else {
                    dissect(g, xy, c, head);
                }
            }
        });
        return;
    }
    if nodes.len() <= LEAF_SIZE {
        let mut sorted = with_local(n, &nodes, |local| {
            nodes.iter().map(|&v| (cell_degree(g, v, local), v)).collect::<Vec<_>>()
        });
        sorted.sort_unstable();
        for (slot, (_, v)) in out.iter_mut().zip(sorted) {
            *slot = v;
        }
        return;
    }
    let separator = with_local(n, &nodes, |local| {
        MinCut::default().best_separator(g, &nodes, local, xy)
    });
    let mut in_sep = vec![false; nodes.len()];
    for &s in &separator {
        in_sep[s as usize] = true;
    }
    let rest: Vec<u32> = nodes
        .iter()
        .enumerate()
        .filter(|&(i, _)| !in_sep[i])
        .map(|(_, &v)| v)
        .collect();
    let (low, top) = out.split_at_mut(rest.len());
    for (slot, &s) in top.iter_mut().zip(&separator) {
        *slot = nodes[s as usize];
    }
    if !rest.is_empty() {
        dissect(g, xy, rest, low);
    }
}

fn cell_degree(g: &UndirectedGraph, v: u32, local: &[u32]) -> usize {
    g.neighbours(v)
        .iter()
        .filter(|&&w| local[w as usize] != u32::MAX)
        .count()
}

/// Connected components of the cell `nodes` (members have `local != MAX`), skipping nodes whose
/// local id is flagged in `skip`. Each component lists global ids, in discovery order.
fn components(g: &UndirectedGraph, nodes: &[u32], local: &[u32], skip: Option<&[bool]>) -> Vec<Vec<u32>> {
    let mut seen = vec![false; nodes.len()];
    if let Some(skip) = skip {
        seen.copy_from_slice(skip);
    }
    let mut out = Vec::new();
    let mut queue = VecDeque::new();
    for (i, &v) in nodes.iter().enumerate() {
        if seen[i] {
            continue;
        }
        seen[i] = true;
        let mut comp = vec![v];
        queue.push_back(v);
        while let Some(u) = queue.pop_front() {
            for &w in g.neighbours(u) {
                let lw = local[w as usize];
                if lw != u32::MAX && !seen[lw as usize] {
                    seen[lw as usize] = true;
                    comp.push(w);
                    queue.push_back(w);
                }
            }
        }
        out.push(comp);
    }
    out
}

/// Unit-capacity vertex min-cut by augmenting paths on the split graph (node `i` becomes
/// `in = 2i` → `out = 2i + 1` with capacity 1; links are uncapacitated). Buffers are reused
/// between cells.
#[derive(Default, Clone)]
struct MinCut {
    head: Vec<u32>,
    cap: Vec<i32>,
    first: Vec<u32>,
    /// Index of each arc's residual partner.
    twin: Vec<u32>,
    /// Capacities before any flow, restored per direction.
    initial_cap: Vec<i32>,
    seen: Vec<bool>,
}

const INF_CAP: i32 = i32::MAX / 4;

impl MinCut {
    /// The best separator of a connected cell over the four directions, as local ids.
    fn best_separator(&mut self, g: &UndirectedGraph, nodes: &[u32], local: &[u32], xy: &[(f64, f64)]) -> Vec<u32> {
        let k = nodes.len();
        self.build(g, nodes, local);
        let terminals = ((k as f64 * TERMINAL_SHARE).floor() as usize).max(1);
        let terminals_of = |dir: usize| {
            let angle = dir as f64 * std::f64::consts::FRAC_PI_4;
            let (c, s) = (angle.cos(), angle.sin());
            let mut by_proj: Vec<(f64, u32)> = nodes
                .iter()
                .enumerate()
                .map(|(i, &v)| (xy[v as usize].0 * c + xy[v as usize].1 * s, i as u32))
                .collect();
            by_proj.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let sources: Vec<u32> = by_proj[..terminals].iter().map(|p| p.1).collect();
            let sinks: Vec<u32> = by_proj[k - terminals..].iter().map(|p| p.1).collect();
            (sources, sinks)
        };
        // Large cells: the four directions in parallel, each on its own copy of the flow graph.
        let cuts: Vec<(Vec<u32>, usize)> = if k >= PARALLEL_CELL {
            use rayon::prelude::*;
            let base: &MinCut = self;
            (0..4)
                .into_par_iter()
                .map(|dir| {
                    let (sources, sinks) = terminals_of(dir);
                    base.clone().min_vertex_cut(k, &sources, &sinks)
                })
                .collect()
        } else {
            (0..4)
                .map(|dir| {
                    let (sources, sinks) = terminals_of(dir);
                    self.min_vertex_cut(k, &sources, &sinks)
                })
                .collect()
        };
        let mut best: Option<(usize, usize, Vec<u32>)> = None; // (size, balance, separator)
        for (sep, side_a) in cuts {
            let side_b = k - sep.len() - side_a;
            let balance = side_a.min(side_b);
            let better = match &best {
                None => true,
                Some((size, bal, _)) => sep.len() < *size || (sep.len() == *size && balance > *bal),
            };
            if better {
                best = Some((sep.len(), balance, sep));
            }
        }
        best.map(|b| b.2).unwrap_or_default()
    }

    /// Split graph of the cell plus a super source (2k) and sink (2k + 1) slots; terminal arcs
    /// are added per direction by `min_vertex_cut`.
    fn build(&mut self, g: &UndirectedGraph, nodes: &[u32], local: &[u32]) {
        let k = nodes.len();
        let vn = 2 * k + 2;
        // Arcs: per node in→out (+ reverse), per link direction out_u→in_w (+ reverse), plus
        // terminal arcs (at most k each way, + reverse) appended at the end.
        let mut deg = vec![0u32; vn + 1];
        let mut arcs: Vec<(u32, u32, i32)> = Vec::new();
        for (i, &v) in nodes.iter().enumerate() {
            arcs.push((2 * i as u32, 2 * i as u32 + 1, 1));
            for &w in g.neighbours(v) {
                let lw = local[w as usize];
                if lw != u32::MAX {
                    arcs.push((2 * i as u32 + 1, 2 * lw, INF_CAP));
                }
            }
        }
        // Residual pairs: arc 2j is forward, 2j + 1 its reverse.
        let mut pairs: Vec<(u32, u32, i32)> = Vec::with_capacity(arcs.len() * 2);
        for &(a, b, c) in &arcs {
            pairs.push((a, b, c));
            pairs.push((b, a, 0));
        }
        for &(a, _, _) in &pairs {
            deg[a as usize + 1] += 1;
        }
        for i in 0..vn {
            deg[i + 1] += deg[i];
        }
        self.first = deg;
        self.head = vec![0; pairs.len()];
        self.cap = vec![0; pairs.len()];
        // Keep pair partners addressable: store arcs in CSR order and remember each one's twin.
        let mut pos = self.first.clone();
        let mut slot = vec![0u32; pairs.len()];
        for (j, &(a, b, c)) in pairs.iter().enumerate() {
            let p = pos[a as usize] as usize;
            pos[a as usize] += 1;
            self.head[p] = b;
            self.cap[p] = c;
            slot[j] = p as u32;
        }
        self.twin = vec![0; pairs.len()];
        for j in (0..pairs.len()).step_by(2) {
            let (x, y) = (slot[j], slot[j + 1]);
            self.twin[x as usize] = y;
            self.twin[y as usize] = x;
        }
        self.initial_cap = self.cap.clone();
        self.seen = vec![false; vn];
    }

    /// Minimum vertex cut separating `sources` from `sinks` (local ids); returns the separator
    /// (local ids) and the number of nodes on the source side. Dinic's algorithm: breadth-first
    /// levels from the sources, then depth-first augmentation along level-increasing arcs until
    /// no sink is reachable (Dinitz 1970).
    fn min_vertex_cut(&mut self, k: usize, sources: &[u32], sinks: &[u32]) -> (Vec<u32>, usize) {
        self.cap.copy_from_slice(&self.initial_cap);
        let vn = 2 * k;
        let mut is_sink = vec![false; k];
        for &x in sinks {
            is_sink[x as usize] = true;
        }
        // Terminals are implicit: a super source feeds the in-node of each source, and reaching
        // the out-node of a sink reaches the super sink.
        let mut level = vec![-1i32; vn];
        let mut iter = vec![0u32; vn];
        let mut queue = VecDeque::new();
        let mut stack: Vec<u32> = Vec::new(); // arcs of the current path
        loop {
            level.fill(-1);
            queue.clear();
            for &x in sources {
                let v = 2 * x as usize;
                if level[v] < 0 {
                    level[v] = 0;
                    queue.push_back(v as u32);
                }
            }
            let mut sink_reached = false;
            while let Some(v) = queue.pop_front() {
                if v % 2 == 1 && is_sink[(v / 2) as usize] {
                    sink_reached = true;
                    continue; // paths end here
                }
                for a in self.first[v as usize]..self.first[v as usize + 1] {
                    if self.cap[a as usize] > 0 {
                        let w = self.head[a as usize] as usize;
                        if level[w] < 0 {
                            level[w] = level[v as usize] + 1;
                            queue.push_back(w as u32);
                        }
                    }
                }
            }
            if !sink_reached {
                break;
            }
            iter.copy_from_slice(&self.first[..vn]);
            for &x in sources {
                let src = 2 * x;
                'paths: loop {
                    stack.clear();
                    let mut v = src;
                    loop {
                        if v % 2 == 1 && is_sink[(v / 2) as usize] {
                            for &a in &stack {
                                self.cap[a as usize] -= 1;
                                self.cap[self.twin[a as usize] as usize] += 1;
                            }
                            continue 'paths;
                        }
                        let end = self.first[v as usize + 1];
                        let mut advanced = false;
                        while iter[v as usize] < end {
                            let a = iter[v as usize];
                            let w = self.head[a as usize];
                            if self.cap[a as usize] > 0 && level[w as usize] == level[v as usize] + 1 {
                                stack.push(a);
                                v = w;
                                advanced = true;
                                break;
                            }
                            iter[v as usize] += 1;
                        }
                        if advanced {
                            continue;
                        }
                        // Dead end: retire v and step back.
                        level[v as usize] = -1;
                        match stack.pop() {
                            None => break 'paths,
                            Some(a) => {
                                v = self.head[self.twin[a as usize] as usize];
                                iter[v as usize] += 1;
                            }
                        }
                    }
                }
            }
        }
        // Residual reachability from the sources after the last (failed) search.
        self.seen.iter_mut().for_each(|x| *x = false);
        queue.clear();
        for &x in sources {
            let v = 2 * x as usize;
            if !self.seen[v] {
                self.seen[v] = true;
                queue.push_back(v as u32);
            }
        }
        while let Some(v) = queue.pop_front() {
            for a in self.first[v as usize]..self.first[v as usize + 1] {
                if self.cap[a as usize] > 0 {
                    let w = self.head[a as usize] as usize;
                    if !self.seen[w] {
                        self.seen[w] = true;
                        queue.push_back(w as u32);
                    }
                }
            }
        }
        let mut sep = Vec::new();
        let mut side = 0;
        for i in 0..k {
            let (vin, vout) = (2 * i, 2 * i + 1);
            if self.seen[vin] && !self.seen[vout] {
                sep.push(i as u32);
            } else if self.seen[vout] {
                side += 1;
            }
        }
        (sep, side)
    }
}
