//! Applying catalog commands: products keyed by SKU, warehouses keyed
//! `warehouse:<code>`.
//!
//! Every change emits two records through the outbox, in the transaction
//! that changes the state: the event on `khlang.catalog.events` (what
//! happened) and the aggregate's whole current state on the compacted
//! `khlang.catalog.state` (what is), which other domains join into tables
//! of their own. State that predates the state topic is published once by
//! [`backfill_state`].

use async_trait::async_trait;
use khlang_codec::Codec;
use khlang_contract::catalog::{
    warehouse_key, CatalogCommand, CatalogEvent, CatalogState, CreateProduct, UpdateProduct,
    UpsertWarehouse,
};
use khlang_contract::topics::{CATALOG_EVENT_SUBJECT, CATALOG_STATE_SUBJECT};
use khlang_contract::TopicName;
use khlang_runtime::backfill::begin_backfill;
use khlang_runtime::{ApplyContext, ApplyError, CommandInfo, Decision, Processor, RuntimeError};
use sqlx::{Connection, PgConnection, PgPool};

use crate::rules::{self, Broken};
use crate::store::{CatalogStore, Product, Warehouse, STATUS_ACTIVE, STATUS_DISCONTINUED};
use crate::{reasons, CatalogCache};

/// An aggregate whose state changed in a committed batch; the Redis copy of
/// it is refreshed after the commit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Changed {
    /// A product, by SKU.
    Product(String),
    /// A warehouse, by code.
    Warehouse(String),
}

/// The catalog processor. Its effects are the aggregates whose state changed.
pub struct CatalogProcessor {
    pool: PgPool,
    cache: Option<CatalogCache>,
    events: TopicName,
    state: TopicName,
}

impl CatalogProcessor {
    /// A processor writing through `pool`, emitting events on `events` and
    /// current state on `state`, and refreshing `cache` after commits.
    #[must_use]
    pub fn new(
        pool: PgPool,
        cache: Option<CatalogCache>,
        events: TopicName,
        state: TopicName,
    ) -> Self {
        Self {
            pool,
            cache,
            events,
            state,
        }
    }
}

/// The name of the backfill that put the catalog's state from before the
/// state topic onto it.
pub const STATE_BACKFILL: &str = "catalog-state-v1";

/// Publishes the current state of every product and warehouse on `state`
/// once, through the outbox of `relay` (the catalog processor's relay):
/// state that existed before the catalog published its state topic. Runs
/// exactly once per database, however many instances start; returns how
/// many records it published (0 when it ran before).
///
/// # Errors
/// Database errors, or a record that cannot be encoded.
pub async fn backfill_state(
    pool: &PgPool,
    codec: &Codec,
    state: TopicName,
    relay: &str,
) -> Result<u64, RuntimeError> {
    let Some(mut backfill) = begin_backfill(pool, STATE_BACKFILL, relay, codec).await? else {
        return Ok(0);
    };
    let products = CatalogStore::all_products(&mut *backfill.tx()).await?;
    let warehouses = CatalogStore::all_warehouses(&mut *backfill.tx()).await?;
    for product in &products {
        let record = product_state(product);
        backfill
            .emit(state, CATALOG_STATE_SUBJECT, &record.aggregate_id, &record)
            .await
            .map_err(|e| RuntimeError::Worker(e.to_string()))?;
    }
    for warehouse in &warehouses {
        let record = warehouse_state(warehouse);
        backfill
            .emit(state, CATALOG_STATE_SUBJECT, &record.aggregate_id, &record)
            .await
            .map_err(|e| RuntimeError::Worker(e.to_string()))?;
    }
    backfill.commit().await
}

fn product_state(product: &Product) -> CatalogState {
    CatalogState {
        aggregate_id: product.sku.clone(),
        version: product.version,
        product: Some(product.state()),
        warehouse: None,
    }
}

fn warehouse_state(warehouse: &Warehouse) -> CatalogState {
    CatalogState {
        aggregate_id: warehouse_key(&warehouse.code),
        version: warehouse.version,
        product: None,
        warehouse: Some(warehouse.state()),
    }
}

type Applied = (Decision, Option<Changed>);

fn rejected(code: &'static str, message: impl Into<String>) -> Result<Applied, ApplyError> {
    Ok((Decision::rejected(code, message), None))
}

fn broken((code, message): Broken) -> Result<Applied, ApplyError> {
    rejected(code, message)
}

/// The fields of a product, in the order events list them as changed.
const PRODUCT_FIELDS: [&str; 10] = [
    "name_th",
    "name_en",
    "description",
    "category",
    "unit",
    "barcodes",
    "price_satang",
    "cost_satang",
    "min_stock",
    "status",
];

const WAREHOUSE_FIELDS: [&str; 4] = ["name_th", "name_en", "address", "active"];

