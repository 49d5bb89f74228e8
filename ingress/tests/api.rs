//! Every endpoint of the ingress against the real Kafka, registry,
//! PostgreSQL and Redis, with the real users processor applying commands.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::time::Duration;

use khlang_codec::Codec;
use khlang_contract::users::UserCommand;
use khlang_contract::AccessRecord;
use khlang_testkit::{eventually, read_committed};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{error_of, TestEnv, ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};

/// Decoded commands on the env's users commands topic.
async fn commands_on_kafka(env: &TestEnv) -> Vec<UserCommand> {
    let codec = Codec::new(&env.infra.registry_url).unwrap();
    let brokers = env.infra.brokers.clone();
    let topic = env.commands.as_str().to_owned();
    let records = tokio::task::spawn_blocking(move || read_committed(&brokers, &topic))
        .await
        .unwrap();
    let mut commands = Vec::new();
    for record in records {
        commands.push(
            codec
                .decode::<UserCommand>(record.value.as_deref().unwrap())
                .await
                .unwrap(),
        );
    }
    commands
}

#[tokio::test]
async fn a_user_lives_its_whole_life_through_the_api() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;

    // create: 202, Location, correlation id carried into the command
    let response = env
        .http
        .post(env.url("/v1/users"))
        .bearer_auth(&admin)
        .header("x-correlation-id", "order-4711")
        .json(&json!({
            "email": "somchai@example.co.th", "username": "somchai",
            "display_name": "สมชาย ใจดี", "password": PASSWORD, "role": "warehouse_staff"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.headers()["x-correlation-id"], "order-4711");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let command_id = body["command_id"].as_str().unwrap().to_owned();
    let user_id = body["user_id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/commands/{command_id}"));
    assert_eq!(body["status"], "pending");
    let outcome = env.outcome(&admin, &command_id).await;
    assert_eq!(outcome["status"], "accepted");
    assert_eq!(outcome["command_type"], "RegisterUser");

    // the command on Kafka carries the hash, never the password
    let commands = commands_on_kafka(&env).await;
    let sent = commands
        .iter()
        .find(|c| c.envelope.id == command_id)
        .expect("command on kafka");
    assert_eq!(sent.envelope.correlation_id, "order-4711");
    let register = sent.register.as_ref().unwrap();
    assert!(register
        .password_hash
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    let raw = serde_json::to_string(sent).unwrap();
    assert!(!raw.contains(PASSWORD), "the password reached kafka");

    // the new user signs in (by username, any case) and reads itself
    let (token, _) = env.login("SomChai", PASSWORD).await;
    let me: Value = env
        .call(Method::GET, "/v1/me", Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user_id"], user_id.as_str());
    assert_eq!(me["role"], "warehouse_staff");
    assert!(me.get("password_hash").is_none());

    // update own display name
    let response = env
        .call(
            Method::PATCH,
            &format!("/v1/users/{user_id}"),
            Some(&token),
            Some(json!({ "display_name": "สมชาย ใจเย็น" })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = support::command_id(response).await;
    assert_eq!(env.outcome(&token, &id).await["status"], "accepted");

    // admin changes the role
    let response = env
        .call(
            Method::POST,
            &format!("/v1/users/{user_id}/role"),
            Some(&admin),
            Some(json!({ "role": "manager" })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = support::command_id(response).await;
    assert_eq!(env.outcome(&admin, &id).await["status"], "accepted");
    let user: Value = env
        .call(
            Method::GET,
            &format!("/v1/users/{user_id}"),
            Some(&admin),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["role"], "manager");
    assert_eq!(user["display_name"], "สมชาย ใจเย็น");
    assert_eq!(user["version"], 3);

    // deactivate: the live token stops working and sign-in is refused
    let response = env
        .call(
            Method::POST,
            &format!("/v1/users/{user_id}/deactivate"),
            Some(&admin),
            Some(json!({ "reason": "left the company" })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = support::command_id(response).await;
    assert_eq!(env.outcome(&admin, &id).await["status"], "accepted");
    // The Redis copy the ingress checks is written right after the
    // processor's commit, so it can trail the accepted outcome by a moment.
    let me = eventually(
        "the deactivation in the redis copy",
        Duration::from_secs(30),
        || async {
            let me = env.call(Method::GET, "/v1/me", Some(&token), None).await;
            (me.status() != StatusCode::OK).then_some(me)
        },
    )
    .await;
    let (status, body) = error_of(me).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "account_inactive");
    let (status, body) = error_of(env.login_response("somchai", PASSWORD).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "account_inactive");
    env.stop().await;
}

#[tokio::test]
async fn rejected_commands_end_in_a_reason_code_and_bad_input_in_field_errors() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    env.create_user(&admin, "malee", "report_viewer").await;

    // the same email again: accepted by Kafka, rejected by the processor
    let response = env
        .call(
            Method::POST,
            "/v1/users",
            Some(&admin),
            Some(json!({
                "email": "MALEE@example.co.th", "username": "malee2",
                "display_name": "x", "password": PASSWORD, "role": "manager"
            })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = support::command_id(response).await;
    let outcome = env.outcome(&admin, &id).await;
    assert_eq!(outcome["status"], "rejected");
    assert_eq!(outcome["reason_code"], "email_taken");

    // invalid fields: 422 with every field named
    let (status, body) = error_of(
        env.call(
            Method::POST,
            "/v1/users",
            Some(&admin),
            Some(json!({
                "email": "not-an-email", "username": "A!",
                "display_name": "ok", "password": "short", "role": "king"
            })),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "validation_failed");
    let fields: HashSet<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        HashSet::from(["email", "username", "password", "role"])
    );

    // malformed JSON, missing field, wrong media type, unknown field
    let response = env
        .http
        .post(env.url("/v1/users"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1["code"], "malformed_body");
    let (_, body) = error_of(
        env.call(
            Method::POST,
            "/v1/users",
            Some(&admin),
            Some(json!({ "email": "a@b.th" })),
        )
        .await,
    )
    .await;
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(body["fields"][0]["code"], "required");
    let response = env
        .http
        .post(env.url("/v1/users"))
        .bearer_auth(&admin)
        .body("email=a")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1["code"], "unsupported_media_type");

    // too large a body
    let response = env
        .http
        .post(env.url("/v1/users"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(format!("{{\"email\":\"{}\"}}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1["code"], "payload_too_large");

    // unknown user, unknown command, unknown route, wrong method
    let missing = uuid::Uuid::now_v7();
    let (status, body) = error_of(
        env.call(
            Method::GET,
            &format!("/v1/users/{missing}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("user_not_found"))
    );
    let (_, body) = error_of(
        env.call(
            Method::GET,
            &format!("/v1/commands/{missing}"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(body["code"], "command_not_found");
    // NUL cannot be stored in any text column: refused at the edge, not a 500
    let (status, body) = error_of(
        env.call(Method::GET, "/v1/users?q=a%00b", Some(&admin), None)
            .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (_, body) = error_of(
        env.call(
            Method::PATCH,
            &format!("/v1/users/{missing}"),
            Some(&admin),
            Some(json!({ "display_name": "a\u{0}b" })),
        )
        .await,
    )
    .await;
    assert_eq!(body["code"], "validation_failed");
    let (_, body) = error_of(env.call(Method::GET, "/v1/nothing", None, None).await).await;
    assert_eq!(body["code"], "not_found");
    let (_, body) = error_of(env.call(Method::DELETE, "/v1/me", Some(&admin), None).await).await;
    assert_eq!(body["code"], "method_not_allowed");
    let (_, body) = error_of(
        env.call(
            Method::GET,
            &format!("/v1/commands/{id}?wait=99"),
            Some(&admin),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(body["code"], "validation_failed");
    env.stop().await;
}

#[tokio::test]
async fn the_list_filters_searches_and_pages() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    for i in 0..5 {
        env.create_user(&admin, &format!("picker{i}"), "warehouse_staff")
            .await;
    }
    env.create_user(&admin, "boss", "manager").await;

    let page = |query: &'static str| {
        let env = &env;
        let admin = admin.clone();
        async move {
            let response = env
                .call(
                    Method::GET,
                    &format!("/v1/users?{query}"),
                    Some(&admin),
                    None,
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            response.json::<Value>().await.unwrap()
        }
    };
    let staff = page("role=warehouse_staff&page_size=100").await;
    assert_eq!(staff["items"].as_array().unwrap().len(), 5);
    let found = page("q=BOS").await;
    assert_eq!(found["items"][0]["username"], "boss");
    assert_eq!(
        page("active=false").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // paging visits every account once
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            None => "/v1/users?page_size=2".to_owned(),
            Some(t) => format!("/v1/users?page_size=2&page_token={t}"),
        };
        let body: Value = env
            .call(Method::GET, &path, Some(&admin), None)
            .await
            .json()
            .await
            .unwrap();
        for item in body["items"].as_array().unwrap() {
            seen.push(item["user_id"].as_str().unwrap().to_owned());
        }
        match body["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "5 pickers, the boss and the admin");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);

    let (_, body) = error_of(
        env.call(Method::GET, "/v1/users?page_size=1000", Some(&admin), None)
            .await,
    )
    .await;
    assert_eq!(body["code"], "validation_failed");
    env.stop().await;
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_session() {
    let env = TestEnv::new().await;
    let (access1, refresh1) = env.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let refresh = |token: String| {
        let env = &env;
        async move {
            env.call(
                Method::POST,
                "/v1/auth/refresh",
                None,
                Some(json!({ "refresh_token": token })),
            )
            .await
        }
    };
    let response = refresh(refresh1.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let access2 = body["access_token"].as_str().unwrap().to_owned();
    let refresh2 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh1, refresh2);
    assert_eq!(body["expires_in"], 900);
    assert_eq!(
        env.call(Method::GET, "/v1/me", Some(&access2), None)
            .await
            .status(),
        StatusCode::OK
    );

    // the first refresh token again: the thief or the victim; either way
    // the whole family is revoked
    let (status, body) = error_of(refresh(refresh1).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "refresh_token_reused");
    let (_, body) = error_of(refresh(refresh2).await).await;
    assert_eq!(body["code"], "refresh_token_invalid");
    for token in [&access1, &access2] {
        let (status, body) =
            error_of(env.call(Method::GET, "/v1/me", Some(token), None).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "session_revoked");
    }

    // another session is untouched; logout ends it
    let (access3, refresh3) = env.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = env
        .call(Method::POST, "/v1/auth/logout", Some(&access3), None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, body) = error_of(env.call(Method::GET, "/v1/me", Some(&access3), None).await).await;
    assert_eq!(body["code"], "session_revoked");
    let (_, body) = error_of(refresh(refresh3).await).await;
    assert_eq!(body["code"], "refresh_token_invalid");
    let (_, body) = error_of(refresh("garbage".into()).await).await;
    assert_eq!(body["code"], "refresh_token_invalid");
    env.stop().await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_address_with_retry_after() {
    let env = TestEnv::with(|c| {
        c.auth.pair_failure_limit = 3;
        c.auth.failure_window_secs = 120;
    })
    .await;
    let admin = env.admin_token().await;
    env.create_user(&admin, "target", "report_viewer").await;
    for _ in 0..3 {
        let (status, body) = error_of(env.login_response("target", "wrong-password!").await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "invalid_credentials");
    }
    // now even the right password waits, from this address
    let response = env.login_response("target", PASSWORD).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=120).contains(&retry_after), "{retry_after}");
    let (status, body) = error_of(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "too_many_attempts");
    // unknown accounts answer exactly like wrong passwords
    let (status, body) = error_of(env.login_response("nobody", "whatever-it-is").await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );
    // other accounts from this address are not locked
    env.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    env.stop().await;
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_and_survive_concurrency() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    let body = json!({
        "email": "twice@example.co.th", "username": "twice",
        "display_name": "Twice", "password": PASSWORD, "role": "report_viewer"
    });
    let post = |key: &'static str, body: Value| {
        env.call_with_key(Method::POST, "/v1/users", &admin, key, body)
    };
    // 16 identical requests at once
    let answers = futures::future::join_all((0..16).map(|_| post("key-1", body.clone()))).await;
    let mut bodies = HashSet::new();
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::ACCEPTED);
        bodies.insert(answer.text().await.unwrap());
    }
    assert_eq!(bodies.len(), 1, "identical answers: {bodies:?}");
    let first: Value = serde_json::from_str(bodies.iter().next().unwrap()).unwrap();
    let command_id = first["command_id"].as_str().unwrap().to_owned();

    // later: the same answer, marked as replayed
    let again = post("key-1", body.clone()).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<Value>().await.unwrap()["command_id"],
        command_id.as_str()
    );

    // the same key for another body
    let mut other = body.clone();
    other["username"] = json!("thrice");
    let (status, error) = error_of(post("key-1", other).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["code"], "idempotency_key_reused");

    // exactly one command reached Kafka
    assert_eq!(env.outcome(&admin, &command_id).await["status"], "accepted");
    let commands = commands_on_kafka(&env).await;
    let registrations = commands
        .iter()
        .filter(|c| c.register.as_ref().is_some_and(|r| r.username == "twice"))
        .count();
    assert_eq!(registrations, 1);
    env.stop().await;
}

#[tokio::test]
async fn service_accounts_sign_in_with_their_secret_and_hold_only_granted_scopes() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    let (_, secret) = env
        .create_machine(
            &admin,
            "erp-sync",
            "service",
            &["stock:write", "catalog:read"],
        )
        .await;
    let (token, _) = env.login("erp-sync", &secret).await;
    let claims = decode_claims(&token);
    assert_eq!(claims["role"], "service");
    assert_eq!(claims["act"], "service");
    assert_eq!(claims["scope"], "catalog:read stock:write");
    let (status, _) = error_of(env.call(Method::GET, "/v1/users", Some(&token), None).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // a device may not be granted users or catalog writes
    let (status, body) = error_of(
        env.call(
            Method::POST,
            "/v1/service-accounts",
            Some(&admin),
            Some(
                json!({ "username": "scanner-1", "display_name": "Scanner 1",
                          "kind": "device", "scopes": ["catalog:write"] }),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"][0]["field"], "scopes");
    env.stop().await;
}

fn decode_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn every_request_leaves_an_access_record_and_metrics() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    let _ = env.call(Method::GET, "/v1/me", Some(&admin), None).await;
    let _ = env
        .call(Method::GET, "/v1/me", Some("not-a-token"), None)
        .await;
    let _ = env
        .call(Method::GET, "/v1/users/whatever", None, None)
        .await;

    let codec = Codec::new(&env.infra.registry_url).unwrap();
    let brokers = env.infra.brokers.clone();
    let topic = env.access.as_str().to_owned();
    let records: Vec<AccessRecord> = eventually("access records", Duration::from_secs(20), || {
        let (codec, brokers, topic) = (codec.clone(), brokers.clone(), topic.clone());
        async move {
            let raw = tokio::task::spawn_blocking(move || read_committed(&brokers, &topic))
                .await
                .unwrap();
            let mut records = Vec::new();
            for r in raw {
                records.push(
                    codec
                        .decode::<AccessRecord>(r.value.as_deref().unwrap())
                        .await
                        .unwrap(),
                );
            }
            (records.len() >= 4).then_some(records)
        }
    })
    .await;
    let login = records
        .iter()
        .find(|r| r.route == "/v1/auth/login")
        .expect("login recorded");
    assert_eq!(login.status, 200);
    assert_eq!(login.client_address, "127.0.0.1");
    let me = records
        .iter()
        .find(|r| r.route == "/v1/me" && r.status == 200)
        .expect("me recorded");
    assert_eq!(me.role.as_deref(), Some("admin"));
    assert_eq!(me.actor_kind.as_deref(), Some("user"));
    let refused = records
        .iter()
        .find(|r| r.route == "/v1/me" && r.status == 401)
        .expect("refused request recorded");
    assert_eq!(refused.actor_id, None);
    assert_eq!(refused.error_code.as_deref(), Some("invalid_token"));
    assert!(records
        .iter()
        .any(|r| r.route == "/v1/users/{id}" && r.status == 401));

    let metrics = env
        .http
        .get(format!("http://{}/metrics", env.running.telemetry_addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"khlang_ingress_http_requests_total{route="/v1/me",method="GET",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"khlang_ingress_auth_failures_total{reason="malformed"} 1"#));
    env.stop().await;
}

#[tokio::test]
async fn processors_signal_outcomes_to_waiting_requests() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    // create_user waits for the outcome with ?wait=
    env.create_user(&admin, "notified", "manager").await;
    // the users processor's commit notified PostgreSQL's channel, and the
    // ingress's listening connection heard it
    let signals = eventually("an outcome signal", Duration::from_secs(20), || async {
        let metrics = env
            .http
            .get(format!("http://{}/metrics", env.running.telemetry_addr))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let signals: f64 = metrics
            .lines()
            .find(|l| l.starts_with("khlang_ingress_outcome_signals_total"))?
            .split_whitespace()
            .last()?
            .parse()
            .ok()?;
        (signals >= 1.0).then_some(signals)
    })
    .await;
    assert!(signals >= 1.0);
    env.stop().await;
}

#[tokio::test]
async fn the_spec_and_docs_page_are_served_and_name_every_route() {
    let env = TestEnv::new().await;
    let spec: Value = env
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    for path in [
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/me",
        "/v1/users",
        "/v1/users/{id}",
        "/v1/users/{id}/role",
        "/v1/users/{id}/deactivate",
        "/v1/service-accounts",
        "/v1/commands/{id}",
        "/v1/products",
        "/v1/products/{sku}",
        "/v1/products/{sku}/discontinue",
        "/v1/warehouses",
        "/v1/warehouses/{code}",
        "/.well-known/jwks.json",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} not in the spec");
    }
    let page = env.call(Method::GET, "/docs", None, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("/v1/commands/{id}"));
    let jwks: Value = env
        .call(Method::GET, "/.well-known/jwks.json", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], env.key.kid.as_str());
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    env.stop().await;
}
