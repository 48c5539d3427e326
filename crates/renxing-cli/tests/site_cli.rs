//! `renxing site` and the `[siting]` project analysis, end to end: spopt's San Francisco case
//! through the CLI, bad inputs, and new shelters for Beijing's core districts beside the 1,181
//! government-designated shelters.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use renxing_geo::shared_data;
use serde_json::Value;

fn sf(name: &str) -> Option<PathBuf> {
    shared_data::file(&format!("validation/spopt_sf/{name}"))
}

fn sf_files() -> Option<[PathBuf; 3]> {
    Some([
        sf("SF_demand_205_centroid_uniform_weight.csv")?,
        sf("SF_store_site_16_longlat.csv")?,
        sf("SF_network_distance_candidateStore_16_censusTract_205_new.csv")?,
    ])
}

fn site(args: &[&str], files: &[&Path], out: &Path) -> assert_cmd::assert::Assert {
    let mut c = Command::cargo_bin("renxing").unwrap();
    c.arg("site").args(args);
    for (flag, f) in ["--demand", "--candidates", "--costs"].iter().zip(files) {
        c.arg(flag).arg(f);
    }
    c.arg("--out").arg(out).arg("--quiet").assert()
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn sf_p_median_and_mclp_through_the_cli() {
    let Some([d, c, m]) = sf_files() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pm");
    site(&["--model", "p-median", "--p", "4"], &[&d, &c, &m], &out).success();
    let r = json(&out.join("result.json"));
    assert!(rel(r["weighted_mean_cost"].as_f64().unwrap(), 2982.1268579890657) < 1e-6);
    assert_eq!(
        r["selected"],
        serde_json::json!(["Store_2", "Store_11", "Store_12", "Store_15"])
    );
    assert_eq!(r["gap"].as_f64(), Some(0.0));
    assert!(r["seconds"].as_f64().unwrap() >= 0.0);
    // 205 assignment rows, and three GeoPackage layers.
    let rows = std::fs::read_to_string(out.join("assignment.csv")).unwrap();
    assert_eq!(rows.lines().count(), 206);
    let layers = renxing_io::gpkg::layer_names(&out.join("result.gpkg")).unwrap();
    assert_eq!(layers, ["sites", "demand", "assignment"]);

    let out = tmp.path().join("mclp");
    site(
        &["--model", "mclp", "--p", "4", "--service", "5000"],
        &[&d, &c, &m],
        &out,
    )
    .success();
    let r = json(&out.join("result.json"));
    assert_eq!(r["uncovered"].as_u64(), Some(21));
    assert!(rel(r["covered_demand_share"].as_f64().unwrap(), 875_247.0 / 955_113.0) < 1e-12);
    assert!(rel(r["objective"].as_f64().unwrap(), 875_247.0) < 1e-12);
}

#[test]
fn sf_lscp_infeasible_names_the_tracts() {
    let Some([d, c, m]) = sf_files() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("x");
    let a = site(&["--model", "lscp", "--service", "1000"], &[&d, &c, &m], &out).failure();
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("lscp is infeasible"), "{err}");
    assert!(
        err.contains("have no candidate site within the service cost 1000"),
        "{err}"
    );
    assert!(err.contains("060816028.00 (nearest site at 1846.8)"), "{err}");
    assert!(!out.join("result.json").exists(), "no partial output");
}

/// Write a small case into `dir`, with `edit` applied to (demand, sites, costs) texts.
fn small_case(dir: &Path, demand: &str, sites: &str, costs: &str) -> [PathBuf; 3] {
    let f = [dir.join("d.csv"), dir.join("s.csv"), dir.join("c.csv")];
    std::fs::write(&f[0], demand).unwrap();
    std::fs::write(&f[1], sites).unwrap();
    std::fs::write(&f[2], costs).unwrap();
    f
}

