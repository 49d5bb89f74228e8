//! The stock processor.
//!
//! Consumes `khlang.stock.commands` (keyed `sku@warehouse`, so one
//! partition owns each item), applies each movement effectively once on
//! the stream runtime, keeps the levels and an append-only ledger in
//! PostgreSQL (schema `stock`) and a copy of the levels in Redis, and emits
//! `khlang.stock.events`, including a `LowStock` event each time available
//! falls below the minimum. Transfers between warehouses are a saga of
//! commands the processor sends itself; reservations expire through the
//! runtime's timer piece, whose commands are idempotent by id.
//!
//! The products and warehouses it checks commands against are its own copy
//! of the catalog, joined from the catalog's compacted state topic
//! ([`catalog`]); it never reads the catalog's tables.
//!
//! One file per job: [`rules`] (pure decisions), `processor` (dispatch and
//! recording), `movements`, `reservations` and `transfers` (one command
//! family each), `store` (its tables and SQL), [`catalog`] (the join),
//! [`expiry`] (the timer), `cache` (the Redis copy).

mod cache;
pub mod catalog;
pub mod expiry;
mod launch;
mod movements;
mod processor;
pub mod read;
pub mod reasons;
mod reservations;
pub mod rules;
mod store;
mod transfers;

pub use cache::{CacheError, StockCache};
pub use launch::{Stock, StockSettings};
pub use processor::{step_id, Changed, StockProcessor, STEP_NAMESPACE};
pub use store::{DueReservation, StockBatch};

/// The stock migrations (schema `stock`).
#[must_use]
pub fn migrator() -> sqlx::migrate::Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator
}

/// Applies the stock migrations that are not applied yet (schema `stock`).
///
/// # Errors
/// When a migration fails.
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    migrator().run(pool).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_reason_code_is_documented() {
        let page = include_str!("../../../docs/stock.md");
        for code in crate::reasons::ALL {
            assert!(
                page.contains(&format!("| `{code}` |")),
                "docs/stock.md has no row for `{code}`"
            );
        }
    }
}
