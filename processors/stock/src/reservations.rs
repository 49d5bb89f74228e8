//! Reservations of one item: `Reserve` promises available units to an
//! order line; exactly one of `Release`, `Commit` (dispatch) or `Expire`
//! (the timer in [`crate::expiry`]) ends it.

use khlang_contract::stock::{StockCommand, StockCommandKind};
use khlang_runtime::{ApplyContext, ApplyError};
use sqlx::PgConnection;

use crate::reasons;
use crate::rules::{self, refuse, Item, Movement, Refusal, ReservationEvent};
use crate::store::{self, Locked};

/// Decides a `Reserve`, `Release`, `Commit` or `Expire` against `locked`,
/// recording the reservation's new state in the batch's transaction.
pub(crate) async fn decide(
    ctx: &mut ApplyContext<'_>,
    command: &StockCommand,
    kind: StockCommandKind<'_>,
    locked: &Locked,
) -> Result<Result<Movement, Refusal>, ApplyError> {
    use StockCommandKind as K;
    let item = locked.item;
    let (id, event, reference) = match kind {
        K::Reserve(r) => {
            if !rules::valid_id(&r.reservation_id) {
                return Ok(Err(refuse(
                    reasons::INVALID_COMMAND,
                    "reservation id must be 1-64 characters",
                )));
            }
            if r.expires_at <= command.envelope.occurred_at {
                return Ok(Err(refuse(
                    reasons::INVALID_EXPIRY,
                    "the reservation would expire before it is made",
                )));
            }
            let next = match rules::reserve(item, r.quantity) {
                Ok(next) => next,
                Err(refused) => return Ok(Err(refused)),
            };
            let inserted = store::insert_reservation(
                ctx.tx,
                &r.reservation_id,
                &command.sku,
                &command.warehouse,
                r.quantity,
                r.expires_at,
                r.order_ref.as_deref(),
            )
            .await?;
            if !inserted {
                return Ok(Err(refuse(
                    reasons::RESERVATION_EXISTS,
                    "this reservation id was used",
                )));
            }
            return Ok(Ok(Movement {
                reference: r
                    .order_ref
                    .clone()
                    .or_else(|| Some(r.reservation_id.clone())),
                ..Movement::new(next, "Reserved", r.quantity, locked.minimum_override)
            }));
        }
        K::Release(r) => (&r.reservation_id, ReservationEvent::Release, None),
        K::Commit(r) => (
            &r.reservation_id,
            ReservationEvent::Commit {
                at: command.envelope.occurred_at,
            },
            r.reference.clone(),
        ),
        K::Expire(r) => (&r.reservation_id, ReservationEvent::Expire, None),
        other => {
            return Ok(Err(refuse(
                reasons::INVALID_COMMAND,
                format!("{} is not a reservation command", other.name()),
            )))
        }
    };
    Ok(end(ctx.tx, command, item, id, event, reference)
        .await?
        .map(|m| Movement {
            minimum_override: locked.minimum_override,
            ..m
        }))
}

/// Ends the reservation `id` of the command's item with `event`.
async fn end(
    tx: &mut PgConnection,
    command: &StockCommand,
    item: Item,
    id: &str,
    event: ReservationEvent,
    reference: Option<String>,
) -> Result<Result<Movement, Refusal>, ApplyError> {
    let Some(found) = store::lock_reservation(tx, id).await? else {
        return Ok(Err(refuse(
            reasons::RESERVATION_NOT_FOUND,
            "no such reservation",
        )));
    };
    if found.sku != command.sku || found.warehouse != command.warehouse {
        return Ok(Err(refuse(
            reasons::RESERVATION_NOT_FOUND,
            "no such reservation at this item",
        )));
    }
    let next = match rules::reservation_step(found.status, found.expires_at, event) {
        Ok(next) => next,
        Err(refused) => return Ok(Err(refused)),
    };
    store::close_reservation(tx, id, next).await?;
    let quantity = found.quantity;
    let (item, name) = match event {
        ReservationEvent::Release => (rules::unreserve(item, quantity), "Released"),
        ReservationEvent::Commit { .. } => (rules::commit(item, quantity), "Committed"),
        ReservationEvent::Expire => (rules::unreserve(item, quantity), "ReservationExpired"),
    };
    Ok(Ok(Movement {
        reference: reference.or_else(|| Some(id.to_owned())),
        ..Movement::new(item, name, quantity, None)
    }))
}
