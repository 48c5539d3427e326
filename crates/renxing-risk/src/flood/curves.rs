//! Depth–damage curves and maximum damage values.
//!
//! A depth–damage curve gives the **damage fraction** (share of the maximum damage, 0–1) of an
//! asset flooded to a water depth above its ground floor. [`DamageCurve::fraction`] interpolates
//! linearly between the curve's points; a depth at or below 0 m gives 0 (dry ground floor), a depth
//! between 0 and the first point gives the first point's fraction, and a depth beyond the last point
//! gives the last point's fraction (clamped, as the curves saturate).
//!
//! # JRC global depth–damage functions (`JRC_damage_functions.csv`)
//!
//! Huizinga, J., de Moel, H. & Szewczyk, W. (2017). *Global flood depth-damage functions:
//! methodology and the database with guidelines.* JRC Technical Report EUR 28552 EN, JRC105688,
//! doi:10.2760/16510. The study gives one average curve per continent (europe, north america,
//! central america, south america, asia, africa, oceania, and a global average) and occupancy
//! (residential, commercial, industrial, building averaged; roads for some continents). The tabular
//! version read here (shipped by hydromt-fiat) is:
//!
//! - UTF-8 text, an optional byte-order mark, comma-separated, one header line.
//! - Header: `continent,type,` then one column per depth, named by the depth in metres with an
//!   optional `m` suffix (`0.00m,0.01m,…,10.00m`: 1001 depths at 1 cm steps). Depths must be ≥ 0
//!   and strictly increasing.
//! - One row per curve: the continent (region) name, the occupancy type, then the damage fraction
//!   at each depth. Fractions must be numbers in `[0, 1]` and must not decrease with depth.
//! - Region and type are matched case-insensitively, with `_` read as a space, so `South_America`
//!   finds `south america`. A (region, type) pair may appear once.
//!
//! # JRC maximum damage values (`JRC_base_damage_values.csv`)
//!
//! The same study's construction costs per m² of floor area by country (2010 euros), the basis of
//! the maximum damage of a building:
//!
//! - Header (columns found by name, case-insensitively): a country name column (`Country`), the ISO
//!   3166 alpha-3 code (a column whose name contains `ISO`), and columns whose names contain
//!   `Residential`, `Commercial` and `Industrial` (€/m²); an optional `GDP per capita` column.
//! - One row per country. Rows without an ISO code are the World Bank aggregates (`World`,
//!   `South Asia`, `Upper middle income`, …): kept apart and looked up by name
//!   ([`BaseDamageValues::aggregate`]). A cost of 0 or an empty cell means the study gave no
//!   estimate (e.g. `ASM`, `Not classified`): asking for it is an error, never a silent zero.
//!
//! The values are construction costs; a maximum damage that includes contents or depreciation is
//! the caller's factor times this value.
//!
//! # Generic depth–damage CSV (user curves)
//!
//! For a user's own curve, [`read_curve_csv`]: a header line whose first column name contains
//! `depth` (metres) and whose second column is the damage fraction (any name, e.g. `fraction`),
//! then one `depth,fraction` pair per line; lines starting with `#` are comments; at least two
//! points; the same rules as above for depths and fractions.
//!
//! # Errors
//!
//! Every reading error is an [`IoError`] naming the file and the line (the header is line 1): a
//! missing column, a non-numeric or out-of-range value, depths that do not increase, fractions that
//! decrease, a duplicate curve or country. Looking up a region, type or country that the file does
//! not hold is a [`CurveError`] listing what the file has.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use renxing_io::error::IoError;

use super::line_at;

/// A piecewise-linear depth–damage curve (depth in metres above the ground floor → fraction).
#[derive(Debug, Clone, PartialEq)]
pub struct DamageCurve {
    depths: Vec<f64>,
    fractions: Vec<f64>,
}

