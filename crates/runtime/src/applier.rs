//! The applier: turns queued records into committed batches.
//!
//! One PostgreSQL transaction per batch holds the processor's state changes,
//! the next offset of every partition in the batch, the outcome of every
//! command and every message for the outbox. Records below the stored offset
//! (already applied by this or another instance) are skipped under the row
//! lock, which makes applying idempotent.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use khlang_codec::{Codec, CodecError};
use khlang_contract::topics::COMMAND_OUTCOME_SUBJECT;
use khlang_contract::{CommandOutcome, OutcomeStatus};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::consumer::{Item, OwnedRecord, Positions};
use crate::outbox::{dlq_headers, OutboxMessage};
use crate::processor::{ApplyContext, CommandInfo, Decision, Processor, RecordMeta};
use crate::store::{self, OutcomeRow};
use crate::{ApplyError, RuntimeConfig, RuntimeMetrics};

/// Why a record goes to the DLQ.
#[derive(Debug, Clone)]
struct Poisoned {
    kind: &'static str,
    reason: String,
}

/// A record with its decoded command (or why it could not be decoded).
struct Decoded<C> {
    record: OwnedRecord,
    command: Result<C, Poisoned>,
}

/// Whether the applier goes on after a batch. It halts only at shutdown,
/// when a record could not be applied: records after it in its partition
/// must not be applied (and their offsets stored) before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Halt,
}

/// Counts of what a committed batch did.
#[derive(Default)]
struct BatchReport {
    accepted: u64,
    rejected: u64,
    duplicates: u64,
    dlq: u64,
}

pub(crate) struct Applier<P: Processor> {
    pub processor: Arc<P>,
    pub pool: PgPool,
    pub codec: Codec,
    pub config: RuntimeConfig,
    pub metrics: RuntimeMetrics,
    pub positions: Positions,
    pub cancel: CancellationToken,
}

impl<P: Processor> Applier<P> {
    /// Applies queued records until the queue closes.
    pub(crate) async fn run(self, mut queue: mpsc::Receiver<Item>) {
        let mut batch = Vec::with_capacity(self.config.max_batch);
        while let Some(first) = queue.recv().await {
            let mut barrier = None;
            match first {
                Item::Record(record) => batch.push(record),
                Item::Barrier(done) => barrier = Some(done),
            }
            if barrier.is_none() {
                let deadline = tokio::time::Instant::now() + self.config.linger;
                while batch.len() < self.config.max_batch {
                    match tokio::time::timeout_at(deadline, queue.recv()).await {
                        Ok(Some(Item::Record(record))) => batch.push(record),
                        Ok(Some(Item::Barrier(done))) => {
                            barrier = Some(done);
                            break;
                        }
                        Ok(None) | Err(_) => break,
                    }
                }
            }
            let flow = if batch.is_empty() {
                Flow::Go
            } else {
                self.process(std::mem::take(&mut batch)).await
            };
            if let Some(done) = barrier {
                let _ = done.send(());
            }
            if flow == Flow::Halt {
                tracing::warn!(
                    "applier halted at shutdown; the records not applied wait for the next start"
                );
                break;
            }
        }
        tracing::info!("applier stopped");
    }

    /// Decodes every record. Bytes that cannot be decoded are poison; a
    /// registry that cannot be asked is not: decoding waits for it (with
    /// backoff), because dead-lettering a good record during a registry
    /// outage would take it out of its partition's order. `None` when the
    /// process stops while still waiting.
    async fn decode(&self, records: Vec<OwnedRecord>) -> Option<Vec<Decoded<P::Command>>> {
        let mut decoded = Vec::with_capacity(records.len());
        for record in records {
            let command = match record.payload.as_deref() {
                None => Err(Poisoned {
                    kind: "decode",
                    reason: "record has no value".into(),
                }),
                Some(bytes) => self.decode_waiting(bytes, &record.meta).await?,
            };
            decoded.push(Decoded { record, command });
        }
        Some(decoded)
    }

    async fn decode_waiting(
        &self,
        bytes: &[u8],
        meta: &RecordMeta,
    ) -> Option<Result<P::Command, Poisoned>> {
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.codec.decode::<P::Command>(bytes).await {
                Ok(command) => return Some(Ok(command)),
                Err(CodecError::Unavailable(reason)) => {
                    tracing::warn!(
                        error = %reason, partition = meta.partition, offset = meta.offset,
                        "schema registry unavailable, decoding waits"
                    );
                    self.metrics.apply_retries.inc();
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = self.cancel.cancelled() => return None,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(error) => {
                    return Some(Err(Poisoned {
                        kind: "decode",
                        reason: error.to_string(),
                    }))
                }
            }
        }
    }

