//! Applying stock commands, one item (`sku@warehouse`) at a time: the
//! dispatch.
//!
//! A batch first reads the products and warehouses its commands name from
//! stock's copy of the catalog and locks the item rows they touch
//! ([`StockBatch`]); a product or warehouse it does not find makes it first
//! bring that copy up to the catalog's state topic ([`Join::catch_up`]), so
//! a command sent after its product was accepted never meets an unknown
//! product. Each command is then checked against the catalog
//! ([`rules::catalog_checks`]) and decided by its family —
//! [`crate::movements`], [`crate::reservations`], [`crate::transfers`] —
//! against the levels the batch holds; this module records the decision:
//! the item's new levels, the ledger row and the events. At the end the
//! changed items and the ledger rows are written in one statement each, in
//! the same transaction as the runtime's offsets and outcomes. Only the
//! partition that owns an item applies its commands, so reservations of one
//! item are decided one after another: that, and the CHECK on
//! `stock.items`, is why nothing oversells.

use async_trait::async_trait;
use khlang_contract::stock::{item_key, Levels, StockCommand, StockCommandKind, StockEvent};
use khlang_contract::topics::{STOCK_COMMAND_SUBJECT, STOCK_EVENT_SUBJECT};
use khlang_contract::{ActorKind, Envelope, TopicName};
use khlang_runtime::join::Join;
use khlang_runtime::{ApplyContext, ApplyError, CommandInfo, Decision, Processor};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::cache::StockCache;
use crate::rules::{self, Movement, Refusal};
use crate::store::{self, LedgerRow, Locked, StockBatch};
use crate::{movements, reasons, reservations, transfers};

/// Namespace of the ids of commands the processor sends itself (saga
/// steps, expiries): the same step always has the same id, so a repeat is
/// a duplicate the runtime drops.
pub const STEP_NAMESPACE: Uuid = Uuid::from_u128(0x6b68_6c61_6e67_4000_8000_0000_0000_0002);

/// The id of a command the processor sends itself.
#[must_use]
pub fn step_id(step: &str, id: &str) -> String {
    Uuid::new_v5(&STEP_NAMESPACE, format!("{step}:{id}").as_bytes()).to_string()
}

/// What changed in a batch: an item's levels after a commit, for the
/// Redis copy.
#[derive(Debug, Clone)]
pub struct Changed {
    /// SKU.
    pub sku: String,
    /// Warehouse.
    pub warehouse: String,
    /// Levels.
    pub levels: Levels,
    /// Version.
    pub version: i64,
}

/// The stock processor.
pub struct StockProcessor {
    cache: Option<StockCache>,
    commands: TopicName,
    events: TopicName,
    catalog: Option<Join>,
}

impl StockProcessor {
    /// A processor emitting on `events`, sending saga steps to `commands`,
    /// catching up with the `catalog` join on a lookup miss and refreshing
    /// `cache` after commits.
    #[must_use]
    pub fn new(
        cache: Option<StockCache>,
        commands: TopicName,
        events: TopicName,
        catalog: Option<Join>,
    ) -> Self {
        Self {
            cache,
            commands,
            events,
            catalog,
        }
    }

    /// Sends a command to the item `sku@warehouse` (the next step of a
    /// saga), with the id [`step_id`]`(step, id)`, through the outbox.
    pub(crate) async fn send_step(
        &self,
        ctx: &mut ApplyContext<'_>,
        cause: &StockCommand,
        warehouse: &str,
        step: &str,
        id: &str,
        fill: impl FnOnce(&mut StockCommand),
    ) -> Result<(), ApplyError> {
        let mut envelope: Envelope = cause.envelope.caused(step, "stock");
        envelope.id = step_id(step, id);
        let mut next = StockCommand::empty(envelope, &cause.sku, warehouse);
        fill(&mut next);
        let key = next.key();
        ctx.emit(self.commands, STOCK_COMMAND_SUBJECT, &key, &next)
            .await
    }

    /// Decides one movement with the family the command belongs to.
    async fn decide(
        &self,
        ctx: &mut ApplyContext<'_>,
        batch: &StockBatch,
        command: &StockCommand,
        kind: StockCommandKind<'_>,
        locked: &Locked,
    ) -> Result<Result<Movement, Refusal>, ApplyError> {
        use StockCommandKind as K;
        match kind {
            K::Receive(_) | K::Issue(_) | K::Adjust(_) | K::Count(_) | K::SetMinimum(_) => {
                Ok(movements::decide(kind, locked))
            }
            K::Reserve(_) | K::Release(_) | K::Commit(_) | K::Expire(_) => {
                reservations::decide(ctx, command, kind, locked).await
            }
            K::TransferOut(_)
            | K::TransferExpect(_)
            | K::TransferReceive(_)
            | K::TransferCancel(_)
            | K::TransferWithdraw(_)
            | K::TransferReturn(_) => {
                transfers::decide(self, ctx, &batch.warehouses, command, kind, locked).await
            }
        }
    }

