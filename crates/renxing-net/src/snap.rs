//! Snapping points onto the road graph.
//!
//! A point (population cell, shelter, origin) joins the network at the nearest point of the
//! nearest link, measured in a [`LocalProjection`] centred on the middle of the graph's bounding
//! box. The link geometry is its polyline (straight between its end nodes when the source has no
//! shape). The snapped position is expressed as metres *along* the link from its node `a`, scaled
//! so that the whole polyline measures the link's `length_m`; the straight-line **snap distance**
//! (the walk from the point to the road) is kept and added to every route that starts or ends at
//! the point.
//!
//! The index is a uniform grid of buckets over the projected segments, searched ring by ring
//! outwards from the query's cell until no closer segment can remain: exact, and several times
//! faster than a general R-tree for this one query. When several segments are exactly equally
//! near, the one listed first (lowest link, then segment, index) wins, so results do not depend on
//! the search order.

use rayon::prelude::*;
use renxing_geo::distance::{LocalProjection, nearest_on_segment};

use crate::graph::Graph;

/// A point attached to the graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// Link index in [`Graph::links`].
    pub link: u32,
    /// Position along the link from its node `a`, in metres of `length_m`.
    pub along_m: f64,
    /// Straight-line distance from the point to the link, metres.
    pub offset_m: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Seg {
    a: (f64, f64),
    b: (f64, f64),
    link: u32,
    /// Geometric length of the link's polyline before this segment, and of the whole polyline.
    before: f64,
    total: f64,
}

/// Nearest-link index over a graph.
pub struct SnapIndex {
    proj: LocalProjection,
    segs: Vec<Seg>,
    minx: f64,
    miny: f64,
    cell: f64,
    nx: i64,
    ny: i64,
    /// Segment ids per cell, compressed rows: cell `c` holds `items[start[c]..start[c + 1]]`.
    start: Vec<u32>,
    items: Vec<u32>,
}

/// Aim for about this many segments per bucket.
const SEGMENTS_PER_CELL: f64 = 4.0;
/// Never more buckets than this (memory bound for very large, sparse extents).
const MAX_CELLS: f64 = 4.0e6;

impl SnapIndex {
    pub fn new(graph: &Graph) -> SnapIndex {
        let proj = LocalProjection::for_points(graph.lon.iter().copied().zip(graph.lat.iter().copied()))
            .unwrap_or(LocalProjection::new(0.0, 0.0));
        let mut segs = Vec::with_capacity(graph.road_links);
        for li in 0..graph.road_links {
            let pts: Vec<(f64, f64)> = graph
                .link_polyline(li)
                .into_iter()
                .map(|(lon, lat)| proj.project(lon, lat))
                .collect();
            let total: f64 = pts.windows(2).map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1)).sum();
            let mut before = 0.0;
            for w in pts.windows(2) {
                segs.push(Seg {
                    a: w[0],
                    b: w[1],
                    link: li as u32,
                    before,
                    total,
                });
                before += (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
            }
        }
        let (mut minx, mut miny, mut maxx, mut maxy) =
            (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
        for s in &segs {
            minx = minx.min(s.a.0.min(s.b.0));
            maxx = maxx.max(s.a.0.max(s.b.0));
            miny = miny.min(s.a.1.min(s.b.1));
            maxy = maxy.max(s.a.1.max(s.b.1));
        }
        if segs.is_empty() {
            (minx, miny, maxx, maxy) = (0.0, 0.0, 1.0, 1.0);
        }
        let (w, h) = ((maxx - minx).max(1.0), (maxy - miny).max(1.0));
        let cells_wanted = (segs.len() as f64 / SEGMENTS_PER_CELL).clamp(1.0, MAX_CELLS);
        let cell = (w * h / cells_wanted).sqrt().max(1.0);
        let nx = (w / cell).floor() as i64 + 1;
        let ny = (h / cell).floor() as i64 + 1;
        let mut index = SnapIndex {
            proj,
            segs,
            minx,
            miny,
            cell,
            nx,
            ny,
            start: vec![],
            items: vec![],
        };
        // Two passes: count per cell, then fill.
        let ncells = (nx * ny) as usize;
        let mut count = vec![0u32; ncells + 1];
        for s in &index.segs {
            index.for_cells(s, |c| count[c + 1] += 1);
        }
        for c in 0..ncells {
            count[c + 1] += count[c];
        }
        let mut fill = count.clone();
        let mut items = vec![0u32; count[ncells] as usize];
        for (si, s) in index.segs.iter().enumerate() {
            index.for_cells(s, |c| {
                items[fill[c] as usize] = si as u32;
                fill[c] += 1;
            });
        }
        index.start = count;
        index.items = items;
        index
    }

