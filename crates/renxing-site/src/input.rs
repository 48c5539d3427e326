//! Reading a siting problem from CSV files.
//!
//! ## Demand file
//! One row per demand point: an id, a weight (population…) and optionally a position.
//! Columns are found by name unless given: id from `id`, `ID`, `name`, `NAME`, … — when a cost
//! file is given, the column whose values all appear in it wins (the spopt San Francisco file has
//! both `ID` and `NAME`; the costs use `NAME`); weight from `weight`, `population`, `pop`,
//! `POP2000`, `demand`; longitude `lon`/`long`/`longitude`/`x`; latitude `lat`/`latitude`/`y`.
//!
//! ## Candidates file
//! One row per candidate site: id (as above), and optional columns named by the caller (or found
//! by name): `capacity`, `cost`, `preselected` (1/0, true/false, yes/no), position.
//!
//! ## Cost file, long form
//! One row per (demand point, site) pair with a cost, e.g. spopt's
//! `SF_network_distance_candidateStore_16_censusTract_205_new.csv`
//! (`distance,name,DestinationName,demand`) or `renxing od` output
//! (`origin_id,destination_id,distance_m,time_s`). The two id columns are told apart by their
//! values (one holds demand ids, the other site ids); the cost column is `distance`, `cost`,
//! `distance_m`, `time_s`, … or given. An empty cost means "no route". Every pair must be present
//! unless missing pairs are allowed (then they count as unreachable).
//!
//! ## Cost file, dense form
//! Header `<id column>,<site id>,<site id>,…`, then one row per demand point. Chosen when the
//! header names every candidate site.
//!
//! Every problem is reported with the file, line and column.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use renxing_io::IoError;

use crate::{CostMatrix, Instance, Site, SiteError};

/// Column choices (all optional: found by name otherwise).
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub demand_id: Option<String>,
    pub weight: Option<String>,
    pub site_id: Option<String>,
    pub capacity: Option<String>,
    pub site_cost: Option<String>,
    pub preselected: Option<String>,
    /// Long cost file: demand id, site id and cost columns.
    pub cost_demand: Option<String>,
    pub cost_site: Option<String>,
    pub cost_value: Option<String>,
    /// Long cost file: pairs absent from the file are unreachable instead of an error.
    pub allow_missing: bool,
    /// Positions are in some other CRS (projected metres, GCJ-02 …) that the caller converts:
    /// they are only checked to be numbers, not to be WGS84 longitudes and latitudes.
    pub positions_any_crs: bool,
}

/// A CSV table read whole: header and rows of text (line numbers are 1-based, header = 1).
pub struct Table {
    pub path: std::path::PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Result<Table, IoError> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(false)
            .from_path(path)
            .map_err(|e| IoError::new(path, csv_message(&e)))?;
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| IoError::at(path, "line 1", csv_message(&e)))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        let mut rows = Vec::new();
        for (k, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| IoError::at(path, format!("line {}", k + 2), csv_message(&e)))?;
            rows.push(rec.iter().map(|s| s.trim().to_string()).collect());
        }
        if rows.is_empty() {
            return Err(IoError::new(path, "no data rows"));
        }
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The named column, or the first of `guesses` present (case-insensitive); `what` for errors.
    fn pick(&self, given: Option<&str>, guesses: &[&str], what: &str) -> Result<Option<usize>, IoError> {
        if let Some(g) = given {
            return self.column(g).map(Some).ok_or_else(|| {
                IoError::at(
                    &self.path,
                    "line 1",
                    format!("no column '{g}' for the {what} (columns: {})", self.header.join(", ")),
                )
            });
        }
        for g in guesses {
            if let Some(c) = self.header.iter().position(|h| h.eq_ignore_ascii_case(g)) {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    fn number(&self, row: usize, col: usize, what: &str) -> Result<f64, IoError> {
        let s = &self.rows[row][col];
        s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
            IoError::at(
                &self.path,
                format!("line {}", row + 2),
                format!("{what} '{s}' (column {}) is not a number", self.header[col]),
            )
        })
    }

    fn column_values(&self, col: usize) -> impl Iterator<Item = &str> {
        self.rows.iter().map(move |r| r[col].as_str())
    }
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
        _ => e.to_string(),
    }
}

