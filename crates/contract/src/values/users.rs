//! Account values: e-mail address, username, display name, password hash.

use super::{string_value, ErrorCode, ValueError};

/// Longest e-mail address, in characters (RFC 5321 path limit).
const EMAIL_MAX: usize = 254;
/// Longest local part (before the `@`).
const EMAIL_LOCAL_MAX: usize = 64;
/// Longest display name, in characters.
const DISPLAY_NAME_MAX: usize = 100;

/// An e-mail address, as written (uniqueness is case-insensitive, which the
/// users processor handles).
///
/// The rule is the HTML5 one (what browsers accept in `type=email`) with a
/// dot in the domain: a local part of 1–64 of `A-Z a-z 0-9` and
/// ``.!#$%&'*+/=?^_`{|}~-``, one `@`, then two or more labels of
/// `A-Z a-z 0-9 -` (1–63 each, no `-` at either end) separated by dots; at
/// most 254 characters in all. No quoted local parts, IP literals or
/// internationalised domains.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

fn email_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b)
}

fn domain_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

impl Email {
    /// The address `text` spells.
    ///
    /// # Errors
    /// [`ErrorCode::Length`] when longer than 254 characters,
    /// [`ErrorCode::Email`] when it is not an address.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if text.chars().count() > EMAIL_MAX {
            return Err(ValueError::new(
                ErrorCode::Length,
                format!("must be at most {EMAIL_MAX} characters"),
            ));
        }
        let ok = text.split_once('@').is_some_and(|(local, domain)| {
            (1..=EMAIL_LOCAL_MAX).contains(&local.len())
                && local.bytes().all(email_local_char)
                && domain.split('.').count() >= 2
                && domain.split('.').all(domain_label)
        });
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::new(
                ErrorCode::Email,
                "must be an email address",
            ))
        }
    }
}

string_value!(Email);

/// A username, what a person or machine signs in with: 3–32 of
/// `a-z 0-9 . _ -` (lower case only, so one account has one username).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// The username `text` spells.
    ///
    /// # Errors
    /// [`ErrorCode::Username`] when it is not 3–32 of `a-z 0-9 . _ -`.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let ok = (3..=32).contains(&text.len())
            && text.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::new(
                ErrorCode::Username,
                "must be 3-32 of a-z 0-9 . _ -",
            ))
        }
    }
}

string_value!(Username);

/// The name shown for an account: 1–100 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

impl DisplayName {
    /// The name, trimmed.
    ///
    /// # Errors
    /// [`ErrorCode::Length`] when blank or longer than 100 characters.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let trimmed = text.trim();
        if (1..=DISPLAY_NAME_MAX).contains(&trimmed.chars().count()) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(ValueError::new(
                ErrorCode::Length,
                format!("must be 1-{DISPLAY_NAME_MAX} characters"),
            ))
        }
    }
}

string_value!(DisplayName);

/// A password hash as commands carry it: an argon2id PHC string (the
/// ingress hashes, so a password never reaches Kafka).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// The hash `text` holds.
    ///
    /// # Errors
    /// [`ErrorCode::PasswordHash`] when it is not an argon2id PHC string.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if text.starts_with("$argon2id$") {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::new(
                ErrorCode::PasswordHash,
                "must be an argon2id hash",
            ))
        }
    }
}

