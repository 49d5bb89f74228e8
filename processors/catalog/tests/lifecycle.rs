//! Products and warehouses through the real `khlang-catalog` binary: every
//! command ends in the outcome (and reason code) the rules say, state and
//! versions land in PostgreSQL, events on the events topic, and the Redis
//! copy matches PostgreSQL.

#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use khlang_catalog::{reasons, CatalogStore, STATUS_DISCONTINUED};
use khlang_contract::catalog::{warehouse_key, CatalogCommand, UpdateProduct};
use khlang_testkit::terminate;
use support::*;

const ACCEPTED: (&str, Option<&str>) = ("accepted", None);

const fn rejected(code: &str) -> (&str, Option<&str>) {
    ("rejected", Some(code))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_lives_created_updated_discontinued_with_reason_codes_on_the_way() {
    let env = TestEnv::new(3).await;
    let mut processor = env.start();
    let (first, second) = (ean13(885_099_932_001), ean13(400_638_133_393));
    assert_eq!(first, "8850999320014");

    let mut rice = new_product("RICE-5KG", std::slice::from_ref(&first));
    rice.name_th = "ข้าวหอมมะลิ 5 กก.".into();
    rice.description = Some("ข้าวหอมมะลิ 100%".into());
    rice.price_satang = 18_500;
    let mut bad_barcode = new_product("BAD-EAN", &["8850999320015".to_owned()]);
    bad_barcode.name_en = "Wrong check digit".into();
    let mut negative = new_product("NEGATIVE", &[]);
    negative.price_satang = -1;
    let mut mismatch = create(new_product("REAL-SKU", &[]));
    mismatch.aggregate_id = "OTHER-SKU".into();
    let mut two_payloads = discontinue("RICE-5KG");
    two_payloads.update_product = Some(UpdateProduct {
        min_stock: Some(1),
        ..UpdateProduct::default()
    });
    let no_payload = CatalogCommand::empty(envelope("UpdateProduct"), "RICE-5KG".into());

    let steps: Vec<(CatalogCommand, (&str, Option<&str>))> = vec![
        (create(rice.clone()), ACCEPTED),
        (create(rice.clone()), rejected(reasons::SKU_EXISTS)),
        (
            create(new_product("OIL-1L", std::slice::from_ref(&first))),
            rejected(reasons::BARCODE_TAKEN),
        ),
        (create(bad_barcode), rejected(reasons::INVALID_BARCODE)),
        (create(negative), rejected(reasons::INVALID_PRICE)),
        (
            create(new_product("rice-lower", &[])),
            rejected(reasons::INVALID_SKU),
        ),
        (mismatch, rejected(reasons::INVALID_COMMAND)),
        (two_payloads, rejected(reasons::INVALID_COMMAND)),
        (no_payload, rejected(reasons::INVALID_COMMAND)),
        (
            update(
                "RICE-5KG",
                UpdateProduct {
                    price_satang: Some(19_900),
                    barcodes: Some(vec![second.clone()]),
                    ..UpdateProduct::default()
                },
            ),
            ACCEPTED,
        ),
        // The barcode RICE-5KG gave up is free again.
        (
            create(new_product("OIL-1L", std::slice::from_ref(&first))),
            ACCEPTED,
        ),
        (
            update(
                "OIL-1L",
                UpdateProduct {
                    barcodes: Some(vec![first.clone(), second.clone()]),
                    ..UpdateProduct::default()
                },
            ),
            rejected(reasons::BARCODE_TAKEN),
        ),
        (
            update("RICE-5KG", UpdateProduct::default()),
            rejected(reasons::INVALID_COMMAND),
        ),
        (
            update(
                "RICE-5KG",
                UpdateProduct {
                    min_stock: Some(-3),
                    ..UpdateProduct::default()
                },
            ),
            rejected(reasons::INVALID_MINIMUM),
        ),
        // Same values: accepted, but no event and no new version.
        (
            update(
                "RICE-5KG",
                UpdateProduct {
                    price_satang: Some(19_900),
                    ..UpdateProduct::default()
                },
            ),
            ACCEPTED,
        ),
        (
            update(
                "NO-SUCH-SKU",
                UpdateProduct {
                    unit: Some("กล่อง".into()),
                    ..UpdateProduct::default()
                },
            ),
            rejected(reasons::PRODUCT_NOT_FOUND),
        ),
        (discontinue("RICE-5KG"), ACCEPTED),
        (
            discontinue("RICE-5KG"),
            rejected(reasons::PRODUCT_DISCONTINUED),
        ),
        (
            update(
                "RICE-5KG",
                UpdateProduct {
                    name_en: Some("Too late".into()),
                    ..UpdateProduct::default()
                },
            ),
            rejected(reasons::PRODUCT_DISCONTINUED),
        ),
        (
            discontinue("NO-SUCH-SKU"),
            rejected(reasons::PRODUCT_NOT_FOUND),
        ),
    ];
    // One partition, so that the order across products is the order sent.
    for (command, _) in &steps {
        env.send(command, Some(0)).await;
    }
    // The same command delivered twice gets no second outcome.
    env.send(&steps[0].0, Some(0)).await;
    env.wait_for_outcomes(steps.len() as i64, WAIT).await;

    for (command, want) in &steps {
        let got = env.outcome(&command.envelope.id).await.unwrap();
        assert_eq!(pair(&got), *want, "{command:?}");
    }

    let mut conn = env.pool.acquire().await.unwrap();
    let stored = CatalogStore::product(&mut conn, "RICE-5KG")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 3);
    assert_eq!(stored.status, STATUS_DISCONTINUED);
    assert_eq!(stored.price_satang, 19_900);
    assert_eq!(stored.barcodes, std::slice::from_ref(&second));
    assert_eq!(stored.name_th, "ข้าวหอมมะลิ 5 กก.");
    let oil = CatalogStore::product(&mut conn, "OIL-1L")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((oil.version, oil.barcodes), (1, vec![first.clone()]));
    drop(conn);

    terminate(&mut processor);
    assert_eq!(env.outcome_count().await, steps.len() as i64);

    // Four events, keyed by SKU, versions in order per product, full state.
    let events = env.events().await;
    assert_eq!(events.len(), 4);
    let of = |sku: &str| -> Vec<(String, i64, Vec<String>)> {
        events
            .iter()
            .filter(|(_, e)| e.aggregate_id == sku)
            .map(|(key, e)| {
                assert_eq!(key.as_deref(), Some(e.aggregate_id.as_bytes()));
                assert_eq!(e.envelope.source, "catalog");
                assert!(e.warehouse.is_none());
                (e.envelope.kind.clone(), e.version, e.changed.clone())
            })
            .collect()
    };
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let all_fields = s(&[
        "name_th",
        "name_en",
        "description",
        "category",
        "unit",
        "barcodes",
        "price_satang",
        "cost_satang",
        "min_stock",
        "status",
    ]);
    assert_eq!(
        of("RICE-5KG"),
        [
            ("ProductCreated".into(), 1, all_fields.clone()),
            ("ProductUpdated".into(), 2, s(&["barcodes", "price_satang"])),
            ("ProductDiscontinued".into(), 3, s(&["status"])),
        ]
    );
    assert_eq!(of("OIL-1L"), [("ProductCreated".into(), 1, all_fields)]);
    let (_, last) = events
        .iter()
        .find(|(_, e)| e.envelope.kind == "ProductDiscontinued")
        .unwrap();
    let state = last.product.as_ref().unwrap();
    assert_eq!(state.status, STATUS_DISCONTINUED);
    assert_eq!(state.price_satang, 19_900);
    assert_eq!(state.barcodes, std::slice::from_ref(&second));
    assert_eq!(
        last.envelope.causation_id.as_deref(),
        Some(steps[16].0.envelope.id.as_str())
    );

    env.assert_redis_matches_pg().await;
    let cache = env.cache().await;
    assert_eq!(
        cache.sku_by_barcode(&first).await.unwrap().as_deref(),
        Some("OIL-1L")
    );
    assert_eq!(
        cache.sku_by_barcode(&second).await.unwrap().as_deref(),
        Some("RICE-5KG")
    );
    assert!(cache.product("NEGATIVE").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warehouses_are_created_then_replaced() {
    let env = TestEnv::new(2).await;
    let mut processor = env.start();
    let mut wrong_key = upsert_warehouse("CNX1", "คลังเชียงใหม่", true);
    wrong_key.aggregate_id = warehouse_key("CNX2");
    let mut long_address = upsert_warehouse("HKT1", "คลังภูเก็ต", true);
    long_address.upsert_warehouse.as_mut().unwrap().address = "ถ".repeat(501);
    let steps: Vec<(CatalogCommand, (&str, Option<&str>))> = vec![
        (upsert_warehouse("BKK1", "คลังบางนา", true), ACCEPTED),
        (upsert_warehouse("CNX1", "คลังเชียงใหม่", true), ACCEPTED),
        // Replaced: new name, closed.
        (upsert_warehouse("BKK1", "คลังบางนา 1", false), ACCEPTED),
        // Nothing changes: accepted without an event.
        (upsert_warehouse("BKK1", "คลังบางนา 1", false), ACCEPTED),
        (wrong_key, rejected(reasons::INVALID_COMMAND)),
        (
            upsert_warehouse("bkk2", "ตัวพิมพ์เล็ก", true),
            rejected(reasons::INVALID_WAREHOUSE_CODE),
        ),
        (
            upsert_warehouse("BKK3", " ", true),
            rejected(reasons::INVALID_NAME),
        ),
        (long_address, rejected(reasons::INVALID_ADDRESS)),
    ];
    for (command, _) in &steps {
        env.send(command, Some(1)).await;
    }
    env.wait_for_outcomes(steps.len() as i64, WAIT).await;
    for (command, want) in &steps {
        let got = env.outcome(&command.envelope.id).await.unwrap();
        assert_eq!(pair(&got), *want, "{command:?}");
    }
    terminate(&mut processor);

    let warehouses = CatalogStore::all_warehouses(&env.pool).await.unwrap();
    assert_eq!(warehouses.len(), 2);
    let bkk = &warehouses[0];
    assert_eq!(
        (
            bkk.code.as_str(),
            bkk.name_th.as_str(),
            bkk.active,
            bkk.version
        ),
        ("BKK1", "คลังบางนา 1", false, 2)
    );
    assert_eq!(
        (warehouses[1].code.as_str(), warehouses[1].version),
        ("CNX1", 1)
    );

    let events = env.events().await;
    let summary: Vec<(String, String, i64, Vec<String>)> = events
        .iter()
        .map(|(_, e)| {
            assert!(e.product.is_none());
            (
                e.envelope.kind.clone(),
                e.aggregate_id.clone(),
                e.version,
                e.changed.clone(),
            )
        })
        .filter(|(_, id, _, _)| id == "warehouse:BKK1")
        .collect();
    assert_eq!(summary.len(), 2);
    assert_eq!(summary[0].0, "WarehouseUpserted");
    assert_eq!(summary[0].2, 1);
    assert_eq!(summary[1].2, 2);
    assert_eq!(summary[1].3, ["name_th", "active"]);
    assert_eq!(events.len(), 3);
    let state = events
        .iter()
        .rev()
        .find(|(_, e)| e.aggregate_id == "warehouse:BKK1")
        .and_then(|(_, e)| e.warehouse.clone())
        .unwrap();
    assert!(!state.active);

    // A product is needed for the shared comparison; add one directly
    // through another run so that the copy is also rebuilt at start.
    let mut processor = env.start();
    env.send(&create(new_product("TEA-BOX", &[ean13(12_345)])), None)
        .await;
    env.wait_for_outcomes(steps.len() as i64 + 1, WAIT).await;
    terminate(&mut processor);
    env.assert_redis_matches_pg().await;
    let cache = env.cache().await;
    assert_eq!(
        cache
            .warehouse("BKK1")
            .await
            .unwrap()
            .get("active")
            .map(String::as_str),
        Some("0")
    );
}
