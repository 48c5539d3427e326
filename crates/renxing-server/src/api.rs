//! The JSON API under `/api` (documented in [`crate::openapi`]).

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use renxing_monitor::access::{Principal, Role};
use renxing_monitor::plan::{Decision, Plan, PlanIn};
use renxing_monitor::store::ObservationIn;
use renxing_monitor::unit::Unit;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value as JsonValue, json};

use crate::AppState;
use crate::auth::{Bearer, Caller};
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/api/root", get(root))
        .route("/api/catalogue", get(catalogue))
        .route("/api/me", get(me))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/units/{code}", get(unit))
        .route("/api/units/{code}/indicators", get(indicators))
        .route("/api/units/{code}/series", get(series))
        .route("/api/units/{code}/map", get(map))
        .route("/api/units/{code}/rollup", get(rollup))
        .route("/api/units/{code}/transmission", get(transmission))
        .route("/api/units/{code}/report", get(report))
        .route("/api/units/{code}/observations", put(put_observations))
        .route("/api/units/{code}/targets", put(put_targets))
        .route("/api/units/{code}/approve", post(approve))
        .route("/api/units/{code}/export.csv", get(crate::export::csv))
        .route("/api/units/{code}/export.gpkg", get(crate::export::gpkg))
        .route("/api/units/{code}/plans", get(plans).post(create_plan))
        .route("/api/plans/{id}", get(plan).put(update_plan).delete(withdraw_plan))
        .route("/api/plans/{id}/submit", post(submit_plan))
        .route("/api/plans/{id}/review", post(review_plan))
        .route("/api/units/{code}/users", get(users).post(add_user))
        .route("/api/users/{name}", delete(remove_user))
        .route("/api/me/password", put(change_password))
        .route("/api/import", post(import))
        .route("/api/warnings", get(warnings))
        .route("/api/audit/verify", get(audit_verify))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint (see /api/openapi.json)") })
}

/// A JSON body whose errors name the offending field (`observations[2].year`), with 413 for
/// bodies over the limit.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de).map(Body).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = if path == "." { "body".to_string() } else { path };
            ApiError::field(field, format!("invalid JSON body: {inner}"))
        })
    }
}

pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> ApiResult<Bytes> {
    Bytes::from_request(req, state).await.map_err(|e: BytesRejection| {
        let status = e.status();
        let mut err = ApiError::new(status, e.body_text());
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            err.message = "request body too large".into();
            err.field = Some("body".into());
        }
        err
    })
}

/// A query parameter, required.
fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> ApiResult<&'a str> {
    q.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::field(name, format!("query parameter {name} is required")))
}

/// The `year` parameter (1949–2100), if given.
pub(crate) fn year_opt(q: &HashMap<String, String>) -> ApiResult<Option<i32>> {
    q.get("year")
        .map(|y| {
            y.parse::<i32>()
                .ok()
                .filter(|y| (1949..=2100).contains(y))
                .ok_or_else(|| ApiError::field("year", format!("year {y:?} is not a year in 1949–2100")))
        })
        .transpose()
}

/// The `year` parameter, or `default`, or a 400 when neither.
pub(crate) fn year(q: &HashMap<String, String>, default: Option<i32>) -> ApiResult<i32> {
    year_opt(q)?
        .or(default)
        .ok_or_else(|| ApiError::field("year", "query parameter year is required"))
}

/// A unit code as the division codes write it: 6 digits down to counties, 9 for townships;
/// anything else is a 400 before it reaches the store.
pub(crate) fn code(c: &str) -> ApiResult<String> {
    if matches!(c.len(), 6 | 9) && c.bytes().all(|b| b.is_ascii_digit()) {
        Ok(c.to_string())
    } else {
        Err(ApiError::field(
            "code",
            format!("unit code {c:?} is not 6 digits (county and above) or 9 (township)"),
        ))
    }
}

#[derive(Serialize)]
struct UnitBrief {
    code: String,
    name: String,
    level: &'static str,
}

impl From<&Unit> for UnitBrief {
    fn from(u: &Unit) -> Self {
        UnitBrief {
            code: u.code.clone(),
            name: u.name.clone(),
            level: u.level.as_str(),
        }
    }
}

#[derive(Serialize)]
struct UnitView {
    code: String,
    name: String,
    level: &'static str,
    parent: Option<String>,
    path: String,
    has_boundary: bool,
    children: Vec<UnitBrief>,
    ancestors: Vec<UnitBrief>,
}

