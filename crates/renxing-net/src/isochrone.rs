//! Isochrones: the network reached within a cost limit, and the area around it.
//!
//! Input: the cost of every graph node from a source (one point, or the cheapest of several —
//! "within 15 minutes of *any* clinic"), from [`crate::matrix::node_costs`], and the source
//! points themselves.
//!
//! **Reached network.** On a link (a, b) that is open in the scenario, travel from `a` covers the
//! share `(T − c(a)) / w` of it when the link may be travelled from `a` (`w` its cost in the
//! minimised metric), travel from `b` the share `(T − c(b)) / w` from the other end; where the two
//! meet the whole link is reached. A source's own link is also reached from the source point
//! outwards, in the directions the link allows. Pieces are fractions of the link, one per
//! direction of travel so that cost grows linearly along each; [`union_by_link`] joins them for
//! drawing.
//!
//! **Area.** People walk off the road to reach what is near it: around every reached point the
//! area within `min(off_road_m, what is left of the budget at the access speed)` counts as
//! reached. It is computed on a square grid of `cell_m` cells in a local equirectangular
//! projection ([`LocalProjection`]): points are sampled along each reached piece at most half a
//! cell apart, each cell keeps the lowest `cost at the point + off-road cost to the cell centre`
//! (so a cell counts when its centre is within reach of a sample point: with an off-road
//! distance below half a cell, few cells qualify), and the polygon of a limit is the outline of
//! the cells within it ([`renxing_geo::polygonize`]), with holes where blocks are out of reach.
//! The off-road stretch is walked at the profile's access speed
//! ([`crate::profile::Profile::access_speed_mps`], its slowest class).
//! Several limits share one grid, so their polygons nest.

use renxing_geo::distance::LocalProjection;
use renxing_geo::geo_types::{Coord, LineString, MultiPolygon, Polygon};
use renxing_geo::polygonize::mask_to_polygons;

use crate::access::Metric;
use crate::cch::{Cost2, from_units};
use crate::graph::Graph;
use crate::matrix::Attach;
use crate::snap::Snap;

/// A reached stretch of a link: from `from` to `to`, fractions of its length measured from `a`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub link: u32,
    pub from: f64,
    pub to: f64,
    /// Minimised cost at the `from` and `to` ends.
    pub cost_from: f64,
    pub cost_to: f64,
}

/// Parameters of the area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaOptions {
    /// Grid cell size, metres.
    pub cell_m: f64,
    /// Farthest walk off the road, metres.
    pub off_road_m: f64,
}

/// Reached pieces of every link within `limit` (metres or seconds; `node_cost` in nano-units as
/// the sweeps give them). Piece costs are in metres or seconds. Pieces name road links: travel
/// along a turn-restriction copy of a link ([`crate::turns`]) is a piece of the road link.
pub fn reached_pieces(at: &Attach<'_>, node_cost: &[Cost2], sources: &[Snap], limit: f64) -> Vec<Piece> {
    let g = at.graph;
    let links = &at.cust.links;
    let mut out = Vec::new();
    let w_of = |l: usize| match at.cust.metric {
        Metric::Distance => links.length_m[l],
        Metric::Time => links.time_s[l],
    };
    let mut covered: Vec<(f64, f64, f64, f64)> = Vec::new();
    for (li, l) in g.links.iter().enumerate() {
        if !links.open[li] {
            continue;
        }
        let w = w_of(li);
        covered.clear();
        let (ca, cb) = (
            from_units(node_cost[l.a as usize][0]),
            from_units(node_cost[l.b as usize][0]),
        );
        // From a, along a→b.
        if l.forward && ca <= limit {
            let f = if w > 0.0 { ((limit - ca) / w).min(1.0) } else { 1.0 };
            covered.push((0.0, f, ca, ca + f * w));
        }
        if l.backward && cb <= limit {
            let f = if w > 0.0 { ((limit - cb) / w).min(1.0) } else { 1.0 };
            covered.push((1.0 - f, 1.0, cb + f * w, cb));
        }
        let road = g.road_link(li);
        let e = g.ends(road);
        for s in sources.iter().filter(|s| s.link as usize == li) {
            if at.leave(s).is_none() {
                continue; // on a closed link
            }
            // Cost at the point itself: the off-road stretch only.
            let len = l.length_m.max(f64::MIN_POSITIVE);
            let x = s.along_m / len;
            let c0 = match at.cust.metric {
                Metric::Distance => s.offset_m,
                Metric::Time => s.offset_m / at.access_speed_mps,
            };
            if c0 > limit {
                continue;
            }
            let reach = if w > 0.0 { (limit - c0) / w } else { 1.0 };
            if e.forward {
                let t = (x + reach).min(1.0);
                covered.push((x, t, c0, c0 + (t - x) * w));
            }
            if e.backward {
                let f = (x - reach).max(0.0);
                covered.push((f, x, c0 + (x - f) * w, c0));
            }
        }
        for &(from, to, cost_from, cost_to) in covered.iter() {
            out.push(Piece {
                link: road as u32,
                from,
                to,
                cost_from,
                cost_to,
            });
        }
    }
    out
}

