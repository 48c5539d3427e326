//! Benchmark: the routing engine on the Beijing network (walk and drive profiles).
//!
//! Groups:
//! 1. `hierarchy_<mode>`: nested-dissection order + contraction (`Cch::build`), customisation for
//!    time, re-customisation after closing every link within 1.5 km of Tiananmen, one-to-one
//!    routes with their links unpacked (100 random node pairs per iteration, one reused
//!    `RouteQuery`);
//! 2. `matrix_<mode>`: many-to-many between points at the coordinates of random graph nodes,
//!    1,000 × 1,000 and 10,000 × 1,000 (costs only; the CLI adds formatting), with and without
//!    the hierarchy build ("cold" includes `Cch::build` and customisation);
//! 3. `scaling_build`: `Cch::build` on square windows of the walk network of growing size, to read
//!    how preprocessing grows with the number of links (throughput = links);
//! 4. `scaling_tiled`: build + customisation on k × k **tiled copies** of the Beijing walk network
//!    (k = 2, 4, 6: about 0.15, 0.6 and 1.3 million links), side by side with seams stitched by
//!    50 short links per shared border — a stand-in for a province-size network, which the shared
//!    data does not hold. The copies are the real network; only the tiling is made up, so the
//!    figures measure scaling, not any real region.
//!
//! Run with `cargo bench -p renxing-cli --bench routing` (a few minutes on 2 cores). The
//! side-by-side comparison with pandana, scipy and networkx is `scripts/compare_routing.py`.
//! Without the shared data the bench prints SKIP and does nothing.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use renxing_net::access::Metric;
use renxing_net::cch::{Cch, Customized, LinkCosts, RouteQuery};
use renxing_net::graph::Graph;
use renxing_net::matrix::{Attach, MatrixOptions, many_to_many};
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::{Snap, SnapIndex};
use renxing_net::{RoadData, RoadEdge};

fn load() -> Option<RoadData> {
    let nodes = renxing_io::shared_data::file("cn/beijing/beijing_osm2012_nodes.csv")?;
    let edges = renxing_io::shared_data::file("cn/beijing/beijing_osm2012_edges.csv")?;
    Some(renxing_io::network_csv::read_network_csv(&nodes, &edges, &Default::default()).expect("Beijing network"))
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

fn points(g: &Graph, n: usize, seed: u64) -> Vec<Option<Snap>> {
    let idx = SnapIndex::new(g);
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let v = (rng.next() * g.road_nodes as f64) as usize;
            idx.snap(g, g.lon[v], g.lat[v])
        })
        .collect()
}

fn matrix_sum(at: &Attach<'_>, o: &[Option<Snap>], d: &[Option<Snap>]) -> f64 {
    let mut sum = 0.0;
    many_to_many(at, o, d, &MatrixOptions::default(), |b| -> Result<(), ()> {
        sum += b.costs.iter().map(|c| c[0]).filter(|x| x.is_finite()).sum::<f64>();
        Ok(())
    })
    .expect("infallible sink");
    sum
}

fn closures_near_tiananmen(g: &Graph) -> LinkCosts {
    let mut c = LinkCosts::of(g);
    for (l, link) in g.links.iter().enumerate() {
        let d = renxing_geo::distance::haversine_m(g.lon[link.a as usize], g.lat[link.a as usize], 116.3975, 39.9087);
        if d < 1500.0 {
            c.open[l] = false;
        }
    }
    c
}

fn window(road: &RoadData, half_deg: f64) -> RoadData {
    let (lon0, lat0) = (116.3975, 39.9087);
    road.clip(
        lon0 - half_deg,
        lat0 - half_deg * 0.77,
        lon0 + half_deg,
        lat0 + half_deg * 0.77,
    )
}