async fn health() -> Json<JsonValue> {
    Json(json!({ "ok": true }))
}

async fn unit_view(state: &AppState, c: String) -> ApiResult<UnitView> {
    state
        .blocking(move |m| {
            let f = m.unit_family(&c)?;
            Ok(UnitView {
                level: f.unit.level.as_str(),
                has_boundary: f.has_boundary,
                code: f.unit.code,
                name: f.unit.name,
                parent: f.unit.parent,
                path: f.unit.path,
                children: f.children.iter().map(UnitBrief::from).collect(),
                ancestors: f.ancestors.iter().map(UnitBrief::from).collect(),
            })
        })
        .await
}

/// The top unit below the nation that the database holds (e.g. a province), else the nation.
async fn root(State(state): State<AppState>) -> ApiResult<Json<UnitView>> {
    let top = state
        .blocking(|m| {
            let roots = m.roots()?;
            let Some(r) = roots.first() else {
                return Err(renxing_monitor::MonitorError::NotFound(
                    "any unit (run monitor init)".into(),
                ));
            };
            let kids = m.children(&r.code)?;
            Ok(if kids.len() == 1 {
                kids[0].code.clone()
            } else {
                r.code.clone()
            })
        })
        .await?;
    Ok(Json(unit_view(&state, top).await?))
}

async fn unit(State(state): State<AppState>, Path(c): Path<String>) -> ApiResult<Json<UnitView>> {
    Ok(Json(unit_view(&state, code(&c)?).await?))
}

async fn catalogue(State(state): State<AppState>) -> ApiResult<Json<JsonValue>> {
    let c = state.blocking(|m| m.catalogue()).await?;
    Ok(Json(json!({ "indicators": c.indicators })))
}

async fn me(caller: Caller) -> Json<JsonValue> {
    Json(match &caller.principal {
        Principal::Public => json!({ "public": true }),
        Principal::User { name, role, unit, .. } => json!({ "name": name, "role": role.as_str(), "unit": unit }),
    })
}

/// The client's address, when the server was started with connection info.
struct PeerIp(Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()),
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginIn {
    name: String,
    password: String,
}

/// 429 with Retry-After while `name` or `ip` has used up its failed password attempts.
fn not_blocked(state: &AppState, name: &str, ip: Option<std::net::IpAddr>) -> ApiResult<()> {
    match state.limiter.blocked(name, ip) {
        Some(wait) => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many failed password attempts: try again in {wait} s"),
            );
            e.retry_after = Some(wait);
            Err(e)
        }
        None => Ok(()),
    }
}

async fn login(
    State(state): State<AppState>,
    PeerIp(ip): PeerIp,
    Body(b): Body<LoginIn>,
) -> ApiResult<Json<JsonValue>> {
    if b.name.len() > 64 || b.password.len() > 1024 {
        return Err(ApiError::field("name", "name ≤ 64 and password ≤ 1024 bytes"));
    }
    not_blocked(&state, &b.name, ip)?;
    let (name, password) = (b.name.clone(), b.password);
    // argon2 runs for tens of milliseconds: no queue slot held meanwhile.
    match state.blocking_unqueued(move |m| m.login(&name, &password)).await {
        Ok((token, p)) => {
            state.limiter.succeeded(&b.name);
            let Principal::User { name, role, unit, .. } = p else {
                return Err(ApiError::unauthorized("wrong name or password"));
            };
            Ok(Json(
                json!({ "token": token, "name": name, "role": role.as_str(), "unit": unit }),
            ))
        }
        Err(e) if e.status == StatusCode::FORBIDDEN => {
            state.limiter.failed(&b.name, ip);
            Err(ApiError::unauthorized("wrong name or password"))
        }
        Err(e) => Err(e),
    }
}

async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<JsonValue>> {
    caller.user()?;
    let token = caller.token.unwrap_or_default();
    let ended = state.blocking(move |m| m.logout(&token)).await?;
    Ok(Json(json!({ "ended": ended })))
}

/// The busiest response: serialised straight from the rows (no JSON tree in between).
#[derive(Serialize)]
struct IndicatorsOut {
    unit: String,
    year: i32,
    indicators: Vec<renxing_monitor::store::IndicatorRow>,
}

