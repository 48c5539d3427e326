//! The monitoring network on Henan: 1 province, 18 cities, 157 counties (cnmaps boundaries) and
//! their townships (division codes), the city statistics of 2000–2024 as observations; roles,
//! publication, roll-ups, transmission, warnings and the audit chain: the same suite on the
//! embedded SQLite store and on PostgreSQL/PostGIS (see `renxing_monitor::scratch`). Skips
//! (printing why) without the shared data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use renxing_monitor::access::{Principal, Role};
use renxing_monitor::catalogue::Catalogue;
use renxing_monitor::import::read_city_macro;
use renxing_monitor::plan::{Decision, PlanIn, PlanKind, PlanStatus};
use renxing_monitor::scratch::ScratchDb;
use renxing_monitor::store::{AnyMonitor, Backend, ObservationIn, Value, open_url};
use renxing_monitor::unit::{Level, load_units, units_from_codes};
use renxing_monitor::warning::{Level as Warn, Reason};
use renxing_monitor::{MonitorError, Result};

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

/// The city rows of a province in city_macro.csv, read here with a plain split (independent of
/// the importer): (city code, year) → resident population.
fn population_by_hand(h: &Henan, province: &str) -> BTreeMap<(String, i32), f64> {
    let mut rdr = csv::Reader::from_path(&h.macro_csv).unwrap();
    let mut out = BTreeMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        if &r[3] == province && !r[6].is_empty() {
            out.insert((r[4].to_string(), r[0].parse().unwrap()), r[6].parse().unwrap());
        }
    }
    out
}

fn user(m: &AnyMonitor, name: &str, unit: &str, role: Role) -> Principal {
    let token = m.add_user(None, name, unit, role, None).unwrap();
    assert_eq!(token.len(), 64);
    m.authenticate(&token).unwrap()
}

#[test]
fn henan_network_on_sqlite() -> Result<()> {
    let Some(h) = henan() else { return Ok(()) };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("monitor.sqlite").display());
    henan_network(&h, &open_url(&url, 1)?, &open_url(&url, 1)?)
}

#[test]
fn henan_network_on_postgres() -> Result<()> {
    let Some(h) = henan() else { return Ok(()) };
    let Some(db) = ScratchDb::create("henan_network_on_postgres") else {
        return Ok(());
    };
    henan_network(&h, &open_url(&db.url, 2)?, &open_url(&db.url, 1)?)?;
    // PostGIS holds the boundaries as geometry: the units containing a point in central
    // Zhengzhou (二七广场) are the province, the city and one of its districts.
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let rows = c
        .query(
            "SELECT code FROM units WHERE ST_Contains(geom, ST_SetSRID(ST_Point(113.6654, 34.7533), 4326)) ORDER BY level",
            &[],
        )
        .unwrap();
    let codes: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert_eq!(&codes[..2], ["410000", "410100"]);
    assert!(codes[2].starts_with("4101"), "{codes:?}");
    Ok(())
}

