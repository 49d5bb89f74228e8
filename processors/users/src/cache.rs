//! The Redis copy of users for the ingress's hot lookups.
//!
//! Keys (with a configurable prefix, `khlang:` by default):
//! - `user:{id}` — hash of email, username, display_name, role, active, version;
//! - `user-by-email:{lowercased email}` → id;
//! - `user-by-username:{lowercased username}` → id.
//!
//! Writes are guarded by the user's version (a Lua script), so an older
//! state never overwrites a newer one. PostgreSQL stays the truth: the copy
//! is rebuilt at every start and refreshed after every commit.

use std::collections::HashMap;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{User, UserStore};

const WRITE_USER: &str = r"
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current >= tonumber(ARGV[1]) then return 0 end
local old_email = redis.call('HGET', KEYS[1], 'email_lower')
if old_email and old_email ~= ARGV[3] then redis.call('DEL', ARGV[9] .. 'user-by-email:' .. old_email) end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'email', ARGV[2], 'email_lower', ARGV[3],
  'username', ARGV[4], 'display_name', ARGV[5], 'role', ARGV[6], 'active', ARGV[7])
redis.call('SET', ARGV[9] .. 'user-by-email:' .. ARGV[3], ARGV[8])
redis.call('SET', ARGV[9] .. 'user-by-username:' .. string.lower(ARGV[4]), ARGV[8])
return 1
";

/// Errors of the Redis copy.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Redis failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Reading the truth from PostgreSQL failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Writes and reads the Redis copy of users.
#[derive(Clone)]
pub struct UserCache {
    conn: ConnectionManager,
    prefix: String,
    script: redis::Script,
}

impl UserCache {
    /// Connects to Redis at `url`, keys prefixed with `prefix`.
    ///
    /// # Errors
    /// When Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, CacheError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            script: redis::Script::new(WRITE_USER),
        })
    }

    async fn write(&self, user: &User) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let key = format!("{}user:{}", self.prefix, user.user_id);
        let _: i64 = self
            .script
            .key(key)
            .arg(user.version)
            .arg(&user.email)
            .arg(user.email.to_lowercase())
            .arg(&user.username)
            .arg(&user.display_name)
            .arg(&user.role)
            .arg(if user.active { "1" } else { "0" })
            .arg(user.user_id.to_string())
            .arg(&self.prefix)
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }

    /// Copies the current state of `ids` from PostgreSQL.
    ///
    /// # Errors
    /// Redis or database errors.
    pub async fn refresh(&self, pool: &PgPool, ids: &[Uuid]) -> Result<(), CacheError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = pool.acquire().await?;
        for id in ids {
            if let Some(user) = UserStore::get(&mut conn, *id).await? {
                self.write(&user).await?;
            }
        }
        Ok(())
    }

    /// Copies every user from PostgreSQL; returns how many.
    ///
    /// # Errors
    /// Redis or database errors.
    pub async fn rebuild(&self, pool: &PgPool) -> Result<usize, CacheError> {
        let users = UserStore::all(pool).await?;
        for user in &users {
            self.write(user).await?;
        }
        Ok(users.len())
    }

    /// The cached fields of one user (empty when absent).
    ///
    /// # Errors
    /// Redis errors.
    pub async fn get(&self, id: Uuid) -> Result<HashMap<String, String>, CacheError> {
        let mut conn = self.conn.clone();
        Ok(conn.hgetall(format!("{}user:{id}", self.prefix)).await?)
    }

    /// The id cached for an email (any case).
    ///
    /// # Errors
    /// Redis errors.
    pub async fn id_by_email(&self, email: &str) -> Result<Option<String>, CacheError> {
        let mut conn = self.conn.clone();
        Ok(conn
            .get(format!(
                "{}user-by-email:{}",
                self.prefix,
                email.to_lowercase()
            ))
            .await?)
    }
}
