//! What the runtime's `launch` needs to run the catalog processor.

use async_trait::async_trait;
use khlang_contract::topics::{
    CATALOG_COMMANDS, CATALOG_COMMANDS_DLQ, CATALOG_COMMAND_SUBJECT, CATALOG_EVENTS,
    CATALOG_EVENT_SUBJECT, CATALOG_STATE, CATALOG_STATE_SUBJECT,
};
use khlang_contract::{Subject, TopicName};
use khlang_runtime::launch::BoxError;
use khlang_runtime::{LaunchContext, NoExtension, ProcessorSpec, RedisCopy};
use sqlx::migrate::MigrateError;
use sqlx::PgPool;

use crate::{backfill_state, CatalogCache, CatalogProcessor};

/// The catalog processor, as `khlang_runtime::launch` runs it: service
/// `catalog`, telemetry on port 9102, no keys of its own; it also writes
/// the compacted `khlang.catalog.state`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Catalog;

#[async_trait]
impl ProcessorSpec for Catalog {
    type Extension = NoExtension;
    type Cache = CatalogCache;
    type Processor = CatalogProcessor;

    const NAME: &'static str = "catalog";
    const TELEMETRY_PORT: u16 = 9102;
    const COMMANDS: TopicName = CATALOG_COMMANDS;
    const COMMANDS_DLQ: TopicName = CATALOG_COMMANDS_DLQ;
    const EVENTS: TopicName = CATALOG_EVENTS;
    const COMMAND_SUBJECT: Subject = CATALOG_COMMAND_SUBJECT;
    const EVENT_SUBJECT: Subject = CATALOG_EVENT_SUBJECT;
    const MORE_OUTPUTS: &'static [(TopicName, Subject)] = &[(CATALOG_STATE, CATALOG_STATE_SUBJECT)];

    async fn migrate(&self, pool: &PgPool) -> Result<(), MigrateError> {
        crate::migrate(pool).await
    }

    /// Publishes the state of products and warehouses that are not on the
    /// compacted state topic yet (once, idempotent), then builds the
    /// processor, which publishes every later change in its batches.
    async fn processor(
        &self,
        ctx: &LaunchContext<NoExtension>,
        cache: Option<CatalogCache>,
    ) -> Result<CatalogProcessor, BoxError> {
        let state = CATALOG_STATE.namespaced(&ctx.config.topic_namespace);
        let published = backfill_state(&ctx.pool, &ctx.codec, state, &ctx.relay_name).await?;
        tracing::info!(records = published, "state backfill done");
        Ok(CatalogProcessor::new(
            ctx.pool.clone(),
            cache,
            ctx.topics.events,
            state,
        ))
    }
}

#[async_trait]
impl RedisCopy for CatalogCache {
    const WHAT: &'static str = "the catalog";

    async fn connect(url: &str, prefix: &str) -> Result<Self, BoxError> {
        Ok(CatalogCache::connect(url, prefix).await?)
    }

    async fn rebuild(&self, pool: &PgPool) -> Result<usize, BoxError> {
        let (products, warehouses) = CatalogCache::rebuild(self, pool).await?;
        tracing::info!(products, warehouses, "catalog copied to redis");
        Ok(products + warehouses)
    }
}
