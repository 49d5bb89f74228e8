//! How khlang hashes passwords: argon2id with OWASP's parameters
//! (m = 19 MiB, t = 2, p = 1), the one place they are set. The ingress
//! (sign-up, password change, login), `khlangctl users create-admin` and
//! `khlang-seed-demo` all hash through here, so every stored hash has the same
//! cost. Commands carry only the PHC string
//! ([`khlang_contract::values::PasswordHash`]), never a password.
//!
//! Hashing takes tens of milliseconds of CPU: async callers run it on a
//! blocking thread (`spawn_blocking`).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub use argon2::password_hash::Error;

/// Memory cost, KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Iterations.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const LANES: u32 = 1;

/// The argon2id hasher with khlang's parameters.
#[must_use]
pub fn hasher() -> Argon2<'static> {
    // the constants are valid parameters; argon2's default is the same set
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None).unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` into an argon2id PHC string with a fresh salt.
/// Blocking: CPU-heavy.
///
/// # Errors
/// When hashing fails (it does not with these parameters and a fresh salt).
pub fn hash(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `phc`; false for a PHC string
/// that does not parse. Blocking: CPU-heavy.
#[must_use]
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use khlang_contract::values::PasswordHash as Phc;

    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters_and_verify() {
        let phc = hash("correct horse battery").expect("hashed");
        assert!(Phc::parse(&phc).is_ok(), "{phc}");
        assert!(phc.contains("$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("wrong horse battery", &phc));
        assert!(!verify("correct horse battery", "not a phc string"));
    }
}
