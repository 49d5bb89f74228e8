//! Configuration of the catalog processor.
//!
//! Precedence, lowest first: built-in defaults, then the TOML file named by
//! `KHLANG_CONFIG` (if set), then environment variables `KHLANG__SECTION__KEY`
//! (e.g. `KHLANG__DATABASE__URL`). The common variables written by
//! `scripts/infra/up.sh` (`KHLANG_KAFKA_BROKERS`, `KHLANG_REGISTRY_URL`,
//! `KHLANG_DATABASE_URL`, `KHLANG_REDIS_URL`) are accepted as well. Unknown
//! keys are rejected; secrets are never printed.

use std::fmt;
use std::net::SocketAddr;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// A value that must not appear in logs or debug output.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret value.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Kafka settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers.
    pub brokers: String,
}

/// Schema registry settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Confluent API base URL.
    pub url: String,
}

/// PostgreSQL settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Connection URL (contains the password).
    pub url: Secret,
    /// Pool size.
    pub max_connections: u32,
}

/// Redis settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// Connection URL (contains the password); empty disables the copy.
    pub url: Secret,
    /// Key prefix.
    pub prefix: String,
}

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
    /// Redis.
    pub redis: RedisConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            service: "catalog".into(),
            telemetry_listen: SocketAddr::from(([127, 0, 0, 1], 9102)),
            max_batch: 500,
            topic_namespace: String::new(),
            kafka: KafkaConfig {
                brokers: "127.0.0.1:9092".into(),
            },
            registry: RegistryConfig {
                url: "http://127.0.0.1:8081/apis/ccompat/v7".into(),
            },
            database: DatabaseConfig {
                url: Secret::default(),
                max_connections: 10,
            },
            redis: RedisConfig {
                url: Secret::default(),
                prefix: "khlang:".into(),
            },
        }
    }
}

impl Config {
    /// Loads the layered configuration.
    ///
    /// # Errors
    /// A message naming the bad or unknown key.
    pub fn load() -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Ok(path) = std::env::var("KHLANG_CONFIG") {
            figment = figment.merge(Toml::file(path));
        }
        let shorthand = [
            ("KHLANG_KAFKA_BROKERS", "kafka.brokers"),
            ("KHLANG_REGISTRY_URL", "registry.url"),
            ("KHLANG_DATABASE_URL", "database.url"),
            ("KHLANG_REDIS_URL", "redis.url"),
        ];
        for (var, key) in shorthand {
            if let Ok(value) = std::env::var(var) {
                figment = figment.merge((key, value));
            }
        }
        figment
            .merge(Env::prefixed("KHLANG__").split("__").lowercase(true))
            .extract()
            .map_err(Box::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let mut config = Config::default();
        config.database.url = Secret("postgres://khlang:hunter2@db/khlang".into());
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn defaults_name_the_catalog_service() {
        let config = Config::default();
        assert_eq!(config.service, "catalog");
        assert_eq!(config.telemetry_listen.port(), 9102);
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let error = Figment::from(Serialized::defaults(Config::default()))
            .merge(("databse.url", "x"))
            .extract::<Config>()
            .expect_err("unknown key must fail");
        assert!(error.to_string().contains("databse"), "{error}");
    }
}
