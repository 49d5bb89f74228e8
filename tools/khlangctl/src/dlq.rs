//! `dlq inspect` and `dlq replay`.
//!
//! The stream runtime sends a record it cannot handle to its DLQ topic with
//! the original key and bytes and `khlang.dlq.*` headers saying why and
//! where from. Inspect reads a DLQ without a consumer group (assign + seek,
//! nothing committed) up to the high watermark seen when it started.
//! Replay produces one DLQ record back onto its source topic, as it was or
//! with a corrected value, with an idempotent producer.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use khlang_codec::{compose, schema_id, Codec, Registry};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::Serialize;

use crate::{avro, kafka, Context, Status};

/// Header names the runtime writes on dead-lettered records (mirrors
/// `khlang_runtime::dlq_header_names`).
pub mod headers {
    /// Every DLQ header starts with this.
    pub const PREFIX: &str = "khlang.dlq.";
    /// Why the record was dead-lettered.
    pub const REASON: &str = "khlang.dlq.reason";
    /// `decode` or `apply`.
    pub const ERROR_KIND: &str = "khlang.dlq.error.kind";
    /// Topic the record was consumed from: where replay sends it.
    pub const SOURCE_TOPIC: &str = "khlang.dlq.source.topic";
    /// Partition it was consumed from.
    pub const SOURCE_PARTITION: &str = "khlang.dlq.source.partition";
    /// Offset it was consumed from.
    pub const SOURCE_OFFSET: &str = "khlang.dlq.source.offset";
    /// When it was dead-lettered.
    pub const FAILED_AT: &str = "khlang.dlq.failed_at";
    /// Added by replay: `<dlq topic>/<partition>/<offset>` of the DLQ record.
    pub const REPLAYED_FROM: &str = "khlang.replayed_from";
}

/// The headers `dlq inspect` shows as its `failed` and `source` lines.
const SUMMARIZED: [&str; 6] = [
    headers::REASON,
    headers::ERROR_KIND,
    headers::FAILED_AT,
    headers::SOURCE_TOPIC,
    headers::SOURCE_PARTITION,
    headers::SOURCE_OFFSET,
];

/// How many bytes of a value the preview shows.
const PREVIEW_BYTES: usize = 48;

/// One record read from a DLQ.
#[derive(Debug, Clone)]
struct DlqRecord {
    partition: i32,
    offset: i64,
    timestamp_ms: Option<i64>,
    key: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    value: Option<Vec<u8>>,
}

impl DlqRecord {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// `bytes` as text when they are printable UTF-8, else as hex.
fn preview(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) =>
        {
            let shown: String = text.chars().take(PREVIEW_BYTES).collect();
            let more = if shown.len() < text.len() { "…" } else { "" };
            format!("{:?}{more}", shown)
        }
        _ => {
            let hex: Vec<String> = bytes
                .iter()
                .take(PREVIEW_BYTES)
                .map(|b| format!("{b:02x}"))
                .collect();
            let more = if bytes.len() > PREVIEW_BYTES {
                " …"
            } else {
                ""
            };
            format!("hex {}{more}", hex.join(" "))
        }
    }
}

fn text_or_hex(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => preview(bytes),
    }
}

/// Reads up to `limit` records of `topic` (every partition, or just
/// `only_partition`) from `from` (default: the oldest) to the high
/// watermark each partition had when reading started.
fn read(
    ctx: &Context,
    topic: &str,
    only_partition: Option<i32>,
    from: Option<i64>,
    limit: usize,
) -> anyhow::Result<Vec<DlqRecord>> {
    let consumer = kafka::consumer(&ctx.brokers, None)?;
    let partitions = partitions_of(&consumer, ctx, topic)?;
    let partitions: Vec<i32> = match only_partition {
        Some(p) if partitions.contains(&p) => vec![p],
        Some(p) => bail!("topic {topic} has no partition {p}"),
        None => partitions,
    };

    let mut assignment = TopicPartitionList::new();
    let mut pending: BTreeMap<i32, i64> = BTreeMap::new();
    for partition in partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, ctx.timeout)
            .with_context(|| format!("cannot fetch watermarks of {topic}/{partition}"))?;
        let start = from.map_or(low, |o| o.max(low));
        if start < high {
            assignment
                .add_partition_offset(topic, partition, Offset::Offset(start))
                .context("cannot build the assignment")?;
            pending.insert(partition, high);
        }
    }
    let mut records = Vec::new();
    if pending.is_empty() || limit == 0 {
        return Ok(records);
    }
    consumer
        .assign(&assignment)
        .with_context(|| format!("cannot assign {topic}"))?;
    let deadline = Instant::now() + ctx.timeout;
    while !pending.is_empty() && records.len() < limit {
        if Instant::now() >= deadline {
            bail!(
                "timed out reading {topic} after {} record(s); partitions not at their end: {:?}",
                records.len(),
                pending.keys().collect::<Vec<_>>()
            );
        }
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            // The end of the readable log: also covers transaction markers
            // that take up offsets below the high watermark.
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                pending.remove(&partition);
            }
            Some(Err(e)) => return Err(e).with_context(|| format!("cannot read {topic}")),
            Some(Ok(message)) => {
                let partition = message.partition();
                let Some(&high) = pending.get(&partition) else {
                    continue;
                };
                if message.offset() >= high {
                    pending.remove(&partition);
                    continue;
                }
                if message.offset() + 1 >= high {
                    pending.remove(&partition);
                }
                let headers = message
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                            .collect()
                    })
                    .unwrap_or_default();
                records.push(DlqRecord {
                    partition,
                    offset: message.offset(),
                    timestamp_ms: message.timestamp().to_millis(),
                    key: message.key().map(<[u8]>::to_vec),
                    headers,
                    value: message.payload().map(<[u8]>::to_vec),
                });
            }
        }
    }
    records.sort_by_key(|r| (r.partition, r.offset));
    Ok(records)
}

