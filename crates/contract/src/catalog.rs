//! Catalog commands and events (`schemas/catalog/*.avsc`): products and
//! warehouses.

use serde::{Deserialize, Serialize};

use crate::Envelope;

/// The Kafka key / aggregate id of a warehouse.
#[must_use]
pub fn warehouse_key(code: &str) -> String {
    format!("warehouse:{code}")
}

/// A command for the catalog processor; exactly one payload is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogCommand {
    /// Envelope; `envelope.kind` names the payload.
    pub envelope: Envelope,
    /// SKU, or `warehouse:<code>` (see [`warehouse_key`]); the Kafka key.
    pub aggregate_id: String,
    /// `CreateProduct`.
    pub create_product: Option<CreateProduct>,
    /// `UpdateProduct`.
    pub update_product: Option<UpdateProduct>,
    /// `DiscontinueProduct`.
    pub discontinue_product: Option<DiscontinueProduct>,
    /// `UpsertWarehouse`.
    pub upsert_warehouse: Option<UpsertWarehouse>,
}

impl CatalogCommand {
    /// A command with only the envelope and aggregate id set.
    #[must_use]
    pub fn empty(envelope: Envelope, aggregate_id: String) -> Self {
        Self {
            envelope,
            aggregate_id,
            create_product: None,
            update_product: None,
            discontinue_product: None,
            upsert_warehouse: None,
        }
    }

    /// How many payloads are set (exactly one is valid).
    #[must_use]
    pub fn payloads(&self) -> usize {
        usize::from(self.create_product.is_some())
            + usize::from(self.update_product.is_some())
            + usize::from(self.discontinue_product.is_some())
            + usize::from(self.upsert_warehouse.is_some())
    }
}

/// A new product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateProduct {
    /// Stock keeping unit, the product's id.
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
    /// Price in satang.
    pub price_satang: i64,
    /// Cost in satang.
    pub cost_satang: i64,
    /// Default minimum available stock per warehouse.
    pub min_stock: i64,
}

/// Changes to a product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateProduct {
    /// Name in Thai.
    pub name_th: Option<String>,
    /// Name in English.
    pub name_en: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Unit.
    pub unit: Option<String>,
    /// Barcodes (replaces all).
    pub barcodes: Option<Vec<String>>,
    /// Price in satang.
    pub price_satang: Option<i64>,
    /// Cost in satang.
    pub cost_satang: Option<i64>,
    /// Default minimum.
    pub min_stock: Option<i64>,
}

/// Stop selling a product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscontinueProduct {
    /// Why.
    pub reason: Option<String>,
}

/// Create or change a warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertWarehouse {
    /// Code, the warehouse's id (e.g. `BKK1`).
    pub code: String,
    /// Name in Thai.
    pub name_th: String,
    /// Name in English.
    pub name_en: String,
    /// Address.
    pub address: String,
    /// False: no stock moves in or out.
    pub active: bool,
}

/// A product's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductState {
    /// SKU.
    pub sku: String,
    /// Name in Thai.
    pub name_th: String,
    /// Name in English.
    pub name_en: String,
    /// Description.
    pub description: Option<String>,
    /// Category.
    pub category: String,
    /// Unit.
    pub unit: String,
    /// EAN-13 barcodes.
    pub barcodes: Vec<String>,
    /// Price in satang.
    pub price_satang: i64,
    /// Cost in satang.
    pub cost_satang: i64,
    /// Default minimum.
    pub min_stock: i64,
    /// `active` or `discontinued`.
    pub status: String,
}

/// A warehouse's state.
pub type WarehouseState = UpsertWarehouse;

/// A fact about a product or warehouse, with the state after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEvent {
    /// Envelope (`ProductCreated`, `ProductUpdated`, `ProductDiscontinued`,
    /// `WarehouseUpserted`).
    pub envelope: Envelope,
    /// SKU or `warehouse:<code>`.
    pub aggregate_id: String,
    /// Version after this event.
    pub version: i64,
    /// Product state.
    pub product: Option<ProductState>,
    /// Warehouse state.
    pub warehouse: Option<WarehouseState>,
    /// Fields changed.
    pub changed: Vec<String>,
}

/// The current state of one catalog aggregate, as the compacted
/// `khlang.catalog.state` topic carries it (keyed like the commands):
/// exactly one of `product` and `warehouse` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogState {
    /// SKU or `warehouse:<code>`; equal to the record key.
    pub aggregate_id: String,
    /// The aggregate's version; grows with every change.
    pub version: i64,
    /// Product state.
    pub product: Option<ProductState>,
    /// Warehouse state.
    pub warehouse: Option<WarehouseState>,
}

/// Whether `code` is a valid EAN-13 (13 digits, check digit correct); the
/// rule is [`crate::values::Ean13::parse`].
#[must_use]
pub fn valid_ean13(code: &str) -> bool {
    crate::values::Ean13::parse(code).is_ok()
}
