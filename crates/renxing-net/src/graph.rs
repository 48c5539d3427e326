//! Routable graphs built from [`RoadData`] under a [`Profile`].
//!
//! Building a graph applies the profile (routable classes, speeds, one-way rules, access tags),
//! merges parallel edges (the merged link keeps the shortest length, its geometry, and the
//! shortest time among them, so both distance and time searches stay exact), drops self-loops, and keeps the **largest
//! connected component** — weakly connected for walking (an undirected graph), strongly connected
//! for driving, so that every kept node can reach and be reached from every other. Everything left
//! out is counted in a [`GraphReport`]: untagged edges (with ids and lengths — real files carry
//! them, e.g. 10–27 km straight "edges" without a `highway` tag in the Beijing 2012 network), classes
//! the profile does not route, access restrictions, and the pieces outside the main component.
//!
//! The graph is stored as compressed sparse rows of arcs in both directions, so one-to-many and
//! many-to-one searches both run without copying.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;

use serde::Serialize;

use crate::profile::{Mode, Profile};
use crate::road::{Oneway, RoadData};
use crate::turns::TurnReport;

/// A routable link between two graph nodes (one source edge after merging parallels).
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub a: u32,
    pub b: u32,
    pub length_m: f64,
    pub time_s: f64,
    /// Travel allowed from `a` to `b`.
    pub forward: bool,
    /// Travel allowed from `b` to `a`.
    pub backward: bool,
    /// Index of the source edge in [`RoadData::edges`].
    pub source_edge: usize,
}

/// How a point on a road link joins the graph: the junctions at its ends, the directions it may
/// be travelled, and the node reached at each end when travelling from the point (the junction
/// itself, or — when a turn restriction starts with this link — the copy for "arrived along
/// this link").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkEnds {
    pub a: u32,
    pub b: u32,
    pub forward: bool,
    pub backward: bool,
    pub exit_a: u32,
    pub exit_b: u32,
}

/// One directed arc of the CSR adjacency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arc {
    pub head: u32,
    pub link: u32,
    pub dist_m: f64,
    pub time_s: f64,
}

/// Everything the profile and the component filter left out, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GraphReport {
    pub profile: String,
    pub source: String,
    pub input_nodes: usize,
    pub input_edges: usize,
    /// Edges without a `highway` tag: never routable.
    pub untagged_edges: usize,
    pub untagged_length_km: f64,
    /// Source ids and lengths (m) of the untagged edges, longest first (at most 50 listed).
    pub untagged_longest: Vec<(String, f64)>,
    /// Edges of classes this profile does not route, by class.
    pub excluded_by_class: BTreeMap<String, usize>,
    pub excluded_by_access: usize,
    pub self_loops: usize,
    pub parallel_merged: usize,
    /// Number of connected components of the routable edges (strong components for driving).
    pub components: usize,
    /// Node counts of the largest components, largest first (at most 10).
    pub largest_components: Vec<usize>,
    /// What is kept: the largest component.
    pub nodes: usize,
    pub links: usize,
    pub length_km: f64,
    /// Routable nodes and links outside the kept component.
    pub dropped_nodes: usize,
    pub dropped_links: usize,
    /// Turn restrictions, when the profile obeys them ([`crate::turns`]).
    pub turns: Option<TurnReport>,
}

/// A routable graph of one profile: the largest connected component.
#[derive(Debug, Clone)]
pub struct Graph {
    pub mode: Mode,
    /// Index into [`RoadData::nodes`] of each graph node.
    pub node_source: Vec<usize>,
    pub lon: Vec<f64>,
    pub lat: Vec<f64>,
    pub links: Vec<Link>,
    /// Intermediate shape points of each link from `a` to `b` (empty for straight links).
    pub shapes: Vec<Vec<(f64, f64)>>,
    /// Links `0..road_links` are the road links (points snap onto them); the rest are copies made
    /// by turn restrictions ([`crate::turns`]), `copy_of_link[i]` the road link of link
    /// `road_links + i`.
    pub road_links: usize,
    pub copy_of_link: Vec<u32>,
    /// Nodes `0..road_nodes` are the junctions; the rest are copies made by turn restrictions,
    /// `copy_of_node[i]` the junction of node `road_nodes + i`.
    pub road_nodes: usize,
    pub copy_of_node: Vec<u32>,
    /// Copies of each road link and node (compressed rows; empty without restrictions).
    link_copies_first: Vec<u32>,
    link_copies: Vec<u32>,
    node_copies_first: Vec<u32>,
    node_copies: Vec<u32>,
    out_first: Vec<u32>,
    out_arcs: Vec<Arc>,
    in_first: Vec<u32>,
    in_arcs: Vec<Arc>,
    pub report: GraphReport,
}

