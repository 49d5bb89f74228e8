//! What reads of `/v1/stock/*` answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The levels of one item.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LevelView {
    /// SKU.
    pub sku: String,
    /// Warehouse.
    pub warehouse: String,
    /// Units here.
    pub on_hand: i64,
    /// Units promised.
    pub reserved: i64,
    /// On hand − reserved.
    pub available: i64,
    /// Units on their way here.
    pub in_transit: i64,
    /// The minimum in force (override or the product's).
    pub minimum: Option<i64>,
    /// Whether available is below the minimum.
    pub low: bool,
    /// Version, incremented by every movement.
    pub version: i64,
    /// Last movement.
    pub updated_at: DateTime<Utc>,
}

/// One ledger row.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LedgerRow {
    /// Position in the ledger.
    pub seq: i64,
    /// The command.
    pub command_id: String,
    /// SKU.
    pub sku: String,
    /// Warehouse.
    pub warehouse: String,
    /// Movement.
    pub movement: String,
    /// Quantity (signed for adjustments and counts).
    pub quantity: i64,
    /// Reason.
    pub reason: Option<String>,
    /// Reference.
    pub reference: Option<String>,
    /// Who.
    pub actor_id: String,
    /// user, service, device or system.
    pub actor_kind: String,
    /// Levels before.
    pub before: Levels,
    /// Levels after.
    pub after: Levels,
    /// When the command was issued.
    pub occurred_at: DateTime<Utc>,
}

/// A page of the ledger.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LedgerPage {
    /// Rows, oldest first.
    pub items: Vec<LedgerRow>,
    /// Pass as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

/// Levels of an item at one moment.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Levels {
    /// Units here.
    pub on_hand: i64,
    /// Units promised.
    pub reserved: i64,
    /// On hand − reserved.
    pub available: i64,
    /// Units on their way here.
    pub in_transit: i64,
}
