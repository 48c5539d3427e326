//! Plan versions in the store: drafting, editing, submission and review (see [`crate::plan`]
//! for the workflow and who may do what). Every change is one transaction with its audit
//! record; approval writes the version's targets in the same transaction.

use super::backend::{Backend, Row, Tx, storage};
use super::{Monitor, append_audit, now_utc, write_target};
use crate::access::{Action, Principal};
use crate::plan::{Decision, Plan, PlanIn, PlanKind, PlanStatus};
use crate::{MonitorError, Result};

const PLAN_COLS: &str = "id, unit, kind, name, period_start, period_end, version, status, targets, created_by, \
                         updated_at, reviewed_by, reviewed_at, comment, submitted_by";

fn plan_from(r: &Row) -> Result<Plan> {
    let bad = |what: &str| MonitorError::Storage(format!("plan {}: bad {what}", r[0].as_i64().unwrap_or(-1)));
    Ok(Plan {
        id: r[0].as_i64().ok_or_else(|| bad("id"))?,
        unit: r[1].text(),
        kind: PlanKind::parse(&r[2].text()).ok_or_else(|| bad("kind"))?,
        name: r[3].text(),
        period_start: r[4].as_i64().unwrap_or(0) as i32,
        period_end: r[5].as_i64().unwrap_or(0) as i32,
        version: r[6].as_i64().unwrap_or(0),
        status: PlanStatus::parse(&r[7].text()).ok_or_else(|| bad("status"))?,
        targets: serde_json::from_str(&r[8].text()).map_err(storage)?,
        created_by: r[9].text(),
        updated_at: r[10].text(),
        reviewed_by: r[11].as_str().map(str::to_string),
        reviewed_at: r[12].as_str().map(str::to_string),
        comment: r[13].as_str().map(str::to_string),
        submitted_by: r[14].as_str().map(str::to_string),
    })
}

impl<B: Backend> Monitor<B> {
    /// [`Monitor::plan_in`] for a change by `by`: a version `by` may not even read is "not
    /// found" (its existence stays hidden), one it may read but not `action` is forbidden.
    fn plan_for(tx: &mut dyn Tx, by: &Principal, id: i64, action: Action, what: &str) -> Result<(Plan, String)> {
        let (p, path) = Self::plan_in(tx, id)?;
        if !p.status.public() && !by.allows(Action::ReadUnpublished, &path) {
            return Err(MonitorError::NotFound(format!("plan {id}")));
        }
        if !by.allows(action, &path) {
            return Err(MonitorError::Forbidden(format!(
                "{} may not {what} plan {id}",
                by.name()
            )));
        }
        Ok((p, path))
    }

    /// Versions of the plan `(unit, kind, name)` other than `except`: (id, version, status).
    fn versions_of(tx: &mut dyn Tx, unit: &str, kind: PlanKind, name: &str, except: i64) -> Result<Vec<Row>> {
        Ok(tx
            .query(
                "SELECT id, version, status FROM plans WHERE unit = $1 AND kind = $2 AND name = $3 ORDER BY version",
                &[unit.into(), kind.as_str().into(), name.into()],
            )?
            .into_iter()
            .filter(|r| r[0].as_i64() != Some(except))
            .collect())
    }

    /// Refused while a version in `versions` is still a draft or submitted.
    fn no_open_version(versions: &[Row], unit: &str, name: &str) -> Result<()> {
        match versions
            .iter()
            .find(|r| matches!(r[2].as_str(), Some("draft" | "submitted")))
        {
            Some(open) => Err(MonitorError::Conflict(format!(
                "plan {name:?} of {unit} has version {} ({}) still open: edit, withdraw or review it (plan {})",
                open[1].as_i64().unwrap_or(0),
                open[2].text(),
                open[0].as_i64().unwrap_or(0)
            ))),
            None => Ok(()),
        }
    }

    /// The plan version `id` and the path of its unit.
    fn plan_in(tx: &mut dyn Tx, id: i64) -> Result<(Plan, String)> {
        let rows = tx.query(&format!("SELECT {PLAN_COLS} FROM plans WHERE id = $1"), &[id.into()])?;
        let p = plan_from(
            rows.first()
                .ok_or_else(|| MonitorError::NotFound(format!("plan {id}")))?,
        )?;
        let path = Self::unit_in(tx, &p.unit)?.path;
        Ok((p, path))
    }

    /// The checks of [`PlanIn::check`] and that every target's indicator is in the catalogue.
    fn check_plan(tx: &mut dyn Tx, p: &PlanIn) -> Result<()> {
        p.check()?;
        for (k, t) in p.targets.iter().enumerate() {
            Self::indicator(tx, &t.indicator).map_err(|_| {
                MonitorError::invalid(
                    format!("targets[{k}].indicator"),
                    format!("unknown indicator {:?}", t.indicator),
                )
            })?;
        }
        Ok(())
    }

