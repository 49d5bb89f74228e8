//! One way to start a processor: [`launch`] with a [`ProcessorSpec`].
//!
//! Every processor binary is the same program: load its configuration,
//! connect to PostgreSQL, apply its migrations, register the schemas it
//! writes, rebuild its Redis copy, serve telemetry, start its background
//! tasks, and run until SIGTERM or Ctrl-C. What differs between processors
//! is only what they declare in their [`ProcessorSpec`]: a name and default
//! telemetry port, their topics and subjects, their migrations, their Redis
//! copy, how to build the [`Processor`], the configuration keys of their own
//! (the [`ProcessorSpec::Extension`]) and the background tasks beside the
//! consumer ([`ProcessorSpec::background`]: stock's reservation expiry
//! today, joins and timers tomorrow). A processor's `main` is one call:
//!
//! ```ignore
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     khlang_runtime::launch(khlang_users::Users).await?;
//!     Ok(())
//! }
//! ```
//!
//! # Configuration
//!
//! [`ProcessorConfig`] holds the sections every processor shares; the
//! extension's keys sit beside them at the top level (e.g. stock's
//! `expiry_interval_ms`, env `KHLANG__EXPIRY_INTERVAL_MS`). Precedence,
//! lowest first: the processor's defaults ([`ProcessorConfig::defaults`]),
//! then the TOML file named by `KHLANG_CONFIG` (if set), then the common
//! variables written by `scripts/infra/up.sh` (`KHLANG_KAFKA_BROKERS`,
//! `KHLANG_REGISTRY_URL`, `KHLANG_DATABASE_URL`, `KHLANG_REDIS_URL`), then
//! environment variables `KHLANG__SECTION__KEY` (e.g.
//! `KHLANG__DATABASE__URL`). Unknown keys are rejected with their name;
//! secrets are never printed (see [`crate::settings`]).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use khlang_codec::Codec;
use khlang_contract::topics::{COMMAND_OUTCOMES, COMMAND_OUTCOME_SUBJECT};
use khlang_contract::{Subject, TopicName};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::migrate::MigrateError;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::settings::{self, DatabaseConfig, KafkaConfig, RedisConfig, RegistryConfig};
use crate::{
    cancel_on_signal, connect_database, register_schemas, run, serve_telemetry, Processor,
    RuntimeConfig, RuntimeError, RuntimeMetrics, StartupError,
};

/// An error of a processor's own start-up code (its cache, its background
/// tasks).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The configuration of a processor: the shared sections, and the keys of
/// its own in `E` (flattened: they sit beside the shared ones).
///
/// See the [module docs](self) for the precedence of sources.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessorConfig<E = NoExtension> {
    /// Component name; names the consumer group (`khlang-{service}`) and relay.
    pub service: String,
    /// Where `/metrics` and `/health/*` listen.
    pub telemetry_listen: SocketAddr,
    /// Most records per transaction.
    pub max_batch: usize,
    /// Prefix of every topic name (empty in production; tests use their own).
    pub topic_namespace: String,
    /// Kafka.
    pub kafka: KafkaConfig,
    /// Schema registry.
    pub registry: RegistryConfig,
    /// PostgreSQL.
    pub database: DatabaseConfig,
    /// Redis; an empty URL disables the Redis copy.
    pub redis: RedisConfig,
    /// The processor's own keys.
    #[serde(flatten)]
    pub extension: E,
}

/// The extension of a processor without keys of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct NoExtension {}

impl<E: Default> ProcessorConfig<E> {
    /// The defaults of processor `service`, with telemetry on
    /// `127.0.0.1:{telemetry_port}`.
    #[must_use]
    pub fn defaults(service: &str, telemetry_port: u16) -> Self {
        Self {
            service: service.to_owned(),
            telemetry_listen: SocketAddr::from(([127, 0, 0, 1], telemetry_port)),
            max_batch: 500,
            topic_namespace: String::new(),
            kafka: KafkaConfig::default(),
            registry: RegistryConfig::default(),
            database: DatabaseConfig::default(),
            redis: RedisConfig::default(),
            extension: E::default(),
        }
    }
}

