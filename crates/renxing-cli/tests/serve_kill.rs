//! `renxing serve` is killed with SIGKILL while four clients write to it: every write it
//! acknowledged (HTTP 200) is in the database afterwards, and the audit chain still verifies.
//! On the embedded SQLite store and on PostgreSQL (see `renxing_monitor::scratch`). Uses the
//! Henan boundaries (shared data; skips without them).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use std::collections::HashMap;

use renxing_monitor::access::Role;
use renxing_monitor::scratch::ScratchDb;
use renxing_monitor::store::open_url;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_renxing")
}

/// `renxing serve` on a free port; returns the child and its base URL (read from its banner).
fn serve(db: &str) -> (Child, String) {
    let mut child = Command::new(bin())
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    let base = banner
        .split(" on ")
        .nth(1)
        .and_then(|r| r.split('/').nth(2))
        .map(|h| format!("http://{h}"))
        .unwrap_or_else(|| panic!("unexpected banner {banner:?}"));
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

fn kill_during_writes(db: &str) {
    let Some(units) = renxing_geo::shared_data::file("cn/admin/henan_admin_wgs84.geojson") else {
        return;
    };
    let out = Command::new(bin())
        .args(["monitor", "init", "--db", db, "--units"])
        .arg(&units)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(bin())
        .args([
            "monitor", "user", "add", "--db", db, "--unit", "410000", "--role", "editor", "--name", "writer",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();

    let (mut child, base) = serve(db);
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    // Counties of Henan with boundaries: the writers cycle through them.
    let zz: serde_json::Value = http
        .get(format!("{base}/api/units/410100"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let counties: Vec<String> = zz["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_string())
        .collect();
    let acked: Mutex<Vec<(String, i32, f64)>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for w in 0..4 {
            let (http, base, token, counties, acked, stop) = (&http, &base, &token, &counties, &acked, &stop);
            s.spawn(move || {
                let mut k = 0usize;
                // Each write its own key: writer w takes the years 1950 + 35w onwards.
                while !stop.load(Ordering::Relaxed) && k / counties.len() < 35 {
                    let unit = &counties[k % counties.len()];
                    let year = 1950 + 35 * w as i32 + (k / counties.len()) as i32;
                    let value = (w * 100_000 + k) as f64;
                    let body =
                        serde_json::json!({ "observations": [{ "indicator": "gdp", "year": year, "value": value }] });
                    match http
                        .put(format!("{base}/api/units/{unit}/observations"))
                        .bearer_auth(token)
                        .json(&body)
                        .send()
                    {
                        Ok(r) if r.status() == 200 => acked.lock().unwrap().push((unit.clone(), year, value)),
                        Ok(r) => panic!("write refused: {} {}", r.status(), r.text().unwrap_or_default()),
                        Err(_) => break, // the server is gone
                    }
                    k += 1;
                }
            });
        }
        // Let the writers run, then kill the server without warning while they are writing.
        let t0 = Instant::now();
        while acked.lock().unwrap().len() < 200 && t0.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
    });
    let acked = acked.into_inner().unwrap();
    assert!(acked.len() >= 200, "only {} writes acknowledged", acked.len());

    // Every acknowledged write is there (writes in flight at the kill may or may not be).
    let m = open_url(db, 1).unwrap();
    let auditor = m.add_user(None, "auditor", "100000", Role::Reviewer, None).unwrap();
    let who = m.authenticate(&auditor).unwrap();
    let stored: HashMap<(String, i32), f64> = m
        .observations_under(&who, "410100", None)
        .unwrap()
        .into_iter()
        .filter(|o| o.indicator == "gdp")
        .map(|o| ((o.unit, o.year), o.value))
        .collect();
    for (u, y, v) in &acked {
        assert_eq!(stored.get(&(u.clone(), *y)), Some(v), "acknowledged {u}/{y} = {v} lost");
    }
    assert!(stored.len() >= acked.len());
    let v = m.audit_verify().unwrap();
    assert!(v.ok, "{v:?}");
    eprintln!(
        "{}: {} writes acknowledged before SIGKILL, all stored; audit chain of {} records intact",
        renxing_monitor::store::redact(db),
        acked.len(),
        v.records
    );
}

#[test]
fn acknowledged_writes_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_during_writes(&format!("sqlite://{}", dir.path().join("m.sqlite").display()));
}

#[test]
fn acknowledged_writes_survive_kill_9_on_postgres() {
    let Some(db) = ScratchDb::create("acknowledged_writes_survive_kill_9_on_postgres") else {
        return;
    };
    kill_during_writes(&db.url);
}
