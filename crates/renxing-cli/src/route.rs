//! `renxing od` (travel-cost matrices, nearest-k) and `renxing isochrone` (reached network and
//! areas), on a customizable contraction hierarchy with optional flood closures. See
//! `docs/routing.md`.
//!
//! Both commands load the network, build the profile's graph, load its hierarchy from the cache
//! folder (or build and store it), turn a hazard layer into closed and slowed links, customise,
//! and query. Outputs are written atomically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;
use renxing_exam::standard::StandardProfile;
use renxing_geo::crs::Crs;
use renxing_io::gpkg::{Feature, FieldType, GeometryKind, Layer, Value, write_geopackage};
use renxing_io::points::PointRecord;
use renxing_net::RoadData;
use renxing_net::access::Metric;
use renxing_net::cch::{Cch, Cost2, Customized, LinkCosts};
use renxing_net::graph::Graph;
use renxing_net::hazard::{HazardReport, Slowdown, apply_depths};
use renxing_net::isochrone::{AreaOptions, areas, piece_line, reached_pieces, trim, union_by_link};
use renxing_net::matrix::{Attach, MatrixOptions, cost_of, many_to_many, nearest_k, node_costs};
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::{Snap, SnapIndex};

use crate::access::csv_field;
use crate::layers::{RoadSource, load_points, load_roads};

/// Network, profile, scenario and cache options shared by `od` and `isochrone`.
pub struct NetworkArgs {
    pub roads: RoadSource,
    pub mode: Mode,
    pub metric: Metric,
    /// Flood depth raster (GeoTIFF / ASCII grid, WGS84), closures CSV, or flood polygons
    /// (GeoJSON / Shapefile / GeoPackage) with a depth attribute.
    pub closures: Option<PathBuf>,
    /// Depth attribute of flood polygons (metres).
    pub depth_field: String,
    /// Override of the profile's closure depth (m).
    pub closure_depth: Option<f64>,
    pub slowdown: Slowdown,
    /// Folder for cached hierarchies; `None` = no cache.
    pub cache: Option<PathBuf>,
    pub max_snap_m: Option<f64>,
    pub quiet: bool,
}

/// Phase timings, printed as JSON with `--timings`.
pub struct Phases {
    t: Instant,
    list: Vec<(String, f64)>,
}

impl Phases {
    pub fn new() -> Phases {
        Phases {
            t: Instant::now(),
            list: Vec::new(),
        }
    }
    pub fn lap(&mut self, name: &str) {
        self.list.push((name.to_string(), self.t.elapsed().as_secs_f64()));
        self.t = Instant::now();
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.list
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::json!(v)))
                .collect(),
        )
    }
}

/// Everything up to (not including) customisation.
pub struct Network {
    pub road: RoadData,
    pub graph: Graph,
    pub profile: Profile,
    pub cch: Cch,
    /// "built" / "loaded from FILE" / "built, cached in FILE".
    pub cch_origin: String,
    /// Scenario link costs (all open when no hazard is given).
    pub costs: LinkCosts,
    pub hazard: Option<HazardReport>,
}

impl Network {
    pub fn open(a: &NetworkArgs, phases: &mut Phases) -> Result<Network> {
        let road = load_roads(&a.roads)?;
        phases.lap("read_network");
        let profile = Profile::builtin(a.mode);
        let graph = Graph::build(&road, &profile);
        if graph.node_count() == 0 {
            bail!("{}: no road routable for the {} profile", road.source, a.mode);
        }
        phases.lap("graph");
        let bar = crate::risk::progress(1, a.quiet, "contraction hierarchy (order and contract, or load)")?;
        let (cch, cch_origin) = hierarchy(&graph, a)?;
        bar.finish_and_clear();
        phases.lap("hierarchy");
        let mut costs = LinkCosts::of(&graph);
        let hazard = match &a.closures {
            None => None,
            Some(p) => {
                let threshold = match a.closure_depth {
                    Some(d) if d.is_finite() && d >= 0.0 => d,
                    Some(d) => bail!("--closure-depth {d}: give a depth in metres ≥ 0"),
                    None => {
                        let key = match a.mode {
                            // Emergency vehicles: the lane-ponding limit too, unless overridden.
                            Mode::Drive | Mode::Emergency => "flood.road_closure_depth_drive_m",
                            Mode::Walk => "flood.road_closure_depth_walk_m",
                        };
                        StandardProfile::builtin("cn")
                            .expect("built-in standard profile")
                            .get(key)?
                    }
                };
                let (depths, forced) = link_depths(&road, &graph, p, &a.depth_field)?;
                let mut report = apply_depths(&mut costs, &depths, threshold, a.slowdown, graph.road_links);
                for l in forced {
                    if costs.open[l] {
                        costs.open[l] = false;
                        if l < graph.road_links {
                            report.closed_links += 1;
                            report.closed_km += costs.length_m[l] / 1000.0;
                        }
                    }
                }
                phases.lap("hazard");
                Some(report)
            }
        };
        Ok(Network {
            road,
            graph,
            profile,
            cch,
            cch_origin,
            costs,
            hazard,
        })
    }

