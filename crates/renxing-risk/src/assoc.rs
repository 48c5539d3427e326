//! Attaching assets to hazard sites.
//!
//! As in OpenQuake: assets outside the job's `region` polygon (when given) are discarded; every
//! other asset is attached to its nearest hazard site (great-circle distance, Earth radius
//! 6,371 km) when that site lies within `asset_hazard_distance` km (default 15 km), and discarded
//! otherwise — discarded assets are counted and listed, not silently lost. The assets kept are
//! ordered by site, then by their order in the exposure.

use renxing_geo::distance::haversine_m;

/// Result of the association.
#[derive(Debug, Clone, Default)]
pub struct Association {
    /// Indices of the kept assets into the exposure, ordered by site then exposure order.
    pub assets: Vec<usize>,
    /// The site of each kept asset (aligned with `assets`).
    pub site_of: Vec<usize>,
    /// Assets farther than the distance from every site.
    pub too_far: Vec<usize>,
    /// Assets outside the region.
    pub outside_region: Vec<usize>,
}

/// Whether a point lies strictly inside a ring of (lon, lat) vertices (even–odd rule). Points on
/// the boundary are **not** inside — OpenQuake's region test (`within`) drops them too.
pub fn in_ring(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        // On the edge (collinear and within its bounding box): outside.
        let cross = (xj - xi) * (y - yi) - (yj - yi) * (x - xi);
        if cross == 0.0 && x >= xi.min(xj) && x <= xi.max(xj) && y >= yi.min(yj) && y <= yi.max(yj) {
            return false;
        }
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Parses OpenQuake's `region` value: `lon lat, lon lat, …` (at least three vertices).
pub fn parse_region(text: &str) -> Result<Vec<(f64, f64)>, String> {
    let mut ring = Vec::new();
    for pair in text.split(',') {
        let nums: Vec<&str> = pair.split_whitespace().collect();
        if nums.len() != 2 {
            return Err(format!("'{}' is not a 'lon lat' pair", pair.trim()));
        }
        let lon: f64 = nums[0].parse().map_err(|_| format!("'{}' is not a number", nums[0]))?;
        let lat: f64 = nums[1].parse().map_err(|_| format!("'{}' is not a number", nums[1]))?;
        ring.push((lon, lat));
    }
    if ring.len() < 3 {
        return Err(format!("a region needs at least 3 vertices, found {}", ring.len()));
    }
    Ok(ring)
}

/// Associates asset positions with sites. `max_km` is the association distance.
pub fn associate(
    asset_pos: &[(f64, f64)],
    site_lon: &[f64],
    site_lat: &[f64],
    max_km: f64,
    region: Option<&[(f64, f64)]>,
) -> Association {
    let grid = SiteGrid::new(site_lon, site_lat, max_km);
    let mut out = Association::default();
    let mut pairs: Vec<(usize, usize)> = Vec::with_capacity(asset_pos.len());
    for (i, &(lon, lat)) in asset_pos.iter().enumerate() {
        if let Some(r) = region
            && !in_ring(r, lon, lat)
        {
            out.outside_region.push(i);
            continue;
        }
        match grid.nearest_within(lon, lat, site_lon, site_lat, max_km * 1000.0) {
            Some((s, _)) => pairs.push((s, i)),
            None => out.too_far.push(i),
        }
    }
    pairs.sort_by_key(|&(s, i)| (s, i));
    out.assets = pairs.iter().map(|p| p.1).collect();
    out.site_of = pairs.iter().map(|p| p.0).collect();
    out
}

/// A uniform longitude/latitude bucket grid over the sites for nearest-site queries.
struct SiteGrid {
    cell: f64,
    buckets: std::collections::HashMap<(i64, i64), Vec<usize>>,
}

impl SiteGrid {
    fn new(lon: &[f64], lat: &[f64], max_km: f64) -> SiteGrid {
        // A cell spans at least the association distance in latitude (1° ≥ 110.5 km).
        let cell = (max_km / 110.0).max(0.01);
        let mut buckets: std::collections::HashMap<(i64, i64), Vec<usize>> = std::collections::HashMap::new();
        for (i, (&x, &y)) in lon.iter().zip(lat).enumerate() {
            buckets
                .entry(((x / cell).floor() as i64, (y / cell).floor() as i64))
                .or_default()
                .push(i);
        }
        SiteGrid { cell, buckets }
    }

    /// Nearest site within `max_m` metres: every site that close lies in the cells one row above
    /// or below and `⌈2 / cos φ⌉` columns either side (longitude degrees shrink with cos φ).
    fn nearest_within(&self, x: f64, y: f64, lon: &[f64], lat: &[f64], max_m: f64) -> Option<(usize, f64)> {
        let cx = (x / self.cell).floor() as i64;
        let cy = (y / self.cell).floor() as i64;
        let coslat = (y.abs() + self.cell).min(89.9).to_radians().cos().max(0.005);
        let rlon = (2.0 / coslat).ceil() as i64;
        let mut best: Option<(usize, f64)> = None;
        for dy in -2..=2 {
            for dx in -rlon..=rlon {
                if let Some(b) = self.buckets.get(&(cx + dx, cy + dy)) {
                    for &i in b {
                        let d = haversine_m(x, y, lon[i], lat[i]);
                        if d <= max_m && best.is_none_or(|(bi, bd)| d < bd || (d == bd && i < bi)) {
                            best = Some((i, d));
                        }
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_within_distance_and_region() {
        let sl = [15.56, 15.0];
        let sa = [38.17, 38.0];
        let assets = [(15.48, 38.09), (15.56, 38.17), (15.48, 38.25), (17.0, 40.0)];
        let a = associate(&assets, &sl, &sa, 15.0, None);
        assert_eq!(a.too_far, vec![3]);
        assert_eq!(a.assets, vec![0, 1, 2]);
        assert_eq!(a.site_of, vec![0, 0, 0]);
        let region = parse_region("15.48 38.30, 15.63 38.30,  15.63 38.01,  15.48 38.01").unwrap();
        let a = associate(&assets, &sl, &sa, 15.0, Some(&region));
        // (15.48, …) lies on the region's western edge: outside, as in OpenQuake.
        assert_eq!(a.outside_region, vec![0, 2, 3]);
        // brute-force agreement on a spread of points
        let sl: Vec<f64> = (0..200).map(|i| 80.0 + (i as f64 * 0.377) % 9.0).collect();
        let sa: Vec<f64> = (0..200).map(|i| 26.0 + (i as f64 * 0.613) % 4.0).collect();
        let pts: Vec<(f64, f64)> = (0..300)
            .map(|i| (80.0 + (i as f64 * 0.291) % 9.0, 26.0 + (i as f64 * 0.517) % 4.0))
            .collect();
        let a = associate(&pts, &sl, &sa, 50.0, None);
        for (k, &i) in a.assets.iter().enumerate() {
            let (x, y) = pts[i];
            let best = (0..sl.len())
                .min_by(|&p, &q| haversine_m(x, y, sl[p], sa[p]).total_cmp(&haversine_m(x, y, sl[q], sa[q])))
                .unwrap();
            assert_eq!(
                haversine_m(x, y, sl[best], sa[best]),
                haversine_m(x, y, sl[a.site_of[k]], sa[a.site_of[k]])
            );
        }
    }
}