const ID_GUESSES: &[&str] = &["id", "name", "site_id", "demand_id", "code", "fid"];
const WEIGHT_GUESSES: &[&str] = &["weight", "population", "pop", "POP2000", "demand", "people"];
const LON_GUESSES: &[&str] = &["lon", "long", "longitude", "lng", "x"];
const LAT_GUESSES: &[&str] = &["lat", "latitude", "y"];
const COST_GUESSES: &[&str] = &[
    "cost",
    "distance",
    "distance_m",
    "dist",
    "time_s",
    "time",
    "travel_time",
];

/// The id column of a table: given, or the first id-like column whose values all appear in
/// `known` (when given), or the first id-like column.
fn id_column(t: &Table, given: Option<&str>, known: Option<&HashSet<String>>, what: &str) -> Result<usize, IoError> {
    if let Some(c) = t.pick(given, &[], what)? {
        return Ok(c);
    }
    let candidates: Vec<usize> = t
        .header
        .iter()
        .enumerate()
        .filter(|(_, h)| ID_GUESSES.iter().any(|g| h.eq_ignore_ascii_case(g)))
        .map(|(c, _)| c)
        .collect();
    if let Some(known) = known {
        // Any column (id-like names first) whose values are all known ids.
        let mut order = candidates.clone();
        order.extend((0..t.header.len()).filter(|c| !candidates.contains(c)));
        if let Some(&c) = order.iter().find(|&&c| t.column_values(c).all(|v| known.contains(v))) {
            return Ok(c);
        }
    }
    candidates.first().copied().ok_or_else(|| {
        IoError::at(
            &t.path,
            "line 1",
            format!("no {what} column found (columns: {}); name it", t.header.join(", ")),
        )
    })
}

fn position(
    t: &Table,
    row: usize,
    lon: Option<usize>,
    lat: Option<usize>,
    any_crs: bool,
) -> Result<Option<(f64, f64)>, IoError> {
    match (lon, lat) {
        (Some(x), Some(y)) => {
            if t.rows[row][x].is_empty() && t.rows[row][y].is_empty() {
                return Ok(None);
            }
            let (a, b) = (t.number(row, x, "longitude")?, t.number(row, y, "latitude")?);
            if !any_crs && (!(-180.0..=180.0).contains(&a) || !(-90.0..=90.0).contains(&b)) {
                return Err(IoError::at(
                    &t.path,
                    format!("line {}", row + 2),
                    format!("position ({a}, {b}) is not a WGS84 longitude/latitude"),
                ));
            }
            Ok(Some((a, b)))
        }
        _ => Ok(None),
    }
}

fn flag(t: &Table, row: usize, col: usize) -> Result<bool, IoError> {
    match t.rows[row][col].to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "t" => Ok(true),
        "0" | "false" | "no" | "n" | "f" | "" => Ok(false),
        other => Err(IoError::at(
            &t.path,
            format!("line {}", row + 2),
            format!("'{other}' in column {} is not 1/0, true/false or yes/no", t.header[col]),
        )),
    }
}

/// Read a problem from demand, candidates and cost files (long or dense, detected).
pub fn read_instance(demand: &Path, candidates: &Path, costs: &Path, cols: &Columns) -> Result<Instance, SiteError> {
    let ct = Table::read(costs)?;
    read_instance_with(demand, candidates, Some(ct), cols, |_, _| unreachable!())
}