impl DamageCurve {
    /// A curve from its points. Depths must be finite, ≥ 0 and strictly increasing; fractions
    /// finite, in `[0, 1]` and non-decreasing; at least one point. The error says which point is
    /// wrong (0-based index).
    pub fn new(depths: Vec<f64>, fractions: Vec<f64>) -> Result<DamageCurve, String> {
        if depths.is_empty() {
            return Err("a damage curve needs at least one point".into());
        }
        if depths.len() != fractions.len() {
            return Err(format!(
                "{} depths but {} fractions: each depth needs one fraction",
                depths.len(),
                fractions.len()
            ));
        }
        for (i, &d) in depths.iter().enumerate() {
            if !d.is_finite() || d < 0.0 {
                return Err(format!(
                    "depth {d} at point {i} must be a finite number ≥ 0 m (depth above the ground floor)"
                ));
            }
            if i > 0 && d <= depths[i - 1] {
                return Err(format!(
                    "depths must increase strictly: {} m at point {} is not above {} m at point {}",
                    d,
                    i,
                    depths[i - 1],
                    i - 1
                ));
            }
        }
        for (i, &f) in fractions.iter().enumerate() {
            if !f.is_finite() || !(0.0..=1.0).contains(&f) {
                return Err(format!(
                    "damage fraction {f} at depth {} m must lie in [0, 1]",
                    depths[i]
                ));
            }
            if i > 0 && f < fractions[i - 1] {
                return Err(format!(
                    "damage fractions must not decrease with depth: {} at {} m is below {} at {} m",
                    f,
                    depths[i],
                    fractions[i - 1],
                    depths[i - 1]
                ));
            }
        }
        Ok(DamageCurve { depths, fractions })
    }

    /// Damage fraction at `depth` metres above the ground floor (see the module doc): 0 at or
    /// below 0 m and for NaN, linear between points, clamped to the first/last point outside them.
    pub fn fraction(&self, depth: f64) -> f64 {
        if depth.is_nan() || depth <= 0.0 {
            return 0.0;
        }
        let n = self.depths.len();
        if depth <= self.depths[0] {
            return self.fractions[0];
        }
        if depth >= self.depths[n - 1] {
            return self.fractions[n - 1];
        }
        // First point with depth > `depth`; it exists and is ≥ 1 by the checks above.
        let j = self.depths.partition_point(|&d| d <= depth);
        let (d0, d1) = (self.depths[j - 1], self.depths[j]);
        let (f0, f1) = (self.fractions[j - 1], self.fractions[j]);
        f0 + (f1 - f0) * (depth - d0) / (d1 - d0)
    }

    /// The curve's depths (metres, increasing).
    pub fn depths(&self) -> &[f64] {
        &self.depths
    }

    /// The curve's fractions, one per depth.
    pub fn fractions(&self) -> &[f64] {
        &self.fractions
    }
}

/// Occupancy classes of the JRC maximum damage table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Occupancy {
    Residential,
    Commercial,
    Industrial,
}

impl Occupancy {
    /// All three, in the table's column order.
    pub const ALL: [Occupancy; 3] = [Occupancy::Residential, Occupancy::Commercial, Occupancy::Industrial];

    /// The lower-case name, also the curve type of the JRC curve file.
    pub fn as_str(self) -> &'static str {
        match self {
            Occupancy::Residential => "residential",
            Occupancy::Commercial => "commercial",
            Occupancy::Industrial => "industrial",
        }
    }

    /// Parses `residential` / `commercial` / `industrial` (case-insensitive, trimmed), and the
    /// Chinese 居住 / 住宅, 商业, 工业.
    pub fn parse(s: &str) -> Option<Occupancy> {
        match s.trim().to_lowercase().as_str() {
            "residential" | "居住" | "住宅" => Some(Occupancy::Residential),
            "commercial" | "商业" => Some(Occupancy::Commercial),
            "industrial" | "工业" => Some(Occupancy::Industrial),
            _ => None,
        }
    }
}

impl fmt::Display for Occupancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lookup that the loaded tables cannot answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CurveError {
    #[error("no damage curve for region '{region}': the curve file has {available}")]
    UnknownRegion { region: String, available: String },
    #[error("no damage curve of type '{kind}' for region '{region}': that region has {available}")]
    UnknownType {
        region: String,
        kind: String,
        available: String,
    },
    #[error("no maximum damage values for country '{iso3}' in the table (ISO 3166 alpha-3 code expected)")]
    UnknownCountry { iso3: String },
    #[error("the table gives no {occupancy} construction cost for {country} ({iso3}): 0 or empty means not estimated")]
    NoValue {
        iso3: String,
        country: String,
        occupancy: Occupancy,
    },
}

