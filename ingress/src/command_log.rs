//! Recording published commands in `ingress.commands` (so that
//! `GET /v1/commands/{id}` knows "pending" from "never heard of it", and who
//! may read it), many requests per statement.
//!
//! One writer task takes every registration waiting when it is free and
//! writes them in one `INSERT … SELECT FROM unnest(…)`: a group commit. A
//! request that arrives alone is written at once; under load the requests
//! that arrived during one write share the next, so PostgreSQL commits once
//! per group instead of once per request. Every request still waits for its
//! own row to be committed before its command is published.

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;

/// The most registrations written in one statement.
const MAX_GROUP: usize = 512;

/// One command to remember.
#[derive(Debug)]
pub struct CommandRow {
    /// The command id (the envelope id).
    pub command_id: String,
    /// Who submitted it (user id).
    pub principal: String,
    /// The command type.
    pub command_type: String,
    /// The aggregate (record key).
    pub aggregate_id: String,
    /// The request's correlation id.
    pub correlation_id: String,
}

/// Why a registration was not written.
#[derive(Debug, Clone)]
enum Refused {
    /// The database could not be reached (503).
    Unavailable(String),
    /// Anything else (500).
    Failed(String),
}

struct Pending {
    row: CommandRow,
    done: oneshot::Sender<Result<(), Refused>>,
}

/// The handle requests register their commands through.
#[derive(Debug, Clone)]
pub struct CommandLog {
    queue: mpsc::Sender<Pending>,
}

impl CommandLog {
    /// Starts the writer on `pool`. It stops when the last handle is gone.
    #[must_use]
    pub fn start(pool: PgPool) -> Self {
        let (queue, waiting) = mpsc::channel(MAX_GROUP * 4);
        tokio::spawn(write_groups(pool, waiting));
        Self { queue }
    }

    /// Records `row` and returns once it is committed.
    ///
    /// # Errors
    /// `service_unavailable` when the database cannot be reached, `internal`
    /// when the row was not written (e.g. the id was already recorded).
    pub async fn record(&self, row: CommandRow) -> Result<(), ApiError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending { row, done })
            .await
            .map_err(|_| ApiError::internal("the command log writer stopped"))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Refused::Unavailable(why))) => Err(ApiError::unavailable("the database", why)),
            Ok(Err(Refused::Failed(why))) => Err(ApiError::internal(why)),
            Err(_) => Err(ApiError::internal("the command log writer stopped")),
        }
    }
}

async fn write_groups(pool: PgPool, mut waiting: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        let written = insert(&pool, &group).await;
        for pending in group.drain(..) {
            let result = match &written {
                Ok(ids) if ids.contains(&pending.row.command_id) => Ok(()),
                Ok(_) => Err(Refused::Failed(format!(
                    "command {} was already recorded",
                    pending.row.command_id
                ))),
                Err(refused) => Err(refused.clone()),
            };
            // a request that gave up (timeout) no longer listens
            let _ = pending.done.send(result);
        }
    }
}

/// Writes a group; the ids it wrote (a repeated id is left out, not fatal
/// to the others).
async fn insert(pool: &PgPool, group: &[Pending]) -> Result<Vec<String>, Refused> {
    let column =
        |f: fn(&CommandRow) -> &str| -> Vec<&str> { group.iter().map(|p| f(&p.row)).collect() };
    sqlx::query_scalar(include_str!("queries/record_commands.sql"))
        .bind(column(|r| &r.command_id))
        .bind(column(|r| &r.principal))
        .bind(column(|r| &r.command_type))
        .bind(column(|r| &r.aggregate_id))
        .bind(column(|r| &r.correlation_id))
        .fetch_all(pool)
        .await
        .map_err(|error| {
            tracing::warn!(%error, rows = group.len(), "commands not recorded");
            match error {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    Refused::Unavailable(error.to_string())
                }
                other => Refused::Failed(other.to_string()),
            }
        })
}
