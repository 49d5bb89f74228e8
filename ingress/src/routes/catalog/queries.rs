//! The reads of the catalog processor's state (`catalog.*`): the only SQL
//! of the catalog in the ingress. Each returns views; the processor's typed
//! read API will take their place.

use sqlx::Row as _;

use super::requests::ProductQuery;
use super::views::{baht_text, ProductView, WarehouseView};
use crate::error::ApiError;
use crate::routes::rules::escape_like;
use crate::state::AppState;

/// The product `sku`, if there is one.
pub(super) async fn product(state: &AppState, sku: &str) -> Result<Option<ProductView>, ApiError> {
    let row = sqlx::query(include_str!("../../queries/get_product_view.sql"))
        .bind(sku)
        .fetch_optional(&state.pool)
        .await?;
    Ok(row.as_ref().map(ProductView::from_row).transpose()?)
}

/// Up to `limit` products matching `filter`, by SKU, after `after`.
pub(super) async fn products(
    state: &AppState,
    filter: &ProductQuery,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<ProductView>, ApiError> {
    let rows = sqlx::query(include_str!("../../queries/list_products.sql"))
        .bind(filter.q.as_deref().map(escape_like))
        .bind(&filter.category)
        .bind(&filter.status)
        .bind(after)
        .bind(limit)
        .fetch_all(&state.pool)
        .await?;
    Ok(rows
        .iter()
        .map(ProductView::from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// The warehouse `code`, if there is one.
pub(super) async fn warehouse(
    state: &AppState,
    code: &str,
) -> Result<Option<WarehouseView>, ApiError> {
    let row = sqlx::query(include_str!("../../queries/get_warehouse_view.sql"))
        .bind(code)
        .fetch_optional(&state.pool)
        .await?;
    Ok(row.as_ref().map(WarehouseView::from_row).transpose()?)
}

/// Up to `limit` warehouses (only active or inactive ones when `active`
/// says so), by code, after `after`.
pub(super) async fn warehouses(
    state: &AppState,
    active: Option<bool>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<WarehouseView>, ApiError> {
    let rows = sqlx::query(include_str!("../../queries/list_warehouses.sql"))
        .bind(active)
        .bind(after)
        .bind(limit)
        .fetch_all(&state.pool)
        .await?;
    Ok(rows
        .iter()
        .map(WarehouseView::from_row)
        .collect::<Result<Vec<_>, _>>()?)
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
