//! `renxing site`: choose facility sites (renxing-site models) from CSV inputs, with the cost
//! matrix read from a file, computed as great-circle distances, or computed on the road network.
//! Writes `result.json`, `assignment.csv` and, when positions are known, `result.gpkg` (see
//! `docs/siting.md`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use geo_types::{Geometry, LineString, Point, coord};
use renxing_geo::crs::{Crs, Transformer};
use renxing_io::gpkg::{Feature, FieldType, GeometryKind, Layer, Value, write_geopackage};
use renxing_net::cch::Customized;
use renxing_net::matrix::{Attach, MatrixOptions, cost_of, many_to_many};
use renxing_net::snap::SnapIndex;
use renxing_site::input::{Columns, Table, read_instance_with, read_site_costs};
use renxing_site::{CostMatrix, Instance, Method, Model, Solution, Spec, Stats, evaluate, solve};
use serde_json::json;

use crate::access::{csv_field, write_atomically};
use crate::route::{Network, NetworkArgs, Phases};

/// Where the demand × site costs come from.
pub enum CostSource {
    File(PathBuf),
    /// Great-circle distance (metres) between positions.
    Euclidean,
    /// Shortest paths on the road network.
    Network(Box<NetworkArgs>),
}

pub struct SiteArgs {
    pub model: Model,
    pub demand: PathBuf,
    pub candidates: PathBuf,
    pub costs: CostSource,
    /// CRS of the demand and candidate positions.
    pub crs: Crs,
    pub columns: Columns,
    pub p: Option<usize>,
    /// New sites on top of the pre-selected ones (p = pre-selected + add).
    pub add: Option<usize>,
    pub budget: Option<f64>,
    pub service: Option<f64>,
    pub site_costs: Option<PathBuf>,
    pub split: bool,
    pub fill_preselected: bool,
    pub method: Method,
    pub gap: f64,
    pub time_limit: Option<f64>,
    pub seed: u64,
    pub out: PathBuf,
    pub quiet: bool,
}

pub fn run_site(a: &SiteArgs) -> Result<()> {
    let t0 = Instant::now();
    let mut phases = Phases::new();
    if a.p.is_some() && a.add.is_some() {
        bail!("give --p (all open sites) or --add (new sites beside the pre-selected ones), not both");
    }
    let to_wgs = Transformer::to_wgs84(a.crs).map_err(|e| anyhow!("--crs: {e}"))?;
    let mut net_line = None;
    let cost_table = match &a.costs {
        CostSource::File(p) => Some(Table::read(p)?),
        _ => None,
    };
    let mut columns = a.columns.clone();
    columns.positions_any_crs = !to_wgs.is_identity();
    let mut inst = read_instance_with(&a.demand, &a.candidates, cost_table, &columns, |d, s| {
        let d = convert(&to_wgs, d, &a.demand)?;
        let s = convert(&to_wgs, s, &a.candidates)?;
        match &a.costs {
            CostSource::Euclidean => Ok(CostMatrix::great_circle(d.to_vec(), s.to_vec())),
            CostSource::Network(net) => {
                let (m, line) = network_matrix(net, &d, &s, &mut Phases::new())
                    .map_err(|e| renxing_site::SiteError::invalid(format!("{e:#}")))?;
                net_line = Some(line);
                Ok(m)
            }
            CostSource::File(_) => unreachable!("file costs are read as a table"),
        }
    })?;
    // Positions for the outputs, in WGS84.
    if !to_wgs.is_identity() {
        if let Some(d) = inst.demand_lonlat.take() {
            inst.demand_lonlat = Some(convert(&to_wgs, &d, &a.demand)?);
        }
        for s in &mut inst.sites {
            if let Some((x, y)) = s.lonlat {
                s.lonlat = Some(
                    to_wgs
                        .apply(x, y)
                        .map_err(|e| anyhow!("{}: site {}: {e}", a.candidates.display(), s.id))?,
                );
            }
        }
    }
    if a.model == Model::PDispersion {
        let m = match &a.site_costs {
            Some(p) => read_site_costs(p, &inst.sites)?,
            None => inst.site_distances()?,
        };
        inst = inst.with_site_costs(m)?;
    }
    phases.lap("read");
    let pre = inst.preselected();
    let mut spec = Spec::new(a.model);
    spec.p = match a.add {
        Some(k) => Some(pre.len() + k),
        None => a.p,
    };
    spec.budget = a.budget;
    spec.service = a.service;
    spec.split = a.split;
    spec.fill_preselected = a.fill_preselected;
    spec.method = a.method;
    spec.gap_target = a.gap;
    spec.time_limit = a.time_limit;
    spec.seed = a.seed;
    let bar = crate::risk::progress(
        1,
        a.quiet,
        &format!("{} on {} × {}", a.model, inst.n_demand(), inst.n_sites()),
    )?;
    let sol = solve(&inst, &spec)?;
    bar.finish_and_clear();
    phases.lap("solve");
    // Coverage before: the pre-selected sites alone.
    let before = preselected_stats(&inst, a.service);
    let mut doc = result_json(a, &inst, &spec, &sol, before.as_ref(), net_line.as_deref(), &phases, t0);
    write_site_outputs(&a.out, &inst, &sol, &mut doc)?;
    if !a.quiet {
        eprintln!("{}", summary_line(&inst, &sol));
        if let Some(l) = &net_line {
            eprintln!("{l}");
        }
        eprintln!("wrote {}/result.json", a.out.display());
    }
    Ok(())
}

