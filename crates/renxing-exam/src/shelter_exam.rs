//! The shelter "physical exam" (避难场所体检): is the population of each admin unit covered by
//! emergency shelters, against the standard profile?
//!
//! For every population point the nearest shelter is found on the walking network
//! ([`renxing_net::access`]); the point's people then count as
//!
//! - **within the emergency-shelter service distance** (`shelter.emergency_service_distance_m`,
//!   500 m in `cn`), **within the fixed-shelter distance** (2 km) and its upper bound (3 km);
//! - **beyond any shelter** when the nearest one is farther than the upper bound or unreachable.
//!
//! Per unit the exam also adds up shelter supply: the number of shelters inside the unit and their
//! effective area where the data give it. **Where a capacity is unknown the exam says so**
//! (`capacity_status` = `unknown` / `partial`) and does not compute a per-capita area from a guess.
//! A unit is *deficient* when it misses a target: the coverage share
//! (`shelter.coverage_target_share`), or — only where all areas are known — the per-capita
//! effective area (`shelter.per_capita_target_m2`). Deficient units are ranked by the share of
//! their population outside the emergency service distance, then by the share beyond any shelter.
//! The study-area figures (`total`) add up the units; population points and shelters outside every
//! unit are counted apart (shelters outside still serve people inside as their nearest shelter).

use serde::Serialize;

use renxing_net::access::{Metric, NearestField};
use renxing_net::graph::Graph;
use renxing_net::snap::{Snap, SnapIndex};

use crate::population::{PopulationSet, Unit, UnitLocator};
use crate::standard::{StandardError, StandardProfile};

/// A shelter (or a candidate open space) with what is known of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shelter {
    pub id: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    /// Effective shelter area (m²), when the data give it.
    pub area_m2: Option<f64>,
    /// What kind of place it is (`shelter`, `park`, `square`…).
    pub kind: String,
}

/// Parameters of one exam run, read from the standard profile (after overrides).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExamParams {
    pub emergency_distance_m: f64,
    pub fixed_distance_m: f64,
    pub fixed_distance_max_m: f64,
    pub per_capita_target_m2: f64,
    pub coverage_target_share: f64,
    /// Shelters farther than this from any routable road are left out (reported); `None` = no limit.
    pub max_snap_m: Option<f64>,
}

const EMERGENCY: &str = "shelter.emergency_service_distance_m";
const FIXED: &str = "shelter.fixed_service_distance_m";
const FIXED_MAX: &str = "shelter.fixed_service_distance_max_m";
const PER_CAPITA: &str = "shelter.per_capita_target_m2";
const COVERAGE: &str = "shelter.coverage_target_share";

