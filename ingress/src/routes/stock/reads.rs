//! The stock read handlers (authorize, parse the query, read through
//! [`super::queries`], page the answer), and the look-ups of transfers and
//! reservations the writes key their commands by.

use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::queries;
use super::requests::{LedgerQuery, WarehouseStockQuery};
use super::views::{LedgerPage, LevelView};
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
    queries::levels_of_sku(&state, &sku).await.map(Json)
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
    queries::levels_in_warehouse(&state, &code, &query)
        .await
        .map(Json)
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
    let mut items = queries::ledger(&state, &query, after, size + 1).await?;
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

/// The transfer `id`: its SKU, source and destination.
pub(super) async fn find_transfer(
    state: &AppState,
    id: &str,
) -> Result<(String, String, String), ApiError> {
    queries::transfer(state, id)
        .await?
        .ok_or_else(|| ApiError::new(Code::TransferNotFound, "no such transfer (yet)"))
}

/// The reservation `id`: its SKU and warehouse.
pub(super) async fn find_reservation(
    state: &AppState,
    id: &str,
) -> Result<(String, String), ApiError> {
    queries::reservation(state, id)
        .await?
        .ok_or_else(|| ApiError::new(Code::ReservationNotFound, "no such reservation (yet)"))
}
