//! What clients send to `/v1/products` and `/v1/warehouses`: bodies and
//! query parameters, their validation and their OpenAPI schemas.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::money::{valid_amount, BahtInput};
use crate::routes::rules::{
    valid_address, valid_barcodes, valid_description, valid_label, valid_level, valid_name,
    valid_sku,
};

// Every value's rule is the contract's (khlang_contract::values), which the
// catalog processor checks too: a request that passes here is never
// rejected by the processor for a value's format.

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
#[schema(example = json!({
    "sku": "WATER-600", "name_th": "น้ำดื่ม 600 มล.", "name_en": "Drinking water 600 ml",
    "category": "เครื่องดื่ม", "unit": "ขวด", "barcodes": ["8851234000012"],
    "price": "7.00", "cost": "4.50", "min_stock": 120
}))]
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
    /// Default minimum available stock per warehouse (0 for none), up to
    /// 1,000,000,000.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[validate(custom(function = "valid_level"))]
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
#[schema(example = json!({"price": "12.50", "min_stock": 5}))]
pub struct UpdateProductRequest {
    /// Name in Thai.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        nullable = false
    )]
    #[validate(custom(function = "valid_name"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub name_th: Option<String>,
    /// Name in English.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        nullable = false
    )]
    #[validate(custom(function = "valid_name"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub name_en: Option<String>,
    /// Description; an empty one removes it.
    #[schema(max_length = 2000, nullable = false)]
    #[validate(custom(function = "valid_description"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub description: Option<String>,
    /// Category.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        nullable = false
    )]
    #[validate(custom(function = "valid_label"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub category: Option<String>,
    /// Unit of stock.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        nullable = false
    )]
    #[validate(custom(function = "valid_label"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub unit: Option<String>,
    /// Barcodes; replaces all of them.
    #[schema(max_items = 32, inline, value_type = Vec<Ean13>, required = false, nullable = false)]
    #[validate(custom(function = "valid_barcodes"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub barcodes: Option<Vec<String>>,
    /// Price in baht.
    #[schema(inline, nullable = false)]
    #[validate(custom(function = "valid_amount"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub price: Option<BahtInput>,
    /// Cost in baht.
    #[schema(inline, nullable = false)]
    #[validate(custom(function = "valid_amount"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub cost: Option<BahtInput>,
    /// Default minimum available stock per warehouse, up to 1,000,000,000.
    #[schema(minimum = 0, maximum = 1_000_000_000, nullable = false)]
    #[validate(custom(function = "valid_level"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub min_stock: Option<i64>,
}

impl UpdateProductRequest {
    pub(super) fn is_empty(&self) -> bool {
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
#[schema(example = json!({"reason": "เลิกผลิต"}))]
pub struct DiscontinueProductRequest {
    /// Reason, for the history.
    #[schema(max_length = 500)]
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// A warehouse's details; the code is in the path.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name_th": "คลังกรุงเทพ (บางนา)", "name_en": "Bangkok (Bang Na)",
    "address": "99 ถนนบางนา-ตราด กรุงเทพฯ 10260", "active": true
}))]
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
