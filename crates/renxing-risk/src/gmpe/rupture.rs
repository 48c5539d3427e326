//! Earthquake ruptures and source-to-site distances.
//!
//! **Geometry.** A rupture is a magnitude, a rake, a hypocentre and a surface, which is either a
//! point or a set of planar rectangles. Readers: NRML 0.4/0.5 rupture files (OpenQuake's format)
//! with `<simpleFaultRupture>` (a surface trace, dip and upper/lower seismogenic depths),
//! `<singlePlaneRupture>` and `<multiPlanesRupture>` (`<planarSurface>` corners `topLeft`,
//! `topRight`, `bottomLeft`, `bottomRight`, each `lon lat depth`). Point longitudes and latitudes
//! are rounded to 5 decimals, as OpenQuake's reader does.
//!
//! A simple fault becomes one plane per trace segment: every trace vertex is moved down-dip
//! (azimuth = strike of the first-to-last trace vertex + 90°) by `depth / tan(dip)` to the upper
//! and lower seismogenic depths, as OpenQuake builds its simple-fault surfaces. OpenQuake then
//! discretises that surface into a mesh of nodes `rupture_mesh_spacing` apart and measures
//! distances to the nodes; here the distances are to the exact planes, so Rrup from a coarse
//! OpenQuake mesh is larger by up to about half a cell diagonal (see `tests/gmpe.rs`, which
//! compares both).
//!
//! A point rupture ([`Rupture::point`]) follows OpenQuake's `PointRupture`: a zero-size source at
//! the hypocentre, with Rrup = Rjb = Rx = Ry0 = Rhypo, Ztor = hypocentre depth and width 0.
//! [`Rupture::point_finite`] instead builds a plane centred on the hypocentre, its area from
//! Wells & Coppersmith (1994) (median area by mechanism) and a length/width aspect ratio, as
//! OpenQuake's `PlanarSurface.from_hypocenter` does.
//!
//! **Distances** (km) for a site at the surface, on a sphere of radius 6371 km:
//! - `Rrup`: closest 3-D distance to the surface. For a plane the site is projected on the plane's
//!   local frame (origin at the top-left corner, axes along strike and down-dip): the distance is
//!   `√(n² + Δx² + Δy²)`, `n` the distance to the plane and `Δx`, `Δy` how far the projection lies
//!   outside the rectangle along each axis.
//! - `Rjb`: closest distance to the surface projection; 0 inside it. The projection's sides lie on
//!   four great circles (top and bottom edges along strike, left and right edges down-dip); from
//!   the signs of the site's distances to them the site is inside (0), beside a pair of sides (the
//!   nearer of those two arc distances) or off a corner (the chord distance to the nearest
//!   projected corner).
//! - `Rx`: signed distance to the great circle through the top edge, positive on the down-dip
//!   (hanging-wall) side. For a trace of several segments: the segment-wise distance of smallest
//!   magnitude, the first and last segments extended to infinity (OpenQuake's convention).
//! - `Ry0`: distance to the nearer of the two great circles perpendicular to strike through the
//!   ends of the top edge, 0 between them.
//! - `Rhypo`, `Repi`: to the hypocentre and the epicentre.
//!
//! Rupture parameters: Ztor = depth of the shallowest top edge; dip and width from the corners
//! (dip = asin of the depth difference over the top-left to bottom-left distance, width measured
//! in the plane), length-weighted over several planes. For the Nepal fault (dip 30°, 20–50 km)
//! this gives dip 30.00004° and width 59.750 km on the sphere, as OpenQuake's planar surface
//! does; OpenQuake's 15 km simple-fault mesh reports 30.093° and 59.753 km instead.

use std::path::Path;

use renxing_io::IoError;

use super::geodesy::{azimuth, cross, distance, distance_to_arc, dot, norm, normalized, point_at, sub, to_xyz};
use super::{DistanceContext, RuptureContext};

/// A point: longitude and latitude in degrees, depth in km (positive down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point3 {
    pub lon: f64,
    pub lat: f64,
    pub depth: f64,
}

impl Point3 {
    /// A point from longitude, latitude (degrees) and depth (km).
    pub fn new(lon: f64, lat: f64, depth: f64) -> Point3 {
        Point3 { lon, lat, depth }
    }
}

