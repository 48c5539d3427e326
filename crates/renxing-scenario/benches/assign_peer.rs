//! Side-by-side benchmark of the exact assignment against networkx's network simplex, in one run.
//!
//! Instance (bundled real data, the same as the integration tests): the residents of 东城区 and
//! 西城区 (2020 census spread by road length) around the OSM-mapped emergency shelters, and those
//! shelters with their catalogue capacities, on the OSM 2012 walk network; once as mapped and once
//! with a quarter of the capacity (most people unserved, every capacity binding).
//!
//! networkx's network simplex is exact only on integers, so both sides solve the same integer
//! instance: people rounded (points under one person dropped), places rounded down, times in
//! whole deciseconds, 10⁸ per unserved person. Renxing solves it twice, with the given times:
//! - `fewsinks`: shortest augmenting paths over the facility graph (what `assign` uses up to 64
//!   facilities);
//! - `simplex`: the network simplex over all arcs (what column generation warm-starts).
//!
//! Both objectives must equal networkx's, or the bench exits with status 1. The end-to-end
//! `assign` (times on the network included, float data) is timed too, with both methods.
//!
//! Run: `cargo bench -p renxing-scenario --bench assign_peer`. The peer runs through
//! `scripts/compare_assign_networkx.py` with `$RENXING_PEER_PYTHON` (default
//! `$HOME/.cache/peers/venv/bin/python`, set up by `scripts/setup_peers.sh`); without it the
//! bench prints SKIP for the peer and times Renxing only. `RENXING_BENCH_REPEAT` (default 3)
//! repeats of each Renxing timing; the median is printed.

#[path = "../tests/common/beijing_core.rs"]
mod beijing_core;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use renxing_exam::standard::StandardProfile;
use renxing_net::cch::LinkCosts;
use renxing_scenario::assign::{AssignOptions, Network, assign, time_matrix};
use renxing_scenario::catalogue::Rules;
use renxing_scenario::fewsinks;
use renxing_scenario::simplex::Transport;

