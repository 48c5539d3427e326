//! Administrative-unit polygons (province, city, district, sub-district…) from GeoJSON,
//! Shapefile and GeoPackage files.
//!
//! Every reader returns [`AdminUnit`]s: a code, a name, an optional level and parent code, and
//! a WGS84 [`MultiPolygon`]. The format is chosen by the file extension.
//!
//! ## GeoJSON (`.geojson`, `.json`)
//!
//! RFC 7946 text: a `FeatureCollection`, a single `Feature`, or a bare geometry (one unit without
//! attributes). Geometries must be `Polygon`, `MultiPolygon` or a `GeometryCollection` of them;
//! positions are `[x, y]` or `[x, y, z]` (z ignored). Property values may be strings, numbers
//! (an integral number such as `110101` becomes the text `110101`), booleans or null; a
//! `parent` object of the DataV/Aliyun kind (`{"adcode": 110000}`) yields its `adcode`. The
//! pre-RFC `crs` member (`{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}}`)
//! is honoured when no other system is given in [`AdminOptions::crs`].
//!
//! ## Shapefile (`.shp` + `.shx`/`.dbf`/`.prj`/`.cpg`)
//!
//! Polygon shapes (plain, M or Z; M and Z ignored). Rings are grouped as the format defines:
//! clockwise rings are outer rings, counter-clockwise ones holes of the smallest outer ring that
//! contains them (a hole inside no outer ring is kept as an outer ring). Null shapes are errors.
//! Attributes come from the `.dbf` (dBase III), read here: character fields are decoded with the
//! encoding named by the `.cpg` file (`UTF-8`, `GBK`, `936`…); without one, UTF-8 when all the
//! text is valid UTF-8, otherwise the encoding of the DBF language-driver byte (Big5 for 0x78),
//! else GBK — Chinese shapefiles are usually GBK. Numeric fields are kept as their text.
//! Deleted records are skipped with their shape. The `.prj` is honoured when it declares
//! geographic WGS84 or CGCS2000; any other `.prj` (projected, Beijing 1954, Xi'an 1980…) must
//! be confirmed by an explicit `crs` in the options. An explicit `crs` always wins over the `.prj`
//! (GCJ-02 data often ships with a WGS84 `.prj`).
//!
//! ## GeoPackage (`.gpkg`)
//!
//! The layer named in [`AdminOptions::layer`] (or the first feature layer), read by
//! [`crate::gpkg::read_layer`]. Its coordinate system (the organisation and code its `srs_id`
//! stands for in `gpkg_spatial_ref_sys`) is honoured like a `.prj`: EPSG 4326/4490 or undefined
//! (0, −1) are taken as WGS84, any other EPSG code is used when no `crs` is given, and other
//! organisations must be confirmed by an explicit `crs`.
//!
//! ## Fields
//!
//! Field names are matched case-insensitively. Unless named in the options the code is the first
//! of `adcode`, `code`, `admincode`, `gb`, `id`, `行政区划代码`, `区划代码`; a `gb` value of nine
//! digits starting with the country prefix `156` (Tianditu) is cut to its six-digit adcode.
//! Without any code field the code is the feature index. The name is `name`, then `名称`, then
//! the first field whose name ends in `name`; without one it is empty. The level is the `level`
//! (or `级别`) field and the parent the `parent`/`parent_code`/`parent_adcode` field, when
//! present. Two features with the same code and level are an error.
//!
//! ## Validation and positions
//!
//! Features and rings are numbered from 0 in file order; ring 0 of a polygon is its outer
//! ring. Each ring must have at least 4 positions, finite coordinates, the same first and last
//! position, at least 3 distinct positions, and must not intersect itself (two non-adjacent
//! edges that cross or touch, or an edge folding back onto the previous one). A failure is an
//! [`IoError`] such as `districts.geojson: feature 3 (code 110105): ring 0 is not closed: …`.
//! Coordinates are then converted to WGS84 ([`renxing_geo::crs::Transformer`]); a coordinate the
//! declared system cannot hold (e.g. metres declared as degrees) is an error naming the point.

use std::collections::HashMap;
use std::path::Path;

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use renxing_geo::crs::{Crs, Transformer};
use serde_json::Value as Json;

use crate::error::{IoError, Result};

/// One administrative unit with its boundary in WGS84.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminUnit {
    /// Division code (e.g. the 6-digit adcode `110105`), or the feature index when the file
    /// has no code field.
    pub code: String,
    pub name: String,
    /// Level as the source names it (`province`, `city`, `district`, `county`…), if known.
    pub level: Option<String>,
    /// Code of the enclosing unit, if known.
    pub parent: Option<String>,
    /// Boundary, WGS84 lon/lat degrees.
    pub geometry: MultiPolygon<f64>,
}

/// How to read an admin-boundary file; `Default` detects the fields and assumes WGS84.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminOptions {
    /// Field holding the division code.
    pub code_field: Option<String>,
    /// Field holding the unit name.
    pub name_field: Option<String>,
    /// Coordinate system of the file when given: it overrides whatever the file declares
    /// (`.prj`, GeoJSON `crs` member, GeoPackage srs). `None`: the file's own declaration, else
    /// WGS84.
    pub crs: Option<Crs>,
    /// GeoPackage layer; the first feature layer when `None`.
    pub layer: Option<String>,
    /// Read only the units with these codes (empty: all). Geometry is checked only for the units
    /// read, so a defect in a unit outside the study area does not stop the import.
    pub codes: Vec<String>,
    /// Accept features sharing a code (for polygon layers that are not admin units, e.g. flood
    /// zones keyed by a depth class); by default a repeated code is an error.
    pub allow_duplicate_codes: bool,
}

/// Reads admin polygons from a `.geojson`/`.json`, `.shp` or `.gpkg` file.
pub fn read_admin(path: &Path, opts: &AdminOptions) -> Result<Vec<AdminUnit>> {
    read_admin_with_report(path, opts).map(|(units, _)| units)
}

/// What [`read_admin_with_report`] left out and why, for the run's notes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminReport {
    /// Indices of GeoJSON features with line geometry (boundary lines such as Tianditu's 境界线
    /// features), which are not units and are skipped.
    pub skipped_line_features: Vec<usize>,
}

/// [`read_admin`], also saying what was skipped.
pub fn read_admin_with_report(path: &Path, opts: &AdminOptions) -> Result<(Vec<AdminUnit>, AdminReport)> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut report = AdminReport::default();
    let (features, declared) = match ext.as_str() {
        "geojson" | "json" => {
            let (features, declared, lines) = read_geojson_features(path)?;
            report.skipped_line_features = lines;
            (features, declared)
        }
        "shp" => read_shapefile_features(path)?,
        "gpkg" => read_gpkg_features(path, opts.layer.as_deref())?,
        _ => {
            return Err(IoError::new(
                path,
                format!("unknown admin boundary format '.{ext}': use .geojson, .json, .shp or .gpkg"),
            ));
        }
    };
    let crs = effective_crs(path, opts.crs, declared)?;
    let transformer = Transformer::to_wgs84(crs).map_err(|e| IoError::new(path, format!("coordinate system: {e}")))?;
    Ok((build_units(path, features, opts, &transformer)?, report))
}

// ---------------------------------------------------------------------------------------------
// Raw features, shared by the formats (and by `cnmaps`)
// ---------------------------------------------------------------------------------------------

/// Polygons → rings → positions, as found in the file (not yet converted nor checked).
pub(crate) type RawPolygons = Vec<Vec<Vec<[f64; 2]>>>;

