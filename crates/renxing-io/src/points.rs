//! Point layers (shelters, hospitals, schools, help requests…) from delimited text files.
//!
//! ## Format
//!
//! A CSV file with one header line and one point per line:
//!
//! - **Encoding**: UTF-8 (a leading byte-order mark is ignored). Files that are not valid UTF-8
//!   are decoded as GBK/GB18030, the usual encoding of CSV saved by Chinese Excel; a file that is
//!   neither is an error.
//! - **Delimiter**: comma; a header line without a comma but with tabs (or semicolons) switches
//!   to that delimiter. Fields may be quoted with `"`.
//! - **Coordinates**: a longitude and a latitude column in decimal degrees (or easting/northing in
//!   the unit of an `EPSG:` code), in the coordinate system given by
//!   [`PointsCsvOptions::crs`] (WGS84 by default). They are converted to WGS84 on reading.
//! - **Id**: one column whose value is unique in the file.
//! - Every other column is kept, as text, in [`PointRecord::attrs`] in file order.
//!
//! ## Column detection
//!
//! Names are compared case-insensitively after trimming. Unless named in the options:
//!
//! - longitude: `lon`, `lng`, `longitude`, `long`, `x`, `经度`; latitude: `lat`, `latitude`, `y`,
//!   `纬度`. A header whose words (split at spaces and brackets) include one of these also
//!   matches, e.g. `纬度 (Latitude)`.
//! - Many Chinese files carry the same point in several systems: `lon_gcj02, lat_gcj02,
//!   lon_wgs84, lat_wgs84` (also `lng_bd09`…). The columns suffixed with the declared system are
//!   preferred (`_wgs84` or `_cgcs2000` when the crs is WGS84/CGCS2000, `_gcj02` for GCJ-02,
//!   `_bd09` for BD-09); then plain names. Suffixed columns of another system are never taken
//!   silently: the error says which system the file seems to use.
//! - id: `id`, `sid`, `fid`, `objectid`, `编号`, `序号`, then a name-like column (`name`, `名称`,
//!   or a name ending in `name`/`名称`). Without any, or with the id column given as
//!   [`RECORD_NUMBER_ID`] (`#`), the id is the 1-based record number.
//!
//! ## Errors
//!
//! An empty file, a header without data rows, a missing column (the message lists the columns
//! found), a field that is not a number or is empty, a coordinate out of range (line number), a
//! row with a different number of fields, and a duplicate id (both line numbers) are
//! [`IoError`]s. Line numbers count the header as line 1.

use std::collections::HashMap;
use std::path::Path;

use renxing_geo::crs::{Crs, Transformer};

use crate::error::{IoError, Result};

/// One point: its id, WGS84 position and the other columns of its line.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRecord {
    pub id: String,
    /// WGS84 longitude, degrees.
    pub lon: f64,
    /// WGS84 latitude, degrees.
    pub lat: f64,
    /// The remaining columns (header name, raw text), in file order.
    pub attrs: Vec<(String, String)>,
}

/// `id_column` value that makes the 1-based record number the id (for files whose name column
/// repeats, such as city tables).
pub const RECORD_NUMBER_ID: &str = "#";

/// How to read a points CSV; `Default` detects the columns and assumes WGS84.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointsCsvOptions {
    /// Column holding the unique id (exact header name, case-insensitive).
    pub id_column: Option<String>,
    /// Column holding longitude / easting.
    pub lon_column: Option<String>,
    /// Column holding latitude / northing.
    pub lat_column: Option<String>,
    /// Coordinate system of the file; converted to WGS84.
    pub crs: Crs,
}