/// A planar rectangular rupture surface with horizontal top and bottom edges.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanarSurface {
    pub top_left: Point3,
    pub top_right: Point3,
    pub bottom_left: Point3,
    pub bottom_right: Point3,
    /// Azimuth from top-left to top-right, degrees.
    pub strike: f64,
    /// Dip, degrees.
    pub dip: f64,
    /// Length along strike, km (mean of top and bottom edges in the plane's frame).
    pub length: f64,
    /// Width down dip, km (mean of left and right edges in the plane's frame).
    pub width: f64,
    origin: [f64; 3],
    normal: [f64; 3],
    uv1: [f64; 3],
    uv2: [f64; 3],
}

impl PlanarSurface {
    /// A plane from its four corners; strike and dip are derived from them.
    pub fn from_corners(
        top_left: Point3,
        top_right: Point3,
        bottom_right: Point3,
        bottom_left: Point3,
    ) -> Result<PlanarSurface, String> {
        for (n, p) in [
            ("topLeft", top_left),
            ("topRight", top_right),
            ("bottomLeft", bottom_left),
            ("bottomRight", bottom_right),
        ] {
            if !(p.lon.is_finite() && p.lat.is_finite() && p.depth.is_finite())
                || p.lat.abs() > 90.0
                || p.lon.abs() > 360.0
            {
                return Err(format!(
                    "{n} corner has bad coordinates ({}, {}, {})",
                    p.lon, p.lat, p.depth
                ));
            }
        }
        if (top_left.depth - top_right.depth).abs() > 1e-9 || (bottom_left.depth - bottom_right.depth).abs() > 1e-9 {
            return Err("top and bottom edges must be horizontal (equal depths at both ends)".into());
        }
        if bottom_left.depth <= top_left.depth {
            return Err(format!(
                "bottom edge depth {} km is not below the top edge depth {} km",
                bottom_left.depth, top_left.depth
            ));
        }
        let strike = azimuth(top_left.lon, top_left.lat, top_right.lon, top_right.lat);
        let hd = distance(top_left.lon, top_left.lat, bottom_left.lon, bottom_left.lat);
        let vd = bottom_left.depth - top_left.depth;
        let dip = (vd / (hd * hd + vd * vd).sqrt()).asin().to_degrees();
        let xyz = |p: Point3| to_xyz(p.lon, p.lat, p.depth);
        let (tl, tr, bl, br) = (xyz(top_left), xyz(top_right), xyz(bottom_left), xyz(bottom_right));
        let normal = normalized(cross(sub(tl, tr), sub(tl, bl)));
        let uv1 = normalized(sub(tr, tl));
        let uv2 = cross(normal, uv1);
        let (xr, yr) = (dot(sub(tr, tl), uv1), dot(sub(tr, tl), uv2));
        let (xbl, ybl) = (dot(sub(bl, tl), uv1), dot(sub(bl, tl), uv2));
        let (xbr, ybr) = (dot(sub(br, tl), uv1), dot(sub(br, tl), uv2));
        let length = (xr + (xbr - xbl)) / 2.0;
        let width = (ybl + (ybr - yr)) / 2.0;
        if !(length > 0.0 && width > 0.0) {
            return Err("corners are not in the order top-left, top-right, bottom-right, bottom-left".into());
        }
        Ok(PlanarSurface {
            top_left,
            top_right,
            bottom_left,
            bottom_right,
            strike,
            dip,
            length,
            width,
            origin: tl,
            normal,
            uv1,
            uv2,
        })
    }

    /// Closest distance from a surface site to the plane, km.
    pub fn rrup(&self, lon: f64, lat: f64) -> f64 {
        let m = sub(to_xyz(lon, lat, 0.0), self.origin);
        let n = dot(m, self.normal);
        let x = dot(m, self.uv1);
        let y = dot(m, self.uv2);
        let outside = |v: f64, len: f64| {
            if v < 0.0 {
                v
            } else if v > len {
                v - len
            } else {
                0.0
            }
        };
        let (dx, dy) = (outside(x, self.length), outside(y, self.width));
        (n * n + dx * dx + dy * dy).sqrt()
    }

