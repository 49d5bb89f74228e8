//! Products and warehouses through the API, against the real Kafka,
//! registry, PostgreSQL and Redis, with the real catalog processor applying
//! the commands: create, read, search (in Thai), page, change (money
//! exactly), discontinue, rejections with reason codes, and who may do what.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;

use khlang_codec::Codec;
use khlang_contract::catalog::CatalogCommand;
use khlang_contract::topics::CATALOG_COMMANDS;
use khlang_contract::values::Ean13;
use khlang_testkit::read_committed;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{error_of, TestEnv};

/// A valid EAN-13: `first12` and its check digit.
fn ean13(first12: &str) -> String {
    Ean13::from_body(first12.parse().unwrap()).into_inner()
}

fn product(sku: &str, name_th: &str, name_en: &str, category: &str, barcode: &str) -> Value {
    json!({
        "sku": sku, "name_th": name_th, "name_en": name_en, "category": category,
        "unit": "ชิ้น", "barcodes": [ean13(barcode)], "price": "10.00", "cost": "5.00",
        "min_stock": 0,
    })
}

/// A write that must be answered 202; returns the command id.
async fn write(env: &TestEnv, token: &str, method: Method, path: &str, body: Value) -> String {
    let response = env
        .call(method.clone(), path, Some(token), Some(body))
        .await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{method} {path}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["status"], "pending");
    body["command_id"].as_str().unwrap().to_owned()
}

/// A write whose command the processor must accept.
async fn accepted(env: &TestEnv, token: &str, method: Method, path: &str, body: Value) -> Value {
    let id = write(env, token, method, path, body).await;
    let outcome = env.outcome(token, &id).await;
    assert_eq!(outcome["status"], "accepted", "{outcome}");
    outcome
}