    /// Snap points (in parallel); `None` for points beyond `max_snap_m`.
    pub fn snap(&self, index: &SnapIndex, pts: &[PointRecord], max_snap_m: Option<f64>) -> Vec<Option<Snap>> {
        let lonlat: Vec<(f64, f64)> = pts.iter().map(|p| (p.lon, p.lat)).collect();
        index
            .snap_all(&self.graph, &lonlat)
            .into_iter()
            .map(|s| s.filter(|s| max_snap_m.is_none_or(|m| s.offset_m <= m)))
            .collect()
    }

    pub fn describe(&self) -> String {
        let r = &self.graph.report;
        let mut s = format!(
            "{} {} graph: {} nodes, {} links (largest of {} components); hierarchy {} ({} arcs, tree height {})",
            self.road.source,
            self.profile.mode,
            r.nodes,
            r.links,
            r.components,
            self.cch_origin,
            self.cch.arc_count(),
            self.cch.tree_height()
        );
        if let Some(t) = r.turns.as_ref().filter(|t| t.restrictions > 0) {
            s.push_str(&format!(
                "; turn restrictions: {} of {} placed ({} node and {} link copies)",
                t.applied, t.restrictions, t.node_copies, t.link_copies
            ));
            for (why, n) in &t.skipped {
                s.push_str(&format!("; {n} left out: {why}"));
            }
        }
        if let Some(h) = &self.hazard {
            s.push_str(&format!(
                "; hazard: {} wet links, {} closed ({:.1} km) above {} m, {} slowed",
                h.wet_links, h.closed_links, h.closed_km, h.threshold_m, h.slowed_links
            ));
        }
        s
    }
}

/// Load the hierarchy from the cache, or build it (and store it there).
fn hierarchy(graph: &Graph, a: &NetworkArgs) -> Result<(Cch, String)> {
    let Some(dir) = &a.cache else {
        return Ok((Cch::build(graph), "built (no cache)".into()));
    };
    let file = dir.join(format!("{}-{:016x}.cch", a.mode, Cch::fingerprint_of(graph)));
    if file.exists() {
        match Cch::load(&file, graph) {
            Ok(Some(c)) => return Ok((c, format!("loaded from {}", file.display()))),
            Ok(None) => {}
            Err(e) => eprintln!("warning: {e}; rebuilding"),
        }
    }
    let cch = Cch::build(graph);
    let origin = match std::fs::create_dir_all(dir).and_then(|_| cch.save(&file)) {
        Ok(()) => format!("built, cached in {}", file.display()),
        Err(e) => {
            eprintln!("warning: cannot cache the hierarchy in {}: {e}", file.display());
            "built (not cached)".into()
        }
    };
    Ok((cch, origin))
}

/// Water depth of every graph link from a raster, flood polygons or a closures CSV, and links
/// closed by a closures CSV without any water (a dry `closed = true` row: a closure for another
/// reason).
fn link_depths(road: &RoadData, graph: &Graph, path: &Path, depth_field: &str) -> Result<(Vec<f64>, Vec<usize>)> {
    let ext = extension(path);
    if matches!(ext.as_str(), "geojson" | "json" | "shp" | "gpkg") {
        return Ok((polygon_depths(graph, path, depth_field)?, Vec::new()));
    }
    if ext == "csv" {
        let rows = renxing_risk::flood::closures::read_closures_csv_lines(path)?;
        let mut by_edge: Vec<Option<(f64, bool)>> = vec![None; road.edges.len()];
        for (line, r) in &rows {
            let idx: usize = r.id.parse().map_err(|_| {
                anyhow!(
                    "{}: line {line}: edge_id '{}' is not an edge index of {}",
                    path.display(),
                    r.id,
                    road.source
                )
            })?;
            if idx >= road.edges.len() {
                bail!(
                    "{}: line {line}: edge_id {idx} is beyond the {} edges of {}",
                    path.display(),
                    road.edges.len(),
                    road.source
                );
            }
            by_edge[idx] = Some((r.max_depth_m, r.closed));
        }
        let mut depths = vec![0.0; graph.links.len()];
        let mut forced = Vec::new();
        for (l, link) in graph.links.iter().enumerate() {
            if let Some((d, closed)) = by_edge[link.source_edge] {
                depths[l] = d;
                if closed && d <= 0.0 {
                    forced.push(l);
                }
            }
        }
        Ok((depths, forced))
    } else {
        let grid = renxing_io::raster::read_grid(path, None)?;
        if !(grid.crs == Crs::Wgs84 || grid.crs == Crs::Epsg(4326)) {
            bail!(
                "{}: closures need a depth grid in WGS84 lon/lat (this one is {:?})",
                path.display(),
                grid.crs
            );
        }
        let depths = (0..graph.links.len())
            .into_par_iter()
            .map(|l| renxing_risk::flood::closures::max_depth_along(&grid, &graph.link_polyline(l)))
            .collect();
        Ok((depths, Vec::new()))
    }
}