/// Canonical key of a region or type name: trimmed, lower case, `_` read as a space, inner runs of
/// blanks collapsed.
fn key(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The JRC curve set: one [`DamageCurve`] per (region, occupancy type), in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct JrcCurves {
    /// (region key, type key, curve), in file order.
    curves: Vec<(String, String, DamageCurve)>,
}

impl JrcCurves {
    /// Reads `JRC_damage_functions.csv` (format in the module doc).
    pub fn read(path: &Path) -> Result<JrcCurves, IoError> {
        let text = read_text(path)?;
        Self::parse(path, &text)
    }

    /// Parses the text of a JRC curve file; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<JrcCurves, IoError> {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let offset = (text.len() - body.len()) as u64;
        let bytes = text.as_bytes();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(body.as_bytes());
        let mut records = rdr.records();
        let header = match records.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => return Err(IoError::at(path, "line 1", format!("cannot read the header: {e}"))),
            None => {
                return Err(IoError::new(
                    path,
                    "empty file: expected a header `continent,type,0.00m,…`",
                ));
            }
        };
        let cols: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
        if cols.len() < 3 || cols[0] != "continent" || cols[1] != "type" {
            return Err(IoError::at(
                path,
                "line 1",
                format!(
                    "header must start with `continent,type,` followed by depth columns (`0.00m`, `0.01m`, …); found `{}`",
                    header.iter().take(4).collect::<Vec<_>>().join(",")
                ),
            ));
        }
        let mut depths = Vec::with_capacity(cols.len() - 2);
        for (i, c) in cols[2..].iter().enumerate() {
            let num = c.strip_suffix('m').unwrap_or(c).trim();
            let d: f64 = num.parse().map_err(|_| {
                IoError::at(
                    path,
                    "line 1",
                    format!(
                        "depth column {} is `{}`: expected a depth in metres such as `0.25m`",
                        i + 3,
                        c
                    ),
                )
            })?;
            depths.push(d);
        }
        // Validate the depth axis once, with a zero curve, so the message speaks of the header.
        DamageCurve::new(depths.clone(), vec![0.0; depths.len()])
            .map_err(|m| IoError::at(path, "line 1", format!("depth columns: {m}")))?;
        let mut curves: Vec<(String, String, DamageCurve)> = Vec::new();
        for rec in records {
            let rec = rec.map_err(|e| {
                let line = e.position().map(|p| line_at(bytes, p.byte() + offset)).unwrap_or(0);
                IoError::at(path, format!("line {line}"), format!("unreadable CSV record: {e}"))
            })?;
            let line = rec.position().map(|p| line_at(bytes, p.byte() + offset)).unwrap_or(0);
            let at = format!("line {line}");
            if rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if rec.len() != cols.len() {
                return Err(IoError::at(
                    path,
                    at,
                    format!("{} fields, but the header has {} columns", rec.len(), cols.len()),
                ));
            }
            let region = key(&rec[0]);
            let kind = key(&rec[1]);
            if region.is_empty() || kind.is_empty() {
                return Err(IoError::at(path, at, "empty continent or type"));
            }
            let mut fr = Vec::with_capacity(depths.len());
            for (i, f) in rec.iter().skip(2).enumerate() {
                let v: f64 = f.trim().parse().map_err(|_| {
                    IoError::at(
                        path,
                        format!("line {line}"),
                        format!(
                            "damage fraction `{}` at depth {} m is not a number",
                            f.trim(),
                            depths[i]
                        ),
                    )
                })?;
                fr.push(v);
            }
            let curve = DamageCurve::new(depths.clone(), fr)
                .map_err(|m| IoError::at(path, format!("line {line}"), format!("curve {region} / {kind}: {m}")))?;
            if curves.iter().any(|(r, k, _)| *r == region && *k == kind) {
                return Err(IoError::at(
                    path,
                    at,
                    format!("duplicate curve for continent '{region}' and type '{kind}'"),
                ));
            }
            curves.push((region, kind, curve));
        }
        if curves.is_empty() {
            return Err(IoError::new(path, "no curve rows after the header"));
        }
        Ok(JrcCurves { curves })
    }

    /// The curve of `region` (continent, e.g. `south america`, `asia`, `global`) and occupancy
    /// `kind` (`residential`, `commercial`, `industrial`, `building averaged`, `roads`).
    pub fn get(&self, region: &str, kind: &str) -> Result<&DamageCurve, CurveError> {
        let (rk, kk) = (key(region), key(kind));
        if !self.curves.iter().any(|(r, _, _)| *r == rk) {
            return Err(CurveError::UnknownRegion {
                region: region.to_string(),
                available: list(self.regions()),
            });
        }
        self.curves
            .iter()
            .find(|(r, k, _)| *r == rk && *k == kk)
            .map(|(_, _, c)| c)
            .ok_or_else(|| CurveError::UnknownType {
                region: region.to_string(),
                kind: kind.to_string(),
                available: list(self.kinds(&rk)),
            })
    }

    /// Region names in file order, each once (canonical lower-case form).
    pub fn regions(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (r, _, _) in &self.curves {
            if !out.contains(&r.as_str()) {
                out.push(r);
            }
        }
        out
    }

    /// Occupancy types available for `region`, in file order.
    pub fn kinds(&self, region: &str) -> Vec<&str> {
        let rk = key(region);
        self.curves
            .iter()
            .filter(|(r, _, _)| *r == rk)
            .map(|(_, k, _)| k.as_str())
            .collect()
    }

    /// Number of curves.
    pub fn len(&self) -> usize {
        self.curves.len()
    }

    /// Whether the set holds no curve (never true for a set read from a file).
    pub fn is_empty(&self) -> bool {
        self.curves.is_empty()
    }
}

