//! Roll-ups: a parent's value from its children's, by the indicator's aggregation.
//!
//! - `sum` (additive: population, areas, counts): Σ children;
//! - `weighted_mean` (ratios: per-capita areas, coverage shares): Σ v·w / Σ w, w the weight
//!   indicator of the same year (e.g. resident population);
//! - `none`: no roll-up.
//!
//! A child without a value of its own takes its own roll-up (recursively), so a province rolls up
//! from cities that roll up from counties where needed. A roll-up lists the children that gave
//! nothing, and is `complete` only when none is missing: a partial sum is a lower bound, not the
//! parent's value.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalogue::Aggregation;

/// One child's contribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    pub unit: String,
    pub value: Option<f64>,
    /// Weight (weighted means only).
    pub weight: Option<f64>,
    /// Whether `value` was itself rolled up from the child's children.
    pub rolled_up: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rollup {
    pub value: Option<f64>,
    pub complete: bool,
    pub parts: Vec<Part>,
    pub missing: Vec<String>,
}

/// Combine children's parts.
pub fn combine(aggregation: Aggregation, parts: Vec<Part>) -> Rollup {
    let usable = |p: &Part| match aggregation {
        Aggregation::Sum => p.value.is_some(),
        Aggregation::WeightedMean => p.value.is_some() && p.weight.is_some_and(|w| w > 0.0),
        Aggregation::None => false,
    };
    let missing: Vec<String> = parts.iter().filter(|p| !usable(p)).map(|p| p.unit.clone()).collect();
    let used: Vec<&Part> = parts.iter().filter(|p| usable(p)).collect();
    let value = match aggregation {
        Aggregation::None => None,
        _ if used.is_empty() => None,
        Aggregation::Sum => Some(used.iter().map(|p| p.value.unwrap_or(0.0)).sum()),
        Aggregation::WeightedMean => {
            let w: f64 = used.iter().map(|p| p.weight.unwrap_or(0.0)).sum();
            Some(
                used.iter()
                    .map(|p| p.value.unwrap_or(0.0) * p.weight.unwrap_or(0.0))
                    .sum::<f64>()
                    / w,
            )
        }
    };
    Rollup {
        complete: missing.is_empty() && value.is_some(),
        value,
        parts,
        missing,
    }
}

/// The roll-up of `unit` over a tree (`children` per unit) from the units' own values (and
/// weights), children without a value rolling up from theirs.
pub fn roll_up(
    unit: &str,
    aggregation: Aggregation,
    children: &BTreeMap<String, Vec<String>>,
    values: &BTreeMap<String, f64>,
    weights: &BTreeMap<String, f64>,
) -> Rollup {
    let kids = children.get(unit).cloned().unwrap_or_default();
    let parts = kids
        .into_iter()
        .map(|c| {
            let weight = weights.get(&c).copied().or_else(|| {
                // A child without its own weight takes its children's sum.
                let r = roll_up(&c, Aggregation::Sum, children, weights, &BTreeMap::new());
                r.complete.then_some(r.value).flatten()
            });
            match values.get(&c) {
                Some(&v) => Part {
                    unit: c,
                    value: Some(v),
                    weight,
                    rolled_up: false,
                },
                None => {
                    let r = roll_up(&c, aggregation, children, values, weights);
                    Part {
                        unit: c,
                        value: if r.complete { r.value } else { None },
                        weight,
                        rolled_up: true,
                    }
                }
            }
        })
        .collect();
    combine(aggregation, parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> BTreeMap<String, Vec<String>> {
        let mut t = BTreeMap::new();
        t.insert("P".into(), vec!["A".into(), "B".into()]);
        t.insert("B".into(), vec!["B1".into(), "B2".into()]);
        t
    }

    #[test]
    fn sums_and_weighted_means_roll_up_through_missing_levels() {
        let t = tree();
        let pop: BTreeMap<String, f64> = [("A", 100.0), ("B1", 30.0), ("B2", 70.0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let r = roll_up("P", Aggregation::Sum, &t, &pop, &BTreeMap::new());
        assert_eq!((r.value, r.complete), (Some(200.0), true));
        assert!(r.parts[1].rolled_up);
        // Shelter area per capita 2.0 in A, 1.0 in B1, 3.0 in B2: B = (30 + 210) / 100 = 2.4,
        // P = (2.0·100 + 2.4·100) / 200 = 2.2.
        let per_capita: BTreeMap<String, f64> = [("A", 2.0), ("B1", 1.0), ("B2", 3.0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let r = roll_up("P", Aggregation::WeightedMean, &t, &per_capita, &pop);
        assert!((r.value.unwrap() - 2.2).abs() < 1e-12);
        // B2 missing: B cannot roll up, P is partial.
        let mut partial = pop.clone();
        partial.remove("B2");
        let r = roll_up("P", Aggregation::Sum, &t, &partial, &BTreeMap::new());
        assert_eq!(
            (r.value, r.complete, r.missing.clone()),
            (Some(100.0), false, vec!["B".to_string()])
        );
    }
}
