//! Dual-use scenarios through `renxing run`: the five worked examples of
//! `examples/beijing-core/scenarios` on the Beijing core project, the government shelter list as
//! a CSV facility list, and bad scenario files and facility lists.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// The Beijing core project with absolute paths, the given scenario files and no compound.
fn project(dir: &Path, scenarios: &[PathBuf], extra_csv: Option<toml::Table>) -> PathBuf {
    let base = repo().join("examples/beijing-core");
    let text = std::fs::read_to_string(base.join("renxing.toml")).unwrap();
    let mut t: toml::Table = toml::from_str(&text).unwrap();
    let abs = |rel: &str| toml::Value::String(base.join(rel).display().to_string());
    for (section, key) in [
        ("network", "nodes"),
        ("network", "edges"),
        ("admin", "path"),
        ("population", "path"),
    ] {
        let s = t[section].as_table_mut().unwrap();
        let v = abs(s[key].as_str().unwrap());
        s.insert(key.into(), v);
    }
    for section in ["shelters", "facilities"] {
        let s = t[section].as_table_mut().unwrap();
        let files: Vec<toml::Value> = s["osm"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| abs(f.as_str().unwrap()))
            .collect();
        s.insert("osm".into(), toml::Value::Array(files));
    }
    if let Some(csv) = extra_csv {
        let f = t["facilities"].as_table_mut().unwrap();
        f.insert("csv".into(), toml::Value::Array(vec![toml::Value::Table(csv)]));
    }
    t.remove("compound");
    let list: Vec<toml::Value> = scenarios
        .iter()
        .map(|p| {
            let mut e = toml::Table::new();
            e.insert("file".into(), toml::Value::String(p.display().to_string()));
            toml::Value::Table(e)
        })
        .collect();
    t.insert("scenario".into(), toml::Value::Array(list));
    let path = dir.join("project.toml");
    std::fs::write(&path, toml::to_string(&t).unwrap()).unwrap();
    path
}

fn run(project: &Path, out: &Path) -> std::process::Output {
    Command::cargo_bin("renxing")
        .unwrap()
        .arg("run")
        .arg(project)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .output()
        .unwrap()
}

fn example(name: &str) -> PathBuf {
    repo().join(format!("examples/beijing-core/scenarios/{name}.toml"))
}

fn scenario<'a>(s: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    s["dual_use"]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("scenario {name} missing"))
}

#[test]
fn five_families_on_the_beijing_core_project() {
    let tmp = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = ["quake", "pandemic", "competition", "vacation", "war"]
        .iter()
        .map(|n| example(n))
        .collect();
    let p = project(tmp.path(), &files, None);
    let out = tmp.path().join("out");
    let r = run(&p, &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let families: Vec<&str> = s["dual_use"]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["family"].as_str().unwrap())
        .collect();
    assert_eq!(families, ["disaster", "pandemic", "competition", "vacation", "war"]);
    let first = |name: &str| scenario(&s, name)["assignments"][0].clone();
    // Competition: 80,000 seats × 80 % tickets, all placed in refuge areas with room to spare.
    let ev = first("beijing-event");
    assert_eq!(ev["role"], "crowd_refuge");
    assert_eq!(ev["demand"].as_f64().unwrap(), 64_000.0);
    assert!((ev["served"].as_f64().unwrap() - 64_000.0).abs() < 1e-6);
    // Vacation: 720,000 m² ÷ 50 m² per visitor.
    let hol = first("beijing-holiday");
    assert_eq!(hol["demand"].as_f64().unwrap(), 14_400.0);
    assert!((hol["served"].as_f64().unwrap() - 14_400.0).abs() < 1e-6);
    // War: every resident of the census; no shelter area mapped, so walking times only.
    let war = first("beijing-air-defence");
    assert_eq!(war["uncapacitated"], true);
    assert!((war["demand"].as_f64().unwrap() - 1_815_043.0).abs() < 1e-3);
    assert!((war["served"].as_f64().unwrap() - 1_815_043.0).abs() < 1e-3);
    // Disaster at onset: more residents than places, so every place is taken.
    let q = first("beijing-quake");
    assert_eq!(q["role"], "emergency_shelter");
    let supply0 = scenario(&s, "beijing-quake")["roles"][0]["whole_area"][0]["supply"]
        .as_f64()
        .unwrap();
    let served = q["served"].as_f64().unwrap();
    assert!(
        (served - supply0).abs() <= 1e-6 * supply0,
        "served {served} vs places {supply0}"
    );
    assert!((served + q["unserved"].as_f64().unwrap() - 1_815_043.0).abs() < 1e-3);
}

