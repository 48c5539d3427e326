//! Exposure models: the assets at risk — where they are, what they are (taxonomy), how many
//! buildings, what they cost, who is in them, and the tags they are reported by.
//!
//! # Cost conversions (OpenQuake semantics)
//! Each cost type (`structural`, `nonstructural`, `contents`, `business_interruption`) declares how
//! its number is to be read: `aggregated` (the asset's total), `per_asset` (× `number`) or
//! `per_area` (× `area`, and × `number` too when the area type is `per_asset`). The stored
//! [`Asset::values`] are the converted totals.
//!
//! # Files
//! An NRML exposure (`<exposureModel>` in 0.4 or 0.5 namespaces):
//! ```xml
//! <exposureModel id="ex" category="buildings">
//!   <conversions>
//!     <area type="per_asset" unit="m2"/>
//!     <costTypes><costType name="structural" type="per_area" unit="EUR"/></costTypes>
//!   </conversions>
//!   <occupancyPeriods>day night transit</occupancyPeriods>
//!   <tagNames>NAME_1 NAME_2</tagNames>
//!   <assets>exposure.csv</assets>            — CSV file(s) relative to the XML, or inline:
//!   <asset id="a1" number="3" taxonomy="RC" area="120">
//!     <location lon="85.3" lat="27.7"/>
//!     <costs><cost type="structural" value="1000"/></costs>
//!     <occupancies><occupancy occupants="5" period="night"/></occupancies>
//!     <tags NAME_1="Central" NAME_2="Bagmati"/>
//!   </asset>
//! </exposureModel>
//! ```
//! Asset CSV files have a header with `id`, `lon`, `lat`, `taxonomy`, `number` and optionally
//! `area`, one column per cost type, one per occupancy period (`day`, `night`, `transit` or
//! `occupants_day` …), `residents`, and one per tag name. A CSV file given directly as
//! `exposure_file` is read the same way, its cost types taken as `per_asset` for every column
//! named like a cost type and its tags from the remaining text columns named in `tagNames`-free
//! mode (all columns not otherwise known).
//!
//! `<exposureFields><field oq="night" input="total_occupants"/></exposureFields>` maps
//! OpenQuake's field names to differently named CSV columns (one column may feed several).
//!
//! Checked: unique ids, coordinates within ±180°/±90°, `number` ≥ 0, values finite and ≥ 0,
//! every declared tag present. Errors name the file and line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use renxing_io::error::IoError;

use crate::nrml::{Element, read_xml};

type Result<T> = std::result::Result<T, IoError>;

/// How a cost type's numbers are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostKind {
    Aggregated,
    PerAsset,
    PerArea,
}

/// A declared cost type.
#[derive(Debug, Clone, PartialEq)]
pub struct CostType {
    pub name: String,
    pub kind: CostKind,
    pub unit: String,
}

/// One asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
    /// Index into [`Exposure::taxonomies`].
    pub taxonomy: u32,
    pub number: f64,
    pub area: f64,
    /// Converted replacement values, aligned with [`Exposure::cost_types`].
    pub values: Vec<f64>,
    /// Occupants aligned with [`Exposure::occupancy_periods`] (NaN when not given).
    pub occupants: Vec<f64>,
    pub residents: f64,
    /// Tag value indices aligned with [`Exposure::tag_names`] into [`Exposure::tag_values`].
    pub tags: Vec<u32>,
}

/// An exposure model.
#[derive(Debug, Clone, Default)]
pub struct Exposure {
    pub path: PathBuf,
    pub cost_types: Vec<CostType>,
    /// `<area type="per_asset">`: areas are per building, so `per_area` costs are also × number.
    pub area_per_asset: bool,
    pub occupancy_periods: Vec<String>,
    pub tag_names: Vec<String>,
    /// Distinct values per tag, in first-seen order.
    pub tag_values: Vec<Vec<String>>,
    pub taxonomies: Vec<String>,
    pub assets: Vec<Asset>,
    /// `<exposureFields>` renames: OpenQuake field (`night`, `residents`, `lon`, …) → the CSV
    /// column holding it. One column may feed several fields.
    pub field_map: HashMap<String, String>,
}