/// Applies `u` to `p`; returns the names of the fields that changed.
fn apply_update(p: &mut Product, u: &UpdateProduct) -> Vec<&'static str> {
    fn set<T: PartialEq>(field: &mut T, value: Option<T>) -> bool {
        match value {
            Some(value) if *field != value => {
                *field = value;
                true
            }
            _ => false,
        }
    }
    let trimmed = |s: &Option<String>| s.as_deref().map(|s| s.trim().to_owned());
    let changes = [
        set(&mut p.name_th, trimmed(&u.name_th)),
        set(&mut p.name_en, trimmed(&u.name_en)),
        set(
            &mut p.description,
            u.description
                .as_deref()
                .map(|d| rules::normalize_description(Some(d))),
        ),
        set(&mut p.category, trimmed(&u.category)),
        set(&mut p.unit, trimmed(&u.unit)),
        set(&mut p.barcodes, u.barcodes.clone()),
        set(&mut p.price_satang, u.price_satang),
        set(&mut p.cost_satang, u.cost_satang),
        set(&mut p.min_stock, u.min_stock),
    ];
    PRODUCT_FIELDS
        .iter()
        .zip(changes)
        .filter_map(|(name, changed)| changed.then_some(*name))
        .collect()
}

/// The fields of `new` that differ from `old`.
fn warehouse_changes(old: &Warehouse, new: &Warehouse) -> Vec<&'static str> {
    let changes = [
        old.name_th != new.name_th,
        old.name_en != new.name_en,
        old.address != new.address,
        old.active != new.active,
    ];
    WAREHOUSE_FIELDS
        .iter()
        .zip(changes)
        .filter_map(|(name, changed)| changed.then_some(*name))
        .collect()
}

/// Why claiming barcodes failed: the first barcode another product holds.
async fn taken_barcode(
    conn: &mut PgConnection,
    barcodes: &[String],
    sku: &str,
) -> Result<Applied, ApplyError> {
    match CatalogStore::barcode_owners(conn, barcodes, sku)
        .await?
        .first()
    {
        Some((barcode, owner)) => rejected(
            reasons::BARCODE_TAKEN,
            format!("barcode {barcode} belongs to product {owner}"),
        ),
        // The conflicting claim was released after all: try again.
        None => Err(ApplyError::Transient("barcode conflict vanished".into())),
    }
}

async fn emit_product(
    ctx: &mut ApplyContext<'_>,
    (topic, state): (TopicName, TopicName),
    command: &CatalogCommand,
    kind: &str,
    product: &Product,
    changed: &[&str],
) -> Result<(), ApplyError> {
    let event = CatalogEvent {
        envelope: command.envelope.caused(kind, "catalog"),
        aggregate_id: product.sku.clone(),
        version: product.version,
        product: Some(product.state()),
        warehouse: None,
        changed: changed.iter().map(|c| (*c).to_owned()).collect(),
    };
    ctx.emit(topic, CATALOG_EVENT_SUBJECT, &event.aggregate_id, &event)
        .await?;
    let record = product_state(product);
    ctx.emit(state, CATALOG_STATE_SUBJECT, &record.aggregate_id, &record)
        .await
}

impl CatalogProcessor {
    async fn create(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &CatalogCommand,
        c: &CreateProduct,
    ) -> Result<Applied, ApplyError> {
        if c.sku != command.aggregate_id {
            return rejected(
                reasons::INVALID_COMMAND,
                "aggregate_id must equal the product's sku",
            );
        }
        if !rules::valid_sku(&c.sku) {
            return rejected(
                reasons::INVALID_SKU,
                "sku must be 1-40 of A-Z 0-9 - _ . (upper case)",
            );
        }
        if CatalogStore::product(ctx.tx, &c.sku).await?.is_some() {
            return rejected(reasons::SKU_EXISTS, "a product with this sku exists");
        }
        if let Some(rule) = rules::check_create(c) {
            return broken(rule);
        }
        let product = Product {
            sku: c.sku.clone(),
            name_th: c.name_th.trim().to_owned(),
            name_en: c.name_en.trim().to_owned(),
            description: rules::normalize_description(c.description.as_deref()),
            category: c.category.trim().to_owned(),
            unit: c.unit.trim().to_owned(),
            barcodes: c.barcodes.clone(),
            price_satang: c.price_satang,
            cost_satang: c.cost_satang,
            min_stock: c.min_stock,
            status: STATUS_ACTIVE.to_owned(),
            version: 1,
        };
        // A savepoint, so that a product whose barcode turns out to be taken
        // leaves nothing behind in the batch's transaction.
        let mut savepoint = ctx.tx.begin().await?;
        if !CatalogStore::insert_product(&mut savepoint, &product).await? {
            savepoint.rollback().await?;
            return rejected(reasons::SKU_EXISTS, "a product with this sku exists");
        }
        let claimed =
            CatalogStore::claim_barcodes(&mut savepoint, &product.sku, &product.barcodes).await?;
        if claimed < product.barcodes.len() as u64 {
            savepoint.rollback().await?;
            return taken_barcode(ctx.tx, &product.barcodes, &product.sku).await;
        }
        savepoint.commit().await?;
        emit_product(
            ctx,
            (self.events, self.state),
            command,
            "ProductCreated",
            &product,
            &PRODUCT_FIELDS,
        )
        .await?;
        Ok((Decision::Accepted, Some(Changed::Product(product.sku))))
    }

