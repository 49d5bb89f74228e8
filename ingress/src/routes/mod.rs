//! The handlers, one module per family.

pub mod auth;
pub mod commands;
pub mod docs;
pub mod users;
