//! SQL of the users store (`queries/*.sql`).

use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub user_id: Uuid,
    /// Email as given.
    pub email: String,
    /// Username as given.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role name.
    pub role: String,
    /// False once deactivated.
    pub active: bool,
    /// Incremented by every change.
    pub version: i64,
    /// Scopes granted to a service or device account (empty for people).
    pub scopes: Vec<String>,
}

impl User {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user_id: row.try_get(0)?,
            email: row.try_get(1)?,
            username: row.try_get(2)?,
            display_name: row.try_get(3)?,
            password_hash: row.try_get(4)?,
            role: row.try_get(5)?,
            active: row.try_get(6)?,
            version: row.try_get(7)?,
            scopes: row.try_get(8)?,
        })
    }
}

/// Reads and writes `users.users`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserStore;

impl UserStore {
    /// One user.
    ///
    /// # Errors
    /// Database errors.
    pub async fn get(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<User>, sqlx::Error> {
        let row = sqlx::query(include_str!("queries/get_user.sql"))
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
        row.as_ref().map(User::from_row).transpose()
    }

    /// Every user (for rebuilding the Redis copy and for tests).
    ///
    /// # Errors
    /// Database errors.
    pub async fn all(pool: &PgPool) -> Result<Vec<User>, sqlx::Error> {
        let rows = sqlx::query(include_str!("queries/all_users.sql"))
            .fetch_all(pool)
            .await?;
        rows.iter().map(User::from_row).collect()
    }

    /// Inserts a new user at version 1; false when the id, email or
    /// username is already taken (the caller finds out which).
    pub(crate) async fn insert(conn: &mut PgConnection, user: &User) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(include_str!("queries/insert_user.sql"))
            .bind(user.user_id)
            .bind(&user.email)
            .bind(&user.username)
            .bind(&user.display_name)
            .bind(&user.password_hash)
            .bind(&user.role)
            .bind(&user.scopes)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn email_taken(
        conn: &mut PgConnection,
        email: &str,
        by_other_than: Uuid,
    ) -> Result<bool, sqlx::Error> {
        sqlx::query(include_str!("queries/email_taken.sql"))
            .bind(email)
            .bind(by_other_than)
            .fetch_one(conn)
            .await?
            .try_get(0)
    }

    pub(crate) async fn username_taken(
        conn: &mut PgConnection,
        username: &str,
        by_other_than: Uuid,
    ) -> Result<bool, sqlx::Error> {
        sqlx::query(include_str!("queries/username_taken.sql"))
            .bind(username)
            .bind(by_other_than)
            .fetch_one(conn)
            .await?
            .try_get(0)
    }

    /// Writes the mutable fields and bumps the version; returns the new version.
    pub(crate) async fn update(conn: &mut PgConnection, user: &User) -> Result<i64, sqlx::Error> {
        sqlx::query(include_str!("queries/update_user.sql"))
            .bind(user.user_id)
            .bind(&user.email)
            .bind(&user.display_name)
            .bind(&user.password_hash)
            .bind(&user.role)
            .bind(user.active)
            .fetch_one(conn)
            .await?
            .try_get(0)
    }
}
