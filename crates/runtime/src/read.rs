//! The runtime's read API: what other crates may read of the tables the
//! runtime owns (`khlang_runtime.*`).
//!
//! Every command a processor applies ends in exactly one outcome, recorded
//! in `khlang_runtime.command_outcomes` in the transaction that applied it.
//! The ingress (`GET /v1/commands/{id}`), `khlangctl users create-admin` and
//! the tests read outcomes here, never with SQL of their own, so a change of
//! that table is a change of this module only.
//!
//! A database whose runtime tables do not exist yet (no processor has
//! started once) answers with an error for which
//! [`crate::schema::is_not_migrated`] is true.

use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};

/// `status` of a command that was applied.
pub const ACCEPTED: &str = "accepted";
/// `status` of a command that was refused; `reason_code` says why.
pub const REJECTED: &str = "rejected";

/// The one outcome of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// The command's id (its envelope id).
    pub command_id: String,
    /// [`ACCEPTED`] or [`REJECTED`].
    pub status: String,
    /// The stable reason code of a rejection.
    pub reason_code: Option<String>,
    /// A human-readable detail of a rejection.
    pub message: Option<String>,
}

impl CommandOutcome {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            command_id: row.try_get("command_id")?,
            status: row.try_get("status")?,
            reason_code: row.try_get("reason_code")?,
            message: row.try_get("message")?,
        })
    }

    /// Whether the command was applied.
    #[must_use]
    pub fn is_accepted(&self) -> bool {
        self.status == ACCEPTED
    }
}

/// The outcome of `command_id`; `None` while it has none.
///
/// # Errors
/// Database errors, including the tables not existing yet.
pub async fn command_outcome<'e>(
    db: impl PgExecutor<'e>,
    command_id: &str,
) -> Result<Option<CommandOutcome>, sqlx::Error> {
    let row = sqlx::query(include_str!("queries/command_outcome.sql"))
        .bind(command_id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(CommandOutcome::from_row).transpose()
}

/// The outcomes of those of `command_ids` that have one, by command id.
///
/// # Errors
/// Database errors, including the tables not existing yet.
pub async fn command_outcomes<'e>(
    db: impl PgExecutor<'e>,
    command_ids: &[String],
) -> Result<Vec<CommandOutcome>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/command_outcomes.sql"))
        .bind(command_ids)
        .fetch_all(db)
        .await?;
    rows.iter().map(CommandOutcome::from_row).collect()
}

/// How many commands have an outcome.
///
/// # Errors
/// Database errors, including the tables not existing yet.
pub async fn outcome_count<'e>(db: impl PgExecutor<'e>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(include_str!("queries/count_outcomes.sql"))
        .fetch_one(db)
        .await
}

/// The next offset of each partition of `topic` that a processor has stored
/// with its state (`khlang_runtime.consumer_offsets`, written in the
/// transaction that applied the records); the highest over consumer groups.
/// Empty before its first commit.
///
/// # Errors
/// Database errors, including the tables not existing yet.
pub async fn applied_offsets<'e>(
    db: impl PgExecutor<'e>,
    topic: &str,
) -> Result<Vec<(i32, i64)>, sqlx::Error> {
    sqlx::query_as(include_str!("queries/read_applied_offsets.sql"))
        .bind(topic)
        .fetch_all(db)
        .await
}

/// `text` for `ILIKE '%' || text || '%'`, matching itself literally: the
/// read APIs' text filters take `%` and `_` as themselves.
#[must_use]
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_match_themselves() {
        assert_eq!(super::escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