    /// Joyner–Boore distance, km.
    pub fn rjb(&self, lon: f64, lat: f64) -> f64 {
        let downdip = (self.strike + 90.0) % 360.0;
        let (tl, tr, bl, br) = (self.top_left, self.top_right, self.bottom_left, self.bottom_right);
        let d = [
            distance_to_arc(bl.lon, bl.lat, self.strike, lon, lat),
            distance_to_arc(tl.lon, tl.lat, self.strike, lon, lat),
            distance_to_arc(tl.lon, tl.lat, downdip, lon, lat),
            distance_to_arc(tr.lon, tr.lat, downdip, lon, lat),
        ];
        let s = d.map(|v| {
            if v > 0.0 {
                1
            } else if v < 0.0 {
                -1
            } else {
                0
            }
        });
        let site = to_xyz(lon, lat, 0.0);
        let corners = || {
            [tl, tr, bl, br]
                .iter()
                .map(|c| norm(sub(site, to_xyz(c.lon, c.lat, 0.0))))
                .fold(f64::INFINITY, f64::min)
        };
        if s[0] == s[1] && s[2] == s[3] {
            corners()
        } else if s[0] == s[1] {
            d[0].abs().min(d[1].abs())
        } else if s[2] == s[3] {
            d[2].abs().min(d[3].abs())
        } else {
            0.0
        }
    }

    /// Rx, km: signed distance to the great circle of the top edge, positive down dip.
    pub fn rx(&self, lon: f64, lat: f64) -> f64 {
        distance_to_arc(self.top_left.lon, self.top_left.lat, self.strike, lon, lat)
    }

    /// Ry0, km.
    pub fn ry0(&self, lon: f64, lat: f64) -> f64 {
        ry0_between(self.top_left, self.top_right, self.strike, lon, lat)
    }
}

fn ry0_between(a: Point3, b: Point3, strike: f64, lon: f64, lat: f64) -> f64 {
    let az = (strike + 90.0) % 360.0;
    let d1 = distance_to_arc(a.lon, a.lat, az, lon, lat);
    let d2 = distance_to_arc(b.lon, b.lat, az, lon, lat);
    if d1.signum() == d2.signum() {
        d1.abs().min(d2.abs())
    } else {
        0.0
    }
}

/// Signed distance to the half great circle leaving (a) at `az`: the arc distance where the site
/// lies ahead of `a`, else the distance to `a` itself, negative on the right-hand side.
fn distance_to_semi_arc(a: Point3, az: f64, lon: f64, lat: f64) -> f64 {
    let az_t = azimuth(a.lon, a.lat, lon, lat);
    let rel = (az - az_t).to_radians();
    if rel.cos() > 0.0 {
        distance_to_arc(a.lon, a.lat, az, lon, lat)
    } else {
        let d = distance(a.lon, a.lat, lon, lat);
        if rel.sin() > 0.0 { -d } else { d }
    }
}

/// Signed distance to the segment a→b: the arc distance where the site projects between the ends,
/// else the distance to the nearer end with the arc's sign.
fn distance_to_segment(a: Point3, b: Point3, lon: f64, lat: f64) -> f64 {
    let az = azimuth(a.lon, a.lat, b.lon, b.lat);
    let arc = distance_to_arc(a.lon, a.lat, az, lon, lat);
    let ahead_a = (az - azimuth(a.lon, a.lat, lon, lat)).to_radians().cos() > 0.0;
    let back = azimuth(b.lon, b.lat, a.lon, a.lat);
    let ahead_b = (back - azimuth(b.lon, b.lat, lon, lat)).to_radians().cos() > 0.0;
    if ahead_a && ahead_b {
        arc
    } else {
        let d = distance(a.lon, a.lat, lon, lat).min(distance(b.lon, b.lat, lon, lat));
        if arc < 0.0 { -d } else { d }
    }
}

/// The surface of a rupture.
#[derive(Debug, Clone, PartialEq)]
pub enum Surface {
    /// A zero-size source at the hypocentre (OpenQuake's `PointRupture`).
    Point,
    /// One or more planes (a simple fault gives one per trace segment).
    Planes(Vec<PlanarSurface>),
}

