//! Stock's copy of the catalog, joined from the catalog's compacted state
//! topic, against the real Kafka, registry and PostgreSQL with the real
//! `khlang-catalog` and two `khlang-stock` processes.
//!
//! What it proves:
//! - the race has a fixed answer: a stock command sent right after its
//!   product's (or warehouse's) creation was accepted is never rejected as
//!   unknown, many times over, with the catalog's relay publishing
//!   concurrently;
//! - two stock instances share one copy (one table, one set of stored
//!   offsets): each catches up on its own lookup misses, and the copy stays
//!   complete when one of them is killed;
//! - catalog rows that existed before the state topic get onto it exactly
//!   once (the backfill), and a new stock database starts complete from the
//!   compacted topic.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures::future::join_all;
use khlang_testkit::{eventually, kill9, read_committed, terminate};
use support::{create_product, receive, upsert_warehouse, StockEnv, WAIT};

const CAUGHT_UP: &str =
    r#"khlang_runtime_join_catch_ups_total{join="catalog",outcome="caught_up"}"#;
const TIMED_OUT: &str =
    r#"khlang_runtime_join_catch_ups_total{join="catalog",outcome="timed_out"}"#;

/// Creates `sku` through the catalog, waits for its accepted outcome (what
/// the ingress answers a client with), then sends a receipt for it at
/// `warehouse` at once; returns the receipt's command id.
async fn create_then_receive(env: &StockEnv, sku: &str, warehouse: &str) -> String {
    let create = create_product(sku);
    env.send_catalog(&create).await;
    let (status, reason) = env.wait_outcome(&create.envelope.id).await;
    assert_eq!(status, "accepted", "{sku}: {reason:?}");
    let receipt = receive(sku, warehouse, 5);
    env.send(&receipt).await;
    receipt.envelope.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_command_sent_after_its_product_was_accepted_is_never_refused_as_unknown() {
    let env = StockEnv::new(6).await;
    let mut catalog = env.catalog.start();
    let mut first = env.stock.start();
    let mut second = env.stock.start();

    // a warehouse created and used at once is the same race
    let create = upsert_warehouse("RACE1");
    env.send_catalog(&create).await;
    assert_eq!(env.wait_outcome(&create.envelope.id).await.0, "accepted");
    let opening = receive("NONE-SUCH", "RACE1", 1);
    env.send(&opening).await;
    assert_eq!(
        env.wait_outcome(&opening.envelope.id).await.1.as_deref(),
        Some("unknown_sku"),
        "a product that does not exist is still refused"
    );

    // 8 clients, 25 products each: create, wait for "accepted", receive
    let clients = (0..8).map(|client| {
        let env = &env;
        async move {
            let mut ids = Vec::new();
            for n in 0..25 {
                let sku = format!("RACE-{client}-{n}");
                ids.push((sku.clone(), create_then_receive(env, &sku, "RACE1").await));
            }
            ids
        }
    });
    let sent: Vec<(String, String)> = join_all(clients).await.into_iter().flatten().collect();
    assert_eq!(sent.len(), 200);
    let ids: Vec<String> = sent.iter().map(|(_, id)| id.clone()).collect();
    let outcomes = env.wait_outcomes(&ids).await;
    let refused: Vec<_> = sent
        .iter()
        .filter(|(_, id)| outcomes[id].0 != "accepted")
        .map(|(sku, id)| (sku, &outcomes[id]))
        .collect();
    assert!(refused.is_empty(), "refused receipts: {refused:?}");

    // both instances applied, and each caught up on its own misses
    let caught_up = (
        support::metric(&env.stock, 0, CAUGHT_UP).await,
        support::metric(&env.stock, 1, CAUGHT_UP).await,
    );
    let timed_out = (
        support::metric(&env.stock, 0, TIMED_OUT).await,
        support::metric(&env.stock, 1, TIMED_OUT).await,
    );
    eprintln!("catch-up waits caught_up={caught_up:?} timed_out={timed_out:?}");
    assert_eq!(timed_out, (0.0, 0.0), "a catch-up wait timed out");

    // one copy shared by both: every product once, at its version
    let copied: i64 = sqlx::query_scalar("SELECT count(*) FROM stock.products")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(copied, 200);

    // with one instance killed, the other keeps the copy complete
    kill9(&mut first);
    let mut late = Vec::new();
    for n in 0..20 {
        let sku = format!("LATE-{n}");
        late.push(create_then_receive(&env, &sku, "RACE1").await);
    }
    let outcomes = env.wait_outcomes(&late).await;
    assert!(
        outcomes.values().all(|(status, _)| status == "accepted"),
        "{outcomes:?}"
    );
    terminate(&mut second);
    terminate(&mut catalog);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_rows_from_before_the_state_topic_are_published_once() {
    let env = StockEnv::new(3).await;
    // the catalog's tables with rows written before it published its state
    khlang_catalog::migrate(&env.pool).await.unwrap();
    khlang_runtime::migrate(&env.pool).await.unwrap();
    for n in 0..30 {
        sqlx::query(
            "INSERT INTO catalog.products (sku, name_th, name_en, category, unit, price_satang, \
             cost_satang, min_stock, version) VALUES ($1, 'เก่า', 'old', 'c', 'u', 1, 1, 2, 3)",
        )
        .bind(format!("OLD-{n}"))
        .execute(&env.pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO catalog.warehouses (code, name_th, name_en, version) \
         VALUES ('OLD1', 'เก่า', 'old', 1)",
    )
    .execute(&env.pool)
    .await
    .unwrap();

    // two catalog instances start at once: the backfill runs once
    let mut a = env.catalog.start();
    let mut b = env.catalog.start();
    let mut stock = env.stock.start();
    let skus: Vec<String> = (0..30).map(|n| format!("OLD-{n}")).collect();
    let refs: Vec<&str> = skus.iter().map(String::as_str).collect();
    env.wait_products(&refs).await;
    let receipt = receive("OLD-7", "OLD1", 4);
    env.send(&receipt).await;
    assert_eq!(env.wait_outcome(&receipt.envelope.id).await.0, "accepted");
    let version: i64 = sqlx::query_scalar("SELECT version FROM stock.products WHERE sku = 'OLD-7'")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(version, 3);
    terminate(&mut a);
    terminate(&mut b);

    // a restart publishes nothing again
    let mut again = env.catalog.start();
    eventually("the restarted catalog is ready", WAIT, || async {
        env.catalog.ready(2).await.filter(|r| *r)
    })
    .await;
    terminate(&mut again);
    let records = read_committed(&env.infra.brokers, env.state.as_str());
    assert_eq!(records.len(), 31, "30 products and a warehouse, once each");

    // a stock database rebuilt from nothing starts complete
    terminate(&mut stock);
    sqlx::query("TRUNCATE stock.products, stock.warehouses")
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query(
        "DELETE FROM khlang_runtime.consumer_offsets WHERE consumer_group LIKE '%join-catalog'",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    let mut rebuilt = env.stock.start();
    let receipt = receive("OLD-29", "OLD1", 1);
    env.send(&receipt).await;
    assert_eq!(env.wait_outcome(&receipt.envelope.id).await.0, "accepted");
    env.wait_products(&refs).await;
    terminate(&mut rebuilt);
}