impl Graph {
    pub fn build(road: &RoadData, profile: &Profile) -> Graph {
        let mut report = GraphReport {
            profile: profile.mode.to_string(),
            source: road.source.clone(),
            input_nodes: road.nodes.len(),
            input_edges: road.edges.len(),
            ..Default::default()
        };
        let mut untagged = Vec::new();
        // (lo, hi, directed) → index into `links`
        let mut merged: FxHashMap<(usize, usize, bool), usize> =
            FxHashMap::with_capacity_and_hasher(road.edges.len(), Default::default());
        let mut links: Vec<Link> = Vec::new(); // endpoints are RoadData node indices here
        let mut shapes: Vec<Vec<(f64, f64)>> = Vec::new();
        for (ei, e) in road.edges.iter().enumerate() {
            if e.highway.is_empty() {
                report.untagged_edges += 1;
                report.untagged_length_km += e.length_m / 1000.0;
                untagged.push((e.source_id.clone(), e.length_m));
                continue;
            }
            let Some(kmh) = profile.speed_kmh(&e.highway) else {
                *report.excluded_by_class.entry(e.highway.clone()).or_default() += 1;
                continue;
            };
            let allowed = match profile.mode {
                Mode::Walk => e.access_walk,
                Mode::Drive | Mode::Emergency => e.access_drive,
            };
            if !allowed {
                report.excluded_by_access += 1;
                continue;
            }
            if e.u == e.v {
                report.self_loops += 1;
                continue;
            }
            let (forward, backward) = if profile.oneway {
                match e.oneway {
                    Oneway::No => (true, true),
                    Oneway::Forward => (true, false),
                    Oneway::Backward => (false, true),
                }
            } else {
                (true, true)
            };
            let directed = !(forward && backward);
            // Normalise: two-way links by (min, max); one-way links by (from, to).
            let (a, b, flip) = if directed {
                if forward { (e.u, e.v, false) } else { (e.v, e.u, true) }
            } else if e.u <= e.v {
                (e.u, e.v, false)
            } else {
                (e.v, e.u, true)
            };
            let mut shape = e.shape.clone();
            if flip {
                shape.reverse();
            }
            let link = Link {
                a: a as u32,
                b: b as u32,
                length_m: e.length_m,
                time_s: e.length_m / (kmh / 3.6),
                forward: true,
                backward: !directed,
                source_edge: ei,
            };
            match merged.get(&(a, b, directed)) {
                Some(&li) => {
                    report.parallel_merged += 1;
                    let fastest = links[li].time_s.min(link.time_s);
                    if link.length_m < links[li].length_m {
                        links[li] = link;
                        shapes[li] = shape;
                    }
                    links[li].time_s = fastest;
                }
                None => {
                    merged.insert((a, b, directed), links.len());
                    links.push(link);
                    shapes.push(shape);
                }
            }
        }
        untagged.sort_by(|x, y| y.1.total_cmp(&x.1));
        untagged.truncate(50);
        report.untagged_longest = untagged;

        // Components over the routable links, on RoadData node indices.
        let n = road.nodes.len();
        let used: Vec<bool> = {
            let mut u = vec![false; n];
            for l in &links {
                u[l.a as usize] = true;
                u[l.b as usize] = true;
            }
            u
        };
        let comp = match profile.mode {
            Mode::Drive if profile.oneway => strong_components(n, &links),
            _ => weak_components(n, &links),
        };
        let mut sizes: HashMap<u32, usize> = HashMap::new();
        for (i, &c) in comp.iter().enumerate() {
            if used[i] {
                *sizes.entry(c).or_default() += 1;
            }
        }
        let mut size_list: Vec<(usize, u32)> = sizes.iter().map(|(&c, &s)| (s, c)).collect();
        // Largest first; ties by smallest component label for determinism.
        size_list.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        report.components = size_list.len();
        report.largest_components = size_list.iter().take(10).map(|x| x.0).collect();
        let main = size_list.first().map(|x| x.1);

        // Remap the main component to dense graph node ids.
        let mut new_id = vec![u32::MAX; n];
        let mut node_source = Vec::new();
        for i in 0..n {
            if used[i] && Some(comp[i]) == main {
                new_id[i] = node_source.len() as u32;
                node_source.push(i);
            }
        }
        report.dropped_nodes = used.iter().filter(|&&u| u).count() - node_source.len();
        let mut kept_links = Vec::with_capacity(links.len());
        let mut kept_shapes = Vec::with_capacity(links.len());
        for (mut l, s) in links.into_iter().zip(shapes) {
            let (a, b) = (new_id[l.a as usize], new_id[l.b as usize]);
            if a == u32::MAX || b == u32::MAX {
                report.dropped_links += 1;
                continue;
            }
            l.a = a;
            l.b = b;
            kept_links.push(l);
            kept_shapes.push(s);
        }
        report.nodes = node_source.len();
        report.links = kept_links.len();
        report.length_km = kept_links.iter().map(|l| l.length_m).sum::<f64>() / 1000.0;

        let lon = node_source.iter().map(|&i| road.nodes[i].lon).collect();
        let lat = node_source.iter().map(|&i| road.nodes[i].lat).collect();
        let nn = node_source.len();
        let mut graph = Graph {
            mode: profile.mode,
            node_source,
            lon,
            lat,
            links: Vec::new(),
            shapes: kept_shapes,
            road_links: 0,
            copy_of_link: Vec::new(),
            road_nodes: nn,
            copy_of_node: Vec::new(),
            link_copies_first: Vec::new(),
            link_copies: Vec::new(),
            node_copies_first: Vec::new(),
            node_copies: Vec::new(),
            out_first: Vec::new(),
            out_arcs: Vec::new(),
            in_first: Vec::new(),
            in_arcs: Vec::new(),
            report,
        };
        graph.set_links(kept_links, Vec::new(), Vec::new());
        if profile.turn_restrictions {
            let (g, turns) = crate::turns::apply(graph, road);
            graph = g;
            graph.report.turns = Some(turns);
        }
        graph
    }

