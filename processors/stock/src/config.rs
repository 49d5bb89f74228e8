//! Configuration of the stock processor.
//!
//! Precedence, lowest first: built-in defaults, then the TOML file named by
//! `KHLANG_CONFIG` (if set), then environment variables `KHLANG__SECTION__KEY`
//! (e.g. `KHLANG__DATABASE__URL`). The common variables written by
//! `scripts/infra/up.sh` (`KHLANG_KAFKA_BROKERS`, `KHLANG_REGISTRY_URL`,
//! `KHLANG_DATABASE_URL`, `KHLANG_REDIS_URL`) are accepted as well. Unknown
//! keys are rejected; secrets are never printed.
//! The loader and the shared sections live in [`khlang_runtime::settings`].

use std::net::SocketAddr;

use khlang_runtime::settings::{self, DatabaseConfig, KafkaConfig, RedisConfig, RegistryConfig};
use serde::{Deserialize, Serialize};

/// Processor settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
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
    /// How often the expiry timer looks for reservations that ran out.
    pub expiry_interval_ms: u64,
    /// Upper bound of one wait for the catalog copy to catch up with the
    /// catalog's state topic, on a product or warehouse not found.
    pub catalog_catch_up_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            service: "stock".into(),
            telemetry_listen: SocketAddr::from(([127, 0, 0, 1], 9103)),
            max_batch: 500,
            topic_namespace: String::new(),
            kafka: KafkaConfig::default(),
            registry: RegistryConfig::default(),
            database: DatabaseConfig::default(),
            redis: RedisConfig::default(),
            expiry_interval_ms: 500,
            catalog_catch_up_ms: 5000,
        }
    }
}

impl Config {
    /// Loads the layered configuration.
    ///
    /// # Errors
    /// A message naming the bad or unknown key.
    pub fn load() -> Result<Self, Box<figment::Error>> {
        settings::load(Self::default())
    }
}

#[cfg(test)]
mod tests {
    use figment::providers::Serialized;
    use figment::Figment;

    use super::*;

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let error = Figment::from(Serialized::defaults(Config::default()))
            .merge(("databse.url", "x"))
            .extract::<Config>()
            .expect_err("unknown key must fail");
        assert!(error.to_string().contains("databse"), "{error}");
    }
}