    fn cell_of(&self, x: f64, y: f64) -> (i64, i64) {
        (
            ((x - self.minx) / self.cell).floor() as i64,
            ((y - self.miny) / self.cell).floor() as i64,
        )
    }

    /// Every cell the segment's bounding box touches.
    fn for_cells(&self, s: &Seg, mut f: impl FnMut(usize)) {
        let (x0, y0) = self.cell_of(s.a.0.min(s.b.0), s.a.1.min(s.b.1));
        let (x1, y1) = self.cell_of(s.a.0.max(s.b.0), s.a.1.max(s.b.1));
        for cy in y0.max(0)..=y1.min(self.ny - 1) {
            for cx in x0.max(0)..=x1.min(self.nx - 1) {
                f((cy * self.nx + cx) as usize);
            }
        }
    }

    /// The projection used for snapping (documented so references can reproduce it).
    pub fn projection(&self) -> LocalProjection {
        self.proj
    }

    /// Snap a lon/lat point; `None` only for an empty graph.
    pub fn snap(&self, graph: &Graph, lon: f64, lat: f64) -> Option<Snap> {
        if self.segs.is_empty() || !lon.is_finite() || !lat.is_finite() {
            return None;
        }
        let p = self.proj.project(lon, lat);
        let (cx, cy) = self.cell_of(p.0, p.1);
        // Rings of cells at Chebyshev distance r around (cx, cy), searched until the best match is
        // nearer than anything a further ring could hold. Start at the first ring that touches
        // the grid (far-away points).
        let gap_x = if cx < 0 { -cx } else { (cx - (self.nx - 1)).max(0) };
        let gap_y = if cy < 0 { -cy } else { (cy - (self.ny - 1)).max(0) };
        let r_last = (cx.max(self.nx - 1 - cx))
            .max(cy.max(self.ny - 1 - cy))
            .max(gap_x.max(gap_y));
        let mut best: Option<(f64, u32, f64)> = None; // (d², segment, t)
        for r in gap_x.max(gap_y)..=r_last {
            if let Some((bd2, _, _)) = best
                && r > 0
            {
                // Every cell of ring r lies outside the block of rings 0..r, which contains p:
                // p's distance to that block's border bounds the distance of anything farther out.
                let (x0, x1) = (
                    self.minx + (cx - r + 1) as f64 * self.cell,
                    self.minx + (cx + r) as f64 * self.cell,
                );
                let (y0, y1) = (
                    self.miny + (cy - r + 1) as f64 * self.cell,
                    self.miny + (cy + r) as f64 * self.cell,
                );
                let reach = (p.0 - x0).min(x1 - p.0).min(p.1 - y0).min(y1 - p.1);
                if reach * reach > bd2 {
                    break;
                }
            }
            for gy in (cy - r).max(0)..=(cy + r).min(self.ny - 1) {
                // Full rows at the ring's top and bottom, only the two end cells in between.
                let step = if gy == cy - r || gy == cy + r {
                    1
                } else {
                    (2 * r).max(1)
                };
                let mut gx = cx - r;
                while gx <= cx + r {
                    if gx >= 0 && gx < self.nx {
                        let c = (gy * self.nx + gx) as usize;
                        for &si in &self.items[self.start[c] as usize..self.start[c + 1] as usize] {
                            let seg = &self.segs[si as usize];
                            let (t, d) = nearest_on_segment(p, seg.a, seg.b);
                            let d2 = d * d;
                            if best.is_none_or(|(bd2, bsi, _)| d2 < bd2 || (d2 == bd2 && si < bsi)) {
                                best = Some((d2, si, t));
                            }
                        }
                    }
                    gx += step;
                }
            }
        }
        let (d2, si, t) = best?;
        let s = &self.segs[si as usize];
        let seg_len = (s.b.0 - s.a.0).hypot(s.b.1 - s.a.1);
        let link = &graph.links[s.link as usize];
        let along = if s.total > 0.0 {
            (s.before + t * seg_len) / s.total * link.length_m
        } else {
            0.0
        };
        Some(Snap {
            link: s.link,
            along_m: along,
            offset_m: d2.sqrt(),
        })
    }

