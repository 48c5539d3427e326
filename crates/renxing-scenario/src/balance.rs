//! Time-phased balance: per admin unit × role × phase, demand against the capacity of the
//! facilities of that unit whose conversion is complete by then; the ordered list of
//! conversions; the phase from which each unit's demand is met.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalogue::Offer;
use crate::demand::DemandTable;
use crate::role::Role;

/// Where each facility stands and whether the scenario leaves it usable.
#[derive(Debug, Clone, PartialEq)]
pub struct FacilityState {
    pub unit: Option<usize>,
    /// `Some(reason)` when the hazard makes it unavailable.
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceRow {
    /// Admin unit index; `None` = the whole study area.
    pub unit: Option<usize>,
    pub role: Role,
    pub phase: usize,
    pub demand: f64,
    /// Known capacity converted by this phase.
    pub supply: f64,
    /// Offers of this unit and role whose capacity is unknown.
    pub unknown: usize,
    /// supply − demand (negative = gap).
    pub surplus: f64,
}

/// The phase from which a unit's demand for a role stays met.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Met {
    pub unit: Option<usize>,
    pub role: Role,
    /// Hours after onset; `None` = never within the phases (or no demand, see `peak_demand`).
    pub met_from_h: Option<f64>,
    pub peak_demand: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversion {
    pub offer: usize,
    pub facility: usize,
    pub role: Role,
    pub hours: f64,
    pub capacity: f64,
    /// Capacity of this and every earlier conversion of the role.
    pub cumulative: f64,
    /// Whether it is needed to meet the role's peak demand over the whole area.
    pub needed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Balance {
    pub rows: Vec<BalanceRow>,
    pub met: Vec<Met>,
    /// Per role, in conversion order: ready soonest first, then largest.
    pub conversions: BTreeMap<Role, Vec<Conversion>>,
    /// Per role and phase: whether there is any demand (over the whole area).
    pub active: BTreeMap<Role, Vec<bool>>,
}

/// Relative tolerance for "supply meets demand".
const MET_TOL: f64 = 1e-9;

pub fn balance(
    roles: &[Role],
    offers: &[Offer],
    states: &[FacilityState],
    facility_ids: &[String],
    demand: &DemandTable,
    n_units: usize,
) -> Balance {
    let phases = &demand.phases_h;
    let mut rows = Vec::new();
    let mut met = Vec::new();
    let mut conversions = BTreeMap::new();
    let mut active = BTreeMap::new();
    // Unit slots: 0..n_units, then the whole area.
    let slot = |u: Option<usize>| u.unwrap_or(n_units);
    for &role in roles {
        let mut dem = vec![vec![0.0; phases.len()]; n_units + 1];
        if let Some(t) = demand.by_role.get(&role) {
            for (p, row) in t.iter().enumerate() {
                for (i, &d) in row.iter().enumerate() {
                    if d > 0.0 {
                        if let Some(u) = demand.points[i].unit {
                            dem[u][p] += d;
                        }
                        dem[n_units][p] += d;
                    }
                }
            }
        }
        let mut sup = vec![vec![0.0; phases.len()]; n_units + 1];
        let mut unknown = vec![0usize; n_units + 1];
        let usable: Vec<usize> = offers
            .iter()
            .enumerate()
            .filter(|(_, o)| o.role == role && states[o.facility].unavailable.is_none())
            .map(|(k, _)| k)
            .collect();
        for &k in &usable {
            let o = &offers[k];
            let u = states[o.facility].unit;
            match o.capacity {
                None => {
                    unknown[slot(u)] += 1;
                    if u.is_some() {
                        unknown[n_units] += 1;
                    }
                }
                Some(c) => {
                    for (p, &t) in phases.iter().enumerate() {
                        if o.hours <= t {
                            sup[slot(u)][p] += c;
                            if u.is_some() {
                                sup[n_units][p] += c;
                            }
                        }
                    }
                }
            }
        }
        for s in 0..=n_units {
            let unit = (s < n_units).then_some(s);
            for p in 0..phases.len() {
                rows.push(BalanceRow {
                    unit,
                    role,
                    phase: p,
                    demand: dem[s][p],
                    supply: sup[s][p],
                    unknown: unknown[s],
                    surplus: sup[s][p] - dem[s][p],
                });
            }
            let ok = |p: usize| sup[s][p] >= dem[s][p] * (1.0 - MET_TOL);
            let met_from = (0..phases.len())
                .find(|&p| (p..phases.len()).all(ok))
                .map(|p| phases[p]);
            met.push(Met {
                unit,
                role,
                met_from_h: met_from,
                peak_demand: dem[s].iter().cloned().fold(0.0, f64::max),
            });
        }
        active.insert(role, dem[n_units].iter().map(|&d| d > 0.0).collect());
        let peak = dem[n_units].iter().cloned().fold(0.0, f64::max);
        let mut list: Vec<usize> = usable.into_iter().filter(|&k| offers[k].capacity.is_some()).collect();
        list.sort_by(|&a, &b| {
            let (x, y) = (&offers[a], &offers[b]);
            x.hours
                .total_cmp(&y.hours)
                .then(y.capacity.unwrap_or(0.0).total_cmp(&x.capacity.unwrap_or(0.0)))
                .then(facility_ids[x.facility].cmp(&facility_ids[y.facility]))
        });
        let mut cum = 0.0;
        let conv = list
            .into_iter()
            .map(|k| {
                let o = &offers[k];
                let c = o.capacity.unwrap_or(0.0);
                let needed = cum < peak * (1.0 - MET_TOL) && c > 0.0;
                cum += c;
                Conversion {
                    offer: k,
                    facility: o.facility,
                    role,
                    hours: o.hours,
                    capacity: c,
                    cumulative: cum,
                    needed,
                }
            })
            .collect();
        conversions.insert(role, conv);
    }
    Balance {
        rows,
        met,
        conversions,
        active,
    }
}

/// One facility claimed by two roles at once in a compound scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub facility: usize,
    /// (scenario name, role, capacity it needs from the facility)
    pub claims: Vec<(String, Role, f64)>,
}

/// Facilities needed (in the conversion lists) by two roles at the same time: by roles of two
/// different scenarios of a compound one (which happen together), or by two roles of one
/// scenario whose demand overlaps in some phase (an emergency shelter that becomes a fixed
/// shelter once the emergency phase ends is a sequence, not a conflict). Each facility can serve
/// one emergency function at a time.
pub fn conflicts(parts: &[(&str, &Balance)]) -> Vec<Conflict> {
    let mut claims: BTreeMap<usize, Vec<(usize, Role, f64)>> = BTreeMap::new();
    for (k, (_, b)) in parts.iter().enumerate() {
        for list in b.conversions.values() {
            for c in list.iter().filter(|c| c.needed) {
                claims.entry(c.facility).or_default().push((k, c.role, c.capacity));
            }
        }
    }
    let overlap = |(k1, r1): (usize, Role), (k2, r2): (usize, Role)| -> bool {
        if k1 != k2 {
            return true;
        }
        let b = parts[k1].1;
        match (b.active.get(&r1), b.active.get(&r2)) {
            (Some(a1), Some(a2)) => a1.iter().zip(a2).any(|(x, y)| *x && *y),
            _ => false,
        }
    };
    claims
        .into_iter()
        .filter(|(_, v)| {
            v.iter()
                .enumerate()
                .any(|(i, a)| v[i + 1..].iter().any(|b| overlap((a.0, a.1), (b.0, b.1))))
        })
        .map(|(facility, v)| Conflict {
            facility,
            claims: v
                .into_iter()
                .map(|(k, role, cap)| (parts[k].0.to_string(), role, cap))
                .collect(),
        })
        .collect()
}
