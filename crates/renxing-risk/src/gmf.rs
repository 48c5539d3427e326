//! Ground-motion fields given as files: the hazard sites and the intensity at each site in each
//! event, as OpenQuake exports and imports them.
//!
//! # Sites CSV (`sites_csv`)
//! A header with `lon` and `lat`, optionally `site_id` (the id the fields refer to; otherwise the
//! row number from 0) and `custom_site_id` (a short text id, e.g. a geohash, that the fields may
//! use instead). Other columns (site parameters such as `vs30`) are ignored.
//!
//! # Fields CSV (`gmfs_csv`, `gmfs_file`)
//! An optional first comment line starting with `#` (OpenQuake's export metadata), then a
//! header with the site (`site_id` or `sid`, or `custom_site_id`), the event (`event_id` or
//! `eid`) and one column per intensity measure type, named `gmv_PGA`, `gmv_SA(0.3)`, … or bare
//! `PGA`, … A `rlz_id`/`rlzi` column is ignored. Intensities are stored as 32-bit floats, as
//! OpenQuake stores them. Event ids must start at 0; a (site, event) pair given twice is an error.
//! The set of events is the set of distinct event ids: an event without a row at a site means
//! no ground motion there (no damage, no loss).
//!
//! The fields are held densely (sites × events × measures, NaN where a row is absent): 4 bytes per
//! value, e.g. 36 MB for 9,000 sites × 1,000 events × 1 measure.

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use renxing_io::error::IoError;

type Result<T> = std::result::Result<T, IoError>;

/// Hazard sites.
#[derive(Debug, Clone, Default)]
pub struct Sites {
    pub lon: Vec<f64>,
    pub lat: Vec<f64>,
    /// The `site_id` of each row (the row number when the file has none).
    pub ids: Vec<u64>,
    pub custom_ids: Option<Vec<String>>,
}

impl Sites {
    /// Number of sites.
    pub fn len(&self) -> usize {
        self.lon.len()
    }

    /// Whether there is no site.
    pub fn is_empty(&self) -> bool {
        self.lon.is_empty()
    }

    /// Reads a sites CSV.
    pub fn read_csv(path: &Path) -> Result<Sites> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_path(path)
            .map_err(|e| IoError::new(path, e.to_string()))?;
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| IoError::at(path, "line 1", e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let col = |n: &str| headers.iter().position(|h| h == n);
        let c_lon = col("lon").ok_or_else(|| IoError::at(path, "line 1", "no 'lon' column"))?;
        let c_lat = col("lat").ok_or_else(|| IoError::at(path, "line 1", "no 'lat' column"))?;
        let c_id = col("site_id").or_else(|| col("sid")).or_else(|| col("sids"));
        let c_custom = col("custom_site_id");
        let mut s = Sites {
            custom_ids: c_custom.map(|_| Vec::new()),
            ..Default::default()
        };
        for rec in rdr.records() {
            let rec = rec.map_err(|e| IoError::new(path, e.to_string()))?;
            let pos = format!("line {}", rec.position().map(|p| p.line()).unwrap_or(0));
            let num = |c: usize, what: &str| -> Result<f64> {
                rec[c]
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| IoError::at(path, &pos, format!("{what}: '{}' is not a number", &rec[c])))
            };
            let lon = num(c_lon, "lon")?;
            let lat = num(c_lat, "lat")?;
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(IoError::at(
                    path,
                    &pos,
                    format!("({lon}, {lat}) is not a longitude/latitude"),
                ));
            }
            let id = match c_id {
                Some(c) => rec[c]
                    .parse::<u64>()
                    .map_err(|_| IoError::at(path, &pos, format!("site_id '{}' is not a whole number", &rec[c])))?,
                None => s.lon.len() as u64,
            };
            s.lon.push(lon);
            s.lat.push(lat);
            s.ids.push(id);
            if let (Some(c), Some(v)) = (c_custom, s.custom_ids.as_mut()) {
                v.push(rec[c].to_string());
            }
        }
        if s.is_empty() {
            return Err(IoError::new(path, "no sites in the file"));
        }
        Ok(s)
    }
}

