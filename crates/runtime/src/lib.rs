//! The khlang stream runtime: consume → apply → commit, effectively once.
//!
//! Every processor (users, catalog, stock, …) is a [`Processor`] run by
//! [`run`]. The runtime gives it these guarantees:
//!
//! - **Offsets live with the state.** A batch of records is applied in one
//!   PostgreSQL transaction that also stores the next offset of each
//!   partition, the one outcome of each command and the events it produced
//!   (the outbox). The offset rows are locked `FOR UPDATE` and records below
//!   the stored offset are skipped, so a record's effects commit exactly once
//!   even when a zombie instance still holds a revoked partition.
//! - **On assignment the consumer seeks to the offsets in PostgreSQL**; the
//!   offsets committed to Kafka are only a mirror for lag tooling.
//! - **The outbox relay publishes with a transactional, idempotent producer**
//!   and commits its progress (the last outbox sequence) into the same Kafka
//!   transaction, so `read_committed` consumers see every event exactly once.
//! - **A poison record never blocks a partition**: an undecodable record, or
//!   one that keeps failing after bounded retries while the database is
//!   healthy, goes to the dead-letter topic (through the outbox, so that too
//!   happens exactly once) with the reason in headers.
//! - **Every command ends in exactly one outcome**, recorded in
//!   `khlang_runtime.command_outcomes` and published on the outcomes topic.
//! - Graceful shutdown and a bounded drain on rebalance; Prometheus metrics;
//!   `/health/live` and `/health/ready`.
//!
//! Beside the processor loop it offers the pieces processors combine:
//! [`join`] (consume another domain's compacted state topic into a table of
//! one's own, with a catch-up wait for lookup misses), [`timer`] (commands a
//! processor sends itself when something falls due, fired once across
//! restarts) and [`backfill`] (records published once for state that
//! predates them).
//!
//! It also holds what every binary's start-up shares: the configuration
//! sections and layered loader in [`settings`], and the steps in
//! [`connect_database`], [`register_schemas`], [`serve_telemetry`] and
//! [`cancel_on_signal`]. A processor binary is one call of [`launch`] with
//! its [`ProcessorSpec`] (see [`mod@launch`]).
//!
//! The runtime owns the schema `khlang_runtime`; other crates read it only
//! through [`read`] (command outcomes), and learn whether a store's tables
//! exist yet through [`schema`].

mod applier;
pub mod backfill;
mod config;
mod consumer;
mod error;
pub mod join;
pub mod launch;
mod metrics;
mod outbox;
mod processor;
pub mod read;
mod relay;
mod run;
pub mod schema;
pub mod settings;
mod startup;
mod store;
pub mod timer;

pub use config::RuntimeConfig;
pub use error::{ApplyError, RuntimeError, StartupError};
pub use launch::{
    launch, launch_with, Background, LaunchContext, LaunchError, NoCache, NoExtension,
    ProcessorConfig, ProcessorSpec, ProcessorTopics, RedisCopy,
};
pub use metrics::{CatchUpLabels, JoinLabels, RuntimeMetrics, TimerLabels};
pub use outbox::{dlq_headers, headers as dlq_header_names, OutboxMessage};
pub use processor::{ApplyContext, CommandInfo, Decision, Processor, RecordMeta};
pub use run::{migrate, run, shutdown_signal};
pub use startup::{cancel_on_signal, connect_database, register_schemas, serve_telemetry};
pub use store::OUTCOMES_CHANNEL;
