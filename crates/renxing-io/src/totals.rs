//! Admin-unit totals from a CSV table (e.g. census population by district).
//!
//! Format: a header row, one row per unit; one column holds the unit code (adcode) and one the
//! total (a non-negative number; thousands separators are not accepted). Other columns are
//! ignored. Example: `cn/beijing/census2020_district_population.csv` with columns
//! `adcode,district,district_en,resident_population_2020`.

use std::path::Path;

use crate::error::{IoError, Result};

/// Read (code, total) pairs. A missing column, an unparsable or negative number, or a duplicate
/// code is an error naming the line.
pub fn read_totals(path: &Path, code_column: &str, value_column: &str) -> Result<Vec<(String, f64)>> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    let text = crate::points::decode_text(path, &bytes)?;
    let lines = crate::error::LineIndex::new(&text);
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| IoError::at(path, "line 1", e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                IoError::at(
                    path,
                    "line 1",
                    format!("no column '{name}' (columns: {})", headers.join(", ")),
                )
            })
    };
    let (ci, vi) = (find(code_column)?, find(value_column)?);
    let mut out: Vec<(String, f64)> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let at = e
                .position()
                .map_or("line ?".to_string(), |p| format!("line {}", lines.line_of(p.byte())));
            IoError::at(path, at, e.to_string())
        })?;
        let line = format!("line {}", rec.position().map_or(0, |p| lines.line_of(p.byte())));
        let code = rec.get(ci).unwrap_or("").trim().to_string();
        let raw = rec.get(vi).unwrap_or("").trim();
        let v: f64 = raw.parse().map_err(|_| {
            IoError::at(
                path,
                line.clone(),
                format!("'{value_column}' value '{raw}' is not a number"),
            )
        })?;
        if !v.is_finite() || v < 0.0 {
            return Err(IoError::at(
                path,
                line,
                format!("'{value_column}' value {v} must be a non-negative number"),
            ));
        }
        if code.is_empty() {
            return Err(IoError::at(path, line, format!("empty '{code_column}'")));
        }
        if out.iter().any(|(c, _)| *c == code) {
            return Err(IoError::at(path, line, format!("code {code} appears twice")));
        }
        out.push((code, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_census_totals_sum_to_the_bulletin_total() {
        let Some(p) = crate::shared_data::file("cn/beijing/census2020_district_population.csv") else {
            return;
        };
        let t = read_totals(&p, "adcode", "resident_population_2020").unwrap();
        assert_eq!(t.len(), 16);
        // 7th census bulletin: Beijing resident population 21,893,095 (data README).
        assert_eq!(t.iter().map(|x| x.1).sum::<f64>(), 21_893_095.0);
        assert_eq!(t[0], ("110101".to_string(), 708_829.0));
    }

    #[test]
    fn bad_numbers_and_missing_columns_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "adcode,pop\n110101,12\n110102,abc\n").unwrap();
        let e = read_totals(&p, "adcode", "pop").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("abc"), "{e}");
        let e = read_totals(&p, "adcode", "people").unwrap_err().to_string();
        assert!(e.contains("no column 'people'") && e.contains("adcode, pop"), "{e}");
        // Windows line endings, a blank line and GBK text (Excel exports): still the right line.
        let (gbk, _, _) = encoding_rs::GBK.encode("adcode,区县,pop\r\n110101,东城区,12\r\n\r\n110102,西城区,x\r\n");
        std::fs::write(&p, &gbk).unwrap();
        let e = read_totals(&p, "adcode", "pop").unwrap_err().to_string();
        assert!(e.contains("line 4") && e.contains("'x'"), "{e}");
    }
}
