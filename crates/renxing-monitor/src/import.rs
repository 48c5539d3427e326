//! Observation files: the city statistics table, and batches as CSV or Excel workbooks.
//!
//! **City statistics** (`cn/stats/city_macro.csv`, from the city statistical yearbooks,
//! 2000–2024): one row per city and year, Chinese headers (some with line breaks inside), the
//! city's 6-digit code in `城市代码`. Columns read, by header (whitespace ignored):
//!
//! | header | indicator | note |
//! |---|---|---|
//! | 常住人口(万人) | `resident_population` | 10⁴ persons |
//! | 户籍人口数(万人) | `registered_population` | 10⁴ persons |
//! | 行政区域土地面积(平方公里) | `land_area` | km² |
//! | 地区生产总值(万元) | `gdp` | 10⁴ CNY |
//! | 第三产业增加值占GDP比重(%) | `tertiary_share` | stored in the file as a fraction (0.47): × 100 |
//!
//! Empty cells are skipped (no value, not zero).
//!
//! **Observation CSV** (what a bureau exports from its sheet): header
//! `unit,indicator,year,value` (any order, more columns ignored), one observation per line.
//!
//! **Observation workbook** (`.xlsx`): the same columns on the first sheet, header in its first
//! row; codes typed as numbers are read as codes, dates, booleans and error cells are rejected
//! naming the cell (e.g. `C7`).
//!
//! **Engine results** (`summary.json` of `renxing run` / `renxing demo`, keys in
//! `renxing-report`'s `summary` module): one value per admin unit of the run's `units` list, for
//! the year the run's population stands for, with a run id (the project name and the first 16
//! hex digits of the file's SHA-256) stored beside each value:
//!
//! | summary key (per unit) | indicator | note |
//! |---|---|---|
//! | `per_capita_m2` | `shelter_area_per_capita` | only when every shelter's area is known (else `null`: skipped, noted) |
//! | `share_within_emergency` | `shelter_coverage_500m` | × 100; only when `params.emergency_distance_m` is 500 |

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::store::ObservationIn;
use crate::{MonitorError, Result};

/// (unit code, observation) pairs.
pub type Batch = Vec<(String, ObservationIn)>;

const CITY_MACRO: [(&str, &str, f64); 5] = [
    ("常住人口(万人)", "resident_population", 1.0),
    ("户籍人口数(万人)", "registered_population", 1.0),
    ("行政区域土地面积(平方公里)", "land_area", 1.0),
    ("地区生产总值(万元)", "gdp", 1.0),
    ("第三产业增加值占GDP比重(%)", "tertiary_share", 100.0),
];

/// The observations an engine run yields ([`read_run_summary`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RunBatch {
    /// `PROJECT:HASH16`.
    pub run_id: String,
    pub project: String,
    pub batch: Batch,
    /// What was left out, and why.
    pub notes: Vec<String>,
}

