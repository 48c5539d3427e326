//! Dual-use scenarios on the bundled Beijing core data (OSM 2012 roads, OSM 2015 facilities,
//! 2020 census totals of 东城区 and 西城区): catalogue capacities checked by hand, the
//! assignment checked against the LP over every point–facility pair, conservation and
//! capacities, the balance and the SEIR curve.

#![allow(clippy::needless_range_loop)] // parallel arrays indexed by point and facility

use std::path::{Path, PathBuf};

use highs::{HighsModelStatus, RowProblem, Sense};
use renxing_exam::population::{PopulationPoint, Unit, disaggregate_by_road_length};
use renxing_exam::standard::StandardProfile;
use renxing_net::cch::LinkCosts;
use renxing_net::graph::Graph;
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::SnapIndex;
use renxing_scenario::Role;
use renxing_scenario::assign::{AssignOptions, Network, UNSERVED_PENALTY_S, assign};
use renxing_scenario::catalogue::{Facility, Rules, catalogue};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct City {
    graph: Graph,
    units: Vec<Unit>,
    people: Vec<PopulationPoint>,
    facilities: Vec<Facility>,
    access: f64,
}

fn beijing() -> City {
    let d = repo().join("data/beijing");
    let road = renxing_io::network_csv::read_network_csv(
        &d.join("beijing_osm2012_nodes.csv"),
        &d.join("beijing_osm2012_edges.csv"),
        &Default::default(),
    )
    .unwrap();
    let profile = Profile::builtin(Mode::Walk);
    let graph = Graph::build(&road, &profile);
    let opts = renxing_io::admin::AdminOptions {
        code_field: Some("adcode".into()),
        name_field: Some("name".into()),
        crs: Some(renxing_geo::crs::Crs::Gcj02),
        ..Default::default()
    };
    let units: Vec<Unit> = renxing_io::admin::read_admin(&d.join("core_districts_gcj02.geojson"), &opts)
        .unwrap()
        .into_iter()
        .map(|u| Unit {
            code: u.code,
            name: u.name,
            geometry: u.geometry,
        })
        .collect();
    let totals = renxing_io::totals::read_totals(
        &d.join("census2020_district_population.csv"),
        "adcode",
        "resident_population_2020",
    )
    .unwrap();
    let t: Vec<Option<f64>> = units
        .iter()
        .map(|u| totals.iter().find(|(c, _)| c == &u.code).map(|x| x.1))
        .collect();
    let people = disaggregate_by_road_length(&graph, &units, &t, "census 2020").points;
    let mut facilities = Vec::new();
    for r in 5..=8 {
        let f = d.join(format!("osm2015_region{r}.osm"));
        let osm = renxing_io::osm::read_osm(&f).unwrap();
        for fac in renxing_io::osm::facilities(&osm) {
            facilities.push(Facility::from_osm(&fac, &f.display().to_string()));
        }
    }
    City {
        graph,
        units,
        people,
        facilities,
        access: profile.access_speed_mps(),
    }
}

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

/// The LP over every point–facility pair (costs from one backward tree per facility).
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
    let offers = catalogue(&city.facilities, &rules);
    let idx = SnapIndex::new(&city.graph);
    let shelters: Vec<(usize, f64)> = offers
        .iter()
        .filter(|o| o.role == Role::EmergencyShelter)
        .filter_map(|o| o.capacity.filter(|c| *c > 0.0).map(|c| (o.facility, c)))
        .collect();
    let fsnap: Vec<_> = shelters
        .iter()
        .map(|&(f, _)| idx.snap(&city.graph, city.facilities[f].lon, city.facilities[f].lat))
        .collect();
    let keep: Vec<usize> = (0..shelters.len())
        .filter(|&k| fsnap[k].is_some_and(|s| s.offset_m <= 500.0))
        .collect();
    let fsnap: Vec<_> = keep.iter().map(|&k| fsnap[k]).collect();
    let cap: Vec<f64> = keep.iter().map(|&k| shelters[k].1 * cap_factor).collect();
    // Residents around the mapped facilities (the 2015 extracts cover the north-east).
    let (mut w, mut s, mut e, mut n) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
    for &k in &keep {
        let f = &city.facilities[shelters[k].0];
        (w, s, e, n) = (w.min(f.lon), s.min(f.lat), e.max(f.lon), n.max(f.lat));
    }
    let pts: Vec<&PopulationPoint> = city
        .people
        .iter()
        .filter(|p| p.lon >= w && p.lon <= e && p.lat >= s && p.lat <= n && p.count > 0.0)
        .collect();
    let psnap: Vec<_> = pts.iter().map(|p| idx.snap(&city.graph, p.lon, p.lat)).collect();
    let amount: Vec<f64> = pts.iter().map(|p| p.count).collect();
    let costs = LinkCosts::of(&city.graph);
    let net = Network {
        graph: &city.graph,
        costs: &costs,
        access_speed_mps: city.access,
    };
    println!(
        "{} points, {} shelters, capacity {:.0}, demand {:.0}",
        pts.len(),
        cap.len(),
        cap.iter().sum::<f64>(),
        amount.iter().sum::<f64>()
    );
    assert!(pts.len() > 500 && cap.len() >= 10);
    let a = assign(
        &net,
        &psnap,
        &amount,
        &fsnap,
        &cap,
        AssignOptions { k: 2, max_rounds: 50 },
    )
    .unwrap();
    // Conservation and capacities.
    for i in 0..pts.len() {
        let got: f64 = a.flows.iter().filter(|f| f.point == i).map(|f| f.amount).sum::<f64>() + a.unserved[i];
        assert!(
            (got - amount[i]).abs() <= 1e-6 * amount[i].max(1.0),
            "point {i}: {got} vs {}",
            amount[i]
        );
    }
    for j in 0..cap.len() {
        assert!(a.load[j] <= cap[j] * (1.0 + 1e-9) + 1e-6, "facility {j} over capacity");
    }
    let unserved: f64 = a.unserved.iter().sum();
    let objective = a.total_time_s + UNSERVED_PENALTY_S * unserved;
    let (dense, dense_unserved) = dense_optimum(&net, &psnap, &amount, &fsnap, &cap);
    println!(
        "rounds {}, arcs {}, objective {objective} vs dense {dense}; unserved {unserved} vs {dense_unserved}",
        a.rounds, a.arcs
    );
    assert!(
        (objective - dense).abs() <= 1e-6 * dense.abs(),
        "{objective} vs {dense}"
    );
    assert!((a.total_time_s - (dense - UNSERVED_PENALTY_S * dense_unserved)).abs() <= 1e-6 * a.total_time_s.max(1.0));
    assert!(a.rounds >= 2, "k = 2 must need pricing rounds here");
    if cap_factor < 1.0 {
        assert!(
            unserved > 0.1 * amount.iter().sum::<f64>(),
            "not oversubscribed: {unserved}"
        );
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