/// Never prints the hash.
impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl PasswordHash {
    /// The PHC string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as a person types it: 12–256 characters (characters, not
/// bytes: a Thai password of 12 characters is long enough). It never leaves
/// the process that hashes it: no `Display`, no `Serialize`, and `Debug`
/// hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Fewest characters.
    pub const MIN_CHARS: usize = 12;
    /// Most characters.
    pub const MAX_CHARS: usize = 256;

    /// The password `text` is.
    ///
    /// # Errors
    /// [`ErrorCode::Length`] outside 12–256 characters.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&text.chars().count()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::new(
                ErrorCode::Length,
                format!("must be {}-{} characters", Self::MIN_CHARS, Self::MAX_CHARS),
            ))
        }
    }

    /// The password, for the hasher.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Never prints the password.
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let long_local = format!("{}@khlang.test", "a".repeat(65));
        let too_long = format!("{}@{}.th", "a".repeat(60), "b".repeat(200));
        let table: Vec<(&str, Option<ErrorCode>)> = vec![
            ("somchai@example.co.th", None),
            ("MALEE@example.co.th", None),
            ("a@b.th", None),
            ("first.last+tag@khlang.test", None),
            ("o'brien@mail-1.example.com", None),
            ("not-an-email", Some(ErrorCode::Email)),
            ("a@b@c.th", Some(ErrorCode::Email)),
            ("@khlang.test", Some(ErrorCode::Email)),
            ("someone@localhost", Some(ErrorCode::Email)),
            ("someone@.th", Some(ErrorCode::Email)),
            ("someone@khlang.", Some(ErrorCode::Email)),
            ("someone@-khlang.test", Some(ErrorCode::Email)),
            ("some one@khlang.test", Some(ErrorCode::Email)),
            ("สมชาย@khlang.test", Some(ErrorCode::Email)),
            ("someone@[127.0.0.1]", Some(ErrorCode::Email)),
            (&long_local, Some(ErrorCode::Email)),
            (&too_long, Some(ErrorCode::Length)),
            ("", Some(ErrorCode::Email)),
        ];
        for (text, want) in table {
            assert_eq!(Email::parse(text).err().map(|e| e.code()), want, "{text:?}");
        }
    }

    #[test]
    fn usernames() {
        let table: &[(&str, bool)] = &[
            ("somchai", true),
            ("scanner-01", true),
            ("a.b_c", true),
            ("abc", true),
            ("ab", false),
            ("Somchai", false),
            ("somchai!", false),
            ("สมชาย", false),
            ("a b c", false),
            ("abcdefghijklmnopqrstuvwxyz0123456", false),
        ];
        for (text, ok) in table {
            let got = Username::parse(text);
            assert_eq!(got.is_ok(), *ok, "{text:?}");
            if let Err(e) = got {
                assert_eq!(e.code(), ErrorCode::Username);
            }
        }
    }

    #[test]
    fn display_names() {
        let table: Vec<(String, bool)> = vec![
            ("สมชาย ใจดี".into(), true),
            ("ก".repeat(100), true),
            ("ก".repeat(101), false),
            ("  ".into(), false),
            (String::new(), false),
        ];
        for (text, ok) in table {
            let got = DisplayName::parse(&text);
            assert_eq!(got.is_ok(), ok, "{text:?}");
            if let Err(e) = got {
                assert_eq!(e.code(), ErrorCode::Length);
            }
        }
        assert_eq!(
            DisplayName::parse("  สมชาย  ").map(String::from),
            Ok("สมชาย".to_owned())
        );
    }

    #[test]
    fn passwords() {
        let table: Vec<(String, bool)> = vec![
            ("correct horse".into(), true),
            ("รหัสผ่านยาวพอ".into(), true),
            ("a".repeat(256), true),
            ("elevenchars".into(), false),
            ("a".repeat(257), false),
            (String::new(), false),
        ];
        for (text, ok) in table {
            let got = Password::parse(&text);
            assert_eq!(got.is_ok(), ok, "{text:?}");
            if let Err(e) = got {
                assert_eq!(e.code(), ErrorCode::Length);
            }
        }
        let secret = Password::parse("correct horse").expect("long enough");
        assert_eq!(format!("{secret:?}"), "Password(..)");
        assert_eq!(secret.expose(), "correct horse");
    }

    #[test]
    fn password_hashes() {
        let table: &[(&str, bool)] = &[
            ("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", true),
            ("$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", false),
            ("hunter2", false),
            ("", false),
        ];
        for (text, ok) in table {
            assert_eq!(PasswordHash::parse(text).is_ok(), *ok, "{text:?}");
        }
        let hash = PasswordHash::parse("$argon2id$secret").expect("a hash");
        assert_eq!(format!("{hash:?}"), "PasswordHash(..)");
    }
}
