//! Wakes `GET /v1/commands/{id}?wait=` when processors record outcomes.
//!
//! Every batch a processor commits with outcomes in it notifies the
//! PostgreSQL channel [`OUTCOMES_CHANNEL`]. The ingress listens on one
//! connection and turns each notification into a new value of a counter
//! that every waiting request watches: a waiter looks for its outcome again
//! as soon as some outcome was written, instead of at its next poll. The
//! waiters still poll, slowly, so an outcome is never missed while the
//! listening connection is down (it is re-established with backoff).

use std::time::Duration;

use khlang_runtime::OUTCOMES_CHANNEL;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::metrics::Metrics;

/// The counter waiters watch.
#[derive(Debug, Clone)]
pub struct OutcomeSignal {
    signals: watch::Receiver<u64>,
}

impl OutcomeSignal {
    /// Starts listening on `pool`'s database.
    #[must_use]
    pub fn start(pool: PgPool, metrics: Metrics) -> Self {
        let (sender, signals) = watch::channel(0);
        tokio::spawn(listen(pool, sender, metrics));
        Self { signals }
    }

    /// A receiver that sees every signal from now on.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        let mut signals = self.signals.clone();
        signals.mark_unchanged();
        signals
    }
}

async fn listen(pool: PgPool, sender: watch::Sender<u64>, metrics: Metrics) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match subscribed(&pool).await {
            Ok(mut listener) => {
                backoff = Duration::from_millis(200);
                loop {
                    match listener.recv().await {
                        Ok(_) => {
                            metrics.outcome_signals.inc();
                            sender.send_modify(|n| *n = n.wrapping_add(1));
                        }
                        Err(error) => {
                            tracing::warn!(%error, "outcome notifications lost, listening again");
                            break;
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for outcome notifications, waiters poll");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

async fn subscribed(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(OUTCOMES_CHANNEL).await?;
    Ok(listener)
}