impl ExamParams {
    /// The standard-profile keys the exam reads (for reports of the values used).
    pub const STANDARD_KEYS: [&'static str; 5] = [EMERGENCY, FIXED, FIXED_MAX, PER_CAPITA, COVERAGE];

    /// Read the exam parameters from a profile and check that they make sense together
    /// (0 < emergency ≤ fixed ≤ fixed max distance, shares within 0–1, areas ≥ 0): an override
    /// such as a coverage share of 95 meant as a percentage is refused, not applied.
    pub fn from_standard(std: &StandardProfile, max_snap_m: Option<f64>) -> Result<ExamParams, StandardError> {
        let p = ExamParams {
            emergency_distance_m: std.get(EMERGENCY)?,
            fixed_distance_m: std.get(FIXED)?,
            fixed_distance_max_m: std.get(FIXED_MAX)?,
            per_capita_target_m2: std.get(PER_CAPITA)?,
            coverage_target_share: std.get(COVERAGE)?,
            max_snap_m,
        };
        let bad = |message: &str| {
            Err(StandardError::Inconsistent {
                profile: std.name.clone(),
                message: message.to_string(),
            })
        };
        let finite = [
            p.emergency_distance_m,
            p.fixed_distance_m,
            p.fixed_distance_max_m,
            p.per_capita_target_m2,
            p.coverage_target_share,
        ];
        if finite.iter().any(|v| !v.is_finite()) {
            return bad("every shelter value must be a finite number");
        }
        if !(0.0 < p.emergency_distance_m
            && p.emergency_distance_m <= p.fixed_distance_m
            && p.fixed_distance_m <= p.fixed_distance_max_m)
        {
            return bad("service distances must satisfy 0 < emergency ≤ fixed ≤ fixed max");
        }
        if !(0.0..=1.0).contains(&p.coverage_target_share) {
            return bad("shelter.coverage_target_share is a share between 0 and 1 (not a percentage)");
        }
        if p.per_capita_target_m2 < 0.0 {
            return bad("shelter.per_capita_target_m2 must not be negative");
        }
        if max_snap_m.is_some_and(|m| !(m.is_finite() && m >= 0.0)) {
            return bad("[exam] max_snap_m must be a non-negative number of metres");
        }
        Ok(p)
    }
}

/// Which distance band a walking distance falls in (bands nest: a point within the emergency
/// distance is also within the fixed distances).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Band {
    /// ≤ the emergency-shelter service distance.
    Emergency,
    /// ≤ the fixed-shelter distance.
    Fixed,
    /// ≤ the fixed-shelter upper distance.
    FixedMax,
    /// Farther, or no shelter reachable.
    Beyond,
}

impl ExamParams {
    /// The band of a walking distance (`None` = unreachable).
    pub fn band(&self, distance_m: Option<f64>) -> Band {
        match distance_m {
            Some(d) if d <= self.emergency_distance_m => Band::Emergency,
            Some(d) if d <= self.fixed_distance_m => Band::Fixed,
            Some(d) if d <= self.fixed_distance_max_m => Band::FixedMax,
            _ => Band::Beyond,
        }
    }
}

/// Result for one population point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointResult {
    /// Index into the population points.
    pub point: usize,
    /// Index of the nearest shelter, `None` if unreachable.
    pub shelter: Option<usize>,
    pub distance_m: Option<f64>,
    pub time_s: Option<f64>,
    /// Straight-line distance from the point to the road it was attached to.
    pub snap_m: f64,
    pub band: Band,
}

/// Exam figures for one admin unit (or the whole study area).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitResult {
    pub code: String,
    pub name: String,
    pub population: f64,
    pub shelters: usize,
    pub shelters_with_area: usize,
    /// Sum of the known effective areas (m²).
    pub known_area_m2: f64,
    /// `known` (every shelter has an area), `partial`, `unknown` (none has), `none` (no shelter).
    pub capacity_status: String,
    /// Effective shelter area per person; only when `capacity_status` is `known` or `none`.
    pub per_capita_m2: Option<f64>,
    pub per_capita_target_m2: f64,
    pub meets_per_capita_target: Option<bool>,
    pub population_within_emergency: f64,
    pub share_within_emergency: Option<f64>,
    pub population_within_fixed: f64,
    pub share_within_fixed: Option<f64>,
    pub population_within_fixed_max: f64,
    pub share_within_fixed_max: Option<f64>,
    /// Population whose nearest shelter is beyond the fixed-shelter upper distance or unreachable.
    pub population_beyond_any: f64,
    pub share_beyond_any: Option<f64>,
    /// Population-weighted mean walking distance to the nearest shelter (reachable points only).
    pub mean_distance_m: Option<f64>,
    pub max_distance_m: Option<f64>,
    pub deficient: bool,
    /// Why the unit is deficient, in words.
    pub deficiencies: Vec<String>,
    /// 1 = most deficient; `None` for units that meet every target.
    pub rank: Option<usize>,
}

