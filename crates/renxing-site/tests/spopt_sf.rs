//! Validation against PySAL spopt 0.7.0 on its San Francisco case (205 census tracts × 16 stores,
//! network distances, demand POP2000), from `../shared/data/validation/spopt_sf/`.
//!
//! The p-median and MCLP figures are spopt's published test values; the others were produced by
//! `scripts/spopt_site.py` (spopt 0.7.0 + CBC 2.10.3), each checked unique by enumerating every
//! site combination, except where a test says the optimum has ties.

use std::path::PathBuf;

use renxing_geo::shared_data;
use renxing_site::input::{Columns, read_instance};
use renxing_site::{Instance, Model, Solution, Spec, Status, solve};

fn sf() -> Option<Instance> {
    let dir = shared_data::file("validation/spopt_sf")?;
    let f = |n: &str| -> PathBuf { dir.join(n) };
    Some(
        read_instance(
            &f("SF_demand_205_centroid_uniform_weight.csv"),
            &f("SF_store_site_16_longlat.csv"),
            &f("SF_network_distance_candidateStore_16_censusTract_205_new.csv"),
            &Columns::default(),
        )
        .expect("SF instance reads"),
    )
}

fn ids(inst: &Instance, s: &Solution) -> Vec<String> {
    s.selected.iter().map(|&j| inst.sites[j].id.clone()).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs()
}

fn run(inst: &Instance, model: Model, p: Option<usize>, service: Option<f64>) -> Solution {
    let mut spec = Spec::new(model);
    spec.p = p;
    spec.service = service;
    let s = solve(inst, &spec).unwrap_or_else(|e| panic!("{model}: {e}"));
    assert_eq!(s.status, Status::Optimal, "{model} proven optimal");
    assert_eq!(s.gap, 0.0);
    s
}

#[test]
fn reads_the_spopt_files_with_detected_columns() {
    let Some(inst) = sf() else { return };
    assert_eq!(inst.n_demand(), 205);
    assert_eq!(inst.n_sites(), 16);
    assert_eq!(
        inst.demand_ids[0], "060816029.00",
        "NAME, not ID, matches the cost file"
    );
    assert_eq!(inst.total_weight(), 955_113.0);
    // First row of the long file: Store_1 → 060750479.01 at 671.5733459664615 m.
    let i = inst.demand_ids.iter().position(|d| d == "060750479.01").unwrap();
    assert_eq!(inst.costs.get(i, 0), 671.5733459664615);
}

#[test]
fn p_median_matches_spopt() {
    let Some(inst) = sf() else { return };
    let s = run(&inst, Model::PMedian, Some(4), None);
    let mean = s.stats.weighted_mean_cost.unwrap();
    assert!(close(mean, 2982.1268579890657), "weighted mean {mean}");
    assert!(close(s.objective, 2_848_268_129.714512), "objective {}", s.objective);
    assert_eq!(ids(&inst, &s), ["Store_2", "Store_11", "Store_12", "Store_15"]);
    // Forcing the heuristic path gives the same optimum, proven by its Lagrangian bound or not.
    let mut spec = Spec::new(Model::PMedian);
    spec.p = Some(4);
    spec.method = renxing_site::Method::Heuristic;
    spec.gap_target = 0.0;
    let h = solve(&inst, &spec).unwrap();
    assert!(close(h.objective, s.objective), "heuristic {}", h.objective);
    assert!(
        h.bound <= s.objective * (1.0 + 1e-12) && h.bound > 0.9 * s.objective,
        "bound {}",
        h.bound
    );
}

#[test]
fn mclp_matches_spopt() {
    let Some(inst) = sf() else { return };
    let s = run(&inst, Model::Mclp, Some(4), Some(5000.0));
    assert_eq!(s.stats.uncovered, Some(21));
    assert!(close(1.0 - 21.0 / 205.0, 0.897560976));
    assert_eq!(s.objective, 875_247.0);
    assert!(close(s.stats.covered_demand_share.unwrap(), 875_247.0 / 955_113.0));
    assert_eq!(ids(&inst, &s), ["Store_2", "Store_11", "Store_12", "Store_15"]);
}

