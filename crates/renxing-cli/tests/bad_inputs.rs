//! Bad inputs given to the `renxing` binary: each must end in exactly one `error: …` line on
//! stderr naming the file, the position in it and what is wrong, a non-zero exit code (2), no
//! panic message, and no partial output (neither the `--out` target nor temporary leftovers
//! beside it). Also: a population point outside every admin unit is reported, not an error, and
//! a failed run leaves an earlier output folder as it was.
//!
//! Projects are built from `examples/beijing-core/renxing.toml` with its paths made absolute
//! (pointing at the repository's `data/` folder) and one section replaced by a broken input.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn renxing() -> Command {
    Command::cargo_bin("renxing").expect("the renxing binary is built for integration tests")
}

/// Names in a folder, to compare before and after a failed command.
fn entries(dir: &Path) -> BTreeSet<OsString> {
    std::fs::read_dir(dir)
        .expect("read folder")
        .map(|e| e.expect("entry").file_name())
        .collect()
}

/// Asserts the command failed with exit code 2 and exactly one `error: ` line (and no panic
/// text) on stderr; returns that line.
fn one_error_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "expected exit code 2; stderr:\n{stderr}");
    assert!(
        !stderr.contains("panicked"),
        "a panic message reached stderr:\n{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected exactly one error line, got:\n{stderr}");
    assert!(lines[0].starts_with("error: "), "not an error line: {}", lines[0]);
    lines[0].to_string()
}

/// Runs a command that must fail, checking it leaves `parent` as it was and `out` absent.
fn fails_cleanly(cmd: &mut Command, parent: &Path, out: &Path) -> String {
    let before = entries(parent);
    let output = cmd.output().expect("run renxing");
    let line = one_error_line(&output);
    assert!(!out.exists(), "{} exists after a failed command", out.display());
    assert_eq!(
        entries(parent),
        before,
        "a failed command left files in {}",
        parent.display()
    );
    eprintln!("{line}");
    line
}

/// The Beijing example project with every path made absolute.
fn example_project() -> toml::Table {
    let dir = repo().join("examples/beijing-core");
    let text = std::fs::read_to_string(dir.join("renxing.toml")).expect("read the example project");
    let mut t: toml::Table = text.parse().expect("example project is TOML");
    let abs = |v: &mut toml::Value| {
        if let Some(s) = v.as_str() {
            let p = dir.join(s);
            *v = toml::Value::String(p.canonicalize().unwrap_or(p).display().to_string());
        }
    };
    for (section, key) in [
        ("network", "nodes"),
        ("network", "edges"),
        ("admin", "path"),
        ("population", "path"),
    ] {
        if let Some(v) = t.get_mut(section).and_then(|s| s.get_mut(key)) {
            abs(v);
        }
    }
    if let Some(toml::Value::Array(files)) = t.get_mut("shelters").and_then(|s| s.get_mut("osm")) {
        files.iter_mut().for_each(abs);
    }
    // These tests are about the exam's inputs: leave the dual-use scenarios out (tests/scenarios).
    for k in ["facilities", "scenario", "compound"] {
        t.remove(k);
    }
    t
}

