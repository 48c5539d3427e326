//! Plans: the territorial-spatial plans whose targets the network monitors, and their approval.
//!
//! A plan belongs to one unit and is of one kind (国土空间规划体系, "five levels and three
//! kinds"): a **master** plan (总体规划), a **detailed** plan (详细规划) or a **special** plan
//! (专项规划, e.g. for disaster prevention or shelters). It covers a period (e.g. 2021–2035) and
//! carries indicator targets by year.
//!
//! A plan moves `draft → submitted → approved`; a reviewer may send a submitted version back to
//! `draft` with a comment. An approved version is never edited again: revising it makes the next
//! version, a new draft of the same plan (same unit, kind and name; one open version at a time,
//! which a unique index enforces too); when that version is approved the one before becomes
//! `superseded`. Approving a version writes its targets into the unit's targets, citing the plan
//! and version as their basis, and withdraws those of the superseded version, so warnings and
//! transmission checks hold the unit to the plan in force.
//!
//! Who may do what follows the observations' rules ([`crate::access`]): an editor of the unit (or
//! above it) drafts, edits, submits and withdraws drafts; a reviewer or admin of a unit *above*
//! approves, as a plan is approved by the level above the one that made it, and never one who
//! drafted or submitted that version; the public reads approved and superseded versions only, and
//! a version a caller may not read is "not found" to every request of that caller.

use serde::{Deserialize, Serialize};

use crate::store::ObservationIn;
use crate::{MonitorError, Result};

/// The three kinds of plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// 总体规划
    Master,
    /// 详细规划
    Detailed,
    /// 专项规划
    Special,
}

impl PlanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanKind::Master => "master",
            PlanKind::Detailed => "detailed",
            PlanKind::Special => "special",
        }
    }

    pub fn parse(s: &str) -> Option<PlanKind> {
        match s {
            "master" => Some(PlanKind::Master),
            "detailed" => Some(PlanKind::Detailed),
            "special" => Some(PlanKind::Special),
            _ => None,
        }
    }
}

/// Where a plan version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    Submitted,
    Approved,
    /// An approved version replaced by a later approved one.
    Superseded,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Draft => "draft",
            PlanStatus::Submitted => "submitted",
            PlanStatus::Approved => "approved",
            PlanStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<PlanStatus> {
        match s {
            "draft" => Some(PlanStatus::Draft),
            "submitted" => Some(PlanStatus::Submitted),
            "approved" => Some(PlanStatus::Approved),
            "superseded" => Some(PlanStatus::Superseded),
            _ => None,
        }
    }

    /// Whether the public may read a version in this state.
    pub fn public(self) -> bool {
        matches!(self, PlanStatus::Approved | PlanStatus::Superseded)
    }
}

/// A plan version as drafted or edited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    pub kind: PlanKind,
    pub name: String,
    pub period_start: i32,
    pub period_end: i32,
    #[serde(default)]
    pub targets: Vec<ObservationIn>,
}

impl PlanIn {
    /// Checks that need no database: a name, a period within 1949–2100, targets with finite
    /// values in years of the period, one per indicator and year. Errors name the field
    /// (`targets[2].year`).
    pub fn check(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(MonitorError::invalid("name", "a name of 1 to 200 characters"));
        }
        if !(1949..=2100).contains(&self.period_start) {
            return Err(MonitorError::invalid("period_start", "a year in 1949–2100"));
        }
        if !(self.period_start..=2100).contains(&self.period_end) {
            return Err(MonitorError::invalid(
                "period_end",
                format!("a year from period_start ({}) to 2100", self.period_start),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (k, t) in self.targets.iter().enumerate() {
            if !(self.period_start..=self.period_end).contains(&t.year) {
                return Err(MonitorError::invalid(
                    format!("targets[{k}].year"),
                    format!(
                        "{} is outside the plan period {}–{}",
                        t.year, self.period_start, self.period_end
                    ),
                ));
            }
            if !t.value.is_finite() {
                return Err(MonitorError::invalid(format!("targets[{k}].value"), "a finite number"));
            }
            if !seen.insert((t.indicator.as_str(), t.year)) {
                return Err(MonitorError::invalid(
                    format!("targets[{k}]"),
                    format!("a second target for {} in {}", t.indicator, t.year),
                ));
            }
        }
        Ok(())
    }
}

/// A stored plan version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub id: i64,
    pub unit: String,
    pub kind: PlanKind,
    pub name: String,
    pub period_start: i32,
    pub period_end: i32,
    pub version: i64,
    pub status: PlanStatus,
    pub targets: Vec<ObservationIn>,
    pub created_by: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
    /// The reviewer's comment (why a version went back to draft).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Plan {
    /// The basis cited by the targets this version sets once approved.
    pub fn basis(&self) -> String {
        format!(
            "plan {} ({} {}–{}) v{}",
            self.name,
            self.kind.as_str(),
            self.period_start,
            self.period_end,
            self.version
        )
    }
}

/// A reviewer's decision on a submitted version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    /// Back to draft, with a comment.
    Reject,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(targets: Vec<ObservationIn>) -> PlanIn {
        PlanIn {
            kind: PlanKind::Master,
            name: "郑州市国土空间总体规划（2021—2035年）".into(),
            period_start: 2021,
            period_end: 2035,
            targets,
        }
    }

    fn t(indicator: &str, year: i32, value: f64) -> ObservationIn {
        ObservationIn {
            indicator: indicator.into(),
            year,
            value,
        }
    }

    fn field(e: Result<()>) -> String {
        match e {
            Err(MonitorError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn checks_name_the_field() {
        assert!(plan(vec![t("cultivated_land", 2035, 1.0)]).check().is_ok());
        let mut p = plan(vec![]);
        p.name = "  ".into();
        assert_eq!(field(p.check()), "name");
        let mut p = plan(vec![]);
        p.period_end = 2020;
        assert_eq!(field(p.check()), "period_end");
        let p = plan(vec![t("a", 2030, 1.0), t("a", 2040, 1.0)]);
        assert_eq!(field(p.check()), "targets[1].year");
        let p = plan(vec![t("a", 2030, f64::NAN)]);
        assert_eq!(field(p.check()), "targets[0].value");
        let p = plan(vec![t("a", 2030, 1.0), t("a", 2030, 2.0)]);
        assert_eq!(field(p.check()), "targets[1]");
    }

    #[test]
    fn kinds_and_states_round_trip() {
        for k in [PlanKind::Master, PlanKind::Detailed, PlanKind::Special] {
            assert_eq!(PlanKind::parse(k.as_str()), Some(k));
        }
        for s in [
            PlanStatus::Draft,
            PlanStatus::Submitted,
            PlanStatus::Approved,
            PlanStatus::Superseded,
        ] {
            assert_eq!(PlanStatus::parse(s.as_str()), Some(s));
        }
        assert!(!PlanStatus::Submitted.public());
    }
}
