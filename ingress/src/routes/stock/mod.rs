//! `/v1/stock/*`: movements become stock commands keyed `sku@warehouse`;
//! levels and the ledger are read from the stock processor's tables.
//!
//! - [`requests`]: what clients send, its validation and schemas;
//! - [`views`]: what reads answer;
//! - [`writes`]: the movement handlers (through [`crate::write`]);
//! - [`reads`]: the read handlers;
//! - [`queries`]: the reads of the stock processor's state (its SQL).

mod queries;
pub mod reads;
pub mod requests;
pub mod views;
pub mod writes;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The routes of stock movements, levels and the ledger.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/stock/receipts", post(writes::receive))
        .route("/v1/stock/issues", post(writes::issue))
        .route("/v1/stock/adjustments", post(writes::adjust))
        .route("/v1/stock/counts", post(writes::count))
        .route("/v1/stock/minimums", post(writes::minimum))
        .route("/v1/stock/transfers", post(writes::transfer))
        .route(
            "/v1/stock/transfers/{id}/receive",
            post(writes::receive_transfer),
        )
        .route(
            "/v1/stock/transfers/{id}/cancel",
            post(writes::cancel_transfer),
        )
        .route("/v1/stock/reservations", post(writes::reserve))
        .route("/v1/stock/reservations/{id}/release", post(writes::release))
        .route("/v1/stock/reservations/{id}/commit", post(writes::commit))
        .route("/v1/stock/items/{sku}", get(reads::by_sku))
        .route("/v1/stock/warehouses/{code}", get(reads::by_warehouse))
        .route("/v1/stock/ledger", get(reads::ledger))
}
