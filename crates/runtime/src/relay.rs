//! The outbox relay: publishes committed outbox rows exactly once.
//!
//! Only one relay per processor publishes at a time (a PostgreSQL advisory
//! lock elects it). It uses a transactional producer whose transactional id
//! is the relay name, so a previous holder that is still alive is fenced off
//! by Kafka. Each Kafka transaction carries a batch of outbox rows *and* the
//! relay's progress — the next outbox sequence — committed as the offset of a
//! consumer group named after the relay (`sendOffsetsToTransaction`). After
//! a crash the new relay reads that progress back (read_committed) and
//! deletes the rows it covers before publishing the rest, so a
//! `read_committed` consumer never sees an event twice.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres, Row};
use tokio_util::sync::CancellationToken;

use crate::store::{self, OutboxRow};
use crate::{RuntimeConfig, RuntimeError, RuntimeMetrics};

const BATCH_ROWS: i64 = 1000;
const KAFKA_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Relay {
    pub pool: PgPool,
    pub config: RuntimeConfig,
    pub metrics: RuntimeMetrics,
    pub cancel: CancellationToken,
    /// Ready once the relay has recovered and publishes.
    pub health: khlang_telemetry::Health,
}

impl Relay {
    /// Publishes until cancelled, restarting itself after failures. At
    /// cancellation it drains what is already in the outbox (bounded).
    pub(crate) async fn run(self) {
        let mut backoff = Duration::from_millis(200);
        while !self.cancel.is_cancelled() {
            match self.lead().await {
                Ok(()) => return,
                Err(error) => {
                    self.health.set_ready(false);
                    tracing::error!(%error, "relay failed, restarting");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = self.cancel.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Waits for leadership, recovers, then publishes until cancelled.
    async fn lead(&self) -> Result<(), RuntimeError> {
        let name = self.config.relay_name();
        let Some(_leadership) = self.acquire_leadership(&name).await? else {
            return Ok(());
        };
        let producer = Arc::new(self.producer(&name)?);
        let progress = Arc::new(self.progress_consumer(&name)?);
        blocking({
            let producer = producer.clone();
            move || producer.init_transactions(KAFKA_TIMEOUT)
        })
        .await?;
        let next_seq = self.published_up_to(&progress, &name).await?;
        let removed = store::delete_outbox(&self.pool, &name, next_seq - 1).await?;
        tracing::info!(relay = %name, next_seq, removed, "relay recovered");
        self.health.set_ready(true);
        let mut idle_rounds = 0u32;
        loop {
            let rows = store::fetch_outbox(&self.pool, &name, BATCH_ROWS).await?;
            if rows.is_empty() {
                if self.cancel.is_cancelled() {
                    return Ok(());
                }
                idle_rounds += 1;
                if idle_rounds % 200 == 1 {
                    self.metrics
                        .outbox_backlog
                        .set(store::count_outbox(&self.pool, &name).await?);
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(5)) => {}
                    () = self.cancel.cancelled() => {}
                }
                continue;
            }
            idle_rounds = 0;
            let last = self.publish(&producer, &progress, &rows).await?;
            store::delete_outbox(&self.pool, &name, last).await?;
            self.metrics.relay_published.inc_by(rows.len() as u64);
            self.metrics
                .outbox_backlog
                .set(store::count_outbox(&self.pool, &name).await?);
        }
    }

    /// Holds a PostgreSQL advisory lock on a dedicated connection for as
    /// long as the returned connection lives. `None` when cancelled first.
    async fn acquire_leadership(
        &self,
        name: &str,
    ) -> Result<Option<PoolConnection<Postgres>>, RuntimeError> {
        loop {
            let mut conn = self.pool.acquire().await?;
            let locked: bool = sqlx::query(include_str!("queries/relay_lock.sql"))
                .bind(name)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            if locked {
                tracing::info!(relay = %name, "relay leadership acquired");
                return Ok(Some(conn));
            }
            drop(conn);
            // A standby is healthy: it applies its partitions, and the
            // leader publishes the whole outbox, its rows included.
            self.health.set_ready(true);
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = self.cancel.cancelled() => return Ok(None),
            }
        }
    }

    fn producer(&self, name: &str) -> Result<FutureProducer, RuntimeError> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.config.brokers)
            .set("transactional.id", name)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "2")
            .set("transaction.timeout.ms", "60000")
            .set("partitioner", "murmur2_random");
        for (key, value) in &self.config.kafka_overrides {
            config.set(key, value);
        }
        Ok(config.create()?)
    }

    /// A consumer of the relay's progress group; never subscribes.
    fn progress_consumer(&self, name: &str) -> Result<BaseConsumer, RuntimeError> {
        Ok(ClientConfig::new()
            .set("bootstrap.servers", &self.config.brokers)
            .set("group.id", name)
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .create()?)
    }

    fn progress_partition(&self) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(self.config.relay_marker_topic.as_str(), 0);
        tpl
    }

    /// The first outbox sequence not yet published (1 when nothing was).
    async fn published_up_to(
        &self,
        progress: &Arc<BaseConsumer>,
        name: &str,
    ) -> Result<i64, RuntimeError> {
        let tpl = self.progress_partition();
        let progress = progress.clone();
        let committed = blocking(move || progress.committed_offsets(tpl, KAFKA_TIMEOUT)).await?;
        let next = committed
            .elements()
            .first()
            .and_then(|e| match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            })
            .unwrap_or(1);
        tracing::debug!(relay = %name, next, "relay progress read");
        Ok(next)
    }

    /// Publishes `rows` and the new progress in one Kafka transaction;
    /// returns the last sequence published.
    async fn publish(
        &self,
        producer: &Arc<FutureProducer>,
        progress: &Arc<BaseConsumer>,
        rows: &[OutboxRow],
    ) -> Result<i64, RuntimeError> {
        producer.begin_transaction()?;
        let result = self.publish_in_transaction(producer, progress, rows).await;
        match result {
            Ok(last) => {
                let committing = producer.clone();
                blocking(move || committing.commit_transaction(KAFKA_TIMEOUT)).await?;
                Ok(last)
            }
            Err(error) => {
                let aborting = producer.clone();
                if let Err(abort_error) =
                    blocking(move || aborting.abort_transaction(KAFKA_TIMEOUT)).await
                {
                    tracing::error!(error = %abort_error, "abort failed");
                }
                Err(error)
            }
        }
    }

    async fn publish_in_transaction(
        &self,
        producer: &Arc<FutureProducer>,
        progress: &Arc<BaseConsumer>,
        rows: &[OutboxRow],
    ) -> Result<i64, RuntimeError> {
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in rows {
            let message = &row.message;
            let mut headers = OwnedHeaders::new_with_capacity(message.headers.len());
            for (key, value) in &message.headers {
                headers = headers.insert(Header {
                    key,
                    value: Some(value.as_bytes()),
                });
            }
            let mut record = FutureRecord::<[u8], [u8]>::to(&message.topic)
                .payload(message.payload.as_slice())
                .headers(headers);
            if let Some(key) = &message.key {
                record = record.key(key.as_slice());
            }
            loop {
                match producer.send_result(record) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((error, returned)) => {
                        if !matches!(
                            error,
                            rdkafka::error::KafkaError::MessageProduction(
                                rdkafka::types::RDKafkaErrorCode::QueueFull
                            )
                        ) {
                            return Err(error.into());
                        }
                        record = returned;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
        }
        for delivery in join_all(deliveries).await {
            match delivery {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => return Err(error.into()),
                Err(_) => return Err(RuntimeError::Worker("delivery canceled".into())),
            }
        }
        let last = rows.last().map_or(0, |r| r.seq);
        let mut offsets = self.progress_partition();
        offsets.set_partition_offset(
            self.config.relay_marker_topic.as_str(),
            0,
            Offset::Offset(last + 1),
        )?;
        let metadata = progress.group_metadata().ok_or_else(|| {
            RuntimeError::Worker("relay progress consumer has no group metadata".into())
        })?;
        let sending = producer.clone();
        blocking(move || sending.send_offsets_to_transaction(&offsets, &metadata, KAFKA_TIMEOUT))
            .await?;
        Ok(last)
    }
}

/// Runs a blocking librdkafka call off the async workers.
async fn blocking<T, F>(f: F) -> Result<T, RuntimeError>
where
    F: FnOnce() -> rdkafka::error::KafkaResult<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RuntimeError::Worker(e.to_string()))?
        .map_err(RuntimeError::from)
}