#[test]
fn government_shelter_list_as_csv_takes_the_standard_minimum() {
    let Some(csv) = renxing_io::shared_data::file("cn/beijing/shelters_myshelter.csv") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut entry = toml::Table::new();
    entry.insert("path".into(), csv.display().to_string().into());
    entry.insert("kind".into(), "emergency_shelter".into());
    entry.insert("id_column".into(), "sid".into());
    entry.insert("lon_column".into(), "lon_wgs84".into());
    entry.insert("lat_column".into(), "lat_wgs84".into());
    let p = project(tmp.path(), &[example("quake")], Some(entry));
    let out = tmp.path().join("out");
    let r = run(&p, &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    // 137 OSM facilities + 1,181 listed shelters.
    assert_eq!(s["dual_use"]["facilities"], 137 + 1181);
    let q = scenario(&s, "beijing-quake");
    let em = &q["roles"][0];
    assert_eq!(em["role"], "emergency_shelter");
    // Each listed shelter: 1,000 m² minimum site × 31 % effective ÷ 1 m² per person = 310
    // places, on top of the 1,131,722 places of the OSM open spaces.
    let supply0 = em["whole_area"][0]["supply"].as_f64().unwrap();
    assert_eq!(supply0, 1_131_722.0 + 1181.0 * 310.0);
}

#[test]
fn bad_scenario_files_and_facility_lists_are_named_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(example("competition")).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "no_source",
            good.replace(
                "source = \"大型活动现场安全参考标准(试行): fixed-seat events sell at most 80 % of the rated capacity (profile dual_use.venue_ticket_share; STANDARDS-CN §3)\"",
                "",
            ),
            "source",
        ),
        (
            "bad_role",
            good.replace("role = \"crowd_refuge\"", "role = \"crowd_refugee\""),
            "crowd_refugee",
        ),
        ("unknown_key", good.replace("time_unit = \"h\"", "time_unit = \"h\"\nspeed = 3"), "speed"),
        (
            "bad_phase",
            good.replace("at = 0\n", "at = 5\n"),
            "not one of the phases",
        ),
    ];
    for (name, text, needle) in cases {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join(format!("{name}.toml"));
        std::fs::write(&f, text).unwrap();
        let p = project(&dir, std::slice::from_ref(&f), None);
        let out = dir.join("out");
        let r = run(&p, &out);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{name}: accepted");
        assert!(err.contains(&format!("{name}.toml")), "{name}: file not named: {err}");
        assert!(err.contains(needle), "{name}: '{needle}' not in: {err}");
        assert!(!out.join("summary.json").exists(), "{name}: partial output");
    }
    // A facility list with a capacity column of an unknown role, then with a bad number.
    for (name, header, row, needle) in [
        (
            "role_column",
            "id,lon,lat,capacity_shelterz",
            "a,116.39,39.99,100",
            "capacity_shelterz",
        ),
        (
            "bad_number",
            "id,lon,lat,capacity_crowd_refuge",
            "a,116.39,39.99,-5",
            "record 1",
        ),
    ] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join(format!("{name}.csv"));
        std::fs::write(&csv, format!("{header}\n{row}\n")).unwrap();
        let mut entry = toml::Table::new();
        entry.insert("path".into(), csv.display().to_string().into());
        entry.insert("kind".into(), "square".into());
        let p = project(&dir, &[example("competition")], Some(entry));
        let out = dir.join("out");
        let r = run(&p, &out);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{name}: accepted");
        assert!(err.contains(&format!("{name}.csv")), "{name}: file not named: {err}");
        assert!(err.contains(needle), "{name}: '{needle}' not in: {err}");
        assert!(!out.join("summary.json").exists(), "{name}: partial output");
    }
}
