//! Standard profiles: the numbers of national standards, each with its source clause.
//!
//! A profile is a TOML file (see `standards/cn.toml` at the root of the repository): tables of
//! `{ value, unit, source, confidence }` under dotted keys such as
//! `shelter.emergency_service_distance_m`. Analyses ask for values by key, so no standard number is
//! written into code. Overrides replace values per project and are remembered, so outputs can show
//! both the standard value and the one used.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

/// One standard value with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardValue {
    pub value: f64,
    pub unit: String,
    pub source: String,
    pub confidence: String,
    /// The profile's own value when a project overrode it.
    pub overridden_from: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardProfile {
    pub name: String,
    pub title: String,
    pub values: BTreeMap<String, StandardValue>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StandardError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("standard profile '{profile}' has no value '{key}'")]
    Missing { profile: String, key: String },
    #[error("override '{key}': the standard profile '{profile}' has no such value")]
    UnknownOverride { profile: String, key: String },
    #[error("standard profile '{profile}' (after overrides): {message}")]
    Inconsistent { profile: String, message: String },
}

const CN_TOML: &str = include_str!("../../../standards/cn.toml");

impl StandardProfile {
    /// A profile shipped with Renxing by name (`cn`).
    pub fn builtin(name: &str) -> Option<StandardProfile> {
        match name {
            "cn" => Some(Self::parse(CN_TOML, "standards/cn.toml").expect("shipped standards/cn.toml is valid")),
            _ => None,
        }
    }

    /// Load a profile from a file.
    pub fn load(path: &Path) -> Result<StandardProfile, StandardError> {
        let text = std::fs::read_to_string(path).map_err(|e| StandardError::Invalid {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse profile text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<StandardProfile, StandardError> {
        let invalid = |message: String| StandardError::Invalid {
            file: file.to_string(),
            message,
        };
        let root: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let meta = root.get("meta").and_then(|m| m.as_table());
        let name = meta
            .and_then(|m| m.get("name"))
            .and_then(|v| v.as_str())
            .unwrap_or("custom")
            .to_string();
        let title = meta
            .and_then(|m| m.get("title"))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let mut values = BTreeMap::new();
        for (group, table) in root.iter().filter(|(k, _)| k.as_str() != "meta") {
            let Some(table) = table.as_table() else {
                return Err(invalid(format!("[{group}] must be a table of values")));
            };
            for (key, entry) in table {
                let full = format!("{group}.{key}");
                let e = entry
                    .as_table()
                    .ok_or_else(|| invalid(format!("{full} must be a table with value and source")))?;
                let value = match e.get("value") {
                    Some(toml::Value::Integer(i)) => *i as f64,
                    Some(toml::Value::Float(f)) => *f,
                    _ => return Err(invalid(format!("{full}: 'value' must be a number"))),
                };
                let text_of = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                let source = text_of("source");
                if source.is_empty() {
                    return Err(invalid(format!("{full}: every value needs its 'source' clause")));
                }
                values.insert(
                    full,
                    StandardValue {
                        value,
                        unit: text_of("unit"),
                        source,
                        confidence: text_of("confidence"),
                        overridden_from: None,
                    },
                );
            }
        }
        Ok(StandardProfile { name, title, values })
    }

    pub fn get(&self, key: &str) -> Result<f64, StandardError> {
        self.values
            .get(key)
            .map(|v| v.value)
            .ok_or_else(|| StandardError::Missing {
                profile: self.name.clone(),
                key: key.to_string(),
            })
    }

    /// Apply project overrides (key → value); unknown keys are an error, never ignored.
    pub fn with_overrides(mut self, overrides: &BTreeMap<String, f64>) -> Result<StandardProfile, StandardError> {
        for (key, &v) in overrides {
            let entry = self.values.get_mut(key).ok_or_else(|| StandardError::UnknownOverride {
                profile: self.name.clone(),
                key: key.clone(),
            })?;
            if entry.value != v {
                entry.overridden_from.get_or_insert(entry.value);
                entry.value = v;
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cn_profile_carries_gb50413_numbers_with_sources() {
        let p = StandardProfile::builtin("cn").unwrap();
        assert_eq!(p.get("shelter.emergency_service_distance_m").unwrap(), 500.0);
        assert_eq!(p.get("shelter.fixed_service_distance_max_m").unwrap(), 3000.0);
        assert!(p.values["shelter.emergency_per_capita_m2"].source.contains("GB 50413"));
        assert!(p.values.values().all(|v| !v.source.is_empty()));
    }

    #[test]
    fn overrides_are_recorded_and_unknown_keys_rejected() {
        let mut o = BTreeMap::new();
        o.insert("shelter.emergency_service_distance_m".to_string(), 600.0);
        let p = StandardProfile::builtin("cn").unwrap().with_overrides(&o).unwrap();
        let v = &p.values["shelter.emergency_service_distance_m"];
        assert_eq!((v.value, v.overridden_from), (600.0, Some(500.0)));
        o.insert("shelter.no_such_value".to_string(), 1.0);
        let err = StandardProfile::builtin("cn").unwrap().with_overrides(&o).unwrap_err();
        assert!(err.to_string().contains("shelter.no_such_value"));
    }

    #[test]
    fn a_value_without_source_is_rejected() {
        let err = StandardProfile::parse("[shelter.x]\nvalue = 1\n", "p.toml").unwrap_err();
        assert!(err.to_string().contains("p.toml") && err.to_string().contains("source"));
    }
}
