//! The stock rules, without IO: what a movement does to an item's levels,
//! the state machines of reservations and transfers, and the checks of a
//! command against the joined catalog. The processor loads state, asks
//! these functions, and stores the answer; the property tests drive them
//! with arbitrary sequences.
//!
//! Invariants every function keeps (and `Levels::check` states):
//! `0 ≤ reserved ≤ on_hand`, `in_transit ≥ 0`, `available = on_hand − reserved`.

use khlang_contract::stock::{Levels, StockCommand, StockCommandKind};
use khlang_contract::values::{Delta, Quantity, StockLevel, ValueError};

use crate::reasons;

/// A refusal: a stable reason code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Reason code (see [`crate::reasons`]).
    pub code: &'static str,
    /// For people.
    pub message: String,
}

/// A refusal with `code` and `message`.
pub fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// The levels of an item, in the form the processor stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Item {
    /// Units here.
    pub on_hand: i64,
    /// Units promised.
    pub reserved: i64,
    /// Units on their way here.
    pub in_transit: i64,
}

impl Item {
    /// The levels as published.
    #[must_use]
    pub fn levels(self) -> Levels {
        Levels {
            on_hand: self.on_hand,
            reserved: self.reserved,
            available: self.available(),
            in_transit: self.in_transit,
        }
    }

    /// On hand − reserved.
    #[must_use]
    pub fn available(self) -> i64 {
        self.on_hand - self.reserved
    }

    /// Whether the invariants hold.
    #[must_use]
    pub fn check(self) -> bool {
        self.reserved >= 0 && self.reserved <= self.on_hand && self.in_transit >= 0
    }
}

/// The rule of a value (from [`khlang_contract::values`], shared with the
/// ingress) as a refusal with `invalid_quantity`.
fn units<T>(field: &str, parsed: Result<T, ValueError>) -> Result<T, Refusal> {
    parsed.map_err(|error| {
        refuse(
            reasons::INVALID_QUANTITY,
            format!("{field} {}", error.message()),
        )
    })
}

fn positive(quantity: i64) -> Result<(), Refusal> {
    units("quantity", Quantity::new(quantity)).map(|_| ())
}

fn take_available(item: Item, quantity: i64) -> Result<(), Refusal> {
    if item.available() >= quantity {
        Ok(())
    } else {
        Err(refuse(
            reasons::INSUFFICIENT_STOCK,
            format!("{quantity} requested, {} available", item.available()),
        ))
    }
}

/// Goods arrive.
///
/// # Errors
/// `invalid_quantity`.
pub fn receive(item: Item, quantity: i64) -> Result<Item, Refusal> {
    positive(quantity)?;
    Ok(Item {
        on_hand: item.on_hand + quantity,
        ..item
    })
}

/// Goods leave without a reservation; only available units may leave.
///
/// # Errors
/// `invalid_quantity`, `insufficient_stock`.
pub fn issue(item: Item, quantity: i64) -> Result<Item, Refusal> {
    positive(quantity)?;
    take_available(item, quantity)?;
    Ok(Item {
        on_hand: item.on_hand - quantity,
        ..item
    })
}

/// On hand changes by `delta`; it may not fall below what is reserved
/// (that would promise goods that are not there).
///
/// # Errors
/// `invalid_quantity` for 0, `insufficient_stock` when it would fall below
/// the reserved units.
pub fn adjust(item: Item, delta: i64) -> Result<Item, Refusal> {
    units("delta", Delta::new(delta))?;
    if delta < 0 {
        take_available(item, -delta)?;
    }
    Ok(Item {
        on_hand: item.on_hand + delta,
        ..item
    })
}

/// A count: on hand becomes `counted`; returns the new item and the delta.
///
/// # Errors
/// `invalid_quantity` for a negative count, `insufficient_stock` for a
/// count below the reserved units.
pub fn count(item: Item, counted: i64) -> Result<(Item, i64), Refusal> {
    units("counted", StockLevel::new(counted))?;
    if counted < item.reserved {
        return Err(refuse(
            reasons::INSUFFICIENT_STOCK,
            format!(
                "counted {counted} but {} are reserved; release reservations first",
                item.reserved
            ),
        ));
    }
    Ok((
        Item {
            on_hand: counted,
            ..item
        },
        counted - item.on_hand,
    ))
}

/// Units are promised to an order line.
///
/// # Errors
/// `invalid_quantity`, `insufficient_stock`.
pub fn reserve(item: Item, quantity: i64) -> Result<Item, Refusal> {
    positive(quantity)?;
    take_available(item, quantity)?;
    Ok(Item {
        reserved: item.reserved + quantity,
        ..item
    })
}