fn table(pairs: &[(&str, toml::Value)]) -> toml::Value {
    toml::Value::Table(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn s(v: impl AsRef<str>) -> toml::Value {
    toml::Value::String(v.as_ref().to_string())
}

fn path_value(p: &Path) -> toml::Value {
    s(p.display().to_string())
}

fn write_project(dir: &Path, t: &toml::Table) -> PathBuf {
    let p = dir.join("project.toml");
    std::fs::write(&p, toml::to_string(t).expect("serialise project")).expect("write project");
    p
}

fn run_cmd(project: &Path, out: &Path) -> Command {
    let mut c = renxing();
    c.arg("run").arg(project).arg("--out").arg(out).arg("--quiet");
    c
}

// Population points and shelters of the small "points" project. The population points lie well
// inside one district each (Financial Street in 西城区; Dongzhimen and Chongwenmen in 东城区,
// several km from the district boundary, so the GCJ-02 offset of the boundary file, ~500 m, does
// not matter), plus one in Tianjin, ~110 km away, outside both.
const POPULATION_CSV: &str = "\
id,lon,lat,people
xicheng_financial_street,116.3570,39.9150,2000
dongcheng_dongzhimen,116.4340,39.9410,1500
dongcheng_chongwenmen,116.4170,39.9000,1000
tianjin_far_away,117.2000,39.1300,1234
";
const PEOPLE_OUTSIDE: f64 = 1234.0;
const SHELTERS_CSV: &str = "\
id,name,lon,lat
ditan,Ditan Park,116.4135,39.9520
taoranting,Taoranting Park,116.3830,39.8780
yuetan,Yuetan Park,116.3470,39.9160
";

/// The example project with a points population and a shelters CSV (fast: no OSM shelters).
fn points_project(dir: &Path, shelters_csv: &str) -> PathBuf {
    let pop = dir.join("population_points.csv");
    std::fs::write(&pop, POPULATION_CSV).expect("write population");
    let shel = dir.join("shelters.csv");
    std::fs::write(&shel, shelters_csv).expect("write shelters");
    let mut t = example_project();
    t.insert(
        "population".into(),
        table(&[
            ("kind", s("points")),
            ("path", path_value(&pop)),
            ("count_column", s("people")),
            ("source", s("test points")),
        ]),
    );
    t.insert(
        "shelters".into(),
        table(&[("path", path_value(&shel)), ("name_column", s("name"))]),
    );
    write_project(dir, &t)
}

#[test]
fn truncated_pbf_names_the_byte_and_does_not_panic() {
    let Some(pbf) = renxing_io::shared_data::file("osm/helsinki.osm.pbf") else {
        return;
    };
    let bytes = std::fs::read(&pbf).expect("read helsinki.osm.pbf");
    let tmp = tempfile::tempdir().expect("tempdir");
    let points = tmp.path().join("points.csv");
    std::fs::write(&points, "id,lon,lat\na,24.94,60.17\nb,24.95,60.17\n").expect("write points");
    // 10,000 bytes cut the file inside its first data blob; 300,000 bytes cut it after several
    // complete blobs (the file is ~685 kB).
    for cut in [10_000usize, 300_000] {
        assert!(bytes.len() > cut, "helsinki.osm.pbf is smaller than {cut} bytes");
        let truncated = tmp.path().join(format!("helsinki_first_{cut}.osm.pbf"));
        std::fs::write(&truncated, &bytes[..cut]).expect("write truncated pbf");
        let out = tmp.path().join("result").join("nearest.csv");
        let line = fails_cleanly(
            renxing()
                .arg("access")
                .arg("--osm")
                .arg(&truncated)
                .arg("--origins")
                .arg(&points)
                .arg("--destinations")
                .arg(&points)
                .args(["--profile", "walk", "--metric", "distance", "--out"])
                .arg(&out),
            tmp.path(),
            &out,
        );
        assert!(!tmp.path().join("result").exists(), "the output's folder was created");
        assert!(
            line.contains(&truncated.display().to_string()),
            "file not named: {line}"
        );
        assert!(line.contains("byte"), "no byte position: {line}");
        assert!(
            line.contains("truncated") || line.contains("end of file"),
            "does not say what is wrong: {line}"
        );
    }
}

#[test]
fn broken_admin_ring_names_the_feature() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Feature 0 is a valid square; feature 1 is broken in two ways, one file each.
    let good = r#"{"type":"Feature","properties":{"adcode":"110101","name":"东城区"},"geometry":{"type":"Polygon","coordinates":[[[116.40,39.90],[116.44,39.90],[116.44,39.94],[116.40,39.94],[116.40,39.90]]]}}"#;
    let cases = [
        (
            "unclosed",
            "[[116.33,39.88],[116.39,39.88],[116.39,39.95],[116.33,39.95],[116.33,39.90]]",
            "is not closed",
        ),
        (
            "three_points",
            "[[116.33,39.88],[116.39,39.88],[116.33,39.88]]",
            "has only 3 positions",
        ),
    ];
    for (name, ring, what) in cases {
        let bad = format!(
            r#"{{"type":"Feature","properties":{{"adcode":"110102","name":"西城区"}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}"#
        );
        let geojson = tmp.path().join(format!("admin_{name}.geojson"));
        std::fs::write(
            &geojson,
            format!(r#"{{"type":"FeatureCollection","features":[{good},{bad}]}}"#),
        )
        .expect("write geojson");
        let mut t = example_project();
        t.insert(
            "admin".into(),
            table(&[
                ("path", path_value(&geojson)),
                ("crs", s("wgs84")),
                ("code_field", s("adcode")),
                ("name_field", s("name")),
            ]),
        );
        let project = write_project(tmp.path(), &t);
        let out = tmp.path().join("out");
        let line = fails_cleanly(&mut run_cmd(&project, &out), tmp.path(), &out);
        assert!(
            line.contains(&geojson.display().to_string()),
            "{name}: file not named: {line}"
        );
        assert!(line.contains("feature 1"), "{name}: feature index missing: {line}");
        assert!(
            line.contains("ring 0") && line.contains(what),
            "{name}: does not say '{what}': {line}"
        );
    }
}

#[test]
fn csv_without_lat_column_lists_the_columns_found() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A two-node network, so that the origins are read at once.
    let nodes = tmp.path().join("nodes.csv");
    std::fs::write(&nodes, "node_id,lon,lat\n1,116.400,39.900\n2,116.410,39.900\n").expect("write nodes");
    let edges = tmp.path().join("edges.csv");
    std::fs::write(&edges, "u,v,highway\n1,2,residential\n").expect("write edges");
    let origins = tmp.path().join("origins_no_lat.csv");
    std::fs::write(&origins, "id,lon,height_m\na,116.401,44\nb,116.409,45\n").expect("write origins");
    let dests = tmp.path().join("destinations.csv");
    std::fs::write(&dests, "id,lon,lat\nd,116.405,39.900\n").expect("write destinations");
    let out = tmp.path().join("nearest.csv");
    let line = fails_cleanly(
        renxing()
            .arg("access")
            .arg("--nodes")
            .arg(&nodes)
            .arg("--edges")
            .arg(&edges)
            .arg("--origins")
            .arg(&origins)
            .arg("--destinations")
            .arg(&dests)
            .arg("--out")
            .arg(&out),
        tmp.path(),
        &out,
    );
    assert!(line.contains(&origins.display().to_string()), "file not named: {line}");
    assert!(line.contains("line 1"), "header line not named: {line}");
    assert!(line.contains("latitude"), "missing column not named: {line}");
    for col in ["id", "lon", "height_m"] {
        assert!(
            line.contains(col),
            "column {col} found in the file is not listed: {line}"
        );
    }
}

#[test]
fn tiff_without_georeference_is_refused_as_grid_population() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tif = tmp.path().join("population_no_georef.tif");
    {
        let file = std::fs::File::create(&tif).expect("create tif");
        let mut enc = tiff::encoder::TiffEncoder::new(std::io::BufWriter::new(file)).expect("tiff encoder");
        let values: Vec<f32> = (0..16).map(|i| 100.0 + i as f32).collect();
        enc.write_image::<tiff::encoder::colortype::Gray32Float>(4, 4, &values)
            .expect("write tiff");
    }
    let mut t = example_project();
    t.insert(
        "population".into(),
        table(&[("kind", s("grid")), ("path", path_value(&tif))]),
    );
    let project = write_project(tmp.path(), &t);
    let out = tmp.path().join("out");
    let line = fails_cleanly(&mut run_cmd(&project, &out), tmp.path(), &out);
    assert!(line.contains(&tif.display().to_string()), "file not named: {line}");
    assert!(line.contains("no georeference"), "does not say what is wrong: {line}");
    // A whole-file problem: the position is the missing tags, which the message names.
    assert!(
        line.contains("ModelPixelScale") && line.contains("ModelTransformation"),
        "tags not named: {line}"
    );
}

