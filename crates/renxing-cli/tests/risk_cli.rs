//! `renxing risk` end to end on real data: the Nepal scenario earthquake (median field compared
//! with OpenQuake's own run of the same rupture, roll-ups by the four admin levels, sampled fields)
//! and the Venezuela flood map (depth classes, grades, people in water), plus bad project files.
//! Data are read from the shared folder; tests skip with a reason when it is absent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use renxing_io::gpkg::{Value, read_layer};
use renxing_io::shared_data;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn run_risk(project: &Path, out: &Path) -> serde_json::Value {
    Command::cargo_bin("renxing")
        .expect("binary")
        .args([
            "risk",
            project.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary")).expect("json")
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Real(x) => *x,
        Value::Integer(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

/// Rows of a layer as column → value maps.
fn rows(gpkg: &Path, layer: &str) -> Vec<HashMap<String, Value>> {
    read_layer(gpkg, Some(layer))
        .unwrap_or_else(|e| panic!("{layer}: {e}"))
        .into_iter()
        .map(|(_, cols)| cols.into_iter().collect())
        .collect()
}

/// A CSV as header → column maps.
fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            h.iter()
                .zip(rec.iter())
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        })
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / b.abs().max(a.abs())
    }
}

/// The Nepal project with the plane rupture and the median field (truncation 0), as
/// scripts/compare_oq_native.sh ran OpenQuake.
fn nepal_median_project(dir: &Path, nepal: &Path) -> PathBuf {
    let p = dir.join("nepal-median.toml");
    let n = nepal.display();
    let rupture = repo().join("tests/reference/gmpe/nepal_plane_rupture.xml");
    std::fs::write(
        &p,
        format!(
            r#"name = "nepal-median"
[quake]
rupture = "{}"
gmpe = "ChiouYoungs2014"
vs30 = 760.0
z1pt0_m = 100.0
z2pt5_km = 5.0
fields = 1
truncation_level = 0.0
correlation = "none"
maximum_distance_km = 200.0
exposure = "{n}/exposure_model.xml"
fragility = "{n}/structural_fragility_model.xml"
consequences = ["{n}/consequences.csv"]
time_event = "night"
rollup = ["NAME_1", "NAME_2", "NAME_3", "NAME_4"]
"#,
            rupture.display()
        ),
    )
    .unwrap();
    p
}

