//! Checks in the order a caller expects: authentication, then
//! authorization, then everything else (the `Idempotency-Key`, the body,
//! the query, the path). A caller with no right to an operation learns
//! nothing about it: not its validation rules, not the keys it used
//! elsewhere. Through a real HTTP client against the real ingress.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use khlang_contract::topics::{STOCK_COMMANDS, STOCK_COMMANDS_DLQ, STOCK_EVENTS};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{error_of, TestEnv, PASSWORD};

/// Every write operation, with a body it could take.
fn writes() -> Vec<(Method, &'static str, &'static str, Value)> {
    let user = "/v1/users/0190b3a4-0000-7000-8000-000000000000";
    vec![
        (
            Method::POST,
            "/v1/users",
            "application/json",
            json!({"email": "a@b.th", "username": "abc", "display_name": "A",
                   "password": PASSWORD, "role": "manager"}),
        ),
        (
            Method::PATCH,
            user,
            "application/json",
            json!({"display_name": "B"}),
        ),
        (
            Method::POST,
            "/v1/users/0190b3a4-0000-7000-8000-000000000000/role",
            "application/json",
            json!({"role": "manager"}),
        ),
        (
            Method::POST,
            "/v1/users/0190b3a4-0000-7000-8000-000000000000/deactivate",
            "application/json",
            json!({}),
        ),
        (
            Method::POST,
            "/v1/service-accounts",
            "application/json",
            json!({"username": "erp", "display_name": "ERP", "kind": "service",
                   "scopes": ["stock:write"]}),
        ),
        (
            Method::POST,
            "/v1/products",
            "application/json",
            json!({"sku": "A-1", "name_th": "ก", "name_en": "a", "category": "c",
                   "unit": "piece", "barcodes": [], "price": "1.00", "cost": "1.00",
                   "min_stock": 0}),
        ),
        (
            Method::PATCH,
            "/v1/products/A-1",
            "application/json",
            json!({"name_en": "b"}),
        ),
        (
            Method::POST,
            "/v1/products/A-1/discontinue",
            "application/json",
            json!({}),
        ),
        (
            Method::PUT,
            "/v1/warehouses/BKK1",
            "application/json",
            json!({"name_th": "ก", "name_en": "a", "address": "-", "active": true}),
        ),
        (
            Method::POST,
            "/v1/stock/receipts",
            "application/json",
            json!({"sku": "A-1", "warehouse": "BKK1", "quantity": 1}),
        ),
        (
            Method::POST,
            "/v1/stock/issues",
            "application/json",
            json!({"sku": "A-1", "warehouse": "BKK1", "quantity": 1}),
        ),
        (
            Method::POST,
            "/v1/stock/adjustments",
            "application/json",
            json!({"sku": "A-1", "warehouse": "BKK1", "delta": 1, "reason": "found"}),
        ),
        (
            Method::POST,
            "/v1/stock/counts",
            "application/json",
            json!({"sku": "A-1", "warehouse": "BKK1", "counted": 1}),
        ),
        (
            Method::POST,
            "/v1/stock/minimums",
            "application/json",
            json!({"sku": "A-1", "warehouse": "BKK1", "minimum": 1}),
        ),
        (
            Method::POST,
            "/v1/stock/transfers",
            "application/json",
            json!({"sku": "A-1", "from_warehouse": "BKK1", "to_warehouse": "CNX1",
                   "quantity": 1}),
        ),
        (
            Method::POST,
            "/v1/stock/transfers/t-1/receive",
            "application/json",
            json!({}),
        ),
        (
            Method::POST,
            "/v1/stock/transfers/t-1/cancel",
            "application/json",
            json!({}),
        ),
        (
            Method::POST,
            "/v1/stock/reservations",
            "application/json",
            json!({"sku": "A-1", "warehouse": "BKK1", "quantity": 1, "ttl_seconds": 60}),
        ),
        (
            Method::POST,
            "/v1/stock/reservations/r-1/release",
            "application/json",
            json!({}),
        ),
        (
            Method::POST,
            "/v1/stock/reservations/r-1/commit",
            "application/json",
            json!({}),
        ),
        (
            Method::POST,
            "/v1/scans",
            "application/x-ndjson",
            json!({"type": "receive", "sku": "A-1", "warehouse": "BKK1", "quantity": 1}),
        ),
    ]
}

/// What is wrong with a request besides the caller: a name, headers and
/// a body.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, String);

/// One request on a connection of its own: whether a connection stays
/// usable after an early answer is another test's business.
async fn send(
    env: &TestEnv,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: String,
) -> (StatusCode, Value) {
    let mut request = env
        .http
        .request(method, env.url(path))
        .header("connection", "close")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    error_of(request.send().await.expect("request sent")).await
}

