//! The users processor: the single writer of khlang's user accounts.
//!
//! It consumes `khlang.users.commands` (keyed by user id, so one partition
//! owns each user), applies RegisterUser / UpdateUser / ChangeRole /
//! DeactivateUser to `users.users` inside the stream runtime's transaction,
//! emits user events on `khlang.users.events`, and keeps a Redis copy of what
//! the ingress looks up on every request (role, active, email and username
//! indexes). Every command ends in exactly one outcome; rejections carry a
//! stable reason code from [`reasons`].
//!
//! It owns the schema `users` (its `migrations/`, applied at its start or by
//! `khlangctl migrate`); other crates read it only through [`read`].

mod cache;
mod launch;
pub mod password;
mod processor;
pub mod read;
pub mod reasons;
mod store;

pub use cache::UserCache;
pub use launch::Users;
pub use processor::UsersProcessor;
pub use store::{User, UserStore};

/// The users migrations (schema `users`).
#[must_use]
pub fn migrator() -> sqlx::migrate::Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator
}

/// Applies the users migrations that are not applied yet.
///
/// # Errors
/// When a migration fails.
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    migrator().run(pool).await
}
