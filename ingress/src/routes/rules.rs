//! The contract's domain values ([`khlang_contract::values`]) as `validator`
//! rules for request types. Each rule lives once, in the contract, and the
//! processors check commands with the same functions; here a refused value
//! becomes a field error whose code is the value's
//! [`khlang_contract::values::ErrorCode`] (`sku`,
//! `ean13`, `length`, …) and whose message is the value's.

use std::borrow::Cow;

use khlang_contract::values::{
    Address, AdjustReason, Barcodes, Delta, Description, DisplayName, Email, Label, Name, Password,
    Quantity, Sku, StockLevel, Username, ValueError, WarehouseCode,
};
use validator::ValidationError;

use crate::error::ApiError;

/// A refused value as a `validator` error.
pub(crate) fn field_error(error: ValueError) -> ValidationError {
    ValidationError::new(error.code().as_str()).with_message(Cow::Owned(error.message().to_owned()))
}

fn check<T>(parsed: Result<T, ValueError>) -> Result<(), ValidationError> {
    parsed.map(|_| ()).map_err(field_error)
}

/// The value a field holds, for building a command from a request that
/// passed validation (so this only fails if a rule changed between the two
/// calls): `validation_failed` naming the field otherwise.
///
/// # Errors
/// `validation_failed` with the field and the value's code.
pub(crate) fn value<T>(field: &str, parsed: Result<T, ValueError>) -> Result<T, ApiError> {
    parsed.map_err(|error| ApiError::field(field, error.code().as_str(), error.message()))
}

/// The text of a value a field holds ([`value`]), as the value keeps it
/// (names and labels trimmed).
///
/// # Errors
/// As [`value`].
pub(crate) fn text<T: Into<String>>(
    field: &str,
    parsed: Result<T, ValueError>,
) -> Result<String, ApiError> {
    value(field, parsed).map(Into::into)
}

/// Whether `value` is a SKU ([`Sku`]).
pub(crate) fn is_sku(value: &str) -> bool {
    Sku::parse(value).is_ok()
}

/// Whether `value` is a warehouse code ([`WarehouseCode`]).
pub(crate) fn is_warehouse_code(value: &str) -> bool {
    WarehouseCode::parse(value).is_ok()
}

/// [`Sku`].
pub(crate) fn valid_sku(value: &str) -> Result<(), ValidationError> {
    check(Sku::parse(value))
}

/// [`WarehouseCode`].
pub(crate) fn valid_warehouse(value: &str) -> Result<(), ValidationError> {
    check(WarehouseCode::parse(value))
}

/// [`Name`] (`name_th`, `name_en`).
pub(crate) fn valid_name(value: &str) -> Result<(), ValidationError> {
    check(Name::parse(value))
}

/// [`Label`] (category, unit).
pub(crate) fn valid_label(value: &str) -> Result<(), ValidationError> {
    check(Label::parse(value))
}

/// [`Description`].
pub(crate) fn valid_description(value: &str) -> Result<(), ValidationError> {
    check(Description::parse(value))
}

/// [`Address`].
pub(crate) fn valid_address(value: &str) -> Result<(), ValidationError> {
    check(Address::parse(value))
}

/// [`Barcodes`].
pub(crate) fn valid_barcodes(value: &[String]) -> Result<(), ValidationError> {
    check(Barcodes::parse(value))
}

/// [`Quantity`]: units that move.
pub(crate) fn valid_quantity(value: i64) -> Result<(), ValidationError> {
    check(Quantity::new(value))
}

/// [`Delta`]: an adjustment.
pub(crate) fn valid_delta(value: i64) -> Result<(), ValidationError> {
    check(Delta::new(value))
}

/// [`StockLevel`]: a count or a minimum.
pub(crate) fn valid_level(value: i64) -> Result<(), ValidationError> {
    check(StockLevel::new(value))
}

/// [`AdjustReason`].
pub(crate) fn valid_reason(value: &str) -> Result<(), ValidationError> {
    check(AdjustReason::parse(value))
}

/// [`Email`].
pub(crate) fn valid_email(value: &str) -> Result<(), ValidationError> {
    check(Email::parse(value))
}

/// [`Username`].
pub(crate) fn valid_username(value: &str) -> Result<(), ValidationError> {
    check(Username::parse(value))
}

/// [`DisplayName`].
pub(crate) fn valid_display_name(value: &str) -> Result<(), ValidationError> {
    check(DisplayName::parse(value))
}

/// [`Password`].
pub(crate) fn valid_password(value: &str) -> Result<(), ValidationError> {
    check(Password::parse(value))
}

/// `text` as a literal inside a `LIKE` pattern.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_values_become_field_errors_with_the_values_code() {
        let cases: [(Result<(), ValidationError>, &str); 10] = [
            (valid_sku("rice"), "sku"),
            (valid_warehouse("bkk"), "warehouse"),
            (valid_name("two\nlines"), "line"),
            (valid_label(""), "length"),
            (
                valid_barcodes(&["8850999320014".into(), "8850999320014".into()]),
                "unique",
            ),
            (valid_quantity(0), "range"),
            (valid_delta(0), "range"),
            (valid_reason("stolen"), "reason"),
            (valid_email("someone@localhost"), "email"),
            (valid_password("short"), "length"),
        ];
        for (result, code) in cases {
            let error = result.expect_err(code);
            assert_eq!(error.code, code);
            assert!(error.message.is_some());
        }
        assert!(valid_sku("DRINK-001").is_ok());
        assert!(valid_level(0).is_ok());
        assert!(valid_username("somchai").is_ok());
        assert!(valid_display_name("สมชาย").is_ok());
    }
}
