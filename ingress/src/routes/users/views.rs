//! What reads of `/v1/me` and `/v1/users` answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An account as readers see it (never the password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// False once deactivated.
    pub active: bool,
    /// Scopes granted to a service or device account.
    pub scopes: Vec<String>,
    /// Version, incremented by every change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A page of accounts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserPage {
    /// The accounts.
    pub items: Vec<UserView>,
    /// Pass as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}
