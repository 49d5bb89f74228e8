//! What the runtime's `launch` needs to run the stock processor: its keys
//! beside the shared configuration ([`StockSettings`]) and its background
//! tasks (the reservation expiry timer) and the join of the catalog's state.

use std::time::Duration;

use async_trait::async_trait;
use khlang_contract::topics::{
    CATALOG_STATE, STOCK_COMMANDS, STOCK_COMMANDS_DLQ, STOCK_COMMAND_SUBJECT, STOCK_EVENTS,
    STOCK_EVENT_SUBJECT,
};
use khlang_contract::{Subject, TopicName};
use khlang_runtime::join::CatchUp;
use khlang_runtime::launch::BoxError;
use khlang_runtime::{Background, LaunchContext, ProcessorSpec, RedisCopy};
use rdkafka::config::ClientConfig;
use rdkafka::producer::FutureProducer;
use serde::{Deserialize, Serialize};
use sqlx::migrate::MigrateError;
use sqlx::PgPool;

use crate::catalog::{catalog_join_config, start_catalog_join};
use crate::{StockCache, StockProcessor};

/// The stock processor, as `khlang_runtime::launch` runs it: service
/// `stock`, telemetry on port 9103, with [`StockSettings`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Stock;

/// The stock processor's own configuration keys (top-level, beside the
/// shared sections: `KHLANG__EXPIRY_INTERVAL_MS`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct StockSettings {
    /// How often the expiry timer looks for reservations that ran out.
    pub expiry_interval_ms: u64,
    /// How long a lookup miss (and the start) waits for the catalog copy to
    /// reach the end offsets of the catalog's state topic.
    pub catalog_catch_up_ms: u64,
}

impl Default for StockSettings {
    fn default() -> Self {
        Self {
            expiry_interval_ms: 500,
            catalog_catch_up_ms: 5000,
        }
    }
}

#[async_trait]
impl ProcessorSpec for Stock {
    type Extension = StockSettings;
    type Cache = StockCache;
    type Processor = StockProcessor;

    const NAME: &'static str = "stock";
    const TELEMETRY_PORT: u16 = 9103;
    const COMMANDS: TopicName = STOCK_COMMANDS;
    const COMMANDS_DLQ: TopicName = STOCK_COMMANDS_DLQ;
    const EVENTS: TopicName = STOCK_EVENTS;
    const COMMAND_SUBJECT: Subject = STOCK_COMMAND_SUBJECT;
    const EVENT_SUBJECT: Subject = STOCK_EVENT_SUBJECT;

    async fn migrate(&self, pool: &PgPool) -> Result<(), MigrateError> {
        crate::migrate(pool).await
    }

    /// Starts the join of the catalog's state topic (stock's own copy of
    /// products and warehouses) and waits, bounded, until it is complete
    /// before the first command is applied.
    async fn processor(
        &self,
        ctx: &LaunchContext<StockSettings>,
        cache: Option<StockCache>,
    ) -> Result<StockProcessor, BoxError> {
        let mut join = catalog_join_config(
            &ctx.config.service,
            &ctx.config.kafka.brokers,
            CATALOG_STATE.namespaced(&ctx.config.topic_namespace),
        );
        join.catch_up_timeout = Duration::from_millis(ctx.config.extension.catalog_catch_up_ms);
        // the join runs on its own thread until the cancellation token fires
        let (catalog, _thread) = start_catalog_join(
            join,
            ctx.pool.clone(),
            ctx.codec.clone(),
            ctx.metrics.clone(),
            ctx.cancel.clone(),
        )
        .await?;
        if catalog.catch_up().await != CatchUp::CaughtUp {
            tracing::warn!("catalog copy not caught up at start; lookups catch up on a miss");
        }
        Ok(StockProcessor::new(
            cache,
            ctx.topics.commands,
            ctx.topics.events,
            Some(catalog),
        ))
    }

    fn background(&self, ctx: &LaunchContext<StockSettings>) -> Result<Vec<Background>, BoxError> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &ctx.config.kafka.brokers)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("partitioner", "murmur2_random")
            .create()?;
        let expiry = crate::expiry::run(
            ctx.pool.clone(),
            ctx.codec.clone(),
            producer,
            ctx.topics.commands,
            Duration::from_millis(ctx.config.extension.expiry_interval_ms),
            ctx.metrics.clone(),
            ctx.cancel.clone(),
        );
        Ok(vec![Background::new("reservation expiry", expiry)])
    }
}

#[async_trait]
impl RedisCopy for StockCache {
    const WHAT: &'static str = "levels";

    async fn connect(url: &str, prefix: &str) -> Result<Self, BoxError> {
        Ok(StockCache::connect(url, prefix).await?)
    }

    async fn rebuild(&self, pool: &PgPool) -> Result<usize, BoxError> {
        Ok(StockCache::rebuild(self, pool).await?)
    }
}

#[cfg(test)]
mod tests {
    use figment::providers::Serialized;
    use figment::Figment;
    use khlang_runtime::ProcessorConfig;

    use super::*;

    #[test]
    fn the_expiry_interval_is_a_top_level_key_and_others_are_rejected() {
        let defaults =
            ProcessorConfig::<StockSettings>::defaults(Stock::NAME, Stock::TELEMETRY_PORT);
        assert_eq!(defaults.extension.expiry_interval_ms, 500);
        assert_eq!(defaults.telemetry_listen.port(), 9103);
        let config: ProcessorConfig<StockSettings> = Figment::from(Serialized::defaults(&defaults))
            .merge(("expiry_interval_ms", 200))
            .extract()
            .expect("valid");
        assert_eq!(config.extension.expiry_interval_ms, 200);
        let error = Figment::from(Serialized::defaults(&defaults))
            .merge(("databse.url", "x"))
            .extract::<ProcessorConfig<StockSettings>>()
            .expect_err("unknown key must fail");
        assert!(error.to_string().contains("databse"), "{error}");
    }
}
