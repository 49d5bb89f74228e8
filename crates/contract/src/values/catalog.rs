//! Catalog values: SKU, warehouse code, EAN-13 and a product's barcodes.

use super::{string_value, ErrorCode, ValueError};

/// Longest SKU, in characters.
const SKU_MAX: usize = 40;
/// Warehouse codes are this many characters.
const WAREHOUSE_CODE_LEN: std::ops::RangeInclusive<usize> = 2..=16;
/// Most barcodes one product may carry.
pub const MAX_BARCODES: usize = 32;

/// A SKU, a product's id: 1–40 of `A-Z 0-9 - _ .`. Upper case only, so one
/// product has one SKU; no `@` or `:`, so it is safe inside Kafka keys
/// (`sku@warehouse`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    /// The SKU `text` spells.
    ///
    /// # Errors
    /// [`ErrorCode::Sku`] when it is not 1–40 of `A-Z 0-9 - _ .`.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let ok = (1..=SKU_MAX).contains(&text.len())
            && text.bytes().all(|b| {
                b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
            });
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::new(
                ErrorCode::Sku,
                "must be 1-40 of A-Z 0-9 - _ . (upper case)",
            ))
        }
    }
}

string_value!(Sku);

/// A warehouse's code: 2–16 of `A-Z 0-9 - _` (no dot, unlike a SKU).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WarehouseCode(String);

impl WarehouseCode {
    /// The warehouse code `text` spells.
    ///
    /// # Errors
    /// [`ErrorCode::Warehouse`] when it is not 2–16 of `A-Z 0-9 - _`.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let ok = WAREHOUSE_CODE_LEN.contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::new(
                ErrorCode::Warehouse,
                "must be 2-16 of A-Z 0-9 - _ (upper case)",
            ))
        }
    }
}

string_value!(WarehouseCode);

/// An EAN-13 barcode: 13 digits, the last one the check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ean13(String);

impl Ean13 {
    /// The barcode `text` spells.
    ///
    /// # Errors
    /// [`ErrorCode::Ean13`] when it is not 13 ASCII digits or the check digit
    /// is wrong.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let bytes = text.as_bytes();
        let ok = bytes.len() == 13
            && bytes.iter().all(u8::is_ascii_digit)
            && Self::check_digit(&bytes[..12]) == Some(bytes[12] - b'0');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::new(
                ErrorCode::Ean13,
                format!("{text:?} is not an EAN-13 (13 digits with a correct check digit)"),
            ))
        }
    }

    /// The check digit of the first 12 digits of an EAN-13 (ASCII), or
    /// `None` when `body` is not 12 ASCII digits.
    #[must_use]
    pub fn check_digit(body: &[u8]) -> Option<u8> {
        if body.len() != 12 || !body.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let sum: u32 = body
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let d = u32::from(b - b'0');
                if i % 2 == 0 {
                    d
                } else {
                    d * 3
                }
            })
            .sum();
        // (10 - sum % 10) % 10 is a single digit
        u8::try_from((10 - sum % 10) % 10).ok()
    }

    /// The EAN-13 whose first 12 digits are `body` (modulo 10¹², zero
    /// padded) followed by its check digit: test data and demo data.
    #[must_use]
    pub fn from_body(body: u64) -> Self {
        let digits = format!("{:012}", body % 1_000_000_000_000);
        let check = Self::check_digit(digits.as_bytes()).unwrap_or_default();
        Self(format!("{digits}{check}"))
    }
}

string_value!(Ean13);

/// A product's barcodes: at most [`MAX_BARCODES`] EAN-13s, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Barcodes(Vec<Ean13>);

impl Barcodes {
    /// The barcodes of `codes`, in order.
    ///
    /// # Errors
    /// [`ErrorCode::Length`] for more than [`MAX_BARCODES`],
    /// [`ErrorCode::Ean13`] for one that is not an EAN-13,
    /// [`ErrorCode::Unique`] for one listed twice.
    pub fn parse<S: AsRef<str>>(codes: &[S]) -> Result<Self, ValueError> {
        if codes.len() > MAX_BARCODES {
            return Err(ValueError::new(
                ErrorCode::Length,
                format!("must be at most {MAX_BARCODES} barcodes"),
            ));
        }
        let mut parsed: Vec<Ean13> = Vec::with_capacity(codes.len());
        for code in codes {
            let code = Ean13::parse(code.as_ref())?;
            if parsed.contains(&code) {
                return Err(ValueError::new(
                    ErrorCode::Unique,
                    format!("{:?} is given twice", code.as_str()),
                ));
            }
            parsed.push(code);
        }
        Ok(Self(parsed))
    }

