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
//!
//! It owns the schema `stock` (its `migrations/`, applied at its start or by
//! `khlangctl migrate`); other crates read it only through [`read`].

mod cache;
pub mod domain;
pub mod expiry;
mod launch;
mod processor;
pub mod read;
pub mod reasons;

pub use cache::{CacheError, StockCache};
pub use launch::{Stock, StockSettings};
pub use processor::{step_id, Changed, StockProcessor};

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
