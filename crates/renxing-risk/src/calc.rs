//! The damage and loss calculators: ground-motion fields × exposure × fragility / vulnerability
//! (+ consequences) → per-asset averages, per-event totals and per-tag aggregates.
//!
//! # Damage (`scenario_damage`, `event_based_damage`)
//! For every event `e` with ground motion `x` at the asset's site, the asset's damage-state
//! fractions `fᵢ(x)` come from its taxonomy's fragility function ([`crate::fragility`]); the
//! asset contributes `number × fᵢ` buildings to state `i` and the consequences of
//! [`crate::consequence`]. An event without ground motion at a site contributes nothing (all
//! buildings undamaged). Fractions are not sampled: OpenQuake's default
//! `discrete_damage_distribution = false`.
//!
//! # Losses (`scenario_risk`)
//! The loss of an asset in an event is `value × meanLR(x)` ([`crate::vulnerability`]), dropped
//! when not above `minimum_asset_loss`.
//!
//! # Sums
//! The calculators return **sums over events**; the exporters turn them into averages
//! ([`crate::oq::export`]): over the number of events for scenarios, or per risk investigation
//! time (`× risk_investigation_time / effective_time`) for event-based jobs.
//!
//! # Work and memory
//! Events are processed in parallel (rayon); each event owns its output row (totals and per-tag
//! rows), so memory is `events × (1 + tags) × loss types × outputs` numbers plus one per-asset
//! accumulator per thread — never events × assets × damage states.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use renxing_io::error::IoError;

use crate::consequence::{ConsequenceKind, ConsequenceModel};
use crate::exposure::Exposure;
use crate::fragility::FragilityFunction;
use crate::gmf::GroundMotionFields;
use crate::vulnerability::VulnerabilityFunction;

/// Assets at one site with one taxonomy: they share their damage fractions in every event.
#[derive(Debug, Clone)]
pub struct AssetGroup {
    pub site: usize,
    pub taxonomy: u32,
    /// Positions in the kept-asset list (see [`crate::assoc::Association::assets`]).
    pub members: Vec<usize>,
}

/// Groups kept assets (ordered by site) by (site, taxonomy).
pub fn group_assets(kept: &[usize], site_of: &[usize], exposure: &Exposure) -> Vec<AssetGroup> {
    let mut groups: Vec<AssetGroup> = Vec::new();
    let mut i = 0;
    while i < kept.len() {
        let site = site_of[i];
        let mut j = i;
        while j < kept.len() && site_of[j] == site {
            j += 1;
        }
        let mut by_tax: Vec<AssetGroup> = Vec::new();
        for (k, &a) in kept.iter().enumerate().take(j).skip(i) {
            let t = exposure.assets[a].taxonomy;
            match by_tax.iter_mut().find(|g| g.taxonomy == t) {
                Some(g) => g.members.push(k),
                None => by_tax.push(AssetGroup {
                    site,
                    taxonomy: t,
                    members: vec![k],
                }),
            }
        }
        groups.extend(by_tax);
        i = j;
    }
    groups
}

/// Per-taxonomy risk functions of one loss type, resolved to gmf columns.
#[derive(Debug, Clone)]
pub struct LossTypeModel<F> {
    pub loss_type: String,
    /// Indexed by taxonomy index of the exposure.
    pub functions: Vec<F>,
    /// Gmf column of each taxonomy's function.
    pub imt_col: Vec<usize>,
}

