//! Routing on real networks: the customizable contraction hierarchy against plain Dijkstra on
//! random windows of the Beijing network and on the Shanghai OSM extract, against networkx on
//! 1,000 committed Beijing pairs, under closures, and `renxing od` / `renxing isochrone` end to end.
//! Tests skip with a printed reason when the shared data folder is absent.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use renxing_net::RoadData;
use renxing_net::access::Metric;
use renxing_net::cch::{Cch, Cost2, Customized, LANES, LinkCosts, UNREACHED, add, better, dijkstra_pairs, from_units};
use renxing_net::graph::Graph;
use renxing_net::matrix::Attach;
use renxing_net::matrix::cost_of;
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::SnapIndex;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn beijing() -> Option<(PathBuf, PathBuf, RoadData)> {
    let nodes = renxing_io::shared_data::file("cn/beijing/beijing_osm2012_nodes.csv")?;
    let edges = renxing_io::shared_data::file("cn/beijing/beijing_osm2012_edges.csv")?;
    let road = renxing_io::network_csv::read_network_csv(&nodes, &edges, &Default::default()).expect("Beijing network");
    Some((nodes, edges, road))
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn close(a: Cost2, b: Cost2) -> bool {
    // Whole nano-units add exactly: the hierarchy must find the very same pair.
    a == b
}

/// Sweeps from `sources` (both directions) and a few routes equal Dijkstra on every node.
fn check_against_dijkstra(g: &Graph, metric: Metric, sources: &[u32]) -> usize {
    let cch = Cch::build(g);
    let cust = Customized::new(&cch, g, metric, LinkCosts::of(g));
    let mut checked = 0;
    for chunk in sources.chunks(LANES) {
        let seeds: Vec<Vec<(u32, Cost2)>> = chunk.iter().map(|&s| vec![(s, [0.0, 0.0])]).collect();
        let (mut fwd, mut bwd) = (Vec::new(), Vec::new());
        cust.sweep_from(&seeds, true, &mut fwd, None);
        cust.sweep_from(&seeds, false, &mut bwd, None);
        for (k, &s) in chunk.iter().enumerate() {
            let want = dijkstra_pairs(g, &cust.links, metric, &[(s, [0.0, 0.0])]);
            for v in 0..g.node_count() {
                let got = fwd[cch.rank[v] as usize * LANES + k];
                assert!(
                    close(got, want[v]),
                    "{} {metric}: {s}->{v}: {got:?} vs {:?}",
                    g.report.source,
                    want[v]
                );
                checked += 1;
            }
            // Costs towards s: from a handful of nodes.
            for v in (0..g.node_count()).step_by(g.node_count() / 7 + 1) {
                let from_v = dijkstra_pairs(g, &cust.links, metric, &[(v as u32, [0.0, 0.0])]);
                let got = bwd[cch.rank[v] as usize * LANES + k];
                assert!(close(got, from_v[s as usize]), "{v}->{s}");
                let (c, route) = cust
                    .route(&[(v as u32, [0.0, 0.0])], &[(s, [0.0, 0.0])])
                    .expect("connected");
                assert!(close(c, from_v[s as usize]));
                let sum = route
                    .iter()
                    .fold([0.0, 0.0], |acc, &(l, _)| add(acc, cust.links.pair(metric, l as usize)));
                assert!(close(sum, c), "unpacked route adds up");
            }
        }
    }
    checked
}

#[test]
fn cch_equals_dijkstra_on_random_windows_of_beijing_both_modes_and_metrics() {
    let Some((_, _, road)) = beijing() else {
        eprintln!("SKIP: cn/beijing network not in the shared data folder");
        return;
    };
    let mut rng = Rng(2026);
    let mut total = 0;
    for w in 0..6 {
        // Windows of about 3–7 km in the dense middle of the network (116.28–116.48 E,
        // 39.84–39.98 N).
        let size = 0.04 + rng.next() * 0.04;
        let (lon0, lat0) = (
            116.28 + rng.next() * (0.20 - size),
            39.84 + rng.next() * (0.14 - size * 0.77),
        );
        let part = road.clip(lon0, lat0, lon0 + size, lat0 + size * 0.77);
        let mode = if w % 2 == 0 { Mode::Walk } else { Mode::Drive };
        let g = Graph::build(&part, &Profile::builtin(mode));
        eprintln!("{}: {} {} nodes", part.source, mode, g.node_count());
        let sources: Vec<u32> = (0..16).map(|_| (rng.next() * g.node_count() as f64) as u32).collect();
        for metric in [Metric::Distance, Metric::Time] {
            total += check_against_dijkstra(&g, metric, &sources);
        }
    }
    assert!(total > 200_000, "only {total} node costs checked");
}

#[test]
fn cch_equals_dijkstra_on_the_shanghai_osm_extract() {
    let Some(osm) = renxing_io::shared_data::file("cn/shanghai/shanghai_center.osm") else {
        eprintln!("SKIP: cn/shanghai/shanghai_center.osm not in the shared data folder");
        return;
    };
    let road = renxing_io::osm::roads(&renxing_io::osm::read_osm(&osm).expect("Shanghai OSM"));
    for mode in [Mode::Drive, Mode::Walk] {
        let g = Graph::build(&road, &Profile::builtin(mode));
        assert!(g.node_count() > 1000, "{mode}: {} nodes", g.node_count());
        let sources: Vec<u32> = (0..g.node_count() as u32).step_by(g.node_count() / 12).collect();
        check_against_dijkstra(&g, Metric::Time, &sources);
    }
}

/// `tests/reference/beijing_od_1000.csv`: networkx shortest paths for 1,000 walk (distance) and
/// 1,000 drive (time) node pairs; see tests/reference/README.md.
#[test]
fn cch_equals_networkx_on_1000_committed_beijing_pairs_per_profile() {
    let Some((nodes, edges, road)) = beijing() else {
        eprintln!("SKIP: cn/beijing network not in the shared data folder");
        return;
    };
    // The edge file lists each direction of a street as its own row: the reference reads it so
    // for driving (`--directed-edges`); for walking both readings give the same graph.
    let directed = renxing_io::network_csv::read_network_csv(
        &nodes,
        &edges,
        &renxing_io::network_csv::NetworkCsvOptions {
            directed: true,
            ..Default::default()
        },
    )
    .unwrap();
    let path = repo().join("tests/reference/beijing_od_1000.csv");
    let text = std::fs::read_to_string(&path).expect("committed reference");
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| *h == n)
            .unwrap_or_else(|| panic!("column {n}"))
    };
    let (cp, cm, co, cd, cc) = (
        col("profile"),
        col("metric"),
        col("origin_node_id"),
        col("destination_node_id"),
        col("cost"),
    );
    let by_id: std::collections::HashMap<i64, usize> = road.nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut checked = 0;
    for (mode, road) in [(Mode::Walk, &road), (Mode::Drive, &directed)] {
        let g = Graph::build(road, &Profile::builtin(mode));
        let mut node_of = vec![u32::MAX; road.nodes.len()];
        for (gi, &src) in g.node_source.iter().enumerate() {
            node_of[src] = gi as u32;
        }
        let cch = Cch::build(&g);
        let customised: Vec<(Metric, Customized)> = [Metric::Distance, Metric::Time]
            .into_iter()
            .map(|m| (m, Customized::new(&cch, &g, m, LinkCosts::of(&g))))
            .collect();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            if f[cp] != mode.to_string() {
                continue;
            }
            let metric: Metric = f[cm].parse().unwrap();
            let cust = &customised.iter().find(|(m, _)| *m == metric).unwrap().1;
            let node = |c: usize| node_of[by_id[&f[c].parse::<i64>().unwrap()]];
            let (o, d) = (node(co), node(cd));
            assert!(
                o != u32::MAX && d != u32::MAX,
                "reference node outside the kept component: {line}"
            );
            let want: f64 = f[cc].parse().unwrap();
            let (got, _) = cust.route(&[(o, [0.0, 0.0])], &[(d, [0.0, 0.0])]).expect("reachable");
            let got = from_units(got[0]);
            assert!(
                (got - want).abs() <= 1e-9 * want.max(1.0),
                "{mode} {metric} {line}: {got}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2000);
}

/// Closures on the real drive network: a disc of links around Tiananmen closed.
#[test]
fn closed_links_are_never_used_and_reopening_restores_every_cost_exactly() {
    let Some((_, _, road)) = beijing() else {
        eprintln!("SKIP: cn/beijing network not in the shared data folder");
        return;
    };
    let g = Graph::build(&road, &Profile::builtin(Mode::Drive));
    let cch = Cch::build(&g);
    let open = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
    let mut costs = LinkCosts::of(&g);
    let (lon0, lat0) = (116.3975, 39.9087);
    for (l, link) in g.links.iter().enumerate() {
        let d = renxing_geo::distance::haversine_m(g.lon[link.a as usize], g.lat[link.a as usize], lon0, lat0);
        if d < 1500.0 {
            costs.open[l] = false;
        }
    }
    let closed = costs.closed_count();
    assert!(closed > 100, "{closed}");
    let flooded = Customized::new(&cch, &g, Metric::Time, costs.clone());
    let mut rng = Rng(7);
    let mut longer = 0;
    for _ in 0..300 {
        let (s, t) = (
            (rng.next() * g.node_count() as f64) as u32,
            (rng.next() * g.node_count() as f64) as u32,
        );
        let want = dijkstra_pairs(&g, &costs, Metric::Time, &[(s, [0.0, 0.0])])[t as usize];
        match flooded.route(&[(s, [0.0, 0.0])], &[(t, [0.0, 0.0])]) {
            None => assert!(want[0].is_infinite()),
            Some((c, route)) => {
                assert!(close(c, want));
                assert!(
                    route.iter().all(|&(l, _)| costs.open[l as usize]),
                    "closed link in a route"
                );
                let (o, _) = open.route(&[(s, [0.0, 0.0])], &[(t, [0.0, 0.0])]).unwrap();
                assert!(c[0] >= o[0]);
                longer += (c[0] > o[0]) as usize;
            }
        }
    }
    assert!(longer > 0, "closing the centre lengthens some trips");
    // Re-customising with all links open gives back the open costs bit for bit.
    let reopened = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
    let seeds = vec![vec![(0u32, [0.0, 0.0])]];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    open.sweep_from(&seeds, true, &mut a, None);
    reopened.sweep_from(&seeds, true, &mut b, None);
    assert_eq!(a, b);
}

/// A depth grid fixture (ESRI ASCII, lon/lat): 0.4 m over a block of central Beijing
/// (116.374–116.406 E, 39.884–39.916 N), 0.1 m in a band around it, dry elsewhere.
fn write_depth_grid(path: &Path) {
    let mut grid =
        String::from("ncols 40\nnrows 40\nxllcorner 116.35\nyllcorner 39.86\ncellsize 0.002\nNODATA_value -9999\n");
    for r in 0..40 {
        let row: Vec<&str> = (0..40)
            .map(|c| {
                if (12..28).contains(&r) && (12..28).contains(&c) {
                    "0.4"
                } else if (8..32).contains(&r) && (8..32).contains(&c) {
                    "0.1"
                } else {
                    "0"
                }
            })
            .collect();
        grid.push_str(&row.join(" "));
        grid.push('\n');
    }
    std::fs::write(path, grid).unwrap();
}

fn od_cmd(nodes: &Path, edges: &Path) -> Command {
    let mut c = Command::cargo_bin("renxing").unwrap();
    c.arg("od")
        .arg("--nodes")
        .arg(nodes)
        .arg("--edges")
        .arg(edges)
        .arg("--quiet");
    c
}

/// Random points over central Beijing (116.30–116.48 E, 39.85–39.97 N), ids `<tag><i>`.
fn random_points(n: usize, tag: &str, rng: &mut Rng) -> Vec<(String, f64, f64)> {
    (0..n)
        .map(|i| {
            (
                format!("{tag}{i}"),
                116.30 + rng.next() * 0.18,
                39.85 + rng.next() * 0.12,
            )
        })
        .collect()
}

fn write_points(path: &Path, pts: &[(String, f64, f64)]) {
    let mut s = String::from("id,lon,lat,pop\n");
    for (i, (id, lon, lat)) in pts.iter().enumerate() {
        s.push_str(&format!("{id},{lon},{lat},{}\n", 100 + i));
    }
    std::fs::write(path, s).unwrap();
}

fn read_matrix(path: &Path) -> std::collections::HashMap<(String, String), (f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("origin_id,destination_id,distance_m,time_s"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let p = |x: &str| {
                if x.is_empty() {
                    f64::INFINITY
                } else {
                    x.parse().unwrap()
                }
            };
            ((f[0].to_string(), f[1].to_string()), (p(f[2]), p(f[3])))
        })
        .collect()
}

