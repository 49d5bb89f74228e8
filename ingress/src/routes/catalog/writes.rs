//! The catalog's write handlers: each authorizes, then hands a catalog
//! command to the write path ([`crate::write`]).

use axum::extract::{Path, State};
use axum::response::Response;
use khlang_contract::catalog::{
    warehouse_key, CatalogCommand, CreateProduct, DiscontinueProduct, UpdateProduct,
    UpsertWarehouse,
};
use khlang_contract::values::{Address, Label, Name, ValueError, WarehouseCode};

use super::money::{BahtInput, Satang};
use super::reads::load_product;
use super::requests::{
    CreateProductRequest, DiscontinueProductRequest, UpdateProductRequest, UpsertWarehouseRequest,
};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::routes::rules::text;
use crate::scopes::Scope;
use crate::state::AppState;
use crate::write::{CommandAccepted, WriteRequest, Writer};

/// Create a product (`catalog:write`). A SKU or barcode that another
/// product has makes the command `rejected` (`sku_exists`,
/// `barcode_taken`).
#[utoipa::path(
    post, path = "/v1/products", tag = "catalog",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = CreateProductRequest,
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn create_product(
    State(state): State<AppState>,
    principal: Principal,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::CatalogWrite)?;
    writer
        .once(request, async |body| {
            let command = create(&writer, body.json()?)?;
            writer.submit(command, |_| {}).await
        })
        .await
}

fn create(writer: &Writer<'_>, request: CreateProductRequest) -> Result<CatalogCommand, ApiError> {
    let mut command = CatalogCommand::empty(writer.envelope("CreateProduct"), request.sku.clone());
    command.create_product = Some(CreateProduct {
        price_satang: satang(&request.price, "price")?,
        cost_satang: satang(&request.cost, "cost")?,
        sku: request.sku,
        name_th: text("name_th", Name::parse(&request.name_th))?,
        name_en: text("name_en", Name::parse(&request.name_en))?,
        description: request.description,
        category: text("category", Label::parse(&request.category))?,
        unit: text("unit", Label::parse(&request.unit))?,
        barcodes: request.barcodes,
        min_stock: request.min_stock,
    });
    Ok(command)
}

/// Change a product (`catalog:write`): only the fields given.
#[utoipa::path(
    patch, path = "/v1/products/{sku}", tag = "catalog",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "SKU"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = UpdateProductRequest,
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn update_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(sku): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::CatalogWrite)?;
    writer
        .once(request, async |body| {
            let command = update(&writer, &sku, body.json()?).await?;
            writer.submit(command, |_| {}).await
        })
        .await
}

async fn update(
    writer: &Writer<'_>,
    sku: &str,
    request: UpdateProductRequest,
) -> Result<CatalogCommand, ApiError> {
    if request.is_empty() {
        return Err(ApiError::field(
            "body",
            "required",
            "give at least one of name_th, name_en, description, category, unit, barcodes, price, cost, min_stock",
        ));
    }
    let product = load_product(writer.state(), sku).await?;
    let mut command = CatalogCommand::empty(writer.envelope("UpdateProduct"), product.sku);
    command.update_product = Some(UpdateProduct {
        price_satang: request
            .price
            .as_ref()
            .map(|p| satang(p, "price"))
            .transpose()?,
        cost_satang: request
            .cost
            .as_ref()
            .map(|c| satang(c, "cost"))
            .transpose()?,
        name_th: optional("name_th", request.name_th.as_deref(), Name::parse)?,
        name_en: optional("name_en", request.name_en.as_deref(), Name::parse)?,
        description: request.description,
        category: optional("category", request.category.as_deref(), Label::parse)?,
        unit: optional("unit", request.unit.as_deref(), Label::parse)?,
        barcodes: request.barcodes,
        min_stock: request.min_stock,
    });
    Ok(command)
}

/// Discontinue a product (`catalog:write`): it stays readable with status
/// `discontinued`.
#[utoipa::path(
    post, path = "/v1/products/{sku}/discontinue", tag = "catalog",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "SKU"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = DiscontinueProductRequest,
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn discontinue_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(sku): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::CatalogWrite)?;
    writer
        .once(request, async |body| {
            let command = discontinue(&writer, &sku, body.json()?).await?;
            writer.submit(command, |_| {}).await
        })
        .await
}

async fn discontinue(
    writer: &Writer<'_>,
    sku: &str,
    request: DiscontinueProductRequest,
) -> Result<CatalogCommand, ApiError> {
    let product = load_product(writer.state(), sku).await?;
    let mut command = CatalogCommand::empty(writer.envelope("DiscontinueProduct"), product.sku);
    command.discontinue_product = Some(DiscontinueProduct {
        reason: request.reason,
    });
    Ok(command)
}

/// Create or change a warehouse (`catalog:write`): the whole warehouse,
/// so repeating it is harmless.
#[utoipa::path(
    put, path = "/v1/warehouses/{code}", tag = "catalog",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Warehouse code: 2-16 of A-Z 0-9 - _",
            pattern = "^[A-Z0-9_-]{2,16}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = UpsertWarehouseRequest,
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn upsert_warehouse(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::CatalogWrite)?;
    writer
        .once(request, async |body| {
            let command = upsert(&writer, code, body.json()?)?;
            writer.submit(command, |_| {}).await
        })
        .await
}

fn upsert(
    writer: &Writer<'_>,
    code: String,
    request: UpsertWarehouseRequest,
) -> Result<CatalogCommand, ApiError> {
    // the field error code of a bad code in the path stays `code`, as the
    // field is named
    let code = WarehouseCode::parse(&code)
        .map_err(|error| ApiError::field("code", "code", error.message()))?;
    let mut command = CatalogCommand::empty(
        writer.envelope("UpsertWarehouse"),
        warehouse_key(code.as_str()),
    );
    command.upsert_warehouse = Some(UpsertWarehouse {
        code: code.into(),
        name_th: text("name_th", Name::parse(&request.name_th))?,
        name_en: text("name_en", Name::parse(&request.name_en))?,
        address: text("address", Address::parse(&request.address))?,
        active: request.active,
    });
    Ok(command)
}

/// An amount that passed [`super::money::valid_amount`].
fn satang(amount: &BahtInput, field: &str) -> Result<i64, ApiError> {
    amount
        .satang()
        .map(Satang::get)
        .map_err(|e| ApiError::field(field, e.code().as_str(), e.to_string()))
}

/// The text of an optional field's value ([`text`]).
fn optional<T: Into<String>>(
    field: &str,
    given: Option<&str>,
    parse: fn(&str) -> Result<T, ValueError>,
) -> Result<Option<String>, ApiError> {
    given.map(|t| text(field, parse(t))).transpose()
}
