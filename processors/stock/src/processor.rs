//! Applying stock commands, one item (`sku@warehouse`) at a time.
//!
//! A batch first reads the catalog rows and locks the item rows its
//! commands touch ([`StockBatch`], three statements for the whole batch).
//! Each command then asks [`crate::domain`] what the movement does against
//! the levels the batch holds, records reservations and transfers, and puts
//! the events (and the next saga step of a transfer) in the outbox. At the
//! end the changed items and the ledger rows are written in one statement
//! each, in the same transaction as the runtime's offsets and outcomes.
//! Only the partition that owns an item applies its commands, so
//! reservations of one item are decided one after another: that, and the
//! CHECK on `stock.items`, is why nothing oversells.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use khlang_contract::stock::{
    item_key, Levels, StockCommand, StockCommandKind, StockEvent, ADJUST_REASONS,
};
use khlang_contract::topics::{STOCK_COMMAND_SUBJECT, STOCK_EVENT_SUBJECT};
use khlang_contract::{ActorKind, Envelope, TopicName};
use khlang_runtime::{ApplyContext, ApplyError, CommandInfo, Decision, Processor};
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use crate::cache::StockCache;
use crate::domain::{
    self, Item, Refusal, ReservationEvent, ReservationStatus, TransferEvent, TransferStatus,
};
use crate::reasons;

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
}

impl StockProcessor {
    /// A processor emitting on `events`, sending saga steps to `commands`
    /// and refreshing `cache` after commits.
    #[must_use]
    pub fn new(cache: Option<StockCache>, commands: TopicName, events: TopicName) -> Self {
        Self {
            cache,
            commands,
            events,
        }
    }
}

type Applied = (Decision, Option<Changed>);

fn rejected(refusal: Refusal) -> Result<Applied, ApplyError> {
    Ok((Decision::rejected(refusal.code, refusal.message), None))
}

fn refusal(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

fn kind_name(kind: ActorKind) -> &'static str {
    match kind {
        ActorKind::User => "user",
        ActorKind::Service => "service",
        ActorKind::Device => "device",
        ActorKind::System => "system",
    }
}

/// An item row as the batch holds it (locked for the transaction).
#[derive(Debug, Clone, Copy, Default)]
struct Locked {
    item: Item,
    minimum_override: Option<i64>,
    low: bool,
    version: i64,
}

/// The product as the stock processor sees it (the catalog's table is the
/// join side: a stream-table join at apply time).
struct Product {
    active: bool,
    min_stock: i64,
}

/// One ledger row, written with the batch's.
struct LedgerRow {
    command_id: String,
    sku: String,
    warehouse: String,
    movement: &'static str,
    quantity: i64,
    reason: Option<String>,
    reference: Option<String>,
    actor_id: String,
    actor_kind: &'static str,
    before: Item,
    after: Item,
    occurred_at: i64,
}

/// What a batch of stock commands shares: the catalog rows and the item
/// rows it touches, read (and the items locked) in three statements for the
/// whole batch; the items and ledger rows it changed, written in two. The
/// commands of one item still apply one after another, each seeing the
/// levels the previous one left.
#[derive(Default)]
pub struct StockBatch {
    products: HashMap<String, Product>,
    warehouses: HashMap<String, bool>,
    items: HashMap<(String, String), Locked>,
    /// The version each existing item had when read (absent: new item).
    read: HashMap<(String, String), i64>,
    changed: BTreeSet<(String, String)>,
    ledger: Vec<LedgerRow>,
}

