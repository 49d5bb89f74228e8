//! Timers: commands a processor sends itself when something falls due (a
//! reservation expires, a saga step times out, a schedule fires).
//!
//! A [`Timer`] says what is due, read from the processor's own state; the
//! runtime sends one command for each to the processor's command topic,
//! every `every`, until the state says it is no longer due. Each command's
//! id is derived from the timer's id (UUIDv5 over the namespace and
//! `{prefix}:{timer id}`), so the same timer always sends the same command
//! id: after a restart, from two instances at once, or resent because the
//! first one is still in flight, the runtime applies it once (a command id
//! has exactly one outcome) — and the processor's rule makes the command a
//! no-op (a refusal) once the state has moved on. A timer fires once,
//! across restarts.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use khlang_codec::Codec;
use khlang_contract::{Subject, TopicName};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use serde::Serialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::metrics::TimerLabels;
use crate::RuntimeMetrics;

/// How a timer runs.
#[derive(Debug, Clone)]
pub struct TimerConfig {
    /// Short name fixed by the code (`reservation-expiry`): logs and metric
    /// labels.
    pub name: String,
    /// Where its commands go.
    pub topic: TopicName,
    /// The value subject of `topic`.
    pub subject: Subject,
    /// How often it looks for due timers.
    pub every: Duration,
    /// How long a sent command is not sent again (it is probably in flight).
    pub resend_after: Duration,
    /// Most timers fired per look.
    pub limit: i64,
    /// The derivation of command ids: see [`TimerIds`].
    pub ids: TimerIds,
}

impl TimerConfig {
    /// Defaults for the timer `name` sending to `topic`, looking every
    /// `every`.
    #[must_use]
    pub fn new(
        name: &str,
        topic: TopicName,
        subject: Subject,
        every: Duration,
        ids: TimerIds,
    ) -> Self {
        Self {
            name: name.to_owned(),
            topic,
            subject,
            every,
            resend_after: Duration::from_secs(10),
            limit: 1000,
            ids,
        }
    }
}

/// Deterministic command ids of one kind of timer.
#[derive(Debug, Clone)]
pub struct TimerIds {
    namespace: Uuid,
    prefix: String,
}

impl TimerIds {
    /// Ids `UUIDv5(namespace, "{prefix}:{timer id}")`.
    #[must_use]
    pub fn new(namespace: Uuid, prefix: &str) -> Self {
        Self {
            namespace,
            prefix: prefix.to_owned(),
        }
    }

    /// The id of the command that fires `timer_id`.
    #[must_use]
    pub fn command_id(&self, timer_id: &str) -> String {
        Uuid::new_v5(
            &self.namespace,
            format!("{}:{timer_id}", self.prefix).as_bytes(),
        )
        .to_string()
    }
}

/// What a timer reads and sends.
#[async_trait]
pub trait Timer: Send + Sync + 'static {
    /// One due timer, as read from the processor's state.
    type Due: Send + Sync;
    /// The command it sends.
    type Command: Serialize + Send + Sync;

    /// The timers due now, at most `limit`, oldest first.
    ///
    /// # Errors
    /// Database errors (the timer tries again at its next look).
    async fn due(&self, pool: &PgPool, limit: i64) -> Result<Vec<Self::Due>, sqlx::Error>;

    /// The timer's stable id (a reservation id, a saga id, …).
    fn timer_id(due: &Self::Due) -> &str;

    /// The record key and the command that fires `due`, whose envelope id
    /// must be `command_id`.
    fn command(&self, due: &Self::Due, command_id: String) -> (String, Self::Command);
}

/// Runs `timer` until `cancel`: every `config.every`, sends the command of
/// each due timer through `producer` (idempotent, `acks=all`).
pub async fn run_timer<T: Timer>(
    timer: T,
    config: TimerConfig,
    pool: PgPool,
    codec: Codec,
    producer: FutureProducer,
    metrics: RuntimeMetrics,
    cancel: CancellationToken,
) {
    let labels = TimerLabels {
        timer: config.name.clone(),
    };
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(config.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        sent.retain(|_, at| at.elapsed() < config.resend_after);
        let due = match timer.due(&pool, config.limit).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, timer = %config.name, "timer scan failed");
                continue;
            }
        };
        for item in due {
            let timer_id = T::timer_id(&item);
            if sent.contains_key(timer_id) {
                continue;
            }
            let (key, command) = timer.command(&item, config.ids.command_id(timer_id));
            let payload = match codec.encode(config.topic, config.subject, &command).await {
                Ok(payload) => payload,
                Err(error) => {
                    tracing::warn!(%error, timer = %config.name, "timer command not encoded");
                    continue;
                }
            };
            let delivered = producer
                .send(
                    FutureRecord::to(config.topic.as_str())
                        .key(&key)
                        .payload(&payload),
                    Timeout::After(Duration::from_secs(5)),
                )
                .await;
            match delivered {
                Ok(_) => {
                    sent.insert(timer_id.to_owned(), Instant::now());
                    metrics.timer_fired.get_or_create(&labels).inc();
                }
                Err((error, _)) => {
                    tracing::warn!(%error, timer = %config.name, "timer command not sent");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_timer_always_sends_the_same_command_id() {
        let ids = TimerIds::new(Uuid::from_u128(7), "Expire");
        assert_eq!(ids.command_id("r-1"), ids.command_id("r-1"));
        assert_ne!(ids.command_id("r-1"), ids.command_id("r-2"));
        assert_ne!(
            ids.command_id("r-1"),
            TimerIds::new(Uuid::from_u128(7), "Other").command_id("r-1")
        );
    }
}
