//! The catalog processor: the single writer of khlang's products and
//! warehouses.
//!
//! It consumes `khlang.catalog.commands` (keyed by SKU, or `warehouse:<code>`
//! for warehouses, so one partition owns each aggregate), applies
//! CreateProduct / UpdateProduct / DiscontinueProduct / UpsertWarehouse to the
//! `catalog` schema inside the stream runtime's transaction, emits catalog
//! events on `khlang.catalog.events` (joined by stock and reports), and keeps
//! a Redis copy of what the ingress looks up hot (product by SKU, SKU by
//! barcode, warehouse by code). Every command ends in exactly one outcome;
//! rejections carry a stable reason code from [`reasons`].
//!
//! It owns the schema `catalog` (its `migrations/`, applied at its start or
//! by `khlangctl migrate`); other crates read it only through [`read`].

mod cache;
mod launch;
mod processor;
pub mod read;
pub mod reasons;
mod rules;
mod store;

pub use cache::{CacheError, CatalogCache};
pub use launch::Catalog;
pub use processor::{backfill_state, CatalogProcessor, Changed, STATE_BACKFILL};
pub use store::{CatalogStore, Product, Warehouse, STATUS_ACTIVE, STATUS_DISCONTINUED};

/// The catalog migrations (schema `catalog`; the pg_trgm search index only
/// where the extension can be created).
#[must_use]
pub fn migrator() -> sqlx::migrate::Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    // Other components record their migrations in the same table.
    migrator.set_ignore_missing(true);
    migrator
}

/// Applies the catalog migrations that are not applied yet.
///
/// # Errors
/// When a migration fails.
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    migrator().run(pool).await
}