/// The part of a piece within a lower limit (cost is linear along a piece), `None` if none.
pub fn trim(p: &Piece, limit: f64) -> Option<Piece> {
    let (lo, hi) = (p.cost_from.min(p.cost_to), p.cost_from.max(p.cost_to));
    if lo > limit {
        return None;
    }
    let mut q = *p;
    if hi > limit {
        let f = (limit - lo) / (hi - lo);
        let span = q.to - q.from;
        if p.cost_from <= p.cost_to {
            q.to = q.from + span * f;
            q.cost_to = limit;
        } else {
            q.from = q.to - span * f;
            q.cost_from = limit;
        }
    }
    Some(q)
}

/// Overlapping pieces of each link joined into one stretch (for drawing; costs are dropped to
/// the lower at each end).
pub fn union_by_link(pieces: &[Piece]) -> Vec<Piece> {
    let mut sorted = pieces.to_vec();
    sorted.sort_by(|a, b| a.link.cmp(&b.link).then(a.from.total_cmp(&b.from)));
    let mut out: Vec<Piece> = Vec::new();
    for p in sorted {
        match out.last_mut() {
            Some(q) if q.link == p.link && p.from <= q.to => {
                if p.to > q.to {
                    q.to = p.to;
                    q.cost_to = p.cost_to;
                }
            }
            _ => out.push(p),
        }
    }
    out
}

/// The lon/lat polyline of a piece.
pub fn piece_line(graph: &Graph, p: &Piece) -> Vec<(f64, f64)> {
    let line = graph.link_polyline(p.link as usize);
    cut_polyline(&line, p.from, p.to)
}

/// The part of a polyline between two fractions of its (planar, in degrees scaled by latitude)
/// length.
fn cut_polyline(line: &[(f64, f64)], from: f64, to: f64) -> Vec<(f64, f64)> {
    let k = line.first().map(|p| p.1.to_radians().cos()).unwrap_or(1.0);
    let seg: Vec<f64> = line
        .windows(2)
        .map(|w| ((w[1].0 - w[0].0) * k).hypot(w[1].1 - w[0].1))
        .collect();
    let total: f64 = seg.iter().sum();
    if total <= 0.0 {
        return vec![line[0], line[line.len() - 1]];
    }
    let at = |d: f64| -> (usize, (f64, f64)) {
        let mut acc = 0.0;
        for (i, s) in seg.iter().enumerate() {
            if acc + s >= d || i == seg.len() - 1 {
                let t = if *s > 0.0 { ((d - acc) / s).clamp(0.0, 1.0) } else { 0.0 };
                let (a, b) = (line[i], line[i + 1]);
                return (i, (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t));
            }
            acc += s;
        }
        (0, line[0])
    };
    let (i0, p0) = at(from * total);
    let (i1, p1) = at(to * total);
    let mut out = vec![p0];
    out.extend_from_slice(&line[i0 + 1..=i1]);
    out.push(p1);
    out.dedup();
    if out.len() == 1 {
        out.push(out[0]);
    }
    out
}

/// Most cells an area grid may have (about 0.4 GB of costs).
pub const MAX_AREA_CELLS: usize = 50_000_000;

