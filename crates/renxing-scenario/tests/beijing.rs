//! Dual-use scenarios on the bundled Beijing core data (OSM 2012 roads, OSM 2015 facilities,
//! 2020 census totals of 东城区 and 西城区): catalogue capacities checked by hand, the
//! assignment checked against the LP over every point–facility pair, conservation and
//! capacities, the balance and the SEIR curve.

#![allow(clippy::needless_range_loop)] // parallel arrays indexed by point and facility

use highs::{HighsModelStatus, RowProblem, Sense};
use renxing_exam::standard::StandardProfile;
use renxing_net::cch::LinkCosts;
use renxing_scenario::Role;
use renxing_scenario::assign::{AssignOptions, Network, UNSERVED_PENALTY_S, assign};
use renxing_scenario::catalogue::{Rules, catalogue};

mod common;
use common::beijing_core::{beijing, shelter_instance};

#[test]
fn catalogue_capacities_follow_the_rules_by_hand() {
    let city = beijing();
    let std = StandardProfile::builtin("cn").unwrap();
    let rules = Rules::builtin_cn(&std).unwrap();
    let offers = catalogue(&city.facilities, &rules);
    assert!(!offers.is_empty());
    let share = std.get("dual_use.open_space_effective_share").unwrap();
    let mut parks = 0;
    for o in &offers {
        let f = &city.facilities[o.facility];
        match (o.role, f.site_area_m2) {
            (Role::EmergencyShelter, Some(a)) => {
                // 1 m²/person of effective area (GB 50413 §8.2.8).
                assert_eq!(o.capacity, Some((a * share / 1.0).floor()), "{}", f.id);
                parks += 1;
            }
            (Role::FixedShelter, Some(a)) => assert_eq!(o.capacity, Some((a * share / 2.0).floor())),
            (Role::FieldHospital, Some(a)) => {
                let beds = (a / 6.0 / 20.0).floor() * 20.0;
                assert_eq!(o.capacity, Some(beds), "{}", f.id);
            }
            (Role::EmergencyShelter | Role::FixedShelter | Role::FieldHospital, None) => {
                assert_eq!(o.capacity, None);
                assert!(o.basis.contains("capacity unknown"), "{}", o.basis);
            }
            (Role::IsolationRoom, _) => match f.rooms {
                Some(r) => assert_eq!(o.capacity, Some(r)),
                None => assert_eq!(o.capacity, None),
            },
            _ => {}
        }
    }
    assert!(parks > 10, "{parks} open spaces with an area");
    // No hotel in the 2015 extracts has a rooms tag: isolation capacity unknown, never guessed.
    let hotels: Vec<_> = offers.iter().filter(|o| o.role == Role::IsolationRoom).collect();
    assert!(!hotels.is_empty());
    assert!(hotels.iter().all(|o| o.capacity.is_none()));
}

/// The LP over every point–facility pair, solved by HiGHS (times from one shortest-path tree
/// per facility, computed here independently of the assignment's own searches).
fn dense_optimum(
    net: &Network,
    points: &[Option<renxing_net::snap::Snap>],
    amount: &[f64],
    fac: &[Option<renxing_net::snap::Snap>],
    cap: &[f64],
) -> (f64, f64) {
    let n = points.len();
    let mut cost = vec![vec![f64::INFINITY; fac.len()]; n];
    for (j, f) in fac.iter().enumerate() {
        let f = f.unwrap();
        let src: Vec<(u32, f64, u32)> = net.enter(&f).into_iter().map(|(v, c)| (v, c, 0)).collect();
        let (dist, _, _) = net.tree(&src);
        for i in 0..n {
            let p = points[i].unwrap();
            let mut best = net.direct(&p, &f).unwrap_or(f64::INFINITY);
            for (v, c) in net.leave(&p) {
                best = best.min(c + dist[v as usize]);
            }
            cost[i][j] = best;
        }
    }
    let mut pb = RowProblem::default();
    let mut x = Vec::new();
    for i in 0..n {
        for j in 0..fac.len() {
            if cost[i][j].is_finite() {
                x.push((i, j, pb.add_column(cost[i][j], 0.0..)));
            }
        }
    }
    let s: Vec<_> = (0..n).map(|_| pb.add_column(UNSERVED_PENALTY_S, 0.0..)).collect();
    for i in 0..n {
        let mut terms: Vec<_> = x.iter().filter(|e| e.0 == i).map(|e| (e.2, 1.0)).collect();
        terms.push((s[i], 1.0));
        pb.add_row(amount[i]..=amount[i], terms);
    }
    for j in 0..fac.len() {
        let terms: Vec<_> = x.iter().filter(|e| e.1 == j).map(|e| (e.2, 1.0)).collect();
        pb.add_row(..=cap[j], terms);
    }
    let mut m = pb.optimise(Sense::Minimise);
    m.make_quiet();
    let solved = m.solve();
    assert_eq!(solved.status(), HighsModelStatus::Optimal);
    let sol = solved.get_solution();
    let unserved: f64 = s.iter().map(|c| sol.columns()[c.index()]).sum();
    (solved.objective_value(), unserved)
}

#[test]
fn shelter_assignment_equals_the_full_lp_and_conserves_people() {
    assignment_against_the_full_lp(1.0);
}

