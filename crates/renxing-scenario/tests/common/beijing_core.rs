//! The Beijing core instance shared by the integration tests and the peer benchmark: OSM 2012
//! walk network, 2020 census totals of 东城区 and 西城区 spread by road length, OSM 2015
//! facilities (all bundled under `data/beijing`).

#![allow(dead_code)] // each user takes what it needs

use std::path::{Path, PathBuf};

use renxing_exam::population::{PopulationPoint, Unit, disaggregate_by_road_length};
use renxing_net::graph::Graph;
use renxing_net::profile::{Mode, Profile};
use renxing_net::snap::{Snap, SnapIndex};
use renxing_scenario::Role;
use renxing_scenario::catalogue::{Facility, Rules, catalogue};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct City {
    pub graph: Graph,
    pub units: Vec<Unit>,
    pub people: Vec<PopulationPoint>,
    pub facilities: Vec<Facility>,
    pub access: f64,
}

pub fn beijing() -> City {
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

/// Residents around the mapped emergency shelters and those shelters (snapped within 500 m),
/// with `cap_factor` × their capacity.
pub struct ShelterInstance {
    pub points: Vec<Option<Snap>>,
    pub amount: Vec<f64>,
    pub facilities: Vec<Option<Snap>>,
    pub capacity: Vec<f64>,
}

pub fn shelter_instance(city: &City, rules: &Rules, cap_factor: f64) -> ShelterInstance {
    let offers = catalogue(&city.facilities, rules);
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
    let facilities: Vec<_> = keep.iter().map(|&k| fsnap[k]).collect();
    let capacity: Vec<f64> = keep.iter().map(|&k| shelters[k].1 * cap_factor).collect();
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
    ShelterInstance {
        points: pts.iter().map(|p| idx.snap(&city.graph, p.lon, p.lat)).collect(),
        amount: pts.iter().map(|p| p.count).collect(),
        facilities,
        capacity,
    }
}
