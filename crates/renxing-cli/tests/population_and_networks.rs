//! End-to-end paths not covered by the demo: population disaggregated onto OSM buildings by floor
//! area, and `renxing access` on an OSMnx GraphML network with the one-way drive profile, checked
//! against plain Dijkstra.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use renxing_net::access::nearest_by_plain_dijkstra;
use renxing_net::graph::Graph;
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::SnapIndex;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

#[test]
fn census_totals_on_osm_buildings_by_floor_area_keep_every_person() {
    let tmp = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(repo().join("examples/beijing-core/renxing.toml")).unwrap();
    let mut t: toml::Table = toml::from_str(&example).unwrap();
    // This test is about the population method: leave the dual-use scenarios out.
    for k in ["facilities", "scenario", "compound"] {
        t.remove(k);
    }
    // Make paths absolute, then switch the population method.
    let abs = |rel: &str| toml::Value::String(repo().join("examples/beijing-core").join(rel).display().to_string());
    let net = t["network"].as_table_mut().unwrap();
    for k in ["nodes", "edges"] {
        let v = abs(net[k].as_str().unwrap());
        net.insert(k.into(), v);
    }
    let admin = t["admin"].as_table_mut().unwrap();
    let v = abs(admin["path"].as_str().unwrap());
    admin.insert("path".into(), v);
    let pop = t["population"].as_table_mut().unwrap();
    let v = abs(pop["path"].as_str().unwrap());
    pop.insert("path".into(), v);
    pop.insert("method".into(), "floor_area".into());
    pop.insert("buildings_osm".into(), abs("../../data/beijing/osm2015_region5.osm"));
    let sh = t["shelters"].as_table_mut().unwrap();
    let files: Vec<toml::Value> = sh["osm"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| abs(f.as_str().unwrap()))
        .collect();
    sh.insert("osm".into(), toml::Value::Array(files));
    let project = tmp.path().join("floor_area.toml");
    std::fs::write(&project, toml::to_string(&t).unwrap()).unwrap();
    let out = tmp.path().join("out");
    let run = Command::cargo_bin("renxing")
        .unwrap()
        .arg("run")
        .arg(&project)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let p = &s["population"];
    assert!(
        p["method"].as_str().unwrap().contains("onto buildings by floor area"),
        "{}",
        p["method"]
    );
    // Census 2020: 东城区 708,829 and 西城区 1,106,214 (data/beijing/census2020_district_population.csv).
    let census = [("110101", 708_829.0), ("110102", 1_106_214.0)];
    let unallocated: Vec<(String, f64)> = serde_json::from_value(p["unallocated"].clone()).unwrap();
    for (code, people) in census {
        let unit = s["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
            .unwrap();
        let placed = unit["population"].as_f64().unwrap();
        let missing: f64 = unallocated.iter().filter(|(c, _)| c == code).map(|(_, v)| v).sum();
        // Every person is either placed on a building of the unit or listed as unallocated, never both.
        assert!(
            (placed - people).abs() < 1e-6 || (placed == 0.0 && missing == people),
            "{code}: {placed} placed, {missing} unallocated"
        );
    }
    // The 2015 OSM extract reaches into 东城区 only: its buildings carry all of 东城区's people.
    let dongcheng = s["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "110101")
        .unwrap();
    assert!((dongcheng["population"].as_f64().unwrap() - 708_829.0).abs() < 1e-6);
    assert!(p["points"].as_u64().unwrap() > 0, "buildings used: {}", p["points"]);
}

#[test]
fn access_on_graphml_drive_network_equals_plain_dijkstra() {
    let Some(gml) = renxing_io::shared_data::file("cn/shenzhen/transbigdata_test_G_futian.graphml") else {
        return;
    };
    let road = renxing_io::graphml::read_graphml(&gml).unwrap();
    let g = Graph::build(&road, &Profile::builtin(Mode::Drive));
    let tmp = tempfile::tempdir().unwrap();
    // Origins: every 25th graph node; destinations: five nodes spread over the graph, nudged 20 m
    // north so that they snap onto links rather than sit on nodes.
    let n = g.node_count();
    let mut origins = String::from("id,lon,lat\n");
    for i in (0..n).step_by(25) {
        origins.push_str(&format!("o{i},{},{}\n", g.lon[i], g.lat[i]));
    }
    let mut dests = String::from("id,lon,lat\n");
    let dest_pts: Vec<(f64, f64)> = (0..5)
        .map(|k| (g.lon[k * n / 5 + 3], g.lat[k * n / 5 + 3] + 20.0 / 111_195.0))
        .collect();
    for (k, (x, y)) in dest_pts.iter().enumerate() {
        dests.push_str(&format!("d{k},{x},{y}\n"));
    }
    let (o, d, out) = (
        tmp.path().join("o.csv"),
        tmp.path().join("d.csv"),
        tmp.path().join("nearest.csv"),
    );
    std::fs::write(&o, origins).unwrap();
    std::fs::write(&d, dests).unwrap();
    let run = Command::cargo_bin("renxing")
        .unwrap()
        .args(["access", "--graphml"])
        .arg(&gml)
        .arg("--origins")
        .arg(&o)
        .arg("--destinations")
        .arg(&d)
        .args(["--profile", "drive", "--metric", "distance", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let idx = SnapIndex::new(&g);
    let snaps: Vec<_> = dest_pts.iter().map(|&(x, y)| idx.snap(&g, x, y).unwrap()).collect();
    let text = std::fs::read_to_string(&out).unwrap();
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let i: usize = f[0][1..].parse().unwrap();
        let want = nearest_by_plain_dijkstra(&g, i as u32, &snaps);
        if want.is_finite() {
            let got: f64 = f[2].parse().unwrap();
            assert!(
                (got - want).abs() <= 1e-9 * want.max(1.0),
                "origin {i}: {got} vs {want}"
            );
        } else {
            assert_eq!(f[2], "", "origin {i} should be unreachable");
        }
        rows += 1;
    }
    assert_eq!(rows, n.div_ceil(25));
}