impl StockBatch {
    /// Reads the catalog side and locks the items of `commands`.
    async fn read(tx: &mut PgConnection, commands: &[&StockCommand]) -> Result<Self, sqlx::Error> {
        let mut skus = BTreeSet::new();
        let mut warehouses = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for command in commands {
            skus.insert(command.sku.as_str());
            warehouses.insert(command.warehouse.as_str());
            keys.insert((command.sku.as_str(), command.warehouse.as_str()));
            if let Some(t) = &command.transfer_out {
                warehouses.insert(t.to_warehouse.as_str());
            }
        }
        let mut batch = Self::default();
        let skus: Vec<&str> = skus.into_iter().collect();
        for row in sqlx::query(include_str!("queries/batch_products.sql"))
            .bind(&skus)
            .fetch_all(&mut *tx)
            .await?
        {
            let status: String = row.try_get("status")?;
            batch.products.insert(
                row.try_get("sku")?,
                Product {
                    active: status == "active",
                    min_stock: row.try_get("min_stock")?,
                },
            );
        }
        let codes: Vec<&str> = warehouses.into_iter().collect();
        for row in sqlx::query(include_str!("queries/batch_warehouses.sql"))
            .bind(&codes)
            .fetch_all(&mut *tx)
            .await?
        {
            batch
                .warehouses
                .insert(row.try_get("code")?, row.try_get("active")?);
        }
        let (item_skus, item_warehouses): (Vec<&str>, Vec<&str>) = keys.into_iter().unzip();
        for row in sqlx::query(include_str!("queries/lock_items.sql"))
            .bind(&item_skus)
            .bind(&item_warehouses)
            .fetch_all(&mut *tx)
            .await?
        {
            let key: (String, String) = (row.try_get("sku")?, row.try_get("warehouse")?);
            batch.read.insert(key.clone(), row.try_get("version")?);
            batch.items.insert(
                key,
                Locked {
                    item: Item {
                        on_hand: row.try_get("on_hand")?,
                        reserved: row.try_get("reserved")?,
                        in_transit: row.try_get("in_transit")?,
                    },
                    minimum_override: row.try_get("minimum_override")?,
                    low: row.try_get("low")?,
                    version: row.try_get("version")?,
                },
            );
        }
        Ok(batch)
    }

    /// The item as the batch's earlier commands left it (empty when new).
    fn item(&self, sku: &str, warehouse: &str) -> Locked {
        self.items
            .get(&(sku.to_owned(), warehouse.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    fn save(&mut self, sku: &str, warehouse: &str, locked: Locked) {
        let key = (sku.to_owned(), warehouse.to_owned());
        self.changed.insert(key.clone());
        self.items.insert(key, locked);
    }

    /// Writes the changed items and the ledger rows, one statement each.
    async fn write(self, tx: &mut PgConnection) -> Result<(), ApplyError> {
        if !self.changed.is_empty() {
            let rows: Vec<(&(String, String), &Locked)> = self
                .changed
                .iter()
                .map(|key| (key, &self.items[key]))
                .collect();
            let saved: i64 = sqlx::query_scalar(include_str!("queries/save_items.sql"))
                .bind(rows.iter().map(|(k, _)| k.0.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|(k, _)| k.1.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|(_, l)| l.item.on_hand).collect::<Vec<_>>())
                .bind(
                    rows.iter()
                        .map(|(_, l)| l.item.reserved)
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|(_, l)| l.item.in_transit)
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|(_, l)| l.minimum_override)
                        .collect::<Vec<_>>(),
                )
                .bind(rows.iter().map(|(_, l)| l.low).collect::<Vec<_>>())
                .bind(rows.iter().map(|(_, l)| l.version).collect::<Vec<_>>())
                .bind(
                    rows.iter()
                        .map(|(k, _)| self.read.get(*k).copied())
                        .collect::<Vec<_>>(),
                )
                .fetch_one(&mut *tx)
                .await?;
            if usize::try_from(saved).ok() != Some(rows.len()) {
                return Err(ApplyError::Transient(format!(
                    "{} of {} items changed under the batch",
                    rows.len() - usize::try_from(saved).unwrap_or(0),
                    rows.len()
                )));
            }
        }
        if !self.ledger.is_empty() {
            let l = &self.ledger;
            sqlx::query(include_str!("queries/insert_ledger.sql"))
                .bind(l.iter().map(|r| r.command_id.as_str()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.sku.as_str()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.warehouse.as_str()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.movement).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.quantity).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.reason.as_deref()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.reference.as_deref()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.actor_id.as_str()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.actor_kind).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.before.on_hand).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.before.reserved).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.before.in_transit).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.after.on_hand).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.after.reserved).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.after.in_transit).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}

