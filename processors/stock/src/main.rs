//! `khlang-stock`: see the crate docs and `docs/stock.md`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use khlang_codec::{compose_subject, Codec};
use khlang_contract::topics::{
    COMMAND_OUTCOMES, COMMAND_OUTCOME_SUBJECT, STOCK_COMMANDS, STOCK_COMMANDS_DLQ,
    STOCK_COMMAND_SUBJECT, STOCK_EVENTS, STOCK_EVENT_SUBJECT,
};
use khlang_runtime::{run, shutdown_signal, RuntimeConfig, RuntimeMetrics};
use khlang_stock::{Config, StockCache, StockProcessor};
use khlang_telemetry::Health;
use rdkafka::config::ClientConfig;
use rdkafka::producer::FutureProducer;
use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    khlang_telemetry::init_logging("khlang-stock");
    let config = Config::load().context("invalid configuration")?;
    if config.database.url.expose().is_empty() {
        bail!("database.url is not set: set KHLANG_DATABASE_URL or KHLANG__DATABASE__URL");
    }
    let pool = PgPoolOptions::new()
        .max_connections(config.database.max_connections)
        .connect(config.database.url.expose())
        .await
        .context("cannot connect to PostgreSQL (database.url)")?;
    khlang_runtime::migrate(&pool)
        .await
        .context("runtime migrations failed")?;
    // the catalog's tables are the join side of every movement
    khlang_catalog::CatalogStore::migrate(&pool)
        .await
        .context("catalog migrations failed")?;
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
    let codec = Codec::new(&config.registry.url).context("registry.url")?;
    for (topic, subject) in [
        (commands, STOCK_COMMAND_SUBJECT),
        (events, STOCK_EVENT_SUBJECT),
        (outcomes, COMMAND_OUTCOME_SUBJECT),
    ] {
        let name = topic.value_subject();
        codec
            .registry()
            .register(&name, &compose_subject(subject)?)
            .await
            .with_context(|| format!("registering {name} with the schema registry"))?;
    }

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

    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = RuntimeMetrics::register(&mut registry);
    let health = Health::default();
    let (addr, _server) = khlang_telemetry::serve(
        config.telemetry_listen,
        Arc::new(Mutex::new(registry)),
        health.clone(),
    )
    .await
    .context("telemetry_listen")?;
    tracing::info!(%addr, "telemetry listening");

    let mut runtime = RuntimeConfig::new(
        &config.service,
        &config.kafka.brokers,
        commands,
        dlq,
        outcomes,
        events,
    );
    runtime.max_batch = config.max_batch;
    let cancel = CancellationToken::new();
    tokio::spawn(shutdown_signal(cancel.clone()));

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
        cancel.clone(),
    ));

    let processor = Arc::new(StockProcessor::new(cache, commands, events));
    run(runtime, processor, pool, codec, metrics, health, cancel).await?;
    tracing::info!("stopped");
    Ok(())
}
