//! The Redis copy of the catalog for the ingress's hot lookups.
//!
//! Keys (with a configurable prefix, `khlang:` by default):
//! - `product:{sku}` — hash of sku, name_th, name_en, description (empty
//!   when none), category, unit, barcodes (joined by `,`), price_satang,
//!   cost_satang, min_stock, status, version;
//! - `barcode:{ean13}` → sku;
//! - `warehouse:{code}` — hash of code, name_th, name_en, address, active
//!   (`1` or `0`), version.
//!
//! Writes are guarded by the aggregate's version (Lua scripts), so an older
//! state never overwrites a newer one. PostgreSQL stays the truth: the copy
//! is rebuilt at every start and refreshed after every commit.

use std::collections::HashMap;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use sqlx::PgPool;

use crate::processor::Changed;
use crate::store::{CatalogStore, Product, Warehouse};

/// KEYS[1] product hash; ARGV: version, prefix, sku, barcodes joined by ',',
/// then the other fields. Barcode keys the product no longer has are
/// deleted, but only while they still point to this product (another
/// product may have claimed the barcode since).
const WRITE_PRODUCT: &str = r"
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current >= tonumber(ARGV[1]) then return 0 end
local keep = {}
for code in string.gmatch(ARGV[4], '[^,]+') do keep[code] = true end
local old = redis.call('HGET', KEYS[1], 'barcodes')
if old then
  for code in string.gmatch(old, '[^,]+') do
    if not keep[code] then
      local key = ARGV[2] .. 'barcode:' .. code
      if redis.call('GET', key) == ARGV[3] then redis.call('DEL', key) end
    end
  end
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'sku', ARGV[3], 'barcodes', ARGV[4],
  'name_th', ARGV[5], 'name_en', ARGV[6], 'description', ARGV[7], 'category', ARGV[8],
  'unit', ARGV[9], 'price_satang', ARGV[10], 'cost_satang', ARGV[11],
  'min_stock', ARGV[12], 'status', ARGV[13])
for code in pairs(keep) do redis.call('SET', ARGV[2] .. 'barcode:' .. code, ARGV[3]) end
return 1
";

/// KEYS[1] warehouse hash; ARGV: version, code, name_th, name_en, address, active.
const WRITE_WAREHOUSE: &str = r"
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'code', ARGV[2], 'name_th', ARGV[3],
  'name_en', ARGV[4], 'address', ARGV[5], 'active', ARGV[6])
return 1
";

/// Writes per Redis round trip when rebuilding.
const PIPELINE: usize = 500;

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

/// Writes and reads the Redis copy of products, barcodes and warehouses.
#[derive(Clone)]
pub struct CatalogCache {
    conn: ConnectionManager,
    prefix: String,
    product_script: redis::Script,
    warehouse_script: redis::Script,
}