/// An earthquake rupture.
#[derive(Debug, Clone, PartialEq)]
pub struct Rupture {
    /// Moment magnitude.
    pub mag: f64,
    /// Rake, degrees.
    pub rake: f64,
    /// Hypocentre.
    pub hypocenter: Point3,
    /// The rupture surface.
    pub surface: Surface,
    /// Dip for the rupture context (as given for a point rupture, else the length-weighted dip of
    /// the planes).
    pub dip: f64,
    /// Down-dip width for the rupture context, km.
    pub width: f64,
}

impl Rupture {
    /// A point rupture with OpenQuake's `PointRupture` distances (all equal to Rhypo).
    /// `dip` is only passed to the GMPE (OpenQuake's own point ruptures use 0).
    pub fn point(mag: f64, rake: f64, dip: f64, hypocenter: Point3) -> Rupture {
        Rupture {
            mag,
            rake,
            hypocenter,
            surface: Surface::Point,
            dip,
            width: 0.0,
        }
    }

    /// A finite plane centred on the hypocentre: area from Wells & Coppersmith (1994) median
    /// rupture area by mechanism (`10^(a + b·M)` km²: strike-slip −3.42 + 0.90 M, reverse
    /// −3.99 + 0.98 M, normal −2.87 + 0.82 M), `length = √(area·aspect)`, `width = area/length`.
    /// If the top edge would rise above the ground the plane is moved down so that Ztor = 0.
    pub fn point_finite(
        mag: f64,
        rake: f64,
        strike: f64,
        dip: f64,
        hypocenter: Point3,
        aspect_ratio: f64,
    ) -> Result<Rupture, String> {
        let valid = dip > 0.0 && dip <= 90.0 && aspect_ratio > 0.0 && mag > 0.0;
        if !valid {
            return Err(format!(
                "bad point rupture: mag {mag}, dip {dip}, aspect ratio {aspect_ratio}"
            ));
        }
        let (a, b) = if (-45.0..=45.0).contains(&rake) || rake >= 135.0 || rake <= -135.0 {
            (-3.42, 0.90)
        } else if rake > 0.0 {
            (-3.99, 0.98)
        } else {
            (-2.87, 0.82)
        };
        let area = 10f64.powf(a + b * mag);
        let width = (area / aspect_ratio).sqrt();
        let length = width * aspect_ratio;
        let height = width * dip.to_radians().sin();
        let hdist = width * dip.to_radians().cos();
        let centre_depth = hypocenter.depth.max(height / 2.0);
        let (h, s) = (hypocenter, strike);
        let mid_top = point_at(h.lon, h.lat, s - 90.0, hdist / 2.0);
        let mid_bot = point_at(h.lon, h.lat, s + 90.0, hdist / 2.0);
        let at = |m: (f64, f64), az: f64, depth: f64| {
            let (lo, la) = point_at(m.0, m.1, az, length / 2.0);
            Point3::new(lo, la, depth)
        };
        let (ztop, zbot) = (centre_depth - height / 2.0, centre_depth + height / 2.0);
        let plane = PlanarSurface::from_corners(
            at(mid_top, s + 180.0, ztop),
            at(mid_top, s, ztop),
            at(mid_bot, s, zbot),
            at(mid_bot, s + 180.0, zbot),
        )?;
        Ok(Rupture {
            mag,
            rake,
            hypocenter,
            surface: Surface::Planes(vec![plane]),
            dip,
            width,
        })
    }