/// Reads a points CSV (see the module documentation for the format).
pub fn read_points_csv(path: &Path, opts: &PointsCsvOptions) -> Result<Vec<PointRecord>> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    let text = decode_text(path, &bytes)?;
    let lines = crate::error::LineIndex::new(&text);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(IoError::new(path, "empty file: expected a header line and point rows"));
    }
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.contains(',') {
        b','
    } else if first_line.contains('\t') {
        b'\t'
    } else if first_line.contains(';') {
        b';'
    } else {
        b','
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| IoError::at(path, "line 1", format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();

    let cols = Columns::resolve(path, &headers, opts)?;
    let transformer =
        Transformer::to_wgs84(opts.crs).map_err(|e| IoError::new(path, format!("coordinate system: {e}")))?;

    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| csv_error(path, &lines, &e))?;
        let line = rec.position().map(|p| lines.line_of(p.byte())).unwrap_or(i as u64 + 2);
        let at = |msg: String| IoError::at(path, format!("line {line}"), msg);
        let field = |c: usize| rec.get(c).unwrap_or("").trim();
        let number = |c: usize| -> Result<f64> {
            let s = field(c);
            if s.is_empty() {
                return Err(at(format!("column '{}' is empty", headers[c])));
            }
            s.parse::<f64>()
                .map_err(|_| at(format!("column '{}': '{s}' is not a number", headers[c])))
        };
        let x = number(cols.lon)?;
        let y = number(cols.lat)?;
        let (lon, lat) = transformer.apply(x, y).map_err(|e| {
            at(format!(
                "coordinate ('{}' = {x}, '{}' = {y}): {e}",
                headers[cols.lon], headers[cols.lat]
            ))
        })?;
        let id = match cols.id {
            Some(c) => field(c).to_string(),
            None => (i + 1).to_string(),
        };
        if id.is_empty() {
            return Err(at(format!(
                "id column '{}' is empty",
                cols.id.map_or("", |c| &headers[c])
            )));
        }
        if let Some(prev) = seen.insert(id.clone(), line) {
            return Err(IoError::at(
                path,
                format!("line {line}"),
                format!("duplicate id '{id}': already used on line {prev}"),
            ));
        }
        let attrs = headers
            .iter()
            .enumerate()
            .filter(|(c, _)| Some(*c) != cols.id && *c != cols.lon && *c != cols.lat)
            .map(|(c, h)| (h.clone(), rec.get(c).unwrap_or("").to_string()))
            .collect();
        out.push(PointRecord { id, lon, lat, attrs });
    }
    if out.is_empty() {
        return Err(IoError::new(path, "the file has a header but no point rows"));
    }
    Ok(out)
}

/// UTF-8 if valid, else GBK (GB18030 decoder, a superset), else an error.
pub(crate) fn decode_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, str>> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(std::borrow::Cow::Borrowed(s)),
        Err(utf8_err) => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                Err(IoError::at(
                    path,
                    format!("byte {}", utf8_err.valid_up_to()),
                    "text is neither UTF-8 nor GBK",
                ))
            } else {
                Ok(std::borrow::Cow::Owned(text.into_owned()))
            }
        }
    }
}

fn csv_error(path: &Path, lines: &crate::error::LineIndex, e: &csv::Error) -> IoError {
    let pos = e.position().map(|p| format!("line {}", lines.line_of(p.byte())));
    let msg = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("expected {expected_len} fields like the header, found {len}")
        }
        _ => e.to_string(),
    };
    match pos {
        Some(p) => IoError::at(path, p, msg),
        None => IoError::new(path, msg),
    }
}

/// Which axis a header names, and the coordinate-system suffix it carries, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Lon,
    Lat,
}

const LON_NAMES: &[&str] = &["lon", "lng", "longitude", "long", "x", "经度"];
const LAT_NAMES: &[&str] = &["lat", "latitude", "y", "纬度"];
const SUFFIXES: &[&str] = &["wgs84", "cgcs2000", "gcj02", "bd09"];

