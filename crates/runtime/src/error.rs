//! Errors of the runtime and of applying one record.

/// Why a record could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// May succeed when tried again (database busy, connection lost, …).
    #[error("transient: {0}")]
    Transient(String),
    /// Will never succeed: the record goes to the DLQ at once.
    #[error("poison: {0}")]
    Poison(String),
    /// A dependency other than the database (the schema registry) cannot
    /// be reached: the record is fine and waits for it, never to the DLQ.
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for ApplyError {
    fn from(error: sqlx::Error) -> Self {
        ApplyError::Transient(error.to_string())
    }
}

impl From<khlang_codec::CodecError> for ApplyError {
    fn from(error: khlang_codec::CodecError) -> Self {
        match error {
            khlang_codec::CodecError::Unavailable(_) => ApplyError::Unavailable(error.to_string()),
            _ => ApplyError::Transient(error.to_string()),
        }
    }
}

/// Why the runtime stopped.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Kafka client setup or a fatal Kafka error.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// Database error outside of applying a record.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The telemetry endpoint could not be served.
    #[error("telemetry endpoint: {0}")]
    Telemetry(#[from] std::io::Error),
    /// A worker task ended unexpectedly.
    #[error("worker stopped: {0}")]
    Worker(String),
}

/// Why a processor could not start; each message names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// `database.url` is empty.
    #[error("database.url is not set: set KHLANG_DATABASE_URL or KHLANG__DATABASE__URL")]
    DatabaseUrlMissing,
    /// PostgreSQL could not be reached.
    #[error("cannot connect to PostgreSQL (database.url)")]
    Connect(#[source] sqlx::Error),
    /// The runtime's migrations failed.
    #[error("runtime migrations failed")]
    Migrate(#[source] RuntimeError),
    /// The registry URL is unusable.
    #[error("registry.url")]
    Registry(#[source] khlang_codec::CodecError),
    /// A compiled-in schema could not be composed with the envelope.
    #[error(transparent)]
    Schema(khlang_codec::CodecError),
    /// The registry refused a schema or could not be reached.
    #[error("registering {subject} with the schema registry")]
    Register {
        /// The registry subject.
        subject: String,
        /// What went wrong.
        #[source]
        source: khlang_codec::CodecError,
    },
    /// The telemetry endpoint could not listen.
    #[error("telemetry_listen")]
    Telemetry(#[source] std::io::Error),
}
