//! # GeoPackage writer and layer reader
//!
//! A GeoPackage (OGC 12-128, here version 1.3) is one SQLite database file with a fixed set of
//! metadata tables that describe which ordinary tables hold features. Renxing writes its results
//! in this format so that QGIS and GDAL open them directly, and reads layers back from
//! GeoPackages written by other tools.
//!
//! ## What [`write_geopackage`] produces
//!
//! * **File header.** The SQLite header carries `application_id` = `0x47504B47` (the ASCII bytes
//!   `GPKG`) and `user_version` = `10300` (GeoPackage 1.3.0). Version 1.3 rather than 1.4 because
//!   GDAL 3.6 (Debian 12) warns about 1.4 files.
//! * **`gpkg_spatial_ref_sys`** — the coordinate systems used by the file. It always has the three
//!   rows the standard demands: `-1` (undefined Cartesian), `0` (undefined geographic) and `4326`
//!   (WGS 84, with its EPSG WKT 1 definition). Every layer this writer creates uses 4326: `x` is
//!   longitude and `y` latitude, in decimal degrees (GeoPackage always stores x/y in that order,
//!   whatever axis order the EPSG definition states).
//! * **`gpkg_contents`** — one row per layer: `table_name` (= the layer name), `data_type`
//!   (`features` for a layer with geometry, `attributes` for a plain table), `identifier` (= the
//!   layer name), `description`, `last_change` (UTC, ISO 8601 with milliseconds), the layer extent
//!   `min_x`, `min_y`, `max_x`, `max_y` (NULL when the layer has no non-empty geometry, and for
//!   attribute tables) and `srs_id` (4326 for feature layers, NULL for attribute tables).
//! * **`gpkg_geometry_columns`** — one row per feature layer: the geometry column is always
//!   `geom`, its `geometry_type_name` is `POINT`, `LINESTRING`, `POLYGON`, `MULTIPOINT`,
//!   `MULTILINESTRING` or `MULTIPOLYGON`, `srs_id` 4326, `z` = `m` = 0 (2D only).
//! * **One table per layer**, named after the layer: `fid INTEGER PRIMARY KEY AUTOINCREMENT`
//!   (1, 2, … in input order), then for feature layers `geom` declared with the geometry type
//!   name (it holds BLOBs), then the attribute columns in the given order, declared `INTEGER`,
//!   `REAL` or `TEXT`. A NaN real is stored as NULL.
//! * **Spatial index.** For each feature layer a virtual R-tree table `rtree_<layer>_geom`
//!   `(id, minx, maxx, miny, maxy)` filled at write time with the bounding box of each non-empty
//!   geometry (`id` = fid), the six maintenance triggers of the standard's R-tree extension
//!   (created after the data, so they only run when a GIS later edits the layer; they call the
//!   `ST_*` SQL functions that GDAL/QGIS provide), and a `gpkg_extensions` row
//!   (`gpkg_rtree_index`, scope `write-only`) that announces the index.
//!
//! ## Geometry encoding
//!
//! A geometry cell is a *GeoPackage binary* blob: an 8-byte header, an optional envelope, then
//! the geometry as ISO WKB.
//!
//! | bytes | content |
//! |---|---|
//! | 0–1 | magic `GP` (`0x47 0x50`) |
//! | 2 | version, 0 |
//! | 3 | flags: bit 0 byte order of header numbers (1 = little-endian), bits 1–3 envelope kind (0 none, 1 = xy, 2 = xyz, 3 = xym, 4 = xyzm), bit 4 empty geometry, bit 5 "extended" (non-standard) geometry |
//! | 4–7 | `srs_id`, int32 |
//! | 8… | envelope as doubles: `minx, maxx, miny, maxy` (then `minz, maxz` and/or `minm, maxm`) |
//! | … | WKB |
//!
//! The writer uses little-endian everywhere, writes an xy envelope for every non-empty geometry
//! except single points (whose envelope is the point itself), and for an empty geometry sets the
//! empty flag and writes no envelope. WKB: one byte order byte (1 = little-endian, 0 = big),
//! a uint32 type code (1 Point, 2 LineString, 3 Polygon, 4 MultiPoint, 5 MultiLineString,
//! 6 MultiPolygon, 7 GeometryCollection; ISO adds 1000 for Z, 2000 for M, 3000 for ZM), then
//! the coordinates as doubles: a point is `x y`; a line string is a uint32 point count and the
//! points; a polygon is a uint32 ring count and each ring as a line string (first ring the
//! exterior, ring orientation kept as given); a multi-geometry is a uint32 count followed by
//! complete WKB geometries. An empty point is `NaN NaN` (other tools write it; it reads as no
//! geometry).
//!
//! A feature whose geometry is a single part where the layer is of the matching multi kind is
//! written as a one-part multi geometry; a `Line` is written as a two-point line string and a
//! `Rect` or `Triangle` as a polygon. Any other mismatch, a non-finite coordinate, a wrong number
//! of values or a value of the wrong type is an error naming the layer and the feature index.
//!
//! ## Writing is atomic
//!
//! Everything is written in one transaction into a temporary file beside the target
//! (`.<name>.<pid>.<n>.tmp`), which is renamed over the target only after the commit succeeded.
//! On any error the temporary file is deleted and an existing target is left untouched.
//!
//! ## Reading
//!
//! [`layer_names`], [`read_layer`] and [`layer_srs`] read any GeoPackage (also files by GDAL,
//! QGIS, geopandas…). [`read_layer`] returns the features ordered by primary key, the geometry
//! decoded from the blob (big- or little-endian; Z and M values are read and dropped; an empty
//! point becomes `None`) and every other column by name, except the primary key and columns
//! declared `BLOB`. Coordinates are returned as stored, in the layer's CRS: call [`layer_srs`]
//! (e.g. 3857 for Web Mercator) and transform if that is not 4326.
//! A layer is looked up in `gpkg_contents` (case-insensitively); without a name the first
//! `features` row is taken. An attribute table can be read by name (its geometries are `None`).
//! Tile and coverage tables are not layers here. A BLOB found in a non-BLOB column is an error
//! naming the layer, feature index, fid and column.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::IoError;
use crate::error::Result;

/// `application_id` of a GeoPackage: the ASCII bytes `GPKG`.
pub const APPLICATION_ID: i32 = 0x4750_4B47;
/// `user_version` written: GeoPackage 1.3.0.
pub const USER_VERSION: i32 = 10300;
/// The SRS of every layer written: WGS 84 longitude/latitude.
pub const WGS84_SRS_ID: i64 = 4326;

/// EPSG:4326 as OGC WKT 1 (the form GeoPackage 1.x stores in `definition`).
const WGS84_WKT: &str = concat!(
    r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,"#,
    r#"AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],"#,
    r#"PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],"#,
    r#"UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],"#,
    r#"AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#
);

/// Type of an attribute column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Integer,
    Real,
    Text,
}

impl FieldType {
    fn sql(self) -> &'static str {
        match self {
            FieldType::Integer => "INTEGER",
            FieldType::Real => "REAL",
            FieldType::Text => "TEXT",
        }
    }
}

/// One attribute value. `Integer` is accepted in a `Real` column (converted); `Null` anywhere.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

/// Geometry type of a feature layer (the `geometry_type_name` of its `geom` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    Point,
    LineString,
    Polygon,
    MultiPoint,
    MultiLineString,
    MultiPolygon,
}

impl GeometryKind {
    /// The GeoPackage geometry type name, e.g. `MULTIPOLYGON`.
    pub fn sql_name(self) -> &'static str {
        match self {
            GeometryKind::Point => "POINT",
            GeometryKind::LineString => "LINESTRING",
            GeometryKind::Polygon => "POLYGON",
            GeometryKind::MultiPoint => "MULTIPOINT",
            GeometryKind::MultiLineString => "MULTILINESTRING",
            GeometryKind::MultiPolygon => "MULTIPOLYGON",
        }
    }
}

/// One layer to write: a feature table when `kind` is set, an attribute table otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Table name: `[a-z][a-z0-9_]*`, not starting with `gpkg_`, `rtree_` or `sqlite_`.
    pub name: String,
    pub description: String,
    /// `None` → attribute table (data_type `attributes`); features must then have no geometry.
    pub kind: Option<GeometryKind>,
    /// Attribute columns, in order. Names: any non-empty text without control characters or
    /// surrounding spaces, unique (case-insensitively), not `fid` or `geom`.
    pub fields: Vec<(String, FieldType)>,
    pub features: Vec<Feature>,
}

/// One row: an optional geometry (lon/lat, EPSG:4326) and one value per field of the layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub geometry: Option<Geometry<f64>>,
    pub values: Vec<Value>,
}

/// One feature as read back: geometry and (column name, value) pairs in table column order.
pub type ReadFeature = (Option<Geometry<f64>>, Vec<(String, Value)>);

// ------------------------------------------------------------------------------------------
// Writing
// ------------------------------------------------------------------------------------------

/// Writes all layers into a new GeoPackage at `path` (EPSG:4326 lon/lat), atomically: a temp
/// file in the same folder, renamed over `path` only when everything is written; nothing is
/// left on error.
pub fn write_geopackage(path: &Path, layers: &[Layer]) -> Result<()> {
    validate_layers(path, layers)?;
    let tmp = create_temp_file(path)?;
    let written = write_all(&tmp, path, layers);
    let result = written.and_then(|()| std::fs::rename(&tmp, path).map_err(|e| IoError::os(path, e)));
    if result.is_err() {
        remove_temp(&tmp);
        return result;
    }
    // Make the rename durable (best effort: not every platform can open a directory).
    if let Ok(dir) = std::fs::File::open(parent_dir(path)) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates an empty, new temp file beside `path` (never reusing an existing name).
fn create_temp_file(path: &Path) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .ok_or_else(|| IoError::new(path, "the output path has no file name"))?
        .to_string_lossy()
        .into_owned();
    let dir = parent_dir(path);
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{file_name}.{}.{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(_) => return Ok(tmp),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(IoError::new(
                    path,
                    format!("cannot create a temporary file in {}: {e}", dir.display()),
                ));
            }
        }
    }
    Err(IoError::new(path, "cannot find a free temporary file name"))
}

