//! Coordinate reference systems of Chinese planning data, and conversion to WGS84.
//!
//! Every importer of Renxing converts coordinates to WGS84 longitude/latitude (degrees) on the way
//! in. The systems met in practice are:
//!
//! | [`Crs`] | where it comes from | conversion |
//! |---|---|---|
//! | `Wgs84` (EPSG:4326) | GPS, OpenStreetMap, WorldPop | identity |
//! | `Cgcs2000` (EPSG:4490) | official surveying and planning data, Tianditu | identity: CGCS2000 and WGS84 agree to a few centimetres |
//! | `Gcj02` | Amap (高德), Tencent, Google China | exact inverse of the public GCJ-02 formula ([`gcj02_to_wgs84`]) |
//! | `Bd09` | Baidu | BD-09 → GCJ-02 → WGS84 ([`bd09_to_wgs84`]) |
//! | `Epsg(code)` | projected data: Web Mercator (EPSG:3857), CGCS2000 Gauss–Krüger zones (EPSG:4513–4554), UTM… | `proj4rs` with the PROJ.4 definition of the code from `crs-definitions` |
//!
//! ## The GCJ-02 formula
//!
//! GCJ-02 adds to a WGS84 position a smooth, deliberately irregular offset of 300–900 m. The
//! offset used here is the public reconstruction of the formula: two polynomial-plus-sine
//! functions of `x = lon − 105°`, `y = lat − 35°` give an offset in metres-like units, which is
//! turned into degrees with the radii of curvature of the Krasovsky 1940 ellipsoid
//! (a = 6 378 245 m, e² = 0.006 693 421 622 965 943 23) at the point's latitude.
//!
//! **Where the offset applies.** Only inside China's rough bounding box, longitude
//! 72.004°–137.8347° E and latitude 0.8293°–55.8271° N (bounds inclusive). Outside it GCJ-02 is
//! WGS84 and every conversion here is the identity. The box is coarse (it covers parts of
//! neighbouring countries); it is the rule used by the public implementations, so files shifted by
//! them are undone consistently. For the inverse the rule is tested on the GCJ-02 input.
//!
//! **Inverse.** There is no closed form. [`gcj02_to_wgs84`] solves `forward(w) = g` by fixed-point
//! iteration `w ← w − (forward(w) − g)`, starting from `w = g`, until both coordinates of the
//! residual are below 1e-9° (≈ 0.1 mm); the offset changes by less than 1e-4 per degree, so each
//! step gains about four digits and two or three steps suffice.
//!
//! ## BD-09
//!
//! BD-09 is GCJ-02 rotated and scaled slightly about the origin and shifted by
//! (0.0065°, 0.006°): with `k = π·3000/180`, `z = √(x²+y²) + 2e-5·sin(y·k)`,
//! `θ = atan2(y, x) + 3e-6·cos(x·k)`, `bd = (z·cos θ + 0.0065, z·sin θ + 0.006)`.
//! [`bd09_to_gcj02`] starts from the usual closed-form approximate inverse and refines it by the
//! same fixed-point iteration to 1e-9°, so a BD-09 → GCJ-02 → BD-09 round trip is exact to that
//! tolerance. Baidu applies BD-09 everywhere (no bounding box).
//!
//! ## EPSG codes
//!
//! [`Transformer::to_wgs84`] looks the code up in `crs-definitions` (the EPSG registry's PROJ.4
//! strings); a code missing there, or a definition `proj4rs` cannot build (e.g. one needing a
//! grid-shift file), is a [`CrsError`]. Projected input is `x` = easting, `y` = northing in the
//! unit of the definition (metres for 3857 and Gauss–Krüger); geographic input is lon, lat in
//! degrees. EPSG:4326 and EPSG:4490 are the identity.

use std::fmt;
use std::str::FromStr;
/// A coordinate reference system an input may be declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Crs {
    /// WGS84 longitude/latitude (EPSG:4326).
    #[default]
    Wgs84,
    /// CGCS2000 longitude/latitude (EPSG:4490); treated as WGS84 (they differ by centimetres).
    Cgcs2000,
    /// GCJ-02, the obfuscated datum of Amap / Tencent / Google China maps.
    Gcj02,
    /// BD-09, Baidu's datum (GCJ-02 further shifted).
    Bd09,
    /// Any EPSG code (projected or geographic), e.g. `EPSG:3857`, `EPSG:4547`.
    Epsg(u32),
}

