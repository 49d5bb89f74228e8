//! `/v1/stock/*`: movements become stock commands keyed `sku@warehouse`;
//! levels and the ledger are read from the stock processor's tables.
//!
//! - [`requests`]: what clients send, its validation and schemas;
//! - [`views`]: what reads answer;
//! - [`writes`]: the movement handlers (through [`crate::write`]);
//! - [`reads`]: the read handlers and the reads of the stock state.

pub mod reads;
pub mod requests;
pub mod views;
pub mod writes;
