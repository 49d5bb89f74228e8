//! Backfills: records published once for state that existed before the
//! code that publishes it did (for example the current state of every
//! product, when the catalog started publishing its state topic).
//!
//! [`begin_backfill`] claims the backfill by name in
//! `khlang_runtime.backfills` and [`Backfill::commit`] puts its records into
//! the relay's outbox in the same transaction, so a backfill runs exactly
//! once however many instances start at the same time. The transaction
//! first takes the relay's outbox lock, so a command applied meanwhile
//! either committed before the backfill read the state (the backfill
//! publishes the newer state) or publishes after it (its newer record comes
//! later on the topic): the last record of a key is never the older one.

use khlang_codec::Codec;
use khlang_contract::{Subject, TopicName};
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::outbox::OutboxMessage;
use crate::{store, ApplyError, RuntimeError};

/// A claimed backfill: read state through [`Backfill::tx`], add records with
/// [`Backfill::emit`], then [`Backfill::commit`]. Dropped without a
/// commit, it rolls back and stays unclaimed.
pub struct Backfill {
    tx: Transaction<'static, Postgres>,
    name: String,
    relay: String,
    codec: Codec,
    outbox: Vec<OutboxMessage>,
}

impl std::fmt::Debug for Backfill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backfill")
            .field("name", &self.name)
            .field("relay", &self.relay)
            .field("records", &self.outbox.len())
            .finish_non_exhaustive()
    }
}

/// Claims the backfill `name`, to be published by `relay` (a
/// [`crate::RuntimeConfig::relay_name`]); `None` when it ran before.
///
/// # Errors
/// Database errors.
pub async fn begin_backfill(
    pool: &PgPool,
    name: &str,
    relay: &str,
    codec: &Codec,
) -> Result<Option<Backfill>, RuntimeError> {
    let mut tx = pool.begin().await?;
    sqlx::query(include_str!("queries/lock_outbox.sql"))
        .bind(relay)
        .execute(&mut *tx)
        .await?;
    let claimed: Option<String> = sqlx::query_scalar(include_str!("queries/claim_backfill.sql"))
        .bind(name)
        .bind(relay)
        .fetch_optional(&mut *tx)
        .await?;
    if claimed.is_none() {
        tx.rollback().await?;
        return Ok(None);
    }
    Ok(Some(Backfill {
        tx,
        name: name.to_owned(),
        relay: relay.to_owned(),
        codec: codec.clone(),
        outbox: Vec::new(),
    }))
}

impl Backfill {
    /// The backfill's transaction: read the state to publish through it.
    pub fn tx(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Adds a record, keyed `key`, published after [`Backfill::commit`].
    ///
    /// # Errors
    /// When the value cannot be encoded (registry unreachable, schema
    /// mismatch).
    pub async fn emit<T: Serialize + Sync>(
        &mut self,
        topic: TopicName,
        subject: Subject,
        key: &str,
        value: &T,
    ) -> Result<(), ApplyError> {
        let payload = self.codec.encode(topic, subject, value).await?;
        self.outbox.push(OutboxMessage::new(
            topic.as_str(),
            Some(key.as_bytes().to_vec()),
            payload,
        ));
        Ok(())
    }

    /// Puts the records into the outbox and marks the backfill done, in one
    /// transaction; returns how many records it published.
    ///
    /// # Errors
    /// Database errors (nothing is then published and the backfill stays
    /// unclaimed).
    pub async fn commit(mut self) -> Result<u64, RuntimeError> {
        let rows = self.outbox.len() as u64;
        store::insert_outbox(&mut self.tx, &self.relay, &self.outbox).await?;
        sqlx::query(include_str!("queries/finish_backfill.sql"))
            .bind(&self.name)
            .bind(i64::try_from(rows).unwrap_or(i64::MAX))
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        tracing::info!(backfill = %self.name, relay = %self.relay, rows, "backfill published");
        Ok(rows)
    }
}
