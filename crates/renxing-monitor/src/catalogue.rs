//! The indicator catalogue: codes, names, units, binding or expected, direction, aggregation.
//!
//! Format (TOML, one `[[indicator]]` table each) documented in
//! `standards/monitor-indicators-cn.toml`, which is also the built-in default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{MonitorError, Result};

/// 约束性 (binding) or 预期性 (expected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Binding,
    Expected,
}

/// Which side of the target is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    AtLeast,
    AtMost,
    None,
}

impl Direction {
    /// Whether `value` meets `target` (always true without a direction).
    pub fn meets(self, value: f64, target: f64) -> bool {
        match self {
            Direction::AtLeast => value >= target,
            Direction::AtMost => value <= target,
            Direction::None => true,
        }
    }
}

/// How a parent's value follows from its children's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Sum,
    WeightedMean,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub kind: Kind,
    pub direction: Direction,
    pub aggregation: Aggregation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// "MM-DD" of the year after the observed year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    pub source: String,
}

impl Indicator {
    /// Whether sums of children's values or targets must match the parent's (transmission).
    pub fn additive(&self) -> bool {
        self.aggregation == Aggregation::Sum
    }

    /// The deadline as (month, day), if any.
    pub fn deadline_md(&self) -> Option<(u32, u32)> {
        let d = self.deadline.as_deref()?;
        let (m, day) = d.split_once('-')?;
        Some((m.parse().ok()?, day.parse().ok()?))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    #[serde(rename = "indicator")]
    pub indicators: Vec<Indicator>,
}

pub const BUILTIN_CN: &str = include_str!("../../../standards/monitor-indicators-cn.toml");

impl Catalogue {
    pub fn builtin_cn() -> Catalogue {
        Catalogue::parse(BUILTIN_CN, "standards/monitor-indicators-cn.toml").expect("the built-in catalogue is valid")
    }

    /// Parse and check a catalogue; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Catalogue> {
        let bad = |message: String| MonitorError::Input {
            file: file.to_string(),
            message,
        };
        let c: Catalogue = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut seen = BTreeMap::new();
        for (k, i) in c.indicators.iter().enumerate() {
            let at = format!("indicator {} ({})", k + 1, i.code);
            if i.code.is_empty()
                || !i
                    .code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(bad(format!("{at}: code must be snake_case ASCII")));
            }
            if seen.insert(i.code.clone(), k).is_some() {
                return Err(bad(format!("{at}: code appears twice")));
            }
            if i.deadline.is_some()
                && i.deadline_md()
                    .is_none_or(|(m, d)| !(1..=12).contains(&m) || !(1..=31).contains(&d))
            {
                return Err(bad(format!("{at}: deadline must be \"MM-DD\"")));
            }
            match (i.aggregation, &i.weight) {
                (Aggregation::WeightedMean, None) => return Err(bad(format!("{at}: weighted_mean needs a weight"))),
                (Aggregation::WeightedMean, Some(_)) | (_, None) => {}
                (_, Some(_)) => return Err(bad(format!("{at}: weight is only for weighted_mean"))),
            }
        }
        for i in &c.indicators {
            if let Some(w) = &i.weight {
                let wi = c.indicators.iter().find(|x| &x.code == w);
                if wi.is_none_or(|x| x.aggregation != Aggregation::Sum) {
                    return Err(bad(format!(
                        "indicator {}: weight {w:?} must be an additive indicator of the catalogue",
                        i.code
                    )));
                }
            }
        }
        Ok(c)
    }

    pub fn get(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_bad_catalogues_name_the_indicator() {
        let c = Catalogue::builtin_cn();
        assert!(c.indicators.len() >= 15);
        let s = c.get("shelter_area_per_capita").unwrap();
        assert_eq!((s.kind, s.direction), (Kind::Binding, Direction::AtLeast));
        assert_eq!(s.weight.as_deref(), Some("resident_population"));
        assert_eq!(c.get("gdp").unwrap().deadline_md(), Some((6, 30)));
        let bad = BUILTIN_CN.replace("weight = \"gdp\"", "weight = \"tertiary_share\"");
        let e = Catalogue::parse(&bad, "x.toml").unwrap_err().to_string();
        assert!(e.starts_with("x.toml: indicator tertiary_share: weight"), "{e}");
        let bad = BUILTIN_CN.replacen("code = \"gdp\"", "code = \"GDP\"", 1);
        let e = Catalogue::parse(&bad, "x.toml").unwrap_err().to_string();
        assert!(e.contains("indicator 4 (GDP): code must be snake_case"), "{e}");
        let e = Catalogue::parse("[[indicator]]\ncode = 1\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.toml: "), "{e}");
    }
}
