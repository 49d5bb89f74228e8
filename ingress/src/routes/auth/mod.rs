//! `/v1/auth/*` and the JWK set: signing in, rotating refresh tokens,
//! signing out, and the keys that verify access tokens.
//!
//! - [`requests`]: what clients send and get back;
//! - [`sessions`]: the handlers;
//! - [`reads`]: the reads of the accounts (the users processor's state)
//!   that signing in and refreshing need.

pub mod reads;
pub mod requests;
pub mod sessions;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The routes of signing in and out and of the keys.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/login", post(sessions::login))
        .route("/v1/auth/refresh", post(sessions::refresh))
        .route("/v1/auth/logout", post(sessions::logout))
        .route("/.well-known/jwks.json", get(sessions::jwks))
}
