//! Observation files: the city statistics table and plain CSV batches.
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

use std::path::Path;

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

/// An observation CSV (`unit,indicator,year,value`).
pub fn read_observations_csv(path: &Path) -> Result<Batch> {
    let (mut rdr, headers, bad) = open(path)?;
    let col = |name: &str| column(&headers, name, &bad);
    let (cu, ci, cy, cv) = (col("unit")?, col("indicator")?, col("year")?, col("value")?);
    let mut out = Vec::new();
    for (k, rec) in rdr.records().enumerate() {
        let line = k + 2;
        let rec = rec.map_err(|e| bad(format!("line {line}: {e}")))?;
        let year = rec[cy]
            .trim()
            .parse()
            .map_err(|_| bad(format!("line {line}: year {:?} is not an integer", &rec[cy])))?;
        let value: f64 = rec[cv]
            .trim()
            .parse()
            .map_err(|_| bad(format!("line {line}: value {:?} is not a number", &rec[cv])))?;
        if !value.is_finite() {
            return Err(bad(format!("line {line}: value {value} is not finite")));
        }
        out.push((
            rec[cu].trim().to_string(),
            ObservationIn {
                indicator: rec[ci].trim().to_string(),
                year,
                value,
            },
        ));
    }
    Ok(out)
}
