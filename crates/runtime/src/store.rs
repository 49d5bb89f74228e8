//! The runtime's SQL, kept in `queries/*.sql`.

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, PgPool, Row};

use crate::outbox::OutboxMessage;

/// Next offsets stored for `partitions` of `topic` (absent when none stored).
pub(crate) async fn load_offsets(
    pool: &PgPool,
    group: &str,
    topic: &str,
    partitions: &[i32],
) -> Result<HashMap<i32, i64>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/load_offsets.sql"))
        .bind(group)
        .bind(topic)
        .bind(partitions)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Creates missing offset rows and locks those of `partitions` until the
/// transaction ends; returns the next offset of each.
pub(crate) async fn lock_offsets(
    tx: &mut PgConnection,
    group: &str,
    topic: &str,
    partitions: &[i32],
) -> Result<HashMap<i32, i64>, sqlx::Error> {
    sqlx::query(include_str!("queries/ensure_offsets.sql"))
        .bind(group)
        .bind(topic)
        .bind(partitions)
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query(include_str!("queries/lock_offsets.sql"))
        .bind(group)
        .bind(topic)
        .bind(partitions)
        .fetch_all(&mut *tx)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Stores the next offset of each `(topic, partition)` in one statement.
pub(crate) async fn store_offsets(
    tx: &mut PgConnection,
    group: &str,
    next: &[(&str, i32, i64)],
) -> Result<(), sqlx::Error> {
    if next.is_empty() {
        return Ok(());
    }
    let topics: Vec<&str> = next.iter().map(|n| n.0).collect();
    let partitions: Vec<i32> = next.iter().map(|n| n.1).collect();
    let offsets: Vec<i64> = next.iter().map(|n| n.2).collect();
    sqlx::query(include_str!("queries/store_offsets.sql"))
        .bind(group)
        .bind(topics)
        .bind(partitions)
        .bind(offsets)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Which of `command_ids` already have an outcome (were applied before).
pub(crate) async fn existing_outcomes(
    tx: &mut PgConnection,
    command_ids: &[&str],
) -> Result<HashSet<String>, sqlx::Error> {
    if command_ids.is_empty() {
        return Ok(HashSet::new());
    }
    sqlx::query_scalar(include_str!("queries/existing_outcomes.sql"))
        .bind(command_ids)
        .fetch_all(&mut *tx)
        .await
        .map(|ids: Vec<String>| ids.into_iter().collect())
}

/// A row of `khlang_runtime.command_outcomes`.
pub(crate) struct OutcomeRow<'a> {
    pub command_id: &'a str,
    pub command_type: &'a str,
    pub aggregate_id: &'a str,
    pub status: khlang_contract::OutcomeStatus,
    pub reason_code: Option<&'static str>,
    pub message: Option<String>,
    pub correlation_id: &'a str,
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
}

/// The PostgreSQL channel a batch with outcomes notifies at commit, so that
/// whoever waits for an outcome (the ingress's `?wait=`) looks again at
/// once instead of at its next poll.
pub const OUTCOMES_CHANNEL: &str = "khlang_outcomes";

/// Records the outcomes of a batch in one statement.
pub(crate) async fn insert_outcomes(
    tx: &mut PgConnection,
    group: &str,
    rows: &[OutcomeRow<'_>],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(include_str!("queries/insert_outcomes.sql"))
        .bind(group)
        .bind(rows.iter().map(|r| r.command_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.command_type).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.aggregate_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.reason_code).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.message.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.correlation_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.topic).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.partition).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.offset).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    // delivered when (and only if) the transaction commits
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(OUTCOMES_CHANNEL)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub(crate) async fn insert_outbox(
    tx: &mut PgConnection,
    relay: &str,
    messages: &[OutboxMessage],
) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    sqlx::query(include_str!("queries/lock_outbox.sql"))
        .bind(relay)
        .execute(&mut *tx)
        .await?;
    let topics: Vec<&str> = messages.iter().map(|m| m.topic.as_str()).collect();
    let keys: Vec<Option<&[u8]>> = messages.iter().map(|m| m.key.as_deref()).collect();
    let payloads: Vec<&[u8]> = messages.iter().map(|m| m.payload.as_slice()).collect();
    let headers: Vec<sqlx::types::Json<&std::collections::BTreeMap<String, String>>> = messages
        .iter()
        .map(|m| sqlx::types::Json(&m.headers))
        .collect();
    sqlx::query(include_str!("queries/insert_outbox.sql"))
        .bind(relay)
        .bind(topics)
        .bind(keys)
        .bind(payloads)
        .bind(headers)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A row read back from the outbox.
pub(crate) struct OutboxRow {
    pub seq: i64,
    pub message: OutboxMessage,
}

pub(crate) async fn fetch_outbox(
    pool: &PgPool,
    relay: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/fetch_outbox.sql"))
        .bind(relay)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            let headers: sqlx::types::Json<std::collections::BTreeMap<String, String>> =
                r.try_get(4)?;
            Ok(OutboxRow {
                seq: r.try_get(0)?,
                message: OutboxMessage {
                    topic: r.try_get(1)?,
                    key: r.try_get(2)?,
                    payload: r.try_get(3)?,
                    headers: headers.0,
                },
            })
        })
        .collect()
}

pub(crate) async fn delete_outbox(
    pool: &PgPool,
    relay: &str,
    up_to_seq: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(include_str!("queries/delete_outbox.sql"))
        .bind(relay)
        .bind(up_to_seq)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn count_outbox(pool: &PgPool, relay: &str) -> Result<i64, sqlx::Error> {
    sqlx::query(include_str!("queries/count_outbox.sql"))
        .bind(relay)
        .fetch_one(pool)
        .await?
        .try_get(0)
}
