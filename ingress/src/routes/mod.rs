//! The handlers, one folder per domain. Each folder splits what clients
//! send (`requests`), what reads answer (`views`), the write handlers
//! (`writes`, all through [`crate::write`]) and the read handlers with the
//! reads of the domain's state (`reads`). Handlers are thin: they parse,
//! authorize, call one function, and map its result.

pub mod auth;
pub mod catalog;
pub mod commands;
pub mod docs;
pub mod rules;
pub mod scans;
pub mod stock;
pub mod users;
