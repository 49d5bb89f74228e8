//! [`TestDatabase`]: a PostgreSQL database of one test's own, created on the
//! shared server and dropped again when the test is done with it.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection as _, PgConnection, PgPool};

/// A fresh database named `khlang_test_<random>`, from
/// [`Infra::test_database`](crate::Infra::test_database).
///
/// Dropping it drops the database (`WITH (FORCE)`, so connections still open,
/// such as a killed processor's or the test's own pool, do not stop it),
/// unless the thread is panicking: the database of a failing test is kept
/// for inspection and its name printed. A failure to drop it is printed,
/// never a test failure.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
    pool: PgPool,
}

impl TestDatabase {
    /// Creates the database through `admin_url` (a URL of any database on
    /// the server) and connects a pool to it.
    ///
    /// # Panics
    /// When PostgreSQL is unreachable or refuses.
    pub(crate) async fn create(admin_url: &str) -> Self {
        let (name, url, pool) = create(admin_url).await;
        Self {
            name,
            url,
            admin_url: admin_url.to_owned(),
            pool,
        }
    }

    /// The database's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its URL, for `KHLANG_DATABASE_URL` and the like.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A pool on it (at most five connections).
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test database {} kept for inspection", self.name);
            return;
        }
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop cannot await, and it runs inside the test's runtime, which
        // refuses to start another: the statement runs on a thread with a
        // runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(async {
                    let mut admin = PgConnection::connect(&admin_url).await?;
                    sqlx::query(&statement).execute(&mut admin).await?;
                    admin.close().await
                })
                .map_err(|e| e.to_string())
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database {} not dropped: {e}", self.name),
            Err(_) => eprintln!(
                "test database {} not dropped: the thread panicked",
                self.name
            ),
        }
    }
}

/// Creates a database `khlang_test_<random>` through `admin_url`; returns
/// its name, URL and a pool on it.
///
/// # Panics
/// When PostgreSQL is unreachable or refuses.
pub(crate) async fn create(admin_url: &str) -> (String, String, PgPool) {
    let name = format!("khlang_test_{}", crate::unique_suffix());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await
        .expect("connect to postgres");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("database url has no database name"),
    };
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect(&url)
        .await
        .expect("connect to test db");
    (name, url, pool)
}