#[test]
fn nepal_median_field_matches_openquake_and_rolls_up_by_four_admin_levels() {
    let Some(xml) = shared_data::file("exposure/nepal/exposure_model.xml") else {
        return;
    };
    let nepal = xml.parent().unwrap().to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    let project = nepal_median_project(tmp.path(), &nepal);
    let out = tmp.path().join("out");
    let summary = run_risk(&project, &out);
    let gpkg = out.join("results.gpkg");
    let q = &summary["quake"];
    assert_eq!(q["assets"], 9063);
    assert_eq!(q["sites"], 2253);
    assert_eq!(q["fields"], 1);
    // OpenQuake keeps 5,594 assets within 200 km; the other 3,469 are reported, undamaged.
    assert_eq!(q["unshaken_assets"], 9063 - 5594);

    // Damage and losses per unit against OpenQuake's aggrisk exports (6 significant digits: one
    // unit of the last printed digit is at most 1e-5 relative).
    let reference = repo().join("tests/reference/oq-native");
    for level in ["NAME_1", "NAME_2"] {
        let oq = csv_rows(&reference.join(format!("aggrisk-{level}.csv")));
        let ours: HashMap<String, HashMap<String, Value>> =
            rows(&gpkg, &format!("quake_rollup_{}", level.to_lowercase()))
                .into_iter()
                .map(|r| (text(&r[level]), r))
                .collect();
        assert!(oq.len() >= 4, "{level}: {} reference rows", oq.len());
        for o in &oq {
            let r = &ours[&o[level]];
            for (col, ocol) in [
                ("slight", "slight"),
                ("moderate", "moderate"),
                ("extreme", "extreme"),
                ("complete", "complete"),
                ("structural_losses", "losses_value"),
            ] {
                let (a, b) = (num(&r[col]), o[ocol].parse::<f64>().unwrap());
                assert!(
                    rel(a, b) <= 1e-5,
                    "{level} {} {col}: renxing {a} vs OpenQuake {b}",
                    o[level]
                );
            }
        }
    }
    // Per asset: OpenQuake stores its fields as 32-bit floats; where a fragility curve is steep
    // relative to its value (just above an IML node with probability 0) that rounding shows as
    // up to ~4e-5 relative in a damage state, so assets are held to 1e-4.
    let assets: HashMap<String, HashMap<String, Value>> = rows(&gpkg, "quake_assets")
        .into_iter()
        .map(|r| (text(&r["asset_id"]), r))
        .collect();
    let sample = csv_rows(&reference.join("avg_damages-sample.csv"));
    assert!(sample.len() > 250);
    let mut worst = 0.0f64;
    for o in &sample {
        let r = &assets[&o["asset_id"]];
        for st in ["no_damage", "slight", "moderate", "extreme", "complete"] {
            let b: f64 = o[&format!("structural-{st}")].parse().unwrap();
            let a = num(&r[st]);
            worst = worst.max(if b.abs() < 1e-3 { (a - b).abs() } else { rel(a, b) });
        }
        let b: f64 = o["structural-losses"].parse().unwrap();
        worst = worst.max(if b.abs() < 1.0 {
            0.0
        } else {
            rel(num(&r["structural_losses"]), b)
        });
    }
    assert!(worst <= 1e-4, "largest per-asset deviation {worst}");

    // Roll-ups: units and buildings per level as the exposure's own totals (reference CSV), and
    // every unit's damage states add up to its buildings.
    let totals = csv_rows(&nepal.join("nepal_exposure_rollup_reference.csv"));
    let levels = ["NAME_1", "NAME_2", "NAME_3", "NAME_4"];
    for (i, (level, n_units)) in levels.iter().zip([5, 14, 75, 1484]).enumerate() {
        let ours = rows(&gpkg, &format!("quake_rollup_{}", level.to_lowercase()));
        assert_eq!(ours.len(), n_units, "{level}");
        // The reference names a unit by its path (e.g. Central/Bagmati/Kathmandu); our tables list
        // the coarser levels beside the key.
        let by_path: HashMap<String, &HashMap<String, Value>> = ours
            .iter()
            .map(|r| {
                (
                    levels[..=i].iter().map(|l| text(&r[*l])).collect::<Vec<_>>().join("/"),
                    r,
                )
            })
            .collect();
        assert_eq!(by_path.len(), n_units, "{level}: unit paths are unique");
        let reference: Vec<_> = totals.iter().filter(|t| t["level"] == *level).collect();
        for t in &reference {
            let r = by_path
                .get(&t["key"])
                .unwrap_or_else(|| panic!("{level} {} missing", t["key"]));
            assert_eq!(
                num(&r["buildings"]),
                t["buildings"].parse::<f64>().unwrap(),
                "{level} {}",
                t["key"]
            );
            assert_eq!(
                num(&r["assets"]) as usize,
                t["n_assets"].parse::<usize>().unwrap(),
                "{level} {}",
                t["key"]
            );
            assert!(num(&r["exposed_value"]) > 0.0);
        }
        // The reference lists NAME_1 to NAME_3 in full (NAME_4 only through the totals below).
        assert_eq!(reference.len(), if i < 3 { n_units } else { 0 }, "{level}");
        for r in &ours {
            let states: f64 = ["no_damage", "slight", "moderate", "extreme", "complete"]
                .iter()
                .map(|s| num(&r[*s]))
                .sum();
            assert!(
                rel(states, num(&r["buildings"])) < 1e-9,
                "{level} {}: {states} vs {}",
                text(&r[*level]),
                num(&r["buildings"])
            );
            let g = num(&r["risk_grade"]) as u8;
            assert!(g <= 5);
        }
        let sum: f64 = ours.iter().map(|r| num(&r["buildings"])).sum();
        assert_eq!(sum, 5_381_761.0, "{level}");
    }
    // Intensity: recomputed here from each site's median PGA (g) and PGV (cm/s) with the formulas
    // of GB/T 17742-2020 Annex A (I_PGA = 3.17 lg PGA + 6.59, I_PGV = 3.00 lg PGV + 9.77 in SI
    // units; I_PGV alone when both reach 6.0, else their mean; limited to 1–12, one decimal).
    let sites = rows(&gpkg, "quake_sites");
    assert_eq!(sites.len(), 2253);
    let mut shaken = 0;
    for s in &sites {
        let (Value::Real(pga), Value::Real(pgv)) = (&s["median_pga"], &s["median_pgv"]) else {
            assert!(matches!(s["intensity_gbt17742"], Value::Null));
            continue;
        };
        shaken += 1;
        let i_pga = 3.17 * (pga * 9.80665).log10() + 6.59;
        let i_pgv = 3.00 * (pgv / 100.0).log10() + 9.77;
        let i = if i_pga >= 6.0 && i_pgv >= 6.0 {
            i_pgv
        } else {
            (i_pga + i_pgv) / 2.0
        };
        let reported = (i.clamp(1.0, 12.0) * 10.0).round() / 10.0;
        assert!(
            (num(&s["intensity_gbt17742"]) - reported).abs() < 1e-9,
            "{pga} g {pgv} cm/s"
        );
    }
    // OpenQuake's median field covers the same 1,389 sites within 200 km.
    assert_eq!(shaken, 1389);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Roll-up by NAME_4") && html.matches("<svg").count() >= 2);
}