/// A feature as read: index in the file, raw polygons, properties as text (None = null).
pub(crate) struct RawFeature {
    pub index: usize,
    pub polygons: RawPolygons,
    pub props: Vec<(String, Option<String>)>,
}

/// What the file says about its coordinate system.
#[derive(Debug, Clone, PartialEq)]
enum Declared {
    /// Nothing (no `.prj`, no `crs` member, undefined srs_id).
    Nothing,
    /// Geographic WGS84 or CGCS2000: compatible with the default.
    Wgs84Like(String),
    /// A known EPSG code to use unless the options say otherwise.
    Epsg(u32, String),
    /// Something else that the caller must confirm with an explicit `crs`.
    Other(String),
}

fn effective_crs(path: &Path, requested: Option<Crs>, declared: Declared) -> Result<Crs> {
    if let Some(crs) = requested {
        return Ok(crs);
    }
    match declared {
        Declared::Nothing | Declared::Wgs84Like(_) => Ok(Crs::Wgs84),
        Declared::Epsg(code, _) => Ok(Crs::Epsg(code)),
        Declared::Other(what) => Err(IoError::new(
            path,
            format!(
                "the file declares the coordinate system {what}, which is neither WGS84 nor \
                 CGCS2000 longitude/latitude: pass the crs explicitly (e.g. EPSG:<code>, gcj02)"
            ),
        )),
    }
}

/// Turns raw features into checked, converted units.
pub(crate) fn build_units(
    path: &Path,
    features: Vec<RawFeature>,
    opts: &AdminOptions,
    transformer: &Transformer,
) -> Result<Vec<AdminUnit>> {
    if features.is_empty() {
        return Err(IoError::new(path, "no features in the file"));
    }
    let mut names: Vec<String> = Vec::new();
    for f in &features {
        for (k, _) in &f.props {
            if !names.iter().any(|n| n == k) {
                names.push(k.clone());
            }
        }
    }
    let fields_found = || {
        if names.is_empty() {
            "the features have no attributes".to_string()
        } else {
            format!("fields found: {}", names.join(", "))
        }
    };
    let find = |n: &str| names.iter().find(|k| k.eq_ignore_ascii_case(n.trim())).cloned();
    let explicit = |what: &str, n: &Option<String>| -> Result<Option<String>> {
        match n {
            Some(n) => find(n)
                .map(Some)
                .ok_or_else(|| IoError::new(path, format!("no {what} field '{n}'; {}", fields_found()))),
            None => Ok(None),
        }
    };
    let first_of = |cands: &[&str]| cands.iter().find_map(|c| find(c));
    let code_field = match explicit("code", &opts.code_field)? {
        Some(f) => Some(f),
        None => first_of(&["adcode", "code", "admincode", "gb", "id", "行政区划代码", "区划代码"]),
    };
    let name_field = match explicit("name", &opts.name_field)? {
        Some(f) => Some(f),
        None => {
            first_of(&["name", "名称"]).or_else(|| names.iter().find(|k| k.to_lowercase().ends_with("name")).cloned())
        }
    };
    let level_field = first_of(&["level", "级别"]);
    let parent_field = first_of(&["parent", "parent_code", "parent_adcode", "parentcode", "parent_id"]);
    let code_is_gb = code_field.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("gb"));

    let mut units = Vec::with_capacity(features.len());
    let mut seen: HashMap<(String, Option<String>), usize> = HashMap::new();
    for f in features {
        let get = |field: &Option<String>| -> Option<String> {
            let field = field.as_ref()?;
            f.props
                .iter()
                .find(|(k, _)| k == field)
                .and_then(|(_, v)| v.as_ref())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let code = match &code_field {
            Some(field) => {
                let c = get(&code_field).ok_or_else(|| {
                    IoError::at(
                        path,
                        format!("feature {}", f.index),
                        format!("code field '{field}' is empty"),
                    )
                })?;
                if code_is_gb && c.len() == 9 && c.starts_with("156") && c.bytes().all(|b| b.is_ascii_digit()) {
                    c[3..].to_string()
                } else {
                    c
                }
            }
            None => f.index.to_string(),
        };
        if !opts.codes.is_empty() && !opts.codes.contains(&code) {
            continue;
        }
        let position = format!("feature {} (code {code})", f.index);
        let geometry = convert_polygons(path, &position, &f.polygons, transformer)?;
        let unit = AdminUnit {
            name: get(&name_field).unwrap_or_default(),
            level: get(&level_field),
            parent: get(&parent_field),
            code,
            geometry,
        };
        if let Some(prev) = seen.insert((unit.code.clone(), unit.level.clone()), f.index)
            && !opts.allow_duplicate_codes
        {
            return Err(IoError::at(
                path,
                position,
                format!(
                    "code {} (level {}) is already used by feature {prev}",
                    unit.code,
                    unit.level.as_deref().unwrap_or("not given")
                ),
            ));
        }
        units.push(unit);
    }
    if let Some(missing) = opts.codes.iter().find(|c| !units.iter().any(|u| &u.code == *c)) {
        return Err(IoError::new(path, format!("no unit with code {missing} in the file")));
    }
    Ok(units)
}

/// Checks every ring (see the module doc) and converts the polygons to WGS84.
pub(crate) fn convert_polygons(
    path: &Path,
    position: &str,
    polygons: &RawPolygons,
    transformer: &Transformer,
) -> Result<MultiPolygon<f64>> {
    if polygons.is_empty() {
        return Err(IoError::at(path, position, "empty geometry: no polygon"));
    }
    let multi = polygons.len() > 1;
    let mut out = Vec::with_capacity(polygons.len());
    for (p, rings) in polygons.iter().enumerate() {
        let ring_name = |k: usize| {
            if multi {
                format!("polygon {p} ring {k}")
            } else {
                format!("ring {k}")
            }
        };
        if rings.is_empty() {
            return Err(IoError::at(path, position, format!("polygon {p} has no rings")));
        }
        let mut converted = Vec::with_capacity(rings.len());
        for (k, ring) in rings.iter().enumerate() {
            check_ring(ring).map_err(|m| IoError::at(path, position, format!("{} {m}", ring_name(k))))?;
            let mut ls = Vec::with_capacity(ring.len());
            for (j, &[x, y]) in ring.iter().enumerate() {
                let (lon, lat) = transformer
                    .apply(x, y)
                    .map_err(|e| IoError::at(path, position, format!("{} point {j}: {e}", ring_name(k))))?;
                ls.push(Coord { x: lon, y: lat });
            }
            converted.push(LineString(ls));
        }
        let mut it = converted.into_iter();
        let exterior = it.next().unwrap_or_else(|| LineString(Vec::new()));
        out.push(Polygon::new(exterior, it.collect()));
    }
    Ok(MultiPolygon(out))
}

