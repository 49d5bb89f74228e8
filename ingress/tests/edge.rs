//! The HTTP edge as integrators' clients meet it: a keep-alive connection
//! stays usable after an early 4xx, media types are case-insensitive, a
//! malformed refresh token is `401 refresh_token_invalid`, whole numbers
//! written as `716.0` are integers, and the body limits the docs state are
//! the configured ones. Real clients only: a raw HTTP/1.1 client on a tokio
//! `TcpStream` (to send a body after its headers, as a streaming client
//! does) and reqwest.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use khlang_contract::topics::STOCK_COMMANDS;
use khlang_ingress::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{command_id, error_of, TestEnv, PASSWORD};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

/// One HTTP/1.1 connection, used for several requests in a row as a
/// pooled client does.
struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
}

/// An answer read off the connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl Connection {
    async fn open(env: &TestEnv) -> Self {
        let stream = TcpStream::connect(env.running.addr).await.unwrap();
        Self {
            stream: BufReader::new(stream),
            host: env.running.addr.to_string(),
        }
    }

    /// Sends the request line and headers, then (after a pause, as a client
    /// that streams its body does) the body. The pause is the client's
    /// behaviour under test, not synchronisation: the assertions hold
    /// whatever the timing.
    async fn send_with_late_body(&mut self, head: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut text = format!(
            "{head} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n",
            self.host,
            body.len()
        );
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        let stream = self.stream.get_mut();
        stream.write_all(text.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        stream.write_all(body).await.unwrap();
        stream.flush().await.unwrap();
    }

    /// Sends a request without a body.
    async fn send_get(&mut self, path: &str) {
        let text = format!("GET {path} HTTP/1.1\r\nhost: {}\r\n\r\n", self.host);
        self.stream
            .get_mut()
            .write_all(text.as_bytes())
            .await
            .unwrap();
    }

    /// The next answer, or `None` if the server closed the connection
    /// without one.
    async fn answer(&mut self) -> Option<Answer> {
        let mut line = String::new();
        if self.stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await.ok()? == 0 {
                return None;
            }
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            let (name, value) = trimmed.split_once(':')?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap_or(0));
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.ok()?;
        Some(Answer {
            status,
            headers,
            body,
        })
    }

    /// The connection still answers: a second request on it gets a 200.
    async fn still_answers(&mut self, after: &str) {
        self.send_get("/.well-known/jwks.json").await;
        let answer = self.answer().await.unwrap_or_else(|| {
            panic!("after {after}: connection closed without response to the next request")
        });
        assert_eq!(answer.status, 200, "after {after}: {answer:?}");
    }
}

/// Sends `head` with a late `body`, checks the answer's status and code,
/// and that a next request on the same connection is answered.
async fn early_answer_keeps_connection(
    env: &TestEnv,
    what: &str,
    head: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    status: u16,
    code: &str,
) {
    let mut connection = Connection::open(env).await;
    connection.send_with_late_body(head, headers, body).await;
    let answer = connection
        .answer()
        .await
        .unwrap_or_else(|| panic!("{what}: no answer"));
    assert_eq!(answer.status, status, "{what}: {answer:?}");
    assert_eq!(answer.json()["code"], code, "{what}: {answer:?}");
    assert_ne!(
        answer.header("connection"),
        Some("close"),
        "{what}: a bounded body is read, the connection kept"
    );
    connection.still_answers(what).await;
}

