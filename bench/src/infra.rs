//! Set-up and tear-down of the bench's own resources: a database, the
//! namespaced topics, the pre-filled stock commands, and the clean-up.
//! Nothing here touches the names a `make up` platform uses.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use khlang_codec::{compose_subject, Codec};
use khlang_contract::stock::{Issue, Receive, StockCommand};
use khlang_contract::topics::{STOCK_COMMANDS, STOCK_COMMAND_SUBJECT};
use khlang_contract::{Actor, ActorKind, Envelope};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Serialize;
use sqlx::Connection as _;
use uuid::Uuid;

use crate::common::{item, write_json};

/// `(name, partitions)` of every topic in `topics.yaml` (a line scan: the
/// bench needs only these two fields).
pub fn topics_from_yaml(path: &Path) -> anyhow::Result<Vec<(String, i32)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut topics = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(name) = line.strip_prefix("- name:") {
            current = Some(name.trim().to_owned());
        } else if let Some(partitions) = line.strip_prefix("partitions:") {
            if let Some(name) = current.take() {
                topics.push((name, partitions.trim().parse()?));
            }
        }
    }
    if topics.is_empty() {
        bail!("no topics found in {}", path.display());
    }
    Ok(topics)
}

fn admin(brokers: &str) -> anyhow::Result<AdminClient<DefaultClientContext>> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?)
}

/// Creates `{namespace}.{topic}` for every topic of `topics.yaml`, plus
/// `extra` (`name:partitions`, also namespaced).
pub async fn create_topics(
    brokers: &str,
    namespace: &str,
    yaml: &Path,
    extra: &[String],
) -> anyhow::Result<()> {
    if namespace.is_empty() {
        bail!("the bench needs a namespace: it never touches the platform's own topics");
    }
    let mut topics = topics_from_yaml(yaml)?;
    for spec in extra {
        let (name, partitions) = spec
            .rsplit_once(':')
            .context("extra topics are name:partitions")?;
        topics.push((name.to_owned(), partitions.parse()?));
    }
    let names: Vec<(String, i32)> = topics
        .into_iter()
        .map(|(name, p)| (format!("{namespace}.{name}"), p))
        .collect();
    let new: Vec<NewTopic<'_>> = names
        .iter()
        .map(|(name, p)| NewTopic::new(name, *p, TopicReplication::Fixed(1)))
        .collect();
    for result in admin(brokers)?
        .create_topics(&new, &AdminOptions::new())
        .await?
    {
        match result {
            Ok(_) => {}
            Err((name, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {
                eprintln!("topic {name} exists already");
            }
            Err((name, code)) => bail!("creating {name}: {code}"),
        }
    }
    eprintln!("created {} topics under {namespace}.", names.len());
    Ok(())
}

/// Deletes every topic under `{namespace}.` and every Redis key under
/// `redis_prefix`.
pub async fn cleanup(
    brokers: &str,
    namespace: &str,
    redis_url: &str,
    redis_prefix: &str,
) -> anyhow::Result<()> {
    if namespace.is_empty() || redis_prefix.is_empty() {
        bail!("refusing to clean up without a namespace and a redis prefix");
    }
    let admin = admin(brokers)?;
    let metadata = admin
        .inner()
        .fetch_metadata(None, Duration::from_secs(10))?;
    let prefix = format!("{namespace}.");
    let doomed: Vec<String> = metadata
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    if !doomed.is_empty() {
        let refs: Vec<&str> = doomed.iter().map(String::as_str).collect();
        for result in admin.delete_topics(&refs, &AdminOptions::new()).await? {
            if let Err((name, code)) = result {
                eprintln!("deleting topic {name}: {code}");
            }
        }
    }
    // consumer groups of the bench's processors and tools carry the namespace
    let groups: Vec<String> = admin
        .inner()
        .fetch_group_list(None, Duration::from_secs(10))?
        .groups()
        .iter()
        .map(|g| g.name().to_owned())
        .filter(|n| n.contains(namespace))
        .collect();
    if !groups.is_empty() {
        let refs: Vec<&str> = groups.iter().map(String::as_str).collect();
        for result in admin.delete_groups(&refs, &AdminOptions::new()).await? {
            if let Err((name, code)) = result {
                eprintln!("deleting consumer group {name}: {code}");
            }
        }
    }
    let client = redis::Client::open(redis_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut cursor: u64 = 0;
    let mut deleted = 0usize;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{redis_prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            deleted += keys.len();
            let () = redis::cmd("DEL").arg(keys).query_async(&mut conn).await?;
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    eprintln!(
        "deleted {} topics under {prefix}, {} consumer groups and {deleted} redis keys under {redis_prefix}",
        doomed.len(),
        groups.len()
    );
    Ok(())
}

fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let (base, rest) = admin_url
        .rsplit_once('/')
        .context("the database URL has no database name")?;
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Ok(format!("{base}/{name}{query}"))
}

fn check_name(name: &str) -> anyhow::Result<()> {
    if !name.starts_with("khlang_bench_")
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        bail!("bench databases are named khlang_bench_[a-z0-9_]*, not {name:?}");
    }
    Ok(())
}

/// Creates database `name` next to the one `admin_url` names; prints its URL.
pub async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    check_name(name)?;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    println!("{}", database_url(admin_url, name)?);
    Ok(())
}

/// Drops database `name` (closing its connections).
pub async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    check_name(name)?;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    eprintln!("dropped database {name}");
    Ok(())
}

