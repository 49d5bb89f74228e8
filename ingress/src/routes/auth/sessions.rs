//! Signing in, rotating refresh tokens, signing out, and the JWK set.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use uuid::Uuid;

use super::reads::{account_by_id, account_by_login, Account};
use super::requests::{LoginRequest, RefreshRequest, TokenResponse};
use crate::auth::keys::Jwks;
use crate::auth::tokens::kind_of;
use crate::auth::{password, Principal};
use crate::error::{ApiError, Code};
use crate::extract::JsonBody;
use crate::middleware::ClientAddress;
use crate::scopes::Scope;
use crate::state::AppState;

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
    let (account, hash) = account_by_login(&state, &request.login)
        .await?
        .map_or((None, None), |(account, hash)| (Some(account), Some(hash)));
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
    let account = account_by_id(&state, refreshed.user_id).await?;
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
