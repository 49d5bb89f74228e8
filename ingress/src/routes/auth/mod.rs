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