/// What `prefill` did.
#[derive(Debug, Serialize)]
pub struct Prefilled {
    topic: String,
    records: usize,
    receives: usize,
    issues: usize,
    items: usize,
    avg_value_bytes: f64,
    avg_key_bytes: f64,
    receive_value_bytes: usize,
    encode_us: f64,
    compose_us: f64,
    seconds: f64,
    records_per_sec: f64,
}

/// The stock command the ingress makes for a receipt (or an issue), as
/// the ingress would encode it: a user actor, a correlation id, a reference.
pub fn command(sku: &str, warehouse: &str, receive: bool, quantity: i64) -> StockCommand {
    let actor = Actor {
        id: Uuid::now_v7().to_string(),
        kind: ActorKind::User,
        role: "admin".into(),
    };
    let kind = if receive { "Receive" } else { "Issue" };
    let envelope = Envelope::new(kind, actor, &Uuid::now_v7().to_string(), "ingress");
    let mut c = StockCommand::empty(envelope, sku, warehouse);
    let reference = Some(format!("PO-{:08}", quantity * 7919 % 100_000_000));
    if receive {
        c.receive = Some(Receive {
            quantity,
            reference,
        });
    } else {
        c.issue = Some(Issue {
            quantity,
            reference,
        });
    }
    c
}