/// Depth of each link from flood polygons: the greatest `depth_field` value among the polygons
/// the link's polyline touches (0 where it touches none).
fn polygon_depths(graph: &Graph, path: &Path, depth_field: &str) -> Result<Vec<f64>> {
    use geo::{BoundingRect, Intersects};
    let opts = renxing_io::admin::AdminOptions {
        code_field: Some(depth_field.to_string()),
        // Many polygons share a depth class.
        allow_duplicate_codes: true,
        ..Default::default()
    };
    let units = renxing_io::admin::read_admin(path, &opts).with_context(|| {
        format!(
            "{}: reading flood polygons (depth field '{depth_field}')",
            path.display()
        )
    })?;
    let mut polys = Vec::with_capacity(units.len());
    for (i, u) in units.into_iter().enumerate() {
        let d: f64 = u
            .code
            .trim()
            .parse()
            .ok()
            .filter(|d: &f64| d.is_finite() && *d >= 0.0)
            .ok_or_else(|| {
                anyhow!(
                    "{}: feature {}: {depth_field} '{}' is not a depth in metres ≥ 0",
                    path.display(),
                    i + 1,
                    u.code
                )
            })?;
        if let Some(bb) = u.geometry.bounding_rect() {
            polys.push((bb, u.geometry, d));
        }
    }
    Ok((0..graph.links.len())
        .into_par_iter()
        .map(|l| {
            let line = geo::LineString::from(graph.link_polyline(l));
            let Some(lb) = line.bounding_rect() else { return 0.0 };
            polys
                .iter()
                .filter(|(bb, _, d)| *d > 0.0 && bb.intersects(&lb))
                .filter(|(_, g, _)| g.intersects(&line))
                .map(|p| p.2)
                .fold(0.0, f64::max)
        })
        .collect())
}

// ---------------------------------------------------------------------------------------- od

pub struct OdArgs {
    pub net: NetworkArgs,
    pub origins: PathBuf,
    pub destinations: PathBuf,
    pub crs: Crs,
    pub cutoff: Option<f64>,
    pub nearest: Option<usize>,
    /// Column of the origins file holding a weight (population) for the lost-access report.
    pub weight_column: Option<String>,
    pub summary: Option<PathBuf>,
    pub out: PathBuf,
    pub timings: bool,
}