    /// Snap many lon/lat points, in parallel.
    pub fn snap_all(&self, graph: &Graph, points: &[(f64, f64)]) -> Vec<Option<Snap>> {
        points
            .par_iter()
            .map(|&(lon, lat)| self.snap(graph, lon, lat))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Mode, Profile};
    use crate::road::{Oneway, RoadData, RoadEdge, RoadNode};

    /// Brute force over every segment of every link.
    fn brute(g: &Graph, idx: &SnapIndex, lon: f64, lat: f64) -> f64 {
        let p = idx.proj.project(lon, lat);
        (0..g.links.len())
            .flat_map(|li| {
                let pts: Vec<(f64, f64)> = g
                    .link_polyline(li)
                    .into_iter()
                    .map(|(x, y)| idx.proj.project(x, y))
                    .collect();
                pts.windows(2)
                    .map(|w| nearest_on_segment(p, w[0], w[1]).1)
                    .collect::<Vec<_>>()
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn grid_search_finds_the_same_distance_as_brute_force_inside_and_far_outside() {
        // A bent street network with shapes, plus a long straight edge.
        let nodes: Vec<RoadNode> = (0..30)
            .map(|i| RoadNode {
                id: i,
                lon: 116.3 + (i % 6) as f64 * 0.004,
                lat: 39.9 + (i / 6) as f64 * 0.003,
            })
            .collect();
        let mut edges = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            for j in [i + 1, i + 6] {
                if j < 30 && (j != i + 1 || i % 6 != 5) {
                    edges.push(RoadEdge {
                        u: i,
                        v: j,
                        length_m: 400.0,
                        highway: "residential".into(),
                        oneway: Oneway::No,
                        access_walk: true,
                        access_drive: true,
                        name: String::new(),
                        source_id: format!("{i}-{j}"),
                        shape: if i % 3 == 0 {
                            vec![(node.lon + 0.001, node.lat + 0.0012)]
                        } else {
                            vec![]
                        },
                    });
                }
            }
        }
        let g = Graph::build(
            &RoadData {
                nodes,
                edges,
                source: "t".into(),
                turn_restrictions: Vec::new(),
            },
            &Profile::builtin(Mode::Walk),
        );
        let idx = SnapIndex::new(&g);
        let mut seed = 11u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for k in 0..400 {
            // Mostly inside the network's extent; every 10th far away (up to ~50 km).
            let spread = if k % 10 == 0 { 0.6 } else { 0.025 };
            let (lon, lat) = (116.31 + (rnd() - 0.5) * spread, 39.906 + (rnd() - 0.5) * spread);
            let s = idx.snap(&g, lon, lat).unwrap();
            let want = brute(&g, &idx, lon, lat);
            assert!(
                (s.offset_m - want).abs() < 1e-9 * want.max(1.0),
                "{lon},{lat}: {} vs {want}",
                s.offset_m
            );
            assert!(s.along_m >= 0.0 && s.along_m <= g.links[s.link as usize].length_m + 1e-9);
        }
    }
}
