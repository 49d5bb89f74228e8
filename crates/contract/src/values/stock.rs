//! Stock values: quantities of units, adjustment deltas, levels (counts and
//! minimums) and the reasons an adjustment may give.

use super::{number_value, ErrorCode, ValueError};

/// The most units one movement, count or minimum may name. Far below
/// `i64::MAX`, so sums of many movements cannot overflow.
pub const MAX_UNITS: i64 = 1_000_000_000;

/// Units that move (receive, issue, reserve, transfer): 1 to
/// [`MAX_UNITS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(i64);

impl Quantity {
    /// The quantity `units`.
    ///
    /// # Errors
    /// [`ErrorCode::Range`] outside 1..=[`MAX_UNITS`].
    pub fn new(units: i64) -> Result<Self, ValueError> {
        if (1..=MAX_UNITS).contains(&units) {
            Ok(Self(units))
        } else {
            Err(ValueError::new(
                ErrorCode::Range,
                "must be between 1 and 1,000,000,000",
            ))
        }
    }
}

number_value!(Quantity);

/// How an adjustment changes on hand: ±1 to ±[`MAX_UNITS`], never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Delta(i64);

impl Delta {
    /// The delta `units`.
    ///
    /// # Errors
    /// [`ErrorCode::Range`] for 0 or beyond ±[`MAX_UNITS`] (`i64::MIN`
    /// included: its absolute value is taken without overflowing).
    pub fn new(units: i64) -> Result<Self, ValueError> {
        if units != 0 && units.unsigned_abs() <= MAX_UNITS.unsigned_abs() {
            Ok(Self(units))
        } else {
            Err(ValueError::new(
                ErrorCode::Range,
                "must be ±1 to ±1,000,000,000",
            ))
        }
    }
}

number_value!(Delta);

/// A level of units that may be zero: a count's result, or a minimum
/// (a product's default `min_stock`, a stock item's minimum): 0 to
/// [`MAX_UNITS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StockLevel(i64);

impl StockLevel {
    /// The level `units`.
    ///
    /// # Errors
    /// [`ErrorCode::Range`] outside 0..=[`MAX_UNITS`].
    pub fn new(units: i64) -> Result<Self, ValueError> {
        if (0..=MAX_UNITS).contains(&units) {
            Ok(Self(units))
        } else {
            Err(ValueError::new(
                ErrorCode::Range,
                "must be between 0 and 1,000,000,000",
            ))
        }
    }
}

number_value!(StockLevel);

/// Why an adjustment changes on hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdjustReason {
    /// A count found a difference (also the reason of every count).
    CountCorrection,
    /// Units were damaged.
    Damaged,
    /// Units passed their expiry date.
    Expired,
    /// Units went missing.
    Lost,
    /// Units turned up.
    Found,
}

impl AdjustReason {
    /// Every reason, in a stable order.
    pub const ALL: [AdjustReason; 5] = [
        AdjustReason::CountCorrection,
        AdjustReason::Damaged,
        AdjustReason::Expired,
        AdjustReason::Lost,
        AdjustReason::Found,
    ];

    /// The wire names of [`AdjustReason::ALL`], in the same order.
    pub const NAMES: [&'static str; 5] =
        ["count_correction", "damaged", "expired", "lost", "found"];

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AdjustReason::CountCorrection => Self::NAMES[0],
            AdjustReason::Damaged => Self::NAMES[1],
            AdjustReason::Expired => Self::NAMES[2],
            AdjustReason::Lost => Self::NAMES[3],
            AdjustReason::Found => Self::NAMES[4],
        }
    }

    /// The reason `text` names.
    ///
    /// # Errors
    /// [`ErrorCode::Reason`] for any other text.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                ValueError::new(
                    ErrorCode::Reason,
                    format!("must be one of {}", Self::NAMES.join(", ")),
                )
            })
    }
}

impl std::fmt::Display for AdjustReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<&str> for AdjustReason {
    type Error = ValueError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::parse(text)
    }
}

impl serde::Serialize for AdjustReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for AdjustReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn quantities_deltas_and_levels() {
        // (units, quantity ok, delta ok, level ok)
        let table: &[(i64, bool, bool, bool)] = &[
            (i64::MIN, false, false, false),
            (-1_000_000_001, false, false, false),
            (-1_000_000_000, false, true, false),
            (-1, false, true, false),
            (0, false, false, true),
            (1, true, true, true),
            (1_000_000_000, true, true, true),
            (1_000_000_001, false, false, false),
            (i64::MAX, false, false, false),
        ];
        for &(units, quantity, delta, level) in table {
            assert_eq!(Quantity::new(units).is_ok(), quantity, "quantity {units}");
            assert_eq!(Delta::new(units).is_ok(), delta, "delta {units}");
            assert_eq!(StockLevel::new(units).is_ok(), level, "level {units}");
            for error in [
                Quantity::new(units).err(),
                Delta::new(units).err(),
                StockLevel::new(units).err(),
            ]
            .into_iter()
            .flatten()
            {
                assert_eq!(error.code(), ErrorCode::Range);
            }
        }
    }

    #[test]
    fn adjust_reasons() {
        for (reason, name) in AdjustReason::ALL.into_iter().zip(AdjustReason::NAMES) {
            assert_eq!(reason.as_str(), name);
            assert_eq!(AdjustReason::parse(name), Ok(reason));
        }
        for bad in ["", "stolen", "Damaged", "count correction"] {
            assert_eq!(
                AdjustReason::parse(bad).map_err(|e| e.code()),
                Err(ErrorCode::Reason),
                "{bad:?}"
            );
        }
    }

    proptest! {
        /// A quantity is exactly a positive number of at most MAX_UNITS, and
        /// any number of them in one movement each can be summed without
        /// overflow for far longer than any ledger.
        #[test]
        fn quantities_are_exactly_the_bounded_positives(units in any::<i64>()) {
            prop_assert_eq!(Quantity::new(units).is_ok(), units > 0 && units <= MAX_UNITS);
            prop_assert_eq!(StockLevel::new(units).is_ok(), (0..=MAX_UNITS).contains(&units));
            if let Ok(q) = Quantity::new(units) {
                prop_assert_eq!(q.get(), units);
                prop_assert!(q.get().checked_mul(9_000_000_000).is_some());
            }
        }

        /// A delta is a quantity in either direction.
        #[test]
        fn deltas_are_signed_quantities(units in any::<i64>()) {
            let as_quantity = units.checked_abs().map(Quantity::new);
            prop_assert_eq!(
                Delta::new(units).is_ok(),
                matches!(as_quantity, Some(Ok(_)))
            );
            if let Ok(delta) = Delta::new(units) {
                prop_assert_eq!(Delta::new(-delta.get()), Ok(Delta(-units)));
            }
        }
    }
}