pub fn run_od(a: &OdArgs) -> Result<()> {
    let mut phases = Phases::new();
    let ext = extension(&a.out);
    let parquet = match ext.as_str() {
        "csv" => false,
        "parquet" => true,
        _ => bail!("--out {}: name the matrix file *.csv or *.parquet", a.out.display()),
    };
    if a.nearest == Some(0) {
        bail!("--nearest 0: give the number of destinations to keep per origin (≥ 1)");
    }
    if let Some(c) = a.cutoff
        && !(c.is_finite() && c >= 0.0)
    {
        bail!("--cutoff {c}: give a cost ≥ 0 (metres or seconds, by --metric)");
    }
    check_max_snap(a.net.max_snap_m)?;
    let net = Network::open(&a.net, &mut phases)?;
    let origins = load_points(&a.origins, a.crs)?;
    let dests = load_points(&a.destinations, a.crs)?;
    let weights = match &a.weight_column {
        None => None,
        Some(col) => Some(weights_of(&origins, col, &a.origins)?),
    };
    phases.lap("read_points");
    let index = SnapIndex::new(&net.graph);
    let o_snap = net.snap(&index, &origins, a.net.max_snap_m);
    let d_snap = net.snap(&index, &dests, a.net.max_snap_m);
    phases.lap("snap");
    let cust = Customized::new(&net.cch, &net.graph, a.net.metric, net.costs.clone());
    phases.lap("customise");
    let at = Attach {
        cust: &cust,
        graph: &net.graph,
        access_speed_mps: net.profile.access_speed_mps(),
    };
    let opts = MatrixOptions {
        cutoff: a.cutoff,
        ..Default::default()
    };
    let metric = a.net.metric;
    let oid: Vec<String> = origins.iter().map(|p| csv_field(&p.id)).collect();
    let did: Vec<String> = dests.iter().map(|p| csv_field(&p.id)).collect();
    let mut rows_written = 0usize;
    let bar = crate::risk::progress(origins.len() as u64, a.net.quiet, "origins")?;
    if parquet {
        let mut pq = ParquetMatrix::create(&a.out, a.nearest.is_some())?;
        match a.nearest {
            None => {
                many_to_many(&at, &o_snap, &d_snap, &opts, |b| -> Result<()> {
                    let width = b.destinations.len();
                    // Row groups of at most about a million rows.
                    let per_group = (1_000_000 / width.max(1)).max(1);
                    let rows: Vec<usize> = b.origins.clone().collect();
                    for group in rows.chunks(per_group) {
                        let mut cols = Columns::default();
                        for &o in group {
                            let r0 = (o - b.origins.start) * width;
                            for (j, c) in b.costs[r0..r0 + width].iter().enumerate() {
                                if c[0].is_finite() || a.cutoff.is_none() {
                                    cols.push(&origins[o].id, &dests[b.destinations.start + j].id, metric, *c, None);
                                }
                            }
                        }
                        rows_written += cols.len();
                        pq.row_group(&cols)?;
                    }
                    if b.destinations.end == did.len() {
                        bar.inc(b.origins.len() as u64);
                    }
                    Ok(())
                })?;
            }
            Some(k) => {
                let near = nearest_k(&at, &o_snap, &d_snap, k, &opts);
                for chunk in near.chunks((1_000_000 / k).max(1)).enumerate() {
                    let mut cols = Columns::default();
                    for (i, list) in chunk.1.iter().enumerate() {
                        let o = chunk.0 * (1_000_000 / k).max(1) + i;
                        for (r, &(d, c)) in list.iter().enumerate() {
                            cols.push(&origins[o].id, &dests[d as usize].id, metric, c, Some(r as i32 + 1));
                        }
                    }
                    rows_written += cols.len();
                    pq.row_group(&cols)?;
                }
                bar.inc(origins.len() as u64);
            }
        }
        pq.finish(&a.out)?;
    } else {
        crate::access::write_atomically(&a.out, |w| {
            match a.nearest {
                None => {
                    writeln!(w, "origin_id,destination_id,distance_m,time_s")?;
                    many_to_many(&at, &o_snap, &d_snap, &opts, |b| -> std::io::Result<()> {
                        let width = b.destinations.len();
                        let rows: Vec<usize> = b.origins.clone().collect();
                        // Format in parallel, a group of about 32 MB of text at a time.
                        let group_rows = ((32 << 20) / (width.max(1) * 40)).max(16);
                        for group in rows.chunks(group_rows) {
                            let chunks: Vec<(Vec<u8>, usize)> = group
                                .par_chunks(group_rows.div_ceil(16))
                                .map(|os| {
                                    let mut buf = Vec::with_capacity(os.len() * width * 40);
                                    let mut n = 0;
                                    for &o in os {
                                        let r0 = (o - b.origins.start) * width;
                                        for (j, c) in b.costs[r0..r0 + width].iter().enumerate() {
                                            let d = b.destinations.start + j;
                                            if c[0].is_finite() {
                                                pair_row(&mut buf, &oid[o], &did[d], metric, *c);
                                                n += 1;
                                            } else if a.cutoff.is_none() {
                                                buf.extend_from_slice(oid[o].as_bytes());
                                                buf.push(b',');
                                                buf.extend_from_slice(did[d].as_bytes());
                                                buf.extend_from_slice(b",,\n");
                                                n += 1;
                                            }
                                        }
                                    }
                                    (buf, n)
                                })
                                .collect();
                            for (buf, n) in chunks {
                                w.write_all(&buf)?;
                                rows_written += n;
                            }
                        }
                        if b.destinations.end == did.len() {
                            bar.inc(b.origins.len() as u64);
                        }
                        Ok(())
                    })?;
                }
                Some(k) => {
                    writeln!(w, "origin_id,destination_id,distance_m,time_s,rank")?;
                    let near = nearest_k(&at, &o_snap, &d_snap, k, &opts);
                    for (o, list) in near.iter().enumerate() {
                        let mut buf = Vec::new();
                        for (r, &(d, c)) in list.iter().enumerate() {
                            pair_row(&mut buf, &oid[o], &did[d as usize], metric, c);
                            buf.pop();
                            buf.extend_from_slice(format!(",{}\n", r + 1).as_bytes());
                            rows_written += 1;
                        }
                        w.write_all(&buf)?;
                    }
                    bar.inc(origins.len() as u64);
                }
            }
            Ok(())
        })?;
    }
    bar.finish_and_clear();
    phases.lap("matrix_and_write");

    // Who loses access under the hazard: reached some destination on the open network (within
    // the cutoff), none now.
    let mut lost = serde_json::Value::Null;
    if net.hazard.is_some() {
        let open = Customized::new(&net.cch, &net.graph, metric, LinkCosts::of(&net.graph));
        let at_open = Attach { cust: &open, ..at };
        let before = nearest_k(&at_open, &o_snap, &d_snap, 1, &opts);
        let after = nearest_k(&at, &o_snap, &d_snap, 1, &opts);
        let mut n_lost = 0;
        let mut w_lost = 0.0;
        let mut w_total = 0.0;
        let mut ids = Vec::new();
        for (o, (b, f)) in before.iter().zip(&after).enumerate() {
            let w = weights.as_ref().map_or(1.0, |w| w[o]);
            w_total += w;
            if !b.is_empty() && f.is_empty() {
                n_lost += 1;
                w_lost += w;
                if ids.len() < 100 {
                    ids.push(origins[o].id.clone());
                }
            }
        }
        let mean = |v: &[Vec<(u32, Cost2)>]| {
            let xs: Vec<f64> = v
                .iter()
                .filter_map(|l| l.first().map(|x| renxing_net::cch::from_units(x.1[0])))
                .collect();
            xs.iter().sum::<f64>() / xs.len().max(1) as f64
        };
        eprintln!(
            "lost access: {n_lost} of {} origins{} reach no destination{} under the hazard (first: {})",
            origins.len(),
            weights
                .as_ref()
                .map(|_| format!(
                    " ({w_lost:.0} of {w_total:.0} by {})",
                    a.weight_column.as_deref().unwrap_or("")
                ))
                .unwrap_or_default(),
            a.cutoff.map(|c| format!(" within {c}")).unwrap_or_default(),
            ids.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        );
        lost = serde_json::json!({
            "origins_lost": n_lost,
            "weight_lost": weights.as_ref().map(|_| w_lost),
            "weight_total": weights.as_ref().map(|_| w_total),
            "weight_column": a.weight_column,
            "mean_nearest_cost_open": mean(&before),
            "mean_nearest_cost_hazard": mean(&after),
            "lost_origin_ids_first_100": ids,
        });
        phases.lap("lost_access");
    }
    let not_snapped = |v: &[Option<Snap>]| v.iter().filter(|s| s.is_none()).count();
    eprintln!("{}", net.describe());
    eprintln!(
        "{} origins ({} not snapped), {} destinations ({} not snapped): {} rows in {}",
        origins.len(),
        not_snapped(&o_snap),
        dests.len(),
        not_snapped(&d_snap),
        rows_written,
        a.out.display()
    );
    if let Some(p) = &a.summary {
        let s = serde_json::json!({
            "network": net.road.source,
            "profile": net.profile.mode.to_string(),
            "metric": metric.to_string(),
            "graph": net.graph.report,
            "hierarchy": {"origin": net.cch_origin, "arcs": net.cch.arc_count(), "tree_height": net.cch.tree_height()},
            "hazard": net.hazard,
            "origins": origins.len(),
            "origins_not_snapped": not_snapped(&o_snap),
            "destinations": dests.len(),
            "destinations_not_snapped": not_snapped(&d_snap),
            "cutoff": a.cutoff,
            "nearest": a.nearest,
            "rows": rows_written,
            "lost_access": lost,
            "timings_s": phases.json(),
        });
        // The summary belongs to the matrix: if it cannot be written, take the matrix back too.
        if let Err(e) =
            crate::access::write_atomically(p, |w| w.write_all(serde_json::to_string_pretty(&s)?.as_bytes()))
        {
            let _ = std::fs::remove_file(&a.out);
            return Err(e);
        }
    }
    if a.timings {
        eprintln!("timings {}", phases.json());
    }
    Ok(())
}

