//! `renxing run PROJECT.toml --out DIR`: the shelter exam end to end.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use renxing_exam::population::{
    BuildingWeight, PopulationPoint, PopulationSet, Unit, UnitLocator, disaggregate_by_floor_area,
    disaggregate_by_road_length,
};
use renxing_exam::shelter_exam::{ExamParams, run_shelter_exam};
use renxing_exam::standard::StandardProfile;
use renxing_geo::crs::{Crs, Transformer};
use renxing_io::points::PointsCsvOptions;
use renxing_net::graph::Graph;
use renxing_net::profile::{Mode, Profile};
use renxing_report::{ReportInput, write_outputs};

use crate::layers::{attr, load_roads, parse_crs, shelters_from_csv, shelters_from_osm, units_from_file};
use crate::project::Project;

const STEPS: [&str; 7] = [
    "road network",
    "walking graph",
    "admin units",
    "population",
    "shelters",
    "exam",
    "outputs",
];

/// What a run produced, for the caller's message.
pub struct RunOutcome {
    pub population: f64,
    pub share_within_emergency: Option<f64>,
    pub deficient: usize,
    pub units: usize,
}

pub fn run_project(project_path: &Path, out: &Path, quiet: bool) -> Result<RunOutcome> {
    renxing_report::check_out_dir(out)?;
    let project = Project::load(project_path)?;
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(STEPS.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .map_err(|e| anyhow!("{e}"))?
            .progress_chars("=> "),
    );
    // Keep the spinner and clock moving through long steps (archive decompression, big grids).
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut timings = Vec::new();
    let mut t = Instant::now();
    let mut step = |i: usize, timings: &mut Vec<(String, f64)>| {
        if i > 0 {
            timings.push((STEPS[i - 1].to_string(), t.elapsed().as_secs_f64()));
            bar.inc(1);
        }
        if i < STEPS.len() {
            bar.set_message(STEPS[i]);
        }
        t = Instant::now();
    };
    let mut inputs: Vec<(String, String)> = Vec::new();

    // Standard profile.
    let standard = match StandardProfile::builtin(&project.standard.profile) {
        Some(s) => s,
        None => StandardProfile::load(&project.resolve(Path::new(&project.standard.profile)))?,
    }
    .with_overrides(&project.standard.overrides)
    .with_context(|| format!("{}: [standard] overrides", project_path.display()))?;

    step(0, &mut timings);
    let n = &project.network;
    let net_crs = n.crs.as_deref().map(|c| parse_crs(c, "[network] crs")).transpose()?;
    let road_source = crate::layers::RoadSource {
        osm: n.osm.as_ref().map(|p| project.resolve(p)),
        nodes: n.nodes.as_ref().map(|p| project.resolve(p)),
        edges: n.edges.as_ref().map(|p| project.resolve(p)),
        graphml: n.graphml.as_ref().map(|p| project.resolve(p)),
        crs: net_crs,
        directed: n.directed,
    };
    let road = load_roads(&road_source)?;
    inputs.push(("road network".into(), road.source.clone()));

    step(1, &mut timings);
    let profile = Profile::builtin(Mode::Walk)
        .with_speeds(&n.walk_speeds_kmh)
        .map_err(|e| anyhow!("[network] walk_speeds_kmh: {e}"))?;
    let graph = Graph::build(&road, &profile);
    if graph.node_count() == 0 {
        bail!("{}: no walkable road in the network", road.source);
    }

    step(2, &mut timings);
    let mut load_notes = Vec::new();
    let units = load_units(&project, &mut load_notes)?;
    inputs.push(("admin units".into(), admin_source(&project)));

    step(3, &mut timings);
    let population = load_population(&project, &units, &graph)?;
    inputs.push((
        "population".into(),
        format!(
            "{} ({})",
            project.resolve(&project.population.path).display(),
            population.method
        ),
    ));

    step(4, &mut timings);
    let s = &project.shelters;
    let mut shelters = Vec::new();
    if let Some(p) = &s.path {
        let path = project.resolve(p);
        let opts = PointsCsvOptions {
            id_column: s.id_column.clone(),
            lon_column: s.lon_column.clone(),
            lat_column: s.lat_column.clone(),
            crs: parse_crs(&s.crs, "[shelters] crs")?,
        };
        shelters.extend(shelters_from_csv(
            &path,
            opts,
            s.name_column.as_deref(),
            s.area_column.as_deref(),
        )?);
        inputs.push(("shelters".into(), path.display().to_string()));
    }
    if !s.osm.is_empty() {
        let files: Vec<_> = s.osm.iter().map(|p| project.resolve(p)).collect();
        shelters.extend(shelters_from_osm(&files, &s.kinds, s.effective_area_share)?);
        inputs.push((
            "candidate shelters (OSM)".into(),
            format!(
                "{} — kinds: {}; effective area: {}",
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if s.kinds.is_empty() {
                    "all".into()
                } else {
                    s.kinds.join(", ")
                },
                s.effective_area_share
                    .map_or("unknown (no share stated)".into(), |x| format!(
                        "{:.0} % of the mapped polygon area",
                        x * 100.0
                    ))
            ),
        ));
    }

    step(5, &mut timings);
    let params = ExamParams::from_standard(&standard, project.exam.max_snap_m)?;
    let mut exam = run_shelter_exam(
        &graph,
        profile.access_speed_mps(),
        &units,
        &population,
        &shelters,
        &params,
    );
    exam.notes.extend(load_notes);

    step(6, &mut timings);
    let title = if project.title.is_empty() {
        project.name.clone()
    } else {
        project.title.clone()
    };
    let mut extra = renxing_report::Extra::default();
    if let Some(sec) = &project.siting {
        let model: renxing_site::Model = sec.model.parse().map_err(|e: String| anyhow!("[siting] model: {e}"))?;
        if matches!(
            model,
            renxing_site::Model::PDispersion | renxing_site::Model::CpMedian | renxing_site::Model::Cmclp
        ) {
            bail!(
                "[siting] model {model}: use mclp, p-median, p-center, lscp or lscp-b here (no capacities or site distances in a project yet)"
            );
        }
        let service_m = match sec.service_m {
            Some(d) if d.is_finite() && d > 0.0 => d,
            Some(d) => bail!("[siting] service_m = {d}: give metres > 0"),
            None => params.emergency_distance_m,
        };
        if !(sec.candidate_cell_m.is_finite() && sec.candidate_cell_m > 0.0) {
            bail!("[siting] candidate_cell_m = {}: give metres > 0", sec.candidate_cell_m);
        }
        let candidates = match &sec.candidates {
            None => None,
            Some(p) => {
                let pts = crate::layers::load_points(&project.resolve(p), parse_crs(&sec.crs, "[siting] crs")?)?;
                Some(pts.into_iter().map(|p| (p.id, p.lon, p.lat)).collect())
            }
        };
        let done = crate::site::run_project_siting(&crate::site::ProjectSiting {
            model,
            add: sec.add,
            service_m,
            candidates,
            cell_m: sec.candidate_cell_m,
            roads: road_source.clone(),
            graph: &graph,
            units: &units,
            population: &population.points,
            shelters: &shelters,
            max_snap_m: project.exam.max_snap_m,
            time_limit: sec.time_limit,
            quiet,
        })?;
        if !quiet {
            bar.suspend(|| eprintln!("{}", done.line));
        }
        extra.sections.push(done.section);
        extra.layers.extend(done.layers);
        extra.summary.insert("siting".into(), done.summary);
        extra.files.push(("siting_assignment.csv", done.assignment_csv));
    }
    let scen = crate::dual_use::run_scenarios(&crate::dual_use::ScenarioContext {
        project: &project,
        standard: &standard,
        graph: &graph,
        units: &units,
        population: &population.points,
        access_speed_mps: profile.access_speed_mps(),
        max_snap_m: params.max_snap_m.unwrap_or(1000.0),
    })?;
    if !project.scenario.is_empty() {
        if !quiet {
            bar.suspend(|| scen.lines.iter().for_each(|l| eprintln!("{l}")));
        }
        extra.sections.extend(scen.sections);
        extra.layers.extend(scen.layers);
        extra.summary.insert("dual_use".into(), scen.summary);
        timings.extend(scen.timings);
    }
    let input = ReportInput {
        project: &project.name,
        title: &title,
        units: &units,
        population: &population,
        shelters: &shelters,
        exam: &exam,
        graph: &graph,
        road: &road,
        standard: &standard,
        inputs,
        timings: timings.clone(),
        extra,
    };
    write_outputs(out, &input)?;
    step(7, &mut timings);
    bar.finish_and_clear();
    Ok(RunOutcome {
        population: exam.total.population,
        share_within_emergency: exam.total.share_within_emergency,
        deficient: exam.ranking.len(),
        units: units.len(),
    })
}

