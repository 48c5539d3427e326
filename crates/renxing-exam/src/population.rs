//! Population as weighted points, and how it gets there.
//!
//! Renxing works with population points — grid-cell centres of a population raster, points from a
//! CSV, or admin-unit totals **disaggregated** onto places where people plausibly are:
//!
//! - by road length: each graph node weighs half the length of the links that meet there, and a
//!   unit's total is shared among the nodes inside it in proportion (a proxy for built-up density
//!   when nothing finer exists);
//! - by building floor area: each building weighs footprint area × levels (1 where untagged), and
//!   a unit's total is shared among the buildings whose centroid lies inside it.
//!
//! The method travels with the points ([`PopulationSet::method`]) into every output.

use geo::{BoundingRect, Contains};
use geo_types::{MultiPolygon, Point, Rect};
use serde::Serialize;

use renxing_net::graph::Graph;

/// An admin unit for analysis: code, name and WGS84 geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub geometry: MultiPolygon<f64>,
}

/// People at a place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationPoint {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
    pub count: f64,
    /// Index of the admin unit containing it, if any.
    pub unit: Option<usize>,
}

/// Population points plus how they were made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationSet {
    pub points: Vec<PopulationPoint>,
    /// e.g. `grid: wuhan_pop.tif (100 m cells)`, `disaggregated by road length from census totals`.
    pub method: String,
    /// Totals that could not be placed: (unit code, people), e.g. a unit with no road inside.
    pub unallocated: Vec<(String, f64)>,
}

/// Point-in-unit lookup with bounding-box prefiltering; the first unit containing a point wins.
pub struct UnitLocator<'a> {
    units: &'a [Unit],
    boxes: Vec<Option<Rect<f64>>>,
}

impl<'a> UnitLocator<'a> {
    pub fn new(units: &'a [Unit]) -> Self {
        UnitLocator {
            units,
            boxes: units.iter().map(|u| u.geometry.bounding_rect()).collect(),
        }
    }

    pub fn locate(&self, lon: f64, lat: f64) -> Option<usize> {
        let p = Point::new(lon, lat);
        self.units.iter().zip(&self.boxes).position(|(u, b)| {
            b.is_some_and(|b| lon >= b.min().x && lon <= b.max().x && lat >= b.min().y && lat <= b.max().y)
                && u.geometry.contains(&p)
        })
    }
}

/// Share each unit's total among weighted places inside it.
fn share_totals(
    units: &[Unit],
    totals: &[Option<f64>],
    places: Vec<(String, f64, f64, f64)>,
    method: String,
) -> PopulationSet {
    let loc = UnitLocator::new(units);
    let located: Vec<Option<usize>> = places.iter().map(|p| loc.locate(p.1, p.2)).collect();
    let mut weight = vec![0.0; units.len()];
    // Only positive, finite weights count (a negative `building:levels` must not shrink a unit's
    // weight and inflate its other places).
    let usable = |w: f64| w.is_finite() && w > 0.0;
    for (p, u) in places.iter().zip(&located) {
        if let Some(u) = u
            && usable(p.3)
        {
            weight[*u] += p.3;
        }
    }
    let mut points = Vec::new();
    for (p, u) in places.into_iter().zip(located) {
        let Some(u) = u else { continue };
        let Some(total) = totals[u] else { continue };
        if weight[u] > 0.0 && usable(p.3) {
            points.push(PopulationPoint {
                id: p.0,
                lon: p.1,
                lat: p.2,
                count: total * p.3 / weight[u],
                unit: Some(u),
            });
        }
    }
    let unallocated = units
        .iter()
        .enumerate()
        .filter_map(|(i, u)| match totals[i] {
            Some(t) if weight[i] <= 0.0 && t > 0.0 => Some((u.code.clone(), t)),
            _ => None,
        })
        .collect();
    PopulationSet {
        points,
        method,
        unallocated,
    }
}

/// Disaggregate unit totals onto graph nodes by road length (half of each incident link).
pub fn disaggregate_by_road_length(
    graph: &Graph,
    units: &[Unit],
    totals: &[Option<f64>],
    source: &str,
) -> PopulationSet {
    // Road links and junctions only: turn-restriction copies would count twice.
    let mut w = vec![0.0; graph.road_nodes];
    for l in &graph.links[..graph.road_links] {
        w[graph.junction(l.a) as usize] += l.length_m / 2.0;
        w[graph.junction(l.b) as usize] += l.length_m / 2.0;
    }
    let places = (0..graph.road_nodes)
        .map(|i| (format!("node{i}"), graph.lon[i], graph.lat[i], w[i]))
        .collect();
    share_totals(
        units,
        totals,
        places,
        format!("admin-unit totals from {source} disaggregated onto road-network nodes by road length"),
    )
}

/// A building for floor-area disaggregation: id, centroid lon/lat, floor area (m²).
pub struct BuildingWeight {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
    pub floor_area_m2: f64,
}

/// Disaggregate unit totals onto buildings by floor area.
pub fn disaggregate_by_floor_area(
    buildings: &[BuildingWeight],
    units: &[Unit],
    totals: &[Option<f64>],
    source: &str,
) -> PopulationSet {
    let places = buildings
        .iter()
        .map(|b| (b.id.clone(), b.lon, b.lat, b.floor_area_m2))
        .collect();
    share_totals(
        units,
        totals,
        places,
        format!("admin-unit totals from {source} disaggregated onto buildings by floor area"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn square(code: &str, x0: f64) -> Unit {
        let p =
            polygon![(x: x0, y: 0.0), (x: x0 + 1.0, y: 0.0), (x: x0 + 1.0, y: 1.0), (x: x0, y: 1.0), (x: x0, y: 0.0)];
        Unit {
            code: code.into(),
            name: code.into(),
            geometry: MultiPolygon(vec![p]),
        }
    }

    #[test]
    fn floor_area_shares_each_total_inside_its_unit() {
        let units = vec![square("a", 0.0), square("b", 1.0), square("c", 5.0)];
        let b = |id: &str, x: f64, a: f64| BuildingWeight {
            id: id.into(),
            lon: x,
            lat: 0.5,
            floor_area_m2: a,
        };
        let blds = vec![
            b("1", 0.2, 100.0),
            b("2", 0.7, 300.0),
            b("3", 1.5, 50.0),
            b("4", 3.0, 999.0),
        ];
        let set = disaggregate_by_floor_area(&blds, &units, &[Some(1000.0), Some(10.0), Some(5.0)], "t");
        let counts: Vec<f64> = set.points.iter().map(|p| p.count).collect();
        assert_eq!(counts, vec![250.0, 750.0, 10.0]);
        // unit c has a total but no building: reported, not silently lost
        assert_eq!(set.unallocated, vec![("c".to_string(), 5.0)]);
        assert!(set.method.contains("floor area"));
    }
}