/// `renxing od` equals a Dijkstra from each origin's attachment to each destination's, for
/// real points (Beijing shelters to hospitals), then again with a flood depth grid that closes
/// the centre to cars; the lost-access report counts what the matrix shows.
#[test]
fn od_cli_equals_dijkstra_open_and_flooded() {
    let Some((nodes, edges, road)) = beijing() else {
        eprintln!("SKIP: cn/beijing network not in the shared data folder");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(11);
    let (o, d) = (random_points(40, "o", &mut rng), random_points(25, "d", &mut rng));
    let (op, dp) = (tmp.path().join("o.csv"), tmp.path().join("d.csv"));
    write_points(&op, &o);
    write_points(&dp, &d);
    let asc = tmp.path().join("depth.asc");
    write_depth_grid(&asc);

    for flooded in [false, true] {
        let out = tmp.path().join(format!("m{flooded}.csv"));
        let summary = tmp.path().join(format!("s{flooded}.json"));
        let mut c = od_cmd(&nodes, &edges);
        c.args([
            "--profile",
            "drive",
            "--metric",
            "time",
            "--no-cache",
            "--weight-column",
            "pop",
        ])
        .arg("--origins")
        .arg(&op)
        .arg("--destinations")
        .arg(&dp)
        .arg("--out")
        .arg(&out)
        .arg("--summary")
        .arg(&summary);
        if flooded {
            c.arg("--closures").arg(&asc).args(["--slowdown", "pregnolato"]);
        }
        let run = c.output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let m = read_matrix(&out);
        assert_eq!(m.len(), 40 * 25, "one row per pair");

        // Reference: the same scenario built here, Dijkstra per origin.
        let g = Graph::build(&road, &Profile::builtin(Mode::Drive));
        let mut costs = LinkCosts::of(&g);
        if flooded {
            let grid = renxing_io::raster::read_grid(&asc, None).unwrap();
            let depths: Vec<f64> = (0..g.links.len())
                .map(|l| renxing_risk::flood::closures::max_depth_along(&grid, &g.link_polyline(l)))
                .collect();
            let r = renxing_net::hazard::apply_depths(
                &mut costs,
                &depths,
                0.15,
                renxing_net::hazard::Slowdown::Pregnolato,
                g.road_links,
            );
            assert!(r.closed_links > 50 && r.slowed_links > 50, "{r:?}");
        }
        let cch = Cch::build(&g);
        let cust = Customized::new(&cch, &g, Metric::Time, costs);
        let at = Attach {
            cust: &cust,
            graph: &g,
            access_speed_mps: Profile::builtin(Mode::Drive).access_speed_mps(),
        };
        let idx = SnapIndex::new(&g);
        let snap = |p: &(String, f64, f64)| idx.snap(&g, p.1, p.2).unwrap();
        let mut unreached = 0;
        for oi in &o {
            let os = snap(oi);
            let from = at
                .leave(&os)
                .map(|seeds| dijkstra_pairs(&g, &cust.links, Metric::Time, &seeds));
            for di in &d {
                let ds = snap(di);
                let mut best = at.direct(&os, &ds).unwrap_or(UNREACHED);
                if let (Some(from), Some(enter)) = (&from, at.enter(&ds)) {
                    for (v, c) in enter {
                        let x = add(from[v as usize], c);
                        if better(x, best) {
                            best = x;
                        }
                    }
                }
                let (dist, time) = m[&(oi.0.clone(), di.0.clone())];
                let want = cost_of(Metric::Time, best);
                assert!(
                    (dist, time) == (want.distance_m, want.time_s),
                    "{flooded} {}->{}: {time},{dist} vs {want:?}",
                    oi.0,
                    di.0
                );
                unreached += best[0].is_infinite() as usize;
            }
        }
        let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
        if flooded {
            assert!(unreached > 0, "the flooded centre cuts some pairs");
            // Origins with no destination at all now: those whose every row is empty.
            let lost = o
                .iter()
                .filter(|oi| d.iter().all(|di| m[&(oi.0.clone(), di.0.clone())].1.is_infinite()))
                .count();
            assert_eq!(s["lost_access"]["origins_lost"], lost);
            assert!(s["hazard"]["closed_links"].as_u64().unwrap() > 50);
        } else {
            assert_eq!(unreached, 0);
            assert!(s["lost_access"].is_null());
        }
    }
}

#[test]
fn od_cli_nearest_k_cutoff_cache_and_bad_closures() {
    let Some((nodes, edges, _)) = beijing() else {
        eprintln!("SKIP: cn/beijing network not in the shared data folder");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(3);
    let (o, d) = (random_points(30, "o", &mut rng), random_points(50, "d", &mut rng));
    let (op, dp) = (tmp.path().join("o.csv"), tmp.path().join("d.csv"));
    write_points(&op, &o);
    write_points(&dp, &d);
    let cache = tmp.path().join("cache");
    let run = |extra: &[&str], out: &Path| {
        let r = od_cmd(&nodes, &edges)
            .args(["--profile", "walk", "--metric", "distance"])
            .arg("--cache")
            .arg(&cache)
            .arg("--origins")
            .arg(&op)
            .arg("--destinations")
            .arg(&dp)
            .arg("--out")
            .arg(out)
            .args(extra)
            .output()
            .unwrap();
        (r.status.success(), String::from_utf8_lossy(&r.stderr).to_string())
    };
    let full = tmp.path().join("full.csv");
    let (ok, err) = run(&[], &full);
    assert!(ok && err.contains("built, cached in"), "{err}");
    let m = read_matrix(&full);
    // The same matrix as Parquet: same pairs, same numbers.
    let pq = tmp.path().join("full.parquet");
    let (ok, err) = run(&[], &pq);
    assert!(ok, "{err}");
    {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::record::RowAccessor;
        let reader = SerializedFileReader::new(std::fs::File::open(&pq).unwrap()).unwrap();
        let mut n = 0;
        for row in reader.get_row_iter(None).unwrap() {
            let row = row.unwrap();
            let (o, d) = (row.get_string(0).unwrap().clone(), row.get_string(1).unwrap().clone());
            let want = m[&(o.clone(), d.clone())];
            assert_eq!(
                (row.get_double(2).unwrap(), row.get_double(3).unwrap()),
                want,
                "{o}->{d}"
            );
            n += 1;
        }
        assert_eq!(n, m.len());
    }
    let near = tmp.path().join("near.csv");
    let (ok, err) = run(&["--nearest", "3", "--cutoff", "4000"], &near);
    assert!(
        ok && err.contains("loaded from"),
        "second run loads the cached hierarchy: {err}"
    );
    let text = std::fs::read_to_string(&near).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("origin_id,destination_id,distance_m,time_s,rank"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(String::from).collect()).collect();
    for oi in &o {
        let mut want: Vec<(f64, String)> = d
            .iter()
            .map(|di| (m[&(oi.0.clone(), di.0.clone())].0, di.0.clone()))
            .filter(|x| x.0 <= 4000.0)
            .collect();
        want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        want.truncate(3);
        let got: Vec<(f64, String)> = rows
            .iter()
            .filter(|r| r[0] == oi.0)
            .map(|r| (r[2].parse().unwrap(), r[1].clone()))
            .collect();
        assert_eq!(got.len(), want.len(), "{}", oi.0);
        for (g, w) in got.iter().zip(&want) {
            assert!((g.0 - w.0).abs() <= 1e-9 * w.0.max(1.0), "{g:?} vs {w:?}");
        }
    }
    // A closures CSV naming an edge the network does not have: error with file and line, no output.
    let bad = tmp.path().join("closures.csv");
    std::fs::write(&bad, "edge_id,max_depth_m,closed\n3,0.2,true\n99999999,0.3,true\n").unwrap();
    let out = tmp.path().join("never.csv");
    let (ok, err) = run(&["--closures", bad.to_str().unwrap()], &out);
    assert!(
        !ok && err.contains("closures.csv") && err.contains("line 3") && err.contains("99999999"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn isochrone_cli_writes_nested_walk_areas_and_reached_network() {
    let Some((nodes, edges, _)) = beijing() else {
        eprintln!("SKIP: cn/beijing network not in the shared data folder");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let op = tmp.path().join("o.csv");
    write_points(
        &op,
        &[
            ("tiantan".into(), 116.4107, 39.8822),
            ("xizhimen".into(), 116.3530, 39.9405),
        ],
    );
    for union in [false, true] {
        let out = tmp.path().join(format!("iso{union}.gpkg"));
        let mut c = Command::cargo_bin("renxing").unwrap();
        c.arg("isochrone")
            .arg("--nodes")
            .arg(&nodes)
            .arg("--edges")
            .arg(&edges)
            .args([
                "--profile",
                "walk",
                "--metric",
                "time",
                "--limits",
                "15,5,10",
                "--quiet",
                "--no-cache",
            ])
            .arg("--origins")
            .arg(&op)
            .arg("--out")
            .arg(&out);
        if union {
            c.arg("--union");
        }
        let run = c.output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let areas = renxing_io::gpkg::read_layer(&out, Some("isochrone_areas")).unwrap();
        let groups = if union { 1 } else { 2 };
        assert_eq!(areas.len(), 3 * groups);
        let area_of = |f: &renxing_io::gpkg::ReadFeature| match f.1.iter().find(|(k, _)| k == "area_km2").unwrap().1 {
            renxing_io::gpkg::Value::Real(x) => x,
            ref v => panic!("{v:?}"),
        };
        for g in 0..groups {
            let a: Vec<f64> = areas[g * 3..g * 3 + 3].iter().map(area_of).collect();
            assert!(a[0] > 0.0 && a[0] < a[1] && a[1] < a[2], "{a:?}");
            // 15 minutes at 5 km/h is 1.25 km: the area stays inside that disc plus 50 m off road.
            assert!(a[2] < std::f64::consts::PI * 1.3f64.powi(2), "{a:?}");
        }
        let net = renxing_io::gpkg::read_layer(&out, Some("isochrone_network")).unwrap();
        assert_eq!(net.len(), 3 * groups);
    }
    // Flooded (walking closed above 0.3 m): the 15-minute area of a point just south of the
    // flooded block (Qianmen) shrinks.
    let asc = tmp.path().join("depth.asc");
    write_depth_grid(&asc);
    let qianmen = tmp.path().join("qianmen.csv");
    write_points(&qianmen, &[("qianmen".into(), 116.3980, 39.8800)]);
    let area15 = |extra: &[&str], name: &str| {
        let out = tmp.path().join(name);
        let run = Command::cargo_bin("renxing")
            .unwrap()
            .arg("isochrone")
            .arg("--nodes")
            .arg(&nodes)
            .arg("--edges")
            .arg(&edges)
            .args(["--profile", "walk", "--limits", "15", "--quiet", "--no-cache"])
            .arg("--origins")
            .arg(&qianmen)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let f = renxing_io::gpkg::read_layer(&out, Some("isochrone_areas")).unwrap();
        match f[0].1.iter().find(|(k, _)| k == "area_km2").unwrap().1 {
            renxing_io::gpkg::Value::Real(x) => x,
            ref v => panic!("{v:?}"),
        }
    };
    let open = area15(&[], "open.gpkg");
    let flooded = area15(
        &["--closures", asc.to_str().unwrap(), "--closure-depth", "0.3"],
        "flooded.gpkg",
    );
    assert!(flooded < open, "flooded {flooded} vs open {open}");
}

/// Flood polygons with a depth attribute (two polygons sharing a depth class): exactly the drive
/// links touching the deep polygon are closed; a polygon without a usable depth is an error naming
/// the feature.
#[test]
fn od_cli_flood_polygons_close_the_links_they_touch() {
    let Some((nodes, edges, road)) = beijing() else {
        eprintln!("SKIP: cn/beijing network not in the shared data folder");
        return;
    };
    use geo::Intersects;
    let tmp = tempfile::tempdir().unwrap();
    let (deep, shallow) = ((116.374, 39.884, 116.406, 39.916), (116.30, 39.95, 116.33, 39.97));
    let ring = |b: (f64, f64, f64, f64)| {
        format!(
            "[[[{0},{1}],[{2},{1}],[{2},{3}],[{0},{3}],[{0},{1}]]]",
            b.0, b.1, b.2, b.3
        )
    };
    let gj = tmp.path().join("flood.geojson");
    std::fs::write(
        &gj,
        format!(
            r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","properties":{{"depth_m":0.6}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
{{"type":"Feature","properties":{{"depth_m":0.1}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
{{"type":"Feature","properties":{{"depth_m":0.6}},"geometry":{{"type":"Polygon","coordinates":{}}}}}]}}"#,
            ring(deep),
            ring(shallow),
            ring(deep)
        ),
    )
    .unwrap();
    let pts = tmp.path().join("p.csv");
    write_points(&pts, &[("a".into(), 116.35, 39.93), ("b".into(), 116.45, 39.87)]);
    let run = |closures: &Path, summary: &Path| {
        od_cmd(&nodes, &edges)
            .args(["--profile", "drive", "--no-cache"])
            .arg("--origins")
            .arg(&pts)
            .arg("--destinations")
            .arg(&pts)
            .arg("--closures")
            .arg(closures)
            .arg("--summary")
            .arg(summary)
            .arg("--out")
            .arg(tmp.path().join("m.csv"))
            .output()
            .unwrap()
    };
    let summary = tmp.path().join("s.json");
    let r = run(&gj, &summary);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let g = Graph::build(&road, &Profile::builtin(Mode::Drive));
    let rect = |b: (f64, f64, f64, f64)| geo::Rect::new(geo::coord! {x: b.0, y: b.1}, geo::coord! {x: b.2, y: b.3});
    let touching = |b| {
        (0..g.links.len())
            .filter(|&l| geo::LineString::from(g.link_polyline(l)).intersects(&rect(b)))
            .count()
    };
    let (n_deep, n_shallow) = (touching(deep), touching(shallow));
    assert!(n_deep > 100 && n_shallow > 10, "{n_deep} {n_shallow}");
    assert_eq!(s["hazard"]["closed_links"], n_deep);
    assert_eq!(s["hazard"]["wet_links"], n_deep + n_shallow);
    // A depth that is not a number.
    std::fs::write(&gj, std::fs::read_to_string(&gj).unwrap().replace("0.1", "\"deep\"")).unwrap();
    let r = run(&gj, &tmp.path().join("s2.json"));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        !r.status.success() && err.contains("flood.geojson") && err.contains("feature 2"),
        "{err}"
    );
}

/// The emergency profile lifts one-way rules (Road Traffic Safety Law art. 53) on the driving
/// classes: never slower than driving, faster where one-way streets force detours.
#[test]
fn emergency_vehicles_are_never_slower_than_cars_and_sometimes_faster() {
    let Some((_, _, road)) = beijing() else {
        eprintln!("SKIP: cn/beijing network not in the shared data folder");
        return;
    };
    let car = Graph::build(&road, &Profile::builtin(Mode::Drive));
    let ems = Graph::build(&road, &Profile::builtin(Mode::Emergency));
    assert!(ems.node_count() >= car.node_count());
    let (cc, ce) = (Cch::build(&car), Cch::build(&ems));
    let (kc, ke) = (
        Customized::new(&cc, &car, Metric::Time, LinkCosts::of(&car)),
        Customized::new(&ce, &ems, Metric::Time, LinkCosts::of(&ems)),
    );
    let ems_node: std::collections::HashMap<usize, u32> = ems
        .node_source
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, i as u32))
        .collect();
    let mut rng = Rng(99);
    let mut faster = 0;
    for _ in 0..300 {
        let (s, t) = (
            (rng.next() * car.node_count() as f64) as u32,
            (rng.next() * car.node_count() as f64) as u32,
        );
        let (c, _) = kc
            .route(&[(s, [0.0, 0.0])], &[(t, [0.0, 0.0])])
            .expect("strongly connected");
        let (es, et) = (
            ems_node[&car.node_source[s as usize]],
            ems_node[&car.node_source[t as usize]],
        );
        let (e, _) = ke.route(&[(es, [0.0, 0.0])], &[(et, [0.0, 0.0])]).expect("connected");
        assert!(e[0] <= c[0], "{s}->{t}: emergency {} > car {}", e[0], c[0]);
        faster += (e[0] < c[0]) as usize;
    }
    assert!(
        faster > 30,
        "only {faster} of 300 trips gain from ignoring one-way rules"
    );
}

/// Turn restrictions of the Beijing 2015 OSM regions (XML) and of the Helsinki extract (PBF):
/// what is read and placed, and — on the drive graph with them built in — exact equality
/// with a Dijkstra that tracks each route's last arcs, routes free of forbidden sequences, and
/// routes that differ from the unrestricted graph.
#[test]
fn osm_turn_restrictions_equal_history_dijkstra_on_beijing_regions() {
    use renxing_net::turns::{TurnReport, arc_of, breaks_a_restriction, dijkstra_with_history, forbidden_sequences};
    // (region, relations seen, kept for cars, placed on the drive graph, forbidden sequences,
    // why the reader left some out). Region 5: 10 of its 13 are no_u_turn through a via way.
    // Region 6: 17 only_straight_on; 4 name one-way roads cut off at the extract's edge, which
    // the drive graph drops (not strongly connected); only_* gives one sequence per other exit.
    // Region 8: its one restriction holds 07:00–20:00 only (hour_on/hour_off). Helsinki: 45
    // (27 only_straight_on, 10 no_left_turn…); 13 name ways the clipped extract cuts off.
    let not_road = "member way not a road of the file";
    let cases = [
        ("cn/beijing/osm_2015/region5.osm", 13, 11, 10, 10, vec![(not_road, 2)]),
        ("cn/beijing/osm_2015/region6.osm", 21, 20, 16, 24, vec![(not_road, 1)]),
        (
            "cn/beijing/osm_2015/region8.osm",
            1,
            0,
            0,
            0,
            vec![("time-limited (day_on/hour_on)", 1)],
        ),
        (
            "osm/helsinki.osm.pbf",
            45,
            43,
            29,
            29,
            vec![
                ("member way not a road of the file", 1),
                ("time-limited (day_on/hour_on)", 1),
            ],
        ),
    ];
    for (region, seen, kept, placed, sequences, reader_skips) in cases {
        let Some(path) = renxing_io::shared_data::file(region) else {
            continue;
        };
        let osm = renxing_io::osm::read_osm(&path).unwrap();
        let (road, rep) = renxing_io::osm::roads_with_report(&osm);
        let drive = Profile::builtin(Mode::Drive);
        let g = Graph::build(&road, &drive);
        let turns = g.report.turns.clone().unwrap();
        println!("{region}: {rep:?}\n{turns:?}");
        assert_eq!(
            (
                rep.restrictions_seen,
                rep.restrictions_kept,
                turns.applied,
                turns.forbidden_sequences
            ),
            (seen, kept, placed, sequences),
            "{region}"
        );
        let skips: Vec<(String, usize)> = reader_skips.iter().map(|&(w, n)| (w.to_string(), n)).collect();
        assert_eq!(rep.restrictions_skipped, skips);
        assert_eq!(turns.skipped.values().sum::<usize>(), kept - placed);
        let base = Graph::build(
            &road,
            &Profile {
                turn_restrictions: false,
                ..drive.clone()
            },
        );
        let pats = forbidden_sequences(&base, &road, &mut TurnReport::default());
        let cch = Cch::build(&g);
        let cust = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
        let base_costs = LinkCosts::of(&base);
        // Sources: the tails of every forbidden sequence (where the restrictions bite) and
        // random nodes.
        let mut rng = Rng(7);
        let mut sources: Vec<u32> = pats.iter().map(|p| g.links[(p[0] >> 1) as usize].a).collect();
        sources.extend((0..16).map(|_| (rng.next() * base.node_count() as f64) as u32));
        sources.sort();
        sources.dedup();
        let (mut changed, mut routes) = (0, 0);
        let mut buf = Vec::new();
        for &s in &sources {
            let seeds = [(s, [0.0, 0.0])];
            let want = dijkstra_with_history(&base, &base_costs, Metric::Time, &pats, &seeds);
            let free = dijkstra_pairs(&base, &base_costs, Metric::Time, &seeds);
            cust.sweep_from(&[seeds.to_vec()], true, &mut buf, None);
            for v in 0..base.node_count() as u32 {
                let got = g
                    .at_junction(v)
                    .map(|c| buf[cch.rank[c as usize] as usize * LANES])
                    .fold(UNREACHED, |a, b| if better(b, a) { b } else { a });
                assert!(
                    close(got, want[v as usize]),
                    "{region} {s}→{v}: {got:?} vs {:?}",
                    want[v as usize]
                );
                changed += (want[v as usize] != free[v as usize]) as usize;
            }
            // Routes to a spread of targets use no forbidden sequence.
            for v in (0..base.node_count() as u32).step_by(base.node_count() / 25 + 1) {
                let to: Vec<(u32, Cost2)> = g.at_junction(v).map(|c| (c, [0.0, 0.0])).collect();
                if let Some((c, links)) = cust.route(&seeds, &to) {
                    assert!(close(c, want[v as usize]));
                    let arcs: Vec<u32> = links.iter().map(|&(l, fwd)| arc_of(&g, l as usize, fwd)).collect();
                    assert!(!breaks_a_restriction(&pats, &arcs), "{region} {s}→{v}");
                    routes += 1;
                }
            }
        }
        println!(
            "{region}: {} sources, {changed} node costs changed by restrictions, {routes} routes",
            sources.len()
        );
        assert!(routes > 0);
        if placed > 0 {
            assert!(changed > 0, "{region}: the restrictions change some routes");
        }
    }
}
