//! The reads of the stock processor's state (`stock.*`, and the product
//! minimum from `catalog.products`): the only SQL of the stock domain in
//! the ingress. Each returns views; the processor's typed read API will
//! take their place.

use sqlx::Row as _;

use super::requests::{LedgerQuery, WarehouseStockQuery};
use super::views::{LedgerRow, LevelView, Levels};
use crate::error::ApiError;
use crate::state::AppState;

const LEVELS: &str = "SELECT i.sku, i.warehouse, i.on_hand, i.reserved, i.in_transit, \
     coalesce(i.minimum_override, p.min_stock) AS minimum, i.low, i.version, i.updated_at \
     FROM stock.items i LEFT JOIN catalog.products p ON p.sku = i.sku";

/// The levels of `sku` in every warehouse, by warehouse.
pub(super) async fn levels_of_sku(state: &AppState, sku: &str) -> Result<Vec<LevelView>, ApiError> {
    let rows = sqlx::query(&format!("{LEVELS} WHERE i.sku = $1 ORDER BY i.warehouse"))
        .bind(sku)
        .fetch_all(&state.pool)
        .await?;
    Ok(rows
        .iter()
        .map(LevelView::from_row)
        .collect::<Result<_, _>>()?)
}

/// The levels in warehouse `code` that `filter` asks for, by SKU.
pub(super) async fn levels_in_warehouse(
    state: &AppState,
    code: &str,
    filter: &WarehouseStockQuery,
) -> Result<Vec<LevelView>, ApiError> {
    let rows = sqlx::query(&format!(
        "{LEVELS} WHERE i.warehouse = $1 AND ($2::boolean IS NULL OR i.low = $2) \
         AND ($3::text IS NULL OR i.sku > $3) ORDER BY i.sku LIMIT $4"
    ))
    .bind(code)
    .bind(filter.low)
    .bind(&filter.after_sku)
    .bind(filter.page_size.unwrap_or(100))
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .iter()
        .map(LevelView::from_row)
        .collect::<Result<_, _>>()?)
}

/// Up to `limit` ledger rows matching `filter`, oldest first, after
/// position `after`.
pub(super) async fn ledger(
    state: &AppState,
    filter: &LedgerQuery,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<LedgerRow>, ApiError> {
    let rows = sqlx::query(include_str!("../../queries/ledger.sql"))
        .bind(&filter.sku)
        .bind(&filter.warehouse)
        .bind(&filter.movement)
        .bind(&filter.actor)
        .bind(filter.from)
        .bind(filter.to)
        .bind(after)
        .bind(limit)
        .fetch_all(&state.pool)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push(LedgerRow {
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
            before: levels(row, "before")?,
            after: levels(row, "after")?,
            occurred_at: row.try_get("occurred_at")?,
        });
    }
    Ok(items)
}

/// The transfer `id`, if known: its SKU, source and destination.
pub(super) async fn transfer(
    state: &AppState,
    id: &str,
) -> Result<Option<(String, String, String)>, ApiError> {
    let row = sqlx::query(
        "SELECT sku, from_warehouse, to_warehouse FROM stock.transfers WHERE transfer_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((
        row.try_get("sku")?,
        row.try_get("from_warehouse")?,
        row.try_get("to_warehouse")?,
    )))
}

/// The reservation `id`, if known: its SKU and warehouse.
pub(super) async fn reservation(
    state: &AppState,
    id: &str,
) -> Result<Option<(String, String)>, ApiError> {
    let row =
        sqlx::query("SELECT sku, warehouse FROM stock.reservations WHERE reservation_id = $1")
            .bind(id)
            .fetch_optional(&state.pool)
            .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((row.try_get("sku")?, row.try_get("warehouse")?)))
}

impl LevelView {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        let on_hand: i64 = row.try_get("on_hand")?;
        let reserved: i64 = row.try_get("reserved")?;
        Ok(Self {
            sku: row.try_get("sku")?,
            warehouse: row.try_get("warehouse")?,
            on_hand,
            reserved,
            available: on_hand - reserved,
            in_transit: row.try_get("in_transit")?,
            minimum: row.try_get("minimum")?,
            low: row.try_get("low")?,
            version: row.try_get("version")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

fn levels(row: &sqlx::postgres::PgRow, when: &str) -> Result<Levels, sqlx::Error> {
    let on_hand: i64 = row.try_get(format!("on_hand_{when}").as_str())?;
    let reserved: i64 = row.try_get(format!("reserved_{when}").as_str())?;
    Ok(Levels {
        on_hand,
        reserved,
        available: on_hand - reserved,
        in_transit: row.try_get(format!("in_transit_{when}").as_str())?,
    })
}