#[tokio::test]
async fn without_a_token_every_write_is_401_whatever_else_is_wrong() {
    let env = TestEnv::new().await;
    let mut failures = Vec::new();
    for (method, path, media, body) in writes() {
        let cases: [Case; 3] = [
            (
                "an empty Idempotency-Key",
                vec![("content-type", media), ("idempotency-key", "")],
                body.to_string(),
            ),
            (
                "a body that is not JSON",
                vec![("content-type", "application/json")],
                "{not json".to_owned(),
            ),
            (
                "the wrong media type",
                vec![("content-type", "text/plain")],
                "x".to_owned(),
            ),
        ];
        for (case, headers, body) in cases {
            let (status, error) = send(&env, method.clone(), path, None, &headers, body).await;
            if status != StatusCode::UNAUTHORIZED || error["code"] != "unauthenticated" {
                failures.push(format!(
                    "{method} {path} with {case}: {status} {}",
                    error["code"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "not 401:\n{}", failures.join("\n"));
    env.stop().await;
}

#[tokio::test]
async fn a_wrong_role_is_403_before_the_body_the_query_the_path_or_the_key() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    env.create_user(&admin, "viewer1", "report_viewer").await;
    let viewer = env.login("viewer1", PASSWORD).await.0;

    // a report viewer may do none of the writes: whatever is wrong with the
    // request besides, the answer is 403
    let mut failures = Vec::new();
    for (method, path, media, _) in writes() {
        let cases: [Case; 3] = [
            (
                "a body that is not JSON",
                vec![("content-type", media)],
                "{not json".to_owned(),
            ),
            (
                "an invalid body",
                vec![("content-type", media)],
                json!({"sku": "lower case", "quantity": -1}).to_string(),
            ),
            (
                "an empty Idempotency-Key",
                vec![("content-type", media), ("idempotency-key", "")],
                "{}".to_owned(),
            ),
        ];
        for (case, headers, body) in cases {
            let (status, error) =
                send(&env, method.clone(), path, Some(&viewer), &headers, body).await;
            if status != StatusCode::FORBIDDEN || error["code"] != "forbidden" {
                failures.push(format!(
                    "{method} {path} with {case}: {status} {}",
                    error["code"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "not 403:\n{}", failures.join("\n"));

    // reads: an invalid query or an id that names no account is the
    // business of callers with the right only
    for path in [
        "/v1/users?page_size=0",
        "/v1/users?bogus=1",
        "/v1/users/not-a-uuid",
    ] {
        let (status, error) =
            send(&env, Method::GET, path, Some(&viewer), &[], String::new()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "GET {path}: {error}");
    }
    let (status, error) = send(
        &env,
        Method::PATCH,
        "/v1/users/not-a-uuid",
        Some(&viewer),
        &[("content-type", "application/json")],
        json!({"display_name": "x"}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "PATCH another id: {error}");

    // and for callers with the right, the checks behind still hold
    let (status, error) = send(
        &env,
        Method::GET,
        "/v1/users?page_size=0",
        Some(&admin),
        &[],
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, error) = send(
        &env,
        Method::POST,
        "/v1/users",
        Some(&admin),
        &[
            ("content-type", "application/json"),
            ("idempotency-key", ""),
        ],
        "{}".to_owned(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["fields"][0]["field"], "Idempotency-Key");
    env.stop().await;
}

#[tokio::test]
async fn a_key_used_on_a_receipt_tells_a_caller_without_the_right_nothing() {
    let env = TestEnv::new().await;
    env.infra
        .create_topics(&[
            (STOCK_COMMANDS.namespaced(&env.ns).as_str(), 3),
            (STOCK_EVENTS.namespaced(&env.ns).as_str(), 3),
            (STOCK_COMMANDS_DLQ.namespaced(&env.ns).as_str(), 1),
        ])
        .await;
    let admin = env.admin_token().await;
    env.create_user(&admin, "staff1", "warehouse_staff").await;
    let staff = env.login("staff1", PASSWORD).await.0;

    // the key is used, and its answer kept, on a receipt staff may post
    let receipt = json!({"sku": "A-1", "warehouse": "BKK1", "quantity": 3});
    let first = env
        .call_with_key(
            Method::POST,
            "/v1/stock/receipts",
            &staff,
            "order-42",
            receipt.clone(),
        )
        .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let again = env
        .call_with_key(
            Method::POST,
            "/v1/stock/receipts",
            &staff,
            "order-42",
            receipt,
        )
        .await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");

    // the same key on an operation staff may not do: 403, not
    // idempotency_key_reused
    let (status, error) = error_of(
        env.call_with_key(
            Method::POST,
            "/v1/users",
            &staff,
            "order-42",
            json!({"email": "x@y.th", "username": "xyz", "display_name": "X",
                   "password": PASSWORD, "role": "admin"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["code"], "forbidden");

    // and the refusal did not take the key: it still replays the receipt
    let third = env
        .call_with_key(
            Method::POST,
            "/v1/stock/receipts",
            &staff,
            "order-42",
            json!({"sku": "A-1", "warehouse": "BKK1", "quantity": 3}),
        )
        .await;
    assert_eq!(third.status(), StatusCode::ACCEPTED);
    assert_eq!(third.headers()["idempotent-replayed"], "true");
    env.stop().await;
}
