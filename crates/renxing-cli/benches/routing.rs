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
//!    how preprocessing grows with the number of links (throughput = links).
//!
//! Run with `cargo bench -p renxing-cli --bench routing` (a few minutes on 2 cores). The
//! side-by-side comparison with pandana, scipy and networkx is `scripts/compare_routing.py`.
//! Without the shared data the bench prints SKIP and does nothing.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use renxing_net::RoadData;
use renxing_net::access::Metric;
use renxing_net::cch::{Cch, Customized, LinkCosts, RouteQuery};
use renxing_net::graph::Graph;
use renxing_net::matrix::{Attach, MatrixOptions, many_to_many};
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::{Snap, SnapIndex};

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
            let v = (rng.next() * g.node_count() as f64) as usize;
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
    c.final_summary();
}
