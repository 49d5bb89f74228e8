//! Kafka clients as khlangctl configures them.

use anyhow::Context as _;
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::BaseConsumer;
use rdkafka::producer::FutureProducer;

/// Group id of consumers that only assign and never commit.
const NO_COMMIT_GROUP: &str = "khlangctl-no-commit";

fn base(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("client.id", "khlangctl");
    config
}

/// An admin client.
///
/// # Errors
/// When the configuration is refused.
pub fn admin(brokers: &str) -> anyhow::Result<AdminClient<DefaultClientContext>> {
    base(brokers)
        .create()
        .context("cannot create kafka admin client")
}

/// A consumer that never commits and never joins a group (it only uses
/// `assign`); with `group`, it can read that group's committed offsets.
///
/// # Errors
/// When the configuration is refused.
pub fn consumer(brokers: &str, group: Option<&str>) -> anyhow::Result<BaseConsumer> {
    let mut config = base(brokers);
    config
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("allow.auto.create.topics", "false");
    // librdkafka refuses `assign` without a group id ("Local: Unknown
    // group") even though nothing is committed; this one is never used to
    // join or commit, so the coordinator never learns about it.
    config.set("group.id", group.unwrap_or(NO_COMMIT_GROUP));
    config.create().context("cannot create kafka consumer")
}

/// An idempotent producer (acks=all) that partitions by key like the
/// khlang runtime does (murmur2, as Java clients do).
///
/// # Errors
/// When the configuration is refused.
pub fn producer(brokers: &str) -> anyhow::Result<FutureProducer> {
    base(brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("allow.auto.create.topics", "false")
        .create()
        .context("cannot create kafka producer")
}
