//! Running an OpenQuake job file whose hazard is given as ground-motion fields.
//!
//! Supported `calculation_mode`s: `scenario_damage`, `event_based_damage`, `scenario_risk`.
//! Every key of the job file is either used ([`USED_KEYS`], plus `<loss_type>_fragility_file` and
//! `<loss_type>_vulnerability_file`), or known to have no effect when the fields are given
//! ([`NO_EFFECT_KEYS`]: hazard-model settings, seeds of samplers Renxing does not run, export and
//! parallelism settings — each is reported as ignored), or refused with an error naming the key
//! and its line. Values that would change the numbers in a way Renxing does not reproduce
//! (`discrete_damage_distribution = true`, more than one realisation) are refused too. Sampled
//! coefficients of variation (`ignore_covs = false`) are drawn with Renxing's own random numbers
//! (see [`crate::vulnerability`]), so such jobs agree with OpenQuake statistically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use renxing_io::error::IoError;

use super::export::{Table, fmt_e, fmt_f5};
use super::ini::{JobIni, PyValue};
use crate::assoc::{associate, parse_region};
use crate::calc::{DamageJob, LossJob, LossSampling, resolve_functions, run_damage, run_losses};
use crate::consequence::{ConsequenceKind, ConsequenceModel};
use crate::exposure::Exposure;
use crate::fragility::FragilityModel;
use crate::gmf::{GroundMotionFields, Sites};
use crate::losscurve::{losses_by_period, return_periods};
use crate::vulnerability::VulnerabilityModel;

type Result<T> = std::result::Result<T, IoError>;

/// Keys the runner reads.
pub const USED_KEYS: &[&str] = &[
    "calculation_mode",
    "sites_csv",
    "gmfs_csv",
    "gmfs_file",
    "asset_hazard_distance",
    "exposure_file",
    "consequence_file",
    "time_event",
    "aggregate_by",
    "investigation_time",
    "risk_investigation_time",
    "ses_per_logic_tree_path",
    "number_of_logic_tree_samples",
    "minimum_asset_loss",
    "region",
    "return_periods",
    "discrete_damage_distribution",
    "ignore_covs",
    "ignore_master_seed",
    "master_seed",
    "asset_correlation",
];

/// Keys with no effect on a run from given fields.
pub const NO_EFFECT_KEYS: &[&str] = &[
    "description",
    "random_seed",
    "ses_seed",
    "export_dir",
    "concurrent_tasks",
    "maximum_distance",
    "truncation_level",
    "rupture_mesh_spacing",
    "reference_vs30_type",
    "reference_vs30_value",
    "reference_depth_to_2pt5km_per_sec",
    "reference_depth_to_1pt0km_per_sec",
    "number_of_ground_motion_fields",
    "ground_motion_correlation_model",
    "ground_motion_correlation_params",
    "intensity_measure_types",
    "width_of_mfd_bin",
    "area_source_discretization",
    "complex_fault_mesh_spacing",
];

const LOSS_TYPES: &[&str] = &[
    "structural",
    "nonstructural",
    "contents",
    "business_interruption",
    "occupants",
];

/// The calculators a job may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    ScenarioDamage,
    EventBasedDamage,
    ScenarioRisk,
}