    /// Draft a plan for `unit`: version 1 of a new plan, or the next version of an approved
    /// one with the same kind and name (refused while an earlier version is still a draft or
    /// submitted).
    pub fn create_plan(&self, by: &Principal, unit: &str, p: &PlanIn) -> Result<Plan> {
        self.write(|tx| {
            let u = Self::unit_in(tx, unit)?;
            if !by.allows(Action::Submit, &u.path) {
                return Err(MonitorError::Forbidden(format!(
                    "{} may not draft plans of {unit}",
                    by.name()
                )));
            }
            Self::check_plan(tx, p)?;
            let name = p.name.trim();
            let earlier = Self::versions_of(tx, unit, p.kind, name, 0)?;
            Self::no_open_version(&earlier, unit, name)?;
            let version = earlier.last().and_then(|r| r[1].as_i64()).unwrap_or(0) + 1;
            let now = now_utc();
            let id = tx
                .query(
                    "INSERT INTO plans (unit, kind, name, period_start, period_end, status, version, targets,
                     created_by, updated_at) VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9) RETURNING id",
                    &[
                        unit.into(),
                        p.kind.as_str().into(),
                        name.into(),
                        p.period_start.into(),
                        p.period_end.into(),
                        version.into(),
                        serde_json::to_string(&p.targets).map_err(storage)?.into(),
                        by.name().into(),
                        now.into(),
                    ],
                )?
                .first()
                .and_then(|r| r[0].as_i64())
                .ok_or_else(|| MonitorError::Storage("plan insert returned no id".into()))?;
            append_audit(
                tx,
                by.name(),
                "create_plan",
                &format!("plan {id}"),
                &serde_json::json!({ "unit": unit, "kind": p.kind, "name": name, "version": version,
                                     "period": [p.period_start, p.period_end], "targets": p.targets }),
            )?;
            Ok(Self::plan_in(tx, id)?.0)
        })
    }

    /// Replace the content of draft `id` (a later version keeps its plan's kind and name).
    pub fn update_plan(&self, by: &Principal, id: i64, p: &PlanIn) -> Result<Plan> {
        self.write(|tx| {
            let (old, _) = Self::plan_for(tx, by, id, Action::Submit, "edit")?;
            if old.status != PlanStatus::Draft {
                return Err(MonitorError::Conflict(format!(
                    "plan {id} is {}: only a draft can be edited",
                    old.status.as_str()
                )));
            }
            Self::check_plan(tx, p)?;
            let name = p.name.trim();
            if old.version > 1 && (p.kind != old.kind || name != old.name) {
                return Err(MonitorError::invalid(
                    if p.kind != old.kind { "kind" } else { "name" },
                    format!(
                        "version {} revises {:?} ({}): kind and name stay",
                        old.version,
                        old.name,
                        old.kind.as_str()
                    ),
                ));
            }
            if p.kind != old.kind || name != old.name {
                // Renamed into another plan: only while that plan has no version at all.
                if !Self::versions_of(tx, &old.unit, p.kind, name, id)?.is_empty() {
                    return Err(MonitorError::invalid(
                        "name",
                        format!("{} already has a {} plan named {name:?}", old.unit, p.kind.as_str()),
                    ));
                }
            }
            tx.exec(
                "UPDATE plans SET kind = $1, name = $2, period_start = $3, period_end = $4, targets = $5,
                 updated_at = $6 WHERE id = $7",
                &[
                    p.kind.as_str().into(),
                    name.into(),
                    p.period_start.into(),
                    p.period_end.into(),
                    serde_json::to_string(&p.targets).map_err(storage)?.into(),
                    now_utc().into(),
                    id.into(),
                ],
            )?;
            append_audit(
                tx,
                by.name(),
                "edit_plan",
                &format!("plan {id}"),
                &serde_json::json!({ "kind": p.kind, "name": name, "period": [p.period_start, p.period_end],
                                     "targets": p.targets }),
            )?;
            Ok(Self::plan_in(tx, id)?.0)
        })
    }

    /// Hand draft `id` to the level above for review.
    pub fn submit_plan(&self, by: &Principal, id: i64) -> Result<Plan> {
        self.write(|tx| {
            let (p, _) = Self::plan_for(tx, by, id, Action::Submit, "submit")?;
            if p.status != PlanStatus::Draft {
                return Err(MonitorError::Conflict(format!(
                    "plan {id} is {}: only a draft can be submitted",
                    p.status.as_str()
                )));
            }
            tx.exec(
                "UPDATE plans SET status = 'submitted', submitted_by = $1, updated_at = $2 WHERE id = $3",
                &[by.name().into(), now_utc().into(), id.into()],
            )?;
            append_audit(
                tx,
                by.name(),
                "submit_plan",
                &format!("plan {id}"),
                &serde_json::json!({}),
            )?;
            Ok(Self::plan_in(tx, id)?.0)
        })
    }

    /// Approve submitted version `id` (its targets become the unit's, the plan's previously
    /// approved version is superseded) or send it back to draft with `comment` (required then).
    pub fn review_plan(&self, by: &Principal, id: i64, decision: Decision, comment: Option<&str>) -> Result<Plan> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        self.write(|tx| {
            let (p, _) = Self::plan_for(tx, by, id, Action::Approve, "review (a reviewer above its unit does)")?;
            if by.name() == p.created_by || p.submitted_by.as_deref() == Some(by.name()) {
                return Err(MonitorError::Forbidden(format!(
                    "{} drafted or submitted plan {id}: another reviewer reviews it",
                    by.name()
                )));
            }
            if p.status != PlanStatus::Submitted {
                return Err(MonitorError::Conflict(format!(
                    "plan {id} is {}: only a submitted plan can be reviewed",
                    p.status.as_str()
                )));
            }
            let now = now_utc();
            match decision {
                Decision::Reject => {
                    let Some(c) = comment else {
                        return Err(MonitorError::invalid("comment", "say why the plan goes back"));
                    };
                    tx.exec(
                        "UPDATE plans SET status = 'draft', reviewed_by = $1, reviewed_at = $2, comment = $3,
                         updated_at = $2 WHERE id = $4",
                        &[by.name().into(), (&now).into(), c.into(), id.into()],
                    )?;
                    append_audit(
                        tx,
                        by.name(),
                        "reject_plan",
                        &format!("plan {id}"),
                        &serde_json::json!({ "comment": c }),
                    )?;
                }
                Decision::Approve => {
                    // The version in force until now: its targets are withdrawn (the new
                    // version's are written below; targets of other bases stay) and it is
                    // superseded.
                    let mut withdrawn = 0;
                    for r in tx.query(
                        &format!(
                            "SELECT {PLAN_COLS} FROM plans WHERE unit = $1 AND kind = $2 AND name = $3 AND status = 'approved'"
                        ),
                        &[(&p.unit).into(), p.kind.as_str().into(), (&p.name).into()],
                    )? {
                        let old = plan_from(&r)?;
                        withdrawn += tx.exec(
                            "DELETE FROM targets WHERE unit = $1 AND basis = $2",
                            &[(&p.unit).into(), old.basis().into()],
                        )?;
                    }
                    tx.exec(
                        "UPDATE plans SET status = 'superseded', updated_at = $1
                         WHERE unit = $2 AND kind = $3 AND name = $4 AND status = 'approved'",
                        &[(&now).into(), (&p.unit).into(), p.kind.as_str().into(), (&p.name).into()],
                    )?;
                    tx.exec(
                        "UPDATE plans SET status = 'approved', reviewed_by = $1, reviewed_at = $2, comment = $3,
                         updated_at = $2 WHERE id = $4",
                        &[by.name().into(), (&now).into(), comment.into(), id.into()],
                    )?;
                    append_audit(
                        tx,
                        by.name(),
                        "approve_plan",
                        &format!("plan {id}"),
                        &serde_json::json!({ "version": p.version, "targets": p.targets.len(),
                                             "targets_of_earlier_version_withdrawn": withdrawn }),
                    )?;
                    let basis = p.basis();
                    for t in &p.targets {
                        write_target(tx, by, &p.unit, t, &basis)?;
                    }
                }
            }
            Ok(Self::plan_in(tx, id)?.0)
        })
    }

    /// The plan versions of `unit` that `by` may see (the public: approved and superseded),
    /// by kind, name and version.
    pub fn plans(&self, by: &Principal, unit: &str) -> Result<Vec<Plan>> {
        self.read(|tx| {
            let u = Self::unit_in(tx, unit)?;
            let see_all = by.allows(Action::ReadUnpublished, &u.path);
            let mut out = Vec::new();
            for r in tx.query(
                &format!("SELECT {PLAN_COLS} FROM plans WHERE unit = $1"),
                &[unit.into()],
            )? {
                let p = plan_from(&r)?;
                if see_all || p.status.public() {
                    out.push(p);
                }
            }
            // Sorted here, so both stores give one order (their text collations differ).
            out.sort_by(|a, b| (a.kind.as_str(), &a.name, a.version).cmp(&(b.kind.as_str(), &b.name, b.version)));
            Ok(out)
        })
    }

    /// Withdraw draft `id` (delete it): a draft abandoned, so that the plan can be drafted anew.
    pub fn withdraw_plan(&self, by: &Principal, id: i64) -> Result<()> {
        self.write(|tx| {
            let (p, _) = Self::plan_for(tx, by, id, Action::Submit, "withdraw")?;
            if p.status != PlanStatus::Draft {
                return Err(MonitorError::Conflict(format!(
                    "plan {id} is {}: only a draft can be withdrawn",
                    p.status.as_str()
                )));
            }
            tx.exec("DELETE FROM plans WHERE id = $1", &[id.into()])?;
            append_audit(
                tx,
                by.name(),
                "withdraw_plan",
                &format!("plan {id}"),
                &serde_json::json!({ "unit": p.unit, "kind": p.kind, "name": p.name, "version": p.version }),
            )
        })
    }

    /// Plan version `id`, if `by` may see it (not found otherwise).
    pub fn plan(&self, by: &Principal, id: i64) -> Result<Plan> {
        self.read(|tx| {
            let (p, path) = Self::plan_in(tx, id)?;
            if p.status.public() || by.allows(Action::ReadUnpublished, &path) {
                Ok(p)
            } else {
                Err(MonitorError::NotFound(format!("plan {id}")))
            }
        })
    }
}
