//! `[quake]` of a risk project: rupture → ground-motion fields → damage per asset → roll-ups by
//! admin level → five-grade zoning of assets and units; GB/T 17742 intensity at every site.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, anyhow};
use renxing_exam::standard::StandardProfile;
use renxing_io::gpkg::{Feature, FieldType, GeometryKind, Layer, Value};
use renxing_report::page::{MapSpec, Mark, Section, fmt_thousands, grade_map, table};
use renxing_risk::consequence::{ConsequenceKind, ConsequenceModel};
use renxing_risk::exposure::Exposure;
use renxing_risk::fragility::FragilityModel;
use renxing_risk::gmpe::field::{Correlation, FieldSettings};
use renxing_risk::gmpe::intensity::{IntensityCoefficients, instrumental_intensity, roman};
use renxing_risk::gmpe::rupture::{Surface, read_rupture_xml};
use renxing_risk::gmpe::{Imt, gmpe_by_name};
use renxing_risk::scenario::{ScenarioSpec, SiteParams, run_scenario_damage};
use renxing_risk::zoning::{self, UnitBasis, ZoningConfig, ZoningInput, grade_name_zh};
use serde::Deserialize;

use super::{Outputs, RiskProject, percentile, progress, real, scheme};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuakeSection {
    /// NRML rupture (simpleFaultRupture, singlePlaneRupture, multiPlanesRupture).
    pub rupture: PathBuf,
    /// `ChiouYoungs2014` (CY14) or `BooreAtkinson2008` (BA08).
    pub gmpe: String,
    /// Reference site parameters of every site.
    pub vs30: f64,
    #[serde(default = "yes")]
    pub vs30_measured: bool,
    pub z1pt0_m: Option<f64>,
    pub z2pt5_km: Option<f64>,
    /// Number of sampled ground-motion fields.
    pub fields: usize,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Truncation of the epsilons in standard deviations; 0 = the median field only; absent = none.
    pub truncation_level: Option<f64>,
    /// `JB2009` (Jayaram & Baker 2009) or `none`.
    #[serde(default = "default_correlation")]
    pub correlation: String,
    #[serde(default)]
    pub vs30_clustering: bool,
    /// Sites farther than this (Rrup, km) are not shaken.
    pub maximum_distance_km: Option<f64>,
    /// OpenQuake exposure (NRML XML with inline assets or a CSV).
    pub exposure: PathBuf,
    /// NRML fragility model.
    pub fragility: PathBuf,
    /// Consequence CSV files (losses, collapsed, fatalities, homeless…).
    #[serde(default)]
    pub consequences: Vec<PathBuf>,
    /// Occupancy period for casualties (default: mean over the periods).
    pub time_event: Option<String>,
    /// Exposure tags to roll up by, coarse to fine (e.g. NAME_1 … NAME_4).
    #[serde(default)]
    pub rollup: Vec<String>,
    /// Scheme of the asset and unit grades: natural_breaks or quantiles.
    #[serde(default = "default_zoning")]
    pub zoning: String,
}

fn yes() -> bool {
    true
}
fn default_seed() -> u64 {
    42
}
fn default_correlation() -> String {
    "JB2009".into()
}
fn default_zoning() -> String {
    "natural_breaks".into()
}

const INTENSITY_KEYS: [&str; 8] = [
    "intensity.pga_slope",
    "intensity.pga_intercept",
    "intensity.pgv_slope",
    "intensity.pgv_intercept",
    "intensity.combine_threshold",
    "intensity.combine_requires_both",
    "intensity.min",
    "intensity.max",
];

