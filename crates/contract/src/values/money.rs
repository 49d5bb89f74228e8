//! Money: amounts in satang (1/100 baht), the unit of Kafka and the
//! database. People write baht (`"125.50"`); the conversion is exact, on the
//! digits, never through floating point.

use std::fmt;

use super::{ErrorCode, ValueError};

/// The largest whole number of baht (13 nines): far from `i64` overflow.
pub const MAX_WHOLE_BAHT: u64 = 9_999_999_999_999;
/// The largest amount, in satang (`9999999999999.99` baht).
pub const MAX_SATANG: i64 = 999_999_999_999_999;
/// The most digits of baht before the decimal point.
const MAX_WHOLE_DIGITS: usize = 13;

/// An amount in satang: 0 to [`MAX_SATANG`], never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Satang(i64);

/// Why an amount is refused; every one is [`ErrorCode::Amount`].
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
    /// More than [`MAX_SATANG`].
    #[error("must be at most 9999999999999.99")]
    TooLarge,
    /// A JSON number with a fraction or exponent: floating point is not
    /// exact, so fractions travel as strings.
    #[error("a fraction must be sent as a string such as \"125.50\", not as a JSON number")]
    Fraction,
}

impl AmountError {
    /// The stable code: always [`ErrorCode::Amount`].
    #[must_use]
    pub fn code(self) -> ErrorCode {
        ErrorCode::Amount
    }
}

impl From<AmountError> for ValueError {
    fn from(error: AmountError) -> Self {
        ValueError::new(ErrorCode::Amount, error.to_string())
    }
}

impl Satang {
    /// Zero.
    pub const ZERO: Satang = Satang(0);

    /// The amount of `satang`.
    ///
    /// # Errors
    /// [`ErrorCode::Amount`] when negative or above [`MAX_SATANG`].
    pub fn new(satang: i64) -> Result<Self, ValueError> {
        if satang < 0 {
            Err(AmountError::Negative.into())
        } else if satang > MAX_SATANG {
            Err(AmountError::TooLarge.into())
        } else {
            Ok(Self(satang))
        }
    }

    /// The number of satang.
    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses baht written as `"125"`, `"125.5"` or `"125.50"`.
    ///
    /// # Errors
    /// Why the text is not such an amount.
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
    /// [`AmountError::TooLarge`] above [`MAX_WHOLE_BAHT`].
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

impl From<Satang> for i64 {
    fn from(value: Satang) -> i64 {
        value.0
    }
}

impl TryFrom<i64> for Satang {
    type Error = ValueError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

/// As the plain number of satang (the wire format of commands and events).
impl serde::Serialize for Satang {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Satang {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(<i64 as serde::Deserialize>::deserialize(deserializer)?)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn baht_text() {
        let table: &[(&str, Result<i64, AmountError>)] = &[
            ("125.50", Ok(12_550)),
            ("19.99", Ok(1_999)),
            ("0.1", Ok(10)),
            ("0.01", Ok(1)),
            ("7", Ok(700)),
            ("007.05", Ok(705)),
            ("0", Ok(0)),
            ("9999999999999.99", Ok(MAX_SATANG)),
            ("10000000000000", Err(AmountError::TooLarge)),
            ("1.234", Err(AmountError::TooPrecise)),
            ("-1.00", Err(AmountError::Negative)),
            ("", Err(AmountError::Format)),
            (".5", Err(AmountError::Format)),
            ("5.", Err(AmountError::Format)),
            ("1,000", Err(AmountError::Format)),
            (" 1", Err(AmountError::Format)),
            ("1e3", Err(AmountError::Format)),
            ("๑๒", Err(AmountError::Format)),
            ("1.2.3", Err(AmountError::Format)),
            ("+1", Err(AmountError::Format)),
            ("NaN", Err(AmountError::Format)),
        ];
        for (text, want) in table {
            assert_eq!(Satang::parse_baht(text).map(Satang::get), *want, "{text:?}");
        }
    }

    #[test]
    fn satang_numbers() {
        let table: &[(i64, Option<&str>)] = &[
            (0, Some("0.00")),
            (10, Some("0.10")),
            (1_999, Some("19.99")),
            (12_550, Some("125.50")),
            (MAX_SATANG, Some("9999999999999.99")),
            (MAX_SATANG + 1, None),
            (-1, None),
            (i64::MIN, None),
        ];
        for &(satang, text) in table {
            match (Satang::new(satang), text) {
                (Ok(amount), Some(text)) => {
                    assert_eq!(amount.to_string(), text);
                    assert_eq!(Satang::parse_baht(text), Ok(amount));
                }
                (Err(e), None) => assert_eq!(e.code(), ErrorCode::Amount),
                (got, want) => panic!("{satang}: got {got:?}, want {want:?}"),
            }
        }
        assert_eq!(Satang::from_whole_baht(125).map(Satang::get), Ok(12_500));
        assert_eq!(
            Satang::from_whole_baht(MAX_WHOLE_BAHT + 1),
            Err(AmountError::TooLarge)
        );
        assert_eq!(
            Satang::from_whole_baht(u64::MAX),
            Err(AmountError::TooLarge)
        );
    }

    proptest! {
        /// Every amount prints as baht that parse back to the same amount.
        #[test]
        fn baht_text_round_trips(satang in 0..=MAX_SATANG) {
            let amount = Satang::new(satang).expect("in range");
            prop_assert_eq!(Satang::parse_baht(&amount.to_string()), Ok(amount));
        }

        /// Baht and satang written apart are exactly baht × 100 + satang,
        /// with one decimal meaning tens of satang.
        #[test]
        fn parsing_is_exact(baht in 0..=MAX_WHOLE_BAHT, satang in 0u64..100) {
            let whole = Satang::from_whole_baht(baht).expect("in range");
            let two = Satang::parse_baht(&format!("{baht}.{satang:02}")).expect("an amount");
            prop_assert_eq!(two.get() - whole.get(), i64::try_from(satang).expect("small"));
            let one = Satang::parse_baht(&format!("{baht}.{}", satang / 10)).expect("an amount");
            prop_assert_eq!(one.get() - whole.get(), i64::try_from(satang / 10 * 10).expect("small"));
            prop_assert!(Satang::new(two.get()).is_ok());
        }

        /// No text makes parsing panic or produce an amount out of range.
        #[test]
        fn any_text_is_an_amount_or_refused(text in "\\PC{0,20}") {
            if let Ok(amount) = Satang::parse_baht(&text) {
                prop_assert!((0..=MAX_SATANG).contains(&amount.get()));
            }
        }
    }
}
