//! The HTTP API on Henan (real units and yearbook values), the same suite against the embedded
//! SQLite store and PostgreSQL/PostGIS: roles per subtree over HTTP, field-naming 4xx errors,
//! login and its rate limit, body limits, CSV and Excel imports (malformed ones rejected),
//! CSV/GeoPackage exports, reports, warnings, 50 concurrent submitters, the audit chain and
//! tampering, and the OpenAPI document. Skips (printing why) without the shared data; the
//! PostgreSQL run skips without `RENXING_TEST_POSTGRES`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use renxing_monitor::access::Role;
use renxing_monitor::catalogue::Catalogue;
use renxing_monitor::scratch::ScratchDb;
use renxing_monitor::store::{AnyMonitor, open_url};
use renxing_monitor::unit::load_units;
use renxing_server::auth::LoginLimit;
use renxing_server::{AppState, Config};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

struct Henan {
    geojson: PathBuf,
    streets: PathBuf,
    macro_csv: PathBuf,
}

fn henan() -> Option<Henan> {
    Some(Henan {
        geojson: renxing_geo::shared_data::file("cn/admin/henan_admin_wgs84.geojson")?,
        streets: renxing_geo::shared_data::file("cn/codes/streets.csv")?,
        macro_csv: renxing_geo::shared_data::file("cn/stats/city_macro.csv")?,
    })
}

/// A running server on a free loopback port (stopped when the test process ends).
struct Server {
    base: String,
    http: Client,
}

impl Server {
    fn start(m: AnyMonitor) -> Server {
        let config = Config {
            max_body: 256 << 10,
            login_limit: LoginLimit {
                failures: 3,
                window: Duration::from_secs(60),
            },
            today: Some((2026, 11, 22)),
        };
        let addr = renxing_server::spawn(AppState::new(m, config), "127.0.0.1:0".parse().unwrap()).unwrap();
        Server {
            base: format!("http://{addr}"),
            http: Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
        }
    }

    fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut r = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().unwrap();
        let s = r.status();
        (s, r.json().unwrap_or(Value::Null))
    }

    fn send(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let mut r = match method {
            "PUT" => self.http.put(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url),
        };
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.json(body).send().unwrap();
        let s = r.status();
        (s, r.json().unwrap_or(Value::Null))
    }

    fn upload(&self, path: &str, token: &str, ctype: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", ctype)
            .body(body)
            .send()
            .unwrap();
        let s = r.status();
        (s, r.json().unwrap_or(Value::Null))
    }
}

fn value_of(rows: &Value, indicator: &str) -> Option<f64> {
    rows["indicators"]
        .as_array()?
        .iter()
        .find(|r| r["indicator"]["code"] == indicator)?
        .get("value")?
        .as_f64()
}

fn level_of(rows: &Value, indicator: &str) -> Value {
    rows["indicators"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["indicator"]["code"] == indicator))
        .map_or(Value::Null, |r| r["assessment"]["level"].clone())
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[test]
fn api_on_sqlite() {
    let Some(h) = henan() else { return };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.sqlite").display());
    suite(&h, &url);
}

#[test]
fn api_on_postgres() {
    let Some(h) = henan() else { return };
    let Some(db) = ScratchDb::create("api_on_postgres") else {
        return;
    };
    suite(&h, &db.url);
}

