//! Command outcomes as a processor records them in its own database
//! (`khlang_runtime.command_outcomes`, written in the transaction that
//! applies the command), for tests that send commands to a processor
//! directly instead of through the ingress.

use std::time::Duration;

use sqlx::{PgPool, Row as _};

/// How many commands have an outcome; 0 while the processor has not yet
/// created its tables.
pub async fn count(pool: &PgPool) -> i64 {
    match sqlx::query("SELECT count(*) FROM khlang_runtime.command_outcomes")
        .fetch_one(pool)
        .await
    {
        Ok(row) => row.get(0),
        Err(_) => 0, // tables not migrated yet
    }
}

/// The `(status, reason_code)` of a command; `None` while it has no outcome.
pub async fn status(pool: &PgPool, command_id: &str) -> Option<(String, Option<String>)> {
    sqlx::query(
        "SELECT status, reason_code FROM khlang_runtime.command_outcomes WHERE command_id = $1",
    )
    .bind(command_id)
    .fetch_optional(pool)
    .await
    .ok()
    .flatten()
    .map(|r| (r.get(0), r.get(1)))
}

/// Waits until at least `expected` commands have an outcome.
///
/// # Panics
/// After `timeout`.
pub async fn wait_for(pool: &PgPool, expected: i64, timeout: Duration) {
    crate::eventually("all outcomes", timeout, || async {
        (count(pool).await >= expected).then_some(())
    })
    .await;
}
