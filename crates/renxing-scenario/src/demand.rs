//! Demand per role, point and phase, from a scenario's demand rules.
//!
//! Demand points are the population points (residents) followed by the scenario's sites
//! (venues, scenic areas), whose crowds are not residents. Each rule adds to one role; its
//! amount at a phase time `t` counts only when `from ≤ t < until`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::role::Role;
use crate::scenario::{DemandModel, Epidemic, Scenario};

/// A place where demand arises.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandPoint {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
    /// Residents (0 for sites).
    pub residents: f64,
    /// Admin unit index, when inside one.
    pub unit: Option<usize>,
    /// Water depth at the point (m), when the scenario has a flood raster.
    pub depth_m: Option<f64>,
}

/// Demand of every role: `by_role[role][phase][point]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandTable {
    pub points: Vec<DemandPoint>,
    pub phases_h: Vec<f64>,
    pub by_role: BTreeMap<Role, Vec<Vec<f64>>>,
    /// The epidemic curve (day, S, E, I, R), daily, when the scenario has one.
    pub epidemic_curve: Vec<[f64; 5]>,
}

impl DemandTable {
    /// Total demand of a role at phase `p`.
    pub fn total(&self, role: Role, p: usize) -> f64 {
        self.by_role.get(&role).map_or(0.0, |v| v[p].iter().sum())
    }
}

/// Residents as demand points: (id, lon, lat, count, unit).
pub type Resident = (String, f64, f64, f64, Option<usize>);

/// Water depth (m) at a lon/lat point; 0 where dry.
pub type DepthAt<'a> = &'a (dyn Fn(f64, f64) -> f64 + Sync);

/// Compute the demand table. `locate` gives the admin unit of a site; `depth` samples the
/// scenario's flood raster when it has one.
pub fn demand(
    scenario: &Scenario,
    residents: &[Resident],
    locate: &dyn Fn(f64, f64) -> Option<usize>,
    depth: Option<DepthAt<'_>>,
) -> DemandTable {
    let mut points: Vec<DemandPoint> = residents
        .iter()
        .map(|(id, lon, lat, c, u)| DemandPoint {
            id: id.clone(),
            lon: *lon,
            lat: *lat,
            residents: *c,
            unit: *u,
            depth_m: depth.map(|g| g(*lon, *lat)),
        })
        .collect();
    let n_res = points.len();
    for (i, s) in scenario.sites.iter().enumerate() {
        points.push(DemandPoint {
            id: format!("site {}: {}", i + 1, s.name),
            lon: s.lon,
            lat: s.lat,
            residents: 0.0,
            unit: locate(s.lon, s.lat),
            depth_m: depth.map(|g| g(s.lon, s.lat)),
        });
    }
    let total_residents: f64 = points[..n_res].iter().map(|p| p.residents).sum();
    let last_h = scenario.phases_h.last().copied().unwrap_or(0.0);
    let curve = scenario
        .epidemic
        .as_ref()
        .map(|e| seir(e, total_residents, (last_h / 24.0).ceil() as usize + 1))
        .unwrap_or_default();
    let mut by_role: BTreeMap<Role, Vec<Vec<f64>>> = BTreeMap::new();
    for rule in &scenario.demands {
        let table = by_role
            .entry(rule.role)
            .or_insert_with(|| vec![vec![0.0; points.len()]; scenario.phases_h.len()]);
        for (p, &t) in scenario.phases_h.iter().enumerate() {
            if t < rule.from_h || rule.until_h.is_some_and(|u| t >= u) {
                continue;
            }
            let row = &mut table[p];
            match &rule.model {
                DemandModel::PopulationShare { share, .. } => {
                    for (i, pt) in points[..n_res].iter().enumerate() {
                        row[i] += pt.residents * share;
                    }
                }
                DemandModel::FloodDepth { threshold_m, share } => {
                    for (i, pt) in points[..n_res].iter().enumerate() {
                        if pt.depth_m.is_some_and(|d| d >= *threshold_m) {
                            row[i] += pt.residents * share;
                        }
                    }
                }
                DemandModel::Per10k { rate } => {
                    for (i, pt) in points[..n_res].iter().enumerate() {
                        row[i] += pt.residents * rate / 1e4;
                    }
                }
                DemandModel::Epidemic { care_share, stay_days } => {
                    let city = care_occupancy(&curve, scenario.epidemic.as_ref(), *care_share, *stay_days, t / 24.0);
                    if total_residents > 0.0 {
                        for (i, pt) in points[..n_res].iter().enumerate() {
                            row[i] += city * pt.residents / total_residents;
                        }
                    }
                }
                DemandModel::Venue { ticket_share } => {
                    for (k, s) in scenario.sites.iter().enumerate() {
                        if let Some(c) = s.capacity {
                            row[n_res + k] += (c * ticket_share).floor();
                        }
                    }
                }
                DemandModel::Visitors { m2_per_visitor } => {
                    for (k, s) in scenario.sites.iter().enumerate() {
                        if let Some(a) = s.area_m2 {
                            row[n_res + k] += (a / m2_per_visitor).floor();
                        }
                    }
                }
            }
        }
    }
    DemandTable {
        points,
        phases_h: scenario.phases_h.clone(),
        by_role,
        epidemic_curve: curve,
    }
}

