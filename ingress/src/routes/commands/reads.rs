//! The outcome of a command, for the principal that submitted it (or an
//! admin); anyone else is told it does not exist.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::Json;
use khlang_contract::Role;

use super::requests::{CommandStatus, WaitQuery};
use crate::auth::Principal;
use crate::error::{ApiError, Code};
use crate::extract::LaterQuery;
use crate::state::AppState;
use crate::write;

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
    query: LaterQuery,
) -> Result<Json<CommandStatus>, ApiError> {
    let query: WaitQuery = query.parse()?;
    let not_found = || ApiError::new(Code::CommandNotFound, "no such command");
    let recorded = state.commands.find(&id).await?.ok_or_else(not_found)?;
    if recorded.principal != principal.user_id.to_string() && principal.role != Role::Admin {
        return Err(not_found());
    }
    let wait = query.wait.unwrap_or(0).min(state.config.http.max_wait_secs);
    let outcome = write::outcome(&state, &id, Duration::from_secs(wait)).await?;
    Ok(Json(CommandStatus {
        command_id: id,
        command_type: recorded.command_type,
        aggregate_id: recorded.aggregate_id,
        status: outcome
            .as_ref()
            .map_or_else(|| "pending".to_owned(), |o| o.status.clone()),
        reason_code: outcome.as_ref().and_then(|o| o.reason_code.clone()),
        message: outcome.and_then(|o| o.message),
    }))
}
