//! The accounts as signing in and refreshing see them, read from the
//! users processor's state through its read API ([`khlang_users::read`]).

use khlang_contract::Role;
use khlang_users::read::{self as users, Access};
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

fn account_from(access: Access, user_id: Uuid) -> Result<Account, ApiError> {
    Ok(Account {
        user_id,
        role: access.role.parse().map_err(ApiError::internal)?,
        active: access.active,
        scopes: access.scopes,
    })
}

/// The account whose username or email is `login`, with its password
/// hash.
pub(super) async fn account_by_login(
    state: &AppState,
    login: &str,
) -> Result<Option<(Account, String)>, ApiError> {
    let Some(credentials) = users::credentials(&state.pool, login).await? else {
        return Ok(None);
    };
    Ok(Some((
        account_from(credentials.access, credentials.user_id)?,
        credentials.password_hash,
    )))
}

/// The account `user_id`; `refresh_token_invalid` when it is gone.
pub(super) async fn account_by_id(state: &AppState, user_id: Uuid) -> Result<Account, ApiError> {
    let access = users::access(&state.pool, user_id)
        .await?
        .ok_or_else(|| ApiError::new(Code::RefreshTokenInvalid, "the account is gone"))?;
    account_from(access, user_id)
}
