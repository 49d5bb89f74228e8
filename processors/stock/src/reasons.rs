//! Why a stock command is rejected: stable codes clients branch on.

/// The command carries zero or several payloads, or ids that do not fit.
pub const INVALID_COMMAND: &str = "invalid_command";
/// A quantity out of range (zero, negative, too large).
pub const INVALID_QUANTITY: &str = "invalid_quantity";
/// An adjustment reason that is not one of the known ones.
pub const INVALID_REASON: &str = "invalid_reason";
/// A minimum below zero.
pub const INVALID_MINIMUM: &str = "invalid_minimum";
/// A reservation that would expire before it was made.
pub const INVALID_EXPIRY: &str = "invalid_expiry";
/// The SKU is not in the catalog.
pub const UNKNOWN_SKU: &str = "unknown_sku";
/// The product is discontinued: no receipts, reservations or transfers.
pub const PRODUCT_DISCONTINUED: &str = "product_discontinued";
/// The warehouse is not in the catalog.
pub const UNKNOWN_WAREHOUSE: &str = "unknown_warehouse";
/// The warehouse is inactive: nothing moves in or out.
pub const WAREHOUSE_INACTIVE: &str = "warehouse_inactive";
/// Not enough available stock.
pub const INSUFFICIENT_STOCK: &str = "insufficient_stock";
/// A reservation id used before.
pub const RESERVATION_EXISTS: &str = "reservation_exists";
/// No such reservation at this item.
pub const RESERVATION_NOT_FOUND: &str = "reservation_not_found";
/// The reservation expired.
pub const RESERVATION_EXPIRED: &str = "reservation_expired";
/// The reservation was released or committed already.
pub const RESERVATION_CLOSED: &str = "reservation_closed";
/// A transfer id used before.
pub const TRANSFER_EXISTS: &str = "transfer_exists";
/// No such transfer at this item.
pub const TRANSFER_NOT_FOUND: &str = "transfer_not_found";
/// A transfer to the warehouse it comes from.
pub const SAME_WAREHOUSE: &str = "same_warehouse";
/// The transfer was received already.
pub const TRANSFER_RECEIVED: &str = "transfer_received";
/// The transfer was cancelled.
pub const TRANSFER_CANCELLED: &str = "transfer_cancelled";

/// Every code, for the docs check.
pub const ALL: [&str; 19] = [
    INVALID_COMMAND,
    INVALID_QUANTITY,
    INVALID_REASON,
    INVALID_MINIMUM,
    INVALID_EXPIRY,
    UNKNOWN_SKU,
    PRODUCT_DISCONTINUED,
    UNKNOWN_WAREHOUSE,
    WAREHOUSE_INACTIVE,
    INSUFFICIENT_STOCK,
    RESERVATION_EXISTS,
    RESERVATION_NOT_FOUND,
    RESERVATION_EXPIRED,
    RESERVATION_CLOSED,
    TRANSFER_EXISTS,
    TRANSFER_NOT_FOUND,
    SAME_WAREHOUSE,
    TRANSFER_RECEIVED,
    TRANSFER_CANCELLED,
];