/// `Err(message)` (to follow "ring K") when the ring is not a valid simple closed ring.
pub(crate) fn check_ring(ring: &[[f64; 2]]) -> std::result::Result<(), String> {
    if ring.len() < 4 {
        return Err(format!(
            "has only {} positions: a ring needs at least 4 (the last repeating the first)",
            ring.len()
        ));
    }
    if let Some((j, p)) = ring
        .iter()
        .enumerate()
        .find(|(_, p)| !p[0].is_finite() || !p[1].is_finite())
    {
        return Err(format!("point {j} ({}, {}) is not a finite number", p[0], p[1]));
    }
    let (first, last) = (ring[0], ring[ring.len() - 1]);
    if first != last {
        return Err(format!(
            "is not closed: first point ({}, {}) differs from last point ({}, {})",
            first[0], first[1], last[0], last[1]
        ));
    }
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ring.len());
    for p in ring {
        let c = Coord { x: p[0], y: p[1] };
        if pts.last() != Some(&c) {
            pts.push(c);
        }
    }
    if pts.len() < 4 {
        return Err("has fewer than 3 distinct points".to_string());
    }
    if let Some((i, j, at)) = ring_self_intersection(&pts) {
        return Err(format!(
            "intersects itself near ({}, {}) (edges {i} and {j})",
            at.x, at.y
        ));
    }
    Ok(())
}

fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> Orientation {
    <RobustKernel as Kernel<f64>>::orient2d(p, q, r)
}

/// Whether `c`, known collinear with segment `a`–`b`, lies within its bounding box.
fn within(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> bool {
    c.x >= a.x.min(b.x) && c.x <= a.x.max(b.x) && c.y >= a.y.min(b.y) && c.y <= a.y.max(b.y)
}

/// Whether the closed segments `a`–`b` and `c`–`d` share at least one point.
fn segments_intersect(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let o1 = orient(a, b, c);
    let o2 = orient(a, b, d);
    let o3 = orient(c, d, a);
    let o4 = orient(c, d, b);
    let col = Orientation::Collinear;
    if o1 != o2 && o3 != o4 && o1 != col && o2 != col && o3 != col && o4 != col {
        return true;
    }
    (o1 == col && within(a, b, c))
        || (o2 == col && within(a, b, d))
        || (o3 == col && within(c, d, a))
        || (o4 == col && within(c, d, b))
}

/// First self-intersection of a closed ring without repeated consecutive points
/// (`pts[0] == pts[n]`): the two edge indices and a point near it. A sweep over x so that
/// rings of 10⁵ points stay fast: only edges overlapping in x are compared.
fn ring_self_intersection(pts: &[Coord<f64>]) -> Option<(usize, usize, Coord<f64>)> {
    let n = pts.len() - 1; // number of edges
    let edge = |i: usize| (pts[i], pts[i + 1]);
    // adjacent edges share one vertex; they may only meet there (no fold-back / spike)
    for i in 0..n {
        let j = (i + 1) % n;
        let (a, v) = edge(i);
        let c = edge(j).1;
        if orient(a, v, c) == Orientation::Collinear && (a.x - v.x) * (c.x - v.x) + (a.y - v.y) * (c.y - v.y) > 0.0 {
            return Some((i.min(j), i.max(j), v));
        }
    }
    if n <= 3 {
        return None;
    }
    let adjacent = |i: usize, j: usize| {
        let (lo, hi) = (i.min(j), i.max(j));
        hi - lo == 1 || (lo == 0 && hi == n - 1)
    };
    let mut order: Vec<usize> = (0..n).collect();
    let minx = |i: usize| pts[i].x.min(pts[i + 1].x);
    let maxx = |i: usize| pts[i].x.max(pts[i + 1].x);
    order.sort_by(|&a, &b| minx(a).total_cmp(&minx(b)));
    let mut active: Vec<usize> = Vec::new();
    for &i in &order {
        let x0 = minx(i);
        active.retain(|&j| maxx(j) >= x0);
        let (a, b) = edge(i);
        let (ylo, yhi) = (a.y.min(b.y), a.y.max(b.y));
        for &j in &active {
            if adjacent(i, j) {
                continue;
            }
            let (c, d) = edge(j);
            if c.y.max(d.y) < ylo || c.y.min(d.y) > yhi {
                continue;
            }
            if segments_intersect(a, b, c, d) {
                return Some((i.min(j), i.max(j), a));
            }
        }
        active.push(i);
    }
    None
}

// ---------------------------------------------------------------------------------------------
// GeoJSON
// ---------------------------------------------------------------------------------------------

fn read_geojson_features(path: &Path) -> Result<(Vec<RawFeature>, Declared, Vec<usize>)> {
    let text = std::fs::read_to_string(path).map_err(|e| IoError::os(path, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(IoError::new(path, "empty file"));
    }
    let root: Json = serde_json::from_str(text).map_err(|e| {
        IoError::at(
            path,
            format!("line {} column {}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        )
    })?;
    let declared = declared_geojson_crs(&root);
    let typ = root.get("type").and_then(Json::as_str).unwrap_or("");
    let mut lines = Vec::new();
    let features = match typ {
        "FeatureCollection" => {
            let arr = root
                .get("features")
                .and_then(Json::as_array)
                .ok_or_else(|| IoError::new(path, "FeatureCollection without a 'features' array"))?;
            let mut out = Vec::with_capacity(arr.len());
            for (i, f) in arr.iter().enumerate() {
                match geojson_feature(path, i, f)? {
                    Some(feature) => out.push(feature),
                    None => lines.push(i),
                }
            }
            out
        }
        "Feature" => geojson_feature(path, 0, &root)?.into_iter().collect(),
        "" => {
            return Err(IoError::new(path, "not GeoJSON: the top-level object has no 'type'"));
        }
        _ => {
            let polygons = geojson_polygons(&root).map_err(|m| IoError::at(path, "feature 0", m))?;
            vec![RawFeature {
                index: 0,
                polygons,
                props: Vec::new(),
            }]
        }
    };
    Ok((features, declared, lines))
}

fn declared_geojson_crs(root: &Json) -> Declared {
    let Some(name) = root.pointer("/crs/properties/name").and_then(Json::as_str) else {
        return Declared::Nothing;
    };
    let upper = name.to_ascii_uppercase();
    if upper.ends_with("CRS84") {
        return Declared::Wgs84Like(name.to_string());
    }
    let code = upper.rsplit(':').next().and_then(|c| c.parse::<u32>().ok());
    match code {
        Some(4326) | Some(4490) => Declared::Wgs84Like(name.to_string()),
        Some(c) => Declared::Epsg(c, name.to_string()),
        None => Declared::Other(format!("'{name}'")),
    }
}

fn json_to_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            _ => n.to_string(),
        }),
        Json::Object(o) => match o.get("adcode").or_else(|| o.get("code")) {
            Some(c) if !c.is_object() => json_to_text(c),
            _ => Some(v.to_string()),
        },
        Json::Array(_) => Some(v.to_string()),
    }
}

fn geojson_feature(path: &Path, index: usize, f: &Json) -> Result<Option<RawFeature>> {
    let at = || format!("feature {index}");
    if f.get("type").and_then(Json::as_str) != Some("Feature") {
        return Err(IoError::at(
            path,
            at(),
            "not a GeoJSON Feature (its 'type' is not \"Feature\")",
        ));
    }
    let props = match f.get("properties") {
        Some(Json::Object(o)) => o.iter().map(|(k, v)| (k.clone(), json_to_text(v))).collect(),
        _ => Vec::new(),
    };
    let geometry = match f.get("geometry") {
        None | Some(Json::Null) => {
            return Err(IoError::at(path, at(), "feature has no geometry"));
        }
        Some(g) => g,
    };
    if matches!(
        geometry.get("type").and_then(Json::as_str),
        Some("LineString" | "MultiLineString")
    ) {
        // Boundary-line features (境界线) mixed into a polygon layer, as in Tianditu's files:
        // not units; skipped and reported by `read_admin_with_report`.
        return Ok(None);
    }
    let polygons = geojson_polygons(geometry).map_err(|m| {
        let code = props
            .iter()
            .find(|(k, _)| {
                ["adcode", "code", "admincode", "gb", "id"]
                    .iter()
                    .any(|c| k.eq_ignore_ascii_case(c))
            })
            .and_then(|(_, v)| v.clone());
        let pos = match code {
            Some(c) => format!("feature {index} (code {c})"),
            None => at(),
        };
        IoError::at(path, pos, m)
    })?;
    Ok(Some(RawFeature { index, polygons, props }))
}