fn list(items: Vec<&str>) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
    }
}

/// Construction costs of one country (2010 € per m² of floor area), `None` when not estimated.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseDamage {
    pub country: String,
    pub iso3: String,
    pub residential: Option<f64>,
    pub commercial: Option<f64>,
    pub industrial: Option<f64>,
    /// GDP per capita (2010 US$) when the table has the column and a value.
    pub gdp_per_capita_usd: Option<f64>,
}

impl BaseDamage {
    /// The cost for one occupancy, or `None` when the table has no estimate.
    pub fn get(&self, occupancy: Occupancy) -> Option<f64> {
        match occupancy {
            Occupancy::Residential => self.residential,
            Occupancy::Commercial => self.commercial,
            Occupancy::Industrial => self.industrial,
        }
    }
}

/// The JRC maximum damage table, by ISO 3166 alpha-3 code, and its aggregate rows by name.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseDamageValues {
    by_iso3: BTreeMap<String, BaseDamage>,
    /// Rows without an ISO code (World Bank aggregates), in file order; `iso3` is empty.
    aggregates: Vec<BaseDamage>,
}

impl BaseDamageValues {
    /// Reads `JRC_base_damage_values.csv` (format in the module doc).
    pub fn read(path: &Path) -> Result<BaseDamageValues, IoError> {
        let text = read_text(path)?;
        Self::parse(path, &text)
    }

