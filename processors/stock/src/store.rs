//! Stock's tables (schema `stock`, migrations in `migrations/`, statements
//! in `queries/*.sql`): items, the ledger, reservations, transfers, and the
//! copy of the catalog joined from its state topic. Only this crate writes
//! them.

use std::collections::{BTreeSet, HashMap};

use khlang_contract::stock::StockCommand;
use khlang_runtime::ApplyError;
use sqlx::{PgConnection, PgPool, Row as _};

use crate::rules::{Item, ProductFacts, ReservationStatus, TransferStatus};

/// An item row as the batch holds it (locked for the transaction).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Locked {
    pub item: Item,
    pub minimum_override: Option<i64>,
    pub low: bool,
    pub version: i64,
}

/// One ledger row, written with the batch's.
pub(crate) struct LedgerRow {
    pub command_id: String,
    pub sku: String,
    pub warehouse: String,
    pub movement: &'static str,
    pub quantity: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub actor_id: String,
    pub actor_kind: &'static str,
    pub before: Item,
    pub after: Item,
    pub occurred_at: i64,
}

/// The SKUs and warehouse codes a batch's commands name.
pub(crate) fn catalog_keys(commands: &[&StockCommand]) -> (Vec<String>, Vec<String>) {
    let mut skus = BTreeSet::new();
    let mut warehouses = BTreeSet::new();
    for command in commands {
        skus.insert(command.sku.clone());
        warehouses.insert(command.warehouse.clone());
        if let Some(t) = &command.transfer_out {
            warehouses.insert(t.to_warehouse.clone());
        }
    }
    (skus.into_iter().collect(), warehouses.into_iter().collect())
}

/// What a batch of stock commands shares: the catalog rows and the item
/// rows it touches, read (and the items locked) in three statements for the
/// whole batch; the items and ledger rows it changed, written in two. The
/// commands of one item still apply one after another, each seeing the
/// levels the previous one left.
#[derive(Default)]
pub struct StockBatch {
    pub(crate) products: HashMap<String, ProductFacts>,
    pub(crate) warehouses: HashMap<String, bool>,
    items: HashMap<(String, String), Locked>,
    /// The version each existing item had when read (absent: new item).
    read: HashMap<(String, String), i64>,
    changed: BTreeSet<(String, String)>,
    pub(crate) ledger: Vec<LedgerRow>,
}

impl StockBatch {
    /// Reads the products and warehouses named by `skus` and `codes` from
    /// stock's copy of the catalog.
    pub(crate) async fn read_catalog(
        &mut self,
        tx: &mut PgConnection,
        skus: &[String],
        codes: &[String],
    ) -> Result<(), sqlx::Error> {
        for row in sqlx::query(include_str!("queries/batch_products.sql"))
            .bind(skus)
            .fetch_all(&mut *tx)
            .await?
        {
            self.products.insert(
                row.try_get("sku")?,
                ProductFacts {
                    active: row.try_get("active")?,
                    min_stock: row.try_get("min_stock")?,
                },
            );
        }
        for row in sqlx::query(include_str!("queries/batch_warehouses.sql"))
            .bind(codes)
            .fetch_all(&mut *tx)
            .await?
        {
            self.warehouses
                .insert(row.try_get("code")?, row.try_get("active")?);
        }
        Ok(())
    }

    /// Whether any of `skus` or `codes` is not in the catalog copy.
    pub(crate) fn misses(&self, skus: &[String], codes: &[String]) -> bool {
        skus.iter().any(|s| !self.products.contains_key(s))
            || codes.iter().any(|c| !self.warehouses.contains_key(c))
    }

    /// Locks the items of `commands` (in a fixed order, so two instances
    /// never deadlock) and keeps their rows.
    pub(crate) async fn lock_items(
        &mut self,
        tx: &mut PgConnection,
        commands: &[&StockCommand],
    ) -> Result<(), sqlx::Error> {
        let keys: BTreeSet<(&str, &str)> = commands
            .iter()
            .map(|c| (c.sku.as_str(), c.warehouse.as_str()))
            .collect();
        let (item_skus, item_warehouses): (Vec<&str>, Vec<&str>) = keys.into_iter().unzip();
        for row in sqlx::query(include_str!("queries/lock_items.sql"))
            .bind(&item_skus)
            .bind(&item_warehouses)
            .fetch_all(&mut *tx)
            .await?
        {
            let key: (String, String) = (row.try_get("sku")?, row.try_get("warehouse")?);
            self.read.insert(key.clone(), row.try_get("version")?);
            self.items.insert(
                key,
                Locked {
                    item: Item {
                        on_hand: row.try_get("on_hand")?,
                        reserved: row.try_get("reserved")?,
                        in_transit: row.try_get("in_transit")?,
                    },
                    minimum_override: row.try_get("minimum_override")?,
                    low: row.try_get("low")?,
                    version: row.try_get("version")?,
                },
            );
        }
        Ok(())
    }