    async fn process(&self, records: Vec<OwnedRecord>) -> Flow {
        let Some(decoded) = self.decode(records).await else {
            return Flow::Halt;
        };
        let started = Instant::now();
        match self.apply_batch(&decoded).await {
            Ok(effects) => {
                self.metrics
                    .batch_seconds
                    .observe(started.elapsed().as_secs_f64());
                self.metrics.batch_size.observe(decoded.len() as f64);
                self.committed(effects).await;
                Flow::Go
            }
            Err(error) => {
                self.metrics.apply_retries.inc();
                tracing::warn!(%error, records = decoded.len(), "batch failed, applying records one by one");
                for item in &decoded {
                    if self.apply_one(item).await == Flow::Halt {
                        // what follows must not overtake the record given up on
                        return Flow::Halt;
                    }
                }
                Flow::Go
            }
        }
    }

    /// Applies one record with bounded retries; a record that keeps failing
    /// while the database is healthy goes to the DLQ. While the database or
    /// the schema registry is down nothing is dead-lettered: the record
    /// waits.
    async fn apply_one(&self, item: &Decoded<P::Command>) -> Flow {
        let mut backoff = Duration::from_millis(50);
        loop {
            let mut last_error = String::new();
            let mut unavailable = false;
            for attempt in 1..=self.config.max_attempts {
                match self.apply_batch(std::slice::from_ref(item)).await {
                    Ok(effects) => {
                        self.committed(effects).await;
                        return Flow::Go;
                    }
                    Err(ApplyError::Poison(reason)) => {
                        last_error = reason;
                        break;
                    }
                    Err(ApplyError::Unavailable(reason)) => {
                        tracing::warn!(
                            error = %reason,
                            partition = item.record.meta.partition, offset = item.record.meta.offset,
                            "a dependency is unavailable, the record waits"
                        );
                        unavailable = true;
                        break;
                    }
                    Err(ApplyError::Transient(reason)) => {
                        tracing::warn!(
                            error = %reason, attempt,
                            partition = item.record.meta.partition, offset = item.record.meta.offset,
                            "record failed to apply"
                        );
                        last_error = reason;
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(2));
                    }
                }
            }
            if !unavailable && self.database_healthy().await {
                let poisoned = Decoded {
                    record: item.record.clone(),
                    command: Err(Poisoned {
                        kind: "apply",
                        reason: last_error,
                    }),
                };
                match self.apply_batch(std::slice::from_ref(&poisoned)).await {
                    Ok(effects) => {
                        self.committed(effects).await;
                        return Flow::Go;
                    }
                    Err(error) => tracing::error!(%error, "dead-lettering failed"),
                }
            }
            if self.cancel.is_cancelled() {
                // Nothing was committed for this record; it is applied after a restart.
                tracing::warn!(
                    offset = item.record.meta.offset,
                    "giving up on record at shutdown"
                );
                return Flow::Halt;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn database_healthy(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// One transaction: offsets, state, outcomes, outbox. The statements
    /// per batch are few and fixed (offsets, duplicates, the processor's
    /// `prepare` and `finish`, outcomes, outbox); only what a processor
    /// does in `apply` runs per command.
    async fn apply_batch(
        &self,
        items: &[Decoded<P::Command>],
    ) -> Result<Vec<P::Effect>, ApplyError> {
        let group = self.config.group_id.as_str();
        let mut tx = self.pool.begin().await?;
        let mut partitions: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for item in items {
            let list = partitions
                .entry(item.record.meta.topic.as_str())
                .or_default();
            if !list.contains(&item.record.meta.partition) {
                list.push(item.record.meta.partition);
            }
        }
        let mut next: HashMap<(&str, i32), i64> = HashMap::new();
        for (topic, list) in &partitions {
            for (partition, offset) in store::lock_offsets(&mut tx, group, topic, list).await? {
                next.insert((topic, partition), offset);
            }
        }
        let mut outbox = Vec::new();
        let mut report = BatchReport::default();
        let mut advanced: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        // Records below the stored offset were applied before (by this or
        // another instance); undecodable ones go to the DLQ.
        let mut decoded = Vec::with_capacity(items.len());
        for item in items {
            let meta = &item.record.meta;
            let position = (meta.topic.as_str(), meta.partition);
            if meta.offset < next.get(&position).copied().unwrap_or(0) {
                report.duplicates += 1;
                continue;
            }
            next.insert(position, meta.offset + 1);
            advanced.insert(position, meta.offset + 1);
            match &item.command {
                Ok(command) => decoded.push((meta, command)),
                Err(poisoned) => {
                    tracing::warn!(
                        topic = %meta.topic, partition = meta.partition, offset = meta.offset,
                        kind = poisoned.kind, reason = %poisoned.reason, "record sent to dlq"
                    );
                    let mut message = OutboxMessage::new(
                        self.config.dlq_topic.as_str(),
                        meta.key.clone(),
                        item.record.payload.clone().unwrap_or_default(),
                    );
                    message.headers = dlq_headers(meta, group, poisoned.kind, &poisoned.reason);
                    outbox.push(message);
                    report.dlq += 1;
                }
            }
        }
        // A command id that already has an outcome (the same command sent
        // twice, under two offsets) keeps its one outcome.
        let ids: Vec<&str> = decoded
            .iter()
            .map(|(_, command)| P::describe(command).envelope.id.as_str())
            .collect();
        let mut seen = store::existing_outcomes(&mut tx, &ids).await?;
        let fresh: Vec<(&RecordMeta, &P::Command)> = decoded
            .into_iter()
            .filter(|(_, command)| seen.insert(P::describe(command).envelope.id.clone()))
            .collect();
        report.duplicates += (ids.len() - fresh.len()) as u64;
        let commands: Vec<&P::Command> = fresh.iter().map(|(_, command)| *command).collect();
        let mut batch = self.processor.prepare(&mut tx, &commands).await?;
        let mut outcomes = Vec::with_capacity(fresh.len());
        let mut effects = Vec::with_capacity(fresh.len());
        for (meta, command) in fresh {
            let info = P::describe(command);
            let span = tracing::info_span!(
                "apply",
                correlation_id = %info.envelope.correlation_id,
                command_id = %info.envelope.id,
                command_type = %info.envelope.kind,
            );
            let (row, effect) = self
                .apply_command(&mut tx, &mut batch, &mut outbox, meta, command)
                .instrument(span)
                .await?;
            match row.status {
                OutcomeStatus::Accepted => report.accepted += 1,
                OutcomeStatus::Rejected => report.rejected += 1,
            }
            outcomes.push(row);
            effects.push(effect);
        }
        self.processor.finish(&mut tx, batch).await?;
        store::insert_outcomes(&mut tx, group, &outcomes).await?;
        let stored: Vec<(&str, i32, i64)> = advanced
            .iter()
            .map(|((topic, partition), offset)| (*topic, *partition, *offset))
            .collect();
        store::store_offsets(&mut tx, group, &stored).await?;
        store::insert_outbox(&mut tx, &self.config.relay_name(), &outbox).await?;
        tx.commit().await?;
        self.metrics.applied_n("accepted", report.accepted);
        self.metrics.applied_n("rejected", report.rejected);
        self.metrics.applied_n("duplicate", report.duplicates);
        self.metrics.applied_n("dlq", report.dlq);
        self.metrics.dlq_records.inc_by(report.dlq);
        if let Ok(mut positions) = self.positions.lock() {
            for ((topic, partition), offset) in advanced {
                positions.insert((topic.to_owned(), partition), offset);
            }
        }
        Ok(effects)
    }

    /// Applies one decoded command inside the batch transaction and puts
    /// its outcome in the outbox (the outcome row is written with the
    /// batch's).
    async fn apply_command<'a>(
        &self,
        tx: &mut sqlx::PgConnection,
        batch: &mut P::Batch,
        outbox: &mut Vec<OutboxMessage>,
        meta: &'a RecordMeta,
        command: &'a P::Command,
    ) -> Result<(OutcomeRow<'a>, P::Effect), ApplyError> {
        let info = P::describe(command);
        let mut ctx = ApplyContext {
            tx: &mut *tx,
            record: meta,
            outbox: &mut *outbox,
            codec: &self.codec,
        };
        let (decision, effect) = self.processor.apply(&mut ctx, batch, command).await?;
        let row = outcome_row(info, meta, decision);
        let outcome = CommandOutcome {
            envelope: info.envelope.caused(
                if row.status == OutcomeStatus::Accepted {
                    "CommandAccepted"
                } else {
                    "CommandRejected"
                },
                &self.config.service,
            ),
            command_id: info.envelope.id.clone(),
            command_type: info.envelope.kind.clone(),
            aggregate_id: info.aggregate_id.to_owned(),
            status: row.status,
            reason_code: row.reason_code.map(str::to_owned),
            message: row.message.clone(),
        };
        let payload = self
            .codec
            .encode(self.config.outcome_topic, COMMAND_OUTCOME_SUBJECT, &outcome)
            .await?;
        outbox.push(OutboxMessage::new(
            self.config.outcome_topic.as_str(),
            Some(info.envelope.id.as_bytes().to_vec()),
            payload,
        ));
        tracing::debug!(
            status = row.status.as_str(),
            reason_code = row.reason_code,
            "command applied"
        );
        Ok((row, effect))
    }

    async fn committed(&self, effects: Vec<P::Effect>) {
        if !effects.is_empty() {
            self.processor.after_commit(effects).await;
        }
    }
}

/// The outcome row of a command applied in a batch.
fn outcome_row<'a>(
    info: CommandInfo<'a>,
    meta: &'a RecordMeta,
    decision: Decision,
) -> OutcomeRow<'a> {
    let (status, reason_code, message) = match decision {
        Decision::Accepted => (OutcomeStatus::Accepted, None, None),
        Decision::Rejected { code, message } => {
            (OutcomeStatus::Rejected, Some(code), Some(message))
        }
    };
    OutcomeRow {
        command_id: &info.envelope.id,
        command_type: &info.envelope.kind,
        aggregate_id: info.aggregate_id,
        status,
        reason_code,
        message,
        correlation_id: &info.envelope.correlation_id,
        topic: &meta.topic,
        partition: meta.partition,
        offset: meta.offset,
    }
}