/// The function of each exposure taxonomy in one loss type's model, with its gmf column; errors
/// name the model file, the taxonomy and the missing function or intensity measure.
pub fn resolve_functions<'a, F>(
    loss_type: &str,
    kind: &str,
    path: &Path,
    functions: &'a HashMap<String, F>,
    imt_of: impl Fn(&F) -> &str,
    ex: &Exposure,
    gmfs: &GroundMotionFields,
) -> Result<LossTypeModel<&'a F>, IoError> {
    let mut out = LossTypeModel {
        loss_type: loss_type.to_string(),
        functions: Vec::with_capacity(ex.taxonomies.len()),
        imt_col: Vec::with_capacity(ex.taxonomies.len()),
    };
    for tax in &ex.taxonomies {
        let f = functions.get(tax).ok_or_else(|| {
            IoError::new(
                path,
                format!("no {kind} function for taxonomy '{tax}' of the exposure ({loss_type})"),
            )
        })?;
        let imt = imt_of(f);
        let col = gmfs.imt_index(imt).ok_or_else(|| {
            IoError::new(
                path,
                format!("taxonomy '{tax}' needs {imt} but the fields have {:?}", gmfs.imts),
            )
        })?;
        out.functions.push(f);
        out.imt_col.push(col);
    }
    Ok(out)
}

/// A consequence term of one asset: output column, multiplier and the ratios per limit state.
#[derive(Debug, Clone)]
struct CsqTerm {
    column: usize,
    ratios: Vec<f64>,
}

/// What a damage run needs besides the fields.
pub struct DamageJob<'a> {
    pub exposure: &'a Exposure,
    /// Kept assets (exposure indices) and their sites, ordered by site.
    pub kept: &'a [usize],
    pub site_of: &'a [usize],
    pub loss_types: Vec<LossTypeModel<&'a FragilityFunction>>,
    pub limit_states: usize,
    pub consequences: &'a ConsequenceModel,
    /// `time_event` of the job (`None` = mean over occupancy periods).
    pub time_event: Option<String>,
    /// Aggregation key of each kept asset (position in `kept`), and the number of keys.
    pub agg: Option<(Vec<u32>, usize)>,
}

/// Sums over events of a damage run.
#[derive(Debug, Clone)]
pub struct DamageSums {
    pub n_loss_types: usize,
    /// Damage states including no damage (`limit states + 1`).
    pub n_states: usize,
    pub consequences: Vec<ConsequenceKind>,
    /// Width of a per-event row per loss type: damaged states (`n_states − 1`) + consequences.
    pub width: usize,
    /// Per kept asset × loss type × (`n_states` + consequences): sums over events of buildings
    /// per damage state (state 0 included) and of consequences.
    pub asset: Vec<f64>,
    /// Per event × loss type × width: totals over all assets.
    pub event_total: Vec<f64>,
    /// Per event × key × loss type × width, when aggregating by tags.
    pub event_by_key: Option<Vec<f64>>,
    pub n_keys: usize,
}

/// Errors of the calculators (input combinations the files allow but the maths cannot use).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct CalcError(pub String);

