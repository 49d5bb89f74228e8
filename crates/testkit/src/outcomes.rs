//! Command outcomes as a processor records them in its own database, for
//! tests that send commands to a processor directly instead of through the
//! ingress. Read through the runtime's read API ([`khlang_runtime::read`]),
//! the only code that knows the outcome table.

use std::time::Duration;

use khlang_runtime::read;
use sqlx::PgPool;

/// How many commands have an outcome; 0 while the processor has not yet
/// created its tables.
pub async fn count(pool: &PgPool) -> i64 {
    // an error here is the tables not being migrated yet
    read::outcome_count(pool).await.unwrap_or(0)
}

/// The `(status, reason_code)` of a command; `None` while it has no outcome.
pub async fn status(pool: &PgPool, command_id: &str) -> Option<(String, Option<String>)> {
    read::command_outcome(pool, command_id)
        .await
        .ok()
        .flatten()
        .map(|o| (o.status, o.reason_code))
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
