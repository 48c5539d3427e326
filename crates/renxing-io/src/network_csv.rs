//! Road networks as a pair of CSV files: one row per node, one row per edge.
//!
//! # Format
//!
//! **Nodes file** — a header row, then one row per junction node:
//!
//! | column (default names, first found wins) | content |
//! |---|---|
//! | `node_id`, `id` | integer identifier, unique in the file |
//! | `lon`, `x` | longitude (or easting, for a projected `crs`) |
//! | `lat`, `y` | latitude (or northing) |
//!
//! **Edges file** — a header row, then one row per edge:
//!
//! | column | content |
//! |---|---|
//! | `u`, `v` | node ids of the two ends (must exist in the nodes file) |
//! | `length_m`, `length` *(optional)* | length in metres; when the column is absent or the cell is empty, the haversine length along the geometry (or the straight line `u`–`v`) is used |
//! | `highway` *(optional)* | OSM road class, kept raw; empty = untagged (renxing-net reports such edges) |
//! | `oneway` *(optional)* | `1`/`yes`/`true` = only `u`→`v`; `-1` = only `v`→`u`; `0`/`no`/`false`/empty = both |
//! | `name` *(optional)* | street name |
//! | `geometry`, `wkt` *(optional)* | `LINESTRING (x y, x y, …)` from `u` to `v`; its inner points become the edge shape |
//!
//! Other columns are ignored. Column names are configurable ([`NetworkCsvOptions`]); names are
//! matched after trimming spaces and a UTF-8 byte-order mark. Files that are not valid UTF-8
//! are decoded as GB18030 (a superset of GBK/GB2312, the usual encodings of Chinese exports).
//! Coordinates — of nodes and of geometry points — are in [`NetworkCsvOptions::crs`] and are
//! converted to WGS84 on reading.
//!
//! Access: CSV edges carry no access tags, so every edge is open to walking and to driving,
//! except that path-like `highway` classes ([`crate::osm::PATH_LIKE`]: footway, pedestrian,
//! steps, path, cycleway…) are closed to driving, as in the OSM importer.
//!
//! Edge lists exported from directed graphs (each two-way street listed once per direction,
//! like `cn/beijing/beijing_osm2012_edges.csv`) should be read with
//! [`NetworkCsvOptions::directed`]: every row is then an edge usable from `u` to `v` only
//! ([`Oneway::Forward`]), whatever its `oneway` cell says — otherwise each two-way street
//! would appear twice, once per direction, both marked two-way.
//!
//! Errors name the file, the line and, for a cell, the column: an unknown node id in an edge, a
//! cell that is not a number, a missing column (with the columns that were found), a duplicate
//! node id, a coordinate the CRS conversion rejects.

use rustc_hash::FxHashMap;
use std::path::Path;

use renxing_geo::crs::{Crs, Transformer};
use renxing_geo::distance::haversine_m;
use renxing_net::road::{Oneway, RoadData, RoadEdge, RoadNode};

use crate::error::{IoError, LineIndex, Result};

