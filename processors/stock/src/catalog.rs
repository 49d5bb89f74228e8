//! Stock's copy of the catalog: a stream–table join of the compacted
//! `khlang.catalog.state` topic into `stock.products` and
//! `stock.warehouses` (only the columns stock decides with), on the
//! runtime's join piece ([`khlang_runtime::join`]). Every stock instance of
//! one database runs the join and they share the tables: the offset rows
//! are locked in each batch's transaction, whichever instance is ahead
//! writes, the others skip what is already stored.

use khlang_codec::Codec;
use khlang_contract::catalog::CatalogState;
use khlang_contract::TopicName;
use khlang_runtime::join::{start_join, Join, JoinConfig, JoinHandler, JoinRecord};
use khlang_runtime::{ApplyError, RuntimeError, RuntimeMetrics};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::rules::ProductFacts;
use crate::store;

/// The join's name in logs and metrics.
pub const CATALOG_JOIN: &str = "catalog";

/// Writes catalog state records into stock's copy.
#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogJoin;

const WAREHOUSE_PREFIX: &str = "warehouse:";

#[async_trait::async_trait]
impl JoinHandler for CatalogJoin {
    type Value = CatalogState;

    async fn apply(
        &self,
        tx: &mut PgConnection,
        record: &JoinRecord<CatalogState>,
    ) -> Result<(), ApplyError> {
        let Some(state) = &record.value else {
            // a tombstone deletes the key's row
            let key = record
                .key
                .as_deref()
                .map(String::from_utf8_lossy)
                .ok_or_else(|| ApplyError::Poison("tombstone without a key".into()))?;
            match key.strip_prefix(WAREHOUSE_PREFIX) {
                Some(code) => store::delete_warehouse(tx, code).await?,
                None => store::delete_product(tx, &key).await?,
            }
            return Ok(());
        };
        match (&state.product, &state.warehouse) {
            (Some(product), None) => {
                let facts = ProductFacts {
                    active: product.status == "active",
                    min_stock: product.min_stock,
                };
                store::upsert_product(tx, &product.sku, facts, state.version).await?;
            }
            (None, Some(warehouse)) => {
                store::upsert_warehouse(tx, &warehouse.code, warehouse.active, state.version)
                    .await?;
            }
            _ => {
                return Err(ApplyError::Poison(format!(
                    "state of {} holds neither or both of product and warehouse",
                    state.aggregate_id
                )))
            }
        }
        Ok(())
    }
}

/// The join's configuration for the stock service `service` (instances of
/// one service share the table and the stored offsets).
#[must_use]
pub fn catalog_join_config(service: &str, brokers: &str, state: TopicName) -> JoinConfig {
    JoinConfig::new(
        CATALOG_JOIN,
        &format!("khlang-{service}-join-catalog"),
        brokers,
        state,
    )
}

/// Starts the join of the catalog's state topic `config.topic` (see
/// [`start_join`]).
///
/// # Errors
/// As [`start_join`].
pub async fn start_catalog_join(
    config: JoinConfig,
    pool: PgPool,
    codec: Codec,
    metrics: RuntimeMetrics,
    cancel: CancellationToken,
) -> Result<(Join, std::thread::JoinHandle<()>), RuntimeError> {
    start_join(config, CatalogJoin, pool, codec, metrics, cancel).await
}