fn partitions_of(consumer: &BaseConsumer, ctx: &Context, topic: &str) -> anyhow::Result<Vec<i32>> {
    let metadata = consumer
        .fetch_metadata(Some(topic), ctx.timeout)
        .with_context(|| format!("cannot fetch metadata of {topic} from {}", ctx.brokers))?;
    match metadata.topics().iter().find(|t| t.name() == topic) {
        Some(t) if t.error().is_none() && !t.partitions().is_empty() => Ok(t
            .partitions()
            .iter()
            .map(rdkafka::metadata::MetadataPartition::id)
            .collect()),
        _ => bail!("topic {topic} does not exist"),
    }
}

#[derive(Debug, Serialize)]
struct InspectedRecord {
    topic: String,
    partition: i32,
    offset: i64,
    timestamp: Option<String>,
    key: Option<String>,
    headers: BTreeMap<String, Option<String>>,
    value_size: usize,
    value_preview: Option<String>,
    schema_id: Option<u32>,
    decoded: Option<serde_json::Value>,
    decode_error: Option<String>,
}

async fn inspected(topic: &str, record: DlqRecord, codec: Option<&Codec>) -> InspectedRecord {
    let value = record.value.as_deref();
    let id = value.and_then(schema_id);
    let (decoded, decode_error) = match (codec, value, id) {
        (Some(codec), Some(bytes), Some(_)) => match codec.decode_value(bytes).await {
            Ok(avro) => match serde_json::Value::try_from(avro) {
                Ok(json) => (Some(json), None),
                Err(e) => (None, Some(format!("no json form: {e}"))),
            },
            Err(e) => (None, Some(e.to_string())),
        },
        _ => (None, None),
    };
    InspectedRecord {
        topic: topic.to_owned(),
        partition: record.partition,
        offset: record.offset,
        timestamp: record
            .timestamp_ms
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        key: record.key.as_deref().map(text_or_hex),
        headers: record
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_deref()
                        .map(|v| String::from_utf8_lossy(v).into_owned()),
                )
            })
            .collect(),
        value_size: value.map_or(0, <[u8]>::len),
        value_preview: value.map(preview),
        schema_id: id,
        decoded,
        decode_error,
    }
}