    /// The barcodes.
    #[must_use]
    pub fn as_slice(&self) -> &[Ean13] {
        &self.0
    }

    /// The barcodes as text.
    #[must_use]
    pub fn into_strings(self) -> Vec<String> {
        self.0.into_iter().map(String::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus() {
        let forty = "X".repeat(40);
        let forty_one = "X".repeat(41);
        let table: &[(&str, bool)] = &[
            ("A", true),
            ("RICE-5KG", true),
            ("SKU_001.B", true),
            (&forty, true),
            ("", false),
            ("rice", false),
            ("RICE 5KG", false),
            ("ข้าว", false),
            ("A/B", false),
            ("A@B", false),
            ("warehouse:BKK1", false),
            (&forty_one, false),
        ];
        for (text, ok) in table {
            let got = Sku::parse(text);
            assert_eq!(got.is_ok(), *ok, "{text:?}");
            if let Err(e) = got {
                assert_eq!(e.code(), ErrorCode::Sku);
            }
        }
    }

    #[test]
    fn warehouse_codes() {
        let sixteen = "W".repeat(16);
        let seventeen = "W".repeat(17);
        let table: &[(&str, bool)] = &[
            ("BK", true),
            ("BKK-1", true),
            ("CNX_2", true),
            (&sixteen, true),
            ("B", false),
            ("bkk1", false),
            ("BKK.1", false),
            ("BKK 1", false),
            (&seventeen, false),
        ];
        for (text, ok) in table {
            let got = WarehouseCode::parse(text);
            assert_eq!(got.is_ok(), *ok, "{text:?}");
            if let Err(e) = got {
                assert_eq!(e.code(), ErrorCode::Warehouse);
            }
        }
    }

    #[test]
    fn ean13s() {
        let table: &[(&str, bool)] = &[
            ("8850999320014", true),
            ("4006381333931", true),
            ("0000000000000", true),
            ("4006381333932", false),
            ("400638133393", false),
            ("40063813339311", false),
            ("40063813339a1", false),
            ("๔006381333931", false),
            ("", false),
        ];
        for (text, ok) in table {
            let got = Ean13::parse(text);
            assert_eq!(got.is_ok(), *ok, "{text:?}");
            if let Err(e) = got {
                assert_eq!(e.code(), ErrorCode::Ean13);
            }
        }
    }

    #[test]
    fn generated_ean13s_are_valid() {
        for (body, want) in [
            (885_099_932_001, "8850999320014"),
            (400_638_133_393, "4006381333931"),
            (0, "0000000000000"),
            (1_000_000_000_000 + 12_345, "0000000123457"),
        ] {
            let code = Ean13::from_body(body);
            assert_eq!(code.as_str(), want);
            assert_eq!(Ean13::parse(want), Ok(code));
        }
        assert_eq!(Ean13::check_digit(b"88509993200"), None);
    }

    #[test]
    fn barcode_lists() {
        let a = "8850999320014";
        let b = "4006381333931";
        let table: Vec<(Vec<&str>, Option<ErrorCode>)> = vec![
            (vec![], None),
            (vec![a, b], None),
            (vec![a, a], Some(ErrorCode::Unique)),
            (vec![a, "4006381333932"], Some(ErrorCode::Ean13)),
            (vec![a; 33], Some(ErrorCode::Length)),
        ];
        for (codes, want) in table {
            let got = Barcodes::parse(&codes).err().map(|e| e.code());
            assert_eq!(got, want, "{codes:?}");
        }
        let parsed = Barcodes::parse(&[a, b]).expect("two barcodes");
        assert_eq!(parsed.into_strings(), vec![a.to_owned(), b.to_owned()]);
    }
}
