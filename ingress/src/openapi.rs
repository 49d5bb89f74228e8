//! The OpenAPI document, generated from the handlers. Every operation also
//! documents the error answers the middleware can give, so that the spec
//! is a complete contract for clients and for the API tests.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::access::Documented;
use crate::error::{Code, ErrorBody, FieldError};
use crate::routes;

/// The API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "khlang ingress",
        description = include_str!("openapi_intro.md"),
        version = "1.0.0"
    ),
    paths(
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::jwks,
        routes::users::me,
        routes::users::create,
        routes::users::list,
        routes::users::get,
        routes::users::update,
        routes::users::change_role,
        routes::users::deactivate,
        routes::users::create_service_account,
        routes::catalog::create_product,
        routes::catalog::list_products,
        routes::catalog::get_product,
        routes::catalog::update_product,
        routes::catalog::discontinue_product,
        routes::catalog::upsert_warehouse,
        routes::catalog::list_warehouses,
        routes::catalog::get_warehouse,
        routes::stock::receive,
        routes::stock::issue,
        routes::stock::adjust,
        routes::stock::count,
        routes::stock::minimum,
        routes::stock::transfer,
        routes::stock::receive_transfer,
        routes::stock::cancel_transfer,
        routes::stock::reserve,
        routes::stock::release,
        routes::stock::commit,
        routes::stock::by_sku,
        routes::stock::by_warehouse,
        routes::stock::ledger,
        routes::scans::post_scans,
        routes::commands::get_command,
    ),
    components(schemas(ErrorBody, FieldError)),
    modifiers(&Security, &ErrorResponses, &Documented),
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

fn error_statuses() -> Vec<u16> {
    let mut statuses: Vec<u16> = Code::ALL.iter().map(|c| c.status().as_u16()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn add_errors(operation: &mut Operation, statuses: &[u16]) {
    for status in statuses {
        let key = status.to_string();
        if operation.responses.responses.contains_key(&key) {
            continue;
        }
        let reason = axum::http::StatusCode::from_u16(*status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        let response = ResponseBuilder::new()
            .description(format!("{reason}: an ErrorBody (see docs/errors.md)"))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        operation.responses.responses.insert(key, response.into());
    }
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let statuses = error_statuses();
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
                add_errors(operation, &statuses);
            }
        }
    }
}
