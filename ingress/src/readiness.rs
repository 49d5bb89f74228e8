//! Whether the tables the ingress reads exist yet.
//!
//! The ingress reads tables it does not own: the users, catalog and stock
//! processors' (through their read APIs) and the runtime's command outcomes.
//! It never creates them: each processor applies its own migrations when it
//! starts, and `khlangctl migrate` applies them all for operators. Until
//! every migration of those stores is applied, the ingress answers
//! `/health/ready` with 503 and a reason naming what is missing, and looks
//! again every [`RECHECK`]; reads that reach a missing table answer
//! `503 service_unavailable` meanwhile. Its own tables (schema `ingress`)
//! it migrates itself at start.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::PgPool;

/// How often the ingress looks again while a store is missing.
pub const RECHECK: Duration = Duration::from_secs(1);

/// The stores the ingress reads, with who creates each.
fn stores() -> [(&'static str, &'static str, Migrator); 4] {
    [
        (
            "khlang_runtime",
            "any processor",
            khlang_runtime::schema::migrator(),
        ),
        ("users", "khlang-users", khlang_users::migrator()),
        ("catalog", "khlang-catalog", khlang_catalog::migrator()),
        ("stock", "khlang-stock", khlang_stock::migrator()),
    ]
}

/// Why the ingress is not ready, naming each store with migrations not
/// applied yet and who applies them; `None` when every store is complete.
///
/// # Errors
/// Database errors.
pub async fn missing(pool: &PgPool) -> Result<Option<String>, sqlx::Error> {
    let mut behind = Vec::new();
    for (store, owner, migrator) in stores() {
        let pending = khlang_runtime::schema::pending(pool, &migrator).await?;
        if let Some(first) = pending.first() {
            behind.push(format!(
                "{store} ({} migration(s) pending from {first}; started by {owner} or `khlangctl migrate`)",
                pending.len()
            ));
        }
    }
    Ok((!behind.is_empty()).then(|| format!("waiting for the tables of {}", behind.join(", "))))
}
