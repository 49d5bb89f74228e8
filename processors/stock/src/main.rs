//! `khlang-stock`: see the crate docs and `docs/stock.md`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use khlang_contract::topics::{
    CATALOG_STATE, COMMAND_OUTCOMES, COMMAND_OUTCOME_SUBJECT, STOCK_COMMANDS, STOCK_COMMANDS_DLQ,
    STOCK_COMMAND_SUBJECT, STOCK_EVENTS, STOCK_EVENT_SUBJECT,
};
use khlang_runtime::join::CatchUp;
use khlang_runtime::{
    cancel_on_signal, connect_database, register_schemas, run, serve_telemetry, RuntimeConfig,
};
use khlang_stock::catalog::{catalog_join_config, start_catalog_join};
use khlang_stock::{Config, StockCache, StockProcessor};
use rdkafka::config::ClientConfig;
use rdkafka::producer::FutureProducer;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    khlang_telemetry::init_logging("khlang-stock");
    let config = Config::load().context("invalid configuration")?;
    let pool = connect_database(&config.database).await?;
    khlang_stock::migrate(&pool)
        .await
        .context("stock migrations failed")?;

    let ns = config.topic_namespace.as_str();
    let (commands, events, dlq, outcomes) = (
        STOCK_COMMANDS.namespaced(ns),
        STOCK_EVENTS.namespaced(ns),
        STOCK_COMMANDS_DLQ.namespaced(ns),
        COMMAND_OUTCOMES.namespaced(ns),
    );
    let codec = register_schemas(
        &config.registry.url,
        &[
            (commands, STOCK_COMMAND_SUBJECT),
            (events, STOCK_EVENT_SUBJECT),
            (outcomes, COMMAND_OUTCOME_SUBJECT),
        ],
    )
    .await?;

    let cache = if config.redis.url.expose().is_empty() {
        tracing::warn!("redis.url is not set: the redis copy of levels is off");
        None
    } else {
        let cache = StockCache::connect(config.redis.url.expose(), &config.redis.prefix)
            .await
            .context("cannot connect to Redis (redis.url)")?;
        let copied = cache
            .rebuild(&pool)
            .await
            .context("rebuilding the redis copy")?;
        tracing::info!(items = copied, "redis copy rebuilt");
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
    let cancel = cancel_on_signal();

    // the catalog copy: joined from the catalog's state topic, complete
    // (caught up to its end offsets) before the first command is applied
    let mut join_config = catalog_join_config(
        &config.service,
        &config.kafka.brokers,
        CATALOG_STATE.namespaced(ns),
    );
    join_config.catch_up_timeout = Duration::from_millis(config.catalog_catch_up_ms);
    let (catalog, _join_thread) = start_catalog_join(
        join_config,
        pool.clone(),
        codec.clone(),
        metrics.clone(),
        cancel.clone(),
    )
    .await
    .context("joining the catalog's state topic")?;
    if catalog.catch_up().await != CatchUp::CaughtUp {
        tracing::warn!("catalog copy not caught up at start; lookups catch up on a miss");
    }

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &config.kafka.brokers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("partitioner", "murmur2_random")
        .create()
        .context("kafka producer for expiries")?;
    tokio::spawn(khlang_stock::expiry::run(
        pool.clone(),
        codec.clone(),
        producer,
        commands,
        Duration::from_millis(config.expiry_interval_ms),
        metrics.clone(),
        cancel.clone(),
    ));

    let processor = Arc::new(StockProcessor::new(cache, commands, events, Some(catalog)));
    run(runtime, processor, pool, codec, metrics, health, cancel).await?;
    tracing::info!("stopped");
    Ok(())
}
