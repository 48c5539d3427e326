//! `[flood]` of a risk project: depth rasters × a depth–damage curve → damage fractions, damage
//! (with an exposure raster), expected annual damage over return periods, people in water at
//! population points, road closures, and five-grade zoning per cell and per admin unit.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use renxing_exam::standard::StandardProfile;
use renxing_geo::crs::{Crs, Transformer};
use renxing_geo::grid::Grid;
use renxing_io::gpkg::{Feature, FieldType, GeometryKind, Layer, Value};
use renxing_report::page::{MapSpec, Mark, Section, fmt_thousands, grade_map, table};
use renxing_risk::flood::closures::{PROFILE_KEY_DRIVE_DEPTH, road_closures};
use renxing_risk::flood::curves::{BaseDamageValues, DamageCurve, JrcCurves, Occupancy, read_curve_csv};
use renxing_risk::flood::damage::{
    PopulationPoint, cell_damage, depth_class_stats, exposed_population_points, fraction_grid,
};
use renxing_risk::flood::ead::{EadMethod, expected_annual_damage, expected_annual_damage_per_item};
use renxing_risk::flood::{cell_depth, same_geometry};
use renxing_risk::zoning::{
    self, PROFILE_KEYS_FLOOD_DEPTH, UnitBasis, ZoningConfig, ZoningInput, cell_areas_m2, grade_name_zh,
};
use serde::Deserialize;