#[test]
fn population_point_outside_every_unit_is_counted_and_noted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let project = points_project(tmp.path(), SHELTERS_CSV);
    let out = tmp.path().join("out");
    let output = run_cmd(&project, &out).output().expect("run renxing");
    assert!(
        output.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary.json")).expect("JSON");
    let pop = &summary["population"];
    assert_eq!(pop["points"], 4);
    assert_eq!(pop["points_outside_units"], 1, "{pop}");
    assert_eq!(pop["outside_units"].as_f64(), Some(PEOPLE_OUTSIDE), "{pop}");
    assert_eq!(pop["total"].as_f64(), Some(2000.0 + 1500.0 + 1000.0 + PEOPLE_OUTSIDE));
    let by_code: BTreeMap<String, f64> = summary["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| {
            (
                u["code"].as_str().expect("code").to_string(),
                u["population"].as_f64().expect("population"),
            )
        })
        .collect();
    assert_eq!(
        by_code.get("110101"),
        Some(&2500.0),
        "东城区 holds Dongzhimen and Chongwenmen: {by_code:?}"
    );
    assert_eq!(
        by_code.get("110102"),
        Some(&2000.0),
        "西城区 holds Financial Street: {by_code:?}"
    );
    let notes: Vec<&str> = summary["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("outside every admin unit") && n.contains("1234")),
        "no note about the point outside: {notes:?}"
    );
}