/// A CRS name that is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown coordinate system '{0}': use wgs84, gcj02, bd09, cgcs2000 or EPSG:<code>")]
pub struct UnknownCrs(pub String);

impl FromStr for Crs {
    type Err = UnknownCrs;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "wgs84" | "wgs-84" | "epsg:4326" => Ok(Crs::Wgs84),
            "cgcs2000" | "epsg:4490" => Ok(Crs::Cgcs2000),
            "gcj02" | "gcj-02" => Ok(Crs::Gcj02),
            "bd09" | "bd-09" => Ok(Crs::Bd09),
            _ => t
                .strip_prefix("epsg:")
                .and_then(|c| c.parse::<u32>().ok())
                .map(Crs::Epsg)
                .ok_or_else(|| UnknownCrs(s.to_string())),
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Crs::Wgs84 => write!(f, "wgs84"),
            Crs::Cgcs2000 => write!(f, "cgcs2000"),
            Crs::Gcj02 => write!(f, "gcj02"),
            Crs::Bd09 => write!(f, "bd09"),
            Crs::Epsg(c) => write!(f, "EPSG:{c}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GCJ-02 and BD-09
// ---------------------------------------------------------------------------------------------

/// Semi-major axis of the Krasovsky 1940 ellipsoid used by the GCJ-02 formula, metres.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid, written as the public formula
/// gives it (more digits than an f64 holds).
#[allow(clippy::excessive_precision)]
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943_23;
/// Convergence tolerance of the iterative inverses, degrees.
const INVERSE_TOL_DEG: f64 = 1e-9;
/// Iteration cap of the inverses (convergence takes 2–4 steps; the cap guards NaN input).
const INVERSE_MAX_ITER: usize = 50;
/// Scale factor of the BD-09 perturbation: π·3000/180.
const BD_K: f64 = std::f64::consts::PI * 3000.0 / 180.0;

/// Whether GCJ-02 leaves the point unshifted: outside lon 72.004–137.8347, lat 0.8293–55.8271.
///
/// Non-finite coordinates count as outside, so they pass through unchanged.
pub fn outside_china(lon: f64, lat: f64) -> bool {
    !((72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat))
}

fn gcj_offset_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn gcj_offset_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The GCJ-02 offset (Δlon, Δlat) in degrees to add to a WGS84 point inside the box.
fn gcj_delta(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let dlat = gcj_offset_lat(lon - 105.0, lat - 35.0);
    let dlon = gcj_offset_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat.to_radians();
    let s = rad_lat.sin();
    let w2 = 1.0 - KRASOVSKY_EE * s * s;
    let w = w2.sqrt();
    // meridian radius M = a(1−e²)/W³, prime-vertical radius N = a/W
    let m = KRASOVSKY_A * (1.0 - KRASOVSKY_EE) / (w2 * w);
    let n = KRASOVSKY_A / w;
    (dlon * 180.0 / (n * rad_lat.cos() * PI), dlat * 180.0 / (m * PI))
}

/// WGS84 → GCJ-02 (the forward formula). Identity outside China's box (see module doc).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (dx, dy) = gcj_delta(lon, lat);
    (lon + dx, lat + dy)
}

/// Solves `f(p) = target` for `p` by `p ← p − (f(p) − target)` from `start`, to 1e-9°.
fn fixed_point_inverse(target: (f64, f64), start: (f64, f64), f: impl Fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut x, mut y) = start;
    for _ in 0..INVERSE_MAX_ITER {
        let (fx, fy) = f(x, y);
        let (ex, ey) = (fx - target.0, fy - target.1);
        x -= ex;
        y -= ey;
        if ex.abs() < INVERSE_TOL_DEG && ey.abs() < INVERSE_TOL_DEG {
            break;
        }
    }
    (x, y)
}

/// GCJ-02 → WGS84, the exact inverse of [`wgs84_to_gcj02`] to 1e-9° by fixed-point iteration.
/// Identity when the GCJ-02 point is outside China's box.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    fixed_point_inverse((lon, lat), (lon, lat), |x, y| {
        let (dx, dy) = gcj_delta(x, y);
        (x + dx, y + dy)
    })
}