    /// A simple fault: surface trace (lon, lat at the ground), dip and seismogenic depths (km).
    pub fn simple_fault(
        mag: f64,
        rake: f64,
        hypocenter: Point3,
        trace: &[(f64, f64)],
        dip: f64,
        upper_depth: f64,
        lower_depth: f64,
    ) -> Result<Rupture, String> {
        if trace.len() < 2 {
            return Err("the fault trace needs at least two points".into());
        }
        if !(dip > 0.0 && dip <= 90.0) {
            return Err(format!("dip {dip} is not in (0, 90]"));
        }
        if !(upper_depth >= 0.0 && lower_depth > upper_depth) {
            return Err(format!(
                "seismogenic depths: upper {upper_depth} km must be ≥ 0 and below the lower {lower_depth} km"
            ));
        }
        let (first, last) = (trace[0], trace[trace.len() - 1]);
        let down = (azimuth(first.0, first.1, last.0, last.1) + 90.0) % 360.0;
        let tan = dip.to_radians().tan();
        let (ht, hb) = (upper_depth / tan, lower_depth / tan);
        let moved = |p: (f64, f64), h: f64, z: f64| {
            let (lo, la) = point_at(p.0, p.1, down, h);
            Point3::new(lo, la, z)
        };
        let mut planes = Vec::new();
        for w in trace.windows(2) {
            planes.push(PlanarSurface::from_corners(
                moved(w[0], ht, upper_depth),
                moved(w[1], ht, upper_depth),
                moved(w[1], hb, lower_depth),
                moved(w[0], hb, lower_depth),
            )?);
        }
        Rupture::from_planes(mag, rake, hypocenter, planes)
    }

    /// A rupture made of the given planes (`singlePlaneRupture`, `multiPlanesRupture`).
    pub fn from_planes(mag: f64, rake: f64, hypocenter: Point3, planes: Vec<PlanarSurface>) -> Result<Rupture, String> {
        if planes.is_empty() {
            return Err("a rupture needs at least one plane".into());
        }
        let total: f64 = planes.iter().map(|p| p.length).sum();
        let dip = planes.iter().map(|p| p.dip * p.length).sum::<f64>() / total;
        let width = planes.iter().map(|p| p.width * p.length).sum::<f64>() / total;
        Ok(Rupture {
            mag,
            rake,
            hypocenter,
            surface: Surface::Planes(planes),
            dip,
            width,
        })
    }

    /// The source parameters of the GMPE context.
    pub fn context(&self) -> RuptureContext {
        let ztor = match &self.surface {
            Surface::Point => self.hypocenter.depth,
            Surface::Planes(p) => p.iter().map(|s| s.top_left.depth).fold(f64::INFINITY, f64::min),
        };
        RuptureContext {
            mag: self.mag,
            rake: self.rake,
            dip: self.dip,
            ztor,
            hypo_depth: self.hypocenter.depth,
            width: self.width,
        }
    }

    /// Source-to-site distances for a site at the surface.
    pub fn distances(&self, lon: f64, lat: f64) -> DistanceContext {
        let h = self.hypocenter;
        let repi = distance(h.lon, h.lat, lon, lat);
        let rhypo = (repi * repi + h.depth * h.depth).sqrt();
        let planes = match &self.surface {
            Surface::Point => {
                return DistanceContext {
                    rrup: rhypo,
                    rjb: rhypo,
                    rx: rhypo,
                    ry0: rhypo,
                    rhypo,
                    repi,
                };
            }
            Surface::Planes(p) => p,
        };
        let rrup = planes.iter().map(|p| p.rrup(lon, lat)).fold(f64::INFINITY, f64::min);
        let rjb = planes.iter().map(|p| p.rjb(lon, lat)).fold(f64::INFINITY, f64::min);
        let (rx, ry0) = if planes.len() == 1 {
            (planes[0].rx(lon, lat), planes[0].ry0(lon, lat))
        } else {
            let mut top: Vec<Point3> = planes.iter().map(|p| p.top_left).collect();
            top.push(planes[planes.len() - 1].top_right);
            let n = top.len() - 1;
            let mut best = f64::INFINITY;
            for i in 0..n {
                let (a, b) = (top[i], top[i + 1]);
                let d = if i == 0 {
                    -distance_to_semi_arc(b, azimuth(b.lon, b.lat, a.lon, a.lat), lon, lat)
                } else if i == n - 1 {
                    distance_to_semi_arc(a, azimuth(a.lon, a.lat, b.lon, b.lat), lon, lat)
                } else {
                    distance_to_segment(a, b, lon, lat)
                };
                if d.abs() < best.abs() {
                    best = d;
                }
            }
            let (a, b) = (top[0], top[n]);
            (best, ry0_between(a, b, azimuth(a.lon, a.lat, b.lon, b.lat), lon, lat))
        };
        DistanceContext {
            rrup,
            rjb,
            rx,
            ry0,
            rhypo,
            repi,
        }
    }
}

