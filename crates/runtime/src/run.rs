//! Wiring: consumer thread, applier, relay, shutdown.

use std::sync::Arc;

use khlang_codec::Codec;
use khlang_telemetry::Health;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::applier::Applier;
use crate::consumer::{consume_loop, Positions, RuntimeContext};
use crate::relay::Relay;
use crate::{Processor, RuntimeConfig, RuntimeError, RuntimeMetrics};

/// Applies the runtime's migrations (schema `khlang_runtime`).
///
/// Every store's migrations share one `_sqlx_migrations` table, so each set
/// ignores versions it does not know; version numbers are unique across the
/// workspace.
///
/// # Errors
/// [`RuntimeError::Migration`] when a migration fails.
pub async fn migrate(pool: &PgPool) -> Result<(), RuntimeError> {
    crate::schema::migrator().run(pool).await?;
    Ok(())
}

/// Resolves when SIGTERM or Ctrl-C arrives, and cancels `cancel`.
pub async fn shutdown_signal(cancel: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        () = terminate => {}
        () = cancel.cancelled() => {}
    }
    tracing::info!("shutdown requested");
    cancel.cancel();
}

/// Runs `processor` until `cancel` fires: consumes its source topic, applies
/// batches effectively once and relays the outbox. On cancellation it stops
/// polling, drains in-flight records, commits, publishes what is left in the
/// outbox (bounded by `drain_timeout`) and returns.
///
/// # Errors
/// When the Kafka clients cannot be created or the migrations fail.
pub async fn run<P: Processor>(
    config: RuntimeConfig,
    processor: Arc<P>,
    pool: PgPool,
    codec: Codec,
    metrics: RuntimeMetrics,
    health: Health,
    cancel: CancellationToken,
) -> Result<(), RuntimeError> {
    migrate(&pool).await?;
    let (queue_tx, queue_rx) = mpsc::channel(config.queue_capacity);
    let context = RuntimeContext {
        pool: pool.clone(),
        group: config.group_id.clone(),
        handle: tokio::runtime::Handle::current(),
        queue: queue_tx.clone(),
        drain_timeout: config.drain_timeout,
    };
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.brokers)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set("session.timeout.ms", "30000")
        .set("partition.assignment.strategy", "roundrobin");
    for (key, value) in &config.kafka_overrides {
        client.set(key, value);
    }
    let consumer: BaseConsumer<RuntimeContext> = client.create_with_context(context)?;
    consumer.subscribe(&[config.source_topic.as_str()])?;

    let positions = Positions::default();
    let applier = Applier {
        processor,
        pool: pool.clone(),
        codec,
        config: config.clone(),
        metrics: metrics.clone(),
        positions: positions.clone(),
        cancel: cancel.clone(),
    };
    let applier_task = tokio::spawn(applier.run(queue_rx));
    // The relay stops only after the applier has committed its last batch,
    // so that it drains everything the applier wrote.
    let relay_stop = CancellationToken::new();
    let relay = Relay {
        pool,
        config: config.clone(),
        metrics: metrics.clone(),
        cancel: relay_stop.clone(),
        health: health.clone(),
    };
    let relay_task = tokio::spawn(relay.run());
    let lag_client: BaseConsumer = {
        let mut lag_config = ClientConfig::new();
        lag_config.set("bootstrap.servers", &config.brokers);
        for (key, value) in &config.kafka_overrides {
            lag_config.set(key, value);
        }
        lag_config.create()?
    };
    let lag_positions = positions.clone();
    let lag_metrics = metrics.clone();
    let lag_cancel = cancel.clone();
    std::thread::Builder::new()
        .name(format!("{}-lag", config.service))
        .spawn(move || {
            crate::consumer::watch_lag(
                lag_client,
                lag_positions,
                lag_metrics,
                std::time::Duration::from_secs(5),
                lag_cancel,
            );
        })
        .map_err(RuntimeError::Telemetry)?;
    let consumer_cancel = cancel.clone();
    let consumer_thread = std::thread::Builder::new()
        .name(format!("{}-consumer", config.service))
        .spawn(move || consume_loop(consumer, queue_tx, consumer_cancel, metrics, positions))
        .map_err(RuntimeError::Telemetry)?;
    tracing::info!(topic = %config.source_topic, group = %config.group_id, "processor running");

    cancel.cancelled().await;
    health.set_ready(false);
    let joined = tokio::task::spawn_blocking(move || consumer_thread.join()).await;
    if !matches!(joined, Ok(Ok(()))) {
        tracing::error!("consumer thread ended abnormally");
    }
    if let Err(error) = applier_task.await {
        tracing::error!(%error, "applier ended abnormally");
    }
    relay_stop.cancel();
    match tokio::time::timeout(config.drain_timeout, relay_task).await {
        Ok(Ok(())) => tracing::info!("outbox drained"),
        Ok(Err(error)) => tracing::error!(%error, "relay ended abnormally"),
        Err(_) => tracing::warn!("outbox not fully drained; the next start publishes the rest"),
    }
    Ok(())
}