impl Exposure {
    /// Index of a cost type by name.
    pub fn cost_index(&self, name: &str) -> Option<usize> {
        self.cost_types.iter().position(|c| c.name == name)
    }

    /// Occupants of an asset at a time of day (`None` = mean over the occupancy periods).
    pub fn occupants(&self, asset: &Asset, time_event: Option<&str>) -> f64 {
        match time_event {
            Some(t) => self
                .occupancy_periods
                .iter()
                .position(|p| p == t)
                .map(|i| asset.occupants[i])
                .unwrap_or(f64::NAN),
            None => {
                if asset.occupants.is_empty() {
                    return f64::NAN;
                }
                asset.occupants.iter().sum::<f64>() / asset.occupants.len() as f64
            }
        }
    }

    /// Reads an exposure from an NRML XML file or an asset CSV file.
    pub fn read(path: &Path) -> Result<Self> {
        let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if is_csv {
            let mut ex = Exposure {
                path: path.to_path_buf(),
                ..Default::default()
            };
            ex.read_csv(path, true)?;
            return Ok(ex);
        }
        let root = read_xml(path)?;
        let model = root
            .find("exposureModel")
            .ok_or_else(|| IoError::new(path, "no <exposureModel> element: not an NRML exposure"))?;
        let mut ex = Exposure {
            path: path.to_path_buf(),
            ..Default::default()
        };
        let mut area_per_asset = false;
        if let Some(conv) = model.child("conversions") {
            if let Some(area) = conv.child("area") {
                area_per_asset = area.attr("type") == Some("per_asset");
            }
            if let Some(cts) = conv.child("costTypes") {
                for ct in cts.children_named("costType") {
                    let name = ct.req_attr(path, "name")?.to_string();
                    let kind = match ct.attr("type").unwrap_or("aggregated") {
                        "aggregated" => CostKind::Aggregated,
                        "per_asset" => CostKind::PerAsset,
                        "per_area" => CostKind::PerArea,
                        other => {
                            return Err(IoError::at(
                                path,
                                ct.position(),
                                format!("cost type kind '{other}' is unknown (aggregated, per_asset, per_area)"),
                            ));
                        }
                    };
                    ex.cost_types.push(CostType {
                        name,
                        kind,
                        unit: ct.attr("unit").unwrap_or("").to_string(),
                    });
                }
            }
        }
        ex.area_per_asset = area_per_asset;
        if let Some(op) = model.child("occupancyPeriods") {
            ex.occupancy_periods = op.text.split_whitespace().map(str::to_string).collect();
        }
        if let Some(fields) = model.child("exposureFields") {
            for f in fields.children_named("field") {
                let oq = f.req_attr(path, "oq")?.to_string();
                let input = f.req_attr(path, "input")?.to_string();
                ex.field_map.insert(oq, input);
            }
        }
        if let Some(tn) = model.child("tagNames") {
            ex.tag_names = tn.text.split_whitespace().map(str::to_string).collect();
            ex.tag_values = vec![Vec::new(); ex.tag_names.len()];
        }
        let assets = model
            .child("assets")
            .ok_or_else(|| IoError::at(path, model.position(), "<assets> is missing"))?;
        let inline: Vec<&Element> = assets.children_named("asset").collect();
        if inline.is_empty() {
            let dir = path.parent().unwrap_or(Path::new("."));
            let files: Vec<&str> = assets.text.split_whitespace().collect();
            if files.is_empty() {
                return Err(IoError::at(
                    path,
                    assets.position(),
                    "no assets and no asset CSV file named",
                ));
            }
            for f in files {
                ex.read_csv(&dir.join(f), false)?;
            }
        } else {
            let mut index = ExposureIndex::default();
            for a in inline {
                ex.read_inline(a, path, &mut index)?;
            }
        }
        ex.check_ids()?;
        Ok(ex)
    }
}

