//! The handlers, one module per family.

pub mod auth;
pub mod catalog;
pub mod commands;
pub mod docs;
pub mod scans;
pub mod stock;
pub mod users;