fn admin_source(p: &Project) -> String {
    let a = &p.admin;
    match (&a.path, &a.cnmaps_archive) {
        (Some(path), _) => format!(
            "{} (crs {})",
            p.resolve(path).display(),
            a.crs.as_deref().unwrap_or("as declared by the file")
        ),
        (None, Some(ar)) => format!(
            "cnmaps {} under {}",
            p.resolve(ar).display(),
            a.under.as_deref().unwrap_or("")
        ),
        _ => String::new(),
    }
}

fn load_units(p: &Project, notes: &mut Vec<String>) -> Result<Vec<Unit>> {
    let a = &p.admin;
    let mut units = if let Some(path) = &a.path {
        let opts = renxing_io::admin::AdminOptions {
            code_field: a.code_field.clone(),
            name_field: a.name_field.clone(),
            crs: a.crs.as_deref().map(|c| parse_crs(c, "[admin] crs")).transpose()?,
            layer: a.layer.clone(),
            // Only the units examined are read (and their geometry checked).
            codes: a.codes.clone(),
            allow_duplicate_codes: false,
        };
        let (units, file_notes) = units_from_file(&p.resolve(path), &opts)?;
        notes.extend(file_notes);
        units
    } else {
        let archive = p.resolve(
            a.cnmaps_archive
                .as_ref()
                .ok_or_else(|| anyhow!("[admin] cnmaps_archive missing"))?,
        );
        let index = p.resolve(
            a.cnmaps_index
                .as_ref()
                .ok_or_else(|| anyhow!("[admin] cnmaps_index missing"))?,
        );
        let under = a.under.clone().unwrap_or_default();
        crate::layers::units_from_cnmaps(&archive, &index, &under)?
    };
    if !a.codes.is_empty() {
        for c in &a.codes {
            if !units.iter().any(|u| &u.code == c) {
                bail!("[admin] codes: unit {c} is not in the admin layer");
            }
        }
        units.retain(|u| a.codes.contains(&u.code));
    }
    if units.is_empty() {
        bail!("[admin]: no admin unit loaded");
    }
    Ok(units)
}

