//! The yearly "physical exam" (体检) and five-year assessment (评估) report of one unit: every
//! indicator of the catalogue with its value, target and warning level; for each aggregated
//! indicator, the roll-up of its children and which of them have not reported; the warnings
//! of the whole subtree; and, in a five-year assessment (a year ending in 0 or 5: the end of a
//! five-year plan period), each indicator's change over the period.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Backend, IndicatorRow, Monitor, UnitWarning, now_utc};
use crate::Result;
use crate::access::Principal;
use crate::catalogue::Aggregation;
use crate::rollup::Rollup;
use crate::warning::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// 年度体检
    AnnualExam,
    /// 五年评估
    FiveYearAssessment,
}

/// Counts of the indicators by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub green: usize,
    pub yellow: usize,
    pub red: usize,
    /// Neither a target nor a missing submission: no level.
    pub unassessed: usize,
    /// No value for the year.
    pub no_value: usize,
}

/// An indicator's change over the five-year period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodChange {
    pub indicator: String,
    pub start_year: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Relative change in percent, where both values exist and the start is not 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_pct: Option<f64>,
}

/// The roll-up of one aggregated indicator from the unit's children.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollupLine {
    pub indicator: String,
    pub rollup: Rollup,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExamReport {
    pub unit: String,
    pub name: String,
    pub level: String,
    pub year: i32,
    pub kind: ReportKind,
    pub generated_at: String,
    /// What the reader may see: `public` (published values only) or the user's name.
    pub viewer: String,
    pub counts: StateCounts,
    pub indicators: Vec<IndicatorRow>,
    pub rollups: Vec<RollupLine>,
    /// Yellow and red warnings of the units below, by unit.
    pub subtree_warnings: Vec<UnitWarning>,
    pub period: Vec<PeriodChange>,
}

pub fn report_kind(year: i32) -> ReportKind {
    if year % 5 == 0 {
        ReportKind::FiveYearAssessment
    } else {
        ReportKind::AnnualExam
    }
}

impl<B: Backend> Monitor<B> {
    /// The exam (or, in a year ending in 0 or 5, the five-year assessment) report of `code` for
    /// `year`, as `by` may see it, on `today`.
    pub fn report(&self, by: &Principal, code: &str, year: i32, today: (i32, u32, u32)) -> Result<ExamReport> {
        let unit = self.unit(code)?;
        let catalogue = self.catalogue()?;
        let indicators = self.indicators(by, code, year, today)?;
        let mut counts = StateCounts::default();
        for r in &indicators {
            match r.assessment.level {
                Some(Level::Green) => counts.green += 1,
                Some(Level::Yellow) => counts.yellow += 1,
                Some(Level::Red) => counts.red += 1,
                None => counts.unassessed += 1,
            }
            if r.value.is_none() {
                counts.no_value += 1;
            }
        }
        let has_children = !self.children(code)?.is_empty();
        let mut rollups = Vec::new();
        if has_children {
            for ind in catalogue
                .indicators
                .iter()
                .filter(|i| i.aggregation != Aggregation::None)
            {
                rollups.push(RollupLine {
                    indicator: ind.code.clone(),
                    rollup: self.rollup(by, code, &ind.code, year)?,
                });
            }
        }
        let subtree_warnings = self
            .warnings(by, code, year, today)?
            .into_iter()
            .filter(|w| w.unit != code)
            .collect();
        let kind = report_kind(year);
        let mut period = Vec::new();
        if kind == ReportKind::FiveYearAssessment {
            let start_year = year - 5;
            for ind in &catalogue.indicators {
                let s = self.series(by, code, &ind.code)?;
                let at = |y: i32| s.observations.iter().find(|o| o.year == y).map(|o| o.value);
                let (start, end) = (at(start_year), at(year));
                let change_pct = match (start, end) {
                    (Some(a), Some(b)) if a != 0.0 => Some((b - a) / a.abs() * 100.0),
                    _ => None,
                };
                period.push(PeriodChange {
                    indicator: ind.code.clone(),
                    start_year,
                    start,
                    end,
                    change_pct,
                });
            }
        }
        Ok(ExamReport {
            unit: unit.code,
            name: unit.name,
            level: unit.level.as_str().to_string(),
            year,
            kind,
            generated_at: now_utc(),
            viewer: match by {
                Principal::Public => "public".into(),
                p => p.name().to_string(),
            },
            counts,
            indicators,
            rollups,
            subtree_warnings,
            period,
        })
    }
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
        Some(x) => format!("{x:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string(),
    }
}