/// Engine results of a run (`summary.json`, or the run's output folder holding it) as
/// observations of `year`.
pub fn read_run_summary(path: &Path, year: i32) -> Result<RunBatch> {
    let path = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    let file = path.display().to_string();
    let bad = |message: String| MonitorError::Input {
        file: file.clone(),
        message,
    };
    let bytes = std::fs::read(&path).map_err(|e| bad(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let project = doc["project"]
        .as_str()
        .ok_or_else(|| bad("no \"project\" (not a renxing summary.json?)".into()))?
        .to_string();
    let units = doc["units"]
        .as_array()
        .ok_or_else(|| bad("no \"units\" array (not a renxing summary.json?)".into()))?;
    let emergency = doc["params"]["emergency_distance_m"]
        .as_f64()
        .ok_or_else(|| bad("no params.emergency_distance_m".into()))?;
    let hash: String = Sha256::digest(&bytes)[..8].iter().map(|b| format!("{b:02x}")).collect();
    let mut notes = Vec::new();
    if emergency != 500.0 {
        notes.push(format!(
            "the run's emergency-shelter distance is {emergency} m, not 500 m: shelter_coverage_500m left out"
        ));
    }
    let mut batch = Batch::new();
    for (k, u) in units.iter().enumerate() {
        let code = u["code"]
            .as_str()
            .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad(format!("units[{k}].code: {} is not a 6-digit division code", u["code"])))?;
        let mut push = |indicator: &str, key: &str, scale: f64| -> Result<bool> {
            match &u[key] {
                serde_json::Value::Null => Ok(false),
                serde_json::Value::Number(n) => {
                    batch.push((
                        code.to_string(),
                        ObservationIn {
                            indicator: indicator.into(),
                            year,
                            value: n.as_f64().unwrap_or(f64::NAN) * scale,
                        },
                    ));
                    Ok(true)
                }
                other => Err(bad(format!("units[{k}].{key} ({code}): {other} is not a number"))),
            }
        };
        if !push("shelter_area_per_capita", "per_capita_m2", 1.0)? {
            notes.push(format!(
                "{code}: no per-capita shelter area (capacity {}): shelter_area_per_capita left out",
                u["capacity_status"].as_str().unwrap_or("unknown")
            ));
        }
        if emergency == 500.0 && !push("shelter_coverage_500m", "share_within_emergency", 100.0)? {
            notes.push(format!("{code}: no population: shelter_coverage_500m left out"));
        }
    }
    Ok(RunBatch {
        run_id: format!("{project}:{hash}"),
        project,
        batch,
        notes,
    })
}

fn squash(h: &str) -> String {
    h.chars().filter(|c| !c.is_whitespace() && *c != '\u{feff}').collect()
}

/// A CSV file with its headers (whitespace removed) and an error maker naming the file.
#[allow(clippy::type_complexity)]
fn open(path: &Path) -> Result<(csv::Reader<std::fs::File>, Vec<String>, impl Fn(String) -> MonitorError)> {
    let file = path.display().to_string();
    let bad = move |message: String| MonitorError::Input {
        file: file.clone(),
        message,
    };
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let headers = rdr
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(squash)
        .collect();
    Ok((rdr, headers, bad))
}

fn column(headers: &[String], name: &str, bad: &impl Fn(String) -> MonitorError) -> Result<usize> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| bad(format!("no column {name:?} (columns: {})", headers.join(","))))
}

/// Observations of the cities of `province` (e.g. "410000") in the city statistics table.
pub fn read_city_macro(path: &Path, province: &str) -> Result<Batch> {
    let (mut rdr, headers, bad) = open(path)?;
    let col = |name: &str| column(&headers, name, &bad);
    let (c_year, c_prov, c_city) = (col("年份")?, col("省份代码")?, col("城市代码")?);
    let cols: Vec<(usize, &str, f64)> = CITY_MACRO
        .iter()
        .map(|&(h, code, scale)| col(h).map(|c| (c, code, scale)))
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    for (k, rec) in rdr.records().enumerate() {
        let line = k + 2;
        let rec = rec.map_err(|e| bad(format!("record {line}: {e}")))?;
        if rec.get(c_prov) != Some(province) {
            continue;
        }
        let year: i32 = rec[c_year]
            .trim()
            .parse()
            .map_err(|_| bad(format!("record {line}: 年份 {:?} is not a year", &rec[c_year])))?;
        let unit = rec[c_city].trim().to_string();
        for &(c, code, scale) in &cols {
            let cell = rec.get(c).unwrap_or("").trim();
            if cell.is_empty() {
                continue;
            }
            let v: f64 = cell
                .parse()
                .map_err(|_| bad(format!("record {line}: {} {cell:?} is not a number", headers[c])))?;
            out.push((
                unit.clone(),
                ObservationIn {
                    indicator: code.into(),
                    year,
                    value: v * scale,
                },
            ));
        }
    }
    Ok(out)
}

/// An observation file: `.xlsx` (first sheet) or CSV (any other extension).
pub fn read_observations(path: &Path) -> Result<Batch> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| MonitorError::Input {
        file: name.clone(),
        message: e.to_string(),
    })?;
    let xlsx = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    if xlsx {
        parse_observations_xlsx(&bytes, &name)
    } else {
        parse_observations_csv(&bytes, &name)
    }
}