const PENALTY: f64 = 1e8;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timed<T>(repeat: usize, mut f: impl FnMut() -> T) -> (T, f64) {
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..repeat {
        let t = Instant::now();
        out = Some(f());
        times.push(t.elapsed().as_secs_f64());
    }
    (out.expect("repeat ≥ 1"), median(times))
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RENXING_PEER_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(std::env::var_os("HOME")?).join(".cache/peers/venv/bin/python");
    p.exists().then_some(p)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("assign_peer: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let repeat: usize = std::env::var("RENXING_BENCH_REPEAT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let repo = beijing_core::repo();
    let out_dir = repo.join("target/assign-peer");
    let city = beijing_core::beijing();
    let std = StandardProfile::builtin("cn").ok_or("no built-in cn profile")?;
    let rules = Rules::builtin_cn(&std)?;
    let costs = LinkCosts::of(&city.graph);
    let net = Network {
        graph: &city.graph,
        costs: &costs,
        access_speed_mps: city.access,
    };
    let py = python();
    let mut table = Vec::new();
    let mut failed = false;
    for (label, factor) in [("as mapped", 1.0), ("quarter capacity", 0.25)] {
        let inst = beijing_core::shelter_instance(&city, &rules, factor);
        let (n, m) = (inst.points.len(), inst.facilities.len());
        // End to end on the float data, both methods.
        let opts_dense = AssignOptions {
            dense_up_to: usize::MAX,
            ..AssignOptions::default()
        };
        let opts_cg = AssignOptions {
            dense_up_to: 0,
            ..AssignOptions::default()
        };
        let (e2e_d, e2e_dense) = timed(repeat, || {
            assign(
                &net,
                &inst.points,
                &inst.amount,
                &inst.facilities,
                &inst.capacity,
                opts_dense,
            )
        });
        let (e2e_c, e2e_cg) = timed(repeat, || {
            assign(
                &net,
                &inst.points,
                &inst.amount,
                &inst.facilities,
                &inst.capacity,
                opts_cg,
            )
        });
        // The integer instance.
        let (times, matrix_s) = timed(repeat, || time_matrix(&net, &inst.points, &inst.facilities));
        let rows: Vec<usize> = (0..n).filter(|&i| inst.amount[i].round() >= 1.0).collect();
        let supply: Vec<f64> = rows.iter().map(|&i| inst.amount[i].round()).collect();
        let capacity: Vec<f64> = inst.capacity.iter().map(|c| c.floor()).collect();
        let cost: Vec<f64> = rows
            .iter()
            .flat_map(|&i| times[i * m..(i + 1) * m].iter().map(|t| (t * 10.0).round()))
            .collect();
        let dir = out_dir.join(label.replace(' ', "-"));
        std::fs::create_dir_all(&dir)?;
        let mut s = String::from("point,people\n");
        for (r, x) in supply.iter().enumerate() {
            s += &format!("{r},{x:.0}\n");
        }
        write(&dir.join("supply.csv"), &s)?;
        let mut s = String::from("facility,places\n");
        for (j, x) in capacity.iter().enumerate() {
            s += &format!("{j},{x:.0}\n");
        }
        write(&dir.join("capacity.csv"), &s)?;
        let mut s = String::from("point,facility,cost\n");
        let mut arcs = 0;
        for r in 0..rows.len() {
            for j in 0..m {
                let c = cost[r * m + j];
                if c.is_finite() {
                    s += &format!("{r},{j},{c:.0}\n");
                    arcs += 1;
                }
            }
        }
        write(&dir.join("arcs.csv"), &s)?;
        write(&dir.join("penalty.txt"), &format!("{PENALTY:.0}\n"))?;
        let objective = |flows: &[(usize, usize, f64)], unserved: f64| {
            flows.iter().map(|&(r, j, x)| x * cost[r * m + j]).sum::<f64>() + unserved * PENALTY
        };
        let (few, few_s) = timed(repeat, || fewsinks::solve(&supply, &capacity, &cost, PENALTY));
        let few = few?;
        let few_flows: Vec<(usize, usize, f64)> = few
            .flows
            .iter()
            .enumerate()
            .flat_map(|(r, f)| {
                f.iter()
                    .filter(|e| (e.0 as usize) < m)
                    .map(move |&(j, x)| (r, j as usize, x))
            })
            .collect();
        let few_unserved: f64 = (0..rows.len()).map(|r| few.unserved(r)).sum();
        let few_obj = objective(&few_flows, few_unserved);
        let (tp, simplex_s) = timed(repeat, || {
            let mut tp = Transport::new(&supply, &capacity, PENALTY);
            for r in 0..rows.len() {
                for j in 0..m {
                    if cost[r * m + j].is_finite() {
                        tp.add_arc(r, j, cost[r * m + j]);
                    }
                }
            }
            tp.solve().map(|_| tp)
        });
        let tp = tp?;
        let mut sx_flows = Vec::new();
        let mut k = 0;
        for r in 0..rows.len() {
            for j in 0..m {
                if cost[r * m + j].is_finite() {
                    sx_flows.push((r, j, tp.flow(k)));
                    k += 1;
                }
            }
        }
        let sx_unserved: f64 = (0..rows.len()).map(|r| tp.unserved(r)).sum();
        let sx_obj = objective(&sx_flows, sx_unserved);
        println!(
            "{label}: {} points ({} with ≥ 1 person) × {m} shelters, {arcs} arcs, {:.0} people, {:.0} places",
            n,
            rows.len(),
            supply.iter().sum::<f64>(),
            capacity.iter().sum::<f64>()
        );
        let (e2e_d, e2e_c) = (e2e_d?, e2e_c?);
        println!(
            "  end to end (float data): all times + fewsinks {e2e_dense:.3} s ({} paths), column generation {e2e_cg:.3} s ({} rounds, {} pivots)",
            e2e_d.timings.solver_steps, e2e_c.rounds, e2e_c.timings.solver_steps
        );
        println!("  time matrix {matrix_s:.3} s");
        println!(
            "  fewsinks {few_s:.4} s ({} paths): objective {few_obj:.0}, unserved {few_unserved:.0}",
            few.augmentations
        );
        println!(
            "  simplex  {simplex_s:.4} s ({} pivots): objective {sx_obj:.0}, unserved {sx_unserved:.0}",
            tp.pivots()
        );
        if (few_obj - sx_obj).abs() > 1e-9 * sx_obj {
            println!("  DISAGREE: fewsinks vs simplex");
            failed = true;
        }
        let peer = match &py {
            None => {
                println!("  SKIP networkx: no peer python (set RENXING_PEER_PYTHON or run scripts/setup_peers.sh)");
                None
            }
            Some(py) => {
                let o = Command::new(py)
                    .arg(repo.join("scripts/compare_assign_networkx.py"))
                    .arg(&dir)
                    .output()?;
                if !o.status.success() {
                    println!("  networkx failed: {}", String::from_utf8_lossy(&o.stderr).trim());
                    failed = true;
                    None
                } else {
                    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
                    let obj = v["objective"].as_f64().unwrap_or(f64::NAN);
                    let (b, s) = (
                        v["build_s"].as_f64().unwrap_or(f64::NAN),
                        v["solve_s"].as_f64().unwrap_or(f64::NAN),
                    );
                    println!(
                        "  networkx build {b:.2} s + network_simplex {s:.2} s: objective {obj:.0}, unserved {}",
                        v["unserved"]
                    );
                    let ok = (obj - few_obj).abs() <= 1e-9 * obj.abs();
                    println!(
                        "  objectives {}: ratio networkx ÷ fewsinks {:.0}, ÷ simplex {:.0}",
                        if ok { "equal" } else { "DIFFER" },
                        s / few_s,
                        s / simplex_s
                    );
                    failed |= !ok;
                    Some((b, s))
                }
            }
        };
        table.push((label, rows.len(), m, arcs, few_s, simplex_s, peer));
    }
    println!(
        "\n| instance | points × shelters | arcs | fewsinks | simplex | networkx solve | networkx ÷ fewsinks | networkx ÷ simplex |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (label, n, m, arcs, few_s, sx_s, peer) in table {
        let (p, r1, r2) = match peer {
            Some((_, s)) => (
                format!("{s:.2} s"),
                format!("{:.0}", s / few_s),
                format!("{:.0}", s / sx_s),
            ),
            None => ("—".into(), "—".into(), "—".into()),
        };
        println!(
            "| {label} | {n} × {m} | {arcs} | {:.1} ms | {:.1} ms | {p} | {r1} | {r2} |",
            few_s * 1e3,
            sx_s * 1e3
        );
    }
    if failed {
        return Err("a solver disagreed (see above)".into());
    }
    Ok(())
}
