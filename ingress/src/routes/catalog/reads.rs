//! The catalog's read handlers: authorize, parse the query, read through
//! [`super::queries`], page the answer.

use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::queries;
use super::requests::{ProductQuery, WarehouseQuery};
use super::views::{ProductPage, ProductView, WarehousePage, WarehouseView};
use crate::auth::Principal;
use crate::error::{ApiError, Code};
use crate::extract::LaterQuery;
use crate::routes::rules::{is_sku, is_warehouse_code};
use crate::scopes::Scope;
use crate::state::AppState;

/// Search and list products (`catalog:read`), by SKU.
#[utoipa::path(
    get, path = "/v1/products", tag = "catalog",
    security(("bearer" = [])),
    params(ProductQuery),
    responses((status = 200, description = "A page of products", body = ProductPage))
)]
pub async fn list_products(
    State(state): State<AppState>,
    principal: Principal,
    query: LaterQuery,
) -> Result<Json<ProductPage>, ApiError> {
    principal.require(Scope::CatalogRead)?;
    let query: ProductQuery = query.parse()?;
    let after = after_token(query.page_token.as_deref(), is_sku)?;
    let size = query.page_size.unwrap_or(20);
    let items = queries::products(&state, &query, after, size + 1).await?;
    let (items, next_page_token) = page_of(items, size, |p| p.sku.as_str());
    Ok(Json(ProductPage {
        items,
        next_page_token,
    }))
}

/// One product (`catalog:read`).
#[utoipa::path(
    get, path = "/v1/products/{sku}", tag = "catalog",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "SKU")),
    responses((status = 200, description = "The product", body = ProductView))
)]
pub async fn get_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(sku): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    principal.require(Scope::CatalogRead)?;
    load_product(&state, &sku).await.map(Json)
}

/// List warehouses (`catalog:read`), by code.
#[utoipa::path(
    get, path = "/v1/warehouses", tag = "catalog",
    security(("bearer" = [])),
    params(WarehouseQuery),
    responses((status = 200, description = "A page of warehouses", body = WarehousePage))
)]
pub async fn list_warehouses(
    State(state): State<AppState>,
    principal: Principal,
    query: LaterQuery,
) -> Result<Json<WarehousePage>, ApiError> {
    principal.require(Scope::CatalogRead)?;
    let query: WarehouseQuery = query.parse()?;
    let after = after_token(query.page_token.as_deref(), is_warehouse_code)?;
    let size = query.page_size.unwrap_or(100);
    let items = queries::warehouses(&state, query.active, after, size + 1).await?;
    let (items, next_page_token) = page_of(items, size, |w| w.code.as_str());
    Ok(Json(WarehousePage {
        items,
        next_page_token,
    }))
}

/// One warehouse (`catalog:read`).
#[utoipa::path(
    get, path = "/v1/warehouses/{code}", tag = "catalog",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Warehouse code")),
    responses((status = 200, description = "The warehouse", body = WarehouseView))
)]
pub async fn get_warehouse(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Json<WarehouseView>, ApiError> {
    principal.require(Scope::CatalogRead)?;
    let not_found = || ApiError::new(Code::WarehouseNotFound, "no such warehouse");
    if !is_warehouse_code(&code) {
        return Err(not_found());
    }
    queries::warehouse(&state, &code)
        .await?
        .map(Json)
        .ok_or_else(not_found)
}

fn product_not_found() -> ApiError {
    ApiError::new(Code::ProductNotFound, "no such product")
}

/// The product, or `product_not_found` (also for what cannot be a SKU).
pub(super) async fn load_product(state: &AppState, sku: &str) -> Result<ProductView, ApiError> {
    if !is_sku(sku) {
        return Err(product_not_found());
    }
    queries::product(state, sku)
        .await?
        .ok_or_else(product_not_found)
}

/// A page token: the last key of the page, opaque to clients.
fn page_token(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(last.as_bytes())
}

fn after_token(token: Option<&str>, valid: fn(&str) -> bool) -> Result<Option<String>, ApiError> {
    token
        .map(|token| {
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .filter(|key| valid(key))
                .ok_or_else(|| ApiError::field("page_token", "page_token", "is not a page token"))
        })
        .transpose()
}

/// Keeps `size` items; the token of the next page when there were more.
fn page_of<T>(mut items: Vec<T>, size: i64, key: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
    let size = usize::try_from(size).unwrap_or(0);
    let more = items.len() > size;
    items.truncate(size);
    let next = more
        .then(|| items.last().map(|item| page_token(key(item))))
        .flatten();
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_the_last_key() {
        let (items, next) = page_of(vec!["A", "B", "C"], 2, |s| s);
        assert_eq!(items, vec!["A", "B"]);
        let next = next.expect("a next page");
        assert_eq!(
            after_token(Some(&next), is_sku).expect("a valid token"),
            Some("B".to_owned())
        );
        assert_eq!(page_of(vec!["A"], 2, |s| s).1, None);
        assert!(after_token(Some("bm90IGEgc2t1"), is_sku).is_err());
    }
}
