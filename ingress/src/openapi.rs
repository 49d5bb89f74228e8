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
