//! Signing keys: Ed25519, identified by `kid`, published as a JWK set.
//!
//! Keys live as PKCS#8 PEM files `<kid>.pem` in one directory. Every key in
//! it verifies tokens and is published at `/.well-known/jwks.json`; the most
//! recently modified one signs. Rotation without downtime: add a new file,
//! restart the instances one by one (each still accepts tokens signed with
//! the old key), and remove the old file after one access-token lifetime.

use std::collections::HashMap;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;

/// Problems loading keys; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The directory or a file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not an Ed25519 PKCS#8 PEM key.
    #[error("{path}: not an Ed25519 PKCS#8 PEM private key: {reason}")]
    Invalid {
        /// The path.
        path: String,
        /// The cause.
        reason: String,
    },
}

/// One public key as a JWK.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: &'static str,
    /// Always `Ed25519`.
    pub crv: &'static str,
    /// Key id, as in the token header.
    pub kid: String,
    /// The public key, base64url.
    pub x: String,
    /// Always `EdDSA`.
    pub alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// The JWK set served at `/.well-known/jwks.json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Jwks {
    /// Every key that verifies tokens.
    pub keys: Vec<Jwk>,
}

/// The keys of this instance.
pub struct KeySet {
    active_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    jwks: Jwks,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("active_kid", &self.active_kid)
            .field("kids", &self.decoding.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl KeySet {
    /// Keys from `(kid, key)` pairs; the last one signs.
    ///
    /// # Panics
    /// When `keys` is empty.
    #[must_use]
    pub fn from_keys(keys: Vec<(String, SigningKey)>) -> Self {
        let mut decoding = HashMap::new();
        let mut jwks = Vec::new();
        let mut active = None;
        for (kid, key) in keys {
            let x = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
            if let Ok(decoding_key) = DecodingKey::from_ed_components(&x) {
                decoding.insert(kid.clone(), decoding_key);
            }
            jwks.push(Jwk {
                kty: "OKP",
                crv: "Ed25519",
                kid: kid.clone(),
                x,
                alg: "EdDSA",
                use_: "sig",
            });
            active = Some((kid, key));
        }
        #[allow(clippy::expect_used)]
        let (active_kid, key) = active.expect("a key set needs at least one key");
        #[allow(clippy::expect_used)]
        let der = key
            .to_pkcs8_der()
            .expect("an Ed25519 key always encodes as PKCS#8");
        Self {
            active_kid,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding,
            jwks: Jwks { keys: jwks },
        }
    }

    /// One fresh key, kept in memory only (tests, throwaway instances).
    #[must_use]
    pub fn ephemeral() -> Self {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        Self::from_keys(vec![(format!("mem-{}", uuid::Uuid::now_v7()), key)])
    }

    /// Every `<kid>.pem` in `dir`, the most recently modified signing. An
    /// empty or missing directory gets one new key, written with mode 0600.
    ///
    /// # Errors
    /// When the directory cannot be read or written or a file is not a key.
    pub fn load_dir(dir: &Path) -> Result<Self, KeyError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| KeyError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("pem") {
                continue;
            }
            let Some(kid) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let key = SigningKey::from_pkcs8_pem(&text).map_err(|e| KeyError::Invalid {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let modified = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map_err(io(&path))?;
            found.push((modified, kid, key));
        }
        if found.is_empty() {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let kid = format!("k{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"));
            let path = dir.join(format!("{kid}.pem"));
            let pem = key
                .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .map_err(|e| KeyError::Invalid {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
            write_private(&path, pem.as_bytes()).map_err(io(&path))?;
            tracing::info!(kid, "signing key created");
            found.push((std::time::SystemTime::now(), kid, key));
        }
        found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        Ok(Self::from_keys(
            found.into_iter().map(|(_, kid, key)| (kid, key)).collect(),
        ))
    }

    /// The kid that signs new tokens.
    #[must_use]
    pub fn active_kid(&self) -> &str {
        &self.active_kid
    }

    /// The key that signs new tokens.
    #[must_use]
    pub fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The verifying key for `kid`.
    #[must_use]
    pub fn decoding(&self, kid: &str) -> Option<&DecodingKey> {
        self.decoding.get(kid)
    }

    /// The published key set.
    #[must_use]
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