fn warehouse_refusal(code: &str, state: Option<bool>) -> Option<Refusal> {
    match state {
        None => Some(refusal(
            reasons::UNKNOWN_WAREHOUSE,
            format!("warehouse {code} is not in the catalog"),
        )),
        Some(false) => Some(refusal(
            reasons::WAREHOUSE_INACTIVE,
            format!("warehouse {code} is inactive"),
        )),
        Some(true) => None,
    }
}

/// The catalog side of a user command: a known product (active for
/// anything that brings or promises stock) and a known, active warehouse.
/// The saga's own steps and expiries are never refused here: they finish
/// whatever happened to the catalog since they started.
fn catalog_checks(
    command: &StockCommand,
    kind: StockCommandKind<'_>,
    product: Option<&Product>,
    warehouse_active: Option<bool>,
) -> Option<Refusal> {
    use StockCommandKind as K;
    if matches!(
        kind,
        K::TransferExpect(_) | K::TransferWithdraw(_) | K::TransferReturn(_) | K::Expire(_)
    ) {
        return None;
    }
    if product.is_none() {
        return Some(refusal(
            reasons::UNKNOWN_SKU,
            format!("{} is not in the catalog", command.sku),
        ));
    }
    if let Some(refused) = warehouse_refusal(&command.warehouse, warehouse_active) {
        return Some(refused);
    }
    let needs_active = matches!(kind, K::Receive(_) | K::Reserve(_) | K::TransferOut(_));
    if needs_active && !product.is_some_and(|p| p.active) {
        return Some(refusal(
            reasons::PRODUCT_DISCONTINUED,
            format!("{} is discontinued", command.sku),
        ));
    }
    None
}

/// One movement decided: the new item and how to record it.
struct Movement {
    item: Item,
    name: &'static str,
    quantity: i64,
    reason: Option<String>,
    reference: Option<String>,
    minimum_override: Option<i64>,
    /// Whether the levels changed (and a ledger row is written).
    ledger: bool,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && !id.contains('@')
}