fn load_population(p: &Project, units: &[Unit], graph: &Graph) -> Result<PopulationSet> {
    let s = &p.population;
    let path = p.resolve(&s.path);
    let declared = s.crs.as_deref().map(|c| parse_crs(c, "[population] crs")).transpose()?;
    let crs = declared.unwrap_or_default();
    let source = if s.source.is_empty() {
        path.display().to_string()
    } else {
        s.source.clone()
    };
    match s.kind.as_str() {
        "grid" => grid_population(&path, declared, units, &source),
        "points" => {
            let col = s
                .count_column
                .as_deref()
                .ok_or_else(|| anyhow!("[population] kind = \"points\" needs count_column"))?;
            let pts = crate::layers::load_points(&path, crs)?;
            let loc = UnitLocator::new(units);
            let mut points = Vec::with_capacity(pts.len());
            for pt in pts {
                let raw = attr(&pt, col).ok_or_else(|| anyhow!("{}: no column '{col}'", path.display()))?;
                let count: f64 = raw
                    .trim()
                    .parse()
                    .ok()
                    .filter(|c: &f64| c.is_finite() && *c >= 0.0)
                    .ok_or_else(|| {
                        anyhow!(
                            "{}: point {}: count '{raw}' is not a non-negative number",
                            path.display(),
                            pt.id
                        )
                    })?;
                let unit = loc.locate(pt.lon, pt.lat);
                points.push(PopulationPoint {
                    id: pt.id,
                    lon: pt.lon,
                    lat: pt.lat,
                    count,
                    unit,
                });
            }
            Ok(PopulationSet {
                points,
                method: format!("points from {source}"),
                unallocated: vec![],
            })
        }
        _ => {
            let code_col = s.code_column.as_deref().unwrap_or("adcode");
            let val_col = s
                .value_column
                .as_deref()
                .ok_or_else(|| anyhow!("[population] kind = \"admin_totals\" needs value_column"))?;
            let totals = renxing_io::totals::read_totals(&path, code_col, val_col)?;
            let per_unit: Vec<Option<f64>> = units
                .iter()
                .map(|u| totals.iter().find(|(c, _)| *c == u.code).map(|(_, v)| *v))
                .collect();
            if let Some(u) = units.iter().zip(&per_unit).find(|(_, t)| t.is_none()) {
                bail!(
                    "{}: no total for admin unit {} ({})",
                    path.display(),
                    u.0.code,
                    u.0.name
                );
            }
            match s.method.as_deref().unwrap_or("road_length") {
                "road_length" => Ok(disaggregate_by_road_length(graph, units, &per_unit, &source)),
                "floor_area" => {
                    let osm = s
                        .buildings_osm
                        .as_ref()
                        .ok_or_else(|| anyhow!("[population] method = \"floor_area\" needs buildings_osm"))?;
                    let data = renxing_io::osm::read_osm(&p.resolve(osm))?;
                    let weights: Vec<BuildingWeight> = renxing_io::osm::buildings(&data)
                        .into_iter()
                        .map(|b| BuildingWeight {
                            id: b.osm_id,
                            lon: b.lon,
                            lat: b.lat,
                            floor_area_m2: b.area_m2 * b.levels.filter(|l| *l >= 1.0).unwrap_or(1.0),
                        })
                        .collect();
                    Ok(disaggregate_by_floor_area(&weights, units, &per_unit, &source))
                }
                other => bail!("[population] method '{other}' is not road_length or floor_area"),
            }
        }
    }
}

