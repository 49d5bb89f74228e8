//! Shared set-up of the ingress's integration tests: an isolated
//! environment (its own database, topics, Redis prefix), the real
//! `khlang-users` and `khlang-catalog` binaries as child processes applying
//! the commands, and the
//! ingress itself in this process on a free port. Nothing is mocked: Kafka,
//! the registry, PostgreSQL and Redis are the real ones `make test` starts.

#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

pub mod contract;

use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use khlang_contract::topics::{
    ACCESS_LOG, CATALOG_COMMANDS, CATALOG_COMMANDS_DLQ, CATALOG_EVENTS, CATALOG_STATE,
    COMMAND_OUTCOMES, USERS_COMMANDS, USERS_COMMANDS_DLQ, USERS_EVENTS,
};
use khlang_contract::TopicName;
use khlang_ingress::auth::KeySet;
use khlang_ingress::config::Secret;
use khlang_ingress::{Config, Running};
use khlang_testkit::{eventually, unique_suffix, Infra, Processor, ProcessorEnv, TestDatabase};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub const ADMIN_EMAIL: &str = "root@khlang.test";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";
pub const PASSWORD: &str = "a-long-enough-password";

/// The signing key of the ingress under test, so tests can forge tokens.
pub struct TestKey {
    pub kid: String,
    pub key: SigningKey,
}