    /// Parses the text of a maximum damage table; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<BaseDamageValues, IoError> {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let offset = (text.len() - body.len()) as u64;
        let bytes = text.as_bytes();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(body.as_bytes());
        let mut records = rdr.records();
        let header = match records.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => return Err(IoError::at(path, "line 1", format!("cannot read the header: {e}"))),
            None => return Err(IoError::new(path, "empty file: expected a header line")),
        };
        let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
        let find = |pred: &dyn Fn(&str) -> bool, what: &str| -> Result<usize, IoError> {
            names.iter().position(|n| pred(n)).ok_or_else(|| {
                IoError::at(
                    path,
                    "line 1",
                    format!(
                        "no {what} column; columns found: {}",
                        header.iter().collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        };
        let c_iso = find(&|n| n.contains("iso"), "ISO alpha-3 code (name containing `ISO`)")?;
        let c_country = find(&|n| n.starts_with("country"), "`Country`")?;
        let c_res = find(&|n| n.contains("residential"), "residential cost")?;
        let c_com = find(&|n| n.contains("commercial"), "commercial cost")?;
        let c_ind = find(&|n| n.contains("industrial"), "industrial cost")?;
        let c_gdp = names.iter().position(|n| n.contains("gdp"));
        let mut by_iso3 = BTreeMap::new();
        let mut aggregates = Vec::new();
        let mut first_line: BTreeMap<String, u64> = BTreeMap::new();
        for rec in records {
            let rec = rec.map_err(|e| {
                let line = e.position().map(|p| line_at(bytes, p.byte() + offset)).unwrap_or(0);
                IoError::at(path, format!("line {line}"), format!("unreadable CSV record: {e}"))
            })?;
            let line = rec.position().map(|p| line_at(bytes, p.byte() + offset)).unwrap_or(0);
            if rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if rec.len() != names.len() {
                return Err(IoError::at(
                    path,
                    format!("line {line}"),
                    format!("{} fields, but the header has {} columns", rec.len(), names.len()),
                ));
            }
            let iso3 = rec[c_iso].trim().to_uppercase();
            let num = |c: usize, what: &str| -> Result<Option<f64>, IoError> {
                let s = rec[c].trim();
                if s.is_empty() {
                    return Ok(None);
                }
                let v: f64 = s
                    .parse()
                    .map_err(|_| IoError::at(path, format!("line {line}"), format!("{what} `{s}` is not a number")))?;
                if !v.is_finite() || v < 0.0 {
                    return Err(IoError::at(
                        path,
                        format!("line {line}"),
                        format!("{what} {v} must be a finite number ≥ 0"),
                    ));
                }
                Ok((v > 0.0).then_some(v))
            };
            let row = BaseDamage {
                country: rec[c_country].trim().to_string(),
                iso3: iso3.clone(),
                residential: num(c_res, "residential cost")?,
                commercial: num(c_com, "commercial cost")?,
                industrial: num(c_ind, "industrial cost")?,
                gdp_per_capita_usd: match c_gdp {
                    Some(c) => num(c, "GDP per capita")?,
                    None => None,
                },
            };
            if iso3.is_empty() {
                aggregates.push(row);
                continue;
            }
            if let Some(prev) = first_line.get(&iso3) {
                return Err(IoError::at(
                    path,
                    format!("line {line}"),
                    format!("duplicate ISO code {iso3} (first on line {prev})"),
                ));
            }
            first_line.insert(iso3.clone(), line);
            by_iso3.insert(iso3, row);
        }
        if by_iso3.is_empty() && aggregates.is_empty() {
            return Err(IoError::new(path, "no rows after the header"));
        }
        Ok(BaseDamageValues { by_iso3, aggregates })
    }

    /// An aggregate row (no ISO code) by its name, case-insensitively, e.g. `World`.
    pub fn aggregate(&self, name: &str) -> Option<&BaseDamage> {
        let k = name.trim().to_lowercase();
        self.aggregates.iter().find(|a| a.country.to_lowercase() == k)
    }

    /// The aggregate rows in file order.
    pub fn aggregates(&self) -> &[BaseDamage] {
        &self.aggregates
    }

    /// The row of a country by ISO alpha-3 code (case-insensitive).
    pub fn country(&self, iso3: &str) -> Result<&BaseDamage, CurveError> {
        self.by_iso3
            .get(&iso3.trim().to_uppercase())
            .ok_or_else(|| CurveError::UnknownCountry { iso3: iso3.to_string() })
    }

    /// Construction cost (2010 €/m²) of `occupancy` in country `iso3`; an error when the country is
    /// missing or has no estimate.
    pub fn value(&self, iso3: &str, occupancy: Occupancy) -> Result<f64, CurveError> {
        let row = self.country(iso3)?;
        row.get(occupancy).ok_or_else(|| CurveError::NoValue {
            iso3: row.iso3.clone(),
            country: row.country.clone(),
            occupancy,
        })
    }

    /// Number of countries (rows with an ISO code).
    pub fn len(&self) -> usize {
        self.by_iso3.len()
    }

    /// Whether the table holds no country.
    pub fn is_empty(&self) -> bool {
        self.by_iso3.is_empty()
    }
}

/// Reads a user depth–damage curve: `depth,fraction` CSV (format in the module doc).
pub fn read_curve_csv(path: &Path) -> Result<DamageCurve, IoError> {
    let text = read_text(path)?;
    parse_curve_csv(path, &text)
}

/// Parses the text of a `depth,fraction` CSV; `path` names it in errors.
pub fn parse_curve_csv(path: &Path, text: &str) -> Result<DamageCurve, IoError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut header_seen = false;
    let mut depths = Vec::new();
    let mut fractions = Vec::new();
    let mut lines_of = Vec::new();
    for (i, raw) in body.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = l.split(',').map(|f| f.trim().trim_matches('"').trim()).collect();
        if !header_seen {
            if fields.len() < 2 || !fields[0].to_lowercase().contains("depth") {
                return Err(IoError::at(
                    path,
                    format!("line {line}"),
                    format!("header must be `depth,fraction` (first column named …depth…); found `{l}`"),
                ));
            }
            header_seen = true;
            continue;
        }
        if fields.len() < 2 {
            return Err(IoError::at(
                path,
                format!("line {line}"),
                "expected two values: depth (m), damage fraction",
            ));
        }
        let parse = |s: &str, what: &str| -> Result<f64, IoError> {
            s.parse::<f64>()
                .map_err(|_| IoError::at(path, format!("line {line}"), format!("{what} `{s}` is not a number")))
        };
        depths.push(parse(fields[0], "depth")?);
        fractions.push(parse(fields[1], "damage fraction")?);
        lines_of.push(line);
    }
    if !header_seen {
        return Err(IoError::new(
            path,
            "empty file: expected a header `depth,fraction` and curve points",
        ));
    }
    if depths.len() < 2 {
        return Err(IoError::new(
            path,
            format!("a curve needs at least two points; found {}", depths.len()),
        ));
    }
    // Check point by point so the error names the line of the first bad point.
    for i in 0..depths.len() {
        if let Err(m) = DamageCurve::new(depths[..=i].to_vec(), fractions[..=i].to_vec()) {
            return Err(IoError::at(path, format!("line {}", lines_of[i]), m));
        }
    }
    DamageCurve::new(depths, fractions).map_err(|m| IoError::new(path, m))
}

