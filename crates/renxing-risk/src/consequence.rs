//! Consequence models: what each damage state costs — repair cost, collapsed buildings, homeless
//! (displaced) residents, injured and dead occupants.
//!
//! # Formulas (OpenQuake 3.26 semantics)
//! With damage-state fractions `fᵢ` of an asset (state 0 = no damage) and the consequence ratios
//! `cᵢ` of its taxonomy for the limit states `i = 1…k`, the coefficient is `Σᵢ fᵢ·cᵢ` and the
//! consequence is
//! - `losses`: `value[loss_type] × Σ fᵢcᵢ` (repair cost; `cᵢ` is a loss ratio);
//! - `collapsed`, `non_operational`: `number × Σ fᵢcᵢ` (buildings);
//! - `injured`, `fatalities`: `occupants(t) × Σ fᵢcᵢ`, where `t` is the job's `time_event`
//!   (`day`, `night`, `transit`, …) or, when there is none, the mean of the asset's occupants over
//!   the exposure's occupancy periods;
//! - `homeless`: `residents × Σ fᵢcᵢ`.
//!
//! Occupants and residents are totals for the asset (not per building), values are the asset's
//! replacement costs after the exposure's cost conversions.
//!
//! # File format (CSV)
//! One row per taxonomy and consequence:
//! ```text
//! risk_id,consequence,loss_type,peril,slight,moderate,extensive,complete
//! RC,losses,structural,groundshaking,0.05,0.25,0.6,1.0
//! ```
//! `risk_id` may be called `taxonomy`; `loss_type` (default `structural`) and `peril` (default
//! `groundshaking`) are optional. The remaining columns are the limit states, named as in the
//! fragility model. Several files may be given; a (taxonomy, consequence, loss type, peril) seen
//! twice is an error naming both lines.

use std::collections::HashMap;
use std::path::PathBuf;

use renxing_io::error::IoError;

type Result<T> = std::result::Result<T, IoError>;

/// The kinds of consequence OpenQuake knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsequenceKind {
    Losses,
    Collapsed,
    NonOperational,
    Injured,
    Fatalities,
    Homeless,
}

impl ConsequenceKind {
    /// Parses the `consequence` column.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "losses" => Self::Losses,
            "collapsed" => Self::Collapsed,
            "non_operational" => Self::NonOperational,
            "injured" => Self::Injured,
            "fatalities" => Self::Fatalities,
            "homeless" => Self::Homeless,
            _ => return None,
        })
    }

    /// The name used in output columns.
    pub fn name(self) -> &'static str {
        match self {
            Self::Losses => "losses",
            Self::Collapsed => "collapsed",
            Self::NonOperational => "non_operational",
            Self::Injured => "injured",
            Self::Fatalities => "fatalities",
            Self::Homeless => "homeless",
        }
    }
}

/// Consequence ratios of one taxonomy for one consequence, loss type and peril.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsequenceRow {
    pub taxonomy: String,
    pub kind: ConsequenceKind,
    pub loss_type: String,
    pub peril: String,
    /// One ratio per limit state, in the order of the model's limit states.
    pub ratios: Vec<f64>,
}

/// All consequence rows of a job, keyed by taxonomy.
#[derive(Debug, Clone, Default)]
pub struct ConsequenceModel {
    pub paths: Vec<PathBuf>,
    /// Consequence kinds present, in first-seen order (the order of output columns).
    pub kinds: Vec<ConsequenceKind>,
    pub by_taxonomy: HashMap<String, Vec<ConsequenceRow>>,
}

