//! `/v1/products` and `/v1/warehouses`. Writes become catalog commands,
//! keyed by SKU or `warehouse:<code>`, that the catalog processor applies
//! (it alone decides uniqueness: a taken SKU or barcode is a rejected
//! outcome, not an answer here); reads come from its state in `catalog.*`.
//!
//! Money is baht at the edge (`"125.50"`) and satang everywhere behind it
//! (see [`money`]).

pub mod money;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use khlang_contract::catalog::{
    valid_ean13, warehouse_key, CatalogCommand, CreateProduct, DiscontinueProduct, UpdateProduct,
    UpsertWarehouse,
};
use khlang_contract::topics::CATALOG_COMMAND_SUBJECT;
use khlang_contract::Envelope;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use self::money::{valid_amount, BahtInput, Satang};
use super::commands::{submit, CommandAccepted, Submission};
use crate::auth::Principal;
use crate::error::{ApiError, Code};
use crate::extract::{LaterJson, QueryParams};
use crate::middleware::correlation_id;
use crate::scopes::Scope;
use crate::state::AppState;

// The limits mirror the catalog processor's rules
// (processors/catalog/src/rules.rs), so that nearly every command it would
// reject is a 422 here instead.
/// Most barcodes one product may carry.
const MAX_BARCODES: usize = 32;
/// Longest product or warehouse name, in characters.
const NAME_MAX: usize = 200;
/// Longest category or unit, in characters.
const LABEL_MAX: usize = 50;
/// Longest description, in characters.
const DESCRIPTION_MAX: usize = 2000;
/// Longest warehouse address, in characters.
const ADDRESS_MAX: usize = 500;

/// A product as readers see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductView {
    /// SKU, the product's id.
    pub sku: String,
    /// Name in Thai.
    pub name_th: String,
    /// Name in English.
    pub name_en: String,
    /// Description.
    pub description: Option<String>,
    /// Category.
    pub category: String,
    /// Unit of stock (piece, box, kg, …).
    pub unit: String,
    /// EAN-13 barcodes.
    pub barcodes: Vec<String>,
    /// Price in baht with two decimals (`"125.50"`).
    #[schema(example = "125.50")]
    pub price: String,
    /// Price in satang (`12550`).
    pub price_satang: i64,
    /// Cost in baht with two decimals.
    #[schema(example = "80.00")]
    pub cost: String,
    /// Cost in satang.
    pub cost_satang: i64,
    /// Default minimum available stock per warehouse.
    pub min_stock: i64,
    /// `active` or `discontinued`.
    pub status: String,
    /// Version, incremented by every change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// Satang as baht text with two decimals; tolerates what the processor
