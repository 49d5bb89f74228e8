//! What reads of `/v1/products` and `/v1/warehouses` answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A product as readers see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductView {
    /// SKU, the product's id.
    pub sku: String,
    /// Name in Thai.
    pub name_th: String,
    /// Name in English.
    pub name_en: String,
    /// Description.
    pub description: Option<String>,
    /// Category.
    pub category: String,
    /// Unit of stock (piece, box, kg, …).
    pub unit: String,
    /// EAN-13 barcodes.
    pub barcodes: Vec<String>,
    /// Price in baht with two decimals (`"125.50"`).
    #[schema(example = "125.50")]
    pub price: String,
    /// Price in satang (`12550`).
    pub price_satang: i64,
    /// Cost in baht with two decimals.
    #[schema(example = "80.00")]
    pub cost: String,
    /// Cost in satang.
    pub cost_satang: i64,
    /// Default minimum available stock per warehouse.
    pub min_stock: i64,
    /// `active` or `discontinued`.
    pub status: String,
    /// Version, incremented by every change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A page of products.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductPage {
    /// The products, by SKU.
    pub items: Vec<ProductView>,
    /// Pass as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

/// A warehouse as readers see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WarehouseView {
    /// Code, the warehouse's id: 2-16 of A-Z 0-9 - _ (`BKK1`).
    pub code: String,
    /// Name in Thai.
    pub name_th: String,
    /// Name in English.
    pub name_en: String,
    /// Address.
    pub address: String,
    /// False: no stock moves in or out.
    pub active: bool,
    /// Version, incremented by every change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A page of warehouses.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WarehousePage {
    /// The warehouses, by code.
    pub items: Vec<WarehouseView>,
    /// Pass as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

/// Satang as baht text with two decimals; tolerates what the processor
/// never stores (a negative amount) instead of failing the read.
pub(super) fn baht_text(satang: i64) -> String {
    let sign = if satang < 0 { "-" } else { "" };
    let abs = satang.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_amounts_still_read() {
        assert_eq!(baht_text(12_550), "125.50");
        assert_eq!(baht_text(-5), "-0.05");
    }
}
