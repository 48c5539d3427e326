//! The public OpenQuake QA cases in `../shared/data/validation/openquake/` (copied from the
//! openquake-engine 3.26.2 package): every number of their `expected/` files is reproduced.
//!
//! Tolerance: 1e-6 relative; where an expected file prints fewer digits than that (OpenQuake
//! exports `%.5E`, i.e. 6 significant digits, and its tests dump rounded pandas tables), a
//! difference of at most one unit of the last printed digit is accepted — the printing itself
//! moves a value by up to half a unit, and OpenQuake accumulates in 32-bit floats.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use renxing_geo::shared_data;
use renxing_risk::oq::OqJob;
use renxing_risk::oq::export::Table;

fn case_dir(rel: &str) -> Option<PathBuf> {
    let d = shared_data::dir()?.join("validation/openquake").join(rel);
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipping: {} is missing", d.display());
        None
    }
}

fn run(job: &Path) -> HashMap<String, Table> {
    let j = OqJob::read(job).unwrap_or_else(|e| panic!("{e}"));
    let r = j.run(&|_| {}, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    r.tables.into_iter().map(|t| (t.stem.clone(), t)).collect()
}

/// Parses a CSV export (comment lines skipped) into header + rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let split = |l: &str| {
        l.trim_end_matches('\r')
            .split(',')
            .map(|s| s.trim().to_string())
            .collect::<Vec<_>>()
    };
    let header = split(lines.next().unwrap());
    (header, lines.map(split).collect())
}

/// Unit of the last printed digit of a number as written (`2.35340E+02` → 1e-3; `63.0` → 0.1).
fn last_digit_unit(s: &str) -> f64 {
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let decimals = mant.find('.').map(|i| mant.len() - i - 1).unwrap_or(0) as i32;
    10f64.powi(exp - decimals)
}

fn close(ours: f64, expected_text: &str, extra_abs: f64) -> bool {
    let e: f64 = expected_text.parse().unwrap();
    let diff = (ours - e).abs();
    diff <= 1e-6 * e.abs().max(1e-12) || diff <= last_digit_unit(expected_text) * 1.000_001 || diff <= extra_abs
}

/// Compares an expected CSV with one of our tables, matching rows by the columns in `keys`.
fn compare_table(expected: &Path, ours: &Table, keys: &[&str], rename: &[(&str, &str)]) -> usize {
    let (eh, erows) = read_csv(expected);
    let col_of = |name: &str| -> Option<usize> {
        let n = rename.iter().find(|(a, _)| *a == name).map(|(_, b)| *b).unwrap_or(name);
        ours.columns.iter().position(|c| c == n)
    };
    let key_idx_e: Vec<usize> = keys.iter().map(|k| eh.iter().position(|h| h == k).unwrap()).collect();
    let key_idx_o: Vec<usize> = keys.iter().map(|k| col_of(k).unwrap()).collect();
    let mut ours_by_key: HashMap<Vec<String>, &Vec<String>> = HashMap::new();
    for r in &ours.rows {
        ours_by_key.insert(key_idx_o.iter().map(|&i| r[i].clone()).collect(), r);
    }
    let mut checked = 0;
    for er in &erows {
        let key: Vec<String> = key_idx_e.iter().map(|&i| er[i].clone()).collect();
        let or = ours_by_key
            .get(&key)
            .unwrap_or_else(|| panic!("{}: row {key:?} missing from our {}", expected.display(), ours.stem));
        for (i, h) in eh.iter().enumerate() {
            if key_idx_e.contains(&i) {
                continue;
            }
            let oi = col_of(h)
                .unwrap_or_else(|| panic!("{}: column {h} missing from our {}", expected.display(), ours.stem));
            match er[i].parse::<f64>() {
                Ok(_) => {
                    let ov: f64 = or[oi].parse().unwrap();
                    assert!(
                        close(ov, &er[i], 0.0),
                        "{}: {key:?} {h}: ours {} vs expected {}",
                        expected.display(),
                        or[oi],
                        er[i]
                    );
                    checked += 1;
                }
                Err(_) => assert_eq!(or[oi], er[i], "{}: {key:?} {h}", expected.display()),
            }
        }
    }
    assert_eq!(
        erows.len(),
        ours.rows.len(),
        "{}: row count vs our {}",
        expected.display(),
        ours.stem
    );
    checked
}