#[tokio::test]
async fn a_keep_alive_connection_survives_every_early_4xx() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    env.create_user(&admin, "edgestaff", "warehouse_staff")
        .await;
    let (staff, _) = env.login("edgestaff", PASSWORD).await;
    let admin_auth = format!("Bearer {admin}");
    let staff_auth = format!("Bearer {staff}");
    let json = ("content-type", "application/json");
    let receipt = json!({"sku": "EDGE-1", "warehouse": "BKK1", "quantity": 3}).to_string();

    // 401: no token, on a write with a body (the integrators' case)
    early_answer_keeps_connection(
        &env,
        "401 on POST /v1/stock/receipts",
        "POST /v1/stock/receipts",
        &[json],
        receipt.as_bytes(),
        401,
        "unauthenticated",
    )
    .await;
    // 401: a token that does not verify
    early_answer_keeps_connection(
        &env,
        "401 with a broken token",
        "POST /v1/products",
        &[json, ("authorization", "Bearer not-a-token")],
        b"{}",
        401,
        "invalid_token",
    )
    .await;
    // 403: a role without the right
    let user = json!({
        "email": "x@example.co.th", "username": "edgex", "display_name": "x",
        "password": PASSWORD, "role": "admin"
    })
    .to_string();
    early_answer_keeps_connection(
        &env,
        "403 on POST /v1/users as warehouse_staff",
        "POST /v1/users",
        &[json, ("authorization", &staff_auth)],
        user.as_bytes(),
        403,
        "forbidden",
    )
    .await;
    // 415: the content type is refused before the body is read
    early_answer_keeps_connection(
        &env,
        "415 on POST /v1/products",
        "POST /v1/products",
        &[
            ("content-type", "text/plain"),
            ("authorization", &admin_auth),
        ],
        b"{}",
        415,
        "unsupported_media_type",
    )
    .await;
    // 413: the body is larger than http.body_limit_bytes; the rest is
    // still within what the server reads and discards
    let limit = env.config.http.body_limit_bytes;
    let large = format!(r#"{{"sku":"{}"}}"#, "A".repeat(limit + limit / 2));
    early_answer_keeps_connection(
        &env,
        "413 on POST /v1/products",
        "POST /v1/products",
        &[json, ("authorization", &admin_auth)],
        large.as_bytes(),
        413,
        "payload_too_large",
    )
    .await;
    // 422: a body the rules refuse
    early_answer_keeps_connection(
        &env,
        "422 on POST /v1/products",
        "POST /v1/products",
        &[json, ("authorization", &admin_auth)],
        br#"{"sku":""}"#,
        422,
        "validation_failed",
    )
    .await;
    // 429: failed logins for one account from one address wait
    let wrong = json!({"login": "edge-nobody", "password": "wrong-password"}).to_string();
    for _ in 0..env.config.auth.pair_failure_limit {
        let response = env
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(serde_json::from_str(&wrong).unwrap()),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    early_answer_keeps_connection(
        &env,
        "429 on POST /v1/auth/login",
        "POST /v1/auth/login",
        &[json],
        wrong.as_bytes(),
        429,
        "too_many_attempts",
    )
    .await;

    // and a pooled client, one connection, sees every answer
    let pooled = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    for _ in 0..20 {
        let refused = pooled
            .post(env.url("/v1/stock/receipts"))
            .json(&serde_json::from_str::<Value>(&receipt).unwrap())
            .send()
            .await
            .expect("the 401 is answered");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let next = pooled
            .get(env.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("the next request on the pooled connection is answered");
        assert_eq!(next.status(), StatusCode::OK);
    }
    env.stop().await;
}

#[tokio::test]
async fn media_types_refresh_tokens_and_whole_numbers_as_clients_send_them() {
    let env = TestEnv::new().await;
    env.infra
        .create_topics(&[(STOCK_COMMANDS.namespaced(&env.ns).as_str(), 3)])
        .await;
    let admin = env.admin_token().await;
    let login = json!({"login": support::ADMIN_EMAIL, "password": support::ADMIN_PASSWORD});

    // media types are case-insensitive (RFC 9110 §8.3.1)
    for content_type in [
        "Application/JSON",
        "APPLICATION/JSON; charset=utf-8",
        "application/json;charset=UTF-8",
    ] {
        let response = env
            .http
            .post(env.url("/v1/auth/login"))
            .header("content-type", content_type)
            .body(login.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{content_type}");
    }
    let refused = env
        .http
        .post(env.url("/v1/auth/login"))
        .header("content-type", "text/json")
        .body(login.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(refused).await.1["code"], "unsupported_media_type");

    // ... for scanner batches too
    let (_, secret) = env
        .create_machine(&admin, "edge-scanner", "device", &["scans:write"])
        .await;
    let (device, _) = env.login("edge-scanner", &secret).await;
    let line =
        r#"{"scan_id":"e1","type":"receive","sku":"EDGE-1","warehouse":"BKK1","quantity":3.0}"#;
    for content_type in ["Application/X-NDJSON", "APPLICATION/JSONL; charset=utf-8"] {
        let response = env
            .http
            .post(env.url("/v1/scans"))
            .bearer_auth(&device)
            .header("content-type", content_type)
            .body(line)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{content_type}");
        let batch: Value = response.json().await.unwrap();
        // quantity 3.0 is the integer 3: the line goes through
        assert_eq!(batch["accepted"], 1, "{content_type}: {batch}");
    }
    let fraction =
        r#"{"scan_id":"e2","type":"receive","sku":"EDGE-1","warehouse":"BKK1","quantity":3.5}"#;
    let batch: Value = env
        .http
        .post(env.url("/v1/scans"))
        .bearer_auth(&device)
        .header("content-type", "application/x-ndjson")
        .body(fraction)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(batch["rejected"], 1, "{batch}");
    let message = batch["lines"][0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("quantity"), "{message}");

    // a malformed refresh token, whatever its shape, is refresh_token_invalid
    for token in [
        String::new(),
        "x".repeat(600),
        format!("{}.{}", uuid::Uuid::now_v7(), "y".repeat(4000)),
        "no-dot".to_owned(),
    ] {
        let response = env
            .call(
                Method::POST,
                "/v1/auth/refresh",
                None,
                Some(json!({ "refresh_token": token })),
            )
            .await;
        let (status, body) = error_of(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "refresh_token_invalid", "{body}");
    }

    // whole numbers written as 716.0 are integers
    let product = |sku: &str, min_stock: Value| {
        json!({
            "sku": sku, "name_th": "สินค้าขอบ", "name_en": "Edge product", "category": "test",
            "unit": "piece", "barcodes": [], "price": "10.00", "cost": "7.50",
            "min_stock": min_stock,
        })
    };
    let response = env
        .call(
            Method::POST,
            "/v1/products",
            Some(&admin),
            Some(product("EDGE-716", json!(716.0))),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = command_id(response).await;
    assert_eq!(env.outcome(&admin, &id).await["status"], "accepted");
    let stored: Value = env
        .call(Method::GET, "/v1/products/EDGE-716", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["min_stock"], 716, "{stored}");
    // ... and a fraction is refused naming the field
    let (status, body) = error_of(
        env.call(
            Method::POST,
            "/v1/products",
            Some(&admin),
            Some(product("EDGE-717", json!(716.5))),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "malformed_body", "{body}");
    assert_eq!(body["fields"][0]["field"], "min_stock", "{body}");
    assert_eq!(body["fields"][0]["code"], "integer", "{body}");
    env.stop().await;
}

/// Every size the docs give for `key`: the first `N MiB` or backticked
/// number after each mention of `` `key` `` in a line (up to the next
/// config key on that line).
fn documented_sizes(page: &str, text: &str, key: &str) -> Vec<(String, usize)> {
    let marker = format!("`{key}`");
    let mut sizes = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest.find(&marker) {
            rest = &rest[at + marker.len()..];
            let scope = rest.find("`http.").map_or(rest, |next| &rest[..next]);
            if let Some(size) = first_size(scope) {
                sizes.push((format!("{page}: {}", line.trim()), size));
            }
        }
    }
    sizes
}

/// The first `N MiB` (or `` `N` `` in bytes) in `text`.
fn first_size(text: &str) -> Option<usize> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ','))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        if let Ok(n) = word.parse::<usize>() {
            if words.get(i + 1).is_some_and(|unit| *unit == "MiB") {
                return Some(n * 1024 * 1024);
            }
        }
        if let Some(n) = word
            .strip_prefix('`')
            .and_then(|w| w.strip_suffix('`'))
            .and_then(|w| w.parse::<usize>().ok())
        {
            return Some(n);
        }
    }
    None
}

#[test]
fn the_documented_body_limits_are_the_configured_ones() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let defaults = Config::default().http;
    let limits = [
        ("http.body_limit_bytes", defaults.body_limit_bytes),
        ("http.scan_body_limit_bytes", defaults.scan_body_limit_bytes),
    ];
    for (key, configured) in limits {
        let mut pages_stating_it = Vec::new();
        for page in ["ingress.md", "scanners.md", "errors.md"] {
            let text = std::fs::read_to_string(docs.join(page)).unwrap();
            let sizes = documented_sizes(page, &text, key);
            for (line, size) in &sizes {
                assert_eq!(
                    *size, configured,
                    "{key} is {configured} bytes, but the docs say {size}: {line}"
                );
            }
            if !sizes.is_empty() {
                pages_stating_it.push(page);
            }
        }
        // the scan limit is stated where scanner vendors and error readers look
        assert!(
            pages_stating_it.len() == 3,
            "{key}: stated only in {pages_stating_it:?}"
        );
    }
}
