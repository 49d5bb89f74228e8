//! The JWT negative suite and the authorization matrix.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use support::contract::{self, Operation};
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

/// What one cell of the table in docs/auth.md expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// Not 401, not 403.
    Allowed,
    /// 403, or 401 without a token.
    Denied,
    /// Allowed when the account holds the row's scope, 403 otherwise.
    IfGranted,
    /// Allowed on the caller's own account or command and on another's.
    OwnAndOthers,
    /// Allowed on the caller's own; another's is answered with this status.
    OwnOnly(StatusCode),
}

fn cell(text: &str) -> Cell {
    match text {
        "ได้" => Cell::Allowed,
        "ไม่ได้" => Cell::Denied,
        "ถ้าได้รับ" => Cell::IfGranted,
        "ทุกบัญชี" | "ทุก command" => Cell::OwnAndOthers,
        "ของตัวเอง" => Cell::OwnOnly(StatusCode::FORBIDDEN),
        "ของตัวเอง (ของผู้อื่น 404)" => {
            Cell::OwnOnly(StatusCode::NOT_FOUND)
        }
        other => panic!("docs/auth.md: a cell says {other:?}, which the legend does not define"),
    }
}

/// One row of the table, for one operation.
#[derive(Debug, Clone)]
struct Expected {
    /// The scope the row names, if any.
    scope: Option<String>,
    /// Per column of `COLUMNS`.
    cells: Vec<Cell>,
}

/// The callers, as the table's columns name them.
const COLUMNS: [&str; 7] = [
    "ไม่มี token",
    "admin",
    "manager",
    "warehouse_staff",
    "report_viewer",
    "service",
    "device",
];

/// The reviewed table: operation -> expected, from docs/auth.md.
fn reviewed_table() -> BTreeMap<Operation, Expected> {
    let text = contract::doc("auth.md");
    let (header, rows) = contract::table(&text, "operation");
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("docs/auth.md: the table has no column {name:?}"))
    };
    let scope_column = column("scope");
    let columns: Vec<usize> = COLUMNS.iter().map(|c| column(c)).collect();
    let mut table = BTreeMap::new();
    for row in rows {
        let expected = Expected {
            scope: contract::code_spans(&row[scope_column])
                .into_iter()
                .find(|s| s.contains(':')),
            cells: columns.iter().map(|&i| cell(&row[i])).collect(),
        };
        let operations = contract::operations_named(&row[0]);
        assert!(
            !operations.is_empty(),
            "docs/auth.md: a row names no operation: {row:?}"
        );
        for operation in operations {
            assert!(
                table.insert(operation.clone(), expected.clone()).is_none(),
                "docs/auth.md: {operation:?} is in two rows"
            );
        }
    }
    table
}

/// The scopes a service or device account may be granted, from the role
/// table of docs/auth.md.
fn grantable(kind: &str) -> Vec<String> {
    let text = contract::doc("auth.md");
    let (_, rows) = contract::table(&text, "role");
    let row = rows
        .iter()
        .find(|r| r[0] == format!("`{kind}`"))
        .unwrap_or_else(|| panic!("docs/auth.md: no role row for {kind}"));
    contract::code_spans(&row[1])
}

/// Who calls, and what it owns.
struct Caller {
    name: String,
    token: Option<String>,
    user_id: String,
    /// A command this caller sent.
    command_id: String,
}

/// Whose account or command the path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whose {
    Own,
    Others,
}

/// The path with its parameters filled: accounts and commands are the
/// caller's own or another's; anything else a value that names nothing.
fn fill(path: &str, whose: Whose, caller: &Caller, other: &Caller) -> String {
    let owner = if whose == Whose::Own { caller } else { other };
    let mut filled = String::new();
    for segment in path.split('/').skip(1) {
        filled.push('/');
        filled.push_str(match segment {
            "{id}" if path.starts_with("/v1/users/") => &owner.user_id,
            "{id}" if path.starts_with("/v1/commands/") => &owner.command_id,
            "{id}" => "0190a9c2-0000-7000-8000-000000000000",
            "{sku}" => "NO-SUCH-SKU",
            "{code}" => "NOWH",
            s if s.starts_with('{') => panic!("no value for {s} in {path}"),
            s => s,
        });
    }
    filled
}