/// never stores (a negative amount) instead of failing the read.
fn baht_text(satang: i64) -> String {
    let sign = if satang < 0 { "-" } else { "" };
    let abs = satang.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

impl ProductView {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        let price_satang: i64 = row.try_get("price_satang")?;
        let cost_satang: i64 = row.try_get("cost_satang")?;
        Ok(Self {
            sku: row.try_get("sku")?,
            name_th: row.try_get("name_th")?,
            name_en: row.try_get("name_en")?,
            description: row.try_get("description")?,
            category: row.try_get("category")?,
            unit: row.try_get("unit")?,
            barcodes: row.try_get("barcodes")?,
            price: baht_text(price_satang),
            price_satang,
            cost: baht_text(cost_satang),
            cost_satang,
            min_stock: row.try_get("min_stock")?,
            status: row.try_get("status")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A page of products.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductPage {
    /// The products, by SKU.
    pub items: Vec<ProductView>,
    /// Pass as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

/// A warehouse as readers see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WarehouseView {
    /// Code, the warehouse's id: 2-16 of A-Z 0-9 - _ (`BKK1`).
    pub code: String,
    /// Name in Thai.
    pub name_th: String,
    /// Name in English.
    pub name_en: String,
    /// Address.
    pub address: String,
    /// False: no stock moves in or out.
    pub active: bool,
    /// Version, incremented by every change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl WarehouseView {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            code: row.try_get("code")?,
            name_th: row.try_get("name_th")?,
            name_en: row.try_get("name_en")?,
            address: row.try_get("address")?,
            active: row.try_get("active")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A page of warehouses.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WarehousePage {
    /// The warehouses, by code.
    pub items: Vec<WarehouseView>,
    /// Pass as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

pub(crate) fn is_sku(value: &str) -> bool {
    (1..=40).contains(&value.len())
        && value.bytes().all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

fn valid_sku(value: &str) -> Result<(), ValidationError> {
    is_sku(value).then_some(()).ok_or_else(|| {
        ValidationError::new("sku")
            .with_message("must be 1-40 of A-Z 0-9 - _ . (upper case)".into())
    })
}

pub(crate) fn is_warehouse_code(value: &str) -> bool {
    (2..=16).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}

/// Trimmed, 1..=`max` characters (not bytes: Thai counts per character),
/// on one line. The `pattern` of these fields in the OpenAPI schemas says
/// the same for generators: no control characters, something not blank.
fn valid_line(value: &str, max: usize) -> Result<(), ValidationError> {
    let trimmed = value.trim();
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new("line").with_message("must be on one line".into()));
    }
    (1..=max)
        .contains(&trimmed.chars().count())
        .then_some(())
        .ok_or_else(|| {
            ValidationError::new("length")
                .with_message(format!("must be 1-{max} characters").into())
        })
}

fn valid_name(value: &str) -> Result<(), ValidationError> {
    valid_line(value, NAME_MAX)
}

fn valid_label(value: &str) -> Result<(), ValidationError> {
    valid_line(value, LABEL_MAX)
}

fn valid_at_most(value: &str, max: usize) -> Result<(), ValidationError> {
    (value.trim().chars().count() <= max)
        .then_some(())
        .ok_or_else(|| {
            ValidationError::new("length")
                .with_message(format!("must be at most {max} characters").into())
        })
}

fn valid_address(value: &str) -> Result<(), ValidationError> {
    valid_at_most(value, ADDRESS_MAX)
}

fn valid_description(value: &str) -> Result<(), ValidationError> {
    valid_at_most(value, DESCRIPTION_MAX)
}

fn valid_barcodes(value: &[String]) -> Result<(), ValidationError> {
    if value.len() > MAX_BARCODES {
        return Err(ValidationError::new("length")
            .with_message(format!("must be at most {MAX_BARCODES} barcodes").into()));
    }
    if let Some(bad) = value.iter().find(|b| !valid_ean13(b)) {
        return Err(ValidationError::new("ean13").with_message(
            format!("{bad:?} is not an EAN-13 (13 digits with a correct check digit)").into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = value.iter().find(|b| !seen.insert(b.as_str())) {
        return Err(
            ValidationError::new("unique").with_message(format!("{twice:?} is given twice").into())
        );
    }
    Ok(())
}

fn valid_status(value: &str) -> Result<(), ValidationError> {
    matches!(value, "active" | "discontinued")
        .then_some(())
        .ok_or_else(|| {
            ValidationError::new("status").with_message("must be active or discontinued".into())
        })
}

/// A new product.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProductRequest {
    /// SKU, unique: 1-40 of A-Z 0-9 - _ .
    #[schema(
        min_length = 1,
        max_length = 40,
        pattern = "^[A-Z0-9._-]{1,40}$",
        example = "DRINK-001"
    )]
    #[validate(custom(function = "valid_sku"))]
    pub sku: String,
    /// Name in Thai, 1-200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "น้ำดื่ม 600 มล."
    )]
    #[validate(custom(function = "valid_name"))]
    pub name_th: String,
    /// Name in English, 1-200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "Drinking water 600 ml"
    )]
    #[validate(custom(function = "valid_name"))]
    pub name_en: String,
    /// Description, up to 2000 characters.
    #[schema(max_length = 2000)]
    #[validate(custom(function = "valid_description"))]
    pub description: Option<String>,
    /// Category, 1-50 characters.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "เครื่องดื่ม"
    )]
    #[validate(custom(function = "valid_label"))]
    pub category: String,
    /// Unit of stock, 1-50 characters (piece, box, kg, …).
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "ขวด"
    )]
    #[validate(custom(function = "valid_label"))]
    pub unit: String,
    /// EAN-13 barcodes (check digit verified), each unique; up to 32.
    #[schema(max_items = 32, inline, value_type = Vec<Ean13>)]
    #[validate(custom(function = "valid_barcodes"))]
    pub barcodes: Vec<String>,
    /// Price in baht.
    #[schema(inline)]
    #[validate(custom(function = "valid_amount"))]
    pub price: BahtInput,
    /// Cost in baht.
    #[schema(inline)]
    #[validate(custom(function = "valid_amount"))]
    pub cost: BahtInput,
    /// Default minimum available stock per warehouse (0 for none).
    #[schema(minimum = 0)]
    #[validate(range(min = 0))]
    pub min_stock: i64,
}

/// An EAN-13 barcode: 13 digits, the last one the check digit.
pub struct Ean13;

