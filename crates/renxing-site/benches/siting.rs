//! Solve times of the siting models on spopt's San Francisco case (205 tracts × 16 stores) and
//! on the Wuhan scale case (p-median, 32,415 WorldPop cells × 1,000 candidates, great-circle
//! costs, built by `scripts/make_wuhan_siting.py` into `$RENXING_WUHAN_SITING`). In-process
//! solve only; the whole-process comparison with spopt + CBC is `scripts/compare_site.sh`.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use renxing_geo::shared_data;
use renxing_site::input::{Columns, read_instance};
use renxing_site::{Instance, Model, Spec, solve};

fn sf() -> Option<Instance> {
    let dir = shared_data::file("validation/spopt_sf")?;
    let f = |n: &str| -> PathBuf { dir.join(n) };
    let inst = read_instance(
        &f("SF_demand_205_centroid_uniform_weight.csv"),
        &f("SF_store_site_16_longlat.csv"),
        &f("SF_network_distance_candidateStore_16_censusTract_205_new.csv"),
        &Columns::default(),
    )
    .ok()?;
    let d = inst.site_distances().ok()?;
    inst.with_site_costs(d).ok()
}

fn spec(model: Model, p: Option<usize>, service: Option<f64>) -> Spec {
    let mut s = Spec::new(model);
    s.p = p;
    s.service = service;
    s
}

fn bench_sf(c: &mut Criterion) {
    let Some(inst) = sf() else { return };
    let mut cap = inst.clone();
    cap.sites.iter_mut().for_each(|s| s.capacity = Some(318_371.0));
    let mut g = c.benchmark_group("sf");
    g.sample_size(10);
    for (name, s) in [
        ("lscp", spec(Model::Lscp, None, Some(5000.0))),
        ("lscp-b", spec(Model::LscpB, None, Some(5000.0))),
        ("mclp", spec(Model::Mclp, Some(4), Some(5000.0))),
        ("p-median", spec(Model::PMedian, Some(4), None)),
        ("p-center", spec(Model::PCenter, Some(4), None)),
        ("p-dispersion", spec(Model::PDispersion, Some(4), None)),
    ] {
        g.bench_function(name, |b| b.iter(|| black_box(solve(&inst, &s).unwrap().objective)));
    }
    let s = spec(Model::CpMedian, Some(4), None);
    g.bench_function("cp-median", |b| {
        b.iter(|| black_box(solve(&cap, &s).unwrap().objective))
    });
    g.finish();
}

fn bench_wuhan(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("RENXING_WUHAN_SITING").map(PathBuf::from) else {
        eprintln!("SKIP wuhan: set RENXING_WUHAN_SITING to a folder made by scripts/make_wuhan_siting.py");
        return;
    };
    let inst = renxing_site::input::read_instance_with(
        &dir.join("demand.csv"),
        &dir.join("candidates.csv"),
        None,
        &Columns::default(),
        |dp, sp| Ok(renxing_site::CostMatrix::great_circle(dp.to_vec(), sp.to_vec())),
    )
    .unwrap();
    let mut g = c.benchmark_group("wuhan");
    g.sample_size(10);
    let mut s = spec(Model::PMedian, Some(50), None);
    s.gap_target = 0.01;
    g.bench_function("p-median p=50 gap 1%", |b| {
        b.iter(|| black_box(solve(&inst, &s).unwrap().gap))
    });
    let mut s = spec(Model::Mclp, Some(50), Some(2000.0));
    s.gap_target = 0.01;
    g.bench_function("mclp p=50 S=2000 gap 1%", |b| {
        b.iter(|| black_box(solve(&inst, &s).unwrap().gap))
    });
    g.finish();
}

criterion_group!(benches, bench_sf, bench_wuhan);
criterion_main!(benches);
