//! Stream–table joins: a processor that needs another domain's data
//! consumes that domain's compacted state topic into a table of its own.
//!
//! - **The whole topic, always.** A join assigns itself every partition of
//!   its source (it never subscribes: a consumer group would give each
//!   instance only a share, and each instance needs the whole table) and
//!   reads from the offsets stored in PostgreSQL, or from the beginning; a
//!   compacted topic holds the whole current state, so a new instance or a
//!   rebuilt table starts complete.
//! - **Offsets in the same transaction as the table.** Each batch of
//!   records is applied through a [`JoinHandler`] in one transaction that
//!   also stores the next offset of every partition (in
//!   `khlang_runtime.consumer_offsets`, under the join's own group name).
//!   The offset rows are locked and records below them skipped, so several
//!   instances may share one table: each runs its own join, whichever is
//!   ahead does the work and the others skip it. The stored offset is the
//!   consumer's position, which moves past transaction markers, so a table
//!   that holds everything has stored offsets equal to the end offsets.
//! - **Catching up to the end, on demand.** [`Join::catch_up`] waits
//!   (bounded) until the table holds everything the source has published:
//!   first until every outbox row already committed for the source topic has
//!   been published (the source's relay deletes a row only after the Kafka
//!   transaction holding it committed), then until the stored offsets reach
//!   the high watermarks the broker reports (read_uncommitted: the last
//!   stable offset can lag a transaction that already committed, until its
//!   markers are written). A processor calls it on a lookup
//!   miss before deciding that a key does not exist; see `docs/stock.md` for
//!   why waiting for the end offsets alone is not enough.
//!
//! Start one with [`start_join`]; it runs on a thread of its own until the
//! cancellation token fires.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use khlang_codec::{Codec, CodecError};
use khlang_contract::TopicName;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use serde::de::DeserializeOwned;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::metrics::{CatchUpLabels, JoinLabels};
use crate::{store, ApplyError, RuntimeError, RuntimeMetrics};

/// How often a catch-up wait looks again at the outbox and the stored offsets.
const CATCH_UP_POLL: Duration = Duration::from_millis(5);
const KAFKA_TIMEOUT: Duration = Duration::from_secs(10);

/// How one join consumes.
#[derive(Debug, Clone)]
pub struct JoinConfig {
    /// Short name fixed by the code (`catalog`): logs and metric labels.
    pub name: String,
    /// The group its offsets are stored under in
    /// `khlang_runtime.consumer_offsets`, e.g. `khlang-stock-join-catalog`;
    /// instances that share the table share this name.
    pub offsets_group: String,
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// The compacted source topic.
    pub topic: TopicName,
    /// Most records applied in one transaction.
    pub max_batch: usize,
    /// Upper bound of one [`Join::catch_up`] wait.
    pub catch_up_timeout: Duration,
    /// How long [`start_join`] waits for the source topic to exist.
    pub topic_wait: Duration,
    /// Extra librdkafka settings.
    pub kafka_overrides: BTreeMap<String, String>,
}

impl JoinConfig {
    /// Defaults for the join `name` of `topic`, storing offsets under
    /// `offsets_group`.
    #[must_use]
    pub fn new(name: &str, offsets_group: &str, brokers: &str, topic: TopicName) -> Self {
        Self {
            name: name.to_owned(),
            offsets_group: offsets_group.to_owned(),
            brokers: brokers.to_owned(),
            topic,
            max_batch: 500,
            catch_up_timeout: Duration::from_secs(5),
            topic_wait: Duration::from_secs(60),
            kafka_overrides: BTreeMap::new(),
        }
    }
}

/// One record of the source topic, decoded.
#[derive(Debug, Clone)]
pub struct JoinRecord<V> {
    /// The record key (the aggregate id).
    pub key: Option<Vec<u8>>,
    /// The state; `None` for a tombstone (the key was deleted).
    pub value: Option<V>,
    /// Source partition.
    pub partition: i32,
    /// Source offset.
    pub offset: i64,
}

/// Writes the records of a source topic into the joined table.
#[async_trait]
pub trait JoinHandler: Send + Sync + 'static {
    /// The decoded value of the source topic.
    type Value: DeserializeOwned + Send + Sync;

    /// Applies one record in the batch's transaction: upsert (or delete, for
    /// a tombstone) the row of its key. Records of one key arrive in order;
    /// the same record may arrive again after a crash only if its
    /// transaction did not commit.
    ///
    /// # Errors
    /// [`ApplyError::Poison`] (decided before writing anything) skips the
    /// record; any other error retries the whole batch.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        record: &JoinRecord<Self::Value>,
    ) -> Result<(), ApplyError>;
}