impl ConsequenceModel {
    /// Reads consequence CSV files whose limit-state columns must be exactly `limit_states`.
    pub fn read(paths: &[PathBuf], limit_states: &[String]) -> Result<Self> {
        let mut model = ConsequenceModel::default();
        let mut seen: HashMap<(String, ConsequenceKind, String, String), (PathBuf, u64)> = HashMap::new();
        for path in paths {
            model.paths.push(path.clone());
            let mut rdr = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .comment(Some(b'#'))
                .from_path(path)
                .map_err(|e| IoError::new(path, e.to_string()))?;
            let headers = rdr
                .headers()
                .map_err(|e| IoError::at(path, "line 1", e.to_string()))?
                .clone();
            let col = |names: &[&str]| {
                headers
                    .iter()
                    .position(|h| names.contains(&h.trim_start_matches('\u{feff}')))
            };
            let c_tax = col(&["risk_id", "taxonomy"])
                .ok_or_else(|| IoError::at(path, "line 1", "no 'risk_id' (or 'taxonomy') column"))?;
            let c_kind = col(&["consequence"]).ok_or_else(|| IoError::at(path, "line 1", "no 'consequence' column"))?;
            let c_lt = col(&["loss_type"]);
            let c_peril = col(&["peril"]);
            let mut c_ls = Vec::with_capacity(limit_states.len());
            for ls in limit_states {
                c_ls.push(col(&[ls.as_str()]).ok_or_else(|| {
                    IoError::at(
                        path,
                        "line 1",
                        format!("no column for limit state '{ls}' (the fragility model has {limit_states:?})"),
                    )
                })?);
            }
            let known: Vec<usize> = [Some(c_tax), Some(c_kind), c_lt, c_peril]
                .into_iter()
                .flatten()
                .chain(c_ls.iter().copied())
                .collect();
            if let Some((i, h)) = headers.iter().enumerate().find(|(i, _)| !known.contains(i)) {
                return Err(IoError::at(
                    path,
                    "line 1",
                    format!(
                        "column {} '{h}' is neither a key nor a limit state of the fragility model {limit_states:?}",
                        i + 1
                    ),
                ));
            }
            for rec in rdr.records() {
                let rec = rec.map_err(|e| IoError::new(path, e.to_string()))?;
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                let pos = format!("line {line}");
                let taxonomy = rec[c_tax].to_string();
                let kind = ConsequenceKind::parse(&rec[c_kind]).ok_or_else(|| {
                    IoError::at(
                        path,
                        &pos,
                        format!(
                            "unknown consequence '{}' (losses, collapsed, non_operational, injured, fatalities, homeless)",
                            &rec[c_kind]
                        ),
                    )
                })?;
                let loss_type = c_lt.map(|c| rec[c].to_string()).unwrap_or_else(|| "structural".into());
                let peril = c_peril
                    .map(|c| rec[c].to_string())
                    .unwrap_or_else(|| "groundshaking".into());
                let mut ratios = Vec::with_capacity(c_ls.len());
                for (&c, ls) in c_ls.iter().zip(limit_states) {
                    let v: f64 = rec[c]
                        .parse()
                        .map_err(|_| IoError::at(path, &pos, format!("{ls}: '{}' is not a number", &rec[c])))?;
                    if !(v >= 0.0) || !v.is_finite() {
                        return Err(IoError::at(
                            path,
                            &pos,
                            format!("{ls}: ratio {v} must be finite and ≥ 0"),
                        ));
                    }
                    ratios.push(v);
                }
                let key = (taxonomy.clone(), kind, loss_type.clone(), peril.clone());
                if let Some((p0, l0)) = seen.get(&key) {
                    return Err(IoError::at(
                        path,
                        &pos,
                        format!(
                            "{taxonomy}/{}/{loss_type} already given in {}:{l0}",
                            kind.name(),
                            p0.display()
                        ),
                    ));
                }
                seen.insert(key, (path.clone(), line));
                if !model.kinds.contains(&kind) {
                    model.kinds.push(kind);
                }
                model
                    .by_taxonomy
                    .entry(taxonomy.clone())
                    .or_default()
                    .push(ConsequenceRow {
                        taxonomy,
                        kind,
                        loss_type,
                        peril,
                        ratios,
                    });
            }
        }
        Ok(model)
    }
}
