//! `ingress.commands`: which commands this ingress published, for whom
//! (so that `GET /v1/commands/{id}` knows "pending" from "never heard of
//! it", and who may read it).
//!
//! Registrations are written many requests per statement. One writer task
//! takes every registration waiting when it is free and writes them in one
//! `INSERT … SELECT FROM unnest(…)`: a group commit. A request that arrives
//! alone is written at once; under load the requests that arrived during
//! one write share the next, so PostgreSQL commits once per group instead
//! of once per request. Every request still waits for its own rows to be
//! committed before its commands are published. A scanner batch is one
//! registration of many rows.

use std::collections::HashSet;

use sqlx::{PgPool, Row as _};
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;

/// The most registrations taken from the queue at once.
const MAX_GROUP: usize = 512;
/// The most rows written in one statement (a group is split beyond it;
/// one registration is never split).
const MAX_ROWS: usize = 10_000;

/// One command to remember.
#[derive(Debug, Clone)]
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

/// A command as recorded: who may read it and what it addressed.
#[derive(Debug, Clone)]
pub struct RecordedCommand {
    /// Who submitted it (user id).
    pub principal: String,
    /// The command type.
    pub command_type: String,
    /// The aggregate (record key).
    pub aggregate_id: String,
}

/// Why a registration was not written.
#[derive(Debug, Clone)]
enum Refused {
    /// The database could not be reached (503).
    Unavailable(String),
    /// Anything else (500).
    Failed(String),
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Unavailable(why) => ApiError::unavailable("the database", why),
            Refused::Failed(why) => ApiError::internal(why),
        }
    }
}

struct Pending {
    rows: Vec<CommandRow>,
    /// The ids of `rows` this registration wrote (an id recorded before is
    /// left out).
    done: oneshot::Sender<Result<Vec<String>, Refused>>,
}

/// The handle requests register their commands through.
#[derive(Debug, Clone)]
pub struct CommandLog {
    queue: mpsc::Sender<Pending>,
    pool: PgPool,
}

impl CommandLog {
    /// Starts the writer on `pool`. It stops when the last handle is gone.
    #[must_use]
    pub fn start(pool: PgPool) -> Self {
        let (queue, waiting) = mpsc::channel(MAX_GROUP * 4);
        tokio::spawn(write_groups(pool.clone(), waiting));
        Self { queue, pool }
    }

    /// Records `row` and returns once it is committed.
    ///
    /// # Errors
    /// `service_unavailable` when the database cannot be reached, `internal`
    /// when the row was not written (e.g. the id was already recorded).
    pub async fn record(&self, row: CommandRow) -> Result<(), ApiError> {
        let id = row.command_id.clone();
        let written = self.register(vec![row]).await?;
        if written.contains(&id) {
            Ok(())
        } else {
            Err(ApiError::internal(format!(
                "command {id} was already recorded"
            )))
        }
    }

    /// Records `rows` together and returns, once committed, the ids it
    /// wrote: an id recorded before (a scan sent again) is left out, and
    /// is not an error.
    ///
    /// # Errors
    /// `service_unavailable` when the database cannot be reached, `internal`
    /// when the rows were not written.
    pub async fn record_all(&self, rows: Vec<CommandRow>) -> Result<Vec<String>, ApiError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        self.register(rows).await
    }

    async fn register(&self, rows: Vec<CommandRow>) -> Result<Vec<String>, ApiError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending { rows, done })
            .await
            .map_err(|_| ApiError::internal("the command log writer stopped"))?;
        match answer.await {
            Ok(written) => written.map_err(ApiError::from),
            Err(_) => Err(ApiError::internal("the command log writer stopped")),
        }
    }

    /// Forgets commands that Kafka did not take, so that they read as
    /// "never heard of" rather than "pending" forever. A failure is logged:
    /// the caller already answers with Kafka's error.
    pub async fn forget(&self, command_ids: &[String]) {
        if command_ids.is_empty() {
            return;
        }
        sqlx::query("DELETE FROM ingress.commands WHERE command_id = ANY($1)")
            .bind(command_ids)
            .execute(&self.pool)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "unpublished commands not forgotten"))
            .ok();
    }

    /// The command recorded under `command_id`, if any.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn find(&self, command_id: &str) -> Result<Option<RecordedCommand>, ApiError> {
        let row = sqlx::query(
            "SELECT principal, command_type, aggregate_id FROM ingress.commands WHERE command_id = $1",
        )
        .bind(command_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(RecordedCommand {
            principal: row.try_get("principal")?,
            command_type: row.try_get("command_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
        }))
    }
}

async fn write_groups(pool: PgPool, mut waiting: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        let mut pending = group.drain(..).peekable();
        loop {
            // whole registrations, up to MAX_ROWS rows (at least one)
            let mut chunk = Vec::new();
            let mut rows = 0;
            while let Some(next) =
                pending.next_if(|p| chunk.is_empty() || rows + p.rows.len() <= MAX_ROWS)
            {
                rows += next.rows.len();
                chunk.push(next);
            }
            if chunk.is_empty() {
                break;
            }
            let written = insert(&pool, &chunk).await;
            for registration in chunk {
                let result = match &written {
                    Ok(ids) => Ok(registration
                        .rows
                        .iter()
                        .filter(|r| ids.contains(&r.command_id))
                        .map(|r| r.command_id.clone())
                        .collect()),
                    Err(refused) => Err(refused.clone()),
                };
                // a request that gave up (timeout) no longer listens
                let _ = registration.done.send(result);
            }
        }
    }
}

/// Writes a chunk; the ids it wrote (a repeated id is left out, not fatal
/// to the others).
async fn insert(pool: &PgPool, chunk: &[Pending]) -> Result<HashSet<String>, Refused> {
    let column = |f: fn(&CommandRow) -> &str| -> Vec<&str> {
        chunk.iter().flat_map(|p| p.rows.iter().map(f)).collect()
    };
    sqlx::query_scalar(include_str!("queries/record_commands.sql"))
        .bind(column(|r| &r.command_id))
        .bind(column(|r| &r.principal))
        .bind(column(|r| &r.command_type))
        .bind(column(|r| &r.aggregate_id))
        .bind(column(|r| &r.correlation_id))
        .fetch_all(pool)
        .await
        .map(|ids: Vec<String>| ids.into_iter().collect())
        .map_err(|error| {
            tracing::warn!(%error, registrations = chunk.len(), "commands not recorded");
            match error {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    Refused::Unavailable(error.to_string())
                }
                other => Refused::Failed(other.to_string()),
            }
        })
}
