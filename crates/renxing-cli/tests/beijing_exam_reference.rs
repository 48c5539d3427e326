//! The headline numbers of `renxing run examples/beijing-core/renxing-gov-shelters.toml` (the shelter
//! exam of Beijing's two core districts with the 1,181 government-designated shelters) against
//! the independent Python recomputation `tests/reference/beijing_core_exam.py` (networkx +
//! shapely + its own GCJ-02 inverse; output committed as `beijing_core_exam.json`).

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Equal within 1e-9 relative (absolute 1e-9 near zero: `population_beyond_any` is 0 here).
fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 * want.abs().max(1.0)
}

#[test]
fn beijing_core_exam_equals_the_independent_reference() {
    // The shelter list is not bundled (no licence): the project file reads it from shared data.
    if renxing_io::shared_data::file("cn/beijing/shelters_myshelter.csv").is_none() {
        println!("SKIP: cn/beijing/shelters_myshelter.csv not in the shared data folder");
        return;
    }
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/reference/beijing_core_exam.json")).unwrap())
            .unwrap();
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("renxing")
        .unwrap()
        .arg("run")
        .arg(repo().join("examples/beijing-core/renxing-gov-shelters.toml"))
        .arg("--out")
        .arg(out.path())
        .arg("--quiet")
        .assert()
        .success();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap()).unwrap();

    // 350 of the 1,181 shelters are more than max_snap_m = 1000 m from the walk network.
    assert_eq!(summary["shelters"]["count"], reference["shelters"]["count"]);
    assert_eq!(summary["shelters"]["not_snapped"], reference["shelters"]["not_snapped"]);
    assert_eq!(
        summary["shelters"]["outside_units"],
        reference["shelters"]["outside_units"]
    );
    // Population points: the 7,474 main-component nodes inside the two districts.
    assert_eq!(summary["population"]["points"], reference["population"]["points"]);

    let units = summary["units"].as_array().unwrap();
    let want_units = reference["units"].as_array().unwrap();
    assert_eq!(units.len(), want_units.len());
    for want in want_units {
        let code = want["code"].as_str().unwrap();
        let got = units
            .iter()
            .find(|u| u["code"] == code)
            .unwrap_or_else(|| panic!("unit {code} missing from summary.json"));
        assert_eq!(got["shelters"], want["shelters"], "{code}: shelters");
        for key in [
            "population",
            "population_within_emergency",
            "population_within_fixed",
            "population_within_fixed_max",
            "population_beyond_any",
            "mean_distance_m",
            "max_distance_m",
            "share_within_emergency",
            "share_within_fixed",
            "share_within_fixed_max",
        ] {
            let g = got[key].as_f64().unwrap_or_else(|| panic!("{code}: {key} missing"));
            let w = want[key].as_f64().unwrap();
            assert!(close(g, w), "{code}: {key} = {g}, reference {w}");
        }
        eprintln!(
            "  {code} population {:.0}, within 500 m {:.1} %, mean {:.1} m, shelters {}",
            want["population"].as_f64().unwrap(),
            100.0 * want["share_within_emergency"].as_f64().unwrap(),
            want["mean_distance_m"].as_f64().unwrap(),
            want["shelters"]
        );
    }
}
