//! `renxing monitor` end to end on Henan (shared data; skips without it): init, user add (token
//! on the last line), import of the city statistics with that token, audit verification, and
//! the errors of bad arguments.

use assert_cmd::Command;

fn renxing() -> Command {
    Command::cargo_bin("renxing").unwrap()
}

#[test]
fn init_user_import_verify_on_henan() {
    let (Some(units), Some(streets), Some(stats)) = (
        renxing_geo::shared_data::file("cn/admin/henan_admin_wgs84.geojson"),
        renxing_geo::shared_data::file("cn/codes/streets.csv"),
        renxing_geo::shared_data::file("cn/stats/city_macro.csv"),
    ) else {
        return;
    };
    // Expected counts, read here from the files without renxing-monitor: distinct adcodes (济源市
    // is listed twice) + the nation + the townships under them; the non-empty cells of the five
    // imported columns in the province's rows.
    let geo: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&units).unwrap()).unwrap();
    let codes: std::collections::BTreeSet<String> = geo["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["adcode"].as_str().unwrap().to_string())
        .collect();
    let towns = csv::Reader::from_path(&streets)
        .unwrap()
        .records()
        .filter(|r| codes.contains(&r.as_ref().unwrap()[2]))
        .count();
    let expected_units = 1 + codes.len() + towns;
    let values: usize = csv::Reader::from_path(&stats)
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[3] == "410000")
        .map(|r| [5, 6, 7, 8, 17].iter().filter(|&&c| !r[c].trim().is_empty()).count())
        .sum();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m/henan.sqlite").display());
    let out = renxing()
        .args(["monitor", "init", "--db", &db, "--units"])
        .arg(&units)
        .arg("--townships")
        .arg(&streets)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{expected_units} units")), "{err}");
    assert_eq!(expected_units, 2670); // 1 + 1 + 18 + 156 + 2,494
    let out = renxing()
        .args([
            "monitor", "user", "add", "--db", &db, "--unit", "410000", "--role", "editor", "--name", "stats",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_string();
    assert_eq!(token.len(), 64);
    let out = renxing()
        .args([
            "monitor",
            "import",
            "--db",
            &db,
            "--city-macro",
            "410000",
            "--token",
            &token,
        ])
        .arg(&stats)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("{values} observations submitted by stats")),
        "{err}"
    );
    assert_eq!(values, 17 * 25 * 5, "17 cities × 25 years × 5 columns, no empty cell");
    let out = renxing().args(["monitor", "verify", "--db", &db]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["records"], 2 + 1 + values);
    // A wrong token, a bad role, a database URL we cannot open.
    let out = renxing()
        .args(["monitor", "import", "--db", &db, "--token", "0000"])
        .arg(&stats)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown or expired token"));
    let out = renxing()
        .args([
            "monitor", "user", "add", "--db", &db, "--unit", "410000", "--role", "boss", "--name", "x",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role boss"));
    let out = renxing()
        .args(["monitor", "verify", "--db", "mysql://x"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected sqlite://PATH"));
}