/// A request to `method path` that the server refuses after authorising
/// it, when it is allowed: a JSON body of the wrong type, or an NDJSON
/// line that is not a scan. Query parameters the document marks required
/// get a value of their type.
async fn call(
    env: &TestEnv,
    spec: &Value,
    (method, template): &Operation,
    path: &str,
    token: Option<&str>,
) -> StatusCode {
    let operation = &spec["paths"][template][method.to_lowercase()];
    let mut query = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        if parameter["in"] == "query" && parameter["required"] == true {
            let value = match parameter["schema"]["type"].as_str() {
                Some("integer") => parameter["schema"]["minimum"]
                    .as_i64()
                    .unwrap_or(1)
                    .to_string(),
                Some("boolean") => "true".to_owned(),
                _ => "x".to_owned(),
            };
            query.push((parameter["name"].as_str().unwrap().to_owned(), value));
        }
    }
    let mut url = env.url(path);
    for (i, (name, value)) in query.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(&format!("{name}={value}"));
    }
    let mut request = env
        .http
        .request(Method::from_bytes(method.as_bytes()).unwrap(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(content) = operation["requestBody"]["content"].as_object() {
        let media_type = if content.contains_key("application/json") {
            "application/json"
        } else {
            content.keys().next().unwrap().as_str()
        };
        request = request.header("content-type", media_type).body("[]\n");
    }
    request.send().await.unwrap().status()
}

/// The authorization matrix: every operation of the served document, as
/// every role and without a token, against the reviewed table in
/// docs/auth.md (not against the code's own scope function).
#[tokio::test]
async fn the_authorization_matrix_holds_for_every_operation_and_role() {
    let env = TestEnv::new().await;
    let spec: Value = env
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .json()
        .await
        .unwrap();
    let table = reviewed_table();
    let served = contract::operations(&spec);
    let missing: Vec<_> = served.iter().filter(|o| !table.contains_key(*o)).collect();
    assert!(
        missing.is_empty(),
        "operations of /openapi.json missing from the table in docs/auth.md: {missing:?}"
    );
    let stale: Vec<_> = table.keys().filter(|o| !served.contains(*o)).collect();
    assert!(
        stale.is_empty(),
        "docs/auth.md names operations /openapi.json does not have: {stale:?}"
    );
    // the scope the document (and so the docs page) gives each operation is
    // the one the reviewed table names
    for ((method, path), expected) in &table {
        let security = &spec["paths"][path][method.to_lowercase()]["security"];
        let documented = security[0]["bearer"][0].as_str().map(str::to_owned);
        assert_eq!(
            documented, expected.scope,
            "{method} {path}: the OpenAPI document's scope differs from docs/auth.md"
        );
    }

    // the callers: one person per role, and a service and a device account
    // granted every scope the table lets their kind have
    let admin = env.admin_token().await;
    let me: Value = env
        .call(Method::GET, "/v1/me", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    let mut accounts = vec![(
        "admin".to_owned(),
        admin.clone(),
        me["user_id"].as_str().unwrap().to_owned(),
    )];
    for role in ["manager", "warehouse_staff", "report_viewer"] {
        let name = format!("m{}", role.replace('_', ""));
        let id = env.create_user(&admin, &name, role).await;
        let token = env.login(&name, support::PASSWORD).await.0;
        accounts.push((role.to_owned(), token, id));
    }
    for kind in ["service", "device"] {
        let scopes = grantable(kind);
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let name = format!("m{kind}");
        let (id, secret) = env.create_machine(&admin, &name, kind, &scopes).await;
        let token = env.login(&name, &secret).await.0;
        accounts.push((kind.to_owned(), token, id));
    }
    let other_user = env.create_user(&admin, "mtarget", "report_viewer").await;
    // each caller sends a command of its own: a change to its own account
    let mut callers = vec![Caller {
        name: "no token".into(),
        token: None,
        user_id: other_user.clone(),
        command_id: String::new(),
    }];
    for (name, token, user_id) in accounts {
        let response = env
            .call(
                Method::PATCH,
                &format!("/v1/users/{user_id}"),
                Some(&token),
                Some(json!({"display_name": format!("matrix {name}")})),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "{name} changes itself"
        );
        callers.push(Caller {
            name,
            token: Some(token),
            user_id,
            command_id: support::command_id(response).await,
        });
    }
    // another's: the target account, and the admin's command (the
    // manager's for the admin)
    let others = |caller: &Caller| Caller {
        name: "another".into(),
        token: None,
        user_id: other_user.clone(),
        command_id: if caller.name == "admin" {
            callers[2].command_id.clone()
        } else {
            callers[1].command_id.clone()
        },
    };

    // a service or device account granted everything its kind may have but
    // the row's scope, for the cells that depend on the grant
    let mut without: HashMap<(String, String), String> = HashMap::new();
    for expected in table.values() {
        for (column, kind) in [(5, "service"), (6, "device")] {
            if expected.cells[column] != Cell::IfGranted {
                continue;
            }
            let scope = expected
                .scope
                .clone()
                .expect("a row with `ถ้าได้รับ` names its scope");
            if without.contains_key(&(kind.to_owned(), scope.clone())) {
                continue;
            }
            let scopes: Vec<String> = grantable(kind)
                .into_iter()
                .filter(|s| *s != scope)
                .collect();
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let name = format!("m{kind}{}", without.len());
            let (_, secret) = env.create_machine(&admin, &name, kind, &scopes).await;
            let token = env.login(&name, &secret).await.0;
            without.insert((kind.to_owned(), scope), token);
        }
    }

    let mut failures = Vec::new();
    let mut checked = 0;
    // logout last: it ends the session the caller's other requests use
    let (logout, rest): (Vec<_>, Vec<_>) = table
        .iter()
        .partition(|((method, path), _)| method == "POST" && path == "/v1/auth/logout");
    for (operation, expected) in rest.into_iter().chain(logout) {
        for (column, caller) in callers.iter().enumerate() {
            let other = others(caller);
            let mut cases: Vec<(Whose, Option<&str>, Option<StatusCode>)> = Vec::new();
            let token = caller.token.as_deref();
            match expected.cells[column] {
                Cell::Allowed => cases.push((Whose::Others, token, None)),
                Cell::Denied => cases.push((Whose::Others, token, Some(denied(token)))),
                Cell::IfGranted => {
                    let scope = expected.scope.clone().unwrap_or_default();
                    let narrow = &without[&(caller.name.clone(), scope)];
                    cases.push((Whose::Others, token, None));
                    cases.push((Whose::Others, Some(narrow), Some(StatusCode::FORBIDDEN)));
                }
                Cell::OwnAndOthers => {
                    cases.push((Whose::Own, token, None));
                    cases.push((Whose::Others, token, None));
                }
                Cell::OwnOnly(status) => {
                    cases.push((Whose::Own, token, None));
                    cases.push((Whose::Others, token, Some(status)));
                }
            }
            for (whose, token, refused) in cases {
                let path = fill(&operation.1, whose, caller, &other);
                let status = call(&env, &spec, operation, &path, token).await;
                checked += 1;
                let ok = match refused {
                    None => status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    Some(refused) => status == refused,
                };
                if !ok {
                    failures.push(format!(
                        "{} {path} as {}{}: expected {}, got {status}",
                        operation.0,
                        caller.name,
                        if token == caller.token.as_deref() {
                            ""
                        } else {
                            " without the scope"
                        },
                        refused.map_or("allowed".to_owned(), |s| s.to_string()),
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix broken ({} of {checked} calls):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= table.len() * COLUMNS.len());
    env.stop().await;
}

/// How a denied caller is refused: 401 without a token, 403 with one.
fn denied(token: Option<&str>) -> StatusCode {
    if token.is_none() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::FORBIDDEN
    }
}