/// `assignment.csv`, `result.gpkg` (when positions are known) and `result.json` into `dir`, all
/// or nothing: they are written in a staging folder inside `dir` and renamed into place only
/// when every one is complete (`result.json` last). A `result.gpkg` left by an earlier run is
/// removed when this one has no positions to write.
pub fn write_site_outputs(dir: &Path, inst: &Instance, sol: &Solution, doc: &mut serde_json::Value) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    let stage = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(dir)
        .with_context(|| format!("{}: cannot write", dir.display()))?;
    let mut files = vec!["assignment.csv"];
    write_assignment(&stage.path().join("assignment.csv"), inst, sol)?;
    let layers = gpkg_layers(inst, sol);
    if let Some(layers) = &layers {
        write_geopackage(&stage.path().join("result.gpkg"), layers)?;
        files.push("result.gpkg");
    }
    write_atomically(&stage.path().join("result.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &*doc)?;
        writeln!(w)
    })?;
    for f in files {
        std::fs::rename(stage.path().join(f), dir.join(f))
            .with_context(|| format!("{}: cannot move {f} into place", dir.display()))?;
    }
    let stale = dir.join("result.gpkg");
    if layers.is_none() && stale.exists() {
        std::fs::remove_file(&stale).with_context(|| format!("{}: cannot remove", stale.display()))?;
    }
    // Last: result.json says the folder holds one complete result.
    std::fs::rename(stage.path().join("result.json"), dir.join("result.json"))
        .with_context(|| format!("{}: cannot move result.json into place", dir.display()))?;
    Ok(())
}

/// Figures of the pre-selected sites alone (each demand point to its nearest one).
pub fn preselected_stats(inst: &Instance, service: Option<f64>) -> Option<Stats> {
    let pre = inst.preselected();
    if pre.is_empty() {
        return None;
    }
    let asg: Vec<Vec<(usize, f64)>> = (0..inst.n_demand())
        .map(|i| {
            pre.iter()
                .map(|&j| (j, inst.costs.get(i, j)))
                .filter(|(_, c)| c.is_finite())
                .min_by(|x, y| x.1.total_cmp(&y.1))
                .map(|(j, _)| vec![(j, 1.0)])
                .unwrap_or_default()
        })
        .collect();
    Some(evaluate(inst, &pre, &asg, service))
}

fn convert(t: &Transformer, pts: &[(f64, f64)], path: &Path) -> Result<Vec<(f64, f64)>, renxing_site::SiteError> {
    pts.iter()
        .map(|&(x, y)| {
            t.apply(x, y)
                .map_err(|e| renxing_site::SiteError::invalid(format!("{}: position ({x}, {y}): {e}", path.display())))
        })
        .collect()
}