/// Steps per day of the SEIR integration (classical Runge–Kutta).
const STEPS_PER_DAY: usize = 24;

/// SEIR in a closed population of `n`: dS = −β S I / N, dE = β S I / N − σ E,
/// dI = σ E − γ I, dR = γ I, with σ = 1/latent, γ = 1/infectious, β = R γ (R = r0, or r_after
/// from `measures_day` on). Returns (day, S, E, I, R) at whole days 0..days.
pub fn seir(e: &Epidemic, n: f64, days: usize) -> Vec<[f64; 5]> {
    let (sigma, gamma) = (1.0 / e.latent_days, 1.0 / e.infectious_days);
    let i0 = e.initial_infected.min(n);
    let mut y = [n - i0, 0.0, i0, 0.0];
    let mut out = vec![[0.0, y[0], y[1], y[2], y[3]]];
    let h = 1.0 / STEPS_PER_DAY as f64;
    let f = |t: f64, y: &[f64; 4]| -> [f64; 4] {
        let r = match (e.measures_day, e.r_after) {
            (Some(d), Some(ra)) if t >= d => ra,
            _ => e.r0,
        };
        let beta = r * gamma;
        let inf = if n > 0.0 { beta * y[0] * y[2] / n } else { 0.0 };
        [-inf, inf - sigma * y[1], sigma * y[1] - gamma * y[2], gamma * y[2]]
    };
    for d in 0..days.saturating_sub(1) {
        for s in 0..STEPS_PER_DAY {
            let t = d as f64 + s as f64 * h;
            let k1 = f(t, &y);
            let y2 = add(&y, &k1, h / 2.0);
            let k2 = f(t + h / 2.0, &y2);
            let y3 = add(&y, &k2, h / 2.0);
            let k3 = f(t + h / 2.0, &y3);
            let y4 = add(&y, &k3, h);
            let k4 = f(t + h, &y4);
            for i in 0..4 {
                y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
            }
        }
        out.push([(d + 1) as f64, y[0], y[1], y[2], y[3]]);
    }
    out
}

fn add(y: &[f64; 4], k: &[f64; 4], h: f64) -> [f64; 4] {
    [y[0] + h * k[0], y[1] + h * k[1], y[2] + h * k[2], y[3] + h * k[3]]
}

/// Occupancy at day `t` of a care compartment C: dC/dt = share · γ I − C / stay, C(0) = 0,
/// integrated with daily I linearly interpolated (people leaving infectiousness enter care).
fn care_occupancy(curve: &[[f64; 5]], e: Option<&Epidemic>, share: f64, stay: f64, t: f64) -> f64 {
    let Some(e) = e else { return 0.0 };
    if curve.is_empty() {
        return 0.0;
    }
    let gamma = 1.0 / e.infectious_days;
    let i_at = |x: f64| {
        let d = x.floor() as usize;
        if d + 1 >= curve.len() {
            return curve[curve.len() - 1][3];
        }
        let w = x - d as f64;
        curve[d][3] * (1.0 - w) + curve[d + 1][3] * w
    };
    let h = 1.0 / STEPS_PER_DAY as f64;
    let steps = (t / h).round() as usize;
    let mut c = 0.0;
    for s in 0..steps {
        let x = s as f64 * h;
        let g = |x: f64, c: f64| share * gamma * i_at(x) - c / stay;
        let k1 = g(x, c);
        let k2 = g(x + h / 2.0, c + h / 2.0 * k1);
        let k3 = g(x + h / 2.0, c + h / 2.0 * k2);
        let k4 = g(x + h, c + h * k3);
        c += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    c
}