#[test]
fn unknown_project_key_is_named_with_its_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut t = example_project();
    t.get_mut("exam")
        .and_then(|e| e.as_table_mut())
        .expect("[exam]")
        .insert("max_snapp".into(), toml::Value::Integer(300));
    let project = write_project(tmp.path(), &t);
    let text = std::fs::read_to_string(&project).expect("read project");
    let key_line = text
        .lines()
        .position(|l| l.trim_start().starts_with("max_snapp"))
        .expect("key written")
        + 1;
    let out = tmp.path().join("out");
    let line = fails_cleanly(&mut run_cmd(&project, &out), tmp.path(), &out);
    assert!(line.contains(&project.display().to_string()), "file not named: {line}");
    assert!(
        line.contains(&format!("line {key_line}")),
        "line {key_line} not named: {line}"
    );
    assert!(
        line.contains("unknown field") && line.contains("max_snapp"),
        "key not named: {line}"
    );
}

#[test]
fn unknown_standard_override_is_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut t = example_project();
    let key = "shelter.emergency_service_distance_mm";
    t.insert(
        "standard".into(),
        table(&[
            ("profile", s("cn")),
            ("overrides", table(&[(key, toml::Value::Float(400.0))])),
        ]),
    );
    let project = write_project(tmp.path(), &t);
    let out = tmp.path().join("out");
    let line = fails_cleanly(&mut run_cmd(&project, &out), tmp.path(), &out);
    assert!(line.contains(&project.display().to_string()), "file not named: {line}");
    assert!(
        line.contains("[standard] overrides") && line.contains(key),
        "override not named: {line}"
    );
}

#[test]
fn failed_run_leaves_an_earlier_output_folder_as_it_was() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let project = points_project(tmp.path(), SHELTERS_CSV);
    let out = tmp.path().join("out");
    let first = run_cmd(&project, &out).output().expect("run renxing");
    assert!(
        first.status.success(),
        "first run failed: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    let snapshot = |dir: &Path| -> BTreeMap<OsString, Vec<u8>> {
        std::fs::read_dir(dir)
            .expect("read out")
            .map(|e| {
                let e = e.expect("entry");
                (e.file_name(), std::fs::read(e.path()).expect("read output file"))
            })
            .collect()
    };
    let before = snapshot(&out);
    assert_eq!(
        before.keys().cloned().collect::<BTreeSet<_>>(),
        ["report.html", "results.gpkg", "summary.json"]
            .iter()
            .map(OsString::from)
            .collect(),
    );
    let parent_before = entries(tmp.path());

    // The same project with a shelter whose latitude is out of range (line 3 of the CSV): the run
    // gets as far as the shelters step, after the network, units and population are loaded.
    let broken = SHELTERS_CSV.replace("116.3830,39.8780", "116.3830,139.8780");
    let project = points_project(tmp.path(), &broken);
    let output = run_cmd(&project, &out).output().expect("run renxing");
    let line = one_error_line(&output);
    eprintln!("{line}");
    assert!(line.contains("shelters.csv") && line.contains("line 3"), "{line}");
    assert_eq!(snapshot(&out), before, "the earlier output folder changed");
    assert_eq!(
        entries(tmp.path()),
        parent_before,
        "temporary leftovers beside the output folder"
    );
}