/// An observation CSV (`unit,indicator,year,value`).
pub fn read_observations_csv(path: &Path) -> Result<Batch> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| MonitorError::Input {
        file: name.clone(),
        message: e.to_string(),
    })?;
    parse_observations_csv(&bytes, &name)
}

/// One cell of an observation sheet.
enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    fn show(&self) -> String {
        match self {
            Cell::Text(t) => format!("{t:?}"),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => "(empty)".into(),
        }
    }
}

/// Observation rows (`where` each is, its cells) under `headers`: `unit,indicator,year,value`
/// in any order; fully empty rows are skipped.
fn observation_rows(
    headers: &[String],
    rows: impl Iterator<Item = (String, Vec<Cell>)>,
    bad: &impl Fn(String) -> MonitorError,
) -> Result<Batch> {
    let col = |name: &str| column(headers, name, bad);
    let (cu, ci, cy, cv) = (col("unit")?, col("indicator")?, col("year")?, col("value")?);
    let mut out = Vec::new();
    for (at, cells) in rows {
        if cells
            .iter()
            .all(|c| matches!(c, Cell::Empty) || matches!(c, Cell::Text(t) if t.trim().is_empty()))
        {
            continue;
        }
        let get = |k: usize| cells.get(k).unwrap_or(&Cell::Empty);
        let text = |k: usize, name: &str| -> Result<String> {
            match get(k) {
                Cell::Text(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
                // Codes typed into Excel become numbers: 410102 → "410102".
                Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(format!("{n:.0}")),
                c => Err(bad(format!("{at}: {name} {} is not a code", c.show()))),
            }
        };
        let number = |k: usize, name: &str| -> Result<f64> {
            let v = match get(k) {
                Cell::Number(n) => Some(*n),
                Cell::Text(t) => t.trim().parse::<f64>().ok(),
                Cell::Empty => None,
            };
            v.filter(|v| v.is_finite())
                .ok_or_else(|| bad(format!("{at}: {name} {} is not a finite number", get(k).show())))
        };
        let year = number(cy, "year")?;
        if year.fract() != 0.0 || !(1000.0..=9999.0).contains(&year) {
            return Err(bad(format!("{at}: year {} is not a year", get(cy).show())));
        }
        out.push((
            text(cu, "unit")?,
            ObservationIn {
                indicator: text(ci, "indicator")?,
                year: year as i32,
                value: number(cv, "value")?,
            },
        ));
    }
    Ok(out)
}

/// An observation CSV from its bytes; `name` names it in errors (line numbers count the
/// header as line 1).
pub fn parse_observations_csv(bytes: &[u8], name: &str) -> Result<Batch> {
    let file = name.to_string();
    let bad = move |message: String| MonitorError::Input {
        file: file.clone(),
        message,
    };
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(squash)
        .collect();
    let mut rows = Vec::new();
    for (k, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("line {}: {e}", k + 2)))?;
        let cells = rec
            .iter()
            .map(|c| {
                if c.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(c.to_string())
                }
            })
            .collect();
        rows.push((format!("line {}", k + 2), cells));
    }
    observation_rows(&headers, rows.into_iter(), &bad)
}

