//! Domain values: the one place where a value's rule lives.
//!
//! Each value with a rule (a SKU, a warehouse code, an EAN-13, an e-mail
//! address, a quantity, an amount of money, …) is a newtype whose only
//! constructor is `parse` (or `new` for numbers). The ingress calls it to
//! answer `422` with the field's name and the error's [`ErrorCode`]; the
//! processors call the same function before they apply a command and map a
//! failure to their own reason code (`invalid_sku`, `invalid_barcode`, …).
//! So the edge and the processor can never disagree on what is valid.
//!
//! The wire format does not change: every value serialises as the plain
//! string or number it wraps, and the Avro commands keep plain fields (a
//! processor must be able to *reject* a bad value with a reason code, which
//! it could not do if decoding the command failed).
//!
//! `docs/values.md` lists every value, its rule and its error codes; a test
//! below keeps [`ErrorCode::ALL`] and that page in step.

mod catalog;
mod money;
mod stock;
mod text;
mod users;

use std::borrow::Cow;
use std::fmt;

pub use catalog::{Barcodes, Ean13, Sku, WarehouseCode, MAX_BARCODES};
pub use money::{AmountError, Satang, MAX_SATANG, MAX_WHOLE_BAHT};
pub use stock::{AdjustReason, Delta, Quantity, StockLevel, MAX_UNITS};
pub use text::{Address, Description, Label, Name};
pub use users::{DisplayName, Email, Password, PasswordHash, Username};

/// What is wrong with a value, machine-readable and stable: the ingress
/// answers it as the `code` of a field error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Not a SKU: 1–40 of `A-Z 0-9 - _ .`.
    Sku,
    /// Not a warehouse code: 2–16 of `A-Z 0-9 - _`.
    Warehouse,
    /// Not an EAN-13: 13 digits with a correct check digit.
    Ean13,
    /// A list holds the same value twice.
    Unique,
    /// Too long, too short, empty, or too many items.
    Length,
    /// Text that must be on one line holds a control character.
    Line,
    /// Not an e-mail address.
    Email,
    /// Not a username: 3–32 of `a-z 0-9 . _ -`.
    Username,
    /// A password hash that is not an argon2id PHC string.
    PasswordHash,
    /// A number outside its bounds.
    Range,
    /// An amount of money that is negative, too large, too precise or not
    /// a number.
    Amount,
    /// Not one of the adjustment reasons.
    Reason,
}

impl ErrorCode {
    /// Every code, in a stable order.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::Sku,
        ErrorCode::Warehouse,
        ErrorCode::Ean13,
        ErrorCode::Unique,
        ErrorCode::Length,
        ErrorCode::Line,
        ErrorCode::Email,
        ErrorCode::Username,
        ErrorCode::PasswordHash,
        ErrorCode::Range,
        ErrorCode::Amount,
        ErrorCode::Reason,
    ];

    /// The code on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Sku => "sku",
            ErrorCode::Warehouse => "warehouse",
            ErrorCode::Ean13 => "ean13",
            ErrorCode::Unique => "unique",
            ErrorCode::Length => "length",
            ErrorCode::Line => "line",
            ErrorCode::Email => "email",
            ErrorCode::Username => "username",
            ErrorCode::PasswordHash => "password_hash",
            ErrorCode::Range => "range",
            ErrorCode::Amount => "amount",
            ErrorCode::Reason => "reason",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a value is refused: a stable [`ErrorCode`] and a message for people
/// that names no field (the caller knows the field: `"sku"`, `"barcodes"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    code: ErrorCode,
    message: Cow<'static, str>,
}

impl ValueError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// What is wrong, machine-readable.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// What is wrong, for people (`"must be 1-40 of A-Z 0-9 - _ ."`).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Newtypes over a `String`: read access, `Display`, serde as the plain
/// string (deserialising through `parse`), `TryFrom<&str>` and `FromStr`.
macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            /// The value as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text, owned.
            #[must_use]
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::values::ValueError;

            fn try_from(text: &str) -> Result<Self, Self::Error> {
                Self::parse(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::values::ValueError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                Self::parse(&text)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::values::ValueError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Newtypes over an `i64` with bounds: `get`, `Display`, serde as the plain
/// number (deserialising through `new`) and `TryFrom<i64>`.
macro_rules! number_value {
    ($name:ident) => {
        impl $name {
            /// The number.
            #[must_use]
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<$name> for i64 {
            fn from(value: $name) -> i64 {
                value.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = $crate::values::ValueError;

            fn try_from(value: i64) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Self::new(<i64 as serde::Deserialize>::deserialize(deserializer)?)
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use number_value;
pub(crate) use string_value;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_is_documented_in_docs_values_md() {
        let page = include_str!("../../../../docs/values.md");
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} listed twice");
            assert!(
                page.contains(&format!("`{}`", code.as_str())),
                "docs/values.md does not name the error code `{code}`"
            );
        }
    }

    #[test]
    fn values_serialise_as_the_plain_text_or_number() {
        let sku = Sku::parse("RICE-5KG").expect("a sku");
        assert_eq!(serde_json::to_string(&sku).expect("json"), r#""RICE-5KG""#);
        let back: Sku = serde_json::from_str(r#""RICE-5KG""#).expect("a sku");
        assert_eq!(back, sku);
        assert!(serde_json::from_str::<Sku>(r#""rice""#).is_err());
        let quantity = Quantity::new(12).expect("a quantity");
        assert_eq!(serde_json::to_string(&quantity).expect("json"), "12");
        assert!(serde_json::from_str::<Quantity>("0").is_err());
    }
}
