//! Stock commands and events (`schemas/stock/*.avsc`), keyed
//! `sku@warehouse` so that one partition owns each stock item.

use serde::{Deserialize, Serialize};

use crate::Envelope;

/// The Kafka key of a stock item.
#[must_use]
pub fn item_key(sku: &str, warehouse: &str) -> String {
    format!("{sku}@{warehouse}")
}

/// Reasons an adjustment may give (the names of
/// [`crate::values::AdjustReason`]).
pub const ADJUST_REASONS: [&str; 5] = crate::values::AdjustReason::NAMES;

macro_rules! payloads {
    ($($field:ident: $ty:ident => $kind:literal,)*) => {
        /// A movement of one stock item; exactly one payload is set.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct StockCommand {
            /// Envelope; `envelope.kind` names the payload.
            pub envelope: Envelope,
            /// SKU.
            pub sku: String,
            /// Warehouse code.
            pub warehouse: String,
            $(
                #[doc = concat!("`", $kind, "`.")]
                pub $field: Option<$ty>,
            )*
        }

        /// The payload of a [`StockCommand`], borrowed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum StockCommandKind<'a> {
            $(
                #[doc = concat!("`", $kind, "`.")]
                $ty(&'a $ty),
            )*
        }

        impl StockCommand {
            /// A command with only the envelope and item set.
            #[must_use]
            pub fn empty(envelope: Envelope, sku: &str, warehouse: &str) -> Self {
                Self {
                    envelope,
                    sku: sku.to_owned(),
                    warehouse: warehouse.to_owned(),
                    $($field: None,)*
                }
            }

            /// The single payload, or `None` when zero or several are set.
            #[must_use]
            pub fn kind(&self) -> Option<StockCommandKind<'_>> {
                let mut found = None;
                let mut count = 0;
                $(
                    if let Some(p) = &self.$field {
                        count += 1;
                        found = Some(StockCommandKind::$ty(p));
                    }
                )*
                if count == 1 { found } else { None }
            }
        }

        impl StockCommandKind<'_> {
            /// The command type name, as in `envelope.type`.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $(StockCommandKind::$ty(_) => $kind,)* }
            }
        }
    };
}

payloads! {
    receive: Receive => "Receive",
    issue: Issue => "Issue",
    adjust: Adjust => "Adjust",
    count: Count => "Count",
    set_minimum: SetMinimum => "SetMinimum",
    transfer_out: TransferOut => "TransferOut",
    transfer_expect: TransferExpect => "TransferExpect",
    transfer_receive: TransferReceive => "TransferReceive",
    transfer_cancel: TransferCancel => "TransferCancel",
    transfer_withdraw: TransferWithdraw => "TransferWithdraw",
    transfer_return: TransferReturn => "TransferReturn",
    reserve: Reserve => "Reserve",
    release: Release => "Release",
    commit: Commit => "Commit",
    expire: Expire => "Expire",
}

impl StockCommand {
    /// The Kafka key (`sku@warehouse`).
    #[must_use]
    pub fn key(&self) -> String {
        item_key(&self.sku, &self.warehouse)
    }
}

/// Goods arrive (e.g. against a purchase order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receive {
    /// Units, > 0.
    pub quantity: i64,
    /// Reference, e.g. the purchase order.
    pub reference: Option<String>,
}

/// Goods leave without a reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Units, > 0.
    pub quantity: i64,
    /// Reference.
    pub reference: Option<String>,
}

/// On hand changes for a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjust {
    /// Signed change, ≠ 0.
    pub delta: i64,
    /// One of [`ADJUST_REASONS`].
    pub reason: String,
    /// Note.
    pub note: Option<String>,
}

/// A stock count: on hand becomes `counted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// Units counted, ≥ 0.
    pub counted: i64,
    /// Note.
    pub note: Option<String>,
}

/// Override (or clear) the minimum at this warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMinimum {
    /// The minimum; `None` returns to the product's.
    pub minimum: Option<i64>,
}

/// Start a transfer: goods leave this warehouse for `to_warehouse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOut {
    /// Transfer id.
    pub transfer_id: String,
    /// Destination warehouse.
    pub to_warehouse: String,
    /// Units, > 0.
    pub quantity: i64,
}

/// (Emitted by the processor) the destination expects a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferExpect {
    /// Transfer id.
    pub transfer_id: String,
    /// Source warehouse.
    pub from_warehouse: String,
    /// Units.
    pub quantity: i64,
}

/// The destination confirms the goods arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferReceive {
    /// Transfer id.
    pub transfer_id: String,
}

/// The source cancels a transfer not yet received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferCancel {
    /// Transfer id.
    pub transfer_id: String,
}

/// (Emitted by the processor) the destination stops expecting a cancelled
/// transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferWithdraw {
    /// Transfer id.
    pub transfer_id: String,
}

/// (Emitted by the processor) the goods of a cancelled transfer are back
/// at the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferReturn {
    /// Transfer id.
    pub transfer_id: String,
}

/// Promise units to an order line until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserve {
    /// Reservation id.
    pub reservation_id: String,
    /// Units, > 0.
    pub quantity: i64,
    /// Microseconds since the Unix epoch.
    pub expires_at: i64,
    /// The order line.
    pub order_ref: Option<String>,
}

/// Give a reservation back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Reservation id.
    pub reservation_id: String,
}

/// Reserved goods leave on dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// Reservation id.
    pub reservation_id: String,
    /// Reference, e.g. the shipment.
    pub reference: Option<String>,
}

/// (Emitted by the processor's timer) a reservation ran out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expire {
    /// Reservation id.
    pub reservation_id: String,
}

/// The levels of one stock item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Levels {
    /// Units in the warehouse.
    pub on_hand: i64,
    /// Units promised to orders.
    pub reserved: i64,
    /// On hand − reserved.
    pub available: i64,
    /// Units on their way here.
    pub in_transit: i64,
}

/// A movement that happened, or a `LowStock` crossing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockEvent {
    /// Envelope.
    pub envelope: Envelope,
    /// SKU.
    pub sku: String,
    /// Warehouse.
    pub warehouse: String,
    /// Item version after this event.
    pub version: i64,
    /// Signed change of the level the movement touches.
    pub quantity: i64,
    /// Reason (adjustments).
    pub reason: Option<String>,
    /// Reference.
    pub reference: Option<String>,
    /// Levels before.
    pub before: Levels,
    /// Levels after.
    pub after: Levels,
    /// The minimum in force (on `LowStock`).
    pub minimum: Option<i64>,
}