    /// Install the links (road links first, then `copy_of_link.len()` copies) and node copies,
    /// and rebuild the adjacency.
    pub(crate) fn set_links(&mut self, links: Vec<Link>, copy_of_link: Vec<u32>, copy_of_node: Vec<u32>) {
        let n = self.node_source.len();
        self.road_links = links.len() - copy_of_link.len();
        self.road_nodes = n - copy_of_node.len();
        (self.out_first, self.out_arcs) = csr(n, &links, false);
        (self.in_first, self.in_arcs) = csr(n, &links, true);
        self.links = links;
        let rows = |count: usize, of: &[u32], base: usize| -> (Vec<u32>, Vec<u32>) {
            if of.is_empty() {
                return (Vec::new(), Vec::new());
            }
            let mut first = vec![0u32; count + 1];
            for &x in of {
                first[x as usize + 1] += 1;
            }
            for i in 0..count {
                first[i + 1] += first[i];
            }
            let mut next = first.clone();
            let mut items = vec![0u32; of.len()];
            for (i, &x) in of.iter().enumerate() {
                items[next[x as usize] as usize] = (base + i) as u32;
                next[x as usize] += 1;
            }
            (first, items)
        };
        (self.link_copies_first, self.link_copies) = rows(self.road_links, &copy_of_link, self.road_links);
        (self.node_copies_first, self.node_copies) = rows(self.road_nodes, &copy_of_node, self.road_nodes);
        self.copy_of_link = copy_of_link;
        self.copy_of_node = copy_of_node;
    }

    /// The road link a link belongs to (itself for a road link).
    pub fn road_link(&self, link: usize) -> usize {
        if link < self.road_links {
            link
        } else {
            self.copy_of_link[link - self.road_links] as usize
        }
    }

    /// The junction a node stands for (itself unless it is a turn-restriction copy).
    pub fn junction(&self, node: u32) -> u32 {
        if (node as usize) < self.road_nodes {
            node
        } else {
            self.copy_of_node[node as usize - self.road_nodes]
        }
    }