/// How a [`Join::catch_up`] wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// The table holds everything published to the source before the wait
    /// began.
    CaughtUp,
    /// The bound passed first (the source's relay or this join is behind or
    /// down): the table may miss the newest records.
    TimedOut,
    /// PostgreSQL or Kafka could not be asked.
    Failed,
}

impl CatchUp {
    fn as_str(self) -> &'static str {
        match self {
            CatchUp::CaughtUp => "caught_up",
            CatchUp::TimedOut => "timed_out",
            CatchUp::Failed => "failed",
        }
    }
}

/// A running join: ask it to catch up before trusting a lookup miss.
#[derive(Clone)]
pub struct Join {
    shared: Arc<Shared>,
}

struct Shared {
    config: JoinConfig,
    pool: PgPool,
    metrics: RuntimeMetrics,
    partitions: Vec<i32>,
    watermarks: BaseConsumer,
}

impl std::fmt::Debug for Join {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Join")
            .field("name", &self.shared.config.name)
            .field("topic", &self.shared.config.topic)
            .finish_non_exhaustive()
    }
}

fn client(config: &JoinConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.brokers)
        .set("group.id", &config.offsets_group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed");
    for (key, value) in &config.kafka_overrides {
        client.set(key, value);
    }
    client
}

/// Starts the join on a thread of its own, reading from the offsets stored
/// for `config.offsets_group` (or the beginning), applying through
/// `handler`, until `cancel`.
///
/// # Errors
/// When the Kafka clients cannot be created, the source topic does not
/// exist within `config.topic_wait`, or the stored offsets cannot be read.
pub async fn start_join<H: JoinHandler>(
    config: JoinConfig,
    handler: H,
    pool: PgPool,
    codec: Codec,
    metrics: RuntimeMetrics,
    cancel: CancellationToken,
) -> Result<(Join, std::thread::JoinHandle<()>), RuntimeError> {
    let consumer: BaseConsumer = client(&config).create()?;
    // The end offsets must count a record as soon as it is appended: a
    // committed Kafka transaction's markers are written after the producer
    // hears "committed", so a read_committed end offset (the last stable
    // offset) can still lie before a record whose commit already returned.
    let watermarks: BaseConsumer = client(&config)
        .set("isolation.level", "read_uncommitted")
        .create()?;
    let (consumer, partitions) = {
        let topic = config.topic;
        let wait = config.topic_wait;
        tokio::task::spawn_blocking(move || {
            let partitions = partitions_of(&consumer, topic, wait)?;
            Ok::<_, RuntimeError>((consumer, partitions))
        })
        .await
        .map_err(|e| RuntimeError::Worker(e.to_string()))??
    };
    let stored = store::load_offsets(
        &pool,
        &config.offsets_group,
        config.topic.as_str(),
        &partitions,
    )
    .await?;
    let mut tpl = TopicPartitionList::new();
    for &partition in &partitions {
        let start = stored
            .get(&partition)
            .map_or(Offset::Beginning, |o| Offset::Offset(*o));
        tpl.add_partition_offset(config.topic.as_str(), partition, start)?;
    }
    consumer.assign(&tpl)?;
    tracing::info!(
        join = %config.name, topic = %config.topic, partitions = partitions.len(),
        "join assigned every partition"
    );
    let shared = Arc::new(Shared {
        config,
        pool,
        metrics,
        partitions,
        watermarks,
    });
    let worker = Worker {
        shared: shared.clone(),
        handler: Arc::new(handler),
        codec,
        stored,
        handle: tokio::runtime::Handle::current(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("join-{}", shared.config.name))
        .spawn(move || worker.run(&consumer, &cancel))
        .map_err(RuntimeError::Telemetry)?;
    Ok((Join { shared }, thread))
}

/// The partitions of `topic`, waiting up to `wait` for it to exist.
fn partitions_of(
    consumer: &BaseConsumer,
    topic: TopicName,
    wait: Duration,
) -> Result<Vec<i32>, RuntimeError> {
    let deadline = Instant::now() + wait;
    loop {
        let found = consumer
            .fetch_metadata(Some(topic.as_str()), KAFKA_TIMEOUT)
            .ok()
            .and_then(|metadata| {
                metadata
                    .topics()
                    .iter()
                    .find(|t| t.name() == topic.as_str() && t.error().is_none())
                    .map(|t| t.partitions().iter().map(|p| p.id()).collect::<Vec<_>>())
            })
            .filter(|p| !p.is_empty());
        if let Some(partitions) = found {
            return Ok(partitions);
        }
        if Instant::now() >= deadline {
            return Err(RuntimeError::Worker(format!(
                "join source topic {topic} does not exist: run `khlangctl topics apply`"
            )));
        }
        tracing::warn!(%topic, "join source topic not found yet");
        std::thread::sleep(Duration::from_millis(500));
    }
}

impl Join {
    /// The join's configuration.
    #[must_use]
    pub fn config(&self) -> &JoinConfig {
        &self.shared.config
    }

    /// Waits, at most `catch_up_timeout`, until the table holds every record
    /// published to the source before this call (see the module docs).
    /// Counted in `khlang_runtime_join_catch_ups{outcome}` and timed in
    /// `khlang_runtime_join_catch_up_seconds`.
    pub async fn catch_up(&self) -> CatchUp {
        let started = Instant::now();
        let deadline = started + self.shared.config.catch_up_timeout;
        let outcome = match self.wait(deadline).await {
            Ok(true) => CatchUp::CaughtUp,
            Ok(false) => CatchUp::TimedOut,
            Err(error) => {
                tracing::warn!(%error, join = %self.shared.config.name, "join catch-up failed");
                CatchUp::Failed
            }
        };
        let elapsed = started.elapsed();
        let metrics = &self.shared.metrics;
        metrics.join_catch_up_seconds.observe(elapsed.as_secs_f64());
        metrics
            .join_catch_ups
            .get_or_create(&CatchUpLabels {
                join: self.shared.config.name.clone(),
                outcome: outcome.as_str().to_owned(),
            })
            .inc();
        if outcome != CatchUp::CaughtUp {
            tracing::warn!(
                join = %self.shared.config.name, outcome = outcome.as_str(),
                waited_ms = elapsed.as_millis() as u64, "join did not catch up"
            );
        }
        outcome
    }

    /// `Ok(false)` when `deadline` passed first.
    async fn wait(&self, deadline: Instant) -> Result<bool, RuntimeError> {
        let shared = &self.shared;
        let topic = shared.config.topic.as_str();
        // 1. Everything already committed to the outbox for the source topic
        // is on Kafka.
        let fence: Option<i64> = sqlx::query_scalar(include_str!("queries/outbox_fence.sql"))
            .bind(topic)
            .fetch_one(&shared.pool)
            .await?;
        if let Some(seq) = fence {
            loop {
                let pending: bool =
                    sqlx::query_scalar(include_str!("queries/outbox_pending_up_to.sql"))
                        .bind(topic)
                        .bind(seq)
                        .fetch_one(&shared.pool)
                        .await?;
                if !pending {
                    break;
                }
                if Instant::now() >= deadline {
                    return Ok(false);
                }
                tokio::time::sleep(CATCH_UP_POLL).await;
            }
        }
        // 2. The end of every partition now.
        let ends = {
            let shared = self.shared.clone();
            tokio::task::spawn_blocking(move || {
                let mut ends = HashMap::new();
                for &partition in &shared.partitions {
                    let (_, high) = shared.watermarks.fetch_watermarks(
                        shared.config.topic.as_str(),
                        partition,
                        KAFKA_TIMEOUT,
                    )?;
                    ends.insert(partition, high);
                }
                Ok::<_, RuntimeError>(ends)
            })
            .await
            .map_err(|e| RuntimeError::Worker(e.to_string()))??
        };
        // 3. The table's stored offsets reach it.
        loop {
            let stored = store::load_offsets(
                &shared.pool,
                &shared.config.offsets_group,
                topic,
                &shared.partitions,
            )
            .await?;
            let behind = ends
                .iter()
                .any(|(p, end)| stored.get(p).copied().unwrap_or(0) < *end);
            if !behind {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(CATCH_UP_POLL).await;
        }
    }
}

/// A record copied out of librdkafka's buffers.
struct Raw {
    key: Option<Vec<u8>>,
    payload: Option<Vec<u8>>,
    partition: i32,
    offset: i64,
}

struct Worker<H: JoinHandler> {
    shared: Arc<Shared>,
    handler: Arc<H>,
    codec: Codec,
    /// Next offsets known to be stored (by this or another instance).
    stored: HashMap<i32, i64>,
    handle: tokio::runtime::Handle,
}

impl<H: JoinHandler> Worker<H> {
    fn run(mut self, consumer: &BaseConsumer, cancel: &CancellationToken) {
        let max_batch = self.shared.config.max_batch.max(1);
        while !cancel.is_cancelled() {
            let mut records = Vec::new();
            let mut timeout = Duration::from_millis(100);
            while records.len() < max_batch {
                match consumer.poll(timeout) {
                    None => break,
                    Some(Err(error)) => {
                        tracing::warn!(%error, join = %self.shared.config.name, "join consumer error");
                        break;
                    }
                    Some(Ok(message)) => records.push(Raw {
                        key: message.key().map(<[u8]>::to_vec),
                        payload: message.payload().map(<[u8]>::to_vec),
                        partition: message.partition(),
                        offset: message.offset(),
                    }),
                }
                timeout = Duration::ZERO;
            }
            let next = self.next_offsets(consumer, &records);
            if records.is_empty() && next.is_empty() {
                continue;
            }
            let mut backoff = Duration::from_millis(100);
            loop {
                match self.handle.block_on(self.apply(&records, &next)) {
                    Ok(stored) => {
                        self.stored.extend(stored);
                        break;
                    }
                    Err(error) => {
                        tracing::warn!(%error, join = %self.shared.config.name, "join batch failed, retrying");
                        if cancel.is_cancelled() {
                            return;
                        }
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
        tracing::info!(join = %self.shared.config.name, "join stopped");
    }

    /// The next offset of every partition that moved past what is stored:
    /// past the records of the batch, and past transaction markers (the
    /// consumer's position moves over them, the records do not).
    fn next_offsets(&self, consumer: &BaseConsumer, records: &[Raw]) -> BTreeMap<i32, i64> {
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        for record in records {
            let entry = next.entry(record.partition).or_insert(0);
            *entry = (*entry).max(record.offset + 1);
        }
        if let Ok(positions) = consumer.position() {
            for element in positions.elements() {
                if let Offset::Offset(position) = element.offset() {
                    let entry = next.entry(element.partition()).or_insert(0);
                    *entry = (*entry).max(position);
                }
            }
        }
        next.retain(|p, o| *o > self.stored.get(p).copied().unwrap_or(0));
        next
    }

    /// One transaction: the records at or above the stored offsets, and the
    /// new offsets. Returns the offsets now stored.
    async fn apply(
        &self,
        records: &[Raw],
        next: &BTreeMap<i32, i64>,
    ) -> Result<HashMap<i32, i64>, ApplyError> {
        let config = &self.shared.config;
        let mut decoded = Vec::with_capacity(records.len());
        for raw in records {
            let value = match raw.payload.as_deref() {
                None => None,
                Some(bytes) => match self.codec.decode::<H::Value>(bytes).await {
                    Ok(value) => Some(value),
                    Err(error @ CodecError::Unavailable(_)) => return Err(error.into()),
                    Err(error) => {
                        tracing::warn!(
                            %error, join = %config.name, partition = raw.partition,
                            offset = raw.offset, "join record undecodable, skipped"
                        );
                        continue;
                    }
                },
            };
            decoded.push(JoinRecord {
                key: raw.key.clone(),
                value,
                partition: raw.partition,
                offset: raw.offset,
            });
        }
        let partitions: Vec<i32> = next
            .keys()
            .copied()
            .chain(records.iter().map(|r| r.partition))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let topic = config.topic.as_str();
        let mut tx = self.shared.pool.begin().await?;
        let locked =
            store::lock_offsets(&mut tx, &config.offsets_group, topic, &partitions).await?;
        let mut applied = 0u64;
        for record in &decoded {
            if record.offset < locked.get(&record.partition).copied().unwrap_or(0) {
                continue; // another instance applied it
            }
            match self.handler.apply(&mut tx, record).await {
                Ok(()) => applied += 1,
                Err(ApplyError::Poison(reason)) => tracing::warn!(
                    %reason, join = %config.name, partition = record.partition,
                    offset = record.offset, "join record refused, skipped"
                ),
                Err(error) => return Err(error),
            }
        }
        let mut stored: HashMap<i32, i64> = locked.clone();
        let mut advanced = Vec::new();
        for (&partition, &offset) in next {
            if offset > locked.get(&partition).copied().unwrap_or(0) {
                advanced.push((topic, partition, offset));
                stored.insert(partition, offset);
            }
        }
        store::store_offsets(&mut tx, &config.offsets_group, &advanced).await?;
        tx.commit().await?;
        self.shared
            .metrics
            .join_records
            .get_or_create(&JoinLabels {
                join: config.name.clone(),
            })
            .inc_by(applied);
        Ok(stored)
    }
}