/// A reservation's units are free again (release or expiry).
#[must_use]
pub fn unreserve(item: Item, quantity: i64) -> Item {
    Item {
        reserved: item.reserved - quantity,
        ..item
    }
}

/// Reserved units leave on dispatch.
#[must_use]
pub fn commit(item: Item, quantity: i64) -> Item {
    Item {
        reserved: item.reserved - quantity,
        on_hand: item.on_hand - quantity,
        ..item
    }
}

/// A transfer leaves the source.
///
/// # Errors
/// `invalid_quantity`, `insufficient_stock`.
pub fn transfer_out(item: Item, quantity: i64) -> Result<Item, Refusal> {
    issue(item, quantity)
}

/// The destination expects units.
#[must_use]
pub fn expect(item: Item, quantity: i64) -> Item {
    Item {
        in_transit: item.in_transit + quantity,
        ..item
    }
}

/// The destination received expected units.
#[must_use]
pub fn arrive(item: Item, quantity: i64) -> Item {
    Item {
        in_transit: item.in_transit - quantity,
        on_hand: item.on_hand + quantity,
        ..item
    }
}

/// The destination stops expecting units.
#[must_use]
pub fn withdraw(item: Item, quantity: i64) -> Item {
    Item {
        in_transit: item.in_transit - quantity,
        ..item
    }
}

/// A reservation's life: active, then exactly one of released, committed
/// or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationStatus {
    /// Holding units.
    Active,
    /// Given back.
    Released,
    /// Left on dispatch.
    Committed,
    /// Ran out.
    Expired,
}

impl ReservationStatus {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Released => "released",
            Self::Committed => "committed",
            Self::Expired => "expired",
        }
    }

    /// From the stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Released, Self::Committed, Self::Expired]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// What may happen to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationEvent {
    /// The order gives it back.
    Release,
    /// The goods are dispatched, at this time (µs).
    Commit {
        /// When the commit was issued.
        at: i64,
    },
    /// The timer says it ran out.
    Expire,
}

/// The next status of a reservation that expires at `expires_at`.
///
/// # Errors
/// The reason the event does not apply.
pub fn reservation_step(
    status: ReservationStatus,
    expires_at: i64,
    event: ReservationEvent,
) -> Result<ReservationStatus, Refusal> {
    match status {
        ReservationStatus::Active => {}
        ReservationStatus::Expired => {
            return Err(refuse(
                reasons::RESERVATION_EXPIRED,
                "the reservation expired",
            ))
        }
        other => {
            return Err(refuse(
                reasons::RESERVATION_CLOSED,
                format!("the reservation is {}", other.as_str()),
            ))
        }
    }
    match event {
        ReservationEvent::Release => Ok(ReservationStatus::Released),
        ReservationEvent::Commit { at } if at >= expires_at => Err(refuse(
            reasons::RESERVATION_EXPIRED,
            "the reservation expired before the commit",
        )),
        ReservationEvent::Commit { .. } => Ok(ReservationStatus::Committed),
        ReservationEvent::Expire => Ok(ReservationStatus::Expired),
    }
}

/// A transfer's life.
///
/// ```text
/// in_transit ──receive──▶ received
///     │
///   cancel
///     ▼
/// cancelling ──withdraw──▶ withdrawn ──return──▶ returned
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStatus {
    /// Left the source; the destination expects it.
    InTransit,
    /// Arrived.
    Received,
    /// The source asked to cancel; the destination has not withdrawn yet.
    Cancelling,
    /// The destination no longer expects it.
    Withdrawn,
    /// Back at the source.
    Returned,
}

impl TransferStatus {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InTransit => "in_transit",
            Self::Received => "received",
            Self::Cancelling => "cancelling",
            Self::Withdrawn => "withdrawn",
            Self::Returned => "returned",
        }
    }

    /// From the stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::InTransit,
            Self::Received,
            Self::Cancelling,
            Self::Withdrawn,
            Self::Returned,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// What may happen to a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEvent {
    /// The destination confirms arrival.
    Receive,
    /// The source cancels.
    Cancel,
    /// The destination withdraws the expectation (after a cancel).
    Withdraw,
    /// The goods are back at the source.
    Return,
}

