//! `topics.yaml` as the single source of truth for khlang's Kafka topics.
//!
//! The flow is the one `khlangctl topics plan|apply` follows:
//!
//! 1. [`TopicsFile::load`] parses and validates the file (unknown keys,
//!    duplicate names, bad partition counts and missing schema files are
//!    refused with every problem listed at once);
//! 2. [`TopicsFile::desired`] merges the defaults into each topic;
//! 3. [`ClusterState::fetch`] reads what the cluster has for the managed
//!    prefix (partitions, replication factor, the declared config keys);
//! 4. [`plan()`] compares the two without any IO and returns a [`Plan`];
//! 5. [`apply()`] carries out the plan's safe actions, and the guarded ones
//!    only when the caller allowed them.
//!
//! Partitions only ever grow; deletions and replication changes need an
//! explicit opt-in (see [`Guard`]).

mod apply;
mod cluster;
mod error;
mod model;
mod plan;
mod table;

pub use apply::{apply, ApplyOptions, ApplyReport, Outcome};
pub use cluster::{ClusterState, TopicState};
pub use error::TopicsError;
pub use model::{
    ConfigValue, Defaults, DesiredState, DesiredTopic, TopicSpec, TopicsFile,
    DEFAULT_MANAGED_PREFIX,
};
pub use plan::{plan, Action, Guard, Plan, Refusal};
