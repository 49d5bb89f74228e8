//! What clients send to `/v1/auth/*` and the tokens they get back.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Sign in with a username or email and a password (or, for service and
/// device accounts, their username and client secret).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"login": "admin@khlang.local", "password": "correct-horse-battery"}))]
pub struct LoginRequest {
    /// Username or email.
    #[schema(min_length = 1, max_length = 254)]
    #[validate(length(min = 1, max = 254))]
    pub login: String,
    /// Password or client secret.
    #[schema(min_length = 1, max_length = 1024)]
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
