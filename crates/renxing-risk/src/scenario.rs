//! Native scenario damage: rupture → ground-motion fields (our own GMPEs) → damage states and
//! consequences per asset → roll-ups by exposure tags (e.g. four admin levels).
//!
//! This is the calculator behind `renxing risk` for earthquakes. It chains the pieces OpenQuake
//! users run as two jobs (a `scenario` hazard job, then `scenario_damage`) into one pass:
//!
//! 1. **Sites** are the distinct asset locations of the exposure, in order of first appearance
//!    (OpenQuake builds its site mesh from the exposure the same way). Every site gets the same
//!    reference site parameters ([`SiteParams`]).
//! 2. **Fields**: for the intensity measures the fragility functions name (plus any extra ones
//!    asked for, e.g. PGA and PGV for GB/T 17742 intensity), the median field of the rupture and
//!    `n_events` sampled fields ([`crate::gmpe::field`]). A truncation level of 0 gives one event
//!    equal to the median field. Sites with Rrup beyond the maximum distance are **unshaken**:
//!    their assets stay in the results with no damage (OpenQuake drops them; a planner's roll-up
//!    must still count their buildings), and their number is reported.
//! 3. **Damage**: the event-parallel calculator of [`crate::calc`] — damage-state fractions of each
//!    building from its fragility function, times the number of buildings, consequences from the
//!    consequence ratios per damage state — summed per asset and per event. Mean per asset =
//!    sum / events.
//! 4. **Roll-ups**: per value of one exposure tag (e.g. `NAME_1`), the sums of the assets' means
//!    (buildings, occupants, exposed value and every damage state and consequence), so that the
//!    buildings of all states of a unit add up to the unit's buildings.
//!
//! The damage calculator is the one validated on OpenQuake's QA cases (`tests/oq_validation.rs`);
//! with truncation 0 both engines see the median field, which `scripts/compare_oq_native.sh`
//! and the CLI test `crates/renxing-cli/tests/risk_cli.rs` check against OpenQuake end to end.

use std::collections::HashMap;

use crate::calc::{CalcError, DamageJob, resolve_functions, run_damage};
use crate::consequence::{ConsequenceKind, ConsequenceModel};
use crate::exposure::Exposure;
use crate::fragility::FragilityModel;
use crate::gmf::GroundMotionFields;
use crate::gmpe::field::{FieldSettings, MedianField, sample_fields};
use crate::gmpe::rupture::Rupture;
use crate::gmpe::{Gmpe, Imt, SiteContext};

/// Site parameters given to every site (OpenQuake's `reference_*` job keys).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiteParams {
    /// Vs30, m/s.
    pub vs30: f64,
    /// Whether Vs30 is measured (true) or inferred.
    pub vs30_measured: bool,
    /// Depth to Vs = 1.0 km/s, m (`None`: the GMPE's own Vs30-based mean).
    pub z1pt0: Option<f64>,
    /// Depth to Vs = 2.5 km/s, km.
    pub z2pt5: Option<f64>,
}

/// What a native scenario damage run needs.
pub struct ScenarioSpec<'a> {
    pub rupture: &'a Rupture,
    pub gmpe: &'a dyn Gmpe,
    pub site_params: SiteParams,
    pub fields: FieldSettings,
    pub exposure: &'a Exposure,
    pub fragility: &'a FragilityModel,
    /// Loss type the fragility model stands for (its `lossCategory`, usually `structural`).
    pub loss_type: String,
    pub consequences: &'a ConsequenceModel,
    /// Occupancy period for injuries/fatalities (`None`: mean over the periods).
    pub time_event: Option<String>,
    /// Intensity measures to compute besides the fragility functions' own (reported per site).
    pub extra_imts: Vec<Imt>,
}

/// Result of a native scenario damage run.
#[derive(Debug, Clone)]
pub struct ScenarioDamage {
    /// Site coordinates (distinct asset locations).
    pub site_lon: Vec<f64>,
    pub site_lat: Vec<f64>,
    /// Intensity measure names, as the fragility functions spell them, then the extra ones.
    pub imt_names: Vec<String>,
    /// Median field: per IMT and site the GMPE output (`None` = beyond the maximum distance).
    pub median: MedianField,
    /// Site of every exposure asset.
    pub site_of_asset: Vec<usize>,
    pub limit_states: Vec<String>,
    pub consequences: Vec<ConsequenceKind>,
    /// Per exposure asset, `n_states + consequences` numbers: mean buildings per damage state
    /// (no damage first), then the mean of each consequence.
    pub asset_mean: Vec<f64>,
    /// Per event, `limit states + consequences` totals over all assets.
    pub event_totals: Vec<f64>,
    pub n_events: usize,
    /// Assets whose site lies beyond the maximum distance (no damage).
    pub unshaken_assets: usize,
}