/// (axis, rank of the base name, system suffix) of a header, or `None`.
fn classify(header: &str) -> Option<(Axis, usize, Option<&'static str>)> {
    let h = header.trim().to_lowercase();
    let base_rank = |name: &str| -> Option<(Axis, usize)> {
        if let Some(r) = LON_NAMES.iter().position(|n| *n == name) {
            return Some((Axis::Lon, r));
        }
        LAT_NAMES.iter().position(|n| *n == name).map(|r| (Axis::Lat, r))
    };
    if let Some((a, r)) = base_rank(&h) {
        return Some((a, r, None));
    }
    for suf in SUFFIXES {
        let base = h.strip_suffix(suf).and_then(|b| b.strip_suffix(['_', '-', ' ']));
        if let Some((a, r)) = base.and_then(base_rank) {
            return Some((a, r, Some(suf)));
        }
    }
    // words of the header, e.g. "纬度 (Latitude)"
    let words = h.split(|c: char| c.is_whitespace() || "()（）[]【】".contains(c));
    for w in words.filter(|w| !w.is_empty()) {
        if let Some((a, r)) = base_rank(w) {
            return Some((a, r + 100, None));
        }
    }
    None
}

struct Columns {
    id: Option<usize>,
    lon: usize,
    lat: usize,
}

impl Columns {
    fn resolve(path: &Path, headers: &[String], opts: &PointsCsvOptions) -> Result<Columns> {
        let found = || format!("columns found: {}", headers.join(", "));
        let named = |what: &str, name: &str| -> Result<usize> {
            headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name.trim()) || h == name.trim())
                .ok_or_else(|| IoError::at(path, "line 1", format!("no {what} column '{name}'; {}", found())))
        };
        let wanted: &[&str] = match opts.crs {
            Crs::Wgs84 | Crs::Cgcs2000 | Crs::Epsg(4326) | Crs::Epsg(4490) => &["wgs84", "cgcs2000"],
            Crs::Gcj02 => &["gcj02"],
            Crs::Bd09 => &["bd09"],
            Crs::Epsg(_) => &[],
        };
        let detect = |axis: Axis| -> Result<usize> {
            let mut best: Option<(usize, usize)> = None; // (priority, column)
            let mut other_systems = Vec::new();
            for (c, h) in headers.iter().enumerate() {
                let Some((a, rank, suffix)) = classify(h) else {
                    continue;
                };
                if a != axis {
                    continue;
                }
                let priority = match suffix {
                    Some(s) if wanted.contains(&s) => rank,
                    Some(s) => {
                        other_systems.push(format!("'{h}' ({s})"));
                        continue;
                    }
                    None => 1000 + rank,
                };
                if best.is_none_or(|(p, _)| priority < p) {
                    best = Some((priority, c));
                }
            }
            best.map(|(_, c)| c).ok_or_else(|| {
                let what = if axis == Axis::Lon { "longitude" } else { "latitude" };
                let hint = if other_systems.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} look like another coordinate system than the declared {}: declare that crs or name the column",
                        other_systems.join(", "),
                        opts.crs
                    )
                };
                IoError::at(path, "line 1", format!("no {what} column; {}{hint}", found()))
            })
        };
        let lon = match &opts.lon_column {
            Some(n) => named("longitude", n)?,
            None => detect(Axis::Lon)?,
        };
        let lat = match &opts.lat_column {
            Some(n) => named("latitude", n)?,
            None => detect(Axis::Lat)?,
        };
        if lon == lat {
            return Err(IoError::at(
                path,
                "line 1",
                format!("longitude and latitude are both column '{}'", headers[lon]),
            ));
        }
        let id = match &opts.id_column {
            Some(n) if n == RECORD_NUMBER_ID => None,
            Some(n) => Some(named("id", n)?),
            None => detect_id(headers, &[lon, lat]),
        };
        Ok(Columns { id, lon, lat })
    }
}

