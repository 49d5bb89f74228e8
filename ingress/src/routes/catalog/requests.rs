//! What clients send to `/v1/products` and `/v1/warehouses`: bodies and
//! query parameters, their validation and their OpenAPI schemas.

use khlang_contract::catalog::valid_ean13;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::money::{valid_amount, BahtInput};
use crate::routes::rules::is_sku;

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

fn valid_sku(value: &str) -> Result<(), ValidationError> {
    is_sku(value).then_some(()).ok_or_else(|| {
        ValidationError::new("sku")
            .with_message("must be 1-40 of A-Z 0-9 - _ . (upper case)".into())
    })
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
    pub name_th: Option<String>,
    /// Name in English.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        nullable = false
    )]
    #[validate(custom(function = "valid_name"))]
    pub name_en: Option<String>,
    /// Description; an empty one removes it.
    #[schema(max_length = 2000, nullable = false)]
    #[validate(custom(function = "valid_description"))]
    pub description: Option<String>,
    /// Category.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        nullable = false
    )]
    #[validate(custom(function = "valid_label"))]
    pub category: Option<String>,
    /// Unit of stock.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        nullable = false
    )]
    #[validate(custom(function = "valid_label"))]
    pub unit: Option<String>,
    /// Barcodes; replaces all of them.
    #[schema(max_items = 32, inline, value_type = Vec<Ean13>, required = false, nullable = false)]
    #[validate(custom(function = "valid_barcodes"))]
    pub barcodes: Option<Vec<String>>,
    /// Price in baht.
    #[schema(inline, nullable = false)]
    #[validate(custom(function = "valid_amount"))]
    pub price: Option<BahtInput>,
    /// Cost in baht.
    #[schema(inline, nullable = false)]
    #[validate(custom(function = "valid_amount"))]
    pub cost: Option<BahtInput>,
    /// Default minimum available stock per warehouse.
    #[schema(minimum = 0, nullable = false)]
    #[validate(range(min = 0))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcodes_are_checked_and_unique() {
        assert!(valid_barcodes(&[]).is_ok());
        assert!(valid_barcodes(&["8850999320014".into(), "4006381333931".into()]).is_ok());
        assert!(valid_barcodes(&["4006381333932".into()]).is_err());
        assert!(valid_barcodes(&["8850999320014".into(), "8850999320014".into()]).is_err());
    }
}