/// Runs the damage calculation over all events. `progress` is called with the number of events
/// finished since the last call.
pub fn run_damage(
    job: &DamageJob<'_>,
    gmfs: &GroundMotionFields,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<DamageSums, CalcError> {
    let ex = job.exposure;
    let l_n = job.loss_types.len();
    let d_n = job.limit_states + 1;
    let kinds = job.consequences.kinds.clone();
    let c_n = kinds.len();
    let width = d_n - 1 + c_n;
    let per_asset = d_n + c_n;
    let groups = group_assets(job.kept, job.site_of, ex);

    // Consequence terms per taxonomy and loss type, and each kept asset's multipliers.
    let mut terms: Vec<Vec<Vec<CsqTerm>>> = vec![vec![Vec::new(); l_n]; ex.taxonomies.len()];
    for (t, tax) in ex.taxonomies.iter().enumerate() {
        if let Some(rows) = job.consequences.by_taxonomy.get(tax) {
            for row in rows {
                if row.peril != "groundshaking" {
                    return Err(CalcError(format!(
                        "consequence for {tax}/{}: peril '{}' is not supported (groundshaking only)",
                        row.kind.name(),
                        row.peril
                    )));
                }
                if let Some(l) = job.loss_types.iter().position(|m| m.loss_type == row.loss_type) {
                    let column = kinds.iter().position(|k| *k == row.kind).expect("kind listed");
                    terms[t][l].push(CsqTerm {
                        column,
                        ratios: row.ratios.clone(),
                    });
                }
            }
        }
    }
    let mut mult = vec![0.0f64; job.kept.len() * l_n * c_n];
    for (k, &a) in job.kept.iter().enumerate() {
        let asset = &ex.assets[a];
        for (l, lt) in job.loss_types.iter().enumerate() {
            for (c, kind) in kinds.iter().enumerate() {
                let v = match kind {
                    ConsequenceKind::Losses => match ex.cost_index(&lt.loss_type) {
                        Some(i) => asset.values[i],
                        None => {
                            return Err(CalcError(format!(
                                "consequence 'losses' for loss type {} needs that cost type in the exposure",
                                lt.loss_type
                            )));
                        }
                    },
                    ConsequenceKind::Collapsed | ConsequenceKind::NonOperational => asset.number,
                    ConsequenceKind::Injured | ConsequenceKind::Fatalities => {
                        let o = ex.occupants(asset, job.time_event.as_deref());
                        if o.is_nan() {
                            return Err(CalcError(format!(
                                "consequence '{}' needs occupants{} but asset {} has none",
                                kind.name(),
                                job.time_event
                                    .as_deref()
                                    .map(|t| format!(" at time_event={t}"))
                                    .unwrap_or_default(),
                                asset.id
                            )));
                        }
                        o
                    }
                    ConsequenceKind::Homeless => {
                        if asset.residents.is_nan() {
                            return Err(CalcError(format!(
                                "consequence 'homeless' needs residents but asset {} has none",
                                asset.id
                            )));
                        }
                        asset.residents
                    }
                };
                mult[(k * l_n + l) * c_n + c] = v;
            }
        }
    }
    let n_events = gmfs.n_events();
    let (keys, n_keys) = match &job.agg {
        Some((k, n)) => (Some(k.as_slice()), *n),
        None => (None, 0),
    };
    let row_len = l_n * width;
    let mut event_total = vec![0.0f64; n_events * row_len];
    let mut event_by_key = keys.map(|_| vec![0.0f64; n_events * n_keys * row_len]);
    let key_row = n_keys * row_len;

    let work = |e: usize, total: &mut [f64], by_key: Option<&mut [f64]>, acc: &mut Vec<f64>| {
        let mut by_key = by_key;
        let mut frac = vec![0.0f64; d_n];
        let mut counts = vec![0.0f64; d_n];
        let mut coef = vec![0.0f64; c_n];
        let mut csq = vec![0.0f64; c_n];
        for g in &groups {
            for (l, lt) in job.loss_types.iter().enumerate() {
                let t = g.taxonomy as usize;
                let x = gmfs.get(g.site, e, lt.imt_col[t]);
                if x.is_nan() || x <= 0.0 {
                    continue;
                }
                lt.functions[t].damage_fractions(x as f64, &mut frac);
                for &k in &g.members {
                    let number = ex.assets[job.kept[k]].number;
                    // OpenQuake holds buildings per state as 32-bit floats and derives the
                    // consequences from those; doing the same keeps the 6th digit identical.
                    for d in 0..d_n {
                        counts[d] = (number * frac[d]) as f32 as f64;
                    }
                    coef.iter_mut().for_each(|c| *c = 0.0);
                    for term in &terms[t][l] {
                        coef[term.column] += term.ratios.iter().zip(&counts[1..]).map(|(r, f)| r * f).sum::<f64>();
                    }
                    let m = &mult[(k * l_n + l) * c_n..(k * l_n + l + 1) * c_n];
                    for c in 0..c_n {
                        csq[c] = if number > 0.0 {
                            (m[c] / number * coef[c]) as f32 as f64
                        } else {
                            0.0
                        };
                    }
                    let a_base = (k * l_n + l) * per_asset;
                    for d in 0..d_n {
                        acc[a_base + d] += counts[d];
                    }
                    for c in 0..c_n {
                        acc[a_base + d_n + c] += csq[c];
                    }
                    let tb = l * width;
                    for d in 1..d_n {
                        total[tb + d - 1] += counts[d];
                    }
                    for c in 0..c_n {
                        total[tb + d_n - 1 + c] += csq[c];
                    }
                    if let (Some(keys), Some(bk)) = (keys, by_key.as_deref_mut()) {
                        let kb = keys[k] as usize * row_len + l * width;
                        for d in 1..d_n {
                            bk[kb + d - 1] += counts[d];
                        }
                        for c in 0..c_n {
                            bk[kb + d_n - 1 + c] += csq[c];
                        }
                    }
                }
            }
        }
    };

    let acc_len = job.kept.len() * l_n * per_asset;
    let asset = fold_events(
        &mut event_total,
        event_by_key.as_deref_mut(),
        row_len,
        key_row,
        acc_len,
        progress,
        work,
    );
    Ok(DamageSums {
        n_loss_types: l_n,
        n_states: d_n,
        consequences: kinds,
        width,
        asset,
        event_total,
        event_by_key,
        n_keys,
    })
}

/// Runs `work` for every event in parallel. Each event owns its row of `total` (`row` numbers)
/// and of `by_key` (`key_row` numbers); the per-asset accumulators (`acc_len` numbers) are
/// folded per thread and added up.
fn fold_events<W>(
    total: &mut [f64],
    by_key: Option<&mut [f64]>,
    row: usize,
    key_row: usize,
    acc_len: usize,
    progress: &(dyn Fn(u64) + Sync),
    work: W,
) -> Vec<f64>
where
    W: Fn(usize, &mut [f64], Option<&mut [f64]>, &mut Vec<f64>) + Sync,
{
    let step = |mut acc: Vec<f64>, e: usize, tot: &mut [f64], kr: Option<&mut [f64]>| {
        work(e, tot, kr, &mut acc);
        progress(1);
        acc
    };
    match by_key {
        Some(bk) => total
            .par_chunks_mut(row)
            .zip(bk.par_chunks_mut(key_row))
            .enumerate()
            .fold(
                || vec![0.0f64; acc_len],
                |acc, (e, (tot, kr))| step(acc, e, tot, Some(kr)),
            )
            .reduce(|| vec![0.0f64; acc_len], add_vecs),
        None => total
            .par_chunks_mut(row)
            .enumerate()
            .fold(|| vec![0.0f64; acc_len], |acc, (e, tot)| step(acc, e, tot, None))
            .reduce(|| vec![0.0f64; acc_len], add_vecs),
    }
}

fn add_vecs(mut a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    if a.is_empty() {
        return b;
    }
    for (x, y) in a.iter_mut().zip(&b) {
        *x += y;
    }
    a
}

/// What a loss run needs besides the fields.
pub struct LossJob<'a> {
    pub exposure: &'a Exposure,
    pub kept: &'a [usize],
    pub site_of: &'a [usize],
    pub loss_types: Vec<LossTypeModel<&'a VulnerabilityFunction>>,
    /// Value of each loss type per kept asset: `values[k * L + l]`.
    pub values: Vec<f64>,
    /// Per loss type; losses not above it are dropped.
    pub minimum_asset_loss: Vec<f64>,
    pub agg: Option<(Vec<u32>, usize)>,
    /// Sample loss ratios from the functions' distributions (`None`: mean loss ratios).
    pub sampling: Option<LossSampling>,
}

