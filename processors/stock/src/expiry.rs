//! The expiry timer: finds active reservations past their time and sends
//! an `Expire` command for each to the item that owns it. The command id
//! is derived from the reservation id, so however often it is sent (by
//! this instance after a restart, or by several instances at once), the
//! runtime applies it once; and the processor expires only an active
//! reservation. Exactly once, across restarts.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use khlang_codec::Codec;
use khlang_contract::stock::{Expire, StockCommand};
use khlang_contract::topics::STOCK_COMMAND_SUBJECT;
use khlang_contract::{Actor, Envelope, TopicName};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use sqlx::{PgPool, Row as _};
use tokio_util::sync::CancellationToken;

use crate::processor::step_id;

/// Do not send an expiry again for this long (it is probably in flight).
const RESEND_AFTER: Duration = Duration::from_secs(10);

/// Runs until `cancel`.
pub async fn run(
    pool: PgPool,
    codec: Codec,
    producer: FutureProducer,
    commands: TopicName,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        sent.retain(|_, at| at.elapsed() < RESEND_AFTER);
        let due = sqlx::query(
            "SELECT reservation_id, sku, warehouse FROM stock.reservations \
             WHERE status = 'active' AND expires_at <= now() ORDER BY expires_at LIMIT 1000",
        )
        .fetch_all(&pool)
        .await;
        let rows = match due {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(%error, "expiry scan failed");
                continue;
            }
        };
        for row in rows {
            let (Ok(id), Ok(sku), Ok(warehouse)) = (
                row.try_get::<String, _>("reservation_id"),
                row.try_get::<String, _>("sku"),
                row.try_get::<String, _>("warehouse"),
            ) else {
                continue;
            };
            if sent.contains_key(&id) {
                continue;
            }
            let mut envelope = Envelope::new("Expire", Actor::system("stock"), &id, "stock");
            envelope.id = step_id("Expire", &id);
            let mut command = StockCommand::empty(envelope, &sku, &warehouse);
            command.expire = Some(Expire {
                reservation_id: id.clone(),
            });
            let payload = match codec
                .encode(commands, STOCK_COMMAND_SUBJECT, &command)
                .await
            {
                Ok(payload) => payload,
                Err(error) => {
                    tracing::warn!(%error, "expiry not encoded");
                    continue;
                }
            };
            let key = command.key();
            let delivered = producer
                .send(
                    FutureRecord::to(commands.as_str())
                        .key(&key)
                        .payload(&payload),
                    Timeout::After(Duration::from_secs(5)),
                )
                .await;
            match delivered {
                Ok(_) => {
                    sent.insert(id, Instant::now());
                }
                Err((error, _)) => tracing::warn!(%error, "expiry not sent"),
            }
        }
    }
}