impl utoipa::PartialSchema for Ean13 {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9]{13}$"))
            .description(Some("EAN-13: 13 digits, the last one the check digit"))
            .examples(["8850999320014"])
            .into()
    }
}

impl utoipa::ToSchema for Ean13 {}

/// Changes to a product; at least one field. Fields left out stay as
/// they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProductRequest {
    /// Name in Thai.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    #[validate(custom(function = "valid_name"))]
    pub name_th: Option<String>,
    /// Name in English.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    #[validate(custom(function = "valid_name"))]
    pub name_en: Option<String>,
    /// Description; an empty one removes it.
    #[schema(max_length = 2000)]
    #[validate(custom(function = "valid_description"))]
    pub description: Option<String>,
    /// Category.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    #[validate(custom(function = "valid_label"))]
    pub category: Option<String>,
    /// Unit of stock.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    #[validate(custom(function = "valid_label"))]
    pub unit: Option<String>,
    /// Barcodes; replaces all of them.
    #[schema(max_items = 32, inline, value_type = Option<Vec<Ean13>>)]
    #[validate(custom(function = "valid_barcodes"))]
    pub barcodes: Option<Vec<String>>,
    /// Price in baht.
    #[schema(inline)]
    #[validate(custom(function = "valid_amount"))]
    pub price: Option<BahtInput>,
    /// Cost in baht.
    #[schema(inline)]
    #[validate(custom(function = "valid_amount"))]
    pub cost: Option<BahtInput>,
    /// Default minimum available stock per warehouse.
    #[schema(minimum = 0)]
    #[validate(range(min = 0))]
    pub min_stock: Option<i64>,
}

impl UpdateProductRequest {
    fn is_empty(&self) -> bool {
        self.name_th.is_none()
            && self.name_en.is_none()
            && self.description.is_none()
            && self.category.is_none()
            && self.unit.is_none()
            && self.barcodes.is_none()
            && self.price.is_none()
            && self.cost.is_none()
            && self.min_stock.is_none()
    }
}

/// Why a product is discontinued.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscontinueProductRequest {
    /// Reason, for the history.
    #[schema(max_length = 500)]
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// A warehouse's details; the code is in the path.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertWarehouseRequest {
    /// Name in Thai, 1-200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "คลังกรุงเทพ 1"
    )]
    #[validate(custom(function = "valid_name"))]
    pub name_th: String,
    /// Name in English, 1-200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "Bangkok 1"
    )]
    #[validate(custom(function = "valid_name"))]
    pub name_en: String,
    /// Address, up to 500 characters.
    #[schema(max_length = 500)]
    #[validate(custom(function = "valid_address"))]
    pub address: String,
    /// False: no stock moves in or out.
    pub active: bool,
}

/// Search, filters and paging of the product list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// Text in the SKU, either name or the description (any case; Thai
    /// works).
    #[param(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100))]
    pub q: Option<String>,
    /// Only this category (exactly).
    #[param(min_length = 1, max_length = 50)]
    #[validate(length(min = 1, max = 50))]
    pub category: Option<String>,
    /// Only `active` or `discontinued` products.
    #[param(pattern = "^(active|discontinued)$")]
    #[validate(custom(function = "valid_status"))]
    pub status: Option<String>,
    /// Products per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[validate(range(min = 1, max = 100))]
    pub page_size: Option<i64>,
    /// `next_page_token` of the previous page.
    #[param(max_length = 64)]
    #[validate(length(max = 64))]
    pub page_token: Option<String>,
}

/// Filters and paging of the warehouse list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WarehouseQuery {
    /// Only active (true) or inactive (false) warehouses.
    pub active: Option<bool>,
    /// Warehouses per page, 1-100 (default 100).
    #[param(minimum = 1, maximum = 100)]
    #[validate(range(min = 1, max = 100))]
    pub page_size: Option<i64>,
    /// `next_page_token` of the previous page.
    #[param(max_length = 64)]
    #[validate(length(max = 64))]
    pub page_token: Option<String>,
}

fn product_not_found() -> ApiError {
    ApiError::new(Code::ProductNotFound, "no such product")
}

/// The product, or `product_not_found` (also for what cannot be a SKU).
async fn load_product(state: &AppState, sku: &str) -> Result<ProductView, ApiError> {
    if !is_sku(sku) {
        return Err(product_not_found());
    }
    let row = sqlx::query(include_str!("../queries/get_product_view.sql"))
        .bind(sku)
        .fetch_optional(&state.pool)
        .await?
        .ok_or_else(product_not_found)?;
    Ok(ProductView::from_row(&row)?)
}

/// A page token: the last key of the page, opaque to clients.
fn page_token(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(last.as_bytes())
}

