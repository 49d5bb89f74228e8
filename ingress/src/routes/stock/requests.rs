//! What clients send to `/v1/stock/*`: movement bodies and query
//! parameters, their validation and their OpenAPI schemas.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::routes::rules::{
    valid_delta, valid_level, valid_quantity, valid_reason, valid_sku, valid_warehouse,
};

fn valid_id(value: &str) -> Result<(), ValidationError> {
    let ok = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then_some(()).ok_or_else(|| {
        ValidationError::new("id").with_message("must be 1-64 of A-Z a-z 0-9 - _ . :".into())
    })
}

/// Goods arrive.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "WATER-600", "warehouse": "BKK1", "quantity": 120, "reference": "PO-2026-001"}))]
pub struct ReceiptRequest {
    /// SKU.
    #[schema(pattern = "^[A-Z0-9._-]{1,40}$")]
    #[validate(custom(function = "valid_sku"))]
    pub sku: String,
    /// Warehouse code.
    #[schema(pattern = "^[A-Z0-9_-]{2,16}$")]
    #[validate(custom(function = "valid_warehouse"))]
    pub warehouse: String,
    /// Units, 1-1,000,000,000.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    #[validate(custom(function = "valid_quantity"))]
    pub quantity: i64,
    /// Reference, e.g. a purchase order or an order.
    #[schema(max_length = 100)]
    #[validate(length(max = 100))]
    pub reference: Option<String>,
}

/// An adjustment of on hand with a reason.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "WATER-600", "warehouse": "BKK1", "delta": -2, "reason": "damaged", "note": "ขวดแตก"}))]
pub struct AdjustmentRequest {
    /// SKU.
    #[schema(pattern = "^[A-Z0-9._-]{1,40}$")]
    #[validate(custom(function = "valid_sku"))]
    pub sku: String,
    /// Warehouse code.
    #[schema(pattern = "^[A-Z0-9_-]{2,16}$")]
    #[validate(custom(function = "valid_warehouse"))]
    pub warehouse: String,
    /// Signed change of on hand: -1,000,000,000 to 1,000,000,000, not 0.
    #[schema(minimum = -1_000_000_000, maximum = 1_000_000_000, example = -2)]
    #[validate(custom(function = "valid_delta"))]
    pub delta: i64,
    /// count_correction, damaged, expired, lost or found.
    #[schema(pattern = "^(count_correction|damaged|expired|lost|found)$")]
    #[validate(custom(function = "valid_reason"))]
    pub reason: String,
    /// Note.
    #[schema(max_length = 500)]
    #[validate(length(max = 500))]
    pub note: Option<String>,
}

/// A stock count: on hand becomes `counted`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "WATER-600", "warehouse": "BKK1", "counted": 118, "note": "นับประจำเดือน"}))]
pub struct CountRequest {
    /// SKU.
    #[schema(pattern = "^[A-Z0-9._-]{1,40}$")]
    #[validate(custom(function = "valid_sku"))]
    pub sku: String,
    /// Warehouse code.
    #[schema(pattern = "^[A-Z0-9_-]{2,16}$")]
    #[validate(custom(function = "valid_warehouse"))]
    pub warehouse: String,
    /// Units counted.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[validate(custom(function = "valid_level"))]
    pub counted: i64,
    /// Note.
    #[schema(max_length = 500)]
    #[validate(length(max = 500))]
    pub note: Option<String>,
}

/// The minimum at one warehouse (null: the product's).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "WATER-600", "warehouse": "BKK1", "minimum": 150}))]
pub struct MinimumRequest {
    /// SKU.
    #[schema(pattern = "^[A-Z0-9._-]{1,40}$")]
    #[validate(custom(function = "valid_sku"))]
    pub sku: String,
    /// Warehouse code.
    #[schema(pattern = "^[A-Z0-9_-]{2,16}$")]
    #[validate(custom(function = "valid_warehouse"))]
    pub warehouse: String,
    /// Minimum available units; null returns to the product's.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[validate(custom(function = "valid_level"))]
    pub minimum: Option<i64>,
}

