//! The users read API: what other crates (the ingress, `khlangctl`, tests)
//! may read of `users.users`, as typed rows.
//!
//! The users processor is the only writer of its schema and the only crate
//! with SQL naming it; everyone else reads through these functions, so a
//! change of the table is a change of this crate only. Every function takes
//! any executor (a pool, a connection or a transaction). Before the users
//! processor (or `khlangctl migrate`) has created the schema, they fail
//! with an error for which `khlang_runtime::schema::is_not_migrated` holds.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};
use uuid::Uuid;

/// An account as others may see it (everything but its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Id.
    pub user_id: Uuid,
    /// Email as given.
    pub email: String,
    /// Username as given.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role name (`admin`, `manager`, …).
    pub role: String,
    /// False once deactivated.
    pub active: bool,
    /// Scopes granted to a service or device account (empty for people).
    pub scopes: Vec<String>,
    /// Incremented by every change.
    pub version: i64,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// Its last change.
    pub updated_at: DateTime<Utc>,
}

impl UserRecord {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user_id: row.try_get("user_id")?,
            email: row.try_get("email")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            role: row.try_get("role")?,
            active: row.try_get("active")?,
            scopes: row.try_get("scopes")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// What signing in checks: the password hash and what the account may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Id.
    pub user_id: Uuid,
    /// argon2id PHC string.
    pub password_hash: String,
    /// What the account may do.
    pub access: Access,
}

/// What an account may do now: its role, scopes, and whether it is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Role name.
    pub role: String,
    /// False once deactivated.
    pub active: bool,
    /// Scopes of a service or device account.
    pub scopes: Vec<String>,
}

impl Access {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            role: row.try_get("role")?,
            active: row.try_get("active")?,
            scopes: row.try_get("scopes")?,
        })
    }
}

/// Which accounts [`users`] lists; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<String>,
    /// Only active (true) or deactivated (false) accounts.
    pub active: Option<bool>,
    /// Text contained in the email, username or display name (taken
    /// literally: `%` and `_` match themselves).
    pub text: Option<String>,
    /// Only ids after this one (the last of the previous page).
    pub after: Option<Uuid>,
    /// At most this many.
    pub limit: i64,
}

/// One account.
///
/// # Errors
/// Database errors.
pub async fn user<'e>(
    db: impl PgExecutor<'e>,
    user_id: Uuid,
) -> Result<Option<UserRecord>, sqlx::Error> {
    let row = sqlx::query(include_str!("queries/read_user.sql"))
        .bind(user_id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(UserRecord::from_row).transpose()
}

/// The account with this email (case-insensitive).
///
/// # Errors
/// Database errors.
pub async fn user_by_email<'e>(
    db: impl PgExecutor<'e>,
    email: &str,
) -> Result<Option<UserRecord>, sqlx::Error> {
    let row = sqlx::query(include_str!("queries/read_user_by_email.sql"))
        .bind(email)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(UserRecord::from_row).transpose()
}

/// Accounts matching `filter`, by id.
///
/// # Errors
/// Database errors.
pub async fn users<'e>(
    db: impl PgExecutor<'e>,
    filter: &UserFilter,
) -> Result<Vec<UserRecord>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_users.sql"))
        .bind(&filter.role)
        .bind(filter.active)
        .bind(
            filter
                .text
                .as_deref()
                .map(khlang_runtime::read::escape_like),
        )
        .bind(filter.after)
        .bind(filter.limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(UserRecord::from_row).collect()
}

/// The credentials of the account whose email or username is `login`
/// (case-insensitive).
///
/// # Errors
/// Database errors.
pub async fn credentials<'e>(
    db: impl PgExecutor<'e>,
    login: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let row = sqlx::query(include_str!("queries/read_credentials.sql"))
        .bind(login)
        .fetch_optional(db)
        .await?;
    row.as_ref()
        .map(|row| {
            Ok(Credentials {
                user_id: row.try_get("user_id")?,
                password_hash: row.try_get("password_hash")?,
                access: Access::from_row(row)?,
            })
        })
        .transpose()
}

/// What the account may do now (checked again at every token refresh).
///
/// # Errors
/// Database errors.
pub async fn access<'e>(
    db: impl PgExecutor<'e>,
    user_id: Uuid,
) -> Result<Option<Access>, sqlx::Error> {
    let row = sqlx::query(include_str!("queries/read_access.sql"))
        .bind(user_id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(Access::from_row).transpose()
}

/// Whether an active admin has this email (case-insensitive).
///
/// # Errors
/// Database errors.
pub async fn active_admin_exists<'e>(
    db: impl PgExecutor<'e>,
    email: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(include_str!("queries/read_active_admin.sql"))
        .bind(email)
        .fetch_one(db)
        .await
}
