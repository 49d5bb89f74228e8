//! `migrate`: creates or updates every store's tables for operators.
//!
//! Each processor applies its own migrations when it starts (and the
//! runtime's with them); `khlangctl migrate` applies the same sets ahead of
//! time, for instance before the first start of the ingress, which reads
//! the processors' tables but never creates them. The migrations are the
//! owners' own (`khlang_runtime::schema::migrator`, `khlang_users::migrator`,
//! …), compiled into this binary; applying them twice is harmless.

use anyhow::{bail, Context as _};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

use crate::cli::MigrateArgs;
use crate::{Context, Status};

/// Every store khlangctl migrates, in the order it applies them.
fn stores() -> [(&'static str, Migrator); 4] {
    [
        ("khlang_runtime", khlang_runtime::schema::migrator()),
        ("users", khlang_users::migrator()),
        ("catalog", khlang_catalog::migrator()),
        ("stock", khlang_stock::migrator()),
    ]
}

/// `migrate [--check]`.
///
/// # Errors
/// A missing database URL, an unreachable database, a failed migration.
pub async fn run(ctx: &Context, args: MigrateArgs) -> anyhow::Result<Status> {
    let Some(database_url) = args.database_url.filter(|u| !u.trim().is_empty()) else {
        bail!("no database: pass --database-url or set KHLANG_DATABASE_URL");
    };
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ctx.timeout)
        .connect(&database_url)
        .await
        .context("cannot connect to the database (--database-url)")?;
    let mut behind = false;
    for (store, migrator) in stores() {
        let pending = khlang_runtime::schema::pending(&pool, &migrator)
            .await
            .with_context(|| format!("cannot read which {store} migrations are applied"))?;
        if pending.is_empty() {
            println!("{store}: up to date");
            continue;
        }
        if args.check {
            behind = true;
            for migration in &pending {
                println!("{store}: pending {migration}");
            }
            continue;
        }
        migrator
            .run(&pool)
            .await
            .with_context(|| format!("{store} migrations failed"))?;
        for migration in &pending {
            println!("{store}: applied {migration}");
        }
    }
    Ok(if behind {
        Status::Drift
    } else {
        Status::Success
    })
}