/// An Excel workbook (`.xlsx`) from its bytes: the first sheet, header in its first row, the
/// columns of the CSV form. Errors name the sheet and the spreadsheet row (1-based, as Excel
/// shows it); a file that is not a readable workbook is rejected as such.
pub fn parse_observations_xlsx(bytes: &[u8], name: &str) -> Result<Batch> {
    use calamine::{Data, Reader, Xlsx};
    let file = name.to_string();
    let bad = move |message: String| MonitorError::Input {
        file: file.clone(),
        message,
    };
    let mut wb: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| bad(format!("not a readable .xlsx workbook: {e}")))?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad("the workbook has no sheet".into()))?;
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| bad(format!("sheet {sheet:?}: {e}")))?;
    let (row0, col0) = range.start().map_or((0, 0), |(r, c)| (r as usize, c as usize));
    let cell = |d: &Data| match d {
        Data::Empty => Ok(Cell::Empty),
        Data::String(s) => Ok(Cell::Text(s.clone())),
        Data::Float(f) => Ok(Cell::Number(*f)),
        Data::Int(i) => Ok(Cell::Number(*i as f64)),
        Data::Bool(b) => Err(format!("a boolean ({b})")),
        Data::Error(e) => Err(format!("an error value ({e:?})")),
        other => Err(format!("a date or time ({other})")),
    };
    let mut rows_iter = range.rows();
    let header_row = rows_iter
        .next()
        .ok_or_else(|| bad(format!("sheet {sheet:?} is empty")))?;
    let headers: Vec<String> = header_row
        .iter()
        .map(|d| match d {
            Data::String(s) => squash(s),
            _ => String::new(),
        })
        .collect();
    let mut rows = Vec::new();
    for (k, r) in rows_iter.enumerate() {
        let excel_row = row0 + k + 2;
        let mut cells = Vec::with_capacity(r.len());
        for (c, d) in r.iter().enumerate() {
            cells.push(cell(d).map_err(|what| {
                bad(format!(
                    "sheet {sheet:?} cell {}{excel_row}: {what} where a code or number belongs",
                    column_letters(col0 + c)
                ))
            })?);
        }
        rows.push((format!("sheet {sheet:?} row {excel_row}"), cells));
    }
    observation_rows(&headers, rows.into_iter(), &bad)
}

/// Excel's column letters of a 0-based column index (0 → A, 26 → AA).
fn column_letters(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_error(json: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("summary.json");
        std::fs::write(&p, json).unwrap();
        match read_run_summary(dir.path(), 2020) {
            Err(MonitorError::Input { file, message }) => {
                assert!(file.ends_with("summary.json"), "{file}");
                message
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_run_summaries_name_what_is_wrong() {
        assert!(run_error("{").starts_with("not JSON"));
        assert!(run_error(r#"{"project":"p"}"#).contains("\"units\""));
        let bad_code = r#"{"project":"p","params":{"emergency_distance_m":500},"units":[{"code":"1101"}]}"#;
        assert!(
            run_error(bad_code).starts_with("units[0].code"),
            "{}",
            run_error(bad_code)
        );
        let text = r#"{"project":"p","params":{"emergency_distance_m":500},
            "units":[{"code":"110101","per_capita_m2":"2","share_within_emergency":0.5}]}"#;
        assert!(run_error(text).starts_with("units[0].per_capita_m2 (110101): \"2\" is not a number"));
    }

    #[test]
    fn runs_at_another_distance_leave_the_500m_coverage_out() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        std::fs::write(
            &p,
            r#"{"project":"p","params":{"emergency_distance_m":300},
                "units":[{"code":"110101","per_capita_m2":1.5,"share_within_emergency":0.5}]}"#,
        )
        .unwrap();
        let r = read_run_summary(&p, 2020).unwrap();
        assert_eq!(r.batch.len(), 1);
        assert_eq!(r.batch[0].1.indicator, "shelter_area_per_capita");
        assert!(r.notes[0].contains("300 m"), "{:?}", r.notes);
        assert!(r.run_id.starts_with("p:") && r.run_id.len() == 18, "{}", r.run_id);
    }

    #[test]
    fn column_letters_as_excel_shows_them() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27 * 26), "AAA");
    }

    #[test]
    fn csv_rows_are_checked_and_named() {
        let b = parse_observations_csv(b"unit,indicator,year,value\n410102,gdp,2024,1.5\n\n", "x.csv").unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].0.as_str(), b[0].1.year, b[0].1.value), ("410102", 2024, 1.5));
        let e = parse_observations_csv(b"unit,indicator,year,value\n410102,gdp,2024.5,1\n", "x.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.csv") && e.contains("line 2") && e.contains("year"), "{e}");
        let e = parse_observations_csv(b"unit,indicator,year,value\n410102,gdp,2024,NaN\n", "x.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("value"), "{e}");
        let e = parse_observations_csv(b"unit,year,value\n", "x.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no column \"indicator\""), "{e}");
    }

    #[test]
    fn garbage_is_not_a_workbook() {
        let e = parse_observations_xlsx(b"PK\x03\x04 not really a zip", "o.xlsx")
            .unwrap_err()
            .to_string();
        assert!(e.contains("o.xlsx") && e.contains("not a readable .xlsx"), "{e}");
    }
}
