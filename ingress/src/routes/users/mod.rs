//! `/v1/me`, `/v1/users` and `/v1/service-accounts`. Writes become users
//! commands (the password is hashed here, so it never reaches Kafka);
//! reads come from the users processor's state.
//!
//! - [`requests`]: what clients send, its validation and schemas;
//! - [`views`]: what reads answer;
//! - [`writes`]: the write handlers (through [`crate::write`]);
//! - [`reads`]: the read handlers;
//! - [`queries`]: the reads of the users processor's state (its SQL).

mod queries;
pub mod reads;
pub mod requests;
pub mod views;
pub mod writes;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The routes of accounts.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/me", get(reads::me))
        .route("/v1/users", get(reads::list).post(writes::create))
        .route("/v1/users/{id}", get(reads::get).patch(writes::update))
        .route("/v1/users/{id}/role", post(writes::change_role))
        .route("/v1/users/{id}/deactivate", post(writes::deactivate))
        .route("/v1/service-accounts", post(writes::create_service_account))
}