    /// A road link and its copies.
    pub fn members(&self, road_link: usize) -> impl Iterator<Item = usize> + '_ {
        let copies: &[u32] = if self.link_copies_first.is_empty() {
            &[]
        } else {
            &self.link_copies
                [self.link_copies_first[road_link] as usize..self.link_copies_first[road_link + 1] as usize]
        };
        std::iter::once(road_link).chain(copies.iter().map(|&c| c as usize))
    }

    /// A junction and its copies: every node standing at it.
    pub fn at_junction(&self, junction: u32) -> impl Iterator<Item = u32> + '_ {
        let j = junction as usize;
        let copies: &[u32] = if self.node_copies_first.is_empty() {
            &[]
        } else {
            &self.node_copies[self.node_copies_first[j] as usize..self.node_copies_first[j + 1] as usize]
        };
        std::iter::once(junction).chain(copies.iter().copied())
    }

    /// Ends of a road link for a point on it (see [`LinkEnds`]).
    pub fn ends(&self, road_link: usize) -> LinkEnds {
        let l = &self.links[road_link];
        let (a, b) = (self.junction(l.a), self.junction(l.b));
        let mut e = LinkEnds {
            a,
            b,
            forward: false,
            backward: false,
            exit_a: a,
            exit_b: b,
        };
        for m in self.members(road_link) {
            let m = &self.links[m];
            if m.forward {
                e.forward = true;
                if m.a == a {
                    e.exit_b = m.b;
                }
            }
            if m.backward {
                e.backward = true;
                if m.b == b {
                    e.exit_a = m.a;
                }
            }
        }
        e
    }

    /// Nodes from which a point on a road link is reached when travelling it from its `a` end
    /// (`from_a`) or its `b` end: the tails of the link and its copies in that direction.
    pub fn entries(&self, road_link: usize, from_a: bool) -> impl Iterator<Item = u32> + '_ {
        self.members(road_link).filter_map(move |m| {
            let m = &self.links[m];
            match from_a {
                true if m.forward => Some(m.a),
                false if m.backward => Some(m.b),
                _ => None,
            }
        })
    }

    pub fn node_count(&self) -> usize {
        self.node_source.len()
    }

    /// Arcs leaving `node`.
    pub fn out_arcs(&self, node: u32) -> &[Arc] {
        let i = node as usize;
        &self.out_arcs[self.out_first[i] as usize..self.out_first[i + 1] as usize]
    }

    /// Arcs entering `node`, with `head` set to the arc's tail (for backward searches).
    pub fn in_arcs(&self, node: u32) -> &[Arc] {
        let i = node as usize;
        &self.in_arcs[self.in_first[i] as usize..self.in_first[i + 1] as usize]
    }

    /// The polyline of a link from `a` to `b` in lon/lat.
    pub fn link_polyline(&self, link: usize) -> Vec<(f64, f64)> {
        let l = &self.links[link];
        let mut line = Vec::with_capacity(self.shapes[link].len() + 2);
        line.push((self.lon[l.a as usize], self.lat[l.a as usize]));
        line.extend_from_slice(&self.shapes[link]);
        line.push((self.lon[l.b as usize], self.lat[l.b as usize]));
        line
    }
}

