//! Where the project's shared real data sets live, for tests and benchmarks.
//!
//! Tests that need data which may not be redistributed read it from the `shared/data` folder
//! beside the checkout (or from `$RENXING_SHARED_DATA`) and skip, saying why, when it is absent.

use std::path::PathBuf;

/// The shared data folder, if present: `$RENXING_SHARED_DATA`, else `<workspace>/../shared/data`.
pub fn dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("RENXING_SHARED_DATA") {
        let p = PathBuf::from(p);
        return p.is_dir().then_some(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    p.is_dir().then(|| p.canonicalize().unwrap_or(p))
}

/// A file under the shared data folder, or `None` after printing why the caller skips.
///
/// With `RENXING_REQUIRE_SHARED_DATA=1` (set by CI, where the data is always beside the checkout)
/// a missing file is a test failure instead of a skip, so a broken data path cannot turn the
/// real-data tests into silent passes.
pub fn file(rel: &str) -> Option<PathBuf> {
    let found = dir().map(|d| d.join(rel)).filter(|p| p.exists());
    if found.is_none() && std::env::var_os("RENXING_REQUIRE_SHARED_DATA").is_some_and(|v| v == "1") {
        panic!("shared data file {rel} is required (RENXING_REQUIRE_SHARED_DATA=1) but was not found");
    }
    match dir() {
        Some(d) if d.join(rel).exists() => Some(d.join(rel)),
        Some(d) => {
            eprintln!("SKIP: {} not found under {}", rel, d.display());
            None
        }
        None => {
            eprintln!("SKIP: shared data folder absent (set RENXING_SHARED_DATA or place ../shared/data); needs {rel}");
            None
        }
    }
}
