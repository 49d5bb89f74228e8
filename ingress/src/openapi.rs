//! The OpenAPI document, generated from the handlers. Every operation also
//! documents the error answers it can give (and only those: a public
//! operation no 401, a read no 415), so that the spec is a complete and
//! honest contract for clients and for the API tests.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::access::{Access, Documented};
use crate::error::{Code, ErrorBody, FieldError};
use crate::routes;
use crate::scopes::Scope;
use khlang_contract::Role;

/// The API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "khlang ingress",
        description = include_str!("openapi_intro.md"),
        version = "1.0.0"
    ),
    paths(
        routes::auth::sessions::login,
        routes::auth::sessions::refresh,
        routes::auth::sessions::logout,
        routes::auth::sessions::jwks,
        routes::users::reads::me,
        routes::users::writes::create,
        routes::users::reads::list,
        routes::users::reads::get,
        routes::users::writes::update,
        routes::users::writes::change_role,
        routes::users::writes::deactivate,
        routes::users::writes::create_service_account,
        routes::catalog::writes::create_product,
        routes::catalog::reads::list_products,
        routes::catalog::reads::get_product,
        routes::catalog::writes::update_product,
        routes::catalog::writes::discontinue_product,
        routes::catalog::writes::upsert_warehouse,
        routes::catalog::reads::list_warehouses,
        routes::catalog::reads::get_warehouse,
        routes::stock::writes::receive,
        routes::stock::writes::issue,
        routes::stock::writes::adjust,
        routes::stock::writes::count,
        routes::stock::writes::minimum,
        routes::stock::writes::transfer,
        routes::stock::writes::receive_transfer,
        routes::stock::writes::cancel_transfer,
        routes::stock::writes::reserve,
        routes::stock::writes::release,
        routes::stock::writes::commit,
        routes::stock::reads::by_sku,
        routes::stock::reads::by_warehouse,
        routes::stock::reads::ledger,
        routes::scans::writes::post_scans,
        routes::commands::reads::get_command,
    ),
    components(schemas(ErrorBody, FieldError)),
    modifiers(&Security, &ErrorResponses, &Documented, &Constraints),
    tags(
        (name = "auth", description = "Sign-in, tokens and keys"),
        (name = "users", description = "Accounts, roles and credentials"),
        (name = "catalog", description = "Products and warehouses"),
        (name = "stock", description = "Stock movements, transfers, reservations, levels and the ledger"),
        (name = "scans", description = "Scanner batches (NDJSON, one scan per line)"),
        (name = "commands", description = "Outcomes of commands"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

struct ErrorResponses;

/// Operations whose handler looks the named resource up and answers 404
/// when it is not there. (The stock levels of an unknown SKU or warehouse
/// are an empty list, and `PUT /v1/warehouses/{code}` creates.)
const MAY_BE_NOT_FOUND: &[(&str, &str)] = &[
    ("get", "/v1/users/{id}"),
    ("patch", "/v1/users/{id}"),
    ("post", "/v1/users/{id}/role"),
    ("post", "/v1/users/{id}/deactivate"),
    ("get", "/v1/products/{sku}"),
    ("patch", "/v1/products/{sku}"),
    ("post", "/v1/products/{sku}/discontinue"),
    ("get", "/v1/warehouses/{code}"),
    ("post", "/v1/stock/transfers/{id}/receive"),
    ("post", "/v1/stock/transfers/{id}/cancel"),
    ("post", "/v1/stock/reservations/{id}/release"),
    ("post", "/v1/stock/reservations/{id}/commit"),
    ("get", "/v1/commands/{id}"),
];

/// The error statuses `method path` can answer with, and why.
fn error_statuses(method: &str, path: &str, operation: &Operation) -> Vec<u16> {
    // every route: 422 for a NUL in the path or query, 503 when the
    // ingress sheds load, 504 when a request outlives the timeout
    let mut statuses = vec![422, 503, 504];
    match crate::access::of(method, path) {
        Some(Access::Public) | None => {}
        // no or a bad token; no scope or a deactivated account
        Some(_) => statuses.extend([401, 403]),
    }
    match path {
        // wrong password; deactivated; throttled
        "/v1/auth/login" => statuses.extend([401, 403, 429]),
        // unknown, expired or reused refresh token; deactivated
        "/v1/auth/refresh" => statuses.extend([401, 403]),
        _ => {}
    }
    if operation.request_body.is_some() {
        // not JSON; too large; another media type
        statuses.extend([400, 413, 415]);
    }
    if method != "get" && !path.starts_with("/v1/auth/") {
        // the write path: the same Idempotency-Key still in flight
        statuses.push(409);
    }
    if MAY_BE_NOT_FOUND.contains(&(method, path)) {
        statuses.push(404);
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

/// An example error body for `status`: its first code in the catalogue.
fn error_example(status: u16) -> serde_json::Value {
    let code = Code::ALL
        .iter()
        .find(|c| c.status().as_u16() == status)
        .map_or("internal", |c| c.as_str());
    let fields = if status == 422 {
        serde_json::json!([{ "field": "quantity", "code": "range", "message": "must be 1-1000000000" }])
    } else {
        serde_json::json!([])
    };
    serde_json::json!({
        "status": status,
        "code": code,
        "message": "what went wrong, for people",
        "fields": fields,
        "correlation_id": "01a23d24-4d91-769e-8bb1-eea3a3882688",
    })
}

fn add_errors(operation: &mut Operation, statuses: &[u16]) {
    for status in statuses {
        let key = status.to_string();
        if operation.responses.responses.contains_key(&key) {
            continue;
        }
        let codes: Vec<String> = Code::ALL
            .iter()
            .filter(|c| c.status().as_u16() == *status)
            .map(|c| format!("`{}`", c.as_str()))
            .collect();
        let reason = axum::http::StatusCode::from_u16(*status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        let response = ResponseBuilder::new()
            .description(format!(
                "{reason}: an ErrorBody whose `code` is one of {} (docs/errors.md)",
                codes.join(", ")
            ))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .example(Some(error_example(*status)))
                    .build(),
            )
            .build();
        operation.responses.responses.insert(key, response.into());
    }
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            for (method, operation) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("patch", &mut item.patch),
                ("put", &mut item.put),
                ("delete", &mut item.delete),
            ] {
                if let Some(operation) = operation {
                    let statuses = error_statuses(method, path, operation);
                    add_errors(operation, &statuses);
                }
            }
        }
    }
}

/// What the request types' attributes cannot say, written into their
/// schemas so that a client generated from the document never sends what
/// the server refuses: PATCH bodies need at least one field, an adjustment's
/// `delta` is never 0, and the scopes an account may be granted depend on
/// its kind.
struct Constraints;

fn edit_schema(
    openapi: &mut utoipa::openapi::OpenApi,
    name: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) {
    let Some(schemas) = openapi.components.as_mut().map(|c| &mut c.schemas) else {
        return;
    };
    let Some(schema) = schemas.get_mut(name) else {
        return;
    };
    let Ok(mut value) = serde_json::to_value(&*schema) else {
        return;
    };
    edit(&mut value);
    if let Ok(edited) = serde_json::from_value(value) {
        *schema = edited;
    }
}

/// The `Idempotency-Key` header as `ingress/src/idempotency.rs` takes it.
fn idempotency_key_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[!-~]{1,255}$",
        "example": "erp-po-2026-001-receipt",
    })
}

