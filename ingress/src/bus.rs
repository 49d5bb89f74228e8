//! Publishing to Kafka: commands (awaited: a 202 means Kafka acknowledged)
//! and access records (not awaited: history must not slow requests down).
//!
//! One idempotent producer with `acks=all`. A command Kafka cannot
//! acknowledge within `kafka.produce_timeout_ms` fails the request with 503
//! and `Retry-After`; the client retries, with its Idempotency-Key if it
//! wants exactly one command.

use std::time::{Duration, Instant};

use khlang_codec::Codec;
use khlang_contract::{AccessRecord, Subject, TopicName};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::util::Timeout;
use serde::Serialize;

use crate::config::KafkaConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// The Kafka side of the ingress.
#[derive(Clone)]
pub struct Bus {
    producer: FutureProducer,
    codec: Codec,
    metrics: Metrics,
    access_topic: TopicName,
    access_subject: Subject,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus").finish_non_exhaustive()
    }
}

impl Bus {
    /// Creates the producer.
    ///
    /// # Errors
    /// When librdkafka refuses the configuration.
    pub fn new(
        config: &KafkaConfig,
        codec: Codec,
        metrics: Metrics,
        access_topic: TopicName,
        access_subject: Subject,
    ) -> Result<Self, rdkafka::error::KafkaError> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", config.produce_timeout_ms.to_string())
            .set("linger.ms", config.linger_ms.to_string())
            .set("compression.type", "lz4")
            // the same partitioner as the Java clients, so keys land where
            // every other producer of these topics puts them
            .set("partitioner", "murmur2_random")
            .set("client.id", "khlang-ingress")
            .create()?;
        Ok(Self {
            producer,
            codec,
            metrics,
            access_topic,
            access_subject,
        })
    }

    /// The codec (schema registry) this bus encodes with.
    #[must_use]
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// Encodes `value` and waits until Kafka acknowledged it.
    ///
    /// # Errors
    /// `service_unavailable` (503, `Retry-After`) when the registry or Kafka
    /// cannot take it in time.
    pub async fn publish<T: Serialize>(
        &self,
        topic: TopicName,
        subject: Subject,
        key: &str,
        value: &T,
    ) -> Result<(), ApiError> {
        let payload = self
            .codec
            .encode(topic, subject, value)
            .await
            .map_err(|e| ApiError::unavailable("the schema registry", e))?;
        let started = Instant::now();
        let record = FutureRecord::to(topic.as_str()).key(key).payload(&payload);
        let sent = self
            .producer
            .send(record, Timeout::After(Duration::from_secs(1)))
            .await;
        self.metrics
            .produce_seconds
            .observe(started.elapsed().as_secs_f64());
        match sent {
            Ok(_) => Ok(()),
            Err((error, _)) => {
                self.metrics.produce_failures.inc();
                Err(ApiError::unavailable("kafka", error))
            }
        }
    }

    /// Encodes every value, hands them to the producer in order (so that
    /// values with the same key keep their order on the partition), then
    /// waits for every acknowledgement. One result per value.
    ///
    /// # Errors
    /// `service_unavailable` when the registry cannot encode; per value,
    /// `service_unavailable` when Kafka did not take it in time.
    pub async fn publish_many<T: Serialize>(
        &self,
        topic: TopicName,
        subject: Subject,
        items: &[(String, &T)],
    ) -> Result<Vec<Result<(), ApiError>>, ApiError> {
        let mut payloads = Vec::with_capacity(items.len());
        for (_, value) in items {
            payloads.push(
                self.codec
                    .encode(topic, subject, *value)
                    .await
                    .map_err(|e| ApiError::unavailable("the schema registry", e))?,
            );
        }
        let started = Instant::now();
        let mut pending = Vec::with_capacity(items.len());
        for ((key, _), payload) in items.iter().zip(&payloads) {
            let record = FutureRecord::to(topic.as_str()).key(key).payload(payload);
            pending.push(self.producer.send_result(record).map_err(|(e, _)| e));
        }
        let mut results = Vec::with_capacity(items.len());
        for handed in pending {
            let result = match handed {
                Err(error) => Err(error),
                Ok(delivery) => match delivery.await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err((error, _))) => Err(error),
                    Err(_) => Err(rdkafka::error::KafkaError::Canceled),
                },
            };
            results.push(result.map_err(|error| {
                self.metrics.produce_failures.inc();
                ApiError::unavailable("kafka", error)
            }));
        }
        self.metrics
            .produce_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(results)
    }

    /// Publishes an access record in the background; failures are counted
    /// and logged, never shown to the client.
    pub fn record_access(&self, record: AccessRecord) {
        let bus = self.clone();
        tokio::spawn(async move {
            let key = record
                .actor_id
                .clone()
                .unwrap_or_else(|| record.client_address.clone());
            let payload = match bus
                .codec
                .encode(bus.access_topic, bus.access_subject, &record)
                .await
            {
                Ok(payload) => payload,
                Err(error) => {
                    bus.metrics.access_records_dropped.inc();
                    tracing::warn!(%error, "access record not encoded");
                    return;
                }
            };
            let sent = bus
                .producer
                .send(
                    FutureRecord::to(bus.access_topic.as_str())
                        .key(&key)
                        .payload(&payload),
                    Timeout::After(Duration::from_millis(100)),
                )
                .await;
            if let Err((error, _)) = sent {
                bus.metrics.access_records_dropped.inc();
                tracing::warn!(%error, "access record not published");
            }
        });
    }

    /// Waits for everything handed to the producer (at shutdown).
    pub fn flush(&self, timeout: Duration) {
        if let Err(error) = self.producer.flush(Timeout::After(timeout)) {
            tracing::warn!(%error, "producer not flushed at shutdown");
        }
    }
}