fn remove_temp(tmp: &Path) {
    let _ = std::fs::remove_file(tmp);
    for suffix in ["-journal", "-wal", "-shm"] {
        let mut side = tmp.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
}

fn is_valid_layer_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && !["gpkg_", "rtree_", "sqlite_"].iter().any(|p| name.starts_with(p))
}

fn validate_layers(path: &Path, layers: &[Layer]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (li, layer) in layers.iter().enumerate() {
        let at = || format!("layer {li} ({:?})", layer.name);
        if !is_valid_layer_name(&layer.name) {
            return Err(IoError::at(
                path,
                at(),
                "invalid layer name: it must match [a-z][a-z0-9_]* and not start with gpkg_, rtree_ or sqlite_",
            ));
        }
        if !seen.insert(layer.name.as_str()) {
            return Err(IoError::at(path, at(), "duplicate layer name"));
        }
        let mut fields = std::collections::HashSet::new();
        for (fi, (name, _)) in layer.fields.iter().enumerate() {
            let bad = if name.is_empty() {
                Some("is empty")
            } else if name.trim() != name {
                Some("has leading or trailing spaces")
            } else if name.chars().any(char::is_control) {
                Some("contains a control character")
            } else if name.eq_ignore_ascii_case("fid") || name.eq_ignore_ascii_case("geom") {
                Some("is reserved (fid and geom are written by the writer)")
            } else if !fields.insert(name.to_lowercase()) {
                Some("is a duplicate (column names are case-insensitive)")
            } else {
                None
            };
            if let Some(why) = bad {
                return Err(IoError::at(
                    path,
                    format!("{}, field {fi}", at()),
                    format!("field name {name:?} {why}"),
                ));
            }
        }
    }
    Ok(())
}

/// Double-quotes an SQL identifier.
fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

const CORE_TABLES: &str = "
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
";

/// The R-tree maintenance triggers of the GeoPackage 1.3 R-tree extension, for table `t`,
/// geometry column `geom`, primary key `fid` and index table `r`.
fn rtree_triggers(t: &str) -> String {
    let tq = quote(t);
    let r = quote(&format!("rtree_{t}_geom"));
    let name = |suffix: &str| quote(&format!("rtree_{t}_geom_{suffix}"));
    let bbox = "ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)";
    let mut sql = String::new();
    // A new row with a non-empty geometry gets an index entry.
    sql += &format!(
        "CREATE TRIGGER {} AFTER INSERT ON {tq} WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
         BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {bbox}); END;\n",
        name("insert")
    );
    // Geometry changed to a non-empty one, same fid: replace the entry.
    sql += &format!(
        "CREATE TRIGGER {} AFTER UPDATE OF geom ON {tq}
         WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
         BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {bbox}); END;\n",
        name("update1")
    );
    // Geometry changed to NULL or empty, same fid: drop the entry.
    sql += &format!(
        "CREATE TRIGGER {} AFTER UPDATE OF geom ON {tq}
         WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
         BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;\n",
        name("update2")
    );
    // fid changed, geometry non-empty: move the entry.
    sql += &format!(
        "CREATE TRIGGER {} AFTER UPDATE ON {tq}
         WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
         BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {bbox}); END;\n",
        name("update3")
    );
    // fid changed, geometry NULL or empty: drop both ids.
    sql += &format!(
        "CREATE TRIGGER {} AFTER UPDATE ON {tq}
         WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
         BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;\n",
        name("update4")
    );
    // Row deleted.
    sql += &format!(
        "CREATE TRIGGER {} AFTER DELETE ON {tq} WHEN OLD.geom NOT NULL
         BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;\n",
        name("delete")
    );
    sql
}

fn write_all(tmp: &Path, path: &Path, layers: &[Layer]) -> Result<()> {
    let sql = |what: &'static str| move |e: rusqlite::Error| IoError::new(path, format!("{what}: {e}"));
    let mut conn =
        Connection::open_with_flags(tmp, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(sql("cannot open the temporary database"))?;
    // The temp file is deleted on failure, so a rollback journal on disk buys nothing.
    conn.pragma_update_and_check(None, "journal_mode", "MEMORY", |r| r.get::<_, String>(0))
        .map_err(sql("cannot set the journal mode"))?;
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};"
    ))
    .map_err(sql("cannot set the GeoPackage header"))?;

    let tx = conn.transaction().map_err(sql("cannot begin the transaction"))?;
    tx.execute_batch(CORE_TABLES)
        .map_err(sql("cannot create the GeoPackage tables"))?;
    {
        let mut srs = tx
            .prepare(
                "INSERT INTO gpkg_spatial_ref_sys
                 (srs_name, srs_id, organization, organization_coordsys_id, definition, description)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(sql("cannot prepare the SRS insert"))?;
        let rows: [(&str, i64, &str, i64, &str, &str); 3] = [
            (
                "Undefined Cartesian SRS",
                -1,
                "NONE",
                -1,
                "undefined",
                "undefined Cartesian coordinate reference system",
            ),
            (
                "Undefined geographic SRS",
                0,
                "NONE",
                0,
                "undefined",
                "undefined geographic coordinate reference system",
            ),
            (
                "WGS 84 geodetic",
                WGS84_SRS_ID,
                "EPSG",
                4326,
                WGS84_WKT,
                "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
            ),
        ];
        for row in rows {
            srs.execute(row).map_err(sql("cannot insert an SRS row"))?;
        }
    }
    for layer in layers {
        write_layer(&tx, path, layer)?;
    }
    tx.commit().map_err(sql("cannot commit"))?;
    conn.close()
        .map_err(|(_, e)| IoError::new(path, format!("cannot close the database: {e}")))?;
    Ok(())
}

fn write_layer(tx: &rusqlite::Transaction<'_>, path: &Path, layer: &Layer) -> Result<()> {
    let lname = &layer.name;
    let sql = |what: &'static str| {
        move |e: rusqlite::Error| IoError::at(path, format!("layer {lname:?}"), format!("{what}: {e}"))
    };
    let t = quote(lname);
    let mut columns = vec!["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL".to_string()];
    if let Some(kind) = layer.kind {
        columns.push(format!("geom {}", kind.sql_name()));
    }
    for (name, ft) in &layer.fields {
        columns.push(format!("{} {}", quote(name), ft.sql()));
    }
    tx.execute_batch(&format!("CREATE TABLE {t} ({});", columns.join(", ")))
        .map_err(sql("cannot create the table"))?;
    let data_type = if layer.kind.is_some() { "features" } else { "attributes" };
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
         VALUES (?1, ?2, ?1, ?3, ?4)",
        (lname, data_type, &layer.description, layer.kind.map(|_| WGS84_SRS_ID)),
    )
    .map_err(sql("cannot register the layer in gpkg_contents"))?;
    let rtree = quote(&format!("rtree_{lname}_geom"));
    if let Some(kind) = layer.kind {
        tx.execute(
            "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)
             VALUES (?1, 'geom', ?2, ?3, 0, 0)",
            (lname, kind.sql_name(), WGS84_SRS_ID),
        )
        .map_err(sql("cannot register the geometry column"))?;
        tx.execute_batch(&format!(
            "CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy);"
        ))
        .map_err(sql("cannot create the R-tree index"))?;
        tx.execute(
            "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)
             VALUES (?1, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec/#extension_rtree', 'write-only')",
            [lname],
        )
        .map_err(sql("cannot register the R-tree extension"))?;
    }

    let n_fields = layer.fields.len();
    let has_geom = layer.kind.is_some();
    let mut names = vec!["fid".to_string()];
    if has_geom {
        names.push("geom".into());
    }
    names.extend(layer.fields.iter().map(|(n, _)| quote(n)));
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let mut insert = tx
        .prepare(&format!(
            "INSERT INTO {t} ({}) VALUES ({})",
            names.join(", "),
            placeholders.join(", ")
        ))
        .map_err(sql("cannot prepare the feature insert"))?;
    let mut insert_rtree = match layer.kind {
        Some(_) => Some(
            tx.prepare(&format!(
                "INSERT INTO {rtree} (id, minx, maxx, miny, maxy) VALUES (?1, ?2, ?3, ?4, ?5)"
            ))
            .map_err(sql("cannot prepare the R-tree insert"))?,
        ),
        None => None,
    };

    let mut extent: Option<Bbox> = None;
    let mut blob = Vec::new();
    for (fi, feature) in layer.features.iter().enumerate() {
        let at = || format!("layer {lname:?}, feature {fi}");
        if feature.values.len() != n_fields {
            return Err(IoError::at(
                path,
                at(),
                format!("{} values for {n_fields} fields", feature.values.len()),
            ));
        }
        let fid = fi as i64 + 1;
        let mut p = 1;
        bind(&mut insert, p, fid).map_err(|e| IoError::at(path, at(), e.to_string()))?;
        p += 1;
        let mut bbox = None;
        match (layer.kind, &feature.geometry) {
            (Some(kind), Some(g)) => {
                let g = conform(g, kind).map_err(|m| IoError::at(path, at(), m))?;
                blob.clear();
                bbox = encode_blob(&g, WGS84_SRS_ID as i32, &mut blob).map_err(|m| IoError::at(path, at(), m))?;
                bind(&mut insert, p, blob.as_slice()).map_err(|e| IoError::at(path, at(), e.to_string()))?;
                p += 1;
            }
            (Some(_), None) => {
                bind(&mut insert, p, rusqlite::types::Null).map_err(|e| IoError::at(path, at(), e.to_string()))?;
                p += 1;
            }
            (None, Some(_)) => {
                return Err(IoError::at(
                    path,
                    at(),
                    "has a geometry but the layer is an attribute table (kind None)",
                ));
            }
            (None, None) => {}
        }
        for (vi, (value, (fname, ft))) in feature.values.iter().zip(&layer.fields).enumerate() {
            let r = match (value, ft) {
                (Value::Null, _) => bind(&mut insert, p + vi, rusqlite::types::Null),
                (Value::Integer(i), FieldType::Integer) => bind(&mut insert, p + vi, *i),
                (Value::Integer(i), FieldType::Real) => bind(&mut insert, p + vi, *i as f64),
                (Value::Real(x), FieldType::Real) if x.is_nan() => bind(&mut insert, p + vi, rusqlite::types::Null),
                (Value::Real(x), FieldType::Real) => bind(&mut insert, p + vi, *x),
                (Value::Text(s), FieldType::Text) => bind(&mut insert, p + vi, s.as_str()),
                (v, ft) => {
                    return Err(IoError::at(
                        path,
                        format!("{}, field {fname:?}", at()),
                        format!("value {v:?} does not fit a {ft:?} field"),
                    ));
                }
            };
            r.map_err(|e| IoError::at(path, at(), e.to_string()))?;
        }
        insert
            .raw_execute()
            .map_err(|e| IoError::at(path, at(), format!("cannot insert: {e}")))?;
        if let (Some(b), Some(stmt)) = (bbox, insert_rtree.as_mut()) {
            stmt.execute((fid, b.min_x, b.max_x, b.min_y, b.max_y))
                .map_err(|e| IoError::at(path, at(), format!("cannot index: {e}")))?;
            extent = Some(extent.map_or(b, |e| e.union(b)));
        }
    }
    drop(insert);
    drop(insert_rtree);
    if let Some(e) = extent {
        tx.execute(
            "UPDATE gpkg_contents SET min_x = ?2, min_y = ?3, max_x = ?4, max_y = ?5 WHERE table_name = ?1",
            (lname, e.min_x, e.min_y, e.max_x, e.max_y),
        )
        .map_err(sql("cannot store the layer extent"))?;
    }
    if layer.kind.is_some() {
        tx.execute_batch(&rtree_triggers(lname))
            .map_err(sql("cannot create the R-tree triggers"))?;
    }
    Ok(())
}

