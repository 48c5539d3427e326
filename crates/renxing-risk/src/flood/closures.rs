//! Roads closed by flood water, for the network crate.
//!
//! # Rule
//!
//! A road edge is a polyline in the depth grid's CRS (convert WGS84 roads first when the grid is
//! projected). Its depth is the **greatest depth of every grid cell the polyline passes through**:
//! each segment is cut at every cell edge it crosses (vertical lines `x = x0 + i·dx`, horizontal
//! lines `y = y0 − j·dy`) and the cell holding the middle of each piece is sampled, so no cell the
//! segment crosses is skipped however short its piece. A segment that only touches a cell corner
//! does not sample the cells meeting there; one running exactly along a cell edge samples the cells
//! south or east of it (the lookup rule of [`super::cell_of`]). Nodata cells and the parts outside
//! the grid are dry (0 m).
//!
//! The edge is **closed** when that depth is **strictly greater** than the threshold of the travel
//! profile:
//!
//! - driving: 0.15 m — the ponding limit of one traffic lane in GB 50318-2017 城市排水工程规划规范
//!   §5.3.3 (一条机动车道积水深度不超过 15 cm) and the waterlogging criteria of GB 51222-2017
//!   城镇内涝防治技术规范 (道路中一条车道的积水深度不超过 15 cm); read from the standard profile key
//!   [`PROFILE_KEY_DRIVE_DEPTH`], never written into code;
//! - walking: no national number; the caller gives it.
//!
//! # Closures CSV (read by the network crate)
//!
//! UTF-8, comma-separated, header line `edge_id,max_depth_m,closed`, then one line per edge in
//! input order:
//!
//! - `edge_id`: the id the caller gave the edge (e.g. its index in `RoadData::edges`), quoted by
//!   CSV rules when it holds a comma or quote; unique in the file.
//! - `max_depth_m`: the edge's depth in metres, written as the shortest decimal that reads back to
//!   the raster's `f32` value (`0` for a dry edge).
//! - `closed`: `true` or `false`, the rule above for the threshold the file was written for. One
//!   file per travel profile (e.g. `closures_drive.csv`, `closures_walk.csv`).
//!
//! The file is written to a temporary file in the same directory and renamed over the target, so a
//! reader never sees half a file.

use std::path::Path;

use rayon::prelude::*;
use renxing_geo::grid::Grid;
use renxing_io::error::IoError;

use super::cell_depth;

/// Standard-profile key of the driving closure depth (metres): 0.15 in `standards/cn.toml`.
pub const PROFILE_KEY_DRIVE_DEPTH: &str = "flood.road_closure_depth_drive_m";

/// Depth and closure of one road edge.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeClosure {
    pub id: String,
    /// Greatest water depth along the edge, m (0 = dry).
    pub max_depth_m: f64,
    /// `max_depth_m > threshold`.
    pub closed: bool,
}

/// Inputs that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClosureError {
    #[error("closure threshold {0} m must be a finite number ≥ 0")]
    BadThreshold(f64),
    #[error("road edge id '{0}' appears twice (ids must be unique in the closures file)")]
    DuplicateId(String),
    #[error("road edge {index} has an empty id")]
    EmptyId { index: usize },
}

/// Greatest depth of the cells crossed by a polyline (see the module doc). An empty polyline is
/// dry; a single point samples its own cell.
pub fn max_depth_along(grid: &Grid, line: &[(f64, f64)]) -> f64 {
    let mut best = 0.0f64;
    match line {
        [] => {}
        [p] => best = super::depth_at(grid, p.0, p.1),
        _ => {
            for w in line.windows(2) {
                best = best.max(segment_max(grid, w[0], w[1]));
            }
        }
    }
    best
}

