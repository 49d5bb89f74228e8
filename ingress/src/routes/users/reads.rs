//! The users read handlers: authorize, parse the query, read through
//! [`super::queries`], page the answer.

use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use uuid::Uuid;

use super::queries;
use super::requests::ListQuery;
use super::views::{UserPage, UserView};
use crate::auth::Principal;
use crate::error::{ApiError, Code};
use crate::extract::LaterQuery;
use crate::scopes::Scope;
use crate::state::AppState;

/// The signed-in account.
#[utoipa::path(
    get, path = "/v1/me", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, description = "The account", body = UserView))
)]
pub async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<UserView>, ApiError> {
    load(&state, principal.user_id).await.map(Json)
}

/// List accounts (admin, manager).
#[utoipa::path(
    get, path = "/v1/users", tag = "users",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of accounts", body = UserPage))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: LaterQuery,
) -> Result<Json<UserPage>, ApiError> {
    principal.require(Scope::UsersRead)?;
    let query: ListQuery = query.parse()?;
    let after = match &query.page_token {
        None => None,
        Some(token) => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| Uuid::from_slice(&b).ok())
                .ok_or_else(|| {
                    ApiError::field("page_token", "page_token", "is not a page token")
                })?,
        ),
    };
    let size = query.page_size.unwrap_or(20);
    let mut items = queries::users(&state, &query, after, size + 1).await?;
    let more = items.len() > usize::try_from(size).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(size).unwrap_or(0));
    let next_page_token = if more {
        items
            .last()
            .and_then(|u| Uuid::parse_str(&u.user_id).ok())
            .map(|id| URL_SAFE_NO_PAD.encode(id.as_bytes()))
    } else {
        None
    };
    Ok(Json(UserPage {
        items,
        next_page_token,
    }))
}

/// One account (admin, manager, or the account itself).
#[utoipa::path(
    get, path = "/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "The account", body = UserView))
)]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    // an id that names no account is nobody's own: it needs the scope too
    if Uuid::parse_str(&id).ok() != Some(principal.user_id) {
        principal.require(Scope::UsersRead)?;
    }
    load(&state, parse_id(&id)?).await.map(Json)
}

/// The user id in a path; `user_not_found` when it cannot be one.
pub(super) fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::new(Code::UserNotFound, "no such user"))
}

/// The account, or `user_not_found`.
pub(super) async fn load(state: &AppState, user_id: Uuid) -> Result<UserView, ApiError> {
    queries::user(state, user_id)
        .await?
        .ok_or_else(|| ApiError::new(Code::UserNotFound, "no such user"))
}