/// A write the edge refuses with 422; returns the names of the bad fields.
async fn invalid(
    env: &TestEnv,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> HashSet<String> {
    let (status, error) = error_of(env.call(method, path, Some(token), Some(body)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["code"], "validation_failed", "{error}");
    error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn get(env: &TestEnv, token: &str, path: &str) -> Value {
    let response = env.call(Method::GET, path, Some(token), None).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn not_found(
    env: &TestEnv,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> String {
    let (status, error) = error_of(env.call(method, path, Some(token), body).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {error}");
    error["code"].as_str().unwrap().to_owned()
}

/// The SKUs of a product page, in order.
fn skus(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .collect()
}

/// Percent-encodes a query value (Thai text, `%`).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn a_product_lives_its_whole_life_with_exact_money() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    let barcode = ean13("885000000001");

    let outcome = accepted(
        &env,
        &admin,
        Method::POST,
        "/v1/products",
        json!({
            "sku": "WATER-600", "name_th": "  น้ำดื่ม 600 มล. ", "name_en": "Drinking water 600 ml",
            "description": "น้ำดื่มสะอาด บรรจุขวด", "category": "เครื่องดื่ม", "unit": "ขวด",
            "barcodes": [barcode], "price": "125.50", "cost": 80, "min_stock": 24,
        }),
    )
    .await;
    assert_eq!(outcome["command_type"], "CreateProduct");
    assert_eq!(outcome["aggregate_id"], "WATER-600");

    let water = get(&env, &admin, "/v1/products/WATER-600").await;
    assert_eq!(water["name_th"], "น้ำดื่ม 600 มล.", "names are trimmed");
    assert_eq!(water["name_en"], "Drinking water 600 ml");
    assert_eq!(water["description"], "น้ำดื่มสะอาด บรรจุขวด");
    assert_eq!(water["category"], "เครื่องดื่ม");
    assert_eq!(water["unit"], "ขวด");
    assert_eq!(water["barcodes"], json!([barcode]));
    assert_eq!(water["price"], "125.50");
    assert_eq!(water["price_satang"], 12_550);
    assert_eq!(water["cost"], "80.00");
    assert_eq!(water["cost_satang"], 8_000);
    assert_eq!(water["min_stock"], 24);
    assert_eq!(water["status"], "active");
    let version = water["version"].as_i64().unwrap();

    // decimal strings become satang exactly, never through floating point
    for (price, satang, text) in [
        (json!("19.99"), 1_999, "19.99"),
        (json!("0.1"), 10, "0.10"),
        (json!("1234567.89"), 123_456_789, "1234567.89"),
        (json!(7), 700, "7.00"),
    ] {
        accepted(
            &env,
            &admin,
            Method::PATCH,
            "/v1/products/WATER-600",
            json!({ "price": price }),
        )
        .await;
        let water = get(&env, &admin, "/v1/products/WATER-600").await;
        assert_eq!(water["price_satang"], satang, "{price}");
        assert_eq!(water["price"], text, "{price}");
        assert_eq!(water["cost_satang"], 8_000, "other fields stay");
    }
    let water = get(&env, &admin, "/v1/products/WATER-600").await;
    assert!(water["version"].as_i64().unwrap() > version);

    // what is not exact, or negative, is refused at the edge
    for bad in [
        json!("1.234"),
        json!(1.5),
        json!("-1"),
        json!(-1),
        json!("1,000"),
        json!("๑๒"),
        json!(""),
    ] {
        let fields = invalid(
            &env,
            &admin,
            Method::PATCH,
            "/v1/products/WATER-600",
            json!({ "price": bad }),
        )
        .await;
        assert_eq!(fields, HashSet::from(["price".to_owned()]), "{bad}");
    }
    let (_, error) = error_of(
        env.call(
            Method::PATCH,
            "/v1/products/WATER-600",
            Some(&admin),
            Some(json!({ "cost": "1.234" })),
        )
        .await,
    )
    .await;
    assert_eq!(error["fields"][0]["code"], "amount");
    assert_eq!(
        invalid(
            &env,
            &admin,
            Method::PATCH,
            "/v1/products/WATER-600",
            json!({})
        )
        .await,
        HashSet::from(["body".to_owned()])
    );

    // the command on Kafka carries satang
    let codec = Codec::new(&env.infra.registry_url).unwrap();
    let brokers = env.infra.brokers.clone();
    let topic = CATALOG_COMMANDS.namespaced(&env.ns).as_str().to_owned();
    let records = tokio::task::spawn_blocking(move || read_committed(&brokers, &topic))
        .await
        .unwrap();
    let mut prices = Vec::new();
    for record in records {
        let command: CatalogCommand = codec
            .decode(record.value.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(command.aggregate_id, "WATER-600");
        if let Some(update) = command.update_product {
            prices.extend(update.price_satang);
        }
    }
    assert_eq!(prices, vec![1_999, 10, 123_456_789, 700]);

    // an empty description removes it
    accepted(
        &env,
        &admin,
        Method::PATCH,
        "/v1/products/WATER-600",
        json!({ "description": "" }),
    )
    .await;
    assert_eq!(
        get(&env, &admin, "/v1/products/WATER-600").await["description"],
        Value::Null
    );

    // discontinued: still readable, no longer changeable
    accepted(
        &env,
        &admin,
        Method::POST,
        "/v1/products/WATER-600/discontinue",
        json!({ "reason": "เลิกจำหน่าย" }),
    )
    .await;
    assert_eq!(
        get(&env, &admin, "/v1/products/WATER-600").await["status"],
        "discontinued"
    );
    let id = write(
        &env,
        &admin,
        Method::PATCH,
        "/v1/products/WATER-600",
        json!({ "price": "1.00" }),
    )
    .await;
    let outcome = env.outcome(&admin, &id).await;
    assert_eq!(outcome["status"], "rejected");
    assert_eq!(outcome["reason_code"], "product_discontinued");

    // unknown products, and what cannot be a SKU, are not found
    for path in ["/v1/products/NOPE", "/v1/products/water-600"] {
        assert_eq!(
            not_found(&env, &admin, Method::GET, path, None).await,
            "product_not_found"
        );
    }
    assert_eq!(
        not_found(
            &env,
            &admin,
            Method::PATCH,
            "/v1/products/NOPE",
            Some(json!({ "price": "1" }))
        )
        .await,
        "product_not_found"
    );
    assert_eq!(
        not_found(
            &env,
            &admin,
            Method::POST,
            "/v1/products/NOPE/discontinue",
            Some(json!({}))
        )
        .await,
        "product_not_found"
    );
    env.stop().await;
}

#[tokio::test]
async fn products_are_searched_in_thai_filtered_and_paged() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    let products = [
        product("NAM-1", "น้ำปลาแท้", "Fish sauce", "เครื่องปรุง", "885000000011"),
        product("NAM-2", "น้ำตาลทราย", "Sugar", "เครื่องปรุง", "885000000012"),
        product("NAM-3", "น้ำดื่ม", "Water", "เครื่องดื่ม", "885000000013"),
        product("RICE-1", "ข้าวหอมมะลิ", "Jasmine rice", "ข้าว", "885000000014"),
        {
            let mut soap = product("SOAP-1", "สบู่ก้อน", "Soap bar", "ของใช้", "885000000015");
            soap["description"] = json!("กลิ่นมะลิ 100% off");
            soap
        },
    ];
    let mut ids = Vec::new();
    for body in products {
        ids.push(write(&env, &admin, Method::POST, "/v1/products", body).await);
    }
    for id in &ids {
        assert_eq!(env.outcome(&admin, id).await["status"], "accepted");
    }
    accepted(
        &env,
        &admin,
        Method::POST,
        "/v1/products/SOAP-1/discontinue",
        json!({}),
    )
    .await;

    let list = |query: String| {
        let env = &env;
        let admin = admin.clone();
        async move { get(env, &admin, &format!("/v1/products?{query}")).await }
    };
    // q searches the SKU, both names and the description, in any case
    for (q, expected) in [
        ("น้ำ", vec!["NAM-1", "NAM-2", "NAM-3"]),
        ("มะลิ", vec!["RICE-1", "SOAP-1"]),
        ("SOAP", vec!["SOAP-1"]),
        ("sauce", vec!["NAM-1"]),
        ("nam-", vec!["NAM-1", "NAM-2", "NAM-3"]),
        ("100%", vec!["SOAP-1"]),
        ("%", vec!["SOAP-1"]),
        ("_", vec![]),
        ("ไม่มีเลย", vec![]),
    ] {
        let page = list(format!("q={}", encode(q))).await;
        assert_eq!(skus(&page), expected, "q={q}");
    }
    assert_eq!(
        skus(&list(format!("category={}", encode("เครื่องปรุง"))).await),
        ["NAM-1", "NAM-2"]
    );
    assert_eq!(
        skus(&list(format!("q={}&category={}", encode("น้ำ"), encode("เครื่องดื่ม"))).await),
        ["NAM-3"]
    );
    assert_eq!(skus(&list("status=discontinued".into()).await), ["SOAP-1"]);
    assert_eq!(skus(&list("status=active".into()).await).len(), 4);

    // pages of two, by SKU, until the last
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &token {
            Some(t) => format!("page_size=2&page_token={t}"),
            None => "page_size=2".into(),
        };
        let page = list(query).await;
        pages += 1;
        let items = skus(&page);
        assert!(items.len() <= 2);
        seen.extend(items);
        match page["next_page_token"].as_str() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["NAM-1", "NAM-2", "NAM-3", "RICE-1", "SOAP-1"]);
    let page = list(String::new()).await;
    let first = &page["items"][0];
    assert_eq!(first["price"], "10.00");
    assert_eq!(first["price_satang"], 1_000);

    // bad queries are 422s
    for query in [
        "page_token=bm90IGEgc2t1",
        "page_token=%%%",
        "page_size=0",
        "page_size=101",
        "status=gone",
        "q=",
        "colour=red",
    ] {
        let (status, error) = error_of(
            env.call(
                Method::GET,
                &format!("/v1/products?{query}"),
                Some(&admin),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {error}");
    }

    // uniqueness is the processor's: a rejected outcome with a reason code
    let id = write(
        &env,
        &admin,
        Method::POST,
        "/v1/products",
        product(
            "NAM-1",
            "น้ำปลาอีกขวด",
            "Fish sauce again",
            "เครื่องปรุง",
            "885000000099",
        ),
    )
    .await;
    let outcome = env.outcome(&admin, &id).await;
    assert_eq!(outcome["status"], "rejected");
    assert_eq!(outcome["reason_code"], "sku_exists");
    let id = write(
        &env,
        &admin,
        Method::POST,
        "/v1/products",
        product("NAM-9", "น้ำส้ม", "Orange juice", "เครื่องดื่ม", "885000000011"),
    )
    .await;
    let outcome = env.outcome(&admin, &id).await;
    assert_eq!(outcome["status"], "rejected");
    assert_eq!(outcome["reason_code"], "barcode_taken");

    // bad input: 422 with every bad field named, nothing published
    let mut bad = product("nam-10", " ", "ok", "", "885000000020");
    bad["barcodes"] = json!(["8850000000201", "123"]);
    bad["price"] = json!("1.001");
    bad["min_stock"] = json!(-1);
    assert_eq!(
        invalid(&env, &admin, Method::POST, "/v1/products", bad).await,
        HashSet::from(
            [
                "sku",
                "name_th",
                "category",
                "barcodes",
                "price",
                "min_stock"
            ]
            .map(String::from)
        )
    );
    let mut twice = product(
        "NAM-11",
        "น้ำมะพร้าว",
        "Coconut water",
        "เครื่องดื่ม",
        "885000000021",
    );
    twice["barcodes"] = json!([ean13("885000000021"), ean13("885000000021")]);
    let mut two_lines = product(
        "NAM-12",
        "น้ำ\nมะนาว",
        "Lime juice",
        "เครื่องดื่ม",
        "885000000022",
    );
    two_lines["unit"] = json!("u".repeat(51));
    assert_eq!(
        invalid(&env, &admin, Method::POST, "/v1/products", twice).await,
        HashSet::from(["barcodes".to_owned()])
    );
    assert_eq!(
        invalid(&env, &admin, Method::POST, "/v1/products", two_lines).await,
        HashSet::from(["name_th".to_owned(), "unit".to_owned()])
    );
    let (status, _) = error_of(
        env.call(
            Method::POST,
            "/v1/products",
            Some(&admin),
            Some(json!({ "sku": "NAM-13", "price": true })),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(skus(&list("q=NAM-1".into()).await), ["NAM-1"]);
    env.stop().await;
}

#[tokio::test]
async fn warehouses_are_upserted_idempotently_and_listed() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    let bangkok = json!({
        "name_th": "คลังกรุงเทพ 1", "name_en": "Bangkok 1",
        "address": "99 ถนนบางนา-ตราด กรุงเทพฯ 10260", "active": true,
    });

    // PUT takes an Idempotency-Key like every write
    let put = |key: &'static str, body: Value| {
        env.call_with_key(Method::PUT, "/v1/warehouses/BKK1", &admin, key, body)
    };
    let first = put("bkk1-1", bangkok.clone()).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/commands/{}", first["command_id"].as_str().unwrap())
    );
    let again = put("bkk1-1", bangkok.clone()).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<Value>().await.unwrap()["command_id"],
        first["command_id"]
    );
    let outcome = env
        .outcome(&admin, first["command_id"].as_str().unwrap())
        .await;
    assert_eq!(outcome["status"], "accepted", "{outcome}");
    assert_eq!(outcome["command_type"], "UpsertWarehouse");
    assert_eq!(outcome["aggregate_id"], "warehouse:BKK1");

    for (code, name_th, name_en, active) in [
        ("CNX1", "คลังเชียงใหม่", "Chiang Mai", true),
        ("HKT1", "คลังภูเก็ต", "Phuket", false),
    ] {
        accepted(
            &env,
            &admin,
            Method::PUT,
            &format!("/v1/warehouses/{code}"),
            json!({ "name_th": name_th, "name_en": name_en, "address": "", "active": active }),
        )
        .await;
    }
    let bkk = get(&env, &admin, "/v1/warehouses/BKK1").await;
    assert_eq!(bkk["code"], "BKK1");
    assert_eq!(bkk["name_th"], "คลังกรุงเทพ 1");
    assert_eq!(bkk["address"], "99 ถนนบางนา-ตราด กรุงเทพฯ 10260");
    assert_eq!(bkk["active"], true);

    let codes = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        codes(&get(&env, &admin, "/v1/warehouses").await),
        ["BKK1", "CNX1", "HKT1"]
    );
    assert_eq!(
        codes(&get(&env, &admin, "/v1/warehouses?active=true").await),
        ["BKK1", "CNX1"]
    );
    let page = get(&env, &admin, "/v1/warehouses?page_size=2").await;
    assert_eq!(codes(&page), ["BKK1", "CNX1"]);
    let next = page["next_page_token"].as_str().unwrap();
    let page = get(
        &env,
        &admin,
        &format!("/v1/warehouses?page_size=2&page_token={next}"),
    )
    .await;
    assert_eq!(codes(&page), ["HKT1"]);
    assert_eq!(page["next_page_token"], Value::Null);

    // the whole warehouse again, changed: a new version
    let mut renamed = bangkok.clone();
    renamed["name_en"] = json!("Bangkok Bang Na");
    accepted(&env, &admin, Method::PUT, "/v1/warehouses/BKK1", renamed).await;
    let after = get(&env, &admin, "/v1/warehouses/BKK1").await;
    assert_eq!(after["name_en"], "Bangkok Bang Na");
    assert!(after["version"].as_i64().unwrap() > bkk["version"].as_i64().unwrap());

    // bad codes and bodies at the edge; unknown warehouses are not found
    assert_eq!(
        invalid(
            &env,
            &admin,
            Method::PUT,
            "/v1/warehouses/bkk1",
            bangkok.clone()
        )
        .await,
        HashSet::from(["code".to_owned()])
    );
    assert_eq!(
        invalid(
            &env,
            &admin,
            Method::PUT,
            "/v1/warehouses/B",
            bangkok.clone()
        )
        .await,
        HashSet::from(["code".to_owned()])
    );
    let mut nameless = bangkok.clone();
    nameless["name_th"] = json!("   ");
    assert_eq!(
        invalid(&env, &admin, Method::PUT, "/v1/warehouses/BKK2", nameless).await,
        HashSet::from(["name_th".to_owned()])
    );
    for path in ["/v1/warehouses/NOPE", "/v1/warehouses/bkk1"] {
        assert_eq!(
            not_found(&env, &admin, Method::GET, path, None).await,
            "warehouse_not_found"
        );
    }
    env.stop().await;
}

#[tokio::test]
async fn readers_read_writers_write_and_devices_need_catalog_read() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    env.create_user(&admin, "viewer1", "report_viewer").await;
    env.create_user(&admin, "staff1", "warehouse_staff").await;
    env.create_user(&admin, "manager1", "manager").await;
    let (_, blind_secret) = env
        .create_machine(&admin, "scanner1", "device", &["scans:write"])
        .await;
    let (_, reader_secret) = env
        .create_machine(
            &admin,
            "scanner2",
            "device",
            &["catalog:read", "scans:write"],
        )
        .await;
    let viewer = env.login("viewer1", support::PASSWORD).await.0;
    let staff = env.login("staff1", support::PASSWORD).await.0;
    let manager = env.login("manager1", support::PASSWORD).await.0;
    let blind = env.login("scanner1", &blind_secret).await.0;
    let reader = env.login("scanner2", &reader_secret).await.0;

    accepted(
        &env,
        &admin,
        Method::POST,
        "/v1/products",
        product("TEA-1", "ชาเขียว", "Green tea", "เครื่องดื่ม", "885000000031"),
    )
    .await;
    // managers have catalog:write too
    accepted(
        &env,
        &manager,
        Method::PUT,
        "/v1/warehouses/BKK1",
        json!({ "name_th": "คลังกรุงเทพ", "name_en": "Bangkok", "address": "", "active": true }),
    )
    .await;

    let reads = [
        "/v1/products",
        "/v1/products?q=%E0%B8%8A%E0%B8%B2",
        "/v1/products/TEA-1",
        "/v1/warehouses",
        "/v1/warehouses/BKK1",
    ];
    for token in [&viewer, &staff, &reader, &manager] {
        for path in reads {
            get(&env, token, path).await;
        }
    }
    for path in reads {
        let (status, error) = error_of(env.call(Method::GET, path, Some(&blind), None).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error["code"], "forbidden");
        let (status, _) = error_of(env.call(Method::GET, path, None, None).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }

    // writes are refused before the body is looked at: a valid body and an
    // invalid one both get 403, and nothing is published
    let writes = [
        (
            Method::POST,
            "/v1/products",
            product("TEA-2", "ชาดำ", "Black tea", "เครื่องดื่ม", "885000000032"),
        ),
        (
            Method::PATCH,
            "/v1/products/TEA-1",
            json!({ "price": "1.00" }),
        ),
        (Method::POST, "/v1/products/TEA-1/discontinue", json!({})),
        (
            Method::PUT,
            "/v1/warehouses/CNX1",
            json!({ "name_th": "เชียงใหม่", "name_en": "Chiang Mai", "address": "", "active": true }),
        ),
    ];
    for token in [&viewer, &staff, &reader] {
        for (method, path, body) in &writes {
            for body in [body.clone(), json!({ "nonsense": true })] {
                let (status, error) = error_of(
                    env.call(method.clone(), path, Some(token), Some(body))
                        .await,
                )
                .await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
                assert_eq!(error["code"], "forbidden");
            }
        }
    }
    let tea = get(&env, &admin, "/v1/products/TEA-1").await;
    assert_eq!(tea["price_satang"], 1_000);
    assert_eq!(tea["status"], "active");
    assert_eq!(
        not_found(&env, &admin, Method::GET, "/v1/products/TEA-2", None).await,
        "product_not_found"
    );
    env.stop().await;
}
