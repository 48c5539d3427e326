//! Load on loopback: `wrk` reading a county's indicators, and 50 concurrent submitters, against
//! the SQLite store and (with `RENXING_TEST_POSTGRES`) PostgreSQL — the server in this process,
//! `wrk` beside it on the same 2 cores.
//!
//! `cargo bench -p renxing-server --bench load` (needs `wrk`, Debian package `wrk`, and the
//! shared Henan data). Prints requests/s and latency percentiles per store and request, and
//! checks that no write is lost. Set `RENXING_LOAD_SECONDS` (default 10) to change the run length.

use std::process::Command;
use std::time::Instant;

use renxing_monitor::access::{Principal, Role};
use renxing_monitor::catalogue::Catalogue;
use renxing_monitor::scratch::ScratchDb;
use renxing_monitor::store::{open_url, redact};
use renxing_monitor::unit::load_units;
use renxing_server::{AppState, Config};

struct Wrk {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: String,
}

/// wrk's latency figure ("1.23ms", "456.00us", "1.01s") in milliseconds.
fn ms(s: &str) -> f64 {
    let s = s.trim();
    let (num, scale) = if let Some(v) = s.strip_suffix("us") {
        (v, 1e-3)
    } else if let Some(v) = s.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1e3)
    } else {
        (s, f64::NAN)
    };
    num.parse::<f64>().map_or(f64::NAN, |v| v * scale)
}

fn wrk(url: &str, token: Option<&str>, connections: usize, seconds: u64) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd.arg(url).output().expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.trim_start()[prefix.len()..].trim().to_string())
    };
    let pct = |p: &str| {
        line(p)
            .and_then(|v| v.split_whitespace().next().map(ms))
            .unwrap_or(f64::NAN)
    };
    Wrk {
        rps: line("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(f64::NAN),
        p50_ms: pct("50%"),
        p99_ms: pct("99%"),
        errors: [line("Non-2xx or 3xx responses:"), line("Socket errors:")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn run(url: &str, seconds: u64) {
    let (Some(geo), Some(streets), Some(stats)) = (
        renxing_geo::shared_data::file("cn/admin/henan_admin_wgs84.geojson"),
        renxing_geo::shared_data::file("cn/codes/streets.csv"),
        renxing_geo::shared_data::file("cn/stats/city_macro.csv"),
    ) else {
        return;
    };
    let pool = std::env::var("RENXING_LOAD_POOL")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let m = open_url(url, pool).unwrap();
    m.init(
        &load_units(&geo, Some(&streets)).unwrap(),
        &Catalogue::builtin_cn(),
        "bench",
    )
    .unwrap();
    let admin_token = m.add_user(None, "admin", "410000", Role::Admin, None).unwrap();
    let admin = m.authenticate(&admin_token).unwrap();
    let batch = renxing_monitor::import::read_city_macro(&stats, "410000").unwrap();
    m.submit_batch(&admin, &batch, "city_macro.csv", None).unwrap();
    // A county's own series: the city's yearbook values scaled, one per year, published.
    let county = "410102";
    let editor = m.add_user(None, "zy", county, Role::Editor, None).unwrap();
    let zy = m.authenticate(&editor).unwrap();
    let obs: Vec<_> = batch
        .iter()
        .filter(|(u, _)| u == "410100")
        .map(|(_, o)| {
            let mut o = o.clone();
            o.value /= 12.0;
            o
        })
        .collect();
    m.submit(&zy, county, &obs, "bench", None).unwrap();
    for y in 2000..=2024 {
        m.approve(&admin, county, y, None).unwrap();
    }
    let addr = renxing_server::spawn(AppState::new(m, Config::default()), "127.0.0.1:0".parse().unwrap()).unwrap();
    let base = format!("http://{addr}");
    let store = redact(url);
    let store = store.split('@').next_back().unwrap_or(&store).to_string();
    let indicators = format!("{base}/api/units/{county}/indicators?year=2020");
    for (what, target, token) in [
        ("county indicators, public", indicators.as_str(), None),
        (
            "county indicators, editor token",
            indicators.as_str(),
            Some(editor.as_str()),
        ),
        ("unit with children", &*format!("{base}/api/units/410100"), None),
    ] {
        let r = wrk(target, token, 50, seconds);
        println!(
            "load {store:<40} {what:<32} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms{}",
            r.rps,
            r.p50_ms,
            r.p99_ms,
            if r.errors.is_empty() {
                String::new()
            } else {
                format!("  ERRORS {}", r.errors)
            }
        );
        assert!(r.errors.is_empty(), "{what}: {}", r.errors);
    }

    // 50 concurrent submitters, 40 writes each (distinct keys); then every one is read back.
    let http = reqwest::blocking::Client::new();
    let counties: Vec<String> = {
        let v: serde_json::Value = http
            .get(format!("{base}/api/units/410100"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect()
    };
    let city_editor = {
        let m = open_url(url, 1).unwrap();
        m.add_user(None, "zz-writer", "410100", Role::Editor, None).unwrap()
    };
    let t0 = Instant::now();
    let per = 40;
    std::thread::scope(|s| {
        for w in 0..50 {
            let (http, base, counties, token) = (&http, &base, &counties, &city_editor);
            s.spawn(move || {
                for k in 0..per {
                    // Write i (distinct for every writer and k): unit i mod 12, year and
                    // indicator from the rest.
                    let i = w * per + k;
                    let unit = &counties[i % counties.len()];
                    let slot = i / counties.len();
                    let indicator = ["shelter_coverage_500m", "clinic_coverage_15min"][slot / 150];
                    let body = serde_json::json!({ "observations": [{
                        "indicator": indicator, "year": 1950 + (slot % 150) as i32, "value": i as f64 }] });
                    let r = http
                        .put(format!("{base}/api/units/{unit}/observations"))
                        .bearer_auth(token)
                        .json(&body)
                        .send()
                        .unwrap();
                    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
                }
            });
        }
    });
    let dt = t0.elapsed().as_secs_f64();
    let m = open_url(url, 1).unwrap();
    let reviewer = m.add_user(None, "checker", "410100", Role::Reviewer, None).unwrap();
    let who: Principal = m.authenticate(&reviewer).unwrap();
    let stored = m
        .observations_under(&who, "410100", None)
        .unwrap()
        .iter()
        .filter(|o| o.indicator == "shelter_coverage_500m" || o.indicator == "clinic_coverage_15min")
        .count();
    println!(
        "load {store:<40} {:<32} {:>9.0} writes/s  {} of {} writes stored",
        "50 concurrent submitters",
        (50 * per) as f64 / dt,
        stored,
        50 * per
    );
    assert_eq!(stored, 50 * per, "lost writes");
    assert!(m.audit_verify().unwrap().ok);
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("load: skipped: wrk is not installed (Debian package wrk)");
        return;
    }
    // `cargo test --benches` runs this with --bench absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("load: run with cargo bench");
        return;
    }
    let seconds: u64 = std::env::var("RENXING_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    if std::env::var("RENXING_LOAD_ONLY").as_deref() != Ok("postgres") {
        run(
            &format!("sqlite://{}", dir.path().join("load.sqlite").display()),
            seconds,
        );
    }
    if let Some(db) = ScratchDb::create("load bench") {
        run(&db.url, seconds);
    }
}
