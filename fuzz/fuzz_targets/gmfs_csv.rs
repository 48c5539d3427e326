//! Ground-motion fields: `gmf::Sites::read_csv` and `gmf::GroundMotionFields::parse`.
//!
//! Input: `SITES_CSV SEP GMFS_CSV`; without a separator the whole input is a fields CSV read
//! against ten sites with ids 0–9 and custom ids `s0`–`s9`.
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use renxing_risk::gmf::{GroundMotionFields, Sites};

fuzz_target!(|data: &[u8]| {
    let parts = common::split(data);
    let (sites, fields) = if parts.len() >= 2 {
        let Some(p) = common::write("sites.csv", parts[0]) else {
            return;
        };
        match Sites::read_csv(&p) {
            Ok(s) => (s, parts[1]),
            Err(_) => return,
        }
    } else {
        let s = Sites {
            lon: (0..10).map(|i| i as f64).collect(),
            lat: vec![0.0; 10],
            ids: (0..10).collect(),
            custom_ids: Some((0..10).map(|i| format!("s{i}")).collect()),
        };
        (s, parts[0])
    };
    if let Ok(g) = GroundMotionFields::parse(fields, Path::new("gmfs.csv"), &sites) {
        for s in 0..g.n_sites {
            for e in 0..g.n_events() {
                for m in 0..g.imts.len() {
                    let _ = g.get(s, e, m);
                }
            }
        }
    }
});
