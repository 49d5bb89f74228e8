//! Configuration pieces every khlang binary shares: the [`Secret`] type, the
//! Kafka, schema registry, PostgreSQL and Redis sections, and the layered
//! loader.
//!
//! Each component keeps its own top-level `Config` (its keys stay its own)
//! built from these sections, and loads it with [`load`] or [`load_with`].
//!
//! Precedence, lowest first: the component's defaults, then the TOML file
//! named by `KHLANG_CONFIG` (if set), then the common variables written by
//! `scripts/infra/up.sh` ([`SHORTHAND`]) followed by any the component adds,
//! then environment variables `KHLANG__SECTION__KEY` (e.g.
//! `KHLANG__DATABASE__URL`). Unknown keys are rejected by every section;
//! secrets are never printed.

use std::fmt;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The variables written by `scripts/infra/up.sh` and the keys they set.
pub const SHORTHAND: [(&str, &str); 4] = [
    ("KHLANG_KAFKA_BROKERS", "kafka.brokers"),
    ("KHLANG_REGISTRY_URL", "registry.url"),
    ("KHLANG_DATABASE_URL", "database.url"),
    ("KHLANG_REDIS_URL", "redis.url"),
];

/// A value that must not appear in logs or debug output.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

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

/// Kafka settings of a processor.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers.
    pub brokers: String,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
        }
    }
}

/// Schema registry settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Confluent API base URL.
    pub url: String,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8081/apis/ccompat/v7".into(),
        }
    }
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

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: Secret::default(),
            max_connections: 10,
        }
    }
}

/// Redis settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// Connection URL (contains the password). A processor treats an empty
    /// URL as "no Redis copy"; the ingress requires one.
    pub url: Secret,
    /// Key prefix, shared by the processors' copies and the ingress.
    pub prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: Secret::default(),
            prefix: "khlang:".into(),
        }
    }
}

/// Loads a layered configuration over `defaults` (see the module docs for
/// the precedence).
///
/// # Errors
/// A message naming the bad or unknown key.
pub fn load<T>(defaults: T) -> Result<T, Box<figment::Error>>
where
    T: Serialize + DeserializeOwned,
{
    load_with(defaults, &[])
}

/// Like [`load`], with more shorthand variables (`(variable, key)`), applied
/// after [`SHORTHAND`] and before `KHLANG__SECTION__KEY`.
///
/// # Errors
/// A message naming the bad or unknown key.
pub fn load_with<T>(defaults: T, shorthand: &[(&str, &str)]) -> Result<T, Box<figment::Error>>
where
    T: Serialize + DeserializeOwned,
{
    let mut figment = Figment::from(Serialized::defaults(defaults));
    if let Ok(path) = std::env::var("KHLANG_CONFIG") {
        figment = figment.merge(Toml::file(path));
    }
    for (var, key) in SHORTHAND.iter().chain(shorthand) {
        if let Ok(value) = std::env::var(var) {
            figment = figment.merge((*key, value));
        }
    }
    figment
        .merge(Env::prefixed("KHLANG__").split("__").lowercase(true))
        .extract()
        .map_err(Box::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let database = DatabaseConfig {
            url: Secret::new("postgres://khlang:hunter2@db/khlang"),
            ..DatabaseConfig::default()
        };
        let redis = RedisConfig {
            url: Secret::new("redis://:hunter2@cache"),
            ..RedisConfig::default()
        };
        assert!(!format!("{database:?} {redis:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_section_keys_are_rejected_with_their_name() {
        let error = Figment::from(Serialized::defaults(DatabaseConfig::default()))
            .merge(("max_conections", 5))
            .extract::<DatabaseConfig>()
            .expect_err("unknown key must fail");
        assert!(error.to_string().contains("max_conections"), "{error}");
    }
}
