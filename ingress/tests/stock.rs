//! The stock guarantees, through the ingress, against the real Kafka,
//! registry, PostgreSQL and Redis, with the real catalog and stock
//! processor binaries (killed with SIGKILL where the test says so).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::time::Duration;

use khlang_contract::topics::{STOCK_COMMANDS, STOCK_COMMANDS_DLQ, STOCK_EVENTS};
use khlang_contract::values::Ean13;
use khlang_stock::read::{self as stock, LedgerEntry, LedgerFilter, Level};
use khlang_testkit::{eventually, kill9, Processor};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{command_id, TestEnv};

/// The ledger rows matching `filter` (all of them by default), oldest
/// first, through the stock read API.
async fn ledger(pool: &PgPool, filter: LedgerFilter) -> Vec<LedgerEntry> {
    let filter = LedgerFilter {
        limit: i64::MAX,
        ..filter
    };
    stock::ledger(pool, &filter).await.unwrap()
}

/// Every item's levels, through the stock read API.
async fn items(pool: &PgPool) -> Vec<Level> {
    stock::all_levels(pool).await.unwrap()
}

/// The units reserved of `sku` (in its one warehouse).
async fn reserved(pool: &PgPool, sku: &str) -> i64 {
    let levels = stock::levels_of_sku(pool, sku).await.unwrap();
    assert_eq!(levels.len(), 1, "{sku} is in one warehouse: {levels:?}");
    levels[0].reserved
}

