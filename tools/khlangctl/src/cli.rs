//! Command-line arguments.
//!
//! Precedence for the connection settings: a flag wins over its environment
//! variable, which wins over the built-in default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "Exit codes:
  0  success (and, for `topics plan --check`, the cluster matches the file;
     for `migrate --check`, every store is up to date;
     for `users create-admin`, the users processor accepted the account)
  1  error (bad input, unreachable cluster, registry or database, failed operation),
     or `users create-admin`: the users processor rejected the account
  2  `topics plan --check`: the cluster differs from the file;
     `migrate --check`: some store has migrations not applied
  3  refused: guarded topic changes without their flag, or an incompatible or invalid schema;
     `users create-admin`: no outcome within --wait-secs (the command stays queued)
";

const CREATE_ADMIN_HELP: &str = "The password is read from a file (a trailing newline is dropped) and must have at least 12 characters; \
only its argon2id hash (m=19456 KiB, t=2, p=1) leaves this machine, in a RegisterUser command with role admin \
sent to khlang.users.commands. khlangctl then waits for the users processor's outcome in PostgreSQL \
(through the runtime's read API of command outcomes) and prints `accepted user_id=<id>` (exit 0) or `rejected reason=<code>` (exit 1); \
without an outcome within --wait-secs it exits 3.

Example:
  umask 077; printf '%s' \"$ADMIN_PASSWORD\" > /tmp/admin.pw
  khlangctl users create-admin --email ops@example.com --password-file /tmp/admin.pw
  rm /tmp/admin.pw
";

/// khlangctl: manage khlang's topics, schemas, consumer lag, dead letters and
/// the first admin account.
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
    /// Accounts: create the first admin through the users processor.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Create or update the tables of the runtime and every processor (each
    /// processor also does it for its own at start).
    Migrate(MigrateArgs),
}

/// `migrate`
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only list the migrations not applied yet; exit 2 when there are some.
    #[arg(long)]
    pub check: bool,
    /// PostgreSQL URL of the processors' database.
    #[arg(long, env = "KHLANG_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
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

/// `users …`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Register an admin account (RegisterUser with role admin) and wait
    /// for the users processor to accept or reject it.
    #[command(after_help = CREATE_ADMIN_HELP)]
    CreateAdmin(CreateAdminArgs),
}

/// `users create-admin`
#[derive(Debug, Args)]
pub struct CreateAdminArgs {
    /// Email of the account (unique, case-insensitively).
    #[arg(long)]
    pub email: String,
    /// File holding the password (at least 12 characters; one trailing
    /// newline is ignored). Keep it readable only by you.
    #[arg(long, value_name = "FILE")]
    pub password_file: PathBuf,
    /// Username (3–32 of a-z 0-9 . _ -; default: the part of the email
    /// before `@`, lowercased).
    #[arg(long)]
    pub username: Option<String>,
    /// Name to show (default: the username).
    #[arg(long)]
    pub display_name: Option<String>,
    /// How long to wait for the users processor's outcome.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub wait_secs: u64,
    /// PostgreSQL URL of the users processor's database, where outcomes are
    /// recorded.
    #[arg(long, env = "KHLANG_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Prefix of the topic names, as the users processor's
    /// KHLANG__TOPIC_NAMESPACE (empty in production).
    #[arg(
        long,
        env = "KHLANG__TOPIC_NAMESPACE",
        default_value = "",
        hide_default_value = true
    )]
    pub topic_namespace: String,
}