impl Mode {
    /// The `calculation_mode` value.
    pub fn name(self) -> &'static str {
        match self {
            Mode::ScenarioDamage => "scenario_damage",
            Mode::EventBasedDamage => "event_based_damage",
            Mode::ScenarioRisk => "scenario_risk",
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct OqRun {
    pub mode: Mode,
    pub tables: Vec<Table>,
    /// Things OpenQuake would warn about too (discarded assets, ignored keys).
    pub warnings: Vec<String>,
    pub n_assets: usize,
    pub n_assets_kept: usize,
    pub n_sites: usize,
    pub n_events: usize,
}

/// The inputs of a job, read and checked.
pub struct OqJob {
    pub ini: JobIni,
    pub mode: Mode,
    pub exposure: Exposure,
    pub sites: Sites,
    pub gmfs: GroundMotionFields,
    pub fragility: Vec<(String, FragilityModel)>,
    pub vulnerability: Vec<(String, VulnerabilityModel)>,
    pub consequences: ConsequenceModel,
    pub warnings: Vec<String>,
}

fn loss_type_key(key: &str) -> Option<(&str, &str)> {
    for suffix in ["_fragility_file", "_vulnerability_file"] {
        if let Some(lt) = key.strip_suffix(suffix)
            && LOSS_TYPES.contains(&lt)
        {
            return Some((lt, suffix));
        }
    }
    None
}

fn paths_of(ini: &JobIni, key: &str, value: &PyValue) -> Result<Vec<PathBuf>> {
    match value {
        PyValue::Str(s) | PyValue::Word(s) => Ok(vec![ini.dir.join(s)]),
        PyValue::List(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(|s| ini.dir.join(s))
                    .ok_or_else(|| ini.error(key, "expected file names"))
            })
            .collect(),
        PyValue::Dict(items) => {
            let mut out = Vec::new();
            for (k, v) in items {
                if k.as_str() != Some("taxonomy") {
                    return Err(ini.error(
                        key,
                        format!(
                            "only consequences by 'taxonomy' are supported, found {:?}",
                            k.as_str().unwrap_or("?")
                        ),
                    ));
                }
                out.extend(paths_of(ini, key, v)?);
            }
            Ok(out)
        }
        PyValue::Num(_) => Err(ini.error(key, "expected file names")),
    }
}

impl OqJob {
    /// Reads a job file and all its inputs.
    pub fn read(path: &Path) -> Result<OqJob> {
        let ini = JobIni::read(path)?;
        let mut warnings = Vec::new();
        for key in ini.keys.keys() {
            if USED_KEYS.contains(&key.as_str()) || loss_type_key(key).is_some() {
                continue;
            }
            if NO_EFFECT_KEYS.contains(&key.as_str()) {
                if ini.get(key).is_some() && key != "description" {
                    warnings.push(format!(
                        "{}: '{key}' has no effect when the ground-motion fields are given",
                        ini.position(key)
                    ));
                }
                continue;
            }
            return Err(ini.error(
                key,
                format!("job key '{key}' is not supported by renxing oq (see docs/oq.md for the keys it reads)"),
            ));
        }
        let mode = match ini.get("calculation_mode") {
            Some("scenario_damage") => Mode::ScenarioDamage,
            Some("event_based_damage") => Mode::EventBasedDamage,
            Some("scenario_risk") => Mode::ScenarioRisk,
            Some(other) => {
                return Err(ini.error(
                    "calculation_mode",
                    format!("calculation_mode '{other}' is not supported (scenario_damage, event_based_damage, scenario_risk)"),
                ));
            }
            None => return Err(IoError::new(path, "calculation_mode is missing")),
        };
        for (key, ok) in [("discrete_damage_distribution", "false")] {
            if let Some(v) = ini.get(key) {
                let fine = v.eq_ignore_ascii_case(ok) || v.parse::<f64>().ok() == Some(0.0) && ok == "0";
                if !fine {
                    return Err(ini.error(key, format!("{key} = {v} is not supported (only {ok})")));
                }
            }
        }
        if let Some(n) = ini.get_f64("number_of_logic_tree_samples")?
            && n > 1.0
        {
            return Err(ini.error(
                "number_of_logic_tree_samples",
                "more than one realisation is not supported: give one set of fields",
            ));
        }
        let gmf_key = if ini.get("gmfs_csv").is_some() {
            "gmfs_csv"
        } else {
            "gmfs_file"
        };
        let gmf_path = ini
            .get_path(gmf_key)
            .ok_or_else(|| IoError::new(path, "the job gives no ground-motion fields (gmfs_csv or gmfs_file)"))?;
        if gmf_path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("hdf5") || e.eq_ignore_ascii_case("h5"))
        {
            return Err(ini.error(
                gmf_key,
                "ground-motion fields in an HDF5 datastore are not supported: export them to CSV \
                 (`oq export gmf_data`) and give gmfs_csv + sites_csv",
            ));
        }
        let sites_path = ini
            .get_path("sites_csv")
            .ok_or_else(|| IoError::new(path, "sites_csv is missing: the fields need their sites"))?;
        let exposure_path = ini
            .get_path("exposure_file")
            .ok_or_else(|| IoError::new(path, "exposure_file is missing"))?;
        let sites = Sites::read_csv(&sites_path)?;
        let gmfs = GroundMotionFields::read_csv(&gmf_path, &sites)?;
        let exposure = Exposure::read(&exposure_path)?;
        let mut fragility = Vec::new();
        let mut vulnerability = Vec::new();
        for key in ini.keys.keys() {
            if let Some((lt, suffix)) = loss_type_key(key) {
                let p = ini.get_path(key).ok_or_else(|| ini.error(key, "empty file name"))?;
                if suffix == "_fragility_file" {
                    fragility.push((lt.to_string(), FragilityModel::read(&p)?));
                } else {
                    vulnerability.push((lt.to_string(), VulnerabilityModel::read(&p)?));
                }
            }
        }
        // Canonical loss-type order.
        let order = |lt: &str| LOSS_TYPES.iter().position(|x| *x == lt).unwrap_or(99);
        fragility.sort_by_key(|(lt, _)| order(lt));
        vulnerability.sort_by_key(|(lt, _)| order(lt));
        let consequences = match mode {
            Mode::ScenarioRisk => {
                if vulnerability.is_empty() {
                    return Err(IoError::new(
                        path,
                        "scenario_risk needs a <loss_type>_vulnerability_file",
                    ));
                }
                if !fragility.is_empty() {
                    return Err(ini.error(
                        &format!("{}_fragility_file", fragility[0].0),
                        "a scenario_risk job uses vulnerability functions, not fragility functions",
                    ));
                }
                ConsequenceModel::default()
            }
            _ => {
                if fragility.is_empty() {
                    return Err(IoError::new(path, "a damage job needs a <loss_type>_fragility_file"));
                }
                if !vulnerability.is_empty() {
                    return Err(ini.error(
                        &format!("{}_vulnerability_file", vulnerability[0].0),
                        "a damage job uses fragility functions, not vulnerability functions",
                    ));
                }
                let ls = &fragility[0].1.limit_states;
                for (lt, m) in &fragility[1..] {
                    if &m.limit_states != ls {
                        return Err(IoError::new(
                            &m.path,
                            format!("{lt}: limit states {:?} differ from {:?}", m.limit_states, ls),
                        ));
                    }
                }
                match ini.get_py("consequence_file")? {
                    Some(v) => ConsequenceModel::read(&paths_of(&ini, "consequence_file", &v)?, ls)?,
                    None => ConsequenceModel::default(),
                }
            }
        };
        Ok(OqJob {
            ini,
            mode,
            exposure,
            sites,
            gmfs,
            fragility,
            vulnerability,
            consequences,
            warnings,
        })
    }