fn detect_id(headers: &[String], taken: &[usize]) -> Option<usize> {
    const ID_NAMES: &[&str] = &["id", "sid", "fid", "objectid", "编号", "序号"];
    let lower: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
    let free = |c: &usize| !taken.contains(c);
    for name in ID_NAMES {
        if let Some(c) = (0..lower.len()).filter(free).find(|&c| lower[c] == *name) {
            return Some(c);
        }
    }
    if let Some(c) = (0..lower.len())
        .filter(free)
        .find(|&c| lower[c] == "name" || lower[c] == "名称")
    {
        return Some(c);
    }
    (0..lower.len())
        .filter(free)
        .find(|&c| lower[c].ends_with("name") || lower[c].ends_with("名称"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_data;
    use renxing_geo::distance::haversine_m;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> std::path::PathBuf {
        let p = dir.path().join(name);
        let mut f = std::fs::File::create(&p).expect("create");
        f.write_all(content).expect("write");
        p
    }

    #[test]
    fn beijing_shelters_prefers_wgs84_columns_and_converts_gcj02() {
        let Some(p) = shared_data::file("cn/beijing/shelters_myshelter.csv") else {
            return;
        };
        // WGS84 declared: the *_wgs84 columns are taken as they are
        let wgs = read_points_csv(&p, &PointsCsvOptions::default()).expect("read wgs84");
        // 1,181 shelters (data README)
        assert_eq!(wgs.len(), 1181);
        assert_eq!(wgs[0].id, "bj0");
        // first line of the file: bj0,116.358316,39.880533,116.352132,39.879178
        assert_eq!((wgs[0].lon, wgs[0].lat), (116.352132, 39.879178));
        assert_eq!(wgs[0].attrs.len(), 2);
        assert_eq!(wgs[0].attrs[0], ("lon_gcj02".to_string(), "116.358316".to_string()));
        // GCJ-02 declared: the *_gcj02 columns are converted; they land on the file's WGS84
        let opts = PointsCsvOptions {
            crs: Crs::Gcj02,
            ..Default::default()
        };
        let gcj = read_points_csv(&p, &opts).expect("read gcj02");
        let max = gcj
            .iter()
            .zip(&wgs)
            .map(|(a, b)| haversine_m(a.lon, a.lat, b.lon, b.lat))
            .fold(0.0f64, f64::max);
        eprintln!("beijing shelters via GCJ-02: max distance to the file's WGS84 {max:.3} m");
        assert!(max <= 5.0, "{max}");
    }

    #[test]
    fn wuhan_chinese_headers_and_shanghai_lat_first() {
        if let Some(p) = shared_data::file("cn/wuhan/waterlogging_points_named_v1.csv") {
            let pts = read_points_csv(&p, &PointsCsvOptions::default()).expect("wuhan");
            // 9 points (data README); header 纬度 (Latitude), 经度 (Longitude); id 序号
            assert_eq!(pts.len(), 9);
            assert_eq!(pts[0].id, "1");
            // first row: 30.4612 (lat), 114.4249 (lon)
            assert_eq!((pts[0].lon, pts[0].lat), (114.4249, 30.4612));
            assert_eq!(pts[0].attrs[0].0, "潜在内涝点名称");
        }
        if let Some(p) = shared_data::file("validation/spopt_sf/SF_store_site_16_longlat.csv") {
            let pts = read_points_csv(&p, &PointsCsvOptions::default()).expect("sf");
            assert_eq!(pts.len(), 16);
            assert_eq!(pts[0].id, "1"); // OBJECTID
            assert_eq!((pts[0].lon, pts[0].lat), (-122.510018182, 37.7723636370001));
        }
        if let Some(p) = shared_data::file("cn/shanghai/poi_amap/shanghai_hospital.csv") {
            // names repeat (115 names are used more than once): the first repeat is an error
            let err = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("dup names");
            assert!(err.message.contains("duplicate id"), "{err}");
            assert!(err.message.contains("already used on line"), "{err}");
        }
    }

    #[test]
    fn bom_gbk_and_tab() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(&dir, "bom.csv", "\u{feff}ID,Lng,Lat,名称\na,116.1,39.9,甲\n".as_bytes());
        let pts = read_points_csv(&p, &PointsCsvOptions::default()).expect("bom");
        assert_eq!(pts[0].id, "a");
        assert_eq!(pts[0].attrs, vec![("名称".to_string(), "甲".to_string())]);
        let (gbk, _, _) = encoding_rs::GBK.encode("名称,经度,纬度\n避难所,116.1,39.9\n");
        let p = write(&dir, "gbk.csv", &gbk);
        let pts = read_points_csv(&p, &PointsCsvOptions::default()).expect("gbk");
        assert_eq!(pts[0].id, "避难所");
        let p = write(&dir, "tab.tsv", b"x\ty\n500000\t3320000\n");
        let opts = PointsCsvOptions {
            crs: Crs::Epsg(4547),
            ..Default::default()
        };
        let pts = read_points_csv(&p, &opts).expect("tab, projected");
        assert_eq!(pts[0].id, "1");
        assert!(
            (pts[0].lon - 114.0).abs() < 1e-9 && (pts[0].lat - 30.0).abs() < 0.01,
            "{pts:?}"
        );
    }

    #[test]
    fn errors_name_file_line_and_columns() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(&dir, "empty.csv", b"");
        let e = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("empty");
        assert!(
            e.to_string().contains("empty.csv") && e.message.contains("empty file"),
            "{e}"
        );

        let p = write(&dir, "header.csv", b"id,lon,lat\n");
        let e = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("no rows");
        assert!(e.message.contains("no point rows"), "{e}");

        let p = write(&dir, "nocol.csv", b"id,easting,northing\n1,2,3\n");
        let e = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("missing");
        assert!(
            e.message.contains("no longitude column") && e.message.contains("easting, northing"),
            "{e}"
        );

        let p = write(&dir, "gcjonly.csv", b"sid,lon_gcj02,lat_gcj02\n1,116.1,39.9\n");
        let e = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("other system");
        assert!(e.message.contains("'lon_gcj02' (gcj02)"), "{e}");

        let opts = PointsCsvOptions {
            lat_column: Some("breite".into()),
            ..Default::default()
        };
        let p = write(&dir, "named.csv", b"id,lon,lat\n1,116.1,39.9\n");
        let e = read_points_csv(&p, &opts).expect_err("named missing");
        assert!(
            e.message.contains("no latitude column 'breite'") && e.message.contains("id, lon, lat"),
            "{e}"
        );

        let p = write(&dir, "nan.csv", b"id,lon,lat\n1,116.1,39.9\n2,abc,39.9\n");
        let e = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("number");
        assert_eq!(e.position.as_deref(), Some("line 3"));
        assert!(e.message.contains("'abc' is not a number"), "{e}");

        let p = write(&dir, "range.csv", b"id,lon,lat\n1,116.1,39.9\n2,116.1,95\n");
        let e = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("range");
        assert_eq!(e.position.as_deref(), Some("line 3"));
        assert!(e.message.contains("out of range"), "{e}");

        let p = write(
            &dir,
            "dup.csv",
            b"id,lon,lat\na,116.1,39.9\nb,116.2,39.9\na,116.3,39.9\n",
        );
        let e = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("dup");
        assert_eq!(e.position.as_deref(), Some("line 4"));
        assert!(e.message.contains("duplicate id 'a': already used on line 2"), "{e}");

        let p = write(&dir, "ragged.csv", b"id,lon,lat\na,116.1,39.9\nb,116.2\n");
        let e = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("ragged");
        assert_eq!(e.position.as_deref(), Some("line 3"));

        let p = write(&dir, "bad.csv", &[b'i', b'd', b'\n', 0xff, 0xfe, 0xff, b'\n']);
        let e = read_points_csv(&p, &PointsCsvOptions::default()).expect_err("encoding");
        assert!(e.message.contains("neither UTF-8 nor GBK"), "{e}");

        let e = read_points_csv(&dir.path().join("absent.csv"), &PointsCsvOptions::default()).expect_err("absent");
        assert!(e.to_string().contains("absent.csv"), "{e}");
    }
}
