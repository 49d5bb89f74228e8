//! `/v1/products` and `/v1/warehouses`. Writes become catalog commands,
//! keyed by SKU or `warehouse:<code>`, that the catalog processor applies
//! (it alone decides uniqueness: a taken SKU or barcode is a rejected
//! outcome, not an answer here); reads come from its state in `catalog.*`.
//!
//! Money is baht at the edge (`"125.50"`) and satang everywhere behind it
//! (see [`money`]).
//!
//! - [`requests`]: what clients send, its validation and schemas;
//! - [`views`]: what reads answer;
//! - [`writes`]: the write handlers (through [`crate::write`]);
//! - [`reads`]: the read handlers and the reads of the catalog's state.

pub mod money;
pub mod reads;
pub mod requests;
pub mod views;
pub mod writes;