fn after_token(token: Option<&str>, valid: fn(&str) -> bool) -> Result<Option<String>, ApiError> {
    token
        .map(|token| {
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .filter(|key| valid(key))
                .ok_or_else(|| ApiError::field("page_token", "page_token", "is not a page token"))
        })
        .transpose()
}

/// Keeps `size` items; the token of the next page when there were more.
fn page_of<T>(mut items: Vec<T>, size: i64, key: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
    let size = usize::try_from(size).unwrap_or(0);
    let more = items.len() > size;
    items.truncate(size);
    let next = more
        .then(|| items.last().map(|item| page_token(key(item))))
        .flatten();
    (items, next)
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn envelope(kind: &str, principal: &Principal) -> Envelope {
    Envelope::new(kind, principal.actor(), &correlation_id(), "ingress")
}

async fn send(
    state: &AppState,
    principal: &Principal,
    command: CatalogCommand,
) -> Result<Response, ApiError> {
    let key = command.aggregate_id.clone();
    let id = command.envelope.id.clone();
    let kind = command.envelope.kind.clone();
    submit(
        state,
        principal,
        Submission {
            topic: state.topics.catalog_commands,
            subject: CATALOG_COMMAND_SUBJECT,
            key: &key,
            kind: &kind,
            command_id: &id,
            value: &command,
        },
        |_: &mut CommandAccepted| {},
    )
    .await
}

/// An amount that passed [`valid_amount`].
fn satang(amount: &BahtInput, field: &str) -> Result<i64, ApiError> {
    amount
        .satang()
        .map(Satang::get)
        .map_err(|e| ApiError::field(field, "amount", e.to_string()))
}

fn trimmed(text: String) -> String {
    text.trim().to_owned()
}

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
    body: LaterJson,
) -> Result<Response, ApiError> {
    principal.require(Scope::CatalogWrite)?;
    let request: CreateProductRequest = body.parse()?;
    let mut command =
        CatalogCommand::empty(envelope("CreateProduct", &principal), request.sku.clone());
    command.create_product = Some(CreateProduct {
        price_satang: satang(&request.price, "price")?,
        cost_satang: satang(&request.cost, "cost")?,
        sku: request.sku,
        name_th: trimmed(request.name_th),
        name_en: trimmed(request.name_en),
        description: request.description,
        category: trimmed(request.category),
        unit: trimmed(request.unit),
        barcodes: request.barcodes,
        min_stock: request.min_stock,
    });
    send(&state, &principal, command).await
}

/// Search and list products (`catalog:read`), by SKU.
#[utoipa::path(
    get, path = "/v1/products", tag = "catalog",
    security(("bearer" = [])),
    params(ProductQuery),
    responses((status = 200, description = "A page of products", body = ProductPage))
)]
pub async fn list_products(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<ProductQuery>,
) -> Result<Json<ProductPage>, ApiError> {
    principal.require(Scope::CatalogRead)?;
    let after = after_token(query.page_token.as_deref(), is_sku)?;
    let size = query.page_size.unwrap_or(20);
    let rows = sqlx::query(include_str!("../queries/list_products.sql"))
        .bind(query.q.as_deref().map(escape_like))
        .bind(&query.category)
        .bind(&query.status)
        .bind(after)
        .bind(size + 1)
        .fetch_all(&state.pool)
        .await?;
    let items = rows
        .iter()
        .map(ProductView::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let (items, next_page_token) = page_of(items, size, |p| p.sku.as_str());
    Ok(Json(ProductPage {
        items,
        next_page_token,
    }))
}

/// One product (`catalog:read`).
#[utoipa::path(
    get, path = "/v1/products/{sku}", tag = "catalog",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "SKU")),
    responses((status = 200, description = "The product", body = ProductView))
)]
pub async fn get_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(sku): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    principal.require(Scope::CatalogRead)?;
    load_product(&state, &sku).await.map(Json)
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
    body: LaterJson,
) -> Result<Response, ApiError> {
    principal.require(Scope::CatalogWrite)?;
    let request: UpdateProductRequest = body.parse()?;
    if request.is_empty() {
        return Err(ApiError::field(
            "body",
            "required",
            "give at least one of name_th, name_en, description, category, unit, barcodes, price, cost, min_stock",
        ));
    }
    let product = load_product(&state, &sku).await?;
    let mut command = CatalogCommand::empty(envelope("UpdateProduct", &principal), product.sku);
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
        name_th: request.name_th.map(trimmed),
        name_en: request.name_en.map(trimmed),
        description: request.description,
        category: request.category.map(trimmed),
        unit: request.unit.map(trimmed),
        barcodes: request.barcodes,
        min_stock: request.min_stock,
    });
    send(&state, &principal, command).await
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
    body: LaterJson,
) -> Result<Response, ApiError> {
    principal.require(Scope::CatalogWrite)?;
    let request: DiscontinueProductRequest = body.parse()?;
    let product = load_product(&state, &sku).await?;
    let mut command =
        CatalogCommand::empty(envelope("DiscontinueProduct", &principal), product.sku);
    command.discontinue_product = Some(DiscontinueProduct {
        reason: request.reason,
    });
    send(&state, &principal, command).await
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
    body: LaterJson,
) -> Result<Response, ApiError> {
    principal.require(Scope::CatalogWrite)?;
    let request: UpsertWarehouseRequest = body.parse()?;
    if !is_warehouse_code(&code) {
        return Err(ApiError::field(
            "code",
            "code",
            "must be 2-16 of A-Z 0-9 - _ (upper case)",
        ));
    }
    let mut command = CatalogCommand::empty(
        envelope("UpsertWarehouse", &principal),
        warehouse_key(&code),
    );
    command.upsert_warehouse = Some(UpsertWarehouse {
        code,
        name_th: trimmed(request.name_th),
        name_en: trimmed(request.name_en),
        address: trimmed(request.address),
        active: request.active,
    });
    send(&state, &principal, command).await
}

