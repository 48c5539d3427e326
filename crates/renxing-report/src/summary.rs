//! `summary.json`: the headline numbers of a run, machine-readable.
//!
//! Keys (all distances in metres, areas in m², shares in 0–1, populations in people):
//!
//! | key | meaning |
//! |---|---|
//! | `renxing_version` | version of the tool that wrote it |
//! | `project`, `title` | the project file's name and title |
//! | `standard` | profile name and every value used: `{value, unit, source, confidence, overridden_from}` |
//! | `params` | the exam parameters actually applied (service distances, targets, `max_snap_m`) |
//! | `inputs` | each input layer and where it came from |
//! | `network` | the walking graph report: input counts, untagged edges (count, km, longest ids), classes excluded, components, nodes/links kept and dropped |
//! | `population` | `method`, `total`, `points`, `outside_units` (people), `points_outside_units`, `unallocated` |
//! | `shelters` | `count`, `with_area`, `not_snapped`, `outside_units` |
//! | `total` | all units together (same fields as a unit); people and shelters outside every unit are counted in `population.outside_units` and `shelters.outside_units` instead |
//! | `units` | one object per unit: `code`, `name`, `population`, `shelters`, `shelters_with_area`, `known_area_m2`, `capacity_status`, `per_capita_m2`, `per_capita_target_m2`, `meets_per_capita_target`, `population_within_emergency`, `share_within_emergency`, `population_within_fixed`, `share_within_fixed`, `population_within_fixed_max`, `share_within_fixed_max`, `population_beyond_any`, `share_beyond_any`, `mean_distance_m`, `max_distance_m`, `deficient`, `deficiencies`, `rank` |
//! | `deficient_ranking` | codes of the deficient units, most deficient first |
//! | `notes` | plain-language caveats (unknown capacities, dropped points…) |
//! | `timings_s` | seconds per phase |
//! | `siting` | with a `[siting]` section: the siting result (model, new sites, before/after coverage, gap; `docs/siting.md`) |

use std::collections::BTreeMap;

use renxing_exam::shelter_exam::{ExamParams, UnitResult};
use renxing_exam::standard::StandardValue;
use renxing_net::graph::GraphReport;
use serde::Serialize;

use crate::ReportInput;

#[derive(Debug, Clone, Serialize)]
pub struct StandardUsed {
    pub name: String,
    pub values: BTreeMap<String, StandardValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PopulationSummary {
    pub method: String,
    pub total: f64,
    pub points: usize,
    pub outside_units: f64,
    pub points_outside_units: usize,
    pub unallocated: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShelterSummary {
    pub count: usize,
    pub with_area: usize,
    pub not_snapped: usize,
    pub outside_units: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub renxing_version: String,
    pub project: String,
    pub title: String,
    pub standard: StandardUsed,
    pub params: ExamParams,
    pub inputs: BTreeMap<String, String>,
    pub network: GraphReport,
    pub population: PopulationSummary,
    pub shelters: ShelterSummary,
    pub total: UnitResult,
    pub units: Vec<UnitResult>,
    pub deficient_ranking: Vec<String>,
    pub notes: Vec<String>,
    pub timings_s: BTreeMap<String, f64>,
    /// Keys added by further analyses (e.g. `siting`, see `docs/siting.md`).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

pub fn summary(input: &ReportInput) -> Summary {
    let exam = input.exam;
    let used_keys = renxing_exam::shelter_exam::ExamParams::STANDARD_KEYS;
    Summary {
        renxing_version: env!("CARGO_PKG_VERSION").to_string(),
        project: input.project.to_string(),
        title: input.title.to_string(),
        standard: StandardUsed {
            name: input.standard.name.clone(),
            values: input
                .standard
                .values
                .iter()
                .filter(|(k, _)| used_keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        },
        params: exam.params.clone(),
        inputs: input.inputs.iter().cloned().collect(),
        network: input.graph.report.clone(),
        population: PopulationSummary {
            method: input.population.method.clone(),
            total: input.population.points.iter().map(|p| p.count).sum(),
            points: input.population.points.len(),
            outside_units: exam.population_outside_units,
            points_outside_units: exam.points_outside_units,
            unallocated: input.population.unallocated.clone(),
        },
        shelters: ShelterSummary {
            count: input.shelters.len(),
            with_area: input.shelters.iter().filter(|s| s.area_m2.is_some()).count(),
            not_snapped: exam.shelters_not_snapped,
            outside_units: exam.shelters_outside_units,
        },
        total: exam.total.clone(),
        units: exam.units.clone(),
        deficient_ranking: exam.ranking.iter().map(|&i| exam.units[i].code.clone()).collect(),
        notes: exam.notes.clone(),
        timings_s: input.timings.iter().cloned().collect(),
        extra: input.extra.summary.clone(),
    }
}