/// The next status of a transfer.
///
/// # Errors
/// The reason the event does not apply.
pub fn transfer_step(
    status: TransferStatus,
    event: TransferEvent,
) -> Result<TransferStatus, Refusal> {
    use TransferEvent as E;
    use TransferStatus as S;
    match (status, event) {
        (S::InTransit, E::Receive) => Ok(S::Received),
        (S::InTransit, E::Cancel) => Ok(S::Cancelling),
        (S::Cancelling, E::Withdraw) => Ok(S::Withdrawn),
        (S::Withdrawn, E::Return) => Ok(S::Returned),
        (S::Received, _) => Err(refuse(
            reasons::TRANSFER_RECEIVED,
            "the transfer was received",
        )),
        (S::Cancelling | S::Withdrawn | S::Returned, E::Receive | E::Cancel) => Err(refuse(
            reasons::TRANSFER_CANCELLED,
            "the transfer was cancelled",
        )),
        (s, e) => Err(refuse(
            reasons::INVALID_COMMAND,
            format!("{e:?} does not apply to a transfer that is {}", s.as_str()),
        )),
    }
}

/// One movement decided: the new item and how to record it.
#[derive(Debug, Clone)]
pub struct Movement {
    /// The item after the movement.
    pub item: Item,
    /// The event's name (`Received`, `Reserved`, …).
    pub name: &'static str,
    /// The quantity the event and ledger row carry.
    pub quantity: i64,
    /// Adjustment reason.
    pub reason: Option<String>,
    /// A reference (purchase order, transfer id, reservation id, …).
    pub reference: Option<String>,
    /// The item's own minimum after the movement.
    pub minimum_override: Option<i64>,
    /// Whether the levels changed (and a ledger row is written).
    pub ledger: bool,
}

impl Movement {
    /// A movement that writes a ledger row, with no reason or reference.
    #[must_use]
    pub fn new(
        item: Item,
        name: &'static str,
        quantity: i64,
        minimum_override: Option<i64>,
    ) -> Self {
        Self {
            item,
            name,
            quantity,
            reason: None,
            reference: None,
            minimum_override,
            ledger: true,
        }
    }
}

/// What stock knows of a product (its row in `stock.products`, joined from
/// the catalog's state topic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductFacts {
    /// Not discontinued.
    pub active: bool,
    /// The catalog's default minimum available stock.
    pub min_stock: i64,
}

/// Whether `id` (a SKU, warehouse code, reservation or transfer id) fits:
/// 1-64 characters without `@` (the item key separator).
#[must_use]
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && !id.contains('@')
}

/// Why a warehouse in state `state` (`None`: unknown, else active or not)
/// takes no movement.
#[must_use]
pub fn warehouse_refusal(code: &str, state: Option<bool>) -> Option<Refusal> {
    match state {
        None => Some(refuse(
            reasons::UNKNOWN_WAREHOUSE,
            format!("warehouse {code} is not in the catalog"),
        )),
        Some(false) => Some(refuse(
            reasons::WAREHOUSE_INACTIVE,
            format!("warehouse {code} is inactive"),
        )),
        Some(true) => None,
    }
}

/// Whether a command is a step the processor sent itself (a transfer's next
/// step, an expiry): those finish whatever happened to the catalog since
/// they started, and are never refused by it.
#[must_use]
pub fn is_own_step(kind: StockCommandKind<'_>) -> bool {
    use StockCommandKind as K;
    matches!(
        kind,
        K::TransferExpect(_) | K::TransferWithdraw(_) | K::TransferReturn(_) | K::Expire(_)
    )
}

