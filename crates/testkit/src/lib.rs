//! Helpers for integration tests on the real infrastructure.
//!
//! Every test gets isolated resources: its own PostgreSQL database, its own
//! topic namespace (`t<random>.` in front of every topic name), its own
//! Redis key prefix. The endpoints come from the environment written by
//! `scripts/infra/up.sh` (`.khlang/env`); when they are missing the test
//! fails and says how to start the infrastructure, instead of passing.
//!
//! Tests run the real processor binaries as child processes with
//! [`Processor`], and read what a processor recorded with [`outcomes`].
//! They wait for conditions, never for a fixed time: [`eventually`] polls
//! one, [`wait_until_applied`] waits until a processor has applied a topic
//! up to its end offsets, [`wait_for_stable_group`] until a rebalance is over.
//!
//! Tests that must stop or crash Kafka use their own broker instead of the
//! shared one: [`KafkaNode`]. Tests that must take another service away
//! from one process put a [`Link`] between them and cut it.

mod database;
mod kafka_node;
mod link;
pub mod offsets;
pub mod outcomes;
mod processor;

pub use database::TestDatabase;
pub use kafka_node::KafkaNode;
pub use link::Link;
pub use offsets::{wait_for_stable_group, wait_until_applied};
pub use processor::{kill9, terminate, Processor, ProcessorEnv};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use sqlx::PgPool;

/// Endpoints of the running infrastructure.
#[derive(Debug, Clone)]
pub struct Infra {
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Schema registry (Confluent API base).
    pub registry_url: String,
    /// PostgreSQL URL of the main database (tests create their own).
    pub database_url: String,
    /// Redis URL.
    pub redis_url: String,
}

fn required(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: this test needs the real infrastructure. \
             Run `make test`, or `scripts/infra/up.sh && source .khlang/env` first."
        )
    })
}

impl Infra {
    /// Reads the endpoints from the environment; panics with instructions
    /// when they are missing.
    #[must_use]
    pub fn from_env() -> Self {
        Self {
            brokers: required("KHLANG_KAFKA_BROKERS"),
            registry_url: required("KHLANG_REGISTRY_URL"),
            database_url: required("KHLANG_DATABASE_URL"),
            redis_url: required("KHLANG_REDIS_URL"),
        }
    }

    /// A fresh database of the test's own, dropped when the returned value
    /// is (kept when the test fails); see [`TestDatabase`].
    ///
    /// # Panics
    /// When PostgreSQL is unreachable.
    pub async fn test_database(&self) -> TestDatabase {
        TestDatabase::create(&self.database_url).await
    }

    /// Creates a fresh database and returns its URL and a pool on it. The
    /// database is never dropped: prefer [`Infra::test_database`].
    ///
    /// # Panics
    /// When PostgreSQL is unreachable.
    pub async fn fresh_database(&self) -> (String, PgPool) {
        let (_, url, pool) = database::create(&self.database_url).await;
        (url, pool)
    }

    /// An admin client.
    ///
    /// # Panics
    /// When the client cannot be created.
    #[must_use]
    pub fn admin(&self) -> AdminClient<DefaultClientContext> {
        ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .create()
            .expect("admin client")
    }

    /// Creates topics (name, partitions) and waits until they exist.
    ///
    /// # Panics
    /// When Kafka refuses.
    pub async fn create_topics(&self, topics: &[(&str, i32)]) {
        let admin = self.admin();
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|(name, p)| NewTopic::new(name, *p, TopicReplication::Fixed(1)))
            .collect();
        for result in admin
            .create_topics(&new, &AdminOptions::new())
            .await
            .expect("create topics")
        {
            result.expect("topic created");
        }
    }

    /// An idempotent producer (acks=all) with Java-compatible partitioning.
    ///
    /// # Panics
    /// When the client cannot be created.
    pub fn producer(&self) -> FutureProducer {
        ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "5")
            .create()
            .expect("producer")
    }
}

/// Sends one record to `topic` (to `partition`, else where the key hashes)
/// and waits for Kafka's acknowledgement.
///
/// # Panics
/// When Kafka refuses it or does not acknowledge it within 30 seconds.
pub async fn send_record(
    producer: &FutureProducer,
    topic: &str,
    key: &str,
    payload: &[u8],
    partition: Option<i32>,
) {
    let mut record = FutureRecord::to(topic).key(key).payload(payload);
    if let Some(p) = partition {
        record = record.partition(p);
    }
    producer
        .send(record, Duration::from_secs(30))
        .await
        .map_err(|(e, _)| e)
        .expect("record sent");
}

/// A random lowercase suffix for names.
#[must_use]
pub fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A record read back from a topic.
#[derive(Debug, Clone)]
pub struct ReadRecord {
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value.
    pub value: Option<Vec<u8>>,
    /// Headers with UTF-8 values.
    pub headers: HashMap<String, String>,
}

/// Reads every committed record of `topic` (read_committed), from the
/// beginning to the current end of each partition.
///
/// # Panics
/// When Kafka is unreachable or reading takes longer than two minutes.
#[must_use]
pub fn read_committed(brokers: &str, topic: &str) -> Vec<ReadRecord> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("khlang-test-reader-{}", unique_suffix()),
        )
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .expect("consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let partitions: Vec<i32> = metadata.topics()[0]
        .partitions()
        .iter()
        .map(|p| p.id())
        .collect();
    let mut tpl = TopicPartitionList::new();
    let mut ends = HashMap::new();
    for p in &partitions {
        // With read_committed the high watermark is the last stable offset.
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, Duration::from_secs(10))
            .expect("watermarks");
        if high > low {
            ends.insert(*p, high);
            tpl.add_partition_offset(topic, *p, Offset::Beginning)
                .expect("tpl");
        }
    }
    let mut records = Vec::new();
    if ends.is_empty() {
        return records;
    }
    consumer.assign(&tpl).expect("assign");
    let deadline = Instant::now() + Duration::from_secs(120);
    // Every writer has stopped when tests read. The topic is fully read once
    // the position of every partition reaches its end offset (the consumer
    // steps over transaction markers, which are never delivered); should a
    // position stay short of it, once nothing has arrived for a while.
    let reached_ends = |consumer: &BaseConsumer| {
        consumer.position().is_ok_and(|positions| {
            ends.iter().all(|(p, end)| {
                positions
                    .find_partition(topic, *p)
                    .is_some_and(|e| matches!(e.offset(), Offset::Offset(o) if o >= *end))
            })
        })
    };
    let mut last_message = Instant::now();
    loop {
        assert!(Instant::now() < deadline, "reading {topic} timed out");
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            if reached_ends(&consumer) || last_message.elapsed() > Duration::from_secs(3) {
                break;
            }
            continue;
        };
        let message = message.expect("message");
        last_message = Instant::now();
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|header| {
                        (
                            header.key.to_owned(),
                            String::from_utf8_lossy(header.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        records.push(ReadRecord {
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            headers,
        });
    }
    records
}

/// Polls `check` every 100 ms until it returns `Some`, or panics with
/// `what` after `timeout`.
///
/// # Panics
/// On timeout.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `target/tmp` of the running test binary (`target/<profile>/deps/<test>`),
/// or of this workspace.
pub(crate) fn tmp_root() -> PathBuf {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        if deps.file_name()? != "deps" {
            return None;
        }
        Some(deps.parent()?.parent()?.join("tmp"))
    });
    if let Some(tmp) = from_exe {
        return tmp;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tmp")
}
