//! Scenario files (`scenarios/*.toml`): one routine–emergency scenario each.
//!
//! ```toml
//! name = "beijing-quake"                  # [a-z0-9_-]+, names outputs
//! title = "..."
//! family = "disaster"                     # pandemic | disaster | competition | vacation | war
//! time_unit = "h"                         # h | d: unit of phases, from and until
//! phases = [0, 6, 12, 24, 48, 72, 168, 720]
//! roles = ["emergency_shelter", "fixed_shelter"]   # roles activated (supply side)
//!
//! [hazard]                                # optional
//! flood_depth = "depth.tif"               # water depth raster (m), relative to this file
//! unavailable_depth_m = 0.3               # facilities standing in deeper water are unavailable
//! close_roads = true                      # walk links deeper than the profile's closure depth close
//!
//! [epidemic]                              # for demand model "epidemic" (SEIR, days)
//! r0 = 2.2
//! latent_days = 5.2
//! infectious_days = 2.3
//! initial_infected = 10
//! measures_day = 30                       # optional: from this day R = r_after
//! r_after = 0.5
//!
//! [[site]]                                # venues (competition) or scenic areas (vacation)
//! name = "..."; lon = 116.4; lat = 39.9
//! capacity = 60000                        # venue: rated capacity (seats)
//! area_m2 = 120000                        # scenic area: visitor area
//!
//! [[demand]]
//! role = "emergency_shelter"
//! model = "population_share"              # population_share | flood_depth | epidemic | per_10k | venue | visitors
//! share = 1.0                             # or share_key = "shelter.fixed_capacity_share"
//! threshold_m = 0.5                       # flood_depth: displaced where water is at least this deep
//! care_share = 0.81; stay_days = 10       # epidemic: share of infections needing the role, mean stay
//! rate = 20                               # per_10k: per 10,000 residents
//! from = 0; until = 72                    # active window (time_unit); until optional
//! source = "GB 50413-2007 §8.2.8 ..."     # required: where the rule comes from
//!
//! [[assign]]                              # capacitated assignment on the walking network
//! role = "emergency_shelter"
//! at = 0                                  # phase time (time_unit)
//! clearance_min = 10                      # optional: target time to clear the busiest links
//!
//! [[assumption]]
//! text = "..."; source = "..."
//!
//! [overrides]                             # standard-profile values for this scenario
//! "dual_use.open_space_effective_share" = 0.4
//! ```
//!
//! Every key is checked; unknown keys, missing sources, bad roles or windows are errors naming
//! the file and the entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use renxing_exam::standard::StandardProfile;
use serde::{Deserialize, Serialize};

use crate::ScenarioError;
use crate::role::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Pandemic,
    Disaster,
    Competition,
    Vacation,
    War,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Pandemic => "pandemic",
            Family::Disaster => "disaster",
            Family::Competition => "competition",
            Family::Vacation => "vacation",
            Family::War => "war",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Family::Pandemic => "平疫结合",
            Family::Disaster => "平灾结合",
            Family::Competition => "平赛结合",
            Family::Vacation => "平假结合",
            Family::War => "平战结合",
        }
    }
}