fn read_text(path: &Path) -> Result<String, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + upto.iter().filter(|&&c| c == b'\n').count();
        IoError::at(path, format!("line {line}"), "not valid UTF-8 text")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_and_clamping() {
        let c = DamageCurve::new(vec![0.0, 1.0, 2.0], vec![0.0, 0.5, 0.9]).unwrap();
        assert_eq!(c.fraction(-1.0), 0.0);
        assert_eq!(c.fraction(0.0), 0.0);
        assert_eq!(c.fraction(f64::NAN), 0.0);
        assert!((c.fraction(0.5) - 0.25).abs() < 1e-12);
        assert!((c.fraction(1.5) - 0.7).abs() < 1e-12);
        assert_eq!(c.fraction(2.0), 0.9);
        assert_eq!(c.fraction(7.0), 0.9);
        // First point above 0: its fraction holds down to 0 m (exclusive).
        let c = DamageCurve::new(vec![0.5, 1.0], vec![0.2, 0.4]).unwrap();
        assert_eq!(c.fraction(0.1), 0.2);
    }

    #[test]
    fn bad_curves_are_refused() {
        assert!(
            DamageCurve::new(vec![0.0, 0.0], vec![0.0, 0.1])
                .unwrap_err()
                .contains("increase")
        );
        assert!(
            DamageCurve::new(vec![0.0, 1.0], vec![0.0, 1.2])
                .unwrap_err()
                .contains("[0, 1]")
        );
        assert!(
            DamageCurve::new(vec![0.0, 1.0], vec![0.5, 0.4])
                .unwrap_err()
                .contains("decrease")
        );
        assert!(
            DamageCurve::new(vec![-1.0, 1.0], vec![0.0, 0.4])
                .unwrap_err()
                .contains("≥ 0")
        );
        assert!(DamageCurve::new(vec![], vec![]).is_err());
    }

    #[test]
    fn line_numbers_follow_bom_and_blank_lines() {
        let text = "\u{feff}continent,type,0m,1m\nasia,residential,0,0.5\n\nasia,commercial,0,1.5\n";
        let e = JrcCurves::parse(Path::new("x.csv"), text).unwrap_err();
        assert_eq!(e.position.as_deref(), Some("line 4"), "{e}");
        assert!(e.message.contains("[0, 1]"), "{e}");
    }
}
