//! Value rules that more than one domain's routes check: SKUs and
//! warehouse codes (catalog, stock, scans). One rule, one place, until the
//! contract crate's value types replace them.

use validator::ValidationError;

/// A SKU: 1-40 of A-Z 0-9 - _ . (upper case).
pub(crate) fn is_sku(value: &str) -> bool {
    (1..=40).contains(&value.len())
        && value.bytes().all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

/// A warehouse code: 2-16 of A-Z 0-9 - _ (upper case).
pub(crate) fn is_warehouse_code(value: &str) -> bool {
    (2..=16).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}

/// SKUs of stock movements and scans: the catalog's rule.
pub(crate) fn valid_sku(value: &str) -> Result<(), ValidationError> {
    is_sku(value).then_some(()).ok_or_else(|| {
        ValidationError::new("sku").with_message("must be 1-40 of A-Z 0-9 - _ .".into())
    })
}

/// Warehouse codes of stock movements and scans: the catalog's rule.
pub(crate) fn valid_warehouse(value: &str) -> Result<(), ValidationError> {
    is_warehouse_code(value).then_some(()).ok_or_else(|| {
        ValidationError::new("warehouse").with_message("must be 2-16 of A-Z 0-9 - _".into())
    })
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
    fn skus_are_upper_case_codes() {
        for good in ["A", "DRINK-001", "RICE_5KG.TH", &"X".repeat(40)] {
            assert!(is_sku(good), "{good}");
        }
        for bad in ["", "drink-001", "DRINK 001", "น้ำ", "A/B", &"X".repeat(41)] {
            assert!(!is_sku(bad), "{bad}");
        }
    }
}
