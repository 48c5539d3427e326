//! What `renxing demo` leaves behind, checked from outside: `summary.json` against the census and
//! the independent network reference, `results.gpkg` through GDAL's `ogrinfo`, and `report.html`
//! rendered by headless Chromium (screenshot decoded and inspected, DOM dumped). The tools are
//! optional: without `ogrinfo` or `chromium` on PATH the test prints SKIP and returns.
//!
//! The demo runs once per test process (a `OnceLock`) into a folder under cargo's
//! `CARGO_TARGET_TMPDIR` named after the process id; folders of finished processes are removed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

struct Demo {
    out: PathBuf,
    summary: Value,
}

const PREFIX: &str = "outputs-demo-";

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_runs(&base);
        let root = base.join(format!("{PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("create the demo folder");
        let out = root.join("demo");
        let output = Command::cargo_bin("renxing")
            .expect("renxing binary")
            .arg("demo")
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .output()
            .expect("run renxing demo");
        assert!(
            output.status.success(),
            "renxing demo failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
        Demo {
            out,
            summary: serde_json::from_str(&text).expect("summary.json is JSON"),
        }
    })
}

/// Removes demo folders left by earlier test processes that have ended (Linux: no `/proc/PID`).
fn remove_stale_runs(base: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(dir) = std::fs::read_dir(base) else { return };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(PREFIX).and_then(|p| p.parse::<u32>().ok())
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Census population of the two districts, from the CSV the demo reads. The values are those of
/// the 7th national census (2020) published by the Beijing Municipal Bureau of Statistics:
/// 东城区 708,829 and 西城区 1,106,214.
fn census() -> Vec<(String, String, f64)> {
    let text =
        std::fs::read_to_string(repo().join("data/beijing/census2020_district_population.csv")).expect("census CSV");
    let rows: Vec<(String, String, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            matches!(c[0], "110101" | "110102")
                .then(|| (c[0].to_string(), c[1].to_string(), c[3].trim().parse().expect("count")))
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("110101".into(), "东城区".into(), 708_829.0),
            ("110102".into(), "西城区".into(), 1_106_214.0)
        ],
        "the census CSV changed"
    );
    rows
}