fn level_zh(l: Option<Level>) -> &'static str {
    match l {
        Some(Level::Green) => "绿 green",
        Some(Level::Yellow) => "黄 yellow",
        Some(Level::Red) => "红 red",
        None => "—",
    }
}

impl ExamReport {
    /// The report as Markdown (bilingual headings), for printing or pasting into a document.
    pub fn to_markdown(&self) -> String {
        let title = match self.kind {
            ReportKind::AnnualExam => "年度体检报告 / Annual exam",
            ReportKind::FiveYearAssessment => "五年评估报告 / Five-year assessment",
        };
        let mut s = format!(
            "# {} {} — {title} {}\n\n生成 generated {} · 视角 viewer: {}\n\n",
            self.name, self.unit, self.year, self.generated_at, self.viewer
        );
        let c = &self.counts;
        s += &format!(
            "绿 green {} · 黄 yellow {} · 红 red {} · 未评估 unassessed {} · 缺值 no value {}\n\n",
            c.green, c.yellow, c.red, c.unassessed, c.no_value
        );
        s += "## 指标 Indicators\n\n| 指标 indicator | 单位 unit | 类型 kind | 值 value | 目标 target | 状态 status | 预警 level |\n|---|---|---|---|---|---|---|\n";
        for r in &self.indicators {
            let i = &r.indicator;
            s += &format!(
                "| {} {} | {} | {:?} | {} | {} | {} | {} |\n",
                i.name_zh,
                i.name_en,
                i.unit,
                i.kind,
                num(r.value),
                num(r.target),
                r.status.as_deref().unwrap_or("—"),
                level_zh(r.assessment.level)
            );
        }
        let msgs: Vec<String> = self
            .indicators
            .iter()
            .flat_map(|r| {
                r.assessment
                    .warnings
                    .iter()
                    .map(move |w| format!("- {}: {}", r.indicator.code, w.message))
            })
            .collect();
        if !msgs.is_empty() {
            s += "\n### 本级预警 Warnings of this unit\n\n";
            s += &msgs.join("\n");
            s += "\n";
        }
        if !self.rollups.is_empty() {
            s += "\n## 汇总 Roll-ups from the units below\n\n| 指标 indicator | 汇总值 value | 完整 complete | 未报 missing |\n|---|---|---|---|\n";
            for l in &self.rollups {
                s += &format!(
                    "| {} | {} | {} | {} |\n",
                    l.indicator,
                    num(l.rollup.value),
                    if l.rollup.complete { "yes" } else { "no" },
                    l.rollup.missing.len()
                );
            }
        }
        if !self.period.is_empty() {
            s += "\n## 五年变化 Change over the period\n\n| 指标 indicator | 起 start | 止 end | 变化 change % |\n|---|---|---|---|\n";
            for p in &self.period {
                s += &format!(
                    "| {} | {} ({}) | {} ({}) | {} |\n",
                    p.indicator,
                    num(p.start),
                    p.start_year,
                    num(p.end),
                    self.year,
                    p.change_pct.map_or("—".into(), |c| format!("{c:+.2}"))
                );
            }
        }
        let mut per_level: BTreeMap<&str, usize> = BTreeMap::new();
        for w in &self.subtree_warnings {
            *per_level
                .entry(match w.warning.level {
                    Level::Red => "red",
                    Level::Yellow => "yellow",
                    Level::Green => "green",
                })
                .or_default() += 1;
        }
        s += &format!(
            "\n## 下级预警 Warnings below\n\n红 red {} · 黄 yellow {}\n\n",
            per_level.get("red").unwrap_or(&0),
            per_level.get("yellow").unwrap_or(&0)
        );
        for w in self.subtree_warnings.iter().filter(|w| w.warning.level == Level::Red) {
            s += &format!("- {} {} · {}: {}\n", w.unit, w.name, w.indicator, w.warning.message);
        }
        s
    }
}