    /// The item as the batch's earlier commands left it (empty when new).
    pub(crate) fn item(&self, sku: &str, warehouse: &str) -> Locked {
        self.items
            .get(&(sku.to_owned(), warehouse.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn save(&mut self, sku: &str, warehouse: &str, locked: Locked) {
        let key = (sku.to_owned(), warehouse.to_owned());
        self.changed.insert(key.clone());
        self.items.insert(key, locked);
    }

    /// Writes the changed items and the ledger rows, one statement each.
    pub(crate) async fn write(self, tx: &mut PgConnection) -> Result<(), ApplyError> {
        if !self.changed.is_empty() {
            let rows: Vec<(&(String, String), &Locked)> = self
                .changed
                .iter()
                .filter_map(|key| self.items.get(key).map(|l| (key, l)))
                .collect();
            let saved: i64 = sqlx::query_scalar(include_str!("queries/save_items.sql"))
                .bind(rows.iter().map(|(k, _)| k.0.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|(k, _)| k.1.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|(_, l)| l.item.on_hand).collect::<Vec<_>>())
                .bind(
                    rows.iter()
                        .map(|(_, l)| l.item.reserved)
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|(_, l)| l.item.in_transit)
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|(_, l)| l.minimum_override)
                        .collect::<Vec<_>>(),
                )
                .bind(rows.iter().map(|(_, l)| l.low).collect::<Vec<_>>())
                .bind(rows.iter().map(|(_, l)| l.version).collect::<Vec<_>>())
                .bind(
                    rows.iter()
                        .map(|(k, _)| self.read.get(*k).copied())
                        .collect::<Vec<_>>(),
                )
                .fetch_one(&mut *tx)
                .await?;
            if usize::try_from(saved).ok() != Some(rows.len()) {
                return Err(ApplyError::Transient(format!(
                    "{} of {} items changed under the batch",
                    rows.len() - usize::try_from(saved).unwrap_or(0),
                    rows.len()
                )));
            }
        }
        if !self.ledger.is_empty() {
            let l = &self.ledger;
            sqlx::query(include_str!("queries/insert_ledger.sql"))
                .bind(l.iter().map(|r| r.command_id.as_str()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.sku.as_str()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.warehouse.as_str()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.movement).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.quantity).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.reason.as_deref()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.reference.as_deref()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.actor_id.as_str()).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.actor_kind).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.before.on_hand).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.before.reserved).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.before.in_transit).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.after.on_hand).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.after.reserved).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.after.in_transit).collect::<Vec<_>>())
                .bind(l.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}

/// A reservation row, locked.
pub(crate) struct Reservation {
    pub sku: String,
    pub warehouse: String,
    pub quantity: i64,
    pub expires_at: i64,
    pub status: ReservationStatus,
}

/// The reservation `id`, locked for the transaction.
pub(crate) async fn lock_reservation(
    tx: &mut PgConnection,
    id: &str,
) -> Result<Option<Reservation>, ApplyError> {
    let Some(row) = sqlx::query(include_str!("queries/lock_reservation.sql"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let status: String = row.try_get("status")?;
    let status = ReservationStatus::parse(&status)
        .ok_or_else(|| ApplyError::Poison(format!("unknown reservation status {status}")))?;
    Ok(Some(Reservation {
        sku: row.try_get("sku")?,
        warehouse: row.try_get("warehouse")?,
        quantity: row.try_get("quantity")?,
        expires_at: row.try_get("expires_us")?,
        status,
    }))
}

/// A new active reservation; false when the id was used before.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_reservation(
    tx: &mut PgConnection,
    id: &str,
    sku: &str,
    warehouse: &str,
    quantity: i64,
    expires_at: i64,
    order_ref: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(include_str!("queries/insert_reservation.sql"))
        .bind(id)
        .bind(sku)
        .bind(warehouse)
        .bind(quantity)
        .bind(expires_at)
        .bind(order_ref)
        .execute(tx)
        .await?
        .rows_affected();
    Ok(inserted > 0)
}

/// A reservation's final status.
pub(crate) async fn close_reservation(
    tx: &mut PgConnection,
    id: &str,
    status: ReservationStatus,
) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("queries/close_reservation.sql"))
        .bind(id)
        .bind(status.as_str())
        .execute(tx)
        .await?;
    Ok(())
}