/// Per-shelter figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShelterResult {
    pub shelter: usize,
    pub unit: Option<usize>,
    /// Distance to the road it was attached to; `None` when too far and left out.
    pub snap_m: Option<f64>,
    /// People for whom this is the nearest shelter within the fixed-shelter upper distance.
    pub population_served: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExamResult {
    pub params: ExamParams,
    pub units: Vec<UnitResult>,
    /// All units together (points and shelters outside every unit are counted separately).
    pub total: UnitResult,
    pub points: Vec<PointResult>,
    pub shelters: Vec<ShelterResult>,
    /// Unit indices of deficient units, most deficient first.
    pub ranking: Vec<usize>,
    pub population_outside_units: f64,
    pub points_outside_units: usize,
    pub shelters_outside_units: usize,
    pub shelters_not_snapped: usize,
    pub notes: Vec<String>,
}

#[derive(Default)]
struct Acc {
    pop: f64,
    within_e: f64,
    within_f: f64,
    within_fmax: f64,
    beyond: f64,
    dist_sum: f64,
    dist_pop: f64,
    max_d: Option<f64>,
    shelters: usize,
    with_area: usize,
    area: f64,
}

/// Run the exam. `graph` is the walking graph; `access_speed_mps` converts snap stretches to time.
pub fn run_shelter_exam(
    graph: &Graph,
    access_speed_mps: f64,
    units: &[Unit],
    population: &PopulationSet,
    shelters: &[Shelter],
    params: &ExamParams,
) -> ExamResult {
    let index = SnapIndex::new(graph);
    let locator = UnitLocator::new(units);

    // Shelters: attach to the network, locate in units.
    let mut shelter_results = Vec::with_capacity(shelters.len());
    let mut dest_snaps: Vec<Option<Snap>> = Vec::with_capacity(shelters.len());
    for (i, s) in shelters.iter().enumerate() {
        let snap = index
            .snap(graph, s.lon, s.lat)
            .filter(|sn| params.max_snap_m.is_none_or(|m| sn.offset_m <= m));
        dest_snaps.push(snap);
        shelter_results.push(ShelterResult {
            shelter: i,
            unit: locator.locate(s.lon, s.lat),
            snap_m: snap.map(|s| s.offset_m),
            population_served: 0.0,
        });
    }
    let field = NearestField::compute(graph, &dest_snaps, Metric::Distance, None, access_speed_mps);

    let mut acc: Vec<Acc> = (0..units.len()).map(|_| Acc::default()).collect();
    let mut total = Acc::default();
    let mut points = Vec::with_capacity(population.points.len());
    let (mut outside_pop, mut outside_n) = (0.0, 0usize);
    let lonlat: Vec<(f64, f64)> = population.points.iter().map(|p| (p.lon, p.lat)).collect();
    let snaps = index.snap_all(graph, &lonlat);
    for (pi, (p, snap)) in population.points.iter().zip(snaps).enumerate() {
        let near = snap.and_then(|s| field.nearest(graph, &s));
        let band = params.band(near.map(|n| n.distance_m));
        points.push(PointResult {
            point: pi,
            shelter: near.map(|n| n.destination as usize),
            distance_m: near.map(|n| n.distance_m),
            time_s: near.map(|n| n.time_s),
            snap_m: snap.map_or(f64::NAN, |s| s.offset_m),
            band,
        });
        if let Some(n) = near
            && band <= Band::FixedMax
        {
            shelter_results[n.destination as usize].population_served += p.count;
        }
        let add = |a: &mut Acc| {
            a.pop += p.count;
            let c = p.count;
            a.within_e += if band <= Band::Emergency { c } else { 0.0 };
            a.within_f += if band <= Band::Fixed { c } else { 0.0 };
            a.within_fmax += if band <= Band::FixedMax { c } else { 0.0 };
            a.beyond += if band == Band::Beyond { c } else { 0.0 };
            if let Some(d) = near.map(|n| n.distance_m) {
                a.dist_sum += d * c;
                a.dist_pop += c;
                a.max_d = Some(a.max_d.map_or(d, |m: f64| m.max(d)));
            }
        };
        match p.unit {
            Some(u) if u < units.len() => {
                add(&mut acc[u]);
                add(&mut total);
            }
            _ => {
                outside_pop += p.count;
                outside_n += 1;
            }
        }
    }
    let mut shelters_outside = 0;
    for (s, r) in shelters.iter().zip(&shelter_results) {
        let add = |a: &mut Acc| {
            a.shelters += 1;
            if let Some(ar) = s.area_m2 {
                a.with_area += 1;
                a.area += ar;
            }
        };
        match r.unit {
            Some(u) => {
                add(&mut acc[u]);
                add(&mut total);
            }
            None => shelters_outside += 1,
        }
    }

    let mut unit_results: Vec<UnitResult> = units
        .iter()
        .zip(&acc)
        .map(|(u, a)| finish(&u.code, &u.name, a, params))
        .collect();
    let total_result = finish("total", "study area", &total, params);

    let mut ranking: Vec<usize> = (0..unit_results.len()).filter(|&i| unit_results[i].deficient).collect();
    ranking.sort_by(|&i, &j| {
        let (a, b) = (&unit_results[i], &unit_results[j]);
        let key = |r: &UnitResult| {
            (
                1.0 - r.share_within_emergency.unwrap_or(0.0),
                r.share_beyond_any.unwrap_or(1.0),
            )
        };
        let (ka, kb) = (key(a), key(b));
        kb.0.total_cmp(&ka.0)
            .then(kb.1.total_cmp(&ka.1))
            .then(a.code.cmp(&b.code))
    });
    for (r, &i) in ranking.iter().enumerate() {
        unit_results[i].rank = Some(r + 1);
    }

    let not_snapped = dest_snaps.iter().filter(|s| s.is_none()).count();
    let mut notes = Vec::new();
    if total.with_area < total.shelters {
        notes.push(format!(
            "{} of {} shelters have no effective area in the data: per-capita shelter area is reported only where every shelter's area is known",
            total.shelters - total.with_area,
            total.shelters
        ));
    }
    if not_snapped > 0 {
        notes.push(format!(
            "{not_snapped} shelters lie farther than {} m from any walkable road and were left out of the network analysis",
            params.max_snap_m.unwrap_or(f64::INFINITY)
        ));
    }
    if shelters_outside > 0 {
        notes.push(format!(
            "{shelters_outside} of {} shelters lie outside the admin units examined; they still count as the nearest shelter of people inside",
            shelters.len()
        ));
    }
    if outside_n > 0 {
        notes.push(format!(
            "{outside_n} population points ({outside_pop:.0} people) lie outside every admin unit"
        ));
    }
    for (code, people) in &population.unallocated {
        notes.push(format!(
            "unit {code}: {people:.0} people could not be placed (no road or building inside the unit)"
        ));
    }

    ExamResult {
        params: params.clone(),
        units: unit_results,
        total: total_result,
        points,
        shelters: shelter_results,
        ranking,
        population_outside_units: outside_pop,
        points_outside_units: outside_n,
        shelters_outside_units: shelters_outside,
        shelters_not_snapped: not_snapped,
        notes,
    }
}