/// Sums over the assets of one tag value.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRow {
    /// The tag value (e.g. the district name).
    pub key: String,
    /// The values of the coarser tags the key lies in (e.g. zone and region of a district), when
    /// every asset of the key agrees on them.
    pub parents: Vec<String>,
    pub assets: usize,
    pub buildings: f64,
    /// Occupants at `time_event` (mean over periods without one); NaN when the exposure has none.
    pub occupants: f64,
    /// Exposed value of the loss type's cost (0 when the exposure has no such cost).
    pub value: f64,
    /// Mean buildings per damage state, no damage first.
    pub states: Vec<f64>,
    /// Mean of each consequence.
    pub consequences: Vec<f64>,
    /// Largest median of the first IMT over the unit's sites.
    pub max_median: f64,
}

impl ScenarioDamage {
    /// Number of damage states (limit states + no damage).
    pub fn n_states(&self) -> usize {
        self.limit_states.len() + 1
    }

    /// Width of a per-asset row of [`ScenarioDamage::asset_mean`].
    pub fn asset_width(&self) -> usize {
        self.n_states() + self.consequences.len()
    }

    /// Mean buildings per damage state and consequences of asset `a`.
    pub fn asset_row(&self, a: usize) -> &[f64] {
        let w = self.asset_width();
        &self.asset_mean[a * w..(a + 1) * w]
    }

    /// Median of IMT `m` at site `s` (0 for an unshaken site), in the IMT's unit.
    pub fn site_median(&self, s: usize, m: usize) -> f64 {
        self.median.median(s, m)
    }

    /// Roll-up by the exposure tag `tag` (position in `exposure.tag_names`); rows sorted by key.
    /// `parent_tags` are coarser tags to report beside each key.
    pub fn rollup(
        &self,
        exposure: &Exposure,
        tag: usize,
        parent_tags: &[usize],
        time_event: Option<&str>,
        loss_type: &str,
    ) -> Vec<RollupRow> {
        let n_s = self.n_states();
        let c_n = self.consequences.len();
        let cost = exposure.cost_index(loss_type);
        let mut rows: Vec<RollupRow> = Vec::new();
        let mut index: HashMap<u32, usize> = HashMap::new();
        for (a, asset) in exposure.assets.iter().enumerate() {
            let v = asset.tags[tag];
            let i = *index.entry(v).or_insert_with(|| {
                rows.push(RollupRow {
                    key: exposure.tag_values[tag][v as usize].clone(),
                    parents: parent_tags
                        .iter()
                        .map(|&p| exposure.tag_values[p][asset.tags[p] as usize].clone())
                        .collect(),
                    assets: 0,
                    buildings: 0.0,
                    occupants: 0.0,
                    value: 0.0,
                    states: vec![0.0; n_s],
                    consequences: vec![0.0; c_n],
                    max_median: 0.0,
                });
                rows.len() - 1
            });
            let r = &mut rows[i];
            for (k, &p) in parent_tags.iter().enumerate() {
                if r.parents[k] != exposure.tag_values[p][asset.tags[p] as usize] {
                    r.parents[k] = String::new();
                }
            }
            r.assets += 1;
            r.buildings += asset.number;
            r.occupants += exposure.occupants(asset, time_event);
            r.value += cost.map_or(0.0, |c| asset.values[c]);
            let row = self.asset_row(a);
            for (s, x) in r.states.iter_mut().zip(&row[..n_s]) {
                *s += x;
            }
            for (c, x) in r.consequences.iter_mut().zip(&row[n_s..]) {
                *c += x;
            }
            if !self.imt_names.is_empty() {
                r.max_median = r.max_median.max(self.site_median(self.site_of_asset[a], 0));
            }
        }
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        rows
    }
}