    async fn update(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &CatalogCommand,
        mut product: Product,
        u: &UpdateProduct,
    ) -> Result<Applied, ApplyError> {
        if let Some(rule) = rules::check_update(u) {
            return broken(rule);
        }
        let old_barcodes = product.barcodes.clone();
        let changed = apply_update(&mut product, u);
        if changed.is_empty() {
            return Ok((Decision::Accepted, None));
        }
        let mut savepoint = ctx.tx.begin().await?;
        if changed.contains(&"barcodes") {
            let removed: Vec<String> = old_barcodes
                .iter()
                .filter(|b| !product.barcodes.contains(b))
                .cloned()
                .collect();
            let added: Vec<String> = product
                .barcodes
                .iter()
                .filter(|b| !old_barcodes.contains(b))
                .cloned()
                .collect();
            CatalogStore::release_barcodes(&mut savepoint, &product.sku, &removed).await?;
            let claimed =
                CatalogStore::claim_barcodes(&mut savepoint, &product.sku, &added).await?;
            if claimed < added.len() as u64 {
                savepoint.rollback().await?;
                return taken_barcode(ctx.tx, &added, &product.sku).await;
            }
        }
        product.version = CatalogStore::update_product(&mut savepoint, &product).await?;
        savepoint.commit().await?;
        emit_product(
            ctx,
            (self.events, self.state),
            command,
            "ProductUpdated",
            &product,
            &changed,
        )
        .await?;
        Ok((Decision::Accepted, Some(Changed::Product(product.sku))))
    }

    async fn discontinue(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &CatalogCommand,
        mut product: Product,
    ) -> Result<Applied, ApplyError> {
        product.status = STATUS_DISCONTINUED.to_owned();
        product.version = CatalogStore::update_product(ctx.tx, &product).await?;
        emit_product(
            ctx,
            (self.events, self.state),
            command,
            "ProductDiscontinued",
            &product,
            &["status"],
        )
        .await?;
        Ok((Decision::Accepted, Some(Changed::Product(product.sku))))
    }

    /// UpdateProduct and DiscontinueProduct: the product must exist and be active.
    async fn change_product(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &CatalogCommand,
    ) -> Result<Applied, ApplyError> {
        let sku = command.aggregate_id.as_str();
        if !rules::valid_sku(sku) {
            return rejected(
                reasons::INVALID_SKU,
                "sku must be 1-40 of A-Z 0-9 - _ . (upper case)",
            );
        }
        if let Some(u) = &command.update_product {
            if !rules::sets_any_field(u) {
                return rejected(
                    reasons::INVALID_COMMAND,
                    "an update must set at least one field",
                );
            }
        }
        let Some(product) = CatalogStore::product(ctx.tx, sku).await? else {
            return rejected(reasons::PRODUCT_NOT_FOUND, "no such product");
        };
        if product.is_discontinued() {
            return rejected(reasons::PRODUCT_DISCONTINUED, "the product is discontinued");
        }
        match &command.update_product {
            Some(u) => self.update(ctx, command, product, u).await,
            None => self.discontinue(ctx, command, product).await,
        }
    }

