//! argon2id hashing and verification, off the async workers.
//!
//! Parameters are OWASP's (m = 19 MiB, t = 2, p = 1), set in one place:
//! [`khlang_users::password`]. Verifying an unknown
//! account still runs one verification against a fixed hash, so that the
//! time of an answer does not tell whether an account exists.

use std::sync::OnceLock;

use khlang_contract::values::Password;
use khlang_users::password as argon2id;

use crate::error::ApiError;

/// Shortest password accepted (the rule is [`Password`]).
pub const MIN_PASSWORD_LEN: usize = Password::MIN_CHARS;

fn hash_blocking(password: &str) -> Result<String, argon2id::Error> {
    argon2id::hash(password)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("khlang-timing-equaliser").unwrap_or_default())
}

/// Hashes `password` into an argon2id PHC string.
///
/// # Errors
/// `internal` when hashing fails or the worker is gone.
pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Whether `password` matches `phc` (or, with `None`, burns the same time
/// and answers false).
///
/// # Errors
/// `internal` when the worker is gone.
pub async fn verify(password: String, phc: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = argon2id::verify(&password, &phc);
        known && ok
    })
    .await
    .map_err(ApiError::internal)
}

/// Warms the fixed hash so the first unknown-account login is not faster.
pub fn warm_up() {
    let _ = dummy_hash();
}