/// List warehouses (`catalog:read`), by code.
#[utoipa::path(
    get, path = "/v1/warehouses", tag = "catalog",
    security(("bearer" = [])),
    params(WarehouseQuery),
    responses((status = 200, description = "A page of warehouses", body = WarehousePage))
)]
pub async fn list_warehouses(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<WarehouseQuery>,
) -> Result<Json<WarehousePage>, ApiError> {
    principal.require(Scope::CatalogRead)?;
    let after = after_token(query.page_token.as_deref(), is_warehouse_code)?;
    let size = query.page_size.unwrap_or(100);
    let rows = sqlx::query(include_str!("../queries/list_warehouses.sql"))
        .bind(query.active)
        .bind(after)
        .bind(size + 1)
        .fetch_all(&state.pool)
        .await?;
    let items = rows
        .iter()
        .map(WarehouseView::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let (items, next_page_token) = page_of(items, size, |w| w.code.as_str());
    Ok(Json(WarehousePage {
        items,
        next_page_token,
    }))
}

/// One warehouse (`catalog:read`).
#[utoipa::path(
    get, path = "/v1/warehouses/{code}", tag = "catalog",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Warehouse code")),
    responses((status = 200, description = "The warehouse", body = WarehouseView))
)]
pub async fn get_warehouse(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Json<WarehouseView>, ApiError> {
    principal.require(Scope::CatalogRead)?;
    let not_found = || ApiError::new(Code::WarehouseNotFound, "no such warehouse");
    if !is_warehouse_code(&code) {
        return Err(not_found());
    }
    let row = sqlx::query(include_str!("../queries/get_warehouse_view.sql"))
        .bind(&code)
        .fetch_optional(&state.pool)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(WarehouseView::from_row(&row)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_upper_case_codes() {
        for good in ["A", "DRINK-001", "RICE_5KG.TH", &"X".repeat(40)] {
            assert!(is_sku(good), "{good}");
        }
        for bad in ["", "drink-001", "DRINK 001", "น้ำ", "A/B", &"X".repeat(41)] {
            assert!(!is_sku(bad), "{bad}");
        }
    }

    #[test]
    fn barcodes_are_checked_and_unique() {
        assert!(valid_barcodes(&[]).is_ok());
        assert!(valid_barcodes(&["8850999320014".into(), "4006381333931".into()]).is_ok());
        assert!(valid_barcodes(&["4006381333932".into()]).is_err());
        assert!(valid_barcodes(&["8850999320014".into(), "8850999320014".into()]).is_err());
    }

    #[test]
    fn pages_carry_the_last_key() {
        let (items, next) = page_of(vec!["A", "B", "C"], 2, |s| s);
        assert_eq!(items, vec!["A", "B"]);
        let next = next.expect("a next page");
        assert_eq!(
            after_token(Some(&next), is_sku).expect("a valid token"),
            Some("B".to_owned())
        );
        assert_eq!(page_of(vec!["A"], 2, |s| s).1, None);
        assert!(after_token(Some("bm90IGEgc2t1"), is_sku).is_err());
    }

    #[test]
    fn negative_amounts_still_read() {
        assert_eq!(baht_text(12_550), "125.50");
        assert_eq!(baht_text(-5), "-0.05");
    }
}