#[derive(Default)]
struct ExposureIndex {
    taxonomies: HashMap<String, u32>,
    tags: Vec<HashMap<String, u32>>,
}

impl Exposure {
    fn intern_taxonomy(&mut self, idx: &mut ExposureIndex, t: &str) -> u32 {
        if let Some(&i) = idx.taxonomies.get(t) {
            return i;
        }
        let i = self.taxonomies.len() as u32;
        self.taxonomies.push(t.to_string());
        idx.taxonomies.insert(t.to_string(), i);
        i
    }

    fn intern_tag(&mut self, idx: &mut ExposureIndex, k: usize, v: &str) -> u32 {
        if idx.tags.len() < self.tag_names.len() {
            idx.tags.resize(self.tag_names.len(), HashMap::new());
        }
        if let Some(&i) = idx.tags[k].get(v) {
            return i;
        }
        let i = self.tag_values[k].len() as u32;
        self.tag_values[k].push(v.to_string());
        idx.tags[k].insert(v.to_string(), i);
        i
    }

    fn convert(&self, raw: &[f64], number: f64, area: f64) -> Vec<f64> {
        self.cost_types
            .iter()
            .zip(raw)
            .map(|(ct, &v)| match ct.kind {
                CostKind::Aggregated => v,
                CostKind::PerAsset => v * number,
                CostKind::PerArea => {
                    if self.area_per_asset {
                        v * area * number
                    } else {
                        v * area
                    }
                }
            })
            .collect()
    }