/// Greatest depth along one segment.
fn segment_max(grid: &Grid, a: (f64, f64), b: (f64, f64)) -> f64 {
    if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) || grid.dx <= 0.0 || grid.dy <= 0.0 {
        return 0.0;
    }
    // Continuous cell coordinates: u along columns, v along rows.
    let (u0, v0) = ((a.0 - grid.x0) / grid.dx, (grid.y0 - a.1) / grid.dy);
    let (u1, v1) = ((b.0 - grid.x0) / grid.dx, (grid.y0 - b.1) / grid.dy);
    let (nc, nr) = (grid.ncols as f64, grid.nrows as f64);
    // Clip the parameter range to the grid rectangle [0, nc] × [0, nr] (Liang–Barsky).
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-(u1 - u0), u0),
        (u1 - u0, nc - u0),
        (-(v1 - v0), v0),
        (v1 - v0, nr - v0),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return 0.0;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return 0.0;
    }
    let at = |t: f64| (u0 + (u1 - u0) * t, v0 + (v1 - v0) * t);
    let sample = |u: f64, v: f64| -> f64 {
        let (c, r) = (u.floor(), v.floor());
        if c < 0.0 || r < 0.0 || c >= nc || r >= nr {
            0.0
        } else {
            cell_depth(grid, r as usize, c as usize)
        }
    };
    if t0 == t1 {
        let (u, v) = at(t0);
        return sample(u, v);
    }
    // Parameters where the segment crosses a cell edge inside [t0, t1].
    let mut ts = vec![t0, t1];
    for (s0, s1) in [(u0, u1), (v0, v1)] {
        if s1 == s0 {
            continue;
        }
        let (lo, hi) = {
            let (p, q) = (s0 + (s1 - s0) * t0, s0 + (s1 - s0) * t1);
            (p.min(q), p.max(q))
        };
        let mut k = lo.ceil();
        while k <= hi.floor() {
            let t = (k - s0) / (s1 - s0);
            if t > t0 && t < t1 {
                ts.push(t);
            }
            k += 1.0;
        }
    }
    ts.sort_by(f64::total_cmp);
    let mut best = 0.0f64;
    for w in ts.windows(2) {
        if w[1] > w[0] {
            let (u, v) = at((w[0] + w[1]) / 2.0);
            best = best.max(sample(u, v));
        }
    }
    best
}

/// Depth and closure of every edge for one travel profile: closed when the depth is strictly
/// above `threshold_m` (see the module doc). Edges are evaluated in parallel; the result keeps the
/// input order.
pub fn road_closures(
    grid: &Grid,
    edges: &[(String, Vec<(f64, f64)>)],
    threshold_m: f64,
) -> Result<Vec<EdgeClosure>, ClosureError> {
    if !threshold_m.is_finite() || threshold_m < 0.0 {
        return Err(ClosureError::BadThreshold(threshold_m));
    }
    let mut seen = std::collections::HashSet::with_capacity(edges.len());
    for (i, (id, _)) in edges.iter().enumerate() {
        if id.is_empty() {
            return Err(ClosureError::EmptyId { index: i });
        }
        if !seen.insert(id.as_str()) {
            return Err(ClosureError::DuplicateId(id.clone()));
        }
    }
    Ok(edges
        .par_iter()
        .map(|(id, line)| {
            let d = max_depth_along(grid, line);
            EdgeClosure {
                id: id.clone(),
                max_depth_m: d,
                closed: d > threshold_m,
            }
        })
        .collect())
}

