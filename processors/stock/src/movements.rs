//! Movements of one item that need nothing but its levels: receipts,
//! issues, adjustments, counts and the item's own minimum.

use khlang_contract::stock::{StockCommandKind, ADJUST_REASONS};

use crate::reasons;
use crate::rules::{self, refuse, Movement, Refusal};
use crate::store::Locked;

/// Decides a `Receive`, `Issue`, `Adjust`, `Count` or `SetMinimum` against
/// `locked`; any other kind is refused as invalid.
pub(crate) fn decide(kind: StockCommandKind<'_>, locked: &Locked) -> Result<Movement, Refusal> {
    use StockCommandKind as K;
    let item = locked.item;
    let minimum = locked.minimum_override;
    match kind {
        K::Receive(r) => rules::receive(item, r.quantity).map(|i| Movement {
            reference: r.reference.clone(),
            ..Movement::new(i, "Received", r.quantity, minimum)
        }),
        K::Issue(r) => rules::issue(item, r.quantity).map(|i| Movement {
            reference: r.reference.clone(),
            ..Movement::new(i, "Issued", r.quantity, minimum)
        }),
        K::Adjust(a) => {
            if !ADJUST_REASONS.contains(&a.reason.as_str()) {
                return Err(refuse(
                    reasons::INVALID_REASON,
                    format!("reason must be one of {}", ADJUST_REASONS.join(", ")),
                ));
            }
            rules::adjust(item, a.delta).map(|i| Movement {
                reason: Some(a.reason.clone()),
                reference: a.note.clone(),
                ..Movement::new(i, "Adjusted", a.delta, minimum)
            })
        }
        K::Count(c) => rules::count(item, c.counted).map(|(i, delta)| Movement {
            reason: Some("count_correction".into()),
            reference: c.note.clone(),
            ..Movement::new(i, "Counted", delta, minimum)
        }),
        K::SetMinimum(m) => {
            if m.minimum.is_some_and(|v| !(0..=1_000_000_000).contains(&v)) {
                return Err(refuse(
                    reasons::INVALID_MINIMUM,
                    "a minimum is 0 to 1,000,000,000",
                ));
            }
            Ok(Movement {
                ledger: false,
                ..Movement::new(item, "MinimumSet", m.minimum.unwrap_or(0), m.minimum)
            })
        }
        other => Err(refuse(
            reasons::INVALID_COMMAND,
            format!("{} is not a movement", other.name()),
        )),
    }
}
