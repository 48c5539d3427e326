//! Nearest-facility access by multi-source Dijkstra.
//!
//! All destinations (shelters, hospitals…) are searched at once, backwards along the arcs, so one
//! pass gives every graph node its nearest destination and the travel cost to it. A destination
//! snapped onto link (a, b) at `x` metres from `a` with snap distance `s` seeds node `a` with
//! `s + x` when the link may be travelled from `a` to `b`, and node `b` with `s + (len − x)` when it
//! may be travelled from `b` to `a`. An origin snapped onto link (a, b) at `y` with snap distance
//! `s'` then costs `s' + y + D(a)` (leaving towards `a`, if allowed), `s' + (len − y) + D(b)`
//! (towards `b`), or the direct stretch along the same link to a destination on it — the minimum.
//!
//! The search minimises one metric (distance or time) and carries the other along the chosen route.
//! Time on a partial link is the link time pro rata; the off-network snap stretch is walked at the
//! profile's access speed ([`crate::profile::Profile::access_speed_mps`]). A cutoff stops the
//! search early; origins beyond it have no nearest destination.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::str::FromStr;

use crate::graph::Graph;
use crate::snap::Snap;

/// What the search minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Distance,
    Time,
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "distance" | "dist" | "length" => Ok(Metric::Distance),
            "time" | "duration" => Ok(Metric::Time),
            other => Err(format!("unknown metric '{other}': use distance or time")),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Metric::Distance => "distance",
            Metric::Time => "time",
        })
    }
}

/// The nearest destination of one origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// Index into the destination list.
    pub destination: u32,
    pub distance_m: f64,
    pub time_s: f64,
}

/// Per graph node: cost to its nearest destination.
#[derive(Debug, Clone)]
pub struct NearestField {
    pub metric: Metric,
    pub cutoff: Option<f64>,
    pub distance_m: Vec<f64>,
    pub time_s: Vec<f64>,
    /// Destination index; `u32::MAX` where none is reached within the cutoff.
    pub destination: Vec<u32>,
    access_speed_mps: f64,
    /// Destinations snapped onto each link, as (destination, along, offset), grouped by link:
    /// link `l` holds `on_link[on_link_start[l]..on_link_start[l + 1]]`.
    on_link_start: Vec<u32>,
    on_link: Vec<(u32, f64, f64)>,
}