/// `m` and `other` are two handles on one database (two server processes, say).
fn henan_network(h: &Henan, m: &AnyMonitor, other: &AnyMonitor) -> Result<()> {
    let units = load_units(&h.geojson, Some(&h.streets))?;
    let count = |l: Level| units.iter().filter(|u| u.level == l).count();
    // The file's 157 counties include 济源市, which it also lists as one of the 18 cities: one
    // unit (a city).
    assert_eq!(
        (
            count(Level::Nation),
            count(Level::Province),
            count(Level::City),
            count(Level::County)
        ),
        (1, 1, 18, 156)
    );
    // Townships: the rows of streets.csv under a loaded county, counted here independently.
    let counties: BTreeSet<String> = units
        .iter()
        .filter(|u| matches!(u.level, Level::County | Level::City))
        .map(|u| u.code.clone())
        .collect();
    let mut rdr = csv::Reader::from_path(&h.streets).unwrap();
    let expected_towns = rdr
        .records()
        .filter(|r| counties.contains(&r.as_ref().unwrap()[2]))
        .count();
    assert_eq!(count(Level::Township), expected_towns);
    // 2,586 Henan rows, less 92 under the 24 development zones (codes xx71–xx73, no boundary).
    assert!(expected_towns > 2_400, "{expected_towns}");
    let zhongyuan = units.iter().find(|u| u.code == "410102").unwrap();
    assert_eq!(
        (zhongyuan.name.as_str(), zhongyuan.path.as_str()),
        ("中原区", "100000/410000/410100/410102")
    );
    let jiyuan = units.iter().find(|u| u.code == "419001").unwrap();
    assert_eq!(jiyuan.parent.as_deref(), Some("410000"));

    let report = m.init(&units, &Catalogue::builtin_cn(), "test")?;
    assert_eq!(report.units, units.len());
    let zz = m.unit("410100")?;
    assert!(zz.geometry.as_deref().is_some_and(|g| g.contains("MultiPolygon")));
    let kids = m.children("410100")?;
    assert_eq!(
        kids.len(),
        12,
        "Zhengzhou's districts and counties: {:?}",
        kids.iter().map(|k| &k.name).collect::<Vec<_>>()
    );

    // The province's statistics office submits the city statistics; the nation's reviewer
    // publishes them.
    let stats = user(m, "henan-stats", "410000", Role::Editor);
    let batch = read_city_macro(&h.macro_csv, "410000")?;
    let by_hand = population_by_hand(h, "410000");
    assert_eq!(
        batch.iter().filter(|b| b.1.indicator == "resident_population").count(),
        by_hand.len()
    );
    m.submit_batch(&stats, &batch, "城市统计年鉴 (cn/stats/city_macro.csv)", None)?;
    let public = Principal::Public;
    let r = m.rollup(&public, "410000", "resident_population", 2020)?;
    assert_eq!(r.value, None, "nothing published yet");
    let nation = user(m, "mnr-reviewer", "100000", Role::Reviewer);
    let mut published = 0;
    for code in by_hand.keys().map(|k| k.0.clone()).collect::<BTreeSet<_>>() {
        for y in 2000..=2024 {
            published += m.approve(&nation, &code, y, None)?;
        }
    }
    assert_eq!(published, batch.len());
    // Province roll-up of 2020: the 17 cities in the table, 济源 (419001) missing from it.
    let r = m.rollup(&public, "410000", "resident_population", 2020)?;
    let sum: f64 = by_hand.iter().filter(|(k, _)| k.1 == 2020).map(|(_, v)| v).sum();
    assert!((r.value.unwrap() - sum).abs() <= 1e-9 * sum, "{:?} vs {sum}", r.value);
    assert!(!r.complete);
    assert_eq!(r.missing, vec!["419001".to_string()]);
    // Zhengzhou 2000 as in the yearbook row.
    let rows = m.indicators(&public, "410100", 2000, (2026, 11, 22))?;
    let pop = rows.iter().find(|r| r.indicator.code == "resident_population").unwrap();
    assert_eq!(
        (pop.value, pop.status.as_deref()),
        (Some(by_hand[&("410100".into(), 2000)]), Some("published"))
    );

    // Roles: a county editor writes its own county only; unpublished values stay private.
    let zy_editor = user(m, "zhongyuan-editor", "410102", Role::Editor);
    let obs = |ind: &str, year: i32, value: f64| ObservationIn {
        indicator: ind.into(),
        year,
        value,
    };
    m.submit(
        &zy_editor,
        "410102",
        &[obs("shelter_area_per_capita", 2024, 1.2)],
        "exam",
        Some("run-1"),
    )?;
    let e = m.submit(
        &zy_editor,
        "410103",
        &[obs("shelter_area_per_capita", 2024, 3.0)],
        "exam",
        None,
    );
    assert!(matches!(e, Err(MonitorError::Forbidden(_))), "{e:?}");
    let e = m.submit(
        &zy_editor,
        "410102",
        &[obs("no_such_indicator", 2024, 1.0)],
        "exam",
        None,
    );
    assert!(
        matches!(&e, Err(MonitorError::Invalid { field, .. }) if field == "observations[0].indicator"),
        "{e:?}"
    );
    let erqi_editor = user(m, "erqi-editor", "410103", Role::Editor);
    let seen = |p: &Principal| -> Result<Option<f64>> {
        Ok(m.indicators(p, "410102", 2024, (2026, 11, 22))?
            .into_iter()
            .find(|r| r.indicator.code == "shelter_area_per_capita")
            .and_then(|r| r.value))
    };
    assert_eq!(seen(&zy_editor)?, Some(1.2));
    assert_eq!(
        seen(&erqi_editor)?,
        None,
        "another county cannot read unpublished values"
    );
    assert_eq!(seen(&public)?, None);
    // The county's own reviewer cannot approve it; the city's reviewer can.
    let zy_reviewer = user(m, "zhongyuan-reviewer", "410102", Role::Reviewer);
    assert!(matches!(
        m.approve(&zy_reviewer, "410102", 2024, None),
        Err(MonitorError::Forbidden(_))
    ));
    let zz_reviewer = user(m, "zhengzhou-reviewer", "410100", Role::Reviewer);
    assert_eq!(m.approve(&zz_reviewer, "410102", 2024, None)?, 1);
    assert_eq!(seen(&public)?, Some(1.2));

    // Targets from the level above; a binding indicator below its target is red.
    let zz_editor = user(m, "zhengzhou-editor", "410100", Role::Editor);
    m.set_targets(
        &zz_editor,
        "410102",
        &[obs("shelter_area_per_capita", 2025, 1.5)],
        "example",
    )?;
    // As of 2024 the 2025 value is not due; as of 2025 (on 2026-11-22) it is overdue.
    let w24 = m.warnings(&public, "410100", 2024, (2026, 11, 22))?;
    assert!(
        !w24.iter()
            .any(|w| w.warning.reason == Reason::Missing && w.warning.year > 2024)
    );
    let w = m.warnings(&public, "410100", 2025, (2026, 11, 22))?;
    let red: Vec<_> = w.iter().filter(|w| w.warning.level == Warn::Red).collect();
    assert_eq!(red.len(), 1, "{w:#?}");
    assert_eq!(
        (red[0].unit.as_str(), red[0].warning.reason),
        ("410102", Reason::BeyondTarget)
    );
    // Missing submissions: the 2025 value is due by 2026-03-31 (target year 2025 obliges it).
    assert!(
        w.iter()
            .any(|w| w.unit == "410102" && w.warning.reason == Reason::Missing && w.warning.year == 2025)
    );

    // Transmission: the city's example cultivated-land target allocated to 11 of its 12 units.
    let admin = user(m, "henan-admin", "410000", Role::Admin);
    m.set_targets(&admin, "410100", &[obs("cultivated_land", 2035, 120.0)], "example")?;
    for k in kids.iter().skip(1) {
        m.set_targets(&zz_editor, &k.code, &[obs("cultivated_land", 2035, 10.0)], "example")?;
    }
    let t = m.transmission("410100", "cultivated_land", 2035)?;
    assert_eq!((t.allocated, t.children, t.ok), (110.0, 12, false));
    assert_eq!(t.unallocated, vec![kids[0].code.clone()]);
    m.set_targets(
        &zz_editor,
        &kids[0].code,
        &[obs("cultivated_land", 2035, 10.0)],
        "example",
    )?;
    assert!(m.transmission("410100", "cultivated_land", 2035)?.ok);

    // Plans: the county drafts a special plan (example targets, not a published plan's), the
    // city reviews it; approval makes its targets the county's; a revision supersedes it.
    let plan_in = |value: f64| PlanIn {
        kind: PlanKind::Special,
        name: "应急避难场所专项规划（测试示例）".into(),
        period_start: 2021,
        period_end: 2035,
        targets: vec![
            obs("shelter_area_per_capita", 2030, value),
            obs("shelter_area_per_capita", 2035, value + 0.5),
        ],
    };
    let draft = m.create_plan(&zy_editor, "410102", &plan_in(1.8))?;
    assert_eq!((draft.version, draft.status), (1, PlanStatus::Draft));
    assert!(m.plans(&public, "410102")?.is_empty(), "drafts are not public");
    assert!(matches!(m.plan(&erqi_editor, draft.id), Err(MonitorError::NotFound(_))));
    // Nor do its other calls tell another county's editor that the draft exists.
    assert!(matches!(
        m.submit_plan(&erqi_editor, draft.id),
        Err(MonitorError::NotFound(_))
    ));
    assert!(matches!(
        m.create_plan(&erqi_editor, "410102", &plan_in(1.8)),
        Err(MonitorError::Forbidden(_))
    ));
    let mut out_of_period = plan_in(1.8);
    out_of_period.targets[0].year = 2040;
    let e = m.create_plan(&zy_editor, "410102", &out_of_period);
    assert!(
        matches!(&e, Err(MonitorError::Invalid { field, .. }) if field == "targets[0].year"),
        "{e:?}"
    );
    assert!(
        matches!(
            m.create_plan(&zy_editor, "410102", &plan_in(1.9)),
            Err(MonitorError::Conflict(_))
        ),
        "one open version per plan"
    );
    let edited = m.update_plan(&zy_editor, draft.id, &plan_in(2.0))?;
    assert_eq!(edited.targets[0].value, 2.0);
    m.submit_plan(&zy_editor, draft.id)?;
    assert!(matches!(
        m.update_plan(&zy_editor, draft.id, &plan_in(2.1)),
        Err(MonitorError::Conflict(_))
    ));
    assert!(matches!(
        m.review_plan(&zy_reviewer, draft.id, Decision::Approve, None),
        Err(MonitorError::Forbidden(_))
    ));
    assert!(matches!(
        m.review_plan(&zz_reviewer, draft.id, Decision::Reject, None),
        Err(MonitorError::Invalid { .. })
    ));
    let back = m.review_plan(&zz_reviewer, draft.id, Decision::Reject, Some("缺少2035年目标"))?;
    assert_eq!(
        (back.status, back.comment.as_deref()),
        (PlanStatus::Draft, Some("缺少2035年目标"))
    );
    m.submit_plan(&zy_editor, draft.id)?;
    let v1 = m.review_plan(&zz_reviewer, draft.id, Decision::Approve, None)?;
    assert_eq!(v1.status, PlanStatus::Approved);
    let target_at = |mon: &AnyMonitor, year: i32| -> Result<Option<(f64, String)>> {
        Ok(mon
            .series(&public, "410102", "shelter_area_per_capita")?
            .targets
            .into_iter()
            .find(|t| t.year == year)
            .map(|t| (t.value, t.basis)))
    };
    assert_eq!(target_at(m, 2030)?, Some((2.0, v1.basis())));
    assert_eq!(target_at(m, 2035)?, Some((2.5, v1.basis())));
    // Version 2 keeps the 2030 target only: v1's 2035 target goes with v1.
    let mut revised = plan_in(2.2);
    revised.targets.truncate(1);
    let v2 = m.create_plan(&zy_editor, "410102", &revised)?;
    assert_eq!((v2.version, v2.status), (2, PlanStatus::Draft));
    m.submit_plan(&zy_editor, v2.id)?;
    m.review_plan(&zz_reviewer, v2.id, Decision::Approve, Some("同意"))?;
    let public_plans: Vec<_> = m
        .plans(&public, "410102")?
        .into_iter()
        .map(|p| (p.version, p.status))
        .collect();
    assert_eq!(
        public_plans,
        vec![(1, PlanStatus::Superseded), (2, PlanStatus::Approved)]
    );
    assert_eq!(target_at(other, 2030)?.map(|t| t.0), Some(2.2));
    assert_eq!(target_at(other, 2035)?, None);
    // A draft renamed into an existing plan is refused; a draft can be withdrawn.
    let mut other_plan = plan_in(1.0);
    other_plan.name = "综合防灾减灾专项规划（测试示例）".into();
    let b = m.create_plan(&zy_editor, "410102", &other_plan)?;
    let e = m.update_plan(&zy_editor, b.id, &plan_in(1.0));
    assert!(
        matches!(&e, Err(MonitorError::Invalid { field, .. }) if field == "name"),
        "{e:?}"
    );
    m.withdraw_plan(&zy_editor, b.id)?;
    assert!(matches!(m.plan(&zy_editor, b.id), Err(MonitorError::NotFound(_))));
    // An admin above may draft and submit a county's plan, but not approve its own.
    let c = m.create_plan(&admin, "410102", &other_plan)?;
    m.submit_plan(&admin, c.id)?;
    assert!(matches!(
        m.review_plan(&admin, c.id, Decision::Approve, None),
        Err(MonitorError::Forbidden(_))
    ));
    m.review_plan(&zz_reviewer, c.id, Decision::Reject, Some("重复"))?;
    assert!(matches!(
        m.withdraw_plan(&zy_editor, v2.id),
        Err(MonitorError::Conflict(_))
    ));
    m.withdraw_plan(&zy_editor, c.id)?;
    // v1: create, edit, submit, reject, submit, approve + 2 targets; v2: create, submit,
    // approve + 1 target; b: create, withdraw; c: create, submit, reject, withdraw.
    let plan_changes = 8 + 4 + 2 + 4;

    // Users: an admin lists and removes the users of its subtree; a user sets its own password.
    let under: Vec<String> = m.users_under(&admin, "410100")?.into_iter().map(|u| u.name).collect();
    assert_eq!(
        under,
        [
            "zhengzhou-editor",
            "zhengzhou-reviewer",
            "zhongyuan-editor",
            "zhongyuan-reviewer",
            "erqi-editor"
        ]
    );
    assert!(matches!(
        m.users_under(&zz_editor, "410100"),
        Err(MonitorError::Forbidden(_))
    ));
    assert_eq!(m.change_password(&erqi_editor, None, "erqi-password-1")?, 0);
    assert!(matches!(
        m.change_password(&erqi_editor, Some("wrong-password"), "erqi-password-2"),
        Err(MonitorError::Forbidden(_))
    ));
    assert_eq!(
        m.check_password("erqi-editor", "erqi-password-1")?.name(),
        "erqi-editor"
    );
    assert!(matches!(
        m.remove_user(&admin, "henan-admin"),
        Err(MonitorError::Invalid { .. })
    ));
    assert!(matches!(
        m.remove_user(&zz_editor, "erqi-editor"),
        Err(MonitorError::Forbidden(_))
    ));
    m.remove_user(&admin, "erqi-editor")?;
    assert!(matches!(
        m.check_password("erqi-editor", "erqi-password-1"),
        Err(MonitorError::Forbidden(_))
    ));
    let user_changes = 2;

    // Audit: every change is there and chains; an edited row is found.
    let v = m.audit_verify()?;
    assert!(v.ok, "{v:?}");
    // init (units, catalogue), 8 users, the batch, its approvals, the county's value and its
    // approval, the shelter target, the city's target, 11 + 1 allocations, the plans.
    let n_changes = 2 + 8 + batch.len() + published + 2 + 1 + 1 + 11 + 1 + plan_changes + user_changes;
    assert_eq!(v.records, n_changes);
    let seq = 3 + batch.len() as i64 / 2;
    m.backend().raw(
        "UPDATE audit SET detail = $1 WHERE seq = $2",
        &[Value::Text("{\"value\":1.0}".into()), Value::Int(seq)],
    )?;
    let v = m.audit_verify()?;
    assert_eq!((v.ok, v.broken_at), (false, Some(seq)));

    // A catalogue changed through one handle is what the other handle reads next, though it
    // had parsed and kept the old one.
    let name_of = |mon: &AnyMonitor| -> Result<String> {
        Ok(mon.indicators(&public, "410102", 2024, (2026, 11, 22))?[0]
            .indicator
            .name_zh
            .clone())
    };
    let before = name_of(other)?;
    let mut renamed = Catalogue::builtin_cn();
    renamed.indicators[0].name_zh = format!("{before}（修订）");
    m.init(&units, &renamed, "test")?;
    assert_eq!(name_of(other)?, format!("{before}（修订）"));
    assert_eq!(other.catalogue()?.indicators[0].name_zh, format!("{before}（修订）"));
    Ok(())
}

