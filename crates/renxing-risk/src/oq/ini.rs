//! OpenQuake job files (`job.ini`).
//!
//! # Format
//! An INI file in the dialect of Python's `configparser`, as the OpenQuake engine reads it:
//! - `[section]` headers group the keys for the reader's eye only: the engine (and Renxing)
//!   merge all sections into one flat table of keys. A key set twice is an error here.
//! - `key = value` (or `key: value`); the value runs to the end of the line and continues on
//!   the following lines that start with white space (so a dictionary may span lines).
//! - Lines starting with `#` or `;` are comments; blank lines are ignored.
//! - Values that reference input files are paths relative to the folder of the job file.
//! - Some values are Python literals: dictionaries such as
//!   `consequence_file = {'taxonomy': ['a.csv', 'b.csv']}` or
//!   `minimum_asset_loss = {"structural": 200.0}`; [`PyValue::parse`] reads them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use renxing_io::error::IoError;

type Result<T> = std::result::Result<T, IoError>;

/// One key of a job file with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct IniValue {
    pub value: String,
    pub line: usize,
}

/// The keys of a job file, flattened over its sections.
#[derive(Debug, Clone)]
pub struct JobIni {
    /// The job file.
    pub path: PathBuf,
    /// Folder the input paths are relative to.
    pub dir: PathBuf,
    pub keys: BTreeMap<String, IniValue>,
}

impl JobIni {
    /// Reads and parses a job file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| IoError::os(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses the text of a job file; `path` names it in errors and fixes the input folder.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut keys: BTreeMap<String, IniValue> = BTreeMap::new();
        let mut current: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() {
                continue;
            }
            let continuation = line.starts_with([' ', '\t']);
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if continuation && let Some(k) = &current {
                let v = keys.get_mut(k).expect("current key was inserted");
                v.value.push('\n');
                v.value.push_str(trimmed);
                continue;
            }
            if trimmed.starts_with('[') {
                if !trimmed.ends_with(']') {
                    return Err(IoError::at(
                        path,
                        format!("line {line_no}"),
                        "section header without closing ']'",
                    ));
                }
                current = None;
                continue;
            }
            let Some(pos) = trimmed.find(['=', ':']) else {
                return Err(IoError::at(
                    path,
                    format!("line {line_no}"),
                    format!("expected 'key = value', found {trimmed:?}"),
                ));
            };
            let key = trimmed[..pos].trim().to_ascii_lowercase();
            let value = trimmed[pos + 1..].trim().to_string();
            if key.is_empty() {
                return Err(IoError::at(path, format!("line {line_no}"), "empty key"));
            }
            if let Some(prev) = keys.get(&key) {
                return Err(IoError::at(
                    path,
                    format!("line {line_no}"),
                    format!("key '{key}' is set twice (first on line {})", prev.line),
                ));
            }
            keys.insert(key.clone(), IniValue { value, line: line_no });
            current = Some(key);
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(JobIni {
            path: path.to_path_buf(),
            dir,
            keys,
        })
    }

    /// The raw text of a key, `None` when absent or empty (OpenQuake treats `key =` as unset).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys.get(key).map(|v| v.value.trim()).filter(|v| !v.is_empty())
    }

    /// Position string (`line N (key)`) of a key for error messages.
    pub fn position(&self, key: &str) -> String {
        match self.keys.get(key) {
            Some(v) => format!("line {} ({key})", v.line),
            None => format!("key {key}"),
        }
    }

    /// An error at a key.
    pub fn error(&self, key: &str, message: impl Into<String>) -> IoError {
        IoError::at(&self.path, self.position(key), message)
    }

    /// A key parsed as a number.
    pub fn get_f64(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .map(Some)
                .map_err(|_| self.error(key, format!("expected a number, found {v:?}"))),
        }
    }

    /// A key holding a file name, resolved against the job's folder.
    pub fn get_path(&self, key: &str) -> Option<PathBuf> {
        self.get(key).map(|v| self.dir.join(v))
    }

    /// A key holding a Python literal.
    pub fn get_py(&self, key: &str) -> Result<Option<PyValue>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => PyValue::parse(v)
                .map(Some)
                .map_err(|msg| self.error(key, format!("cannot read the value: {msg}"))),
        }
    }
}

/// A Python literal as found in job files: strings, numbers, lists/tuples and dictionaries.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    Str(String),
    Num(f64),
    List(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
    /// A bare word (e.g. `true`, or a file name written without quotes).
    Word(String),
}

impl PyValue {
    /// Parses a literal; the whole text must be consumed.
    pub fn parse(text: &str) -> std::result::Result<PyValue, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut p = PyParser {
            chars: &chars,
            pos: 0,
            depth: 0,
        };
        let v = p.value()?;
        p.skip_ws();
        if p.pos != chars.len() {
            return Err(format!("unexpected text after position {}", p.pos + 1));
        }
        Ok(v)
    }

    /// The text of a string or bare word.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) | PyValue::Word(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a number (numbers, or strings holding one).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PyValue::Num(x) => Some(*x),
            PyValue::Str(s) | PyValue::Word(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// Deepest nesting of lists and dictionaries [`PyValue::parse`] accepts (job files nest two or
/// three levels; the limit keeps the recursive parser off the end of the stack).
pub const MAX_PY_DEPTH: usize = 64;

struct PyParser<'a> {
    chars: &'a [char],
    pos: usize,
    /// Lists and dictionaries open at `pos`.
    depth: usize,
}