/// A minimal PBF: an `OSMHeader` blob and one raw `OSMData` blob holding a multipolygon relation
/// whose one member has the type code `member_type` (0 node, 1 way, 2 relation; anything else is
/// not a valid `MemberType`). Protobuf written by hand from OSM's fileformat/osmformat.proto.
fn pbf_with_relation_member_type(member_type: u64) -> Vec<u8> {
    fn varint(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn bytes_field(field: u64, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        varint(field << 3 | 2, &mut v);
        varint(data.len() as u64, &mut v);
        v.extend_from_slice(data);
        v
    }
    fn int_field(field: u64, n: u64) -> Vec<u8> {
        let mut v = Vec::new();
        varint(field << 3, &mut v);
        varint(n, &mut v);
        v
    }
    fn packed(field: u64, values: &[u64]) -> Vec<u8> {
        let mut data = Vec::new();
        values.iter().for_each(|&x| varint(x, &mut data));
        bytes_field(field, &data)
    }
    fn blob(kind: &str, payload: &[u8]) -> Vec<u8> {
        // Blob { raw = 1, raw_size = 2 }; BlobHeader { type = 1, datasize = 3 }.
        let blob = [bytes_field(1, payload), int_field(2, payload.len() as u64)].concat();
        let header = [bytes_field(1, kind.as_bytes()), int_field(3, blob.len() as u64)].concat();
        [(header.len() as u32).to_be_bytes().to_vec(), header, blob].concat()
    }
    // HeaderBlock { required_features = 4 }.
    let header = [bytes_field(4, b"OsmSchema-V0.6"), bytes_field(4, b"DenseNodes")].concat();
    // StringTable { s = 1 }: "", "type", "multipolygon", "outer".
    let strings: Vec<u8> = ["", "type", "multipolygon", "outer"]
        .iter()
        .flat_map(|s| bytes_field(1, s.as_bytes()))
        .collect();
    // Relation { id = 1, keys = 2, vals = 3, roles_sid = 8, memids = 9 (sint64, delta), types = 10 }.
    let relation = [
        int_field(1, 1),
        packed(2, &[1]),
        packed(3, &[2]),
        packed(8, &[3]),
        packed(9, &[2]),
        packed(10, &[member_type]),
    ]
    .concat();
    // PrimitiveBlock { stringtable = 1, primitivegroup = 2 { relations = 4 } }.
    let block = [bytes_field(1, &strings), bytes_field(2, &bytes_field(4, &relation))].concat();
    [blob("OSMHeader", &header), blob("OSMData", &block)].concat()
}

/// `renxing access` on a one-relation PBF whose member has the given type; the one error line and
/// the PBF path.
fn access_on_pbf_with_member_type(member_type: u64) -> (String, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pbf = tmp.path().join(format!("member_type_{member_type}.osm.pbf"));
    std::fs::write(&pbf, pbf_with_relation_member_type(member_type)).expect("write pbf");
    let points = tmp.path().join("points.csv");
    std::fs::write(&points, "id,lon,lat\na,24.94,60.17\n").expect("write points");
    let out = tmp.path().join("nearest.csv");
    let mut cmd = renxing();
    cmd.arg("access").arg("--osm").arg(&pbf).arg("--origins").arg(&points);
    cmd.arg("--destinations").arg(&points).arg("--out").arg(&out);
    (fails_cleanly(&mut cmd, tmp.path(), &out), pbf.display().to_string())
}

/// osmpbf 0.3 panics (an `unwrap` in `RelMemberType::from`) on an unknown relation member type.
/// renxing-io catches the panic and returns an error naming the blob, and keeps the panic hook
/// quiet: no "thread … panicked at …" text reaches stderr.
#[test]
fn corrupt_pbf_member_type_is_one_error_line_without_panic_text() {
    let (line, pbf) = access_on_pbf_with_member_type(7);
    assert!(line.contains(&pbf) && line.contains("blob 1 at byte"), "{line}");
}

/// The same file with a valid member type (1 = way) reads without error, so the test above fails
/// for the member type alone: the run stops later, on the missing roads.
#[test]
fn pbf_fixture_with_valid_member_type_reads() {
    let (line, _) = access_on_pbf_with_member_type(1);
    assert!(line.contains("no road routable for the walk profile"), "{line}");
}

/// `--out` naming an existing file, or a folder holding files that are not outputs of renxing:
/// the run replaces the output folder as a whole, so it must refuse (before any work) rather
/// than move the file away or delete the folder's other files.
#[test]
fn out_that_is_a_file_or_a_foreign_folder_is_refused_and_kept() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let project = points_project(tmp.path(), SHELTERS_CSV);

    let file = tmp.path().join("notes.txt");
    std::fs::write(&file, "my notes").expect("write file");
    let before = entries(tmp.path());
    let line = one_error_line(&run_cmd(&project, &file).output().expect("run renxing"));
    eprintln!("{line}");
    assert!(
        line.contains(&file.display().to_string()) && line.contains("not a folder"),
        "{line}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("file kept"), "my notes");
    assert_eq!(entries(tmp.path()), before, "leftovers beside the output");

    let folder = tmp.path().join("documents");
    std::fs::create_dir(&folder).expect("create folder");
    std::fs::write(folder.join("thesis.txt"), "precious").expect("write file");
    std::fs::write(folder.join("summary.json"), "{}").expect("write file");
    let before = entries(tmp.path());
    let line = one_error_line(&run_cmd(&project, &folder).output().expect("run renxing"));
    eprintln!("{line}");
    assert!(
        line.contains(&folder.display().to_string()) && line.contains("thesis.txt"),
        "{line}"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("thesis.txt")).expect("file kept"),
        "precious"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("summary.json")).expect("file kept"),
        "{}"
    );
    assert_eq!(entries(tmp.path()), before, "leftovers beside the output");
}
