//! Renxing's nearest-shelter distances on the Beijing walk network against the independent
//! networkx reference in `tests/reference/` (script `beijing_walk_shelters.py`, output committed),
//! and multi-source search against plain single-source Dijkstra on the real graph.

use std::collections::HashMap;
use std::path::PathBuf;

use renxing_io::network_csv::{NetworkCsvOptions, read_network_csv};
use renxing_io::points::{PointsCsvOptions, read_points_csv};
use renxing_net::RoadData;
use renxing_net::access::{Metric, NearestField, nearest_by_plain_dijkstra};
use renxing_net::graph::Graph;
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::{Snap, SnapIndex};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Job {
    road: RoadData,
    shelters: Vec<(f64, f64)>,
}

fn job() -> Option<Job> {
    let nodes = renxing_io::shared_data::file("cn/beijing/beijing_osm2012_nodes.csv")?;
    let edges = renxing_io::shared_data::file("cn/beijing/beijing_osm2012_edges.csv")?;
    let sh = renxing_io::shared_data::file("cn/beijing/shelters_myshelter.csv")?;
    let road = read_network_csv(&nodes, &edges, &NetworkCsvOptions::default()).unwrap();
    let opts = PointsCsvOptions {
        id_column: Some("sid".into()),
        lon_column: Some("lon_wgs84".into()),
        lat_column: Some("lat_wgs84".into()),
        ..Default::default()
    };
    let shelters = read_points_csv(&sh, &opts)
        .unwrap()
        .into_iter()
        .map(|p| (p.lon, p.lat))
        .collect();
    Some(Job { road, shelters })
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

#[test]
fn nearest_shelter_distances_equal_the_networkx_reference() {
    let Some(job) = job() else { return };
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/reference/beijing_walk_shelters.json")).unwrap(),
    )
    .unwrap();
    let g = Graph::build(&job.road, &Profile::builtin(Mode::Walk));
    let gr = &reference["graph"];
    assert_eq!(g.node_count() as u64, gr["main_component_nodes"].as_u64().unwrap());
    assert_eq!(g.links.len() as u64, gr["main_component_edges"].as_u64().unwrap());
    assert_eq!(g.report.components as u64, gr["components"].as_u64().unwrap());
    assert_eq!(
        g.report.dropped_nodes as u64,
        gr["nodes_outside_main"].as_u64().unwrap()
    );
    assert_eq!(
        g.report.self_loops as u64,
        gr["walk_self_loops_dropped"].as_u64().unwrap()
    );

    let idx = SnapIndex::new(&g);
    let snaps: Vec<Option<Snap>> = job.shelters.iter().map(|&(x, y)| idx.snap(&g, x, y)).collect();
    assert!(snaps.iter().all(Option::is_some));
    let field = NearestField::compute(&g, &snaps, Metric::Distance, None, 1.0);
    let d = &field.distance_m;
    let n = d.len() as f64;
    let res = &reference;
    for (key, limit) in [
        ("nodes_le_500m", 500.0),
        ("nodes_le_2000m", 2000.0),
        ("nodes_le_3000m", 3000.0),
    ] {
        let count = d.iter().filter(|&&x| x <= limit).count() as u64;
        assert_eq!(count, res[key].as_u64().unwrap(), "{key}");
    }
    let share = d.iter().filter(|&&x| x <= 500.0).count() as f64 / n;
    assert!(rel(share, res["share_le_500m"].as_f64().unwrap()) < 1e-12);
    let mean = d.iter().sum::<f64>() / n;
    let max = d.iter().cloned().fold(0.0, f64::max);
    assert!(
        rel(mean, res["distance_mean_m"].as_f64().unwrap()) < 1e-9,
        "mean {mean} vs {}",
        res["distance_mean_m"]
    );
    assert!(
        rel(max, res["distance_max_m"].as_f64().unwrap()) < 1e-9,
        "max {max} vs {}",
        res["distance_max_m"]
    );

    // Per-node sample: node_id,distance_m with full precision.
    let by_id: HashMap<i64, f64> = (0..g.node_count())
        .map(|i| (job.road.nodes[g.node_source[i]].id, d[i]))
        .collect();
    let sample = std::fs::read_to_string(repo().join("tests/reference/beijing_walk_shelters_sample.csv")).unwrap();
    let mut rows = 0;
    for line in sample.lines().skip(1) {
        let mut it = line.split(',');
        let id: i64 = it.next().unwrap().parse().unwrap();
        let want: f64 = it.next().unwrap().parse().unwrap();
        let got = by_id[&id];
        assert!((got - want).abs() <= 1e-9 * want.max(1.0), "node {id}: {got} vs {want}");
        rows += 1;
    }
    assert!(rows > 700, "sample has {rows} rows");
}

