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
        let (out_first, out_arcs) = csr(nn, &kept_links, false);
        let (in_first, in_arcs) = csr(nn, &kept_links, true);
        Graph {
            mode: profile.mode,
            node_source,
            lon,
            lat,
            links: kept_links,
            shapes: kept_shapes,
            out_first,
            out_arcs,
            in_first,
            in_arcs,
            report,
        }
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
