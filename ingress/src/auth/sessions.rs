//! Sessions and refresh tokens (PostgreSQL, schema `ingress`), and the
//! revocation marks in Redis that every request checks.
//!
//! A refresh token is `{token_id}.{secret}`; only SHA-256 of the secret is
//! stored. Each refresh uses the token and issues the next one of the same
//! family. Presenting a used token means it was stolen or replayed: the
//! whole family (the session) is revoked.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use redis::aio::ConnectionManager;
use redis::AsyncCommands as _;
use sha2::{Digest as _, Sha256};
use sqlx::{PgPool, Row as _};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::error::{ApiError, Code};

/// The longest refresh token accepted: an issued one is a UUID, a dot and
/// 43 characters of base64; anything longer is not one of ours.
pub const MAX_REFRESH_TOKEN_LEN: usize = 512;

/// A refresh token as handed to the client, and its id.
#[derive(Debug, Clone)]
pub struct IssuedRefresh {
    /// The opaque token.
    pub token: String,
    /// Lifetime, seconds.
    pub expires_in: i64,
}

/// The result of using a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    /// The session.
    pub session_id: Uuid,
    /// The account.
    pub user_id: Uuid,
}

/// Sessions, refresh tokens and revocation marks.
#[derive(Clone)]
pub struct Sessions {
    pool: PgPool,
    redis: ConnectionManager,
    prefix: String,
    refresh_ttl_secs: i64,
    /// How long a revocation mark must outlive the access tokens it kills.
    access_ttl_secs: u64,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

impl Sessions {
    /// Sessions in `pool`, revocation marks in `redis` under `prefix`.
    #[must_use]
    pub fn new(
        pool: PgPool,
        redis: ConnectionManager,
        prefix: &str,
        refresh_ttl_secs: u64,
        access_ttl_secs: u64,
    ) -> Self {
        Self {
            pool,
            redis,
            prefix: prefix.to_owned(),
            refresh_ttl_secs: i64::try_from(refresh_ttl_secs).unwrap_or(14 * 24 * 3600),
            access_ttl_secs,
        }
    }

    fn revoked_key(&self, session_id: Uuid) -> String {
        format!("{}session-revoked:{session_id}", self.prefix)
    }

    fn user_key(&self, user_id: Uuid) -> String {
        format!("{}user:{user_id}", self.prefix)
    }

    async fn insert_token(
        &self,
        conn: &mut sqlx::PgConnection,
        session_id: Uuid,
    ) -> Result<IssuedRefresh, sqlx::Error> {
        let token_id = Uuid::now_v7();
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        sqlx::query(include_str!("../queries/insert_refresh_token.sql"))
            .bind(token_id)
            .bind(session_id)
            .bind(secret_hash(&secret))
            .bind(self.refresh_ttl_secs as f64)
            .execute(conn)
            .await?;
        Ok(IssuedRefresh {
            token: format!("{token_id}.{secret}"),
            expires_in: self.refresh_ttl_secs,
        })
    }

    /// Starts a session for `user_id` with its first refresh token.
    ///
    /// # Errors
    /// Database errors.
    pub async fn start(&self, user_id: Uuid) -> Result<(Uuid, IssuedRefresh), ApiError> {
        let session_id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO ingress.sessions (session_id, user_id) VALUES ($1, $2)")
            .bind(session_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let refresh = self.insert_token(&mut tx, session_id).await?;
        tx.commit().await?;
        Ok((session_id, refresh))
    }

    /// Uses `token` and issues the next of its family.
    ///
    /// # Errors
    /// `refresh_token_invalid` for unknown, expired or revoked tokens;
    /// `refresh_token_reused` for a token used before (the session is
    /// revoked as a result).
    pub async fn rotate(&self, token: &str) -> Result<(Refreshed, IssuedRefresh), ApiError> {
        let invalid = || ApiError::new(Code::RefreshTokenInvalid, "refresh token is not valid");
        if token.is_empty() || token.len() > MAX_REFRESH_TOKEN_LEN {
            return Err(invalid());
        }
        let (id, secret) = token.split_once('.').ok_or_else(invalid)?;
        let token_id = Uuid::parse_str(id).map_err(|_| invalid())?;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(include_str!("../queries/lock_refresh_token.sql"))
            .bind(token_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(invalid)?;
        let stored: Vec<u8> = row.try_get("secret_hash")?;
        if !bool::from(stored.ct_eq(&secret_hash(secret))) {
            return Err(invalid());
        }
        let session_id: Uuid = row.try_get("session_id")?;
        let user_id: Uuid = row.try_get("user_id")?;
        let used: bool = row.try_get("used")?;
        let expired: bool = row.try_get("expired")?;
        let revoked: bool = row.try_get("revoked")?;
        if revoked || expired {
            return Err(invalid());
        }
        if used {
            drop(tx);
            self.revoke(session_id, "refresh token reused").await?;
            tracing::warn!(%session_id, %user_id, "refresh token reused: session revoked");
            return Err(ApiError::new(
                Code::RefreshTokenReused,
                "refresh token was already used; the session is revoked, sign in again",
            ));
        }
        sqlx::query("UPDATE ingress.refresh_tokens SET used_at = now() WHERE token_id = $1")
            .bind(token_id)
            .execute(&mut *tx)
            .await?;
        let next = self.insert_token(&mut tx, session_id).await?;
        tx.commit().await?;
        Ok((
            Refreshed {
                session_id,
                user_id,
            },
            next,
        ))
    }

    /// Revokes a session: its refresh tokens and its access tokens.
    ///
    /// # Errors
    /// Database or Redis errors.
    pub async fn revoke(&self, session_id: Uuid, why: &str) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE ingress.sessions SET revoked_at = coalesce(revoked_at, now()), \
             revoked_why = coalesce(revoked_why, $2) WHERE session_id = $1",
        )
        .bind(session_id)
        .bind(why)
        .execute(&self.pool)
        .await?;
        let mut redis = self.redis.clone();
        let ttl = self.access_ttl_secs + 60;
        let () = redis.set_ex(self.revoked_key(session_id), why, ttl).await?;
        Ok(())
    }

    /// Checks on every request that the session is not revoked and the
    /// account is still active, in one round trip to Redis.
    ///
    /// # Errors
    /// `session_revoked`, `account_inactive`, or `service_unavailable`
    /// when Redis cannot answer (failing closed).
    pub async fn check(&self, session_id: Uuid, user_id: Uuid) -> Result<(), ApiError> {
        let mut redis = self.redis.clone();
        let (revoked, active): (Option<String>, Option<String>) = redis::pipe()
            .get(self.revoked_key(session_id))
            .hget(self.user_key(user_id), "active")
            .query_async(&mut redis)
            .await?;
        if revoked.is_some() {
            return Err(ApiError::new(Code::SessionRevoked, "the session was ended"));
        }
        if active.as_deref() == Some("0") {
            return Err(ApiError::new(
                Code::AccountInactive,
                "the account is deactivated",
            ));
        }
        Ok(())
    }
}
