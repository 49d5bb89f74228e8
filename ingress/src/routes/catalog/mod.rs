//! `/v1/products` and `/v1/warehouses`. Writes become catalog commands,
//! keyed by SKU or `warehouse:<code>`, that the catalog processor applies
//! (it alone decides uniqueness: a taken SKU or barcode is a rejected
//! outcome, not an answer here); reads come from its state in `catalog.*`.
//!
//! Money is baht at the edge (`"125.50"`) and satang everywhere behind it
//! (see [`money`]).
//!
//! - [`requests`]: what clients send, its validation and schemas;
//! - [`views`]: what reads answer;
//! - [`writes`]: the write handlers (through [`crate::write`]);
//! - [`reads`]: the read handlers;
//! - [`queries`]: the reads of the catalog processor's state (its SQL).

pub mod money;
mod queries;
pub mod reads;
pub mod requests;
pub mod views;
pub mod writes;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The routes of products and warehouses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/products",
            get(reads::list_products).post(writes::create_product),
        )
        .route(
            "/v1/products/{sku}",
            get(reads::get_product).patch(writes::update_product),
        )
        .route(
            "/v1/products/{sku}/discontinue",
            post(writes::discontinue_product),
        )
        .route("/v1/warehouses", get(reads::list_warehouses))
        .route(
            "/v1/warehouses/{code}",
            get(reads::get_warehouse).put(writes::upsert_warehouse),
        )
}
