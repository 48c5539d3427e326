//! Exports of a unit's subtree: observations as CSV (the import format plus status, source and
//! submitter, so a bureau can round-trip it), and the unit's children with every indicator of a
//! year as a GeoPackage layer (opens in QGIS as is).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use renxing_io::gpkg::{Feature, FieldType, GeometryKind, Layer, Value, write_geopackage};

use crate::AppState;
use crate::api::{code, year, year_opt};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn attachment(mime: &'static str, name: String, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/units/{code}/export.csv?year=` — the observations of the subtree the caller may
/// see (one year, or all without `year`).
pub async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = code(&c)?;
    let year = year_opt(&q)?;
    let by = caller.principal;
    let cc = c.clone();
    let rows = state.blocking(move |m| m.observations_under(&by, &cc, year)).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "unit",
        "indicator",
        "year",
        "value",
        "status",
        "source",
        "run_id",
        "submitter",
    ])
    .map_err(internal)?;
    for o in rows {
        w.write_record([
            o.unit,
            o.indicator,
            o.year.to_string(),
            ryu::Buffer::new().format(o.value).to_string(),
            o.status,
            o.source,
            o.run_id.unwrap_or_default(),
            o.submitter,
        ])
        .map_err(internal)?;
    }
    let body = w.into_inner().map_err(internal)?;
    let name = format!(
        "{c}-observations{}.csv",
        year.map_or(String::new(), |y| format!("-{y}"))
    );
    Ok(attachment("text/csv; charset=utf-8", name, body))
}

/// `GET /api/units/{code}/export.gpkg?year=` — one feature per child unit (or the unit itself
/// without children) with, per indicator, its value and warning level in `year`.
pub async fn gpkg(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = code(&c)?;
    let today = state.today();
    let year = year(&q, Some(today.0 - 1))?;
    let by = caller.principal;
    let cc = c.clone();
    let body = state
        .blocking(move |m| {
            let catalogue = m.catalogue()?;
            let units = m.map_units(&cc)?;
            let mut fields = vec![
                ("code".to_string(), FieldType::Text),
                ("name".to_string(), FieldType::Text),
                ("level".to_string(), FieldType::Text),
                ("year".to_string(), FieldType::Integer),
            ];
            for i in &catalogue.indicators {
                fields.push((i.code.clone(), FieldType::Real));
                fields.push((format!("{}_warning", i.code), FieldType::Text));
            }
            let mut features = Vec::new();
            for u in &units {
                let geometry = match &u.geometry {
                    Some(g) => {
                        let json: serde_json::Value = serde_json::from_str(g).map_err(|e| {
                            renxing_monitor::MonitorError::Storage(format!("unit {}: boundary: {e}", u.code))
                        })?;
                        Some(
                            renxing_io::admin::geojson_multipolygon(&json)
                                .map_err(|e| renxing_monitor::MonitorError::Storage(format!("unit {}: {e}", u.code)))?
                                .into(),
                        )
                    }
                    None => None,
                };
                let rows = m.indicators(&by, &u.code, year, today)?;
                let mut values = vec![
                    Value::Text(u.code.clone()),
                    Value::Text(u.name.clone()),
                    Value::Text(u.level.as_str().into()),
                    Value::Integer(year.into()),
                ];
                for r in rows {
                    values.push(r.value.map_or(Value::Null, Value::Real));
                    values.push(r.assessment.level.map_or(Value::Null, |l| {
                        Value::Text(
                            serde_json::to_value(l)
                                .ok()
                                .and_then(|v| v.as_str().map(String::from))
                                .unwrap_or_default(),
                        )
                    }));
                }
                features.push(Feature { geometry, values });
            }
            let layer = Layer {
                name: format!("units_{cc}_{year}"),
                description: format!("Monitoring indicators of the units of {cc} in {year} (renxing)"),
                kind: Some(GeometryKind::MultiPolygon),
                fields,
                features,
            };
            let dir = tempfile::tempdir().map_err(|e| renxing_monitor::MonitorError::Storage(e.to_string()))?;
            let path = dir.path().join("export.gpkg");
            write_geopackage(&path, &[layer]).map_err(|e| renxing_monitor::MonitorError::Storage(e.to_string()))?;
            std::fs::read(&path).map_err(|e| renxing_monitor::MonitorError::Storage(e.to_string()))
        })
        .await?;
    Ok(attachment(
        "application/geopackage+sqlite3",
        format!("{c}-{year}.gpkg"),
        body,
    ))
}