/// A transfer between warehouses.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"transfer_id": "TR-2026-0001", "sku": "WATER-600", "from_warehouse": "BKK1", "to_warehouse": "CNX1", "quantity": 24}))]
pub struct TransferRequest {
    /// Transfer id (generated when absent).
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    #[validate(custom(function = "valid_id"))]
    pub transfer_id: Option<String>,
    /// SKU.
    #[schema(pattern = "^[A-Z0-9._-]{1,40}$")]
    #[validate(custom(function = "valid_sku"))]
    pub sku: String,
    /// Source warehouse.
    #[schema(pattern = "^[A-Z0-9_-]{2,16}$")]
    #[validate(custom(function = "valid_warehouse"))]
    pub from_warehouse: String,
    /// Destination warehouse.
    #[schema(pattern = "^[A-Z0-9_-]{2,16}$")]
    #[validate(custom(function = "valid_warehouse"))]
    pub to_warehouse: String,
    /// Units.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    #[validate(custom(function = "valid_quantity"))]
    pub quantity: i64,
}

/// A reservation for an order line.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reservation_id": "RSV-SO-88124-1", "sku": "WATER-600", "warehouse": "BKK1", "quantity": 2, "ttl_seconds": 900, "order_ref": "SO-88124"}))]
pub struct ReservationRequest {
    /// Reservation id (generated when absent).
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    #[validate(custom(function = "valid_id"))]
    pub reservation_id: Option<String>,
    /// SKU.
    #[schema(pattern = "^[A-Z0-9._-]{1,40}$")]
    #[validate(custom(function = "valid_sku"))]
    pub sku: String,
    /// Warehouse code.
    #[schema(pattern = "^[A-Z0-9_-]{2,16}$")]
    #[validate(custom(function = "valid_warehouse"))]
    pub warehouse: String,
    /// Units.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    #[validate(custom(function = "valid_quantity"))]
    pub quantity: i64,
    /// Seconds until the reservation expires (1 s to 30 days).
    #[schema(minimum = 1, maximum = 2_592_000)]
    #[validate(range(min = 1, max = 2_592_000))]
    pub ttl_seconds: i64,
    /// The order line.
    #[schema(max_length = 100)]
    #[validate(length(max = 100))]
    pub order_ref: Option<String>,
}

/// A commit's reference.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reference": "SHP-0001"}))]
pub struct CommitRequest {
    /// Reference, e.g. the shipment.
    #[schema(max_length = 100)]
    #[validate(length(max = 100))]
    pub reference: Option<String>,
}

/// Goods leave (same body as a receipt).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "WATER-600", "warehouse": "BKK1", "quantity": 6, "reference": "SO-88123"}))]
pub struct IssueRequest {
    /// SKU.
    #[schema(pattern = "^[A-Z0-9._-]{1,40}$")]
    #[validate(custom(function = "valid_sku"))]
    pub sku: String,
    /// Warehouse code.
    #[schema(pattern = "^[A-Z0-9_-]{2,16}$")]
    #[validate(custom(function = "valid_warehouse"))]
    pub warehouse: String,
    /// Units.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    #[validate(custom(function = "valid_quantity"))]
    pub quantity: i64,
    /// Reference.
    #[schema(max_length = 100)]
    #[validate(length(max = 100))]
    pub reference: Option<String>,
}

/// Paging of a warehouse's stock.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WarehouseStockQuery {
    /// Only items below their minimum.
    pub low: Option<bool>,
    /// Items per page, 1-500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    #[validate(range(min = 1, max = 500))]
    pub page_size: Option<i64>,
    /// The last SKU of the previous page.
    #[param(max_length = 40)]
    #[validate(length(max = 40))]
    pub after_sku: Option<String>,
}

/// Filters and paging of the ledger.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// Only this SKU.
    #[param(min_length = 1, max_length = 40)]
    #[validate(length(min = 1, max = 40))]
    pub sku: Option<String>,
    /// Only this warehouse.
    #[param(min_length = 1, max_length = 16)]
    #[validate(length(min = 1, max = 16))]
    pub warehouse: Option<String>,
    /// Only this movement (Received, Issued, Adjusted, Counted, Reserved, …).
    #[param(min_length = 1, max_length = 40)]
    #[validate(length(min = 1, max = 40))]
    pub movement: Option<String>,
    /// Only this actor id.
    #[param(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64))]
    pub actor: Option<String>,
    /// From this time (inclusive, RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Until this time (exclusive, RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Rows per page, 1-500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    #[validate(range(min = 1, max = 500))]
    pub page_size: Option<i64>,
    /// `next_page_token` of the previous page.
    #[param(max_length = 32)]
    #[validate(length(max = 32))]
    pub page_token: Option<String>,
}
