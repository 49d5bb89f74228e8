//! The stock read API: what other crates (the ingress, tests) may read of
//! the `stock` schema, as typed rows: levels, the ledger, transfers and
//! reservations.
//!
//! The stock processor is the only writer of its schema and the only crate
//! with SQL naming it. Before the stock processor (or `khlangctl migrate`)
//! has created the schema, these functions fail with an error for which
//! `khlang_runtime::schema::is_not_migrated` holds.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, PgPool, Row};

/// The levels of one item (a SKU in a warehouse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// SKU.
    pub sku: String,
    /// Warehouse code.
    pub warehouse: String,
    /// Units physically here.
    pub on_hand: i64,
    /// Units promised to orders.
    pub reserved: i64,
    /// Units on their way here.
    pub in_transit: i64,
    /// The minimum in force: the item's override, else the product's
    /// default; `None` when neither is known.
    pub minimum: Option<i64>,
    /// Whether available is below the minimum.
    pub low: bool,
    /// Incremented by every movement.
    pub version: i64,
    /// Last movement.
    pub updated_at: DateTime<Utc>,
}

impl Level {
    /// On hand − reserved.
    #[must_use]
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            sku: row.try_get("sku")?,
            warehouse: row.try_get("warehouse")?,
            on_hand: row.try_get("on_hand")?,
            reserved: row.try_get("reserved")?,
            in_transit: row.try_get("in_transit")?,
            minimum: row.try_get("minimum_override")?,
            low: row.try_get("low")?,
            version: row.try_get("version")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// Levels of an item at one moment (before or after a movement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levels {
    /// Units here.
    pub on_hand: i64,
    /// Units promised.
    pub reserved: i64,
    /// Units on their way here.
    pub in_transit: i64,
}

impl Levels {
    /// On hand − reserved.
    #[must_use]
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    fn from_row(row: &PgRow, when: &str) -> Result<Self, sqlx::Error> {
        Ok(Self {
            on_hand: row.try_get(format!("on_hand_{when}").as_str())?,
            reserved: row.try_get(format!("reserved_{when}").as_str())?,
            in_transit: row.try_get(format!("in_transit_{when}").as_str())?,
        })
    }
}

/// One row of the append-only ledger: one applied movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Position in the ledger.
    pub seq: i64,
    /// The command that moved the stock.
    pub command_id: String,
    /// SKU.
    pub sku: String,
    /// Warehouse.
    pub warehouse: String,
    /// Movement (`Received`, `Issued`, `Reserved`, …).
    pub movement: String,
    /// Quantity (signed for adjustments and counts).
    pub quantity: i64,
    /// Reason code.
    pub reason: Option<String>,
    /// Reference (document number, order, …).
    pub reference: Option<String>,
    /// Who.
    pub actor_id: String,
    /// `user`, `service`, `device` or `system`.
    pub actor_kind: String,
    /// Levels before.
    pub before: Levels,
    /// Levels after.
    pub after: Levels,
    /// When the command was issued.
    pub occurred_at: DateTime<Utc>,
}

impl LedgerEntry {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            seq: row.try_get("seq")?,
            command_id: row.try_get("command_id")?,
            sku: row.try_get("sku")?,
            warehouse: row.try_get("warehouse")?,
            movement: row.try_get("movement")?,
            quantity: row.try_get("quantity")?,
            reason: row.try_get("reason")?,
            reference: row.try_get("reference")?,
            actor_id: row.try_get("actor_id")?,
            actor_kind: row.try_get("actor_kind")?,
            before: Levels::from_row(row, "before")?,
            after: Levels::from_row(row, "after")?,
            occurred_at: row.try_get("occurred_at")?,
        })
    }
}

/// Which ledger rows [`ledger`] lists; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerFilter {
    /// Only this SKU.
    pub sku: Option<String>,
    /// Only this warehouse.
    pub warehouse: Option<String>,
    /// Only this movement.
    pub movement: Option<String>,
    /// Only this actor id.
    pub actor_id: Option<String>,
    /// From this time (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until this time (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// Only rows after this position (the last of the previous page).
    pub after_seq: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// Which items of a warehouse [`levels_in_warehouse`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarehouseLevelsFilter {
    /// Only items below (true) or not below (false) their minimum.
    pub low: Option<bool>,
    /// Only SKUs after this one (the last of the previous page).
    pub after_sku: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// A transfer between two warehouses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Id.
    pub transfer_id: String,
    /// SKU.
    pub sku: String,
    /// Where the units leave.
    pub from_warehouse: String,
    /// Where they arrive.
    pub to_warehouse: String,
    /// Units.
    pub quantity: i64,
    /// Where the saga is (`in_transit`, `received`, `returned`, …).
    pub status: String,
    /// Whether the destination has counted the units as in transit.
    pub expected: bool,
}

impl Transfer {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            transfer_id: row.try_get("transfer_id")?,
            sku: row.try_get("sku")?,
            from_warehouse: row.try_get("from_warehouse")?,
            to_warehouse: row.try_get("to_warehouse")?,
            quantity: row.try_get("quantity")?,
            status: row.try_get("status")?,
            expected: row.try_get("expected")?,
        })
    }
}