/// GCJ-02 → BD-09 (Baidu's forward formula; see module doc).
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * BD_K).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * BD_K).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02: the closed-form approximate inverse, refined to 1e-9° by iteration.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * BD_K).sin();
    let theta = y.atan2(x) - 0.000003 * (x * BD_K).cos();
    let start = (z * theta.cos(), z * theta.sin());
    fixed_point_inverse((lon, lat), start, gcj02_to_bd09)
}

/// BD-09 → WGS84 (through GCJ-02).
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (g_lon, g_lat) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(g_lon, g_lat)
}

/// WGS84 → BD-09 (through GCJ-02).
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(g_lon, g_lat)
}

// ---------------------------------------------------------------------------------------------
// Transformer
// ---------------------------------------------------------------------------------------------

/// Why a coordinate system or a coordinate could not be converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrsError {
    /// The EPSG code has no definition in the bundled EPSG registry.
    #[error("EPSG:{0} is not a known EPSG code (no definition in the bundled EPSG registry)")]
    UnknownEpsg(u32),
    /// The definition exists but `proj4rs` cannot use it.
    #[error("EPSG:{code} ('{definition}') is not supported: {reason}")]
    UnsupportedEpsg {
        code: u32,
        definition: String,
        reason: String,
    },
    /// An input coordinate is NaN or infinite.
    #[error("coordinate ({x}, {y}) is not a finite number")]
    NonFinite { x: f64, y: f64 },
    /// A geographic input is outside −180…180 / −90…90 degrees.
    #[error("({x}, {y}) is not a longitude/latitude in degrees (declared {crs}): out of range")]
    OutOfRange { x: f64, y: f64, crs: Crs },
    /// The projection library failed on this point.
    #[error("cannot convert ({x}, {y}) from {crs} to WGS84: {reason}")]
    Projection { x: f64, y: f64, crs: Crs, reason: String },
}

enum Kind {
    Identity,
    Gcj02,
    Bd09,
    Proj {
        src: Box<proj4rs::Proj>,
        dst: Box<proj4rs::Proj>,
        src_latlong: bool,
    },
}

/// Converts coordinates of one [`Crs`] to WGS84 longitude/latitude in degrees.
///
/// Built once per input file ([`Transformer::to_wgs84`]) and applied to every vertex.
pub struct Transformer {
    crs: Crs,
    kind: Kind,
}

impl fmt::Debug for Transformer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transformer")
            .field("from", &self.crs)
            .field("to", &"wgs84")
            .finish()
    }
}

impl Transformer {
    /// A transformer from `crs` to WGS84; an EPSG code unknown to the registry, or one whose
    /// definition `proj4rs` cannot build, is an error.
    pub fn to_wgs84(crs: Crs) -> Result<Transformer, CrsError> {
        let kind = match crs {
            Crs::Wgs84 | Crs::Cgcs2000 | Crs::Epsg(4326) | Crs::Epsg(4490) => Kind::Identity,
            Crs::Gcj02 => Kind::Gcj02,
            Crs::Bd09 => Kind::Bd09,
            Crs::Epsg(code) => {
                let def = u16::try_from(code)
                    .ok()
                    .and_then(crs_definitions::from_code)
                    .ok_or(CrsError::UnknownEpsg(code))?;
                let unsupported = |e: proj4rs::errors::Error| CrsError::UnsupportedEpsg {
                    code,
                    definition: def.proj4.to_string(),
                    reason: e.to_string(),
                };
                let src = proj4rs::Proj::from_proj_string(def.proj4).map_err(unsupported)?;
                let dst =
                    proj4rs::Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").map_err(unsupported)?;
                let src_latlong = src.is_latlong();
                Kind::Proj {
                    src: Box::new(src),
                    dst: Box::new(dst),
                    src_latlong,
                }
            }
        };
        Ok(Transformer { crs, kind })
    }

    /// The system this transformer converts from.
    pub fn source(&self) -> Crs {
        self.crs
    }

    /// Whether the conversion is the identity (WGS84, CGCS2000, EPSG:4326/4490).
    pub fn is_identity(&self) -> bool {
        matches!(self.kind, Kind::Identity)
    }