/// Matrix columns of one Parquet row group.
#[derive(Default)]
struct Columns {
    origin: Vec<parquet::data_type::ByteArray>,
    destination: Vec<parquet::data_type::ByteArray>,
    distance: Vec<f64>,
    time: Vec<f64>,
    /// Definition levels of the optional cost columns (1 = value, 0 = no route).
    defined: Vec<i16>,
    rank: Vec<i32>,
}

impl Columns {
    fn push(&mut self, o: &str, d: &str, metric: Metric, c: Cost2, rank: Option<i32>) {
        self.origin.push(o.into());
        self.destination.push(d.into());
        if c[0].is_finite() {
            let c = cost_of(metric, c);
            self.distance.push(c.distance_m);
            self.time.push(c.time_s);
            self.defined.push(1);
        } else {
            self.defined.push(0);
        }
        if let Some(r) = rank {
            self.rank.push(r);
        }
    }

    fn len(&self) -> usize {
        self.origin.len()
    }
}

/// A matrix written as Parquet (uncompressed): `origin_id` and `destination_id` (UTF-8),
/// `distance_m` and `time_s` (DOUBLE, null when there is no route), plus `rank` (INT32) for
/// nearest-k. Written to a temporary sibling, renamed into place by [`ParquetMatrix::finish`].
struct ParquetMatrix {
    writer: parquet::file::writer::SerializedFileWriter<std::fs::File>,
    tmp: tempfile::NamedTempFile,
}

