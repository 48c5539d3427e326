//! Distances on the Earth and a local metric projection.
//!
//! Great-circle distances use the haversine formula on a sphere of the IUGG mean radius
//! R₁ = 6 371 008.8 m (Moritz 2000, *Geodetic Reference System 1980*). Over the few kilometres of
//! a shelter service area the spherical error is below 0.5 %, far under the uncertainty of road
//! geometry in the source data.
//!
//! [`LocalProjection`] is an equirectangular projection about a reference latitude, used where
//! a planar metric is needed (nearest segment, point on segment). Its east–west scale error grows
//! with the distance from the reference latitude: about tan(lat0)·Δlat, i.e. below 0.1 % within
//! ±7 km and about 0.7 % at ±50 km near 40° N. That only affects snap distances (metres between a
//! point and its road), not route lengths, which come from the edges' own lengths. The formula is
//! documented so that independent reference implementations reproduce snapping exactly.

/// IUGG mean Earth radius R₁ in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Haversine great-circle distance in metres between two lon/lat points in degrees.
pub fn haversine_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// Equirectangular projection about (`lon0`, `lat0`):
/// `x = R·cos(lat0)·(lon − lon0)`, `y = R·(lat − lat0)`, angles in radians, metres out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalProjection {
    pub lon0: f64,
    pub lat0: f64,
    kx: f64,
    ky: f64,
}

impl LocalProjection {
    pub fn new(lon0: f64, lat0: f64) -> Self {
        let ky = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        LocalProjection {
            lon0,
            lat0,
            kx: ky * lat0.to_radians().cos(),
            ky,
        }
    }

    /// Centred on the middle of a bounding box of lon/lat points (`(min+max)/2` on each axis).
    pub fn for_points(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Self> {
        let mut it = points.into_iter();
        let (x0, y0) = it.next()?;
        let (mut minx, mut maxx, mut miny, mut maxy) = (x0, x0, y0, y0);
        for (x, y) in it {
            minx = minx.min(x);
            maxx = maxx.max(x);
            miny = miny.min(y);
            maxy = maxy.max(y);
        }
        Some(LocalProjection::new((minx + maxx) / 2.0, (miny + maxy) / 2.0))
    }

    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky)
    }

    pub fn unproject(&self, x: f64, y: f64) -> (f64, f64) {
        (self.lon0 + x / self.kx, self.lat0 + y / self.ky)
    }
}

/// The point of segment `a`–`b` nearest to `p` (planar): returns (fraction t ∈ [0, 1] from `a`,
/// distance from `p`).
pub fn nearest_on_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a.0 + t * dx, a.1 + t * dy);
    (t, ((p.0 - qx).powi(2) + (p.1 - qy).powi(2)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_one_degree_of_latitude() {
        // One degree of arc on the mean sphere: R·π/180.
        let d = haversine_m(116.0, 39.0, 116.0, 40.0);
        assert!((d - 111_195.08).abs() < 0.01, "{d}");
    }

    #[test]
    fn local_projection_round_trips_and_matches_haversine_nearby() {
        let p = LocalProjection::new(116.4, 39.9);
        let (x, y) = p.project(116.41, 39.91);
        let (lon, lat) = p.unproject(x, y);
        assert!((lon - 116.41).abs() < 1e-12 && (lat - 39.91).abs() < 1e-12);
        let planar = (x * x + y * y).sqrt();
        let great = haversine_m(116.4, 39.9, 116.41, 39.91);
        assert!((planar - great).abs() / great < 1e-3, "{planar} vs {great}");
    }

    #[test]
    fn nearest_on_segment_clamps() {
        assert_eq!(nearest_on_segment((5.0, 1.0), (0.0, 0.0), (10.0, 0.0)), (0.5, 1.0));
        assert_eq!(nearest_on_segment((-3.0, 4.0), (0.0, 0.0), (10.0, 0.0)), (0.0, 5.0));
    }
}
