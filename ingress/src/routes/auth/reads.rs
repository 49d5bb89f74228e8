//! The accounts as signing in and refreshing see them, read from the
//! users processor's state (`users.*`).

use khlang_contract::Role;
use sqlx::Row as _;
use uuid::Uuid;

use crate::error::{ApiError, Code};
use crate::state::AppState;

/// What decides whether an account may have tokens, and which.
pub(super) struct Account {
    pub(super) user_id: Uuid,
    pub(super) role: Role,
    pub(super) active: bool,
    pub(super) scopes: Vec<String>,
}

fn account_from(row: &sqlx::postgres::PgRow, user_id: Uuid) -> Result<Account, ApiError> {
    let role: String = row.try_get("role")?;
    Ok(Account {
        user_id,
        role: role.parse().map_err(ApiError::internal)?,
        active: row.try_get("active")?,
        scopes: row.try_get("scopes")?,
    })
}

/// The account whose username or email is `login`, with its password
/// hash.
pub(super) async fn account_by_login(
    state: &AppState,
    login: &str,
) -> Result<Option<(Account, String)>, ApiError> {
    let row = sqlx::query(include_str!("../../queries/user_by_login.sql"))
        .bind(login)
        .fetch_optional(&state.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let user_id: Uuid = row.try_get("user_id")?;
    Ok(Some((
        account_from(&row, user_id)?,
        row.try_get::<String, _>("password_hash")?,
    )))
}

/// The account `user_id`; `refresh_token_invalid` when it is gone.
pub(super) async fn account_by_id(state: &AppState, user_id: Uuid) -> Result<Account, ApiError> {
    let row = sqlx::query(include_str!("../../queries/user_auth_state.sql"))
        .bind(user_id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or_else(|| ApiError::new(Code::RefreshTokenInvalid, "the account is gone"))?;
    account_from(&row, user_id)
}