fn bind<T: rusqlite::ToSql>(stmt: &mut rusqlite::Statement<'_>, index: usize, value: T) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(index, value)
}

/// Brings a geometry to the layer kind: exact match, single → multi, Line → LineString,
/// Rect/Triangle → Polygon. Anything else is an error message.
fn conform(g: &Geometry<f64>, kind: GeometryKind) -> std::result::Result<Cow<'_, Geometry<f64>>, String> {
    use GeometryKind as K;
    let line = |l: &geo_types::Line<f64>| LineString::new(vec![l.start, l.end]);
    let owned = match (kind, g) {
        (K::Point, Geometry::Point(_))
        | (K::LineString, Geometry::LineString(_))
        | (K::Polygon, Geometry::Polygon(_))
        | (K::MultiPoint, Geometry::MultiPoint(_))
        | (K::MultiLineString, Geometry::MultiLineString(_))
        | (K::MultiPolygon, Geometry::MultiPolygon(_)) => return Ok(Cow::Borrowed(g)),
        (K::LineString, Geometry::Line(l)) => Geometry::LineString(line(l)),
        (K::Polygon, Geometry::Rect(r)) => Geometry::Polygon(r.to_polygon()),
        (K::Polygon, Geometry::Triangle(t)) => Geometry::Polygon(t.to_polygon()),
        (K::MultiPoint, Geometry::Point(p)) => Geometry::MultiPoint(MultiPoint::new(vec![*p])),
        (K::MultiLineString, Geometry::LineString(l)) => {
            Geometry::MultiLineString(MultiLineString::new(vec![l.clone()]))
        }
        (K::MultiLineString, Geometry::Line(l)) => Geometry::MultiLineString(MultiLineString::new(vec![line(l)])),
        (K::MultiPolygon, Geometry::Polygon(p)) => Geometry::MultiPolygon(MultiPolygon::new(vec![p.clone()])),
        (K::MultiPolygon, Geometry::Rect(r)) => Geometry::MultiPolygon(MultiPolygon::new(vec![r.to_polygon()])),
        (K::MultiPolygon, Geometry::Triangle(t)) => Geometry::MultiPolygon(MultiPolygon::new(vec![t.to_polygon()])),
        (kind, g) => {
            return Err(format!(
                "geometry is a {} but the layer holds {}",
                geometry_name(g),
                kind.sql_name()
            ));
        }
    };
    Ok(Cow::Owned(owned))
}

fn geometry_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

// ------------------------------------------------------------------------------------------
// Geometry blobs and WKB
// ------------------------------------------------------------------------------------------

/// A 2D bounding box.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bbox {
    min_x: f64,
    min_y: f64,
    max_x: f64,
    max_y: f64,
}

impl Bbox {
    fn of(c: Coord<f64>) -> Bbox {
        Bbox {
            min_x: c.x,
            min_y: c.y,
            max_x: c.x,
            max_y: c.y,
        }
    }
    fn union(self, o: Bbox) -> Bbox {
        Bbox {
            min_x: self.min_x.min(o.min_x),
            min_y: self.min_y.min(o.min_y),
            max_x: self.max_x.max(o.max_x),
            max_y: self.max_y.max(o.max_y),
        }
    }
}

/// Appends the GeoPackage binary form of `g` (header, envelope, little-endian ISO WKB) to `out`
/// and returns its bounding box (`None` for an empty geometry). Errors on a non-finite
/// coordinate or a count above `u32::MAX`.
fn encode_blob(g: &Geometry<f64>, srs_id: i32, out: &mut Vec<u8>) -> std::result::Result<Option<Bbox>, String> {
    let mut wkb = Vec::new();
    let mut bbox = None;
    write_wkb(g, &mut wkb, &mut bbox)?;
    let is_point = matches!(g, Geometry::Point(_));
    out.extend_from_slice(b"GP");
    out.push(0); // version
    let flags: u8 = match bbox {
        None => 0b0001_0001,                // little-endian, no envelope, empty
        Some(_) if is_point => 0b0000_0001, // little-endian, no envelope
        Some(_) => 0b0000_0011,             // little-endian, xy envelope
    };
    out.push(flags);
    out.extend_from_slice(&srs_id.to_le_bytes());
    if let (Some(b), false) = (bbox, is_point) {
        for v in [b.min_x, b.max_x, b.min_y, b.max_y] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.extend_from_slice(&wkb);
    Ok(bbox)
}

/// Encodes a 2D geometry as little-endian ISO WKB. `Line`, `Rect` and `Triangle` are written as
/// LineString and Polygon; a `GeometryCollection` as type 7. Errors on non-finite coordinates.
pub fn encode_wkb(g: &Geometry<f64>) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    write_wkb(g, &mut out, &mut None)?;
    Ok(out)
}

