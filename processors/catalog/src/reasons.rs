//! Stable reason codes of rejected catalog commands. Documented in
//! `docs/catalog.md`; a test below keeps the list and the page in step.

/// A product with this SKU already exists (CreateProduct).
pub const SKU_EXISTS: &str = "sku_exists";
/// No product with this SKU (UpdateProduct, DiscontinueProduct).
pub const PRODUCT_NOT_FOUND: &str = "product_not_found";
/// The product is discontinued: it cannot be changed or discontinued again.
pub const PRODUCT_DISCONTINUED: &str = "product_discontinued";
/// Another product holds one of the barcodes.
pub const BARCODE_TAKEN: &str = "barcode_taken";
/// The SKU is not 1–40 of `A-Z 0-9 - _ .` (upper case only).
pub const INVALID_SKU: &str = "invalid_sku";
/// A name (`name_th`, `name_en`) is empty, longer than 200 characters or
/// contains control characters.
pub const INVALID_NAME: &str = "invalid_name";
/// The description is longer than 2000 characters.
pub const INVALID_DESCRIPTION: &str = "invalid_description";
/// The category is empty, longer than 50 characters or contains control
/// characters.
pub const INVALID_CATEGORY: &str = "invalid_category";
/// The unit is empty, longer than 50 characters or contains control
/// characters.
pub const INVALID_UNIT: &str = "invalid_unit";
/// A barcode is not a valid EAN-13 (13 digits, correct check digit), is
/// listed twice, or there are more than 32.
pub const INVALID_BARCODE: &str = "invalid_barcode";
/// `price_satang` or `cost_satang` is negative.
pub const INVALID_PRICE: &str = "invalid_price";
/// `min_stock` is negative.
pub const INVALID_MINIMUM: &str = "invalid_minimum";
/// The warehouse code is not 2–16 of `A-Z 0-9 - _` (upper case only).
pub const INVALID_WAREHOUSE_CODE: &str = "invalid_warehouse_code";
/// The warehouse address is longer than 500 characters.
pub const INVALID_ADDRESS: &str = "invalid_address";
/// The command has no payload or several, its aggregate id does not match
/// the payload's SKU or warehouse key, or an UpdateProduct sets no field.
pub const INVALID_COMMAND: &str = "invalid_command";

/// Every reason code.
pub const ALL: [&str; 15] = [
    SKU_EXISTS,
    PRODUCT_NOT_FOUND,
    PRODUCT_DISCONTINUED,
    BARCODE_TAKEN,
    INVALID_SKU,
    INVALID_NAME,
    INVALID_DESCRIPTION,
    INVALID_CATEGORY,
    INVALID_UNIT,
    INVALID_BARCODE,
    INVALID_PRICE,
    INVALID_MINIMUM,
    INVALID_WAREHOUSE_CODE,
    INVALID_ADDRESS,
    INVALID_COMMAND,
];

#[cfg(test)]
mod tests {
    use super::ALL;

    const PAGE: &str = include_str!("../../../docs/catalog.md");

    #[test]
    fn every_code_is_in_the_table_of_docs_catalog_md() {
        for code in ALL {
            let row = format!("| `{code}` |");
            assert!(
                PAGE.lines().any(|line| line.starts_with(&row)),
                "docs/catalog.md has no table row for `{code}`"
            );
        }
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ALL {
            assert!(seen.insert(code), "{code} listed twice");
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}