/// A GeoJSON `Polygon`, `MultiPolygon` or `GeometryCollection` of those as one multipolygon
/// (boundaries stored as GeoJSON text, e.g. by the monitoring store).
pub fn geojson_multipolygon(g: &Json) -> std::result::Result<geo_types::MultiPolygon<f64>, String> {
    use geo_types::{Coord, LineString, MultiPolygon, Polygon};
    let ring = |r: &Vec<[f64; 2]>| LineString::from(r.iter().map(|p| Coord { x: p[0], y: p[1] }).collect::<Vec<_>>());
    Ok(MultiPolygon(
        geojson_polygons(g)?
            .iter()
            .filter(|rings| !rings.is_empty())
            .map(|rings| Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect()))
            .collect(),
    ))
}

/// Polygons of a GeoJSON geometry object (`Polygon`, `MultiPolygon`, `GeometryCollection`).
pub(crate) fn geojson_polygons(g: &Json) -> std::result::Result<RawPolygons, String> {
    let typ = g
        .get("type")
        .and_then(Json::as_str)
        .ok_or("geometry without a 'type'")?;
    let coords = || {
        g.get("coordinates")
            .ok_or_else(|| format!("{typ} without 'coordinates'"))
    };
    match typ {
        "Polygon" => Ok(vec![json_rings(coords()?, None)?]),
        "MultiPolygon" => {
            let arr = coords()?
                .as_array()
                .ok_or("MultiPolygon coordinates are not an array")?;
            arr.iter()
                .enumerate()
                .map(|(p, rings)| json_rings(rings, Some(p)))
                .collect()
        }
        "GeometryCollection" => {
            let arr = g
                .get("geometries")
                .and_then(Json::as_array)
                .ok_or("GeometryCollection without a 'geometries' array")?;
            let mut out = Vec::new();
            for part in arr {
                out.extend(geojson_polygons(part)?);
            }
            Ok(out)
        }
        other => Err(format!(
            "geometry type {other} is not a polygon: admin units need Polygon or MultiPolygon"
        )),
    }
}

