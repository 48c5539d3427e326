//! The facility catalogue: every routine facility with the emergency roles it can take, each
//! with a capacity (or "unknown", with the reason) and a conversion time.
//!
//! The rules come from a conversion-rules file (`standards/conversions-cn.toml`, format
//! documented at its top); every number they use is a key of the standard profile, so sources
//! and overrides live in one place. A capacity is never guessed: when the basis a rule needs
//! (site area, floor area, rooms, beds, a measured capacity) is missing, the offer is listed
//! with `capacity = None` and the reason.

use std::collections::BTreeMap;

use renxing_exam::standard::StandardProfile;
use renxing_io::osm::FacilityKind;
use serde::Serialize;

use crate::ScenarioError;
use crate::role::Role;

/// A routine facility, from OSM or a CSV list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facility {
    pub id: String,
    pub name: String,
    pub kind: Option<FacilityKind>,
    pub lon: f64,
    pub lat: f64,
    /// Mapped site (polygon) area, m².
    pub site_area_m2: Option<f64>,
    /// Gross floor area, m² (footprint × levels of a mapped building, or stated).
    pub floor_area_m2: Option<f64>,
    pub rooms: Option<f64>,
    pub beds: Option<f64>,
    /// Seats or rated capacity of a venue (`capacity` tag or column).
    pub seats: Option<f64>,
    /// OSM tags (empty for CSV rows).
    pub tags: Vec<(String, String)>,
    /// Capacities measured for a role (CSV columns `capacity_<role>`); they replace the rules.
    pub measured: BTreeMap<Role, f64>,
    /// Where the record comes from (file).
    pub source: String,
}

impl Facility {
    /// From an OSM facility: site area of the polygon; floor area only for mapped buildings
    /// with `building:levels`; `rooms`, `beds` and `capacity` tags.
    pub fn from_osm(f: &renxing_io::osm::Facility, source: &str) -> Facility {
        let tag = |k: &str| renxing_io::osm::tag(&f.tags, k);
        let num = |k: &str| {
            tag(k)
                .and_then(renxing_io::osm::parse_leading_number)
                .filter(|v| *v > 0.0)
        };
        let is_building = tag("building").is_some_and(|v| v != "no");
        let floor = match (is_building, f.area_m2, f.levels) {
            (true, Some(a), Some(l)) if l > 0.0 => Some(a * l),
            _ => None,
        };
        Facility {
            id: f.osm_id.clone(),
            name: f.name.clone(),
            kind: Some(f.kind),
            lon: f.lon,
            lat: f.lat,
            site_area_m2: f.area_m2.filter(|a| *a > 0.0),
            floor_area_m2: floor,
            rooms: num("rooms"),
            beds: num("beds"),
            seats: num("capacity"),
            tags: f.tags.clone(),
            measured: BTreeMap::new(),
            source: source.to_string(),
        }
    }
}

/// What a rule computes the capacity from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    SiteArea,
    FloorArea,
    Rooms,
    Beds,
    Measured,
}

/// One conversion rule, its numbers resolved from the standard profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub role: Role,
    pub kinds: Vec<FacilityKind>,
    pub tag: Option<(String, String)>,
    pub basis: Basis,
    /// (profile key, value)
    pub share: Option<(String, f64)>,
    pub per_m2: Option<(String, f64)>,
    pub per_item: Option<(String, f64)>,
    pub block: Option<(String, f64)>,
    /// Area basis only: the standard's minimum area for facilities of these kinds, used as a
    /// lower bound when no area is mapped or given (e.g. a designated shelter must have at least
    /// the minimum site of its class).
    pub minimum: Option<(String, f64)>,
    pub hours: (String, f64),
}

/// The rules of one conversion file.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub name: String,
    pub rules: Vec<Rule>,
}

const CN_RULES: &str = include_str!("../../../standards/conversions-cn.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[allow(dead_code)]
    meta: Option<toml::Table>,
    rule: Vec<RawRule>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    role: String,
    kinds: Vec<String>,
    tag: Option<String>,
    basis: String,
    share: Option<String>,
    per_m2: Option<String>,
    per_item: Option<String>,
    block: Option<String>,
    minimum: Option<String>,
    hours: String,
}