/// Read demand and candidates, and take the costs from `costs` (a cost file table) or, when it is
/// `None`, from `compute(demand positions, site positions)` (e.g. a road-network matrix).
pub fn read_instance_with(
    demand: &Path,
    candidates: &Path,
    costs: Option<Table>,
    cols: &Columns,
    compute: impl FnOnce(&[(f64, f64)], &[(f64, f64)]) -> Result<CostMatrix, SiteError>,
) -> Result<Instance, SiteError> {
    let dt = Table::read(demand)?;
    let st = Table::read(candidates)?;
    // Ids found in the cost file help to pick the id columns.
    // (Not the cost column's numbers: a column of small integers could pass for ids.)
    let cost_ids: Option<HashSet<String>> = costs.as_ref().map(|ct| {
        let is_cost = |c: usize| match &cols.cost_value {
            Some(v) => ct.header[c] == *v,
            None => COST_GUESSES.iter().any(|g| ct.header[c].eq_ignore_ascii_case(g)),
        };
        let id_cols: Vec<usize> = (0..ct.header.len()).filter(|&c| !is_cost(c)).collect();
        ct.rows
            .iter()
            .flat_map(|r| id_cols.iter().map(|&c| r[c].clone()))
            .chain(ct.header.iter().cloned())
            .collect()
    });
    let d_id = id_column(&dt, cols.demand_id.as_deref(), cost_ids.as_ref(), "demand id")?;
    let s_id = id_column(&st, cols.site_id.as_deref(), cost_ids.as_ref(), "site id")?;
    let w_col = dt
        .pick(cols.weight.as_deref(), WEIGHT_GUESSES, "weight")?
        .ok_or_else(|| {
            IoError::at(
                &dt.path,
                "line 1",
                format!("no weight column found (columns: {}); name it", dt.header.join(", ")),
            )
        })?;
    let demand_ids: Vec<String> = dt.column_values(d_id).map(str::to_string).collect();
    let mut weights = Vec::with_capacity(dt.rows.len());
    for r in 0..dt.rows.len() {
        let w = dt.number(r, w_col, "weight")?;
        if w < 0.0 {
            return Err(IoError::at(&dt.path, format!("line {}", r + 2), format!("weight {w} is negative")).into());
        }
        weights.push(w);
    }
    check_ids(&dt, d_id, "demand point")?;
    check_ids(&st, s_id, "candidate site")?;
    let (dlon, dlat) = (dt.pick(None, LON_GUESSES, "")?, dt.pick(None, LAT_GUESSES, "")?);
    let (slon, slat) = (st.pick(None, LON_GUESSES, "")?, st.pick(None, LAT_GUESSES, "")?);
    let cap_col = st.pick(cols.capacity.as_deref(), &["capacity"], "capacity")?;
    let cost_col = st.pick(cols.site_cost.as_deref(), &["cost", "site_cost"], "site cost")?;
    let pre_col = st.pick(
        cols.preselected.as_deref(),
        &["preselected", "existing"],
        "pre-selected flag",
    )?;
    let mut sites = Vec::with_capacity(st.rows.len());
    for r in 0..st.rows.len() {
        let mut s = Site::new(st.rows[r][s_id].clone());
        if let Some(c) = cap_col
            && !st.rows[r][c].is_empty()
        {
            let v = st.number(r, c, "capacity")?;
            if v < 0.0 {
                return Err(
                    IoError::at(&st.path, format!("line {}", r + 2), format!("capacity {v} is negative")).into(),
                );
            }
            s.capacity = Some(v);
        }
        if let Some(c) = cost_col {
            let v = st.number(r, c, "site cost")?;
            if v < 0.0 {
                return Err(IoError::at(
                    &st.path,
                    format!("line {}", r + 2),
                    format!("site cost {v} is negative"),
                )
                .into());
            }
            s.cost = v;
        }
        if let Some(c) = pre_col {
            s.preselected = flag(&st, r, c)?;
        }
        s.lonlat = position(&st, r, slon, slat, cols.positions_any_crs)?;
        sites.push(s);
    }
    let demand_lonlat: Option<Vec<(f64, f64)>> = (0..dt.rows.len())
        .map(|r| position(&dt, r, dlon, dlat, cols.positions_any_crs))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .collect();
    let matrix = match costs {
        Some(ct) => read_costs(&ct, &demand_ids, &sites, cols)?,
        None => {
            let dpos = demand_lonlat.as_ref().ok_or_else(|| {
                SiteError::invalid(format!(
                    "{}: every demand point needs lon/lat to compute costs on the road network",
                    demand.display()
                ))
            })?;
            let spos: Vec<(f64, f64)> =
                sites
                    .iter()
                    .map(|s| s.lonlat)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        SiteError::invalid(format!(
                            "{}: every candidate site needs lon/lat to compute costs on the road network",
                            candidates.display()
                        ))
                    })?;
            compute(dpos, &spos)?
        }
    };
    let mut inst = Instance::new(demand_ids, weights, sites, matrix)?;
    inst.demand_lonlat = demand_lonlat;
    Ok(inst)
}