async fn indicators(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(c): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<IndicatorsOut>> {
    let c = code(&c)?;
    let today = state.today();
    let y = year(&q, Some(today.0 - 1))?;
    let cc = c.clone();
    // The token is checked in the statement that reads the indicators.
    let (_, rows) = state
        .blocking(move |m| m.indicators_as(bearer.0.as_deref(), &cc, y, today))
        .await?;
    Ok(Json(IndicatorsOut {
        unit: c,
        year: y,
        indicators: rows,
    }))
}

async fn series(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<renxing_monitor::store::Series>> {
    let c = code(&c)?;
    let ind = param(&q, "indicator")?.to_string();
    let by = caller.principal;
    Ok(Json(state.blocking(move |m| m.series(&by, &c, &ind)).await?))
}

async fn map(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = code(&c)?;
    let today = state.today();
    let ind = param(&q, "indicator")?.to_string();
    let y = year(&q, Some(today.0 - 1))?;
    let by = caller.principal;
    let rows = state.blocking(move |m| m.map(&by, &c, &ind, y, today)).await?;
    // Boundaries are stored as GeoJSON text: spliced in as they are.
    let mut features = Vec::with_capacity(rows.len());
    for (u, r) in rows {
        let geometry = match u.geometry {
            Some(g) => serde_json::value::RawValue::from_string(g)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("unit {}: {e}", u.code)))?,
            None => serde_json::value::RawValue::from_string("null".into()).unwrap_or_default(),
        };
        features.push(json!({
            "type": "Feature",
            "properties": {
                "code": u.code, "name": u.name, "level": u.level.as_str(),
                "value": r.value, "status": r.status, "target": r.target,
                "warning": r.assessment.level,
            },
            "geometry": geometry,
        }));
    }
    let body = json!({ "type": "FeatureCollection", "features": features });
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body.to_string()).into_response())
}

