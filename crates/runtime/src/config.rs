//! Runtime settings of one processor.

use std::collections::BTreeMap;
use std::time::Duration;

use khlang_contract::TopicName;

/// How one processor consumes, applies and publishes.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Component name, e.g. `users`; names the relay and appears in logs.
    pub service: String,
    /// Consumer group id, e.g. `khlang-users`.
    pub group_id: String,
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// The command topic this processor consumes.
    pub source_topic: TopicName,
    /// Where poison records go.
    pub dlq_topic: TopicName,
    /// Where command outcomes go.
    pub outcome_topic: TopicName,
    /// A topic the relay writes to, used as the partition its progress is
    /// committed under (any existing topic works; the processor's event
    /// topic is the natural choice).
    pub relay_marker_topic: TopicName,
    /// Most records applied in one transaction.
    pub max_batch: usize,
    /// How long the applier waits for more records before applying a batch.
    pub linger: Duration,
    /// Attempts for a record that fails to apply before it goes to the DLQ.
    pub max_attempts: u32,
    /// Upper bound on draining in-flight records when partitions are revoked
    /// or at shutdown; kept below the session timeout.
    pub drain_timeout: Duration,
    /// Capacity of the queue between the consumer thread and the applier.
    pub queue_capacity: usize,
    /// Extra librdkafka settings for the consumer and producers.
    pub kafka_overrides: BTreeMap<String, String>,
}

impl RuntimeConfig {
    /// Defaults for a processor called `service` consuming `source_topic`.
    #[must_use]
    pub fn new(
        service: &str,
        brokers: &str,
        source_topic: TopicName,
        dlq_topic: TopicName,
        outcome_topic: TopicName,
        relay_marker_topic: TopicName,
    ) -> Self {
        Self {
            service: service.to_owned(),
            group_id: format!("khlang-{service}"),
            brokers: brokers.to_owned(),
            source_topic,
            dlq_topic,
            outcome_topic,
            relay_marker_topic,
            max_batch: 500,
            linger: Duration::from_millis(5),
            max_attempts: 3,
            drain_timeout: Duration::from_secs(10),
            queue_capacity: 4096,
            kafka_overrides: BTreeMap::new(),
        }
    }

    /// The relay's name (also its transactional id and progress group).
    #[must_use]
    pub fn relay_name(&self) -> String {
        format!("khlang-{}-relay", self.service)
    }
}
