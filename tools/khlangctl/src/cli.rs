//! Command-line arguments.
//!
//! Precedence for the connection settings: a flag wins over its environment
//! variable, which wins over the built-in default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "Exit codes:
  0  success (and, for `topics plan --check`, the cluster matches the file)
  1  error (bad input, unreachable cluster or registry, failed operation)
  2  `topics plan --check`: the cluster differs from the file
  3  refused: guarded topic changes without their flag, or an incompatible or invalid schema
";

/// khlangctl: manage khlang's topics, schemas, consumer lag and dead letters.
#[derive(Debug, Parser)]
#[command(name = "khlangctl", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Kafka bootstrap servers.
    #[arg(
        long,
        global = true,
        env = "KHLANG_KAFKA_BROKERS",
        default_value = "127.0.0.1:9092"
    )]
    pub brokers: String,
    /// Schema registry base URL (Confluent API), e.g.
    /// http://127.0.0.1:8081/apis/ccompat/v7.
    #[arg(long, global = true, env = "KHLANG_REGISTRY_URL")]
    pub registry: Option<String>,
    /// The topics file; `value_schema` paths are relative to its directory.
    #[arg(long, global = true, default_value = "topics.yaml")]
    pub topics_file: PathBuf,
    /// The schemas directory; the shared envelope is read from
    /// `<schemas-dir>/common/envelope.avsc`.
    #[arg(long, global = true, default_value = "schemas")]
    pub schemas_dir: PathBuf,
    /// Timeout of each request to Kafka or the registry, in seconds.
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare the cluster with the topics file, and make it match.
    #[command(subcommand)]
    Topics(TopicsCommand),
    /// Check value schemas against the registry, and register them.
    #[command(subcommand)]
    Schemas(SchemasCommand),
    /// Consumer lag per group and partition.
    Lag(LagArgs),
    /// Inspect and replay dead-lettered records.
    #[command(subcommand)]
    Dlq(DlqCommand),
}

/// `topics …`
#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Show what apply would change.
    Plan {
        /// Exit with 2 when the cluster differs from the file.
        #[arg(long)]
        check: bool,
    },
    /// Make the cluster match the file.
    Apply {
        /// Delete topics under the managed prefix that the file does not declare.
        #[arg(long)]
        allow_delete: bool,
        /// Apply the rest of the plan although the file changes a replication
        /// factor (apply reports the manual step for it).
        #[arg(long)]
        allow_replication_change: bool,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

/// `schemas …`
#[derive(Debug, Subcommand)]
pub enum SchemasCommand {
    /// Check every value schema on disk for compatibility with the registry.
    Check,
    /// Check, then register every value schema; prints subject and id.
    Register,
}

/// `lag`
#[derive(Debug, Args)]
pub struct LagArgs {
    /// Only this consumer group (default: every group whose name starts with
    /// `khlang`).
    #[arg(long)]
    pub group: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `dlq …`
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Print the records of a dead-letter topic with their headers.
    Inspect {
        /// The dead-letter topic.
        #[arg(long)]
        topic: String,
        /// At most this many records.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Start at this offset in every partition (default: the oldest).
        #[arg(long)]
        from_offset: Option<i64>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Send one dead-lettered record back to the topic it came from.
    Replay {
        /// The dead-letter topic.
        #[arg(long)]
        topic: String,
        /// Partition of the record in the dead-letter topic.
        #[arg(long, default_value_t = 0)]
        partition: i32,
        /// Offset of the record in the dead-letter topic.
        #[arg(long)]
        offset: i64,
        /// Send this JSON, encoded with the target topic's value schema,
        /// instead of the original bytes.
        #[arg(long, value_name = "FILE")]
        value_json: Option<PathBuf>,
    },
}
