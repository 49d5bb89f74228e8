//! `khlang-catalog`: runs the catalog processor.

use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use khlang_catalog::{CatalogCache, CatalogProcessor, CatalogStore, Config};
use khlang_codec::{compose_subject, Codec};
use khlang_contract::topics::{
    CATALOG_COMMANDS, CATALOG_COMMANDS_DLQ, CATALOG_COMMAND_SUBJECT, CATALOG_EVENTS,
    CATALOG_EVENT_SUBJECT, COMMAND_OUTCOMES, COMMAND_OUTCOME_SUBJECT,
};
use khlang_runtime::{run, shutdown_signal, RuntimeConfig, RuntimeMetrics};
use khlang_telemetry::Health;
use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    khlang_telemetry::init_logging("khlang-catalog");
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
    CatalogStore::migrate(&pool)
        .await
        .context("catalog migrations failed")?;

    let ns = config.topic_namespace.as_str();
    let (commands, events, dlq, outcomes) = (
        CATALOG_COMMANDS.namespaced(ns),
        CATALOG_EVENTS.namespaced(ns),
        CATALOG_COMMANDS_DLQ.namespaced(ns),
        COMMAND_OUTCOMES.namespaced(ns),
    );
    let codec = Codec::new(&config.registry.url).context("registry.url")?;
    for (topic, subject) in [
        (commands, CATALOG_COMMAND_SUBJECT),
        (events, CATALOG_EVENT_SUBJECT),
        (outcomes, COMMAND_OUTCOME_SUBJECT),
    ] {
        let name = topic.value_subject();
        let id = codec
            .registry()
            .register(&name, &compose_subject(subject)?)
            .await
            .with_context(|| format!("registering {name} with the schema registry"))?;
        tracing::info!(subject = %name, id, "schema registered");
    }

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
    let processor = Arc::new(CatalogProcessor::new(pool.clone(), cache, events));
    run(runtime, processor, pool, codec, metrics, health, cancel).await?;
    tracing::info!("stopped");
    Ok(())
}
