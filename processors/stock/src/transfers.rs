//! Transfers between warehouses: a saga of commands the processor sends
//! itself, each to the item that owns the next step (the source `sku@from`
//! and the destination `sku@to` may live on different partitions).
//!
//! `TransferOut` (source) → `TransferExpect` (destination) →
//! `TransferReceive` (destination); or `TransferCancel` (source) →
//! `TransferWithdraw` (destination) → `TransferReturn` (source).

use std::collections::HashMap;

use khlang_contract::stock::{
    StockCommand, StockCommandKind, TransferExpect, TransferReturn, TransferWithdraw,
};
use khlang_runtime::{ApplyContext, ApplyError};

use crate::processor::StockProcessor;
use crate::reasons;
use crate::rules::{self, refuse, Movement, Refusal, TransferEvent};
use crate::store::{self, Locked, Transfer};

/// Decides a transfer step against `locked`, recording the transfer's new
/// state in the batch's transaction and sending the next step through the
/// outbox. `warehouses` holds the batch's warehouses and whether each is
/// active (the destination of a `TransferOut` must be).
pub(crate) async fn decide(
    processor: &StockProcessor,
    ctx: &mut ApplyContext<'_>,
    warehouses: &HashMap<String, bool>,
    command: &StockCommand,
    kind: StockCommandKind<'_>,
    locked: &Locked,
) -> Result<Result<Movement, Refusal>, ApplyError> {
    use StockCommandKind as K;
    let item = locked.item;
    let minimum = locked.minimum_override;
    let moved = |item, name, quantity, transfer_id: &str| Movement {
        reference: Some(transfer_id.to_owned()),
        ..Movement::new(item, name, quantity, minimum)
    };
    Ok(match kind {
        K::TransferOut(t) => {
            if !rules::valid_id(&t.transfer_id) {
                return Ok(Err(refuse(
                    reasons::INVALID_COMMAND,
                    "transfer id must be 1-64 characters",
                )));
            }
            if t.to_warehouse == command.warehouse {
                return Ok(Err(refuse(
                    reasons::SAME_WAREHOUSE,
                    "a transfer goes to another warehouse",
                )));
            }
            let destination = warehouses.get(&t.to_warehouse).copied();
            if let Some(refused) = rules::warehouse_refusal(&t.to_warehouse, destination) {
                return Ok(Err(refused));
            }
            let next = match rules::transfer_out(item, t.quantity) {
                Ok(next) => next,
                Err(refused) => return Ok(Err(refused)),
            };
            let inserted = store::insert_transfer(
                ctx.tx,
                &t.transfer_id,
                &command.sku,
                &command.warehouse,
                &t.to_warehouse,
                t.quantity,
            )
            .await?;
            if !inserted {
                return Ok(Err(refuse(
                    reasons::TRANSFER_EXISTS,
                    "this transfer id was used",
                )));
            }
            let (id, from, qty) = (t.transfer_id.clone(), command.warehouse.clone(), t.quantity);
            processor
                .send_step(
                    ctx,
                    command,
                    &t.to_warehouse,
                    "TransferExpect",
                    &t.transfer_id,
                    |c| {
                        c.transfer_expect = Some(TransferExpect {
                            transfer_id: id,
                            from_warehouse: from,
                            quantity: qty,
                        });
                    },
                )
                .await?;
            Ok(moved(next, "TransferredOut", t.quantity, &t.transfer_id))
        }
        K::TransferExpect(t) => {
            store::expect_transfer(ctx.tx, &t.transfer_id).await?;
            Ok(moved(
                rules::expect(item, t.quantity),
                "TransferExpected",
                t.quantity,
                &t.transfer_id,
            ))
        }
        K::TransferReceive(t) => {
            let Some(found) = store::lock_transfer(ctx.tx, &t.transfer_id).await? else {
                return Ok(Err(not_found("no such transfer")));
            };
            if found.sku != command.sku || found.to != command.warehouse || !found.expected {
                return Ok(Err(not_found("no such transfer expected here")));
            }
            match step(ctx, &t.transfer_id, &found, TransferEvent::Receive).await? {
                Err(refused) => Err(refused),
                Ok(()) => Ok(moved(
                    rules::arrive(item, found.quantity),
                    "TransferredIn",
                    found.quantity,
                    &t.transfer_id,
                )),
            }
        }
        K::TransferCancel(t) => {
            let Some(found) = store::lock_transfer(ctx.tx, &t.transfer_id).await? else {
                return Ok(Err(not_found("no such transfer")));
            };
            if found.sku != command.sku || found.from != command.warehouse {
                return Ok(Err(not_found("no such transfer from here")));
            }
            match step(ctx, &t.transfer_id, &found, TransferEvent::Cancel).await? {
                Err(refused) => Err(refused),
                Ok(()) => {
                    let id = t.transfer_id.clone();
                    processor
                        .send_step(
                            ctx,
                            command,
                            &found.to,
                            "TransferWithdraw",
                            &t.transfer_id,
                            |c| c.transfer_withdraw = Some(TransferWithdraw { transfer_id: id }),
                        )
                        .await?;
                    Ok(Movement {
                        ledger: false,
                        ..moved(
                            item,
                            "TransferCancelRequested",
                            found.quantity,
                            &t.transfer_id,
                        )
                    })
                }
            }
        }
        K::TransferWithdraw(t) => {
            let Some(found) = store::lock_transfer(ctx.tx, &t.transfer_id).await? else {
                return Err(ApplyError::Poison(format!(
                    "transfer {} vanished",
                    t.transfer_id
                )));
            };
            match step(ctx, &t.transfer_id, &found, TransferEvent::Withdraw).await? {
                Err(refused) => Err(refused),
                Ok(()) => {
                    let id = t.transfer_id.clone();
                    processor
                        .send_step(
                            ctx,
                            command,
                            &found.from,
                            "TransferReturn",
                            &t.transfer_id,
                            |c| c.transfer_return = Some(TransferReturn { transfer_id: id }),
                        )
                        .await?;
                    Ok(moved(
                        rules::withdraw(item, found.quantity),
                        "TransferWithdrawn",
                        found.quantity,
                        &t.transfer_id,
                    ))
                }
            }
        }
        K::TransferReturn(t) => {
            let Some(found) = store::lock_transfer(ctx.tx, &t.transfer_id).await? else {
                return Err(ApplyError::Poison(format!(
                    "transfer {} vanished",
                    t.transfer_id
                )));
            };
            match step(ctx, &t.transfer_id, &found, TransferEvent::Return).await? {
                Err(refused) => Err(refused),
                Ok(()) => rules::receive(item, found.quantity)
                    .map(|i| moved(i, "TransferReturned", found.quantity, &t.transfer_id)),
            }
        }
        other => Err(refuse(
            reasons::INVALID_COMMAND,
            format!("{} is not a transfer step", other.name()),
        )),
    })
}

fn not_found(message: &str) -> Refusal {
    refuse(reasons::TRANSFER_NOT_FOUND, message)
}

/// Moves the transfer to its next status for `event`, or says why not.
async fn step(
    ctx: &mut ApplyContext<'_>,
    id: &str,
    found: &Transfer,
    event: TransferEvent,
) -> Result<Result<(), Refusal>, ApplyError> {
    match rules::transfer_step(found.status, event) {
        Err(refused) => Ok(Err(refused)),
        Ok(next) => {
            store::set_transfer(ctx.tx, id, next, None).await?;
            Ok(Ok(()))
        }
    }
}
