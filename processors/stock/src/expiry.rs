//! Reservation expiry on the runtime's timer piece
//! ([`khlang_runtime::timer`]): every active reservation past its time gets
//! an `Expire` command, sent to the item that owns it, with the id
//! `UUIDv5(STEP_NAMESPACE, "Expire:<reservation id>")`. However often it is
//! sent (after a restart, by several instances at once) the runtime applies
//! that id once, and the processor expires only an active reservation:
//! exactly once, across restarts.

use std::time::Duration;

use khlang_codec::Codec;
use khlang_contract::stock::{Expire, StockCommand};
use khlang_contract::topics::STOCK_COMMAND_SUBJECT;
use khlang_contract::{Actor, Envelope, TopicName};
use khlang_runtime::timer::{run_timer, Timer, TimerConfig, TimerIds};
use khlang_runtime::RuntimeMetrics;
use rdkafka::producer::FutureProducer;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::processor::STEP_NAMESPACE;
use crate::store::{self, DueReservation};

/// The timer's name in logs and metrics.
pub const EXPIRY_TIMER: &str = "reservation-expiry";

/// Active reservations past their time, expired one `Expire` each.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReservationExpiry;

#[async_trait::async_trait]
impl Timer for ReservationExpiry {
    type Due = DueReservation;
    type Command = StockCommand;

    async fn due(&self, pool: &PgPool, limit: i64) -> Result<Vec<DueReservation>, sqlx::Error> {
        store::due_reservations(pool, limit).await
    }

    fn timer_id(due: &DueReservation) -> &str {
        &due.reservation_id
    }

    fn command(&self, due: &DueReservation, command_id: String) -> (String, StockCommand) {
        let mut envelope = Envelope::new(
            "Expire",
            Actor::system("stock"),
            &due.reservation_id,
            "stock",
        );
        envelope.id = command_id;
        let mut command = StockCommand::empty(envelope, &due.sku, &due.warehouse);
        command.expire = Some(Expire {
            reservation_id: due.reservation_id.clone(),
        });
        (command.key(), command)
    }
}

/// The expiry timer's configuration: `Expire` commands to `commands`,
/// looking every `every`.
#[must_use]
pub fn expiry_config(commands: TopicName, every: Duration) -> TimerConfig {
    TimerConfig::new(
        EXPIRY_TIMER,
        commands,
        STOCK_COMMAND_SUBJECT,
        every,
        TimerIds::new(STEP_NAMESPACE, "Expire"),
    )
}

/// Runs the expiry timer until `cancel` (see [`run_timer`]).
pub async fn run(
    pool: PgPool,
    codec: Codec,
    producer: FutureProducer,
    commands: TopicName,
    every: Duration,
    metrics: RuntimeMetrics,
    cancel: CancellationToken,
) {
    run_timer(
        ReservationExpiry,
        expiry_config(commands, every),
        pool,
        codec,
        producer,
        metrics,
        cancel,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expiry_keeps_the_id_it_had_before_the_timer_piece() {
        let config = expiry_config(
            khlang_contract::topics::STOCK_COMMANDS,
            Duration::from_secs(1),
        );
        assert_eq!(
            config.ids.command_id("r-42"),
            crate::step_id("Expire", "r-42")
        );
    }
}
