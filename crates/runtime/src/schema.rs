//! Who owns which tables, and whether they exist yet.
//!
//! Each store (the runtime's `khlang_runtime`, each processor's schema, the
//! ingress's `ingress`) has its own migrations, applied by its owner at
//! start (or by `khlangctl migrate`). All of them share sqlx's one
//! `_sqlx_migrations` table, so each set ignores the versions it does not
//! know; version numbers are unique across the workspace.
//!
//! A component that only *reads* another store (the ingress reads the
//! processors' tables through their read APIs) never applies that store's
//! migrations: it asks [`pending`] whether they have been applied, and
//! reports itself not ready until they have.

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::PgPool;

/// The runtime's migrations (schema `khlang_runtime`): consumed offsets,
/// the outbox and the command outcomes.
#[must_use]
pub fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator
}

/// Applies `migrator`'s migrations that are not applied yet.
///
/// # Errors
/// When a migration fails.
pub async fn apply(pool: &PgPool, migrator: &Migrator) -> Result<(), MigrateError> {
    migrator.run(pool).await
}

/// The migrations of `migrator` not applied to `pool`'s database yet, as
/// `"<version> <description>"`; empty when the store is complete.
///
/// # Errors
/// Database errors other than sqlx's bookkeeping table not existing (then
/// every migration is pending).
pub async fn pending(pool: &PgPool, migrator: &Migrator) -> Result<Vec<String>, sqlx::Error> {
    let applied: Vec<i64> = match sqlx::query_scalar(include_str!("queries/applied_migrations.sql"))
        .fetch_all(pool)
        .await
    {
        Ok(applied) => applied,
        Err(error) if is_not_migrated(&error) => Vec::new(),
        Err(error) => return Err(error),
    };
    Ok(migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect())
}

/// Whether `error` says a schema or table does not exist (SQLSTATE `42P01`
/// undefined table, `3F000` undefined schema): the store's owner has not
/// created it yet.
#[must_use]
pub fn is_not_migrated(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("42P01" | "3F000"))
    )
}