impl ParquetMatrix {
    fn create(path: &Path, with_rank: bool) -> Result<ParquetMatrix> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
        let tmp = tempfile::NamedTempFile::new_in(&dir).with_context(|| format!("{}: cannot write", dir.display()))?;
        let schema = format!(
            "message matrix {{ REQUIRED BYTE_ARRAY origin_id (UTF8); REQUIRED BYTE_ARRAY destination_id (UTF8); \
             OPTIONAL DOUBLE distance_m; OPTIONAL DOUBLE time_s; {} }}",
            if with_rank { "REQUIRED INT32 rank;" } else { "" }
        );
        let schema = std::sync::Arc::new(parquet::schema::parser::parse_message_type(&schema)?);
        let props = std::sync::Arc::new(parquet::file::properties::WriterProperties::builder().build());
        let file = tmp
            .reopen()
            .with_context(|| format!("{}: cannot write", path.display()))?;
        let writer = parquet::file::writer::SerializedFileWriter::new(file, schema, props)?;
        Ok(ParquetMatrix { writer, tmp })
    }

    fn row_group(&mut self, cols: &Columns) -> Result<()> {
        use parquet::data_type::{ByteArrayType, DoubleType, Int32Type};
        if cols.len() == 0 {
            return Ok(());
        }
        let mut rg = self.writer.next_row_group()?;
        let mut i = 0;
        while let Some(mut col) = rg.next_column()? {
            match i {
                0 => {
                    col.typed::<ByteArrayType>().write_batch(&cols.origin, None, None)?;
                }
                1 => {
                    col.typed::<ByteArrayType>()
                        .write_batch(&cols.destination, None, None)?;
                }
                2 => {
                    col.typed::<DoubleType>()
                        .write_batch(&cols.distance, Some(&cols.defined), None)?;
                }
                3 => {
                    col.typed::<DoubleType>()
                        .write_batch(&cols.time, Some(&cols.defined), None)?;
                }
                _ => {
                    col.typed::<Int32Type>().write_batch(&cols.rank, None, None)?;
                }
            }
            col.close()?;
            i += 1;
        }
        rg.close()?;
        Ok(())
    }

    fn finish(self, path: &Path) -> Result<()> {
        self.writer.close()?;
        crate::access::make_readable(self.tmp.as_file(), path)?;
        self.tmp
            .persist(path)
            .map_err(|e| anyhow!("{}: {}", path.display(), e.error))?;
        Ok(())
    }
}

fn check_max_snap(m: Option<f64>) -> Result<()> {
    match m {
        Some(m) if !(m.is_finite() && m >= 0.0) => bail!("--max-snap-m {m}: give a distance in metres ≥ 0"),
        _ => Ok(()),
    }
}

fn weights_of(pts: &[PointRecord], col: &str, path: &Path) -> Result<Vec<f64>> {
    pts.iter()
        .enumerate()
        .map(|(i, p)| {
            let v = crate::layers::attr(p, col)
                .ok_or_else(|| anyhow!("{}: no column '{col}' (--weight-column)", path.display()))?;
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| {
                    anyhow!(
                        "{}: record {} ({}): {col} '{v}' is not a number ≥ 0",
                        path.display(),
                        i + 1,
                        p.id
                    )
                })
        })
        .collect()
}

