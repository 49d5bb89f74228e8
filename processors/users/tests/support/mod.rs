//! Shared set-up of the users processor's integration tests: an isolated
//! environment (database, topics, Redis prefix, consumer group) and the real
//! `khlang-users` binary started as a child process.

#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use khlang_codec::Codec;
use khlang_contract::topics::{
    COMMAND_OUTCOMES, USERS_COMMANDS, USERS_COMMANDS_DLQ, USERS_EVENTS, USER_COMMAND_SUBJECT,
};
use khlang_contract::users::{ChangeRole, DeactivateUser, RegisterUser, UpdateUser, UserCommand};
use khlang_contract::{Actor, ActorKind, Envelope, TopicName};
use khlang_testkit::{unique_suffix, Infra};
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::{PgPool, Row};

pub const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

pub struct TestEnv {
    pub infra: Infra,
    pub ns: String,
    pub service: String,
    pub db_url: String,
    pub pool: PgPool,
    pub redis_prefix: String,
    pub commands: TopicName,
    pub events: TopicName,
    pub outcomes: TopicName,
    pub dlq: TopicName,
    pub codec: Codec,
    pub producer: FutureProducer,
    pub partitions: i32,
    pub log_dir: PathBuf,
    pub starts: std::sync::atomic::AtomicUsize,
}

impl TestEnv {
    pub async fn new(partitions: i32) -> Self {
        let infra = Infra::from_env();
        let suffix = unique_suffix();
        let ns = format!("t{suffix}");
        let (db_url, pool) = infra.fresh_database().await;
        let commands = USERS_COMMANDS.namespaced(&ns);
        let events = USERS_EVENTS.namespaced(&ns);
        let outcomes = COMMAND_OUTCOMES.namespaced(&ns);
        let dlq = USERS_COMMANDS_DLQ.namespaced(&ns);
        infra
            .create_topics(&[
                (commands.as_str(), partitions),
                (events.as_str(), partitions),
                (outcomes.as_str(), partitions),
                (dlq.as_str(), 1),
            ])
            .await;
        let codec = Codec::new(&infra.registry_url).unwrap();
        let producer = infra.producer();
        let log_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("logs");
        std::fs::create_dir_all(&log_dir).unwrap();
        Self {
            log_dir,
            starts: std::sync::atomic::AtomicUsize::new(0),
            redis_prefix: format!("{ns}:"),
            service: format!("users-{suffix}"),
            infra,
            ns,
            db_url,
            pool,
            commands,
            events,
            outcomes,
            dlq,
            codec,
            producer,
            partitions,
        }
    }

    /// The log file of the `n`th start (0-based).
    pub fn log(&self, n: usize) -> PathBuf {
        self.log_dir
            .join(format!("khlang-users-{}-{n}.log", self.ns))
    }

    /// Starts the real processor binary against this environment; each
    /// start logs to its own file (see [`TestEnv::log`]).
    pub fn start(&self) -> Child {
        let n = self
            .starts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(n))
            .unwrap();
        Command::new(env!("CARGO_BIN_EXE_khlang-users"))
            .env("KHLANG_KAFKA_BROKERS", &self.infra.brokers)
            .env("KHLANG_REGISTRY_URL", &self.infra.registry_url)
            .env("KHLANG_DATABASE_URL", &self.db_url)
            .env("KHLANG_REDIS_URL", &self.infra.redis_url)
            .env("KHLANG__REDIS__PREFIX", &self.redis_prefix)
            .env("KHLANG__TOPIC_NAMESPACE", &self.ns)
            .env("KHLANG__SERVICE", &self.service)
            .env("KHLANG__TELEMETRY_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start khlang-users")
    }

    pub fn kill9(child: &mut Child) {
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(child: &mut Child) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let status = child.wait().unwrap();
        assert!(status.success(), "processor exited with {status}");
    }

    pub async fn send(&self, command: &UserCommand, partition: Option<i32>) {
        let payload = self
            .codec
            .encode(self.commands, USER_COMMAND_SUBJECT, command)
            .await
            .unwrap();
        let mut record = FutureRecord::to(self.commands.as_str())
            .key(command.user_id.as_str())
            .payload(&payload);
        if let Some(p) = partition {
            record = record.partition(p);
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }

    pub async fn send_raw(&self, key: &str, bytes: &[u8]) {
        let record = FutureRecord::to(self.commands.as_str())
            .key(key)
            .payload(bytes);
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }

    pub async fn outcome_count(&self) -> i64 {
        match sqlx::query("SELECT count(*) FROM khlang_runtime.command_outcomes")
            .fetch_one(&self.pool)
            .await
        {
            Ok(row) => row.get(0),
            Err(_) => 0, // tables not migrated yet
        }
    }

    pub async fn outcome(&self, command_id: &str) -> Option<(String, Option<String>)> {
        sqlx::query(
            "SELECT status, reason_code FROM khlang_runtime.command_outcomes WHERE command_id = $1",
        )
        .bind(command_id)
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten()
        .map(|r| (r.get(0), r.get(1)))
    }

    pub async fn wait_for_outcomes(&self, expected: i64, timeout: Duration) {
        khlang_testkit::eventually("all outcomes", timeout, || async {
            (self.outcome_count().await >= expected).then_some(())
        })
        .await;
    }
}

fn envelope(kind: &str) -> Envelope {
    let actor = Actor {
        id: "test-admin".into(),
        kind: ActorKind::User,
        role: "admin".into(),
    };
    let mut envelope = Envelope::new(kind, actor, &uuid::Uuid::now_v7().to_string(), "test");
    envelope.correlation_id = uuid::Uuid::now_v7().to_string();
    envelope
}

pub fn register(user_id: &str, email: &str, username: &str, role: &str) -> UserCommand {
    let mut c = UserCommand::empty(envelope("RegisterUser"), user_id.to_owned());
    c.register = Some(RegisterUser {
        email: email.into(),
        username: username.into(),
        display_name: format!("ผู้ใช้ {username}"),
        password_hash: HASH.into(),
        role: role.into(),
        scopes: None,
    });
    c
}

pub fn rename(user_id: &str, name: &str) -> UserCommand {
    let mut c = UserCommand::empty(envelope("UpdateUser"), user_id.to_owned());
    c.update = Some(UpdateUser {
        display_name: Some(name.into()),
        ..UpdateUser::default()
    });
    c
}

pub fn change_role(user_id: &str, role: &str) -> UserCommand {
    let mut c = UserCommand::empty(envelope("ChangeRole"), user_id.to_owned());
    c.change_role = Some(ChangeRole { role: role.into() });
    c
}

pub fn deactivate(user_id: &str) -> UserCommand {
    let mut c = UserCommand::empty(envelope("DeactivateUser"), user_id.to_owned());
    c.deactivate = Some(DeactivateUser {
        reason: Some("left the company".into()),
    });
    c
}