fn suite(h: &Henan, url: &str) {
    let m = open_url(url, 4).unwrap();
    let units = load_units(&h.geojson, Some(&h.streets)).unwrap();
    m.init(&units, &Catalogue::builtin_cn(), "test").unwrap();
    let token = |name: &str, unit: &str, role: Role, pw: Option<&str>| m.add_user(None, name, unit, role, pw).unwrap();
    let admin = token("henan-admin", "410000", Role::Admin, None);
    let zz_reviewer = token("zz-reviewer", "410100", Role::Reviewer, None);
    let zz_editor = token("zz-editor", "410100", Role::Editor, None);
    let zy_editor = token("zy-editor", "410102", Role::Editor, Some("中原区-password"));
    let eq_editor = token("eq-editor", "410103", Role::Editor, None);
    // Users before the server starts; the writes below go through HTTP only.
    let audit_before = m.audit_verify().unwrap().records;
    let s = Server::start(m);

    // Units: Zhengzhou's 12 districts and counties; ancestors from the top.
    let (st, zz) = s.get("/api/units/410100", None);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(zz["name"], "郑州市");
    assert_eq!(zz["children"].as_array().unwrap().len(), 12);
    assert_eq!(zz["has_boundary"], true);
    let anc: Vec<&str> = zz["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(anc, ["100000", "410000"]);
    assert_eq!(s.get("/api/root", None).1["code"], "410000");
    let (st, e) = s.get("/api/units/41010x", None);
    assert_eq!((st, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("code")));
    let (st, _) = s.get("/api/units/419999", None);
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The yearbook table through the CSV import, by the province admin; published by it.
    let csv = {
        let batch = renxing_monitor::import::read_city_macro(&h.macro_csv, "410000").unwrap();
        let mut w = String::from("unit,indicator,year,value\n");
        for (u, o) in &batch {
            w += &format!("{u},{},{},{}\n", o.indicator, o.year, o.value);
        }
        (batch.len(), w)
    };
    let (st, r) = s.upload(
        "/api/import?name=city_macro.csv",
        &admin,
        "text/csv",
        csv.1.clone().into_bytes(),
    );
    assert_eq!(
        (st, r["accepted"].as_u64()),
        (StatusCode::OK, Some(csv.0 as u64)),
        "{r}"
    );
    let (_, pub2020) = s.get("/api/units/410100/indicators?year=2020", None);
    assert_eq!(value_of(&pub2020, "resident_population"), None, "not published yet");
    let (st, r) = s.send(
        "POST",
        "/api/units/410100/approve",
        Some(&admin),
        &json!({ "year": 2020 }),
    );
    assert_eq!((st, r["approved"].as_u64()), (StatusCode::OK, Some(5)), "{r}");
    let (_, pub2020) = s.get("/api/units/410100/indicators?year=2020", None);
    // 郑州 2020 resident population in the yearbook table: 1,262.17 × 10⁴ (read by hand below).
    let by_hand = {
        let mut rdr = csv::Reader::from_path(&h.macro_csv).unwrap();
        rdr.records()
            .map(|r| r.unwrap())
            .find(|r| &r[4] == "410100" && &r[0] == "2020")
            .map(|r| r[6].parse::<f64>().unwrap())
            .unwrap()
    };
    assert_eq!(value_of(&pub2020, "resident_population"), Some(by_hand));

    // Writes need a token; a county editor writes its county only; errors name the field.
    let obs = |ind: &str, year: i32, value: f64| json!({ "observations": [{ "indicator": ind, "year": year, "value": value }] });
    let (st, e) = s.send(
        "PUT",
        "/api/units/410102/observations",
        None,
        &obs("waterlogging_points", 2025, 2.0),
    );
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
    let (st, _) = s.send(
        "PUT",
        "/api/units/410102/observations",
        Some("not-a-token"),
        &obs("waterlogging_points", 2025, 2.0),
    );
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, e) = s.send(
        "PUT",
        "/api/units/410103/observations",
        Some(&zy_editor),
        &obs("waterlogging_points", 2025, 2.0),
    );
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let (st, e) = s.send(
        "PUT",
        "/api/units/410102/observations",
        Some(&zy_editor),
        &json!({ "observations": [{ "indicator": "gdp", "year": 2024, "value": 1 }, { "indicator": "gdp", "year": "2024", "value": 1 }] }),
    );
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("observations[1].year")),
        "{e}"
    );
    let (st, e) = s.send(
        "PUT",
        "/api/units/410102/observations",
        Some(&zy_editor),
        &obs("no_such_indicator", 2025, 1.0),
    );
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("observations[0].indicator")),
        "{e}"
    );
    let (st, e) = s.send(
        "PUT",
        "/api/units/410102/observations",
        Some(&zy_editor),
        &json!({ "obs": [] }),
    );
    assert_eq!((st, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("obs")), "{e}");

    // Target from the city; the county's value beyond it is red, and unpublished values stay
    // with the county (and the levels above it).
    let (st, r) = s.send(
        "PUT",
        "/api/units/410102/targets",
        Some(&zz_editor),
        &json!({ "basis": "example", "targets": [{ "indicator": "waterlogging_points", "year": 2025, "value": 3 }] }),
    );
    assert_eq!(st, StatusCode::OK, "{r}");
    let (st, _) = s.send(
        "PUT",
        "/api/units/410102/observations",
        Some(&zy_editor),
        &obs("waterlogging_points", 2025, 2.0),
    );
    assert_eq!(st, StatusCode::OK);
    let (_, rows) = s.get("/api/units/410102/indicators?year=2025", Some(&zy_editor));
    assert_eq!(level_of(&rows, "waterlogging_points"), "green");
    s.send(
        "PUT",
        "/api/units/410102/observations",
        Some(&zy_editor),
        &obs("waterlogging_points", 2025, 5.0),
    );
    let (_, rows) = s.get("/api/units/410102/indicators?year=2025", Some(&zy_editor));
    assert_eq!(
        (
            value_of(&rows, "waterlogging_points"),
            level_of(&rows, "waterlogging_points")
        ),
        (Some(5.0), json!("red"))
    );
    let (_, rows) = s.get("/api/units/410102/indicators?year=2025", Some(&eq_editor));
    assert_eq!(value_of(&rows, "waterlogging_points"), None, "another county");
    let (_, rows) = s.get("/api/units/410102/indicators?year=2025", None);
    assert_eq!(value_of(&rows, "waterlogging_points"), None, "the public");
    let (_, rows) = s.get("/api/units/410102/indicators?year=2025", Some(&zz_reviewer));
    assert_eq!(value_of(&rows, "waterlogging_points"), Some(5.0), "the city above");
    // The county cannot publish itself; the city's reviewer can.
    let (st, _) = s.send(
        "POST",
        "/api/units/410102/approve",
        Some(&zy_editor),
        &json!({ "year": 2025 }),
    );
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, r) = s.send(
        "POST",
        "/api/units/410102/approve",
        Some(&zz_reviewer),
        &json!({ "year": 2025 }),
    );
    assert_eq!((st, r["approved"].as_u64()), (StatusCode::OK, Some(1)));
    let (_, rows) = s.get("/api/units/410102/indicators?year=2025", None);
    assert_eq!(value_of(&rows, "waterlogging_points"), Some(5.0));
    // The map of the city shows the county red; the warnings list has it.
    let (_, map) = s.get("/api/units/410100/map?indicator=waterlogging_points&year=2025", None);
    let f: Vec<&Value> = map["features"].as_array().unwrap().iter().collect();
    assert_eq!(f.len(), 12);
    let zy = f.iter().find(|f| f["properties"]["code"] == "410102").unwrap();
    assert_eq!(zy["properties"]["warning"], "red");
    assert_eq!(zy["geometry"]["type"], "MultiPolygon");
    let (_, w) = s.get("/api/warnings?under=410100&year=2025", None);
    let red: Vec<&Value> = w["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["warning"]["level"] == "red")
        .collect();
    assert_eq!(red.len(), 1, "{w}");
    assert_eq!(red[0]["unit"], "410102");
    let (st, e) = s.get("/api/warnings", None);
    assert_eq!((st, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("under")));
    let (st, e) = s.get("/api/units/410100/rollup?indicator=gdp&year=20x0", None);
    assert_eq!((st, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("year")));

    // Roll-up of the cities to the province (the 17 in the table; 济源 not there).
    let (_, r) = s.get(
        "/api/units/410000/rollup?indicator=resident_population&year=2020",
        Some(&admin),
    );
    let sum: f64 = csv
        .1
        .lines()
        .skip(1)
        .filter(|l| l.contains(",resident_population,2020,"))
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .sum();
    let v = r["rollup"]["value"].as_f64().unwrap();
    assert!((v - sum).abs() <= 1e-9 * sum, "{v} vs {sum}");
    assert_eq!(r["rollup"]["missing"], json!(["419001"]));

    // Excel: a county's sheet (codes typed as numbers) goes in; broken workbooks and bad
    // cells are rejected naming the file and cell, without a partial write.
    let sheet = |rows: &[(f64, &str, f64, f64)], extra_bad: bool| -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in ["unit", "indicator", "year", "value"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (k, r) in rows.iter().enumerate() {
            let row = k as u32 + 1;
            ws.write_number(row, 0, r.0).unwrap();
            ws.write_string(row, 1, r.1).unwrap();
            ws.write_number(row, 2, r.2).unwrap();
            ws.write_number(row, 3, r.3).unwrap();
        }
        if extra_bad {
            let row = rows.len() as u32 + 1;
            ws.write_number(row, 0, 410102.0).unwrap();
            ws.write_string(row, 1, "gdp").unwrap();
            ws.write_number(row, 2, 2023.0).unwrap();
            ws.write_boolean(row, 3, true).unwrap();
        }
        wb.save_to_buffer().unwrap()
    };
    let good = sheet(
        &[
            (410102.0, "gdp", 2023.0, 1.5e7),
            (410102.0, "resident_population", 2023.0, 104.5),
        ],
        false,
    );
    let (st, r) = s.upload("/api/import?name=zy.xlsx", &zy_editor, XLSX, good);
    assert_eq!((st, r["accepted"].as_u64()), (StatusCode::OK, Some(2)), "{r}");
    let (_, rows) = s.get("/api/units/410102/indicators?year=2023", Some(&zy_editor));
    assert_eq!(value_of(&rows, "resident_population"), Some(104.5));
    let bad = sheet(&[(410102.0, "gdp", 2022.0, 1.4e7)], true);
    let (st, e) = s.upload("/api/import?name=zy-bad.xlsx", &zy_editor, XLSX, bad);
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let msg = e["error"].as_str().unwrap();
    assert!(
        msg.contains("zy-bad.xlsx") && msg.contains("D3") && msg.contains("boolean"),
        "{msg}"
    );
    let (_, rows) = s.get("/api/units/410102/indicators?year=2022", Some(&zy_editor));
    assert_eq!(value_of(&rows, "gdp"), None, "nothing of the rejected file was written");
    let (st, e) = s.upload(
        "/api/import?name=junk.xlsx",
        &zy_editor,
        XLSX,
        b"PK\x03\x04garbage".to_vec(),
    );
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["error"].as_str().unwrap().contains("not a readable .xlsx"), "{e}");
    let other_county = sheet(&[(410103.0, "gdp", 2023.0, 1.0)], false);
    let (st, _) = s.upload("/api/import?name=x.xlsx", &zy_editor, XLSX, other_county);
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, e) = s.upload("/api/import", &zy_editor, "application/pdf", b"%PDF".to_vec());
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("Content-Type"))
    );

    // Bodies over the limit: 413 as JSON, and the server goes on.
    let big = vec![b'x'; 300 << 10];
    let (st, e) = s.upload("/api/import?name=big.csv", &zy_editor, "text/csv", big);
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body")),
        "{e}"
    );
    assert_eq!(s.get("/api/health", None).0, StatusCode::OK);

    // Users: the province admin lists and adds users below it; a user changes its password (its
    // sessions end); the admin removes it. (No failed attempt here: the limit below counts them.)
    let (st, listed) = s.get("/api/units/410100/users", Some(&admin));
    let names: Vec<&str> = listed["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        (st, names),
        (
            StatusCode::OK,
            vec!["zz-editor", "zz-reviewer", "zy-editor", "eq-editor"]
        )
    );
    assert_eq!(listed["users"][2]["has_password"], true);
    assert_eq!(
        s.get("/api/units/410100/users", Some(&zz_editor)).0,
        StatusCode::FORBIDDEN
    );
    let viewer = json!({ "name": "zy-viewer", "role": "viewer", "password": "viewer-password-1" });
    assert_eq!(
        s.send("POST", "/api/units/410102/users", Some(&zy_editor), &viewer).0,
        StatusCode::FORBIDDEN
    );
    let (st, e) = s.send(
        "POST",
        "/api/units/410102/users",
        Some(&admin),
        &json!({ "name": "x", "role": "boss" }),
    );
    assert_eq!((st, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("role")));
    let (st, added) = s.send("POST", "/api/units/410102/users", Some(&admin), &viewer);
    assert_eq!(
        (st, added["token"].as_str().map(str::len)),
        (StatusCode::OK, Some(64)),
        "{added}"
    );
    let login = |pw: &str| {
        s.send(
            "POST",
            "/api/login",
            None,
            &json!({ "name": "zy-viewer", "password": pw }),
        )
    };
    let (st, r) = login("viewer-password-1");
    assert_eq!(st, StatusCode::OK, "{r}");
    let viewer_session = r["token"].as_str().unwrap().to_string();
    let (st, r) = s.send(
        "PUT",
        "/api/me/password",
        Some(&viewer_session),
        &json!({ "current": "viewer-password-1", "new": "viewer-password-2" }),
    );
    assert_eq!((st, r["sessions_ended"].as_u64()), (StatusCode::OK, Some(1)), "{r}");
    assert_eq!(s.get("/api/me", Some(&viewer_session)).0, StatusCode::UNAUTHORIZED);
    assert_eq!(login("viewer-password-2").0, StatusCode::OK);
    assert_eq!(
        s.send("DELETE", "/api/users/zy-viewer", Some(&zz_editor), &json!({})).0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.send("DELETE", "/api/users/zy-viewer", Some(&admin), &json!({})).0,
        StatusCode::OK
    );
    let viewer_token = added["token"].as_str().unwrap();
    assert_eq!(s.get("/api/me", Some(viewer_token)).0, StatusCode::UNAUTHORIZED);

    // Login with a password; failures are limited (3 per minute here) with Retry-After.
    let (st, r) = s.send(
        "POST",
        "/api/login",
        None,
        &json!({ "name": "zy-editor", "password": "中原区-password" }),
    );
    assert_eq!(st, StatusCode::OK, "{r}");
    let session = r["token"].as_str().unwrap().to_string();
    assert_eq!(s.get("/api/me", Some(&session)).1["unit"], "410102");
    assert_eq!(s.get("/api/me", None).1, json!({ "public": true }));
    // The session reads the county's unpublished 2023 value; the public does not.
    let zy2023 = "/api/units/410102/indicators?year=2023";
    assert_eq!(
        value_of(&s.get(zy2023, Some(&session)).1, "resident_population"),
        Some(104.5)
    );
    assert_eq!(value_of(&s.get(zy2023, None).1, "resident_population"), None);
    assert_eq!(s.get(zy2023, Some("not-a-token")).0, StatusCode::UNAUTHORIZED);
    for _ in 0..3 {
        let (st, _) = s.send(
            "POST",
            "/api/login",
            None,
            &json!({ "name": "zy-editor", "password": "wrong-one" }),
        );
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let r = s
        .http
        .post(format!("{}/api/login", s.base))
        .json(&json!({ "name": "zy-editor", "password": "中原区-password" }))
        .send()
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(r.headers().get("retry-after").is_some());
    let (st, _) = s.send("POST", "/api/logout", Some(&session), &json!({}));
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        s.get("/api/me", Some(&session)).0,
        StatusCode::UNAUTHORIZED,
        "session ended"
    );
    assert_eq!(s.get(zy2023, Some(&session)).0, StatusCode::UNAUTHORIZED);

    // Exports: CSV of what the caller may see; GeoPackage of the city's units.
    let csv_out = s
        .http
        .get(format!("{}/api/units/410100/export.csv?year=2020", s.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let lines: Vec<&str> = csv_out.lines().collect();
    assert_eq!(lines[0], "unit,indicator,year,value,status,source,run_id,submitter");
    assert_eq!(lines.len(), 1 + 5, "the 5 published 2020 values of 郑州: {csv_out}");
    let gpkg = s
        .http
        .get(format!("{}/api/units/410100/export.gpkg?year=2025", s.base))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("zz.gpkg");
    std::fs::write(&p, &gpkg).unwrap();
    let features = renxing_io::gpkg::read_layer(&p, None).unwrap();
    assert_eq!(features.len(), 12);
    let zy: BTreeMap<String, renxing_io::gpkg::Value> = features
        .iter()
        .find(|f| {
            f.1.iter()
                .any(|(k, v)| k == "code" && *v == renxing_io::gpkg::Value::Text("410102".into()))
        })
        .unwrap()
        .1
        .iter()
        .cloned()
        .collect();
    assert_eq!(zy["waterlogging_points"], renxing_io::gpkg::Value::Real(5.0));
    assert_eq!(
        zy["waterlogging_points_warning"],
        renxing_io::gpkg::Value::Text("red".into())
    );

    // Report: 2025 is a five-year assessment; the county's red indicator is counted.
    let (st, rep) = s.get("/api/units/410102/report?year=2025", None);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rep["kind"], "five_year_assessment");
    assert_eq!(rep["counts"]["red"], 1);
    let md = s
        .http
        .get(format!("{}/api/units/410100/report?year=2024&format=md", s.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        md.starts_with("# 郑州市 410100 — 年度体检报告 / Annual exam 2024"),
        "{md}"
    );

    // Townships (9-digit codes) are units of the API too.
    let (_, zy) = s.get("/api/units/410102", None);
    let town = zy["children"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(town.len(), 9, "{zy}");
    let (st, t) = s.get(&format!("/api/units/{town}"), None);
    assert_eq!((st, t["level"].as_str()), (StatusCode::OK, Some("township")), "{t}");
    assert_eq!(
        (t["has_boundary"].as_bool(), t["ancestors"].as_array().map(Vec::len)),
        (Some(false), Some(4)),
        "{t}"
    );

    // Plans: the county drafts (example targets), the city reviews; approval sets the targets.
    let plan = json!({ "kind": "special", "name": "应急避难场所专项规划（测试示例）", "period_start": 2021,
                       "period_end": 2035, "targets": [{ "indicator": "shelter_area_per_capita", "year": 2035, "value": 2.0 }] });
    let (st, e) = s.send(
        "POST",
        "/api/units/410102/plans",
        Some(&zy_editor),
        &json!({ "kind": "special", "name": "x",
        "period_start": 2035, "period_end": 2021 }),
    );
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("period_end")),
        "{e}"
    );
    let (st, e) = s.send(
        "POST",
        "/api/units/410102/plans",
        Some(&zy_editor),
        &json!({ "kind": "zoning", "name": "x",
        "period_start": 2021, "period_end": 2035 }),
    );
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("kind")),
        "{e}"
    );
    let (st, p) = s.send("POST", "/api/units/410102/plans", Some(&zy_editor), &plan);
    assert_eq!(
        (st, p["status"].as_str(), p["version"].as_i64()),
        (StatusCode::OK, Some("draft"), Some(1)),
        "{p}"
    );
    let id = p["id"].as_i64().unwrap();
    assert_eq!(
        s.get("/api/units/410102/plans", None).1["plans"],
        json!([]),
        "a draft is not public"
    );
    assert_eq!(s.get(&format!("/api/plans/{id}"), None).0, StatusCode::NOT_FOUND);
    assert_eq!(s.get("/api/plans/abc", None).1["field"], "id");
    let (st, p) = s.send("POST", &format!("/api/plans/{id}/submit"), Some(&zy_editor), &json!({}));
    assert_eq!((st, p["status"].as_str()), (StatusCode::OK, Some("submitted")), "{p}");
    let (st, _) = s.send("PUT", &format!("/api/plans/{id}"), Some(&zy_editor), &plan);
    assert_eq!(st, StatusCode::CONFLICT);
    let approve_plan = json!({ "decision": "approve" });
    let (st, _) = s.send(
        "POST",
        &format!("/api/plans/{id}/review"),
        Some(&zy_editor),
        &approve_plan,
    );
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, p) = s.send(
        "POST",
        &format!("/api/plans/{id}/review"),
        Some(&zz_reviewer),
        &approve_plan,
    );
    assert_eq!((st, p["status"].as_str()), (StatusCode::OK, Some("approved")), "{p}");
    let (_, listed) = s.get("/api/units/410102/plans", None);
    assert_eq!(listed["plans"][0]["id"].as_i64(), Some(id), "{listed}");
    let (_, series) = s.get("/api/units/410102/series?indicator=shelter_area_per_capita", None);
    let t2035 = series["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["year"] == 2035)
        .cloned();
    assert_eq!(t2035.map(|t| t["value"].clone()), Some(json!(2.0)), "{series}");

    // 50 concurrent submitters (the city's editor, one county year each) lose no write.
    let counties: Vec<String> = zz["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_string())
        .collect();
    let jobs: Vec<(String, i32)> = (0..50)
        .map(|k| (counties[k % counties.len()].clone(), 2000 + (k / counties.len()) as i32))
        .collect();
    std::thread::scope(|sc| {
        for (k, (c, y)) in jobs.iter().enumerate() {
            let (s, t) = (&s, &zz_editor);
            sc.spawn(move || {
                let (st, r) = s.send(
                    "PUT",
                    &format!("/api/units/{c}/observations"),
                    Some(t),
                    &obs("fire_coverage_5min", *y, 50.0 + k as f64),
                );
                assert_eq!(st, StatusCode::OK, "{r}");
            });
        }
    });
    for (k, (c, y)) in jobs.iter().enumerate() {
        let (_, rows) = s.get(&format!("/api/units/{c}/indicators?year={y}"), Some(&zz_editor));
        assert_eq!(value_of(&rows, "fire_coverage_5min"), Some(50.0 + k as f64), "{c} {y}");
    }

    // Audit: every change over HTTP is in the chain (logins too).
    let (_, v) = s.get("/api/audit/verify", None);
    assert_eq!(v["ok"], true, "{v}");
    // import (csv.0) + approve 5 + target 1 + two county values + approve 1 + xlsx 2 + login 1
    // + users (add, login, password, login, remove) + plan (create, submit, approve, its target)
    // + 50 concurrent.
    let expected = audit_before + csv.0 + 5 + 1 + 2 + 1 + 2 + 5 + 1 + 4 + 50;
    assert_eq!(v["records"].as_u64(), Some(expected as u64), "{v}");

    // Tampering with a row in the database is found.
    tamper(url, (audit_before + 7) as i64);
    let (_, v) = s.get("/api/audit/verify", None);
    assert_eq!(
        (v["ok"].as_bool(), v["broken_at"].as_u64()),
        (Some(false), Some((audit_before + 7) as u64))
    );

    // The OpenAPI document lists the routes.
    let (_, doc) = s.get("/api/openapi.json", None);
    for p in [
        "/api/units/{code}",
        "/api/units/{code}/indicators",
        "/api/units/{code}/observations",
        "/api/units/{code}/rollup",
        "/api/warnings",
        "/api/audit/verify",
        "/api/import",
        "/api/units/{code}/export.gpkg",
        "/api/units/{code}/plans",
        "/api/plans/{id}",
        "/api/plans/{id}/submit",
        "/api/plans/{id}/review",
        "/api/units/{code}/users",
        "/api/users/{name}",
        "/api/me/password",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing from openapi.json");
    }
}

/// Edit one audit record directly in the database, as someone with database access would.
fn tamper(url: &str, seq: i64) {
    let sql = "UPDATE audit SET detail = '{\"value\":0}' WHERE seq = ";
    if let Some(path) = url.strip_prefix("sqlite://") {
        let c = rusqlite::Connection::open(path).unwrap();
        assert_eq!(c.execute(&format!("{sql}{seq}"), []).unwrap(), 1);
    } else {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        assert_eq!(c.execute(&format!("{sql}{seq}"), &[]).unwrap(), 1);
    }
}