/// How loss ratios are sampled (see [`crate::vulnerability`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossSampling {
    /// Seed of the random numbers (OpenQuake's `master_seed`); one ChaCha20 stream per event, so
    /// results do not depend on the number of threads.
    pub seed: u64,
    /// One ε per event, taxonomy and loss type shared by the assets (OpenQuake's
    /// `asset_correlation = 1`, which draws one per call of a taxonomy's risk function) instead of
    /// one per asset and event. Applies to lognormal functions; beta draws are independent.
    pub correlated: bool,
}

/// Sums over events of a loss run.
#[derive(Debug, Clone)]
pub struct LossSums {
    pub n_loss_types: usize,
    /// Per kept asset × loss type: sum of losses over events.
    pub asset: Vec<f64>,
    /// Per kept asset × loss type: sum of squared losses (for the standard deviation).
    pub asset_sq: Vec<f64>,
    /// Per event × loss type.
    pub event_total: Vec<f64>,
    /// Per event × key × loss type.
    pub event_by_key: Option<Vec<f64>>,
    pub n_keys: usize,
}

/// Runs the loss calculation over all events.
pub fn run_losses(job: &LossJob<'_>, gmfs: &GroundMotionFields, progress: &(dyn Fn(u64) + Sync)) -> LossSums {
    let ex = job.exposure;
    let l_n = job.loss_types.len();
    let groups = group_assets(job.kept, job.site_of, ex);
    let n_events = gmfs.n_events();
    let (keys, n_keys) = match &job.agg {
        Some((k, n)) => (Some(k.as_slice()), *n),
        None => (None, 0),
    };
    let mut event_total = vec![0.0f64; n_events * l_n];
    let mut event_by_key = keys.map(|_| vec![0.0f64; n_events * n_keys * l_n]);
    let acc_len = job.kept.len() * l_n * 2;
    let work = |e: usize, total: &mut [f64], mut by_key: Option<&mut [f64]>, acc: &mut Vec<f64>| {
        let mut rng = job.sampling.map(|s| {
            let mut r = ChaCha20Rng::seed_from_u64(s.seed);
            r.set_stream(e as u64);
            r
        });
        // With asset correlation, one ε per event, taxonomy and loss type (OpenQuake draws one per
        // call of a risk function, i.e. per taxonomy and loss type), drawn first in a fixed order.
        let shared_eps: Option<Vec<f64>> = match (&mut rng, job.sampling) {
            (Some(r), Some(s)) if s.correlated => Some(
                (0..ex.taxonomies.len() * l_n)
                    .map(|_| StandardNormal.sample(&mut *r))
                    .collect(),
            ),
            _ => None,
        };
        for g in &groups {
            let t = g.taxonomy as usize;
            for (l, lt) in job.loss_types.iter().enumerate() {
                let x = gmfs.get(g.site, e, lt.imt_col[t]);
                if x.is_nan() {
                    continue;
                }
                let f = lt.functions[t];
                let mean = f.mean_loss_ratio(x as f64);
                if mean == 0.0 {
                    continue;
                }
                let cov = if rng.is_some() { f.cov(x as f64) } else { 0.0 };
                for &k in &g.members {
                    let ratio = match &mut rng {
                        Some(r) if cov > 0.0 => {
                            let eps = match &shared_eps {
                                Some(v) => v[t * l_n + l],
                                None => StandardNormal.sample(&mut *r),
                            };
                            f.sample_ratio(mean, cov, eps, r)
                        }
                        _ => mean,
                    };
                    let loss = job.values[k * l_n + l] * ratio;
                    if !(loss > job.minimum_asset_loss[l]) {
                        continue;
                    }
                    acc[(k * l_n + l) * 2] += loss;
                    acc[(k * l_n + l) * 2 + 1] += loss * loss;
                    total[l] += loss;
                    if let (Some(keys), Some(bk)) = (keys, by_key.as_deref_mut()) {
                        bk[keys[k] as usize * l_n + l] += loss;
                    }
                }
            }
        }
    };
    let acc = fold_events(
        &mut event_total,
        event_by_key.as_deref_mut(),
        l_n,
        n_keys * l_n,
        acc_len,
        progress,
        work,
    );
    let asset = acc.iter().step_by(2).copied().collect();
    let asset_sq = acc.iter().skip(1).step_by(2).copied().collect();
    LossSums {
        n_loss_types: l_n,
        asset,
        asset_sq,
        event_total,
        event_by_key,
        n_keys,
    }
}