fn finish(code: &str, name: &str, a: &Acc, p: &ExamParams) -> UnitResult {
    let share = |x: f64| (a.pop > 0.0).then(|| x / a.pop);
    let capacity_status = match (a.shelters, a.with_area) {
        (0, _) => "none",
        (n, k) if k == n => "known",
        (_, 0) => "unknown",
        _ => "partial",
    };
    let per_capita = (matches!(capacity_status, "known" | "none") && a.pop > 0.0).then(|| a.area / a.pop);
    let meets = per_capita.map(|v| v >= p.per_capita_target_m2);
    let share_e = share(a.within_e);
    let mut deficiencies = Vec::new();
    if let Some(s) = share_e
        && s < p.coverage_target_share
    {
        deficiencies.push(format!(
            "{:.1} % of the population lives beyond {} m of walking to a shelter",
            (1.0 - s) * 100.0,
            p.emergency_distance_m
        ));
    }
    if a.beyond > 0.0 {
        deficiencies.push(format!(
            "{:.0} people have no shelter within {} m",
            a.beyond, p.fixed_distance_max_m
        ));
    }
    if meets == Some(false) {
        deficiencies.push(format!(
            "{:.2} m² of shelter per person, below the target {} m²",
            per_capita.unwrap_or(0.0),
            p.per_capita_target_m2
        ));
    }
    UnitResult {
        code: code.to_string(),
        name: name.to_string(),
        population: a.pop,
        shelters: a.shelters,
        shelters_with_area: a.with_area,
        known_area_m2: a.area,
        capacity_status: capacity_status.to_string(),
        per_capita_m2: per_capita,
        per_capita_target_m2: p.per_capita_target_m2,
        meets_per_capita_target: meets,
        population_within_emergency: a.within_e,
        share_within_emergency: share_e,
        population_within_fixed: a.within_f,
        share_within_fixed: share(a.within_f),
        population_within_fixed_max: a.within_fmax,
        share_within_fixed_max: share(a.within_fmax),
        population_beyond_any: a.beyond,
        share_beyond_any: share(a.beyond),
        mean_distance_m: (a.dist_pop > 0.0).then(|| a.dist_sum / a.dist_pop),
        max_distance_m: a.max_d,
        deficient: !deficiencies.is_empty(),
        deficiencies,
        rank: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::PopulationPoint;
    use geo_types::{MultiPolygon, polygon};
    use renxing_net::profile::{Mode, Profile};
    use renxing_net::road::{Oneway, RoadData, RoadEdge, RoadNode};

    /// A straight east–west street of 11 nodes, 100 m apart, people at every node.
    fn street() -> (Graph, Vec<Unit>, PopulationSet) {
        let step = 100.0 / (111_195.08 * 39.9f64.to_radians().cos()); // ≈100 m of longitude
        let nodes: Vec<RoadNode> = (0..11)
            .map(|i| RoadNode {
                id: i,
                lon: 116.0 + i as f64 * step,
                lat: 39.9,
            })
            .collect();
        let edges = (0..10)
            .map(|i| RoadEdge {
                u: i,
                v: i + 1,
                length_m: 100.0,
                highway: "residential".into(),
                oneway: Oneway::No,
                access_walk: true,
                access_drive: true,
                name: String::new(),
                source_id: i.to_string(),
                shape: vec![],
            })
            .collect();
        let g = Graph::build(
            &RoadData {
                nodes: nodes.clone(),
                edges,
                source: "t".into(),
                turn_restrictions: Vec::new(),
            },
            &Profile::builtin(Mode::Walk),
        );
        let half = |code: &str, x0: f64, x1: f64| Unit {
            code: code.into(),
            name: code.into(),
            geometry: MultiPolygon(vec![
                polygon![(x: x0, y: 39.8), (x: x1, y: 39.8), (x: x1, y: 40.0), (x: x0, y: 40.0), (x: x0, y: 39.8)],
            ]),
        };
        // West unit holds nodes 0–5, east unit nodes 6–10.
        let mid = 116.0 + 5.5 * step;
        let units = vec![half("W", 115.9, mid), half("E", mid, 116.1)];
        let points = nodes
            .iter()
            .map(|n| PopulationPoint {
                id: n.id.to_string(),
                lon: n.lon,
                lat: n.lat,
                count: 10.0,
                unit: Some(if n.id <= 5 { 0 } else { 1 }),
            })
            .collect();
        (
            g,
            units,
            PopulationSet {
                points,
                method: "test".into(),
                unallocated: vec![],
            },
        )
    }

    fn params() -> ExamParams {
        ExamParams {
            emergency_distance_m: 500.0,
            fixed_distance_m: 700.0,
            fixed_distance_max_m: 900.0,
            per_capita_target_m2: 2.0,
            coverage_target_share: 1.0,
            max_snap_m: Some(1000.0),
        }
    }

    #[test]
    fn coverage_shares_and_ranking_follow_network_distance() {
        let (g, units, pop) = street();
        let s = |id: &str, i: usize, area: Option<f64>| Shelter {
            id: id.into(),
            name: id.into(),
            lon: g.lon[i],
            lat: g.lat[i],
            area_m2: area,
            kind: "shelter".into(),
        };
        let shelters = vec![s("a", 0, Some(150.0))];
        let r = run_shelter_exam(&g, 1.39, &units, &pop, &shelters, &params());
        // Distances 0,100,…,1000 m: nodes 0–5 within 500 m (60 people), 0–7 within 700 m,
        // 0–9 within 900 m; node 10 (1000 m) is beyond.
        let w = &r.units[0];
        assert_eq!(
            (w.population, w.population_within_emergency, w.share_within_emergency),
            (60.0, 60.0, Some(1.0))
        );
        assert_eq!(w.capacity_status, "known");
        assert_eq!(w.per_capita_m2, Some(2.5));
        assert!(!w.deficient);
        let e = &r.units[1];
        assert_eq!(
            (e.population, e.population_within_emergency, e.population_within_fixed),
            (50.0, 0.0, 20.0)
        );
        assert_eq!((e.population_within_fixed_max, e.population_beyond_any), (40.0, 10.0));
        assert_eq!(e.capacity_status, "none");
        assert_eq!(e.per_capita_m2, Some(0.0));
        assert_eq!(e.mean_distance_m, Some(800.0));
        assert!(e.deficient && e.rank == Some(1));
        assert_eq!(r.ranking, vec![1]);
        assert_eq!(r.total.population_within_emergency, 60.0);
        assert_eq!(r.shelters[0].population_served, 100.0);
        assert_eq!(r.shelters[0].unit, Some(0));
    }

    #[test]
    fn inconsistent_standard_values_are_refused() {
        use std::collections::BTreeMap;
        let std = StandardProfile::builtin("cn").unwrap();
        assert!(ExamParams::from_standard(&std, Some(1000.0)).is_ok());
        for (key, v) in [
            ("shelter.coverage_target_share", 95.0),
            ("shelter.emergency_service_distance_m", 2500.0),
            ("shelter.fixed_service_distance_max_m", 1000.0),
            ("shelter.per_capita_target_m2", -1.0),
        ] {
            let o = BTreeMap::from([(key.to_string(), v)]);
            let err = ExamParams::from_standard(&std.clone().with_overrides(&o).unwrap(), None).unwrap_err();
            assert!(err.to_string().contains("after overrides"), "{key}: {err}");
        }
        assert!(ExamParams::from_standard(&std, Some(-5.0)).is_err());
    }

    #[test]
    fn unknown_capacity_is_reported_not_guessed() {
        let (g, units, pop) = street();
        let shelters = vec![
            Shelter {
                id: "a".into(),
                name: "a".into(),
                lon: g.lon[1],
                lat: g.lat[1],
                area_m2: Some(50.0),
                kind: "park".into(),
            },
            Shelter {
                id: "b".into(),
                name: "b".into(),
                lon: g.lon[2],
                lat: g.lat[2],
                area_m2: None,
                kind: "shelter".into(),
            },
        ];
        let r = run_shelter_exam(&g, 1.39, &units, &pop, &shelters, &params());
        assert_eq!(r.units[0].capacity_status, "partial");
        assert_eq!(r.units[0].per_capita_m2, None);
        assert_eq!(r.units[0].meets_per_capita_target, None);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("1 of 2 shelters have no effective area"))
        );
    }
}