impl<E: Default + Serialize + DeserializeOwned> ProcessorConfig<E> {
    /// Loads the layered configuration over [`ProcessorConfig::defaults`].
    ///
    /// # Errors
    /// A message naming the bad or unknown key.
    pub fn load(service: &str, telemetry_port: u16) -> Result<Self, Box<figment::Error>> {
        settings::load(Self::defaults(service, telemetry_port))
    }
}

/// A processor's Redis copy of (part of) its state, rebuilt from PostgreSQL
/// at every start.
#[async_trait]
pub trait RedisCopy: Sized + Send + Sync + 'static {
    /// What is copied, for logs (e.g. `users`, `levels`).
    const WHAT: &'static str;

    /// Connects to Redis at `url`, with every key under `prefix`.
    ///
    /// # Errors
    /// When Redis cannot be reached.
    async fn connect(url: &str, prefix: &str) -> Result<Self, BoxError>;

    /// Writes the whole copy again from `pool`; returns how many entries it
    /// copied.
    ///
    /// # Errors
    /// Database or Redis errors.
    async fn rebuild(&self, pool: &PgPool) -> Result<usize, BoxError>;
}

/// The cache of a processor that keeps no Redis copy.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCache;

#[async_trait]
impl RedisCopy for NoCache {
    const WHAT: &'static str = "nothing";

    async fn connect(_url: &str, _prefix: &str) -> Result<Self, BoxError> {
        Ok(Self)
    }

    async fn rebuild(&self, _pool: &PgPool) -> Result<usize, BoxError> {
        Ok(0)
    }
}

/// The topics of a launched processor, with the namespace applied.
#[derive(Debug, Clone, Copy)]
pub struct ProcessorTopics {
    /// The command topic it consumes.
    pub commands: TopicName,
    /// The events it emits.
    pub events: TopicName,
    /// Where poison commands go.
    pub dlq: TopicName,
    /// Where command outcomes go (shared by every processor).
    pub outcomes: TopicName,
}

/// What a processor gets to build itself and its background tasks.
#[derive(Debug, Clone)]
pub struct LaunchContext<E> {
    /// Its configuration.
    pub config: ProcessorConfig<E>,
    /// Its database, migrated.
    pub pool: PgPool,
    /// The codec, with the processor's schemas registered.
    pub codec: Codec,
    /// Its topics.
    pub topics: ProcessorTopics,
    /// Cancelled on SIGTERM or Ctrl-C; background tasks stop on it.
    pub cancel: CancellationToken,
    /// The runtime's metrics, for pieces (joins, timers) that report too.
    pub metrics: RuntimeMetrics,
    /// The name of the processor's outbox relay (its transactional id), for
    /// pieces that write to the outbox outside a batch (a backfill).
    pub relay_name: String,
}

/// A task that runs beside the consumer (a timer, a join, …) until the
/// launch's cancellation token fires; launch waits for it to end before it
/// returns.
pub struct Background {
    /// Its name, for logs.
    pub name: &'static str,
    /// The task; it must end soon after the cancellation token fires.
    pub task: Pin<Box<dyn Future<Output = ()> + Send + 'static>>,
}

impl Background {
    /// A background task called `name`.
    pub fn new(name: &'static str, task: impl Future<Output = ()> + Send + 'static) -> Self {
        Self {
            name,
            task: Box::pin(task),
        }
    }
}

