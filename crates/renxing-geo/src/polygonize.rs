//! Polygons from a mask of grid cells: the exact outline of the filled cells.
//!
//! Every edge between a filled cell and an empty one (or the outside) becomes a boundary edge,
//! oriented with the filled cell on its left; chained end to start they close into rings that run
//! counter-clockwise around filled regions and clockwise around holes. Where two filled cells
//! touch only at a corner, the chain turns left there, so they stay separate polygons; the empty
//! cells at that corner then connect, and a chain that passes the corner twice is split there
//! into simple rings (a hole may touch its shell, or another hole, at that single point, as OGC
//! simple features allow). Collinear runs are merged. Each hole goes to the smallest outer ring
//! around it. Every polygon is valid (checked on random masks in the tests).
//!
//! Coordinates: cell `(i, j)` (column `i`, row `j`, rows counted upwards from `y0`) covers
//! `[x0 + i·cell, x0 + (i+1)·cell] × [y0 + j·cell, y0 + (j+1)·cell]`.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use std::collections::HashMap;

/// Outline of the filled cells of `mask` (`mask[j * nx + i]`), as polygons with holes.
pub fn mask_to_polygons(mask: &[bool], nx: usize, ny: usize, x0: f64, y0: f64, cell: f64) -> MultiPolygon<f64> {
    assert_eq!(mask.len(), nx * ny, "mask size");
    let filled = |i: i64, j: i64| {
        i >= 0 && j >= 0 && (i as usize) < nx && (j as usize) < ny && mask[j as usize * nx + i as usize]
    };
    // Directions: 0 east, 1 north, 2 west, 3 south.
    const STEP: [(i64, i64); 4] = [(1, 0), (0, 1), (-1, 0), (0, -1)];
    let mut edges: Vec<((i64, i64), u8)> = Vec::new();
    for j in 0..ny as i64 {
        for i in 0..nx as i64 {
            if !filled(i, j) {
                continue;
            }
            if !filled(i, j - 1) {
                edges.push(((i, j), 0));
            }
            if !filled(i + 1, j) {
                edges.push(((i + 1, j), 1));
            }
            if !filled(i, j + 1) {
                edges.push(((i + 1, j + 1), 2));
            }
            if !filled(i - 1, j) {
                edges.push(((i, j + 1), 3));
            }
        }
    }
    let mut out_of: HashMap<(i64, i64), [u32; 2]> = HashMap::with_capacity(edges.len());
    for (k, &(v, _)) in edges.iter().enumerate() {
        let slot = out_of.entry(v).or_insert([u32::MAX; 2]);
        if slot[0] == u32::MAX {
            slot[0] = k as u32;
        } else {
            slot[1] = k as u32;
        }
    }
    let mut used = vec![false; edges.len()];
    let mut rings: Vec<Vec<(i64, i64)>> = Vec::new();
    for start in 0..edges.len() {
        if used[start] {
            continue;
        }
        let mut ring: Vec<(i64, i64)> = Vec::new();
        let mut k = start;
        loop {
            used[k] = true;
            let (v, d) = edges[k];
            let prev_dir = ring_last_dir(&ring, &edges, k);
            if prev_dir != Some(d) {
                ring.push(v);
            }
            let end = (v.0 + STEP[d as usize].0, v.1 + STEP[d as usize].1);
            let next = out_of.get(&end).and_then(|cands| {
                let live: Vec<u32> = cands
                    .iter()
                    .copied()
                    .filter(|&c| c != u32::MAX && !used[c as usize])
                    .collect();
                // Prefer a left turn (keeps corner-touching cells apart), then straight.
                [(d + 1) % 4, d, (d + 3) % 4]
                    .iter()
                    .find_map(|&want| live.iter().copied().find(|&c| edges[c as usize].1 == want))
            });
            match next {
                Some(c) => k = c as usize,
                None => break,
            }
        }
        // Where empty space meets itself at a corner the chain passes a vertex twice: split there
        // into simple rings (a hole may then touch its shell at that one point, which is valid).
        rings.extend(split_at_repeats(ring).into_iter().filter(|r| r.len() > 2));
    }
    let to_xy = |p: &(i64, i64)| Coord {
        x: x0 + p.0 as f64 * cell,
        y: y0 + p.1 as f64 * cell,
    };
    let signed_area = |r: &[(i64, i64)]| -> i64 {
        let mut a = 0;
        for w in 0..r.len() {
            let (p, q) = (r[w], r[(w + 1) % r.len()]);
            a += p.0 * q.1 - q.0 * p.1;
        }
        a
    };
    let (mut outers, mut holes) = (Vec::new(), Vec::new());
    for r in rings {
        if signed_area(&r) > 0 {
            outers.push(r);
        } else {
            holes.push(r);
        }
    }
    let mut hole_of: Vec<Vec<usize>> = vec![Vec::new(); outers.len()];
    for (h, ring) in holes.iter().enumerate() {
        // A point just inside the filled side of the hole's first edge (filled is on the left).
        let (a, b) = (ring[0], ring[1]);
        let (dx, dy) = ((b.0 - a.0).signum(), (b.1 - a.1).signum());
        let probe = (
            a.0 as f64 + 0.5 * dx as f64 - 0.25 * dy as f64,
            a.1 as f64 + 0.5 * dy as f64 + 0.25 * dx as f64,
        );
        let owner = outers
            .iter()
            .enumerate()
            .filter(|(_, o)| contains(o, probe))
            .min_by_key(|(_, o)| signed_area(o))
            .map(|(i, _)| i);
        if let Some(o) = owner {
            hole_of[o].push(h);
        }
    }
    let close = |r: &[(i64, i64)]| {
        let mut pts: Vec<Coord<f64>> = r.iter().map(to_xy).collect();
        pts.push(pts[0]);
        LineString(pts)
    };
    MultiPolygon(
        outers
            .iter()
            .zip(&hole_of)
            .map(|(o, hs)| Polygon::new(close(o), hs.iter().map(|&h| close(&holes[h])).collect()))
            .collect(),
    )
}