fn put_u32(out: &mut Vec<u8>, n: usize, what: &str) -> std::result::Result<(), String> {
    let n = u32::try_from(n).map_err(|_| format!("too many {what} ({n}) for WKB"))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

fn put_coord(out: &mut Vec<u8>, c: Coord<f64>, bbox: &mut Option<Bbox>) -> std::result::Result<(), String> {
    if !c.x.is_finite() || !c.y.is_finite() {
        return Err(format!("non-finite coordinate ({}, {})", c.x, c.y));
    }
    out.extend_from_slice(&c.x.to_le_bytes());
    out.extend_from_slice(&c.y.to_le_bytes());
    *bbox = Some(bbox.map_or(Bbox::of(c), |b| b.union(Bbox::of(c))));
    Ok(())
}

fn put_header(out: &mut Vec<u8>, code: u32) {
    out.push(1);
    out.extend_from_slice(&code.to_le_bytes());
}

fn put_line(out: &mut Vec<u8>, l: &LineString<f64>, bbox: &mut Option<Bbox>) -> std::result::Result<(), String> {
    put_u32(out, l.0.len(), "points")?;
    l.0.iter().try_for_each(|c| put_coord(out, *c, bbox))
}

fn put_polygon(out: &mut Vec<u8>, p: &Polygon<f64>, bbox: &mut Option<Bbox>) -> std::result::Result<(), String> {
    let empty = p.exterior().0.is_empty() && p.interiors().is_empty();
    let rings = if empty { 0 } else { 1 + p.interiors().len() };
    put_u32(out, rings, "rings")?;
    if !empty {
        put_line(out, p.exterior(), bbox)?;
        for r in p.interiors() {
            put_line(out, r, bbox)?;
        }
    }
    Ok(())
}

fn write_wkb(g: &Geometry<f64>, out: &mut Vec<u8>, bbox: &mut Option<Bbox>) -> std::result::Result<(), String> {
    match g {
        Geometry::Point(p) => {
            put_header(out, 1);
            put_coord(out, p.0, bbox)
        }
        Geometry::Line(l) => {
            put_header(out, 2);
            put_u32(out, 2, "points")?;
            put_coord(out, l.start, bbox)?;
            put_coord(out, l.end, bbox)
        }
        Geometry::LineString(l) => {
            put_header(out, 2);
            put_line(out, l, bbox)
        }
        Geometry::Polygon(p) => {
            put_header(out, 3);
            put_polygon(out, p, bbox)
        }
        Geometry::Rect(r) => write_wkb(&Geometry::Polygon(r.to_polygon()), out, bbox),
        Geometry::Triangle(t) => write_wkb(&Geometry::Polygon(t.to_polygon()), out, bbox),
        Geometry::MultiPoint(m) => {
            put_header(out, 4);
            put_u32(out, m.0.len(), "points")?;
            for p in &m.0 {
                put_header(out, 1);
                put_coord(out, p.0, bbox)?;
            }
            Ok(())
        }
        Geometry::MultiLineString(m) => {
            put_header(out, 5);
            put_u32(out, m.0.len(), "line strings")?;
            for l in &m.0 {
                put_header(out, 2);
                put_line(out, l, bbox)?;
            }
            Ok(())
        }
        Geometry::MultiPolygon(m) => {
            put_header(out, 6);
            put_u32(out, m.0.len(), "polygons")?;
            for p in &m.0 {
                put_header(out, 3);
                put_polygon(out, p, bbox)?;
            }
            Ok(())
        }
        Geometry::GeometryCollection(c) => {
            put_header(out, 7);
            put_u32(out, c.0.len(), "geometries")?;
            c.0.iter().try_for_each(|g| write_wkb(g, out, bbox))
        }
    }
}

/// Decodes a GeoPackage binary geometry blob. `Ok(None)` for an empty point. Errors give the
/// byte offset inside the blob.
pub fn decode_blob(blob: &[u8]) -> std::result::Result<Option<Geometry<f64>>, String> {
    if blob.len() < 8 {
        return Err(format!(
            "geometry blob of {} bytes is shorter than the 8-byte header",
            blob.len()
        ));
    }
    if &blob[0..2] != b"GP" {
        return Err(format!(
            "byte 0: geometry blob does not start with 'GP' (found {:02x} {:02x})",
            blob[0], blob[1]
        ));
    }
    if blob[2] != 0 {
        return Err(format!("byte 2: unsupported GeoPackage binary version {}", blob[2]));
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err("byte 3: extended (non-standard) GeoPackage geometry is not supported".into());
    }
    let envelope_len = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        k => return Err(format!("byte 3: invalid envelope kind {k}")),
    };
    let start = 8 + envelope_len;
    if blob.len() < start {
        return Err(format!(
            "geometry blob of {} bytes ends inside its {envelope_len}-byte envelope",
            blob.len()
        ));
    }
    let mut r = WkbReader { buf: blob, pos: start };
    let g = r.geometry(0)?;
    if r.pos != blob.len() {
        return Err(format!(
            "byte {}: {} bytes after the end of the WKB geometry",
            r.pos,
            blob.len() - r.pos
        ));
    }
    Ok(g)
}

/// Decodes WKB (ISO or extended, either byte order; Z and M are dropped). `Ok(None)` for an
/// empty point. Errors give the byte offset.
pub fn decode_wkb(wkb: &[u8]) -> std::result::Result<Option<Geometry<f64>>, String> {
    let mut r = WkbReader { buf: wkb, pos: 0 };
    let g = r.geometry(0)?;
    if r.pos != wkb.len() {
        return Err(format!(
            "byte {}: {} bytes after the end of the WKB geometry",
            r.pos,
            wkb.len() - r.pos
        ));
    }
    Ok(g)
}

struct WkbReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// The deepest nesting of geometry collections accepted.
const MAX_DEPTH: usize = 32;

impl WkbReader<'_> {
    fn take<const N: usize>(&mut self) -> std::result::Result<[u8; N], String> {
        let end = self.pos.checked_add(N).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let mut a = [0u8; N];
                a.copy_from_slice(&self.buf[self.pos..end]);
                self.pos = end;
                Ok(a)
            }
            None => Err(format!(
                "byte {}: WKB ends early (needs {N} more bytes, {} left)",
                self.pos,
                self.buf.len() - self.pos
            )),
        }
    }
    fn u32(&mut self, le: bool) -> std::result::Result<u32, String> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
    fn f64(&mut self, le: bool) -> std::result::Result<f64, String> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }
    /// Reads a count and checks that `count * min_size` bytes remain, so a corrupt count cannot
    /// trigger a huge allocation.
    fn count(&mut self, le: bool, min_size: usize, what: &str) -> std::result::Result<usize, String> {
        let at = self.pos;
        let n = self.u32(le)? as usize;
        let left = self.buf.len() - self.pos;
        if n.saturating_mul(min_size) > left {
            return Err(format!("byte {at}: {n} {what} cannot fit in the {left} bytes left"));
        }
        Ok(n)
    }
    fn coord(&mut self, le: bool, dims: usize) -> std::result::Result<Coord<f64>, String> {
        let x = self.f64(le)?;
        let y = self.f64(le)?;
        for _ in 2..dims {
            self.f64(le)?;
        }
        Ok(Coord { x, y })
    }
    fn line(&mut self, le: bool, dims: usize) -> std::result::Result<LineString<f64>, String> {
        let n = self.count(le, 8 * dims, "points")?;
        let mut pts = Vec::with_capacity(n);
        for _ in 0..n {
            pts.push(self.coord(le, dims)?);
        }
        Ok(LineString::new(pts))
    }
    fn polygon(&mut self, le: bool, dims: usize) -> std::result::Result<Polygon<f64>, String> {
        let n = self.count(le, 4, "rings")?;
        let mut rings = Vec::with_capacity(n);
        for _ in 0..n {
            rings.push(self.line(le, dims)?);
        }
        let mut rings = rings.into_iter();
        let exterior = rings.next().unwrap_or_else(|| LineString::new(Vec::new()));
        Ok(Polygon::new(exterior, rings.collect()))
    }

    /// Reads one WKB geometry; returns (type code 1..=7, geometry or None for an empty point).
    fn typed(&mut self, depth: usize) -> std::result::Result<(u32, Option<Geometry<f64>>), String> {
        let at = self.pos;
        let le = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            b => return Err(format!("byte {at}: invalid WKB byte order {b}")),
        };
        let raw = self.u32(le)?;
        // Extended WKB (PostGIS) flags: Z, M, SRID present.
        let mut dims = 2;
        if raw & 0x8000_0000 != 0 {
            dims += 1;
        }
        if raw & 0x4000_0000 != 0 {
            dims += 1;
        }
        if raw & 0x2000_0000 != 0 {
            self.u32(le)?; // SRID, ignored
        }
        let iso = raw & 0x0FFF_FFFF;
        let code = iso % 1000;
        dims += match iso / 1000 {
            0 => 0,
            1 | 2 => 1,
            3 => 2,
            _ => return Err(format!("byte {}: unknown WKB geometry type {raw}", at + 1)),
        };
        if dims > 4 {
            return Err(format!(
                "byte {}: WKB geometry type {raw} mixes ISO and extended dimension flags",
                at + 1
            ));
        }
        let g = match code {
            1 => {
                let c = self.coord(le, dims)?;
                if c.x.is_nan() && c.y.is_nan() {
                    None
                } else {
                    Some(Geometry::Point(Point(c)))
                }
            }
            2 => Some(Geometry::LineString(self.line(le, dims)?)),
            3 => Some(Geometry::Polygon(self.polygon(le, dims)?)),
            4..=7 => {
                if depth >= MAX_DEPTH {
                    return Err(format!(
                        "byte {at}: geometry collections nested deeper than {MAX_DEPTH}"
                    ));
                }
                let n = self.count(le, 9, "parts")?;
                let mut parts = Vec::with_capacity(n);
                for _ in 0..n {
                    let part_at = self.pos;
                    let (part_code, part) = self.typed(depth + 1)?;
                    if code != 7 && part_code != code - 3 {
                        return Err(format!(
                            "byte {part_at}: WKB type {part_code} inside a multi geometry of type {code}"
                        ));
                    }
                    parts.push(part);
                }
                let parts = parts.into_iter().flatten();
                Some(match code {
                    4 => Geometry::MultiPoint(MultiPoint::new(
                        parts
                            .filter_map(|g| if let Geometry::Point(p) = g { Some(p) } else { None })
                            .collect(),
                    )),
                    5 => Geometry::MultiLineString(MultiLineString::new(
                        parts
                            .filter_map(|g| if let Geometry::LineString(l) = g { Some(l) } else { None })
                            .collect(),
                    )),
                    6 => Geometry::MultiPolygon(MultiPolygon::new(
                        parts
                            .filter_map(|g| if let Geometry::Polygon(p) = g { Some(p) } else { None })
                            .collect(),
                    )),
                    _ => Geometry::GeometryCollection(GeometryCollection::new_from(parts.collect())),
                })
            }
            _ => {
                return Err(format!(
                    "byte {}: unsupported WKB geometry type {raw} (only Point … GeometryCollection)",
                    at + 1
                ));
            }
        };
        Ok((code, g))
    }

    fn geometry(&mut self, depth: usize) -> std::result::Result<Option<Geometry<f64>>, String> {
        self.typed(depth).map(|(_, g)| g)
    }
}

// ------------------------------------------------------------------------------------------
// Reading
// ------------------------------------------------------------------------------------------

fn open_read(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(IoError::new(path, "no such GeoPackage file"));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| IoError::new(path, format!("cannot open as SQLite: {e}")))?;
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| IoError::new(path, format!("not a GeoPackage (SQLite says: {e})")))?;
    // 'GPKG' (1.2+), 'GP10' and 'GP11' (1.0, 1.1); 0 when a tool did not set it.
    if ![APPLICATION_ID, 0x4750_3130, 0x4750_3131, 0].contains(&app_id) {
        return Err(IoError::new(
            path,
            format!("not a GeoPackage: application_id is 0x{app_id:08x}"),
        ));
    }
    let has_contents: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_contents'",
            [],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )
        .map_err(|e| IoError::new(path, format!("cannot read the schema: {e}")))?;
    if !has_contents {
        return Err(IoError::new(path, "not a GeoPackage: it has no gpkg_contents table"));
    }
    Ok(conn)
}