fn check_ids(t: &Table, col: usize, what: &str) -> Result<(), IoError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (r, row) in t.rows.iter().enumerate() {
        let id = row[col].as_str();
        if id.is_empty() {
            return Err(IoError::at(
                &t.path,
                format!("line {}", r + 2),
                format!("empty {what} id"),
            ));
        }
        if let Some(first) = seen.insert(id, r) {
            return Err(IoError::at(
                &t.path,
                format!("line {}", r + 2),
                format!("{what} id '{id}' already on line {}", first + 2),
            ));
        }
    }
    Ok(())
}

/// A cost file (long or dense) as a demand × site matrix in the given orders.
pub fn read_costs(t: &Table, demand_ids: &[String], sites: &[Site], cols: &Columns) -> Result<CostMatrix, SiteError> {
    let d_index: HashMap<&str, usize> = demand_ids.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let s_index: HashMap<&str, usize> = sites.iter().enumerate().map(|(j, s)| (s.id.as_str(), j)).collect();
    let (n, m) = (demand_ids.len(), sites.len());
    let dense = cols.cost_value.is_none() && sites.iter().all(|s| t.column(&s.id).is_some());
    if dense {
        let site_col: Vec<usize> = sites.iter().map(|s| t.column(&s.id).expect("checked")).collect();
        // The demand-id column: the other column whose values are all demand ids (the first
        // other column when none is, so the error names its first unknown id).
        let others: Vec<usize> = (0..t.header.len()).filter(|c| !site_col.contains(c)).collect();
        let id_col = others
            .iter()
            .copied()
            .find(|&c| t.column_values(c).all(|v| d_index.contains_key(v)))
            .or(others.first().copied())
            .ok_or_else(|| IoError::at(&t.path, "line 1", "dense cost matrix: no demand id column"))?;
        let mut data = vec![f64::NAN; n * m];
        for (r, row) in t.rows.iter().enumerate() {
            let i = *d_index.get(row[id_col].as_str()).ok_or_else(|| {
                IoError::at(
                    &t.path,
                    format!("line {}", r + 2),
                    format!("demand id '{}' is not in the demand file", row[id_col]),
                )
            })?;
            if !data[i * m].is_nan() {
                return Err(IoError::at(
                    &t.path,
                    format!("line {}", r + 2),
                    format!("demand id '{}' has a second row", row[id_col]),
                )
                .into());
            }
            for (j, &c) in site_col.iter().enumerate() {
                data[i * m + j] = cost_cell(t, r, c)?;
            }
        }
        if let Some(i) = (0..n).find(|&i| data[i * m].is_nan()) {
            return Err(IoError::new(&t.path, format!("no row for demand point '{}'", demand_ids[i])).into());
        }
        return Ok(CostMatrix::new(n, m, data));
    }
    // Long form: find the demand-id and site-id columns by their values.
    let (d_col, s_col) = long_id_columns(t, &d_index, &s_index, cols)?;
    let v_col = match t.pick(cols.cost_value.as_deref(), COST_GUESSES, "cost")? {
        Some(c) if c != d_col && c != s_col => c,
        _ => {
            return Err(IoError::at(
                &t.path,
                "line 1",
                format!("no cost column found (columns: {}); name it", t.header.join(", ")),
            )
            .into());
        }
    };
    let mut data = vec![f64::NAN; n * m];
    for (r, row) in t.rows.iter().enumerate() {
        let i = *d_index.get(row[d_col].as_str()).ok_or_else(|| {
            IoError::at(
                &t.path,
                format!("line {}", r + 2),
                format!("demand id '{}' is not in the demand file", row[d_col]),
            )
        })?;
        let j = *s_index.get(row[s_col].as_str()).ok_or_else(|| {
            IoError::at(
                &t.path,
                format!("line {}", r + 2),
                format!("site id '{}' is not in the candidates file", row[s_col]),
            )
        })?;
        if !data[i * m + j].is_nan() {
            return Err(IoError::at(
                &t.path,
                format!("line {}", r + 2),
                format!("pair ({}, {}) appears twice", row[d_col], row[s_col]),
            )
            .into());
        }
        data[i * m + j] = cost_cell(t, r, v_col)?;
    }
    let missing: Vec<(usize, usize)> = (0..n * m)
        .filter(|&k| data[k].is_nan())
        .map(|k| (k / m, k % m))
        .collect();
    if !missing.is_empty() {
        if cols.allow_missing {
            for (i, j) in missing {
                data[i * m + j] = f64::INFINITY;
            }
        } else {
            let shown: Vec<String> = missing
                .iter()
                .take(5)
                .map(|&(i, j)| format!("({}, {})", demand_ids[i], sites[j].id))
                .collect();
            return Err(IoError::new(
                &t.path,
                format!(
                    "{} demand–site pair(s) have no row, e.g. {}; add them or allow missing pairs as unreachable",
                    missing.len(),
                    shown.join(", ")
                ),
            )
            .into());
        }
    }
    Ok(CostMatrix::new(n, m, data))
}

