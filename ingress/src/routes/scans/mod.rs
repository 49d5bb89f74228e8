//! `POST /v1/scans`: a scanner's batch of scans as NDJSON, one JSON object
//! per line. Each line is validated on its own and answered in a per-line
//! result; valid lines become stock commands, published together; a bad
//! line never sinks the batch or loses the good ones. A line with a
//! `scan_id` gets a command id derived from the device and the scan id, so
//! a batch sent again (after a lost answer) applies each scan once.
//!
//! - [`requests`]: a scan line, its validation, and the per-line answer;
//! - [`writes`]: the batch handler (through [`crate::write`]).

pub mod requests;
pub mod writes;

use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::Router;

use crate::state::AppState;

/// The route of scanner batches, with its own body limit
/// (`http.scan_body_limit_bytes`).
pub fn routes(body_limit: usize) -> Router<AppState> {
    Router::new().route(
        "/v1/scans",
        post(writes::post_scans).layer(DefaultBodyLimit::max(body_limit)),
    )
}