/// A quarter of the capacity: most people cannot be served, facilities fill from their nearest
/// residents outwards and the duals of every facility bind.
#[test]
fn oversubscribed_assignment_equals_the_full_lp() {
    assignment_against_the_full_lp(0.25);
}

fn assignment_against_the_full_lp(cap_factor: f64) {
    let city = beijing();
    let std = StandardProfile::builtin("cn").unwrap();
    let rules = Rules::builtin_cn(&std).unwrap();
    let inst = shelter_instance(&city, &rules, cap_factor);
    let (psnap, amount, fsnap, cap) = (&inst.points, &inst.amount, &inst.facilities, &inst.capacity);
    let costs = LinkCosts::of(&city.graph);
    let net = Network {
        graph: &city.graph,
        costs: &costs,
        access_speed_mps: city.access,
    };
    println!(
        "{} points, {} shelters, capacity {:.0}, demand {:.0}",
        psnap.len(),
        cap.len(),
        cap.iter().sum::<f64>(),
        amount.iter().sum::<f64>()
    );
    assert!(psnap.len() > 500 && cap.len() >= 10);
    let (dense, dense_unserved) = dense_optimum(&net, psnap, amount, fsnap, cap);
    // Both methods: column generation from the 2 nearest (pricing rounds needed) and all
    // n × m times with shortest augmenting paths.
    let column_generation = AssignOptions {
        k: 2,
        max_rounds: 50,
        dense_up_to: 0,
    };
    let all_times = AssignOptions {
        dense_up_to: usize::MAX,
        ..AssignOptions::default()
    };
    for (method, opts) in [("column generation", column_generation), ("all times", all_times)] {
        let a = assign(&net, psnap, amount, fsnap, cap, opts).unwrap();
        // Conservation and capacities.
        for i in 0..psnap.len() {
            let got: f64 = a.flows.iter().filter(|f| f.point == i).map(|f| f.amount).sum::<f64>() + a.unserved[i];
            assert!(
                (got - amount[i]).abs() <= 1e-6 * amount[i].max(1.0),
                "{method}: point {i}: {got} vs {}",
                amount[i]
            );
        }
        for j in 0..cap.len() {
            assert!(
                a.load[j] <= cap[j] * (1.0 + 1e-9) + 1e-6,
                "{method}: facility {j} over capacity"
            );
        }
        // A basic solution: people of at most m points split between facilities or unserved.
        let mut arcs_per_point = vec![0usize; psnap.len()];
        for f in &a.flows {
            arcs_per_point[f.point] += 1;
        }
        let extra: usize = (0..psnap.len())
            .map(|i| (arcs_per_point[i] + usize::from(a.unserved[i] > 1e-9)).saturating_sub(1))
            .sum();
        assert!(
            extra <= cap.len(),
            "{method}: {extra} extra arcs for {} shelters",
            cap.len()
        );
        let unserved: f64 = a.unserved.iter().sum();
        let objective = a.total_time_s + UNSERVED_PENALTY_S * unserved;
        println!(
            "{method}: rounds {}, arcs {}, steps {}, objective {objective} vs dense LP {dense}; unserved {unserved} vs {dense_unserved}",
            a.rounds, a.arcs, a.timings.solver_steps
        );
        assert!(
            (objective - dense).abs() <= 1e-6 * dense.abs(),
            "{method}: {objective} vs {dense}"
        );
        assert!(
            (a.total_time_s - (dense - UNSERVED_PENALTY_S * dense_unserved)).abs() <= 1e-6 * a.total_time_s.max(1.0),
            "{method}: travel time {} vs {}",
            a.total_time_s,
            dense - UNSERVED_PENALTY_S * dense_unserved
        );
        if opts.dense_up_to == 0 {
            assert!(a.rounds >= 2, "k = 2 must need pricing rounds here");
        } else {
            assert_eq!(
                a.arcs,
                psnap.len() * cap.len(),
                "every point reaches every shelter here"
            );
        }
        if cap_factor < 1.0 {
            assert!(
                unserved > 0.1 * amount.iter().sum::<f64>(),
                "{method}: not oversubscribed: {unserved}"
            );
        }
    }
}

#[test]
fn census_totals_are_spread_and_seir_obeys_the_final_size_equation() {
    let city = beijing();
    assert_eq!(city.units.len(), 2);
    let total: f64 = city.people.iter().map(|p| p.count).sum();
    // 东城区 708,829 + 西城区 1,106,214 (7th census).
    assert!((total - 1_815_043.0).abs() < 1e-3, "{total}");
    // Unmitigated SEIR with R0 = 2.2: the attack rate z solves z = 1 − exp(−R0 z).
    let e = renxing_scenario::scenario::Epidemic {
        r0: 2.2,
        latent_days: 5.2,
        infectious_days: 2.3,
        initial_infected: 10.0,
        measures_day: None,
        r_after: None,
        source: "Li et al. 2020".into(),
    };
    let curve = renxing_scenario::demand::seir(&e, total, 400);
    let last = curve.last().unwrap();
    for row in &curve {
        assert!((row[1] + row[2] + row[3] + row[4] - total).abs() < 1e-6 * total);
    }
    let mut z: f64 = 0.5;
    for _ in 0..200 {
        z = 1.0 - (-2.2 * z).exp();
    }
    let attack = last[4] / total;
    assert!((attack - z).abs() < 1e-4, "attack rate {attack} vs final-size {z}");
}