async fn rollup(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<JsonValue>> {
    let c = code(&c)?;
    let ind = param(&q, "indicator")?.to_string();
    let y = year(&q, None)?;
    let by = caller.principal;
    let (cc, ii) = (c.clone(), ind.clone());
    let r = state.blocking(move |m| m.rollup(&by, &cc, &ii, y)).await?;
    Ok(Json(json!({ "unit": c, "indicator": ind, "year": y, "rollup": r })))
}

async fn transmission(
    State(state): State<AppState>,
    Path(c): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<renxing_monitor::store::Transmission>> {
    let c = code(&c)?;
    let ind = param(&q, "indicator")?.to_string();
    let y = year(&q, None)?;
    Ok(Json(state.blocking(move |m| m.transmission(&c, &ind, y)).await?))
}

async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = code(&c)?;
    let today = state.today();
    let y = year(&q, Some(today.0 - 1))?;
    let format = q.get("format").map_or("json", String::as_str).to_string();
    if !matches!(format.as_str(), "json" | "md") {
        return Err(ApiError::field("format", "json or md"));
    }
    let by = caller.principal;
    let r = state.blocking(move |m| m.report(&by, &c, y, today)).await?;
    Ok(if format == "md" {
        (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            r.to_markdown(),
        )
            .into_response()
    } else {
        Json(r).into_response()
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationsIn {
    observations: Vec<ObservationIn>,
    /// Where the values come from (default: "api").
    #[serde(default)]
    source: Option<String>,
    /// The engine run that computed them, if any.
    #[serde(default)]
    run_id: Option<String>,
}

/// At most this many rows in one JSON batch (files go through `/api/import`).
const MAX_BATCH: usize = 10_000;

/// A JSON batch holds 1 to [`MAX_BATCH`] rows.
fn batch_size(field: &str, len: usize) -> ApiResult<()> {
    if len == 0 || len > MAX_BATCH {
        return Err(ApiError::field(field, format!("1 to {MAX_BATCH} {field} per request")));
    }
    Ok(())
}

async fn put_observations(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Body(b): Body<ObservationsIn>,
) -> ApiResult<Json<JsonValue>> {
    let c = code(&c)?;
    let by = caller.user()?.clone();
    batch_size("observations", b.observations.len())?;
    let source = b.source.unwrap_or_else(|| "api".into());
    if source.len() > 200 || b.run_id.as_ref().is_some_and(|r| r.len() > 200) {
        return Err(ApiError::field("source", "source and run_id ≤ 200 bytes"));
    }
    let n = state
        .blocking(move |m| m.submit(&by, &c, &b.observations, &source, b.run_id.as_deref()))
        .await?;
    Ok(Json(json!({ "accepted": n })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsIn {
    targets: Vec<ObservationIn>,
    basis: String,
}

async fn put_targets(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Body(b): Body<TargetsIn>,
) -> ApiResult<Json<JsonValue>> {
    let c = code(&c)?;
    let by = caller.user()?.clone();
    batch_size("targets", b.targets.len())?;
    if b.basis.trim().is_empty() || b.basis.len() > 500 {
        return Err(ApiError::field(
            "basis",
            "the plan the targets come from (or \"example\"), ≤ 500 bytes",
        ));
    }
    let n = state
        .blocking(move |m| m.set_targets(&by, &c, &b.targets, &b.basis))
        .await?;
    Ok(Json(json!({ "accepted": n })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveIn {
    year: i32,
    #[serde(default)]
    indicator: Option<String>,
}

async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Body(b): Body<ApproveIn>,
) -> ApiResult<Json<JsonValue>> {
    let c = code(&c)?;
    let by = caller.user()?.clone();
    let n = state
        .blocking(move |m| m.approve(&by, &c, b.year, b.indicator.as_deref()))
        .await?;
    Ok(Json(json!({ "approved": n })))
}

async fn plans(State(state): State<AppState>, bearer: Bearer, Path(c): Path<String>) -> ApiResult<Json<JsonValue>> {
    let c = code(&c)?;
    let cc = c.clone();
    let plans = state.blocking_as(bearer, move |m, by| m.plans(by, &cc)).await?;
    Ok(Json(json!({ "unit": c, "plans": plans })))
}

async fn create_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Body(b): Body<PlanIn>,
) -> ApiResult<Json<Plan>> {
    let c = code(&c)?;
    let by = caller.user()?.clone();
    plan_size(&b)?;
    Ok(Json(state.blocking(move |m| m.create_plan(&by, &c, &b)).await?))
}

/// A plan may have no targets yet, but not more than a batch.
fn plan_size(p: &PlanIn) -> ApiResult<()> {
    if p.targets.len() > MAX_BATCH {
        return Err(ApiError::field("targets", format!("at most {MAX_BATCH} targets")));
    }
    Ok(())
}

/// A plan id from the path (a positive integer).
fn plan_id(id: &str) -> ApiResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| ApiError::field("id", format!("plan id {id:?} is not a positive integer")))
}

async fn plan(State(state): State<AppState>, bearer: Bearer, Path(id): Path<String>) -> ApiResult<Json<Plan>> {
    let id = plan_id(&id)?;
    Ok(Json(state.blocking_as(bearer, move |m, by| m.plan(by, id)).await?))
}

async fn update_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<PlanIn>,
) -> ApiResult<Json<Plan>> {
    let id = plan_id(&id)?;
    let by = caller.user()?.clone();
    plan_size(&b)?;
    Ok(Json(state.blocking(move |m| m.update_plan(&by, id, &b)).await?))
}

async fn withdraw_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<JsonValue>> {
    let id = plan_id(&id)?;
    let by = caller.user()?.clone();
    state.blocking(move |m| m.withdraw_plan(&by, id)).await?;
    Ok(Json(json!({ "withdrawn": id })))
}

async fn submit_plan(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Plan>> {
    let id = plan_id(&id)?;
    let by = caller.user()?.clone();
    Ok(Json(state.blocking(move |m| m.submit_plan(&by, id)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewIn {
    decision: Decision,
    #[serde(default)]
    comment: Option<String>,
}

async fn review_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<ReviewIn>,
) -> ApiResult<Json<Plan>> {
    let id = plan_id(&id)?;
    let by = caller.user()?.clone();
    if b.comment.as_ref().is_some_and(|c| c.len() > 2000) {
        return Err(ApiError::field("comment", "at most 2,000 bytes"));
    }
    Ok(Json(
        state
            .blocking(move |m| m.review_plan(&by, id, b.decision, b.comment.as_deref()))
            .await?,
    ))
}

async fn users(State(state): State<AppState>, caller: Caller, Path(c): Path<String>) -> ApiResult<Json<JsonValue>> {
    let c = code(&c)?;
    let by = caller.user()?.clone();
    let cc = c.clone();
    let users = state.blocking(move |m| m.users_under(&by, &cc)).await?;
    Ok(Json(json!({ "unit": c, "users": users })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserIn {
    name: String,
    role: String,
    #[serde(default)]
    password: Option<String>,
}

/// An admin adds a user on a unit of its subtree; the API token is in this answer only.
async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(c): Path<String>,
    Body(b): Body<UserIn>,
) -> ApiResult<Json<JsonValue>> {
    let c = code(&c)?;
    let by = caller.user()?.clone();
    let role = Role::parse(&b.role).ok_or_else(|| ApiError::field("role", "viewer, editor, reviewer or admin"))?;
    if b.password.as_ref().is_some_and(|p| p.len() > 1024) {
        return Err(ApiError::field("password", "at most 1,024 bytes"));
    }
    let (name, cc) = (b.name.clone(), c.clone());
    let token = state
        .blocking(move |m| m.add_user(Some(&by), &b.name, &cc, role, b.password.as_deref()))
        .await?;
    Ok(Json(
        json!({ "name": name, "unit": c, "role": role.as_str(), "token": token }),
    ))
}

async fn remove_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<JsonValue>> {
    let by = caller.user()?.clone();
    if name.is_empty() || name.len() > 64 {
        return Err(ApiError::field("name", "1–64 characters"));
    }
    let n = name.clone();
    state.blocking(move |m| m.remove_user(&by, &n)).await?;
    Ok(Json(json!({ "removed": name })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordIn {
    #[serde(default)]
    current: Option<String>,
    new: String,
}

/// The caller's own password; a wrong current password counts as a failed login (rate limit).
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    PeerIp(ip): PeerIp,
    Body(b): Body<PasswordIn>,
) -> ApiResult<Json<JsonValue>> {
    let by = caller.user()?.clone();
    if b.new.len() > 1024 || b.current.as_ref().is_some_and(|c| c.len() > 1024) {
        return Err(ApiError::field("new", "passwords of at most 1,024 bytes"));
    }
    let name = by.name().to_string();
    not_blocked(&state, &name, ip)?;
    match state
        .blocking_unqueued(move |m| m.change_password(&by, b.current.as_deref(), &b.new))
        .await
    {
        Ok(ended) => Ok(Json(json!({ "changed": true, "sessions_ended": ended }))),
        Err(e) if e.status == StatusCode::FORBIDDEN => {
            state.limiter.failed(&name, ip);
            let mut e = ApiError::new(StatusCode::FORBIDDEN, "the current password is wrong");
            e.field = Some("current".into());
            Err(e)
        }
        Err(e) => Err(e),
    }
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A CSV or Excel file of observations (`unit,indicator,year,value`), submitted in one
/// transaction: all rows or none.
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> ApiResult<Json<JsonValue>> {
    let by = caller.user()?.clone();
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let bytes = body_bytes(req, &state).await?;
    let name = q.get("name").cloned().unwrap_or_else(|| "upload".into());
    let source = q.get("source").cloned().unwrap_or_else(|| format!("import {name}"));
    let batch = match ctype.as_str() {
        XLSX => renxing_monitor::import::parse_observations_xlsx(&bytes, &name)?,
        "text/csv" => renxing_monitor::import::parse_observations_csv(&bytes, &name)?,
        other => {
            return Err(ApiError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ..ApiError::field("Content-Type", format!("{other:?}: send text/csv or {XLSX}"))
            });
        }
    };
    if batch.is_empty() {
        return Err(ApiError::field("body", format!("{name}: no observation rows")));
    }
    let n = state
        .blocking(move |m| m.submit_batch(&by, &batch, &source, None))
        .await?;
    Ok(Json(json!({ "accepted": n })))
}

async fn warnings(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<JsonValue>> {
    let under = code(param(&q, "under")?)?;
    let today = state.today();
    let y = year(&q, Some(today.0 - 1))?;
    let by = caller.principal;
    let w = state.blocking(move |m| m.warnings(&by, &under, y, today)).await?;
    Ok(Json(json!({ "year": y, "warnings": w })))
}

async fn audit_verify(State(state): State<AppState>) -> ApiResult<Json<renxing_monitor::audit::Verification>> {
    Ok(Json(state.blocking(|m| m.audit_verify()).await?))
}