fn check_against_plain_dijkstra(mode: Mode) {
    let Some(job) = job() else { return };
    let g = Graph::build(&job.road, &Profile::builtin(mode));
    let idx = SnapIndex::new(&g);
    // Every 40th shelter as destinations; 25 origins spread over the node range.
    let dests: Vec<Snap> = job
        .shelters
        .iter()
        .step_by(40)
        .filter_map(|&(x, y)| idx.snap(&g, x, y))
        .collect();
    let field = NearestField::compute(
        &g,
        &dests.iter().map(|s| Some(*s)).collect::<Vec<_>>(),
        Metric::Distance,
        None,
        1.0,
    );
    let n = g.node_count() as u32;
    for k in 0..25u32 {
        let v = (k * 7919 + 13) % n;
        let want = nearest_by_plain_dijkstra(&g, v, &dests);
        let got = field.distance_m[v as usize];
        assert!(
            (got - want).abs() <= 1e-9 * want.max(1.0),
            "{mode} node {v}: {got} vs {want}"
        );
    }
}

#[test]
fn multi_source_search_equals_plain_dijkstra_on_the_walk_graph() {
    check_against_plain_dijkstra(Mode::Walk);
}

#[test]
fn multi_source_search_equals_plain_dijkstra_on_the_one_way_drive_graph() {
    check_against_plain_dijkstra(Mode::Drive);
}

#[test]
fn untagged_long_edges_are_reported_and_left_out() {
    let Some(job) = job() else { return };
    let g = Graph::build(&job.road, &Profile::builtin(Mode::Walk));
    // 48 untagged rows, 197,976.2 m in all (counted independently with python's csv module).
    assert_eq!(g.report.untagged_edges, 48);
    assert!(
        (g.report.untagged_length_km - 197.9762).abs() < 1e-3,
        "{}",
        g.report.untagged_length_km
    );
    let (longest_id, longest_m) = &g.report.untagged_longest[0];
    assert!(
        *longest_m > 10_000.0,
        "longest untagged edge {longest_id}: {longest_m} m"
    );
    let untagged_ids: std::collections::HashSet<&str> = job
        .road
        .edges
        .iter()
        .filter(|e| e.highway.is_empty())
        .map(|e| e.source_id.as_str())
        .collect();
    assert!(
        g.links
            .iter()
            .all(|l| !untagged_ids.contains(job.road.edges[l.source_edge].source_id.as_str()))
    );
}

/// A file declared GCJ-02 ends up within 5 m of OpenStreetMap: 239 real OSM node positions
/// (data/beijing/osm2015_region5.osm) shifted to GCJ-02 by an independent Python implementation of
/// the public formula (tests/reference/osm_nodes_gcj02.py), read back with `crs = gcj02`.
#[test]
fn gcj02_points_land_on_their_openstreetmap_positions() {
    let path = repo().join("tests/reference/osm_nodes_gcj02.csv");
    let opts = PointsCsvOptions {
        lon_column: Some("gcj_lon".into()),
        lat_column: Some("gcj_lat".into()),
        crs: renxing_geo::crs::Crs::Gcj02,
        ..Default::default()
    };
    let points = read_points_csv(&path, &opts).unwrap();
    assert!(points.len() > 200);
    let mut worst: f64 = 0.0;
    for p in &points {
        let attr = |k: &str| p.attrs.iter().find(|(n, _)| n == k).unwrap().1.parse::<f64>().unwrap();
        let d = renxing_geo::distance::haversine_m(p.lon, p.lat, attr("osm_lon"), attr("osm_lat"));
        worst = worst.max(d);
    }
    // Criterion 5 m; the inverse is iterated to 1e-9 degrees, so millimetres in practice.
    assert!(worst < 5.0, "worst {worst} m");
    assert!(worst < 0.01, "worst {worst} m");
}