/// Ground-motion values per site, event and intensity measure type.
#[derive(Debug, Clone)]
pub struct GroundMotionFields {
    /// Intensity measure types (`PGA`, `SA(0.3)`, …), without the `gmv_` prefix.
    pub imts: Vec<String>,
    /// Distinct event ids, ascending.
    pub event_ids: Vec<u32>,
    pub n_sites: usize,
    /// `values[(site · n_events + event) · n_imts + imt]`; NaN where the file has no row.
    pub values: Vec<f32>,
}

impl GroundMotionFields {
    /// Number of events.
    pub fn n_events(&self) -> usize {
        self.event_ids.len()
    }

    /// Index of an intensity measure type.
    pub fn imt_index(&self, imt: &str) -> Option<usize> {
        self.imts.iter().position(|m| m == imt)
    }

    /// The value at (site, event index, imt index); NaN = no ground motion recorded.
    #[inline]
    pub fn get(&self, site: usize, event: usize, imt: usize) -> f32 {
        self.values[(site * self.event_ids.len() + event) * self.imts.len() + imt]
    }

    /// Reads a fields CSV for the given sites.
    pub fn read_csv(path: &Path, sites: &Sites) -> Result<GroundMotionFields> {
        let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
        Self::parse(&bytes, path, sites)
    }