    async fn upsert_warehouse(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &CatalogCommand,
        w: &UpsertWarehouse,
    ) -> Result<Applied, ApplyError> {
        if command.aggregate_id != warehouse_key(&w.code) {
            return rejected(
                reasons::INVALID_COMMAND,
                "aggregate_id must be warehouse:<code>",
            );
        }
        if let Some(rule) = rules::check_warehouse(w) {
            return broken(rule);
        }
        let mut warehouse = Warehouse {
            code: w.code.clone(),
            name_th: w.name_th.trim().to_owned(),
            name_en: w.name_en.trim().to_owned(),
            address: w.address.trim().to_owned(),
            active: w.active,
            version: 1,
        };
        let changed = match CatalogStore::warehouse(ctx.tx, &w.code).await? {
            None => {
                if !CatalogStore::insert_warehouse(ctx.tx, &warehouse).await? {
                    // Written meanwhile by a command keyed differently: the
                    // retry takes the update path.
                    return Err(ApplyError::Transient("warehouse appeared meanwhile".into()));
                }
                WAREHOUSE_FIELDS.to_vec()
            }
            Some(old) => {
                let changed = warehouse_changes(&old, &warehouse);
                if changed.is_empty() {
                    return Ok((Decision::Accepted, None));
                }
                warehouse.version = CatalogStore::update_warehouse(ctx.tx, &warehouse).await?;
                changed
            }
        };
        let event = CatalogEvent {
            envelope: command.envelope.caused("WarehouseUpserted", "catalog"),
            aggregate_id: command.aggregate_id.clone(),
            version: warehouse.version,
            product: None,
            warehouse: Some(warehouse.state()),
            changed: changed.iter().map(|c| (*c).to_owned()).collect(),
        };
        ctx.emit(
            self.events,
            CATALOG_EVENT_SUBJECT,
            &event.aggregate_id,
            &event,
        )
        .await?;
        let record = warehouse_state(&warehouse);
        ctx.emit(
            self.state,
            CATALOG_STATE_SUBJECT,
            &record.aggregate_id,
            &record,
        )
        .await?;
        Ok((Decision::Accepted, Some(Changed::Warehouse(warehouse.code))))
    }
}

#[async_trait]
impl Processor for CatalogProcessor {
    type Command = CatalogCommand;
    type Effect = Option<Changed>;
    type Batch = ();

    fn describe(command: &CatalogCommand) -> CommandInfo<'_> {
        CommandInfo {
            envelope: &command.envelope,
            aggregate_id: &command.aggregate_id,
        }
    }

    async fn apply(
        &self,
        ctx: &mut ApplyContext<'_>,
        _batch: &mut (),
        command: &CatalogCommand,
    ) -> Result<Applied, ApplyError> {
        if command.payloads() != 1 {
            return rejected(
                reasons::INVALID_COMMAND,
                "a command carries exactly one payload",
            );
        }
        if let Some(c) = &command.create_product {
            return self.create(ctx, command, c).await;
        }
        if let Some(w) = &command.upsert_warehouse {
            return self.upsert_warehouse(ctx, command, w).await;
        }
        self.change_product(ctx, command).await
    }

    async fn after_commit(&self, effects: Vec<Option<Changed>>) {
        let Some(cache) = &self.cache else { return };
        let mut changed: Vec<Changed> = effects.into_iter().flatten().collect();
        changed.sort_unstable();
        changed.dedup();
        if let Err(error) = cache.refresh(&self.pool, &changed).await {
            // The database is the truth; the copy is rebuilt at the next start.
            tracing::warn!(%error, aggregates = changed.len(), "redis copy not refreshed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product() -> Product {
        Product {
            sku: "FISH-SAUCE-700".into(),
            name_th: "น้ำปลา 700 มล.".into(),
            name_en: "Fish sauce 700 ml".into(),
            description: None,
            category: "เครื่องปรุง".into(),
            unit: "ขวด".into(),
            barcodes: vec!["8850999320014".into()],
            price_satang: 4_500,
            cost_satang: 3_000,
            min_stock: 48,
            status: STATUS_ACTIVE.into(),
            version: 3,
        }
    }

    #[test]
    fn an_update_lists_only_the_fields_that_change() {
        let mut p = product();
        let changed = apply_update(
            &mut p,
            &UpdateProduct {
                name_th: Some(" น้ำปลา 700 มล. ".into()), // same after trimming
                description: Some("  ".into()),          // none stays none
                price_satang: Some(4_900),
                barcodes: Some(vec!["4006381333931".into()]),
                ..UpdateProduct::default()
            },
        );
        assert_eq!(changed, ["barcodes", "price_satang"]);
        assert_eq!(p.price_satang, 4_900);
        assert_eq!(p.barcodes, ["4006381333931"]);
        assert_eq!(p.version, 3, "the store bumps the version");
    }

    #[test]
    fn an_empty_description_clears_it() {
        let mut p = product();
        p.description = Some("เก่า".into());
        let changed = apply_update(
            &mut p,
            &UpdateProduct {
                description: Some(String::new()),
                ..UpdateProduct::default()
            },
        );
        assert_eq!(changed, ["description"]);
        assert_eq!(p.description, None);
    }

    #[test]
    fn warehouse_changes_are_per_field() {
        let old = Warehouse {
            code: "BKK1".into(),
            name_th: "คลังบางนา".into(),
            name_en: "Bang Na".into(),
            address: String::new(),
            active: true,
            version: 1,
        };
        let mut new = old.clone();
        assert!(warehouse_changes(&old, &new).is_empty());
        new.active = false;
        new.address = "บางนา".into();
        assert_eq!(warehouse_changes(&old, &new), ["address", "active"]);
    }
}