fn pair_row(buf: &mut Vec<u8>, o: &str, d: &str, metric: Metric, c: Cost2) {
    let c = cost_of(metric, c);
    let mut f = ryu::Buffer::new();
    buf.extend_from_slice(o.as_bytes());
    buf.push(b',');
    buf.extend_from_slice(d.as_bytes());
    buf.push(b',');
    buf.extend_from_slice(f.format_finite(c.distance_m).as_bytes());
    buf.push(b',');
    buf.extend_from_slice(f.format_finite(c.time_s).as_bytes());
    buf.push(b'\n');
}

/// Lower-case extension of a path ("" when none).
fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

// --------------------------------------------------------------------------------- isochrone

pub struct IsochroneArgs {
    pub net: NetworkArgs,
    pub origins: PathBuf,
    pub crs: Crs,
    /// Limits in minutes (time) or metres (distance).
    pub limits: Vec<f64>,
    /// One area for all origins together (reached from any of them).
    pub union: bool,
    pub cell_m: Option<f64>,
    pub off_road_m: Option<f64>,
    pub out: PathBuf,
    pub timings: bool,
}

pub fn run_isochrone(a: &IsochroneArgs) -> Result<()> {
    let mut phases = Phases::new();
    if a.limits.is_empty() || a.limits.iter().any(|l| !(l.is_finite() && *l > 0.0)) {
        bail!("--limits: give one or more positive limits, e.g. 5,10,15 (minutes) or 500,1000 (metres)");
    }
    let ext = extension(&a.out);
    if ext != "gpkg" {
        bail!(
            "--out {}: isochrones are written as a GeoPackage (*.gpkg)",
            a.out.display()
        );
    }
    let mut limits = a.limits.clone();
    limits.sort_by(f64::total_cmp);
    limits.dedup();
    let (unit, scale) = match a.net.metric {
        Metric::Time => ("min", 60.0),
        Metric::Distance => ("m", 1.0),
    };
    let internal: Vec<f64> = limits.iter().map(|l| l * scale).collect();
    let (cell_default, off_default) = match a.net.mode {
        Mode::Walk => (20.0, 50.0),
        Mode::Drive | Mode::Emergency => (100.0, 50.0),
    };
    let opts = AreaOptions {
        cell_m: a.cell_m.unwrap_or(cell_default),
        off_road_m: a.off_road_m.unwrap_or(off_default),
    };
    if !(opts.cell_m.is_finite() && opts.cell_m >= 1.0 && opts.off_road_m.is_finite() && opts.off_road_m >= 0.0) {
        bail!("--cell must be ≥ 1 m and --off-road ≥ 0 m");
    }
    check_max_snap(a.net.max_snap_m)?;
    let net = Network::open(&a.net, &mut phases)?;
    let origins = load_points(&a.origins, a.crs)?;
    let index = SnapIndex::new(&net.graph);
    let snaps = net.snap(&index, &origins, a.net.max_snap_m);
    phases.lap("snap");
    let cust = Customized::new(&net.cch, &net.graph, a.net.metric, net.costs.clone());
    let at = Attach {
        cust: &cust,
        graph: &net.graph,
        access_speed_mps: net.profile.access_speed_mps(),
    };
    phases.lap("customise");
    // Seed sets: one per origin, or one for all.
    let usable: Vec<usize> = (0..origins.len())
        .filter(|&i| snaps[i].as_ref().is_some_and(|s| at.leave(s).is_some()))
        .collect();
    let groups: Vec<(String, Vec<usize>)> = if a.union {
        vec![("all".into(), usable.clone())]
    } else {
        usable.iter().map(|&i| (origins[i].id.clone(), vec![i])).collect()
    };
    let seed_sets: Vec<Vec<(u32, Cost2)>> = groups
        .iter()
        .map(|(_, members)| {
            members
                .iter()
                .flat_map(|&i| at.leave(snaps[i].as_ref().expect("usable")).expect("usable"))
                .collect()
        })
        .collect();
    let bar = crate::risk::progress(groups.len() as u64, a.net.quiet, "isochrones")?;
    type GroupOut = (
        usize,
        Vec<(
            f64,
            renxing_geo::geo_types::MultiPolygon<f64>,
            f64,
            Vec<Vec<(f64, f64)>>,
            f64,
        )>,
    );
    let results = std::sync::Mutex::new(Vec::<GroupOut>::new());
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    node_costs(&cust, &seed_sets, true, |gi, costs| {
        let sources: Vec<Snap> = groups[gi].1.iter().map(|&i| snaps[i].expect("usable")).collect();
        let top = *internal.last().expect("limits");
        let pieces = reached_pieces(&at, costs, &sources, top);
        let polys = match areas(&at, &pieces, &internal, &opts) {
            Ok(p) => p,
            Err(e) => {
                failures
                    .lock()
                    .expect("no panics inside")
                    .push(format!("origin {}: {e}", groups[gi].0));
                bar.inc(1);
                return;
            }
        };
        let mut per_limit = Vec::new();
        for (li, (&lim, (mp, area))) in internal.iter().zip(polys).enumerate() {
            let mut lines = Vec::new();
            let mut km = 0.0;
            let within: Vec<_> = pieces.iter().filter_map(|p| trim(p, lim)).collect();
            for q in union_by_link(&within) {
                km += (q.to - q.from) * net.graph.links[q.link as usize].length_m / 1000.0;
                lines.push(piece_line(&net.graph, &q));
            }
            per_limit.push((limits[li], mp, area, lines, km));
        }
        results.lock().expect("no panics inside").push((gi, per_limit));
        bar.inc(1);
    });
    bar.finish_and_clear();
    if let Some(e) = failures.into_inner().expect("no panics inside").first() {
        bail!("isochrones: {e} (--cell)");
    }
    let mut results = results.into_inner().expect("no panics inside");
    results.sort_by_key(|r| r.0);
    phases.lap("isochrones");

    use renxing_geo::geo_types::{Geometry, LineString, MultiLineString, Point};
    let mut area_feats = Vec::new();
    let mut net_feats = Vec::new();
    for (gi, per_limit) in results {
        for (lim, mp, area, lines, km) in per_limit {
            let id = Value::Text(groups[gi].0.clone());
            area_feats.push(Feature {
                geometry: Some(Geometry::MultiPolygon(mp)),
                values: vec![
                    id.clone(),
                    Value::Real(lim),
                    Value::Text(unit.into()),
                    Value::Real(area / 1e6),
                ],
            });
            net_feats.push(Feature {
                geometry: Some(Geometry::MultiLineString(MultiLineString(
                    lines.into_iter().map(LineString::from).collect(),
                ))),
                values: vec![id, Value::Real(lim), Value::Text(unit.into()), Value::Real(km)],
            });
        }
    }
    let origin_feats: Vec<Feature> = origins
        .iter()
        .zip(&snaps)
        .map(|(p, s)| Feature {
            geometry: Some(Geometry::Point(Point::new(p.lon, p.lat))),
            values: vec![
                Value::Text(p.id.clone()),
                s.map_or(Value::Null, |s| Value::Real(s.offset_m)),
                Value::Integer(s.is_some_and(|s| at.leave(&s).is_some()) as i64),
            ],
        })
        .collect();
    let common = vec![
        ("origin_id".to_string(), FieldType::Text),
        ("limit".to_string(), FieldType::Real),
        ("limit_unit".to_string(), FieldType::Text),
    ];
    let with = |extra: (&str, FieldType)| {
        let mut f = common.clone();
        f.push((extra.0.to_string(), extra.1));
        f
    };
    let what = format!(
        "{} {} within {} {unit} ({})",
        net.profile.mode,
        a.net.metric,
        limits.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" / "),
        if a.union { "from any origin" } else { "per origin" }
    );
    let layers = vec![
        Layer {
            name: "isochrone_areas".into(),
            description: format!(
                "Area reached, {what}; off-road up to {} m, grid {} m",
                opts.off_road_m, opts.cell_m
            ),
            kind: Some(GeometryKind::MultiPolygon),
            fields: with(("area_km2", FieldType::Real)),
            features: area_feats,
        },
        Layer {
            name: "isochrone_network".into(),
            description: format!("Road network reached, {what}"),
            kind: Some(GeometryKind::MultiLineString),
            fields: with(("reached_km", FieldType::Real)),
            features: net_feats,
        },
        Layer {
            name: "isochrone_origins".into(),
            description: "Origins as given, with their snap distance and whether they reach the network".into(),
            kind: Some(GeometryKind::Point),
            fields: vec![
                ("origin_id".into(), FieldType::Text),
                ("snap_m".into(), FieldType::Real),
                ("on_network".into(), FieldType::Integer),
            ],
            features: origin_feats,
        },
    ];
    write_geopackage(&a.out, &layers).with_context(|| format!("{}: write failed", a.out.display()))?;
    phases.lap("write");
    eprintln!("{}", net.describe());
    eprintln!(
        "{} origins ({} usable): {} isochrone sets written to {}",
        origins.len(),
        usable.len(),
        groups.len(),
        a.out.display()
    );
    if a.timings {
        eprintln!("timings {}", phases.json());
    }
    Ok(())
}