/// Read a rupture from an NRML file (`simpleFaultRupture`, `singlePlaneRupture`,
/// `multiPlanesRupture`). Errors name the file, the line and what is wrong.
pub fn read_rupture_xml(path: &Path) -> Result<Rupture, IoError> {
    let text = std::fs::read_to_string(path).map_err(|e| IoError::os(path, e))?;
    parse_rupture_xml(&text).map_err(|(pos, msg)| match pos {
        Some(p) => IoError::at(path, format!("line {}", line_of(&text, p)), msg),
        None => IoError::new(path, msg),
    })
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[derive(Default)]
struct Raw {
    kind: Option<String>,
    mag: Option<f64>,
    rake: Option<f64>,
    hypo: Option<Point3>,
    pos_list: Option<Vec<f64>>,
    dip: Option<f64>,
    usd: Option<f64>,
    lsd: Option<f64>,
    planes: Vec<[Option<Point3>; 4]>,
}

type ParseErr = (Option<usize>, String);

fn parse_rupture_xml(text: &str) -> Result<Rupture, ParseErr> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut raw = Raw::default();
    let mut buf_text = String::new();
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = reader
            .read_event()
            .map_err(|e| (Some(reader.error_position() as usize), format!("malformed XML: {e}")))?;
        let err = |m: String| (Some(pos), m);
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|x| err(format!("malformed attribute: {x}")))?;
                    let v = renxing_io::xml::attribute_value(&a).map_err(err)?;
                    attrs.push((String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(), v));
                }
                let num = |k: &str| -> Result<f64, ParseErr> {
                    let v = attrs
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.as_str())
                        .ok_or_else(|| err(format!("<{name}> has no '{k}' attribute")))?;
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| err(format!("<{name}> has a bad '{k}' value '{v}'")))
                };
                // OpenQuake's NRML reader rounds longitudes and latitudes to 5 decimals (≈ 1 m);
                // doing the same keeps one file one geometry in both.
                let round5 = |v: f64| (v * 1e5).round() / 1e5;
                let point = || -> Result<Point3, ParseErr> {
                    Ok(Point3::new(round5(num("lon")?), round5(num("lat")?), num("depth")?))
                };
                match (stack.len(), name.as_str()) {
                    (0, "nrml") => {}
                    (0, other) => return Err(err(format!("root element is <{other}>, not <nrml>"))),
                    (1, kind) => {
                        if raw.kind.is_some() {
                            return Err(err(format!("a second rupture <{kind}>: one rupture per file")));
                        }
                        match kind {
                            "simpleFaultRupture" | "singlePlaneRupture" | "multiPlanesRupture" => {
                                raw.kind = Some(kind.to_string())
                            }
                            _ => {
                                return Err(err(format!(
                                    "<{kind}> is not supported (simpleFaultRupture, singlePlaneRupture, \
                                     multiPlanesRupture are)"
                                )));
                            }
                        }
                    }
                    (_, "hypocenter") => raw.hypo = Some(point()?),
                    (_, "planarSurface") => raw.planes.push([None; 4]),
                    (_, corner @ ("topLeft" | "topRight" | "bottomRight" | "bottomLeft")) => {
                        let i = ["topLeft", "topRight", "bottomRight", "bottomLeft"]
                            .iter()
                            .position(|c| *c == corner)
                            .unwrap_or(0);
                        let p = point()?;
                        let plane = raw
                            .planes
                            .last_mut()
                            .ok_or_else(|| err(format!("<{corner}> outside <planarSurface>")))?;
                        plane[i] = Some(p);
                    }
                    _ => {}
                }
                buf_text.clear();
                if matches!(ev, Event::Start(_)) {
                    stack.push(name);
                }
            }
            Event::Text(ref t) => {
                buf_text.push_str(&t.xml10_content().map_err(|e| err(format!("bad text: {e}")))?);
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let value = || -> Result<f64, ParseErr> {
                    buf_text
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| err(format!("<{name}> must hold a number, not '{}'", buf_text.trim())))
                };
                match name.as_str() {
                    "magnitude" => raw.mag = Some(value()?),
                    "rake" => raw.rake = Some(value()?),
                    "dip" => raw.dip = Some(value()?),
                    "upperSeismoDepth" => raw.usd = Some(value()?),
                    "lowerSeismoDepth" => raw.lsd = Some(value()?),
                    "posList" => {
                        let mut v = Vec::new();
                        for tok in buf_text.split_whitespace() {
                            v.push(
                                tok.parse::<f64>()
                                    .ok()
                                    .filter(|x| x.is_finite())
                                    .ok_or_else(|| err(format!("<posList> has a bad number '{tok}'")))?,
                            );
                        }
                        raw.pos_list = Some(v);
                    }
                    _ => {}
                }
                buf_text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    build(raw).map_err(|m| (None, m))
}