use super::{Outputs, RiskProject, progress, real, scheme, standard_value};
use crate::layers::{RoadSource, attr, load_roads, parse_crs, units_from_file};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthMap {
    /// GeoTIFF, ESRI ASCII (.asc) or Surfer (.grd, .grd.gz) raster of water depth in metres.
    pub path: PathBuf,
    /// Return period in years (needed for expected annual damage with two maps or more).
    pub return_period: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationPoints {
    pub path: PathBuf,
    #[serde(default = "wgs84")]
    pub crs: String,
    pub id_column: Option<String>,
    pub lon_column: Option<String>,
    pub lat_column: Option<String>,
    /// Column with the number of people.
    pub count_column: String,
    /// Keep only rows whose `filter_column` equals `filter_value` (e.g. iso3 = VEN).
    pub filter_column: Option<String>,
    pub filter_value: Option<String>,
    /// Depth at a point = deepest cell within this radius (m); 0 = the cell under the point.
    #[serde(default)]
    pub radius_m: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roads {
    pub osm: Option<PathBuf>,
    pub nodes: Option<PathBuf>,
    pub edges: Option<PathBuf>,
    pub graphml: Option<PathBuf>,
    pub crs: Option<String>,
    #[serde(default)]
    pub directed: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Units {
    pub path: PathBuf,
    pub code_field: Option<String>,
    pub name_field: Option<String>,
    pub layer: Option<String>,
    pub crs: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodSection {
    pub depth: Vec<DepthMap>,
    /// CRS of rasters that do not declare one (Surfer grids, ASCII grids without .prj).
    pub crs: Option<String>,
    /// JRC depth–damage functions CSV, with `region` and `occupancy`; or `curve`, a depth,fraction CSV.
    pub curves: Option<PathBuf>,
    pub region: Option<String>,
    #[serde(default = "residential")]
    pub occupancy: String,
    pub curve: Option<PathBuf>,
    /// JRC maximum damage per country (with `country`, ISO 3166 alpha-3), or a value per m².
    pub base_values: Option<PathBuf>,
    pub country: Option<String>,
    pub max_damage_per_m2: Option<f64>,
    /// Raster aligned on the depth maps with the floor area (m²) of the occupancy in each cell.
    pub exposure_grid: Option<PathBuf>,
    pub population_points: Option<PopulationPoints>,
    pub roads: Option<Roads>,
    pub units: Option<Units>,
    /// `log_linear` (Delft-FIAT's rule, default) or `trapezoidal`.
    #[serde(default = "log_linear")]
    pub ead_method: String,
    /// Hazard grades: `standard` (depth bounds of the profile), natural_breaks or quantiles.
    #[serde(default = "standard")]
    pub hazard_zoning: String,
    /// Vulnerability, loss and unit grades: natural_breaks or quantiles.
    #[serde(default = "natural_breaks")]
    pub zoning: String,
}

fn wgs84() -> String {
    "wgs84".into()
}
fn residential() -> String {
    "residential".into()
}
fn log_linear() -> String {
    "log_linear".into()
}
fn standard() -> String {
    "standard".into()
}
fn natural_breaks() -> String {
    "natural_breaks".into()
}

pub fn run(
    project: &RiskProject,
    f: &FloodSection,
    standard: &StandardProfile,
    quiet: bool,
    out: &mut Outputs,
    used: &mut Vec<String>,
) -> Result<String> {
    let t0 = Instant::now();
    let err = |key: &str, m: String| project.error("flood", key, m);
    if f.depth.is_empty() {
        return Err(err("depth", "give at least one depth map".into()));
    }
    let method = match f.ead_method.as_str() {
        "log_linear" => EadMethod::LogLinear,
        "trapezoidal" => EadMethod::Trapezoidal,
        other => return Err(err("ead_method", format!("'{other}' is not log_linear or trapezoidal"))),
    };
    let declared = f.crs.as_deref().map(|c| parse_crs(c, "[flood] crs")).transpose()?;
    let bar = progress(f.depth.len() as u64 + 3, quiet, "flood: depth maps")?;

    // Depth maps, all on one grid.
    let mut maps: Vec<(Option<f64>, PathBuf, Grid)> = Vec::new();
    for d in &f.depth {
        let p = project.resolve(&d.path);
        let g = renxing_io::raster::read_grid(&p, declared)?;
        if let Some((_, first_path, first)) = maps.first()
            && !same_geometry(first, &g)
        {
            bail!(
                "{}: depth map {} is not on the grid of {} (size, origin, cell size and CRS must agree)",
                project.path.display(),
                p.display(),
                first_path.display()
            );
        }
        if let Some(t) = d.return_period
            && !(t > 1.0 && t.is_finite())
        {
            return Err(err(
                "depth",
                format!("{}: return period {t} must be > 1 year", p.display()),
            ));
        }
        maps.push((d.return_period, p, g));
        bar.inc(1);
    }
    let with_rp = maps.len() > 1;
    if with_rp && maps.iter().any(|m| m.0.is_none()) {
        return Err(err(
            "depth",
            "with several depth maps every one needs a return_period".into(),
        ));
    }
    maps.sort_by(|a, b| a.0.unwrap_or(0.0).total_cmp(&b.0.unwrap_or(0.0)));
    let grid = &maps.last().expect("one map").2;

    // Curve and value.
    let (curve, curve_name): (DamageCurve, String) = match (&f.curves, &f.curve) {
        (Some(c), None) => {
            let region = f
                .region
                .as_deref()
                .ok_or_else(|| err("region", "JRC curves need a region (e.g. asia)".into()))?;
            let jrc = JrcCurves::read(&project.resolve(c))?;
            let curve = jrc
                .get(region, &f.occupancy)
                .map_err(|e| err("region", e.to_string()))?
                .clone();
            (curve, format!("JRC {region} / {} (Huizinga et al. 2017)", f.occupancy))
        }
        (None, Some(c)) => {
            let p = project.resolve(c);
            (read_curve_csv(&p)?, p.display().to_string())
        }
        _ => {
            return Err(err(
                "curves",
                "give either curves (JRC file, with region) or curve (a CSV)".into(),
            ));
        }
    };
    let value_per_m2: Option<(f64, String)> = match (&f.base_values, f.max_damage_per_m2) {
        (Some(b), None) => {
            let iso = f
                .country
                .as_deref()
                .ok_or_else(|| err("country", "base_values need a country (ISO alpha-3)".into()))?;
            let occ = Occupancy::parse(&f.occupancy)
                .ok_or_else(|| err("occupancy", format!("'{}' has no JRC base value", f.occupancy)))?;
            let bv = BaseDamageValues::read(&project.resolve(b))?;
            let v = bv.value(iso, occ).map_err(|e| err("country", e.to_string()))?;
            Some((v, format!("JRC construction cost {iso} {} (2010 €/m²)", f.occupancy)))
        }
        (None, Some(v)) => {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(err("max_damage_per_m2", format!("{v} must be ≥ 0")));
            }
            Some((v, "project value".into()))
        }
        (None, None) => None,
        _ => {
            return Err(err(
                "base_values",
                "give base_values + country or max_damage_per_m2, not both".into(),
            ));
        }
    };

    // Depth classes and grade bounds from the standard profile.
    let mut bounds = [0.0; 4];
    for (b, k) in bounds.iter_mut().zip(PROFILE_KEYS_FLOOD_DEPTH) {
        *b = standard_value(standard, k, used)?;
    }
    let closure_depth = standard_value(standard, PROFILE_KEY_DRIVE_DEPTH, used)?;
    let class_lower = [0.0, bounds[0], bounds[1], bounds[2], bounds[3]];
    let hazard_scheme = scheme(
        project,
        "flood",
        "hazard_zoning",
        &f.hazard_zoning,
        Some((
            bounds,
            format!("standard profile {}", PROFILE_KEYS_FLOOD_DEPTH.join(", ")),
        )),
    )?;
    let other_scheme = scheme(project, "flood", "zoning", &f.zoning, None)?;

    // Exposure raster → damage per map.
    let exposure = match &f.exposure_grid {
        Some(p) => {
            let p = project.resolve(p);
            let g = renxing_io::raster::read_grid(&p, declared)?;
            if !same_geometry(grid, &g) {
                return Err(err(
                    "exposure_grid",
                    format!("{} is not on the depth maps' grid", p.display()),
                ));
            }
            if value_per_m2.is_none() {
                return Err(err(
                    "exposure_grid",
                    "needs base_values + country or max_damage_per_m2".into(),
                ));
            }
            Some((p, g))
        }
        None => None,
    };
    let n_cells = grid.nrows * grid.ncols;
    let mut per_map_rows = Vec::new();
    let mut damages: Vec<Vec<f64>> = Vec::new();
    let mut map_json = Vec::new();
    for (rp, path, g) in &maps {
        let classes = depth_class_stats(g, &curve, &class_lower).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let wet: u64 = classes.iter().map(|c| c.cells).sum();
        let max_depth = classes.iter().fold(0.0f64, |a, c| a.max(c.max_depth_m));
        let dmg = match (&exposure, &value_per_m2) {
            (Some((_, e)), Some((v, _))) => {
                let v = *v;
                let d = cell_damage(g, e, &curve, v).map_err(|e| anyhow!("{}: {e}", path.display()))?;
                Some(d)
            }
            _ => None,
        };
        let mut row = vec![
            rp.map_or("–".into(), |t| format!("{t}")),
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            fmt_thousands(wet as f64, 0),
            format!("{max_depth:.2}"),
        ];
        for c in &classes {
            row.push(format!("{} ({:.2})", fmt_thousands(c.cells as f64, 0), c.mean_fraction));
        }
        row.push(dmg.as_ref().map_or("–".into(), |d| fmt_thousands(d.total, 0)));
        per_map_rows.push(row);
        map_json.push(serde_json::json!({
            "path": path.display().to_string(),
            "return_period": rp,
            "wet_cells": wet,
            "max_depth_m": max_depth,
            "classes": classes.iter().map(|c| serde_json::json!({"lower_m": c.lower_m, "upper_m": if c.upper_m.is_finite() { Some(c.upper_m) } else { None }, "cells": c.cells, "mean_fraction": c.mean_fraction})).collect::<Vec<_>>(),
            "damage": dmg.as_ref().map(|d| d.total),
        }));
        if let Some(d) = dmg {
            damages.push(d.damage);
        }
    }
    bar.inc(1);
    let rps: Vec<f64> = maps.iter().filter_map(|m| m.0).collect();
    let ead_cells = if with_rp && !damages.is_empty() {
        let layers: Vec<&[f64]> = damages.iter().map(Vec::as_slice).collect();
        Some(expected_annual_damage_per_item(&rps, &layers, method).map_err(|e| err("depth", e.to_string()))?)
    } else {
        None
    };
    let ead_total = if with_rp && !damages.is_empty() {
        let totals: Vec<f64> = damages.iter().map(|d| d.iter().sum()).collect();
        Some(expected_annual_damage(&rps, &totals, method).map_err(|e| err("depth", e.to_string()))?)
    } else {
        None
    };

    // Zoning on the most severe map: hazard = its depth, vulnerability = its damage fraction,
    // exposure = the exposure raster, loss = EAD (several maps) or its damage.
    let hazard: Vec<f64> = (0..n_cells)
        .map(|i| cell_depth(grid, i / grid.ncols, i % grid.ncols))
        .collect();
    let vulnerability = fraction_grid(grid, &curve);
    let exposure_values: Option<Vec<f64>> = exposure.as_ref().map(|(_, e)| {
        e.values
            .iter()
            .map(|&v| if e.is_data(v) { v as f64 } else { f64::NAN })
            .collect()
    });
    let loss: Option<Vec<f64>> = ead_cells.clone().or_else(|| damages.last().cloned());
    let areas = Some(cell_areas_m2(grid));
    let input = ZoningInput {
        hazard: &hazard,
        vulnerability: Some(&vulnerability),
        exposure: exposure_values.as_deref(),
        loss: loss.as_deref(),
        cell_area: areas.as_deref(),
    };
    let config = ZoningConfig {
        hazard: hazard_scheme,
        vulnerability: other_scheme.clone(),
        exposure: other_scheme.clone(),
        loss: other_scheme.clone(),
        positive_only: true,
    };
    let zones =
        zoning::zone_cells(&input, &config).map_err(|e| anyhow!("{}: flood zoning: {e}", project.path.display()))?;
    bar.inc(1);

    // Cells layer: every wet cell of the zoning map, as a polygon in lon/lat.
    let to_wgs =
        Transformer::to_wgs84(grid.crs).map_err(|e| anyhow!("{}: {e}", maps.last().expect("one").1.display()))?;
    let corner = |x: f64, y: f64| -> Result<(f64, f64)> { to_wgs.apply(x, y).map_err(|e| anyhow!("{e}")) };
    let mut fields = vec![
        ("row".to_string(), FieldType::Integer),
        ("col".to_string(), FieldType::Integer),
    ];
    for (rp, _, _) in &maps {
        fields.push((
            rp.map_or("depth_m".into(), |t| format!("depth_rp{t}_m")),
            FieldType::Real,
        ));
    }
    fields.push(("damage_fraction".into(), FieldType::Real));
    if loss.is_some() {
        fields.push((
            if ead_cells.is_some() { "ead" } else { "damage" }.into(),
            FieldType::Real,
        ));
    }
    for g in ["hazard_grade", "vulnerability_grade", "risk_grade"] {
        fields.push((g.into(), FieldType::Integer));
    }
    let mut features = Vec::new();
    let mut marks = Vec::new();
    let risk_grades = zones.loss.as_ref().map(|l| &l.grades);
    let vgrades = &zones.vulnerability.as_ref().expect("given").grades;
    for i in 0..n_cells {
        if hazard[i] <= 0.0 {
            continue;
        }
        let (r, c) = (i / grid.ncols, i % grid.ncols);
        let (w, n) = (grid.x0 + c as f64 * grid.dx, grid.y0 - r as f64 * grid.dy);
        let (e, s) = (w + grid.dx, n - grid.dy);
        let ring = [
            corner(w, n)?,
            corner(e, n)?,
            corner(e, s)?,
            corner(w, s)?,
            corner(w, n)?,
        ];
        let mut v = vec![Value::Integer(r as i64), Value::Integer(c as i64)];
        for (_, _, g) in &maps {
            v.push(real(cell_depth(g, r, c)));
        }
        v.push(real(vulnerability[i]));
        if let Some(l) = &loss {
            v.push(real(l[i]));
        }
        v.push(Value::Integer(zones.hazard.grades[i] as i64));
        v.push(Value::Integer(vgrades[i] as i64));
        v.push(match risk_grades {
            Some(g) => Value::Integer(g[i] as i64),
            None => Value::Null,
        });
        features.push(Feature {
            geometry: Some(geo_types::Polygon::new(geo_types::LineString::from(ring.to_vec()), vec![]).into()),
            values: v,
        });
        marks.push(Mark::Cell {
            w: ring[0].0.min(ring[3].0),
            s: ring[2].1.min(ring[3].1),
            e: ring[1].0.max(ring[2].0),
            n: ring[0].1.max(ring[1].1),
            grade: zones.hazard.grades[i],
        });
    }
    let wet_cells = features.len();
    out.layers.push(Layer {
        name: "flood_cells".into(),
        description: format!("Wet cells: depth per map, damage fraction ({curve_name}) and grades 1 high … 5 low"),
        kind: Some(GeometryKind::Polygon),
        fields,
        features,
    });

    // Population points.
    let mut pop_section = None;
    let mut pop_json = serde_json::Value::Null;
    if let Some(pp) = &f.population_points {
        let path = project.resolve(&pp.path);
        let crs = parse_crs(&pp.crs, "[flood.population_points] crs")?;
        let recs = renxing_io::points::read_points_csv(
            &path,
            &renxing_io::points::PointsCsvOptions {
                id_column: pp.id_column.clone(),
                lon_column: pp.lon_column.clone(),
                lat_column: pp.lat_column.clone(),
                crs,
            },
        )?;
        let from_wgs = |lon: f64, lat: f64| -> Result<(f64, f64)> {
            if grid.crs == Crs::Wgs84 || grid.crs == Crs::Epsg(4326) {
                Ok((lon, lat))
            } else {
                bail!(
                    "population points need a depth grid in WGS84 (the grid is {:?})",
                    grid.crs
                )
            }
        };
        let mut points = Vec::new();
        for (k, r) in recs.iter().enumerate() {
            if let (Some(c), Some(v)) = (&pp.filter_column, &pp.filter_value)
                && attr(r, c).is_none_or(|x| x != v)
            {
                continue;
            }
            let raw = attr(r, &pp.count_column)
                .ok_or_else(|| anyhow!("{}: row {}: no column '{}'", path.display(), k + 2, pp.count_column))?;
            let n: f64 = raw.trim().parse().map_err(|_| {
                anyhow!(
                    "{}: row {} ({}): '{}' = '{raw}' is not a number",
                    path.display(),
                    k + 2,
                    r.id,
                    pp.count_column
                )
            })?;
            if !(n >= 0.0 && n.is_finite()) {
                bail!(
                    "{}: row {} ({}): population {n} must be ≥ 0",
                    path.display(),
                    k + 2,
                    r.id
                );
            }
            let (x, y) = from_wgs(r.lon, r.lat)?;
            points.push(PopulationPoint {
                id: r.id.clone(),
                x,
                y,
                population: n,
            });
        }
        if points.is_empty() {
            return Err(err(
                "population_points",
                format!("{}: no point left after the filter", path.display()),
            ));
        }
        let thresholds = [0.0, closure_depth, bounds[0], bounds[1], bounds[2], bounds[3]];
        let mut rows = Vec::new();
        let mut js = Vec::new();
        let mut layer_features = Vec::new();
        let mut depth_cols: Vec<Vec<f64>> = Vec::new();
        for (rp, p, g) in &maps {
            let ex = exposed_population_points(g, &points, &thresholds, pp.radius_m)
                .map_err(|e| anyhow!("{}: {e}", p.display()))?;
            let mut row = vec![rp.map_or("–".into(), |t| format!("{t}"))];
            for e in &ex.by_threshold {
                row.push(format!("{} ({})", fmt_thousands(e.people, 0), e.count));
            }
            rows.push(row);
            js.push(serde_json::json!({
                "return_period": rp,
                "by_threshold": ex.by_threshold.iter().map(|e| serde_json::json!({"deeper_than_m": e.threshold_m, "people": e.people, "points": e.count})).collect::<Vec<_>>(),
            }));
            depth_cols.push(ex.depth_m);
        }
        for (k, pnt) in points.iter().enumerate() {
            let mut v = vec![Value::Text(pnt.id.clone()), real(pnt.population)];
            for d in &depth_cols {
                v.push(real(d[k]));
            }
            layer_features.push(Feature {
                geometry: Some(geo_types::Point::new(pnt.x, pnt.y).into()),
                values: v,
            });
        }
        let mut lf = vec![
            ("id".to_string(), FieldType::Text),
            ("population".to_string(), FieldType::Real),
        ];
        for (rp, _, _) in &maps {
            lf.push((
                rp.map_or("depth_m".into(), |t| format!("depth_rp{t}_m")),
                FieldType::Real,
            ));
        }
        out.layers.push(Layer {
            name: "flood_population_points".into(),
            description: format!("Population points of {} and the water depth at each", path.display()),
            kind: Some(GeometryKind::Point),
            fields: lf,
            features: layer_features,
        });
        let hdr_owned: Vec<String> = std::iter::once("return period".to_string())
            .chain(thresholds.iter().map(|t| format!("> {t} m")))
            .collect();
        let hdr: Vec<&str> = hdr_owned.iter().map(String::as_str).collect();
        let mut s = Section::new("受淹人口 People in water");
        s.text(&format!(
            "{} points of {} ({} people); depth at a point: the cell under it{}. People (points) deeper than each threshold; {closure_depth} m is the driving closure depth of the profile, the others its hazard-grade bounds.",
            points.len(),
            path.display(),
            fmt_thousands(points.iter().map(|p| p.population).sum(), 0),
            if pp.radius_m > 0.0 { format!(", or the deepest cell within {} m", pp.radius_m) } else { String::new() }
        ));
        s.html(table(&hdr, &rows));
        pop_section = Some(s);
        pop_json = serde_json::json!({"points": points.len(), "people": points.iter().map(|p| p.population).sum::<f64>(), "maps": js});
    }

    // Roads.
    let mut roads_json = serde_json::Value::Null;
    let mut closed_lines: Vec<Vec<(f64, f64)>> = Vec::new();
    if let Some(r) = &f.roads {
        let src = RoadSource {
            osm: r.osm.as_ref().map(|p| project.resolve(p)),
            nodes: r.nodes.as_ref().map(|p| project.resolve(p)),
            edges: r.edges.as_ref().map(|p| project.resolve(p)),
            graphml: r.graphml.as_ref().map(|p| project.resolve(p)),
            crs: r
                .crs
                .as_deref()
                .map(|c| parse_crs(c, "[flood.roads] crs"))
                .transpose()?,
            directed: r.directed,
        };
        let roads = load_roads(&src)?;
        if !(grid.crs == Crs::Wgs84 || grid.crs == Crs::Epsg(4326)) {
            return Err(err(
                "roads",
                format!("road closures need a depth grid in WGS84 (the grid is {:?})", grid.crs),
            ));
        }
        let edges: Vec<(String, Vec<(f64, f64)>)> = roads
            .edges
            .iter()
            .enumerate()
            .map(|(i, e)| (i.to_string(), e.polyline(&roads.nodes)))
            .collect();
        let closures = road_closures(grid, &edges, closure_depth).map_err(|e| err("roads", e.to_string()))?;
        let closed = closures.iter().filter(|c| c.closed).count();
        let mut feats = Vec::new();
        for (c, (_, line)) in closures.iter().zip(&edges) {
            if c.max_depth_m <= 0.0 {
                continue;
            }
            if c.closed {
                closed_lines.push(line.clone());
            }
            feats.push(Feature {
                geometry: Some(geo_types::LineString::from(line.clone()).into()),
                values: vec![
                    Value::Text(c.id.clone()),
                    real(c.max_depth_m),
                    Value::Integer(c.closed as i64),
                ],
            });
        }
        out.layers.push(Layer {
            name: "flood_road_closures".into(),
            description: format!(
                "Wet road edges (edge_id = index in {}); closed above {closure_depth} m",
                roads.source
            ),
            kind: Some(GeometryKind::LineString),
            fields: vec![
                ("edge_id".into(), FieldType::Text),
                ("max_depth_m".into(), FieldType::Real),
                ("closed".into(), FieldType::Integer),
            ],
            features: feats,
        });
        out.files.push((
            "road_closures.csv",
            renxing_risk::flood::closures::closures_csv(&closures).into_bytes(),
        ));
        roads_json = serde_json::json!({"source": roads.source, "edges": edges.len(), "closed": closed, "threshold_m": closure_depth});
    }

    // Units.
    let mut unit_section = None;
    let mut unit_outlines: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut units_json = serde_json::Value::Null;
    if let Some(u) = &f.units {
        if !(grid.crs == Crs::Wgs84 || grid.crs == Crs::Epsg(4326)) {
            return Err(err(
                "units",
                format!("unit zoning needs a depth grid in WGS84 (the grid is {:?})", grid.crs),
            ));
        }
        let path = project.resolve(&u.path);
        let (units, _notes) = units_from_file(
            &path,
            &renxing_io::admin::AdminOptions {
                code_field: u.code_field.clone(),
                name_field: u.name_field.clone(),
                crs: u
                    .crs
                    .as_deref()
                    .map(|c| parse_crs(c, "[flood.units] crs"))
                    .transpose()?,
                layer: u.layer.clone(),
                codes: Vec::new(),
                allow_duplicate_codes: false,
            },
        )?;
        let polys: Vec<_> = units.iter().map(|u| u.geometry.clone()).collect();
        let assign = renxing_geo::zonal::assign_cells(grid, &polys);
        let basis = if loss.is_some() {
            UnitBasis::Loss
        } else {
            UnitBasis::HighHazardShare
        };
        let uz = zoning::zone_units(
            &input,
            &zones,
            &assign.zone_of_cell,
            units.len(),
            basis,
            &other_scheme,
            true,
        )
        .map_err(|e| anyhow!("{}: unit zoning: {e}", path.display()))?;
        let mut rows = Vec::new();
        let mut feats = Vec::new();
        for (unit, r) in units.iter().zip(&uz.rows) {
            for p in unit.geometry.iter() {
                unit_outlines.push(p.exterior().coords().map(|c| (c.x, c.y)).collect());
            }
            let high = r.hazard_share[1] + r.hazard_share[2];
            rows.push(vec![
                unit.code.clone(),
                unit.name.clone(),
                format!("{:.1}", r.area / 1e6),
                format!("{:.2}", r.max_hazard),
                format!("{:.1} %", high * 100.0),
                fmt_thousands(r.loss, 0),
                format!("{} {}", r.grade, grade_name_zh(r.grade)),
            ]);
            feats.push(Feature {
                geometry: Some(unit.geometry.clone().into()),
                values: vec![
                    Value::Text(unit.code.clone()),
                    Value::Text(unit.name.clone()),
                    real(r.area),
                    real(r.max_hazard),
                    real(high),
                    real(r.loss),
                    real(r.basis_value),
                    Value::Integer(r.grade as i64),
                    Value::Text(grade_name_zh(r.grade).into()),
                ],
            });
        }
        out.layers.push(Layer {
            name: "flood_units".into(),
            description: format!("Flood risk per admin unit ({basis:?}; {})", uz.breaks.describe()),
            kind: Some(GeometryKind::MultiPolygon),
            fields: vec![
                ("code".into(), FieldType::Text),
                ("name".into(), FieldType::Text),
                ("area_m2".into(), FieldType::Real),
                ("max_depth_m".into(), FieldType::Real),
                ("high_hazard_share".into(), FieldType::Real),
                ("loss".into(), FieldType::Real),
                ("basis_value".into(), FieldType::Real),
                ("risk_grade".into(), FieldType::Integer),
                ("risk_grade_zh".into(), FieldType::Text),
            ],
            features: feats,
        });
        let mut s = Section::new("按单元分区 Zoning per admin unit");
        s.text(&format!("Unit grade from {basis:?}: {}.", uz.breaks.describe()));
        s.html(table(
            &[
                "code",
                "name",
                "area km²",
                "max depth m",
                "high + mid-high hazard",
                "loss",
                "grade",
            ],
            &rows,
        ));
        unit_section = Some(s);
        units_json = serde_json::json!(uz.rows.iter().zip(&units).map(|(r, u)| serde_json::json!({"code": u.code, "name": u.name, "grade": r.grade, "loss": r.loss, "max_depth_m": r.max_hazard})).collect::<Vec<_>>());
    }
    bar.finish_and_clear();
    let elapsed = t0.elapsed().as_secs_f64();

    // Report.
    let hazard_counts = &zones.hazard.counts;
    out.headline
        .push(("wet cells 受淹网格".into(), fmt_thousands(wet_cells as f64, 0)));
    out.headline.push((
        "max depth 最大水深".into(),
        format!("{:.2} m", hazard.iter().fold(0.0f64, |a, &b| a.max(b))),
    ));
    if let Some(e) = ead_total {
        out.headline
            .push(("expected annual damage 年期望损失".into(), fmt_thousands(e, 0)));
    }
    let mut s = Section::new("洪涝情景 Flood");
    s.list(&[
        format!(
            "Depth maps: {}",
            maps.iter()
                .map(|m| format!(
                    "{} (return period {})",
                    m.1.display(),
                    m.0.map_or("–".into(), |t| format!("{t} a"))
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        format!(
            "Grid {} × {} cells of {:.6} × {:.6} ({:?}); nodata, negative and outside cells are dry.",
            grid.ncols, grid.nrows, grid.dx, grid.dy, grid.crs
        ),
        format!("Depth–damage curve: {curve_name}"),
        match &value_per_m2 {
            Some((v, src)) => format!("Maximum damage {v:.2} per m² ({src})"),
            None => "No maximum damage value given: damage fractions only.".into(),
        },
        match &exposure {
            Some((p, _)) => format!("Exposure raster (m² per cell): {}", p.display()),
            None => "No exposure raster: no damage in money, zoning without exposure and loss.".into(),
        },
        format!(
            "Expected annual damage: {}",
            match (ead_total, with_rp) {
                (Some(e), _) => format!("{} ({:?}, return periods {:?})", fmt_thousands(e, 0), method, rps),
                (None, true) => "needs an exposure raster".into(),
                (None, false) => "needs two depth maps or more with return periods".into(),
            }
        ),
        format!("Computed in {elapsed:.1} s."),
    ]);
    let mut hdr_owned = vec![
        "return period".to_string(),
        "map".into(),
        "wet cells".into(),
        "max depth m".into(),
    ];
    for w in class_lower.windows(2) {
        hdr_owned.push(format!("{}–{} m cells (mean fraction)", w[0], w[1]));
    }
    hdr_owned.push(format!("> {} m", class_lower[4]));
    hdr_owned.push("damage".into());
    let hdr: Vec<&str> = hdr_owned.iter().map(String::as_str).collect();
    s.html(table(&hdr, &per_map_rows));
    s.html(grade_map(
        &MapSpec {
            marks: &marks,
            lines: &closed_lines,
            outlines: &unit_outlines,
            caption: &format!(
                "Hazard grade of the wet cells (deepest map): {}",
                zones.hazard.breaks.describe()
            ),
            radius: 1.0,
            labels: None,
        },
        900.0,
    ));
    let mut grows = Vec::new();
    for g in 1..=5u8 {
        grows.push(vec![
            format!("{g} {}", grade_name_zh(g)),
            fmt_thousands(hazard_counts[g as usize] as f64, 0),
            fmt_thousands(
                zones.vulnerability.as_ref().expect("given").counts[g as usize] as f64,
                0,
            ),
            zones
                .loss
                .as_ref()
                .map_or("–".into(), |l| fmt_thousands(l.counts[g as usize] as f64, 0)),
        ]);
    }
    s.text(&format!(
        "Cells per grade. Vulnerability = damage fraction: {}{}",
        zones.vulnerability.as_ref().expect("given").breaks.describe(),
        zones
            .loss
            .as_ref()
            .map_or(String::new(), |l| format!("; loss: {}", l.breaks.describe()))
    ));
    s.html(table(
        &["grade", "hazard cells", "vulnerability cells", "risk cells"],
        &grows,
    ));
    out.sections.push(s);
    out.sections.extend(pop_section);
    out.sections.extend(unit_section);
    out.summary.insert(
        "flood".into(),
        serde_json::json!({
            "maps": map_json,
            "curve": curve_name,
            "max_damage_per_m2": value_per_m2.as_ref().map(|v| v.0),
            "wet_cells": wet_cells,
            "ead": ead_total,
            "ead_method": format!("{method:?}"),
            "hazard_grade_cells": hazard_counts.iter().enumerate().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            "hazard_breaks": zones.hazard.breaks.bounds,
            "vulnerability_breaks": zones.vulnerability.as_ref().expect("given").breaks.bounds,
            "population": pop_json,
            "roads": roads_json,
            "units": units_json,
            "seconds": elapsed,
        }),
    );
    Ok(format!(
        "flood: {} depth map(s), {} wet cells{}",
        maps.len(),
        fmt_thousands(wet_cells as f64, 0),
        ead_total.map_or(String::new(), |e| format!(
            ", expected annual damage {}",
            fmt_thousands(e, 0)
        ))
    ))
}
