//! Amounts of money at the edge: the API speaks baht as a decimal string
//! (`"125.50"`) or a whole number (`125`); Kafka and the database speak
//! satang (`12550`). The conversion is exact, on the digits, never through
//! floating point.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde::{Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use validator::ValidationError;

/// The most baht an amount may have before the decimal point.
const MAX_WHOLE_DIGITS: usize = 13;
/// The largest whole number of baht (13 nines): far from `i64` overflow.
const MAX_WHOLE_BAHT: u64 = 9_999_999_999_999;
/// What an amount as text must look like (also in the OpenAPI schema).
pub const BAHT_PATTERN: &str = r"^[0-9]{1,13}(\.[0-9]{1,2})?$";

/// An amount in satang (1/100 baht), never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Satang(i64);

/// Why an amount is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not digits with an optional point and one or two decimals.
    #[error("must be baht as a decimal string such as \"125.50\" (at most 2 decimals) or a whole number")]
    Format,
    /// Three or more decimals: satang are the smallest unit.
    #[error("must have at most 2 decimals (satang)")]
    TooPrecise,
    /// Below zero.
    #[error("must not be negative")]
    Negative,
    /// More than [`MAX_WHOLE_BAHT`].
    #[error("must be at most 9999999999999.99")]
    TooLarge,
    /// A JSON number with a fraction or exponent: floating point is not
    /// exact, so fractions travel as strings.
    #[error("a fraction must be sent as a string such as \"125.50\", not as a JSON number")]
    Fraction,
}

impl Satang {
    /// Satang as stored; `None` when negative.
    #[must_use]
    pub fn new(satang: i64) -> Option<Self> {
        (satang >= 0).then_some(Self(satang))
    }

    /// The number of satang.
    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses baht written as `"125"`, `"125.5"` or `"125.50"`.
    ///
    /// # Errors
    /// When the text is not such an amount.
    pub fn parse_baht(text: &str) -> Result<Self, AmountError> {
        if text.starts_with('-') {
            return Err(AmountError::Negative);
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(AmountError::Format);
        }
        let fraction = fraction.unwrap_or("");
        if fraction.len() > 2 {
            return Err(AmountError::TooPrecise);
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > MAX_WHOLE_DIGITS {
            return Err(AmountError::TooLarge);
        }
        // at most 13 digits, so these fit; no floating point anywhere
        let baht: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| AmountError::Format)?
        };
        let satang: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| AmountError::Format)? * 10,
            _ => fraction.parse().map_err(|_| AmountError::Format)?,
        };
        Ok(Self(baht * 100 + satang))
    }

    /// A whole number of baht.
    ///
    /// # Errors
    /// When it is too large.
    pub fn from_whole_baht(baht: u64) -> Result<Self, AmountError> {
        if baht > MAX_WHOLE_BAHT {
            return Err(AmountError::TooLarge);
        }
        i64::try_from(baht)
            .map(|b| Self(b * 100))
            .map_err(|_| AmountError::TooLarge)
    }
}

/// Baht with exactly two decimals: `12550` satang is `"125.50"`.
impl fmt::Display for Satang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

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
    value
        .0
        .map(|_| ())
        .map_err(|e| ValidationError::new("amount").with_message(Cow::Owned(e.to_string())))
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
    fn satang_print_with_two_decimals() {
        for (satang, text) in [
            (12_550, "125.50"),
            (1_999, "19.99"),
            (10, "0.10"),
            (0, "0.00"),
        ] {
            let amount = Satang::new(satang).expect("not negative");
            assert_eq!(amount.to_string(), text);
            assert_eq!(Satang::parse_baht(text), Ok(amount));
        }
        assert_eq!(Satang::new(-1), None);
    }

    #[test]
    fn other_json_types_are_malformed() {
        assert!(serde_json::from_str::<BahtInput>("true").is_err());
        assert!(serde_json::from_str::<BahtInput>("[]").is_err());
    }
}
