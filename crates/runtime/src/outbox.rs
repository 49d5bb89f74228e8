//! Messages waiting in the outbox for the relay.

use std::collections::BTreeMap;

use crate::processor::RecordMeta;

/// Header names of dead-lettered records.
pub mod headers {
    /// Why the record was dead-lettered.
    pub const REASON: &str = "khlang.dlq.reason";
    /// `decode` or `apply`.
    pub const ERROR_KIND: &str = "khlang.dlq.error.kind";
    /// Topic the record was consumed from.
    pub const SOURCE_TOPIC: &str = "khlang.dlq.source.topic";
    /// Partition it was consumed from.
    pub const SOURCE_PARTITION: &str = "khlang.dlq.source.partition";
    /// Offset it was consumed from.
    pub const SOURCE_OFFSET: &str = "khlang.dlq.source.offset";
    /// When it was dead-lettered (RFC 3339).
    pub const FAILED_AT: &str = "khlang.dlq.failed_at";
    /// Consumer group that gave up on it.
    pub const GROUP: &str = "khlang.dlq.group";
}

/// One message for the relay to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Target topic.
    pub topic: String,
    /// Record key.
    pub key: Option<Vec<u8>>,
    /// Record value (already encoded).
    pub payload: Vec<u8>,
    /// Record headers (UTF-8 values).
    pub headers: BTreeMap<String, String>,
}

impl OutboxMessage {
    /// A message without headers.
    #[must_use]
    pub fn new(topic: &str, key: Option<Vec<u8>>, payload: Vec<u8>) -> Self {
        Self {
            topic: topic.to_owned(),
            key,
            payload,
            headers: BTreeMap::new(),
        }
    }
}

/// The headers of a record dead-lettered by `group` for `reason`.
#[must_use]
pub fn dlq_headers(
    record: &RecordMeta,
    group: &str,
    kind: &str,
    reason: &str,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        (headers::REASON.to_owned(), reason.to_owned()),
        (headers::ERROR_KIND.to_owned(), kind.to_owned()),
        (headers::SOURCE_TOPIC.to_owned(), record.topic.clone()),
        (
            headers::SOURCE_PARTITION.to_owned(),
            record.partition.to_string(),
        ),
        (headers::SOURCE_OFFSET.to_owned(), record.offset.to_string()),
        (headers::GROUP.to_owned(), group.to_owned()),
        (
            headers::FAILED_AT.to_owned(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ),
    ])
}