#[test]
fn scenario_damage_case_17_consequences_by_time_of_day() {
    let Some(dir) = case_dir("scenario_damage/case_17") else {
        return;
    };
    for (job, suffix) in [
        ("job_no_time_event.ini", "_no_time_event"),
        ("job_time_event_day.ini", "_time_event_day"),
    ] {
        let t = run(&dir.join(job));
        let n = compare_table(
            &dir.join(format!("expected/aggrisk-{suffix}.csv")),
            &t["aggrisk-"],
            &["loss_type"],
            &[],
        );
        assert_eq!(n, 7);
        let n = compare_table(
            &dir.join(format!("expected/avg_damages-rlz-000{suffix}.csv")),
            &t["avg_damages-rlz-000"],
            &["asset_id"],
            &[],
        );
        assert_eq!(n, 3 * 7);
    }
    // Fatalities: mean of day/night/transit occupants (90, 60, 20) without time_event, day with it.
    let t = run(&dir.join("job_no_time_event.ini"));
    let row = &t["avg_damages-rlz-000"].rows[2];
    assert_eq!(row[0], "COLLAPSED");
    assert_eq!(row[8], "5.666667E+01");
}

#[test]
fn scenario_risk_case_1_minimum_loss_and_region() {
    let Some(dir) = case_dir("scenario_risk/case_1") else {
        return;
    };
    let t = run(&dir.join("job_risk.ini"));
    // a1 and a3 lie on the region's western edge (lon 15.48): OpenQuake drops them.
    assert_eq!(t["avg_losses-rlz-000"].rows.len(), 1);
    assert_eq!(
        compare_table(&dir.join("expected/agg.csv"), &t["aggrisk-"], &["loss_type"], &[]),
        2
    );
    let n = compare_table(
        &dir.join("expected/risk_by_event.csv"),
        &t["risk_by_event"],
        &["event_id", "loss_type"],
        &[],
    );
    assert_eq!(
        n, 9,
        "event 7 loses less than minimum_asset_loss = 200 and is not listed"
    );
}

/// A pandas text dump of OpenQuake's QA tests (`b_damage_table.txt`): index columns, value
/// columns, `...` elision rows; blank index cells repeat the previous row's.
/// Index cells and value cells of one dumped row.
type DumpRow = (Vec<String>, Vec<String>);

fn read_pandas_dump(path: &Path) -> (Vec<String>, Vec<String>, Vec<DumpRow>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let value_cols: Vec<String> = lines.next().unwrap().split_whitespace().map(String::from).collect();
    let index_line = lines.next().unwrap();
    let index_cols: Vec<String> = index_line.split_whitespace().map(String::from).collect();
    // Column start offsets of the index columns, from the index header line.
    let starts: Vec<usize> = index_cols
        .iter()
        .map(|c| index_line.find(c.as_str()).unwrap())
        .collect();
    let mut rows = Vec::new();
    let mut last_index = vec![String::new(); index_cols.len()];
    for line in lines {
        if line.trim().is_empty() || line.starts_with('[') || line.trim_start().starts_with("...") {
            continue;
        }
        let last_end = starts.last().unwrap() + index_cols.last().unwrap().len();
        let mut idx = Vec::new();
        for (i, &s) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(last_end).min(line.len());
            let cell = line.get(s..end).unwrap_or("").trim().to_string();
            let cell = if cell.is_empty() { last_index[i].clone() } else { cell };
            last_index[i] = cell.clone();
            idx.push(cell);
        }
        let vals: Vec<String> = line
            .get(last_end..)
            .unwrap_or("")
            .split_whitespace()
            .map(String::from)
            .collect();
        rows.push((idx, vals));
    }
    (index_cols, value_cols, rows)
}

/// OpenQuake's aggregation ids for tags: a mixed-radix index over the sorted distinct values of
/// each tag (over all assets), the total being the number of combinations.
fn agg_ids(tags: &[&str], exposure_csv: &Path) -> (HashMap<usize, Vec<String>>, usize) {
    let (h, rows) = read_csv(exposure_csv);
    let mut values: Vec<Vec<String>> = Vec::new();
    for t in tags {
        let c = h.iter().position(|x| x == t).unwrap();
        let mut v: Vec<String> = rows.iter().map(|r| r[c].clone()).collect();
        v.sort();
        v.dedup();
        values.push(v);
    }
    let total: usize = values.iter().map(Vec::len).product();
    let mut map = HashMap::new();
    for id in 0..total {
        let mut rem = id;
        let mut name = vec![String::new(); tags.len()];
        for (i, v) in values.iter().enumerate().rev() {
            name[i] = v[rem % v.len()].clone();
            rem /= v.len();
        }
        map.insert(id, name);
    }
    (map, total)
}

