//! The catalog's guarantees on the real infrastructure with the real
//! `khlang-catalog` binary: one barcode, one product, even when creates race
//! on different partitions; and every command applied once across `kill -9`,
//! clean restarts and re-delivered commands.

#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::collections::{HashMap, HashSet};

use khlang_catalog::{reasons, CatalogStore, STATUS_DISCONTINUED};
use khlang_contract::catalog::{CatalogCommand, UpdateProduct};
use khlang_contract::{CommandOutcome, OutcomeStatus};
use khlang_testkit::{
    eventually, kill9, read_committed, terminate, wait_for_stable_group, wait_until_applied,
};
use sqlx::Row;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_claiming_one_barcode_have_exactly_one_winner() {
    const RACES: u64 = 60;
    const RIVALS: u64 = 3;
    let env = TestEnv::new(6).await;
    // Rivals for one barcode, each on its own partition: different
    // transactions, possibly different instances, applied at the same time.
    let mut races: Vec<(String, Vec<(CatalogCommand, i32)>)> = Vec::new();
    for g in 0..RACES {
        let barcode = ean13(885_000_000_000 + g);
        let rivals = (0..RIVALS)
            .map(|j| {
                // Each also has a barcode of its own, so that a loser must
                // leave no claim behind.
                let own = ean13(500_000_000_000 + g * 10 + j);
                let command = create(new_product(
                    &format!("RACE-{g}-{j}"),
                    &[own, barcode.clone()],
                ));
                (command, ((g + j) % env.partitions as u64) as i32)
            })
            .collect();
        races.push((barcode, rivals));
    }
    // Two instances in one consumer group share the partitions, so rivals
    // are applied in concurrent transactions, not one after the other.
    let owns_partitions =
        |n| std::fs::read_to_string(env.log(n)).is_ok_and(|log| log.contains("partition assigned"));
    // One at a time: the first has registered the schemas once it owns
    // partitions (concurrent first registrations of a subject can conflict).
    let mut first = env.start();
    eventually("the first instance owns partitions", WAIT, || async {
        owns_partitions(0).then_some(())
    })
    .await;
    let mut second = env.start();
    eventually("the second instance owns partitions", WAIT, || async {
        owns_partitions(1).then_some(())
    })
    .await;
    // The rebalance that the second instance caused is over: both own
    // partitions before the rivals are sent.
    wait_for_stable_group(&env.infra.brokers, &env.group, 2, WAIT).await;
    let sends = races
        .iter()
        .flat_map(|(_, rivals)| rivals.iter())
        .map(|(command, partition)| env.send(command, Some(*partition)));
    futures::future::join_all(sends).await;
    let total = (RACES * RIVALS) as i64;
    env.wait_for_outcomes(total, WAIT).await;
    for n in 0..2 {
        let consumed = consumed_total(&env, n).await.unwrap_or_default();
        assert!(consumed > 0.0, "instance {n} applied nothing");
    }
    terminate(&mut first);
    terminate(&mut second);

    let products: HashMap<String, khlang_catalog::Product> = CatalogStore::all_products(&env.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.sku.clone(), p))
        .collect();
    assert_eq!(products.len() as u64, RACES);
    for (barcode, rivals) in &races {
        let winners: Vec<&CatalogCommand> = rivals
            .iter()
            .map(|(c, _)| c)
            .filter(|c| products.contains_key(&c.aggregate_id))
            .collect();
        assert_eq!(winners.len(), 1, "race for {barcode}");
        for (command, _) in rivals {
            let got = env.outcome(&command.envelope.id).await.unwrap();
            if products.contains_key(&command.aggregate_id) {
                assert_eq!(pair(&got), ("accepted", None));
            } else {
                assert_eq!(pair(&got), ("rejected", Some(reasons::BARCODE_TAKEN)));
            }
        }
        let owner: String =
            sqlx::query("SELECT sku FROM catalog.product_barcodes WHERE barcode = $1")
                .bind(barcode)
                .fetch_one(&env.pool)
                .await
                .unwrap()
                .get(0);
        assert_eq!(owner, winners[0].aggregate_id);
    }
    // Losers left no barcode behind: exactly the winners' two each.
    let claims: i64 = sqlx::query("SELECT count(*) FROM catalog.product_barcodes")
        .fetch_one(&env.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(claims as u64, RACES * 2);

    let events = env.events().await;
    assert_eq!(events.len() as u64, RACES);
    env.assert_redis_matches_pg().await;
    let cache = env.cache().await;
    for (command, _) in races.iter().flat_map(|(_, rivals)| rivals) {
        if !products.contains_key(&command.aggregate_id) {
            assert!(cache
                .product(&command.aggregate_id)
                .await
                .unwrap()
                .is_empty());
        }
    }
}