#[test]
fn nepal_example_samples_correlated_fields() {
    if shared_data::file("exposure/nepal/exposure_model.xml").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let summary = run_risk(&repo().join("examples/nepal-quake/risk.toml"), &out);
    let q = &summary["quake"];
    assert_eq!(q["fields"], 1000);
    let mean = &q["mean_totals"];
    let states: f64 = ["no_damage", "slight", "moderate", "extreme", "complete"]
        .iter()
        .map(|s| mean[*s].as_f64().unwrap())
        .sum();
    assert!(rel(states, 5_381_761.0) < 1e-9);
    // The event distribution brackets the mean, and the fields vary (σ of CY14 ≈ 0.6 in ln PGA).
    let c = &q["event_distribution"]["complete"];
    let (p5, p50, p95, m) = (
        c["p5"].as_f64().unwrap(),
        c["p50"].as_f64().unwrap(),
        c["p95"].as_f64().unwrap(),
        c["mean"].as_f64().unwrap(),
    );
    assert!(p5 < p50 && p50 < p95 && p5 < m && m < p95, "{c}");
    assert!(p95 > 2.0 * p5, "{c}");
    let events = rows(&out.join("results.gpkg"), "quake_events");
    assert_eq!(events.len(), 1000);
    let from_events: f64 = events.iter().map(|e| num(&e["complete"])).sum::<f64>() / 1000.0;
    assert!(rel(from_events, m) < 1e-9);
}

#[test]
fn venezuela_flood_example() {
    let Some(grd) = shared_data::file("hazard/SC22000_VE__M1.grd.gz") else {
        return;
    };
    let Some(cities) = shared_data::file("hazard/worldcities.csv") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let summary = run_risk(&repo().join("examples/venezuela-flood/risk.toml"), &out);
    let f = &summary["flood"];
    // Wet cells and the deepest cell, counted here straight from the raster.
    let grid = renxing_io::raster::read_grid(&grd, Some(renxing_geo::crs::Crs::Wgs84)).unwrap();
    let wet: Vec<f32> = grid
        .values
        .iter()
        .copied()
        .filter(|&v| grid.is_data(v) && v > 0.0)
        .collect();
    assert_eq!(f["wet_cells"].as_u64().unwrap() as usize, wet.len());
    let max = wet.iter().fold(0.0f32, |a, &b| a.max(b)) as f64;
    assert!((f["maps"][0]["max_depth_m"].as_f64().unwrap() - max).abs() < 1e-9);
    assert!((max - 4.66).abs() < 0.005, "data README: max 4.66 m, got {max}");
    // Depth classes at the profile's grade bounds (0.5, 1, 2, 3 m) = hazard grades 5 … 1.
    let classes = f["maps"][0]["classes"].as_array().unwrap();
    let mut lower = [0.0f64, 0.5, 1.0, 2.0, 3.0].iter();
    for (i, c) in classes.iter().enumerate() {
        let lo = *lower.next().unwrap();
        let expect = wet
            .iter()
            .filter(|&&v| {
                (v as f64) > lo
                    && classes
                        .get(i + 1)
                        .is_none_or(|n| (v as f64) <= n["lower_m"].as_f64().unwrap())
            })
            .count();
        assert_eq!(c["cells"].as_u64().unwrap() as usize, expect, "class from {lo} m");
        assert_eq!(
            f["hazard_grade_cells"][(5 - i).to_string()].as_u64().unwrap() as usize,
            expect
        );
    }
    // People: the Venezuelan cities of the table, summed here.
    let people: f64 = csv_rows(&cities)
        .iter()
        .filter(|r| r["iso3"] == "VEN")
        .map(|r| r["population"].parse::<f64>().unwrap())
        .sum();
    assert_eq!(f["population"]["people"].as_f64().unwrap(), people);
    assert_eq!(f["population"]["points"], 66);
    assert_eq!(f["max_damage_per_m2"].as_f64().unwrap(), 940.4940871);
    let cells = rows(&out.join("results.gpkg"), "flood_cells");
    assert_eq!(cells.len(), wet.len());
    for c in cells.iter().step_by(997) {
        let d = num(&c["depth_m"]);
        let g = num(&c["hazard_grade"]) as u8;
        let expect = 5 - [0.5, 1.0, 2.0, 3.0].iter().filter(|&&b| d > b).count() as u8;
        assert_eq!(g, expect, "depth {d}");
        let fr = num(&c["damage_fraction"]);
        assert!((0.0..=1.0).contains(&fr) && fr > 0.0);
    }
}