/// Runs the scenario: sites, fields, damage. `progress` is called with events finished.
pub fn run_scenario_damage(
    spec: &ScenarioSpec<'_>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ScenarioDamage, CalcError> {
    let ex = spec.exposure;
    if ex.assets.is_empty() {
        return Err(CalcError(format!("{}: the exposure has no asset", ex.path.display())));
    }
    // Sites: distinct asset locations, first appearance order.
    let mut site_index: HashMap<(u64, u64), usize> = HashMap::new();
    let mut site_lon = Vec::new();
    let mut site_lat = Vec::new();
    let mut site_of_asset = Vec::with_capacity(ex.assets.len());
    for a in &ex.assets {
        let s = *site_index.entry((a.lon.to_bits(), a.lat.to_bits())).or_insert_with(|| {
            site_lon.push(a.lon);
            site_lat.push(a.lat);
            site_lon.len() - 1
        });
        site_of_asset.push(s);
    }
    let p = spec.site_params;
    let sites: Vec<SiteContext> = site_lon
        .iter()
        .zip(&site_lat)
        .map(|(&lon, &lat)| SiteContext {
            lon,
            lat,
            vs30: p.vs30,
            vs30_measured: p.vs30_measured,
            z1pt0: p.z1pt0,
            z2pt5: p.z2pt5,
        })
        .collect();

    // IMTs: the fragility functions' own names, then the extra ones not already there.
    let fr = spec.fragility;
    let mut imt_names: Vec<String> = Vec::new();
    let mut imts: Vec<Imt> = Vec::new();
    for tax in &ex.taxonomies {
        let f = fr.functions.get(tax).ok_or_else(|| {
            CalcError(format!(
                "{}: no fragility function for taxonomy '{tax}' of the exposure",
                fr.path.display()
            ))
        })?;
        if !imt_names.contains(&f.imt) {
            let imt = Imt::parse(&f.imt)
                .map_err(|e| CalcError(format!("{}: function '{}': {e}", fr.path.display(), f.id)))?;
            imt_names.push(f.imt.clone());
            imts.push(imt);
        }
    }
    for &m in &spec.extra_imts {
        if !imts.contains(&m) {
            imts.push(m);
            imt_names.push(imt_name(m));
        }
    }
    for &m in &imts {
        if !spec.gmpe.imts().contains(&m) {
            return Err(CalcError(format!(
                "{} has no coefficients for {}",
                spec.gmpe.name(),
                imt_name(m)
            )));
        }
    }

    let mut settings = spec.fields;
    if settings.truncation_level == Some(0.0) {
        settings.n_events = 1;
    }
    if settings.n_events == 0 {
        return Err(CalcError(
            "the number of ground-motion fields must be at least 1".into(),
        ));
    }
    let fields =
        sample_fields(spec.rupture, &sites, spec.gmpe, &imts, &settings).map_err(|e| CalcError(e.to_string()))?;

    // Into the damage calculator's layout: (site · events + event) · imts + imt, f32 as OpenQuake.
    let n_sites = sites.len();
    let n_events = settings.n_events;
    let n_imts = imts.len();
    let mut values = vec![0.0f32; n_sites * n_events * n_imts];
    for e in 0..n_events {
        let ev = fields.event(e);
        for s in 0..n_sites {
            for m in 0..n_imts {
                values[(s * n_events + e) * n_imts + m] = ev[s * n_imts + m] as f32;
            }
        }
    }
    let gmfs = GroundMotionFields {
        imts: imt_names.clone(),
        event_ids: (0..n_events as u32).collect(),
        n_sites,
        values,
    };
    let shaken = |s: usize| fields.median.outputs[s].is_some();
    let unshaken_assets = site_of_asset.iter().filter(|&&s| !shaken(s)).count();

    // Kept assets ordered by site, as the calculator groups them.
    let mut kept: Vec<usize> = (0..ex.assets.len()).collect();
    kept.sort_by_key(|&a| (site_of_asset[a], a));
    let site_of: Vec<usize> = kept.iter().map(|&a| site_of_asset[a]).collect();
    let model = resolve_functions(
        &spec.loss_type,
        "fragility",
        &fr.path,
        &fr.functions,
        |f| &f.imt,
        ex,
        &gmfs,
    )
    .map_err(|e| CalcError(e.to_string()))?;
    let job = DamageJob {
        exposure: ex,
        kept: &kept,
        site_of: &site_of,
        loss_types: vec![model],
        limit_states: fr.limit_states.len(),
        consequences: spec.consequences,
        time_event: spec.time_event.clone(),
        agg: None,
    };
    let sums = run_damage(&job, &gmfs, progress)?;
    let n_s = sums.n_states;
    let c_n = sums.consequences.len();
    let w = n_s + c_n;
    let mut asset_mean = vec![0.0; ex.assets.len() * w];
    let inv = 1.0 / n_events as f64;
    for (k, &a) in kept.iter().enumerate() {
        let src = &sums.asset[k * w..(k + 1) * w];
        let dst = &mut asset_mean[a * w..(a + 1) * w];
        let damaged: f64 = src[1..n_s].iter().sum::<f64>() * inv;
        dst[0] = (ex.assets[a].number - damaged).max(0.0);
        for i in 1..w {
            dst[i] = src[i] * inv;
        }
    }
    Ok(ScenarioDamage {
        site_lon,
        site_lat,
        imt_names,
        median: fields.median,
        site_of_asset,
        limit_states: fr.limit_states.clone(),
        consequences: sums.consequences,
        asset_mean,
        event_totals: sums.event_total,
        n_events,
        unshaken_assets,
    })
}

/// The name OpenQuake gives an IMT: `PGA`, `PGV`, `SA(0.3)`.
pub fn imt_name(m: Imt) -> String {
    match m {
        Imt::Pga => "PGA".into(),
        Imt::Pgv => "PGV".into(),
        Imt::Sa(t) => format!("SA({t:?})"),
    }
}