/// What the `start`th start has consumed, from its telemetry endpoint.
async fn consumed_total(env: &TestEnv, start: usize) -> Option<f64> {
    env.processor
        .metric(start, "khlang_runtime_records_consumed_total")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_and_redelivery_apply_every_command_once() {
    const PRODUCTS: usize = 40;
    let env = TestEnv::new(3).await;
    let skus: Vec<String> = (0..PRODUCTS).map(|i| format!("ONCE-{i:03}")).collect();
    let creates: Vec<CatalogCommand> = skus
        .iter()
        .enumerate()
        .map(|(i, sku)| create(new_product(sku, &[ean13(777_000_000_000 + i as u64)])))
        .collect();
    let updates: Vec<CatalogCommand> = skus
        .iter()
        .map(|sku| {
            update(
                sku,
                UpdateProduct {
                    price_satang: Some(12_345),
                    ..UpdateProduct::default()
                },
            )
        })
        .collect();
    let discontinues: Vec<CatalogCommand> = skus.iter().map(|s| discontinue(s)).collect();

    // Creates and updates, with a kill -9 while they are being applied.
    let mut processor = env.start();
    env.send_all(&creates, None).await;
    eventually("the first creates applied", WAIT, || async {
        (env.outcome_count().await > 0).then_some(())
    })
    .await;
    kill9(&mut processor);
    let mut processor = env.start();
    env.send_all(&updates, None).await;
    env.wait_for_outcomes((PRODUCTS * 2) as i64, WAIT).await;
    terminate(&mut processor);

    // A clean restart; the producer re-delivers everything it sent before
    // (same command ids) and then the discontinues.
    let mut processor = env.start();
    env.send_all(&creates, None).await;
    env.send_all(&updates, None).await;
    env.send_all(&discontinues, None).await;
    env.wait_for_outcomes((PRODUCTS * 3) as i64, WAIT).await;
    // Everything sent is applied: the stored offsets are at the end of the
    // topic, so the metric below is final, not a count still growing.
    wait_until_applied(&env.infra.brokers, &env.pool, env.commands.as_str(), WAIT).await;
    // The restarted consumer started at the offsets stored with the state:
    // it read only the records sent after the restart.
    let sent_after_restart = (PRODUCTS * 3) as f64;
    let consumed = eventually("metrics of the restarted processor", WAIT, || async {
        consumed_total(&env, 2).await
    })
    .await;
    assert_eq!(consumed, sent_after_restart);
    terminate(&mut processor);

    // One outcome per command, all accepted; re-deliveries got none.
    assert_eq!(env.outcome_count().await, (PRODUCTS * 3) as i64);
    for command in creates.iter().chain(&updates).chain(&discontinues) {
        let got = env.outcome(&command.envelope.id).await.unwrap();
        assert_eq!(pair(&got), ("accepted", None), "{}", command.aggregate_id);
    }
    // Each change applied once: version 3 everywhere.
    let products = CatalogStore::all_products(&env.pool).await.unwrap();
    assert_eq!(products.len(), PRODUCTS);
    for p in &products {
        assert_eq!(
            (p.version, p.price_satang, p.status.as_str()),
            (3, 12_345, STATUS_DISCONTINUED),
            "{}",
            p.sku
        );
    }
    // read_committed consumers see every outcome and event exactly once.
    let mut seen = HashSet::new();
    for record in read_committed(&env.infra.brokers, env.outcomes.as_str()) {
        let outcome: CommandOutcome = env
            .codec
            .decode(record.value.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(outcome.status, OutcomeStatus::Accepted);
        assert!(
            seen.insert(outcome.command_id.clone()),
            "outcome of {} published twice",
            outcome.command_id
        );
    }
    assert_eq!(seen.len(), PRODUCTS * 3);
    let events = env.events().await;
    let mut versions: HashMap<String, Vec<i64>> = HashMap::new();
    let mut ids = HashSet::new();
    for (_, event) in &events {
        assert!(
            ids.insert(event.envelope.id.clone()),
            "event published twice"
        );
        versions
            .entry(event.aggregate_id.clone())
            .or_default()
            .push(event.version);
    }
    assert_eq!(events.len(), PRODUCTS * 3);
    for sku in &skus {
        assert_eq!(versions[sku], [1, 2, 3], "{sku}");
    }
    env.assert_redis_matches_pg().await;
}