/// No text the ingress stores may hold NUL (`parse_json` and the URL check
/// refuse it): every string without a pattern of its own says so.
const NO_NUL: &str = "^[^\\u0000]*$";

fn forbid_nul(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(object) => {
            if object.get("type").and_then(|t| t.as_str()) == Some("string")
                && !object.contains_key("pattern")
                && !object.contains_key("enum")
                && !object.contains_key("format")
            {
                object.insert("pattern".to_owned(), serde_json::json!(NO_NUL));
            }
            for value in object.values_mut() {
                forbid_nul(value);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(forbid_nul),
        _ => {}
    }
}

impl Modify for Constraints {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let requests: Vec<String> = openapi
            .components
            .iter()
            .flat_map(|c| c.schemas.keys())
            .filter(|name| name.ends_with("Request") || name.starts_with("Create"))
            .cloned()
            .collect();
        for name in &requests {
            edit_schema(openapi, name, forbid_nul);
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for parameter in operation.parameters.iter_mut().flatten() {
                    let Some(schema) = &mut parameter.schema else {
                        continue;
                    };
                    let Ok(mut value) = serde_json::to_value(&*schema) else {
                        continue;
                    };
                    forbid_nul(&mut value);
                    if let Ok(edited) = serde_json::from_value(value) {
                        *schema = edited;
                    }
                }
            }
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for parameter in operation.parameters.iter_mut().flatten() {
                    if parameter.name == "Idempotency-Key" {
                        if let Ok(schema) = serde_json::from_value(idempotency_key_schema()) {
                            parameter.schema = Some(schema);
                        }
                        parameter.description = Some(
                            "Makes retries safe: 1-255 visible ASCII characters, new for each \
                             request (the same key with another request is \
                             `422 idempotency_key_reused`)"
                                .to_owned(),
                        );
                    }
                }
            }
        }
        for name in ["UpdateUserRequest", "UpdateProductRequest"] {
            edit_schema(openapi, name, |schema| {
                schema["minProperties"] = serde_json::json!(1);
            });
        }
        edit_schema(openapi, "AdjustmentRequest", |schema| {
            let delta = &mut schema["properties"]["delta"];
            let description = delta["description"].clone();
            *delta = serde_json::json!({
                "description": description,
                "oneOf": [
                    { "type": "integer", "format": "int64", "minimum": -1_000_000_000, "maximum": -1 },
                    { "type": "integer", "format": "int64", "minimum": 1, "maximum": 1_000_000_000 },
                ],
            });
        });
        edit_schema(openapi, "CreateServiceAccount", |schema| {
            let mut kinds = Vec::new();
            for role in [Role::Service, Role::Device] {
                let scopes: Vec<&str> = Scope::allowed_for(role)
                    .iter()
                    .map(|s| s.as_str())
                    .collect();
                let mut kind = schema.clone();
                kind["title"] = serde_json::json!(format!("{role} account"));
                kind["properties"]["kind"] =
                    serde_json::json!({ "type": "string", "enum": [role.as_str()] });
                kind["properties"]["scopes"]["items"] =
                    serde_json::json!({ "type": "string", "enum": scopes });
                if let Some(object) = kind.as_object_mut() {
                    object.remove("description");
                    object.remove("example");
                    object.remove("examples");
                }
                kinds.push(kind);
            }
            let description = schema["description"].clone();
            let example = schema["example"].clone();
            *schema = serde_json::json!({ "description": description, "example": example, "oneOf": kinds });
        });
    }
}
