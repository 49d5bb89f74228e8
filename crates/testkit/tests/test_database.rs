//! [`TestDatabase`] on the real PostgreSQL: dropped with the value, kept
//! when the test owning it fails.

use khlang_testkit::{Infra, TestDatabase};
use sqlx::PgPool;

async fn exists(admin: &PgPool, name: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(admin)
        .await
        .expect("query pg_database")
}

#[tokio::test]
async fn a_test_database_is_dropped_with_it_and_kept_when_the_test_fails() {
    let infra = Infra::from_env();
    let admin = PgPool::connect(&infra.database_url)
        .await
        .expect("connect to postgres");

    // dropped even while connections are open
    let database = infra.test_database().await;
    let name = database.name().to_owned();
    sqlx::query("CREATE TABLE t (id int)")
        .execute(database.pool())
        .await
        .expect("create a table");
    let open = database.pool().clone();
    assert!(exists(&admin, &name).await);
    drop(database);
    assert!(!exists(&admin, &name).await, "{name} was not dropped");
    drop(open);

    // kept when the thread that owns it panics
    let database = infra.test_database().await;
    let name = database.name().to_owned();
    let failed = std::thread::spawn(move || {
        let _database: TestDatabase = database;
        panic!("a failing test (expected)");
    })
    .join();
    assert!(failed.is_err());
    assert!(exists(&admin, &name).await, "{name} was not kept");
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .expect("clean up");
}
