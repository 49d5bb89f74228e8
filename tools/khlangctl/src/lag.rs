//! `lag`: committed offset, high watermark and lag per group and partition.
//!
//! Groups come from the cluster's group list (or `--group`). rdkafka has no
//! "all committed offsets of a group" call, so each group's committed
//! offsets are asked for every partition of every non-internal topic, with a
//! consumer that carries the group id but never joins the group; partitions
//! without a committed offset are left out.

use std::collections::BTreeMap;

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use crate::{kafka, table, Context, Status};

/// Groups listed by default start with this.
const GROUP_PREFIX: &str = "khlang";

#[derive(Debug, Serialize)]
struct GroupLag {
    group: String,
    state: String,
    total_lag: i64,
    partitions: Vec<PartitionLag>,
}

#[derive(Debug, Serialize)]
struct PartitionLag {
    topic: String,
    partition: i32,
    committed: i64,
    high_watermark: i64,
    lag: i64,
}

/// Prints the lag of `group`, or of every `khlang*` group.
///
/// # Errors
/// An unreachable cluster.
pub fn run(ctx: &Context, group: Option<&str>, json: bool) -> anyhow::Result<Status> {
    let consumer = kafka::consumer(&ctx.brokers, None)?;
    let list = consumer
        .fetch_group_list(group, ctx.timeout)
        .with_context(|| format!("cannot list consumer groups at {}", ctx.brokers))?;
    let mut groups: BTreeMap<String, String> = list
        .groups()
        .iter()
        .filter(|g| {
            group.map_or(g.name().starts_with(GROUP_PREFIX), |wanted| {
                g.name() == wanted
            })
        })
        .map(|g| (g.name().to_owned(), g.state().to_owned()))
        .collect();
    if let Some(wanted) = group {
        // A group the coordinator no longer lists can still have offsets.
        groups
            .entry(wanted.to_owned())
            .or_insert_with(|| "unknown".into());
    }

    let metadata = consumer
        .fetch_metadata(None, ctx.timeout)
        .with_context(|| format!("cannot fetch metadata from {}", ctx.brokers))?;
    let mut all = TopicPartitionList::new();
    for topic in metadata
        .topics()
        .iter()
        .filter(|t| !t.name().starts_with("__") && t.error().is_none())
    {
        for partition in topic.partitions() {
            all.add_partition(topic.name(), partition.id());
        }
    }

    let mut watermarks: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let mut report = Vec::new();
    for (name, state) in groups {
        let partitions = group_lag(ctx, &consumer, &name, &all, &mut watermarks)?;
        let total_lag = partitions.iter().map(|p| p.lag).sum();
        report.push(GroupLag {
            group: name,
            state,
            total_lag,
            partitions,
        });
    }

    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("cannot write json")?
        );
    } else if report.is_empty() {
        println!("no consumer groups whose name starts with {GROUP_PREFIX:?}");
    } else {
        let rows: Vec<Vec<String>> = report
            .iter()
            .flat_map(|g| {
                let mut rows: Vec<Vec<String>> = g
                    .partitions
                    .iter()
                    .map(|p| {
                        vec![
                            g.group.clone(),
                            p.topic.clone(),
                            p.partition.to_string(),
                            p.committed.to_string(),
                            p.high_watermark.to_string(),
                            p.lag.to_string(),
                        ]
                    })
                    .collect();
                rows.push(vec![
                    g.group.clone(),
                    format!("(total, {})", g.state.to_lowercase()),
                    String::new(),
                    String::new(),
                    String::new(),
                    g.total_lag.to_string(),
                ]);
                rows
            })
            .collect();
        print!(
            "{}",
            table::render(
                &[
                    "GROUP",
                    "TOPIC",
                    "PARTITION",
                    "COMMITTED",
                    "HIGH WATERMARK",
                    "LAG"
                ],
                &rows
            )
        );
    }
    Ok(Status::Success)
}

fn group_lag(
    ctx: &Context,
    metadata_consumer: &BaseConsumer,
    group: &str,
    all: &TopicPartitionList,
    watermarks: &mut BTreeMap<(String, i32), i64>,
) -> anyhow::Result<Vec<PartitionLag>> {
    let consumer = kafka::consumer(&ctx.brokers, Some(group))?;
    let committed = consumer
        .committed_offsets(all.clone(), ctx.timeout)
        .with_context(|| format!("cannot read committed offsets of group {group}"))?;
    let mut out = Vec::new();
    for element in committed.elements() {
        let Offset::Offset(offset) = element.offset() else {
            continue;
        };
        let key = (element.topic().to_owned(), element.partition());
        let high = match watermarks.get(&key) {
            Some(high) => *high,
            None => {
                let (_, high) = metadata_consumer
                    .fetch_watermarks(element.topic(), element.partition(), ctx.timeout)
                    .with_context(|| {
                        format!(
                            "cannot fetch watermarks of {}/{}",
                            element.topic(),
                            element.partition()
                        )
                    })?;
                watermarks.insert(key, high);
                high
            }
        };
        out.push(PartitionLag {
            topic: element.topic().to_owned(),
            partition: element.partition(),
            committed: offset,
            high_watermark: high,
            lag: (high - offset).max(0),
        });
    }
    out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    Ok(out)
}
