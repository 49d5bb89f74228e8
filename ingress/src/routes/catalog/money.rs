//! Amounts of money at the edge: the API speaks baht as a decimal string
//! (`"125.50"`) or a whole number (`125`); Kafka and the database speak
//! satang (`12550`). The conversion and its rule are the contract's
//! ([`Satang`]); this module only reads what a client sent, so that a bad
//! amount is a field error rather than a malformed body.

use std::borrow::Cow;
use std::fmt;

use khlang_contract::values::MAX_WHOLE_BAHT;
pub use khlang_contract::values::{AmountError, Satang};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde::{Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use validator::ValidationError;

/// What an amount as text must look like (also in the OpenAPI schema); the
/// rule itself is [`Satang::parse_baht`].
pub const BAHT_PATTERN: &str = r"^[0-9]{1,13}(\.[0-9]{1,2})?$";

/// An amount as a client sent it. Deserialising never fails on the value,
/// so that a bad amount is a `422` with a field error (through
/// [`valid_amount`]) rather than a `400`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BahtInput(Result<Satang, AmountError>);

impl BahtInput {
    /// The amount, once validated.
    ///
    /// # Errors
    /// Why the amount is refused.
    pub fn satang(&self) -> Result<Satang, AmountError> {
        self.0
    }
}

impl<'de> Deserialize<'de> for BahtInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Amount;

        impl Visitor<'_> for Amount {
            type Value = BahtInput;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("baht as a decimal string or a whole number")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<BahtInput, E> {
                Ok(BahtInput(Satang::parse_baht(text)))
            }

            fn visit_u64<E: de::Error>(self, baht: u64) -> Result<BahtInput, E> {
                Ok(BahtInput(Satang::from_whole_baht(baht)))
            }

            fn visit_i64<E: de::Error>(self, baht: i64) -> Result<BahtInput, E> {
                Ok(BahtInput(match u64::try_from(baht) {
                    Ok(baht) => Satang::from_whole_baht(baht),
                    Err(_) => Err(AmountError::Negative),
                }))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<BahtInput, E> {
                Ok(BahtInput(Err(AmountError::Fraction)))
            }
        }

        deserializer.deserialize_any(Amount)
    }
}

/// As baht text, or null when refused (`validator` keeps the value of a
/// failed field as a parameter of its error).
impl Serialize for BahtInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Ok(amount) => serializer.collect_str(&amount),
            Err(_) => serializer.serialize_none(),
        }
    }
}

/// The validator rule of an amount.
///
/// # Errors
/// The reason, as a field error with code `amount`.
pub fn valid_amount(value: &BahtInput) -> Result<(), ValidationError> {
    value.0.map(|_| ()).map_err(|e| {
        ValidationError::new(e.code().as_str()).with_message(Cow::Owned(e.to_string()))
    })
}

impl utoipa::PartialSchema for BahtInput {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some(
                "Baht: a decimal string with at most 2 decimals (\"125.50\"), or a whole number (125). Never a JSON fraction.",
            ))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(BAHT_PATTERN))
                    .examples(["125.50"]),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(MAX_WHOLE_BAHT as f64)),
            )
            .into()
    }
}

impl utoipa::ToSchema for BahtInput {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Baht")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<i64, AmountError> {
        serde_json::from_str::<BahtInput>(json)
            .expect("any JSON scalar deserialises")
            .satang()
            .map(Satang::get)
    }

    #[test]
    fn decimal_strings_are_exact() {
        assert_eq!(parse(r#""125.50""#), Ok(12_550));
        assert_eq!(parse(r#""19.99""#), Ok(1_999));
        assert_eq!(parse(r#""0.1""#), Ok(10));
        assert_eq!(parse(r#""0.01""#), Ok(1));
        assert_eq!(parse(r#""7""#), Ok(700));
        assert_eq!(parse(r#""007.05""#), Ok(705));
        assert_eq!(parse(r#""0""#), Ok(0));
        assert_eq!(parse(r#""9999999999999.99""#), Ok(999_999_999_999_999));
    }

    #[test]
    fn whole_numbers_are_baht() {
        assert_eq!(parse("125"), Ok(12_500));
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("-1"), Err(AmountError::Negative));
        assert_eq!(parse("10000000000000"), Err(AmountError::TooLarge));
        assert_eq!(parse("18446744073709551615"), Err(AmountError::TooLarge));
    }

    #[test]
    fn everything_else_is_refused() {
        assert_eq!(parse(r#""1.234""#), Err(AmountError::TooPrecise));
        assert_eq!(parse("1.5"), Err(AmountError::Fraction));
        assert_eq!(parse("1e3"), Err(AmountError::Fraction));
        assert_eq!(parse(r#""-1.00""#), Err(AmountError::Negative));
        assert_eq!(parse(r#""10000000000000""#), Err(AmountError::TooLarge));
        for bad in [
            r#""""#,
            r#"".5""#,
            r#""5.""#,
            r#""1,000""#,
            r#"" 1""#,
            r#""1e3""#,
            r#""๑๒""#,
            r#""1.2.3""#,
            r#""+1""#,
            r#""NaN""#,
        ] {
            assert_eq!(parse(bad), Err(AmountError::Format), "{bad}");
        }
    }

    #[test]
    fn other_json_types_are_malformed() {
        assert!(serde_json::from_str::<BahtInput>("true").is_err());
        assert!(serde_json::from_str::<BahtInput>("[]").is_err());
    }
}