fn json_rings(v: &Json, polygon: Option<usize>) -> std::result::Result<Vec<Vec<[f64; 2]>>, String> {
    let pname = |k: usize| match polygon {
        Some(p) => format!("polygon {p} ring {k}"),
        None => format!("ring {k}"),
    };
    let rings = v.as_array().ok_or_else(|| match polygon {
        Some(p) => format!("polygon {p}: coordinates are not an array of rings"),
        None => "polygon coordinates are not an array of rings".to_string(),
    })?;
    let mut out = Vec::with_capacity(rings.len());
    for (k, ring) in rings.iter().enumerate() {
        let arr = ring
            .as_array()
            .ok_or_else(|| format!("{} is not an array of positions", pname(k)))?;
        let mut pts = Vec::with_capacity(arr.len());
        for (j, pos) in arr.iter().enumerate() {
            let xy = pos.as_array().and_then(|a| {
                let x = a.first()?.as_f64()?;
                let y = a.get(1)?.as_f64()?;
                Some([x, y])
            });
            pts.push(xy.ok_or_else(|| format!("{} point {j} is not a position [x, y]: {pos}", pname(k)))?);
        }
        out.push(pts);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Shapefile
// ---------------------------------------------------------------------------------------------

fn read_shapefile_features(path: &Path) -> Result<(Vec<RawFeature>, Declared)> {
    let declared = match std::fs::read(path.with_extension("prj")) {
        Ok(bytes) => declared_prj(&String::from_utf8_lossy(&bytes)),
        Err(_) => Declared::Nothing,
    };
    let dbf_path = path.with_extension("dbf");
    let table = read_dbf(&dbf_path)?;
    let mut reader = shapefile::ShapeReader::from_path(path)
        .map_err(|e| IoError::new(path, format!("cannot open shapefile: {e}")))?;
    let mut features = Vec::new();
    for (i, shape) in reader.iter_shapes().enumerate() {
        let shape = shape.map_err(|e| IoError::at(path, format!("shape {i}"), format!("cannot read: {e}")))?;
        let Some(record) = table.records.get(i) else {
            return Err(IoError::at(
                path,
                format!("shape {i}"),
                format!("the .dbf has only {} records", table.records.len()),
            ));
        };
        let Some(values) = record else { continue }; // deleted record
        let rings: Vec<(bool, Vec<[f64; 2]>)> = match shape {
            shapefile::Shape::Polygon(p) => ring_list(p.into_inner(), |pt| [pt.x, pt.y]),
            shapefile::Shape::PolygonM(p) => ring_list(p.into_inner(), |pt| [pt.x, pt.y]),
            shapefile::Shape::PolygonZ(p) => ring_list(p.into_inner(), |pt| [pt.x, pt.y]),
            shapefile::Shape::NullShape => {
                return Err(IoError::at(
                    path,
                    format!("feature {i}"),
                    "null shape: the feature has no geometry",
                ));
            }
            other => {
                return Err(IoError::at(
                    path,
                    format!("feature {i}"),
                    format!("shape type {} is not a polygon", other.shapetype()),
                ));
            }
        };
        let props = table.fields.iter().cloned().zip(values.iter().cloned()).collect();
        features.push(RawFeature {
            index: i,
            polygons: group_rings(rings),
            props,
        });
    }
    let live = table.records.iter().filter(|r| r.is_some()).count();
    if features.len() != live {
        return Err(IoError::new(
            path,
            format!(
                "the .shp has {} shapes but the .dbf {} records",
                features.len(),
                table.records.len()
            ),
        ));
    }
    Ok((features, declared))
}

fn ring_list<P>(rings: Vec<shapefile::PolygonRing<P>>, xy: impl Fn(&P) -> [f64; 2]) -> Vec<(bool, Vec<[f64; 2]>)> {
    rings
        .into_iter()
        .map(|r| match r {
            shapefile::PolygonRing::Outer(pts) => (true, pts.iter().map(&xy).collect()),
            shapefile::PolygonRing::Inner(pts) => (false, pts.iter().map(&xy).collect()),
        })
        .collect()
}

/// Shoelace area (absolute) of a ring.
fn ring_area(r: &[[f64; 2]]) -> f64 {
    let mut s = 0.0;
    for w in r.windows(2) {
        s += w[0][0] * w[1][1] - w[1][0] * w[0][1];
    }
    (s / 2.0).abs()
}

/// Even–odd point-in-ring test.
fn point_in_ring(p: [f64; 2], r: &[[f64; 2]]) -> bool {
    let mut inside = false;
    for w in r.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Assigns each hole to the smallest outer ring containing its first point.
fn group_rings(rings: Vec<(bool, Vec<[f64; 2]>)>) -> RawPolygons {
    let mut polys: Vec<Vec<Vec<[f64; 2]>>> = Vec::new();
    let mut holes = Vec::new();
    for (outer, pts) in rings {
        if outer {
            polys.push(vec![pts]);
        } else {
            holes.push(pts);
        }
    }
    let areas: Vec<f64> = polys.iter().map(|p| ring_area(&p[0])).collect();
    for h in holes {
        let probe = h.first().copied().unwrap_or([f64::NAN, f64::NAN]);
        let host = (0..polys.len())
            .filter(|&i| point_in_ring(probe, &polys[i][0]))
            .min_by(|&a, &b| areas[a].total_cmp(&areas[b]));
        match host {
            Some(i) => polys[i].push(h),
            None => polys.push(vec![h]),
        }
    }
    polys
}

/// Reads what a `.prj` (WKT 1) says.
fn declared_prj(wkt: &str) -> Declared {
    let t = wkt.trim();
    if t.is_empty() {
        return Declared::Nothing;
    }
    let head: String = t.chars().take(80).collect();
    let upper = t.to_ascii_uppercase();
    if upper.starts_with("GEOGCS") {
        let wgs = ["WGS_1984", "WGS 84", "WGS84", "WGS 1984"]
            .iter()
            .any(|k| upper.contains(k));
        let cgcs = [
            "CHINA_2000",
            "CGCS2000",
            "CGCS_2000",
            "CHINA GEODETIC COORDINATE SYSTEM 2000",
            "CHINA_GEODETIC_COORDINATE_SYSTEM_2000",
        ]
        .iter()
        .any(|k| upper.contains(k));
        if wgs || cgcs {
            return Declared::Wgs84Like(head);
        }
    }
    let hint = match prj_epsg_hint(&upper) {
        Some(c) => format!("; it looks like EPSG:{c}"),
        None => String::new(),
    };
    Declared::Other(format!("'{head}…' (.prj{hint})"))
}

/// The EPSG code a `.prj` most likely means, for error messages only: its outermost
/// `AUTHORITY["EPSG","…"]`, else the ESRI names of CGCS2000 Gauss–Krüger zones and Web Mercator.
fn prj_epsg_hint(upper: &str) -> Option<u32> {
    let number_after = |pat: &str| -> Option<u32> {
        let i = upper.find(pat)? + pat.len();
        let digits: String = upper[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    };
    const PAT: &str = "AUTHORITY[\"EPSG\",";
    if let Some(i) = upper.rfind(PAT) {
        let rest = upper[i + PAT.len()..].trim_start_matches([' ', '"']);
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(c) = digits.parse() {
            return Some(c);
        }
    }
    if upper.contains("WEB_MERCATOR") || upper.contains("PSEUDO-MERCATOR") {
        return Some(3857);
    }
    if let Some(cm) = number_after("CGCS2000_3_DEGREE_GK_CM_") {
        return ((75..=135).contains(&cm) && cm % 3 == 0).then(|| 4534 + (cm - 75) / 3);
    }
    if let Some(z) = number_after("CGCS2000_3_DEGREE_GK_ZONE_") {
        return (25..=45).contains(&z).then(|| 4513 + (z - 25));
    }
    if let Some(cm) = number_after("CGCS2000_GK_CM_") {
        return ((75..=135).contains(&cm) && (cm - 75) % 6 == 0).then(|| 4502 + (cm - 75) / 6);
    }
    if let Some(z) = number_after("CGCS2000_GK_ZONE_") {
        return (13..=23).contains(&z).then(|| 4491 + (z - 13));
    }
    None
}

/// A dBase table: field names and, per record, its values (None = deleted record).
struct DbfTable {
    fields: Vec<String>,
    records: Vec<Option<Vec<Option<String>>>>,
}

/// Reads a dBase III table, choosing the text encoding as described in the module doc.
fn read_dbf(path: &Path) -> Result<DbfTable> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    if bytes.len() < 33 {
        return Err(IoError::new(
            path,
            format!("not a dBase file: only {} bytes", bytes.len()),
        ));
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let n_records = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let header_len = u16_at(8);
    let record_len = u16_at(10);
    let ldid = bytes[29];
    if header_len < 33 || header_len > bytes.len() || record_len == 0 {
        return Err(IoError::at(
            path,
            "byte 8",
            format!("bad dBase header (header length {header_len}, record length {record_len})"),
        ));
    }
    let body = &bytes[header_len..];
    let encoding = dbf_encoding(path, body, ldid)?;
    // field descriptors: 32 bytes each from offset 32 up to the 0x0D terminator
    struct Field {
        name: String,
        kind: u8,
        offset: usize,
        len: usize,
    }
    let mut fields = Vec::new();
    let mut offset = 1; // byte 0 of a record is the deletion flag
    let mut d = 32;
    while d + 32 <= header_len && bytes[d] != 0x0D {
        let raw_name = &bytes[d..d + 11];
        let end = raw_name.iter().position(|&b| b == 0).unwrap_or(11);
        let (name, _, _) = encoding.decode(&raw_name[..end]);
        let kind = bytes[d + 11];
        let len = bytes[d + 16] as usize;
        fields.push(Field {
            name: name.trim().to_string(),
            kind,
            offset,
            len,
        });
        offset += len;
        d += 32;
    }
    if offset > record_len {
        return Err(IoError::at(
            path,
            "header",
            format!("fields span {offset} bytes but records are {record_len} bytes"),
        ));
    }
    let mut records = Vec::with_capacity(n_records);
    for r in 0..n_records {
        let start = r * record_len;
        let Some(rec) = body.get(start..start + record_len) else {
            return Err(IoError::at(
                path,
                format!("record {r}"),
                format!("file ends early: header promises {n_records} records"),
            ));
        };
        if rec[0] == b'*' {
            records.push(None);
            continue;
        }
        let mut values = Vec::with_capacity(fields.len());
        for f in &fields {
            let raw = &rec[f.offset..f.offset + f.len];
            let v = match f.kind {
                b'I' if f.len == 4 => Some(i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]).to_string()),
                b'O' | b'B' if f.len == 8 => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(raw);
                    Some(f64::from_le_bytes(a).to_string())
                }
                b'M' | b'G' | b'P' => None, // memo/binary blocks live in another file
                _ => {
                    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                    let (text, _, had_errors) = encoding.decode(&raw[..end]);
                    if had_errors {
                        return Err(IoError::at(
                            path,
                            format!("record {r} field {}", f.name),
                            format!("text is not valid {}", encoding.name()),
                        ));
                    }
                    let t = text.trim();
                    (!t.is_empty()).then(|| t.to_string())
                }
            };
            values.push(v);
        }
        records.push(Some(values));
    }
    Ok(DbfTable {
        fields: fields.into_iter().map(|f| f.name).collect(),
        records,
    })
}

fn dbf_encoding(path: &Path, body: &[u8], ldid: u8) -> Result<&'static encoding_rs::Encoding> {
    if let Ok(cpg) = std::fs::read_to_string(path.with_extension("cpg")) {
        let label = cpg.trim().to_ascii_lowercase();
        let by_number = match label.trim_start_matches("cp").trim_start_matches("windows-") {
            "936" => Some(encoding_rs::GBK),
            "65001" => Some(encoding_rs::UTF_8),
            "950" => Some(encoding_rs::BIG5),
            "54936" => Some(encoding_rs::GB18030),
            _ => None,
        };
        return by_number
            .or_else(|| encoding_rs::Encoding::for_label(label.as_bytes()))
            .ok_or_else(|| {
                IoError::new(
                    &path.with_extension("cpg"),
                    format!("unknown code page '{}'", cpg.trim()),
                )
            });
    }
    if std::str::from_utf8(body).is_ok() {
        return Ok(encoding_rs::UTF_8);
    }
    Ok(match ldid {
        0x78 => encoding_rs::BIG5,
        _ => encoding_rs::GBK,
    })
}

