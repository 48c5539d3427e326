//! Writing results as OpenQuake exports them: same file stems (without the calculation id),
//! same columns, same number formats (`%.5E` / `%.6E` / `%.5f`), and a first comment line
//! `#,,,"generated_by=…"` so that OpenQuake's own comparison tools read them unchanged.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use renxing_io::error::IoError;

/// Formats a number like C's `%.{prec}E` (`2.35340E+02`).
pub fn fmt_e(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{v:.prec$e}");
    let (mant, exp) = s.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}E{sign}{:02}", exp.abs())
}

/// Formats a coordinate like `%.5f`.
pub fn fmt_f5(v: f64) -> String {
    format!("{v:.5}")
}

/// One CSV table to write.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// File stem, e.g. `aggrisk-`, `avg_damages-rlz-000`.
    pub stem: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// `key=value` metadata appended to the comment line.
    pub meta: Vec<(String, String)>,
}

impl Table {
    /// A table with columns.
    pub fn new(stem: impl Into<String>, columns: Vec<String>) -> Table {
        Table {
            stem: stem.into(),
            columns,
            ..Default::default()
        }
    }

    /// The CSV text.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let commas = ",".repeat(self.columns.len().saturating_sub(1));
        let mut meta = format!("generated_by='Renxing {}'", env!("CARGO_PKG_VERSION"));
        for (k, v) in &self.meta {
            let _ = write!(meta, ", {k}={v}");
        }
        let _ = writeln!(out, "#{commas}\"{meta}\"");
        let _ = writeln!(
            out,
            "{}",
            self.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",")
        );
        for r in &self.rows {
            let _ = writeln!(out, "{}", r.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
        }
        out
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes tables into `dir` atomically: all files are written under temporary names first and
/// renamed only when every one was written, so a failure leaves no partial output.
pub fn write_tables(dir: &Path, tables: &[Table]) -> Result<Vec<PathBuf>, IoError> {
    std::fs::create_dir_all(dir).map_err(|e| IoError::os(dir, e))?;
    let mut temps = Vec::new();
    for t in tables {
        let final_path = dir.join(format!("{}.csv", t.stem));
        let tmp = dir.join(format!(".{}.csv.tmp", t.stem));
        if let Err(e) = std::fs::write(&tmp, t.to_csv()) {
            for (tp, _) in &temps {
                let _ = std::fs::remove_file(tp);
            }
            let _ = std::fs::remove_file(&tmp);
            return Err(IoError::os(&tmp, e));
        }
        temps.push((tmp, final_path));
    }
    let mut written = Vec::new();
    for (tmp, fin) in temps {
        std::fs::rename(&tmp, &fin).map_err(|e| IoError::os(&fin, e))?;
        written.push(fin);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_printf() {
        assert_eq!(fmt_e(235.34, 5), "2.35340E+02");
        assert_eq!(fmt_e(4.60547e-4, 5), "4.60547E-04");
        assert_eq!(fmt_e(0.0, 6), "0.000000E+00");
        assert_eq!(fmt_e(56.666666666, 6), "5.666667E+01");
        assert_eq!(fmt_e(-1.5e-120, 2), "-1.50E-120");
        assert_eq!(fmt_f5(-116.9450468), "-116.94505");
    }
}
