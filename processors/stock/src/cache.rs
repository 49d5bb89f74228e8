//! The Redis copy of stock levels for hot reads: `{prefix}stock:{sku}@{warehouse}`
//! is a hash of on_hand, reserved, available, in_transit and version.
//! Writes are guarded by the version (a Lua script), so an older state
//! never overwrites a newer one. PostgreSQL stays the truth; the copy is
//! rebuilt at every start.

use redis::aio::ConnectionManager;
use sqlx::PgPool;

use crate::processor::Changed;

const WRITE_LEVELS: &str = r"
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '-1')
if current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'on_hand', ARGV[2], 'reserved', ARGV[3],
  'available', ARGV[4], 'in_transit', ARGV[5])
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

/// Writes the Redis copy of levels.
#[derive(Clone)]
pub struct StockCache {
    conn: ConnectionManager,
    prefix: String,
    script: redis::Script,
}

impl StockCache {
    /// Connects to Redis at `url`, keys prefixed with `prefix`.
    ///
    /// # Errors
    /// When Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, CacheError> {
        let client = redis::Client::open(url)?;
        let mut conn = ConnectionManager::new(client).await?;
        let script = redis::Script::new(WRITE_LEVELS);
        let _: String = script.prepare_invoke().load_async(&mut conn).await?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            script,
        })
    }

    /// The key of an item.
    #[must_use]
    pub fn key(&self, sku: &str, warehouse: &str) -> String {
        format!("{}stock:{sku}@{warehouse}", self.prefix)
    }

    /// Writes the levels of changed items (one round trip per batch).
    ///
    /// # Errors
    /// Redis errors.
    pub async fn write(&self, changed: &[Changed]) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        for c in changed {
            // EVALSHA keeps the script text off the wire; it is loaded at
            // connect time
            pipe.cmd("EVALSHA")
                .arg(self.script.get_hash())
                .arg(1)
                .arg(self.key(&c.sku, &c.warehouse))
                .arg(c.version)
                .arg(c.levels.on_hand)
                .arg(c.levels.reserved)
                .arg(c.levels.available)
                .arg(c.levels.in_transit)
                .ignore();
        }
        let () = pipe.query_async(&mut conn).await?;
        Ok(())
    }

    /// Copies every item from PostgreSQL; returns how many.
    ///
    /// # Errors
    /// Database or Redis errors.
    pub async fn rebuild(&self, pool: &PgPool) -> Result<usize, CacheError> {
        let changed: Vec<Changed> = crate::store::all_items(pool)
            .await?
            .into_iter()
            .map(|(sku, warehouse, item, version)| Changed {
                sku,
                warehouse,
                levels: item.levels(),
                version,
            })
            .collect();
        for chunk in changed.chunks(500) {
            self.write(chunk).await?;
        }
        Ok(changed.len())
    }
}
