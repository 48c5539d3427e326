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

/// Demand ids and site ids that look alike (1, 2 on both sides) fit both columns of a long
/// cost file: the column names decide, and without telling names the file is refused.
#[test]
fn numeric_ids_are_not_read_the_wrong_way_round() {
    let tmp = tempfile::tempdir().unwrap();
    let d = "id,weight\n1,10\n2,20\n";
    let s = "id\n1\n2\n";
    // Demand 1: site 1 at 1, site 2 at 5; demand 2: site 1 at 7, site 2 at 2. Opening site 2
    // costs 10·5 + 20·2 = 90 (optimal); read transposed, both sites would cost 110.
    let f = small_case(
        tmp.path(),
        d,
        s,
        "destination_id,origin_id,distance_m\n1,1,1\n2,1,5\n1,2,7\n2,2,2\n",
    );
    let out = tmp.path().join("named");
    site(&["--model", "p-median", "--p", "1"], &[&f[0], &f[1], &f[2]], &out).success();
    let r = json(&out.join("result.json"));
    assert_eq!(r["objective"].as_f64(), Some(90.0));
    assert_eq!(r["selected"], serde_json::json!(["2"]));
    let f = small_case(tmp.path(), d, s, "a,b,cost\n1,1,1\n1,2,5\n2,1,7\n2,2,2\n");
    fails_with(
        &["--model", "p-median", "--p", "1"],
        &f,
        &[
            "c.csv",
            "cannot tell the demand-id column from the site-id column",
            "a, b",
        ],
    );
    // Named by the caller, it reads.
    site(
        &["--model", "p-median", "--p", "1", "--cost-columns", "a,b,cost"],
        &[&f[0], &f[1], &f[2]],
        &out,
    )
    .success();
    assert_eq!(json(&out.join("result.json"))["objective"].as_f64(), Some(90.0));
}

/// Positions in a projected CRS (`--crs EPSG:4547`, CGCS2000 Gauss–Krüger CM 114°E) are read as
/// they are and converted: a site 1 km east of a demand point in Shenzhen is ~1 km away.
#[test]
fn projected_positions_are_converted_not_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // (22.5431 N, 114.0579 E) is E 505955.846174, N 2493941.245741 (PROJ 9.1.1).
    let d = "id,x,y,weight\na,505955.846174,2493941.245741,100\n";
    let s = "id,x,y\nnear,506955.846174,2493941.245741\nfar,515955.846174,2493941.245741\n";
    std::fs::write(tmp.path().join("d.csv"), d).unwrap();
    std::fs::write(tmp.path().join("s.csv"), s).unwrap();
    let out = tmp.path().join("out");
    // A stale GeoPackage from an earlier run must not survive beside new results … (here it
    // is replaced, since positions are known).
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("result.gpkg"), "stale").unwrap();
    let mut c = Command::cargo_bin("renxing").unwrap();
    c.args([
        "site",
        "--model",
        "p-median",
        "--p",
        "1",
        "--costs",
        "euclidean",
        "--crs",
        "EPSG:4547",
    ])
    .arg("--demand")
    .arg(tmp.path().join("d.csv"))
    .arg("--candidates")
    .arg(tmp.path().join("s.csv"))
    .arg("--out")
    .arg(&out)
    .arg("--quiet")
    .assert()
    .success();
    let r = json(&out.join("result.json"));
    assert_eq!(r["selected"], serde_json::json!(["near"]));
    let cost = r["objective"].as_f64().unwrap() / 100.0;
    // Great-circle metres on the mean sphere (R = 6,371,008.8 m) run ~0.15 % short of the
    // ellipsoid east–west at 22.5° N (prime-vertical radius ~6,380,700 m): 998.4 m.
    assert!((cost - 998.4).abs() < 0.5, "1 km east is {cost} m");
    assert_ne!(std::fs::read(out.join("result.gpkg")).unwrap(), b"stale");
    // Nothing of the staging folder is left behind.
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A run without positions removes the GeoPackage an earlier run left, so every file in the
/// folder belongs to the same result.
#[test]
fn outputs_of_one_run_only() {
    let tmp = tempfile::tempdir().unwrap();
    let f = small_case(
        tmp.path(),
        "id,weight\na,10\nb,20\n",
        "id\nx\ny\n",
        "demand,site,cost\na,x,1\na,y,2\nb,x,3\nb,y,1\n",
    );
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("result.gpkg"), "stale").unwrap();
    site(&["--model", "p-median", "--p", "2"], &[&f[0], &f[1], &f[2]], &out).success();
    assert!(!out.join("result.gpkg").exists());
    assert!(out.join("assignment.csv").exists() && out.join("result.json").exists());
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
    let run = || {
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
            .success()
    };
    run();
    let exam = json(&out.join("summary.json"));
    let r = &exam["siting"];
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
    // Everything lands in the run's one folder, written all or nothing.
    let layers = renxing_io::gpkg::layer_names(&out.join("results.gpkg")).unwrap();
    for l in ["siting_sites", "siting_demand", "siting_assignment"] {
        assert!(layers.iter().any(|n| n == l), "{l} in {layers:?}");
    }
    let csv = std::fs::read_to_string(out.join("siting_assignment.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 7474,
        "one row per demand point (all reach a site)"
    );
    // The report's section: before/after shares and the ten new sites with the people each
    // brings within 500 m (together the gain: 49.41 % − 41.51 % of 1,815,043).
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Siting: new sites (mclp)"));
    assert!(html.contains("41.51 %") && html.contains("49.41 %"));
    assert_eq!(html.matches("<td>candidate:").count(), 10);
    assert!(html.contains(&renxing_report::page::fmt_thousands(
        r["after"]["covered_weight"].as_f64().unwrap(),
        0
    )));
    let cells = |row: &str| -> Vec<String> {
        row.split("<td")
            .skip(1)
            .map(|c| c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()].to_string())
            .collect()
    };
    let gained: f64 = html
        .split("<tr>")
        .filter(|row| row.starts_with("<td>candidate:"))
        .map(|row| cells(row)[3].replace(',', "").parse::<f64>().unwrap())
        .sum();
    let expected = r["after"]["covered_weight"].as_f64().unwrap() - before;
    assert!(
        (gained - expected).abs() <= 10.0,
        "new sites gain {gained}, expected {expected}"
    );
    // A second run into the same folder replaces it.
    run();
}
