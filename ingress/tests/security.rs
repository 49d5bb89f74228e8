//! The JWT negative suite and the authorization matrix.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{error_of, TestEnv};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(env: &TestEnv, header: Header, claims: &Value) -> String {
    let der = env.key.key.to_pkcs8_der().unwrap();
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
}

fn eddsa(kid: &str, typ: &str) -> Header {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some(typ.to_owned());
    header
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[tokio::test]
async fn forged_and_broken_tokens_are_all_refused() {
    let env = TestEnv::new().await;
    let real = env.admin_token().await;
    let claims = claims_of(&real);
    let kid = env.key.kid.clone();
    let now = chrono::Utc::now().timestamp();

    // the baseline: a token we sign the same way works, so every refusal
    // below is caused by the one thing changed
    let same = sign(&env, eddsa(&kid, "at+jwt"), &claims);
    assert_eq!(
        env.call(Method::GET, "/v1/me", Some(&same), None)
            .await
            .status(),
        StatusCode::OK
    );

    let with = |key: &str, value: Value| {
        let mut c = claims.clone();
        c[key] = value;
        c
    };
    let public_key = env.key.key.verifying_key().to_bytes();
    let mut cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid})),
                b64(&claims)
            ),
        ),
        (
            "HS256 signed with the public key",
            jsonwebtoken::encode(
                &{
                    let mut h = Header::new(Algorithm::HS256);
                    h.kid = Some(kid.clone());
                    h.typ = Some("at+jwt".into());
                    h
                },
                &claims,
                &EncodingKey::from_secret(&public_key),
            )
            .unwrap(),
        ),
        (
            "wrong iss",
            sign(&env, eddsa(&kid, "at+jwt"), &with("iss", json!("evil"))),
        ),
        (
            "wrong aud",
            sign(
                &env,
                eddsa(&kid, "at+jwt"),
                &with("aud", json!("other-api")),
            ),
        ),
        ("wrong typ", sign(&env, eddsa(&kid, "JWT"), &claims)),
        (
            "expired",
            sign(&env, eddsa(&kid, "at+jwt"), &with("exp", json!(now - 60))),
        ),
        (
            "not yet valid",
            sign(&env, eddsa(&kid, "at+jwt"), &with("nbf", json!(now + 600))),
        ),
        (
            "unknown kid",
            sign(&env, eddsa("someone-else", "at+jwt"), &claims),
        ),
        ("no kid", {
            let mut h = Header::new(Algorithm::EdDSA);
            h.typ = Some("at+jwt".into());
            sign(&env, h, &claims)
        }),
        ("garbage", "not.a.token".to_owned()),
    ];
    // tampered payload: a role upgrade on a real signature
    let parts: Vec<&str> = real.split('.').collect();
    let mut tampered_claims = claims.clone();
    tampered_claims["scope"] = json!("users:read users:write");
    tampered_claims["sub"] = json!(uuid::Uuid::now_v7().to_string());
    cases.push((
        "tampered payload",
        format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]),
    ));
    // a token signed by a different key that claims our kid
    let stranger = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let der = stranger.to_pkcs8_der().unwrap();
    cases.push((
        "signed by another key",
        jsonwebtoken::encode(
            &eddsa(&kid, "at+jwt"),
            &claims,
            &EncodingKey::from_ed_der(der.as_bytes()),
        )
        .unwrap(),
    ));

    for (name, token) in cases {
        let (status, body) =
            error_of(env.call(Method::GET, "/v1/me", Some(&token), None).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(body["code"], "invalid_token", "{name}");
    }
    // a scheme other than Bearer
    let response = env
        .http
        .get(env.url("/v1/me"))
        .header("authorization", format!("Basic {real}"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1["code"], "invalid_token");
    env.stop().await;
}

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    Admin,
    Manager,
    Staff,
    Viewer,
    Service,
    Device,
}

/// Expected: allowed, or refused with 401 (no token) / 403 (wrong role).
const A: bool = true;
const D: bool = false;

