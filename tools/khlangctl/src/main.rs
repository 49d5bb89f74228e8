//! `khlangctl`: the platform engineers' CLI.
//!
//! It treats `topics.yaml` and `schemas/` as the source of truth: `topics`
//! diffs and applies topic definitions through `khlang-topics`, `schemas`
//! checks and registers value schemas through `khlang-codec`, `lag` reads
//! consumer group offsets, `dlq` inspects and replays what the stream
//! runtime dead-lettered, `users create-admin` registers an admin account
//! through the users processor, and `migrate` creates or updates the tables
//! of the runtime and every processor with their own migrations. Every failure is one line on stderr
//! and a non-zero exit code (see `khlangctl --help`).

mod avro;
mod cli;
mod dlq;
mod kafka;
mod lag;
mod migrate;
mod schemas;
mod table;
mod topics;
mod users;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;

use crate::cli::{Cli, Command, DlqCommand, SchemasCommand, TopicsCommand, UsersCommand};

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything as asked.
    Success,
    /// `topics plan --check` found differences, or `migrate --check`
    /// migrations not applied.
    Drift,
    /// Guarded changes without their flags, or a schema the registry would
    /// refuse: nothing was changed.
    Refused,
    /// `users create-admin`: the users processor rejected the command.
    Rejected,
    /// `users create-admin`: no outcome in time; the command stays queued.
    TimedOut,
}

impl Status {
    fn exit_code(self) -> ExitCode {
        match self {
            Self::Success => ExitCode::SUCCESS,
            Self::Drift => ExitCode::from(2),
            Self::Refused | Self::TimedOut => ExitCode::from(3),
            Self::Rejected => ExitCode::from(1),
        }
    }
}

/// Settings every command shares.
#[derive(Debug, Clone)]
pub struct Context {
    /// Kafka bootstrap servers.
    pub brokers: String,
    registry: Option<String>,
    /// The topics file.
    pub topics_file: std::path::PathBuf,
    /// The schemas directory.
    pub schemas_dir: std::path::PathBuf,
    /// Timeout of each request.
    pub timeout: Duration,
}

impl Context {
    /// The registry URL.
    ///
    /// # Errors
    /// When neither `--registry` nor `KHLANG_REGISTRY_URL` is set.
    pub fn registry(&self) -> anyhow::Result<&str> {
        self.registry
            .as_deref()
            .context("no schema registry: pass --registry or set KHLANG_REGISTRY_URL")
    }

    /// The registry URL if one is configured.
    #[must_use]
    pub fn registry_if_set(&self) -> Option<&str> {
        self.registry.as_deref()
    }

    /// The topics file, loaded and validated.
    ///
    /// # Errors
    /// When it cannot be read or is invalid.
    pub fn topics_file(&self) -> anyhow::Result<khlang_topics::TopicsFile> {
        Ok(khlang_topics::TopicsFile::load(&self.topics_file)?)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(status) => status.exit_code(),
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, without the repetitions that
/// errors embedding their source's text would cause (rdkafka's do).
fn one_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if parts.last().is_some_and(|last| last.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

async fn run(cli: Cli) -> anyhow::Result<Status> {
    let ctx = Context {
        brokers: cli.brokers,
        registry: cli.registry.filter(|r| !r.trim().is_empty()),
        topics_file: cli.topics_file,
        schemas_dir: cli.schemas_dir,
        timeout: Duration::from_secs(cli.timeout.max(1)),
    };
    match cli.command {
        Command::Topics(TopicsCommand::Plan { check }) => topics::plan(&ctx, check).await,
        Command::Topics(TopicsCommand::Apply {
            allow_delete,
            allow_replication_change,
            yes,
        }) => topics::apply(&ctx, allow_delete, allow_replication_change, yes).await,
        Command::Schemas(SchemasCommand::Check) => {
            schemas::check(&ctx).await.map(|(status, _)| status)
        }
        Command::Schemas(SchemasCommand::Register) => schemas::register(&ctx).await,
        Command::Lag(args) => lag::run(&ctx, args.group.as_deref(), args.json),
        Command::Dlq(DlqCommand::Inspect {
            topic,
            limit,
            from_offset,
            json,
        }) => dlq::inspect(&ctx, &topic, limit, from_offset, json).await,
        Command::Dlq(DlqCommand::Replay {
            topic,
            partition,
            offset,
            value_json,
        }) => dlq::replay(&ctx, &topic, partition, offset, value_json.as_deref()).await,
        Command::Users(UsersCommand::CreateAdmin(args)) => users::create_admin(&ctx, args).await,
        Command::Migrate(args) => migrate::run(&ctx, args).await,
    }
}
