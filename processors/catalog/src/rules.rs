//! The rules of catalog commands that need no IO. Each value's rule lives in
//! [`khlang_contract::values`] (the ingress checks requests with the same
//! functions); here each broken rule maps to one reason code of
//! [`crate::reasons`], and the processor applies them before touching the
//! database.

use khlang_contract::catalog::{CreateProduct, UpdateProduct, UpsertWarehouse};
use khlang_contract::values::{
    Address, Barcodes, Description, Label, Name, Satang, Sku, StockLevel, ValueError, WarehouseCode,
};

use crate::reasons;

/// A broken rule: its reason code and a message for people.
pub(crate) type Broken = (&'static str, String);

/// The broken rule of `field` when `parsed` failed.
fn broken<T>(reason: &'static str, field: &str, parsed: Result<T, ValueError>) -> Option<Broken> {
    parsed
        .err()
        .map(|error| (reason, format!("{field} {}", error.message())))
}

/// Whether `sku` is a SKU ([`Sku`]).
pub(crate) fn valid_sku(sku: &str) -> bool {
    Sku::parse(sku).is_ok()
}

fn check_name(field: &str, name: &str) -> Option<Broken> {
    broken(reasons::INVALID_NAME, field, Name::parse(name))
}

fn check_category(category: &str) -> Option<Broken> {
    broken(
        reasons::INVALID_CATEGORY,
        "category",
        Label::parse(category),
    )
}

fn check_unit(unit: &str) -> Option<Broken> {
    broken(reasons::INVALID_UNIT, "unit", Label::parse(unit))
}

fn check_description(description: &str) -> Option<Broken> {
    broken(
        reasons::INVALID_DESCRIPTION,
        "description",
        Description::parse(description),
    )
}

fn check_barcodes(barcodes: &[String]) -> Option<Broken> {
    broken(
        reasons::INVALID_BARCODE,
        "barcodes",
        Barcodes::parse(barcodes),
    )
}

fn check_money(field: &str, satang: i64) -> Option<Broken> {
    broken(reasons::INVALID_PRICE, field, Satang::new(satang))
}

fn check_minimum(min_stock: i64) -> Option<Broken> {
    broken(
        reasons::INVALID_MINIMUM,
        "min_stock",
        StockLevel::new(min_stock),
    )
}

/// The description as stored: trimmed, `None` when empty.
pub(crate) fn normalize_description(description: Option<&str>) -> Option<String> {
    description
        .and_then(|d| Description::parse(d).ok())
        .and_then(Description::non_empty)
        .map(String::from)
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
    broken(
        reasons::INVALID_WAREHOUSE_CODE,
        "code",
        WarehouseCode::parse(&w.code),
    )
    .or_else(|| check_name("name_th", &w.name_th))
    .or_else(|| check_name("name_en", &w.name_en))
    .or_else(|| {
        broken(
            reasons::INVALID_ADDRESS,
            "address",
            Address::parse(&w.address),
        )
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