#[test]
fn bad_unit_files_name_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("u.geojson");
    std::fs::write(
        &p,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":"4101","level":"city","city":"x"},"geometry":null}]}"#,
    )
    .unwrap();
    let e = load_units(&p, None).unwrap_err().to_string();
    assert!(
        e.contains("u.geojson") && e.contains("feature 0") && e.contains("6-digit"),
        "{e}"
    );
    std::fs::write(
        &p,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":"410100","level":"city","city":"x"},"geometry":null}]}"#,
    )
    .unwrap();
    let e = load_units(&p, None).unwrap_err().to_string();
    assert!(e.contains("410100") && e.contains("parent 410000"), "{e}");
    // Division code lists: a bad province code, a province not listed, a malformed county row.
    assert!(
        matches!(units_from_codes(dir.path(), "1"), Err(MonitorError::Invalid { field, .. }) if field == "province")
    );
    std::fs::write(dir.path().join("provinces.csv"), "code,name\n41,河南省\n").unwrap();
    let e = units_from_codes(dir.path(), "11").unwrap_err().to_string();
    assert!(
        e.contains("provinces.csv") && e.contains("no province with code 11"),
        "{e}"
    );
    std::fs::write(
        dir.path().join("cities.csv"),
        "code,name,provinceCode\n4101,郑州市,41\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("areas.csv"),
        "code,name,cityCode,provinceCode\n410102,中原区,4101,41\n41010,x,4101,41\n",
    )
    .unwrap();
    let e = units_from_codes(dir.path(), "410000").unwrap_err().to_string();
    assert!(
        e.contains("areas.csv") && e.contains("line 3") && e.contains("\"41010\""),
        "{e}"
    );
}

/// Guangdong from the division codes: 东莞 and 中山 are cities without counties that the county
/// list repeats under their own code; each is one city unit with its townships below it.
#[test]
fn cities_without_counties_from_the_codes() -> Result<()> {
    let Some(provinces) = renxing_geo::shared_data::file("cn/codes/provinces.csv") else {
        return Ok(());
    };
    let units = units_from_codes(provinces.parent().unwrap(), "44")?;
    for code in ["441900", "442000"] {
        let u = units.iter().find(|u| u.code == code).unwrap();
        assert_eq!((u.level, u.parent.as_deref()), (Level::City, Some("440000")), "{u:?}");
        assert_eq!(u.path, format!("100000/440000/{code}"));
        let towns = units.iter().filter(|t| t.parent.as_deref() == Some(code)).count();
        assert!(towns > 0, "{code} has townships");
        assert!(
            units
                .iter()
                .filter(|t| t.parent.as_deref() == Some(code))
                .all(|t| t.level == Level::Township)
        );
    }
    assert!(units.iter().all(|u| u.parent.as_deref() != Some(u.code.as_str())));
    let codes: BTreeSet<&str> = units.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(codes.len(), units.len(), "one unit per code");
    Ok(())
}