fn fails_with(args: &[&str], files: &[PathBuf; 3], needles: &[&str]) {
    let out = files[0].parent().unwrap().join("out");
    let a = site(args, &[&files[0], &files[1], &files[2]], &out).failure();
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    for n in needles {
        assert!(err.contains(n), "expected '{n}' in: {err}");
    }
    assert!(err.lines().count() <= 2, "one clear line: {err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn bad_inputs_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let ok_d = "id,weight\na,10\nb,20\n";
    let ok_s = "id,capacity\nx,15\ny,40\n";
    let ok_c = "demand,site,cost\na,x,1\na,y,2\nb,x,3\nb,y,1\n";
    let f = small_case(tmp.path(), ok_d, ok_s, ok_c);
    // Sanity: the good case solves (a→x, b→y).
    site(
        &["--model", "p-median", "--p", "2"],
        &[&f[0], &f[1], &f[2]],
        &tmp.path().join("ok"),
    )
    .success();
    let r = json(&tmp.path().join("ok/result.json"));
    assert_eq!(r["objective"].as_f64(), Some(30.0));

    let f = small_case(tmp.path(), "id,weight\na,10\na,20\n", ok_s, ok_c);
    fails_with(
        &["--model", "p-median", "--p", "1"],
        &f,
        &["d.csv", "line 3", "demand point id 'a' already on line 2"],
    );
    let f = small_case(
        tmp.path(),
        ok_d,
        ok_s,
        "demand,site,cost\na,x,1\na,y,-2\nb,x,3\nb,y,1\n",
    );
    fails_with(
        &["--model", "p-median", "--p", "1"],
        &f,
        &["c.csv", "line 3", "negative"],
    );
    let f = small_case(tmp.path(), ok_d, ok_s, "demand,site,cost\na,x,1\nb,x,3\nb,y,1\n");
    fails_with(
        &["--model", "p-median", "--p", "1"],
        &f,
        &["c.csv", "1 demand–site pair(s) have no row, e.g. (a, y)"],
    );
    let f = small_case(
        tmp.path(),
        ok_d,
        ok_s,
        "demand,site,cost\na,x,1\na,y,2\nb,x,3\nb,y,1\nb,y,1\n",
    );
    fails_with(
        &["--model", "p-median", "--p", "1"],
        &f,
        &["c.csv", "line 6", "pair (b, y) appears twice"],
    );
    let f = small_case(tmp.path(), ok_d, ok_s, "demand,site,cost\na,x,1\na,z,2\nb,x,3\nb,y,1\n");
    fails_with(
        &["--model", "p-median", "--p", "1"],
        &f,
        &["c.csv", "no column holds the site ids"],
    );
    let f = small_case(tmp.path(), "id,weight\na,ten\nb,20\n", ok_s, ok_c);
    fails_with(
        &["--model", "p-median", "--p", "1"],
        &f,
        &["d.csv", "line 2", "weight 'ten'"],
    );
    // Capacity: 15 + 40 ≥ 30 in all, but one site of 15 cannot serve 30 people.
    let f = small_case(tmp.path(), ok_d, "id,capacity\nx,15\ny,10\n", ok_c);
    fails_with(
        &["--model", "cp-median", "--p", "2"],
        &f,
        &[
            "cp-median is infeasible",
            "capacity of all candidate sites, 25, is below the total demand 30",
        ],
    );
    let f = small_case(tmp.path(), ok_d, "id,capacity\nx,15\ny,25\n", ok_c);
    fails_with(
        &["--model", "cp-median", "--p", "1"],
        &f,
        &["even the 1 largest capacities", "25"],
    );
    fails_with(&["--model", "nearest"], &f, &["--model: unknown model 'nearest'"]);
    fails_with(&["--model", "mclp", "--p", "1"], &f, &["mclp needs a service cost"]);
    fails_with(
        &["--model", "p-median", "--p", "3"],
        &f,
        &["p = 3 but there are only 2 candidate sites"],
    );
    let f = small_case(tmp.path(), ok_d, "id,preselected\nx,1\ny,maybe\n", ok_c);
    fails_with(
        &["--model", "p-median", "--p", "2"],
        &f,
        &["s.csv", "line 3", "'maybe'"],
    );
}

#[test]
fn beijing_new_shelters_beside_the_government_list() {
    // The project reads the 1,181 shelters from the shared data folder.
    if shared_data::file("cn/beijing/shelters_myshelter.csv").is_none() {
        return;
    }
    let project =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-core/renxing-gov-shelters-siting.toml");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bj");
    Command::cargo_bin("renxing")
        .unwrap()
        .args([
            "run",
            project.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    let r = json(&out.join("siting/result.json"));
    let exam = json(&out.join("summary.json"));
    // Before = the exam's own 500 m coverage, computed by another path (nearest-facility
    // search vs the hierarchy's matrix).
    let before = r["before"]["covered_weight"].as_f64().unwrap();
    let exam_within = exam["total"]["population_within_emergency"].as_f64().unwrap();
    assert!(rel(before, exam_within) < 1e-9, "{before} vs {exam_within}");
    assert!(rel(r["population"].as_f64().unwrap(), 1_815_043.0) < 1e-9);
    assert_eq!(r["existing_sites"].as_u64(), Some(1181));
    assert_eq!(r["demand_points"].as_u64(), Some(7474));
    assert_eq!(r["candidate_sites"].as_u64(), Some(1292));
    assert_eq!(r["new_sites"].as_array().unwrap().len(), 10);
    assert_eq!(r["gap"].as_f64(), Some(0.0), "proven optimal");
    let (b, a) = (
        r["before"]["covered_demand_share"].as_f64().unwrap(),
        r["after"]["covered_demand_share"].as_f64().unwrap(),
    );
    assert!((b - 0.4150593875272618).abs() < 1e-9, "before {b}");
    assert!((a - 0.4940611593747099).abs() < 1e-9, "after {a}");
    let layers = renxing_io::gpkg::layer_names(&out.join("siting/result.gpkg")).unwrap();
    assert_eq!(layers, ["sites", "demand", "assignment"]);
}
