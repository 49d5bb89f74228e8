//! `/v1/me`, `/v1/users` and `/v1/service-accounts`. Writes become users
//! commands (the password is hashed here, so it never reaches Kafka);
//! reads come from the users processor's state.
//!
//! - [`requests`]: what clients send, its validation and schemas;
//! - [`views`]: what reads answer;
//! - [`writes`]: the write handlers (through [`crate::write`]);
//! - [`reads`]: the read handlers and the reads of the users' state.

pub mod reads;
pub mod requests;
pub mod views;
pub mod writes;
