//! Warning levels of one indicator at one unit: green, yellow, red.
//!
//! - **red**: a binding indicator whose latest value is beyond its target (below an "at least",
//!   above an "at most");
//! - **yellow**, off track: with three or more values, the least-squares line through the last
//!   five years, extended to a later target year, misses that target;
//! - **yellow**, missing: no value for a year whose submission deadline (the indicator's
//!   `MM-DD` of the following year) has passed, for a unit that submitted earlier years or holds
//!   a target of that year;
//! - **green**: a value and a target, none of the above; no level without a target.
//!
//! The target a value is held to: the target of its year, else the next target year's (a plan's
//! end-year target is the bound along the way for binding indicators).

use serde::Serialize;

use crate::catalogue::{Direction, Indicator, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Green,
    Yellow,
    Red,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    BeyondTarget,
    OffTrack,
    Missing,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub level: Level,
    pub reason: Reason,
    pub year: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    pub message: String,
}

/// The assessment of one indicator at one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// None where there is no target to compare with and nothing is missing.
    pub level: Option<Level>,
    pub warnings: Vec<Warning>,
}

/// Least-squares line through (year, value): value at `year`.
fn trend_at(points: &[(i32, f64)], year: i32) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let mx = points.iter().map(|p| f64::from(p.0)).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (f64::from(p.0) - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (f64::from(p.0) - mx) * (p.1 - my)).sum();
    Some(my + sxy / sxx * (f64::from(year) - mx))
}

/// Assess `series` (year, value; any order) against `targets` (year, value) on `today`
/// (year, month, day). `obliged_from`: the first year the unit must report (its first value or
/// target year), if any.
pub fn assess(
    ind: &Indicator,
    series: &[(i32, f64)],
    targets: &[(i32, f64)],
    today: (i32, u32, u32),
    obliged_from: Option<i32>,
) -> Assessment {
    let mut series = series.to_vec();
    series.sort_by_key(|p| p.0);
    let mut targets = targets.to_vec();
    targets.sort_by_key(|p| p.0);
    let mut warnings = Vec::new();
    let mut level = None;
    let fmt = |x: f64| format!("{x}");
    if let Some(&(y, v)) = series.last()
        && ind.direction != Direction::None
        && let Some(&(ty, t)) = targets.iter().find(|p| p.0 >= y).or(targets.last())
    {
        level = Some(Level::Green);
        if ind.kind == Kind::Binding && !ind.direction.meets(v, t) {
            warnings.push(Warning {
                level: Level::Red,
                reason: Reason::BeyondTarget,
                year: y,
                value: Some(v),
                target: Some(t),
                message: format!(
                    "{} {y}: {} {} is beyond the binding target {} {} ({ty})",
                    ind.code,
                    fmt(v),
                    ind.unit,
                    match ind.direction {
                        Direction::AtLeast => "≥",
                        _ => "≤",
                    },
                    fmt(t)
                ),
            });
        } else if ty > y {
            let recent: Vec<(i32, f64)> = series.iter().rev().take(5).copied().collect();
            if let Some(p) = trend_at(&recent, ty)
                && !ind.direction.meets(p, t)
            {
                warnings.push(Warning {
                    level: Level::Yellow,
                    reason: Reason::OffTrack,
                    year: ty,
                    value: Some(p),
                    target: Some(t),
                    message: format!(
                        "{}: the trend of the last {} years reaches {:.4} {} in {ty}, missing the target {}",
                        ind.code,
                        recent.len(),
                        p,
                        ind.unit,
                        fmt(t)
                    ),
                });
            }
        }
    }
    if let (Some((m, d)), Some(first)) = (ind.deadline_md(), obliged_from) {
        let (ty, tm, td) = today;
        // Years whose deadline has passed: Y with (Y + 1, m, d) < today.
        let last_due = if (tm, td) > (m, d) { ty - 1 } else { ty - 2 };
        let from = first.max(last_due - 4);
        for y in from..=last_due {
            if !series.iter().any(|p| p.0 == y) {
                warnings.push(Warning {
                    level: Level::Yellow,
                    reason: Reason::Missing,
                    year: y,
                    value: None,
                    target: None,
                    message: format!(
                        "{} {y}: no value submitted by the deadline {}-{m:02}-{d:02}",
                        ind.code,
                        y + 1
                    ),
                });
            }
        }
    }
    if let Some(worst) = warnings.iter().map(|w| w.level).max() {
        level = Some(level.map_or(worst, |l: Level| l.max(worst)));
    }
    Assessment { level, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    #[test]
    fn red_for_binding_beyond_target_yellow_for_trend_and_missing() {
        let c = Catalogue::builtin_cn();
        let shelter = c.get("shelter_area_per_capita").unwrap();
        // Binding ≥ 1.5: 1.2 in 2024 is red.
        let a = assess(
            shelter,
            &[(2022, 1.0), (2023, 1.1), (2024, 1.2)],
            &[(2025, 1.5)],
            (2025, 1, 10),
            None,
        );
        assert_eq!(a.level, Some(Level::Red));
        assert_eq!(a.warnings[0].reason, Reason::BeyondTarget);
        // Expected ≥ 90 % by 2030; 80, 81, 82 → 88 in 2030: off track (yellow).
        let cov = c.get("shelter_coverage_500m").unwrap();
        let a = assess(
            cov,
            &[(2022, 80.0), (2023, 81.0), (2024, 82.0)],
            &[(2030, 90.0)],
            (2025, 1, 10),
            None,
        );
        assert_eq!(a.level, Some(Level::Yellow));
        assert!((a.warnings[0].value.unwrap() - 88.0).abs() < 1e-9);
        // 80, 82, 84 → 96: green.
        let a = assess(
            cov,
            &[(2022, 80.0), (2023, 82.0), (2024, 84.0)],
            &[(2030, 90.0)],
            (2025, 1, 10),
            None,
        );
        assert_eq!((a.level, a.warnings.len()), (Some(Level::Green), 0));
        // Deadline 03-31: on 2025-04-01 the 2024 value is due; only 2023 submitted.
        let a = assess(cov, &[(2023, 95.0)], &[(2030, 90.0)], (2025, 4, 1), Some(2023));
        assert_eq!(a.level, Some(Level::Yellow));
        assert_eq!((a.warnings[0].reason, a.warnings[0].year), (Reason::Missing, 2024));
        // … but not on 2025-03-31.
        let a = assess(cov, &[(2023, 95.0)], &[(2030, 90.0)], (2025, 3, 31), Some(2023));
        assert_eq!((a.level, a.warnings.len()), (Some(Level::Green), 0));
        // No target, no direction: no level.
        let pop = c.get("land_area").unwrap();
        assert_eq!(assess(pop, &[(2024, 1.0)], &[], (2025, 1, 1), None).level, None);
    }
}