impl fmt::Debug for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Background")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What a processor declares so that [`launch`] can run it.
#[async_trait]
pub trait ProcessorSpec: Send + Sync + 'static {
    /// Its configuration keys beside the shared sections ([`NoExtension`]
    /// when none); their defaults are `Default::default()`.
    type Extension: Serialize + DeserializeOwned + Default + Clone + fmt::Debug + Send + Sync;
    /// Its Redis copy ([`NoCache`] when none).
    type Cache: RedisCopy;
    /// The processor the runtime runs.
    type Processor: Processor;

    /// Its name: the default `service`, and `khlang-{NAME}` in logs.
    const NAME: &'static str;
    /// The default port of `/metrics` and `/health/*`.
    const TELEMETRY_PORT: u16;
    /// The command topic it consumes (before namespacing).
    const COMMANDS: TopicName;
    /// Its dead-letter topic.
    const COMMANDS_DLQ: TopicName;
    /// The events it emits.
    const EVENTS: TopicName;
    /// The schema of its commands.
    const COMMAND_SUBJECT: Subject;
    /// The schema of its events.
    const EVENT_SUBJECT: Subject;
    /// Further topics it writes through the outbox, with their value
    /// subjects (for example the catalog's compacted state topic); their
    /// schemas are registered at start like the events'.
    const MORE_OUTPUTS: &'static [(TopicName, Subject)] = &[];

    /// Applies the migrations of the tables it owns.
    ///
    /// # Errors
    /// When a migration fails.
    async fn migrate(&self, pool: &PgPool) -> Result<(), MigrateError>;

    /// Builds the processor: here a processor publishes what it owes
    /// before the first command (a backfill) or starts the joins it reads.
    ///
    /// # Errors
    /// When it cannot be set up; the processor does not start.
    async fn processor(
        &self,
        ctx: &LaunchContext<Self::Extension>,
        cache: Option<Self::Cache>,
    ) -> Result<Self::Processor, BoxError>;

    /// The tasks to run beside the consumer (none by default).
    ///
    /// # Errors
    /// When a task cannot be set up; the processor does not start.
    fn background(
        &self,
        ctx: &LaunchContext<Self::Extension>,
    ) -> Result<Vec<Background>, BoxError> {
        let _ = ctx;
        Ok(Vec::new())
    }
}