#[tokio::test]
async fn the_authorization_matrix_holds_for_every_endpoint_and_role() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    let manager_id = env.create_user(&admin, "manager1", "manager").await;
    env.create_user(&admin, "staff1", "warehouse_staff").await;
    env.create_user(&admin, "viewer1", "report_viewer").await;
    let (_, service_secret) = env
        .create_machine(&admin, "erp", "service", &["catalog:read", "stock:write"])
        .await;
    let (_, device_secret) = env
        .create_machine(&admin, "scanner", "device", &["scans:write"])
        .await;
    let target = env.create_user(&admin, "target1", "report_viewer").await;

    let tokens = [
        (Caller::Nobody, None),
        (Caller::Admin, Some(admin.clone())),
        (
            Caller::Manager,
            Some(env.login("manager1", support::PASSWORD).await.0),
        ),
        (
            Caller::Staff,
            Some(env.login("staff1", support::PASSWORD).await.0),
        ),
        (
            Caller::Viewer,
            Some(env.login("viewer1", support::PASSWORD).await.0),
        ),
        (
            Caller::Service,
            Some(env.login("erp", &service_secret).await.0),
        ),
        (
            Caller::Device,
            Some(env.login("scanner", &device_secret).await.0),
        ),
    ];

    // endpoint, then expected for: nobody admin manager staff viewer service device
    let bad = json!({});
    let matrix: Vec<(Method, String, Option<Value>, [bool; 7])> = vec![
        (Method::GET, "/v1/me".into(), None, [D, A, A, A, A, A, A]),
        (Method::GET, "/v1/users".into(), None, [D, A, A, D, D, D, D]),
        (
            Method::GET,
            format!("/v1/users/{target}"),
            None,
            [D, A, A, D, D, D, D],
        ),
        // writes carry an invalid body: authorization is decided first, so
        // an allowed caller gets 422 and nothing is created
        (
            Method::POST,
            "/v1/users".into(),
            Some(bad.clone()),
            [D, A, D, D, D, D, D],
        ),
        (
            Method::PATCH,
            format!("/v1/users/{target}"),
            Some(bad.clone()),
            [D, A, D, D, D, D, D],
        ),
        (
            Method::POST,
            format!("/v1/users/{target}/role"),
            Some(bad.clone()),
            [D, A, D, D, D, D, D],
        ),
        (
            Method::POST,
            format!("/v1/users/{target}/deactivate"),
            Some(json!({"reason": 5})),
            [D, A, D, D, D, D, D],
        ),
        (
            Method::POST,
            "/v1/service-accounts".into(),
            Some(bad.clone()),
            [D, A, D, D, D, D, D],
        ),
        (
            Method::PATCH,
            format!("/v1/users/{manager_id}"),
            Some(bad.clone()),
            [D, A, A, D, D, D, D],
        ),
        // the catalog: read by every person and by machines granted
        // catalog:read; written by admins and managers
        (
            Method::GET,
            "/v1/products".into(),
            None,
            [D, A, A, A, A, A, D],
        ),
        (
            Method::GET,
            "/v1/products/NOPE".into(),
            None,
            [D, A, A, A, A, A, D],
        ),
        (
            Method::GET,
            "/v1/warehouses".into(),
            None,
            [D, A, A, A, A, A, D],
        ),
        (
            Method::GET,
            "/v1/warehouses/NOPE".into(),
            None,
            [D, A, A, A, A, A, D],
        ),
        (
            Method::POST,
            "/v1/products".into(),
            Some(bad.clone()),
            [D, A, A, D, D, D, D],
        ),
        (
            Method::PATCH,
            "/v1/products/NOPE".into(),
            Some(bad.clone()),
            [D, A, A, D, D, D, D],
        ),
        (
            Method::POST,
            "/v1/products/NOPE/discontinue".into(),
            Some(json!({"reason": 5})),
            [D, A, A, D, D, D, D],
        ),
        (
            Method::PUT,
            "/v1/warehouses/NOPE".into(),
            Some(bad.clone()),
            [D, A, A, D, D, D, D],
        ),
        (
            Method::POST,
            "/v1/auth/logout".into(),
            None,
            [D, A, A, A, A, A, A],
        ),
    ];

    let mut failures = Vec::new();
    for (method, path, body, expected) in &matrix {
        for (i, (caller, token)) in tokens.iter().enumerate() {
            // logout last, per caller, so it does not end the sessions the
            // other rows use
            if path == "/v1/auth/logout" {
                continue;
            }
            let status = call_status(&env, method, path, token.as_deref(), body.clone()).await;
            check(&mut failures, method, path, *caller, expected[i], status);
        }
    }
    for (i, (caller, token)) in tokens.iter().enumerate() {
        let (method, path, _, expected) = matrix.last().unwrap();
        let status = call_status(&env, method, path, token.as_deref(), None).await;
        check(&mut failures, method, path, *caller, expected[i], status);
    }
    assert!(
        failures.is_empty(),
        "authorization matrix broken:\n{}",
        failures.join("\n")
    );
    env.stop().await;
}

async fn call_status(
    env: &TestEnv,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> StatusCode {
    env.call(method.clone(), path, token, body).await.status()
}

fn check(
    failures: &mut Vec<String>,
    method: &Method,
    path: &str,
    caller: Caller,
    allowed: bool,
    status: StatusCode,
) {
    let denied_as = if caller == Caller::Nobody {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::FORBIDDEN
    };
    let ok = if allowed {
        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
    } else {
        status == denied_as
    };
    if !ok {
        failures.push(format!(
            "{method} {path} as {caller:?}: expected {}, got {status}",
            if allowed {
                "allowed".to_owned()
            } else {
                denied_as.to_string()
            }
        ));
    }
}
