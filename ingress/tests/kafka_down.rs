//! Kafka stops: writes answer 503 with Retry-After, never 202; when Kafka
//! returns, writes succeed again, and every command answered 202 is on the
//! topic. Uses a throwaway broker of its own (testkit `KafkaNode`) so the
//! shared one keeps serving the other tests.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::collections::HashSet;
use std::time::Duration;

use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use khlang_codec::Codec;
use khlang_contract::topics::{ACCESS_LOG, USERS_COMMANDS};
use khlang_contract::users::UserCommand;
use khlang_ingress::auth::KeySet;
use khlang_ingress::config::Secret;
use khlang_ingress::Config;
use khlang_testkit::{read_committed, unique_suffix, Infra, KafkaNode};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
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

async fn create(http: &reqwest::Client, base: &str, token: &str, n: usize) -> reqwest::Response {
    http.post(format!("{base}/v1/users"))
        .bearer_auth(token)
        .json(&json!({
            "email": format!("u{n}@example.co.th"), "username": format!("user{n}"),
            "display_name": "x", "password": "a-long-enough-password", "role": "report_viewer"
        }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn writes_answer_503_while_kafka_is_down_and_nothing_acknowledged_is_lost() {
    let infra = Infra::from_env();
    let mut node = tokio::task::spawn_blocking(KafkaNode::start).await.unwrap();
    let ns = format!("t{}", unique_suffix());
    let commands = USERS_COMMANDS.namespaced(&ns);
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", node.bootstrap())
        .create()
        .unwrap();
    for result in admin
        .create_topics(
            &[
                NewTopic::new(commands.as_str(), 3, TopicReplication::Fixed(1)),
                NewTopic::new(
                    ACCESS_LOG.namespaced(&ns).as_str(),
                    1,
                    TopicReplication::Fixed(1),
                ),
            ],
            &AdminOptions::new(),
        )
        .await
        .unwrap()
    {
        result.unwrap();
    }

    let database = infra.test_database().await;
    let pool = database.pool().clone();
    // the tables the ingress reads, created by their owners as each
    // processor (or `khlangctl migrate`) does
    khlang_runtime::migrate(&pool).await.unwrap();
    khlang_users::migrate(&pool).await.unwrap();
    khlang_catalog::migrate(&pool).await.unwrap();
    khlang_stock::migrate(&pool).await.unwrap();
    let mut config = Config::default();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.telemetry_listen = "127.0.0.1:0".parse().unwrap();
    config.topic_namespace = ns.clone();
    config.kafka.brokers = node.bootstrap();
    config.kafka.produce_timeout_ms = 3_000;
    config.registry.url = infra.registry_url.clone();
    config.database.url = Secret::new(database.url().to_owned());
    config.redis.url = Secret::new(infra.redis_url.clone());
    config.redis.prefix = format!("{ns}:");
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let kid = "kafka-down".to_owned();
    let cancel = CancellationToken::new();
    let running = khlang_ingress::start(
        config,
        Some(KeySet::from_keys(vec![(kid.clone(), key.clone())])),
        cancel.clone(),
    )
    .await
    .unwrap();
    let base = format!("http://{}", running.addr);
    let token = admin_token(&key, &kid);
    let http = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    let mut n = 0;

    // Kafka up
    for _ in 0..5 {
        n += 1;
        let response = create(&http, &base, &token, n).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        acknowledged.push(
            response.json::<Value>().await.unwrap()["command_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    // Kafka down: 503 with Retry-After, never 202
    node = tokio::task::spawn_blocking(move || {
        node.stop();
        node
    })
    .await
    .unwrap();
    for _ in 0..3 {
        n += 1;
        let response = create(&http, &base, &token, n).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry_after >= 1);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "service_unavailable");
    }

    // Kafka back: writes succeed again (after the client reconnects)
    node = tokio::task::spawn_blocking(move || {
        node.start_again();
        node
    })
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut recovered = 0;
    while recovered < 5 {
        n += 1;
        let response = create(&http, &base, &token, n).await;
        match response.status() {
            StatusCode::ACCEPTED => {
                recovered += 1;
                acknowledged.push(
                    response.json::<Value>().await.unwrap()["command_id"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(recovered == 0, "503 after kafka had recovered");
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "kafka did not come back"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }

    // every 202 is on the topic
    let codec = Codec::new(&infra.registry_url).unwrap();
    let brokers = node.bootstrap();
    let topic = commands.as_str().to_owned();
    let records = tokio::task::spawn_blocking(move || read_committed(&brokers, &topic))
        .await
        .unwrap();
    let mut on_topic = HashSet::new();
    for record in records {
        let command: UserCommand = codec
            .decode(record.value.as_deref().unwrap())
            .await
            .unwrap();
        on_topic.insert(command.envelope.id);
    }
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|id| !on_topic.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "answered 202 but not on kafka: {missing:?}"
    );
    // and only commands Kafka took are known to GET /v1/commands/{id}
    let known: i64 = sqlx::query_scalar("SELECT count(*) FROM ingress.commands")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(usize::try_from(known).unwrap(), acknowledged.len());

    cancel.cancel();
    let _ = running.task.await;
    drop(node);
}