/// Why [`launch`] failed; each message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The configuration is invalid.
    #[error("invalid configuration")]
    Config(#[source] Box<figment::Error>),
    /// A shared start-up step failed.
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// The processor's own migrations failed.
    #[error("{0} migrations failed")]
    Migrate(&'static str, #[source] MigrateError),
    /// Redis could not be reached.
    #[error("cannot connect to Redis (redis.url)")]
    RedisConnect(#[source] BoxError),
    /// The Redis copy could not be rebuilt.
    #[error("rebuilding the redis copy")]
    RedisRebuild(#[source] BoxError),
    /// The processor could not be built.
    #[error("setting up the processor")]
    Processor(#[source] BoxError),
    /// A background task could not be set up.
    #[error("setting up the background tasks")]
    Background(#[source] BoxError),
    /// The runtime stopped with an error.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Runs the processor `spec` declares until SIGTERM or Ctrl-C: logging,
/// configuration, database and migrations (the runtime's and its own),
/// schemas, Redis copy, telemetry, background tasks, then the runtime.
///
/// # Errors
/// See [`LaunchError`].
pub async fn launch<S: ProcessorSpec>(spec: S) -> Result<(), LaunchError> {
    khlang_telemetry::init_logging(&format!("khlang-{}", S::NAME));
    let config = ProcessorConfig::<S::Extension>::load(S::NAME, S::TELEMETRY_PORT)
        .map_err(LaunchError::Config)?;
    launch_with(spec, config, cancel_on_signal()).await
}

/// As [`launch`], with a configuration already loaded and a cancellation
/// token of the caller's (for tests and tools that run a processor in
/// their own process).
///
/// # Errors
/// See [`LaunchError`].
pub async fn launch_with<S: ProcessorSpec>(
    spec: S,
    config: ProcessorConfig<S::Extension>,
    cancel: CancellationToken,
) -> Result<(), LaunchError> {
    let pool = connect_database(&config.database).await?;
    spec.migrate(&pool)
        .await
        .map_err(|e| LaunchError::Migrate(S::NAME, e))?;

    let ns = config.topic_namespace.as_str();
    let topics = ProcessorTopics {
        commands: S::COMMANDS.namespaced(ns),
        events: S::EVENTS.namespaced(ns),
        dlq: S::COMMANDS_DLQ.namespaced(ns),
        outcomes: COMMAND_OUTCOMES.namespaced(ns),
    };
    let mut subjects = vec![
        (topics.commands, S::COMMAND_SUBJECT),
        (topics.events, S::EVENT_SUBJECT),
        (topics.outcomes, COMMAND_OUTCOME_SUBJECT),
    ];
    subjects.extend(
        S::MORE_OUTPUTS
            .iter()
            .map(|(topic, subject)| (topic.namespaced(ns), *subject)),
    );
    let codec = register_schemas(&config.registry.url, &subjects).await?;

    let cache = if config.redis.url.expose().is_empty() {
        tracing::warn!(
            "redis.url is not set: the redis copy of {} is off",
            <S::Cache as RedisCopy>::WHAT
        );
        None
    } else {
        let cache = S::Cache::connect(config.redis.url.expose(), &config.redis.prefix)
            .await
            .map_err(LaunchError::RedisConnect)?;
        let copied = cache
            .rebuild(&pool)
            .await
            .map_err(LaunchError::RedisRebuild)?;
        tracing::info!(
            copied,
            what = <S::Cache as RedisCopy>::WHAT,
            "redis copy rebuilt"
        );
        Some(cache)
    };

    let (metrics, health) = serve_telemetry(config.telemetry_listen).await?;

    let mut runtime = RuntimeConfig::new(
        &config.service,
        &config.kafka.brokers,
        topics.commands,
        topics.dlq,
        topics.outcomes,
        topics.events,
    );
    runtime.max_batch = config.max_batch;
    let ctx = LaunchContext {
        config,
        pool: pool.clone(),
        codec: codec.clone(),
        topics,
        cancel: cancel.clone(),
        metrics: metrics.clone(),
        relay_name: runtime.relay_name(),
    };
    let processor = Arc::new(
        spec.processor(&ctx, cache)
            .await
            .map_err(LaunchError::Processor)?,
    );
    let background = spec.background(&ctx).map_err(LaunchError::Background)?;
    let tasks: Vec<_> = background
        .into_iter()
        .map(|b| (b.name, tokio::spawn(b.task)))
        .collect();

    let result = run(
        runtime,
        processor,
        pool,
        codec,
        metrics,
        health,
        cancel.clone(),
    )
    .await;
    // a runtime that stopped on an error stops the background tasks too
    cancel.cancel();
    for (name, task) in tasks {
        if let Err(error) = task.await {
            tracing::error!(task = name, %error, "background task ended abnormally");
        }
    }
    result?;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use figment::providers::{Env, Serialized};
    use figment::Figment;

    use super::*;

    #[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
    struct Timer {
        interval_ms: u64,
    }

    fn figment<E: Serialize + Default>(config: &ProcessorConfig<E>) -> Figment {
        Figment::from(Serialized::defaults(config))
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let error = figment(&ProcessorConfig::<NoExtension>::defaults("users", 9101))
            .merge(("databse.url", "x"))
            .extract::<ProcessorConfig>()
            .expect_err("unknown key must fail");
        assert!(error.to_string().contains("databse"), "{error}");

        let error = figment(&ProcessorConfig::<Timer>::defaults("stock", 9103))
            .merge(("interval_mss", 5))
            .extract::<ProcessorConfig<Timer>>()
            .expect_err("unknown key beside an extension must fail");
        assert!(error.to_string().contains("interval_mss"), "{error}");

        let error = figment(&ProcessorConfig::<NoExtension>::defaults("users", 9101))
            .merge(("database.max_conections", 5))
            .extract::<ProcessorConfig>()
            .expect_err("unknown key in a section must fail");
        assert!(error.to_string().contains("max_conections"), "{error}");
    }

    #[test]
    fn defaults_name_the_service_and_its_port() {
        let config = ProcessorConfig::<NoExtension>::defaults("catalog", 9102);
        assert_eq!(config.service, "catalog");
        assert_eq!(config.telemetry_listen.port(), 9102);
        assert_eq!(config.max_batch, 500);
        assert!(config.database.url.expose().is_empty());
    }

    #[test]
    fn extension_keys_sit_at_the_top_level_and_come_from_the_environment() {
        // the same layering as `settings::load`, under a prefix of this
        // test's own so that it cannot see or disturb other tests' variables
        let prefix = "KHLANG_LAUNCH_TEST__";
        std::env::set_var(format!("{prefix}INTERVAL_MS"), "200");
        std::env::set_var(format!("{prefix}KAFKA__BROKERS"), "kafka:9092");
        let config: ProcessorConfig<Timer> =
            figment(&ProcessorConfig::<Timer>::defaults("stock", 9103))
                .merge(Env::prefixed(prefix).split("__").lowercase(true))
                .extract()
                .expect("valid");
        assert_eq!(config.extension.interval_ms, 200);
        assert_eq!(config.kafka.brokers, "kafka:9092");
        assert_eq!(config.service, "stock");
    }
}