    /// Runs the job. `start` receives the number of events before work begins; `progress` the
    /// number of events finished since its last call.
    pub fn run(self, start: &dyn Fn(u64), progress: &(dyn Fn(u64) + Sync)) -> Result<OqRun> {
        let OqJob {
            ini,
            mode,
            exposure: ex,
            sites,
            gmfs,
            fragility,
            vulnerability,
            consequences,
            mut warnings,
        } = self;
        let max_km = match ini.get_py("asset_hazard_distance")? {
            None => 15.0,
            Some(PyValue::Num(x)) => x,
            Some(PyValue::Dict(items)) => items.iter().filter_map(|(_, v)| v.as_f64()).fold(f64::NAN, f64::max),
            Some(_) => return Err(ini.error("asset_hazard_distance", "expected a distance in km")),
        };
        if !(max_km >= 0.0) {
            return Err(ini.error("asset_hazard_distance", "expected a distance ≥ 0 km"));
        }
        let region = match ini.get("region") {
            Some(r) => Some(parse_region(r).map_err(|m| ini.error("region", m))?),
            None => None,
        };
        let positions: Vec<(f64, f64)> = ex.assets.iter().map(|a| (a.lon, a.lat)).collect();
        let assoc = associate(&positions, &sites.lon, &sites.lat, max_km, region.as_deref());
        if !assoc.outside_region.is_empty() {
            warnings.push(format!(
                "{} assets outside the region were discarded",
                assoc.outside_region.len()
            ));
        }
        if !assoc.too_far.is_empty() {
            let ids: Vec<&str> = assoc
                .too_far
                .iter()
                .take(10)
                .map(|&i| ex.assets[i].id.as_str())
                .collect();
            warnings.push(format!(
                "{} assets have no hazard site within asset_hazard_distance = {max_km} km and were discarded (e.g. {})",
                assoc.too_far.len(),
                ids.join(", ")
            ));
        }
        if assoc.assets.is_empty() {
            return Err(ini.error(
                "exposure_file",
                format!("no asset lies within asset_hazard_distance = {max_km} km of a hazard site"),
            ));
        }
        let kept = &assoc.assets;
        let time_event = ini.get("time_event").map(str::to_string);
        if let Some(t) = &time_event
            && !ex.occupancy_periods.contains(t)
            && t != "avg"
        {
            return Err(ini.error(
                "time_event",
                format!(
                    "time_event '{t}' is not an occupancy period of the exposure {:?}",
                    ex.occupancy_periods
                ),
            ));
        }
        let time_event = time_event.filter(|t| t != "avg");
        let agg_tags: Vec<String> = match ini.get("aggregate_by") {
            None => Vec::new(),
            Some(v) => {
                if v.contains(';') {
                    return Err(ini.error("aggregate_by", "only one aggregation (no ';') is supported"));
                }
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }
        };
        let agg = if agg_tags.is_empty() {
            None
        } else {
            Some(build_keys(&ini, &ex, kept, &agg_tags)?)
        };
        let n_events = gmfs.n_events();
        let (inv_time, eff_time, rit) = match mode {
            Mode::EventBasedDamage => {
                let it = ini
                    .get_f64("investigation_time")?
                    .ok_or_else(|| ini.error("investigation_time", "event_based_damage needs investigation_time"))?;
                let ses = ini.get_f64("ses_per_logic_tree_path")?.unwrap_or(1.0);
                let rit = ini.get_f64("risk_investigation_time")?.unwrap_or(it);
                (Some(it), it * ses, rit)
            }
            _ => (None, 0.0, 0.0),
        };
        // Scale from sums over events to the reported averages.
        let scale = match mode {
            Mode::EventBasedDamage => rit / eff_time,
            _ => 1.0 / n_events as f64,
        };
        let touched = touched_events(&gmfs, &assoc.site_of);
        let tag_cols: Vec<usize> = (0..ex.tag_names.len()).collect();
        let mut tables = Vec::new();
        start(n_events as u64);
        match mode {
            Mode::ScenarioDamage | Mode::EventBasedDamage => {
                let limit_states = fragility[0].1.limit_states.clone();
                let models = fragility
                    .iter()
                    .map(|(lt, m)| resolve_functions(lt, "fragility", &m.path, &m.functions, |f| &f.imt, &ex, &gmfs))
                    .collect::<Result<Vec<_>>>()?;
                let job = DamageJob {
                    exposure: &ex,
                    kept,
                    site_of: &assoc.site_of,
                    loss_types: models,
                    limit_states: limit_states.len(),
                    consequences: &consequences,
                    time_event: time_event.clone(),
                    agg: agg.as_ref().map(|(k, names)| (k.clone(), names.len())),
                };
                let sums = run_damage(&job, &gmfs, progress).map_err(|e| IoError::new(&ini.path, e.0))?;
                let l_n = sums.n_loss_types;
                let d_n = sums.n_states;
                let c_n = sums.consequences.len();
                let per_asset = d_n + c_n;
                let lts: Vec<&str> = fragility.iter().map(|(lt, _)| lt.as_str()).collect();
                let csq_names: Vec<&str> = sums.consequences.iter().map(|k| k.name()).collect();
                let mut meta = Vec::new();
                if let Some(it) = inv_time {
                    meta.push(("investigation_time".to_string(), format!("{it:?}")));
                    meta.push(("risk_investigation_time".to_string(), format!("{rit:?}")));
                }
                // Per asset.
                let mut asset_cols = vec!["asset_id".to_string()];
                asset_cols.extend(ex.tag_names.iter().cloned());
                asset_cols.extend(["taxonomy", "lon", "lat"].map(String::from));
                let asset_prefix = |k: usize| -> Vec<String> {
                    let a = &ex.assets[kept[k]];
                    let mut r = vec![a.id.clone()];
                    for &t in &tag_cols {
                        r.push(ex.tag_values[t][a.tags[t] as usize].clone());
                    }
                    r.push(ex.taxonomies[a.taxonomy as usize].clone());
                    r.push(fmt_f5(a.lon));
                    r.push(fmt_f5(a.lat));
                    r
                };
                let no_damage = |k: usize, l: usize| -> f64 {
                    let base = (k * l_n + l) * per_asset;
                    let damaged: f64 = sums.asset[base + 1..base + d_n].iter().sum();
                    (ex.assets[kept[k]].number - damaged / n_events as f64).max(0.0)
                };
                if mode == Mode::ScenarioDamage {
                    let mut cols = asset_cols.clone();
                    let mut states = vec!["no_damage".to_string()];
                    states.extend(limit_states.iter().cloned());
                    for lt in &lts {
                        for s in &states {
                            cols.push(format!("{lt}-{s}"));
                        }
                        for c in &csq_names {
                            cols.push(format!("{lt}-{c}"));
                        }
                    }
                    let mut t = Table::new("avg_damages-rlz-000", cols);
                    for k in 0..kept.len() {
                        let mut r = asset_prefix(k);
                        for l in 0..l_n {
                            let base = (k * l_n + l) * per_asset;
                            r.push(fmt_e(no_damage(k, l), 6));
                            for d in 1..d_n {
                                r.push(fmt_e(sums.asset[base + d] * scale, 6));
                            }
                            for c in 0..c_n {
                                r.push(fmt_e(sums.asset[base + d_n + c] * scale, 6));
                            }
                        }
                        t.rows.push(r);
                    }
                    tables.push(t);
                } else if c_n > 0 {
                    let mut cols = asset_cols.clone();
                    for lt in &lts {
                        for c in &csq_names {
                            cols.push(format!("{lt}-{c}"));
                        }
                    }
                    let mut t = Table::new("avg_risk-rlz-000", cols);
                    t.meta = meta.clone();
                    for k in 0..kept.len() {
                        let mut r = asset_prefix(k);
                        for l in 0..l_n {
                            let base = (k * l_n + l) * per_asset;
                            for c in 0..c_n {
                                r.push(fmt_e(sums.asset[base + d_n + c] * scale, 6));
                            }
                        }
                        t.rows.push(r);
                    }
                    tables.push(t);
                }
                // Aggregated risk: total, then per key.
                let exposed = |ks: &[usize], kind: ConsequenceKind, l: usize| -> f64 {
                    ks.iter()
                        .map(|&k| {
                            let a = &ex.assets[kept[k]];
                            match kind {
                                ConsequenceKind::Losses => ex.cost_index(lts[l]).map(|i| a.values[i]).unwrap_or(0.0),
                                ConsequenceKind::Collapsed | ConsequenceKind::NonOperational => a.number,
                                ConsequenceKind::Injured | ConsequenceKind::Fatalities => {
                                    ex.occupants(a, time_event.as_deref())
                                }
                                ConsequenceKind::Homeless => a.residents,
                            }
                        })
                        .sum()
                };
                let agg_row = |ks: &[usize], l: usize| -> Vec<String> {
                    let mut r = Vec::new();
                    r.push(fmt_e(ks.iter().map(|&k| no_damage(k, l)).sum::<f64>(), 5));
                    for d in 1..d_n {
                        let s: f64 = ks.iter().map(|&k| sums.asset[(k * l_n + l) * per_asset + d]).sum();
                        r.push(fmt_e(s * scale, 5));
                    }
                    for (c, kind) in sums.consequences.iter().enumerate() {
                        let s: f64 = ks
                            .iter()
                            .map(|&k| sums.asset[(k * l_n + l) * per_asset + d_n + c])
                            .sum::<f64>()
                            * scale;
                        r.push(fmt_e(s, 5));
                        r.push(fmt_e(s / exposed(ks, *kind, l), 5));
                    }
                    r
                };
                let mut agg_cols = vec!["no_damage".to_string()];
                agg_cols.extend(limit_states.iter().cloned());
                for c in &csq_names {
                    agg_cols.push(format!("{c}_value"));
                    agg_cols.push(format!("{c}_ratio"));
                }
                let all: Vec<usize> = (0..kept.len()).collect();
                let mut cols = vec!["loss_type".to_string()];
                cols.extend(agg_cols.iter().cloned());
                let mut t = Table::new("aggrisk-", cols);
                t.meta = meta.clone();
                for (l, lt) in lts.iter().enumerate() {
                    let mut r = vec![lt.to_string()];
                    r.extend(agg_row(&all, l));
                    t.rows.push(r);
                }
                tables.push(t);
                if let Some((keys, names)) = &agg {
                    let mut members: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
                    for (k, &key) in keys.iter().enumerate() {
                        members[key as usize].push(k);
                    }
                    let mut cols = vec!["loss_type".to_string()];
                    cols.extend(agg_tags.iter().cloned());
                    cols.extend(agg_cols.iter().cloned());
                    let mut t = Table::new(format!("aggrisk-{}", agg_tags.join("-")), cols);
                    t.meta = meta.clone();
                    for (l, lt) in lts.iter().enumerate() {
                        for (key, name) in names.iter().enumerate() {
                            let mut r = vec![lt.to_string()];
                            r.extend(name.iter().cloned());
                            r.extend(agg_row(&members[key], l));
                            t.rows.push(r);
                        }
                    }
                    tables.push(t);
                }
                // Risk by event.
                let mut cols = vec!["event_id".to_string()];
                cols.extend(limit_states.iter().cloned());
                cols.extend(csq_names.iter().map(|s| s.to_string()));
                cols.push("loss_type".into());
                if mode == Mode::EventBasedDamage {
                    cols.push("rup_id".into());
                }
                let mut t = Table::new("risk_by_event", cols);
                t.meta = meta.clone();
                let w = sums.width;
                for (e, &eid) in gmfs.event_ids.iter().enumerate() {
                    if !touched[e] {
                        continue;
                    }
                    for (l, lt) in lts.iter().enumerate() {
                        let row = &sums.event_total[(e * l_n + l) * w..(e * l_n + l + 1) * w];
                        let mut r = vec![eid.to_string()];
                        r.extend(row.iter().map(|v| fmt_e(*v, 5)));
                        r.push(lt.to_string());
                        if mode == Mode::EventBasedDamage {
                            r.push("0".into());
                        }
                        t.rows.push(r);
                    }
                }
                tables.push(t);
                // Risk by event and aggregation key (rows with some damage).
                if let (Some((_, names)), Some(bk)) = (&agg, &sums.event_by_key) {
                    let mut cols = vec!["event_id".to_string()];
                    cols.extend(agg_tags.iter().cloned());
                    cols.extend(limit_states.iter().cloned());
                    cols.extend(csq_names.iter().map(|s| s.to_string()));
                    cols.push("loss_type".into());
                    let mut t = Table::new(format!("risk_by_event-{}", agg_tags.join("-")), cols);
                    t.meta = meta.clone();
                    let kn = names.len();
                    for (e, &eid) in gmfs.event_ids.iter().enumerate() {
                        for (key, name) in names.iter().enumerate() {
                            for (l, lt) in lts.iter().enumerate() {
                                let b = ((e * kn + key) * l_n + l) * w;
                                let row = &bk[b..b + w];
                                if row.iter().all(|v| *v == 0.0) {
                                    continue;
                                }
                                let mut r = vec![eid.to_string()];
                                r.extend(name.iter().cloned());
                                r.extend(row.iter().map(|v| fmt_e(*v, 5)));
                                r.push(lt.to_string());
                                t.rows.push(r);
                            }
                        }
                    }
                    tables.push(t);
                }
                // Aggregate loss curves (event-based, 'losses' consequence).
                if mode == Mode::EventBasedDamage
                    && let Some(c) = sums.consequences.iter().position(|k| *k == ConsequenceKind::Losses)
                {
                    let periods = match ini.get("return_periods") {
                        Some(_) => parse_periods(&ini)?,
                        None => return_periods(eff_time, n_events).map_err(|m| ini.error("investigation_time", m))?,
                    };
                    let mut meta_c = vec![
                        ("risk_investigation_time".to_string(), format!("{rit:?}")),
                        ("num_events".to_string(), n_events.to_string()),
                        ("effective_time".to_string(), format!("{eff_time:?}")),
                        ("limit_states".to_string(), format!("'{}'", limit_states.join(" "))),
                    ];
                    let col = d_n - 1 + c;
                    let curve_rows =
                        |event_losses: Vec<f64>, value: f64, prefix: &[String], lt: &str, t: &mut Table| {
                            let curve = losses_by_period(&event_losses, &periods, n_events, eff_time);
                            for (p, v) in periods.iter().zip(curve) {
                                let mut r = prefix.to_vec();
                                r.push(p.to_string());
                                r.push(lt.to_string());
                                r.push(fmt_e(v, 5));
                                r.push(fmt_e(v / value, 5));
                                t.rows.push(r);
                            }
                        };
                    let mut t = Table::new(
                        "aggcurves-",
                        ["return_period", "loss_type", "loss_value", "loss_ratio"]
                            .map(String::from)
                            .to_vec(),
                    );
                    t.meta = std::mem::take(&mut meta_c);
                    let meta_saved = t.meta.clone();
                    for (l, lt) in lts.iter().enumerate() {
                        let losses: Vec<f64> = (0..n_events)
                            .filter(|&e| touched[e])
                            .map(|e| sums.event_total[(e * l_n + l) * w + col])
                            .collect();
                        curve_rows(losses, exposed(&all, ConsequenceKind::Losses, l), &[], lt, &mut t);
                    }
                    tables.push(t);
                    if let (Some((_, names)), Some(bk)) = (&agg, &sums.event_by_key) {
                        let mut members: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
                        for (k, &key) in agg.as_ref().expect("agg").0.iter().enumerate() {
                            members[key as usize].push(k);
                        }
                        let mut cols: Vec<String> = agg_tags.clone();
                        cols.extend(["return_period", "loss_type", "loss_value", "loss_ratio"].map(String::from));
                        let mut t = Table::new(format!("aggcurves-{}", agg_tags.join("-")), cols);
                        t.meta = meta_saved;
                        let kn = names.len();
                        for (key, name) in names.iter().enumerate() {
                            for (l, lt) in lts.iter().enumerate() {
                                let losses: Vec<f64> = (0..n_events)
                                    .filter(|&e| touched[e])
                                    .map(|e| bk[((e * kn + key) * l_n + l) * w + col])
                                    .collect();
                                curve_rows(
                                    losses,
                                    exposed(&members[key], ConsequenceKind::Losses, l),
                                    name,
                                    lt,
                                    &mut t,
                                );
                            }
                        }
                        tables.push(t);
                    }
                }
            }
            Mode::ScenarioRisk => {
                // Sampled loss ratios, as OpenQuake: unless ignore_covs or ignore_master_seed, when
                // some function has covs; asset_correlation is read as OpenQuake does (`int(x)`:
                // 1 = one epsilon per event, anything below 1 = independent).
                let flag = |k: &str| ini.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
                let any_covs = vulnerability
                    .iter()
                    .any(|(_, m)| m.functions.values().any(|f| f.has_covs()));
                let sampling = if any_covs && !flag("ignore_covs") && !flag("ignore_master_seed") {
                    let seed = match ini.get_f64("master_seed")? {
                        None => 123_456_789,
                        Some(x) if x >= 0.0 && x.fract() == 0.0 => x as u64,
                        Some(x) => return Err(ini.error("master_seed", format!("{x} is not a whole number ≥ 0"))),
                    };
                    let corr = ini.get_f64("asset_correlation")?.unwrap_or(0.0);
                    if !(0.0..=1.0).contains(&corr) {
                        return Err(ini.error("asset_correlation", format!("{corr} is not in [0, 1]")));
                    }
                    if corr > 0.0 && corr < 1.0 {
                        warnings.push(format!(
                            "asset_correlation = {corr} is read as 0 (OpenQuake truncates it to an integer)"
                        ));
                    }
                    Some(LossSampling {
                        seed,
                        correlated: corr >= 1.0,
                    })
                } else {
                    None
                };
                if sampling.is_some() {
                    warnings.push(
                        "loss ratios are sampled from the vulnerability functions' distributions (covs): results agree with OpenQuake statistically, not digit by digit".into(),
                    );
                }
                let minimum: HashMap<String, f64> = match ini.get_py("minimum_asset_loss")? {
                    None => HashMap::new(),
                    Some(PyValue::Dict(items)) => items
                        .iter()
                        .map(|(k, v)| {
                            let k = k.as_str().unwrap_or("").to_string();
                            v.as_f64()
                                .map(|x| (k, x))
                                .ok_or_else(|| ini.error("minimum_asset_loss", "expected numbers"))
                        })
                        .collect::<Result<_>>()?,
                    Some(_) => return Err(ini.error("minimum_asset_loss", "expected {\"loss_type\": amount, …}")),
                };
                let lts: Vec<&str> = vulnerability.iter().map(|(lt, _)| lt.as_str()).collect();
                let l_n = lts.len();
                let models = vulnerability
                    .iter()
                    .map(|(lt, m)| {
                        resolve_functions(lt, "vulnerability", &m.path, &m.functions, |f| &f.imt, &ex, &gmfs)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let mut values = Vec::with_capacity(kept.len() * l_n);
                for &a in kept.iter() {
                    let asset = &ex.assets[a];
                    for lt in &lts {
                        let v = if *lt == "occupants" {
                            ex.occupants(asset, time_event.as_deref())
                        } else {
                            let i = ex.cost_index(lt).ok_or_else(|| {
                                IoError::new(
                                    &ex.path,
                                    format!("the exposure has no '{lt}' cost type for the {lt} vulnerability model"),
                                )
                            })?;
                            asset.values[i]
                        };
                        values.push(v);
                    }
                }
                let job = LossJob {
                    exposure: &ex,
                    kept,
                    site_of: &assoc.site_of,
                    loss_types: models,
                    values: values.clone(),
                    minimum_asset_loss: lts.iter().map(|lt| minimum.get(*lt).copied().unwrap_or(0.0)).collect(),
                    agg: agg.as_ref().map(|(k, names)| (k.clone(), names.len())),
                    sampling,
                };
                let sums = run_losses(&job, &gmfs, progress);
                let mut cols = vec!["asset_id".to_string()];
                cols.extend(ex.tag_names.iter().cloned());
                cols.extend(["taxonomy", "lon", "lat"].map(String::from));
                cols.extend(lts.iter().map(|s| s.to_string()));
                let mut t = Table::new("avg_losses-rlz-000", cols);
                for (k, &a) in kept.iter().enumerate() {
                    let asset = &ex.assets[a];
                    let mut r = vec![asset.id.clone()];
                    for &tc in &tag_cols {
                        r.push(ex.tag_values[tc][asset.tags[tc] as usize].clone());
                    }
                    r.push(ex.taxonomies[asset.taxonomy as usize].clone());
                    r.push(fmt_f5(asset.lon));
                    r.push(fmt_f5(asset.lat));
                    for l in 0..l_n {
                        r.push(fmt_e(sums.asset[k * l_n + l] * scale, 5));
                    }
                    t.rows.push(r);
                }
                tables.push(t);
                // OpenQuake names the occupants loss type by the time of the event in aggrisk
                // (`occupants_night`), not in the other exports.
                let agg_name = |lt: &str| match (lt, &time_event) {
                    ("occupants", Some(t)) => format!("occupants_{t}"),
                    _ => lt.to_string(),
                };
                let mut t = Table::new(
                    "aggrisk-",
                    ["loss_type", "loss_value", "loss_ratio"].map(String::from).to_vec(),
                );
                for (l, lt) in lts.iter().enumerate() {
                    let total: f64 = (0..kept.len()).map(|k| sums.asset[k * l_n + l]).sum::<f64>() * scale;
                    let value: f64 = (0..kept.len()).map(|k| values[k * l_n + l]).sum();
                    t.rows
                        .push(vec![agg_name(lt), fmt_e(total, 5), fmt_e(total / value, 5)]);
                }
                tables.push(t);
                if let Some((keys, names)) = &agg {
                    let mut cols = vec!["loss_type".to_string()];
                    cols.extend(agg_tags.iter().cloned());
                    cols.extend(["loss_value", "loss_ratio"].map(String::from));
                    let mut t = Table::new(format!("aggrisk-{}", agg_tags.join("-")), cols);
                    for (l, lt) in lts.iter().enumerate() {
                        for (key, name) in names.iter().enumerate() {
                            let ks: Vec<usize> = (0..kept.len()).filter(|&k| keys[k] as usize == key).collect();
                            let total: f64 = ks.iter().map(|&k| sums.asset[k * l_n + l]).sum::<f64>() * scale;
                            let value: f64 = ks.iter().map(|&k| values[k * l_n + l]).sum();
                            let mut r = vec![agg_name(lt)];
                            r.extend(name.iter().cloned());
                            r.push(fmt_e(total, 5));
                            r.push(fmt_e(total / value, 5));
                            t.rows.push(r);
                        }
                    }
                    tables.push(t);
                }
                let mut t = Table::new(
                    "risk_by_event",
                    ["event_id", "loss", "loss_type"].map(String::from).to_vec(),
                );
                let mut rows: Vec<(f64, u32, usize)> = Vec::new();
                for (e, &eid) in gmfs.event_ids.iter().enumerate() {
                    for l in 0..l_n {
                        let v = sums.event_total[e * l_n + l];
                        if v > 0.0 {
                            rows.push((v, eid, l));
                        }
                    }
                }
                rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                for (v, eid, l) in rows {
                    t.rows.push(vec![eid.to_string(), fmt_e(v, 5), lts[l].to_string()]);
                }
                tables.push(t);
            }
        }
        Ok(OqRun {
            mode,
            tables,
            warnings,
            n_assets: ex.assets.len(),
            n_assets_kept: kept.len(),
            n_sites: sites.len(),
            n_events,
        })
    }
}

fn parse_periods(ini: &JobIni) -> Result<Vec<u32>> {
    let v = ini.get_py("return_periods")?.expect("checked by caller");
    let items = match v {
        PyValue::List(items) => items,
        other => vec![other],
    };
    let mut out = Vec::new();
    for it in items {
        let x = it
            .as_f64()
            .ok_or_else(|| ini.error("return_periods", "expected whole numbers of years"))?;
        if x < 1.0 || x.fract() != 0.0 {
            return Err(ini.error("return_periods", format!("{x} is not a whole number of years ≥ 1")));
        }
        out.push(x as u32);
    }
    if out.windows(2).any(|w| w[1] <= w[0]) {
        return Err(ini.error("return_periods", "return periods must increase"));
    }
    Ok(out)
}

/// Which events have ground motion at some site carrying assets.
fn touched_events(gmfs: &GroundMotionFields, site_of: &[usize]) -> Vec<bool> {
    let mut sites: Vec<usize> = site_of.to_vec();
    sites.dedup();
    let mut out = vec![false; gmfs.n_events()];
    for &s in &sites {
        for (e, t) in out.iter_mut().enumerate() {
            if !*t && !gmfs.get(s, e, 0).is_nan() {
                *t = true;
            }
        }
    }
    out
}

/// Aggregation keys of the kept assets: one key per distinct combination of the tag values,
/// ordered by those values (assets' own order for `id`).
fn build_keys(ini: &JobIni, ex: &Exposure, kept: &[usize], tags: &[String]) -> Result<(Vec<u32>, Vec<Vec<String>>)> {
    type TagOf<'a> = Box<dyn Fn(usize) -> (String, usize) + 'a>;
    let mut getters: Vec<TagOf> = Vec::new();
    for t in tags {
        if t == "taxonomy" {
            getters.push(Box::new(|a: usize| {
                (ex.taxonomies[ex.assets[a].taxonomy as usize].clone(), 0)
            }));
        } else if t == "id" {
            getters.push(Box::new(|a: usize| (ex.assets[a].id.clone(), a)));
        } else if let Some(i) = ex.tag_names.iter().position(|n| n == t) {
            getters.push(Box::new(move |a: usize| {
                (ex.tag_values[i][ex.assets[a].tags[i] as usize].clone(), 0)
            }));
        } else {
            return Err(ini.error(
                "aggregate_by",
                format!(
                    "'{t}' is not a tag of the exposure (tags: taxonomy, id, {})",
                    ex.tag_names.join(", ")
                ),
            ));
        }
    }
    let mut first_pos: HashMap<Vec<String>, usize> = HashMap::new();
    let combos: Vec<Vec<String>> = kept
        .iter()
        .enumerate()
        .map(|(k, &a)| {
            let c: Vec<String> = getters.iter().map(|g| g(a).0).collect();
            first_pos.entry(c.clone()).or_insert(k);
            c
        })
        .collect();
    let mut names: Vec<Vec<String>> = first_pos.keys().cloned().collect();
    let by_id = tags.iter().any(|t| t == "id");
    if by_id {
        names.sort_by_key(|n| first_pos[n]);
    } else {
        names.sort();
    }
    let index: HashMap<&Vec<String>, u32> = names.iter().enumerate().map(|(i, n)| (n, i as u32)).collect();
    let keys = combos.iter().map(|c| index[c]).collect();
    Ok((keys, names))
}
