//! The OpenAPI 3.1 document served at `/api/openapi.json`: every route of the API with its
//! parameters, bodies and responses. A test checks it lists exactly the routes the router has.

use serde_json::{Value, json};

fn code_param() -> Value {
    json!({ "name": "code", "in": "path", "required": true,
            "description": "Administrative division code: 6 digits down to counties (e.g. 410102), 9 for townships",
            "schema": { "type": "string", "pattern": "^([0-9]{6}|[0-9]{9})$" } })
}

fn plan_id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": "Plan version id",
            "schema": { "type": "integer", "minimum": 1 } })
}

fn query(name: &str, required: bool, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": required, "description": description, "schema": schema })
}

fn year_param(required: bool) -> Value {
    query(
        "year",
        required,
        "Observed year (default: last year)",
        json!({ "type": "integer", "minimum": 1949, "maximum": 2100 }),
    )
}

fn indicator_param() -> Value {
    query(
        "indicator",
        true,
        "Indicator code of the catalogue (snake_case, e.g. resident_population)",
        json!({ "type": "string" }),
    )
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn errors(codes: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for c in codes {
        let d = match *c {
            "400" => "Bad request: `field` names what is wrong",
            "401" => "No or unknown token",
            "403" => "The caller's role does not allow it on this unit",
            "404" => "Unknown unit or indicator",
            "413" => "Body too large",
            "415" => "Unsupported Content-Type",
            "409" => "Not allowed in the current state (e.g. a plan that is no longer a draft)",
            "429" => "Too many failed logins (see Retry-After)",
            _ => "Error",
        };
        m.insert(
            (*c).into(),
            json!({ "description": d, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }),
        );
    }
    Value::Object(m)
}

fn op(summary: &str, params: Vec<Value>, body: Option<Value>, response: Value, errs: &[&str]) -> Value {
    let mut responses = errors(errs);
    responses["200"] = response;
    let mut o = json!({ "summary": summary, "parameters": params, "responses": responses });
    if let Some(b) = body {
        o["requestBody"] = b;
    }
    o
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn any_object() -> Value {
    json!({ "type": "object" })
}

/// Plans and users (kept apart from [`document`]: one `json!` of everything is too deep for the
/// macro).
fn plan_and_user_paths() -> Value {
    json!({
            "/api/units/{code}/plans": {
                "get": op("The unit's plan versions the caller may see (the public: approved and superseded)",
                    vec![code_param()], None, ok("plans", any_object()), &["400", "401", "404"]),
                "post": op("Draft a plan, or the next version of an approved one (editor over the unit)",
                    vec![code_param()], Some(json_body(json!({ "$ref": "#/components/schemas/PlanIn" }))),
                    ok("plan", json!({ "$ref": "#/components/schemas/Plan" })), &["400", "401", "403", "404", "409", "413"]) },
            "/api/plans/{id}": {
                "get": op("A plan version", vec![plan_id_param()], None,
                    ok("plan", json!({ "$ref": "#/components/schemas/Plan" })), &["400", "401", "404"]),
                "put": op("Replace a draft's content", vec![plan_id_param()], Some(json_body(json!({ "$ref": "#/components/schemas/PlanIn" }))),
                    ok("plan", json!({ "$ref": "#/components/schemas/Plan" })), &["400", "401", "403", "404", "409", "413"]),
                "delete": op("Withdraw (delete) a draft", vec![plan_id_param()], None,
                    ok("withdrawn", any_object()), &["400", "401", "403", "404", "409"]) },
            "/api/plans/{id}/submit": { "post": op("Submit a draft for review by the level above", vec![plan_id_param()], None,
                ok("plan", json!({ "$ref": "#/components/schemas/Plan" })), &["400", "401", "403", "404", "409"]) },
            "/api/plans/{id}/review": { "post": op("Approve a submitted version (its targets become the unit's) or send it back with a comment (reviewer above the unit)",
                vec![plan_id_param()],
                Some(json_body(json!({ "type": "object", "required": ["decision"], "additionalProperties": false, "properties": {
                    "decision": { "type": "string", "enum": ["approve", "reject"] },
                    "comment": { "type": "string", "description": "Required to reject" } } }))),
                ok("plan", json!({ "$ref": "#/components/schemas/Plan" })), &["400", "401", "403", "404", "409"]) },
            "/api/units/{code}/users": {
                "get": op("The users holding a role on the unit or below it (admin over the unit)", vec![code_param()], None,
                    ok("users: name, unit, role, has_password, created_at", any_object()), &["400", "401", "403", "404"]),
                "post": op("Add a user on the unit (admin over it); the API token is in this answer only", vec![code_param()],
                    Some(json_body(json!({ "type": "object", "required": ["name", "role"], "additionalProperties": false, "properties": {
                        "name": { "type": "string", "maxLength": 64 },
                        "role": { "type": "string", "enum": ["viewer", "editor", "reviewer", "admin"] },
                        "password": { "type": "string", "minLength": 8, "description": "For password login; without it, token only" } } }))),
                    ok("name, unit, role, token", any_object()), &["400", "401", "403", "404"]) },
            "/api/users/{name}": { "delete": op("Remove a user and end its sessions (admin over its unit, not itself)",
                vec![json!({ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } })], None,
                ok("removed", any_object()), &["400", "401", "403", "404"]) },
            "/api/me/password": { "put": op("Change the caller's password (the current one when it has one); every session of the caller ends",
                vec![], Some(json_body(json!({ "type": "object", "required": ["new"], "additionalProperties": false, "properties": {
                    "current": { "type": "string" }, "new": { "type": "string", "minLength": 8 } } }))),
                ok("changed, sessions_ended", any_object()), &["400", "401", "403", "409", "429"]) }
    })
}

pub fn document() -> Value {
    let obs_item = json!({ "type": "object", "required": ["indicator", "year", "value"], "additionalProperties": false,
        "properties": { "indicator": { "type": "string" }, "year": { "type": "integer" }, "value": { "type": "number" } } });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Renxing monitoring network API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Five-level plan-implementation monitoring (nation → province → city → county → township): units, indicators with targets, observations, roll-ups, warnings, audit. Authenticate with `Authorization: Bearer TOKEN` (an API token from `renxing monitor user add`, or a session token from POST /api/login); without it, the public sees published values only.",
            "license": { "name": "Apache-2.0" }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": {
                    "error": { "type": "string" }, "field": { "type": "string", "description": "The offending field, e.g. observations[2].year" } } },
                "UnitBrief": { "type": "object", "properties": { "code": { "type": "string" }, "name": { "type": "string" },
                    "level": { "type": "string", "enum": ["nation", "province", "city", "county", "township"] } } },
                "Unit": { "type": "object", "properties": {
                    "code": { "type": "string" }, "name": { "type": "string" }, "level": { "type": "string" },
                    "parent": { "type": ["string", "null"] }, "path": { "type": "string" }, "has_boundary": { "type": "boolean" },
                    "children": { "type": "array", "items": { "$ref": "#/components/schemas/UnitBrief" } },
                    "ancestors": { "type": "array", "items": { "$ref": "#/components/schemas/UnitBrief" } } } },
                "Observation": obs_item,
                "PlanIn": { "type": "object", "required": ["kind", "name", "period_start", "period_end"], "additionalProperties": false,
                    "properties": {
                        "kind": { "type": "string", "enum": ["master", "detailed", "special"] },
                        "name": { "type": "string", "maxLength": 200 },
                        "period_start": { "type": "integer" }, "period_end": { "type": "integer" },
                        "targets": { "type": "array", "items": { "$ref": "#/components/schemas/Observation" },
                                     "description": "Indicator targets by year, within the period" } } },
                "Plan": { "type": "object", "properties": {
                    "id": { "type": "integer" }, "unit": { "type": "string" },
                    "kind": { "type": "string", "enum": ["master", "detailed", "special"] }, "name": { "type": "string" },
                    "period_start": { "type": "integer" }, "period_end": { "type": "integer" }, "version": { "type": "integer" },
                    "status": { "type": "string", "enum": ["draft", "submitted", "approved", "superseded"] },
                    "targets": { "type": "array", "items": { "$ref": "#/components/schemas/Observation" } },
                    "created_by": { "type": "string" }, "updated_at": { "type": "string" },
                    "reviewed_by": { "type": "string" }, "reviewed_at": { "type": "string" }, "comment": { "type": "string" } } },
                "Warning": { "type": "object", "properties": {
                    "level": { "type": "string", "enum": ["green", "yellow", "red"] },
                    "reason": { "type": "string", "enum": ["beyond_target", "off_track", "missing"] },
                    "year": { "type": "integer" }, "value": { "type": "number" }, "target": { "type": "number" }, "message": { "type": "string" } } }
            }
        },
        "security": [ {}, { "bearer": [] } ],
        "paths": {
            "/api/health": { "get": op("Liveness", vec![], None, ok("ok", any_object()), &[]) },
            "/api/openapi.json": { "get": op("This document", vec![], None, ok("OpenAPI document", any_object()), &[]) },
            "/api/root": { "get": op("The top unit the database holds (e.g. a province) with its children", vec![], None,
                ok("unit", json!({ "$ref": "#/components/schemas/Unit" })), &["404"]) },
            "/api/catalogue": { "get": op("The indicator catalogue", vec![], None, ok("indicators", any_object()), &[]) },
            "/api/me": { "get": op("The caller: {name, role, unit}, or {public: true}", vec![], None, ok("caller", any_object()), &["401"]) },
            "/api/login": { "post": op("Log in with a password: a session token (12 h)", vec![],
                Some(json_body(json!({ "type": "object", "required": ["name", "password"], "properties": {
                    "name": { "type": "string" }, "password": { "type": "string" } } }))),
                ok("token, name, role, unit", any_object()), &["400", "401", "429"]) },
            "/api/logout": { "post": op("End the caller's session", vec![], None, ok("ended", any_object()), &["401"]) },
            "/api/units/{code}": { "get": op("A unit with its children and ancestors", vec![code_param()], None,
                ok("unit", json!({ "$ref": "#/components/schemas/Unit" })), &["400", "404"]) },
            "/api/units/{code}/indicators": { "get": op("Every indicator at the unit for a year: value, status, target, assessment",
                vec![code_param(), year_param(false)], None, ok("indicators", any_object()), &["400", "401", "404"]) },
            "/api/units/{code}/series": { "get": op("An indicator's observations and targets at the unit over the years",
                vec![code_param(), indicator_param()], None, ok("series", any_object()), &["400", "401", "404"]) },
            "/api/units/{code}/map": { "get": op("GeoJSON of the unit's children (or itself) with an indicator's value and warning level",
                vec![code_param(), indicator_param(), year_param(false)], None,
                json!({ "description": "FeatureCollection", "content": { "application/geo+json": { "schema": any_object() } } }),
                &["400", "401", "404"]) },
            "/api/units/{code}/rollup": { "get": op("Roll an indicator up from the units below (sum or weighted mean)",
                vec![code_param(), indicator_param(), year_param(true)], None, ok("rollup", any_object()), &["400", "401", "404"]) },
            "/api/units/{code}/transmission": { "get": op("Whether the children's targets of an additive indicator sum to the unit's",
                vec![code_param(), indicator_param(), year_param(true)], None, ok("transmission", any_object()), &["400", "404"]) },
            "/api/units/{code}/report": { "get": op("The yearly exam (five-year assessment in years ending in 0 or 5) report of the unit",
                vec![code_param(), year_param(false), query("format", false, "json (default) or md", json!({ "type": "string", "enum": ["json", "md"] }))],
                None, ok("report", any_object()), &["400", "401", "404"]) },
            "/api/units/{code}/observations": { "put": op("Submit observations for the unit (all or none; editor or admin over it)",
                vec![code_param()],
                Some(json_body(json!({ "type": "object", "required": ["observations"], "additionalProperties": false, "properties": {
                    "observations": { "type": "array", "maxItems": 10000, "items": { "$ref": "#/components/schemas/Observation" } },
                    "source": { "type": "string" }, "run_id": { "type": "string", "description": "The engine run that computed the values" } } }))),
                ok("accepted", any_object()), &["400", "401", "403", "404", "413"]) },
            "/api/units/{code}/targets": { "put": op("Set the unit's targets (from the level above) with their basis",
                vec![code_param()],
                Some(json_body(json!({ "type": "object", "required": ["targets", "basis"], "properties": {
                    "targets": { "type": "array", "items": { "$ref": "#/components/schemas/Observation" } },
                    "basis": { "type": "string" } } }))),
                ok("accepted", any_object()), &["400", "401", "403", "404", "413"]) },
            "/api/units/{code}/approve": { "post": op("Publish the unit's submitted values of a year (reviewer above it, or admin)",
                vec![code_param()],
                Some(json_body(json!({ "type": "object", "required": ["year"], "properties": {
                    "year": { "type": "integer" }, "indicator": { "type": "string" } } }))),
                ok("approved", any_object()), &["400", "401", "403", "404"]) },
            "/api/units/{code}/export.csv": { "get": op("The subtree's observations the caller may see, as CSV",
                vec![code_param(), year_param(false)], None,
                json!({ "description": "CSV", "content": { "text/csv": { "schema": { "type": "string" } } } }), &["400", "404"]) },
            "/api/units/{code}/export.gpkg": { "get": op("The unit's children with every indicator of a year, as a GeoPackage",
                vec![code_param(), year_param(false)], None,
                json!({ "description": "GeoPackage", "content": { "application/geopackage+sqlite3": { "schema": { "type": "string", "format": "binary" } } } }),
                &["400", "404"]) },
            "/api/import": { "post": op("Import observations (unit,indicator,year,value) from CSV or Excel (.xlsx), all rows or none",
                vec![query("name", false, "File name, used in error messages", json!({ "type": "string" })),
                     query("source", false, "Source recorded with the values", json!({ "type": "string" }))],
                Some(json!({ "required": true, "content": {
                    "text/csv": { "schema": { "type": "string" } },
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } } } })),
                ok("accepted", any_object()), &["400", "401", "403", "413", "415"]) },
            "/api/warnings": { "get": op("Yellow and red warnings of every unit under a unit",
                vec![query("under", true, "Unit code", json!({ "type": "string" })), year_param(false)], None,
                ok("warnings", any_object()), &["400", "401", "404"]) },
            "/api/audit/verify": { "get": op("Verify the audit log's hash chain", vec![], None, ok("verification", any_object()), &[]) }
        }
    });
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), plan_and_user_paths()) {
        paths.extend(more);
    }
    doc
}