/// An environment with stock topics, a product catalog and a staff token,
/// and the stock processor binary against it (not started), expiring
/// reservations every 200 ms.
async fn stock_env(skus: &[&str], warehouses: &[&str]) -> (TestEnv, Processor, String) {
    let env = TestEnv::new().await;
    env.infra
        .create_topics(&[
            (STOCK_COMMANDS.namespaced(&env.ns).as_str(), 12),
            (STOCK_EVENTS.namespaced(&env.ns).as_str(), 12),
            (STOCK_COMMANDS_DLQ.namespaced(&env.ns).as_str(), 1),
        ])
        .await;
    let admin = env.admin_token().await;
    for code in warehouses {
        let response = env
            .call(
                Method::PUT,
                &format!("/v1/warehouses/{code}"),
                Some(&admin),
                Some(json!({"name_th": format!("คลัง {code}"), "name_en": code, "address": "-", "active": true})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let id = command_id(response).await;
        assert_eq!(env.outcome(&admin, &id).await["status"], "accepted");
    }
    for (i, sku) in skus.iter().enumerate() {
        let response = env
            .call(
                Method::POST,
                "/v1/products",
                Some(&admin),
                Some(json!({
                    "sku": sku, "name_th": format!("สินค้า {sku}"), "name_en": sku,
                    "category": "test", "unit": "piece", "barcodes": [ean13(i)],
                    "price": "10.00", "cost": "7.50", "min_stock": 5
                })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "{sku}");
        let id = command_id(response).await;
        assert_eq!(
            env.outcome(&admin, &id).await["status"],
            "accepted",
            "{sku}"
        );
    }
    let stock = env
        .processor("stock")
        .env("KHLANG__EXPIRY_INTERVAL_MS", "200");
    (env, stock, admin)
}

/// A valid EAN-13 per index: 885 (Thailand), the index, its check digit.
fn ean13(i: usize) -> String {
    let index = u64::try_from(i).expect("small index");
    Ean13::from_body(885_000_000_000 + index + 1).into_inner()
}

async fn post(env: &TestEnv, token: &str, path: &str, body: Value) -> reqwest::Response {
    env.call(Method::POST, path, Some(token), Some(body)).await
}

/// Waits until every command has an outcome; returns id → outcome body.
async fn outcomes(env: &TestEnv, token: &str, ids: &[String]) -> HashMap<String, Value> {
    let mut done = HashMap::new();
    for id in ids {
        done.insert(id.clone(), env.outcome(token, id).await);
    }
    done
}

/// Every item's ledger is one unbroken chain: each row starts where the
/// previous one ended, and the last one ends at the item's levels. A lost
/// or doubled movement breaks it.
async fn assert_ledger_chains(env: &TestEnv) {
    let rows = ledger(&env.pool, LedgerFilter::default()).await;
    let mut last: HashMap<(String, String), (i64, i64, i64)> = HashMap::new();
    let mut ids = std::collections::HashSet::new();
    for row in &rows {
        let key: (String, String) = (row.sku.clone(), row.warehouse.clone());
        let before: (i64, i64, i64) = (
            row.before.on_hand,
            row.before.reserved,
            row.before.in_transit,
        );
        let after: (i64, i64, i64) = (row.after.on_hand, row.after.reserved, row.after.in_transit);
        assert_eq!(
            last.get(&key).copied().unwrap_or((0, 0, 0)),
            before,
            "ledger of {key:?} is broken before {}",
            row.command_id
        );
        assert!(
            after.1 >= 0 && after.0 >= after.1 && after.2 >= 0,
            "{after:?}: oversold"
        );
        assert!(
            ids.insert(row.command_id.clone()),
            "a command twice in the ledger"
        );
        last.insert(key, after);
    }
    for item in items(&env.pool).await {
        let key: (String, String) = (item.sku.clone(), item.warehouse.clone());
        let levels = (item.on_hand, item.reserved, item.in_transit);
        assert_eq!(
            last.get(&key).copied().unwrap_or((0, 0, 0)),
            levels,
            "{key:?}"
        );
    }
}

#[tokio::test]
async fn concurrent_reservations_never_oversell_through_rebalances_and_a_kill() {
    let (env, stock, admin) = stock_env(&["SCARCE-1"], &["BKK1"]).await;
    let mut first = stock.start();
    let response = post(
        &env,
        &admin,
        "/v1/stock/receipts",
        json!({"sku": "SCARCE-1", "warehouse": "BKK1", "quantity": 100, "reference": "PO-1"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = command_id(response).await;
    assert_eq!(env.outcome(&admin, &id).await["status"], "accepted");

    // 24 clients ask for 1-3 units each, 300 times in all: about twice
    // what there is
    let requests: Vec<i64> = (0..300).map(|i| 1 + (i * 7 % 3)).collect();
    let asked: i64 = requests.iter().sum();
    assert!(asked > 100);
    let chunks: Vec<Vec<i64>> = requests.chunks(300 / 24 + 1).map(<[i64]>::to_vec).collect();
    let clients = chunks.into_iter().map(|chunk| {
        let env = &env;
        let admin = admin.clone();
        async move {
            let mut ids = Vec::new();
            for quantity in chunk {
                let response = post(env, &admin, "/v1/stock/reservations", json!({"sku": "SCARCE-1", "warehouse": "BKK1", "quantity": quantity, "ttl_seconds": 3600})).await;
                assert_eq!(response.status(), StatusCode::ACCEPTED);
                ids.push((command_id(response).await, quantity));
            }
            ids
        }
    });
    let churn = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = stock.start();
        tokio::time::sleep(Duration::from_secs(4)).await;
        kill9(&mut first);
        second
    };
    let (sent, mut second) = tokio::join!(futures::future::join_all(clients), churn);
    let sent: Vec<(String, i64)> = sent.into_iter().flatten().collect();
    assert_eq!(sent.len(), 300);
    let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
    let results = outcomes(&env, &admin, &ids).await;

    let mut granted = 0;
    for (id, quantity) in &sent {
        let outcome = &results[id];
        match outcome["status"].as_str() {
            Some("accepted") => granted += quantity,
            Some("rejected") => {
                assert_eq!(outcome["reason_code"], "insufficient_stock", "{outcome}")
            }
            other => panic!("{id}: {other:?}"),
        }
    }
    assert!(granted <= 100, "{granted} units promised out of 100");
    assert!(
        granted >= 98,
        "most of the stock should be promised, got {granted}"
    );
    // exactly one outcome per command
    let recorded = khlang_runtime::read::command_outcomes(&env.pool, &ids)
        .await
        .unwrap();
    assert_eq!(recorded.len(), 300);
    assert_eq!(reserved(&env.pool, "SCARCE-1").await, granted);
    assert_ledger_chains(&env).await;

    // the Redis copy has the same levels
    let levels: Value = env
        .call(Method::GET, "/v1/stock/items/SCARCE-1", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(levels[0]["reserved"], granted);
    let mut redis = redis::Client::open(env.infra.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let key = format!("{}stock:SCARCE-1@BKK1", env.redis_prefix);
    let cached: HashMap<String, i64> = eventually("redis copy", Duration::from_secs(10), || {
        let key = key.clone();
        let mut redis = redis.clone();
        async move {
            let map: HashMap<String, i64> =
                redis::AsyncCommands::hgetall(&mut redis, &key).await.ok()?;
            (map.get("reserved") == Some(&granted)).then_some(map)
        }
    })
    .await;
    assert_eq!(cached["available"], 100 - granted);
    let _ = &mut redis;
    kill9(&mut second);
    env.stop().await;
}

#[tokio::test]
async fn mixed_load_with_kills_conserves_stock_and_transfers() {
    let skus = ["MIX-A", "MIX-B", "MIX-C"];
    let (env, stock, admin) = stock_env(&skus, &["BKK1", "CNX1"]).await;
    let mut processor = stock.start();
    for sku in skus {
        for wh in ["BKK1", "CNX1"] {
            let r = post(
                &env,
                &admin,
                "/v1/stock/receipts",
                json!({"sku": sku, "warehouse": wh, "quantity": 500}),
            )
            .await;
            assert_eq!(r.status(), StatusCode::ACCEPTED);
        }
    }
    let mut ids = Vec::new();
    let mut transfers = Vec::new();
    let mut reservations = Vec::new();
    for round in 0..120usize {
        let sku = skus[round % 3];
        let (wh, other) = if round % 2 == 0 {
            ("BKK1", "CNX1")
        } else {
            ("CNX1", "BKK1")
        };
        let response = match round % 6 {
            0 => post(&env, &admin, "/v1/stock/issues", json!({"sku": sku, "warehouse": wh, "quantity": 3})).await,
            1 => post(&env, &admin, "/v1/stock/adjustments", json!({"sku": sku, "warehouse": wh, "delta": if round % 4 == 1 { -2 } else { 4 }, "reason": "damaged"})).await,
            2 => {
                let tid = format!("T{round}");
                transfers.push(tid.clone());
                post(&env, &admin, "/v1/stock/transfers", json!({"transfer_id": tid, "sku": sku, "from_warehouse": wh, "to_warehouse": other, "quantity": 7})).await
            }
            3 => {
                let rid = format!("R{round}");
                reservations.push(rid.clone());
                post(&env, &admin, "/v1/stock/reservations", json!({"reservation_id": rid, "sku": sku, "warehouse": wh, "quantity": 5, "ttl_seconds": 3600})).await
            }
            4 => post(&env, &admin, "/v1/stock/receipts", json!({"sku": sku, "warehouse": wh, "quantity": 6})).await,
            _ => post(&env, &admin, "/v1/stock/counts", json!({"sku": sku, "warehouse": wh, "counted": 400 + round as i64})).await,
        };
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        ids.push(command_id(response).await);
        // SIGKILL at moments spread over the run, and start again
        if round % 30 == 17 {
            kill9(&mut processor);
            processor = stock.start();
        }
    }
    let first_results = outcomes(&env, &admin, &ids).await;
    assert!(
        first_results.values().all(|o| o["status"] == "accepted"),
        "the plan is feasible"
    );

    // A TransferOut's outcome is recorded before its TransferExpect step
    // leaves the outbox; after a kill the restarted relay publishes it a
    // little later, and a receipt that overtook it would (rightly) find no
    // transfer expected. Wait until every destination expects its transfer.
    eventually("every transfer expected", Duration::from_secs(90), || {
        let pool = env.pool.clone();
        async move {
            let waiting: i64 =
                sqlx::query_scalar("SELECT count(*) FROM stock.transfers WHERE NOT expected")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            (waiting == 0).then_some(())
        }
    })
    .await;

    // second phase: receive half the transfers, cancel the others; commit
    // half the reservations, release the others; one more kill in between
    let mut ids2 = Vec::new();
    for (i, tid) in transfers.iter().enumerate() {
        let action = if i % 2 == 0 { "receive" } else { "cancel" };
        let r = post(
            &env,
            &admin,
            &format!("/v1/stock/transfers/{tid}/{action}"),
            json!({}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{tid} {action}");
        ids2.push(command_id(r).await);
        if i == transfers.len() / 2 {
            kill9(&mut processor);
            processor = stock.start();
        }
    }
    for (i, rid) in reservations.iter().enumerate() {
        let action = if i % 2 == 0 { "commit" } else { "release" };
        let r = post(
            &env,
            &admin,
            &format!("/v1/stock/reservations/{rid}/{action}"),
            json!({}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        ids2.push(command_id(r).await);
    }
    let second = outcomes(&env, &admin, &ids2).await;
    assert!(
        second.values().all(|o| o["status"] == "accepted"),
        "{second:?}"
    );

    // quiescence: every saga step done
    eventually("transfers settled", Duration::from_secs(90), || {
        let pool = env.pool.clone();
        async move {
            let open = stock::transfers(&pool)
                .await
                .ok()?
                .into_iter()
                .filter(|t| !matches!(t.status.as_str(), "received" | "returned") || !t.expected)
                .count();
            (open == 0).then_some(())
        }
    })
    .await;
    assert_ledger_chains(&env).await;

    // conservation per item, by movement
    let mut by_item: HashMap<(String, String), i64> = HashMap::new();
    let mut by_sku: HashMap<String, i64> = HashMap::new();
    let mut external: HashMap<String, i64> = HashMap::new();
    for row in ledger(&env.pool, LedgerFilter::default()).await {
        let moved = row.after.on_hand - row.before.on_hand;
        *by_item.entry((row.sku.clone(), row.warehouse)).or_default() += moved;
        *by_sku.entry(row.sku.clone()).or_default() += moved;
        if !row.movement.starts_with("Transfer") {
            *external.entry(row.sku).or_default() += moved;
        }
    }
    for item in items(&env.pool).await {
        let key: (String, String) = (item.sku, item.warehouse);
        assert_eq!(by_item[&key], item.on_hand, "{key:?}");
        assert_eq!(item.in_transit, 0, "{key:?}");
    }
    // transfers only move stock between warehouses: what came in from
    // outside (received − issued ± adjusted − committed) is what is there
    for sku in skus {
        assert_eq!(
            by_sku[sku], external[sku],
            "{sku}: transfers created or lost stock"
        );
    }
    kill9(&mut processor);
    env.stop().await;
}

#[tokio::test]
async fn reservations_expire_exactly_once_across_a_restart() {
    let (env, stock, admin) = stock_env(&["EXP-1"], &["BKK1"]).await;
    let mut processor = stock.start();
    let r = post(
        &env,
        &admin,
        "/v1/stock/receipts",
        json!({"sku": "EXP-1", "warehouse": "BKK1", "quantity": 50}),
    )
    .await;
    let id = command_id(r).await;
    assert_eq!(env.outcome(&admin, &id).await["status"], "accepted");
    let mut ids = Vec::new();
    for i in 0..10 {
        let r = post(&env, &admin, "/v1/stock/reservations", json!({"reservation_id": format!("E{i}"), "sku": "EXP-1", "warehouse": "BKK1", "quantity": 2, "ttl_seconds": 2})).await;
        ids.push(command_id(r).await);
    }
    let results = outcomes(&env, &admin, &ids).await;
    assert!(results.values().all(|o| o["status"] == "accepted"));
    // die before anything expires; come back after everything has
    kill9(&mut processor);
    tokio::time::sleep(Duration::from_secs(3)).await;
    // two instances at once: both timers send expiries
    let mut a = stock.start();
    let mut b = stock.start();
    eventually("all expired", Duration::from_secs(90), || {
        let pool = env.pool.clone();
        async move {
            let active = stock::reservations(&pool)
                .await
                .ok()?
                .into_iter()
                .filter(|r| r.status == "active")
                .count();
            (active == 0).then_some(())
        }
    })
    .await;
    // a commit after expiry is refused
    let r = post(&env, &admin, "/v1/stock/reservations/E0/commit", json!({})).await;
    let id = command_id(r).await;
    let outcome = env.outcome(&admin, &id).await;
    assert_eq!(outcome["reason_code"], "reservation_expired");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let expired = ledger(
        &env.pool,
        LedgerFilter {
            movement: Some("ReservationExpired".into()),
            ..LedgerFilter::default()
        },
    )
    .await;
    assert_eq!(expired.len(), 10, "each reservation expires exactly once");
    assert_eq!(reserved(&env.pool, "EXP-1").await, 0);
    assert_ledger_chains(&env).await;
    kill9(&mut a);
    kill9(&mut b);
    env.stop().await;
}

#[tokio::test]
async fn scanner_batches_answer_per_line_and_apply_each_scan_once() {
    let (env, stock, admin) = stock_env(&["SCAN-1"], &["BKK1", "CNX1"]).await;
    let mut processor = stock.start();
    let (_, secret) = env
        .create_machine(
            &admin,
            "scanner-7",
            "device",
            &["scans:write", "stock:read"],
        )
        .await;
    let (device, _) = env.login("scanner-7", &secret).await;
    let batch = [
        r#"{"scan_id":"s1","type":"receive","sku":"SCAN-1","warehouse":"BKK1","quantity":10}"#,
        r#"{"scan_id":"s2","type":"pick","sku":"SCAN-1","warehouse":"BKK1","quantity":3}"#,
        r#"this is not json"#,
        r#"{"scan_id":"s3","type":"receive","sku":"bad sku","warehouse":"BKK1","quantity":1}"#,
        "",
        r#"{"scan_id":"s4","type":"move","sku":"SCAN-1","warehouse":"BKK1","quantity":2}"#,
        r#"{"scan_id":"s5","type":"count","sku":"SCAN-1","warehouse":"CNX1","counted":0}"#,
        r#"{"scan_id":"s6","type":"move","sku":"SCAN-1","warehouse":"BKK1","to_warehouse":"CNX1","quantity":2}"#,
    ]
    .join("\n");
    let send = || {
        env.http
            .post(env.url("/v1/scans"))
            .bearer_auth(&device)
            .header("content-type", "application/x-ndjson")
            .body(batch.clone())
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(first["accepted"], 4, "{first}");
    assert_eq!(first["rejected"], 3, "{first}");
    let lines = first["lines"].as_array().unwrap();
    let by_line: HashMap<u64, &Value> = lines
        .iter()
        .map(|l| (l["line"].as_u64().unwrap(), l))
        .collect();
    assert_eq!(by_line[&3]["error"]["code"], "malformed");
    assert_eq!(by_line[&4]["error"]["field"], "sku");
    assert_eq!(by_line[&6]["error"]["field"], "to_warehouse");
    assert!(!by_line.contains_key(&5), "empty lines are skipped");
    let ids: Vec<String> = lines
        .iter()
        .filter(|l| l["status"] == "accepted")
        .map(|l| l["command_id"].as_str().unwrap().to_owned())
        .collect();
    let results = outcomes(&env, &device, &ids).await;
    assert!(
        results.values().all(|o| o["status"] == "accepted"),
        "{results:?}"
    );

    // the same batch again (say the answer was lost): same command ids,
    // nothing applied twice
    let again: Value = send().await.unwrap().json().await.unwrap();
    let ids_again: Vec<String> = again["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] == "accepted")
        .map(|l| l["command_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ids_again);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let level: Value = env
        .call(Method::GET, "/v1/stock/items/SCAN-1", Some(&device), None)
        .await
        .json()
        .await
        .unwrap();
    let bkk = level
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["warehouse"] == "BKK1")
        .unwrap();
    assert_eq!(bkk["on_hand"], 10 - 3 - 2);
    let rows = ledger(&env.pool, LedgerFilter::default()).await.len();
    assert_eq!(rows, 4 + 1, "four scans and the transfer's arrival notice");

    // a device may not move stock through the movement endpoints
    let r = post(
        &env,
        &device,
        "/v1/stock/receipts",
        json!({"sku": "SCAN-1", "warehouse": "BKK1", "quantity": 1}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // the ledger filters
    let page: Value = env
        .call(
            Method::GET,
            "/v1/stock/ledger?sku=SCAN-1&movement=Received&page_size=10",
            Some(&admin),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    kill9(&mut processor);
    env.stop().await;
}

#[tokio::test]
async fn low_stock_fires_once_per_crossing_and_bad_movements_are_rejected_with_reasons() {
    let (env, stock, admin) = stock_env(&["LOW-1"], &["BKK1", "OFF1"]).await;
    let mut processor = stock.start();
    // OFF1 goes inactive
    let r = env
        .call(
            Method::PUT,
            "/v1/warehouses/OFF1",
            Some(&admin),
            Some(json!({"name_th": "ปิด", "name_en": "Closed", "address": "-", "active": false})),
        )
        .await;
    let id = command_id(r).await;
    assert_eq!(env.outcome(&admin, &id).await["status"], "accepted");

    // minimum 5 (from the product): 10 → 7 → 4 (crossing) → 3 → 13 → 4 (crossing)
    let steps: [(&str, i64); 6] = [
        ("/v1/stock/receipts", 10),
        ("/v1/stock/issues", 3),
        ("/v1/stock/issues", 3),
        ("/v1/stock/issues", 1),
        ("/v1/stock/receipts", 10),
        ("/v1/stock/issues", 9),
    ];
    let mut last = String::new();
    for (path, quantity) in steps {
        let r = post(
            &env,
            &admin,
            path,
            json!({"sku": "LOW-1", "warehouse": "BKK1", "quantity": quantity}),
        )
        .await;
        let id = command_id(r).await;
        last.clone_from(&id);
        assert_eq!(
            env.outcome(&admin, &id).await["status"],
            "accepted",
            "{path}"
        );
    }
    // The relay publishes events after the commit that made the outcome
    // visible: read until the last command's LowStock is there (one item,
    // one partition, so everything before it is there too).
    let codec = khlang_codec::Codec::new(&env.infra.registry_url).unwrap();
    let brokers = env.infra.brokers.clone();
    let topic = STOCK_EVENTS.namespaced(&env.ns).as_str().to_owned();
    let events = eventually("the last LowStock event", Duration::from_secs(60), || {
        let (codec, brokers, topic, last) =
            (codec.clone(), brokers.clone(), topic.clone(), last.clone());
        async move {
            let records = tokio::task::spawn_blocking(move || {
                khlang_testkit::read_committed(&brokers, &topic)
            })
            .await
            .ok()?;
            let mut events = Vec::new();
            for record in records {
                let event: khlang_contract::stock::StockEvent =
                    codec.decode(record.value.as_deref()?).await.ok()?;
                events.push(event);
            }
            events
                .iter()
                .any(|e| {
                    e.envelope.kind == "LowStock"
                        && e.envelope.causation_id.as_deref() == Some(last.as_str())
                })
                .then_some(events)
        }
    })
    .await;
    let low: Vec<_> = events
        .iter()
        .filter(|e| e.envelope.kind == "LowStock")
        .map(|e| (e.after.available, e.minimum))
        .collect();
    assert_eq!(low, vec![(4, Some(5)), (4, Some(5))], "once per crossing");

    // rejections with stable reasons
    let cases = [
        (
            "/v1/stock/receipts",
            json!({"sku": "NOPE-1", "warehouse": "BKK1", "quantity": 1}),
            "unknown_sku",
        ),
        (
            "/v1/stock/receipts",
            json!({"sku": "LOW-1", "warehouse": "OFF1", "quantity": 1}),
            "warehouse_inactive",
        ),
        (
            "/v1/stock/receipts",
            json!({"sku": "LOW-1", "warehouse": "NOWH", "quantity": 1}),
            "unknown_warehouse",
        ),
        (
            "/v1/stock/issues",
            json!({"sku": "LOW-1", "warehouse": "BKK1", "quantity": 1000}),
            "insufficient_stock",
        ),
        (
            "/v1/stock/transfers",
            json!({"sku": "LOW-1", "from_warehouse": "BKK1", "to_warehouse": "BKK1", "quantity": 1}),
            "same_warehouse",
        ),
    ];
    for (path, body, reason) in cases {
        let r = post(&env, &admin, path, body).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let id = command_id(r).await;
        let outcome = env.outcome(&admin, &id).await;
        assert_eq!(outcome["status"], "rejected");
        assert_eq!(outcome["reason_code"], reason);
    }
    // refused movements leave no ledger rows and no empty items
    assert_eq!(items(&env.pool).await.len(), 1);
    assert_ledger_chains(&env).await;
    kill9(&mut processor);
    env.stop().await;
}
