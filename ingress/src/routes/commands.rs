//! Commands: publishing them (202 with a `Location`), and their outcomes.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use khlang_contract::{Role, Subject, TopicName};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::Principal;
use crate::command_log::CommandRow;
use crate::error::{ApiError, Code};
use crate::extract::QueryParams;
use crate::middleware::{correlation_id, CommandIdExt};
use crate::state::AppState;

/// The answer to a write: the command is on Kafka; its outcome will follow.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommandAccepted {
    /// The command id.
    pub command_id: String,
    /// Always `pending` here.
    pub status: String,
    /// Where to read the outcome.
    pub location: String,
    /// The id of the account a create made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The transfer a transfer request started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    /// The reservation a reservation request made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<String>,
    /// A service or device account's secret, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A command about to be published.
#[derive(Debug)]
pub struct Submission<'a, T> {
    /// Topic.
    pub topic: TopicName,
    /// Value subject.
    pub subject: Subject,
    /// Kafka key (the aggregate id).
    pub key: &'a str,
    /// Command type (`RegisterUser`, …).
    pub kind: &'a str,
    /// Command id (the envelope id).
    pub command_id: &'a str,
    /// The command.
    pub value: &'a T,
}

/// Publishes a command, waits for Kafka's acknowledgement, remembers it
/// for `GET /v1/commands/{id}`, and answers 202.
///
/// # Errors
/// `service_unavailable` when Kafka or the registry cannot take it.
pub async fn submit<T: Serialize>(
    state: &AppState,
    principal: &Principal,
    submission: Submission<'_, T>,
    extra: impl FnOnce(&mut CommandAccepted),
) -> Result<Response, ApiError> {
    // Recorded before publishing, so that a command on Kafka is always
    // known here; a command Kafka refused is forgotten again.
    state
        .commands
        .record(CommandRow {
            command_id: submission.command_id.to_owned(),
            principal: principal.user_id.to_string(),
            command_type: submission.kind.to_owned(),
            aggregate_id: submission.key.to_owned(),
            correlation_id: correlation_id(),
        })
        .await?;
    if let Err(error) = state
        .bus
        .publish(
            submission.topic,
            submission.subject,
            submission.key,
            submission.value,
        )
        .await
    {
        sqlx::query("DELETE FROM ingress.commands WHERE command_id = $1")
            .bind(submission.command_id)
            .execute(&state.pool)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "unpublished command not forgotten"))
            .ok();
        return Err(error);
    }
    tracing::info!(
        command_id = submission.command_id,
        kind = submission.kind,
        "command published"
    );
    let location = format!("/v1/commands/{}", submission.command_id);
    let mut body = CommandAccepted {
        command_id: submission.command_id.to_owned(),
        status: "pending".into(),
        location: location.clone(),
        user_id: None,
        transfer_id: None,
        reservation_id: None,
        client_secret: None,
    };
    extra(&mut body);
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .extensions_mut()
        .insert(CommandIdExt(submission.command_id.to_owned()));
    Ok(response)
}

/// `?wait=` on a command.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// Seconds to wait for the outcome (0-10); 0 answers at once.
    #[validate(range(min = 0, max = 10))]
    pub wait: Option<u64>,
}

/// A command's state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommandStatus {
    /// The command id.
    pub command_id: String,
    /// Its type.
    pub command_type: String,
    /// The aggregate it addressed.
    pub aggregate_id: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    /// Stable reason code when rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Explanation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A command's outcome: `pending` until the processor has applied it.
#[utoipa::path(
    get, path = "/v1/commands/{id}", tag = "commands",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Command id"), WaitQuery),
    responses((status = 200, description = "The command's state", body = CommandStatus))
)]
pub async fn get_command(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<WaitQuery>,
) -> Result<Json<CommandStatus>, ApiError> {
    let not_found = || ApiError::new(Code::CommandNotFound, "no such command");
    let row = sqlx::query(
        "SELECT principal, command_type, aggregate_id FROM ingress.commands WHERE command_id = $1",
    )
    .bind(&id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(not_found)?;
    let owner: String = row.try_get("principal")?;
    if owner != principal.user_id.to_string() && principal.role != Role::Admin {
        return Err(not_found());
    }
    let mut status = CommandStatus {
        command_id: id.clone(),
        command_type: row.try_get("command_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        status: "pending".into(),
        reason_code: None,
        message: None,
    };
    let wait = query.wait.unwrap_or(0).min(state.config.http.max_wait_secs);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    // subscribed before the first look, so an outcome written between the
    // look and the wait still wakes this request
    let mut signals = state.outcome_signal.subscribe();
    let mut pause = Duration::from_millis(50);
    loop {
        let outcome = sqlx::query(
            "SELECT status, reason_code, message FROM khlang_runtime.command_outcomes WHERE command_id = $1",
        )
        .bind(&id)
        .fetch_optional(&state.pool)
        .await?;
        if let Some(outcome) = outcome {
            status.status = outcome.try_get("status")?;
            status.reason_code = outcome.try_get("reason_code")?;
            status.message = outcome.try_get("message")?;
            return Ok(Json(status));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(Json(status));
        }
        // woken when some outcome was written; the poll is the fallback for
        // a listening connection that is down
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