/// Column names (each a list of candidates, the first present one is used), CRS and reading
/// mode of [`read_network_csv`].
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkCsvOptions {
    pub node_id: Vec<String>,
    pub lon: Vec<String>,
    pub lat: Vec<String>,
    pub u: Vec<String>,
    pub v: Vec<String>,
    pub length: Vec<String>,
    pub highway: Vec<String>,
    pub oneway: Vec<String>,
    pub name: Vec<String>,
    pub geometry: Vec<String>,
    /// Coordinate system of node coordinates and geometry points.
    pub crs: Crs,
    /// Every row is a directed edge `u`→`v` ([`Oneway::Forward`]); see the module doc.
    pub directed: bool,
    /// Field delimiter, `b','` by default.
    pub delimiter: u8,
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl Default for NetworkCsvOptions {
    fn default() -> Self {
        NetworkCsvOptions {
            node_id: names(&["node_id", "id"]),
            lon: names(&["lon", "x"]),
            lat: names(&["lat", "y"]),
            u: names(&["u"]),
            v: names(&["v"]),
            length: names(&["length_m", "length"]),
            highway: names(&["highway"]),
            oneway: names(&["oneway"]),
            name: names(&["name"]),
            geometry: names(&["geometry", "wkt"]),
            crs: Crs::Wgs84,
            directed: false,
            delimiter: b',',
        }
    }
}

/// A CSV file in memory: header names, the text, and where its lines start (for line numbers).
/// Records are streamed through one reused buffer by [`Table::for_each_row`].
struct Table {
    headers: Vec<String>,
    text: String,
    delimiter: u8,
}

impl Table {
    fn read(path: &Path, delimiter: u8) -> Result<Table> {
        let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
        let text = crate::points::decode_text(path, &bytes)?.into_owned();
        let lines = LineIndex::new(&text);
        let line_of = |byte: u64| lines.line_of(byte);
        let csv_error = |e: &csv::Error| match e.position() {
            Some(p) => IoError::at(path, format!("line {}", line_of(p.byte())), format!("bad CSV: {e}")),
            None => IoError::new(path, format!("bad CSV: {e}")),
        };
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(false)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| csv_error(&e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect::<Vec<_>>();
        if headers.iter().all(|h| h.is_empty()) {
            return Err(IoError::at(path, "line 1", "empty file or empty header row"));
        }
        drop(rdr);
        Ok(Table {
            headers,
            text,
            delimiter,
        })
    }

    /// Approximate number of data rows (for reserving memory).
    fn row_estimate(&self) -> usize {
        // Typical rows are 30–60 bytes; this only sizes allocations.
        self.text.len() / 40
    }

    /// Call `f(line, record)` for every non-blank data row, in file order.
    fn for_each_row(&self, path: &Path, mut f: impl FnMut(u64, &csv::StringRecord) -> Result<()>) -> Result<()> {
        let lines = LineIndex::new(&self.text);
        let line_of = |byte: u64| lines.line_of(byte);
        let csv_error = |e: &csv::Error| match e.position() {
            Some(p) => IoError::at(path, format!("line {}", line_of(p.byte())), format!("bad CSV: {e}")),
            None => IoError::new(path, format!("bad CSV: {e}")),
        };
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .flexible(false)
            .from_reader(self.text.as_bytes());
        let mut rec = csv::StringRecord::new();
        // The header row was validated in `read`; skip it here.
        rdr.headers().map_err(|e| csv_error(&e))?;
        while rdr.read_record(&mut rec).map_err(|e| csv_error(&e))? {
            if rec.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let line = rec.position().map(|p| line_of(p.byte())).unwrap_or(0);
            f(line, &rec)?;
        }
        Ok(())
    }

    /// Index of the first candidate column present.
    fn find(&self, candidates: &[String]) -> Option<usize> {
        candidates.iter().find_map(|c| self.headers.iter().position(|h| h == c))
    }

    fn require(&self, path: &Path, what: &str, candidates: &[String]) -> Result<usize> {
        self.find(candidates).ok_or_else(|| {
            IoError::at(
                path,
                "line 1",
                format!(
                    "missing {what} column (looked for {}); columns found: {}",
                    candidates
                        .iter()
                        .map(|c| format!("'{c}'"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.headers.join(", ")
                ),
            )
        })
    }
}

fn cell(rec: &csv::StringRecord, col: usize) -> &str {
    rec.get(col).unwrap_or("").trim()
}

fn parse_cell<T: std::str::FromStr>(
    path: &Path,
    t: &Table,
    line: u64,
    rec: &csv::StringRecord,
    col: usize,
    what: &str,
) -> Result<T> {
    let s = cell(rec, col);
    s.parse::<T>().map_err(|_| {
        IoError::at(
            path,
            format!("line {line}, column {} ({})", col + 1, t.headers[col]),
            format!("'{s}' is not {what}"),
        )
    })
}

/// One-way value of a CSV cell; None for a value that is not understood.
pub fn parse_oneway(s: &str) -> Option<Oneway> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "no" | "false" | "f" | "n" => Some(Oneway::No),
        "1" | "yes" | "true" | "t" | "y" => Some(Oneway::Forward),
        "-1" | "reverse" => Some(Oneway::Backward),
        _ => None,
    }
}

/// Points of a WKT `LINESTRING (x y, x y, …)` (also `LINESTRING Z`/`M`, extra ordinates
/// ignored, and a single-part `MULTILINESTRING ((…))`).
pub fn parse_wkt_linestring(s: &str) -> std::result::Result<Vec<(f64, f64)>, String> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let body = if upper.starts_with("LINESTRING") {
        &t["LINESTRING".len()..]
    } else if upper.starts_with("MULTILINESTRING") {
        &t["MULTILINESTRING".len()..]
    } else {
        return Err(format!("not a WKT LINESTRING: '{}'", short(t)));
    };
    let body = body.trim_start();
    let body = body.trim_start_matches(|c: char| c.is_ascii_alphabetic()).trim();
    let inner = body
        .strip_prefix('(')
        .and_then(|b| b.strip_suffix(')'))
        .ok_or_else(|| format!("unbalanced parentheses in '{}'", short(t)))?
        .trim();
    let inner = match inner.strip_prefix('(') {
        Some(b) => b
            .strip_suffix(')')
            .filter(|b| !b.contains('('))
            .ok_or_else(|| "only single-part MULTILINESTRING is supported".to_string())?,
        None => inner,
    };
    let mut pts = Vec::new();
    for (i, p) in inner.split(',').enumerate() {
        let mut it = p.split_whitespace();
        let x = it.next().and_then(|v| v.parse::<f64>().ok());
        let y = it.next().and_then(|v| v.parse::<f64>().ok());
        match (x, y) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => pts.push((x, y)),
            _ => return Err(format!("point {} ('{}') is not 'x y'", i + 1, p.trim())),
        }
    }
    if pts.len() < 2 {
        return Err("a LINESTRING needs at least 2 points".to_string());
    }
    Ok(pts)
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Inner points of a (WGS84) geometry running between node positions `a` and `b`: the line is
/// reversed when it evidently runs from `b` to `a`, and its end points are dropped.
pub(crate) fn shape_between(mut pts: Vec<(f64, f64)>, a: (f64, f64), b: (f64, f64)) -> Vec<(f64, f64)> {
    if pts.len() < 2 {
        return Vec::new();
    }
    let d = |p: (f64, f64), q: (f64, f64)| haversine_m(p.0, p.1, q.0, q.1);
    let first = pts[0];
    let last = pts[pts.len() - 1];
    if d(first, a) + d(last, b) > d(first, b) + d(last, a) {
        pts.reverse();
    }
    pts[1..pts.len() - 1].to_vec()
}

/// Haversine length along `a`, `shape…`, `b`.
pub(crate) fn polyline_length(a: (f64, f64), shape: &[(f64, f64)], b: (f64, f64)) -> f64 {
    let mut len = 0.0;
    let mut prev = a;
    for &p in shape.iter().chain(std::iter::once(&b)) {
        len += haversine_m(prev.0, prev.1, p.0, p.1);
        prev = p;
    }
    len
}

/// Read a node CSV and an edge CSV into a [`RoadData`] (nodes in file order, edges in file
/// order, `source_id = "line N"` of the edges file).
pub fn read_network_csv(nodes: &Path, edges: &Path, opts: &NetworkCsvOptions) -> Result<RoadData> {
    let tf = Transformer::to_wgs84(opts.crs)
        .map_err(|e| IoError::new(nodes, format!("coordinate system {}: {e}", opts.crs)))?;

    let nt = Table::read(nodes, opts.delimiter)?;
    let c_id = nt.require(nodes, "node id", &opts.node_id)?;
    let c_lon = nt.require(nodes, "longitude / x", &opts.lon)?;
    let c_lat = nt.require(nodes, "latitude / y", &opts.lat)?;
    let mut data = RoadData {
        source: format!("{} + {}", nodes.display(), edges.display()),
        ..Default::default()
    };
    // Fx hashing: node ids are trusted integers, and the lookups run twice per edge.
    let mut index: FxHashMap<i64, usize> = FxHashMap::with_capacity_and_hasher(nt.row_estimate(), Default::default());
    let mut node_lines: Vec<u64> = Vec::with_capacity(nt.row_estimate());
    nt.for_each_row(nodes, |line, rec| {
        let id: i64 = parse_cell(nodes, &nt, line, rec, c_id, "an integer node id")?;
        let x: f64 = parse_cell(nodes, &nt, line, rec, c_lon, "a number")?;
        let y: f64 = parse_cell(nodes, &nt, line, rec, c_lat, "a number")?;
        let (lon, lat) = tf
            .apply(x, y)
            .map_err(|e| IoError::at(nodes, format!("line {line}"), format!("node {id}: {e}")))?;
        if let Some(prev) = index.insert(id, data.nodes.len()) {
            return Err(IoError::at(
                nodes,
                format!("line {line}"),
                format!("duplicate node id {id} (first on line {})", node_lines[prev]),
            ));
        }
        node_lines.push(line);
        data.nodes.push(RoadNode { id, lon, lat });
        Ok(())
    })?;

    let et = Table::read(edges, opts.delimiter)?;
    let c_u = et.require(edges, "edge start node", &opts.u)?;
    let c_v = et.require(edges, "edge end node", &opts.v)?;
    let c_len = et.find(&opts.length);
    let c_hw = et.find(&opts.highway);
    let c_ow = et.find(&opts.oneway);
    let c_name = et.find(&opts.name);
    let c_geom = et.find(&opts.geometry);
    data.edges.reserve(et.row_estimate());
    et.for_each_row(edges, |line, rec| {
        let end = |col: usize| -> Result<usize> {
            let id: i64 = parse_cell(edges, &et, line, rec, col, "an integer node id")?;
            index.get(&id).copied().ok_or_else(|| {
                IoError::at(
                    edges,
                    format!("line {line}, column {} ({})", col + 1, et.headers[col]),
                    format!("node {id} is not in the nodes file {}", nodes.display()),
                )
            })
        };
        let u = end(c_u)?;
        let v = end(c_v)?;
        let pu = (data.nodes[u].lon, data.nodes[u].lat);
        let pv = (data.nodes[v].lon, data.nodes[v].lat);
        let shape = match c_geom.map(|c| (c, cell(rec, c))) {
            Some((c, wkt)) if !wkt.is_empty() => {
                let pos = || format!("line {line}, column {} ({})", c + 1, et.headers[c]);
                let pts = parse_wkt_linestring(wkt).map_err(|m| IoError::at(edges, pos(), m))?;
                let pts = pts
                    .into_iter()
                    .map(|(x, y)| tf.apply(x, y))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| IoError::at(edges, pos(), e.to_string()))?;
                shape_between(pts, pu, pv)
            }
            _ => Vec::new(),
        };
        let length_m = match c_len {
            Some(c) if !cell(rec, c).is_empty() => {
                let l: f64 = parse_cell(edges, &et, line, rec, c, "a length in metres")?;
                if !l.is_finite() || l < 0.0 {
                    return Err(IoError::at(
                        edges,
                        format!("line {line}, column {} ({})", c + 1, et.headers[c]),
                        format!("length {l} is not a non-negative number"),
                    ));
                }
                l
            }
            _ => polyline_length(pu, &shape, pv),
        };
        let oneway = if opts.directed {
            Oneway::Forward
        } else {
            match c_ow {
                Some(c) => parse_oneway(cell(rec, c)).ok_or_else(|| {
                    IoError::at(
                        edges,
                        format!("line {line}, column {} ({})", c + 1, et.headers[c]),
                        format!("'{}' is not a one-way value (0/1/-1/yes/no/true/false)", cell(rec, c)),
                    )
                })?,
                None => Oneway::No,
            }
        };
        let highway = c_hw.map(|c| cell(rec, c)).unwrap_or("").to_string();
        let path_like = crate::osm::PATH_LIKE.contains(&highway.as_str());
        data.edges.push(RoadEdge {
            u,
            v,
            length_m,
            oneway,
            access_walk: true,
            access_drive: !path_like,
            name: c_name.map(|c| cell(rec, c)).unwrap_or("").to_string(),
            source_id: format!("line {line}"),
            highway,
            shape,
        });
        Ok(())
    })?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_data;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn beijing_osm2012() {
        let (Some(n), Some(e)) = (
            shared_data::file("cn/beijing/beijing_osm2012_nodes.csv"),
            shared_data::file("cn/beijing/beijing_osm2012_edges.csv"),
        ) else {
            return;
        };
        let d = read_network_csv(&n, &e, &NetworkCsvOptions::default()).unwrap();
        // Data README: 32,552 nodes, 70,310 edges.
        assert_eq!((d.nodes.len(), d.edges.len()), (32_552, 70_310));
        // Independent count with Python's csv module: 48 edges with an empty highway cell,
        // 197,976.2 m long in total; all edges 12,510,537.28 m; oneway cells 0: 52,738,
        // 1: 17,475, -1: 49, empty: 48; 23,346 edges named; 1,573 self-loops (u = v).
        let untagged: Vec<&RoadEdge> = d.edges.iter().filter(|e| e.highway.is_empty()).collect();
        assert_eq!(untagged.len(), 48);
        let l: f64 = untagged.iter().map(|e| e.length_m).sum();
        assert!((l - 197_976.2).abs() < 0.01, "{l}");
        let total: f64 = d.edges.iter().map(|e| e.length_m).sum();
        assert!((total - 12_510_537.28).abs() < 0.01, "{total}");
        let ow = |o| d.edges.iter().filter(|e| e.oneway == o).count();
        assert_eq!(
            (ow(Oneway::No), ow(Oneway::Forward), ow(Oneway::Backward)),
            (52_786, 17_475, 49)
        );
        assert_eq!(d.edges.iter().filter(|e| !e.name.is_empty()).count(), 23_346);
        assert_eq!(d.edges.iter().filter(|e| e.u == e.v).count(), 1_573);
        // First rows: node 0 = OSM-georeferenced 116.3857584, 39.9060854; first edge 0→4730.
        assert_eq!(
            (d.nodes[0].id, d.nodes[0].lon, d.nodes[0].lat),
            (0, 116.3857584, 39.9060854)
        );
        let e0 = &d.edges[0];
        assert_eq!((d.nodes[e0.u].id, d.nodes[e0.v].id, e0.length_m), (0, 4730, 32.10));
        assert_eq!(
            (e0.highway.as_str(), e0.source_id.as_str()),
            ("tertiary_link", "line 2")
        );
        assert_eq!(d.edges[1].name, "南长街");

        // Read as the directed edge list it is: every row Forward.
        let opts = NetworkCsvOptions {
            directed: true,
            ..Default::default()
        };
        let d = read_network_csv(&n, &e, &opts).unwrap();
        assert!(d.edges.iter().all(|e| e.oneway == Oneway::Forward));
    }

    #[test]
    fn columns_crs_and_computed_lengths() {
        let dir = tempfile::tempdir().unwrap();
        // GCJ-02 input, columns x/y/id, no length column, a geometry given from v to u.
        let n = write(
            &dir,
            "n.csv",
            "\u{feff}id,x,y\n1,116.40,39.90\n2,116.41,39.90\n3,116.41,39.91\n",
        );
        let e = write(
            &dir,
            "e.csv",
            "u,v,highway,oneway,geometry\n1,2,primary,yes,\n2,3,footway,-1,\"LINESTRING (116.41 39.91, 116.4105 39.905, 116.41 39.90)\"\n",
        );
        let opts = NetworkCsvOptions {
            crs: Crs::Gcj02,
            ..Default::default()
        };
        let d = read_network_csv(&n, &e, &opts).unwrap();
        let tf = Transformer::to_wgs84(Crs::Gcj02).unwrap();
        let (lon, lat) = tf.apply(116.40, 39.90).unwrap();
        assert_eq!((d.nodes[0].lon, d.nodes[0].lat), (lon, lat));
        let a = &d.edges[0];
        let expect = haversine_m(d.nodes[0].lon, d.nodes[0].lat, d.nodes[1].lon, d.nodes[1].lat);
        assert!((a.length_m - expect).abs() < 1e-9);
        assert_eq!((a.oneway, a.access_drive), (Oneway::Forward, true));
        let b = &d.edges[1];
        assert_eq!(b.shape.len(), 1);
        let mid = tf.apply(116.4105, 39.905).unwrap();
        assert_eq!(b.shape[0], mid);
        assert_eq!((b.oneway, b.access_drive), (Oneway::Backward, false));
        let line = b.polyline(&d.nodes);
        let l: f64 = line
            .windows(2)
            .map(|w| haversine_m(w[0].0, w[0].1, w[1].0, w[1].1))
            .sum();
        assert!((b.length_m - l).abs() < 1e-9);
    }

    #[test]
    fn errors_name_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let n = write(&dir, "n.csv", "node_id,lon,lat\n1,116.4,39.9\n2,116.5,39.9\n");
        let o = NetworkCsvOptions::default();

        let e = write(&dir, "e1.csv", "u,v,length\n1,2,10\n1,9,10\n");
        let err = read_network_csv(&n, &e, &o).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 3, column 2 (v)"), "{err}");
        assert!(err.message.contains("node 9 is not in the nodes file"), "{err}");

        let e = write(&dir, "crlf.csv", "u,v,length\r\n1,2,10\r\n1,9,10\r\n");
        let err = read_network_csv(&n, &e, &o).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 3, column 2 (v)"), "{err}");

        let e = write(&dir, "e2.csv", "u,v,length\n1,2,ten\n");
        let err = read_network_csv(&n, &e, &o).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 2, column 3 (length)"), "{err}");

        let e = write(&dir, "e3.csv", "from,to\n1,2\n");
        let err = read_network_csv(&n, &e, &o).unwrap_err();
        assert!(
            err.message.contains("missing edge start node column") && err.message.contains("columns found: from, to"),
            "{err}"
        );

        let e = write(&dir, "e4.csv", "u,v,oneway\n1,2,maybe\n");
        let err = read_network_csv(&n, &e, &o).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 2, column 3 (oneway)"), "{err}");

        let e = write(&dir, "e5.csv", "u,v,geometry\n1,2,POINT (1 2)\n");
        assert!(
            read_network_csv(&n, &e, &o)
                .unwrap_err()
                .message
                .contains("not a WKT LINESTRING")
        );

        let bad = write(&dir, "n2.csv", "node_id,lon,lat\n1,116.4,39.9\n1,116.5,39.9\n");
        let err = read_network_csv(&bad, &e, &o).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 3"), "{err}");
        assert!(err.message.contains("duplicate node id 1 (first on line 2)"));

        let bad = write(&dir, "n3.csv", "node_id,lon,lat\n1,416.4,39.9\n");
        let err = read_network_csv(&bad, &e, &o).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 2"), "{err}");

        let ragged = write(&dir, "n4.csv", "node_id,lon,lat\n1,116.4\n");
        let err = read_network_csv(&ragged, &e, &o).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 2"), "{err}");
    }

    #[test]
    fn gbk_and_wkt() {
        let dir = tempfile::tempdir().unwrap();
        let n = write(&dir, "n.csv", "node_id,lon,lat\n1,116.4,39.9\n2,116.5,39.9\n");
        let (gbk, _, _) = encoding_rs::GBK.encode("u,v,name\n1,2,长安街\n");
        let e = dir.path().join("e.csv");
        std::fs::write(&e, &gbk).unwrap();
        let d = read_network_csv(&n, &e, &NetworkCsvOptions::default()).unwrap();
        assert_eq!(d.edges[0].name, "长安街");

        assert_eq!(
            parse_wkt_linestring("LINESTRING Z (1 2 3, 4 5 6)").unwrap(),
            vec![(1.0, 2.0), (4.0, 5.0)]
        );
        assert_eq!(
            parse_wkt_linestring("MultiLineString ((1 2, 3 4))").unwrap(),
            vec![(1.0, 2.0), (3.0, 4.0)]
        );
        assert!(parse_wkt_linestring("LINESTRING (1 2)").is_err());
        assert!(parse_wkt_linestring("LINESTRING (1 2, 3)").is_err());
        assert!(parse_wkt_linestring("LINESTRING (1 2, 3 4").is_err());
    }
}