    /// Records an accepted movement: the item's new levels (in the batch),
    /// its ledger row, its event and, when available fell below the
    /// minimum, a `LowStock` event.
    async fn record(
        &self,
        ctx: &mut ApplyContext<'_>,
        batch: &mut StockBatch,
        command: &StockCommand,
        locked: Locked,
        movement: Movement,
    ) -> Result<Applied, ApplyError> {
        let before = locked.item;
        let after = movement.item;
        if !after.check() {
            // the rules never get here; if they did, refusing beats storing
            // a broken item (the CHECK would refuse it too)
            return Err(ApplyError::Poison(format!("levels would break: {after:?}")));
        }
        let min_stock = batch.products.get(&command.sku).map(|p| p.min_stock);
        let minimum = movement.minimum_override.or(min_stock);
        let low = minimum.is_some_and(|m| after.available() < m);
        let crossed = low && !locked.low;
        let version = locked.version + 1;
        batch.save(
            &command.sku,
            &command.warehouse,
            Locked {
                item: after,
                minimum_override: movement.minimum_override,
                low,
                version,
            },
        );
        if movement.ledger {
            let actor = &command.envelope.actor;
            batch.ledger.push(LedgerRow {
                command_id: command.envelope.id.clone(),
                sku: command.sku.clone(),
                warehouse: command.warehouse.clone(),
                movement: movement.name,
                quantity: movement.quantity,
                reason: movement.reason.clone(),
                reference: movement.reference.clone(),
                actor_id: actor.id.clone(),
                actor_kind: kind_name(actor.kind),
                before,
                after,
                occurred_at: command.envelope.occurred_at,
            });
        }
        let key = item_key(&command.sku, &command.warehouse);
        let event = StockEvent {
            envelope: command.envelope.caused(movement.name, "stock"),
            sku: command.sku.clone(),
            warehouse: command.warehouse.clone(),
            version,
            quantity: movement.quantity,
            reason: movement.reason,
            reference: movement.reference,
            before: before.levels(),
            after: after.levels(),
            minimum: None,
        };
        ctx.emit(self.events, STOCK_EVENT_SUBJECT, &key, &event)
            .await?;
        if crossed {
            let low_stock = StockEvent {
                envelope: command.envelope.caused("LowStock", "stock"),
                minimum,
                ..event
            };
            ctx.emit(self.events, STOCK_EVENT_SUBJECT, &key, &low_stock)
                .await?;
        }
        Ok((
            Decision::Accepted,
            Some(Changed {
                sku: command.sku.clone(),
                warehouse: command.warehouse.clone(),
                levels: after.levels(),
                version,
            }),
        ))
    }
}

type Applied = (Decision, Option<Changed>);

fn rejected(refusal: Refusal) -> Result<Applied, ApplyError> {
    Ok((Decision::rejected(refusal.code, refusal.message), None))
}

fn kind_name(kind: ActorKind) -> &'static str {
    match kind {
        ActorKind::User => "user",
        ActorKind::Service => "service",
        ActorKind::Device => "device",
        ActorKind::System => "system",
    }
}

#[async_trait]
impl Processor for StockProcessor {
    type Command = StockCommand;
    type Effect = Option<Changed>;
    type Batch = StockBatch;

    fn describe(command: &StockCommand) -> CommandInfo<'_> {
        CommandInfo {
            envelope: &command.envelope,
            aggregate_id: &command.sku,
        }
    }

    async fn prepare(
        &self,
        tx: &mut PgConnection,
        commands: &[&StockCommand],
    ) -> Result<StockBatch, ApplyError> {
        let (skus, codes) = store::catalog_keys(commands);
        let mut batch = StockBatch::default();
        batch.read_catalog(tx, &skus, &codes).await?;
        if batch.misses(&skus, &codes) {
            if let Some(join) = &self.catalog {
                // a miss may be a product created a moment ago: bring the
                // copy up to the catalog's state topic, then look again
                // (READ COMMITTED: the new statement sees the join's commits)
                join.catch_up().await;
                batch.read_catalog(tx, &skus, &codes).await?;
            }
        }
        batch.lock_items(tx, commands).await?;
        Ok(batch)
    }

    async fn apply(
        &self,
        ctx: &mut ApplyContext<'_>,
        batch: &mut StockBatch,
        command: &StockCommand,
    ) -> Result<Applied, ApplyError> {
        let Some(kind) = command.kind() else {
            return rejected(rules::refuse(
                reasons::INVALID_COMMAND,
                "a command carries exactly one payload",
            ));
        };
        if !rules::valid_id(&command.sku) || !rules::valid_id(&command.warehouse) {
            return rejected(rules::refuse(
                reasons::INVALID_COMMAND,
                "sku and warehouse are 1-64 characters without '@'",
            ));
        }
        let product = batch.products.get(&command.sku).copied();
        let warehouse_active = batch.warehouses.get(&command.warehouse).copied();
        // checked before the item is touched, so a refused command leaves
        // nothing behind
        if let Some(refused) = rules::catalog_checks(command, kind, product, warehouse_active) {
            return rejected(refused);
        }
        let locked = batch.item(&command.sku, &command.warehouse);
        match self.decide(ctx, batch, command, kind, &locked).await? {
            Ok(movement) => self.record(ctx, batch, command, locked, movement).await,
            Err(refused) => rejected(refused),
        }
    }

    async fn finish(&self, tx: &mut PgConnection, batch: StockBatch) -> Result<(), ApplyError> {
        batch.write(tx).await
    }

    async fn after_commit(&self, effects: Vec<Option<Changed>>) {
        let Some(cache) = &self.cache else { return };
        let changed: Vec<Changed> = effects.into_iter().flatten().collect();
        if changed.is_empty() {
            return;
        }
        if let Err(error) = cache.write(&changed).await {
            tracing::warn!(%error, items = changed.len(), "redis copy of levels not refreshed");
        }
    }
}