// ---------------------------------------------------------------------------------------------
// GeoPackage
// ---------------------------------------------------------------------------------------------

fn read_gpkg_features(path: &Path, layer: Option<&str>) -> Result<(Vec<RawFeature>, Declared)> {
    use geo_types::Geometry;
    let (org, code) = crate::gpkg::layer_srs_organization(path, layer)?;
    let declared = match (org.to_ascii_uppercase().as_str(), code) {
        ("NONE", _) | (_, -1 | 0) => Declared::Nothing,
        ("EPSG", 4326 | 4490) => Declared::Wgs84Like(format!("EPSG:{code}")),
        ("EPSG", c) if c > 0 => Declared::Epsg(c as u32, format!("EPSG:{c}")),
        _ => Declared::Other(format!("{org}:{code}")),
    };
    let rows = crate::gpkg::read_layer(path, layer)?;
    let mut features = Vec::with_capacity(rows.len());
    for (i, (geom, values)) in rows.into_iter().enumerate() {
        let props: Vec<(String, Option<String>)> = values
            .into_iter()
            .map(|(k, v)| {
                let t = match v {
                    crate::gpkg::Value::Null => None,
                    crate::gpkg::Value::Integer(n) => Some(n.to_string()),
                    crate::gpkg::Value::Real(f) => Some(if f.fract() == 0.0 && f.abs() < 1e15 {
                        format!("{f:.0}")
                    } else {
                        f.to_string()
                    }),
                    crate::gpkg::Value::Text(s) => Some(s),
                };
                (k, t)
            })
            .collect();
        let mut polygons: RawPolygons = Vec::new();
        let mut stack: Vec<Geometry<f64>> = match geom {
            Some(g) => vec![g],
            None => {
                return Err(IoError::at(path, format!("feature {i}"), "feature has no geometry"));
            }
        };
        while let Some(g) = stack.pop() {
            match g {
                Geometry::Polygon(p) => polygons.push(raw_polygon(&p)),
                Geometry::MultiPolygon(mp) => polygons.extend(mp.0.iter().map(raw_polygon)),
                Geometry::GeometryCollection(gc) => stack.extend(gc.0.into_iter().rev()),
                other => {
                    return Err(IoError::at(
                        path,
                        format!("feature {i}"),
                        format!("geometry {} is not a polygon", geometry_kind(&other)),
                    ));
                }
            }
        }
        features.push(RawFeature {
            index: i,
            polygons,
            props,
        });
    }
    Ok((features, declared))
}

fn raw_polygon(p: &Polygon<f64>) -> Vec<Vec<[f64; 2]>> {
    std::iter::once(p.exterior())
        .chain(p.interiors())
        .map(|r| r.0.iter().map(|c| [c.x, c.y]).collect())
        .collect()
}