impl PyParser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }

    /// Enters a list or dictionary at `pos`.
    fn open(&mut self) -> std::result::Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_PY_DEPTH {
            return Err(format!(
                "lists and dictionaries nested deeper than {MAX_PY_DEPTH} levels at position {}",
                self.pos + 1
            ));
        }
        self.pos += 1;
        Ok(())
    }

    fn value(&mut self) -> std::result::Result<PyValue, String> {
        match self.peek() {
            None => Err("unexpected end of value".into()),
            Some('{') => {
                self.open()?;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some('}') {
                        self.pos += 1;
                        break;
                    }
                    let k = self.value()?;
                    if self.peek() != Some(':') {
                        return Err(format!("expected ':' at position {}", self.pos + 1));
                    }
                    self.pos += 1;
                    let v = self.value()?;
                    items.push((k, v));
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some('}') => {}
                        _ => return Err(format!("expected ',' or '}}' at position {}", self.pos + 1)),
                    }
                }
                self.depth -= 1;
                Ok(PyValue::Dict(items))
            }
            Some(open @ ('[' | '(')) => {
                let close = if open == '[' { ']' } else { ')' };
                self.open()?;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.value()?);
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some(c) if c == close => {}
                        _ => return Err(format!("expected ',' or '{close}' at position {}", self.pos + 1)),
                    }
                }
                self.depth -= 1;
                Ok(PyValue::List(items))
            }
            Some(q @ ('\'' | '"')) => {
                self.pos += 1;
                let start = self.pos;
                while self.pos < self.chars.len() && self.chars[self.pos] != q {
                    self.pos += 1;
                }
                if self.pos == self.chars.len() {
                    return Err("string without closing quote".into());
                }
                let s: String = self.chars[start..self.pos].iter().collect();
                self.pos += 1;
                Ok(PyValue::Str(s))
            }
            Some(_) => {
                let start = self.pos;
                while self.pos < self.chars.len() && !matches!(self.chars[self.pos], ',' | ':' | '}' | ']' | ')') {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string();
                if word.is_empty() {
                    return Err(format!("empty value at position {}", start + 1));
                }
                Ok(match word.parse::<f64>() {
                    Ok(x) => PyValue::Num(x),
                    Err(_) => PyValue::Word(word),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_continuations_and_dicts() {
        let text = "[General]\ncalculation_mode = scenario_damage\n# comment\n[Consequence model]\n\
                    consequence_file = {'taxonomy': [\n    'a.csv',\n    'b.csv',\n  ]\n  }\n[Risk]\n# time_event = day\n\
                    minimum_asset_loss = {\"structural\": 200.0}\nregion =\n";
        let ini = JobIni::parse(text, Path::new("/x/job.ini")).unwrap();
        assert_eq!(ini.get("calculation_mode"), Some("scenario_damage"));
        assert_eq!(ini.get("time_event"), None);
        assert_eq!(ini.get("region"), None);
        let cf = ini.get_py("consequence_file").unwrap().unwrap();
        let PyValue::Dict(items) = cf else { panic!() };
        assert_eq!(items[0].0.as_str(), Some("taxonomy"));
        assert_eq!(
            items[0].1,
            PyValue::List(vec![PyValue::Str("a.csv".into()), PyValue::Str("b.csv".into())])
        );
        let mal = ini.get_py("minimum_asset_loss").unwrap().unwrap();
        assert_eq!(
            mal,
            PyValue::Dict(vec![(PyValue::Str("structural".into()), PyValue::Num(200.0))])
        );
        assert_eq!(
            ini.get_path("calculation_mode").unwrap(),
            Path::new("/x/scenario_damage")
        );
    }

    /// Found while fuzzing: deeply nested brackets overflowed the stack of the recursive parser.
    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(200_000);
        let err = PyValue::parse(&deep).unwrap_err();
        assert!(err.contains("nested deeper than 64"), "{err}");
        let ini = JobIni::parse(&format!("a = {deep}\n"), Path::new("job.ini")).unwrap();
        let err = ini.get_py("a").unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 1 (a)"), "{err}");
        // 64 levels are still read; siblings do not add up.
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(PyValue::parse(&ok).is_ok());
        let wide = format!("[{}]", vec!["[[1]]"; 100].join(","));
        let PyValue::List(items) = PyValue::parse(&wide).unwrap() else {
            panic!()
        };
        assert_eq!(items.len(), 100);
        assert!(PyValue::parse(&format!("{{'a': {}1{}}}", "[".repeat(64), "]".repeat(64))).is_err());
    }

    #[test]
    fn duplicate_key_is_an_error() {
        let err = JobIni::parse("a = 1\n[x]\na = 2\n", Path::new("job.ini")).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 3"));
        assert!(err.message.contains("set twice"));
    }
}