/// Demand × site costs on the road network (unreached pairs and unsnapped points: infinite).
pub fn network_matrix(
    net: &NetworkArgs,
    demand: &[(f64, f64)],
    sites: &[(f64, f64)],
    phases: &mut Phases,
) -> Result<(CostMatrix, String)> {
    let network = Network::open(net, phases)?;
    let index = SnapIndex::new(&network.graph);
    let snap = |pts: &[(f64, f64)]| -> Vec<_> {
        index
            .snap_all(&network.graph, pts)
            .into_iter()
            .map(|s| s.filter(|s| net.max_snap_m.is_none_or(|m| s.offset_m <= m)))
            .collect()
    };
    let (ds, ss) = (snap(demand), snap(sites));
    let cust = Customized::new(&network.cch, &network.graph, net.metric, network.costs.clone());
    let at = Attach {
        cust: &cust,
        graph: &network.graph,
        access_speed_mps: network.profile.access_speed_mps(),
    };
    let (n, m) = (demand.len(), sites.len());
    let mut data = vec![f64::INFINITY; n * m];
    let metric = net.metric;
    let bar = crate::risk::progress(n as u64, net.quiet, "cost matrix on the road network")?;
    many_to_many(&at, &ds, &ss, &MatrixOptions::default(), |b| -> Result<()> {
        let width = b.destinations.len();
        for o in b.origins.clone() {
            let r0 = (o - b.origins.start) * width;
            for (k, c) in b.costs[r0..r0 + width].iter().enumerate() {
                if c[0].is_finite() {
                    let c = cost_of(metric, *c);
                    data[o * m + b.destinations.start + k] = match metric {
                        renxing_net::access::Metric::Distance => c.distance_m,
                        renxing_net::access::Metric::Time => c.time_s,
                    };
                }
            }
        }
        if b.destinations.end == m {
            bar.inc(b.origins.len() as u64);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let unsnapped = ds.iter().filter(|s| s.is_none()).count() + ss.iter().filter(|s| s.is_none()).count();
    let mut line = network.describe();
    if unsnapped > 0 {
        line.push_str(&format!("; {unsnapped} points beyond --max-snap-m left unreachable"));
    }
    Ok((CostMatrix::new(n, m, data), line))
}

fn summary_line(inst: &Instance, s: &Solution) -> String {
    let st = &s.stats;
    let mut line = format!(
        "{}: {} sites open of {}; objective {} ({}, gap {:.4} %)",
        s.model,
        s.selected.len(),
        inst.n_sites(),
        fmt_num(s.objective),
        match s.status {
            renxing_site::Status::Optimal => "optimal",
            renxing_site::Status::Feasible => "feasible",
        },
        s.gap * 100.0
    );
    if let Some(c) = st.covered_demand_share {
        line.push_str(&format!("; {:.2} % of demand covered", c * 100.0));
    }
    if let Some(m) = st.weighted_mean_cost {
        line.push_str(&format!("; weighted mean cost {}", fmt_num(m)));
    }
    line.push_str(&format!("; {:.2} s", s.seconds));
    line
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn stats_json(st: &Stats) -> serde_json::Value {
    json!({
        "total_weight": st.total_weight,
        "weighted_cost": st.weighted_cost,
        "weighted_mean_cost": st.weighted_mean_cost,
        "max_cost": st.max_cost,
        "covered_weight": st.covered_weight,
        "covered_demand_share": st.covered_demand_share,
        "uncovered": st.uncovered,
        "backup_covered": st.backup_covered,
        "unassigned": st.unassigned,
        "min_site_distance": st.min_site_distance,
    })
}

#[allow(clippy::too_many_arguments)]
fn result_json(
    a: &SiteArgs,
    inst: &Instance,
    spec: &Spec,
    sol: &Solution,
    before: Option<&Stats>,
    network: Option<&str>,
    phases: &Phases,
    t0: Instant,
) -> serde_json::Value {
    let ids = |v: &[usize]| -> Vec<&str> { v.iter().map(|&j| inst.sites[j].id.as_str()).collect() };
    let new: Vec<usize> = sol
        .selected
        .iter()
        .copied()
        .filter(|&j| !inst.sites[j].preselected)
        .collect();
    let st = &sol.stats;
    let mut doc = json!({
        "model": sol.model,
        "selected": ids(&sol.selected),
        "new_sites": ids(&new),
        "n_selected": sol.selected.len(),
        "n_preselected": inst.preselected().len(),
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "status": sol.status,
        "method": sol.method,
        "seconds": sol.seconds,
        "seconds_total": t0.elapsed().as_secs_f64(),
        "phases": phases.json(),
        "weighted_mean_cost": st.weighted_mean_cost,
        "max_cost": st.max_cost,
        "covered_demand_share": st.covered_demand_share,
        "covered_weight": st.covered_weight,
        "uncovered": st.uncovered,
        "backup_covered": st.backup_covered,
        "stats": stats_json(st),
        "parameters": {
            "p": spec.p,
            "budget": spec.budget,
            "service": spec.service,
            "split": spec.split,
            "fill_preselected": spec.fill_preselected,
            "method": spec.method,
            "gap_target": spec.gap_target,
            "time_limit": spec.time_limit,
            "seed": spec.seed,
        },
        "inputs": {
            "demand": a.demand.display().to_string(),
            "candidates": a.candidates.display().to_string(),
            "costs": match &a.costs {
                CostSource::File(p) => p.display().to_string(),
                CostSource::Euclidean => "euclidean (great-circle metres)".to_string(),
                CostSource::Network(n) => format!("road network ({} {})", n.mode, n.metric),
            },
            "demand_points": inst.n_demand(),
            "candidate_sites": inst.n_sites(),
        },
    });
    if let Some(b) = before {
        doc["before"] = json!({ "note": "pre-selected sites alone", "stats": stats_json(b) });
    }
    if let Some(n) = network {
        doc["network"] = json!(n);
    }
    doc
}

fn write_assignment(path: &Path, inst: &Instance, sol: &Solution) -> Result<()> {
    let body = assignment_csv(inst, sol);
    write_atomically(path, |w| w.write_all(&body))
}

/// `demand_id,site_id,share,cost`, one row per (demand point, serving site).
fn assignment_csv(inst: &Instance, sol: &Solution) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut w = String::from("demand_id,site_id,share,cost\n");
    for (i, a) in sol.assignment.iter().enumerate() {
        for &(j, s) in a {
            let _ = writeln!(
                w,
                "{},{},{},{}",
                csv_field(&inst.demand_ids[i]),
                csv_field(&inst.sites[j].id),
                s,
                inst.costs.get(i, j)
            );
        }
    }
    w.into_bytes()
}

/// Layers `sites`, `demand` and `assignment` (lines), when positions are known.
fn gpkg_layers(inst: &Instance, sol: &Solution) -> Option<Vec<Layer>> {
    let dpos = inst.demand_lonlat.as_ref()?;
    if inst.sites.iter().any(|s| s.lonlat.is_none()) {
        return None;
    }
    let mut load = vec![0.0; inst.n_sites()];
    let mut served = vec![0usize; inst.n_sites()];
    for (i, a) in sol.assignment.iter().enumerate() {
        for &(j, s) in a {
            load[j] += inst.weights[i] * s;
            served[j] += 1;
        }
    }
    let open: std::collections::HashSet<usize> = sol.selected.iter().copied().collect();
    let sites = Layer {
        name: "sites".into(),
        description: format!(
            "{} candidate sites; selected = open in the {} solution",
            inst.n_sites(),
            sol.model
        ),
        kind: Some(GeometryKind::Point),
        fields: vec![
            ("site_id".into(), FieldType::Text),
            ("selected".into(), FieldType::Integer),
            ("preselected".into(), FieldType::Integer),
            ("new".into(), FieldType::Integer),
            ("capacity".into(), FieldType::Real),
            ("load".into(), FieldType::Real),
            ("demand_points".into(), FieldType::Integer),
        ],
        features: inst
            .sites
            .iter()
            .enumerate()
            .map(|(j, s)| {
                let (x, y) = s.lonlat.expect("checked");
                let sel = open.contains(&j);
                Feature {
                    geometry: Some(Geometry::Point(Point::new(x, y))),
                    values: vec![
                        Value::Text(s.id.clone()),
                        Value::Integer(sel as i64),
                        Value::Integer(s.preselected as i64),
                        Value::Integer((sel && !s.preselected) as i64),
                        s.capacity.map_or(Value::Null, Value::Real),
                        Value::Real(load[j]),
                        Value::Integer(served[j] as i64),
                    ],
                }
            })
            .collect(),
    };
    let demand = Layer {
        name: "demand".into(),
        description: "demand points with the site serving them (largest share)".into(),
        kind: Some(GeometryKind::Point),
        fields: vec![
            ("demand_id".into(), FieldType::Text),
            ("weight".into(), FieldType::Real),
            ("site_id".into(), FieldType::Text),
            ("cost".into(), FieldType::Real),
        ],
        features: (0..inst.n_demand())
            .map(|i| {
                let main = sol.assignment[i].iter().max_by(|a, b| a.1.total_cmp(&b.1));
                Feature {
                    geometry: Some(Geometry::Point(Point::new(dpos[i].0, dpos[i].1))),
                    values: vec![
                        Value::Text(inst.demand_ids[i].clone()),
                        Value::Real(inst.weights[i]),
                        main.map_or(Value::Null, |&(j, _)| Value::Text(inst.sites[j].id.clone())),
                        main.map_or(Value::Null, |&(j, _)| Value::Real(inst.costs.get(i, j))),
                    ],
                }
            })
            .collect(),
    };
    let mut lines = Vec::new();
    for (i, a) in sol.assignment.iter().enumerate() {
        for &(j, s) in a {
            let (x, y) = inst.sites[j].lonlat.expect("checked");
            lines.push(Feature {
                geometry: Some(Geometry::LineString(LineString::new(vec![
                    coord! { x: dpos[i].0, y: dpos[i].1 },
                    coord! { x: x, y: y },
                ]))),
                values: vec![
                    Value::Text(inst.demand_ids[i].clone()),
                    Value::Text(inst.sites[j].id.clone()),
                    Value::Real(s),
                    Value::Real(inst.weights[i] * s),
                    Value::Real(inst.costs.get(i, j)),
                ],
            });
        }
    }
    let assignment = Layer {
        name: "assignment".into(),
        description: "demand point → site (straight lines; cost is the matrix cost)".into(),
        kind: Some(GeometryKind::LineString),
        fields: vec![
            ("demand_id".into(), FieldType::Text),
            ("site_id".into(), FieldType::Text),
            ("share".into(), FieldType::Real),
            ("weight".into(), FieldType::Real),
            ("cost".into(), FieldType::Real),
        ],
        features: lines,
    };
    Some(vec![sites, demand, assignment])
}

/// The `[siting]` analysis of a project: where to add `add` sites among candidates so that the
/// most people are within the service walking distance, the project's shelters staying open
/// (pre-selected). Demand = the exam's population points; costs = walking distance on the road
/// network. Writes `siting/` (result.json, assignment.csv, result.gpkg) into the output folder.
pub struct ProjectSiting<'a> {
    pub model: Model,
    pub add: usize,
    pub service_m: f64,
    /// Candidate points (id, lon, lat); `None` = road junctions, one per cell of `cell_m`.
    pub candidates: Option<Vec<(String, f64, f64)>>,
    pub cell_m: f64,
    pub roads: crate::layers::RoadSource,
    pub graph: &'a renxing_net::graph::Graph,
    pub units: &'a [renxing_exam::population::Unit],
    pub population: &'a [renxing_exam::population::PopulationPoint],
    pub shelters: &'a [renxing_exam::shelter_exam::Shelter],
    pub max_snap_m: Option<f64>,
    pub time_limit: Option<f64>,
    pub quiet: bool,
}

/// Road junctions inside the units, one per grid cell (the one nearest the cell centre; ties to
/// the lower node index), as candidate sites `n<node>`.
pub fn junction_candidates(
    graph: &renxing_net::graph::Graph,
    units: &[renxing_exam::population::Unit],
    cell_m: f64,
) -> Vec<(String, f64, f64)> {
    let loc = renxing_exam::population::UnitLocator::new(units);
    let lat0 = graph.lat.iter().sum::<f64>() / graph.lat.len().max(1) as f64;
    let (kx, ky) = (111_320.0 * lat0.to_radians().cos(), 110_540.0);
    let mut best: std::collections::BTreeMap<(i64, i64), (f64, usize)> = std::collections::BTreeMap::new();
    for v in 0..graph.road_nodes {
        let (lon, lat) = (graph.lon[v], graph.lat[v]);
        if loc.locate(lon, lat).is_none() {
            continue;
        }
        let (x, y) = (lon * kx / cell_m, lat * ky / cell_m);
        let key = (x.floor() as i64, y.floor() as i64);
        let d = (x - x.floor() - 0.5).hypot(y - y.floor() - 0.5);
        let e = best.entry(key).or_insert((d, v));
        if d < e.0 {
            *e = (d, v);
        }
    }
    let mut nodes: Vec<usize> = best.values().map(|&(_, v)| v).collect();
    nodes.sort_unstable();
    nodes
        .into_iter()
        .map(|v| (format!("n{v}"), graph.lon[v], graph.lat[v]))
        .collect()
}

/// What the project's siting analysis adds to the run's folder.
pub struct ProjectSitingOutput {
    /// One line for the terminal.
    pub line: String,
    /// The `siting` key of `summary.json`.
    pub summary: serde_json::Value,
    /// `siting_sites`, `siting_demand`, `siting_assignment` for `results.gpkg`.
    pub layers: Vec<Layer>,
    /// `siting_assignment.csv`.
    pub assignment_csv: Vec<u8>,
    /// The section of `report.html`.
    pub section: renxing_report::page::Section,
}

/// Run the project's siting analysis.
pub fn run_project_siting(ps: &ProjectSiting<'_>) -> Result<ProjectSitingOutput> {
    let t0 = Instant::now();
    let mut phases = Phases::new();
    let demand: Vec<&renxing_exam::population::PopulationPoint> =
        ps.population.iter().filter(|p| p.count > 0.0).collect();
    if demand.is_empty() {
        bail!("[siting]: the population has no people to serve");
    }
    let candidates = match &ps.candidates {
        Some(c) => c.clone(),
        None => junction_candidates(ps.graph, ps.units, ps.cell_m),
    };
    let mut sites: Vec<renxing_site::Site> = Vec::with_capacity(ps.shelters.len() + candidates.len());
    for s in ps.shelters {
        let mut site = renxing_site::Site::new(format!("shelter:{}", s.id));
        site.preselected = true;
        site.lonlat = Some((s.lon, s.lat));
        sites.push(site);
    }
    for (id, lon, lat) in &candidates {
        let mut site = renxing_site::Site::new(format!("candidate:{id}"));
        site.lonlat = Some((*lon, *lat));
        sites.push(site);
    }
    let dpos: Vec<(f64, f64)> = demand.iter().map(|p| (p.lon, p.lat)).collect();
    let spos: Vec<(f64, f64)> = sites.iter().map(|s| s.lonlat.expect("set")).collect();
    let net = NetworkArgs {
        roads: ps.roads.clone(),
        mode: renxing_net::profile::Mode::Walk,
        metric: renxing_net::access::Metric::Distance,
        closures: None,
        depth_field: String::new(),
        closure_depth: None,
        slowdown: renxing_net::hazard::Slowdown::None,
        cache: None,
        max_snap_m: ps.max_snap_m,
        quiet: ps.quiet,
    };
    let (costs, net_line) = network_matrix(&net, &dpos, &spos, &mut phases)?;
    let mut inst = Instance::new(
        demand.iter().map(|p| p.id.clone()).collect(),
        demand.iter().map(|p| p.count).collect(),
        sites,
        costs,
    )?;
    inst.demand_lonlat = Some(dpos);
    phases.lap("matrix");
    let mut spec = Spec::new(ps.model);
    spec.p = Some(ps.shelters.len() + ps.add);
    spec.service = Some(ps.service_m);
    spec.time_limit = ps.time_limit;
    if !ps.model.needs_service() {
        spec.service = Some(ps.service_m); // coverage figures still use it
    }
    if !ps.model.needs_p() {
        spec.p = None;
    }
    let sol = solve(&inst, &spec).map_err(|e| anyhow!("[siting]: {e}"))?;
    phases.lap("solve");
    let before = preselected_stats(&inst, Some(ps.service_m));
    let new: Vec<usize> = sol
        .selected
        .iter()
        .copied()
        .filter(|&j| !inst.sites[j].preselected)
        .collect();
    let st = &sol.stats;
    let doc = json!({
        "model": sol.model,
        "service_m": ps.service_m,
        "existing_sites": ps.shelters.len(),
        "candidate_sites": candidates.len(),
        "candidates": if ps.candidates.is_some() { "given points".to_string() } else { format!("road junctions, one per {} m cell", ps.cell_m) },
        "demand_points": inst.n_demand(),
        "population": inst.total_weight(),
        "new_sites": new.iter().map(|&j| inst.sites[j].id.as_str()).collect::<Vec<_>>(),
        "selected": sol.selected.iter().map(|&j| inst.sites[j].id.as_str()).collect::<Vec<_>>(),
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "status": sol.status,
        "method": sol.method,
        "seconds": sol.seconds,
        "seconds_total": t0.elapsed().as_secs_f64(),
        "phases": phases.json(),
        "network": net_line,
        "before": before.as_ref().map(stats_json),
        "after": stats_json(st),
        "covered_demand_share": st.covered_demand_share,
        "uncovered": st.uncovered,
        "weighted_mean_cost": st.weighted_mean_cost,
    });
    let mut layers = gpkg_layers(&inst, &sol).expect("positions are known");
    for l in &mut layers {
        l.name = format!("siting_{}", l.name);
    }
    let section = siting_section(ps, &inst, &sol, before.as_ref(), &new, candidates.len());
    let share = |s: Option<&Stats>| {
        s.and_then(|s| s.covered_demand_share)
            .map_or("–".into(), |v| format!("{:.2} %", v * 100.0))
    };
    let line = format!(
        "siting ({}): {} new sites among {} candidates beside {} existing: population within {} m walk {} → {} (gap {:.3} %)",
        sol.model,
        new.len(),
        candidates.len(),
        ps.shelters.len(),
        ps.service_m,
        share(before.as_ref()),
        share(Some(st)),
        sol.gap * 100.0
    );
    Ok(ProjectSitingOutput {
        line,
        summary: doc,
        layers,
        assignment_csv: assignment_csv(&inst, &sol),
        section,
    })
}

/// The report section: what was asked, before/after figures, the solver's proof, the new sites
/// and a map of the demand points by whether they are within the service distance.
fn siting_section(
    ps: &ProjectSiting<'_>,
    inst: &Instance,
    sol: &Solution,
    before: Option<&Stats>,
    new: &[usize],
    n_candidates: usize,
) -> renxing_report::page::Section {
    use renxing_report::page::{MapSpec, Mark, Section, fmt_thousands, grade_map, table};
    let st = &sol.stats;
    let mut sec = Section::new(&format!("Siting: new sites ({})", sol.model));
    sec.text(&format!(
        "{} new site(s) chosen among {} candidates ({}) beside the {} existing shelters, which stay open; \
         demand = the exam's {} population points ({} people); costs = walking distance on the road network; \
         service distance {} m.",
        new.len(),
        n_candidates,
        if ps.candidates.is_some() {
            "given points".to_string()
        } else {
            format!("road junctions, one per {} m cell", ps.cell_m)
        },
        ps.shelters.len(),
        inst.n_demand(),
        fmt_thousands(inst.total_weight(), 0),
        ps.service_m
    ));
    let pct = |v: Option<f64>| v.map_or("–".into(), |x| format!("{:.2} %", x * 100.0));
    let people = |v: Option<f64>| v.map_or("–".into(), |x| fmt_thousands(x, 0));
    let metres = |v: Option<f64>| v.map_or("–".into(), |x| fmt_thousands(x, 0));
    let row = |name: &str, f: &dyn Fn(&Stats) -> String| vec![name.to_string(), before.map_or("–".into(), f), f(st)];
    let rows = vec![
        row(&format!("people within {} m", ps.service_m), &|s: &Stats| {
            people(s.covered_weight)
        }),
        row("share of the population", &|s: &Stats| pct(s.covered_demand_share)),
        row("demand points beyond", &|s: &Stats| {
            s.uncovered.map_or("–".into(), |u| u.to_string())
        }),
        row("mean walk to the nearest site (m)", &|s: &Stats| {
            metres(s.weighted_mean_cost)
        }),
        row("longest walk to the nearest site (m)", &|s: &Stats| metres(s.max_cost)),
    ];
    sec.html(table(&["", "existing shelters only", "with the new sites"], &rows));
    sec.text(&format!(
        "Objective {} with a proven bound of {} (gap {:.3} %, {}); {}; {:.2} s.",
        fmt_thousands(sol.objective, 1),
        fmt_thousands(sol.bound, 1),
        sol.gap * 100.0,
        match sol.status {
            renxing_site::Status::Optimal => "optimal",
            renxing_site::Status::Feasible => "feasible",
        },
        sol.method,
        sol.seconds
    ));
    // Each new site with the people it serves (nearest open site) and those it brings within S.
    let mut load = vec![0.0; inst.n_sites()];
    for (i, a) in sol.assignment.iter().enumerate() {
        for &(j, sh) in a {
            load[j] += inst.weights[i] * sh;
        }
    }
    let pre = inst.preselected();
    let service = ps.service_m;
    let covered_before: Vec<bool> = (0..inst.n_demand())
        .map(|i| pre.iter().any(|&j| inst.costs.get(i, j) <= service))
        .collect();
    let mut gained = vec![0.0; inst.n_sites()];
    for (i, _) in covered_before.iter().enumerate().filter(|(_, c)| !**c) {
        // Credited to the nearest new site within S.
        if let Some(&j) = new
            .iter()
            .filter(|&&j| inst.costs.get(i, j) <= service)
            .min_by(|&&a, &&b| inst.costs.get(i, a).total_cmp(&inst.costs.get(i, b)))
        {
            gained[j] += inst.weights[i];
        }
    }
    let mut order: Vec<usize> = new.to_vec();
    order.sort_by(|&a, &b| gained[b].total_cmp(&gained[a]).then(a.cmp(&b)));
    let site_rows: Vec<Vec<String>> = order
        .iter()
        .map(|&j| {
            let (lon, lat) = inst.sites[j].lonlat.unwrap_or((f64::NAN, f64::NAN));
            vec![
                inst.sites[j].id.clone(),
                format!("{lon:.6}"),
                format!("{lat:.6}"),
                fmt_thousands(gained[j], 0),
                fmt_thousands(load[j], 0),
            ]
        })
        .collect();
    sec.html(table(
        &[
            "new site",
            "lon",
            "lat",
            &format!("people newly within {} m", ps.service_m),
            "people served (nearest site)",
        ],
        &site_rows,
    ));
    // Map: demand points by coverage, new sites as black crosses.
    let pos = inst.demand_lonlat.as_deref().unwrap_or(&[]);
    let marks: Vec<Mark> = pos
        .iter()
        .enumerate()
        .map(|(i, &(lon, lat))| {
            let covered_now = sol.assignment[i].iter().any(|&(j, _)| inst.costs.get(i, j) <= service);
            let grade = if covered_before[i] {
                5
            } else if covered_now {
                2
            } else {
                1
            };
            Mark::Point { lon, lat, grade }
        })
        .collect();
    let arm = 0.002;
    let crosses: Vec<Vec<(f64, f64)>> = new
        .iter()
        .filter_map(|&j| inst.sites[j].lonlat)
        .flat_map(|(x, y)| [vec![(x - arm, y), (x + arm, y)], vec![(x, y - arm), (x, y + arm)]])
        .collect();
    let caption = format!(
        "Population points by walking distance to the nearest open site; black crosses: the {} new sites",
        new.len()
    );
    let within = format!("within {} m of an existing shelter", ps.service_m);
    let newly = format!("brought within {} m by the new sites", ps.service_m);
    let beyond = format!("beyond {} m", ps.service_m);
    sec.html(grade_map(
        &MapSpec {
            marks: &marks,
            lines: &crosses,
            caption: &caption,
            radius: 1.2,
            labels: Some(["", beyond.as_str(), newly.as_str(), "", "", within.as_str()]),
            ..Default::default()
        },
        900.0,
    ));
    sec
}