impl Rules {
    /// The shipped Chinese rules with numbers from `standard`.
    pub fn builtin_cn(standard: &StandardProfile) -> Result<Rules, ScenarioError> {
        Rules::parse(CN_RULES, "standards/conversions-cn.toml", standard)
    }

    /// Parse a rules file; `file` names it in errors. Keys are checked against the profile.
    pub fn parse(text: &str, file: &str, standard: &StandardProfile) -> Result<Rules, ScenarioError> {
        let bad = |m: String| ScenarioError::Input {
            file: file.to_string(),
            message: m,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut rules = Vec::new();
        for (i, r) in raw.rule.iter().enumerate() {
            let at = format!("rule {} ({})", i + 1, r.role);
            let role: Role = r.role.parse().map_err(|e: String| bad(format!("{at}: {e}")))?;
            let kinds = r
                .kinds
                .iter()
                .map(|k| k.parse::<FacilityKind>().map_err(|e| bad(format!("{at}: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let basis = match r.basis.as_str() {
                "site_area" => Basis::SiteArea,
                "floor_area" => Basis::FloorArea,
                "rooms" => Basis::Rooms,
                "beds" => Basis::Beds,
                "measured" => Basis::Measured,
                other => {
                    return Err(bad(format!(
                        "{at}: basis '{other}': use site_area, floor_area, rooms, beds or measured"
                    )));
                }
            };
            let key = |k: &Option<String>| -> Result<Option<(String, f64)>, ScenarioError> {
                k.as_ref()
                    .map(|k| {
                        standard
                            .get(k)
                            .map(|v| (k.clone(), v))
                            .map_err(|e| bad(format!("{at}: {e}")))
                    })
                    .transpose()
            };
            let tag = match &r.tag {
                None => None,
                Some(t) => Some(
                    t.split_once('=')
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .ok_or_else(|| bad(format!("{at}: tag '{t}' must read key=value")))?,
                ),
            };
            let rule = Rule {
                role,
                kinds,
                tag,
                basis,
                share: key(&r.share)?,
                per_m2: key(&r.per_m2)?,
                per_item: key(&r.per_item)?,
                block: key(&r.block)?,
                minimum: key(&r.minimum)?,
                hours: key(&Some(r.hours.clone()))?.expect("given"),
            };
            let area_basis = matches!(basis, Basis::SiteArea | Basis::FloorArea);
            if area_basis && rule.per_m2.is_none() {
                return Err(bad(format!("{at}: an area basis needs per_m2")));
            }
            if rule.minimum.is_some() && !area_basis {
                return Err(bad(format!("{at}: minimum needs an area basis")));
            }
            if matches!(basis, Basis::Rooms | Basis::Beds) && rule.per_item.is_none() {
                return Err(bad(format!("{at}: basis {} needs per_item", r.basis)));
            }
            for (name, v) in [
                ("share", &rule.share),
                ("per_m2", &rule.per_m2),
                ("per_item", &rule.per_item),
                ("minimum", &rule.minimum),
            ] {
                if let Some((k, x)) = v
                    && !(x.is_finite() && *x > 0.0)
                {
                    return Err(bad(format!("{at}: {name} = {k} is {x}: must be > 0")));
                }
            }
            if let Some((k, x)) = &rule.share
                && *x > 1.0
            {
                return Err(bad(format!("{at}: share {k} = {x} is above 1")));
            }
            if !(rule.hours.1.is_finite() && rule.hours.1 >= 0.0) {
                return Err(bad(format!(
                    "{at}: hours {} = {} must be ≥ 0",
                    rule.hours.0, rule.hours.1
                )));
            }
            rules.push(rule);
        }
        Ok(Rules {
            name: file.to_string(),
            rules,
        })
    }
}

/// One role a facility can take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offer {
    /// Index into the facility list.
    pub facility: usize,
    pub role: Role,
    /// Persons or beds; `None` = unknown (see `basis`).
    pub capacity: Option<f64>,
    /// Hours from onset until the role is ready.
    pub hours: f64,
    /// How the capacity was obtained, or why it is unknown.
    pub basis: String,
    /// The role comes only with a measured capacity (rule basis `measured`, or a measured
    /// capacity for a role no rule gives the kind): without it the facility is merely eligible.
    pub measured_only: bool,
}

/// Every offer of every facility under the rules, in facility order then rule order. A facility
/// matched by two rules of the same role keeps the first.
pub fn catalogue(facilities: &[Facility], rules: &Rules) -> Vec<Offer> {
    let mut out = Vec::new();
    for (fi, f) in facilities.iter().enumerate() {
        let Some(kind) = f.kind else { continue };
        let mut seen: Vec<Role> = Vec::new();
        for r in &rules.rules {
            if seen.contains(&r.role) || !r.kinds.contains(&kind) {
                continue;
            }
            let measured = f.measured.get(&r.role).copied();
            if let Some((k, v)) = &r.tag
                && measured.is_none()
                && renxing_io::osm::tag(&f.tags, k) != Some(v.as_str())
            {
                continue;
            }
            seen.push(r.role);
            let (capacity, basis) = match measured {
                Some(c) => (Some(c), format!("measured capacity {}", fmt_num(c))),
                None => compute(f, r),
            };
            out.push(Offer {
                facility: fi,
                role: r.role,
                capacity,
                hours: r.hours.1,
                basis,
                measured_only: matches!(r.basis, Basis::Measured),
            });
        }
        // Measured capacities for roles no rule gives this kind still count.
        for (&role, &c) in &f.measured {
            if !seen.contains(&role) {
                let hours = rules.rules.iter().find(|r| r.role == role).map_or(0.0, |r| r.hours.1);
                out.push(Offer {
                    facility: fi,
                    role,
                    capacity: Some(c),
                    hours,
                    basis: format!("measured capacity {}", fmt_num(c)),
                    measured_only: true,
                });
            }
        }
    }
    out
}

fn compute(f: &Facility, r: &Rule) -> (Option<f64>, String) {
    let (base, what) = match r.basis {
        Basis::SiteArea => (f.site_area_m2, "site area"),
        Basis::FloorArea => (f.floor_area_m2, "floor area"),
        Basis::Rooms => (f.rooms, "rooms"),
        Basis::Beds => (f.beds, "beds"),
        Basis::Measured => {
            return (None, format!("capacity unknown: no measured {} capacity given", r.role));
        }
    };
    let (base, mut text) = match (base, &r.minimum) {
        (Some(b), _) => (
            b,
            match r.basis {
                Basis::SiteArea | Basis::FloorArea => format!("{what} {} m²", fmt_num(b)),
                _ => format!("{} {what}", fmt_num(b)),
            },
        ),
        (None, Some((k, min))) => (
            *min,
            format!(
                "lower bound: no {what} mapped or given, so the standard's minimum {} m² ({k})",
                fmt_num(*min)
            ),
        ),
        (None, None) => return (None, format!("capacity unknown: no {what} mapped or given")),
    };
    let mut cap = base;
    if let Some((k, s)) = &r.share {
        cap *= s;
        text += &format!(" × {s} ({k})");
    }
    if let Some((k, m)) = &r.per_m2 {
        cap /= m;
        text += &format!(" ÷ {m} m² ({k})");
    }
    if let Some((k, p)) = &r.per_item {
        cap *= p;
        text += &format!(" × {p} ({k})");
    }
    cap = match &r.block {
        Some((k, b)) if *b >= 1.0 => {
            text += &format!(", whole blocks of {b} ({k})");
            (cap / b).floor() * b
        }
        _ => cap.floor(),
    };
    (Some(cap), text)
}

/// A number for prose: integers without decimals, others to 2 decimals, thousands grouped.
pub fn fmt_num(v: f64) -> String {
    let s = if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}")
    };
    let (int, frac) = s.split_once('.').map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut g = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            g.push(',');
        }
        g.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{g}.{f}"),
        None => format!("{sign}{g}"),
    }
}