    /// Converts one point (`x` = lon or easting, `y` = lat or northing) to WGS84 (lon, lat).
    ///
    /// Non-finite input, geographic input out of range, and projection failures are errors;
    /// so is a result that is not a valid longitude/latitude.
    pub fn apply(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        if !x.is_finite() || !y.is_finite() {
            return Err(CrsError::NonFinite { x, y });
        }
        let geographic_in = match &self.kind {
            Kind::Proj { src_latlong, .. } => *src_latlong,
            _ => true,
        };
        if geographic_in && !((-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)) {
            return Err(CrsError::OutOfRange { x, y, crs: self.crs });
        }
        let out = match &self.kind {
            Kind::Identity => (x, y),
            Kind::Gcj02 => gcj02_to_wgs84(x, y),
            Kind::Bd09 => bd09_to_wgs84(x, y),
            Kind::Proj { src, dst, src_latlong } => {
                let p = if *src_latlong {
                    (x.to_radians(), y.to_radians())
                } else {
                    (x, y)
                };
                let (lon, lat) =
                    proj4rs::adaptors::transform_xy(src, dst, p.0, p.1).map_err(|e| CrsError::Projection {
                        x,
                        y,
                        crs: self.crs,
                        reason: e.to_string(),
                    })?;
                (lon.to_degrees(), lat.to_degrees())
            }
        };
        if !out.0.is_finite()
            || !out.1.is_finite()
            || !(-180.0..=180.0).contains(&out.0)
            || !(-90.0..=90.0).contains(&out.1)
        {
            return Err(CrsError::Projection {
                x,
                y,
                crs: self.crs,
                reason: format!("result ({}, {}) is not a longitude/latitude", out.0, out.1),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::haversine_m;
    use std::path::PathBuf;

    /// Rows of a small numeric CSV as (header, rows of fields).
    fn read_csv(p: &PathBuf) -> (Vec<String>, Vec<Vec<String>>) {
        let text = std::fs::read_to_string(p).expect("readable test file");
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines
            .next()
            .expect("header")
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        let rows = lines
            .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
            .collect();
        (header, rows)
    }

    fn col(header: &[String], name: &str) -> usize {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name} in {header:?}"))
    }

    #[test]
    fn transformer_is_send_and_sync() {
        // importers share one transformer across threads
        fn check<T: Send + Sync>() {}
        check::<Transformer>();
    }

    #[test]
    fn gcj_inverse_is_exact_inverse_of_forward() {
        // Tiananmen; the inverse must reproduce the input to the iteration tolerance.
        let (lon, lat) = (116.3975, 39.9087);
        let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
        // the offset is hundreds of metres
        let shift = haversine_m(lon, lat, g_lon, g_lat);
        assert!((300.0..900.0).contains(&shift), "GCJ shift {shift} m");
        let (w_lon, w_lat) = gcj02_to_wgs84(g_lon, g_lat);
        assert!(
            (w_lon - lon).abs() < 1e-8 && (w_lat - lat).abs() < 1e-8,
            "{w_lon} {w_lat}"
        );
    }

    #[test]
    fn outside_china_is_identity() {
        // Helsinki, and a point west of the box
        assert_eq!(wgs84_to_gcj02(24.94, 60.17), (24.94, 60.17));
        assert_eq!(gcj02_to_wgs84(24.94, 60.17), (24.94, 60.17));
        assert_eq!(gcj02_to_wgs84(70.0, 30.0), (70.0, 30.0));
        assert!(outside_china(f64::NAN, 30.0));
    }

    #[test]
    fn testvectors_cnmaps_within_one_metre() {
        let Some(p) = crate::shared_data::file("cn/admin/gcj02_wgs84_testvectors_cnmaps.csv") else {
            return;
        };
        let (h, rows) = read_csv(&p);
        let (wl, wa, gl, ga) = (
            col(&h, "wgs_lon"),
            col(&h, "wgs_lat"),
            col(&h, "gcj_lon"),
            col(&h, "gcj_lat"),
        );
        assert_eq!(rows.len(), 209);
        let mut max_inv = 0.0f64;
        let mut max_fwd = 0.0f64;
        for r in &rows {
            let f = |i: usize| r[i].parse::<f64>().expect("number");
            let (w_lon, w_lat) = gcj02_to_wgs84(f(gl), f(ga));
            max_inv = max_inv.max(haversine_m(w_lon, w_lat, f(wl), f(wa)));
            let (g_lon, g_lat) = wgs84_to_gcj02(f(wl), f(wa));
            max_fwd = max_fwd.max(haversine_m(g_lon, g_lat, f(gl), f(ga)));
        }
        eprintln!("cnmaps test vectors: max GCJ→WGS error {max_inv:.4} m, max WGS→GCJ error {max_fwd:.4} m");
        assert!(max_inv < 1.0, "max GCJ→WGS84 error {max_inv} m");
        // the vectors are printed to 8 decimals (≈1 mm); forward must agree to that rounding
        assert!(max_fwd < 0.01, "max WGS84→GCJ error {max_fwd} m");
    }

    #[test]
    fn bd09_round_trip() {
        let pts = [
            (116.3975, 39.9087),
            (113.6654, 34.7579),
            (121.4737, 31.2304),
            (87.6, 43.8),
        ];
        for (lon, lat) in pts {
            let (b_lon, b_lat) = wgs84_to_bd09(lon, lat);
            // BD-09 is further from WGS84 than GCJ-02 (≈ 1 km in the east)
            assert!(haversine_m(lon, lat, b_lon, b_lat) > 300.0);
            let (w_lon, w_lat) = bd09_to_wgs84(b_lon, b_lat);
            let err = haversine_m(lon, lat, w_lon, w_lat);
            assert!(err < 1e-3, "round trip error {err} m at {lon},{lat}");
            let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
            let (g2_lon, g2_lat) = bd09_to_gcj02(b_lon, b_lat);
            assert!((g_lon - g2_lon).abs() < 1e-8 && (g_lat - g2_lat).abs() < 1e-8);
        }
    }

    #[test]
    fn bd09_matches_henan_flood_file() {
        // The Henan flood help requests carry BD-09, GCJ-02 and WGS84 columns of the same point
        // (converted by the data's authors with the usual formulas, 6 decimals ≈ 0.1 m).
        let Some(p) = crate::shared_data::file("cn/zhengzhou/henan_flood_2021_weibo_requests_geocoded.csv") else {
            return;
        };
        let text = std::fs::read_to_string(&p).expect("readable");
        let mut rdr = text.lines();
        let header: Vec<&str> = rdr.next().expect("header").split(',').collect();
        let idx = |n: &str| header.iter().position(|h| *h == n).expect("column");
        let (bl, ba, gl, ga) = (idx("lng_bd09"), idx("lat_bd09"), idx("lng_gcj02"), idx("lat_gcj02"));
        let mut max_err = 0.0f64;
        let mut n = 0;
        for line in rdr {
            // the time and address columns contain no commas; skip any odd row
            let f: Vec<&str> = line.split(',').collect();
            if f.len() != header.len() {
                continue;
            }
            let v = |i: usize| f[i].parse::<f64>().ok();
            let (Some(b0), Some(b1), Some(g0), Some(g1)) = (v(bl), v(ba), v(gl), v(ga)) else {
                continue;
            };
            let (c0, c1) = bd09_to_gcj02(b0, b1);
            max_err = max_err.max(haversine_m(c0, c1, g0, g1));
            n += 1;
        }
        eprintln!("henan flood file: {n} points, max BD-09→GCJ-02 difference {max_err:.3} m");
        assert!(n > 1000, "{n} rows read");
        assert!(max_err < 2.0, "max BD-09→GCJ-02 difference {max_err} m");
    }

    #[test]
    fn beijing_shelters_declared_gcj02_within_5m_of_wgs84() {
        let Some(p) = crate::shared_data::file("cn/beijing/shelters_myshelter.csv") else {
            return;
        };
        let (h, rows) = read_csv(&p);
        let (gl, ga, wl, wa) = (
            col(&h, "lon_gcj02"),
            col(&h, "lat_gcj02"),
            col(&h, "lon_wgs84"),
            col(&h, "lat_wgs84"),
        );
        let t = Transformer::to_wgs84(Crs::Gcj02).expect("gcj02 transformer");
        let mut max_err = 0.0f64;
        for r in &rows {
            let f = |i: usize| r[i].parse::<f64>().expect("number");
            let (lon, lat) = t.apply(f(gl), f(ga)).expect("in range");
            max_err = max_err.max(haversine_m(lon, lat, f(wl), f(wa)));
        }
        eprintln!(
            "beijing shelters: {} points, max distance to the file's WGS84 {max_err:.3} m",
            rows.len()
        );
        assert_eq!(rows.len(), 1181);
        assert!(max_err <= 5.0, "max error {max_err} m");
    }

    #[test]
    fn epsg_3857_known_point() {
        // Reference: PROJ 9.1.1 `cs2cs EPSG:4326 EPSG:3857` of (39.9087 N, 116.3975 E)
        // gives 12957310.429610 4852683.668737.
        let t = Transformer::to_wgs84(Crs::Epsg(3857)).expect("3857");
        let (lon, lat) = t.apply(12_957_310.429_610, 4_852_683.668_737).expect("apply");
        assert!(
            (lon - 116.3975).abs() < 1e-8 && (lat - 39.9087).abs() < 1e-8,
            "{lon} {lat}"
        );
        // and the closed form of spherical Mercator, independently
        let x = 6_378_137.0 * 116.3975f64.to_radians();
        let y = 6_378_137.0 * (std::f64::consts::FRAC_PI_4 + 39.9087f64.to_radians() / 2.0).tan().ln();
        let (lon, lat) = t.apply(x, y).expect("apply");
        assert!(
            (lon - 116.3975).abs() < 1e-9 && (lat - 39.9087).abs() < 1e-9,
            "{lon} {lat}"
        );
    }

    #[test]
    fn epsg_4547_cgcs2000_gauss_kruger_known_points() {
        // Reference: PROJ 9.1.1 `cs2cs EPSG:4326 EPSG:4547` (CGCS2000 / 3-degree GK CM 114E):
        // (39.9087 N, 116.3975 E) → E 705014.880715, N 4422144.430187;
        // (22.5431 N, 114.0579 E) → E 505955.846174, N 2493941.245741.
        let t = Transformer::to_wgs84(Crs::Epsg(4547)).expect("4547");
        for (e, n, lon0, lat0) in [
            (705_014.880_715, 4_422_144.430_187, 116.3975, 39.9087),
            (505_955.846_174, 2_493_941.245_741, 114.0579, 22.5431),
        ] {
            let (lon, lat) = t.apply(e, n).expect("apply");
            let err = haversine_m(lon, lat, lon0, lat0);
            assert!(err < 0.001, "EPSG:4547 ({e}, {n}) → ({lon}, {lat}): {err} m off");
        }
        // On the central meridian the northing is the GRS80 meridian arc: integrate
        // M(φ) = a(1−e²)/(1−e² sin²φ)^{3/2} numerically (Simpson, 2000 steps) to 30°N.
        let (a, f) = (6_378_137.0f64, 1.0 / 298.257_222_101);
        let e2 = f * (2.0 - f);
        let m = |p: f64| a * (1.0 - e2) / (1.0 - e2 * p.sin().powi(2)).powf(1.5);
        let (phi, steps) = (30f64.to_radians(), 2000);
        let hstep = phi / steps as f64;
        let mut s = m(0.0) + m(phi);
        for i in 1..steps {
            s += m(i as f64 * hstep) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        let arc = s * hstep / 3.0;
        let (lon, lat) = t.apply(500_000.0, arc).expect("apply");
        assert!((lon - 114.0).abs() < 1e-9 && (lat - 30.0).abs() < 1e-8, "{lon} {lat}");
    }

    #[test]
    fn identity_and_errors() {
        let t = Transformer::to_wgs84(Crs::Cgcs2000).expect("cgcs2000");
        assert!(t.is_identity());
        assert_eq!(t.apply(116.0, 40.0), Ok((116.0, 40.0)));
        assert!(matches!(t.apply(f64::NAN, 40.0), Err(CrsError::NonFinite { .. })));
        assert!(matches!(t.apply(500_000.0, 40.0), Err(CrsError::OutOfRange { .. })));
        let e = Transformer::to_wgs84(Crs::Epsg(99_999)).expect_err("unknown code");
        assert_eq!(e, CrsError::UnknownEpsg(99_999));
        assert!(e.to_string().contains("EPSG:99999"), "{e}");
        let e = Transformer::to_wgs84(Crs::Epsg(1_000_000)).expect_err("unknown code");
        assert_eq!(e, CrsError::UnknownEpsg(1_000_000));
        // a geographic EPSG code goes through proj4rs in degrees
        let t = Transformer::to_wgs84(Crs::Epsg(4326)).expect("4326");
        assert_eq!(t.apply(116.0, 40.0), Ok((116.0, 40.0)));
        let t = Transformer::to_wgs84(Crs::Epsg(4610)).expect("Xian 1980 geographic");
        let (lon, lat) = t.apply(116.0, 40.0).expect("apply");
        assert!((lon - 116.0).abs() < 0.01 && (lat - 40.0).abs() < 0.01, "{lon} {lat}");
    }
}
