//! Free text with limits: names, labels (category, unit), descriptions and
//! addresses. Lengths count characters, not bytes (a Thai character is three
//! bytes in UTF-8), and the text is kept trimmed.

use super::{string_value, ErrorCode, ValueError};

/// Trimmed, 1..=`max` characters, on one line.
fn line(text: &str, max: usize) -> Result<String, ValueError> {
    let trimmed = text.trim();
    if trimmed.chars().any(char::is_control) {
        return Err(ValueError::new(ErrorCode::Line, "must be on one line"));
    }
    if (1..=max).contains(&trimmed.chars().count()) {
        Ok(trimmed.to_owned())
    } else {
        Err(ValueError::new(
            ErrorCode::Length,
            format!("must be 1-{max} characters"),
        ))
    }
}

/// Trimmed, at most `max` characters (may be empty).
fn at_most(text: &str, max: usize) -> Result<String, ValueError> {
    let trimmed = text.trim();
    if trimmed.chars().count() <= max {
        Ok(trimmed.to_owned())
    } else {
        Err(ValueError::new(
            ErrorCode::Length,
            format!("must be at most {max} characters"),
        ))
    }
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $rule:ident, $max:expr, $errors:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The longest, in characters.
            pub const MAX: usize = $max;

            /// The text, trimmed.
            ///
            /// # Errors
            #[doc = $errors]
            pub fn parse(text: &str) -> Result<Self, ValueError> {
                $rule(text, Self::MAX).map(Self)
            }
        }

        string_value!($name);
    };
}

text_value!(
    /// A product's or warehouse's name (`name_th`, `name_en`): 1–200
    /// characters on one line.
    Name,
    line,
    200,
    "[`ErrorCode::Line`] for a control character, [`ErrorCode::Length`] when blank or too long."
);

text_value!(
    /// A short label (a product's category or unit): 1–50 characters on one
    /// line.
    Label,
    line,
    50,
    "[`ErrorCode::Line`] for a control character, [`ErrorCode::Length`] when blank or too long."
);

text_value!(
    /// A product's description: at most 2000 characters (several lines are
    /// fine; empty means none).
    Description,
    at_most,
    2000,
    "[`ErrorCode::Length`] when too long."
);

text_value!(
    /// A warehouse's address: at most 500 characters (may be empty).
    Address,
    at_most,
    500,
    "[`ErrorCode::Length`] when too long."
);

impl Description {
    /// The description as stored: trimmed, `None` when empty.
    #[must_use]
    pub fn non_empty(self) -> Option<Self> {
        (!self.0.is_empty()).then_some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let table: Vec<(String, Result<&str, ErrorCode>)> = vec![
            ("ข้าวหอมมะลิ 5 กก.".into(), Ok("ข้าวหอมมะลิ 5 กก.")),
            ("  Jasmine rice  ".into(), Ok("Jasmine rice")),
            ("ก".repeat(200), Ok("")),
            ("ก".repeat(201), Err(ErrorCode::Length)),
            ("   ".into(), Err(ErrorCode::Length)),
            (String::new(), Err(ErrorCode::Length)),
            ("two\nlines".into(), Err(ErrorCode::Line)),
            ("tab\there".into(), Err(ErrorCode::Line)),
        ];
        for (text, want) in table {
            match (Name::parse(&text), want) {
                (Ok(name), Ok(trimmed)) if !trimmed.is_empty() => {
                    assert_eq!(name.as_str(), trimmed);
                }
                (Ok(_), Ok(_)) => {}
                (Err(e), Err(code)) => assert_eq!(e.code(), code, "{text:?}"),
                (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn labels() {
        let table: Vec<(String, Option<ErrorCode>)> = vec![
            ("ข้าวและธัญพืช".into(), None),
            ("ถุง".into(), None),
            ("ห".repeat(50), None),
            ("ห".repeat(51), Some(ErrorCode::Length)),
            (String::new(), Some(ErrorCode::Length)),
            ("\t".into(), Some(ErrorCode::Length)),
            ("a\u{7}b".into(), Some(ErrorCode::Line)),
        ];
        for (text, want) in table {
            assert_eq!(
                Label::parse(&text).err().map(|e| e.code()),
                want,
                "{text:?}"
            );
        }
    }

    #[test]
    fn descriptions_and_addresses() {
        let table: Vec<(String, Option<ErrorCode>, Option<ErrorCode>)> = vec![
            (String::new(), None, None),
            ("ข้าว\nสองบรรทัด".into(), None, None),
            ("ที".repeat(250), None, None),
            ("ท".repeat(501), None, Some(ErrorCode::Length)),
            ("ก".repeat(2000), None, Some(ErrorCode::Length)),
            (
                "ก".repeat(2001),
                Some(ErrorCode::Length),
                Some(ErrorCode::Length),
            ),
        ];
        for (text, description, address) in table {
            assert_eq!(
                Description::parse(&text).err().map(|e| e.code()),
                description,
                "{text:?}"
            );
            assert_eq!(
                Address::parse(&text).err().map(|e| e.code()),
                address,
                "{text:?}"
            );
        }
        assert_eq!(
            Description::parse("  ")
                .ok()
                .and_then(Description::non_empty),
            None
        );
        assert_eq!(
            Description::parse(" ข้าว ")
                .ok()
                .and_then(Description::non_empty)
                .map(String::from),
            Some("ข้าว".to_owned())
        );
    }
}