/// The closures CSV (format in the module doc) as text.
pub fn closures_csv(closures: &[EdgeClosure]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail.
    w.write_record(["edge_id", "max_depth_m", "closed"]).expect("in memory");
    for c in closures {
        let depth = format!("{}", c.max_depth_m as f32);
        w.write_record([c.id.as_str(), depth.as_str(), if c.closed { "true" } else { "false" }])
            .expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("UTF-8 ids")
}

/// Reads a closures CSV (format in the module doc). Errors name the file, the line and what is
/// wrong: a missing column, an empty or repeated `edge_id`, a depth that is not a number ≥ 0, a
/// `closed` cell that is not `true`/`false`.
pub fn read_closures_csv(path: &Path) -> Result<Vec<EdgeClosure>, IoError> {
    Ok(read_closures_csv_lines(path)?.into_iter().map(|(_, c)| c).collect())
}

/// As [`read_closures_csv`], with the file line of each row (for the caller's own messages).
pub fn read_closures_csv_lines(path: &Path) -> Result<Vec<(u64, EdgeClosure)>, IoError> {
    let text = std::fs::read(path).map_err(|e| IoError::new(path, format!("cannot read: {e}")))?;
    // Physical line of a byte offset (the csv reader's own count skips blank lines).
    let mut lines = LineCounter {
        text: &text,
        pos: 0,
        line: 1,
    };
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(&text[..]);
    let headers = r
        .headers()
        .map_err(|e| IoError::at(path, "line 1", format!("bad header: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| {
                IoError::at(
                    path,
                    "line 1",
                    format!("no column '{name}' (expected edge_id,max_depth_m,closed)"),
                )
            })
    };
    let (ci, cd, cc) = (col("edge_id")?, col("max_depth_m")?, col("closed")?);
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for rec in r.records() {
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                let at = e
                    .position()
                    .map_or("a row".to_string(), |p| format!("line {}", lines.at(p.byte())));
                return Err(IoError::at(path, at, e.to_string()));
            }
        };
        let line_no = rec.position().map_or(0, |p| lines.at(p.byte()));
        let line = format!("line {line_no}");
        let id = rec.get(ci).unwrap_or("").trim().to_string();
        if id.is_empty() {
            return Err(IoError::at(path, &line, "empty edge_id"));
        }
        if !seen.insert(id.clone()) {
            return Err(IoError::at(path, &line, format!("edge_id '{id}' appears twice")));
        }
        let depth_txt = rec.get(cd).unwrap_or("").trim();
        let depth: f64 = depth_txt
            .parse()
            .ok()
            .filter(|d: &f64| d.is_finite() && *d >= 0.0)
            .ok_or_else(|| IoError::at(path, &line, format!("max_depth_m '{depth_txt}' is not a depth ≥ 0")))?;
        let closed = match rec.get(cc).unwrap_or("").trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            other => {
                return Err(IoError::at(
                    path,
                    &line,
                    format!("closed '{other}' is not true or false"),
                ));
            }
        };
        out.push((
            line_no,
            EdgeClosure {
                id,
                max_depth_m: depth,
                closed,
            },
        ));
    }
    Ok(out)
}

/// Physical line numbers of increasing byte offsets (the csv reader's own line count skips blank
/// lines, and a record's position is where the reader started, before the blank lines).
struct LineCounter<'a> {
    text: &'a [u8],
    pos: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn at(&mut self, byte: u64) -> u64 {
        let mut b = (byte as usize).clamp(self.pos, self.text.len());
        while b < self.text.len() && (self.text[b] == b'\n' || self.text[b] == b'\r') {
            b += 1;
        }
        self.line += self.text[self.pos..b].iter().filter(|&&c| c == b'\n').count() as u64;
        self.pos = b;
        self.line
    }
}

/// Writes the closures CSV (format in the module doc) atomically: a temporary file in the target's
/// directory, then a rename.
pub fn write_closures_csv(path: &Path, closures: &[EdgeClosure]) -> Result<(), IoError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| IoError::new(path, "the closures file needs a file name"))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| -> Result<(), IoError> {
        let mut file = std::fs::File::create(&tmp).map_err(|e| IoError::os(&tmp, e))?;
        std::io::Write::write_all(&mut file, closures_csv(closures).as_bytes()).map_err(|e| IoError::os(&tmp, e))?;
        file.sync_all().map_err(|e| IoError::os(&tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(|e| IoError::os(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod read_tests {
    use super::*;

    #[test]
    fn closures_csv_reads_back_what_it_wrote_and_names_bad_lines() {
        let dir = std::env::temp_dir().join(format!("renxing-closures-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("closures_drive.csv");
        let rows = vec![
            EdgeClosure {
                id: "0".into(),
                max_depth_m: 0.0,
                closed: false,
            },
            EdgeClosure {
                id: "a,\"b\"".into(),
                max_depth_m: 0.25,
                closed: true,
            },
        ];
        write_closures_csv(&p, &rows).unwrap();
        assert_eq!(read_closures_csv(&p).unwrap(), rows);
        // Blank lines are skipped but counted.
        std::fs::write(&p, "edge_id,max_depth_m,closed\n1,0.1,false\n\n\n2,-3,true\n").unwrap();
        let e = read_closures_csv(&p).unwrap_err().to_string();
        assert!(e.contains("line 5") && e.contains("-3"), "{e}");
        std::fs::write(&p, "edge_id,depth\n1,0.1\n").unwrap();
        assert!(read_closures_csv(&p).unwrap_err().to_string().contains("max_depth_m"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