#[test]
fn event_based_damage_case_13_curves_events_and_tags() {
    let Some(dir) = case_dir("event_based_damage/case_13") else {
        return;
    };
    let t = run(&dir.join("job_a.ini"));
    assert_eq!(
        compare_table(
            &dir.join("expected/aggcurves-.csv"),
            &t["aggcurves-"],
            &["return_period", "loss_type"],
            &[]
        ),
        10
    );
    assert_eq!(
        compare_table(
            &dir.join("expected/risk_by_event.csv"),
            &t["risk_by_event"],
            &["event_id", "loss_type"],
            &[]
        ),
        42 * 4
    );
    for (job, tags, prefix) in [
        ("job_b.ini", vec!["taxonomy"], "b"),
        ("job_c.ini", vec!["taxonomy", "policy"], "c"),
        ("job_d.ini", vec!["id"], "d"),
    ] {
        let t = run(&dir.join(job));
        let (names, total) = if tags == ["id"] {
            // By asset, OpenQuake numbers assets in its own order: by hazard site, then exposure
            // order — the order of our per-asset table.
            let ids = &t["avg_risk-rlz-000"].rows;
            (
                ids.iter().enumerate().map(|(i, r)| (i, vec![r[0].clone()])).collect(),
                ids.len(),
            )
        } else {
            agg_ids(&tags, &dir.join("exposure.csv"))
        };
        let stem = tags.join("-");
        // Damage table: per event and aggregation id, rounded by OpenQuake's test.
        let (_, vcols, rows) = read_pandas_dump(&dir.join(format!("expected/{prefix}_damage_table.txt")));
        let by_key = &t[&format!("risk_by_event-{stem}")];
        let total_t = &t["risk_by_event"];
        let mut checked = 0;
        for (idx, vals) in &rows {
            let (eid, agg) = (&idx[0], idx[1].parse::<usize>().unwrap());
            let (table, row) = if agg == total {
                (total_t, total_t.rows.iter().find(|r| &r[0] == eid).expect("event row"))
            } else {
                let name = &names[&agg];
                (
                    by_key,
                    by_key
                        .rows
                        .iter()
                        .find(|r| &r[0] == eid && r[1..1 + name.len()] == name[..])
                        .unwrap_or_else(|| panic!("{job}: event {eid} key {name:?} missing")),
                )
            };
            for (c, v) in vcols.iter().zip(vals) {
                let col = match c.as_str() {
                    "dmg_1" => "LS1",
                    "dmg_2" => "LS2",
                    other => other,
                };
                let i = table.columns.iter().position(|x| x == col).unwrap();
                let ours: f64 = row[i].parse().unwrap();
                let exp: f64 = v.parse().unwrap();
                assert!(
                    (ours - exp).abs() <= 0.5 + 1e-6,
                    "{job} event {eid} agg {agg} {col}: ours {ours} vs rounded {exp}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 10 * 3, "{job}: rows shown in the dump");
        // Loss curves per aggregation id, rounded.
        let (_, _, rows) = read_pandas_dump(&dir.join(format!("expected/{prefix}_damages.txt")));
        let curves = &t[&format!("aggcurves-{stem}")];
        let totals = &t["aggcurves-"];
        for (idx, vals) in &rows {
            let agg = idx[0].parse::<usize>().unwrap();
            let (rp, loss) = (&vals[1], vals[2].parse::<f64>().unwrap());
            let ours: f64 = if agg == total {
                totals.rows.iter().find(|r| &r[0] == rp).unwrap()[2].parse().unwrap()
            } else {
                let name = &names[&agg];
                let k = name.len();
                curves
                    .rows
                    .iter()
                    .find(|r| r[..k] == name[..] && &r[k] == rp)
                    .unwrap_or_else(|| panic!("{job}: curve {name:?} {rp}"))[k + 2]
                    .parse()
                    .unwrap()
            };
            assert!(
                (ours - loss).abs() <= 0.5 + 1e-6,
                "{job} agg {agg} rp {rp}: ours {ours} vs rounded {loss}"
            );
        }
        assert!(rows.len() >= 20, "{job}: {} curve rows", rows.len());
    }
}
