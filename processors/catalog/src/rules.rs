//! The rules of catalog commands that need no IO: formats, lengths, ranges.
//! The processor applies them before touching the database; each broken rule
//! maps to one reason code of [`crate::reasons`].

use khlang_contract::catalog::{valid_ean13, CreateProduct, UpdateProduct, UpsertWarehouse};

use crate::reasons;

/// Longest SKU, in characters.
pub(crate) const SKU_MAX: usize = 40;
/// Longest product or warehouse name, in characters.
pub(crate) const NAME_MAX: usize = 200;
/// Longest category or unit, in characters.
pub(crate) const LABEL_MAX: usize = 50;
/// Longest description, in characters.
pub(crate) const DESCRIPTION_MAX: usize = 2000;
/// Longest warehouse address, in characters.
pub(crate) const ADDRESS_MAX: usize = 500;
/// Most barcodes per product.
pub(crate) const BARCODES_MAX: usize = 32;

/// A broken rule: its reason code and a message for people.
pub(crate) type Broken = (&'static str, String);

/// 1–40 of `A-Z 0-9 - _ .`; upper case only, so one product has one SKU.
pub(crate) fn valid_sku(sku: &str) -> bool {
    (1..=SKU_MAX).contains(&sku.len())
        && sku
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// 2–16 of `A-Z 0-9 - _`.
pub(crate) fn valid_warehouse_code(code: &str) -> bool {
    (2..=16).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

/// Trimmed, 1..=`max` characters (not bytes: Thai counts per character),
/// and on one line.
fn valid_label(text: &str, max: usize) -> bool {
    let trimmed = text.trim();
    let count = trimmed.chars().count();
    (1..=max).contains(&count) && !trimmed.chars().any(char::is_control)
}

fn check_name(field: &str, name: &str) -> Option<Broken> {
    (!valid_label(name, NAME_MAX)).then(|| {
        (
            reasons::INVALID_NAME,
            format!("{field} must be 1-{NAME_MAX} characters on one line"),
        )
    })
}

fn check_category(category: &str) -> Option<Broken> {
    (!valid_label(category, LABEL_MAX)).then(|| {
        (
            reasons::INVALID_CATEGORY,
            format!("category must be 1-{LABEL_MAX} characters on one line"),
        )
    })
}

fn check_unit(unit: &str) -> Option<Broken> {
    (!valid_label(unit, LABEL_MAX)).then(|| {
        (
            reasons::INVALID_UNIT,
            format!("unit must be 1-{LABEL_MAX} characters on one line"),
        )
    })
}

fn check_description(description: &str) -> Option<Broken> {
    (description.trim().chars().count() > DESCRIPTION_MAX).then(|| {
        (
            reasons::INVALID_DESCRIPTION,
            format!("description must be at most {DESCRIPTION_MAX} characters"),
        )
    })
}

fn check_barcodes(barcodes: &[String]) -> Option<Broken> {
    if barcodes.len() > BARCODES_MAX {
        return Some((
            reasons::INVALID_BARCODE,
            format!("at most {BARCODES_MAX} barcodes per product"),
        ));
    }
    for (i, code) in barcodes.iter().enumerate() {
        if !valid_ean13(code) {
            return Some((
                reasons::INVALID_BARCODE,
                format!("{code:?} is not a valid EAN-13"),
            ));
        }
        if barcodes[..i].contains(code) {
            return Some((
                reasons::INVALID_BARCODE,
                format!("barcode {code} is listed twice"),
            ));
        }
    }
    None
}

fn check_money(field: &str, satang: i64) -> Option<Broken> {
    (satang < 0).then(|| {
        (
            reasons::INVALID_PRICE,
            format!("{field} must be at least 0 satang"),
        )
    })
}

fn check_minimum(min_stock: i64) -> Option<Broken> {
    (min_stock < 0).then(|| {
        (
            reasons::INVALID_MINIMUM,
            "min_stock must be at least 0".to_owned(),
        )
    })
}

/// The description as stored: trimmed, `None` when empty.
pub(crate) fn normalize_description(description: Option<&str>) -> Option<String> {
    description
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
}

/// The first rule a new product breaks (the SKU is checked by the caller).
pub(crate) fn check_create(c: &CreateProduct) -> Option<Broken> {
    check_name("name_th", &c.name_th)
        .or_else(|| check_name("name_en", &c.name_en))
        .or_else(|| c.description.as_deref().and_then(check_description))
        .or_else(|| check_category(&c.category))
        .or_else(|| check_unit(&c.unit))
        .or_else(|| check_barcodes(&c.barcodes))
        .or_else(|| check_money("price_satang", c.price_satang))
        .or_else(|| check_money("cost_satang", c.cost_satang))
        .or_else(|| check_minimum(c.min_stock))
}

/// Whether an update sets at least one field.
pub(crate) fn sets_any_field(u: &UpdateProduct) -> bool {
    u != &UpdateProduct::default()
}

/// The first rule the fields of an update break.
pub(crate) fn check_update(u: &UpdateProduct) -> Option<Broken> {
    u.name_th
        .as_deref()
        .and_then(|n| check_name("name_th", n))
        .or_else(|| u.name_en.as_deref().and_then(|n| check_name("name_en", n)))
        .or_else(|| u.description.as_deref().and_then(check_description))
        .or_else(|| u.category.as_deref().and_then(check_category))
        .or_else(|| u.unit.as_deref().and_then(check_unit))
        .or_else(|| u.barcodes.as_deref().and_then(check_barcodes))
        .or_else(|| u.price_satang.and_then(|p| check_money("price_satang", p)))
        .or_else(|| u.cost_satang.and_then(|p| check_money("cost_satang", p)))
        .or_else(|| u.min_stock.and_then(check_minimum))
}

/// The first rule a warehouse breaks (the aggregate id is checked by the caller).
pub(crate) fn check_warehouse(w: &UpsertWarehouse) -> Option<Broken> {
    if !valid_warehouse_code(&w.code) {
        return Some((
            reasons::INVALID_WAREHOUSE_CODE,
            "warehouse code must be 2-16 of A-Z 0-9 - _".to_owned(),
        ));
    }
    check_name("name_th", &w.name_th)
        .or_else(|| check_name("name_en", &w.name_en))
        .or_else(|| {
            (w.address.trim().chars().count() > ADDRESS_MAX).then(|| {
                (
                    reasons::INVALID_ADDRESS,
                    format!("address must be at most {ADDRESS_MAX} characters"),
                )
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product() -> CreateProduct {
        CreateProduct {
            sku: "RICE-JASMINE-5KG".into(),
            name_th: "ข้าวหอมมะลิ 5 กก.".into(),
            name_en: "Jasmine rice 5 kg".into(),
            description: Some("ข้าวหอมมะลิ 100% จากทุ่งกุลาร้องไห้".into()),
            category: "ข้าวและธัญพืช".into(),
            unit: "ถุง".into(),
            barcodes: vec!["8850999320014".into(), "4006381333931".into()],
            price_satang: 18_500,
            cost_satang: 14_000,
            min_stock: 20,
        }
    }

    fn warehouse() -> UpsertWarehouse {
        UpsertWarehouse {
            code: "BKK-1".into(),
            name_th: "คลังบางนา".into(),
            name_en: "Bang Na warehouse".into(),
            address: "99 ถนนบางนา-ตราด กรุงเทพฯ 10260".into(),
            active: true,
        }
    }

    #[test]
    fn a_valid_product_passes() {
        assert_eq!(check_create(&product()), None);
        let mut free = product();
        free.barcodes.clear();
        free.price_satang = 0;
        free.description = None;
        assert_eq!(check_create(&free), None);
    }

    #[test]
    fn skus_are_upper_case_letters_digits_and_dash_underscore_dot() {
        for ok in ["A", "RICE-5KG", "SKU_001.B", &"X".repeat(40)] {
            assert!(valid_sku(ok), "{ok}");
        }
        for bad in [
            "",
            "rice",
            "RICE 5KG",
            "ข้าว",
            "A/B",
            &"X".repeat(41),
            "warehouse:BKK1",
        ] {
            assert!(!valid_sku(bad), "{bad}");
        }
    }

    #[test]
    fn warehouse_codes_are_2_to_16_without_dots() {
        for ok in ["BK", "BKK-1", "CNX_2", &"W".repeat(16)] {
            assert!(valid_warehouse_code(ok), "{ok}");
        }
        for bad in ["B", "bkk1", "BKK.1", "BKK 1", &"W".repeat(17)] {
            assert!(!valid_warehouse_code(bad), "{bad}");
        }
    }

    #[test]
    fn each_broken_product_rule_has_its_reason_code() {
        type Breaks = fn(&mut CreateProduct);
        let cases: [(Breaks, &str); 14] = [
            (|p| p.name_th = "   ".into(), reasons::INVALID_NAME),
            (|p| p.name_en = "x".repeat(201), reasons::INVALID_NAME),
            (|p| p.name_en = "two\nlines".into(), reasons::INVALID_NAME),
            (
                |p| p.description = Some("ก".repeat(2001)),
                reasons::INVALID_DESCRIPTION,
            ),
            (|p| p.category = String::new(), reasons::INVALID_CATEGORY),
            (|p| p.category = "ห".repeat(51), reasons::INVALID_CATEGORY),
            (|p| p.unit = "\t".into(), reasons::INVALID_UNIT),
            (
                |p| p.barcodes = vec!["8850999320015".into()],
                reasons::INVALID_BARCODE,
            ),
            (
                |p| p.barcodes = vec!["885099932001".into()],
                reasons::INVALID_BARCODE,
            ),
            (
                |p| p.barcodes = vec!["8850999320014".into(), "8850999320014".into()],
                reasons::INVALID_BARCODE,
            ),
            (
                |p| p.barcodes = vec!["8850999320014".into(); 33],
                reasons::INVALID_BARCODE,
            ),
            (|p| p.price_satang = -1, reasons::INVALID_PRICE),
            (|p| p.cost_satang = -100, reasons::INVALID_PRICE),
            (|p| p.min_stock = -1, reasons::INVALID_MINIMUM),
        ];
        for (breaks, code) in cases {
            let mut p = product();
            breaks(&mut p);
            assert_eq!(check_create(&p).map(|(c, _)| c), Some(code), "{p:?}");
        }
    }

    #[test]
    fn thai_names_count_characters_not_bytes() {
        let mut p = product();
        p.name_th = "ก".repeat(200);
        assert_eq!(check_create(&p), None);
        p.name_th = "ก".repeat(201);
        assert_eq!(
            check_create(&p).map(|(c, _)| c),
            Some(reasons::INVALID_NAME)
        );
    }

    #[test]
    fn updates_are_checked_field_by_field() {
        assert!(!sets_any_field(&UpdateProduct::default()));
        assert_eq!(check_update(&UpdateProduct::default()), None);
        let cases: [(UpdateProduct, &str); 5] = [
            (
                UpdateProduct {
                    name_th: Some(String::new()),
                    ..UpdateProduct::default()
                },
                reasons::INVALID_NAME,
            ),
            (
                UpdateProduct {
                    unit: Some("u".repeat(51)),
                    ..UpdateProduct::default()
                },
                reasons::INVALID_UNIT,
            ),
            (
                UpdateProduct {
                    barcodes: Some(vec!["1234567890123".into()]),
                    ..UpdateProduct::default()
                },
                reasons::INVALID_BARCODE,
            ),
            (
                UpdateProduct {
                    cost_satang: Some(-5),
                    ..UpdateProduct::default()
                },
                reasons::INVALID_PRICE,
            ),
            (
                UpdateProduct {
                    min_stock: Some(-5),
                    ..UpdateProduct::default()
                },
                reasons::INVALID_MINIMUM,
            ),
        ];
        for (update, code) in cases {
            assert!(sets_any_field(&update));
            assert_eq!(check_update(&update).map(|(c, _)| c), Some(code));
        }
        let fine = UpdateProduct {
            price_satang: Some(0),
            barcodes: Some(Vec::new()),
            description: Some(String::new()),
            ..UpdateProduct::default()
        };
        assert_eq!(check_update(&fine), None);
    }

    #[test]
    fn each_broken_warehouse_rule_has_its_reason_code() {
        assert_eq!(check_warehouse(&warehouse()), None);
        let mut no_address = warehouse();
        no_address.address = String::new();
        assert_eq!(check_warehouse(&no_address), None);
        type Breaks = fn(&mut UpsertWarehouse);
        let cases: [(Breaks, &str); 4] = [
            (|w| w.code = "bkk1".into(), reasons::INVALID_WAREHOUSE_CODE),
            (|w| w.name_th = " ".into(), reasons::INVALID_NAME),
            (|w| w.name_en = "n".repeat(201), reasons::INVALID_NAME),
            (|w| w.address = "ที".repeat(251), reasons::INVALID_ADDRESS),
        ];
        for (breaks, code) in cases {
            let mut w = warehouse();
            breaks(&mut w);
            assert_eq!(check_warehouse(&w).map(|(c, _)| c), Some(code), "{w:?}");
        }
    }

    #[test]
    fn empty_descriptions_are_none() {
        assert_eq!(normalize_description(Some("  ")), None);
        assert_eq!(normalize_description(None), None);
        assert_eq!(normalize_description(Some(" ข้าว ")), Some("ข้าว".to_owned()));
    }
}
