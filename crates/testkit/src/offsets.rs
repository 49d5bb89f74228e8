//! Waiting for consumers instead of sleeping: a test that must know that a
//! processor has *finished* (before it checks that nothing was applied twice,
//! or reads a metric of what it consumed) waits until the processor's stored
//! offsets reach the topic's end offsets; a test that needs a consumer group
//! to have settled after a rebalance waits until the group is stable.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use sqlx::{PgPool, Row as _};

use crate::eventually;

/// How long one metadata or watermark request may take.
const KAFKA_TIMEOUT: Duration = Duration::from_secs(10);

fn client(brokers: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("kafka client")
}

/// The end offset (high watermark) of every partition of `topic`.
///
/// # Panics
/// When Kafka does not answer.
#[must_use]
pub fn end_offsets(brokers: &str, topic: &str) -> HashMap<i32, i64> {
    let client = client(brokers);
    let metadata = client
        .fetch_metadata(Some(topic), KAFKA_TIMEOUT)
        .expect("topic metadata");
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    assert!(!partitions.is_empty(), "topic {topic} has no partitions");
    partitions
        .into_iter()
        .map(|p| {
            let (_, high) = client
                .fetch_watermarks(topic, p, KAFKA_TIMEOUT)
                .expect("watermarks");
            (p, high)
        })
        .collect()
}

/// The next offsets a processor has stored with its state for `topic`
/// (`khlang_runtime.consumer_offsets`, written in the transaction that
/// applies the records); empty before its first commit.
pub async fn applied_offsets(pool: &PgPool, topic: &str) -> HashMap<i32, i64> {
    sqlx::query(
        "SELECT partition, max(next_offset) FROM khlang_runtime.consumer_offsets \
         WHERE topic = $1 GROUP BY partition",
    )
    .bind(topic)
    .fetch_all(pool)
    .await
    .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    .unwrap_or_default() // the runtime's tables are not migrated yet
}

/// Waits until the processor whose database is `pool` has applied every
/// record `topic` holds now: its stored offsets reach the end offsets taken
/// when this is called. Records produced later are not waited for.
///
/// # Panics
/// After `timeout`, naming the partitions still behind.
pub async fn wait_until_applied(brokers: &str, pool: &PgPool, topic: &str, timeout: Duration) {
    let ends = {
        let (brokers, topic) = (brokers.to_owned(), topic.to_owned());
        tokio::task::spawn_blocking(move || end_offsets(&brokers, &topic))
            .await
            .expect("watermark task")
    };
    let what = format!("the processor to apply {topic} up to {ends:?}");
    eventually(&what, timeout, || async {
        let applied = applied_offsets(pool, topic).await;
        ends.iter()
            .all(|(p, end)| *end == 0 || applied.get(p).is_some_and(|next| next >= end))
            .then_some(())
    })
    .await;
}

/// Waits until consumer group `group` is stable with exactly `members`
/// members: a rebalance the test caused (by starting or stopping an
/// instance) has finished and every member has its partitions.
///
/// # Panics
/// After `timeout`.
pub async fn wait_for_stable_group(brokers: &str, group: &str, members: usize, timeout: Duration) {
    let what = format!("consumer group {group} stable with {members} members");
    eventually(&what, timeout, || async {
        let (brokers, group) = (brokers.to_owned(), group.to_owned());
        tokio::task::spawn_blocking(move || {
            let list = client(&brokers)
                .fetch_group_list(Some(&group), KAFKA_TIMEOUT)
                .ok()?;
            let info = list.groups().iter().find(|g| g.name() == group)?;
            (info.state() == "Stable" && info.members().len() == members).then_some(())
        })
        .await
        .ok()
        .flatten()
    })
    .await;
}