/// An active reservation past its time.
#[derive(Debug, Clone)]
pub struct DueReservation {
    /// Reservation id.
    pub reservation_id: String,
    /// SKU.
    pub sku: String,
    /// Warehouse.
    pub warehouse: String,
}

/// Active reservations past their time, oldest first, at most `limit`.
pub(crate) async fn due_reservations(
    pool: &PgPool,
    limit: i64,
) -> Result<Vec<DueReservation>, sqlx::Error> {
    sqlx::query(include_str!("queries/due_reservations.sql"))
        .bind(limit)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            Ok(DueReservation {
                reservation_id: row.try_get("reservation_id")?,
                sku: row.try_get("sku")?,
                warehouse: row.try_get("warehouse")?,
            })
        })
        .collect()
}

/// A transfer row, locked.
pub(crate) struct Transfer {
    pub sku: String,
    pub from: String,
    pub to: String,
    pub quantity: i64,
    pub status: TransferStatus,
    pub expected: bool,
}

/// The transfer `id`, locked for the transaction.
pub(crate) async fn lock_transfer(
    tx: &mut PgConnection,
    id: &str,
) -> Result<Option<Transfer>, ApplyError> {
    let Some(row) = sqlx::query(include_str!("queries/lock_transfer.sql"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let status: String = row.try_get("status")?;
    let status = TransferStatus::parse(&status)
        .ok_or_else(|| ApplyError::Poison(format!("unknown transfer status {status}")))?;
    Ok(Some(Transfer {
        sku: row.try_get("sku")?,
        from: row.try_get("from_warehouse")?,
        to: row.try_get("to_warehouse")?,
        quantity: row.try_get("quantity")?,
        status,
        expected: row.try_get("expected")?,
    }))
}

/// A new transfer leaving `from`; false when the id was used before.
pub(crate) async fn insert_transfer(
    tx: &mut PgConnection,
    id: &str,
    sku: &str,
    from: &str,
    to: &str,
    quantity: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(include_str!("queries/insert_transfer.sql"))
        .bind(id)
        .bind(sku)
        .bind(from)
        .bind(to)
        .bind(quantity)
        .execute(tx)
        .await?
        .rows_affected();
    Ok(inserted > 0)
}

/// A transfer's next status (and whether the destination expects it).
pub(crate) async fn set_transfer(
    tx: &mut PgConnection,
    id: &str,
    status: TransferStatus,
    expected: Option<bool>,
) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("queries/set_transfer.sql"))
        .bind(id)
        .bind(status.as_str())
        .bind(expected)
        .execute(tx)
        .await?;
    Ok(())
}

/// The destination expects the transfer.
pub(crate) async fn expect_transfer(tx: &mut PgConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("queries/expect_transfer.sql"))
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Upserts a product of the catalog copy (never to an older version).
pub(crate) async fn upsert_product(
    tx: &mut PgConnection,
    sku: &str,
    facts: ProductFacts,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("queries/upsert_product.sql"))
        .bind(sku)
        .bind(facts.min_stock)
        .bind(facts.active)
        .bind(version)
        .execute(tx)
        .await?;
    Ok(())
}

/// Upserts a warehouse of the catalog copy (never to an older version).
pub(crate) async fn upsert_warehouse(
    tx: &mut PgConnection,
    code: &str,
    active: bool,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("queries/upsert_warehouse.sql"))
        .bind(code)
        .bind(active)
        .bind(version)
        .execute(tx)
        .await?;
    Ok(())
}

/// Removes a product from the catalog copy (a tombstone).
pub(crate) async fn delete_product(tx: &mut PgConnection, sku: &str) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("queries/delete_product.sql"))
        .bind(sku)
        .execute(tx)
        .await?;
    Ok(())
}

/// Removes a warehouse from the catalog copy (a tombstone).
pub(crate) async fn delete_warehouse(tx: &mut PgConnection, code: &str) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("queries/delete_warehouse.sql"))
        .bind(code)
        .execute(tx)
        .await?;
    Ok(())
}

/// Every item's levels and version (rebuilding the Redis copy).
pub(crate) async fn all_items(
    pool: &PgPool,
) -> Result<Vec<(String, String, Item, i64)>, sqlx::Error> {
    sqlx::query(include_str!("queries/all_items.sql"))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("sku")?,
                row.try_get("warehouse")?,
                Item {
                    on_hand: row.try_get("on_hand")?,
                    reserved: row.try_get("reserved")?,
                    in_transit: row.try_get("in_transit")?,
                },
                row.try_get("version")?,
            ))
        })
        .collect()
}
