//! Consequence models: `consequence::ConsequenceModel::read`.
//!
//! Input: a first line with the limit states (white-space separated), then one or more
//! consequence CSV files separated by `SEP`.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use renxing_risk::consequence::ConsequenceModel;

fuzz_target!(|data: &[u8]| {
    let nl = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let limit_states: Vec<String> = String::from_utf8_lossy(&data[..nl])
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let rest = data.get(nl + 1..).unwrap_or(b"");
    let paths: Vec<_> = common::split(rest)
        .into_iter()
        .take(4)
        .enumerate()
        .map(|(i, f)| common::write(&format!("consequence_{i}.csv"), f))
        .collect::<Option<_>>()
        .unwrap_or_default();
    if paths.is_empty() {
        return;
    }
    let _ = ConsequenceModel::read(&paths, &limit_states);
});