/// The catalog side of a user command: a known product (active for
/// anything that brings or promises stock) and a known, active warehouse.
#[must_use]
pub fn catalog_checks(
    command: &StockCommand,
    kind: StockCommandKind<'_>,
    product: Option<ProductFacts>,
    warehouse_active: Option<bool>,
) -> Option<Refusal> {
    use StockCommandKind as K;
    if is_own_step(kind) {
        return None;
    }
    let Some(product) = product else {
        return Some(refuse(
            reasons::UNKNOWN_SKU,
            format!("{} is not in the catalog", command.sku),
        ));
    };
    if let Some(refused) = warehouse_refusal(&command.warehouse, warehouse_active) {
        return Some(refused);
    }
    let needs_active = matches!(kind, K::Receive(_) | K::Reserve(_) | K::TransferOut(_));
    if needs_active && !product.active {
        return Some(refuse(
            reasons::PRODUCT_DISCONTINUED,
            format!("{} is discontinued", command.sku),
        ));
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn extreme_deltas_are_refused_not_overflowed() {
        let item = Item {
            on_hand: 10,
            reserved: 0,
            in_transit: 0,
        };
        for delta in [i64::MIN, i64::MAX, 1_000_000_001, -1_000_000_001] {
            assert_eq!(
                adjust(item, delta).map_err(|r| r.code),
                Err(crate::reasons::INVALID_QUANTITY),
                "{delta}"
            );
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Receive(i64),
        Issue(i64),
        Adjust(i64),
        Count(i64),
        Reserve(i64),
        Release(usize),
        Commit(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1i64..50).prop_map(Op::Receive),
            (1i64..50).prop_map(Op::Issue),
            (-50i64..50).prop_map(Op::Adjust),
            (0i64..100).prop_map(Op::Count),
            (1i64..50).prop_map(Op::Reserve),
            (0usize..8).prop_map(Op::Release),
            (0usize..8).prop_map(Op::Commit),
        ]
    }

    proptest! {
        /// Any sequence of movements keeps the invariants, and on hand is
        /// always received − issued ± adjustments − committed.
        #[test]
        fn levels_never_break_and_stock_is_conserved(ops in proptest::collection::vec(op(), 0..200)) {
            let mut item = Item::default();
            let mut open: Vec<i64> = Vec::new();
            let (mut received, mut issued, mut adjusted, mut committed) = (0i64, 0i64, 0i64, 0i64);
            for op in ops {
                match op {
                    Op::Receive(q) => if let Ok(next) = receive(item, q) { item = next; received += q; },
                    Op::Issue(q) => if let Ok(next) = issue(item, q) { item = next; issued += q; },
                    Op::Adjust(d) => if let Ok(next) = adjust(item, d) { item = next; adjusted += d; },
                    Op::Count(c) => if let Ok((next, d)) = count(item, c) { item = next; adjusted += d; },
                    Op::Reserve(q) => if let Ok(next) = reserve(item, q) { item = next; open.push(q); },
                    Op::Release(i) => if i < open.len() { item = unreserve(item, open.remove(i)); },
                    Op::Commit(i) => if i < open.len() { let q = open.remove(i); item = commit(item, q); committed += q; },
                }
                prop_assert!(item.check(), "{item:?}");
                prop_assert_eq!(item.reserved, open.iter().sum::<i64>());
                prop_assert_eq!(item.on_hand, received - issued + adjusted - committed);
            }
        }

        /// Reserving never promises more than was available.
        #[test]
        fn reservations_never_exceed_what_is_available(stock in 0i64..100, asks in proptest::collection::vec(1i64..30, 0..50)) {
            let mut item = receive(Item::default(), stock.max(1)).unwrap_or_default();
            let before = item.available();
            let mut granted = 0;
            for q in asks {
                if let Ok(next) = reserve(item, q) { item = next; granted += q; }
            }
            prop_assert!(granted <= before);
            prop_assert!(item.available() >= 0);
        }

        /// A reservation ends exactly once, whatever arrives afterwards.
        #[test]
        fn a_reservation_ends_once(events in proptest::collection::vec(0u8..3, 1..10), expires in 0i64..100, at in 0i64..100) {
            let mut status = ReservationStatus::Active;
            let mut endings = 0;
            for e in events {
                let event = match e { 0 => ReservationEvent::Release, 1 => ReservationEvent::Commit { at }, _ => ReservationEvent::Expire };
                if let Ok(next) = reservation_step(status, expires, event) {
                    prop_assert_eq!(status, ReservationStatus::Active);
                    status = next;
                    endings += 1;
                }
            }
            prop_assert!(endings <= 1);
        }

        /// Transfers conserve units across both warehouses and in transit.
        #[test]
        fn transfers_conserve_stock(stock in 1i64..100, qty in 1i64..100, steps in proptest::collection::vec(0u8..4, 0..12)) {
            let mut source = receive(Item::default(), stock).unwrap();
            let mut dest = Item::default();
            let total = |s: Item, d: Item| s.on_hand + d.on_hand + d.in_transit;
            let Ok(out) = transfer_out(source, qty) else { return Ok(()); };
            source = out;
            dest = expect(dest, qty);
            let mut status = TransferStatus::InTransit;
            for s in steps {
                let event = match s { 0 => TransferEvent::Receive, 1 => TransferEvent::Cancel, 2 => TransferEvent::Withdraw, _ => TransferEvent::Return };
                if let Ok(next) = transfer_step(status, event) {
                    match event {
                        TransferEvent::Receive => dest = arrive(dest, qty),
                        TransferEvent::Withdraw => dest = withdraw(dest, qty),
                        TransferEvent::Return => source = receive(source, qty).unwrap(),
                        TransferEvent::Cancel => {}
                    }
                    status = next;
                }
                // while cancelling, the units are still counted in transit;
                // once withdrawn and before the return they are nowhere
                // but the transfer itself
                let pending = if status == TransferStatus::Withdrawn { qty } else { 0 };
                prop_assert_eq!(total(source, dest) + pending, stock);
                prop_assert!(source.check() && dest.check());
            }
        }
    }
}
