//! `khlang-users`: runs the users processor.

use std::sync::Arc;

use anyhow::Context;
use khlang_contract::topics::{
    COMMAND_OUTCOMES, COMMAND_OUTCOME_SUBJECT, USERS_COMMANDS, USERS_COMMANDS_DLQ, USERS_EVENTS,
    USER_COMMAND_SUBJECT, USER_EVENT_SUBJECT,
};
use khlang_runtime::{
    cancel_on_signal, connect_database, register_schemas, run, serve_telemetry, RuntimeConfig,
};
use khlang_users::{Config, UserCache, UserStore, UsersProcessor};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    khlang_telemetry::init_logging("khlang-users");
    let config = Config::load().context("invalid configuration")?;
    let pool = connect_database(&config.database).await?;
    UserStore::migrate(&pool)
        .await
        .context("users migrations failed")?;

    let ns = config.topic_namespace.as_str();
    let (commands, events, dlq, outcomes) = (
        USERS_COMMANDS.namespaced(ns),
        USERS_EVENTS.namespaced(ns),
        USERS_COMMANDS_DLQ.namespaced(ns),
        COMMAND_OUTCOMES.namespaced(ns),
    );
    let codec = register_schemas(
        &config.registry.url,
        &[
            (commands, USER_COMMAND_SUBJECT),
            (events, USER_EVENT_SUBJECT),
            (outcomes, COMMAND_OUTCOME_SUBJECT),
        ],
    )
    .await?;

    let cache = if config.redis.url.expose().is_empty() {
        tracing::warn!("redis.url is not set: the redis copy of users is off");
        None
    } else {
        let cache = UserCache::connect(config.redis.url.expose(), &config.redis.prefix)
            .await
            .context("cannot connect to Redis (redis.url)")?;
        let copied = cache
            .rebuild(&pool)
            .await
            .context("rebuilding the redis copy")?;
        tracing::info!(users = copied, "redis copy rebuilt");
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
    let processor = Arc::new(UsersProcessor::new(pool.clone(), cache, events));
    run(runtime, processor, pool, codec, metrics, health, cancel).await?;
    tracing::info!("stopped");
    Ok(())
}
