//! What every handler shares.

use std::sync::Arc;

use khlang_contract::TopicName;
use sqlx::PgPool;

use crate::auth::{Sessions, Throttle, Tokens};
use crate::bus::Bus;
use crate::command_log::CommandLog;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::outcome_signal::OutcomeSignal;

/// Topic names after the namespace is applied.
#[derive(Debug, Clone, Copy)]
pub struct Topics {
    /// Users commands.
    pub users_commands: TopicName,
    /// Catalog commands (products and warehouses).
    pub catalog_commands: TopicName,
    /// Stock commands.
    pub stock_commands: TopicName,
}

/// The state of the ingress: one shared [`Shared`] behind an `Arc`, so
/// that the clone every middleware layer and handler takes is one counter
/// increment (cloning the fields themselves showed up in profiles).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Shares `state` between all requests.
    #[must_use]
    pub fn new(state: Shared) -> Self {
        Self(Arc::new(state))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every request shares.
#[derive(Debug)]
pub struct Shared {
    /// Configuration.
    pub config: Arc<Config>,
    /// PostgreSQL: the ingress's own tables and the read models.
    pub pool: PgPool,
    /// Access tokens.
    pub tokens: Tokens,
    /// Sessions and refresh tokens.
    pub sessions: Sessions,
    /// Login throttling.
    pub throttle: Throttle,
    /// Kafka.
    pub bus: Bus,
    /// Where published commands are remembered (group commit).
    pub commands: CommandLog,
    /// Wakes requests waiting for an outcome.
    pub outcome_signal: OutcomeSignal,
    /// Metrics.
    pub metrics: Metrics,
    /// Permits for requests in flight (see `http.max_in_flight`).
    pub in_flight: std::sync::Arc<tokio::sync::Semaphore>,
    /// Topics.
    pub topics: Topics,
}
