//! The GeoPackage layers of a shelter-exam run.
//!
//! | layer | geometry | one feature per |
//! |---|---|---|
//! | `admin_units` | MultiPolygon | admin unit, with every exam figure of [`UnitResult`] |
//! | `shelters` | Point | shelter, with its unit, snap distance and the people it serves |
//! | `population_access` | Point | population point (grid cell centre, node or building), with its nearest shelter and walking distance |
//! | `walk_network` | LineString | link of the walking graph used (largest connected component), with its class and source id |

use geo_types::{Coord, Geometry, LineString, Point};
use renxing_exam::shelter_exam::{Band, UnitResult};
use renxing_io::gpkg::{Feature, FieldType, GeometryKind, Layer, Value};

use crate::ReportInput;

fn real(v: Option<f64>) -> Value {
    match v {
        Some(x) if x.is_finite() => Value::Real(x),
        _ => Value::Null,
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn unit_values(r: &UnitResult) -> Vec<Value> {
    vec![
        text(&r.code),
        text(&r.name),
        Value::Real(r.population),
        Value::Integer(r.shelters as i64),
        Value::Integer(r.shelters_with_area as i64),
        Value::Real(r.known_area_m2),
        text(&r.capacity_status),
        real(r.per_capita_m2),
        Value::Real(r.per_capita_target_m2),
        real(r.share_within_emergency),
        real(r.share_within_fixed),
        real(r.share_within_fixed_max),
        Value::Real(r.population_beyond_any),
        real(r.mean_distance_m),
        real(r.max_distance_m),
        Value::Integer(r.deficient as i64),
        r.rank.map_or(Value::Null, |k| Value::Integer(k as i64)),
        text(&r.deficiencies.join("; ")),
    ]
}

const UNIT_FIELDS: &[(&str, FieldType)] = &[
    ("code", FieldType::Text),
    ("name", FieldType::Text),
    ("population", FieldType::Real),
    ("shelters", FieldType::Integer),
    ("shelters_with_area", FieldType::Integer),
    ("known_area_m2", FieldType::Real),
    ("capacity_status", FieldType::Text),
    ("per_capita_m2", FieldType::Real),
    ("per_capita_target_m2", FieldType::Real),
    ("share_within_emergency", FieldType::Real),
    ("share_within_fixed", FieldType::Real),
    ("share_within_fixed_max", FieldType::Real),
    ("population_beyond_any", FieldType::Real),
    ("mean_distance_m", FieldType::Real),
    ("max_distance_m", FieldType::Real),
    ("deficient", FieldType::Integer),
    ("rank", FieldType::Integer),
    ("deficiencies", FieldType::Text),
];

fn fields(spec: &[(&str, FieldType)]) -> Vec<(String, FieldType)> {
    spec.iter().map(|(n, t)| (n.to_string(), *t)).collect()
}

/// All result layers of a run.
pub fn result_layers(input: &ReportInput) -> Vec<Layer> {
    let exam = input.exam;
    let units = Layer {
        name: "admin_units".into(),
        description: "Shelter exam per admin unit".into(),
        kind: Some(GeometryKind::MultiPolygon),
        fields: fields(UNIT_FIELDS),
        features: input
            .units
            .iter()
            .zip(&exam.units)
            .map(|(u, r)| Feature {
                geometry: Some(Geometry::MultiPolygon(u.geometry.clone())),
                values: unit_values(r),
            })
            .collect(),
    };
    let unit_code = |u: Option<usize>| u.map_or(Value::Null, |i| text(&input.units[i].code));
    let shelters = Layer {
        name: "shelters".into(),
        description: "Shelters with their admin unit, snap distance and people served".into(),
        kind: Some(GeometryKind::Point),
        fields: fields(&[
            ("shelter_id", FieldType::Text),
            ("name", FieldType::Text),
            ("kind", FieldType::Text),
            ("area_m2", FieldType::Real),
            ("unit_code", FieldType::Text),
            ("snap_m", FieldType::Real),
            ("population_served", FieldType::Real),
        ]),
        features: input
            .shelters
            .iter()
            .zip(&exam.shelters)
            .map(|(s, r)| Feature {
                geometry: Some(Geometry::Point(Point::new(s.lon, s.lat))),
                values: vec![
                    text(&s.id),
                    text(&s.name),
                    text(&s.kind),
                    real(s.area_m2),
                    unit_code(r.unit),
                    real(r.snap_m),
                    Value::Real(r.population_served),
                ],
            })
            .collect(),
    };
    let population = Layer {
        name: "population_access".into(),
        description: format!(
            "Population points and their nearest shelter on foot ({})",
            input.population.method
        ),
        kind: Some(GeometryKind::Point),
        fields: fields(&[
            ("point_id", FieldType::Text),
            ("population", FieldType::Real),
            ("unit_code", FieldType::Text),
            ("nearest_shelter", FieldType::Text),
            ("distance_m", FieldType::Real),
            ("time_s", FieldType::Real),
            ("snap_m", FieldType::Real),
            ("within_emergency", FieldType::Integer),
            ("within_fixed", FieldType::Integer),
            ("beyond_any", FieldType::Integer),
        ]),
        features: input
            .population
            .points
            .iter()
            .zip(&exam.points)
            .map(|(pt, r)| {
                let d = r.distance_m;
                let flag = |ok: bool| Value::Integer(ok as i64);
                Feature {
                    geometry: Some(Geometry::Point(Point::new(pt.lon, pt.lat))),
                    values: vec![
                        text(&pt.id),
                        Value::Real(pt.count),
                        unit_code(pt.unit),
                        r.shelter.map_or(Value::Null, |s| text(&input.shelters[s].id)),
                        real(d),
                        real(r.time_s),
                        real(Some(r.snap_m)),
                        flag(r.band <= Band::Emergency),
                        flag(r.band <= Band::Fixed),
                        flag(r.band == Band::Beyond),
                    ],
                }
            })
            .collect(),
    };
    let g = input.graph;
    let network = Layer {
        name: "walk_network".into(),
        description: "Walking network used (largest connected component)".into(),
        kind: Some(GeometryKind::LineString),
        fields: fields(&[
            ("highway", FieldType::Text),
            ("length_m", FieldType::Real),
            ("source_id", FieldType::Text),
        ]),
        features: (0..g.road_links)
            .map(|li| {
                let line: Vec<Coord<f64>> = g.link_polyline(li).into_iter().map(|(x, y)| Coord { x, y }).collect();
                let l = &g.links[li];
                let e = &input.road.edges[l.source_edge];
                Feature {
                    geometry: Some(Geometry::LineString(LineString(line))),
                    values: vec![text(&e.highway), Value::Real(l.length_m), text(&e.source_id)],
                }
            })
            .collect(),
    };
    vec![units, shelters, population, network]
}