/// Names of the feature and attribute tables listed in `gpkg_contents`, in the order they were
/// registered (tile and coverage tables are left out).
pub fn layer_names(path: &Path) -> Result<Vec<String>> {
    let conn = open_read(path)?;
    contents(&conn, path).map(|v| v.into_iter().map(|(name, _)| name).collect())
}

/// (table_name, data_type) of feature and attribute tables, in rowid order.
fn contents(conn: &Connection, path: &Path) -> Result<Vec<(String, String)>> {
    let err = |e: rusqlite::Error| IoError::new(path, format!("cannot read gpkg_contents: {e}"));
    let mut stmt = conn
        .prepare(
            "SELECT table_name, data_type FROM gpkg_contents
             WHERE data_type IN ('features', 'attributes') ORDER BY rowid",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(err)
}

/// Picks the layer: the named one (case-insensitively) or the first feature layer.
fn resolve(conn: &Connection, path: &Path, layer: Option<&str>) -> Result<(String, String)> {
    let all = contents(conn, path)?;
    match layer {
        Some(name) => all
            .into_iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                IoError::new(
                    path,
                    format!("no feature or attribute layer named {name:?} in gpkg_contents"),
                )
            }),
        None => all
            .into_iter()
            .find(|(_, d)| d == "features")
            .ok_or_else(|| IoError::new(path, "the GeoPackage has no feature layer")),
    }
}

/// The geometry column and srs_id of a feature table, from gpkg_geometry_columns.
fn geometry_column(conn: &Connection, path: &Path, table: &str) -> Result<Option<(String, i64)>> {
    conn.query_row(
        "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE lower(table_name) = lower(?1)",
        [table],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )
    .optional()
    .map_err(|e| {
        IoError::at(
            path,
            format!("layer {table:?}"),
            format!("cannot read gpkg_geometry_columns: {e}"),
        )
    })
}

/// The srs_id of a feature layer (the named one, or the first when `layer` is None), e.g. 4326
/// for files of [`write_geopackage`], 3857 for Web Mercator.
pub fn layer_srs(path: &Path, layer: Option<&str>) -> Result<i64> {
    let conn = open_read(path)?;
    let (table, data_type) = resolve(&conn, path, layer)?;
    match geometry_column(&conn, path, &table)? {
        Some((_, srs)) => Ok(srs),
        None => Err(IoError::at(
            path,
            format!("layer {table:?}"),
            format!("{data_type} table has no geometry column, hence no SRS"),
        )),
    }
}

/// The coordinate system of a feature layer as (organisation, code), e.g. `("EPSG", 4547)`:
/// `srs_id` values are only keys of `gpkg_spatial_ref_sys`, whose `organization` and
/// `organization_coordsys_id` columns say which system they stand for.
pub fn layer_srs_organization(path: &Path, layer: Option<&str>) -> Result<(String, i64)> {
    let srs_id = layer_srs(path, layer)?;
    let conn = open_read(path)?;
    conn.query_row(
        "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
        [srs_id],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )
    .map_err(|e| {
        IoError::at(
            path,
            format!("srs_id {srs_id}"),
            format!("not in gpkg_spatial_ref_sys: {e}"),
        )
    })
}

