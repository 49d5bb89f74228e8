//! `khlang-catalog`: runs the catalog processor.

use std::sync::Arc;

use anyhow::Context;
use khlang_catalog::{backfill_state, CatalogCache, CatalogProcessor, CatalogStore, Config};
use khlang_contract::topics::{
    CATALOG_COMMANDS, CATALOG_COMMANDS_DLQ, CATALOG_COMMAND_SUBJECT, CATALOG_EVENTS,
    CATALOG_EVENT_SUBJECT, CATALOG_STATE, CATALOG_STATE_SUBJECT, COMMAND_OUTCOMES,
    COMMAND_OUTCOME_SUBJECT,
};
use khlang_runtime::{
    cancel_on_signal, connect_database, register_schemas, run, serve_telemetry, RuntimeConfig,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    khlang_telemetry::init_logging("khlang-catalog");
    let config = Config::load().context("invalid configuration")?;
    let pool = connect_database(&config.database).await?;
    CatalogStore::migrate(&pool)
        .await
        .context("catalog migrations failed")?;

    let ns = config.topic_namespace.as_str();
    let (commands, events, state, dlq, outcomes) = (
        CATALOG_COMMANDS.namespaced(ns),
        CATALOG_EVENTS.namespaced(ns),
        CATALOG_STATE.namespaced(ns),
        CATALOG_COMMANDS_DLQ.namespaced(ns),
        COMMAND_OUTCOMES.namespaced(ns),
    );
    let codec = register_schemas(
        &config.registry.url,
        &[
            (commands, CATALOG_COMMAND_SUBJECT),
            (events, CATALOG_EVENT_SUBJECT),
            (state, CATALOG_STATE_SUBJECT),
            (outcomes, COMMAND_OUTCOME_SUBJECT),
        ],
    )
    .await?;

    let cache = if config.redis.url.expose().is_empty() {
        tracing::warn!("redis.url is not set: the redis copy of the catalog is off");
        None
    } else {
        let cache = CatalogCache::connect(config.redis.url.expose(), &config.redis.prefix)
            .await
            .context("cannot connect to Redis (redis.url)")?;
        let (products, warehouses) = cache
            .rebuild(&pool)
            .await
            .context("rebuilding the redis copy")?;
        tracing::info!(products, warehouses, "redis copy rebuilt");
        Some(cache)
    };

    let (metrics, health) = serve_telemetry(config.telemetry_listen).await?;

    let mut runtime = RuntimeConfig::new(
        &config.service,
        &config.kafka.brokers,
        commands,
        dlq,
        outcomes,
        events,
    );
    runtime.max_batch = config.max_batch;
    let published = backfill_state(&pool, &codec, state, &runtime.relay_name())
        .await
        .context("publishing the catalog's state once")?;
    tracing::info!(records = published, "state backfill done");
    let cancel = cancel_on_signal();
    let processor = Arc::new(CatalogProcessor::new(pool.clone(), cache, events, state));
    run(runtime, processor, pool, codec, metrics, health, cancel).await?;
    tracing::info!("stopped");
    Ok(())
}