/// Names that say a long cost file's column holds the demand side or the site side of a pair.
const DEMAND_SIDE: &[&str] = &["origin", "origin_id", "from", "from_id", "demand_id", "name", "o"];
const SITE_SIDE: &[&str] = &[
    "destination",
    "destination_id",
    "destinationname",
    "to",
    "to_id",
    "site",
    "site_id",
    "facility",
    "d",
];

/// The demand-id and site-id columns of a long cost file: given, or the columns whose values are
/// all demand ids and all site ids. When ids of both files look alike (1, 2, 3 … on both sides)
/// several pairs of columns fit; the column names then decide (`origin`/`from`/`demand_id` …
/// against `destination`/`to`/`site_id` …), and when they cannot, the file is refused rather
/// than read the wrong way round.
fn long_id_columns(
    t: &Table,
    d_index: &HashMap<&str, usize>,
    s_index: &HashMap<&str, usize>,
    cols: &Columns,
) -> Result<(usize, usize), IoError> {
    let given = |name: &Option<String>, what: &str| -> Result<Option<usize>, IoError> {
        match name {
            Some(c) => t.pick(Some(c), &[], what),
            None => Ok(None),
        }
    };
    let gd = given(&cols.cost_demand, "demand id")?;
    let gs = given(&cols.cost_site, "site id")?;
    // The cost column (given, or named like one) holds no ids, whatever its numbers look like.
    let is_cost = |c: usize| match &cols.cost_value {
        Some(v) => t.header[c] == *v,
        None => COST_GUESSES.iter().any(|g| t.header[c].eq_ignore_ascii_case(g)),
    };
    let all_in = |c: usize, idx: &HashMap<&str, usize>| !is_cost(c) && t.column_values(c).all(|v| idx.contains_key(v));
    let d_fit: Vec<usize> = match gd {
        Some(c) => vec![c],
        None => (0..t.header.len()).filter(|&c| all_in(c, d_index)).collect(),
    };
    let s_fit: Vec<usize> = match gs {
        Some(c) => vec![c],
        None => (0..t.header.len()).filter(|&c| all_in(c, s_index)).collect(),
    };
    if d_fit.is_empty() {
        return Err(IoError::at(
            &t.path,
            "line 1",
            "no column holds the demand ids of the demand file; name it",
        ));
    }
    if s_fit.is_empty() {
        return Err(IoError::at(
            &t.path,
            "line 1",
            "no column holds the site ids of the candidates file; name it",
        ));
    }
    let pairs: Vec<(usize, usize)> = d_fit
        .iter()
        .flat_map(|&d| s_fit.iter().filter(move |&&s| s != d).map(move |&s| (d, s)))
        .collect();
    let named = |c: usize, side: &[&str]| side.iter().any(|n| t.header[c].eq_ignore_ascii_case(n));
    let hinted: Vec<(usize, usize)> = pairs
        .iter()
        .copied()
        .filter(|&(d, s)| named(d, DEMAND_SIDE) && named(s, SITE_SIDE))
        .collect();
    match (pairs.as_slice(), hinted.as_slice()) {
        ([], _) => Err(IoError::at(
            &t.path,
            "line 1",
            "the same column is the only one holding demand ids and site ids; name the columns",
        )),
        ([one], _) | (_, [one]) => Ok(*one),
        _ => Err(IoError::at(
            &t.path,
            "line 1",
            format!(
                "cannot tell the demand-id column from the site-id column: {} all hold ids of both files; name them (--cost-columns DEMAND,SITE,COST)",
                pairs
                    .iter()
                    .flat_map(|&(d, s)| [d, s])
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .map(|c| t.header[c].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn cost_cell(t: &Table, r: usize, c: usize) -> Result<f64, IoError> {
    let s = &t.rows[r][c];
    if s.is_empty() {
        return Ok(f64::INFINITY);
    }
    let v: f64 = s.parse().map_err(|_| {
        IoError::at(
            &t.path,
            format!("line {}", r + 2),
            format!("cost '{s}' (column {}) is not a number", t.header[c]),
        )
    })?;
    if v.is_nan() || v < 0.0 {
        return Err(IoError::at(
            &t.path,
            format!("line {}", r + 2),
            format!("cost {v} (column {}) is negative or not a number", t.header[c]),
        ));
    }
    Ok(v)
}

/// Site × site costs from a long file `from,to,cost` (or named columns); pairs absent are
/// unreachable, a site to itself costs 0.
pub fn read_site_costs(path: &Path, sites: &[Site]) -> Result<CostMatrix, SiteError> {
    let t = Table::read(path)?;
    let idx: HashMap<&str, usize> = sites.iter().enumerate().map(|(j, s)| (s.id.as_str(), j)).collect();
    let from = t.pick(None, &["from", "origin_id", "a"], "from")?;
    let to = t.pick(None, &["to", "destination_id", "b"], "to")?;
    let val = t.pick(None, COST_GUESSES, "cost")?;
    let (Some(from), Some(to), Some(val)) = (from, to, val) else {
        return Err(IoError::at(&t.path, "line 1", "site-to-site costs need columns from,to,cost").into());
    };
    let m = sites.len();
    let mut data = vec![f64::INFINITY; m * m];
    (0..m).for_each(|j| data[j * m + j] = 0.0);
    for (r, row) in t.rows.iter().enumerate() {
        let get = |c: usize| {
            idx.get(row[c].as_str()).copied().ok_or_else(|| {
                IoError::at(
                    &t.path,
                    format!("line {}", r + 2),
                    format!("site id '{}' is not in the candidates file", row[c]),
                )
            })
        };
        let (a, b) = (get(from)?, get(to)?);
        data[a * m + b] = cost_cell(&t, r, val)?;
    }
    Ok(CostMatrix::new(m, m, data))
}