#[derive(Clone, Copy, PartialEq)]
struct Item {
    cost: f64,
    node: u32,
}
impl Eq for Item {}
impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        // Min-heap on cost, then node id for determinism.
        other
            .cost
            .total_cmp(&self.cost)
            .then_with(|| other.node.cmp(&self.node))
    }
}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl NearestField {
    /// Multi-source search from all snapped destinations (`None` = not snapped, ignored).
    pub fn compute(
        graph: &Graph,
        destinations: &[Option<Snap>],
        metric: Metric,
        cutoff: Option<f64>,
        access_speed_mps: f64,
    ) -> NearestField {
        let n = graph.node_count();
        let mut f = NearestField {
            metric,
            cutoff,
            distance_m: vec![f64::INFINITY; n],
            time_s: vec![f64::INFINITY; n],
            destination: vec![u32::MAX; n],
            access_speed_mps,
            on_link_start: vec![0; graph.links.len() + 1],
            on_link: Vec::new(),
        };
        for s in destinations.iter().flatten() {
            f.on_link_start[s.link as usize + 1] += 1;
        }
        for l in 0..graph.links.len() {
            f.on_link_start[l + 1] += f.on_link_start[l];
        }
        let mut next = f.on_link_start.clone();
        f.on_link = vec![(0, 0.0, 0.0); destinations.iter().flatten().count()];
        for (di, s) in destinations.iter().enumerate() {
            if let Some(s) = s {
                f.on_link[next[s.link as usize] as usize] = (di as u32, s.along_m, s.offset_m);
                next[s.link as usize] += 1;
            }
        }
        let mut heap = BinaryHeap::new();
        for (di, snap) in destinations.iter().enumerate() {
            let Some(s) = snap else { continue };
            let l = &graph.links[s.link as usize];
            let frac = if l.length_m > 0.0 { s.along_m / l.length_m } else { 0.0 };
            let off_t = s.offset_m / access_speed_mps;
            let mut seed = |node: u32, d: f64, t: f64| {
                if f.better(node, d, t) {
                    let i = node as usize;
                    f.distance_m[i] = d;
                    f.time_s[i] = t;
                    f.destination[i] = di as u32;
                    heap.push(Item {
                        cost: f.cost_of(d, t),
                        node,
                    });
                }
            };
            // Reached from its ends in the directions the link allows; a point standing on a
            // junction is reached by arriving there in any way (any copy of the junction).
            let li = s.link as usize;
            let e = graph.ends(li);
            let (d_a, t_a) = (s.offset_m + s.along_m, off_t + frac * l.time_s);
            if s.along_m <= 0.0 {
                graph.at_junction(e.a).for_each(|n| seed(n, d_a, t_a));
            } else if e.forward {
                graph.entries(li, true).for_each(|n| seed(n, d_a, t_a));
            }
            let (d_b, t_b) = (s.offset_m + (l.length_m - s.along_m), off_t + (1.0 - frac) * l.time_s);
            if s.along_m >= l.length_m {
                graph.at_junction(e.b).for_each(|n| seed(n, d_b, t_b));
            } else if e.backward {
                graph.entries(li, false).for_each(|n| seed(n, d_b, t_b));
            }
        }
        let limit = cutoff.unwrap_or(f64::INFINITY);
        while let Some(Item { cost, node }) = heap.pop() {
            let i = node as usize;
            if cost > f.cost_of(f.distance_m[i], f.time_s[i]) {
                continue; // stale entry
            }
            if cost > limit {
                break;
            }
            let (d0, t0, dest) = (f.distance_m[i], f.time_s[i], f.destination[i]);
            for arc in graph.in_arcs(node) {
                let (d, t) = (d0 + arc.dist_m, t0 + arc.time_s);
                if f.better(arc.head, d, t) {
                    let j = arc.head as usize;
                    f.distance_m[j] = d;
                    f.time_s[j] = t;
                    f.destination[j] = dest;
                    heap.push(Item {
                        cost: f.cost_of(d, t),
                        node: arc.head,
                    });
                }
            }
        }
        // Nodes settled beyond the cutoff are not reached.
        for i in 0..n {
            if f.cost_of(f.distance_m[i], f.time_s[i]) > limit {
                f.distance_m[i] = f64::INFINITY;
                f.time_s[i] = f64::INFINITY;
                f.destination[i] = u32::MAX;
            }
        }
        f
    }

    fn cost_of(&self, d: f64, t: f64) -> f64 {
        match self.metric {
            Metric::Distance => d,
            Metric::Time => t,
        }
    }

    fn better(&self, node: u32, d: f64, t: f64) -> bool {
        let i = node as usize;
        self.cost_of(d, t) < self.cost_of(self.distance_m[i], self.time_s[i])
    }

    /// Nearest destination from a snapped origin (`None` when none is reachable within the cutoff).
    pub fn nearest(&self, graph: &Graph, origin: &Snap) -> Option<Nearest> {
        let l = &graph.links[origin.link as usize];
        let frac = if l.length_m > 0.0 {
            origin.along_m / l.length_m
        } else {
            0.0
        };
        let off_t = origin.offset_m / self.access_speed_mps;
        let mut best: Option<Nearest> = None;
        let mut consider = |dest: u32, d: f64, t: f64| {
            if dest == u32::MAX || !d.is_finite() {
                return;
            }
            let c = self.cost_of(d, t);
            if best.is_none_or(|b| c < self.cost_of(b.distance_m, b.time_s)) {
                best = Some(Nearest {
                    destination: dest,
                    distance_m: d,
                    time_s: t,
                });
            }
        };
        let e = graph.ends(origin.link as usize);
        let a = if origin.along_m <= 0.0 { e.a } else { e.exit_a } as usize;
        let b = if origin.along_m >= l.length_m { e.b } else { e.exit_b } as usize;
        if origin.along_m <= 0.0 || e.backward {
            consider(
                self.destination[a],
                origin.offset_m + origin.along_m + self.distance_m[a],
                off_t + frac * l.time_s + self.time_s[a],
            );
        }
        if origin.along_m >= l.length_m || e.forward {
            consider(
                self.destination[b],
                origin.offset_m + (l.length_m - origin.along_m) + self.distance_m[b],
                off_t + (1.0 - frac) * l.time_s + self.time_s[b],
            );
        }
        let (lo, hi) = (
            self.on_link_start[origin.link as usize],
            self.on_link_start[origin.link as usize + 1],
        );
        for &(dest, x, s) in &self.on_link[lo as usize..hi as usize] {
            let ok = (x >= origin.along_m && e.forward) || (x <= origin.along_m && e.backward);
            if ok {
                let dx = (x - origin.along_m).abs();
                let dt = if l.length_m > 0.0 {
                    dx / l.length_m * l.time_s
                } else {
                    0.0
                };
                consider(dest, origin.offset_m + dx + s, off_t + dt + s / self.access_speed_mps);
            }
        }
        let limit = self.cutoff.unwrap_or(f64::INFINITY);
        best.filter(|b| self.cost_of(b.distance_m, b.time_s) <= limit)
    }
}