#[test]
fn bad_risk_projects_name_the_file_and_key_and_leave_no_output() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("name = \"x\"\n", "needs a [quake] or a [flood] section"),
        (
            "name = \"x\"\n[quake]\nrupture = \"r.xml\"\ngmpe = \"CY14\"\nvs30 = 760\nfields = 1\nexposure = \"e.xml\"\nfragility = \"f.xml\"\nbogus = 1\n",
            "unknown field `bogus`",
        ),
        (
            "name = \"x\"\n[quake]\nrupture = \"r.xml\"\ngmpe = \"CY14\"\nvs30 = -5\nfields = 1\nexposure = \"e.xml\"\nfragility = \"f.xml\"\n",
            "[quake] vs30: -5 is not a positive velocity",
        ),
        (
            "name = \"x\"\n[quake]\nrupture = \"missing.xml\"\ngmpe = \"CY14\"\nvs30 = 760\nfields = 1\nexposure = \"e.xml\"\nfragility = \"f.xml\"\n",
            "missing.xml",
        ),
        (
            "name = \"x\"\n[quake]\nrupture = \"r.xml\"\ngmpe = \"Nope2020\"\nvs30 = 760\nfields = 1\nexposure = \"e.xml\"\nfragility = \"f.xml\"\n",
            "[quake] gmpe",
        ),
        (
            "name = \"x\"\n[flood]\ndepth = []\ncurve = \"c.csv\"\n",
            "[flood] depth: give at least one depth map",
        ),
        (
            "name = \"x\"\n[flood]\ndepth = [{ path = \"none.tif\" }]\ncurve = \"c.csv\"\nead_method = \"simpson\"\n",
            "'simpson' is not log_linear or trapezoidal",
        ),
    ];
    for (i, (toml, expect)) in cases.iter().enumerate() {
        let p = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&p, toml).unwrap();
        let out = tmp.path().join(format!("out{i}"));
        let a = Command::cargo_bin("renxing")
            .unwrap()
            .args(["risk", p.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
            .assert()
            .failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(expect), "case {i}: {err}");
        assert!(
            err.contains(&format!("bad{i}.toml")) || err.contains("missing.xml"),
            "case {i} names the file: {err}"
        );
        assert!(!out.exists(), "case {i}: no output on error");
    }
    // A roll-up tag the exposure does not have.
    if let Some(xml) = shared_data::file("exposure/nepal/exposure_model.xml") {
        let nepal = xml.parent().unwrap();
        let p = nepal_median_project(tmp.path(), nepal);
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("\"NAME_4\"]", "\"DISTRICT\"]");
        std::fs::write(&p, text).unwrap();
        let a = Command::cargo_bin("renxing")
            .unwrap()
            .args([
                "risk",
                p.to_str().unwrap(),
                "--out",
                tmp.path().join("o").to_str().unwrap(),
                "--quiet",
            ])
            .assert()
            .failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(
            err.contains(
                "[quake] rollup: 'DISTRICT' is not a tag of the exposure (tags: NAME_1, NAME_2, NAME_3, NAME_4)"
            ),
            "{err}"
        );
    }
}