pub fn run(
    project: &RiskProject,
    q: &QuakeSection,
    standard: &StandardProfile,
    quiet: bool,
    out: &mut Outputs,
    used: &mut Vec<String>,
) -> Result<String> {
    let t0 = Instant::now();
    let err = |key: &str, m: String| project.error("quake", key, m);
    if !(q.vs30 > 0.0 && q.vs30.is_finite()) {
        return Err(err("vs30", format!("{} is not a positive velocity (m/s)", q.vs30)));
    }
    if q.fields == 0 {
        return Err(err("fields", "must be at least 1".into()));
    }
    let correlation = match q.correlation.to_ascii_lowercase().as_str() {
        "jb2009" => Correlation::JayaramBaker2009 {
            vs30_clustering: q.vs30_clustering,
        },
        "none" => Correlation::None,
        other => return Err(err("correlation", format!("'{other}' is not JB2009 or none"))),
    };
    let gmpe = gmpe_by_name(&q.gmpe).map_err(|e| err("gmpe", e.to_string()))?;
    let rupture_path = project.resolve(&q.rupture);
    let rupture = read_rupture_xml(&rupture_path)?;
    let exposure_path = project.resolve(&q.exposure);
    let exposure = Exposure::read(&exposure_path)?;
    let fragility_path = project.resolve(&q.fragility);
    let fragility = FragilityModel::read(&fragility_path)?;
    let csq_paths: Vec<PathBuf> = q.consequences.iter().map(|p| project.resolve(p)).collect();
    let consequences = if csq_paths.is_empty() {
        ConsequenceModel::default()
    } else {
        ConsequenceModel::read(&csq_paths, &fragility.limit_states)?
    };
    if let Some(t) = &q.time_event
        && !exposure.occupancy_periods.contains(t)
    {
        return Err(err(
            "time_event",
            format!(
                "'{t}' is not an occupancy period of the exposure {:?}",
                exposure.occupancy_periods
            ),
        ));
    }
    let mut rollup_tags = Vec::new();
    for t in &q.rollup {
        let i = exposure.tag_names.iter().position(|n| n == t).ok_or_else(|| {
            err(
                "rollup",
                format!(
                    "'{t}' is not a tag of the exposure (tags: {})",
                    exposure.tag_names.join(", ")
                ),
            )
        })?;
        rollup_tags.push(i);
    }
    let zoning_scheme = scheme(project, "quake", "zoning", &q.zoning, None)?;
    used.extend(INTENSITY_KEYS.iter().map(|k| k.to_string()));
    let coeffs = IntensityCoefficients::from_profile(|k| standard.get(k))?;
    let loss_type = fragility.loss_category.clone().unwrap_or_else(|| "structural".into());

    let settings = FieldSettings {
        n_events: q.fields,
        seed: q.seed,
        truncation_level: q.truncation_level,
        correlation,
        max_distance_km: q.maximum_distance_km,
    };
    let n_events = if q.truncation_level == Some(0.0) { 1 } else { q.fields };
    let bar = progress(n_events as u64, quiet, "earthquake: fields and damage")?;
    let spec = ScenarioSpec {
        rupture: &rupture,
        gmpe: gmpe.as_ref(),
        site_params: SiteParams {
            vs30: q.vs30,
            vs30_measured: q.vs30_measured,
            z1pt0: q.z1pt0_m,
            z2pt5: q.z2pt5_km,
        },
        fields: settings,
        exposure: &exposure,
        fragility: &fragility,
        loss_type: loss_type.clone(),
        consequences: &consequences,
        time_event: q.time_event.clone(),
        extra_imts: vec![Imt::Pga, Imt::Pgv],
    };
    let res =
        run_scenario_damage(&spec, &|n| bar.inc(n)).map_err(|e| anyhow!("{}: {}", project.path.display(), e.0))?;
    bar.finish_and_clear();
    let elapsed = t0.elapsed().as_secs_f64();

    // Per-site figures.
    let n_sites = res.site_lon.len();
    let pga_col = res.imt_names.iter().position(|n| n == "PGA").expect("PGA asked for");
    let pgv_col = res.imt_names.iter().position(|n| n == "PGV").expect("PGV asked for");
    let site_intensity: Vec<Option<f64>> = (0..n_sites)
        .map(|s| {
            res.median.output(s, pga_col).map(|_| {
                instrumental_intensity(res.site_median(s, pga_col), res.site_median(s, pgv_col), &coeffs).reported
            })
        })
        .collect();
    let damage_col = 0; // the first IMT is the one the fragility functions read first

    // Per-asset layers for zoning: hazard = median of the damage IMT, vulnerability = mean damage
    // (or loss) ratio, exposure = buildings, loss = consequence 'losses' (else complete damage).
    let n_s = res.n_states();
    let n_ls = res.limit_states.len();
    let losses_col = res.consequences.iter().position(|k| *k == ConsequenceKind::Losses);
    let cost = exposure.cost_index(&loss_type);
    let n_assets = exposure.assets.len();
    let mut hazard = Vec::with_capacity(n_assets);
    let mut vulnerability = Vec::with_capacity(n_assets);
    let mut expo = Vec::with_capacity(n_assets);
    let mut loss = Vec::with_capacity(n_assets);
    for (a, asset) in exposure.assets.iter().enumerate() {
        let row = res.asset_row(a);
        hazard.push(res.site_median(res.site_of_asset[a], damage_col));
        let damage_ratio = if asset.number > 0.0 {
            (1..n_s).map(|d| d as f64 * row[d]).sum::<f64>() / (n_ls as f64 * asset.number)
        } else {
            0.0
        };
        let (v, l) = match (losses_col, cost) {
            (Some(c), Some(ci)) if asset.values[ci] > 0.0 => (row[n_s + c] / asset.values[ci], row[n_s + c]),
            _ => (damage_ratio, row[n_s - 1]),
        };
        vulnerability.push(v);
        expo.push(asset.number);
        loss.push(l);
    }
    let input = ZoningInput {
        hazard: &hazard,
        vulnerability: Some(&vulnerability),
        exposure: Some(&expo),
        loss: Some(&loss),
        cell_area: None,
    };
    let config = ZoningConfig {
        hazard: zoning_scheme.clone(),
        vulnerability: zoning_scheme.clone(),
        exposure: zoning_scheme.clone(),
        loss: zoning_scheme.clone(),
        positive_only: true,
    };
    let zones =
        zoning::zone_cells(&input, &config).map_err(|e| anyhow!("{}: asset zoning: {e}", project.path.display()))?;
    let loss_name = if losses_col.is_some() && cost.is_some() {
        format!("{loss_type} loss")
    } else {
        format!(
            "buildings in '{}'",
            res.limit_states.last().cloned().unwrap_or_default()
        )
    };

    // ---- Layers.
    let site_layer = {
        let mut f = vec![
            ("site_id".to_string(), FieldType::Integer),
            ("rrup_km".to_string(), FieldType::Real),
            ("rjb_km".to_string(), FieldType::Real),
        ];
        for n in &res.imt_names {
            f.push((
                format!(
                    "median_{}",
                    n.to_ascii_lowercase().replace(['(', ')'], "").replace('.', "_")
                ),
                FieldType::Real,
            ));
        }
        f.push(("intensity_gbt17742".into(), FieldType::Real));
        f.push(("intensity_degree".into(), FieldType::Integer));
        f.push(("intensity_roman".into(), FieldType::Text));
        let features = (0..n_sites)
            .map(|s| {
                let d = res.median.distances[s];
                let mut v = vec![Value::Integer(s as i64), real(d.rrup), real(d.rjb)];
                for m in 0..res.imt_names.len() {
                    v.push(match res.median.output(s, m) {
                        Some(_) => real(res.site_median(s, m)),
                        None => Value::Null,
                    });
                }
                match site_intensity[s] {
                    Some(i) => {
                        let deg = renxing_risk::gmpe::intensity::intensity_degree(i, &coeffs);
                        v.push(real(i));
                        v.push(Value::Integer(deg as i64));
                        v.push(Value::Text(roman(deg).to_string()));
                    }
                    None => v.extend([Value::Null, Value::Null, Value::Null]),
                }
                Feature {
                    geometry: Some(geo_types::Point::new(res.site_lon[s], res.site_lat[s]).into()),
                    values: v,
                }
            })
            .collect();
        Layer {
            name: "quake_sites".into(),
            description: format!(
                "Median ground motion ({}) and GB/T 17742-2020 instrumental intensity at the exposure's {} distinct locations",
                gmpe.name(),
                n_sites
            ),
            kind: Some(GeometryKind::Point),
            fields: f,
            features,
        }
    };
    let state_names: Vec<String> = std::iter::once("no_damage".to_string())
        .chain(res.limit_states.iter().cloned())
        .collect();
    let csq_names: Vec<&str> = res.consequences.iter().map(|k| k.name()).collect();
    let asset_layer = {
        let mut f = vec![("asset_id".to_string(), FieldType::Text)];
        for t in &exposure.tag_names {
            f.push((t.clone(), FieldType::Text));
        }
        f.push(("taxonomy".into(), FieldType::Text));
        f.push(("buildings".into(), FieldType::Real));
        f.push(("site_id".into(), FieldType::Integer));
        f.push((
            format!("median_{}", res.imt_names[damage_col].to_ascii_lowercase()),
            FieldType::Real,
        ));
        for s in &state_names {
            f.push((s.clone(), FieldType::Real));
        }
        for c in &csq_names {
            f.push((format!("{loss_type}_{c}"), FieldType::Real));
        }
        f.push(("vulnerability".into(), FieldType::Real));
        for g in ["hazard_grade", "vulnerability_grade", "exposure_grade", "risk_grade"] {
            f.push((g.into(), FieldType::Integer));
        }
        let features = (0..n_assets)
            .map(|a| {
                let asset = &exposure.assets[a];
                let mut v = vec![Value::Text(asset.id.clone())];
                for t in 0..exposure.tag_names.len() {
                    v.push(Value::Text(exposure.tag_values[t][asset.tags[t] as usize].clone()));
                }
                v.push(Value::Text(exposure.taxonomies[asset.taxonomy as usize].clone()));
                v.push(real(asset.number));
                v.push(Value::Integer(res.site_of_asset[a] as i64));
                v.push(real(hazard[a]));
                for x in res.asset_row(a) {
                    v.push(real(*x));
                }
                v.push(real(vulnerability[a]));
                v.push(Value::Integer(zones.hazard.grades[a] as i64));
                v.push(Value::Integer(
                    zones.vulnerability.as_ref().expect("given").grades[a] as i64,
                ));
                v.push(Value::Integer(zones.exposure.as_ref().expect("given").grades[a] as i64));
                v.push(Value::Integer(zones.loss.as_ref().expect("given").grades[a] as i64));
                Feature {
                    geometry: Some(geo_types::Point::new(asset.lon, asset.lat).into()),
                    values: v,
                }
            })
            .collect();
        Layer {
            name: "quake_assets".into(),
            description: format!(
                "Mean buildings per damage state and consequences per asset over {} fields; grades 1 high … 5 low",
                res.n_events
            ),
            kind: Some(GeometryKind::Point),
            fields: f,
            features,
        }
    };
    let trace: Vec<Vec<(f64, f64)>> = match &rupture.surface {
        Surface::Point => Vec::new(),
        Surface::Planes(planes) => planes
            .iter()
            .map(|p| {
                vec![
                    (p.top_left.lon, p.top_left.lat),
                    (p.top_right.lon, p.top_right.lat),
                    (p.bottom_right.lon, p.bottom_right.lat),
                    (p.bottom_left.lon, p.bottom_left.lat),
                    (p.top_left.lon, p.top_left.lat),
                ]
            })
            .collect(),
    };
    let rupture_layer = Layer {
        name: "quake_rupture".into(),
        description: format!("Surface projection of the rupture planes (M{})", rupture.mag),
        kind: Some(GeometryKind::Polygon),
        fields: vec![
            ("plane".into(), FieldType::Integer),
            ("magnitude".into(), FieldType::Real),
            ("rake".into(), FieldType::Real),
        ],
        features: trace
            .iter()
            .enumerate()
            .map(|(i, ring)| Feature {
                geometry: Some(
                    geo_types::Polygon::new(
                        geo_types::LineString::from(ring.iter().map(|&(x, y)| (x, y)).collect::<Vec<_>>()),
                        vec![],
                    )
                    .into(),
                ),
                values: vec![Value::Integer(i as i64), real(rupture.mag), real(rupture.rake)],
            })
            .collect(),
    };
    // Per-event totals.
    let width = n_ls + res.consequences.len();
    let event_layer = {
        let mut f = vec![("event_id".to_string(), FieldType::Integer)];
        for s in &res.limit_states {
            f.push((s.clone(), FieldType::Real));
        }
        for c in &csq_names {
            f.push((format!("{loss_type}_{c}"), FieldType::Real));
        }
        Layer {
            name: "quake_events".into(),
            description: "Totals over all assets per sampled field (event)".into(),
            kind: None,
            fields: f,
            features: (0..res.n_events)
                .map(|e| {
                    let mut v = vec![Value::Integer(e as i64)];
                    v.extend(res.event_totals[e * width..(e + 1) * width].iter().map(|x| real(*x)));
                    Feature {
                        geometry: None,
                        values: v,
                    }
                })
                .collect(),
        }
    };
    out.layers.extend([site_layer, asset_layer, rupture_layer, event_layer]);

    // ---- Roll-ups per tag, with unit grades from the summed loss.
    let mut rollup_json = serde_json::Map::new();
    let mut rollup_sections = Vec::new();
    for (level, &tag) in rollup_tags.iter().enumerate() {
        let parents: Vec<usize> = rollup_tags[..level].to_vec();
        let rows = res.rollup(&exposure, tag, &parents, q.time_event.as_deref(), &loss_type);
        let key_index: std::collections::HashMap<&str, u32> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key.as_str(), i as u32))
            .collect();
        let zone_of: Vec<u32> = exposure
            .assets
            .iter()
            .map(|a| key_index[exposure.tag_values[tag][a.tags[tag] as usize].as_str()])
            .collect();
        let units = zoning::zone_units(
            &input,
            &zones,
            &zone_of,
            rows.len(),
            UnitBasis::Loss,
            &zoning_scheme,
            true,
        )
        .map_err(|e| {
            anyhow!(
                "{}: unit zoning by {}: {e}",
                project.path.display(),
                exposure.tag_names[tag]
            )
        })?;
        let tag_name = &exposure.tag_names[tag];
        let mut f: Vec<(String, FieldType)> = vec![(tag_name.clone(), FieldType::Text)];
        for &p in &parents {
            f.push((exposure.tag_names[p].clone(), FieldType::Text));
        }
        for (n, t) in [
            ("assets", FieldType::Integer),
            ("buildings", FieldType::Real),
            ("occupants", FieldType::Real),
            ("exposed_value", FieldType::Real),
        ] {
            f.push((n.into(), t));
        }
        for s in &state_names {
            f.push((s.clone(), FieldType::Real));
        }
        for c in &csq_names {
            f.push((format!("{loss_type}_{c}"), FieldType::Real));
        }
        for (n, t) in [
            ("loss_ratio", FieldType::Real),
            ("max_median", FieldType::Real),
            ("risk_grade", FieldType::Integer),
            ("risk_grade_zh", FieldType::Text),
        ] {
            f.push((n.into(), t));
        }
        let ratio = |r: &renxing_risk::scenario::RollupRow| match (losses_col, r.value > 0.0) {
            (Some(c), true) => r.consequences[c] / r.value,
            _ => f64::NAN,
        };
        let features: Vec<Feature> = rows
            .iter()
            .zip(&units.rows)
            .map(|(r, u)| {
                let mut v = vec![Value::Text(r.key.clone())];
                v.extend(r.parents.iter().map(|p| Value::Text(p.clone())));
                v.push(Value::Integer(r.assets as i64));
                v.push(real(r.buildings));
                v.push(real(r.occupants));
                v.push(real(r.value));
                v.extend(r.states.iter().map(|x| real(*x)));
                v.extend(r.consequences.iter().map(|x| real(*x)));
                v.push(real(ratio(r)));
                v.push(real(r.max_median));
                v.push(Value::Integer(u.grade as i64));
                v.push(Value::Text(grade_name_zh(u.grade).into()));
                Feature {
                    geometry: None,
                    values: v,
                }
            })
            .collect();
        out.layers.push(Layer {
            name: format!("quake_rollup_{}", tag_name.to_ascii_lowercase()),
            description: format!(
                "Damage rolled up by {tag_name}; unit grade from the summed {loss_name} ({})",
                units.breaks.describe()
            ),
            kind: None,
            fields: f,
            features,
        });
        // Report table: every unit of the first two levels, the 20 largest losses below.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| units.rows[b].loss.total_cmp(&units.rows[a].loss).then(a.cmp(&b)));
        let shown = if level < 2 { rows.len() } else { rows.len().min(20) };
        let mut trs = Vec::new();
        for &i in order.iter().take(shown) {
            let r = &rows[i];
            let mut tr = vec![r.key.clone()];
            if let Some(p) = r.parents.last() {
                tr.push(p.clone());
            }
            tr.push(fmt_thousands(r.buildings, 0));
            for d in 1..n_s {
                tr.push(fmt_thousands(r.states[d], 0));
            }
            for c in &r.consequences {
                tr.push(fmt_thousands(*c, 0));
            }
            let lr = ratio(r);
            tr.push(if lr.is_finite() {
                format!("{:.2} %", lr * 100.0)
            } else {
                "–".into()
            });
            tr.push(format!(
                "{} {}",
                units.rows[i].grade,
                grade_name_zh(units.rows[i].grade)
            ));
            trs.push(tr);
        }
        let mut headers: Vec<String> = vec![tag_name.clone()];
        if let Some(&p) = parents.last() {
            headers.push(exposure.tag_names[p].clone());
        }
        headers.push("buildings".into());
        headers.extend(res.limit_states.iter().cloned());
        headers.extend(csq_names.iter().map(|c| format!("{loss_type} {c}")));
        headers.push("loss ratio".into());
        headers.push("risk grade".into());
        let hdr: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut sec = Section::new(&format!(
            "按 {tag_name} 汇总 Roll-up by {tag_name} ({} units)",
            rows.len()
        ));
        if shown < rows.len() {
            sec.text(&format!(
                "The {shown} units with the largest {loss_name}; all {} are in results.gpkg layer quake_rollup_{}.",
                rows.len(),
                tag_name.to_ascii_lowercase()
            ));
        }
        sec.text(&format!("Unit grades: {}.", units.breaks.describe()));
        sec.html(table(&hdr, &trs));
        rollup_sections.push(sec);
        rollup_json.insert(
            tag_name.clone(),
            serde_json::Value::Array(
                rows.iter()
                    .zip(&units.rows)
                    .map(|(r, u)| {
                        let mut m = serde_json::Map::new();
                        m.insert("key".into(), r.key.clone().into());
                        m.insert("assets".into(), r.assets.into());
                        m.insert("buildings".into(), r.buildings.into());
                        for (s, x) in state_names.iter().zip(&r.states) {
                            m.insert(s.clone(), (*x).into());
                        }
                        for (c, x) in csq_names.iter().zip(&r.consequences) {
                            m.insert(format!("{loss_type}_{c}"), (*x).into());
                        }
                        m.insert("risk_grade".into(), u.grade.into());
                        serde_json::Value::Object(m)
                    })
                    .collect(),
            ),
        );
    }

    // ---- Totals and the event distribution.
    let mut totals = vec![0.0; n_s + res.consequences.len()];
    for a in 0..n_assets {
        for (t, x) in totals.iter_mut().zip(res.asset_row(a)) {
            *t += x;
        }
    }
    let buildings: f64 = exposure.assets.iter().map(|a| a.number).sum();
    let total_value: f64 = cost.map_or(0.0, |c| exposure.assets.iter().map(|a| a.values[c]).sum());
    let mut dist_rows = Vec::new();
    let mut dist_json = serde_json::Map::new();
    let col_names: Vec<String> = res
        .limit_states
        .iter()
        .cloned()
        .chain(csq_names.iter().map(|c| format!("{loss_type}_{c}")))
        .collect();
    for (j, name) in col_names.iter().enumerate() {
        let mut v: Vec<f64> = (0..res.n_events).map(|e| res.event_totals[e * width + j]).collect();
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let (p5, p50, p95) = (percentile(&v, 5.0), percentile(&v, 50.0), percentile(&v, 95.0));
        dist_rows.push(vec![
            name.clone(),
            fmt_thousands(mean, 0),
            fmt_thousands(p5, 0),
            fmt_thousands(p50, 0),
            fmt_thousands(p95, 0),
        ]);
        dist_json.insert(
            name.clone(),
            serde_json::json!({"mean": mean, "p5": p5, "p50": p50, "p95": p95}),
        );
    }
    let mut intensity_counts = std::collections::BTreeMap::new();
    for i in site_intensity.iter().flatten() {
        *intensity_counts
            .entry(renxing_risk::gmpe::intensity::intensity_degree(*i, &coeffs))
            .or_insert(0usize) += 1;
    }
    let max_intensity = site_intensity.iter().flatten().fold(f64::NAN, |a, &b| a.max(b));

    let complete = totals[n_s - 1];
    out.headline
        .push(("buildings exposed 暴露建筑".into(), fmt_thousands(buildings, 0)));
    out.headline.push((
        format!(
            "mean buildings '{}' 平均{}",
            res.limit_states.last().cloned().unwrap_or_default(),
            "完全破坏"
        ),
        fmt_thousands(complete, 0),
    ));
    if let Some(c) = losses_col {
        out.headline.push((
            format!("mean {loss_type} loss 平均直接经济损失"),
            fmt_thousands(totals[n_s + c], 0),
        ));
        if total_value > 0.0 {
            out.headline.push((
                "loss ratio 损失率".into(),
                format!("{:.2} %", totals[n_s + c] / total_value * 100.0),
            ));
        }
    }
    out.headline.push((
        "max intensity 最大烈度 (GB/T 17742)".into(),
        format!("{max_intensity:.1}"),
    ));

    let mut s = Section::new("地震情景 Earthquake scenario");
    s.list(&[
        format!(
            "Rupture: {} — M{}, rake {}°, hypocentre {:.3}, {:.3}, {:.1} km",
            rupture_path.display(),
            rupture.mag,
            rupture.rake,
            rupture.hypocenter.lon,
            rupture.hypocenter.lat,
            rupture.hypocenter.depth
        ),
        format!(
            "GMPE {}; sites: the exposure's {} distinct locations with Vs30 {} m/s ({}), Z1.0 {}, Z2.5 {}",
            gmpe.name(),
            n_sites,
            q.vs30,
            if q.vs30_measured { "measured" } else { "inferred" },
            q.z1pt0_m.map_or("model mean".into(), |z| format!("{z} m")),
            q.z2pt5_km.map_or("–".into(), |z| format!("{z} km"))
        ),
        format!(
            "{} fields, seed {}, truncation {}, correlation {}, maximum distance {}",
            res.n_events,
            q.seed,
            q.truncation_level.map_or("none".into(), |t| format!("{t} σ")),
            match correlation {
                Correlation::None => "none".to_string(),
                Correlation::JayaramBaker2009 { vs30_clustering } => format!(
                    "Jayaram & Baker (2009){}",
                    if vs30_clustering { ", Vs30 clustering" } else { "" }
                ),
            },
            q.maximum_distance_km.map_or("none".into(), |d| format!("{d} km"))
        ),
        format!(
            "Exposure {}: {} assets, {} buildings, taxonomies {}; fragility {} ({} limit states: {})",
            exposure_path.display(),
            n_assets,
            fmt_thousands(buildings, 0),
            exposure.taxonomies.join(", "),
            fragility_path.display(),
            n_ls,
            res.limit_states.join(", ")
        ),
        format!(
            "{} assets lie beyond the maximum distance: kept with no damage.",
            res.unshaken_assets
        ),
        format!("Computed in {elapsed:.1} s."),
    ]);
    let site_marks: Vec<Mark> = (0..n_sites)
        .map(|s| Mark::Point {
            lon: res.site_lon[s],
            lat: res.site_lat[s],
            grade: site_intensity[s].map_or(0, |i| intensity_grade(i, &coeffs)),
        })
        .collect();
    s.html(grade_map(
        &MapSpec {
            marks: &site_marks,
            lines: &trace,
            outlines: &[],
            caption: "Median GB/T 17742-2020 instrumental intensity at the sites, five bands: ≥ IX, VIII, VII, VI, ≤ V (grade 1 … 5); black: rupture planes",
            radius: 2.0,
            labels: None,
        },
        900.0,
    ));
    let mut irows = Vec::new();
    for (deg, n) in intensity_counts.iter().rev() {
        irows.push(vec![format!("{} ({deg})", roman(*deg)), n.to_string()]);
    }
    s.html(table(&["intensity 烈度", "sites"], &irows));
    out.sections.push(s);

    let mut s = Section::new("破坏与损失 Damage and loss");
    let mut trows = Vec::new();
    for (i, name) in state_names.iter().enumerate() {
        trows.push(vec![
            name.clone(),
            fmt_thousands(totals[i], 0),
            format!("{:.2} %", totals[i] / buildings * 100.0),
        ]);
    }
    for (c, name) in csq_names.iter().enumerate() {
        trows.push(vec![
            format!("{loss_type} {name}"),
            fmt_thousands(totals[n_s + c], 0),
            String::new(),
        ]);
    }
    s.text("Mean over the fields of the buildings per damage state and of the consequences, all assets:");
    s.html(table(&["", "mean", "share of buildings"], &trows));
    s.text("Distribution over the fields (events) of the totals:");
    s.html(table(&["", "mean", "P5", "P50", "P95"], &dist_rows));
    let asset_marks: Vec<Mark> = (0..n_assets)
        .map(|a| Mark::Point {
            lon: exposure.assets[a].lon,
            lat: exposure.assets[a].lat,
            grade: zones.loss.as_ref().expect("given").grades[a],
        })
        .collect();
    s.html(grade_map(
        &MapSpec {
            marks: &asset_marks,
            lines: &trace,
            outlines: &[],
            caption: &format!(
                "Risk grade of each asset from its mean {loss_name}: {}",
                zones.loss.as_ref().expect("given").breaks.describe()
            ),
            radius: 1.6,
            labels: None,
        },
        900.0,
    ));
    s.text(&format!(
        "Asset grades — hazard (median {}): {}; vulnerability ({}): {}; exposure (buildings): {}.",
        res.imt_names[damage_col],
        zones.hazard.breaks.describe(),
        if losses_col.is_some() {
            "mean loss ratio"
        } else {
            "mean damage ratio"
        },
        zones.vulnerability.as_ref().expect("given").breaks.describe(),
        zones.exposure.as_ref().expect("given").breaks.describe()
    ));
    out.sections.push(s);
    out.sections.extend(rollup_sections);

    out.summary.insert(
        "quake".into(),
        serde_json::json!({
            "rupture": rupture_path.display().to_string(),
            "magnitude": rupture.mag,
            "gmpe": gmpe.name(),
            "fields": res.n_events,
            "seed": q.seed,
            "truncation_level": q.truncation_level,
            "sites": n_sites,
            "assets": n_assets,
            "unshaken_assets": res.unshaken_assets,
            "buildings": buildings,
            "exposed_value": total_value,
            "mean_totals": state_names.iter().cloned().chain(csq_names.iter().map(|c| format!("{loss_type}_{c}")))
                .zip(totals.iter()).map(|(k, v)| (k, serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            "event_distribution": dist_json,
            "max_intensity": max_intensity,
            "sites_by_intensity": intensity_counts.iter().map(|(k, v)| (roman(*k).to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            "rollup": rollup_json,
            "seconds": elapsed,
        }),
    );
    let loss_line = losses_col.map_or(String::new(), |c| {
        format!(", mean {loss_type} loss {}", fmt_thousands(totals[n_s + c], 0))
    });
    Ok(format!(
        "earthquake: {} assets ({} buildings) at {} sites, {} fields: mean {} buildings '{}'{}",
        n_assets,
        fmt_thousands(buildings, 0),
        n_sites,
        res.n_events,
        fmt_thousands(complete, 0),
        res.limit_states.last().cloned().unwrap_or_default(),
        loss_line
    ))
}

/// Map band of an intensity: ≥ IX → 1, VIII → 2, VII → 3, VI → 4, ≤ V → 5.
fn intensity_grade(i: f64, c: &IntensityCoefficients) -> u8 {
    match renxing_risk::gmpe::intensity::intensity_degree(i, c) {
        d if d >= 9 => 1,
        8 => 2,
        7 => 3,
        6 => 4,
        _ => 5,
    }
}
