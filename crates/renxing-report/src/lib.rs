//! # renxing-report — what a run leaves behind
//!
//! Three outputs of a shelter-exam run, all written by [`write_outputs`] into one folder:
//!
//! - `results.gpkg` — a GeoPackage with one layer per result ([`layers`]): admin units with their
//!   exam figures, shelters, population points with their nearest shelter, the walking network;
//! - `summary.json` — every headline number, machine-readable ([`summary`] documents the keys);
//! - `report.html` — one self-contained page (inline SVG, no network access needed) with a map
//!   coloured by coverage, a chart and the unit table ([`html`]).
//!
//! Other analyses (the risk reports of `renxing risk`) write the same three files with
//! [`write_output_dir`], building their page from the sections, tables and grade maps of [`page`].
//!
//! The folder appears only when everything is written: files go to a temporary sibling folder that
//! is renamed into place at the end, so a failed run leaves no partial output.

pub mod html;
pub mod layers;
pub mod page;
pub mod summary;

use std::path::{Path, PathBuf};

use renxing_exam::population::{PopulationSet, Unit};
use renxing_exam::shelter_exam::{ExamResult, Shelter};
use renxing_exam::standard::StandardProfile;
use renxing_net::graph::Graph;
use renxing_net::road::RoadData;

/// Everything a report is made from.
pub struct ReportInput<'a> {
    pub project: &'a str,
    pub title: &'a str,
    pub units: &'a [Unit],
    pub population: &'a PopulationSet,
    pub shelters: &'a [Shelter],
    pub exam: &'a ExamResult,
    pub graph: &'a Graph,
    /// The road data the graph was built from (for link attributes).
    pub road: &'a RoadData,
    pub standard: &'a StandardProfile,
    /// (layer, source description) for the inputs section.
    pub inputs: Vec<(String, String)>,
    /// Seconds spent per phase, for the record.
    pub timings: Vec<(String, f64)>,
    /// What further analyses of the run (e.g. `[siting]`) add to the three files.
    pub extra: Extra,
}

/// Results of further analyses of a run, written with the exam's so the folder stays all or
/// nothing: sections of `report.html` (after the unit table), layers of `results.gpkg`,
/// top-level keys of `summary.json`, and further files (names from [`OUTPUT_FILES`]).
#[derive(Default)]
pub struct Extra {
    pub sections: Vec<page::Section>,
    pub layers: Vec<renxing_io::gpkg::Layer>,
    pub summary: std::collections::BTreeMap<String, serde_json::Value>,
    pub files: Vec<(&'static str, Vec<u8>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Io(#[from] renxing_io::IoError),
    #[error("{path}: {source}")]
    Os { path: PathBuf, source: std::io::Error },
    #[error("cannot encode summary.json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{path}: {message}")]
    OutDir { path: PathBuf, message: String },
}

/// The files a run writes; an output folder holding anything else is refused.
/// `road_closures.csv` is written by flood runs with a road network (the closures file of
/// `renxing_risk::flood::closures`), `siting_assignment.csv` by project runs with `[siting]`.
pub const OUTPUT_FILES: [&str; 5] = [
    "results.gpkg",
    "summary.json",
    "report.html",
    "road_closures.csv",
    "siting_assignment.csv",
];

/// Names earlier versions wrote into the folder (a `siting/` folder before the siting results
/// joined the run's own files); replaced with the rest.
const EARLIER_OUTPUTS: [&str; 1] = ["siting"];

/// Refuse an output path that is a file, or a folder holding anything but the outputs of an
/// earlier run: outputs replace the whole folder, which would delete such files. Callers may run
/// this before any work; [`write_outputs`] runs it again.
pub fn check_out_dir(out: &Path) -> Result<(), ReportError> {
    let refuse = |message: String| {
        Err(ReportError::OutDir {
            path: out.to_path_buf(),
            message,
        })
    };
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return Ok(());
    };
    if !meta.is_dir() {
        return refuse(
            "exists and is not a folder; give a new folder (or one of an earlier run) for the outputs".into(),
        );
    }
    for e in std::fs::read_dir(out).map_err(os(out))? {
        let name = e.map_err(os(out))?.file_name();
        if !OUTPUT_FILES.iter().chain(&EARLIER_OUTPUTS).any(|f| name == *f) {
            return refuse(format!(
                "the output folder holds '{}', which is not an output of renxing; the folder is replaced as a \
                 whole, so give a new folder (or one of an earlier run)",
                name.to_string_lossy()
            ));
        }
    }
    Ok(())
}

fn os(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Os {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `results.gpkg`, `summary.json` and `report.html` into `dir`, atomically.
pub fn write_outputs(dir: &Path, input: &ReportInput) -> Result<(), ReportError> {
    check_out_dir(dir)?;
    let summary = summary::summary(input);
    let json = serde_json::to_string_pretty(&summary)?;
    let mut all_layers = layers::result_layers(input);
    all_layers.extend(input.extra.layers.iter().cloned());
    let files: Vec<(&str, Vec<u8>)> = input.extra.files.iter().map(|(n, b)| (*n, b.clone())).collect();
    write_output_dir(dir, &all_layers, &json, &html::report_html(input, &summary), &files)
}

/// Write the three output files of any analysis — `results.gpkg` with `layers`, `summary.json`
/// and `report.html` — into `dir`, atomically: everything goes to a temporary folder beside it,
/// which replaces `dir` only when complete (see [`check_out_dir`] for what `dir` may hold).
/// `extra` are further files (name, content), e.g. `road_closures.csv`; their names must be in
/// [`OUTPUT_FILES`].
pub fn write_output_dir(
    dir: &Path,
    layers: &[renxing_io::gpkg::Layer],
    summary_json: &str,
    report_html: &str,
    extra: &[(&str, Vec<u8>)],
) -> Result<(), ReportError> {
    check_out_dir(dir)?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(os(&parent))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(os(&tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(os(&tmp))?;
        renxing_io::gpkg::write_geopackage(&tmp.join("results.gpkg"), layers)?;
        std::fs::write(tmp.join("summary.json"), summary_json).map_err(os(&tmp))?;
        std::fs::write(tmp.join("report.html"), report_html).map_err(os(&tmp))?;
        for (name, bytes) in extra {
            debug_assert!(OUTPUT_FILES.contains(name), "{name} is not an output file name");
            std::fs::write(tmp.join(name), bytes).map_err(os(&tmp))?;
        }
        replace_dir(&tmp, dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// Move `tmp` into place at `dir`, replacing an earlier output folder only once `tmp` is complete.
fn replace_dir(tmp: &Path, dir: &Path) -> Result<(), ReportError> {
    if dir.exists() {
        let old = tmp.with_extension("old");
        std::fs::rename(dir, &old).map_err(os(dir))?;
        std::fs::rename(tmp, dir).map_err(os(dir))?;
        std::fs::remove_dir_all(&old).map_err(os(&old))?;
    } else {
        std::fs::rename(tmp, dir).map_err(os(dir))?;
    }
    Ok(())
}
