//! `GET /v1/commands/{id}`: a command's outcome, `pending` until its
//! processor has applied it (the write path waits for it; see
//! [`crate::write::outcome`]).
//!
//! - [`requests`]: the query and the answer;
//! - [`reads`]: the handler.

pub mod reads;
pub mod requests;

use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// The route of command outcomes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/commands/{id}", get(reads::get_command))
}
