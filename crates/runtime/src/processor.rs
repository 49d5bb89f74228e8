//! What a processor implements, and what it gets while applying a record.

use async_trait::async_trait;
use khlang_codec::Codec;
use khlang_contract::{Envelope, Subject, TopicName};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgConnection;

use crate::outbox::OutboxMessage;
use crate::ApplyError;

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    /// Source topic.
    pub topic: String,
    /// Source partition.
    pub partition: i32,
    /// Source offset.
    pub offset: i64,
    /// Record key.
    pub key: Option<Vec<u8>>,
}

/// The parts of a command the runtime needs to record its outcome.
#[derive(Debug, Clone, Copy)]
pub struct CommandInfo<'a> {
    /// The command's envelope (its id is the command id).
    pub envelope: &'a Envelope,
    /// The aggregate it addresses.
    pub aggregate_id: &'a str,
}

/// The outcome a processor decided for a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// State changed; events were emitted.
    Accepted,
    /// Refused, with a stable reason code and a human message.
    Rejected {
        /// Stable machine-readable code, e.g. `email_taken`.
        code: &'static str,
        /// Explanation for people.
        message: String,
    },
}

impl Decision {
    /// A rejection.
    #[must_use]
    pub fn rejected(code: &'static str, message: impl Into<String>) -> Self {
        Decision::Rejected {
            code,
            message: message.into(),
        }
    }
}

/// The transaction and outbox of the batch a record is applied in.
pub struct ApplyContext<'a> {
    /// The batch's transaction: write state through it.
    pub tx: &'a mut PgConnection,
    /// Where the record came from.
    pub record: &'a RecordMeta,
    pub(crate) outbox: &'a mut Vec<OutboxMessage>,
    pub(crate) codec: &'a Codec,
}

impl ApplyContext<'_> {
    /// Adds an event to the outbox: published after the transaction commits,
    /// exactly once, keyed by `key` (the aggregate id).
    ///
    /// # Errors
    /// [`ApplyError::Transient`] when the event cannot be encoded (registry
    /// unreachable, schema mismatch).
    pub async fn emit<T: Serialize + Sync>(
        &mut self,
        topic: TopicName,
        subject: Subject,
        key: &str,
        event: &T,
    ) -> Result<(), ApplyError> {
        let payload = self.codec.encode(topic, subject, event).await?;
        self.outbox.push(OutboxMessage::new(
            topic.as_str(),
            Some(key.as_bytes().to_vec()),
            payload,
        ));
        Ok(())
    }
}

/// A stream processor: decodes commands of one topic and applies them to its
/// state inside the runtime's transaction.
#[async_trait]
pub trait Processor: Send + Sync + 'static {
    /// The decoded command (the Avro value of the source topic).
    type Command: DeserializeOwned + Send + Sync;
    /// What [`Processor::after_commit`] needs to refresh caches.
    type Effect: Send;
    /// What a processor keeps for one batch: rows it read once for all the
    /// batch's commands, writes it makes once at the end. `()` for none.
    type Batch: Default + Send;

    /// The envelope and aggregate id of a command.
    fn describe(command: &Self::Command) -> CommandInfo<'_>;

    /// Reads what the batch's commands need in a few statements instead of
    /// a few per command (and locks it): the commands are those about to be
    /// applied, in order. The default reads nothing.
    ///
    /// # Errors
    /// As [`Processor::apply`]; the whole batch is then retried record by
    /// record.
    async fn prepare(
        &self,
        tx: &mut PgConnection,
        commands: &[&Self::Command],
    ) -> Result<Self::Batch, ApplyError> {
        let _ = (tx, commands);
        Ok(Self::Batch::default())
    }

    /// Applies one command: validates it against the current state, writes
    /// the new state through `ctx.tx` (or into `batch`, to be written by
    /// [`Processor::finish`]), emits events with `ctx.emit`, and decides its
    /// outcome. The runtime records and publishes the outcome.
    ///
    /// # Errors
    /// [`ApplyError::Transient`] to have the record retried (then sent to the
    /// DLQ if it keeps failing), [`ApplyError::Poison`] to DLQ it at once.
    async fn apply(
        &self,
        ctx: &mut ApplyContext<'_>,
        batch: &mut Self::Batch,
        command: &Self::Command,
    ) -> Result<(Decision, Self::Effect), ApplyError>;

    /// Writes what `batch` gathered, in the batch's transaction, after the
    /// last command was applied. The default writes nothing.
    ///
    /// # Errors
    /// As [`Processor::apply`]; the whole batch is then retried record by
    /// record, so a write that fails for one record's sake dead-letters only
    /// that record.
    async fn finish(&self, tx: &mut PgConnection, batch: Self::Batch) -> Result<(), ApplyError> {
        let _ = (tx, batch);
        Ok(())
    }

    /// Runs after a batch committed, with the effects of its records, e.g. to
    /// refresh a Redis copy. Best effort: the database stays the truth.
    async fn after_commit(&self, effects: Vec<Self::Effect>);
}
