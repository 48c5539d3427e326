//! Loading the layers a project or command names, through the importers of renxing-io.

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result, anyhow, bail};
use renxing_exam::population::Unit;
use renxing_exam::shelter_exam::Shelter;
use renxing_geo::crs::Crs;
use renxing_io::points::{PointRecord, PointsCsvOptions, read_points_csv};
use renxing_net::RoadData;

pub fn parse_crs(s: &str, what: &str) -> Result<Crs> {
    Crs::from_str(s).map_err(|e| anyhow!("{what}: {e}"))
}

/// Where the road network comes from: exactly one of an OSM file, node + edge CSV, GraphML.
#[derive(Debug, Default, Clone)]
pub struct RoadSource {
    pub osm: Option<std::path::PathBuf>,
    pub nodes: Option<std::path::PathBuf>,
    pub edges: Option<std::path::PathBuf>,
    pub graphml: Option<std::path::PathBuf>,
    /// Declared CRS of CSV / GraphML coordinates; `None` = WGS84 / the file's own.
    pub crs: Option<Crs>,
    /// Edge CSV lists each direction of a street as its own row.
    pub directed: bool,
}

pub fn load_roads(src: &RoadSource) -> Result<RoadData> {
    if src.osm.is_some() && src.crs.is_some() {
        bail!("a CRS does not apply to OpenStreetMap files (always WGS84)");
    }
    match (&src.osm, &src.nodes, &src.edges, &src.graphml) {
        (Some(f), None, None, None) => {
            let data = renxing_io::osm::read_osm(f)?;
            Ok(renxing_io::osm::roads(&data))
        }
        (None, Some(n), Some(e), None) => {
            let opts = renxing_io::network_csv::NetworkCsvOptions {
                crs: src.crs.unwrap_or_default(),
                directed: src.directed,
                ..Default::default()
            };
            Ok(renxing_io::network_csv::read_network_csv(n, e, &opts)?)
        }
        (None, None, None, Some(g)) => Ok(renxing_io::graphml::read_graphml_with(
            g,
            &renxing_io::graphml::GraphmlOptions { crs: src.crs },
        )?),
        _ => bail!("give the road network as one of: --osm FILE, --nodes N.csv --edges E.csv, --graphml FILE"),
    }
}

/// Points CSV with `id,lon,lat` (or detected columns).
pub fn load_points(path: &Path, crs: Crs) -> Result<Vec<PointRecord>> {
    Ok(read_points_csv(
        path,
        &PointsCsvOptions {
            crs,
            ..Default::default()
        },
    )?)
}

pub fn attr<'a>(p: &'a PointRecord, column: &str) -> Option<&'a str> {
    p.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(column))
        .map(|(_, v)| v.as_str())
}

/// Shelters from a points CSV, with optional name and effective-area columns.
pub fn shelters_from_csv(
    path: &Path,
    opts: PointsCsvOptions,
    name_col: Option<&str>,
    area_col: Option<&str>,
) -> Result<Vec<Shelter>> {
    let points = read_points_csv(path, &opts)?;
    if let (Some(col), Some(first)) = (area_col, points.first())
        && attr(first, col).is_none()
    {
        bail!("{}: no area column '{col}'", path.display());
    }
    points
        .into_iter()
        .map(|p| {
            let area_m2 = match area_col.and_then(|c| attr(&p, c)).map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|a| a.is_finite() && *a >= 0.0)
                        .ok_or_else(|| {
                            anyhow!(
                                "{}: shelter {}: area '{v}' is not a non-negative number",
                                path.display(),
                                p.id
                            )
                        })?,
                ),
            };
            let name = name_col.and_then(|c| attr(&p, c)).unwrap_or(&p.id).to_string();
            Ok(Shelter {
                id: p.id.clone(),
                name,
                lon: p.lon,
                lat: p.lat,
                area_m2,
                kind: "shelter".into(),
            })
        })
        .collect()
}

/// Candidate shelters from OSM facilities of the given kinds (deduplicated by OSM id across
/// files). The effective area is the polygon area times `effective_area_share` when the project
/// states that share; otherwise capacity stays unknown.
pub fn shelters_from_osm(
    files: &[std::path::PathBuf],
    kinds: &[String],
    effective_area_share: Option<f64>,
) -> Result<Vec<Shelter>> {
    let wanted: Vec<renxing_io::osm::FacilityKind> = kinds
        .iter()
        .map(|k| renxing_io::osm::FacilityKind::from_str(k).map_err(|e| anyhow!("[shelters] kinds: {e}")))
        .collect::<Result<_>>()?;
    let mut out: Vec<Shelter> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in files {
        let data = renxing_io::osm::read_osm(f)?;
        for fac in renxing_io::osm::facilities(&data) {
            if (!wanted.is_empty() && !wanted.contains(&fac.kind)) || !seen.insert(fac.osm_id.clone()) {
                continue;
            }
            let area_m2 = match (effective_area_share, fac.area_m2) {
                (Some(s), Some(a)) => Some(a * s),
                _ => None,
            };
            let name = if fac.name.is_empty() {
                format!("{} {}", fac.kind.as_str(), fac.osm_id)
            } else {
                fac.name.clone()
            };
            out.push(Shelter {
                id: fac.osm_id,
                name,
                lon: fac.lon,
                lat: fac.lat,
                area_m2,
                kind: fac.kind.as_str().to_string(),
            });
        }
    }
    Ok(out)
}

/// Admin units from a polygon file, with notes on what was skipped (boundary-line features).
pub fn units_from_file(path: &Path, opts: &renxing_io::admin::AdminOptions) -> Result<(Vec<Unit>, Vec<String>)> {
    let (units, report) =
        renxing_io::admin::read_admin_with_report(path, opts).with_context(|| "reading admin units")?;
    let mut notes = Vec::new();
    if !report.skipped_line_features.is_empty() {
        notes.push(format!(
            "{}: {} boundary-line features (line geometry, not units) were skipped",
            path.display(),
            report.skipped_line_features.len()
        ));
    }
    let units = units
        .into_iter()
        .map(|u| Unit {
            code: u.code,
            name: u.name,
            geometry: u.geometry,
        })
        .collect();
    Ok((units, notes))
}

/// Admin units from the cnmaps archive: the children of `under` (a province or city adcode).
pub fn units_from_cnmaps(archive: &Path, index: &Path, under: &str) -> Result<Vec<Unit>> {
    let filter = renxing_io::cnmaps::CnmapsFilter::under(under);
    let all = renxing_io::cnmaps::read_cnmaps(archive, index, &filter)?;
    // Direct children. A municipality (北京 110000, 上海 310000 …) has one city-level child
    // (110100 市辖区) whose children are the districts: descend through it.
    let mut kids: Vec<_> = all.iter().filter(|u| u.parent.as_deref() == Some(under)).collect();
    if let [only] = kids[..]
        && only.level.as_deref() == Some("city")
    {
        kids = all
            .iter()
            .filter(|u| u.parent.as_deref() == Some(only.code.as_str()))
            .collect();
    }
    if kids.is_empty() {
        bail!("{}: no admin unit under {under}", archive.display());
    }
    Ok(kids
        .into_iter()
        .map(|u| Unit {
            code: u.code.clone(),
            name: u.name.clone(),
            geometry: u.geometry.clone(),
        })
        .collect())
}
