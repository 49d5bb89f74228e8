//! Access tokens: short-lived EdDSA JWTs (`typ: at+jwt`, RFC 9068 style).
//!
//! Verification pins the algorithm to EdDSA before looking at anything
//! else, requires a known `kid`, the `at+jwt` type, our `iss` and `aud`, and
//! checks `exp` and `nbf`. A token that fails any check is `invalid_token`;
//! the reason is logged and counted, never told to the client.
//!
//! A token that passed every check is remembered (by the SHA-256 of its
//! exact bytes) until its `exp`, so the same token on the next request costs
//! a hash and a lookup instead of a signature verification. Any other byte
//! string, a tampered copy included, hashes differently and is verified in
//! full. Revocation is not affected: sessions are checked on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, Header, Validation};
use khlang_contract::{ActorKind, Role};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::keys::KeySet;
use crate::scopes::Scope;

/// The `typ` header of access tokens.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The account id.
    pub sub: String,
    /// The session (refresh-token family) this token belongs to.
    pub sid: String,
    /// Role name.
    pub role: String,
    /// `user`, `service` or `device`.
    pub act: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Token id.
    pub jti: String,
}

/// Why a token was refused (logged and counted, not shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Not three base64 parts, or bad JSON.
    Malformed,
    /// Not EdDSA.
    Algorithm,
    /// Not `at+jwt`.
    Type,
    /// No `kid`, or one we do not have.
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// Past `exp`.
    Expired,
    /// Before `nbf`.
    NotYetValid,
    /// Wrong `iss` or `aud`, or a claim is missing or invalid.
    Claims,
}

impl TokenRejection {
    /// Label for the auth-failure metric.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Algorithm => "algorithm",
            Self::Type => "type",
            Self::UnknownKey => "unknown_key",
            Self::Signature => "signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Claims => "claims",
        }
    }
}

/// Who an access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Account id.
    pub user_id: Uuid,
    /// Session id.
    pub session_id: Uuid,
    /// Role.
    pub role: Role,
    /// User, service or device.
    pub kind: ActorKind,
    /// What the token may do.
    pub scopes: Vec<Scope>,
}

impl Principal {
    /// The actor for command envelopes.
    #[must_use]
    pub fn actor(&self) -> khlang_contract::Actor {
        khlang_contract::Actor {
            id: self.user_id.to_string(),
            kind: self.kind,
            role: self.role.as_str().to_owned(),
        }
    }

    /// Whether the token holds `scope`.
    #[must_use]
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// The actor kind of a role.
#[must_use]
pub fn kind_of(role: Role) -> ActorKind {
    match role {
        Role::Service => ActorKind::Service,
        Role::Device => ActorKind::Device,
        _ => ActorKind::User,
    }
}

/// The wire name of an actor kind.
#[must_use]
pub fn kind_label(kind: ActorKind) -> &'static str {
    match kind {
        ActorKind::User => "user",
        ActorKind::Service => "service",
        ActorKind::Device => "device",
        ActorKind::System => "system",
    }
}

/// How many verified tokens are remembered before the memory is cleared.
const VERIFIED_CAPACITY: usize = 10_000;

/// Tokens that passed verification: SHA-256 of the token → who it speaks
/// for and until when.
type Verified = Mutex<HashMap<[u8; 32], (Principal, i64)>>;

/// Issues and verifies access tokens.
#[derive(Clone)]
pub struct Tokens {
    keys: Arc<KeySet>,
    issuer: String,
    audience: String,
    ttl_secs: i64,
    verified: Arc<Verified>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("keys", &self.keys)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Tokens signed with `keys`.
    #[must_use]
    pub fn new(keys: Arc<KeySet>, issuer: &str, audience: &str, ttl_secs: u64) -> Self {
        Self {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(900),
            verified: Arc::default(),
        }
    }

