//! `renxing risk PROJECT.toml --out DIR`: earthquake scenario damage and flood damage with risk
//! zoning, from a risk project file (format in `docs/risk.md`; paths relative to the file).
//!
//! The project has a `[quake]` section, a `[flood]` section or both; each adds its layers to
//! `results.gpkg`, its figures to `summary.json` and its sections to `report.html`.

mod flood;
mod quake;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use renxing_exam::standard::StandardProfile;
use renxing_io::gpkg::{Layer, Value};
use renxing_report::page::{Page, Section};
use serde::Deserialize;

use crate::project::{StandardSection, resolve_against, toml_error};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskProject {
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub standard: StandardSection,
    pub quake: Option<quake::QuakeSection>,
    pub flood: Option<flood::FloodSection>,
    #[serde(skip)]
    pub base: PathBuf,
    #[serde(skip)]
    pub path: PathBuf,
}

impl RiskProject {
    pub fn load(path: &Path) -> Result<RiskProject> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("{}: cannot read project file", path.display()))?;
        let mut p: RiskProject = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
        p.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        p.path = path.to_path_buf();
        if p.quake.is_none() && p.flood.is_none() {
            bail!(
                "{}: a risk project needs a [quake] or a [flood] section",
                path.display()
            );
        }
        Ok(p)
    }

    /// A path of the project file resolved against its folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        resolve_against(&self.base, p)
    }

    /// `[section] key: message` as an error naming the project file.
    pub fn error(&self, section: &str, key: &str, message: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}: [{section}] {key}: {message}", self.path.display())
    }
}

/// What one analysis contributes to the outputs.
#[derive(Default)]
pub struct Outputs {
    pub layers: Vec<Layer>,
    pub summary: serde_json::Map<String, serde_json::Value>,
    pub headline: Vec<(String, String)>,
    pub sections: Vec<Section>,
    /// Further files of the output folder (name in `renxing_report::OUTPUT_FILES`, content).
    pub files: Vec<(&'static str, Vec<u8>)>,
}

/// What the command prints at the end.
pub struct RiskOutcome {
    pub lines: Vec<String>,
}

pub fn run_risk(project_path: &Path, out: &Path, quiet: bool) -> Result<RiskOutcome> {
    renxing_report::check_out_dir(out)?;
    let project = RiskProject::load(project_path)?;
    let standard = match StandardProfile::builtin(&project.standard.profile) {
        Some(s) => s,
        None => StandardProfile::load(&project.resolve(Path::new(&project.standard.profile)))?,
    }
    .with_overrides(&project.standard.overrides)
    .with_context(|| format!("{}: [standard] overrides", project_path.display()))?;
    let mut outputs = Outputs::default();
    let mut lines = Vec::new();
    let mut used_keys: Vec<String> = Vec::new();
    if let Some(q) = &project.quake {
        lines.push(quake::run(&project, q, &standard, quiet, &mut outputs, &mut used_keys)?);
    }
    if let Some(f) = &project.flood {
        lines.push(flood::run(&project, f, &standard, quiet, &mut outputs, &mut used_keys)?);
    }
    // The standard values used, with their sources.
    let mut std_rows = Vec::new();
    let mut std_json = serde_json::Map::new();
    used_keys.sort();
    used_keys.dedup();
    for k in &used_keys {
        if let Some(v) = standard.values.get(k) {
            std_rows.push(vec![
                k.clone(),
                format!("{}", v.value),
                v.unit.clone(),
                v.source.clone(),
                v.confidence.clone(),
            ]);
            std_json.insert(k.clone(), serde_json::json!(v.value));
        }
    }
    let mut s = Section::new("标准取值 Standard values used");
    s.text(&format!("Profile: {}", standard.name));
    s.html(renxing_report::page::table(
        &["key", "value", "unit", "source", "confidence"],
        &std_rows,
    ));
    outputs.sections.push(s);
    let mut summary = serde_json::Map::new();
    summary.insert("renxing_version".into(), env!("CARGO_PKG_VERSION").into());
    summary.insert("project".into(), project.name.clone().into());
    summary.insert("title".into(), project.title.clone().into());
    summary.insert(
        "standard".into(),
        serde_json::json!({"name": standard.name, "values": std_json}),
    );
    summary.extend(std::mem::take(&mut outputs.summary));
    let page = Page {
        title: if project.title.is_empty() {
            project.name.clone()
        } else {
            project.title.clone()
        },
        headline: outputs.headline,
        sections: outputs.sections,
    };
    let json = serde_json::to_string_pretty(&serde_json::Value::Object(summary))?;
    renxing_report::write_output_dir(out, &outputs.layers, &json, &page.to_html(), &outputs.files)?;
    Ok(RiskOutcome { lines })
}

/// A progress bar for `len` steps (hidden when quiet).
pub fn progress(len: u64, quiet: bool, msg: &str) -> Result<ProgressBar> {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(len)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .map_err(|e| anyhow!("{e}"))?
            .progress_chars("=> "),
    );
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Ok(bar)
}

/// A real value, NULL when not finite.
pub fn real(v: f64) -> Value {
    if v.is_finite() { Value::Real(v) } else { Value::Null }
}

/// Percentiles (nearest rank) of `values`, for the event-distribution tables.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// A standard value by key, recording that it was used.
pub fn standard_value(standard: &StandardProfile, key: &str, used: &mut Vec<String>) -> Result<f64> {
    used.push(key.to_string());
    Ok(standard.get(key)?)
}

/// A zoning scheme from its project-file name.
pub fn scheme(
    project: &RiskProject,
    section: &str,
    key: &str,
    name: &str,
    fixed: Option<([f64; 4], String)>,
) -> Result<renxing_risk::zoning::Scheme> {
    use renxing_risk::zoning::Scheme;
    match name {
        "natural_breaks" => Ok(Scheme::NaturalBreaks),
        "quantiles" => Ok(Scheme::Quantiles),
        "standard" => match fixed {
            Some((bounds, source)) => Ok(Scheme::Fixed { bounds, source }),
            None => Err(project.error(section, key, "this layer has no thresholds in the standard profile")),
        },
        other => Err(project.error(
            section,
            key,
            format!("'{other}' is not natural_breaks, quantiles or standard"),
        )),
    }
}