/// CSR of arcs: forward arcs keyed by tail (`reverse = false`) or by head (`reverse = true`, where
/// the stored `head` is the arc's tail).
fn csr(n: usize, links: &[Link], reverse: bool) -> (Vec<u32>, Vec<Arc>) {
    // Counting sort by key node: linear, and stable (arcs of a node in link order).
    let arcs_of = |l: &Link| {
        let mut v = [None, None];
        if l.forward {
            v[0] = Some((l.a, l.b));
        }
        if l.backward {
            v[1] = Some((l.b, l.a));
        }
        v.into_iter()
            .flatten()
            .map(move |(from, to)| if reverse { (to, from) } else { (from, to) })
    };
    let mut first = vec![0u32; n + 1];
    for l in links {
        for (key, _) in arcs_of(l) {
            first[key as usize + 1] += 1;
        }
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut next = first.clone();
    let empty = Arc {
        head: 0,
        link: 0,
        dist_m: 0.0,
        time_s: 0.0,
    };
    let mut arcs = vec![empty; first[n] as usize];
    for (li, l) in links.iter().enumerate() {
        for (key, other) in arcs_of(l) {
            let slot = &mut next[key as usize];
            arcs[*slot as usize] = Arc {
                head: other,
                link: li as u32,
                dist_m: l.length_m,
                time_s: l.time_s,
            };
            *slot += 1;
        }
    }
    (first, arcs)
}

/// Connected components ignoring direction (union–find); returns a label per node.
fn weak_components(n: usize, links: &[Link]) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(p: &mut [u32], mut x: u32) -> u32 {
        while p[x as usize] != x {
            let g = p[p[x as usize] as usize];
            p[x as usize] = g;
            x = g;
        }
        x
    }
    for l in links {
        let (ra, rb) = (find(&mut parent, l.a), find(&mut parent, l.b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent[hi as usize] = lo;
        }
    }
    (0..n as u32).map(|i| find(&mut parent, i)).collect()
}

/// Strongly connected components (Kosaraju, iterative); returns a label per node.
fn strong_components(n: usize, links: &[Link]) -> Vec<u32> {
    let (fwd_first, fwd) = csr(n, links, false);
    let (bwd_first, bwd) = csr(n, links, true);
    // Pass 1: finishing order on the forward graph.
    let mut visited = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for s in 0..n as u32 {
        if visited[s as usize] {
            continue;
        }
        visited[s as usize] = true;
        stack.push((s, fwd_first[s as usize]));
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if *next < fwd_first[v as usize + 1] {
                let w = fwd[*next as usize].head;
                *next += 1;
                if !visited[w as usize] {
                    visited[w as usize] = true;
                    stack.push((w, fwd_first[w as usize]));
                }
            } else {
                order.push(v);
                stack.pop();
            }
        }
    }
    // Pass 2: reverse finishing order on the backward graph.
    let mut label = vec![u32::MAX; n];
    let mut todo = Vec::new();
    for &s in order.iter().rev() {
        if label[s as usize] != u32::MAX {
            continue;
        }
        label[s as usize] = s;
        todo.push(s);
        while let Some(v) = todo.pop() {
            for a in &bwd[bwd_first[v as usize] as usize..bwd_first[v as usize + 1] as usize] {
                if label[a.head as usize] == u32::MAX {
                    label[a.head as usize] = s;
                    todo.push(a.head);
                }
            }
        }
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::road::{RoadEdge, RoadNode};

    fn edge(u: usize, v: usize, len: f64, hw: &str, oneway: Oneway) -> RoadEdge {
        RoadEdge {
            u,
            v,
            length_m: len,
            highway: hw.into(),
            oneway,
            access_walk: true,
            access_drive: true,
            name: String::new(),
            source_id: format!("{u}-{v}"),
            shape: vec![],
        }
    }

    fn road(edges: Vec<RoadEdge>, n: usize) -> RoadData {
        RoadData {
            nodes: (0..n)
                .map(|i| RoadNode {
                    id: i as i64,
                    lon: 116.0 + i as f64 * 1e-3,
                    lat: 39.9,
                })
                .collect(),
            edges,
            source: "test".into(),
            turn_restrictions: Vec::new(),
        }
    }

    #[test]
    fn walk_keeps_largest_component_and_reports_the_rest() {
        let r = road(
            vec![
                edge(0, 1, 10.0, "residential", Oneway::Forward),
                edge(1, 2, 10.0, "footway", Oneway::No),
                edge(2, 0, 30.0, "residential", Oneway::No),
                edge(2, 0, 25.0, "residential", Oneway::No), // parallel, shorter
                edge(3, 4, 10.0, "residential", Oneway::No), // separate piece
                edge(4, 5, 5000.0, "", Oneway::No),          // untagged
                edge(5, 6, 10.0, "motorway", Oneway::Forward),
                edge(6, 6, 1.0, "residential", Oneway::No),
            ],
            7,
        );
        let g = Graph::build(&r, &Profile::builtin(Mode::Walk));
        assert_eq!(g.node_count(), 3);
        assert_eq!(g.links.len(), 3);
        assert_eq!(g.report.untagged_edges, 1);
        assert_eq!(g.report.untagged_longest, vec![("4-5".to_string(), 5000.0)]);
        assert_eq!(g.report.excluded_by_class.get("motorway"), Some(&1));
        assert_eq!(g.report.parallel_merged, 1);
        assert_eq!(g.report.self_loops, 1);
        assert_eq!(g.report.components, 2);
        assert_eq!(g.report.dropped_nodes, 2);
        let l20 = g.links.iter().find(|l| l.length_m == 25.0).unwrap();
        assert!(l20.forward && l20.backward);
        // walking ignores the one-way
        assert_eq!(g.out_arcs(1).len(), 2);
    }

    #[test]
    fn drive_keeps_the_strongly_connected_core() {
        // 0→1→2→0 is a cycle; 2→3 one-way dead end is not strongly connected.
        let r = road(
            vec![
                edge(0, 1, 10.0, "primary", Oneway::Forward),
                edge(1, 2, 10.0, "primary", Oneway::Forward),
                edge(2, 0, 10.0, "primary", Oneway::Forward),
                edge(2, 3, 10.0, "primary", Oneway::Forward),
                edge(3, 4, 10.0, "footway", Oneway::No),
            ],
            5,
        );
        let g = Graph::build(&r, &Profile::builtin(Mode::Drive));
        assert_eq!(g.node_count(), 3);
        assert_eq!(g.report.dropped_links, 1);
        assert_eq!(g.report.excluded_by_class.get("footway"), Some(&1));
        for v in 0..3 {
            assert_eq!(g.out_arcs(v).len(), 1);
            assert_eq!(g.in_arcs(v).len(), 1);
        }
        // primary at 50 km/h: 10 m in 0.72 s
        assert!((g.links[0].time_s - 0.72).abs() < 1e-12);
    }
}