/// `k × k` copies of a network side by side, each seam stitched by links between the 50 nodes
/// nearest to it on either side (each joined to the nearest across, as a primary road).
fn tiled(road: &RoadData, k: usize) -> RoadData {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for n in &road.nodes {
        x0 = x0.min(n.lon);
        x1 = x1.max(n.lon);
        y0 = y0.min(n.lat);
        y1 = y1.max(n.lat);
    }
    let (w, h) = ((x1 - x0) * 1.002, (y1 - y0) * 1.002);
    let n = road.nodes.len();
    let mut out = RoadData {
        nodes: Vec::with_capacity(n * k * k),
        edges: Vec::with_capacity(road.edges.len() * k * k),
        source: format!("{} tiled {k}×{k}", road.source),
        turn_restrictions: Vec::new(),
    };
    for t in 0..k * k {
        let (i, j) = (t % k, t / k);
        for nd in &road.nodes {
            out.nodes.push(renxing_net::RoadNode {
                id: nd.id + (t * n) as i64 * 10,
                lon: nd.lon + i as f64 * w,
                lat: nd.lat + j as f64 * h,
            });
        }
        for e in &road.edges {
            out.edges.push(RoadEdge {
                u: e.u + t * n,
                v: e.v + t * n,
                shape: e
                    .shape
                    .iter()
                    .map(|&(x, y)| (x + i as f64 * w, y + j as f64 * h))
                    .collect(),
                ..e.clone()
            });
        }
    }
    // Seams: the 50 nodes nearest the border on each side, joined to the nearest across.
    let by = |key: &dyn Fn(&renxing_net::RoadNode) -> f64, last: bool| -> Vec<usize> {
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| key(&road.nodes[a]).total_cmp(&key(&road.nodes[b])));
        if last {
            idx[n - 50..].to_vec()
        } else {
            idx[..50].to_vec()
        }
    };
    let (east, west) = (by(&|p| p.lon, true), by(&|p| p.lon, false));
    let (north, south) = (by(&|p| p.lat, true), by(&|p| p.lat, false));
    let mut stitch = |a_side: &[usize], b_side: &[usize], ta: usize, tb: usize| {
        for &a in a_side {
            let pa = &out.nodes[ta * n + a];
            let (mut best, mut bd) = (0, f64::MAX);
            for &b in b_side {
                let pb = &out.nodes[tb * n + b];
                let d = renxing_geo::distance::haversine_m(pa.lon, pa.lat, pb.lon, pb.lat);
                if d < bd {
                    (best, bd) = (b, d);
                }
            }
            out.edges.push(RoadEdge {
                u: ta * n + a,
                v: tb * n + best,
                length_m: bd.max(1.0),
                highway: "primary".into(),
                oneway: renxing_net::Oneway::No,
                access_walk: true,
                access_drive: true,
                name: String::new(),
                source_id: "seam".into(),
                shape: vec![],
            });
        }
    };
    for t in 0..k * k {
        let (i, j) = (t % k, t / k);
        if i + 1 < k {
            stitch(&east, &west, t, t + 1);
        }
        if j + 1 < k {
            stitch(&north, &south, t, t + k);
        }
    }
    out
}

