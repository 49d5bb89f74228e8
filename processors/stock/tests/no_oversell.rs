//! No oversell with two stock processor instances really applying at the
//! same time (each a multi-threaded process), on many items and one hot
//! item, through rebalances: the second instance joins mid-run, the first
//! is then killed with SIGKILL and restarted.
//!
//! Every reservation's outcome is checked against the final levels: the
//! accepted reservations of an item add up to at most what it received and
//! to exactly what it holds reserved, available never goes below zero, and
//! a reservation refused for lack of stock really did not fit (the item
//! ends with less available than it asked for).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;

use futures::future::join_all;
use khlang_testkit::{eventually, kill9, outcomes, terminate};
use support::{metric, receive, reserve, StockEnv, WAIT};

const APPLIED: &str = r#"khlang_runtime_records_applied_total{outcome="accepted"}"#;
const HOT: &str = "HOT";
const HOT_STOCK: i64 = 100;
const KEY_STOCK: i64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_through_rebalances_never_oversell() {
    let env = StockEnv::new(12).await;
    let keys: Vec<String> = (0..30).map(|n| format!("KEY-{n:02}")).collect();
    env.publish_warehouse("W1", true, 1).await;
    env.publish_product(HOT, 0, true, 1).await;
    for key in &keys {
        env.publish_product(key, 0, true, 1).await;
    }
    let mut first = env.stock.start();
    let mut receipts = vec![receive(HOT, "W1", HOT_STOCK)];
    receipts.extend(keys.iter().map(|k| receive(k, "W1", KEY_STOCK)));
    for r in &receipts {
        env.send(r).await;
    }
    let ids: Vec<String> = receipts.iter().map(|r| r.envelope.id.clone()).collect();
    assert!(env
        .wait_outcomes(&ids)
        .await
        .values()
        .all(|(s, _)| s == "accepted"));
    let baseline = outcomes::count(&env.pool).await;

    // 16 clients; about six times the hot item's stock asked for, about
    // twice each other item's
    let mut requests: Vec<(String, i64)> = (0..320).map(|i| (HOT.to_owned(), 1 + i % 3)).collect();
    for (n, key) in keys.iter().enumerate() {
        requests.extend((0..12).map(|i| (key.clone(), 1 + (i + n as i64) % 3)));
    }
    let total = requests.len();
    let clients = (0..16).map(|client| {
        let env = &env;
        let mine: Vec<(String, i64)> = requests.iter().skip(client).step_by(16).cloned().collect();
        async move {
            let mut sent = Vec::new();
            for (n, (sku, quantity)) in mine.into_iter().enumerate() {
                let command = reserve(&sku, "W1", &format!("c{client}-{n}"), quantity);
                env.send(&command).await;
                sent.push((command.envelope.id, sku, quantity));
            }
            sent
        }
    });
    let churn = async {
        // the second instance joins once a fifth of the reservations are decided
        wait_for_outcomes(&env, baseline + total as i64 / 5).await;
        let second = env.stock.start();
        // both apply for a while, then the first dies
        wait_for_outcomes(&env, baseline + total as i64 / 2).await;
        let by_first = metric(&env.stock, 0, APPLIED).await;
        kill9(&mut first);
        let restarted = env.stock.start();
        (second, restarted, by_first)
    };
    let (sent, (mut second, mut restarted, by_first)) = tokio::join!(join_all(clients), churn);
    let sent: Vec<(String, String, i64)> = sent.into_iter().flatten().collect();
    assert_eq!(sent.len(), total);
    let ids: Vec<String> = sent.iter().map(|(id, _, _)| id.clone()).collect();
    let decided = env.wait_outcomes(&ids).await;
    let by_second = metric(&env.stock, 1, APPLIED).await;
    let by_restarted = metric(&env.stock, 2, APPLIED).await;
    eprintln!(
        "accepted commands applied: first {by_first}, second {by_second}, restarted {by_restarted}"
    );
    assert!(by_first > 0.0, "the first instance applied nothing");
    assert!(by_second > 0.0, "the second instance applied nothing");
    terminate(&mut second);
    terminate(&mut restarted);

    let levels = env.levels().await;
    let mut granted: HashMap<&str, i64> = HashMap::new();
    let mut smallest_refused: HashMap<&str, i64> = HashMap::new();
    for (id, sku, quantity) in &sent {
        match &decided[id] {
            (status, _) if status == "accepted" => *granted.entry(sku).or_default() += quantity,
            (_, Some(reason)) if reason == "insufficient_stock" => {
                let least = smallest_refused.entry(sku).or_insert(*quantity);
                *least = (*least).min(*quantity);
            }
            other => panic!("reservation {id} of {sku}: {other:?}"),
        }
    }
    let hot_refused = sent
        .iter()
        .filter(|(id, sku, _)| sku == HOT && decided[id].0 != "accepted")
        .count();
    eprintln!(
        "hot item: {} units granted of {HOT_STOCK}, {hot_refused} reservations refused",
        granted.get(HOT).copied().unwrap_or(0)
    );
    for sku in std::iter::once(HOT).chain(keys.iter().map(String::as_str)) {
        let received = if sku == HOT { HOT_STOCK } else { KEY_STOCK };
        let (on_hand, reserved, _) = levels[&(sku.to_owned(), "W1".to_owned())];
        let granted = granted.get(sku).copied().unwrap_or(0);
        assert!(
            granted <= received,
            "{sku}: {granted} granted of {received}"
        );
        assert_eq!(on_hand, received, "{sku}: on hand");
        assert_eq!(reserved, granted, "{sku}: reserved == sum of accepted");
        let available = on_hand - reserved;
        assert!(available >= 0, "{sku}: available {available}");
        if let Some(least) = smallest_refused.get(sku) {
            assert!(
                available < *least,
                "{sku}: refused {least} for lack of stock but {available} are available"
            );
        }
    }
}

/// Waits until at least `n` commands have an outcome.
async fn wait_for_outcomes(env: &StockEnv, n: i64) {
    eventually(&format!("{n} outcomes"), WAIT, || async {
        (outcomes::count(&env.pool).await >= n).then_some(())
    })
    .await;
}
