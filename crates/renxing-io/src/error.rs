//! The one error type of the importers: which file, where in it, and what is wrong.

use std::fmt;
use std::path::{Path, PathBuf};

/// An input problem: the file, a position inside it (line, feature, byte offset…) and a message.
///
/// Displays as one line, `FILE:POSITION: MESSAGE`, ready for a planner to act on.
#[derive(Debug, Clone, PartialEq)]
pub struct IoError {
    pub path: PathBuf,
    /// Human-readable position, e.g. `line 12`, `feature 3 (adcode 110101)`, `byte 4096`.
    pub position: Option<String>,
    pub message: String,
}

impl IoError {
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        IoError {
            path: path.to_path_buf(),
            position: None,
            message: message.into(),
        }
    }

    pub fn at(path: &Path, position: impl Into<String>, message: impl Into<String>) -> Self {
        IoError {
            path: path.to_path_buf(),
            position: Some(position.into()),
            message: message.into(),
        }
    }

    /// For errors of the operating system (missing file, permission…).
    pub fn os(path: &Path, err: std::io::Error) -> Self {
        IoError::new(path, err.to_string())
    }
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(p) => write!(f, "{}: {}: {}", self.path.display(), p, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for IoError {}

pub type Result<T> = std::result::Result<T, IoError>;

/// Line numbers of CSV records from byte offsets (1-based). The csv crate's own line counter is
/// one short on CRLF files, and a record's byte position is where the reader started on it: just
/// after the previous record's terminator, before any `\n` of a CRLF and any blank lines it then
/// skips. The line of a record is the line of its first character after those.
///
/// Records arrive in file order, so the counter walks forward from the last position it was asked
/// about: one pass over the text in all (an earlier position restarts from the top).
pub(crate) struct LineIndex<'a> {
    text: &'a [u8],
    pos: std::cell::Cell<(usize, u64)>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        LineIndex {
            text: text.as_bytes(),
            pos: std::cell::Cell::new((0, 1)),
        }
    }

    /// The line of the record (or error) whose csv position is byte `byte`.
    pub(crate) fn line_of(&self, byte: u64) -> u64 {
        let mut b = (byte as usize).min(self.text.len());
        while b < self.text.len() && matches!(self.text[b], b'\r' | b'\n') {
            b += 1;
        }
        let (mut at, mut line) = self.pos.get();
        if b < at {
            (at, line) = (0, 1);
        }
        line += self.text[at..b].iter().filter(|&&c| c == b'\n').count() as u64;
        self.pos.set((b, line));
        line
    }
}
