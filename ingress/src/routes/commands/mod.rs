//! `GET /v1/commands/{id}`: a command's outcome, `pending` until its
//! processor has applied it (the write path waits for it; see
//! [`crate::write::outcome`]).
//!
//! - [`requests`]: the query and the answer;
//! - [`reads`]: the handler.

pub mod reads;
pub mod requests;