fn build(raw: Raw) -> Result<Rupture, String> {
    let kind = raw.kind.ok_or("no rupture element under <nrml>")?;
    let mag = raw.mag.ok_or("no <magnitude>")?;
    let rake = raw.rake.ok_or("no <rake>")?;
    let hypo = raw.hypo.ok_or("no <hypocenter lon lat depth>")?;
    if !(-180.0..=180.0).contains(&rake) {
        return Err(format!("rake {rake} is not in [-180, 180]"));
    }
    if kind == "simpleFaultRupture" {
        let pos = raw.pos_list.ok_or("simpleFaultGeometry without <gml:posList>")?;
        if pos.len() % 2 != 0 {
            return Err(format!(
                "<gml:posList> has {} numbers: expected lon lat pairs",
                pos.len()
            ));
        }
        let trace: Vec<(f64, f64)> = pos.chunks(2).map(|c| (c[0], c[1])).collect();
        let dip = raw.dip.ok_or("simpleFaultGeometry without <dip>")?;
        let usd = raw.usd.ok_or("simpleFaultGeometry without <upperSeismoDepth>")?;
        let lsd = raw.lsd.ok_or("simpleFaultGeometry without <lowerSeismoDepth>")?;
        return Rupture::simple_fault(mag, rake, hypo, &trace, dip, usd, lsd);
    }
    if raw.planes.is_empty() {
        return Err(format!("<{kind}> without <planarSurface>"));
    }
    let mut planes = Vec::new();
    for (i, c) in raw.planes.iter().enumerate() {
        let get = |k: usize, n: &str| c[k].ok_or_else(|| format!("planarSurface {} has no <{n}>", i + 1));
        planes.push(
            PlanarSurface::from_corners(
                get(0, "topLeft")?,
                get(1, "topRight")?,
                get(2, "bottomRight")?,
                get(3, "bottomLeft")?,
            )
            .map_err(|m| format!("planarSurface {}: {m}", i + 1))?,
        );
    }
    if kind == "singlePlaneRupture" && planes.len() != 1 {
        return Err(format!(
            "singlePlaneRupture has {} planarSurface elements",
            planes.len()
        ));
    }
    Rupture::from_planes(mag, rake, hypo, planes)
}