/// Reads one feature layer (the only one / the first when `layer` is None): geometry + named
/// values. An attribute table may be named too; its geometries are then all `None`.
pub fn read_layer(path: &Path, layer: Option<&str>) -> Result<Vec<ReadFeature>> {
    let conn = open_read(path)?;
    let (table, _) = resolve(&conn, path, layer)?;
    let at_layer = || format!("layer {table:?}");
    let geom_col = geometry_column(&conn, path, &table)?.map(|(c, _)| c);
    let err = |e: rusqlite::Error| IoError::at(path, at_layer(), e.to_string());

    // Columns: (name, declared type, primary key rank).
    let mut cols = Vec::new();
    {
        let mut stmt = conn
            .prepare(&format!("PRAGMA table_info({})", quote(&table)))
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(5)?))
            })
            .map_err(err)?;
        for row in rows {
            cols.push(row.map_err(err)?);
        }
    }
    if cols.is_empty() {
        return Err(IoError::at(
            path,
            at_layer(),
            "listed in gpkg_contents but the table does not exist",
        ));
    }
    let pks: Vec<&String> = cols.iter().filter(|c| c.2 > 0).map(|c| &c.0).collect();
    let order = match pks.as_slice() {
        [pk] => quote(pk),
        _ => "rowid".to_string(),
    };
    if let Some(g) = &geom_col
        && !cols.iter().any(|c| c.0.eq_ignore_ascii_case(g))
    {
        return Err(IoError::at(
            path,
            at_layer(),
            format!("geometry column {g:?} is not in the table"),
        ));
    }
    let is_geom = |name: &str| geom_col.as_deref().is_some_and(|g| g.eq_ignore_ascii_case(name));
    let value_cols: Vec<&String> = cols
        .iter()
        .filter(|c| c.2 == 0 && !is_geom(&c.0) && !c.1.eq_ignore_ascii_case("BLOB"))
        .map(|c| &c.0)
        .collect();
    let mut select = vec![order.clone(), geom_col.as_deref().map_or("NULL".to_string(), quote)];
    select.extend(value_cols.iter().map(|c| quote(c)));
    let sql = format!("SELECT {} FROM {} ORDER BY {order}", select.join(", "), quote(&table));
    let mut stmt = conn.prepare(&sql).map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let mut out = Vec::new();
    let mut index = 0usize;
    while let Some(row) = rows.next().map_err(err)? {
        let fid = row.get_ref(0).ok().and_then(|v| v.as_i64().ok());
        let at = || match fid {
            Some(fid) => format!("layer {table:?}, feature {index} (fid {fid})"),
            None => format!("layer {table:?}, feature {index}"),
        };
        let geometry = match row.get_ref(1).map_err(err)? {
            ValueRef::Null => None,
            ValueRef::Blob(b) => decode_blob(b).map_err(|m| IoError::at(path, at(), m))?,
            other => {
                return Err(IoError::at(
                    path,
                    at(),
                    format!("geometry cell holds {:?}, not a BLOB", other.data_type()),
                ));
            }
        };
        let mut values = Vec::with_capacity(value_cols.len());
        for (i, name) in value_cols.iter().enumerate() {
            let v = match row.get_ref(i + 2).map_err(err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Integer(n),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(_) => {
                    return Err(IoError::at(
                        path,
                        format!("{}, column {name:?}", at()),
                        "holds a BLOB, which has no Value variant",
                    ));
                }
            };
            values.push(((*name).clone(), v));
        }
        out.push((geometry, values));
        index += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{LineString, coord, line_string, point, polygon};
    use std::process::Command;

    fn txt(s: &str) -> Value {
        Value::Text(s.to_string())
    }

    /// One layer of every kind plus an attribute table, with every value type and NULLs.
    fn sample_layers() -> Vec<Layer> {
        let square = polygon![
            exterior: [
                (x: 116.30, y: 39.90), (x: 116.40, y: 39.90), (x: 116.40, y: 40.00), (x: 116.30, y: 40.00),
            ],
            interiors: [[(x: 116.32, y: 39.92), (x: 116.32, y: 39.95), (x: 116.35, y: 39.95), (x: 116.35, y: 39.92)]],
        ];
        let tri = polygon![(x: 116.50, y: 39.80), (x: 116.60, y: 39.80), (x: 116.55, y: 39.85)];
        vec![
            Layer {
                name: "shelters".into(),
                description: "emergency shelters".into(),
                kind: Some(GeometryKind::Point),
                fields: vec![
                    ("name".into(), FieldType::Text),
                    ("capacity".into(), FieldType::Integer),
                    ("area_m2".into(), FieldType::Real),
                ],
                features: vec![
                    Feature {
                        geometry: Some(point!(x: 116.397_128, y: 39.916_527).into()),
                        values: vec![txt("天安门广场"), Value::Integer(120_000), Value::Real(440_000.5)],
                    },
                    Feature {
                        geometry: Some(point!(x: 116.2, y: 39.75).into()),
                        values: vec![Value::Null, Value::Integer(-3), Value::Integer(7)],
                    },
                    Feature {
                        geometry: None,
                        values: vec![txt("no location"), Value::Null, Value::Null],
                    },
                ],
            },
            Layer {
                name: "roads".into(),
                description: String::new(),
                kind: Some(GeometryKind::LineString),
                fields: vec![("speed_kmh".into(), FieldType::Real)],
                features: vec![
                    Feature {
                        geometry: Some(
                            line_string![(x: 116.1, y: 39.8), (x: 116.2, y: 39.85), (x: 116.25, y: 39.9)].into(),
                        ),
                        values: vec![Value::Real(50.0)],
                    },
                    Feature {
                        geometry: Some(Geometry::Line(geo_types::Line::new(
                            coord! {x: 116.0, y: 39.7},
                            coord! {x: 116.05, y: 39.71},
                        ))),
                        values: vec![Value::Real(f64::NAN)],
                    },
                ],
            },
            Layer {
                name: "zones".into(),
                description: "hazard zones".into(),
                kind: Some(GeometryKind::Polygon),
                fields: vec![],
                features: vec![
                    Feature {
                        geometry: Some(square.clone().into()),
                        values: vec![],
                    },
                    Feature {
                        geometry: Some(Polygon::new(LineString::new(vec![]), vec![]).into()),
                        values: vec![],
                    },
                ],
            },
            Layer {
                name: "sites".into(),
                description: String::new(),
                kind: Some(GeometryKind::MultiPoint),
                fields: vec![("id".into(), FieldType::Integer)],
                features: vec![
                    Feature {
                        geometry: Some(
                            MultiPoint::new(vec![point!(x: 116.0, y: 40.0), point!(x: 116.1, y: 40.2)]).into(),
                        ),
                        values: vec![Value::Integer(1)],
                    },
                    Feature {
                        geometry: Some(point!(x: 116.05, y: 40.1).into()),
                        values: vec![Value::Integer(2)],
                    },
                ],
            },
            Layer {
                name: "rivers".into(),
                description: String::new(),
                kind: Some(GeometryKind::MultiLineString),
                fields: vec![],
                features: vec![Feature {
                    geometry: Some(
                        MultiLineString::new(vec![
                            line_string![(x: 115.9, y: 39.6), (x: 116.0, y: 39.65)],
                            line_string![(x: 116.0, y: 39.65), (x: 116.1, y: 39.6), (x: 116.2, y: 39.62)],
                        ])
                        .into(),
                    ),
                    values: vec![],
                }],
            },
            Layer {
                name: "districts".into(),
                description: String::new(),
                kind: Some(GeometryKind::MultiPolygon),
                fields: vec![("code".into(), FieldType::Text)],
                features: vec![
                    Feature {
                        geometry: Some(MultiPolygon::new(vec![square, tri.clone()]).into()),
                        values: vec![txt("110101")],
                    },
                    Feature {
                        geometry: Some(tri.into()),
                        values: vec![txt("110102")],
                    },
                ],
            },
            Layer {
                name: "summary".into(),
                description: "attribute table".into(),
                kind: None,
                fields: vec![("metric".into(), FieldType::Text), ("value".into(), FieldType::Real)],
                features: vec![
                    Feature {
                        geometry: None,
                        values: vec![txt("coverage"), Value::Real(0.875)],
                    },
                    Feature {
                        geometry: None,
                        values: vec![txt("population"), Value::Integer(21_893_095)],
                    },
                ],
            },
        ]
    }

    /// The geometry as the writer stores it (single parts promoted, Line → LineString).
    fn expected_geometry(g: &Geometry<f64>, kind: GeometryKind) -> Geometry<f64> {
        conform(g, kind).expect("sample geometry fits its layer").into_owned()
    }

    /// The bounding box of all coordinates of the layer's geometries (None if none).
    fn layer_extent(layer: &Layer) -> Option<Bbox> {
        use geo::CoordsIter;
        let mut b: Option<Bbox> = None;
        for f in &layer.features {
            if let Some(g) = &f.geometry {
                for c in g.coords_iter() {
                    b = Some(b.map_or(Bbox::of(c), |b| b.union(Bbox::of(c))));
                }
            }
        }
        b
    }

    #[test]
    fn round_trip_all_kinds_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.gpkg");
        let layers = sample_layers();
        write_geopackage(&path, &layers).unwrap();
        // Only the result is left in the folder.
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, vec![std::ffi::OsString::from("out.gpkg")]);

        let names: Vec<String> = layers.iter().map(|l| l.name.clone()).collect();
        assert_eq!(layer_names(&path).unwrap(), names);
        for layer in &layers {
            let read = read_layer(&path, Some(&layer.name)).unwrap();
            assert_eq!(read.len(), layer.features.len(), "{}", layer.name);
            for (i, ((g, values), f)) in read.iter().zip(&layer.features).enumerate() {
                let want = f.geometry.as_ref().map(|g| expected_geometry(g, layer.kind.unwrap()));
                assert_eq!(g, &want, "{} feature {i}", layer.name);
                let want_values: Vec<(String, Value)> = layer
                    .fields
                    .iter()
                    .zip(&f.values)
                    .map(|((n, ft), v)| {
                        let v = match (v, ft) {
                            (Value::Integer(i), FieldType::Real) => Value::Real(*i as f64),
                            (Value::Real(x), _) if x.is_nan() => Value::Null,
                            (v, _) => v.clone(),
                        };
                        (n.clone(), v)
                    })
                    .collect();
                assert_eq!(values, &want_values, "{} feature {i}", layer.name);
            }
            if layer.kind.is_some() {
                assert_eq!(layer_srs(&path, Some(&layer.name)).unwrap(), 4326);
            } else {
                assert!(layer_srs(&path, Some(&layer.name)).is_err());
            }
        }
        // No name: the first feature layer.
        assert_eq!(read_layer(&path, None).unwrap().len(), 3);
        assert!(
            read_layer(&path, Some("nope"))
                .unwrap_err()
                .to_string()
                .contains("nope")
        );

        // The GeoPackage tables, read with plain SQL.
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let one = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(one("PRAGMA application_id"), 0x4750_4B47);
        assert_eq!(one("PRAGMA user_version"), 10300);
        let srs: Vec<i64> = conn
            .prepare("SELECT srs_id FROM gpkg_spatial_ref_sys ORDER BY srs_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(srs, vec![-1, 0, 4326]);
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(integrity, "ok");
        assert_eq!(one("SELECT count(*) FROM pragma_foreign_key_check"), 0);
        assert_eq!(
            one(
                "SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index' AND scope = 'write-only'"
            ),
            6
        );
        for layer in &layers {
            let (dt, srs): (String, Option<i64>) = conn
                .query_row(
                    "SELECT data_type, srs_id FROM gpkg_contents WHERE table_name = ?1",
                    [&layer.name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            let ext: [Option<f64>; 4] = conn
                .query_row(
                    "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?1",
                    [&layer.name],
                    |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]),
                )
                .unwrap();
            let want = layer_extent(layer);
            assert_eq!(
                ext,
                want.map_or([None; 4], |b| [
                    Some(b.min_x),
                    Some(b.min_y),
                    Some(b.max_x),
                    Some(b.max_y)
                ])
            );
            match layer.kind {
                Some(kind) => {
                    assert_eq!((dt.as_str(), srs), ("features", Some(4326)));
                    let ty: String = conn
                        .query_row(
                            "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = ?1",
                            [&layer.name],
                            |r| r.get(0),
                        )
                        .unwrap();
                    assert_eq!(ty, kind.sql_name());
                    // One index entry per non-empty geometry; 6 triggers.
                    let non_empty = layer
                        .features
                        .iter()
                        .filter(|f| {
                            f.geometry
                                .as_ref()
                                .is_some_and(|g| geo::CoordsIter::coords_count(g) > 0)
                        })
                        .count() as i64;
                    assert_eq!(
                        one(&format!("SELECT count(*) FROM rtree_{}_geom", layer.name)),
                        non_empty
                    );
                    assert_eq!(
                        one(&format!(
                            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '{}'",
                            layer.name
                        )),
                        6
                    );
                }
                None => assert_eq!((dt.as_str(), srs), ("attributes", None)),
            }
        }
        // The index answers a window query: only the first zone (fid 1) covers (116.31, 39.91).
        let hit = "FROM rtree_zones_geom WHERE minx <= 116.31 AND maxx >= 116.31 AND miny <= 39.91 AND maxy >= 39.91";
        assert_eq!(
            (
                one(&format!("SELECT count(*) {hit}")),
                one(&format!("SELECT min(id) {hit}"))
            ),
            (1, 1)
        );
    }

    // ---- WKB and blob decoding --------------------------------------------------------

    /// WKB bytes in either byte order, built by hand.
    struct Wkb {
        le: bool,
        bytes: Vec<u8>,
    }
    impl Wkb {
        fn new(le: bool) -> Self {
            Wkb { le, bytes: Vec::new() }
        }
        fn head(mut self, code: u32) -> Self {
            self.bytes.push(self.le as u8);
            self.u32(code)
        }
        fn u32(mut self, n: u32) -> Self {
            self.bytes
                .extend(if self.le { n.to_le_bytes() } else { n.to_be_bytes() });
            self
        }
        fn f(mut self, xs: &[f64]) -> Self {
            for x in xs {
                self.bytes
                    .extend(if self.le { x.to_le_bytes() } else { x.to_be_bytes() });
            }
            self
        }
    }

    #[test]
    fn decodes_z_m_and_both_byte_orders() {
        // Big-endian Point Z (1001): the z is dropped.
        let b = Wkb::new(false).head(1001).f(&[116.5, 39.5, 44.0]).bytes;
        assert_eq!(decode_wkb(&b).unwrap(), Some(point!(x: 116.5, y: 39.5).into()));
        // Little-endian LineString M (2002).
        let b = Wkb::new(true)
            .head(2002)
            .u32(2)
            .f(&[1.0, 2.0, 9.0, 3.0, 4.0, 9.0])
            .bytes;
        assert_eq!(
            decode_wkb(&b).unwrap(),
            Some(line_string![(x: 1.0, y: 2.0), (x: 3.0, y: 4.0)].into())
        );
        // Big-endian Polygon ZM (3003), one ring of 4 points.
        let ring = [
            0.0, 0.0, 1.0, 2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 1.0, 1.0, 2.0, 0.0, 0.0, 1.0, 2.0,
        ];
        let b = Wkb::new(false).head(3003).u32(1).u32(4).f(&ring).bytes;
        let tri = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)];
        assert_eq!(decode_wkb(&b).unwrap(), Some(tri.clone().into()));
        // Extended WKB (PostGIS): Point with the Z flag and an SRID.
        let b = Wkb::new(true).head(0xA000_0001).u32(4326).f(&[3.0, 4.0, 5.0]).bytes;
        assert_eq!(decode_wkb(&b).unwrap(), Some(point!(x: 3.0, y: 4.0).into()));
        // MultiPolygon Z, little-endian, whose part is big-endian.
        let mut b = Wkb::new(true).head(1006).u32(1).bytes;
        let ring_z = [0.0, 0.0, 5.0, 1.0, 0.0, 5.0, 1.0, 1.0, 5.0, 0.0, 0.0, 5.0];
        b.extend(Wkb::new(false).head(1003).u32(1).u32(4).f(&ring_z).bytes);
        assert_eq!(decode_wkb(&b).unwrap(), Some(MultiPolygon::new(vec![tri]).into()));
        // An empty point (NaN NaN) is None; inside a MultiPoint it is dropped.
        let b = Wkb::new(true).head(1).f(&[f64::NAN, f64::NAN]).bytes;
        assert_eq!(decode_wkb(&b).unwrap(), None);
        let mut b = Wkb::new(true).head(4).u32(2).bytes;
        b.extend(Wkb::new(true).head(1).f(&[f64::NAN, f64::NAN]).bytes);
        b.extend(Wkb::new(true).head(1).f(&[7.0, 8.0]).bytes);
        assert_eq!(
            decode_wkb(&b).unwrap(),
            Some(MultiPoint::new(vec![point!(x: 7.0, y: 8.0)]).into())
        );
        // GeometryCollection of a point and a line.
        let mut b = Wkb::new(false).head(7).u32(2).bytes;
        b.extend(Wkb::new(true).head(1).f(&[1.0, 1.0]).bytes);
        b.extend(Wkb::new(true).head(2).u32(2).f(&[0.0, 0.0, 2.0, 2.0]).bytes);
        let Some(Geometry::GeometryCollection(gc)) = decode_wkb(&b).unwrap() else {
            panic!("not a collection")
        };
        assert_eq!(gc.0.len(), 2);
    }

    #[test]
    fn decodes_blob_headers() {
        let wkb = Wkb::new(true).head(2).u32(2).f(&[1.0, 2.0, 3.0, 4.0]).bytes;
        let want = Some(Geometry::LineString(line_string![(x: 1.0, y: 2.0), (x: 3.0, y: 4.0)]));
        // Envelope kinds 0..=4 (0, 32, 48, 48, 64 bytes), header in big-endian (flag bit 0 clear).
        for (kind, len) in [(0u8, 0usize), (1, 32), (2, 48), (3, 48), (4, 64)] {
            let mut blob = vec![b'G', b'P', 0, kind << 1];
            blob.extend(3857i32.to_be_bytes());
            blob.extend(std::iter::repeat_n(0u8, len));
            blob.extend(&wkb);
            assert_eq!(decode_blob(&blob).unwrap(), want, "envelope kind {kind}");
        }
        // The writer's blobs: point without envelope, others with one, empty flagged.
        let mut out = Vec::new();
        let bbox = encode_blob(&point!(x: 116.0, y: 40.0).into(), 4326, &mut out).unwrap();
        assert_eq!((&out[..4], out.len()), (&b"GP\x00\x01"[..], 8 + 21));
        assert_eq!(
            bbox,
            Some(Bbox {
                min_x: 116.0,
                min_y: 40.0,
                max_x: 116.0,
                max_y: 40.0
            })
        );
        out.clear();
        encode_blob(&line_string![(x: 1.0, y: 5.0), (x: 3.0, y: 2.0)].into(), 4326, &mut out).unwrap();
        assert_eq!(&out[..8], b"GP\x00\x03\xe6\x10\x00\x00");
        let env: Vec<f64> = out[8..40]
            .chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(env, vec![1.0, 3.0, 2.0, 5.0]);
        out.clear();
        assert_eq!(
            encode_blob(&LineString::new(vec![]).into(), 4326, &mut out).unwrap(),
            None
        );
        assert_eq!(out[3], 0x11);
        assert_eq!(decode_blob(&out).unwrap(), Some(LineString::new(vec![]).into()));
        out.clear();
        let err = encode_blob(&point!(x: f64::NAN, y: 1.0).into(), 4326, &mut out).unwrap_err();
        assert!(err.contains("non-finite"), "{err}");
    }

    #[test]
    fn rejects_corrupt_blobs_without_panicking() {
        let mut blob = Vec::new();
        let mp = MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)]]);
        encode_blob(&mp.into(), 4326, &mut blob).unwrap();
        // Every truncation is an error, never a panic.
        for n in 0..blob.len() {
            assert!(decode_blob(&blob[..n]).is_err(), "prefix of {n} bytes");
        }
        // Trailing garbage.
        let mut long = blob.clone();
        long.push(0);
        assert!(decode_blob(&long).unwrap_err().contains("after the end"));
        // A huge point count does not allocate: the error names the byte offset of the count.
        let b = Wkb::new(true).head(2).u32(u32::MAX).f(&[1.0, 2.0]).bytes;
        let err = decode_wkb(&b).unwrap_err();
        assert!(err.starts_with("byte 5:"), "{err}");
        // Bad byte order, unknown type, wrong part type, curves, bad magic, extended blobs.
        assert!(decode_wkb(&[2, 1, 0, 0, 0]).unwrap_err().contains("byte order"));
        assert!(decode_wkb(&Wkb::new(true).head(5001).bytes).is_err());
        assert!(
            decode_wkb(&Wkb::new(true).head(8).u32(0).bytes)
                .unwrap_err()
                .contains("unsupported")
        );
        let mut b = Wkb::new(true).head(6).u32(1).bytes;
        b.extend(Wkb::new(true).head(1).f(&[0.0, 0.0]).bytes);
        assert!(decode_wkb(&b).unwrap_err().contains("inside a multi"));
        assert!(decode_blob(b"XP\x00\x01\x00\x00\x00\x00").unwrap_err().contains("'GP'"));
        assert!(
            decode_blob(b"GP\x00\x21\x00\x00\x00\x00")
                .unwrap_err()
                .contains("extended")
        );
        assert!(
            decode_blob(b"GP\x00\x0e\x00\x00\x00\x00")
                .unwrap_err()
                .contains("envelope kind 7")
        );
        // Deep nesting of collections stops at MAX_DEPTH.
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend(Wkb::new(true).head(7).u32(1).bytes);
        }
        deep.extend(Wkb::new(true).head(1).f(&[0.0, 0.0]).bytes);
        assert!(decode_wkb(&deep).unwrap_err().contains("nested"));
    }

    // ---- errors and atomicity -----------------------------------------------------------

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.gpkg");
        let mut layers = sample_layers();
        // The second road has two values for one field: fails after the first layers were written.
        layers[1].features[1].values.push(Value::Integer(1));
        let err = write_geopackage(&path, &layers).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("layer \"roads\", feature 1") && msg.contains("2 values for 1 fields"),
            "{msg}"
        );
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));

        // A failing write does not touch an existing file.
        write_geopackage(&path, &sample_layers()[..1]).unwrap();
        let before = std::fs::read(&path).unwrap();
        assert!(write_geopackage(&path, &layers).is_err());
        assert_eq!(entries(dir.path()), vec!["results.gpkg".to_string()]);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(layer_names(&path).unwrap(), vec!["shelters".to_string()]);
    }

    #[test]
    fn bad_layers_are_errors_naming_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.gpkg");
        let check = |layers: Vec<Layer>, want: &str| {
            let msg = write_geopackage(&path, &layers).unwrap_err().to_string();
            assert!(msg.contains(want), "{msg:?} lacks {want:?}");
            assert!(entries(dir.path()).is_empty());
        };
        let base = || sample_layers()[0].clone();
        for bad in ["Shelters", "1st", "gpkg_x", "rtree_a", "a-b", "", "路网"] {
            check(
                vec![Layer {
                    name: bad.into(),
                    ..base()
                }],
                "invalid layer name",
            );
        }
        check(vec![base(), base()], "duplicate layer name");
        for (field, why) in [
            ("FID", "reserved"),
            ("geom", "reserved"),
            ("", "empty"),
            (" a", "spaces"),
            ("a\nb", "control"),
        ] {
            let mut l = base();
            l.fields[1].0 = field.into();
            check(vec![l], why);
        }
        let mut l = base();
        l.fields[1].0 = "NAME".into();
        check(vec![l], "field 1");
        let mut l = base();
        l.features[2].values[1] = txt("many");
        check(vec![l], "layer \"shelters\", feature 2, field \"capacity\"");
        let mut l = base();
        l.features[1].geometry = Some(line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)].into());
        check(vec![l], "feature 1: geometry is a LineString but the layer holds POINT");
        let mut l = base();
        l.features[0].geometry = Some(point!(x: f64::INFINITY, y: 0.0).into());
        check(vec![l], "feature 0: non-finite coordinate");
        let mut l = sample_layers()[6].clone();
        l.features[0].geometry = Some(point!(x: 1.0, y: 1.0).into());
        check(vec![l], "attribute table");
        // Reading errors name the file.
        let missing = dir.path().join("missing.gpkg");
        assert!(layer_names(&missing).unwrap_err().to_string().contains("missing.gpkg"));
        std::fs::write(
            &missing,
            b"not a database at all, just text padding it to some length......",
        )
        .unwrap();
        assert!(layer_names(&missing).is_err());
    }

    // ---- GDAL ---------------------------------------------------------------------------

    fn ogrinfo(args: &[&str]) -> Option<(String, String)> {
        let out = Command::new("ogrinfo").args(args).output().ok()?;
        assert!(
            out.status.success(),
            "ogrinfo {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some((
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    fn assert_gdal_quiet(stderr: &str) {
        let bad: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("Warning") || l.contains("ERROR"))
            .collect();
        assert!(bad.is_empty(), "GDAL complained: {bad:?}");
    }

    /// GDAL's summary of each layer: name → (geometry, feature count, extent).
    /// (layer name, geometry, feature count, extent [minx, miny, maxx, maxy]).
    type GdalLayer = (String, String, i64, Option<[f64; 4]>);

    fn gdal_summary(path: &Path) -> Option<Vec<GdalLayer>> {
        let (stdout, stderr) = ogrinfo(&["-ro", "-al", "-so", path.to_str().unwrap()])?;
        assert_gdal_quiet(&stderr);
        let mut layers = Vec::new();
        for block in stdout.split("Layer name: ").skip(1) {
            let name = block.lines().next().unwrap().trim().to_string();
            let field = |key: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .map(|v| v.trim().to_string())
            };
            let geometry = field("Geometry: ").unwrap();
            let count = field("Feature Count: ").unwrap().parse().unwrap();
            let extent = field("Extent: ").map(|e| {
                let nums: Vec<f64> = e
                    .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                    .filter(|s| !s.is_empty() && *s != "-")
                    .map(|s| s.parse().unwrap())
                    .collect();
                [nums[0], nums[1], nums[2], nums[3]]
            });
            layers.push((name, geometry, count, extent));
        }
        Some(layers)
    }

    fn gdal_count(path: &Path, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let (stdout, stderr) = ogrinfo(&[path.to_str().unwrap(), "-sql", &sql]).unwrap();
        assert_gdal_quiet(&stderr);
        let line = stdout
            .lines()
            .find(|l| l.contains("COUNT(*) (Integer) ="))
            .expect("count line");
        line.rsplit('=').next().unwrap().trim().parse().unwrap()
    }

    fn have_ogrinfo() -> bool {
        let ok = Command::new("ogrinfo")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("SKIP: ogrinfo not on PATH (apt-get install -y gdal-bin)");
        }
        ok
    }

    #[test]
    fn gdal_reads_what_we_write() {
        if !have_ogrinfo() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gdal.gpkg");
        let layers = sample_layers();
        write_geopackage(&path, &layers).unwrap();
        let summary = gdal_summary(&path).unwrap();
        let names: Vec<&str> = summary.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names.len(), layers.len());
        for layer in &layers {
            let (_, geometry, count, extent) = summary
                .iter()
                .find(|s| s.0 == layer.name)
                .expect("layer listed by GDAL");
            let want_geometry = match layer.kind {
                None => "None",
                Some(GeometryKind::Point) => "Point",
                Some(GeometryKind::LineString) => "Line String",
                Some(GeometryKind::Polygon) => "Polygon",
                Some(GeometryKind::MultiPoint) => "Multi Point",
                Some(GeometryKind::MultiLineString) => "Multi Line String",
                Some(GeometryKind::MultiPolygon) => "Multi Polygon",
            };
            assert_eq!(geometry, want_geometry, "{}", layer.name);
            assert_eq!(*count, layer.features.len() as i64, "{}", layer.name);
            if let Some(b) = layer_extent(layer) {
                // GDAL prints the extent with 6 decimals.
                let got = extent.expect("extent");
                for (g, w) in got.iter().zip([b.min_x, b.min_y, b.max_x, b.max_y]) {
                    assert!((g - w).abs() < 1e-6, "{}: extent {got:?} vs {b:?}", layer.name);
                }
            }
            assert_eq!(
                gdal_count(&path, &layer.name),
                layer.features.len() as i64,
                "{}",
                layer.name
            );
        }
        // GDAL decodes our geometry blobs to the same WKT (Multi Polygon with a hole).
        let (stdout, stderr) = ogrinfo(&["-ro", "-q", path.to_str().unwrap(), "districts", "-fid", "1"]).unwrap();
        assert_gdal_quiet(&stderr);
        let wkt = stdout
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("MULTIPOLYGON"))
            .expect("WKT line");
        assert_eq!(
            wkt,
            "MULTIPOLYGON (((116.3 39.9,116.4 39.9,116.4 40.0,116.3 40.0,116.3 39.9),\
             (116.32 39.92,116.32 39.95,116.35 39.95,116.35 39.92,116.32 39.92)),\
             ((116.5 39.8,116.6 39.8,116.55 39.85,116.5 39.8)))"
        );
        // GDAL's own GeoPackage validator (python3-gdal), strictest options, when installed.
        let validator = Command::new("python3")
            .args(["-c", "import osgeo_utils.samples.validate_gpkg"])
            .output()
            .is_ok_and(|o| o.status.success());
        if validator {
            let out = Command::new("python3")
                .args([
                    "-m",
                    "osgeo_utils.samples.validate_gpkg",
                    "--extra",
                    "--warning-as-error",
                ])
                .arg(&path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && text.trim().is_empty(), "validate_gpkg: {text}");
        } else {
            eprintln!("SKIP: GDAL's validate_gpkg.py not installed (apt-get install -y python3-gdal)");
        }
        // A spatial filter (served by the R-tree): only the first shelter is in the window.
        let (stdout, stderr) = ogrinfo(&[
            "-ro",
            "-so",
            path.to_str().unwrap(),
            "shelters",
            "-spat",
            "116.3",
            "39.9",
            "116.5",
            "40.0",
        ])
        .unwrap();
        assert_gdal_quiet(&stderr);
        assert!(stdout.contains("Feature Count: 1"), "{stdout}");
    }

    // ---- a GeoPackage written by another tool --------------------------------------------

    #[test]
    fn reads_bubenec_from_momepy() {
        let Some(path) = crate::shared_data::file("urban/bubenec.gpkg") else {
            return;
        };
        // Layer order and counts from python3's sqlite3 module: gpkg_contents in rowid order
        // (the raster table `dtm`, a 2d-gridded-coverage, is not a layer) and
        // SELECT count(*) per table: tessellation 144, buildings 144, streets 35, plots 407.
        let names = layer_names(&path).unwrap();
        assert_eq!(names, vec!["tessellation", "buildings", "streets", "plots"]);
        // Vertex and ring totals and exact coordinate bounds, from a small independent Python
        // WKB walker (struct.unpack over the same blobs): (points, rings, [minx, miny, maxx, maxy]).
        let want: [(&str, usize, usize, usize, [f64; 4]); 4] = [
            (
                "tessellation",
                144,
                13555,
                144,
                [
                    1602942.483788326,
                    6463757.084958314,
                    1603666.9791759823,
                    6464506.674335161,
                ],
            ),
            (
                "buildings",
                144,
                1807,
                145,
                [
                    1602991.8175236213,
                    6463806.4259645445,
                    1603617.6334369623,
                    6464457.342002343,
                ],
            ),
            (
                "streets",
                35,
                124,
                0,
                [
                    1602887.2996537155,
                    6463625.487127112,
                    1603795.889337571,
                    6464617.783583014,
                ],
            ),
            (
                "plots",
                407,
                7768,
                432,
                [
                    1602818.5401735362,
                    6463505.329263126,
                    1604073.8984903893,
                    6464884.487246699,
                ],
            ),
        ];
        for (name, count, points, rings, bounds) in want {
            assert_eq!(layer_srs(&path, Some(name)).unwrap(), 3857, "{name}");
            let features = read_layer(&path, Some(name)).unwrap();
            assert_eq!(features.len(), count, "{name}");
            let mut n_points = 0;
            let mut n_rings = 0;
            let mut b: Option<Bbox> = None;
            for (g, _) in &features {
                let g = g.as_ref().expect("no NULL geometries in bubenec");
                n_points += geo::CoordsIter::coords_count(g);
                for c in geo::CoordsIter::coords_iter(g) {
                    b = Some(b.map_or(Bbox::of(c), |b| b.union(Bbox::of(c))));
                }
                match g {
                    Geometry::Polygon(p) => n_rings += 1 + p.interiors().len(),
                    Geometry::LineString(_) => {}
                    other => panic!("{name}: unexpected {}", geometry_name(other)),
                }
            }
            assert_eq!((n_points, n_rings), (points, rings), "{name}");
            let b = b.unwrap();
            assert_eq!([b.min_x, b.min_y, b.max_x, b.max_y], bounds, "{name}");
        }
        // The first layer by default; its uID column is REAL there, INTEGER in buildings.
        let tess = read_layer(&path, None).unwrap();
        assert_eq!(tess.len(), 144);
        assert_eq!(tess[0].1, vec![("uID".to_string(), Value::Real(1.0))]);
        // Python: SELECT sum(uID) FROM buildings → 10440 (uID = 1..144).
        let buildings = read_layer(&path, Some("buildings")).unwrap();
        let sum: i64 = buildings
            .iter()
            .map(|(_, v)| match &v[..] {
                [(n, Value::Integer(i))] if n == "uID" => *i,
                other => panic!("unexpected values {other:?}"),
            })
            .sum();
        assert_eq!(sum, 10440);
        // Python: the plot with fid 1 has ('760', '2402108101', '9100301', 730106, 554782).
        let plots = read_layer(&path, Some("plots")).unwrap();
        assert_eq!(
            plots[0].1,
            vec![
                ("ID".to_string(), txt("760")),
                ("ID_2".to_string(), txt("2402108101")),
                ("TYPPPD_KOD".to_string(), txt("9100301")),
                ("KATUZE_KOD".to_string(), Value::Integer(730106)),
                ("OBEC_KOD".to_string(), Value::Integer(554782)),
            ]
        );
        assert!(read_layer(&path, Some("dtm")).unwrap_err().to_string().contains("dtm"));
        // GDAL agrees on the counts, when present.
        if have_ogrinfo() {
            let summary = gdal_summary(&path).unwrap();
            let counts: Vec<(&str, i64)> = summary.iter().map(|s| (s.0.as_str(), s.2)).collect();
            assert_eq!(
                counts,
                vec![
                    ("tessellation", 144),
                    ("buildings", 144),
                    ("streets", 35),
                    ("plots", 407)
                ]
            );
        }
    }
}