impl CatalogCache {
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
            product_script: redis::Script::new(WRITE_PRODUCT),
            warehouse_script: redis::Script::new(WRITE_WAREHOUSE),
        })
    }

    /// The key of a product's hash.
    #[must_use]
    pub fn product_key(&self, sku: &str) -> String {
        format!("{}product:{sku}", self.prefix)
    }

    /// The key holding the SKU of a barcode.
    #[must_use]
    pub fn barcode_key(&self, barcode: &str) -> String {
        format!("{}barcode:{barcode}", self.prefix)
    }

    /// The key of a warehouse's hash.
    #[must_use]
    pub fn warehouse_key(&self, code: &str) -> String {
        format!("{}warehouse:{code}", self.prefix)
    }

    fn add_product(&self, pipe: &mut redis::Pipeline, p: &Product) {
        pipe.invoke_script(
            self.product_script
                .key(self.product_key(&p.sku))
                .arg(p.version)
                .arg(&self.prefix)
                .arg(&p.sku)
                .arg(p.barcodes.join(","))
                .arg(&p.name_th)
                .arg(&p.name_en)
                .arg(p.description.as_deref().unwrap_or_default())
                .arg(&p.category)
                .arg(&p.unit)
                .arg(p.price_satang)
                .arg(p.cost_satang)
                .arg(p.min_stock)
                .arg(&p.status),
        )
        .ignore();
    }

    fn add_warehouse(&self, pipe: &mut redis::Pipeline, w: &Warehouse) {
        pipe.invoke_script(
            self.warehouse_script
                .key(self.warehouse_key(&w.code))
                .arg(w.version)
                .arg(&w.code)
                .arg(&w.name_th)
                .arg(&w.name_en)
                .arg(&w.address)
                .arg(if w.active { "1" } else { "0" }),
        )
        .ignore();
    }

    /// A pipeline that first makes sure both scripts are loaded (pipelined
    /// EVALSHA does not load them by itself).
    fn pipeline(&self) -> redis::Pipeline {
        let mut pipe = redis::pipe();
        pipe.load_script(&self.product_script)
            .ignore()
            .load_script(&self.warehouse_script)
            .ignore();
        pipe
    }

    async fn send(&self, pipe: &redis::Pipeline) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Copies the current state of `changed` from PostgreSQL.
    ///
    /// # Errors
    /// Redis or database errors.
    pub async fn refresh(&self, pool: &PgPool, changed: &[Changed]) -> Result<(), CacheError> {
        if changed.is_empty() {
            return Ok(());
        }
        let mut pipe = self.pipeline();
        {
            let mut conn = pool.acquire().await?;
            for item in changed {
                match item {
                    Changed::Product(sku) => {
                        if let Some(p) = CatalogStore::product(&mut conn, sku).await? {
                            self.add_product(&mut pipe, &p);
                        }
                    }
                    Changed::Warehouse(code) => {
                        if let Some(w) = CatalogStore::warehouse(&mut conn, code).await? {
                            self.add_warehouse(&mut pipe, &w);
                        }
                    }
                }
            }
        }
        self.send(&pipe).await
    }

    /// Copies every product and warehouse from PostgreSQL; returns how many
    /// products and how many warehouses.
    ///
    /// # Errors
    /// Redis or database errors.
    pub async fn rebuild(&self, pool: &PgPool) -> Result<(usize, usize), CacheError> {
        let products = CatalogStore::all_products(pool).await?;
        for chunk in products.chunks(PIPELINE) {
            let mut pipe = self.pipeline();
            for p in chunk {
                self.add_product(&mut pipe, p);
            }
            self.send(&pipe).await?;
        }
        let warehouses = CatalogStore::all_warehouses(pool).await?;
        for chunk in warehouses.chunks(PIPELINE) {
            let mut pipe = self.pipeline();
            for w in chunk {
                self.add_warehouse(&mut pipe, w);
            }
            self.send(&pipe).await?;
        }
        Ok((products.len(), warehouses.len()))
    }

    /// The cached fields of one product (empty when absent).
    ///
    /// # Errors
    /// Redis errors.
    pub async fn product(&self, sku: &str) -> Result<HashMap<String, String>, CacheError> {
        let mut conn = self.conn.clone();
        Ok(conn.hgetall(self.product_key(sku)).await?)
    }

    /// The SKU cached for a barcode.
    ///
    /// # Errors
    /// Redis errors.
    pub async fn sku_by_barcode(&self, barcode: &str) -> Result<Option<String>, CacheError> {
        let mut conn = self.conn.clone();
        Ok(conn.get(self.barcode_key(barcode)).await?)
    }

    /// The cached fields of one warehouse (empty when absent).
    ///
    /// # Errors
    /// Redis errors.
    pub async fn warehouse(&self, code: &str) -> Result<HashMap<String, String>, CacheError> {
        let mut conn = self.conn.clone();
        Ok(conn.hgetall(self.warehouse_key(code)).await?)
    }
}