/// Split a closed vertex chain into loops that visit no vertex twice.
fn split_at_repeats(ring: Vec<(i64, i64)>) -> Vec<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    let mut path: Vec<(i64, i64)> = Vec::with_capacity(ring.len());
    let mut at: HashMap<(i64, i64), usize> = HashMap::new();
    for v in ring {
        if let Some(&i) = at.get(&v) {
            let lobe: Vec<(i64, i64)> = path.drain(i..).collect();
            for p in &lobe {
                at.remove(p);
            }
            out.push(lobe);
        }
        at.insert(v, path.len());
        path.push(v);
    }
    out.push(path);
    out
}

/// Direction of the edge that added the ring's last vertex, if the chain continues straight.
fn ring_last_dir(ring: &[(i64, i64)], edges: &[((i64, i64), u8)], k: usize) -> Option<u8> {
    let last = *ring.last()?;
    let (v, _) = edges[k];
    // The previous edge ran from `last` to `v` (possibly through merged straight vertices).
    let (dx, dy) = ((v.0 - last.0).signum(), (v.1 - last.1).signum());
    match (dx, dy) {
        (1, 0) => Some(0),
        (0, 1) => Some(1),
        (-1, 0) => Some(2),
        (0, -1) => Some(3),
        _ => None,
    }
}

/// Even–odd point in ring test (the point is never on a grid line).
fn contains(ring: &[(i64, i64)], p: (f64, f64)) -> bool {
    let mut inside = false;
    for w in 0..ring.len() {
        let (a, b) = (ring[w], ring[(w + 1) % ring.len()]);
        let (ax, ay, bx, by) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
        if (ay > p.1) != (by > p.1) && p.0 < ax + (p.1 - ay) / (by - ay) * (bx - ax) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Area;

    fn mask(rows: &[&str]) -> (Vec<bool>, usize, usize) {
        // Rows given top first; row 0 of the mask is the bottom one.
        let ny = rows.len();
        let nx = rows[0].len();
        let mut m = vec![false; nx * ny];
        for (t, r) in rows.iter().enumerate() {
            for (i, c) in r.chars().enumerate() {
                m[(ny - 1 - t) * nx + i] = c == '#';
            }
        }
        (m, nx, ny)
    }

    #[test]
    fn outlines_have_the_cells_area_holes_and_separate_diagonals() {
        let (m, nx, ny) = mask(&["#####...", "#...#..#", "#.#.#.#.", "#...#...", "#####..."]);
        let mp = mask_to_polygons(&m, nx, ny, 100.0, 200.0, 10.0);
        let cells = m.iter().filter(|&&b| b).count() as f64;
        assert!((mp.unsigned_area() - cells * 100.0).abs() < 1e-9);
        // The ring with a hole (and an island inside it), and two diagonal single cells.
        assert_eq!(mp.0.len(), 4);
        let ring = mp.0.iter().find(|p| !p.interiors().is_empty()).unwrap();
        assert_eq!(ring.interiors().len(), 1);
        assert_eq!(
            ring.exterior().0.len(),
            5,
            "a square ring has 4 corners (+ closing point)"
        );
        assert!((ring.unsigned_area() - (25.0 - 9.0) * 100.0).abs() < 1e-9);
        let singles = mp.0.iter().filter(|p| (p.unsigned_area() - 100.0).abs() < 1e-9).count();
        assert_eq!(singles, 3);
    }

    #[test]
    fn random_masks_give_valid_polygons_with_the_cells_area() {
        use geo::Validation;
        let mut seed = 17u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for k in 0..2000 {
            let (nx, ny) = (2 + k % 7, 2 + (k / 7) % 6);
            let fill = 0.3 + 0.5 * rnd();
            let m: Vec<bool> = (0..nx * ny).map(|_| rnd() < fill).collect();
            let mp = mask_to_polygons(&m, nx, ny, 0.0, 0.0, 1.0);
            assert!(
                mp.is_valid(),
                "mask {k} ({nx}×{ny}) {m:?}: {:?}",
                mp.validation_errors()
            );
            let cells = m.iter().filter(|&&b| b).count() as f64;
            assert!((mp.unsigned_area() - cells).abs() < 1e-9, "mask {k}");
        }
        // The reviewer's two cases: a figure-8 hole and a shell touching itself.
        for rows in [["####", "#.##", "##.#", "####"], ["....", ".##.", ".#.#", ".###"]] {
            let (m, nx, ny) = mask(&rows);
            let mp = mask_to_polygons(&m, nx, ny, 0.0, 0.0, 1.0);
            assert!(mp.is_valid(), "{rows:?}: {:?}", mp.validation_errors());
        }
    }

    #[test]
    fn empty_and_full_masks() {
        assert!(mask_to_polygons(&[false; 6], 3, 2, 0.0, 0.0, 1.0).0.is_empty());
        let full = mask_to_polygons(&[true; 6], 3, 2, 0.0, 0.0, 1.0);
        assert_eq!(full.0.len(), 1);
        assert_eq!(full.0[0].exterior().0.len(), 5);
        assert!((full.unsigned_area() - 6.0).abs() < 1e-12);
    }
}