fn geometry_kind(g: &geo_types::Geometry<f64>) -> &'static str {
    use geo_types::Geometry as G;
    match g {
        G::Point(_) => "Point",
        G::Line(_) => "Line",
        G::LineString(_) => "LineString",
        G::Polygon(_) => "Polygon",
        G::MultiPoint(_) => "MultiPoint",
        G::MultiLineString(_) => "MultiLineString",
        G::MultiPolygon(_) => "MultiPolygon",
        G::GeometryCollection(_) => "GeometryCollection",
        G::Rect(_) => "Rect",
        G::Triangle(_) => "Triangle",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_data;
    use geo::{Area, BoundingRect, Contains};
    use renxing_geo::distance::haversine_m;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn shenzhen_districts_geojson() {
        let Some(p) = shared_data::file("cn/shenzhen/sz_districts.json") else {
            return;
        };
        let opts = AdminOptions {
            name_field: Some("qh".into()),
            ..Default::default()
        };
        let units = read_admin(&p, &opts).expect("read");
        // 10 features, property qh = district name without the 区 suffix (file inspected)
        assert_eq!(units.len(), 10);
        let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "罗湖", "福田", "盐田", "宝安", "光明", "坪山", "龙华", "南山", "大鹏", "龙岗"
            ]
        );
        // no code field: codes are the feature indices
        assert_eq!(units[3].code, "3");
        // 宝安 is a MultiPolygon of 2 parts, 南山 of 4
        assert_eq!(units[3].geometry.0.len(), 2);
        assert_eq!(units[7].geometry.0.len(), 4);
        // the file's own centroid_x/centroid_y of 福田 lies inside 福田
        let futian = &units[1];
        assert!(
            futian
                .geometry
                .contains(&geo_types::Point::new(114.04153456314172, 22.546179790257238))
        );
        let bb = MultiPolygon(units.iter().flat_map(|u| u.geometry.0.clone()).collect())
            .bounding_rect()
            .expect("bbox");
        assert!(
            bb.min().x > 113.7 && bb.max().x < 114.7 && bb.min().y > 22.3 && bb.max().y < 22.9,
            "{bb:?}"
        );
    }

    #[test]
    fn shanghai_shapefile_gbk() {
        let Some(p) = shared_data::file("cn/shanghai/districts/shanghai_districts.shp") else {
            return;
        };
        let units = read_admin(&p, &AdminOptions::default()).expect("read");
        // 17 districts, NAME (GBK in the .dbf, LDID 0x4D, no .cpg) and ADMINCODE
        assert_eq!(units.len(), 17);
        let pudong = units.iter().find(|u| u.code == "310115").expect("310115");
        assert_eq!(pudong.name, "浦东新区");
        let baoshan = units.iter().find(|u| u.name == "宝山区").expect("宝山区");
        assert_eq!(baoshan.code, "310113");
        // Pudong's planar area in square degrees is in the DBF's Shape_Area column; our rings
        // must give the same figure (the file is lon/lat WGS84 per its .prj)
        let dbf = read_dbf(&p.with_extension("dbf")).expect("dbf");
        let ia = dbf.fields.iter().position(|f| f == "Shape_Area").expect("Shape_Area");
        let ic = dbf.fields.iter().position(|f| f == "ADMINCODE").expect("ADMINCODE");
        for (u, rec) in units.iter().zip(dbf.records.iter().flatten()) {
            assert_eq!(rec[ic].as_deref(), Some(u.code.as_str()));
            let dbf_area: f64 = rec[ia].as_deref().expect("area").parse().expect("number");
            let area = u.geometry.unsigned_area();
            assert!(
                (area - dbf_area).abs() / dbf_area < 1e-3,
                "{} {area} vs {dbf_area}",
                u.code
            );
        }
    }

    #[test]
    fn henan_gcj02_file_matches_wgs84_file() {
        let (Some(pw), Some(pg)) = (
            shared_data::file("cn/admin/henan_admin_wgs84.geojson"),
            shared_data::file("cn/admin/henan_admin_gcj02.geojson"),
        ) else {
            return;
        };
        let wgs = read_admin(&pw, &AdminOptions::default()).expect("wgs84 file");
        let gcj = read_admin(
            &pg,
            &AdminOptions {
                crs: Some(Crs::Gcj02),
                ..Default::default()
            },
        )
        .expect("gcj02 file");
        // 1 province + 18 cities + 157 counties (data README)
        assert_eq!(wgs.len(), 176);
        assert_eq!(gcj.len(), 176);
        assert_eq!(wgs.iter().filter(|u| u.level.as_deref() == Some("county")).count(), 157);
        // Jiyuan 419001 is both a city and a county: allowed, different levels
        assert_eq!(wgs.iter().filter(|u| u.code == "419001").count(), 2);
        let mut max = 0.0f64;
        let mut n = 0usize;
        for (a, b) in gcj.iter().zip(&wgs) {
            assert_eq!((&a.code, &a.level), (&b.code, &b.level));
            for (pa, pb) in a.geometry.0.iter().zip(&b.geometry.0) {
                for (ra, rb) in std::iter::once(pa.exterior())
                    .chain(pa.interiors())
                    .zip(std::iter::once(pb.exterior()).chain(pb.interiors()))
                {
                    assert_eq!(ra.0.len(), rb.0.len());
                    for (ca, cb) in ra.0.iter().zip(&rb.0) {
                        max = max.max(haversine_m(ca.x, ca.y, cb.x, cb.y));
                        n += 1;
                    }
                }
            }
        }
        eprintln!("henan: {n} vertices, max distance GCJ-02 file (converted) to WGS84 file {max:.3} m");
        // the WGS84 file was made by a single-step inverse, ≤ 3.3 m off (data README)
        assert!(max <= 5.0, "{max}");
        assert!(n > 100_000, "{n}");
    }

    #[test]
    fn tianditu_boundary_lines_are_skipped_and_reported() {
        // The Tianditu files mix units with boundary-line (境界线) features (data README:
        // 34 provinces + 8 lines; 2,892 districts, of which python's json module counts 2,891
        // MultiPolygons and 7 MultiLineStrings).
        let Some(p) = shared_data::file("cn/admin/tianditu/district.geojson") else {
            return;
        };
        // Its one self-crossing ring (铁门关市 659006; GEOS's is_valid agrees) stops a full read
        // with the place named; a study area without that unit reads fine.
        let e = read_admin(&p, &AdminOptions::default()).unwrap_err().to_string();
        assert!(
            e.contains("feature 399 (code 659006)") && e.contains("intersects itself"),
            "{e}"
        );
        let wuhan: Vec<String> = ["420102", "420103", "420104", "420105", "420106", "420107"]
            .map(String::from)
            .to_vec();
        let opts = AdminOptions {
            codes: wuhan.clone(),
            ..Default::default()
        };
        let (read, report) = read_admin_with_report(&p, &opts).unwrap();
        let mut codes: Vec<String> = read.iter().map(|u| u.code.clone()).collect();
        codes.sort();
        assert_eq!(codes, wuhan, "file order is kept; the set is what was asked for");
        assert_eq!(report.skipped_line_features.len(), 7);
        // The province file's lines are skipped too, but its 黑龙江 outline has a self-crossing
        // ring — a real defect, reported with the feature and place rather than read silently.
        let Some(p) = shared_data::file("cn/admin/tianditu/province.geojson") else {
            return;
        };
        let e = read_admin(&p, &AdminOptions::default()).unwrap_err().to_string();
        assert!(
            e.contains("feature 27 (code 230000)") && e.contains("intersects itself"),
            "{e}"
        );
        // A point is still an error: only line features are boundary lines.
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(
            &dir,
            "pt.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":"1"},"geometry":{"type":"Point","coordinates":[116.0,39.0]}}]}"#,
        );
        let e = read_admin(&p, &AdminOptions::default()).unwrap_err();
        assert!(e.message.contains("is not a polygon"), "{e}");
    }

    #[test]
    fn broken_rings_give_one_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = r#"{"type":"Feature","properties":{"adcode":110101,"name":"东城区"},"geometry":{"type":"Polygon","coordinates":[[[116.0,39.0],[116.1,39.0],[116.1,39.1],[116.0,39.1],[116.0,39.0]]]}}"#;
        let unclosed = r#"{"type":"Feature","properties":{"adcode":"110102","name":"西城区"},"geometry":{"type":"Polygon","coordinates":[[[116.0,39.0],[116.1,39.0],[116.1,39.1],[116.0,39.1],[116.0,39.05]]]}}"#;
        let p = write(
            &dir,
            "broken.geojson",
            &format!(r#"{{"type":"FeatureCollection","features":[{good},{unclosed}]}}"#),
        );
        let e = read_admin(&p, &AdminOptions::default()).expect_err("unclosed");
        assert_eq!(e.position.as_deref(), Some("feature 1 (code 110102)"));
        assert!(e.message.starts_with("ring 0 is not closed"), "{e}");
        assert!(
            e.to_string()
                .contains("broken.geojson: feature 1 (code 110102): ring 0 is not closed"),
            "{e}"
        );

        let bowtie = r#"{"type":"Feature","properties":{"code":"7"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[2,0],[3,1],[3,0],[2,1],[2,0]]]]}}"#;
        let p = write(&dir, "bowtie.geojson", bowtie);
        let e = read_admin(&p, &AdminOptions::default()).expect_err("bowtie");
        assert_eq!(e.position.as_deref(), Some("feature 0 (code 7)"));
        assert!(e.message.starts_with("polygon 1 ring 0 intersects itself"), "{e}");

        let spike = r#"{"type":"Polygon","coordinates":[[[0,0],[2,0],[1,0],[1,1],[0,0]]]}"#;
        let e = read_admin(&write(&dir, "spike.json", spike), &AdminOptions::default()).expect_err("spike");
        assert!(e.message.contains("intersects itself"), "{e}");

        let touch = r#"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[2,0],[0,4],[0,0]]]}"#;
        let e = read_admin(&write(&dir, "touch.json", touch), &AdminOptions::default()).expect_err("touch");
        assert!(e.message.contains("intersects itself"), "{e}");

        let short = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#;
        let e = read_admin(&write(&dir, "short.json", short), &AdminOptions::default()).expect_err("short");
        assert!(e.message.contains("has only 3 positions"), "{e}");

        let hole = r#"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[1,1],[2,1]]]}"#;
        let e = read_admin(&write(&dir, "hole.json", hole), &AdminOptions::default()).expect_err("hole");
        assert!(e.message.starts_with("ring 1"), "{e}");

        let metres = r#"{"type":"Polygon","coordinates":[[[500000,3000000],[500100,3000000],[500100,3000100],[500000,3000000]]]}"#;
        let p = write(&dir, "metres.geojson", metres);
        let e = read_admin(&p, &AdminOptions::default()).expect_err("metres as degrees");
        assert!(
            e.message.contains("ring 0 point 0") && e.message.contains("out of range"),
            "{e}"
        );
        let ok = read_admin(
            &p,
            &AdminOptions {
                crs: Some(Crs::Epsg(4547)),
                ..Default::default()
            },
        )
        .expect("4547");
        assert!((ok[0].geometry.0[0].exterior().0[0].x - 114.0).abs() < 1e-9);

        let dup = format!(r#"{{"type":"FeatureCollection","features":[{good},{good}]}}"#);
        let e = read_admin(&write(&dir, "dup.geojson", &dup), &AdminOptions::default()).expect_err("dup");
        assert!(
            e.message
                .contains("code 110101 (level not given) is already used by feature 0"),
            "{e}"
        );

        let e = read_admin(
            &write(
                &dir,
                "bad.geojson",
                "{\"type\": \"FeatureCollection\", \n\"features\": [}",
            ),
            &AdminOptions::default(),
        )
        .expect_err("json");
        assert!(e.position.as_deref().is_some_and(|p| p.starts_with("line 2")), "{e}");

        let opts = AdminOptions {
            code_field: Some("kode".into()),
            ..Default::default()
        };
        let e = read_admin(&write(&dir, "one.geojson", good), &opts).expect_err("missing field");
        assert!(
            e.message.contains("no code field 'kode'; fields found: adcode, name"),
            "{e}"
        );

        let e = read_admin(&write(&dir, "x.kml", good), &AdminOptions::default()).expect_err("ext");
        assert!(e.message.contains("unknown admin boundary format"), "{e}");
    }

    #[test]
    fn geojson_crs_member_and_parent_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        // EPSG:3857 declared by the legacy crs member; parent as DataV object
        let (x0, y0) = (12_957_310.429_610, 4_852_683.668_737); // cs2cs: 116.3975 E, 39.9087 N
        let text = format!(
            r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::3857"}}}},
            "features":[{{"type":"Feature","properties":{{"adcode":110101,"name":"东城区","level":"district","parent":{{"adcode":110100}}}},
            "geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y0}]]]}}}}]}}"#,
            x1 = x0 + 1000.0,
            y1 = y0 + 1000.0
        );
        let units = read_admin(&write(&dir, "m.geojson", &text), &AdminOptions::default()).expect("3857");
        let u = &units[0];
        assert_eq!((u.code.as_str(), u.name.as_str()), ("110101", "东城区"));
        assert_eq!(u.level.as_deref(), Some("district"));
        assert_eq!(u.parent.as_deref(), Some("110100"));
        let c = u.geometry.0[0].exterior().0[0];
        assert!((c.x - 116.3975).abs() < 1e-8 && (c.y - 39.9087).abs() < 1e-8, "{c:?}");
        // Tianditu style: EPSG:4490 declared, `gb` = 156 + adcode
        let tdt = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}},"features":[{"type":"Feature","properties":{"name":"鄂城区","gb":"156420704"},"geometry":{"type":"MultiPolygon","coordinates":[[[[114.8,30.3],[114.9,30.3],[114.9,30.4],[114.8,30.3]]]]}}]}"#;
        let units = read_admin(&write(&dir, "t.geojson", tdt), &AdminOptions::default()).expect("4490");
        assert_eq!((units[0].code.as_str(), units[0].name.as_str()), ("420704", "鄂城区"));
        assert_eq!(units[0].geometry.0[0].exterior().0[1], Coord { x: 114.9, y: 30.3 });
    }

    #[test]
    fn shapefile_prj_rules() {
        let Some(p) = shared_data::file("cn/shanghai/districts/shanghai_districts.shp") else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        for ext in ["shp", "shx", "dbf"] {
            std::fs::copy(p.with_extension(ext), dir.path().join(format!("sh.{ext}"))).expect("copy");
        }
        let copy = dir.path().join("sh.shp");
        // a projected .prj must be confirmed by an explicit crs
        std::fs::write(
            dir.path().join("sh.prj"),
            "PROJCS[\"CGCS2000_3_Degree_GK_CM_120E\",GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\"]]",
        )
        .expect("prj");
        let e = read_admin(&copy, &AdminOptions::default()).expect_err("projected prj");
        assert!(
            e.message.contains("pass the crs explicitly")
                && e.message.contains("CGCS2000_3_Degree_GK_CM_120E")
                && e.message.contains("it looks like EPSG:4549"),
            "{e}"
        );
        // an explicit crs wins (GCJ-02 here: every vertex moves by the GCJ offset, ~500 m)
        let gcj = read_admin(
            &copy,
            &AdminOptions {
                crs: Some(Crs::Gcj02),
                ..Default::default()
            },
        )
        .expect("gcj");
        let wgs = read_admin(&p, &AdminOptions::default()).expect("wgs");
        let (a, b) = (
            gcj[0].geometry.0[0].exterior().0[0],
            wgs[0].geometry.0[0].exterior().0[0],
        );
        let d = haversine_m(a.x, a.y, b.x, b.y);
        assert!((300.0..900.0).contains(&d), "{d}");
        // a .cpg naming UTF-8 is obeyed: the GBK names are then invalid UTF-8
        std::fs::write(dir.path().join("sh.prj"), "GEOGCS[\"GCS_WGS_1984\"]").expect("prj");
        std::fs::write(dir.path().join("sh.cpg"), "UTF-8").expect("cpg");
        let e = read_admin(&copy, &AdminOptions::default()).expect_err("cpg utf-8");
        assert!(e.message.contains("not valid UTF-8"), "{e}");
        std::fs::write(dir.path().join("sh.cpg"), "936").expect("cpg");
        assert_eq!(read_admin(&copy, &AdminOptions::default()).expect("cpg 936").len(), 17);
    }

    #[test]
    fn prj_hints() {
        // EPSG names per crs-definitions: 4526 = 3-degree GK zone 38, 4547 = 3-degree GK CM 114E,
        // 4498 = GK zone 20, 4508 = GK CM 111E
        let hint = |s: &str| prj_epsg_hint(&s.to_ascii_uppercase());
        assert_eq!(hint("PROJCS[\"CGCS2000_3_Degree_GK_Zone_38\",GEOGCS[]]"), Some(4526));
        assert_eq!(hint("PROJCS[\"CGCS2000_3_Degree_GK_CM_114E\"]"), Some(4547));
        assert_eq!(hint("PROJCS[\"CGCS2000_GK_Zone_20\"]"), Some(4498));
        assert_eq!(hint("PROJCS[\"CGCS2000_GK_CM_111E\"]"), Some(4508));
        assert_eq!(hint("PROJCS[\"WGS_1984_Web_Mercator_Auxiliary_Sphere\"]"), Some(3857));
        assert_eq!(
            hint("PROJCS[\"x\",GEOGCS[\"y\",AUTHORITY[\"EPSG\",\"4490\"]],AUTHORITY[\"EPSG\",\"4547\"]]"),
            Some(4547)
        );
        assert_eq!(hint("GEOGCS[\"Beijing 1954\"]"), None);
        assert!(matches!(
            declared_prj("GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\"]"),
            Declared::Wgs84Like(_)
        ));
        assert!(matches!(
            declared_prj("GEOGCS[\"GCS_Beijing_1954\"]"),
            Declared::Other(_)
        ));
    }

    #[test]
    fn geopackage_layer_in_web_mercator() {
        let Some(p) = shared_data::file("urban/bubenec.gpkg") else {
            return;
        };
        let opts = AdminOptions {
            layer: Some("plots".into()),
            ..Default::default()
        };
        let units = read_admin(&p, &opts).expect("plots");
        // 407 plots with distinct ID (sqlite3: count(*), count(distinct ID)); EPSG:3857 → WGS84
        assert_eq!(units.len(), 407);
        let bb = MultiPolygon(units.iter().flat_map(|u| u.geometry.0.clone()).collect())
            .bounding_rect()
            .expect("bbox");
        // Prague-Bubeneč is about 14.39–14.41 E, 50.09–50.11 N
        assert!(
            bb.min().x > 14.3 && bb.max().x < 14.5 && bb.min().y > 50.05 && bb.max().y < 50.15,
            "{bb:?}"
        );
    }

    #[test]
    fn ring_checks_are_fast_on_long_rings() {
        // a 200 000-vertex circle (valid) must be checked well under a second
        let n = 200_000;
        let mut ring: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                [t.cos(), t.sin()]
            })
            .collect();
        ring.push(ring[0]);
        let t0 = std::time::Instant::now();
        assert_eq!(check_ring(&ring), Ok(()));
        assert!(t0.elapsed().as_secs_f64() < 5.0, "{:?}", t0.elapsed());
    }
}