/// Prints up to `limit` records of a DLQ.
///
/// # Errors
/// A missing topic, an unreachable cluster, or a read that does not reach
/// the end in time.
pub async fn inspect(
    ctx: &Context,
    topic: &str,
    limit: usize,
    from_offset: Option<i64>,
    json: bool,
) -> anyhow::Result<Status> {
    let records = read(ctx, topic, None, from_offset, limit)?;
    let codec = ctx.registry_if_set().map(Codec::new).transpose()?;
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        out.push(inspected(topic, record, codec.as_ref()).await);
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&out).context("cannot write json")?
        );
        return Ok(Status::Success);
    }
    if out.is_empty() {
        println!("no records in {topic}");
    }
    for r in &out {
        println!(
            "{}/{}/{}  {}",
            r.topic,
            r.partition,
            r.offset,
            r.timestamp.as_deref().unwrap_or("-")
        );
        let header = |name: &str| {
            r.headers
                .get(name)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "?".into())
        };
        println!("  key      {}", r.key.as_deref().unwrap_or("(none)"));
        let summarized = r.headers.contains_key(headers::REASON);
        if summarized {
            println!(
                "  failed   {} error at {}: {}",
                header(headers::ERROR_KIND),
                header(headers::FAILED_AT),
                header(headers::REASON)
            );
            println!(
                "  source   {}/{}/{}",
                header(headers::SOURCE_TOPIC),
                header(headers::SOURCE_PARTITION),
                header(headers::SOURCE_OFFSET)
            );
        }
        for (k, v) in r
            .headers
            .iter()
            .filter(|(k, _)| !(summarized && SUMMARIZED.contains(&k.as_str())))
        {
            println!("  header   {k} = {}", v.as_deref().unwrap_or("(null)"));
        }
        let id = r
            .schema_id
            .map(|id| format!(", schema id {id}"))
            .unwrap_or_default();
        println!(
            "  value    {} bytes{id}: {}",
            r.value_size,
            r.value_preview.as_deref().unwrap_or("(null)")
        );
        if let Some(decoded) = &r.decoded {
            println!("  decoded  {decoded}");
        } else if let Some(e) = &r.decode_error {
            println!("  decoded  (not decodable: {e})");
        }
    }
    Ok(Status::Success)
}

/// Sends the DLQ record at `topic`/`partition`/`offset` back to its source
/// topic: the original key and bytes, or `value_json` encoded with the
/// source topic's value schema.
///
/// # Errors
/// No record at that position, no source header, a source topic that is
/// not declared or does not exist, JSON that does not fit the schema, or a
/// failed delivery.
pub async fn replay(
    ctx: &Context,
    topic: &str,
    partition: i32,
    offset: i64,
    value_json: Option<&Path>,
) -> anyhow::Result<Status> {
    let position = format!("{topic}/{partition}/{offset}");
    let record = read(ctx, topic, Some(partition), Some(offset), 1)?
        .into_iter()
        .find(|r| r.offset == offset)
        .with_context(|| format!("no record at {position}"))?;
    let target = record
        .header(headers::SOURCE_TOPIC)
        .with_context(|| format!("record {position} has no {} header", headers::SOURCE_TOPIC))?;
    let file = ctx.topics_file()?;
    let spec = file.topic(&target).with_context(|| {
        format!(
            "source topic {target} of {position} is not declared in {}",
            ctx.topics_file.display()
        )
    })?;
    let consumer = kafka::consumer(&ctx.brokers, None)?;
    partitions_of(&consumer, ctx, &target)?;

    let value = match value_json {
        None => record.value.clone(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let json: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not json", path.display()))?;
            let (Some(subject), Some(schema_file)) = (&spec.value_subject, file.schema_file(spec))
            else {
                bail!(
                    "topic {target} has no value_schema in {} to encode json with",
                    ctx.topics_file.display()
                );
            };
            let envelope_path = ctx.schemas_dir.join("common").join("envelope.avsc");
            let envelope = std::fs::read_to_string(&envelope_path)
                .with_context(|| format!("cannot read {}", envelope_path.display()))?;
            let schema_text = std::fs::read_to_string(&schema_file)
                .with_context(|| format!("cannot read {}", schema_file.display()))?;
            let schema = compose(&schema_text, &envelope)?;
            let id = Registry::new(ctx.registry()?)?
                .register(subject, &schema)
                .await
                .with_context(|| format!("cannot register or look up {subject}"))?;
            Some(
                avro::encode_json(json, &schema, id)
                    .with_context(|| format!("cannot encode {}", path.display()))?,
            )
        }
    };

    let mut out_headers = OwnedHeaders::new();
    for (key, value) in record
        .headers
        .iter()
        .filter(|(k, _)| !k.starts_with(headers::PREFIX))
    {
        out_headers = out_headers.insert(Header {
            key,
            value: value.as_deref(),
        });
    }
    out_headers = out_headers.insert(Header {
        key: headers::REPLAYED_FROM,
        value: Some(position.as_str()),
    });
    let mut out = FutureRecord::<[u8], [u8]>::to(&target).headers(out_headers);
    if let Some(key) = record.key.as_deref() {
        out = out.key(key);
    }
    if let Some(value) = value.as_deref() {
        out = out.payload(value);
    }
    let producer = kafka::producer(&ctx.brokers)?;
    let delivery = producer
        .send(out, ctx.timeout)
        .await
        .map_err(|(e, _)| e)
        .with_context(|| format!("cannot produce to {target}"))?;
    println!(
        "replayed {position} to {target} partition {} offset {}",
        delivery.partition, delivery.offset
    );
    Ok(Status::Success)
}
