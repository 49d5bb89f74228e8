//! `/v1/auth/*` and the JWK set.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use khlang_contract::Role;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::keys::Jwks;
use crate::auth::tokens::kind_of;
use crate::auth::{password, Principal};
use crate::error::{ApiError, Code};
use crate::extract::JsonBody;
use crate::middleware::ClientAddress;
use crate::scopes::Scope;
use crate::state::AppState;

/// Sign in with a username or email and a password (or, for service and
/// device accounts, their username and client secret).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email.
    #[validate(length(min = 1, max = 254))]
    pub login: String,
    /// Password or client secret.
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
}

/// Exchange a refresh token for new tokens.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last sign-in or refresh.
    // Not validated here: any malformed token (empty, too long, no id) is
    // `401 refresh_token_invalid` from Sessions::rotate, as docs/errors.md
    // promises; clients decide on that code.
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

/// Tokens.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// The access token (JWT), for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// The refresh token; use it once.
    pub refresh_token: String,
    /// Seconds the refresh token lives.
    pub refresh_expires_in: i64,
}

struct Account {
    user_id: Uuid,
    role: Role,
    active: bool,
    scopes: Vec<String>,
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

fn issue(
    state: &AppState,
    account: &Account,
    session_id: Uuid,
    refresh: crate::auth::sessions::IssuedRefresh,
) -> Result<TokenResponse, ApiError> {
    let principal = Principal {
        user_id: account.user_id,
        session_id,
        role: account.role,
        kind: kind_of(account.role),
        scopes: Scope::effective(account.role, &account.scopes),
    };
    let access_token = state
        .tokens
        .sign(&state.tokens.claims_for(&principal))
        .map_err(ApiError::internal)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.ttl_secs(),
        refresh_token: refresh.token,
        refresh_expires_in: refresh.expires_in,
    })
}

/// Sign in.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = TokenResponse))
)]
pub async fn login(
    State(state): State<AppState>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    state.throttle.check(&request.login, &address).await?;
    let row = sqlx::query(include_str!("../queries/user_by_login.sql"))
        .bind(&request.login)
        .fetch_optional(&state.pool)
        .await?;
    let (account, hash) = match &row {
        Some(row) => {
            let user_id: Uuid = row.try_get("user_id")?;
            (
                Some(account_from(row, user_id)?),
                Some(row.try_get::<String, _>("password_hash")?),
            )
        }
        None => (None, None),
    };
    let matches = password::verify(request.password, hash).await?;
    let Some(account) = account.filter(|_| matches) else {
        state.throttle.failed(&request.login, &address).await?;
        state.metrics.auth_failed("invalid_credentials");
        return Err(ApiError::new(
            Code::InvalidCredentials,
            "the login or password is wrong",
        ));
    };
    if !account.active {
        state.metrics.auth_failed("account_inactive");
        return Err(ApiError::new(
            Code::AccountInactive,
            "the account is deactivated",
        ));
    }
    state.throttle.succeeded(&request.login, &address).await?;
    let (session_id, refresh) = state.sessions.start(account.user_id).await?;
    tracing::info!(user_id = %account.user_id, %session_id, "signed in");
    issue(&state, &account, session_id, refresh).map(Json)
}

/// Rotate the refresh token and get a new access token. Presenting a
/// refresh token a second time revokes its whole session.
#[utoipa::path(
    post, path = "/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, description = "New tokens", body = TokenResponse))
)]
pub async fn refresh(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let (refreshed, next) = state
        .sessions
        .rotate(&request.refresh_token)
        .await
        .inspect_err(|e| state.metrics.auth_failed(e.code.as_str()))?;
    let row = sqlx::query(include_str!("../queries/user_auth_state.sql"))
        .bind(refreshed.user_id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or_else(|| ApiError::new(Code::RefreshTokenInvalid, "the account is gone"))?;
    let account = account_from(&row, refreshed.user_id)?;
    if !account.active {
        state
            .sessions
            .revoke(refreshed.session_id, "account deactivated")
            .await?;
        return Err(ApiError::new(
            Code::AccountInactive,
            "the account is deactivated",
        ));
    }
    issue(&state, &account, refreshed.session_id, next).map(Json)
}

/// Sign out: the session's refresh tokens and access tokens stop working.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out"))
)]
pub async fn logout(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<impl IntoResponse, ApiError> {
    state
        .sessions
        .revoke(principal.session_id, "logout")
        .await?;
    tracing::info!(user_id = %principal.user_id, session_id = %principal.session_id, "signed out");
    Ok(StatusCode::NO_CONTENT)
}

/// The public keys that verify access tokens.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JWK set", body = Jwks))
)]
pub async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.tokens.keys().jwks().clone())
}