/// Population grid cells → points at cell centres, assigned to units by exact cell-centre
/// rasterisation (grid in lon/lat) or point-in-polygon after conversion (projected grids).
pub fn grid_population(path: &Path, crs: Option<Crs>, units: &[Unit], source: &str) -> Result<PopulationSet> {
    let grid = renxing_io::raster::read_grid(path, crs)?;
    let geographic = matches!(grid.crs, Crs::Wgs84 | Crs::Cgcs2000);
    let to_wgs =
        Transformer::to_wgs84(grid.crs).with_context(|| format!("{}: grid CRS {}", path.display(), grid.crs))?;
    let zone_of = if geographic {
        let zones: Vec<_> = units.iter().map(|u| u.geometry.clone()).collect();
        Some(renxing_geo::zonal::assign_cells(&grid, &zones).zone_of_cell)
    } else {
        None
    };
    let loc = UnitLocator::new(units);
    let mut points = Vec::new();
    for (row, col, v) in grid.positive_cells() {
        let (x, y) = grid.cell_centre(row, col);
        let (lon, lat) = to_wgs
            .apply(x, y)
            .map_err(|e| anyhow!("{}: cell ({row}, {col}): {e}", path.display()))?;
        let unit = match &zone_of {
            Some(z) => {
                let u = z[row * grid.ncols + col];
                (u != u32::MAX).then_some(u as usize)
            }
            None => loc.locate(lon, lat),
        };
        points.push(PopulationPoint {
            id: format!("r{row}c{col}"),
            lon,
            lat,
            count: v as f64,
            unit,
        });
    }
    Ok(PopulationSet {
        points,
        method: format!(
            "grid {source} ({}×{} cells of {}×{} in {})",
            grid.ncols, grid.nrows, grid.dx, grid.dy, grid.crs
        ),
        unallocated: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grid path of `[population] kind = "grid"` on the Wuhan WorldPop 100 m grid (aged 20+,
    /// ~9.49 M people) and the 13 districts of the cnmaps set (4201xx, GCJ-02 converted to WGS84):
    /// every populated cell becomes a point with its count, assigned to the district containing its
    /// centre — the same rule as zonal sums — and the district sums add up to the grid total
    /// within 1 % (the rest: boundary cells of the OSM-clipped grid outside the Amap boundaries).
    #[test]
    fn wuhan_grid_cells_become_population_points_in_their_districts() {
        let Some(tif) = renxing_io::shared_data::file("cn/wuhan/wuhan_pop_age20plus_sum.tif") else {
            return;
        };
        let Some(archive) = renxing_io::shared_data::file("cn/admin/amap_land_maritime.tar.xz") else {
            return;
        };
        let Some(index) = renxing_io::shared_data::file("cn/admin/administrative.db") else {
            return;
        };
        let units = crate::layers::units_from_cnmaps(&archive, &index, "420100").unwrap();
        assert_eq!(units.len(), 13, "Wuhan has 13 districts");
        assert!(units.iter().all(|u| u.code.starts_with("4201")));
        let set = grid_population(&tif, None, &units, "WorldPop").unwrap();
        let grid = renxing_io::raster::read_grid(&tif, None).unwrap();
        // 494,676 populated cells (counted independently with tifffile/numpy by the raster tests).
        assert_eq!(set.points.len(), 494_676);
        let total = grid.total();
        let placed: f64 = set.points.iter().map(|p| p.count).sum();
        assert!((placed - total).abs() < 1e-6 * total);
        let zones: Vec<_> = units.iter().map(|u| u.geometry.clone()).collect();
        let sums = renxing_geo::zonal::zonal_sums(&grid, &zones);
        for (i, want) in sums.sums.iter().enumerate() {
            let got: f64 = set.points.iter().filter(|p| p.unit == Some(i)).map(|p| p.count).sum();
            assert!(
                (got - want).abs() < 1e-6 * want.max(1.0),
                "{}: {got} vs {want}",
                units[i].code
            );
            eprintln!("  {} {} {want:.0}", units[i].code, units[i].name);
        }
        let in_districts: f64 = sums.sums.iter().sum();
        assert!(
            (in_districts + sums.outside_sum - total).abs() < 1e-6 * total,
            "nothing is lost"
        );
        let gap = (total - in_districts) / total;
        eprintln!(
            "Wuhan: grid total {total:.1}, in districts {in_districts:.1}; {:.3} % outside ({} cells)",
            gap * 100.0,
            sums.outside_cells
        );
        assert!(
            gap.abs() < 0.01,
            "district sums miss {:.3} % of the grid total",
            gap * 100.0
        );
        assert!(set.method.contains("1662×1668"), "{}", set.method);

        // Against the independent reference (tests/reference/wuhan_district_population.py:
        // tifffile + shapely + its own GCJ-02 inverse; output committed as JSON): per-district
        // sums within 1e-9 relative, cell counts exactly, and the same for the cells outside.
        let reference: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tests/reference/wuhan_district_population.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-12);
        let districts = reference["districts"].as_array().unwrap();
        assert_eq!(districts.len(), units.len());
        for d in districts {
            let code = d["code"].as_str().unwrap();
            let i = units
                .iter()
                .position(|u| u.code == code)
                .unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(units[i].name, d["name"].as_str().unwrap(), "{code}");
            let mine: Vec<_> = set.points.iter().filter(|p| p.unit == Some(i)).collect();
            let cells = d["cells"].as_u64().unwrap();
            assert_eq!(mine.len() as u64, cells, "{code}: cells");
            let want = d["population"].as_f64().unwrap();
            let got: f64 = mine.iter().map(|p| p.count).sum();
            assert!(rel(got, want) < 1e-9, "{code}: population {got} vs reference {want}");
        }
        let outside: Vec<_> = set.points.iter().filter(|p| p.unit.is_none()).collect();
        assert_eq!(outside.len() as u64, reference["outside_cells"].as_u64().unwrap());
        let want = reference["outside_population"].as_f64().unwrap();
        let got: f64 = outside.iter().map(|p| p.count).sum();
        assert!(rel(got, want) < 1e-9, "outside: {got} vs reference {want}");
        assert!(rel(total, reference["grid_total"].as_f64().unwrap()) < 1e-9);
    }
}
