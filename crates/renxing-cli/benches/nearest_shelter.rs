//! Benchmark: nearest shelter for every node of the Beijing walk network.
//!
//! The job `renxing access` runs (see `tests/reference/README.md` for its definition), broken
//! into its phases and timed one by one on real data from the shared data folder:
//!
//! 1. `read_csv`: the OSM-2012 node/edge CSVs (`read_network_csv`, default options) and the
//!    1,181 shelters (`read_points_csv`, columns `lon_wgs84`/`lat_wgs84`);
//! 2. `graph_build_walk`: `Graph::build` with the built-in walk profile;
//! 3. `snap_index_build`: `SnapIndex::new`; `snap_points`: snapping the shelters and every
//!    graph node with `SnapIndex::snap_all` (parallel, as the CLI does); `snap_index_and_points`:
//!    both;
//! 4. `search`: the multi-source `NearestField::compute` plus `nearest` for every node;
//! 5. `end_to_end`: 1–4 in one go, plus formatting the CSV result in memory.
//!
//! Run with `cargo bench -p renxing-cli --bench nearest_shelter` (about a minute on 2 cores).
//! Without the shared data the bench prints SKIP and does nothing.

use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, SamplingMode};
use renxing_io::network_csv::{NetworkCsvOptions, read_network_csv};
use renxing_io::points::{PointRecord, PointsCsvOptions, read_points_csv};
use renxing_net::RoadData;
use renxing_net::access::{Metric, Nearest, NearestField};
use renxing_net::graph::Graph;
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::{Snap, SnapIndex};

struct Inputs {
    nodes: PathBuf,
    edges: PathBuf,
    shelters: PathBuf,
}

fn shelter_options() -> PointsCsvOptions {
    PointsCsvOptions {
        lon_column: Some("lon_wgs84".into()),
        lat_column: Some("lat_wgs84".into()),
        ..Default::default()
    }
}

fn read_all(inp: &Inputs) -> Result<(RoadData, Vec<PointRecord>), renxing_io::IoError> {
    let road = read_network_csv(&inp.nodes, &inp.edges, &NetworkCsvOptions::default())?;
    let shelters = read_points_csv(&inp.shelters, &shelter_options())?;
    Ok((road, shelters))
}

/// Shelter snaps and one snap per graph node (the origins of the job), as the CLI does them
/// (`SnapIndex::snap_all`, in parallel).
fn snap_points(graph: &Graph, index: &SnapIndex, shelters: &[(f64, f64)]) -> (Vec<Option<Snap>>, Vec<Option<Snap>>) {
    let nodes: Vec<(f64, f64)> = graph.lon.iter().copied().zip(graph.lat.iter().copied()).collect();
    (index.snap_all(graph, shelters), index.snap_all(graph, &nodes))
}

fn lonlat(points: &[PointRecord]) -> Vec<(f64, f64)> {
    points.iter().map(|p| (p.lon, p.lat)).collect()
}

fn snap_all(graph: &Graph, shelters: &[PointRecord]) -> (Vec<Option<Snap>>, Vec<Option<Snap>>) {
    snap_points(graph, &SnapIndex::new(graph), &lonlat(shelters))
}

fn search(graph: &Graph, dests: &[Option<Snap>], origins: &[Option<Snap>], access_speed: f64) -> Vec<Option<Nearest>> {
    let field = NearestField::compute(graph, dests, Metric::Distance, None, access_speed);
    origins
        .iter()
        .map(|o| o.as_ref().and_then(|o| field.nearest(graph, o)))
        .collect()
}