    /// The key set (for the JWKS endpoint).
    #[must_use]
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Access-token lifetime, seconds.
    #[must_use]
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Claims for a new token for `principal`, valid from now.
    #[must_use]
    pub fn claims_for(&self, principal: &Principal) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: principal.user_id.to_string(),
            sid: principal.session_id.to_string(),
            role: principal.role.as_str().to_owned(),
            act: kind_label(principal.kind).to_owned(),
            scope: principal
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            exp: now + self.ttl_secs,
            nbf: now,
            iat: now,
            jti: Uuid::now_v7().to_string(),
        }
    }

    /// Signs `claims` with the active key.
    ///
    /// # Errors
    /// When signing fails (it does not with a valid key).
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.keys.active_kid().to_owned());
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        jsonwebtoken::encode(&header, claims, self.keys.encoding())
    }

    /// Verifies a token and returns who it speaks for.
    ///
    /// # Errors
    /// The [`TokenRejection`] of the first check that failed.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenRejection> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        if let Ok(verified) = self.verified.lock() {
            if let Some((principal, exp)) = verified.get(&digest) {
                if now < *exp {
                    return Ok(principal.clone());
                }
            }
        }
        let (principal, exp) = self.verify_in_full(token)?;
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= VERIFIED_CAPACITY {
                verified.retain(|_, (_, exp)| now < *exp);
                if verified.len() >= VERIFIED_CAPACITY {
                    verified.clear();
                }
            }
            verified.insert(digest, (principal.clone(), exp));
        }
        Ok(principal)
    }

    /// Every check, and the token's `exp`.
    fn verify_in_full(&self, token: &str) -> Result<(Principal, i64), TokenRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenRejection::Algorithm);
        }
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenRejection::Type);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.decoding(kid))
            .ok_or(TokenRejection::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenRejection::Expired,
                ErrorKind::ImmatureSignature => TokenRejection::NotYetValid,
                ErrorKind::InvalidSignature => TokenRejection::Signature,
                ErrorKind::InvalidAlgorithm => TokenRejection::Algorithm,
                ErrorKind::InvalidToken
                | ErrorKind::Base64(_)
                | ErrorKind::Json(_)
                | ErrorKind::Utf8(_) => TokenRejection::Malformed,
                _ => TokenRejection::Claims,
            }
        })?;
        let claims = data.claims;
        let parse = |s: &str| Uuid::parse_str(s).map_err(|_| TokenRejection::Claims);
        let role: Role = claims.role.parse().map_err(|_| TokenRejection::Claims)?;
        let principal = Principal {
            user_id: parse(&claims.sub)?,
            session_id: parse(&claims.sid)?,
            role,
            kind: kind_of(role),
            scopes: claims
                .scope
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect(),
        };
        Ok((principal, claims.exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
            role: Role::Manager,
            kind: ActorKind::User,
            scopes: vec![Scope::UsersRead],
        }
    }

    fn tokens() -> Tokens {
        Tokens::new(Arc::new(KeySet::ephemeral()), "khlang", "khlang-api", 900)
    }

    #[test]
    fn a_signed_token_verifies_to_its_principal() {
        let tokens = tokens();
        let p = principal();
        let token = tokens.sign(&tokens.claims_for(&p)).expect("sign");
        assert_eq!(tokens.verify(&token), Ok(p));
    }

    #[test]
    fn a_remembered_token_still_refuses_a_tampered_copy() {
        let tokens = tokens();
        let p = principal();
        let token = tokens.sign(&tokens.claims_for(&p)).expect("sign");
        assert_eq!(tokens.verify(&token), Ok(p.clone()));
        // the second time comes from memory, with the same answer
        assert_eq!(tokens.verify(&token), Ok(p));
        let (rest, signature) = token.rsplit_once('.').expect("three parts");
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{rest}.{flipped}{}", &signature[1..]);
        assert!(tokens.verify(&tampered).is_err());
        let mut claims = tokens.claims_for(&principal());
        claims.role = "admin".into();
        let forged_payload = {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(&claims).expect("json"))
        };
        let mut parts = token.split('.');
        let header = parts.next().expect("header");
        let forged = format!("{header}.{forged_payload}.{signature}");
        assert!(tokens.verify(&forged).is_err());
    }

    #[test]
    fn an_expired_token_is_not_served_from_memory() {
        let tokens = tokens();
        let mut claims = tokens.claims_for(&principal());
        claims.exp = chrono::Utc::now().timestamp() - 60;
        claims.nbf -= 120;
        claims.iat -= 120;
        let token = tokens.sign(&claims).expect("sign");
        assert_eq!(tokens.verify(&token), Err(TokenRejection::Expired));
        assert!(tokens.verified.lock().expect("lock").is_empty());
    }

    #[test]
    fn a_token_from_another_key_set_is_refused() {
        let (a, b) = (tokens(), tokens());
        let token = a.sign(&a.claims_for(&principal())).expect("sign");
        assert_eq!(b.verify(&token), Err(TokenRejection::UnknownKey));
    }
}