    fn check_asset(&self, path: &Path, pos: &str, id: &str, lon: f64, lat: f64, number: f64) -> Result<()> {
        if id.is_empty() {
            return Err(IoError::at(path, pos, "asset without an id"));
        }
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(IoError::at(
                path,
                pos,
                format!("asset {id}: position ({lon}, {lat}) is not a longitude/latitude"),
            ));
        }
        if !(number >= 0.0) || !number.is_finite() {
            return Err(IoError::at(
                path,
                pos,
                format!("asset {id}: number {number} must be ≥ 0"),
            ));
        }
        Ok(())
    }

    fn read_inline(&mut self, a: &Element, path: &Path, idx: &mut ExposureIndex) -> Result<()> {
        let pos = a.position();
        let num = |name: &str, default: Option<f64>| -> Result<f64> {
            match a.attr(name) {
                None => {
                    default.ok_or_else(|| IoError::at(path, a.position(), format!("attribute '{name}' is missing")))
                }
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| IoError::at(path, a.position(), format!("{name}={v:?} is not a number"))),
            }
        };
        let id = a.req_attr(path, "id")?.to_string();
        let taxonomy = a.req_attr(path, "taxonomy")?.to_string();
        let number = num("number", Some(1.0))?;
        let area = num("area", Some(0.0))?;
        let loc = a
            .child("location")
            .ok_or_else(|| IoError::at(path, &pos, format!("asset {id}: <location> is missing")))?;
        let coord = |k: &str| -> Result<f64> {
            loc.req_attr(path, k)?
                .trim()
                .parse()
                .map_err(|_| IoError::at(path, loc.position(), format!("asset {id}: {k} is not a number")))
        };
        let (lon, lat) = (coord("lon")?, coord("lat")?);
        self.check_asset(path, &pos, &id, lon, lat, number)?;
        let mut raw = vec![0.0; self.cost_types.len()];
        let mut residents = f64::NAN;
        if let Some(costs) = a.child("costs") {
            for c in costs.children_named("cost") {
                let t = c.req_attr(path, "type")?;
                let v: f64 =
                    c.req_attr(path, "value")?.trim().parse().map_err(|_| {
                        IoError::at(path, c.position(), format!("asset {id}: cost value is not a number"))
                    })?;
                if !(v >= 0.0) || !v.is_finite() {
                    return Err(IoError::at(
                        path,
                        c.position(),
                        format!("asset {id}: cost {v} must be ≥ 0"),
                    ));
                }
                if t == "residents" {
                    residents = v;
                    continue;
                }
                let k = self.cost_index(t).ok_or_else(|| {
                    IoError::at(
                        path,
                        c.position(),
                        format!("asset {id}: cost type '{t}' is not declared in <costTypes>"),
                    )
                })?;
                raw[k] = v;
            }
        }
        let mut occupants = vec![f64::NAN; self.occupancy_periods.len()];
        if let Some(occ) = a.child("occupancies") {
            for o in occ.children_named("occupancy") {
                let period = o.req_attr(path, "period")?;
                let v: f64 =
                    o.req_attr(path, "occupants")?.trim().parse().map_err(|_| {
                        IoError::at(path, o.position(), format!("asset {id}: occupants is not a number"))
                    })?;
                let k = self.occupancy_periods.iter().position(|p| p == period).ok_or_else(|| {
                    IoError::at(
                        path,
                        o.position(),
                        format!("asset {id}: period '{period}' is not in <occupancyPeriods>"),
                    )
                })?;
                occupants[k] = v;
            }
        }
        let mut tags = Vec::with_capacity(self.tag_names.len());
        for k in 0..self.tag_names.len() {
            let name = self.tag_names[k].clone();
            let v = a
                .child("tags")
                .and_then(|t| t.attr(&name))
                .ok_or_else(|| IoError::at(path, &pos, format!("asset {id}: tag '{name}' is missing")))?
                .to_string();
            tags.push(self.intern_tag(idx, k, &v));
        }
        let taxonomy = self.intern_taxonomy(idx, &taxonomy);
        let values = self.convert(&raw, number, area);
        self.assets.push(Asset {
            id,
            lon,
            lat,
            taxonomy,
            number,
            area,
            values,
            occupants,
            residents,
            tags,
        });
        Ok(())
    }

    /// Reads an asset CSV. `standalone`: the CSV is the whole exposure (cost types inferred).
    fn read_csv(&mut self, path: &Path, standalone: bool) -> Result<()> {
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
        let field_map = self.field_map.clone();
        let col = |name: &str| {
            let n = field_map.get(name).map(String::as_str).unwrap_or(name);
            headers.iter().position(|h| h == n)
        };
        let need = |name: &str| col(name).ok_or_else(|| IoError::at(path, "line 1", format!("no '{name}' column")));
        let c_id = need("id")?;
        let c_lon = need("lon")?;
        let c_lat = need("lat")?;
        let c_tax = need("taxonomy")?;
        let c_num = col("number");
        let c_area = col("area");
        let c_res = col("residents");
        const COSTS: [&str; 4] = ["structural", "nonstructural", "contents", "business_interruption"];
        const PERIODS: [&str; 3] = ["day", "night", "transit"];
        if standalone {
            for c in COSTS {
                if col(c).is_some() {
                    self.cost_types.push(CostType {
                        name: c.into(),
                        kind: CostKind::PerAsset,
                        unit: String::new(),
                    });
                }
            }
            for p in PERIODS {
                if col(p).is_some() || col(&format!("occupants_{p}")).is_some() {
                    self.occupancy_periods.push(p.into());
                }
            }
        }
        let c_costs: Vec<Option<usize>> = self.cost_types.iter().map(|c| col(&c.name)).collect();
        let c_occ: Vec<Option<usize>> = self
            .occupancy_periods
            .iter()
            .map(|p| col(p).or_else(|| col(&format!("occupants_{p}"))))
            .collect();
        for (p, c) in self.occupancy_periods.iter().zip(&c_occ) {
            if c.is_none() {
                return Err(IoError::at(
                    path,
                    "line 1",
                    format!("no column for occupancy period '{p}'"),
                ));
            }
        }
        if standalone {
            let known: Vec<usize> = [Some(c_id), Some(c_lon), Some(c_lat), Some(c_tax), c_num, c_area, c_res]
                .into_iter()
                .flatten()
                .chain(c_costs.iter().flatten().copied())
                .chain(c_occ.iter().flatten().copied())
                .collect();
            for (i, h) in headers.iter().enumerate() {
                if !known.contains(&i) {
                    self.tag_names.push(h.clone());
                    self.tag_values.push(Vec::new());
                }
            }
        }
        let c_tags: Vec<usize> = self
            .tag_names
            .iter()
            .map(|t| col(t).ok_or_else(|| IoError::at(path, "line 1", format!("no column for tag '{t}'"))))
            .collect::<Result<_>>()?;
        let mut idx = ExposureIndex::default();
        for (i, t) in self.taxonomies.iter().enumerate() {
            idx.taxonomies.insert(t.clone(), i as u32);
        }
        idx.tags = self
            .tag_values
            .iter()
            .map(|vs| vs.iter().enumerate().map(|(i, v)| (v.clone(), i as u32)).collect())
            .collect();
        let mut rec = csv::StringRecord::new();
        loop {
            match rdr.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(IoError::new(path, e.to_string())),
            }
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let pos = format!("line {line}");
            if rec.len() != headers.len() {
                return Err(IoError::at(
                    path,
                    &pos,
                    format!("{} fields, the header has {}", rec.len(), headers.len()),
                ));
            }
            let num = |c: usize, what: &str| -> Result<f64> {
                let s = &rec[c];
                let v: f64 = s
                    .parse()
                    .map_err(|_| IoError::at(path, &pos, format!("{what}: '{s}' is not a number")))?;
                if !v.is_finite() {
                    return Err(IoError::at(path, &pos, format!("{what}: {v} is not finite")));
                }
                Ok(v)
            };
            let id = rec[c_id].to_string();
            let lon = num(c_lon, "lon")?;
            let lat = num(c_lat, "lat")?;
            let number = match c_num {
                Some(c) => num(c, "number")?,
                None => 1.0,
            };
            let area = match c_area {
                Some(c) => num(c, "area")?,
                None => 0.0,
            };
            self.check_asset(path, &pos, &id, lon, lat, number)?;
            let mut raw = Vec::with_capacity(c_costs.len());
            for (ct, c) in self.cost_types.iter().zip(&c_costs) {
                let v = match c {
                    Some(c) => num(*c, &ct.name)?,
                    None => 0.0,
                };
                if v < 0.0 {
                    return Err(IoError::at(path, &pos, format!("{}: {v} must be ≥ 0", ct.name)));
                }
                raw.push(v);
            }
            let mut occupants = Vec::with_capacity(c_occ.len());
            for (p, c) in self.occupancy_periods.iter().zip(&c_occ) {
                occupants.push(num(c.expect("checked above"), p)?);
            }
            let residents = match c_res {
                Some(c) => num(c, "residents")?,
                None => f64::NAN,
            };
            let mut tags = Vec::with_capacity(c_tags.len());
            for (k, &c) in c_tags.iter().enumerate() {
                let v = rec[c].to_string();
                tags.push(self.intern_tag(&mut idx, k, &v));
            }
            let taxonomy = rec[c_tax].to_string();
            if taxonomy.is_empty() {
                return Err(IoError::at(path, &pos, format!("asset {id}: empty taxonomy")));
            }
            let taxonomy = self.intern_taxonomy(&mut idx, &taxonomy);
            let values = self.convert(&raw, number, area);
            self.assets.push(Asset {
                id,
                lon,
                lat,
                taxonomy,
                number,
                area,
                values,
                occupants,
                residents,
                tags,
            });
        }
        if standalone {
            self.check_ids()?;
        }
        Ok(())
    }

    fn check_ids(&self) -> Result<()> {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(self.assets.len());
        for (i, a) in self.assets.iter().enumerate() {
            if let Some(j) = seen.insert(a.id.as_str(), i) {
                return Err(IoError::new(
                    &self.path,
                    format!("asset id '{}' is used twice (assets {} and {})", a.id, j + 1, i + 1),
                ));
            }
        }
        Ok(())
    }
}
