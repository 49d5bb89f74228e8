//! SQL of the catalog store (`queries/*.sql`): `catalog.products`,
//! `catalog.product_barcodes` and `catalog.warehouses`.

use khlang_contract::catalog::{ProductState, WarehouseState};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

/// `catalog.products.status` of a product that is sold.
pub const STATUS_ACTIVE: &str = "active";
/// `catalog.products.status` of a product that is no longer sold.
pub const STATUS_DISCONTINUED: &str = "discontinued";

/// A product row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
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
    /// [`STATUS_ACTIVE`] or [`STATUS_DISCONTINUED`].
    pub status: String,
    /// 1 at creation, incremented by every change.
    pub version: i64,
}

impl Product {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            sku: row.try_get(0)?,
            name_th: row.try_get(1)?,
            name_en: row.try_get(2)?,
            description: row.try_get(3)?,
            category: row.try_get(4)?,
            unit: row.try_get(5)?,
            barcodes: row.try_get(6)?,
            price_satang: row.try_get(7)?,
            cost_satang: row.try_get(8)?,
            min_stock: row.try_get(9)?,
            status: row.try_get(10)?,
            version: row.try_get(11)?,
        })
    }

    /// Whether the product has been discontinued.
    #[must_use]
    pub fn is_discontinued(&self) -> bool {
        self.status == STATUS_DISCONTINUED
    }

    /// The state carried by product events.
    #[must_use]
    pub fn state(&self) -> ProductState {
        ProductState {
            sku: self.sku.clone(),
            name_th: self.name_th.clone(),
            name_en: self.name_en.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            unit: self.unit.clone(),
            barcodes: self.barcodes.clone(),
            price_satang: self.price_satang,
            cost_satang: self.cost_satang,
            min_stock: self.min_stock,
            status: self.status.clone(),
        }
    }
}

/// A warehouse row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
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
}

impl Warehouse {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            code: row.try_get(0)?,
            name_th: row.try_get(1)?,
            name_en: row.try_get(2)?,
            address: row.try_get(3)?,
            active: row.try_get(4)?,
            version: row.try_get(5)?,
        })
    }

    /// The state carried by warehouse events.
    #[must_use]
    pub fn state(&self) -> WarehouseState {
        WarehouseState {
            code: self.code.clone(),
            name_th: self.name_th.clone(),
            name_en: self.name_en.clone(),
            address: self.address.clone(),
            active: self.active,
        }
    }
}

/// Reads and writes the `catalog` schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogStore;

impl CatalogStore {
    /// One product.
    ///
    /// # Errors
    /// Database errors.
    pub async fn product(
        conn: &mut PgConnection,
        sku: &str,
    ) -> Result<Option<Product>, sqlx::Error> {
        let row = sqlx::query(include_str!("queries/get_product.sql"))
            .bind(sku)
            .fetch_optional(conn)
            .await?;
        row.as_ref().map(Product::from_row).transpose()
    }

    /// Every product, by SKU (for rebuilding the Redis copy and for tests).
    ///
    /// # Errors
    /// Database errors.
    pub async fn all_products<'e, E: sqlx::PgExecutor<'e>>(
        executor: E,
    ) -> Result<Vec<Product>, sqlx::Error> {
        let rows = sqlx::query(include_str!("queries/all_products.sql"))
            .fetch_all(executor)
            .await?;
        rows.iter().map(Product::from_row).collect()
    }

    /// One warehouse.
    ///
    /// # Errors
    /// Database errors.
    pub async fn warehouse(
        conn: &mut PgConnection,
        code: &str,
    ) -> Result<Option<Warehouse>, sqlx::Error> {
        let row = sqlx::query(include_str!("queries/get_warehouse.sql"))
            .bind(code)
            .fetch_optional(conn)
            .await?;
        row.as_ref().map(Warehouse::from_row).transpose()
    }

    /// Every warehouse, by code.
    ///
    /// # Errors
    /// Database errors.
    pub async fn all_warehouses<'e, E: sqlx::PgExecutor<'e>>(
        executor: E,
    ) -> Result<Vec<Warehouse>, sqlx::Error> {
        let rows = sqlx::query(include_str!("queries/all_warehouses.sql"))
            .fetch_all(executor)
            .await?;
        rows.iter().map(Warehouse::from_row).collect()
    }

    /// Inserts a new active product at version 1; false when the SKU exists.
    pub(crate) async fn insert_product(
        conn: &mut PgConnection,
        p: &Product,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(include_str!("queries/insert_product.sql"))
            .bind(&p.sku)
            .bind(&p.name_th)
            .bind(&p.name_en)
            .bind(&p.description)
            .bind(&p.category)
            .bind(&p.unit)
            .bind(&p.barcodes)
            .bind(p.price_satang)
            .bind(p.cost_satang)
            .bind(p.min_stock)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes every mutable field and bumps the version; returns the new version.
    pub(crate) async fn update_product(
        conn: &mut PgConnection,
        p: &Product,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query(include_str!("queries/update_product.sql"))
            .bind(&p.sku)
            .bind(&p.name_th)
            .bind(&p.name_en)
            .bind(&p.description)
            .bind(&p.category)
            .bind(&p.unit)
            .bind(&p.barcodes)
            .bind(p.price_satang)
            .bind(p.cost_satang)
            .bind(p.min_stock)
            .bind(&p.status)
            .fetch_one(conn)
            .await?
            .try_get(0)
    }

    /// Claims `barcodes` for `sku`; returns how many were claimed (fewer
    /// than asked when another product holds one of them).
    pub(crate) async fn claim_barcodes(
        conn: &mut PgConnection,
        sku: &str,
        barcodes: &[String],
    ) -> Result<u64, sqlx::Error> {
        if barcodes.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(include_str!("queries/claim_barcodes.sql"))
            .bind(sku)
            .bind(barcodes)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    }

    /// Releases `barcodes` held by `sku`.
    pub(crate) async fn release_barcodes(
        conn: &mut PgConnection,
        sku: &str,
        barcodes: &[String],
    ) -> Result<(), sqlx::Error> {
        if barcodes.is_empty() {
            return Ok(());
        }
        sqlx::query(include_str!("queries/release_barcodes.sql"))
            .bind(sku)
            .bind(barcodes)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Which of `barcodes` other products than `sku` hold: (barcode, sku).
    pub(crate) async fn barcode_owners(
        conn: &mut PgConnection,
        barcodes: &[String],
        sku: &str,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        let rows = sqlx::query(include_str!("queries/barcode_owners.sql"))
            .bind(barcodes)
            .bind(sku)
            .fetch_all(conn)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// Inserts a new warehouse at version 1; false when the code exists.
    pub(crate) async fn insert_warehouse(
        conn: &mut PgConnection,
        w: &Warehouse,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(include_str!("queries/insert_warehouse.sql"))
            .bind(&w.code)
            .bind(&w.name_th)
            .bind(&w.name_en)
            .bind(&w.address)
            .bind(w.active)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes every mutable field and bumps the version; returns the new version.
    pub(crate) async fn update_warehouse(
        conn: &mut PgConnection,
        w: &Warehouse,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query(include_str!("queries/update_warehouse.sql"))
            .bind(&w.code)
            .bind(&w.name_th)
            .bind(&w.name_en)
            .bind(&w.address)
            .bind(w.active)
            .fetch_one(conn)
            .await?
            .try_get(0)
    }
}