/// Polygons of the area reached within each of `limits`, in lon/lat, with their area in m²
/// (cells × cell area, in the local projection). An error when the grid would exceed
/// [`MAX_AREA_CELLS`] (cells too small for the extent).
pub fn areas(
    at: &Attach<'_>,
    pieces: &[Piece],
    limits: &[f64],
    opts: &AreaOptions,
) -> Result<Vec<(MultiPolygon<f64>, f64)>, String> {
    let g = at.graph;
    let Some(&top) = limits.iter().max_by(|a, b| a.total_cmp(b)) else {
        return Ok(Vec::new());
    };
    // Off-road cost per metre in the minimised metric.
    let per_m = match at.cust.metric {
        Metric::Distance => 1.0,
        Metric::Time => 1.0 / at.access_speed_mps,
    };
    let lines: Vec<Vec<(f64, f64)>> = pieces.iter().map(|p| piece_line(g, p)).collect();
    let Some(proj) = LocalProjection::for_points(lines.iter().flatten().copied()) else {
        return Ok(limits.iter().map(|_| (MultiPolygon(vec![]), 0.0)).collect());
    };
    let projected: Vec<Vec<(f64, f64)>> = lines
        .iter()
        .map(|l| l.iter().map(|&(x, y)| proj.project(x, y)).collect())
        .collect();
    let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in projected.iter().flatten() {
        minx = minx.min(x);
        miny = miny.min(y);
        maxx = maxx.max(x);
        maxy = maxy.max(y);
    }
    let pad = opts.off_road_m + opts.cell_m;
    let (x0, y0) = (minx - pad, miny - pad);
    let nx = (((maxx + pad) - x0) / opts.cell_m).ceil() as usize + 1;
    let ny = (((maxy + pad) - y0) / opts.cell_m).ceil() as usize + 1;
    if nx.saturating_mul(ny) > MAX_AREA_CELLS {
        return Err(format!(
            "the area grid would need {nx} × {ny} cells of {} m (more than {MAX_AREA_CELLS}): choose a larger cell",
            opts.cell_m
        ));
    }
    let mut best = vec![f64::INFINITY; nx * ny];
    let r_cells = (opts.off_road_m / opts.cell_m).ceil() as i64;
    let step = opts.cell_m / 2.0;
    for (p, line) in pieces.iter().zip(&projected) {
        let seg: Vec<f64> = line
            .windows(2)
            .map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1))
            .collect();
        let total: f64 = seg.iter().sum();
        for (i, w) in line.windows(2).enumerate() {
            let before: f64 = seg[..i].iter().sum();
            let n = (seg[i] / step).ceil().max(1.0) as usize;
            for s in 0..=n {
                let t = s as f64 / n as f64;
                let (x, y) = (w[0].0 + (w[1].0 - w[0].0) * t, w[0].1 + (w[1].1 - w[0].1) * t);
                let f = if total > 0.0 {
                    (before + t * seg[i]) / total
                } else {
                    0.0
                };
                let c = p.cost_from + (p.cost_to - p.cost_from) * f;
                if c > top {
                    continue;
                }
                let radius = opts.off_road_m.min((top - c) / per_m);
                let (ci, cj) = (((x - x0) / opts.cell_m) as i64, ((y - y0) / opts.cell_m) as i64);
                for dj in -r_cells..=r_cells {
                    for di in -r_cells..=r_cells {
                        let (i2, j2) = (ci + di, cj + dj);
                        if i2 < 0 || j2 < 0 || i2 as usize >= nx || j2 as usize >= ny {
                            continue;
                        }
                        let cx = x0 + (i2 as f64 + 0.5) * opts.cell_m;
                        let cy = y0 + (j2 as f64 + 0.5) * opts.cell_m;
                        let d = (cx - x).hypot(cy - y);
                        if d <= radius {
                            let slot = &mut best[j2 as usize * nx + i2 as usize];
                            *slot = slot.min(c + d * per_m);
                        }
                    }
                }
            }
        }
    }
    Ok(limits
        .iter()
        .map(|&lim| {
            let mask: Vec<bool> = best.iter().map(|&c| c <= lim).collect();
            let area_m2 = mask.iter().filter(|&&m| m).count() as f64 * opts.cell_m * opts.cell_m;
            let mp = mask_to_polygons(&mask, nx, ny, x0, y0, opts.cell_m);
            let un = |ls: &LineString<f64>| {
                LineString(
                    ls.0.iter()
                        .map(|c| {
                            let (lon, lat) = proj.unproject(c.x, c.y);
                            Coord { x: lon, y: lat }
                        })
                        .collect(),
                )
            };
            let polygons = MultiPolygon(
                mp.0.iter()
                    .map(|p| Polygon::new(un(p.exterior()), p.interiors().iter().map(un).collect()))
                    .collect(),
            );
            (polygons, area_m2)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cch::{Cch, Customized, LinkCosts, dijkstra_pairs};
    use crate::profile::{Mode, Profile};
    use crate::snap::SnapIndex;
    use crate::test_city::city;

    #[test]
    fn pieces_match_node_costs_and_areas_nest() {
        let g = Graph::build(&city(14, 3), &Profile::builtin(Mode::Walk));
        let cch = Cch::build(&g);
        let cust = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
        let at = Attach {
            cust: &cust,
            graph: &g,
            access_speed_mps: 5.0 / 3.6,
        };
        let src = SnapIndex::new(&g).snap(&g, 116.312, 39.909).unwrap();
        let seeds = at.leave(&src).unwrap();
        let cost = dijkstra_pairs(&g, &cust.links, Metric::Time, &seeds);
        let limit = 300.0; // 5 minutes
        let pieces = reached_pieces(&at, &cost, &[src], limit);
        // Every node within the limit is an end of a reached piece; nothing beyond it is.
        for (v, c) in cost.iter().enumerate() {
            let touches = pieces.iter().any(|p| {
                let l = &g.links[p.link as usize];
                (l.a as usize == v && p.from == 0.0) || (l.b as usize == v && p.to == 1.0)
            });
            assert_eq!(from_units(c[0]) <= limit, touches, "node {v} at {}", c[0]);
        }
        for p in &pieces {
            assert!(p.from <= p.to);
            assert!(p.cost_from <= limit + 1e-9 && p.cost_to <= limit + 1e-9, "{p:?}");
        }
        let areas = areas(
            &at,
            &pieces,
            &[120.0, 300.0],
            &AreaOptions {
                cell_m: 20.0,
                off_road_m: 50.0,
            },
        )
        .unwrap();
        use geo::Area;
        let (a2, a5) = (areas[0].0.unsigned_area(), areas[1].0.unsigned_area());
        assert!(a2 > 0.0 && a5 > a2);
        // The polygon area (deg² → m²) is the cell count's, and nothing lies farther than
        // 5 minutes of walking plus 50 m from the source.
        let m2 = a5 * (111_195.0f64.powi(2) * 39.91f64.to_radians().cos());
        assert!((m2 / areas[1].1 - 1.0).abs() < 0.01, "{m2} vs {}", areas[1].1);
        let reach = limit * 5.0 / 3.6 + 50.0;
        assert!(areas[1].1 < std::f64::consts::PI * reach * reach, "{m2}");
    }

    #[test]
    fn a_source_on_a_one_way_link_starts_at_zero_cost_wherever_it_stands() {
        let g = Graph::build(&city(14, 3), &Profile::builtin(Mode::Drive));
        let cch = Cch::build(&g);
        let cust = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
        let at = Attach {
            cust: &cust,
            graph: &g,
            access_speed_mps: 1.0,
        };
        let li = g.links.iter().position(|l| !l.backward).expect("a one-way link");
        let len = g.links[li].length_m;
        for share in [0.1, 0.5, 0.9] {
            let src = Snap {
                link: li as u32,
                along_m: share * len,
                offset_m: 0.0,
            };
            let seeds = at.leave(&src).unwrap();
            let cost = dijkstra_pairs(&g, &cust.links, Metric::Time, &seeds);
            let pieces = reached_pieces(&at, &cost, &[src], 1e9);
            let own = pieces
                .iter()
                .find(|p| p.link as usize == li && (p.from - share).abs() < 1e-12)
                .expect("the stretch from the source onwards");
            assert_eq!(own.cost_from, 0.0);
            assert!((own.to - 1.0).abs() < 1e-12);
            assert!((own.cost_to - (1.0 - share) * cust.links.time_s[li]).abs() < 1e-9);
            assert!(pieces.iter().all(|p| p.cost_from >= 0.0 && p.cost_to >= 0.0));
        }
    }
}
