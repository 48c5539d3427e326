//! Snapping points onto the road graph.
//!
//! A point (population cell, shelter, origin) joins the network at the nearest point of the
//! nearest link, measured in a [`LocalProjection`] centred on the middle of the graph's bounding
//! box. The link geometry is its polyline (straight between its end nodes when the source has no
//! shape). The snapped position is expressed as metres *along* the link from its node `a`, scaled
//! so that the whole polyline measures the link's `length_m`; the straight-line **snap distance**
//! (the walk from the point to the road) is kept and added to every route that starts or ends at
//! the point.

use renxing_geo::distance::{LocalProjection, nearest_on_segment};
use rstar::primitives::{GeomWithData, Line};
use rstar::{PointDistance, RTree};

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
    link: u32,
    /// Geometric length of the link's polyline before this segment, and of the whole polyline.
    before: f64,
    total: f64,
}

/// Nearest-link index over a graph.
pub struct SnapIndex {
    proj: LocalProjection,
    tree: RTree<GeomWithData<Line<[f64; 2]>, Seg>>,
}

impl SnapIndex {
    pub fn new(graph: &Graph) -> SnapIndex {
        let proj = LocalProjection::for_points(graph.lon.iter().copied().zip(graph.lat.iter().copied()))
            .unwrap_or(LocalProjection::new(0.0, 0.0));
        let mut segs = Vec::with_capacity(graph.links.len());
        for li in 0..graph.links.len() {
            let pts: Vec<[f64; 2]> = graph
                .link_polyline(li)
                .into_iter()
                .map(|(lon, lat)| {
                    let (x, y) = proj.project(lon, lat);
                    [x, y]
                })
                .collect();
            let lens: Vec<f64> = pts
                .windows(2)
                .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
                .collect();
            let total: f64 = lens.iter().sum();
            let mut before = 0.0;
            for (w, len) in pts.windows(2).zip(&lens) {
                segs.push(GeomWithData::new(
                    Line::new(w[0], w[1]),
                    Seg {
                        link: li as u32,
                        before,
                        total,
                    },
                ));
                before += len;
            }
        }
        SnapIndex {
            proj,
            tree: RTree::bulk_load(segs),
        }
    }

    /// The projection used for snapping (documented so references can reproduce it).
    pub fn projection(&self) -> LocalProjection {
        self.proj
    }

    /// Snap a lon/lat point; `None` only for an empty graph.
    pub fn snap(&self, graph: &Graph, lon: f64, lat: f64) -> Option<Snap> {
        let (x, y) = self.proj.project(lon, lat);
        let q = [x, y];
        // Among segments at exactly the nearest distance prefer the lowest link index, so that
        // the result does not depend on the tree's internal order (one traversal, in distance order).
        let mut it = self.tree.nearest_neighbor_iter_with_distance_2(&q);
        let (mut chosen, d2) = it.next()?;
        for (cand, cd2) in it {
            if cd2 > d2 {
                break;
            }
            if cand.data.link < chosen.data.link {
                chosen = cand;
            }
        }
        let line = chosen.geom();
        let (a, b) = ((line.from[0], line.from[1]), (line.to[0], line.to[1]));
        let (t, offset) = nearest_on_segment((x, y), a, b);
        let seg_len = (b.0 - a.0).hypot(b.1 - a.1);
        let s = chosen.data;
        let link = &graph.links[s.link as usize];
        let along = if s.total > 0.0 {
            (s.before + t * seg_len) / s.total * link.length_m
        } else {
            0.0
        };
        Some(Snap {
            link: s.link,
            along_m: along,
            offset_m: offset,
        })
    }
}