#[test]
fn summary_matches_census_and_network_reference() {
    let s = &demo().summary;
    let census = census();
    let census_total: f64 = census.iter().map(|c| c.2).sum();
    let total = f(&s["population"]["total"]);
    assert!(
        (total - census_total).abs() < 1e-6,
        "population total {total} vs census {census_total}"
    );
    assert!((f(&s["total"]["population"]) - census_total).abs() < 1e-6);
    assert_eq!(s["population"]["points_outside_units"], 0);

    // The walking graph against tests/reference/beijing_walk_shelters.json (networkx, see
    // tests/reference/README.md), computed independently from the same node/edge CSV.
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/reference/beijing_walk_shelters.json")).expect("reference JSON"),
    )
    .expect("reference is JSON");
    let g = &reference["graph"];
    let n = &s["network"];
    for (ours, theirs) in [
        ("nodes", "main_component_nodes"),
        ("links", "main_component_edges"),
        ("components", "components"),
        ("dropped_nodes", "nodes_outside_main"),
        ("dropped_links", "edges_outside_main"),
        ("self_loops", "walk_self_loops_dropped"),
        ("parallel_merged", "walk_parallel_or_reverse_rows_merged"),
        ("input_edges", "edge_rows_total"),
    ] {
        assert!(g[theirs].is_u64(), "reference has no {theirs}");
        assert_eq!(
            n[ours], g[theirs],
            "network.{ours} differs from the reference graph.{theirs}"
        );
    }
    assert_eq!(n["nodes"], reference["nodes"]);
    assert_eq!(n["largest_components"][1], g["second_component_nodes"]);

    let units = s["units"].as_array().expect("units");
    let mut seen: Vec<(String, String)> = units
        .iter()
        .map(|u| {
            (
                u["code"].as_str().expect("code").into(),
                u["name"].as_str().expect("name").into(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        census.iter().map(|c| (c.0.clone(), c.1.clone())).collect::<Vec<_>>()
    );
    for u in units {
        let code = u["code"].as_str().expect("code");
        let pop = f(&u["population"]);
        let expected = census.iter().find(|c| c.0 == code).expect("census row").2;
        assert!(
            (pop - expected).abs() < 1e-6,
            "{code}: population {pop} vs census {expected}"
        );
        let shares: Vec<f64> = [
            "share_within_emergency",
            "share_within_fixed",
            "share_within_fixed_max",
            "share_beyond_any",
        ]
        .iter()
        .map(|k| f(&u[*k]))
        .collect();
        assert!(
            shares.iter().all(|x| (0.0..=1.0).contains(x)),
            "{code}: share outside [0, 1]: {shares:?}"
        );
        assert!(
            shares[0] <= shares[1] && shares[1] <= shares[2],
            "{code}: shares not ordered: {shares:?}"
        );
        let within_max = f(&u["population_within_fixed_max"]);
        let beyond = f(&u["population_beyond_any"]);
        assert!(
            (beyond + within_max - pop).abs() <= 1e-6 * pop,
            "{code}: {beyond} + {within_max} != {pop}"
        );
        assert!(f(&u["population_within_emergency"]) <= f(&u["population_within_fixed"]) + 1e-9);
        assert!(
            (shares[3] + shares[2] - 1.0).abs() < 1e-9,
            "{code}: beyond + within max ≠ 1"
        );
    }
}

#[test]
fn geopackage_is_valid_for_gdal() {
    let Some(ogrinfo) = on_path("ogrinfo") else {
        eprintln!("SKIP: ogrinfo (GDAL) not on PATH");
        return;
    };
    let d = demo();
    let gpkg = d.out.join("results.gpkg");
    let s = &d.summary;
    let mut expected = vec![
        (
            "admin_units",
            "Multi Polygon",
            s["units"].as_array().expect("units").len() as u64,
        ),
        (
            "shelters",
            "Point",
            s["shelters"]["count"].as_u64().expect("shelters.count"),
        ),
        (
            "population_access",
            "Point",
            s["population"]["points"].as_u64().expect("population.points"),
        ),
        (
            "walk_network",
            "Line String",
            s["network"]["links"].as_u64().expect("network.links"),
        ),
    ];
    assert_eq!(expected[0].2, 2);
    // Dual-use scenarios of the example (OSM 2015 facilities; 2 units × roles × phases).
    expected.extend([
        // Oversubscribed at onset: which of several equally good splits is returned depends on
        // the pivots, so the number of assignment lines is not pinned.
        (
            "dual_beijing_quake_emergency_shelter_assignment",
            "Line String",
            u64::MAX,
        ),
        ("dual_beijing_quake_emergency_shelter_links", "Line String", u64::MAX),
        // Every resident point goes to exactly one fixed shelter (7,490 snapped points).
        ("dual_beijing_quake_fixed_shelter_assignment", "Line String", 7490),
        // Links used depend on which of several equally short assignments the solver returns.
        ("dual_beijing_quake_fixed_shelter_links", "Line String", u64::MAX),
        // 137 distinct OSM facilities (objects in two overlapping extracts count once).
        ("dual_beijing_quake_roles", "Point", 120),
        ("dual_beijing_quake_balance", "Multi Polygon", 2 * 2 * 8),
        ("dual_beijing_pandemic_roles", "Point", 39),
        ("dual_beijing_pandemic_balance", "Multi Polygon", 2 * 3 * 9),
        // One hall needed both as an emergency shelter and as a field hospital; the parks needed
        // first as emergency then as fixed shelters are a sequence, not a conflict.
        ("dual_conflicts_quake_during_pandemic", "Point", 1),
    ]);

    let out = StdCommand::new(&ogrinfo)
        .args(["-ro", "-so", "-al"])
        .arg(&gpkg)
        .output()
        .expect("run ogrinfo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ogrinfo failed:\n{stderr}");
    assert!(
        !stderr.contains("Warning") && !stderr.contains("ERROR"),
        "ogrinfo complains:\n{stderr}"
    );
    // Layer blocks: name, geometry type, feature count, in file order.
    let mut layers: Vec<(String, String, u64, bool)> = Vec::new();
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("Layer name: ") {
            layers.push((name.trim().to_string(), String::new(), u64::MAX, false));
        } else if let Some(last) = layers.last_mut() {
            if let Some(g) = line.strip_prefix("Geometry: ") {
                last.1 = g.trim().to_string();
            } else if let Some(c) = line.strip_prefix("Feature Count: ") {
                last.2 = c.trim().parse().expect("feature count");
            } else if line.contains("ID[\"EPSG\",4326]") {
                last.3 = true;
            }
        }
    }
    let any = |name: &str| expected.iter().any(|e| e.0 == name && e.2 == u64::MAX);
    assert!(
        layers.iter().all(|l| !any(&l.0) || (l.2 > 1000 && l.2 < u64::MAX)),
        "{stdout}"
    );
    let got: Vec<(String, String, u64)> = layers
        .iter()
        .map(|l| (l.0.clone(), l.1.clone(), if any(&l.0) { u64::MAX } else { l.2 }))
        .collect();
    let want: Vec<(String, String, u64)> = expected
        .iter()
        .map(|e| (e.0.to_string(), e.1.to_string(), e.2))
        .collect();
    assert_eq!(got, want, "ogrinfo sees other layers:\n{stdout}");
    assert!(layers.iter().all(|l| l.3), "a layer is not in EPSG:4326:\n{stdout}");

    // Reading every feature raises no warning (bad geometry blobs, field types…).
    let full = StdCommand::new(&ogrinfo)
        .args(["-ro", "-al", "-q"])
        .arg(&gpkg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run ogrinfo");
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert!(
        full.status.success() && stderr.trim().is_empty(),
        "ogrinfo reading all features:\n{stderr}"
    );

    // An attribute through GDAL's SQL: the units' population adds up to the summary total.
    let sql = StdCommand::new(&ogrinfo)
        .args(["-ro", "-q", "-sql", "SELECT SUM(population) AS pop FROM admin_units"])
        .arg(&gpkg)
        .output()
        .expect("run ogrinfo -sql");
    let text = String::from_utf8_lossy(&sql.stdout);
    let pop: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("pop (Real) = "))
        .unwrap_or_else(|| panic!("no SUM in ogrinfo output:\n{text}"))
        .trim()
        .parse()
        .expect("number");
    let total = f(&s["total"]["population"]);
    assert!(
        (pop - total).abs() <= 1e-6 * total,
        "GDAL sum {pop} vs summary total {total}"
    );
}

/// Runs Chromium headless with the given extra arguments on `url`; returns stdout.
fn chromium(exe: &Path, extra: &[String], url: &str) -> Vec<u8> {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = StdCommand::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    // Read stdout on a thread so that a large DOM cannot fill the pipe while we wait.
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(status) => {
                assert!(status.success(), "chromium exited with {status}");
                break;
            }
            None if start.elapsed() > Duration::from_secs(90) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within 90 s");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    reader.join().expect("stdout reader")
}

/// `#rrggbb` blended at `opacity` over white, as a browser paints it.
fn over_white(hex: &str, opacity: f64) -> [u8; 3] {
    let c = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex colour") as f64;
    let b = |x: f64| (x * opacity + 255.0 * (1.0 - opacity)).round() as u8;
    [b(c(1)), b(c(3)), b(c(5))]
}

#[test]
fn report_renders_in_chromium() {
    let Some(exe) = on_path("chromium") else {
        eprintln!("SKIP: chromium not on PATH (Debian package chromium)");
        return;
    };
    let d = demo();
    let html = d.out.join("report.html");
    let url = format!("file://{}", html.display());
    let shots = tempfile::tempdir().expect("tempdir");
    let shot = shots.path().join("shot.png");
    let (w, h) = (1200u32, 2400u32);
    chromium(
        &exe,
        &[
            format!("--window-size={w},{h}"),
            format!("--screenshot={}", shot.display()),
        ],
        &url,
    );
    let bytes = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    assert_eq!((be(16), be(20)), (w, h), "screenshot size (IHDR)");

    let mut decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("PNG pixels");
    let channels = info.color_type.samples();
    assert!(channels >= 3, "screenshot is not in colour: {:?}", info.color_type);
    let pixels: Vec<[u8; 3]> = buf[..info.line_size * info.height as usize]
        .chunks_exact(info.line_size)
        .flat_map(|row| {
            row[..info.width as usize * channels]
                .chunks_exact(channels)
                .map(|p| [p[0], p[1], p[2]])
        })
        .collect();
    let distinct: std::collections::HashSet<[u8; 3]> = pixels.iter().copied().collect();
    let white = pixels.iter().filter(|p| **p == [255, 255, 255]).count();
    eprintln!(
        "screenshot: {} distinct colours, {:.1} % white",
        distinct.len(),
        100.0 * white as f64 / pixels.len() as f64
    );
    assert!(
        distinct.len() >= 200,
        "only {} distinct colours: blank page?",
        distinct.len()
    );
    assert!(white < pixels.len() * 95 / 100, "the page is almost all white");

    // Each unit's fill (share_colour of its emergency share, fill-opacity 0.75 over white)
    // covers a good part of the map. ±2 per channel allows for the browser's rounding.
    for u in d.summary["units"].as_array().expect("units") {
        let share = u["share_within_emergency"].as_f64();
        let fill = renxing_report::html::share_colour(share);
        let want = over_white(&fill, 0.75);
        let near = pixels
            .iter()
            .filter(|p| p.iter().zip(want).all(|(&a, b)| a.abs_diff(b) <= 2))
            .count();
        eprintln!("unit {}: fill {fill} → {want:?} over white, {near} pixels", u["code"]);
        assert!(
            near >= 10_000,
            "unit {} fill colour {want:?} found on only {near} pixels",
            u["code"]
        );
    }

    let dom = String::from_utf8(chromium(&exe, &["--dump-dom".to_string()], &url)).expect("DOM is UTF-8");
    for needle in [
        "id=\"map\"",
        "id=\"chart\"",
        "id=\"units\"",
        "东城区",
        "西城区",
        "110101",
        "110102",
    ] {
        assert!(dom.contains(needle), "the rendered DOM lacks {needle}");
    }
}

/// The demo's per-district results go into a monitoring database built from the division codes
/// (Beijing, no boundaries) with `monitor push-run`, each value with the run's id.
#[test]
fn demo_results_flow_into_the_monitor() {
    let Some(provinces) = renxing_geo::shared_data::file("cn/codes/provinces.csv") else {
        return;
    };
    let codes = provinces.parent().unwrap().to_path_buf();
    let d = demo();
    // Beijing's units counted from the code lists here: nation, province, its cities, counties
    // and the townships under those counties.
    let rows = |f: &str| -> Vec<csv::StringRecord> {
        csv::Reader::from_path(codes.join(f))
            .unwrap()
            .records()
            .map(|r| r.unwrap())
            .collect()
    };
    let cities = rows("cities.csv").iter().filter(|r| &r[2] == "11").count();
    let counties: std::collections::BTreeSet<String> = rows("areas.csv")
        .iter()
        .filter(|r| &r[3] == "11")
        .map(|r| r[0].to_string())
        .collect();
    let towns = rows("streets.csv").iter().filter(|r| counties.contains(&r[2])).count();
    let expected_units = 2 + cities + counties.len() + towns;

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("beijing.sqlite").display());
    let renxing = || Command::cargo_bin("renxing").unwrap();
    let out = renxing()
        .args(["monitor", "init", "--db", &db, "--province", "11", "--codes"])
        .arg(&codes)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("{expected_units} units")),
        "{expected_units}: {err}"
    );
    let out = renxing()
        .args([
            "monitor", "user", "add", "--db", &db, "--unit", "110000", "--role", "editor", "--name", "bj-exam",
        ])
        .output()
        .unwrap();
    let token = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string();
    let out = renxing()
        .args(["monitor", "push-run", "--db", &db, "--token", &token, "--year", "2020"])
        .arg(&d.out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");

    // Every district's per-capita area and 500 m coverage (as %) as the summary has them.
    let m = renxing_monitor::store::open_url(&db, 1).unwrap();
    let editor = m.authenticate(&token).unwrap();
    let stored = m.observations_under(&editor, "110000", Some(2020)).unwrap();
    let units = d.summary["units"].as_array().unwrap();
    let mut expected = Vec::new();
    for u in units {
        let code = u["code"].as_str().unwrap();
        if let Some(v) = u["per_capita_m2"].as_f64() {
            expected.push((code.to_string(), "shelter_area_per_capita", v));
        }
        expected.push((
            code.to_string(),
            "shelter_coverage_500m",
            u["share_within_emergency"].as_f64().unwrap() * 100.0,
        ));
    }
    assert_eq!(d.summary["params"]["emergency_distance_m"], 500.0);
    assert_eq!(stored.len(), expected.len(), "{stored:#?}");
    let project = d.summary["project"].as_str().unwrap();
    for (code, ind, v) in &expected {
        let o = stored
            .iter()
            .find(|o| &o.unit == code && o.indicator == *ind)
            .unwrap_or_else(|| panic!("{code} {ind} not stored"));
        assert!(
            (o.value - v).abs() <= 1e-12 * v.abs().max(1.0),
            "{code} {ind}: {} vs {v}",
            o.value
        );
        assert_eq!(o.source, format!("renxing run {project}"));
        let run = o.run_id.as_deref().unwrap();
        assert!(
            run.starts_with(&format!("{project}:")) && run.len() == project.len() + 17,
            "{run}"
        );
        assert_eq!(o.status, "submitted");
    }
    assert!(err.contains(stored[0].run_id.as_deref().unwrap()), "{err}");
}
