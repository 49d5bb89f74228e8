//! The stock read handlers, and the reads of the stock processor's state
//! (`stock.*`) they and the writes answer from.

use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sqlx::Row as _;

use super::requests::{LedgerQuery, WarehouseStockQuery};
use super::views::{LedgerPage, LedgerRow, LevelView, Levels};
use crate::auth::Principal;
use crate::error::{ApiError, Code};
use crate::extract::LaterQuery;
use crate::scopes::Scope;
use crate::state::AppState;

const LEVELS: &str = "SELECT i.sku, i.warehouse, i.on_hand, i.reserved, i.in_transit, \
     coalesce(i.minimum_override, p.min_stock) AS minimum, i.low, i.version, i.updated_at \
     FROM stock.items i LEFT JOIN catalog.products p ON p.sku = i.sku";

/// Stock of one SKU in every warehouse.
#[utoipa::path(
    get, path = "/v1/stock/items/{sku}", tag = "stock",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "SKU")),
    responses((status = 200, description = "Levels per warehouse", body = Vec<LevelView>))
)]
pub async fn by_sku(
    State(state): State<AppState>,
    principal: Principal,
    Path(sku): Path<String>,
) -> Result<Json<Vec<LevelView>>, ApiError> {
    principal.require(Scope::StockRead)?;
    let rows = sqlx::query(&format!("{LEVELS} WHERE i.sku = $1 ORDER BY i.warehouse"))
        .bind(&sku)
        .fetch_all(&state.pool)
        .await?;
    Ok(Json(
        rows.iter()
            .map(LevelView::from_row)
            .collect::<Result<_, _>>()?,
    ))
}

/// Stock of one warehouse.
#[utoipa::path(
    get, path = "/v1/stock/warehouses/{code}", tag = "stock",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Warehouse code"), WarehouseStockQuery),
    responses((status = 200, description = "Levels per SKU", body = Vec<LevelView>))
)]
pub async fn by_warehouse(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    query: LaterQuery,
) -> Result<Json<Vec<LevelView>>, ApiError> {
    principal.require(Scope::StockRead)?;
    let query: WarehouseStockQuery = query.parse()?;
    let rows = sqlx::query(&format!(
        "{LEVELS} WHERE i.warehouse = $1 AND ($2::boolean IS NULL OR i.low = $2) \
         AND ($3::text IS NULL OR i.sku > $3) ORDER BY i.sku LIMIT $4"
    ))
    .bind(&code)
    .bind(query.low)
    .bind(&query.after_sku)
    .bind(query.page_size.unwrap_or(100))
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(
        rows.iter()
            .map(LevelView::from_row)
            .collect::<Result<_, _>>()?,
    ))
}

/// The stock ledger, filtered.
#[utoipa::path(
    get, path = "/v1/stock/ledger", tag = "stock",
    security(("bearer" = [])),
    params(LedgerQuery),
    responses((status = 200, description = "A page of the ledger", body = LedgerPage))
)]
pub async fn ledger(
    State(state): State<AppState>,
    principal: Principal,
    query: LaterQuery,
) -> Result<Json<LedgerPage>, ApiError> {
    principal.require(Scope::StockRead)?;
    let query: LedgerQuery = query.parse()?;
    let after: Option<i64> = match &query.page_token {
        None => None,
        Some(token) => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
                .map(i64::from_be_bytes)
                .ok_or_else(|| {
                    ApiError::field("page_token", "page_token", "is not a page token")
                })?,
        ),
    };
    let size = query.page_size.unwrap_or(100);
    let rows = sqlx::query(include_str!("../../queries/ledger.sql"))
        .bind(&query.sku)
        .bind(&query.warehouse)
        .bind(&query.movement)
        .bind(&query.actor)
        .bind(query.from)
        .bind(query.to)
        .bind(after)
        .bind(size + 1)
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
    let limit = usize::try_from(size).unwrap_or(100);
    let more = items.len() > limit;
    items.truncate(limit);
    let next_page_token = if more {
        items
            .last()
            .map(|r| URL_SAFE_NO_PAD.encode(r.seq.to_be_bytes()))
    } else {
        None
    };
    Ok(Json(LedgerPage {
        items,
        next_page_token,
    }))
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

/// The transfer `id`: its SKU, source and destination.
pub(super) async fn find_transfer(
    state: &AppState,
    id: &str,
) -> Result<(String, String, String), ApiError> {
    let row = sqlx::query(
        "SELECT sku, from_warehouse, to_warehouse FROM stock.transfers WHERE transfer_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| ApiError::new(Code::TransferNotFound, "no such transfer (yet)"))?;
    Ok((
        row.try_get("sku")?,
        row.try_get("from_warehouse")?,
        row.try_get("to_warehouse")?,
    ))
}

/// The reservation `id`: its SKU and warehouse.
pub(super) async fn find_reservation(
    state: &AppState,
    id: &str,
) -> Result<(String, String), ApiError> {
    let row =
        sqlx::query("SELECT sku, warehouse FROM stock.reservations WHERE reservation_id = $1")
            .bind(id)
            .fetch_optional(&state.pool)
            .await?
            .ok_or_else(|| ApiError::new(Code::ReservationNotFound, "no such reservation (yet)"))?;
    Ok((row.try_get("sku")?, row.try_get("warehouse")?))
}
