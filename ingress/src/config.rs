//! Configuration of the ingress.
//!
//! Precedence, lowest first: built-in defaults, then the TOML file named by
//! `KHLANG_CONFIG` (if set), then the common variables written by
//! `scripts/infra/up.sh` (`KHLANG_KAFKA_BROKERS`, `KHLANG_REGISTRY_URL`,
//! `KHLANG_DATABASE_URL`, `KHLANG_REDIS_URL`) and the first-admin variables
//! (`KHLANG_BOOTSTRAP_ADMIN_EMAIL`, `KHLANG_BOOTSTRAP_ADMIN_PASSWORD_FILE`),
//! then `KHLANG__SECTION__KEY` (e.g. `KHLANG__AUTH__KEYS_DIR`). Unknown keys
//! are rejected; secrets never print. The loader and the sections shared with
//! the processors live in [`khlang_runtime::settings`].

use std::net::SocketAddr;
use std::path::PathBuf;

use khlang_runtime::settings;
pub use khlang_runtime::settings::{DatabaseConfig, RedisConfig, RegistryConfig, Secret};
use serde::{Deserialize, Serialize};

/// Kafka settings of the ingress (more than a processor's).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers.
    pub brokers: String,
    /// How long a command may wait for Kafka's acknowledgement before the
    /// request is answered 503 (librdkafka `message.timeout.ms`).
    pub produce_timeout_ms: u64,
    /// `linger.ms` of the command producer.
    pub linger_ms: u64,
}

/// Token and login settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Directory of Ed25519 signing keys, one PKCS#8 PEM file per key named
    /// `<kid>.pem`. Every key is published and accepted; the newest file
    /// signs. Empty: the ingress makes one key in memory (tests only).
    pub keys_dir: Option<PathBuf>,
    /// `iss` of issued tokens, checked on every request.
    pub issuer: String,
    /// `aud` of issued tokens, checked on every request.
    pub audience: String,
    /// Access-token lifetime.
    pub access_ttl_secs: u64,
    /// Refresh-token lifetime.
    pub refresh_ttl_secs: u64,
    /// Failed logins from one address for one account before that pair waits.
    pub pair_failure_limit: u64,
    /// Failed logins for one account from anywhere before it waits (higher,
    /// so that one attacker cannot lock a real user out).
    pub account_failure_limit: u64,
    /// Failed logins from one address, any account, before it waits.
    pub address_failure_limit: u64,
    /// The window the limits count in; a waiting client waits at most this.
    pub failure_window_secs: u64,
    /// Trust `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
}

/// The first admin, created at startup if no active admin exists.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapAdmin {
    /// Email of the admin; unset disables the bootstrap.
    pub email: Option<String>,
    /// File holding the admin's password (never the password itself).
    pub password_file: Option<PathBuf>,
}

/// HTTP settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest request body, bytes.
    pub body_limit_bytes: usize,
    /// Largest scanner batch (`POST /v1/scans`), bytes.
    pub scan_body_limit_bytes: usize,
    /// Whole-request timeout.
    pub request_timeout_ms: u64,
    /// Origins allowed by CORS; empty allows none.
    pub cors_origins: Vec<String>,
    /// Longest `?wait=` on `GET /v1/commands/{id}`, seconds.
    pub max_wait_secs: u64,
    /// Requests handled at once; more are answered 503 at once rather than
    /// queued (queues only add latency and memory under overload).
    pub max_in_flight: usize,
}

/// Ingress settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Component name, used in envelopes and logs.
    pub service: String,
    /// Where the API listens.
    pub listen: SocketAddr,
    /// Where `/metrics` and `/health/*` listen.
    pub telemetry_listen: SocketAddr,
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
    /// Tokens and login.
    pub auth: AuthConfig,
    /// HTTP limits.
    pub http: HttpConfig,
    /// First admin.
    pub bootstrap_admin: BootstrapAdmin,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            service: "ingress".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            telemetry_listen: SocketAddr::from(([127, 0, 0, 1], 9100)),
            topic_namespace: String::new(),
            kafka: KafkaConfig {
                brokers: "127.0.0.1:9092".into(),
                produce_timeout_ms: 5_000,
                linger_ms: 1,
            },
            registry: RegistryConfig::default(),
            database: DatabaseConfig {
                max_connections: 20,
                ..DatabaseConfig::default()
            },
            redis: RedisConfig::default(),
            auth: AuthConfig {
                keys_dir: None,
                issuer: "khlang".into(),
                audience: "khlang-api".into(),
                access_ttl_secs: 900,
                refresh_ttl_secs: 14 * 24 * 3600,
                pair_failure_limit: 5,
                account_failure_limit: 50,
                address_failure_limit: 100,
                failure_window_secs: 300,
                trust_forwarded_for: false,
            },
            http: HttpConfig {
                body_limit_bytes: 1024 * 1024,
                scan_body_limit_bytes: 8 * 1024 * 1024,
                request_timeout_ms: 15_000,
                cors_origins: Vec::new(),
                max_wait_secs: 10,
                max_in_flight: 512,
            },
            bootstrap_admin: BootstrapAdmin::default(),
        }
    }
}

impl Config {
    /// Loads the layered configuration.
    ///
    /// # Errors
    /// A message naming the bad or unknown key.
    pub fn load() -> Result<Self, Box<figment::Error>> {
        settings::load_with(
            Self::default(),
            &[
                ("KHLANG_BOOTSTRAP_ADMIN_EMAIL", "bootstrap_admin.email"),
                (
                    "KHLANG_BOOTSTRAP_ADMIN_PASSWORD_FILE",
                    "bootstrap_admin.password_file",
                ),
            ],
        )
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
            .merge(("auth.isuer", "x"))
            .extract::<Config>()
            .expect_err("unknown key must fail");
        assert!(error.to_string().contains("isuer"), "{error}");
    }
}