pub struct TestEnv {
    pub infra: Infra,
    pub ns: String,
    /// The database behind `pool`: dropped with the environment, kept when
    /// the test fails.
    database: TestDatabase,
    pub pool: PgPool,
    pub redis_prefix: String,
    pub commands: TopicName,
    pub access: TopicName,
    pub key: TestKey,
    pub base: String,
    pub http: Client,
    pub running: Running,
    pub cancel: CancellationToken,
    users: Option<Child>,
    catalog: Option<Child>,
    pub config: Config,
}

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn binary(name: &str) -> PathBuf {
    let path = target_dir().join("debug").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --bins` first (make test does)",
        path.display()
    );
    path
}

/// Applies the migrations of the runtime and of every processor, each
/// through its owner's library.
pub async fn migrate_processors(pool: &PgPool) {
    khlang_runtime::migrate(pool)
        .await
        .expect("runtime migrations");
    khlang_users::migrate(pool).await.expect("users migrations");
    khlang_catalog::migrate(pool)
        .await
        .expect("catalog migrations");
    khlang_stock::migrate(pool).await.expect("stock migrations");
}

impl TestEnv {
    /// A fresh environment with the users processor running and the first
    /// admin registered.
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// As [`TestEnv::new`], with changes to the ingress configuration.
    pub async fn with(change: impl FnOnce(&mut Config)) -> Self {
        let infra = Infra::from_env();
        let suffix = unique_suffix();
        let ns = format!("t{suffix}");
        let database = infra.test_database().await;
        let commands = USERS_COMMANDS.namespaced(&ns);
        let access = ACCESS_LOG.namespaced(&ns);
        infra
            .create_topics(&[
                (commands.as_str(), 3),
                (USERS_EVENTS.namespaced(&ns).as_str(), 3),
                (COMMAND_OUTCOMES.namespaced(&ns).as_str(), 3),
                (USERS_COMMANDS_DLQ.namespaced(&ns).as_str(), 1),
                (CATALOG_COMMANDS.namespaced(&ns).as_str(), 3),
                (CATALOG_EVENTS.namespaced(&ns).as_str(), 3),
                (CATALOG_STATE.namespaced(&ns).as_str(), 3),
                (CATALOG_COMMANDS_DLQ.namespaced(&ns).as_str(), 1),
                (access.as_str(), 1),
            ])
            .await;
        let redis_prefix = format!("{ns}:");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(&ns);
        std::fs::create_dir_all(&dir).unwrap();
        let password_file = dir.join("admin-password");
        std::fs::write(&password_file, format!("{ADMIN_PASSWORD}\n")).unwrap();

        let mut config = Config::default();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.telemetry_listen = "127.0.0.1:0".parse().unwrap();
        config.topic_namespace = ns.clone();
        config.kafka.brokers = infra.brokers.clone();
        config.registry.url = infra.registry_url.clone();
        config.database.url = Secret::new(database.url().to_owned());
        config.database.max_connections = 10;
        config.redis.url = Secret::new(infra.redis_url.clone());
        config.redis.prefix = redis_prefix.clone();
        config.bootstrap_admin.email = Some(ADMIN_EMAIL.into());
        config.bootstrap_admin.password_file = Some(password_file);
        change(&mut config);

        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let kid = format!("test-{suffix}");
        let keys = KeySet::from_keys(vec![(kid.clone(), signing.clone())]);
        let cancel = CancellationToken::new();
        // The processors own their tables and create them when they start;
        // the ingress only reads them. Created here first (as `khlangctl
        // migrate` would), through the owners' own migrations, so that the
        // ingress is ready at once and publishes the bootstrap admin, which
        // the users processor then applies.
        migrate_processors(database.pool()).await;
        let running = khlang_ingress::start(config.clone(), Some(keys), cancel.clone())
            .await
            .expect("ingress starts");
        let base = format!("http://{}", running.addr);
        let mut env = Self {
            infra,
            ns,
            pool: database.pool().clone(),
            database,
            redis_prefix,
            commands,
            access,
            key: TestKey { kid, key: signing },
            base,
            http: Client::new(),
            running,
            cancel,
            users: None,
            catalog: None,
            config,
        };
        env.users = Some(env.processor("users").start());
        env.catalog = Some(env.processor("catalog").start());
        let pool = env.pool.clone();
        eventually(
            "the bootstrap admin is registered",
            Duration::from_secs(90),
            || {
                let pool = pool.clone();
                async move {
                    khlang_users::read::user_by_email(&pool, ADMIN_EMAIL)
                        .await
                        .ok()
                        .flatten()
                }
            },
        )
        .await;
        env
    }

    /// The processor binary `khlang-<name>` against this environment, as
    /// service `<name>-<namespace>`; each start logs to its own file.
    pub fn processor(&self, name: &str) -> Processor {
        Processor::new(
            binary(&format!("khlang-{name}")),
            ProcessorEnv {
                infra: &self.infra,
                database_url: self.database.url(),
                topic_namespace: &self.ns,
                redis_prefix: &self.redis_prefix,
                service: &format!("{name}-{}", self.ns),
            },
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    /// A write with a bearer token, an `Idempotency-Key` and a JSON body.
    pub async fn call_with_key(
        &self,
        method: Method,
        path: &str,
        token: &str,
        key: &str,
        body: Value,
    ) -> Response {
        self.http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the whole token response.
    pub async fn login_response(&self, login: &str, password: &str) -> Response {
        self.call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({ "login": login, "password": password })),
        )
        .await
    }

    /// Signs in; panics unless it works. Returns (access, refresh).
    pub async fn login(&self, login: &str, password: &str) -> (String, String) {
        let response = self.login_response(login, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login as {login}");
        let body: Value = response.json().await.unwrap();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0
    }

    /// Waits for a command's outcome; returns the status body.
    pub async fn outcome(&self, token: &str, command_id: &str) -> Value {
        for _ in 0..20 {
            let response = self
                .call(
                    Method::GET,
                    &format!("/v1/commands/{command_id}?wait=5"),
                    Some(token),
                    None,
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.unwrap();
            if body["status"] != "pending" {
                return body;
            }
        }
        panic!("command {command_id} stayed pending");
    }

    /// Checks that a write was answered 202 and that the processor accepted
    /// its command; returns the answer's body.
    async fn accepted(&self, token: &str, response: Response) -> Value {
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let body: Value = response.json().await.unwrap();
        let outcome = self
            .outcome(token, body["command_id"].as_str().unwrap())
            .await;
        assert_eq!(outcome["status"], "accepted", "{outcome}");
        body
    }

    /// Creates a person through the API and waits until it is accepted.
    /// Returns the user id.
    pub async fn create_user(&self, admin: &str, username: &str, role: &str) -> String {
        let response = self
            .call(
                Method::POST,
                "/v1/users",
                Some(admin),
                Some(json!({
                    "email": format!("{username}@example.co.th"),
                    "username": username,
                    "display_name": format!("ทดสอบ {username}"),
                    "password": PASSWORD,
                    "role": role,
                })),
            )
            .await;
        let body = self.accepted(admin, response).await;
        body["user_id"].as_str().unwrap().to_owned()
    }

    /// Creates a service or device account; returns (user id, secret).
    pub async fn create_machine(
        &self,
        admin: &str,
        username: &str,
        kind: &str,
        scopes: &[&str],
    ) -> (String, String) {
        let response = self
            .call(
                Method::POST,
                "/v1/service-accounts",
                Some(admin),
                Some(json!({
                    "username": username, "display_name": username,
                    "kind": kind, "scopes": scopes,
                })),
            )
            .await;
        let body = self.accepted(admin, response).await;
        (
            body["user_id"].as_str().unwrap().to_owned(),
            body["client_secret"].as_str().unwrap().to_owned(),
        )
    }

    /// Stops the ingress (graceful) and kills the processors.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        let _ = (&mut self.running.task).await;
        self.kill_processors();
    }

    fn kill_processors(&mut self) {
        for mut child in [self.users.take(), self.catalog.take()]
            .into_iter()
            .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.kill_processors();
    }
}

/// The command id in a write's answer.
pub async fn command_id(response: Response) -> String {
    response.json::<Value>().await.unwrap()["command_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The JSON error body, checked for the one error shape.
pub async fn error_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(body["code"].is_string(), "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["fields"].is_array(), "{body}");
    assert!(body["correlation_id"].is_string(), "{body}");
    (status, body)
}