fn end_to_end(inp: &Inputs) -> Result<usize, renxing_io::IoError> {
    let (road, shelters) = read_all(inp)?;
    let profile = Profile::builtin(Mode::Walk);
    let graph = Graph::build(&road, &profile);
    let (dests, origins) = snap_all(&graph, &shelters);
    let nearest = search(&graph, &dests, &origins, profile.access_speed_mps());
    // The CLI writes one CSV row per origin; format the same rows into memory.
    let mut out = Vec::with_capacity(nearest.len() * 40);
    let _ = writeln!(out, "origin_id,destination_id,distance_m,time_s");
    for (v, n) in nearest.iter().enumerate() {
        let id = road.nodes[graph.node_source[v]].id;
        let _ = match n {
            Some(n) => writeln!(
                out,
                "{id},{},{},{}",
                shelters[n.destination as usize].id, n.distance_m, n.time_s
            ),
            None => writeln!(out, "{id},,,"),
        };
    }
    Ok(out.len())
}

fn find_inputs() -> Option<Inputs> {
    Some(Inputs {
        nodes: renxing_io::shared_data::file("cn/beijing/beijing_osm2012_nodes.csv")?,
        edges: renxing_io::shared_data::file("cn/beijing/beijing_osm2012_edges.csv")?,
        shelters: renxing_io::shared_data::file("cn/beijing/shelters_myshelter.csv")?,
    })
}

fn describe(road: &RoadData, shelters: &[PointRecord]) {
    let profile = Profile::builtin(Mode::Walk);
    let graph = Graph::build(road, &profile);
    let (dests, origins) = snap_all(&graph, shelters);
    let nearest = search(&graph, &dests, &origins, profile.access_speed_mps());
    let d: Vec<f64> = nearest.iter().flatten().map(|n| n.distance_m).collect();
    let mean = d.iter().sum::<f64>() / d.len().max(1) as f64;
    let max = d.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "instance: {} input nodes / {} input edges; walk graph {} nodes / {} links; {} shelters ({} snapped); \
         {} origins reached, mean {:.3} m, max {:.3} m",
        road.nodes.len(),
        road.edges.len(),
        graph.node_count(),
        graph.links.len(),
        shelters.len(),
        dests.iter().flatten().count(),
        d.len(),
        mean,
        max
    );
}

fn bench(c: &mut Criterion, inp: &Inputs, road: &RoadData, shelters: &[PointRecord]) {
    let mut g = c.benchmark_group("nearest_shelter_beijing_walk");
    // Flat sampling: every sample runs the same number of iterations, so ten samples of a
    // 250 ms routine fit in a few seconds (linear sampling would need 55 iterations).
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));

    g.bench_function("read_csv", |b| b.iter(|| black_box(read_all(inp).is_ok())));

    let profile = Profile::builtin(Mode::Walk);
    g.bench_function("graph_build_walk", |b| {
        b.iter(|| black_box(Graph::build(road, &profile)))
    });

    let graph = Graph::build(road, &profile);
    g.bench_function("snap_index_build", |b| b.iter(|| black_box(SnapIndex::new(&graph))));
    let index = SnapIndex::new(&graph);
    let shelter_pts = lonlat(shelters);
    g.bench_function("snap_points", |b| {
        b.iter(|| black_box(snap_points(&graph, &index, &shelter_pts)))
    });
    g.bench_function("snap_index_and_points", |b| {
        b.iter(|| black_box(snap_all(&graph, shelters)))
    });

    let (dests, origins) = snap_all(&graph, shelters);
    let speed = profile.access_speed_mps();
    g.bench_function("search_field_and_nearest", |b| {
        b.iter(|| black_box(search(&graph, &dests, &origins, speed)))
    });
    g.bench_function("search_field_only", |b| {
        b.iter(|| black_box(NearestField::compute(&graph, &dests, Metric::Distance, None, speed)))
    });

    g.bench_function("end_to_end", |b| b.iter(|| black_box(end_to_end(inp).is_ok())));
    g.finish();
}

fn main() {
    let Some(inp) = find_inputs() else { return };
    // Read once up front so that a bad input is reported instead of benchmarked.
    let (road, shelters) = match read_all(&inp) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("nearest_shelter bench: cannot read the inputs: {e}");
            std::process::exit(1);
        }
    };
    describe(&road, &shelters);
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &inp, &road, &shelters);
    c.final_summary();
}
