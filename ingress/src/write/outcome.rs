//! The last step of the write path: waiting (bounded) for the outcome a
//! processor writes for a command.

use std::time::Duration;

use sqlx::Row as _;

use crate::error::ApiError;
use crate::state::AppState;

/// A command's outcome, as its processor wrote it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `accepted` or `rejected`.
    pub status: String,
    /// Stable reason code when rejected.
    pub reason_code: Option<String>,
    /// Explanation.
    pub message: Option<String>,
}

/// The outcome of `command_id`, waiting up to `wait` for it; `None` while
/// it is pending. Woken when a processor signals an outcome (see
/// [`crate::outcome_signal`]), with a poll as the fallback for a listening
/// connection that is down.
///
/// # Errors
/// When the outcomes cannot be read.
pub async fn outcome(
    state: &AppState,
    command_id: &str,
    wait: Duration,
) -> Result<Option<Outcome>, ApiError> {
    let deadline = tokio::time::Instant::now() + wait;
    // subscribed before the first look, so an outcome written between the
    // look and the wait still wakes this request
    let mut signals = state.outcome_signal.subscribe();
    let mut pause = Duration::from_millis(50);
    loop {
        if let Some(outcome) = read_outcome(&state.pool, command_id).await? {
            return Ok(Some(outcome));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        let poll = tokio::time::sleep_until((now + pause).min(deadline));
        tokio::pin!(poll);
        tokio::select! {
            changed = signals.changed() => {
                if changed.is_err() {
                    (&mut poll).await;
                }
            }
            () = &mut poll => pause = (pause * 2).min(Duration::from_secs(1)),
        }
    }
}

async fn read_outcome(pool: &sqlx::PgPool, command_id: &str) -> Result<Option<Outcome>, ApiError> {
    let row = sqlx::query(
        "SELECT status, reason_code, message FROM khlang_runtime.command_outcomes WHERE command_id = $1",
    )
    .bind(command_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Outcome {
        status: row.try_get("status")?,
        reason_code: row.try_get("reason_code")?,
        message: row.try_get("message")?,
    }))
}
