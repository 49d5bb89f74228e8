//! The consumer thread: polls Kafka, seeks to PostgreSQL offsets on
//! assignment, drains the applier on revocation, and feeds records to the
//! applier through a bounded queue (backpressure instead of unbounded memory).

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::CommitMode;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::message::Message;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::ClientContext;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::metrics::RuntimeMetrics;
use crate::processor::RecordMeta;
use crate::store;

/// A record copied out of librdkafka's buffers.
#[derive(Debug, Clone)]
pub(crate) struct OwnedRecord {
    pub meta: RecordMeta,
    pub payload: Option<Vec<u8>>,
}

/// What flows from the consumer thread to the applier.
pub(crate) enum Item {
    Record(OwnedRecord),
    /// Answered once everything queued before it has been applied.
    Barrier(std::sync::mpsc::SyncSender<()>),
}

/// Rebalance handling of the runtime's consumer.
pub(crate) struct RuntimeContext {
    pub pool: PgPool,
    pub group: String,
    pub handle: tokio::runtime::Handle,
    pub queue: mpsc::Sender<Item>,
    pub drain_timeout: Duration,
}

impl ClientContext for RuntimeContext {}

impl ConsumerContext for RuntimeContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                self.seek_to_stored_offsets(tpl);
                if let Err(error) = consumer.assign(tpl) {
                    tracing::error!(%error, "assign failed");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(partitions = tpl.count(), "partitions revoked, draining");
                self.drain();
                if let Err(error) = consumer.unassign() {
                    tracing::error!(%error, "unassign failed");
                }
            }
            other => {
                tracing::error!(error = ?other, "rebalance error");
                self.drain();
                let _ = consumer.unassign();
            }
        }
    }
}

impl RuntimeContext {
    /// Sets every assigned partition's start to the offset stored in
    /// PostgreSQL, or the beginning when none is stored.
    fn seek_to_stored_offsets(&self, tpl: &mut TopicPartitionList) {
        let mut by_topic: BTreeMap<String, Vec<i32>> = BTreeMap::new();
        for element in tpl.elements() {
            by_topic
                .entry(element.topic().to_owned())
                .or_default()
                .push(element.partition());
        }
        for (topic, partitions) in by_topic {
            let stored = self.load_with_retries(&topic, &partitions);
            for partition in partitions {
                let offset = stored
                    .get(&partition)
                    .map_or(Offset::Beginning, |o| Offset::Offset(*o));
                if let Err(error) = tpl.set_partition_offset(&topic, partition, offset) {
                    tracing::error!(%error, topic, partition, "cannot set start offset");
                }
                tracing::info!(topic, partition, start = ?offset, "partition assigned");
            }
        }
    }

    fn load_with_retries(&self, topic: &str, partitions: &[i32]) -> HashMap<i32, i64> {
        for attempt in 1..=5 {
            let loaded = self.handle.block_on(store::load_offsets(
                &self.pool,
                &self.group,
                topic,
                partitions,
            ));
            match loaded {
                Ok(offsets) => return offsets,
                Err(error) => {
                    tracing::warn!(%error, attempt, "loading stored offsets failed");
                    std::thread::sleep(Duration::from_millis(200 * attempt));
                }
            }
        }
        // Starting from the beginning is safe: records below the stored
        // offset are skipped inside the apply transaction. It only costs time.
        tracing::error!(
            topic,
            "stored offsets unavailable, starting from the beginning"
        );
        HashMap::new()
    }

    /// Waits until the applier has committed everything queued so far, at
    /// most `drain_timeout`.
    pub(crate) fn drain(&self) {
        let (done_tx, done_rx) = sync_channel(1);
        // The timeout future needs the runtime's timer: build it inside block_on.
        let queued = self.handle.block_on(async {
            tokio::time::timeout(self.drain_timeout, self.queue.send(Item::Barrier(done_tx))).await
        });
        if !matches!(queued, Ok(Ok(()))) {
            tracing::warn!("drain skipped: applier queue unavailable");
            return;
        }
        match done_rx.recv_timeout(self.drain_timeout) {
            Ok(()) => tracing::info!("drained in-flight records"),
            Err(_) => tracing::warn!(
                timeout_ms = self.drain_timeout.as_millis() as u64,
                "drain timed out"
            ),
        }
    }
}