/// How demand for a role arises.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum DemandModel {
    /// A share of the residents of each point.
    PopulationShare { share: f64, key: Option<String> },
    /// Residents where the water is at least `threshold_m` deep, times `share`.
    FloodDepth { threshold_m: f64, share: f64 },
    /// Occupancy of a care compartment fed by the scenario's epidemic curve.
    Epidemic { care_share: f64, stay_days: f64 },
    /// A constant rate per 10,000 residents.
    Per10k { rate: f64 },
    /// The crowd of each venue: capacity × ticket share.
    Venue { ticket_share: f64 },
    /// Peak visitors of each scenic area: area ÷ m² per visitor.
    Visitors { m2_per_visitor: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandRule {
    pub role: Role,
    pub model: DemandModel,
    /// Active window in hours from onset: from ≤ t < until.
    pub from_h: f64,
    pub until_h: Option<f64>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hazard {
    pub flood_depth: Option<PathBuf>,
    pub unavailable_depth_m: f64,
    pub close_roads: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Epidemic {
    pub r0: f64,
    pub latent_days: f64,
    pub infectious_days: f64,
    pub initial_infected: f64,
    pub measures_day: Option<f64>,
    pub r_after: Option<f64>,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub capacity: Option<f64>,
    pub area_m2: Option<f64>,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssignSpec {
    pub role: Role,
    pub at_h: f64,
    pub clearance_min: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assumption {
    pub text: String,
    pub source: String,
}

/// A loaded, checked scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub family: Family,
    /// "h" or "d".
    pub time_unit: String,
    /// Phase times in hours, ascending.
    pub phases_h: Vec<f64>,
    pub roles: Vec<Role>,
    pub hazard: Option<Hazard>,
    pub epidemic: Option<Epidemic>,
    pub sites: Vec<Site>,
    pub demands: Vec<DemandRule>,
    pub assign: Vec<AssignSpec>,
    pub assumptions: Vec<Assumption>,
    pub overrides: BTreeMap<String, f64>,
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    #[serde(default)]
    title: String,
    family: String,
    #[serde(default = "hours")]
    time_unit: String,
    phases: Vec<f64>,
    roles: Vec<String>,
    hazard: Option<RawHazard>,
    epidemic: Option<Epidemic>,
    #[serde(default)]
    site: Vec<Site>,
    #[serde(default)]
    demand: Vec<RawDemand>,
    #[serde(default)]
    assign: Vec<RawAssign>,
    #[serde(default)]
    assumption: Vec<Assumption>,
    #[serde(default)]
    overrides: BTreeMap<String, f64>,
}

fn hours() -> String {
    "h".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHazard {
    flood_depth: Option<PathBuf>,
    unavailable_depth_m: Option<f64>,
    #[serde(default)]
    close_roads: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDemand {
    role: String,
    model: String,
    share: Option<f64>,
    share_key: Option<String>,
    threshold_m: Option<f64>,
    care_share: Option<f64>,
    stay_days: Option<f64>,
    rate: Option<f64>,
    #[serde(default)]
    from: f64,
    until: Option<f64>,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssign {
    role: String,
    at: f64,
    clearance_min: Option<f64>,
}

impl Scenario {
    /// Read and check a scenario file. `standard` is the project's profile; the scenario's
    /// own overrides are applied on top and the resulting profile returned with it.
    pub fn load(path: &Path, standard: &StandardProfile) -> Result<(Scenario, StandardProfile), ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Input {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Scenario::parse(&text, path, standard)
    }

    /// Parse scenario text; `path` names it in errors and anchors relative paths.
    pub fn parse(
        text: &str,
        path: &Path,
        standard: &StandardProfile,
    ) -> Result<(Scenario, StandardProfile), ScenarioError> {
        let file = path.display().to_string();
        let bad = |m: String| ScenarioError::Input {
            file: file.clone(),
            message: m,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if raw.name.is_empty()
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(bad(format!(
                "name '{}': use lower-case letters, digits, '-' and '_' (it names the output layers)",
                raw.name
            )));
        }
        let family = match raw.family.as_str() {
            "pandemic" => Family::Pandemic,
            "disaster" => Family::Disaster,
            "competition" => Family::Competition,
            "vacation" => Family::Vacation,
            "war" => Family::War,
            f => {
                return Err(bad(format!(
                    "family '{f}': use pandemic, disaster, competition, vacation or war"
                )));
            }
        };
        let scale = match raw.time_unit.as_str() {
            "h" => 1.0,
            "d" => 24.0,
            u => return Err(bad(format!("time_unit '{u}': use h or d"))),
        };
        if raw.phases.is_empty() {
            return Err(bad("phases: give at least one time".into()));
        }
        for w in raw.phases.windows(2) {
            if w[1] <= w[0] {
                return Err(bad(format!("phases must increase: {} then {}", w[0], w[1])));
            }
        }
        if raw.phases.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(bad("phases: times must be ≥ 0".into()));
        }
        let profile = standard
            .clone()
            .with_overrides(&raw.overrides)
            .map_err(|e| bad(format!("[overrides]: {e}")))?;
        let role = |s: &str, at: &str| s.parse::<Role>().map_err(|e| bad(format!("{at}: {e}")));
        let roles = raw
            .roles
            .iter()
            .map(|r| role(r, "roles"))
            .collect::<Result<Vec<_>, _>>()?;
        if roles.is_empty() {
            return Err(bad("roles: name at least one emergency role to activate".into()));
        }
        let hazard = match raw.hazard {
            None => None,
            Some(h) => {
                let d = h.unavailable_depth_m.unwrap_or(f64::INFINITY);
                if d.is_nan() || d < 0.0 {
                    return Err(bad(format!("[hazard] unavailable_depth_m = {d}: must be ≥ 0")));
                }
                if h.flood_depth.is_none() && (h.unavailable_depth_m.is_some() || h.close_roads) {
                    return Err(bad(
                        "[hazard]: unavailable_depth_m and close_roads need flood_depth".into()
                    ));
                }
                Some(Hazard {
                    flood_depth: h.flood_depth.map(|p| path.parent().unwrap_or(Path::new(".")).join(p)),
                    unavailable_depth_m: d,
                    close_roads: h.close_roads,
                })
            }
        };
        if let Some(e) = &raw.epidemic {
            let pos = |v: f64, k: &str| {
                if v.is_finite() && v > 0.0 {
                    Ok(())
                } else {
                    Err(bad(format!("[epidemic] {k} = {v}: must be > 0")))
                }
            };
            pos(e.r0, "r0")?;
            pos(e.latent_days, "latent_days")?;
            pos(e.infectious_days, "infectious_days")?;
            pos(e.initial_infected, "initial_infected")?;
            if e.measures_day.is_some() != e.r_after.is_some() {
                return Err(bad("[epidemic]: give measures_day and r_after together".into()));
            }
            if let Some(r) = e.r_after {
                pos(r, "r_after")?;
            }
            if e.source.is_empty() {
                return Err(bad("[epidemic]: give the source of the parameters".into()));
            }
        }
        for (i, s) in raw.site.iter().enumerate() {
            if !(s.lon.is_finite() && s.lat.is_finite() && s.lon.abs() <= 180.0 && s.lat.abs() <= 90.0) {
                return Err(bad(format!("site {} ({}): lon/lat out of range", i + 1, s.name)));
            }
            for (k, v) in [("capacity", s.capacity), ("area_m2", s.area_m2)] {
                if let Some(v) = v
                    && !(v.is_finite() && v > 0.0)
                {
                    return Err(bad(format!("site {} ({}): {k} = {v} must be > 0", i + 1, s.name)));
                }
            }
            if s.source.is_empty() {
                return Err(bad(format!(
                    "site {} ({}): give the source of its figures",
                    i + 1,
                    s.name
                )));
            }
        }
        let mut demands = Vec::new();
        for (i, d) in raw.demand.iter().enumerate() {
            let at = format!("demand {} ({} / {})", i + 1, d.role, d.model);
            let r = role(&d.role, &at)?;
            if d.source.is_empty() {
                return Err(bad(format!("{at}: give the source of this rule (source = \"...\")")));
            }
            let share = |dflt: Option<f64>| -> Result<(f64, Option<String>), ScenarioError> {
                match (d.share, &d.share_key) {
                    (Some(_), Some(_)) => Err(bad(format!("{at}: give share or share_key, not both"))),
                    (Some(s), None) => Ok((s, None)),
                    (None, Some(k)) => Ok((profile.get(k).map_err(|e| bad(format!("{at}: {e}")))?, Some(k.clone()))),
                    (None, None) => dflt
                        .map(|s| (s, None))
                        .ok_or_else(|| bad(format!("{at}: give share or share_key"))),
                }
            };
            let need = |v: Option<f64>, k: &str| v.ok_or_else(|| bad(format!("{at}: model {} needs {k}", d.model)));
            let model = match d.model.as_str() {
                "population_share" => {
                    let (s, key) = share(None)?;
                    DemandModel::PopulationShare { share: s, key }
                }
                "flood_depth" => {
                    if hazard.as_ref().and_then(|h| h.flood_depth.as_ref()).is_none() {
                        return Err(bad(format!("{at}: model flood_depth needs [hazard] flood_depth")));
                    }
                    DemandModel::FloodDepth {
                        threshold_m: need(d.threshold_m, "threshold_m")?,
                        share: share(Some(1.0))?.0,
                    }
                }
                "epidemic" => {
                    if raw.epidemic.is_none() {
                        return Err(bad(format!("{at}: model epidemic needs an [epidemic] table")));
                    }
                    DemandModel::Epidemic {
                        care_share: need(d.care_share, "care_share")?,
                        stay_days: need(d.stay_days, "stay_days")?,
                    }
                }
                "per_10k" => DemandModel::Per10k {
                    rate: need(d.rate, "rate")?,
                },
                "venue" => {
                    if !raw.site.iter().any(|s| s.capacity.is_some()) {
                        return Err(bad(format!("{at}: model venue needs [[site]] entries with capacity")));
                    }
                    DemandModel::Venue {
                        ticket_share: profile
                            .get("dual_use.venue_ticket_share")
                            .map_err(|e| bad(format!("{at}: {e}")))?,
                    }
                }
                "visitors" => {
                    if !raw.site.iter().any(|s| s.area_m2.is_some()) {
                        return Err(bad(format!("{at}: model visitors needs [[site]] entries with area_m2")));
                    }
                    DemandModel::Visitors {
                        m2_per_visitor: profile
                            .get("dual_use.scenic_m2_per_visitor")
                            .map_err(|e| bad(format!("{at}: {e}")))?,
                    }
                }
                m => {
                    return Err(bad(format!(
                        "{at}: model '{m}': use population_share, flood_depth, epidemic, per_10k, venue or visitors"
                    )));
                }
            };
            let check_share = |s: f64| {
                if (0.0..=1.0).contains(&s) {
                    Ok(())
                } else {
                    Err(bad(format!("{at}: share {s} must be within [0, 1]")))
                }
            };
            match &model {
                DemandModel::PopulationShare { share, .. } | DemandModel::FloodDepth { share, .. } => {
                    check_share(*share)?
                }
                DemandModel::Epidemic { care_share, stay_days } => {
                    check_share(*care_share)?;
                    if !(stay_days.is_finite() && *stay_days > 0.0) {
                        return Err(bad(format!("{at}: stay_days = {stay_days} must be > 0")));
                    }
                }
                DemandModel::Per10k { rate } if !(rate.is_finite() && *rate >= 0.0) => {
                    return Err(bad(format!("{at}: rate = {rate} must be ≥ 0")));
                }
                _ => {}
            }
            if let Some(u) = d.until
                && u <= d.from
            {
                return Err(bad(format!("{at}: until ({u}) must be after from ({})", d.from)));
            }
            if !(d.from.is_finite() && d.from >= 0.0) {
                return Err(bad(format!("{at}: from = {} must be ≥ 0", d.from)));
            }
            if !roles.contains(&r) {
                return Err(bad(format!("{at}: role {r} is not activated in roles = [...]")));
            }
            demands.push(DemandRule {
                role: r,
                model,
                from_h: d.from * scale,
                until_h: d.until.map(|u| u * scale),
                source: d.source.clone(),
            });
        }
        if demands.is_empty() {
            return Err(bad("no [[demand]]: give at least one demand rule".into()));
        }
        let mut assign = Vec::new();
        for (i, a) in raw.assign.iter().enumerate() {
            let at = format!("assign {} ({})", i + 1, a.role);
            let r = role(&a.role, &at)?;
            if !demands.iter().any(|d| d.role == r) {
                return Err(bad(format!("{at}: no [[demand]] for role {r}")));
            }
            if !(a.at.is_finite() && a.at >= 0.0) {
                return Err(bad(format!("{at}: at = {} must be ≥ 0", a.at)));
            }
            if let Some(c) = a.clearance_min
                && !(c.is_finite() && c > 0.0)
            {
                return Err(bad(format!("{at}: clearance_min = {c} must be > 0")));
            }
            assign.push(AssignSpec {
                role: r,
                at_h: a.at * scale,
                clearance_min: a.clearance_min,
            });
        }
        for (i, a) in raw.assumption.iter().enumerate() {
            if a.text.is_empty() || a.source.is_empty() {
                return Err(bad(format!("assumption {}: give text and source", i + 1)));
            }
        }
        Ok((
            Scenario {
                name: raw.name,
                title: raw.title,
                family,
                time_unit: raw.time_unit,
                phases_h: raw.phases.iter().map(|t| t * scale).collect(),
                roles,
                hazard,
                epidemic: raw.epidemic,
                sites: raw.site,
                demands,
                assign,
                assumptions: raw.assumption,
                overrides: raw.overrides,
                file: path.to_path_buf(),
            },
            profile,
        ))
    }

    /// A phase time for display in the scenario's unit, e.g. `72 h` or `7 d`.
    pub fn phase_label(&self, hours: f64) -> String {
        if self.time_unit == "d" {
            format!("{} d", crate::catalogue::fmt_num(hours / 24.0))
        } else {
            format!("{} h", crate::catalogue::fmt_num(hours))
        }
    }
}