/// Shortest distances (metres) from one node to all nodes, plain Dijkstra over out-arcs; the
/// textbook reference the multi-source search is tested against.
pub fn dijkstra_distances(graph: &Graph, source: u32) -> Vec<f64> {
    let mut dist = vec![f64::INFINITY; graph.node_count()];
    let mut heap = BinaryHeap::new();
    dist[source as usize] = 0.0;
    heap.push(Item {
        cost: 0.0,
        node: source,
    });
    while let Some(Item { cost, node }) = heap.pop() {
        if cost > dist[node as usize] {
            continue;
        }
        for arc in graph.out_arcs(node) {
            let c = cost + arc.dist_m;
            if c < dist[arc.head as usize] {
                dist[arc.head as usize] = c;
                heap.push(Item {
                    cost: c,
                    node: arc.head,
                });
            }
        }
    }
    dist
}

/// Distance from `origin` to the nearest of `destinations` by one plain Dijkstra from the origin
/// and the cheapest way onto each destination's link — the slow, obvious reference that
/// [`NearestField`] is tested against.
pub fn nearest_by_plain_dijkstra(graph: &Graph, origin: u32, destinations: &[Snap]) -> f64 {
    let d = dijkstra_distances(graph, origin);
    destinations
        .iter()
        .map(|s| {
            let li = s.link as usize;
            let (l, e) = (&graph.links[li], graph.ends(li));
            // From the tails that may enter the link in each direction (every copy of a
            // junction the point stands on).
            let best =
                |nodes: &mut dyn Iterator<Item = u32>| nodes.map(|n| d[n as usize]).fold(f64::INFINITY, f64::min);
            let via_a = if s.along_m <= 0.0 {
                best(&mut graph.at_junction(e.a))
            } else if e.forward {
                best(&mut graph.entries(li, true)) + s.along_m
            } else {
                f64::INFINITY
            };
            let via_b = if s.along_m >= l.length_m {
                best(&mut graph.at_junction(e.b))
            } else if e.backward {
                best(&mut graph.entries(li, false)) + l.length_m - s.along_m
            } else {
                f64::INFINITY
            };
            s.offset_m + via_a.min(via_b)
        })
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Graph;
    use crate::profile::{Mode, Profile};
    use crate::road::{Oneway, RoadData, RoadEdge, RoadNode};
    use crate::snap::SnapIndex;

    /// A 12×12 street grid of ~100 m blocks with deterministic pseudo-random lengths.
    fn grid_road(oneway_every: usize) -> RoadData {
        let n = 12;
        let mut nodes = Vec::new();
        for r in 0..n {
            for c in 0..n {
                nodes.push(RoadNode {
                    id: (r * n + c) as i64,
                    lon: 116.4 + c as f64 * 0.0012,
                    lat: 39.9 + r as f64 * 0.0009,
                });
            }
        }
        let mut edges = Vec::new();
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        for r in 0..n {
            for c in 0..n {
                let i = r * n + c;
                for j in [(c + 1 < n).then_some(i + 1), (r + 1 < n).then_some(i + n)]
                    .into_iter()
                    .flatten()
                {
                    let k = edges.len();
                    edges.push(RoadEdge {
                        u: i,
                        v: j,
                        length_m: 100.0 + 40.0 * rnd(),
                        highway: "residential".into(),
                        oneway: if oneway_every > 0 && k % oneway_every == 0 {
                            Oneway::Forward
                        } else {
                            Oneway::No
                        },
                        access_walk: true,
                        access_drive: true,
                        name: String::new(),
                        source_id: k.to_string(),
                        shape: vec![],
                    });
                }
            }
        }
        RoadData {
            nodes,
            edges,
            source: "grid".into(),
            turn_restrictions: Vec::new(),
        }
    }

    fn check(mode: Mode, oneway_every: usize) {
        let road = grid_road(oneway_every);
        let g = Graph::build(&road, &Profile::builtin(mode));
        let idx = SnapIndex::new(&g);
        let dest_pts = [
            (116.4031, 39.9021),
            (116.4102, 39.9077),
            (116.4005, 39.9093),
            (116.4123, 39.9003),
        ];
        let dests: Vec<Snap> = dest_pts.iter().map(|&(x, y)| idx.snap(&g, x, y).unwrap()).collect();
        let field = NearestField::compute(
            &g,
            &dests.iter().map(|s| Some(*s)).collect::<Vec<_>>(),
            Metric::Distance,
            None,
            1.0,
        );
        for v in 0..g.node_count() as u32 {
            let want = nearest_by_plain_dijkstra(&g, v, &dests);
            // An origin exactly at node v: snap it there.
            let o = idx.snap(&g, g.lon[v as usize], g.lat[v as usize]).unwrap();
            assert!(o.offset_m < 1e-6);
            let got = field.nearest(&g, &o).map(|n| n.distance_m).unwrap_or(f64::INFINITY);
            assert!((got - want).abs() < 1e-6 * want.max(1.0), "node {v}: {got} vs {want}");
            assert!((field.distance_m[v as usize] - want).abs() < 1e-6 * want.max(1.0));
        }
    }

    #[test]
    fn multi_source_equals_brute_force_walking() {
        check(Mode::Walk, 0);
    }

    #[test]
    fn multi_source_equals_brute_force_with_one_way_streets() {
        check(Mode::Drive, 3);
    }

    #[test]
    fn origin_on_the_same_link_as_the_destination_goes_straight_there() {
        let road = grid_road(0);
        let g = Graph::build(&road, &Profile::builtin(Mode::Walk));
        let idx = SnapIndex::new(&g);
        let d = idx.snap(&g, 116.4006, 39.90001).unwrap();
        let o = idx.snap(&g, 116.4009, 39.90001).unwrap();
        assert_eq!(d.link, o.link);
        let f = NearestField::compute(&g, &[Some(d)], Metric::Distance, None, 1.0);
        let n = f.nearest(&g, &o).unwrap();
        let want = d.offset_m + o.offset_m + (o.along_m - d.along_m).abs();
        assert!((n.distance_m - want).abs() < 1e-9);
    }

    #[test]
    fn cutoff_leaves_far_origins_without_a_destination() {
        let road = grid_road(0);
        let g = Graph::build(&road, &Profile::builtin(Mode::Walk));
        let idx = SnapIndex::new(&g);
        let d = idx.snap(&g, 116.4, 39.9).unwrap();
        let f = NearestField::compute(&g, &[Some(d)], Metric::Distance, Some(500.0), 1.0);
        let far = idx.snap(&g, 116.4132, 39.9099).unwrap();
        assert!(f.nearest(&g, &far).is_none());
        let near = idx.snap(&g, 116.4012, 39.9).unwrap();
        assert!(f.nearest(&g, &near).unwrap().distance_m <= 500.0);
        assert!(f.distance_m.iter().all(|&x| x.is_infinite() || x <= 500.0));
    }
}
