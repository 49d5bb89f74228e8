//! The catalog read API: what other crates (the ingress, tests, the stock
//! read API until stock keeps its own copy of products) may read of the
//! `catalog` schema, as typed rows.
//!
//! The catalog processor is the only writer of its schema and the only
//! crate with SQL naming it. Every function takes any executor (a pool, a
//! connection or a transaction). Before the catalog processor (or
//! `khlangctl migrate`) has created the schema, they fail with an error for
//! which `khlang_runtime::schema::is_not_migrated` holds.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};

/// A product as others may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRecord {
    /// SKU, the id.
    pub sku: String,
    /// Name in Thai.
    pub name_th: String,
    /// Name in English.
    pub name_en: String,
    /// Description; `None` when there is none.
    pub description: Option<String>,
    /// Category.
    pub category: String,
    /// Unit of stock.
    pub unit: String,
    /// EAN-13 barcodes, in the order given.
    pub barcodes: Vec<String>,
    /// Price in satang.
    pub price_satang: i64,
    /// Cost in satang.
    pub cost_satang: i64,
    /// Default minimum available stock per warehouse.
    pub min_stock: i64,
    /// `active` or `discontinued` ([`crate::STATUS_ACTIVE`],
    /// [`crate::STATUS_DISCONTINUED`]).
    pub status: String,
    /// 1 at creation, incremented by every change.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Its last change.
    pub updated_at: DateTime<Utc>,
}

impl ProductRecord {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            sku: row.try_get("sku")?,
            name_th: row.try_get("name_th")?,
            name_en: row.try_get("name_en")?,
            description: row.try_get("description")?,
            category: row.try_get("category")?,
            unit: row.try_get("unit")?,
            barcodes: row.try_get("barcodes")?,
            price_satang: row.try_get("price_satang")?,
            cost_satang: row.try_get("cost_satang")?,
            min_stock: row.try_get("min_stock")?,
            status: row.try_get("status")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A warehouse as others may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarehouseRecord {
    /// Code, the id (e.g. `BKK1`).
    pub code: String,
    /// Name in Thai.
    pub name_th: String,
    /// Name in English.
    pub name_en: String,
    /// Address; may be empty.
    pub address: String,
    /// False: no stock moves in or out.
    pub active: bool,
    /// 1 at creation, incremented by every change.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Its last change.
    pub updated_at: DateTime<Utc>,
}

impl WarehouseRecord {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            code: row.try_get("code")?,
            name_th: row.try_get("name_th")?,
            name_en: row.try_get("name_en")?,
            address: row.try_get("address")?,
            active: row.try_get("active")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// Which products [`products`] lists; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Text contained in the SKU, a name or the description (taken
    /// literally: `%` and `_` match themselves).
    pub text: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only SKUs after this one (the last of the previous page).
    pub after: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// Which warehouses [`warehouses`] lists; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarehouseFilter {
    /// Only active (true) or inactive (false) warehouses.
    pub active: Option<bool>,
    /// Only codes after this one (the last of the previous page).
    pub after: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// One product.
///
/// # Errors
/// Database errors.
pub async fn product<'e>(
    db: impl PgExecutor<'e>,
    sku: &str,
) -> Result<Option<ProductRecord>, sqlx::Error> {
    let row = sqlx::query(include_str!("queries/read_product.sql"))
        .bind(sku)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(ProductRecord::from_row).transpose()
}

/// Products matching `filter`, by SKU.
///
/// # Errors
/// Database errors.
pub async fn products<'e>(
    db: impl PgExecutor<'e>,
    filter: &ProductFilter,
) -> Result<Vec<ProductRecord>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_products.sql"))
        .bind(
            filter
                .text
                .as_deref()
                .map(khlang_runtime::read::escape_like),
        )
        .bind(&filter.category)
        .bind(&filter.status)
        .bind(&filter.after)
        .bind(filter.limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(ProductRecord::from_row).collect()
}

/// The default minimum stock of those of `skus` that are products, as
/// `(sku, min_stock)`.
///
/// # Errors
/// Database errors.
pub async fn min_stocks<'e>(
    db: impl PgExecutor<'e>,
    skus: &[String],
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_min_stocks.sql"))
        .bind(skus)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("sku")?, row.try_get("min_stock")?)))
        .collect()
}

/// The SKU that owns `barcode`, if any.
///
/// # Errors
/// Database errors.
pub async fn barcode_owner<'e>(
    db: impl PgExecutor<'e>,
    barcode: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(include_str!("queries/read_barcode_owner.sql"))
        .bind(barcode)
        .fetch_optional(db)
        .await
}

/// One warehouse.
///
/// # Errors
/// Database errors.
pub async fn warehouse<'e>(
    db: impl PgExecutor<'e>,
    code: &str,
) -> Result<Option<WarehouseRecord>, sqlx::Error> {
    let row = sqlx::query(include_str!("queries/read_warehouse.sql"))
        .bind(code)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(WarehouseRecord::from_row).transpose()
}

/// Warehouses matching `filter`, by code.
///
/// # Errors
/// Database errors.
pub async fn warehouses<'e>(
    db: impl PgExecutor<'e>,
    filter: &WarehouseFilter,
) -> Result<Vec<WarehouseRecord>, sqlx::Error> {
    let rows = sqlx::query(include_str!("queries/read_warehouses.sql"))
        .bind(filter.active)
        .bind(&filter.after)
        .bind(filter.limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(WarehouseRecord::from_row).collect()
}
