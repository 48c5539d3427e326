//! Synthetic street grids for unit tests (the real-data tests live in `renxing-cli/tests`).

use crate::road::{Oneway, RoadData, RoadEdge, RoadNode};

pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A jittered grid street network with random classes, one-way streets and missing blocks.
pub fn city(side: usize, seed: u64) -> RoadData {
    let mut rng = Rng(seed);
    let nodes: Vec<RoadNode> = (0..side * side)
        .map(|i| RoadNode {
            id: i as i64,
            lon: 116.3 + (i % side) as f64 * 0.002 + rng.next() * 0.0005,
            lat: 39.9 + (i / side) as f64 * 0.0015 + rng.next() * 0.0005,
        })
        .collect();
    let classes = ["primary", "secondary", "residential", "tertiary", "service"];
    let mut edges = Vec::new();
    for i in 0..side * side {
        for j in [i + 1, i + side, i + side + 1] {
            let diagonal = j == i + side + 1;
            if j >= side * side || (j % side == 0 && j != i + side) || (diagonal && rng.next() < 0.8) {
                continue;
            }
            if rng.next() < 0.1 {
                continue;
            }
            let r = rng.next();
            let oneway = if r < 0.15 {
                Oneway::Forward
            } else if r < 0.25 {
                Oneway::Backward
            } else {
                Oneway::No
            };
            edges.push(RoadEdge {
                u: i,
                v: j,
                // Integer metres make ties (and their secondary tie-break) common.
                length_m: (100.0 + rng.next() * 150.0).round(),
                highway: classes[(rng.next() * 5.0) as usize].into(),
                oneway,
                access_walk: true,
                access_drive: true,
                name: String::new(),
                source_id: format!("{i}-{j}"),
                shape: vec![],
            });
        }
    }
    RoadData {
        nodes,
        edges,
        source: "test city".into(),
        turn_restrictions: Vec::new(),
    }
}
