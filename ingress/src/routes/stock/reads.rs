//! The stock read handlers, and the reads of the stock processor's state
//! they and the writes answer from, through its read API
//! ([`khlang_stock::read`]).

use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use khlang_stock::read::{self as stock, LedgerEntry, LedgerFilter, Level, WarehouseLevelsFilter};

use super::requests::{LedgerQuery, WarehouseStockQuery};
use super::views::{LedgerPage, LedgerRow, LevelView, Levels};
use crate::auth::Principal;
use crate::error::{ApiError, Code};
use crate::extract::LaterQuery;
use crate::scopes::Scope;
use crate::state::AppState;

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
    let levels = stock::levels_of_sku(&state.pool, &sku).await?;
    Ok(Json(levels.into_iter().map(LevelView::from).collect()))
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
    let filter = WarehouseLevelsFilter {
        low: query.low,
        after_sku: query.after_sku,
        limit: query.page_size.unwrap_or(100),
    };
    let levels = stock::levels_in_warehouse(&state.pool, &code, &filter).await?;
    Ok(Json(levels.into_iter().map(LevelView::from).collect()))
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
    let filter = LedgerFilter {
        sku: query.sku,
        warehouse: query.warehouse,
        movement: query.movement,
        actor_id: query.actor,
        from: query.from,
        to: query.to,
        after_seq: after,
        limit: size + 1,
    };
    let mut items: Vec<LedgerRow> = stock::ledger(&state.pool, &filter)
        .await?
        .into_iter()
        .map(LedgerRow::from)
        .collect();
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

impl From<Level> for LevelView {
    fn from(level: Level) -> Self {
        Self {
            available: level.available(),
            sku: level.sku,
            warehouse: level.warehouse,
            on_hand: level.on_hand,
            reserved: level.reserved,
            in_transit: level.in_transit,
            minimum: level.minimum,
            low: level.low,
            version: level.version,
            updated_at: level.updated_at,
        }
    }
}

impl From<stock::Levels> for Levels {
    fn from(levels: stock::Levels) -> Self {
        Self {
            on_hand: levels.on_hand,
            reserved: levels.reserved,
            available: levels.available(),
            in_transit: levels.in_transit,
        }
    }
}

impl From<LedgerEntry> for LedgerRow {
    fn from(entry: LedgerEntry) -> Self {
        Self {
            seq: entry.seq,
            command_id: entry.command_id,
            sku: entry.sku,
            warehouse: entry.warehouse,
            movement: entry.movement,
            quantity: entry.quantity,
            reason: entry.reason,
            reference: entry.reference,
            actor_id: entry.actor_id,
            actor_kind: entry.actor_kind,
            before: entry.before.into(),
            after: entry.after.into(),
            occurred_at: entry.occurred_at,
        }
    }
}

/// The transfer `id`: its SKU, source and destination.
pub(super) async fn find_transfer(
    state: &AppState,
    id: &str,
) -> Result<(String, String, String), ApiError> {
    let transfer = stock::transfer(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::new(Code::TransferNotFound, "no such transfer (yet)"))?;
    Ok((transfer.sku, transfer.from_warehouse, transfer.to_warehouse))
}

/// The reservation `id`: its SKU and warehouse.
pub(super) async fn find_reservation(
    state: &AppState,
    id: &str,
) -> Result<(String, String), ApiError> {
    let reservation = stock::reservation(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::new(Code::ReservationNotFound, "no such reservation (yet)"))?;
    Ok((reservation.sku, reservation.warehouse))
}