/// Next offsets the applier has committed to PostgreSQL, per partition; the
/// consumer thread mirrors them to Kafka for lag tooling and computes lag.
pub(crate) type Positions = Arc<std::sync::Mutex<HashMap<(String, i32), i64>>>;

/// Polls until cancelled, then drains and leaves the group. Owns the
/// consumer so that closing it (which runs the revoke callback) happens on
/// this thread, outside the async runtime.
pub(crate) fn consume_loop(
    consumer: BaseConsumer<RuntimeContext>,
    queue: mpsc::Sender<Item>,
    cancel: CancellationToken,
    metrics: RuntimeMetrics,
    positions: Positions,
) {
    let mut last_mirror = std::time::Instant::now();
    while !cancel.is_cancelled() {
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(error)) => tracing::warn!(%error, "consumer error"),
            Some(Ok(message)) => {
                metrics.records_consumed.inc();
                let record = OwnedRecord {
                    meta: RecordMeta {
                        topic: message.topic().to_owned(),
                        partition: message.partition(),
                        offset: message.offset(),
                        key: message.key().map(<[u8]>::to_vec),
                    },
                    payload: message.payload().map(<[u8]>::to_vec),
                };
                if queue.blocking_send(Item::Record(record)).is_err() {
                    break;
                }
            }
        }
        if last_mirror.elapsed() >= Duration::from_secs(2) {
            mirror_positions(&consumer, &positions);
            last_mirror = std::time::Instant::now();
        }
    }
    tracing::info!("consumer stopping: draining and leaving the group");
    consumer.context().drain();
    mirror_positions(&consumer, &positions);
    drop(queue);
    // Closing runs the revoke callback (another, now empty, drain) here.
    drop(consumer);
}

/// Commits the applied positions to Kafka (a mirror of the PostgreSQL
/// offsets, for `khlangctl lag` and standard tools). Never blocks: the lag
/// gauge is computed on a thread of its own ([`watch_lag`]), because asking
/// the broker for watermarks here stalled polling after idle spells.
fn mirror_positions(consumer: &BaseConsumer<RuntimeContext>, positions: &Positions) {
    let snapshot: Vec<((String, i32), i64)> = match positions.lock() {
        Ok(map) => map.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        Err(_) => return,
    };
    let assigned = consumer.assignment().unwrap_or_default();
    let mut tpl = TopicPartitionList::new();
    for ((topic, partition), next) in &snapshot {
        if assigned.find_partition(topic, *partition).is_none() {
            continue;
        }
        let _ = tpl.add_partition_offset(topic, *partition, Offset::Offset(*next));
    }
    if tpl.count() > 0 {
        if let Err(error) = consumer.commit(&tpl, CommitMode::Async) {
            tracing::debug!(%error, "mirroring offsets to kafka failed");
        }
    }
}

/// Updates the lag gauge every `every` from the broker's high watermarks,
/// on a thread of its own with its own client, until `cancel`.
pub(crate) fn watch_lag(
    client: BaseConsumer,
    positions: Positions,
    metrics: RuntimeMetrics,
    every: Duration,
    cancel: CancellationToken,
) {
    while !cancel.is_cancelled() {
        let snapshot: Vec<((String, i32), i64)> = match positions.lock() {
            Ok(map) => map.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            Err(_) => return,
        };
        for ((topic, partition), next) in snapshot {
            if let Ok((_, high)) =
                client.fetch_watermarks(&topic, partition, Duration::from_secs(2))
            {
                metrics
                    .consumer_lag
                    .get_or_create(&crate::metrics::PartitionLabels { topic, partition })
                    .set((high - next).max(0));
            }
        }
        let deadline = std::time::Instant::now() + every;
        while std::time::Instant::now() < deadline && !cancel.is_cancelled() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
