//! The stock processor.
//!
//! Consumes `khlang.stock.commands` (keyed `sku@warehouse`, so one
//! partition owns each item), applies each movement effectively once on
//! the stream runtime, keeps the levels and an append-only ledger in
//! PostgreSQL (schema `stock`) and a copy of the levels in Redis, and emits
//! `khlang.stock.events`, including a `LowStock` event each time available
//! falls below the minimum. Transfers between warehouses are a saga of
//! commands the processor sends itself; reservations expire through a
//! timer whose commands are idempotent by id.

mod cache;
mod config;
pub mod domain;
pub mod expiry;
mod processor;
pub mod reasons;

pub use cache::{CacheError, StockCache};
pub use config::Config;
pub use processor::{step_id, Changed, StockProcessor};

/// Applies the stock migrations (schema `stock`).
///
/// # Errors
/// When a migration fails.
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator.run(pool).await
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