/// A reservation of units for an order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Id.
    pub reservation_id: String,
    /// SKU.
    pub sku: String,
    /// Warehouse.
    pub warehouse: String,
    /// Units.
    pub quantity: i64,
    /// When it runs out.
    pub expires_at: DateTime<Utc>,
    /// The order it is for.
    pub order_ref: Option<String>,
    /// `active`, `released`, `committed` or `expired`.
    pub status: String,
}

impl Reservation {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            reservation_id: row.try_get("reservation_id")?,
            sku: row.try_get("sku")?,
            warehouse: row.try_get("warehouse")?,
            quantity: row.try_get("quantity")?,
            expires_at: row.try_get("expires_at")?,
            order_ref: row.try_get("order_ref")?,
            status: row.try_get("status")?,
        })
    }
}

/// The levels of `sku` in every warehouse that has it, by warehouse.
///
/// # Errors
/// Database errors.
pub async fn levels_of_sku(pool: &PgPool, sku: &str) -> Result<Vec<Level>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_levels_of_sku.sql"))
        .bind(sku)
        .fetch_all(pool)
        .await?;
    with_minimums(pool, rows).await
}

/// The levels of the items of `warehouse` matching `filter`, by SKU.
///
/// # Errors
/// Database errors.
pub async fn levels_in_warehouse(
    pool: &PgPool,
    warehouse: &str,
    filter: &WarehouseLevelsFilter,
) -> Result<Vec<Level>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_levels_in_warehouse.sql"))
        .bind(warehouse)
        .bind(filter.low)
        .bind(&filter.after_sku)
        .bind(filter.limit)
        .fetch_all(pool)
        .await?;
    with_minimums(pool, rows).await
}

/// Every item's levels, by SKU and warehouse (for tests and tools; the
/// whole table).
///
/// # Errors
/// Database errors.
pub async fn all_levels(pool: &PgPool) -> Result<Vec<Level>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_all_levels.sql"))
        .fetch_all(pool)
        .await?;
    with_minimums(pool, rows).await
}

/// Levels from `rows`, with the product's default minimum where the item
/// has no override of its own.
///
/// The default comes from stock's own copy of the catalog's products
/// (`stock.products`, joined from the catalog's state topic), never from
/// the catalog's tables.
async fn with_minimums(pool: &PgPool, rows: Vec<PgRow>) -> Result<Vec<Level>, sqlx::Error> {
    let mut levels = rows
        .iter()
        .map(Level::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let mut missing: Vec<String> = levels
        .iter()
        .filter(|l| l.minimum.is_none())
        .map(|l| l.sku.clone())
        .collect();
    if missing.is_empty() {
        return Ok(levels);
    }
    missing.sort_unstable();
    missing.dedup();
    let defaults: HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>(include_str!("queries/read_min_stocks.sql"))
            .bind(&missing)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    for level in levels.iter_mut().filter(|l| l.minimum.is_none()) {
        level.minimum = defaults.get(&level.sku).copied();
    }
    Ok(levels)
}

/// Ledger rows matching `filter`, oldest first.
///
/// # Errors
/// Database errors.
pub async fn ledger<'e>(
    db: impl PgExecutor<'e>,
    filter: &LedgerFilter,
) -> Result<Vec<LedgerEntry>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_ledger.sql"))
        .bind(&filter.sku)
        .bind(&filter.warehouse)
        .bind(&filter.movement)
        .bind(&filter.actor_id)
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.after_seq)
        .bind(filter.limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(LedgerEntry::from_row).collect()
}

/// One transfer.
///
/// # Errors
/// Database errors.
pub async fn transfer<'e>(
    db: impl PgExecutor<'e>,
    transfer_id: &str,
) -> Result<Option<Transfer>, sqlx::Error> {
    let row = sqlx::query(include_str!("queries/read_transfer.sql"))
        .bind(transfer_id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(Transfer::from_row).transpose()
}

/// Every transfer, by id (for tests and tools).
///
/// # Errors
/// Database errors.
pub async fn transfers<'e>(db: impl PgExecutor<'e>) -> Result<Vec<Transfer>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_transfers.sql"))
        .fetch_all(db)
        .await?;
    rows.iter().map(Transfer::from_row).collect()
}

/// One reservation.
///
/// # Errors
/// Database errors.
pub async fn reservation<'e>(
    db: impl PgExecutor<'e>,
    reservation_id: &str,
) -> Result<Option<Reservation>, sqlx::Error> {
    let row = sqlx::query(include_str!("queries/read_reservation.sql"))
        .bind(reservation_id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(Reservation::from_row).transpose()
}

/// Every reservation, by id (for tests and tools).
///
/// # Errors
/// Database errors.
pub async fn reservations<'e>(db: impl PgExecutor<'e>) -> Result<Vec<Reservation>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_reservations.sql"))
        .fetch_all(db)
        .await?;
    rows.iter().map(Reservation::from_row).collect()
}
