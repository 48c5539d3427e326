//! Spherical-earth geodesy used by the rupture distances: a sphere of radius 6371 km, as
//! OpenQuake's hazardlib uses, so that distances agree with it to rounding.
//!
//! Great-circle distance by the haversine formula; initial azimuth by the standard spherical
//! course formula; forward point from (azimuth, distance); signed distance to a great circle
//! through a point with a given azimuth from the spherical right triangle
//! `sin(d_perp / R) = sin(θ) · sin(d / R)` (θ the angle from the arc to the direction to the
//! target, clockwise, so the distance is positive on the right); Earth-centred Cartesian coordinates for points at depth.

/// Earth radius, km.
pub(crate) const EARTH_RADIUS: f64 = 6371.0;

/// Great-circle distance (km) between two points given in degrees.
pub(crate) fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (l1, p1, l2, p2) = (
        lon1.to_radians(),
        lat1.to_radians(),
        lon2.to_radians(),
        lat2.to_radians(),
    );
    let a = ((p1 - p2) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((l1 - l2) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// Initial azimuth (degrees clockwise from north, [0, 360)) from point 1 to point 2.
pub(crate) fn azimuth(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (l1, p1, l2, p2) = (
        lon1.to_radians(),
        lat1.to_radians(),
        lon2.to_radians(),
        lat2.to_radians(),
    );
    let tc = ((l1 - l2).sin() * p2.cos()).atan2(p1.cos() * p2.sin() - p1.sin() * p2.cos() * (l1 - l2).cos());
    (360.0 - tc.to_degrees()).rem_euclid(360.0)
}

/// The point at `dist` km from (lon, lat) along the great circle leaving it at `azimuth` degrees.
pub(crate) fn point_at(lon: f64, lat: f64, azimuth: f64, dist: f64) -> (f64, f64) {
    let (l, p) = (lon.to_radians(), lat.to_radians());
    let tc = (360.0 - azimuth).to_radians();
    let (sd, cd) = ((dist / EARTH_RADIUS).sin(), (dist / EARTH_RADIUS).cos());
    let sin_lat = p.sin() * cd + p.cos() * sd * tc.cos();
    let dlon = (tc.sin() * sd * p.cos()).atan2(cd - p.sin() * sin_lat);
    let lon2 = (l - dlon + std::f64::consts::PI).rem_euclid(2.0 * std::f64::consts::PI) - std::f64::consts::PI;
    (lon2.to_degrees(), sin_lat.asin().to_degrees())
}

/// Signed distance (km) from a point to the great circle through (alon, alat) with azimuth `az`:
/// positive on the right of the arc's direction (clockwise side), negative on the left, as
/// OpenQuake's `distance_to_arc` computes it (so Rx is positive on the down-dip side).
pub(crate) fn distance_to_arc(alon: f64, alat: f64, az: f64, plon: f64, plat: f64) -> f64 {
    let t_angle = (azimuth(alon, alat, plon, plat) - az).to_radians();
    let d = distance(alon, alat, plon, plat);
    let angle = (t_angle.sin() * (d / EARTH_RADIUS).sin()).clamp(-1.0, 1.0).acos();
    (std::f64::consts::FRAC_PI_2 - angle) * EARTH_RADIUS
}

/// Earth-centred Cartesian coordinates (km) of a point at `depth` km below the sphere.
pub(crate) fn to_xyz(lon: f64, lat: f64, depth: f64) -> [f64; 3] {
    let (l, p) = (lon.to_radians(), lat.to_radians());
    let r = EARTH_RADIUS - depth;
    [r * p.cos() * l.cos(), r * p.cos() * l.sin(), r * p.sin()]
}

pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub(crate) fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

pub(crate) fn normalized(a: [f64; 3]) -> [f64; 3] {
    let n = norm(a);
    [a[0] / n, a[1] / n, a[2] / n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude_is_111_19_km() {
        assert!((distance(0.0, 0.0, 0.0, 1.0) - 111.194_926_6).abs() < 1e-6);
    }

    #[test]
    fn point_at_inverts_distance_and_azimuth() {
        let (lon, lat) = point_at(84.4, 27.6, 123.0, 57.0);
        assert!((distance(84.4, 27.6, lon, lat) - 57.0).abs() < 1e-9);
        assert!((azimuth(84.4, 27.6, lon, lat) - 123.0).abs() < 1e-9);
    }

    #[test]
    fn arc_distance_is_positive_on_the_right() {
        // An arc heading north along the prime meridian: a point to the east is on the right.
        let east = distance_to_arc(0.0, 0.0, 0.0, 0.5, 0.5);
        let west = distance_to_arc(0.0, 0.0, 0.0, -0.5, 0.5);
        assert!(east > 0.0 && west < 0.0);
        assert!((east.abs() - distance(0.0, 0.5, 0.5, 0.5)).abs() < 0.01);
    }
}
