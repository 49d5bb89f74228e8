//! Start-up steps every processor binary shares, in the order its `main`
//! calls them: connect to PostgreSQL (and apply the runtime's migrations),
//! register the schemas it writes, serve telemetry, cancel on a signal.
//!
//! What differs between processors (their own migrations, topics, Redis
//! copy, timers) stays in their `main`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use khlang_codec::{compose_subject, Codec};
use khlang_contract::topics::{Subject, TopicName};
use khlang_telemetry::Health;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::settings::DatabaseConfig;
use crate::{migrate, shutdown_signal, RuntimeMetrics, StartupError};

/// Connects a pool to `database.url` and applies the runtime's migrations.
///
/// # Errors
/// [`StartupError::DatabaseUrlMissing`] when the URL is empty;
/// [`StartupError::Connect`] when PostgreSQL cannot be reached;
/// [`StartupError::Migrate`] when a migration fails.
pub async fn connect_database(config: &DatabaseConfig) -> Result<PgPool, StartupError> {
    if config.url.expose().is_empty() {
        return Err(StartupError::DatabaseUrlMissing);
    }
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections)
        .connect(config.url.expose())
        .await
        .map_err(StartupError::Connect)?;
    migrate(&pool).await.map_err(StartupError::Migrate)?;
    Ok(pool)
}

/// Builds the codec for `registry_url` and registers the value schema of
/// each `(topic, subject)`.
///
/// # Errors
/// [`StartupError::Registry`] when the URL is unusable;
/// [`StartupError::Schema`] when a schema cannot be composed;
/// [`StartupError::Register`] when the registry refuses a schema or cannot
/// be reached.
pub async fn register_schemas(
    registry_url: &str,
    schemas: &[(TopicName, Subject)],
) -> Result<Codec, StartupError> {
    let codec = Codec::new(registry_url).map_err(StartupError::Registry)?;
    for &(topic, subject) in schemas {
        let name = topic.value_subject();
        let schema = compose_subject(subject).map_err(StartupError::Schema)?;
        let id = codec
            .registry()
            .register(&name, &schema)
            .await
            .map_err(|source| StartupError::Register {
                subject: name.clone(),
                source,
            })?;
        tracing::info!(subject = %name, id, "schema registered");
    }
    Ok(codec)
}

/// Serves `/metrics` (with the runtime's metrics) and `/health/*` on
/// `listen`.
///
/// # Errors
/// [`StartupError::Telemetry`] when `listen` cannot be bound.
pub async fn serve_telemetry(listen: SocketAddr) -> Result<(RuntimeMetrics, Health), StartupError> {
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = RuntimeMetrics::register(&mut registry);
    let health = Health::default();
    // The server task runs until the process exits; its handle is not needed.
    let (addr, _server) =
        khlang_telemetry::serve(listen, Arc::new(Mutex::new(registry)), health.clone())
            .await
            .map_err(StartupError::Telemetry)?;
    tracing::info!(%addr, "telemetry listening");
    Ok((metrics, health))
}

/// A token that is cancelled on SIGTERM or Ctrl-C (see [`shutdown_signal`]).
#[must_use]
pub fn cancel_on_signal() -> CancellationToken {
    let cancel = CancellationToken::new();
    tokio::spawn(shutdown_signal(cancel.clone()));
    cancel
}
