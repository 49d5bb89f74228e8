//! Shared set-up of the users processor's integration tests: an isolated
//! environment (database, topics, Redis prefix, consumer group) and the real
//! `khlang-users` binary started as a child process.

#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use khlang_codec::Codec;
use khlang_contract::topics::{
    COMMAND_OUTCOMES, USERS_COMMANDS, USERS_COMMANDS_DLQ, USERS_EVENTS, USER_COMMAND_SUBJECT,
};
use khlang_contract::users::{ChangeRole, DeactivateUser, RegisterUser, UpdateUser, UserCommand};
use khlang_contract::{Actor, ActorKind, Envelope, TopicName};
use khlang_testkit::{
    outcomes, send_record, unique_suffix, Infra, Processor, ProcessorEnv, TestDatabase,
};
use rdkafka::producer::FutureProducer;
use sqlx::PgPool;

pub const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

pub struct TestEnv {
    pub infra: Infra,
    pub ns: String,
    /// The database behind `pool`: dropped with the environment, kept when
    /// the test fails.
    database: TestDatabase,
    pub pool: PgPool,
    pub redis_prefix: String,
    pub commands: TopicName,
    pub events: TopicName,
    pub outcomes: TopicName,
    pub dlq: TopicName,
    pub codec: Codec,
    pub producer: FutureProducer,
    pub partitions: i32,
    pub processor: Processor,
}

impl TestEnv {
    pub async fn new(partitions: i32) -> Self {
        let infra = Infra::from_env();
        let suffix = unique_suffix();
        let ns = format!("t{suffix}");
        let database = infra.test_database().await;
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
        let redis_prefix = format!("{ns}:");
        let processor = Processor::new(
            env!("CARGO_BIN_EXE_khlang-users"),
            ProcessorEnv {
                infra: &infra,
                database_url: database.url(),
                topic_namespace: &ns,
                redis_prefix: &redis_prefix,
                service: &format!("users-{suffix}"),
            },
        );
        Self {
            pool: database.pool().clone(),
            database,
            processor,
            redis_prefix,
            infra,
            ns,
            commands,
            events,
            outcomes,
            dlq,
            codec,
            producer,
            partitions,
        }
    }

    /// The connection URL of this environment's database.
    pub fn database_url(&self) -> &str {
        self.database.url()
    }

    /// The log file of the `n`th start (0-based).
    pub fn log(&self, n: usize) -> PathBuf {
        self.processor.log(n)
    }

    /// Starts the real processor binary against this environment; each
    /// start logs to its own file (see [`TestEnv::log`]).
    pub fn start(&self) -> Child {
        self.processor.start()
    }

    pub async fn send(&self, command: &UserCommand, partition: Option<i32>) {
        let payload = self
            .codec
            .encode(self.commands, USER_COMMAND_SUBJECT, command)
            .await
            .unwrap();
        let key = command.user_id.as_str();
        send_record(
            &self.producer,
            self.commands.as_str(),
            key,
            &payload,
            partition,
        )
        .await;
    }

    pub async fn send_raw(&self, key: &str, bytes: &[u8]) {
        send_record(&self.producer, self.commands.as_str(), key, bytes, None).await;
    }

    pub async fn outcome_count(&self) -> i64 {
        outcomes::count(&self.pool).await
    }

    pub async fn outcome(&self, command_id: &str) -> Option<(String, Option<String>)> {
        outcomes::status(&self.pool, command_id).await
    }

    pub async fn wait_for_outcomes(&self, expected: i64, timeout: Duration) {
        outcomes::wait_for(&self.pool, expected, timeout).await;
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