/// Produces `records` stock commands to `{namespace}.khlang.stock.commands`,
/// round robin over the item grid: per item two receipts of 10, then an
/// issue of 3, so no issue is ever refused for want of stock.
pub async fn prefill(
    brokers: &str,
    registry: &str,
    namespace: &str,
    records: usize,
    products: usize,
    warehouses: usize,
    out: &Path,
) -> anyhow::Result<()> {
    let topic = STOCK_COMMANDS.namespaced(namespace);
    let codec = Codec::new(registry)?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        .set("partitioner", "murmur2_random")
        .set("queue.buffering.max.messages", "1000000")
        .create()?;
    let items = products * warehouses;
    let receive_size = codec
        .encode(
            topic,
            STOCK_COMMAND_SUBJECT,
            &command(
                &crate::common::sku(0),
                &crate::common::warehouse(0),
                true,
                1,
            ),
        )
        .await?
        .len();
    // what one encode costs: Codec::encode, as the ingress and the
    // processors call it, and the schema composition it does every time
    let probe = command(
        &crate::common::sku(0),
        &crate::common::warehouse(0),
        true,
        1,
    );
    let rounds = 500u32;
    let (mut encode_us, mut compose_us) = (f64::MAX, f64::MAX);
    // alternating trials, the best of each: the machine is shared
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..rounds {
            codec.encode(topic, STOCK_COMMAND_SUBJECT, &probe).await?;
        }
        encode_us = encode_us.min(t.elapsed().as_secs_f64() * 1e6 / f64::from(rounds));
        let t = Instant::now();
        for _ in 0..rounds {
            compose_subject(STOCK_COMMAND_SUBJECT)?;
        }
        compose_us = compose_us.min(t.elapsed().as_secs_f64() * 1e6 / f64::from(rounds));
    }

    let started = Instant::now();
    // encoding is the slow part: one task per core
    let tasks = std::thread::available_parallelism().map_or(2, usize::from);
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (codec, producer) = (codec.clone(), producer.clone());
        handles.push(tokio::spawn(async move {
            let (mut value_bytes, mut key_bytes, mut receives) = (0usize, 0usize, 0usize);
            let mut pending = Vec::new();
            for k in (task..records).step_by(tasks) {
                let (sku, wh) = item(k, products, warehouses);
                let nth = k / items.max(1);
                let receive = nth % 3 != 2;
                receives += usize::from(receive);
                let c = command(&sku, &wh, receive, if receive { 10 } else { 3 });
                let payload = codec.encode(topic, STOCK_COMMAND_SUBJECT, &c).await?;
                let key = c.key();
                value_bytes += payload.len();
                key_bytes += key.len();
                let record = FutureRecord::to(topic.as_str()).key(&key).payload(&payload);
                match producer.send_result(record) {
                    Ok(delivery) => pending.push(delivery),
                    Err((error, _)) => bail!("producing: {error}"),
                }
            }
            for delivery in pending {
                match delivery.await {
                    Ok(Ok(_)) => {}
                    Ok(Err((error, _))) => bail!("not acknowledged: {error}"),
                    Err(_) => bail!("delivery cancelled"),
                }
            }
            Ok::<_, anyhow::Error>((value_bytes, key_bytes, receives))
        }));
    }
    let (mut value_bytes, mut key_bytes, mut receives) = (0usize, 0usize, 0usize);
    for handle in handles {
        let (v, k, r) = handle.await??;
        value_bytes += v;
        key_bytes += k;
        receives += r;
    }
    let seconds = started.elapsed().as_secs_f64();
    let result = Prefilled {
        topic: topic.to_string(),
        records,
        receives,
        issues: records - receives,
        items,
        avg_value_bytes: value_bytes as f64 / records.max(1) as f64,
        avg_key_bytes: key_bytes as f64 / records.max(1) as f64,
        receive_value_bytes: receive_size,
        encode_us,
        compose_us,
        seconds,
        records_per_sec: records as f64 / seconds,
    };
    eprintln!(
        "prefilled {records} stock commands ({:.0} B each on average) in {seconds:.1} s; \
         one Codec::encode costs {encode_us:.0} µs here, of which composing the schema {compose_us:.0} µs",
        result.avg_value_bytes
    );
    // the record size for ProducerPerformance, on stdout
    println!("{}", result.avg_value_bytes.round());
    write_json(out, &result)
}

/// What `apply-wait` saw.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct Applied {
    /// Records expected.
    pub expected: u64,
    /// Records applied (all outcomes).
    pub applied: u64,
    /// Of which accepted.
    pub accepted: u64,
    /// Of which rejected.
    pub rejected: u64,
    /// Of which dead-lettered.
    pub dlq: u64,
    /// Seconds from the start of waiting (just after the process was
    /// spawned) until all were applied.
    pub wall_seconds: f64,
    /// Seconds from the first applied batch to the last.
    pub steady_seconds: f64,
    /// Records applied from the first sample that saw any, over `steady_seconds`.
    pub steady_records: u64,
    /// steady_records / steady_seconds.
    pub per_sec: f64,
    /// expected / wall_seconds.
    pub per_sec_wall: f64,
    /// Seconds until the outbox (events, outcomes) was empty as well.
    pub outbox_drained_seconds: Option<f64>,
}

