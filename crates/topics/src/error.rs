//! Errors of loading `topics.yaml`, reading the cluster and applying a plan.

use std::path::PathBuf;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// What went wrong with the topics file or the cluster.
#[derive(Debug, thiserror::Error)]
pub enum TopicsError {
    /// The topics file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The topics file is not valid YAML or does not fit the model (for
    /// example an unknown key).
    #[error("cannot parse {path}: {detail}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        detail: String,
    },
    /// The topics file parsed but breaks one or more rules.
    #[error("invalid {path}: {}", problems.join("; "))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, one sentence each.
        problems: Vec<String>,
    },
    /// A request to the cluster failed as a whole (unreachable broker,
    /// timeout).
    #[error("kafka {operation} failed: {source}")]
    Kafka {
        /// What was being done, e.g. `fetch metadata`.
        operation: &'static str,
        /// The client's error.
        source: KafkaError,
    },
    /// The cluster refused an operation on one topic.
    #[error("kafka {operation} of topic {topic} failed: {code}")]
    Topic {
        /// What was being done, e.g. `create`.
        operation: &'static str,
        /// The topic.
        topic: String,
        /// The broker's error code.
        code: RDKafkaErrorCode,
    },
    /// A topic has a secret config override that a full (non-incremental)
    /// config update would silently reset; see [`crate::apply`].
    #[error("topic {topic} has sensitive config override {key} that altering configs would reset; change it by hand")]
    SensitiveOverride {
        /// The topic.
        topic: String,
        /// The config key.
        key: String,
    },
    /// The plan holds actions the options do not allow; nothing was applied.
    #[error("refused, nothing applied: {}", refusals.join("; "))]
    Refused {
        /// One line per refused action, saying why and what to do.
        refusals: Vec<String>,
    },
}