impl StockProcessor {
    async fn reservation(
        tx: &mut PgConnection,
        id: &str,
        command: &StockCommand,
    ) -> Result<Result<(i64, i64, ReservationStatus), Refusal>, ApplyError> {
        let row = sqlx::query(
            "SELECT sku, warehouse, quantity, status, \
             (extract(epoch from expires_at) * 1000000)::bigint AS expires_us \
             FROM stock.reservations WHERE reservation_id = $1 FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Err(refusal(
                reasons::RESERVATION_NOT_FOUND,
                "no such reservation",
            )));
        };
        let (sku, warehouse): (String, String) = (row.try_get("sku")?, row.try_get("warehouse")?);
        if sku != command.sku || warehouse != command.warehouse {
            return Ok(Err(refusal(
                reasons::RESERVATION_NOT_FOUND,
                "no such reservation at this item",
            )));
        }
        let status: String = row.try_get("status")?;
        let status = ReservationStatus::parse(&status)
            .ok_or_else(|| ApplyError::Poison(format!("unknown reservation status {status}")))?;
        Ok(Ok((
            row.try_get("quantity")?,
            row.try_get("expires_us")?,
            status,
        )))
    }

    async fn close_reservation(
        tx: &mut PgConnection,
        id: &str,
        status: ReservationStatus,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE stock.reservations SET status = $2, closed_at = now() WHERE reservation_id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .execute(tx)
        .await?;
        Ok(())
    }

    async fn transfer(
        tx: &mut PgConnection,
        id: &str,
    ) -> Result<Option<(String, String, String, i64, TransferStatus, bool)>, ApplyError> {
        let row = sqlx::query(
            "SELECT sku, from_warehouse, to_warehouse, quantity, status, expected \
             FROM stock.transfers WHERE transfer_id = $1 FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let status: String = row.try_get("status")?;
        let status = TransferStatus::parse(&status)
            .ok_or_else(|| ApplyError::Poison(format!("unknown transfer status {status}")))?;
        Ok(Some((
            row.try_get("sku")?,
            row.try_get("from_warehouse")?,
            row.try_get("to_warehouse")?,
            row.try_get("quantity")?,
            status,
            row.try_get("expected")?,
        )))
    }

    async fn set_transfer(
        tx: &mut PgConnection,
        id: &str,
        status: TransferStatus,
        expected: Option<bool>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE stock.transfers SET status = $2, expected = coalesce($3, expected), \
             updated_at = now() WHERE transfer_id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(expected)
        .execute(tx)
        .await?;
        Ok(())
    }

    /// Sends the next step of a transfer to the item that owns it.
    async fn send_step(
        &self,
        ctx: &mut ApplyContext<'_>,
        cause: &StockCommand,
        warehouse: &str,
        step: &str,
        transfer_id: &str,
        fill: impl FnOnce(&mut StockCommand),
    ) -> Result<(), ApplyError> {
        let mut envelope: Envelope = cause.envelope.caused(step, "stock");
        envelope.id = step_id(step, transfer_id);
        let mut next = StockCommand::empty(envelope, &cause.sku, warehouse);
        fill(&mut next);
        let key = next.key();
        ctx.emit(self.commands, STOCK_COMMAND_SUBJECT, &key, &next)
            .await
    }

    /// Decides one movement; `Err(Refusal)` rejects the command.
    #[allow(clippy::too_many_lines)]
    async fn decide(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &StockCommand,
        kind: StockCommandKind<'_>,
        locked: &Locked,
        warehouses: &HashMap<String, bool>,
    ) -> Result<Result<Movement, Refusal>, ApplyError> {
        use StockCommandKind as K;
        let item = locked.item;
        let at = command.envelope.occurred_at;
        let movement = |item: Item, name: &'static str, quantity: i64| Movement {
            item,
            name,
            quantity,
            reason: None,
            reference: None,
            minimum_override: locked.minimum_override,
            ledger: true,
        };
        Ok(match kind {
            K::Receive(r) => domain::receive(item, r.quantity).map(|i| Movement {
                reference: r.reference.clone(),
                ..movement(i, "Received", r.quantity)
            }),
            K::Issue(r) => domain::issue(item, r.quantity).map(|i| Movement {
                reference: r.reference.clone(),
                ..movement(i, "Issued", r.quantity)
            }),
            K::Adjust(a) => {
                if !ADJUST_REASONS.contains(&a.reason.as_str()) {
                    return Ok(Err(refusal(
                        reasons::INVALID_REASON,
                        format!("reason must be one of {}", ADJUST_REASONS.join(", ")),
                    )));
                }
                domain::adjust(item, a.delta).map(|i| Movement {
                    reason: Some(a.reason.clone()),
                    reference: a.note.clone(),
                    ..movement(i, "Adjusted", a.delta)
                })
            }
            K::Count(c) => domain::count(item, c.counted).map(|(i, delta)| Movement {
                reason: Some("count_correction".into()),
                reference: c.note.clone(),
                ..movement(i, "Counted", delta)
            }),
            K::SetMinimum(m) => {
                if m.minimum.is_some_and(|v| !(0..=1_000_000_000).contains(&v)) {
                    return Ok(Err(refusal(
                        reasons::INVALID_MINIMUM,
                        "a minimum is 0 to 1,000,000,000",
                    )));
                }
                Ok(Movement {
                    minimum_override: m.minimum,
                    ledger: false,
                    ..movement(item, "MinimumSet", m.minimum.unwrap_or(0))
                })
            }
            K::TransferOut(t) => {
                if !valid_id(&t.transfer_id) {
                    return Ok(Err(refusal(
                        reasons::INVALID_COMMAND,
                        "transfer id must be 1-64 characters",
                    )));
                }
                if t.to_warehouse == command.warehouse {
                    return Ok(Err(refusal(
                        reasons::SAME_WAREHOUSE,
                        "a transfer goes to another warehouse",
                    )));
                }
                if let Some(refused) =
                    warehouse_refusal(&t.to_warehouse, warehouses.get(&t.to_warehouse).copied())
                {
                    return Ok(Err(refused));
                }
                let next = match domain::transfer_out(item, t.quantity) {
                    Ok(next) => next,
                    Err(refused) => return Ok(Err(refused)),
                };
                let inserted = sqlx::query(
                    "INSERT INTO stock.transfers (transfer_id, sku, from_warehouse, to_warehouse, quantity, status) \
                     VALUES ($1, $2, $3, $4, $5, 'in_transit') ON CONFLICT DO NOTHING",
                )
                .bind(&t.transfer_id)
                .bind(&command.sku)
                .bind(&command.warehouse)
                .bind(&t.to_warehouse)
                .bind(t.quantity)
                .execute(&mut *ctx.tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    return Ok(Err(refusal(
                        reasons::TRANSFER_EXISTS,
                        "this transfer id was used",
                    )));
                }
                let (id, from, qty) =
                    (t.transfer_id.clone(), command.warehouse.clone(), t.quantity);
                self.send_step(
                    ctx,
                    command,
                    &t.to_warehouse,
                    "TransferExpect",
                    &t.transfer_id,
                    |c| {
                        c.transfer_expect = Some(khlang_contract::stock::TransferExpect {
                            transfer_id: id,
                            from_warehouse: from,
                            quantity: qty,
                        });
                    },
                )
                .await?;
                Ok(Movement {
                    reference: Some(t.transfer_id.clone()),
                    ..movement(next, "TransferredOut", t.quantity)
                })
            }
            K::TransferExpect(t) => {
                sqlx::query("UPDATE stock.transfers SET expected = true, updated_at = now() WHERE transfer_id = $1")
                    .bind(&t.transfer_id)
                    .execute(&mut *ctx.tx)
                    .await?;
                Ok(Movement {
                    reference: Some(t.transfer_id.clone()),
                    ..movement(
                        domain::expect(item, t.quantity),
                        "TransferExpected",
                        t.quantity,
                    )
                })
            }
            K::TransferReceive(t) => {
                let Some((sku, _, to, qty, status, expected)) =
                    Self::transfer(ctx.tx, &t.transfer_id).await?
                else {
                    return Ok(Err(refusal(
                        reasons::TRANSFER_NOT_FOUND,
                        "no such transfer",
                    )));
                };
                if sku != command.sku || to != command.warehouse || !expected {
                    return Ok(Err(refusal(
                        reasons::TRANSFER_NOT_FOUND,
                        "no such transfer expected here",
                    )));
                }
                match domain::transfer_step(status, TransferEvent::Receive) {
                    Err(refused) => Err(refused),
                    Ok(next) => {
                        Self::set_transfer(ctx.tx, &t.transfer_id, next, None).await?;
                        Ok(Movement {
                            reference: Some(t.transfer_id.clone()),
                            ..movement(domain::arrive(item, qty), "TransferredIn", qty)
                        })
                    }
                }
            }
            K::TransferCancel(t) => {
                let Some((sku, from, to, qty, status, _)) =
                    Self::transfer(ctx.tx, &t.transfer_id).await?
                else {
                    return Ok(Err(refusal(
                        reasons::TRANSFER_NOT_FOUND,
                        "no such transfer",
                    )));
                };
                if sku != command.sku || from != command.warehouse {
                    return Ok(Err(refusal(
                        reasons::TRANSFER_NOT_FOUND,
                        "no such transfer from here",
                    )));
                }
                match domain::transfer_step(status, TransferEvent::Cancel) {
                    Err(refused) => Err(refused),
                    Ok(next) => {
                        Self::set_transfer(ctx.tx, &t.transfer_id, next, None).await?;
                        let id = t.transfer_id.clone();
                        self.send_step(
                            ctx,
                            command,
                            &to,
                            "TransferWithdraw",
                            &t.transfer_id,
                            |c| {
                                c.transfer_withdraw =
                                    Some(khlang_contract::stock::TransferWithdraw {
                                        transfer_id: id,
                                    });
                            },
                        )
                        .await?;
                        Ok(Movement {
                            reference: Some(t.transfer_id.clone()),
                            ledger: false,
                            ..movement(item, "TransferCancelRequested", qty)
                        })
                    }
                }
            }
            K::TransferWithdraw(t) => {
                let Some((_, from, _, qty, status, _)) =
                    Self::transfer(ctx.tx, &t.transfer_id).await?
                else {
                    return Err(ApplyError::Poison(format!(
                        "transfer {} vanished",
                        t.transfer_id
                    )));
                };
                match domain::transfer_step(status, TransferEvent::Withdraw) {
                    Err(refused) => Err(refused),
                    Ok(next) => {
                        Self::set_transfer(ctx.tx, &t.transfer_id, next, None).await?;
                        let id = t.transfer_id.clone();
                        self.send_step(
                            ctx,
                            command,
                            &from,
                            "TransferReturn",
                            &t.transfer_id,
                            |c| {
                                c.transfer_return = Some(khlang_contract::stock::TransferReturn {
                                    transfer_id: id,
                                });
                            },
                        )
                        .await?;
                        Ok(Movement {
                            reference: Some(t.transfer_id.clone()),
                            ..movement(domain::withdraw(item, qty), "TransferWithdrawn", qty)
                        })
                    }
                }
            }
            K::TransferReturn(t) => {
                let Some((_, _, _, qty, status, _)) =
                    Self::transfer(ctx.tx, &t.transfer_id).await?
                else {
                    return Err(ApplyError::Poison(format!(
                        "transfer {} vanished",
                        t.transfer_id
                    )));
                };
                match domain::transfer_step(status, TransferEvent::Return) {
                    Err(refused) => Err(refused),
                    Ok(next) => {
                        Self::set_transfer(ctx.tx, &t.transfer_id, next, None).await?;
                        domain::receive(item, qty).map(|i| Movement {
                            reference: Some(t.transfer_id.clone()),
                            ..movement(i, "TransferReturned", qty)
                        })
                    }
                }
            }
            K::Reserve(r) => {
                if !valid_id(&r.reservation_id) {
                    return Ok(Err(refusal(
                        reasons::INVALID_COMMAND,
                        "reservation id must be 1-64 characters",
                    )));
                }
                if r.expires_at <= at {
                    return Ok(Err(refusal(
                        reasons::INVALID_EXPIRY,
                        "the reservation would expire before it is made",
                    )));
                }
                let next = match domain::reserve(item, r.quantity) {
                    Ok(next) => next,
                    Err(refused) => return Ok(Err(refused)),
                };
                let inserted = sqlx::query(
                    "INSERT INTO stock.reservations (reservation_id, sku, warehouse, quantity, expires_at, order_ref, status) \
                     VALUES ($1, $2, $3, $4, to_timestamp($5::double precision / 1000000), $6, 'active') ON CONFLICT DO NOTHING",
                )
                .bind(&r.reservation_id)
                .bind(&command.sku)
                .bind(&command.warehouse)
                .bind(r.quantity)
                .bind(r.expires_at)
                .bind(&r.order_ref)
                .execute(&mut *ctx.tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    return Ok(Err(refusal(
                        reasons::RESERVATION_EXISTS,
                        "this reservation id was used",
                    )));
                }
                Ok(Movement {
                    reference: r
                        .order_ref
                        .clone()
                        .or_else(|| Some(r.reservation_id.clone())),
                    ..movement(next, "Reserved", r.quantity)
                })
            }
            K::Release(r) => self
                .end_reservation(
                    ctx.tx,
                    command,
                    item,
                    &r.reservation_id,
                    ReservationEvent::Release,
                    None,
                )
                .await?
                .map(|m| Movement {
                    minimum_override: locked.minimum_override,
                    ..m
                }),
            K::Commit(r) => self
                .end_reservation(
                    ctx.tx,
                    command,
                    item,
                    &r.reservation_id,
                    ReservationEvent::Commit { at },
                    r.reference.clone(),
                )
                .await?
                .map(|m| Movement {
                    minimum_override: locked.minimum_override,
                    ..m
                }),
            K::Expire(r) => self
                .end_reservation(
                    ctx.tx,
                    command,
                    item,
                    &r.reservation_id,
                    ReservationEvent::Expire,
                    None,
                )
                .await?
                .map(|m| Movement {
                    minimum_override: locked.minimum_override,
                    ..m
                }),
        })
    }

    async fn end_reservation(
        &self,
        tx: &mut PgConnection,
        command: &StockCommand,
        item: Item,
        id: &str,
        event: ReservationEvent,
        reference: Option<String>,
    ) -> Result<Result<Movement, Refusal>, ApplyError> {
        let (quantity, expires_at, status) = match Self::reservation(tx, id, command).await? {
            Ok(found) => found,
            Err(refused) => return Ok(Err(refused)),
        };
        let next = match domain::reservation_step(status, expires_at, event) {
            Ok(next) => next,
            Err(refused) => return Ok(Err(refused)),
        };
        Self::close_reservation(tx, id, next).await?;
        let (item, name) = match event {
            ReservationEvent::Release => (domain::unreserve(item, quantity), "Released"),
            ReservationEvent::Commit { .. } => (domain::commit(item, quantity), "Committed"),
            ReservationEvent::Expire => (domain::unreserve(item, quantity), "ReservationExpired"),
        };
        Ok(Ok(Movement {
            item,
            name,
            quantity,
            reason: None,
            reference: reference.or_else(|| Some(id.to_owned())),
            minimum_override: None,
            ledger: true,
        }))
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
        Ok(StockBatch::read(tx, commands).await?)
    }

    async fn apply(
        &self,
        ctx: &mut ApplyContext<'_>,
        batch: &mut StockBatch,
        command: &StockCommand,
    ) -> Result<Applied, ApplyError> {
        let Some(kind) = command.kind() else {
            return rejected(refusal(
                reasons::INVALID_COMMAND,
                "a command carries exactly one payload",
            ));
        };
        if !valid_id(&command.sku) || !valid_id(&command.warehouse) {
            return rejected(refusal(
                reasons::INVALID_COMMAND,
                "sku and warehouse are 1-64 characters without '@'",
            ));
        }
        let product = batch.products.get(&command.sku);
        let warehouse_active = batch.warehouses.get(&command.warehouse).copied();
        // checked before the item is touched, so a refused command leaves
        // nothing behind
        if let Some(refused) = catalog_checks(command, kind, product, warehouse_active) {
            return rejected(refused);
        }
        let min_stock = product.map(|p| p.min_stock);
        let locked = batch.item(&command.sku, &command.warehouse);
        let movement = match self
            .decide(ctx, command, kind, &locked, &batch.warehouses)
            .await?
        {
            Ok(movement) => movement,
            Err(refused) => return rejected(refused),
        };
        let before = locked.item;
        let after = movement.item;
        if !after.check() {
            // the domain functions never get here; if they did, refusing
            // beats storing a broken item (the CHECK would refuse it too)
            return Err(ApplyError::Poison(format!("levels would break: {after:?}")));
        }
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
            reason: movement.reason.clone(),
            reference: movement.reference.clone(),
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