fn main() {
    let Some(road) = load() else {
        eprintln!("SKIP: cn/beijing network not in the shared data folder");
        return;
    };
    let mut c = Criterion::default().configure_from_args();
    for mode in [Mode::Walk, Mode::Drive] {
        let g = Graph::build(&road, &Profile::builtin(mode));
        let cch = Cch::build(&g);
        eprintln!(
            "{mode}: {} nodes, {} links; hierarchy {} arcs, elimination tree height {}",
            g.node_count(),
            g.links.len(),
            cch.arc_count(),
            cch.tree_height()
        );
        let cust = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
        let flooded = closures_near_tiananmen(&g);
        let mut grp = c.benchmark_group(format!("hierarchy_{mode}"));
        grp.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(4));
        grp.bench_function("build", |b| b.iter(|| black_box(Cch::build(&g).arc_count())));
        grp.bench_function("customise_time", |b| {
            b.iter(|| {
                black_box(
                    Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g))
                        .links
                        .open
                        .len(),
                )
            })
        });
        grp.bench_function("recustomise_closures", |b| {
            b.iter(|| {
                black_box(
                    Customized::new(&cch, &g, Metric::Time, flooded.clone())
                        .links
                        .open
                        .len(),
                )
            })
        });
        let mut rng = Rng(5);
        let pairs: Vec<(u32, u32)> = (0..100)
            .map(|_| {
                (
                    (rng.next() * g.node_count() as f64) as u32,
                    (rng.next() * g.node_count() as f64) as u32,
                )
            })
            .collect();
        let mut query = RouteQuery::new(&cch);
        grp.bench_function("one_to_one_x100", |b| {
            b.iter(|| {
                pairs
                    .iter()
                    .map(|&(s, t)| {
                        query
                            .route(&cust, &[(s, [0.0, 0.0])], &[(t, [0.0, 0.0])])
                            .map_or(0.0, |r| r.0[0])
                    })
                    .sum::<f64>()
            })
        });
        grp.finish();

        let o10k = points(&g, 10_000, 1);
        let d1k = points(&g, 1_000, 2);
        let at = Attach {
            cust: &cust,
            graph: &g,
            access_speed_mps: Profile::builtin(mode).access_speed_mps(),
        };
        let mut grp = c.benchmark_group(format!("matrix_{mode}"));
        grp.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(6));
        grp.bench_function("1000x1000", |b| {
            b.iter(|| black_box(matrix_sum(&at, &o10k[..1000], &d1k)))
        });
        grp.bench_function("10000x1000", |b| b.iter(|| black_box(matrix_sum(&at, &o10k, &d1k))));
        grp.bench_function("1000x1000_cold", |b| {
            b.iter(|| {
                let cch = Cch::build(&g);
                let cust = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
                black_box(matrix_sum(&Attach { cust: &cust, ..at }, &o10k[..1000], &d1k))
            })
        });
        grp.finish();
    }

    let mut grp = c.benchmark_group("scaling_build");
    grp.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3));
    for half in [0.02, 0.04, 0.08, 0.16] {
        let g = Graph::build(&window(&road, half), &Profile::builtin(Mode::Walk));
        grp.throughput(Throughput::Elements(g.links.len() as u64));
        grp.bench_function(format!("walk_{}_links", g.links.len()), |b| {
            b.iter(|| black_box(Cch::build(&g).arc_count()))
        });
    }
    grp.finish();

    let mut grp = c.benchmark_group("scaling_tiled");
    grp.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(10));
    for k in [2, 4, 6] {
        let g = Graph::build(&tiled(&road, k), &Profile::builtin(Mode::Walk));
        let cch = Cch::build(&g);
        eprintln!(
            "tiled {k}×{k}: {} nodes, {} links (largest component); hierarchy {} arcs, tree height {}",
            g.node_count(),
            g.links.len(),
            cch.arc_count(),
            cch.tree_height()
        );
        grp.throughput(Throughput::Elements(g.links.len() as u64));
        grp.bench_function(format!("build_{}_links", g.links.len()), |b| {
            b.iter(|| black_box(Cch::build(&g).arc_count()))
        });
        grp.bench_function(format!("customise_{}_links", g.links.len()), |b| {
            b.iter(|| {
                black_box(
                    Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g))
                        .links
                        .open
                        .len(),
                )
            })
        });
    }
    grp.finish();

    // Turn restrictions: the Helsinki PBF extract (45 relations, 29 placed on the drive graph),
    // graph building, hierarchy and a 200 × 200 matrix with and without them.
    if let Some(path) = renxing_io::shared_data::file("osm/helsinki.osm.pbf") {
        let road = renxing_io::osm::roads(&renxing_io::osm::read_osm(&path).expect("Helsinki PBF"));
        let mut grp = c.benchmark_group("turns");
        grp.sampling_mode(SamplingMode::Flat)
            .sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(3));
        let with = Profile::builtin(Mode::Drive);
        let without = Profile {
            turn_restrictions: false,
            ..with.clone()
        };
        for (name, profile) in [("with", &with), ("without", &without)] {
            let g = Graph::build(&road, profile);
            let cch = Cch::build(&g);
            eprintln!(
                "Helsinki drive {name} restrictions: {} nodes, {} links; hierarchy {} arcs",
                g.node_count(),
                g.links.len(),
                cch.arc_count()
            );
            grp.bench_function(format!("graph_{name}"), |b| {
                b.iter(|| black_box(Graph::build(&road, profile).links.len()))
            });
            grp.bench_function(format!("hierarchy_{name}"), |b| {
                b.iter(|| black_box(Cch::build(&g).arc_count()))
            });
            let (o, d) = (points(&g, 200, 5), points(&g, 200, 6));
            let cust = Customized::new(&cch, &g, Metric::Time, LinkCosts::of(&g));
            let at = Attach {
                cust: &cust,
                graph: &g,
                access_speed_mps: profile.access_speed_mps(),
            };
            grp.bench_function(format!("matrix_200x200_{name}"), |b| {
                b.iter(|| black_box(matrix_sum(&at, &o, &d)))
            });
        }
        grp.finish();
    } else {
        eprintln!("SKIP turns: osm/helsinki.osm.pbf not in the shared data");
    }
    c.final_summary();
}
