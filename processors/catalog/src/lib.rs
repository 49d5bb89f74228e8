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

mod cache;
mod config;
mod processor;
pub mod reasons;
mod rules;
mod store;

pub use cache::{CacheError, CatalogCache};
pub use config::Config;
pub use processor::{backfill_state, CatalogProcessor, Changed, STATE_BACKFILL};
pub use store::{CatalogStore, Product, Warehouse, STATUS_ACTIVE, STATUS_DISCONTINUED};