/// Distance (km) between two sites on the sphere, used for spatial correlation.
pub fn site_distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    distance(lon1, lat1, lon2, lat2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vertical_plane() -> PlanarSurface {
        // A vertical strike-slip plane along the equator from lon 0 to 0.5, 0–10 km deep.
        PlanarSurface::from_corners(
            Point3::new(0.0, 0.0, 0.0),
            Point3::new(0.5, 0.0, 0.0),
            Point3::new(0.5, 0.0, 10.0),
            Point3::new(0.0, 0.0, 10.0),
        )
        .unwrap()
    }

    #[test]
    fn vertical_plane_distances() {
        let p = vertical_plane();
        assert!((p.dip - 90.0).abs() < 1e-9 && (p.strike - 90.0).abs() < 1e-9);
        // Width is measured in the plane's chord frame: 10 km less 0.1 m of Earth curvature.
        assert!((p.width - 10.0).abs() < 1e-3, "{}", p.width);
        // A site 0.1° north of the middle: Rjb = Rrup = 11.12 km, Rx = −11.12 (left of east), Ry0 = 0.
        let d = distance(0.25, 0.0, 0.25, 0.1);
        assert!((p.rjb(0.25, 0.1) - d).abs() < 1e-3);
        assert!((p.rrup(0.25, 0.1) - d).abs() < 1e-2);
        assert!((p.rx(0.25, 0.1) + d).abs() < 1e-6);
        assert_eq!(p.ry0(0.25, 0.1), 0.0);
        // Off the east end by 0.1°: Ry0 = 11.12 km.
        assert!((p.ry0(0.6, 0.0) - distance(0.5, 0.0, 0.6, 0.0)).abs() < 1e-6);
    }

    #[test]
    fn dipping_fault_hanging_wall_site_has_zero_rjb() {
        let r = Rupture::simple_fault(
            7.0,
            90.0,
            Point3::new(84.4, 27.6, 30.0),
            &[(85.0, 27.3), (83.8, 27.8)],
            30.0,
            20.0,
            50.0,
        )
        .unwrap();
        let c = r.context();
        assert_eq!(c.ztor, 20.0);
        assert!((c.dip - 30.0).abs() < 1e-3, "{}", c.dip);
        assert!((c.width - 59.75).abs() < 0.01, "{}", c.width);
        // A site 60 km down dip of the trace's middle lies over the plane (which spans 34.6–86.6 km):
        // Rjb = 0, Rx = 60 − 34.64 from the top edge, and the plane is 60·tan 30° = 34.64 km deep
        // there, so Rrup ≈ 34.64·cos 30° = 30.
        let down = (azimuth(85.0, 27.3, 83.8, 27.8) + 90.0) % 360.0;
        let (lon, lat) = point_at(84.4, 27.55, down, 60.0);
        let d = r.distances(lon, lat);
        assert_eq!(d.rjb, 0.0);
        assert!(
            (d.rx - (60.0 - 20.0 / 30f64.to_radians().tan())).abs() < 0.5,
            "{}",
            d.rx
        );
        assert!((d.rrup - 30.0).abs() < 0.5, "{}", d.rrup);
        assert_eq!(d.ry0, 0.0);
        // The demo's hypocentre (84.4, 27.6, 30 km) is not on this plane: it lies ~5 km from the
        // trace, on the footwall side of the plane's surface projection.
        assert!(r.distances(84.4, 27.6).rjb > 25.0);
    }

    #[test]
    fn point_rupture_uses_hypocentral_distance() {
        let r = Rupture::point(6.0, 0.0, 90.0, Point3::new(0.0, 0.0, 10.0));
        let d = r.distances(0.0, 0.1);
        let rh = (distance(0.0, 0.0, 0.0, 0.1).powi(2) + 100.0).sqrt();
        assert!((d.rrup - rh).abs() < 1e-12 && d.rjb == d.rrup && d.rx == d.rrup);
    }

    #[test]
    fn finite_point_rupture_has_wells_coppersmith_area() {
        let r = Rupture::point_finite(6.5, 0.0, 0.0, 90.0, Point3::new(100.0, 30.0, 10.0), 2.0).unwrap();
        let Surface::Planes(p) = &r.surface else { panic!() };
        let area = 10f64.powf(-3.42 + 0.9 * 6.5);
        let got = p[0].length * p[0].width;
        // Corners are placed along the surface and lowered, so the plane's length shrinks by the
        // ratio of radii (0.2 % at 4–16 km depth); the area agrees to 0.5 %.
        assert!(
            (got - area).abs() / area < 5e-3,
            "{got} vs {area}: {} x {}",
            p[0].length,
            p[0].width
        );
    }

    #[test]
    fn xml_errors_name_the_line() {
        let bad = "<nrml>\n<simpleFaultRupture>\n<magnitude>seven</magnitude>\n</simpleFaultRupture></nrml>";
        let e = parse_rupture_xml(bad).unwrap_err();
        assert!(e.1.contains("magnitude"), "{}", e.1);
        assert_eq!(line_of(bad, e.0.unwrap()), 3);
        let e = parse_rupture_xml("<nrml><pointRupture/></nrml>").unwrap_err();
        assert!(e.1.contains("not supported"), "{}", e.1);
    }
}
