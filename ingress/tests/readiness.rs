//! The ingress reads the processors' tables but never creates them: on a
//! database where no processor has started yet it runs, answers
//! `/health/ready` with 503 and a reason naming what is missing, answers
//! reads with `503 service_unavailable`, and becomes ready by itself once
//! the owners' migrations have been applied.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::time::Duration;

use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use khlang_ingress::auth::KeySet;
use khlang_ingress::config::Secret;
use khlang_ingress::Config;
use khlang_testkit::{eventually, unique_suffix, Infra};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

fn admin_token(key: &SigningKey, kid: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some("at+jwt".into());
    let claims = json!({
        "iss": "khlang", "aud": "khlang-api",
        "sub": uuid::Uuid::now_v7().to_string(), "sid": uuid::Uuid::now_v7().to_string(),
        "role": "admin", "act": "user", "scope": "users:read users:write",
        "exp": now + 900, "nbf": now, "iat": now, "jti": uuid::Uuid::now_v7().to_string(),
    });
    let der = key.to_pkcs8_der().unwrap();
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
}

#[tokio::test]
async fn not_ready_until_the_processors_have_created_their_tables() {
    let infra = Infra::from_env();
    let ns = format!("t{}", unique_suffix());
    let database = infra.test_database().await;
    let pool = database.pool().clone();
    let mut config = Config::default();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.telemetry_listen = "127.0.0.1:0".parse().unwrap();
    config.topic_namespace = ns.clone();
    config.kafka.brokers = infra.brokers.clone();
    config.registry.url = infra.registry_url.clone();
    config.database.url = Secret::new(database.url().to_owned());
    config.redis.url = Secret::new(infra.redis_url.clone());
    config.redis.prefix = format!("{ns}:");
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let kid = "readiness".to_owned();
    let cancel = CancellationToken::new();
    let running = khlang_ingress::start(
        config,
        Some(KeySet::from_keys(vec![(kid.clone(), key.clone())])),
        cancel.clone(),
    )
    .await
    .expect("the ingress starts without the processors' tables");
    let http = reqwest::Client::new();
    let ready = format!("http://{}/health/ready", running.telemetry_addr);
    let users = format!("http://{}/v1/users", running.addr);
    let token = admin_token(&key, &kid);

    let response = http.get(&ready).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let reason = response.text().await.unwrap();
    for needle in [
        "khlang_runtime",
        "users",
        "catalog",
        "stock",
        "khlangctl migrate",
    ] {
        assert!(
            reason.contains(needle),
            "{needle:?} missing from {reason:?}"
        );
    }

    let response = http.get(&users).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "service_unavailable", "{body}");
    assert!(
        !khlang_ingress::readiness::missing(&pool)
            .await
            .unwrap()
            .unwrap()
            .is_empty(),
        "the ingress created no processor table"
    );

    // the processors start: each applies its own migrations
    khlang_runtime::migrate(&pool).await.unwrap();
    khlang_users::migrate(&pool).await.unwrap();
    khlang_catalog::migrate(&pool).await.unwrap();
    let response = http.get(&ready).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let reason = response.text().await.unwrap();
    assert!(reason.contains("stock"), "{reason}");
    khlang_stock::migrate(&pool).await.unwrap();

    eventually("the ingress is ready", Duration::from_secs(30), || {
        let (http, ready) = (http.clone(), ready.clone());
        async move {
            let response = http.get(&ready).send().await.ok()?;
            (response.status() == StatusCode::OK).then_some(())
        }
    })
    .await;
    let response = http.get(&users).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["items"], json!([]), "{body}");

    cancel.cancel();
    let _ = running.task.await;
}