    /// Parses the bytes of a fields CSV.
    pub fn parse(bytes: &[u8], path: &Path, sites: &Sites) -> Result<GroundMotionFields> {
        let text = std::str::from_utf8(bytes).map_err(|e| IoError::new(path, format!("not UTF-8 text: {e}")))?;
        let text = text.trim_start_matches('\u{feff}');
        // Skip comment lines, find the header.
        let mut offset = 0usize;
        let mut line_no = 0usize;
        let header = loop {
            let rest = &text[offset..];
            if rest.is_empty() {
                return Err(IoError::new(path, "no header line"));
            }
            let end = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
            let line = rest[..end].trim_end_matches(['\r', '\n']);
            offset += end;
            line_no += 1;
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            break line;
        };
        let cols: Vec<&str> = header.split(',').map(str::trim).collect();
        let find = |names: &[&str]| cols.iter().position(|c| names.contains(c));
        let c_site = find(&["site_id", "sid"]);
        let c_custom = find(&["custom_site_id"]);
        let c_event = find(&["event_id", "eid"])
            .ok_or_else(|| IoError::at(path, format!("line {line_no}"), "no 'event_id' (or 'eid') column"))?;
        if c_site.is_none() && c_custom.is_none() {
            return Err(IoError::at(
                path,
                format!("line {line_no}"),
                "no 'site_id', 'sid' or 'custom_site_id' column",
            ));
        }
        let mut imt_cols = Vec::new();
        let mut imts = Vec::new();
        for (i, c) in cols.iter().enumerate() {
            if Some(i) == c_site || Some(i) == c_custom || i == c_event || *c == "rlz_id" || *c == "rlzi" {
                continue;
            }
            imt_cols.push(i);
            imts.push(c.strip_prefix("gmv_").unwrap_or(c).to_string());
        }
        if imts.is_empty() {
            return Err(IoError::at(
                path,
                format!("line {line_no}"),
                "no intensity column (gmv_PGA, …)",
            ));
        }
        // Site lookup: numeric ids, or custom ids through the sites file.
        let by_id: HashMap<u64, usize> = sites.ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let by_custom: Option<HashMap<&str, usize>> = match (c_site, c_custom) {
            (None, Some(_)) => {
                let customs = sites.custom_ids.as_ref().ok_or_else(|| {
                    IoError::at(
                        path,
                        format!("line {line_no}"),
                        "the fields name sites by custom_site_id but the sites file has no custom_site_id column",
                    )
                })?;
                Some(customs.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect())
            }
            _ => None,
        };
        let ncols = cols.len();
        let m = imts.len();
        let body = &text[offset..];
        let first_line = line_no + 1;
        // Split the body into chunks at line boundaries, parse them in parallel.
        let chunk_target = (body.len() / (4 * rayon::current_num_threads().max(1))).max(1 << 20);
        let mut chunks: Vec<(usize, &str)> = Vec::new();
        let mut start = 0usize;
        while start < body.len() {
            let mut end = (start + chunk_target).min(body.len());
            if end < body.len() {
                // In bytes: `end` may fall inside a multi-byte character; after '\n' it cannot.
                end = body.as_bytes()[end..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map(|i| end + i + 1)
                    .unwrap_or(body.len());
            }
            chunks.push((start, &body[start..end]));
            start = end;
        }
        // Line number at each chunk start.
        let mut chunk_lines = Vec::with_capacity(chunks.len());
        let mut l = first_line;
        for (_, c) in &chunks {
            chunk_lines.push(l);
            l += c.bytes().filter(|&b| b == b'\n').count();
        }
        type Row = (u32, u32, Vec<f32>);
        let parsed: Vec<Result<Vec<Row>>> = chunks
            .par_iter()
            .zip(chunk_lines.par_iter())
            .map(|((_, chunk), &l0)| {
                let mut rows: Vec<Row> = Vec::with_capacity(chunk.len() / 24);
                for (k, line) in chunk.split('\n').enumerate() {
                    let line = line.trim_end_matches('\r');
                    if line.trim().is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let pos = || format!("line {}", l0 + k);
                    let fields: Vec<&str> = line.split(',').collect();
                    if fields.len() != ncols {
                        return Err(IoError::at(
                            path,
                            pos(),
                            format!("{} fields, the header has {ncols}", fields.len()),
                        ));
                    }
                    let site = match (&by_custom, c_site) {
                        (Some(map), _) => {
                            let cid = fields[c_custom.expect("custom column")].trim();
                            *map.get(cid).ok_or_else(|| {
                                IoError::at(path, pos(), format!("custom_site_id '{cid}' is not in the sites file"))
                            })?
                        }
                        (None, Some(c)) => {
                            let s = fields[c].trim();
                            let id: u64 = s.parse().map_err(|_| {
                                IoError::at(path, pos(), format!("site id '{s}' is not a whole number"))
                            })?;
                            *by_id.get(&id).ok_or_else(|| {
                                IoError::at(path, pos(), format!("site id {id} is not in the sites file"))
                            })?
                        }
                        (None, None) => unreachable!("checked above"),
                    };
                    let e = fields[c_event].trim();
                    let eid: u32 = e
                        .parse()
                        .map_err(|_| IoError::at(path, pos(), format!("event id '{e}' is not a whole number")))?;
                    let mut vals = Vec::with_capacity(m);
                    for (&c, imt) in imt_cols.iter().zip(&imts) {
                        let s = fields[c].trim();
                        let v: f32 = s
                            .parse()
                            .map_err(|_| IoError::at(path, pos(), format!("{imt}: '{s}' is not a number")))?;
                        if !v.is_finite() || v < 0.0 {
                            return Err(IoError::at(
                                path,
                                pos(),
                                format!("{imt}: intensity {s} must be finite and ≥ 0"),
                            ));
                        }
                        vals.push(v);
                    }
                    rows.push((site as u32, eid, vals));
                }
                Ok(rows)
            })
            .collect();
        let mut all: Vec<Vec<Row>> = Vec::with_capacity(parsed.len());
        for p in parsed {
            all.push(p?);
        }
        let mut event_ids: Vec<u32> = all.iter().flatten().map(|r| r.1).collect();
        event_ids.sort_unstable();
        event_ids.dedup();
        if event_ids.is_empty() {
            return Err(IoError::new(path, "no ground-motion rows"));
        }
        if event_ids[0] != 0 {
            return Err(IoError::new(
                path,
                format!("event ids must start at 0 (the smallest is {})", event_ids[0]),
            ));
        }
        let n_events = event_ids.len();
        let event_pos: HashMap<u32, usize> = event_ids.iter().enumerate().map(|(i, &e)| (e, i)).collect();
        let n_sites = sites.len();
        let total = n_sites
            .checked_mul(n_events)
            .and_then(|v| v.checked_mul(m))
            .filter(|&v| v <= 4_000_000_000)
            .ok_or_else(|| {
                IoError::new(
                    path,
                    format!("{n_sites} sites × {n_events} events × {m} measures is too large to hold"),
                )
            })?;
        let mut values = vec![f32::NAN; total];
        for (site, eid, vals) in all.into_iter().flatten() {
            let e = event_pos[&eid];
            let base = (site as usize * n_events + e) * m;
            if !values[base].is_nan() {
                return Err(IoError::new(
                    path,
                    format!("site {} and event {eid} are given twice", sites.ids[site as usize]),
                ));
            }
            values[base..base + m].copy_from_slice(&vals);
        }
        Ok(GroundMotionFields {
            imts,
            event_ids,
            n_sites,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_comment_ids_and_gaps() {
        let sites = Sites {
            lon: vec![1.0, 2.0],
            lat: vec![3.0, 4.0],
            ids: vec![0, 1],
            custom_ids: None,
        };
        let csv = b"#,,\"generated_by='x'\"\nsite_id,event_id,gmv_PGA\n0,0,0.5\n1,2,0.25\n";
        let g = GroundMotionFields::parse(csv, Path::new("g.csv"), &sites).unwrap();
        assert_eq!(g.imts, vec!["PGA"]);
        assert_eq!(g.event_ids, vec![0, 2]);
        assert_eq!(g.get(0, 0, 0), 0.5);
        assert!(g.get(0, 1, 0).is_nan());
        assert_eq!(g.get(1, 1, 0), 0.25);
        let e = GroundMotionFields::parse(
            b"site_id,event_id,gmv_PGA\n0,0,0.5\n0,0,0.3\n",
            Path::new("g.csv"),
            &sites,
        )
        .unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        let e =
            GroundMotionFields::parse(b"site_id,event_id,gmv_PGA\n0,0,nan\n", Path::new("g.csv"), &sites).unwrap_err();
        assert_eq!(e.position.as_deref(), Some("line 2"), "{e}");
    }

    /// Found while fuzzing: a body over 1 MiB is cut into chunks at a byte offset, and a cut
    /// inside a multi-byte character (here in a comment line) made the reader panic.
    #[test]
    fn chunk_cut_inside_a_multibyte_character() {
        let sites = Sites {
            lon: vec![1.0, 2.0],
            lat: vec![3.0, 4.0],
            ids: vec![0, 1],
            custom_ids: None,
        };
        // Body: "0,0,0.5\n#" (9 bytes) then 2-byte 'é's, so byte 2^20 is inside one of them.
        let csv = format!(
            "site_id,event_id,gmv_PGA\n0,0,0.5\n#{}\n1,0,0.25\n",
            "é".repeat(600_000)
        );
        let g = GroundMotionFields::parse(csv.as_bytes(), Path::new("g.csv"), &sites).unwrap();
        assert_eq!(g.event_ids, vec![0]);
        assert_eq!(g.get(0, 0, 0), 0.5);
        assert_eq!(g.get(1, 0, 0), 0.25);
        let bad = csv.replace("1,0,0.25", "1,0,x");
        let e = GroundMotionFields::parse(bad.as_bytes(), Path::new("g.csv"), &sites).unwrap_err();
        assert_eq!(e.position.as_deref(), Some("line 4"), "{e}");
    }
}