fn metric_sum(text: &str, name: &str, label: Option<&str>) -> u64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| label.is_none_or(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Polls a processor's `/metrics` every 50 ms until `expected` records are
/// applied, then until its outbox is empty.
pub async fn apply_wait(
    metrics_url: &str,
    expected: u64,
    timeout: Duration,
    pid: Option<u32>,
    out: &Path,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let started = Instant::now();
    let applied_name = "khlang_runtime_records_applied_total";
    let mut first: Option<(Instant, u64)> = None;
    let mut last_progress = String::new();
    let text = loop {
        if started.elapsed() > timeout {
            bail!("only {last_progress} applied after {timeout:?}");
        }
        if let Some(pid) = pid {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                bail!("the processor (pid {pid}) exited; {last_progress} applied");
            }
        }
        let text = match http.get(metrics_url).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let applied = metric_sum(&text, applied_name, None);
        if applied > 0 && first.is_none() {
            first = Some((Instant::now(), applied));
        }
        last_progress = format!("{applied}/{expected}");
        if applied >= expected {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let done = Instant::now();
    let wall = done.duration_since(started).as_secs_f64();
    let (first_at, first_count) = first.unwrap_or((started, 0));
    let steady = done.duration_since(first_at).as_secs_f64();
    let steady_records = expected.saturating_sub(first_count);
    let mut drained = None;
    while started.elapsed() < timeout {
        let text = http
            .get(metrics_url)
            .send()
            .await?
            .text()
            .await
            .unwrap_or_default();
        if metric_sum(&text, "khlang_runtime_outbox_backlog", None) == 0 {
            drained = Some(started.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let result = Applied {
        expected,
        applied: metric_sum(&text, applied_name, None),
        accepted: metric_sum(&text, applied_name, Some("\"accepted\"")),
        rejected: metric_sum(&text, applied_name, Some("\"rejected\"")),
        dlq: metric_sum(&text, applied_name, Some("\"dlq\"")),
        wall_seconds: wall,
        steady_seconds: steady,
        steady_records,
        per_sec: if steady > 0.0 {
            steady_records as f64 / steady
        } else {
            0.0
        },
        per_sec_wall: expected as f64 / wall,
        outbox_drained_seconds: drained,
    };
    eprintln!(
        "applied {} in {wall:.1} s from start ({:.0}/s steady, {:.0}/s with start-up); {} accepted, {} rejected, {} dlq",
        result.applied, result.per_sec, result.per_sec_wall, result.accepted, result.rejected, result.dlq
    );
    write_json(out, &result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_labelled_counters() {
        let text = "# HELP x\nkhlang_runtime_records_applied_total{outcome=\"accepted\"} 10\n\
                    khlang_runtime_records_applied_total{outcome=\"rejected\"} 2\n\
                    khlang_runtime_records_applied_total_created 5\n";
        assert_eq!(
            metric_sum(text, "khlang_runtime_records_applied_total", None),
            12
        );
        assert_eq!(
            metric_sum(
                text,
                "khlang_runtime_records_applied_total",
                Some("\"rejected\"")
            ),
            2
        );
    }

    #[test]
    fn database_urls_keep_the_query() {
        assert_eq!(
            database_url(
                "postgres://u:p@h:5432/khlang?sslmode=disable",
                "khlang_bench_1"
            )
            .ok()
            .as_deref(),
            Some("postgres://u:p@h:5432/khlang_bench_1?sslmode=disable")
        );
        assert!(check_name("khlang; drop").is_err());
    }
}