#[test]
fn lscp_and_lscp_b_match_spopt() {
    let Some(inst) = sf() else { return };
    let s = run(&inst, Model::Lscp, None, Some(5000.0));
    // Eight stores; the optimum has 8 different site sets, so only the count is compared.
    assert_eq!(s.objective, 8.0);
    assert_eq!(s.selected.len(), 8);
    assert_eq!(s.stats.uncovered, Some(0));
    let b = run(&inst, Model::LscpB, None, Some(5000.0));
    assert_eq!(b.selected.len(), 8);
    // 145 tracts covered twice; spopt reports 167 = 145 + 22 tracts with fewer than two stores
    // in range, which its formulation counts as backed up.
    assert_eq!(b.objective, 145.0);
    assert_eq!(b.stats.backup_covered, Some(145));
    assert_eq!(
        ids(&inst, &b),
        [
            "Store_2", "Store_3", "Store_6", "Store_7", "Store_11", "Store_12", "Store_14", "Store_16"
        ]
    );
    let cov = inst.coverage(5000.0);
    assert_eq!((0..205).filter(|&i| cov.of(i).len() < 2).count(), 22);
}

#[test]
fn p_center_matches_spopt() {
    let Some(inst) = sf() else { return };
    let s = run(&inst, Model::PCenter, Some(4), None);
    assert!(close(s.objective, 7403.063810849859), "radius {}", s.objective);
    assert_eq!(s.stats.max_cost, Some(s.objective));
    assert_eq!(ids(&inst, &s), ["Store_7", "Store_11", "Store_13", "Store_15"]);
}

#[test]
fn p_dispersion_matches_spopt() {
    let Some(inst) = sf() else { return };
    let d = inst.site_distances().unwrap();
    let inst = inst.with_site_costs(d).unwrap();
    let s = run(&inst, Model::PDispersion, Some(4), None);
    assert!(close(s.objective, 8597.095919259948), "min distance {}", s.objective);
    // Two optima, differing in Store_18 / Store_19.
    let got = ids(&inst, &s);
    assert!(
        got == ["Store_1", "Store_6", "Store_12", "Store_19"] || got == ["Store_1", "Store_6", "Store_12", "Store_18"],
        "{got:?}"
    );
}

#[test]
fn capacitated_p_median_matches_spopt() {
    let Some(mut inst) = sf() else { return };
    // 955,113 / 3 per store: binding at Store_15 (381,785 people nearest to it uncapacitated).
    for s in &mut inst.sites {
        s.capacity = Some(318_371.0);
    }
    let mut spec = Spec::new(Model::CpMedian);
    spec.p = Some(4);
    let s = solve(&inst, &spec).unwrap();
    assert_eq!(s.status, Status::Optimal);
    assert!(close(s.objective, 2_900_527_811.607002), "objective {}", s.objective);
    assert!(close(s.stats.weighted_mean_cost.unwrap(), 3036.8425637668024));
    assert_eq!(ids(&inst, &s), ["Store_2", "Store_11", "Store_12", "Store_15"]);
    let mut load = [0.0; 16];
    for (i, a) in s.assignment.iter().enumerate() {
        assert_eq!(a.len(), 1, "not split");
        load[a[0].0] += inst.weights[i];
    }
    let at = |id: &str| load[inst.sites.iter().position(|s| s.id == id).unwrap()];
    assert_eq!(
        [at("Store_2"), at("Store_11"), at("Store_12"), at("Store_15")],
        [195_853.0, 124_552.0, 316_604.0, 318_104.0]
    );
    assert!(s.method.contains("2 of 1820"), "{}", s.method);
    // The full assignment MILP (taken with a budget instead of p: four stores of cost 1)
    // proves the same optimum.
    let mut by_budget = spec.clone();
    by_budget.p = None;
    by_budget.budget = Some(4.0);
    let b = solve(&inst, &by_budget).unwrap();
    assert_eq!(b.status, Status::Optimal);
    assert!(b.method.starts_with("HiGHS MILP"), "{}", b.method);
    assert!(close(b.objective, 2_900_527_811.607002), "objective {}", b.objective);
    // Split allowed: never worse.
    spec.split = true;
    let split = solve(&inst, &spec).unwrap();
    assert!(split.objective <= s.objective + 1e-6);
    assert!(split.objective >= 2_848_268_129.714512 - 1e-6);
}
