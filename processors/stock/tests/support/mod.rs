//! Shared set-up of the stock processor's integration tests: an isolated
//! environment (database, topics, Redis prefix) with the real
//! `khlang-stock` binary (and, where a test needs it, the real
//! `khlang-catalog`) started as child processes.
//!
//! Stock learns products and warehouses from the catalog's state topic: a
//! test that is not about the join puts their state there itself
//! ([`StockEnv::publish_product`]), exactly as the catalog would.

#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use khlang_codec::Codec;
use khlang_contract::catalog::{
    warehouse_key, CatalogCommand, CatalogState, CreateProduct, ProductState, UpsertWarehouse,
};
use khlang_contract::stock::{Adjust, Commit, Issue, Receive, Release, Reserve, StockCommand};
use khlang_contract::topics::{
    CATALOG_COMMANDS, CATALOG_COMMANDS_DLQ, CATALOG_COMMAND_SUBJECT, CATALOG_EVENTS, CATALOG_STATE,
    CATALOG_STATE_SUBJECT, COMMAND_OUTCOMES, STOCK_COMMANDS, STOCK_COMMANDS_DLQ,
    STOCK_COMMAND_SUBJECT, STOCK_EVENTS,
};
use khlang_contract::{Actor, ActorKind, Envelope, TopicName};
use khlang_testkit::{
    eventually, outcomes, send_record, unique_suffix, Infra, Processor, ProcessorEnv, TestDatabase,
};
use rdkafka::producer::FutureProducer;
use sqlx::{PgPool, Row as _};

pub const WAIT: Duration = Duration::from_secs(240);

pub struct StockEnv {
    pub infra: Infra,
    pub ns: String,
    database: TestDatabase,
    pub pool: PgPool,
    pub commands: TopicName,
    pub state: TopicName,
    pub catalog_commands: TopicName,
    pub codec: Codec,
    pub producer: FutureProducer,
    pub stock: Processor,
    pub catalog: Processor,
}

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

impl StockEnv {
    /// Topics of stock (`partitions` each) and of the catalog, a database,
    /// and the two processors (not started).
    pub async fn new(partitions: i32) -> Self {
        let infra = Infra::from_env();
        let suffix = unique_suffix();
        let ns = format!("t{suffix}");
        let database = infra.test_database().await;
        let commands = STOCK_COMMANDS.namespaced(&ns);
        let state = CATALOG_STATE.namespaced(&ns);
        let catalog_commands = CATALOG_COMMANDS.namespaced(&ns);
        infra
            .create_topics(&[
                (commands.as_str(), partitions),
                (STOCK_EVENTS.namespaced(&ns).as_str(), partitions),
                (STOCK_COMMANDS_DLQ.namespaced(&ns).as_str(), 1),
                (COMMAND_OUTCOMES.namespaced(&ns).as_str(), 3),
                (state.as_str(), 3),
                (catalog_commands.as_str(), 3),
                (CATALOG_EVENTS.namespaced(&ns).as_str(), 3),
                (CATALOG_COMMANDS_DLQ.namespaced(&ns).as_str(), 1),
            ])
            .await;
        let redis_prefix = format!("{ns}:");
        let stock_service = format!("stock-{suffix}");
        let stock = Processor::new(
            env!("CARGO_BIN_EXE_khlang-stock"),
            ProcessorEnv {
                infra: &infra,
                database_url: database.url(),
                topic_namespace: &ns,
                redis_prefix: &redis_prefix,
                service: &stock_service,
            },
        )
        .env("KHLANG__EXPIRY_INTERVAL_MS", "200");
        let catalog_binary = target_dir().join("debug").join("khlang-catalog");
        assert!(
            catalog_binary.exists(),
            "{} is missing: run `cargo build --bins` first (make test does)",
            catalog_binary.display()
        );
        let catalog_service = format!("catalog-{suffix}");
        let catalog = Processor::new(
            catalog_binary,
            ProcessorEnv {
                infra: &infra,
                database_url: database.url(),
                topic_namespace: &ns,
                redis_prefix: &redis_prefix,
                service: &catalog_service,
            },
        );
        Self {
            codec: Codec::new(&infra.registry_url).unwrap(),
            producer: infra.producer(),
            pool: database.pool().clone(),
            database,
            stock,
            catalog,
            commands,
            state,
            catalog_commands,
            ns,
            infra,
        }
    }

    /// Puts a product's state on the catalog's state topic, as the catalog
    /// does.
    pub async fn publish_product(&self, sku: &str, min_stock: i64, active: bool, version: i64) {
        let record = CatalogState {
            aggregate_id: sku.to_owned(),
            version,
            product: Some(ProductState {
                sku: sku.to_owned(),
                name_th: format!("สินค้า {sku}"),
                name_en: sku.to_owned(),
                description: None,
                category: "test".into(),
                unit: "piece".into(),
                barcodes: Vec::new(),
                price_satang: 1_000,
                cost_satang: 500,
                min_stock,
                status: if active { "active" } else { "discontinued" }.into(),
            }),
            warehouse: None,
        };
        self.publish_state(&record).await;
    }

    /// Puts a warehouse's state on the catalog's state topic.
    pub async fn publish_warehouse(&self, code: &str, active: bool, version: i64) {
        let record = CatalogState {
            aggregate_id: warehouse_key(code),
            version,
            product: None,
            warehouse: Some(UpsertWarehouse {
                code: code.to_owned(),
                name_th: format!("คลัง {code}"),
                name_en: code.to_owned(),
                address: "-".into(),
                active,
            }),
        };
        self.publish_state(&record).await;
    }

    async fn publish_state(&self, record: &CatalogState) {
        let payload = self
            .codec
            .encode(self.state, CATALOG_STATE_SUBJECT, record)
            .await
            .unwrap();
        send_record(
            &self.producer,
            self.state.as_str(),
            &record.aggregate_id,
            &payload,
            None,
        )
        .await;
    }

    /// Sends a stock command (keyed by its item) and waits for Kafka's ack.
    pub async fn send(&self, command: &StockCommand) {
        let payload = self
            .codec
            .encode(self.commands, STOCK_COMMAND_SUBJECT, command)
            .await
            .unwrap();
        send_record(
            &self.producer,
            self.commands.as_str(),
            &command.key(),
            &payload,
            None,
        )
        .await;
    }

    /// Sends a catalog command (keyed by its aggregate id).
    pub async fn send_catalog(&self, command: &CatalogCommand) {
        let payload = self
            .codec
            .encode(self.catalog_commands, CATALOG_COMMAND_SUBJECT, command)
            .await
            .unwrap();
        send_record(
            &self.producer,
            self.catalog_commands.as_str(),
            &command.aggregate_id,
            &payload,
            None,
        )
        .await;
    }

    pub async fn outcome(&self, command_id: &str) -> Option<(String, Option<String>)> {
        outcomes::status(&self.pool, command_id).await
    }

    /// Waits for the outcome of `command_id`.
    pub async fn wait_outcome(&self, command_id: &str) -> (String, Option<String>) {
        eventually(&format!("the outcome of {command_id}"), WAIT, || {
            self.outcome(command_id)
        })
        .await
    }

    /// Waits for the outcomes of every id; returns id → (status, reason).
    pub async fn wait_outcomes(&self, ids: &[String]) -> HashMap<String, (String, Option<String>)> {
        eventually("every outcome", WAIT, || async {
            let rows = sqlx::query(
                "SELECT command_id, status, reason_code FROM khlang_runtime.command_outcomes \
                 WHERE command_id = ANY($1)",
            )
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .ok()?;
            (rows.len() == ids.len()).then(|| {
                rows.iter()
                    .map(|r| (r.get(0), (r.get(1), r.get(2))))
                    .collect()
            })
        })
        .await
    }

    /// Waits until stock's copy of the catalog holds `skus`.
    pub async fn wait_products(&self, skus: &[&str]) {
        let skus: Vec<String> = skus.iter().map(|s| (*s).to_owned()).collect();
        eventually("the products in stock's copy", WAIT, || async {
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM stock.products WHERE sku = ANY($1)")
                    .bind(&skus)
                    .fetch_one(&self.pool)
                    .await
                    .ok()?;
            (n == skus.len() as i64).then_some(())
        })
        .await;
    }

    /// Every item's levels: (sku, warehouse) → (on hand, reserved, in transit).
    pub async fn levels(&self) -> HashMap<(String, String), (i64, i64, i64)> {
        sqlx::query("SELECT sku, warehouse, on_hand, reserved, in_transit FROM stock.items")
            .fetch_all(&self.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3), r.get(4))))
            .collect()
    }
}

pub fn envelope(kind: &str) -> Envelope {
    let actor = Actor {
        id: "test-staff".into(),
        kind: ActorKind::User,
        role: "warehouse_staff".into(),
    };
    Envelope::new(kind, actor, &uuid::Uuid::now_v7().to_string(), "test")
}

fn command(kind: &str, sku: &str, warehouse: &str) -> StockCommand {
    StockCommand::empty(envelope(kind), sku, warehouse)
}

pub fn receive(sku: &str, warehouse: &str, quantity: i64) -> StockCommand {
    let mut c = command("Receive", sku, warehouse);
    c.receive = Some(Receive {
        quantity,
        reference: None,
    });
    c
}

pub fn issue(sku: &str, warehouse: &str, quantity: i64) -> StockCommand {
    let mut c = command("Issue", sku, warehouse);
    c.issue = Some(Issue {
        quantity,
        reference: None,
    });
    c
}

pub fn adjust(sku: &str, warehouse: &str, delta: i64) -> StockCommand {
    let mut c = command("Adjust", sku, warehouse);
    c.adjust = Some(Adjust {
        delta,
        reason: if delta < 0 { "damaged" } else { "found" }.into(),
        note: None,
    });
    c
}

/// A reservation that expires in an hour.
pub fn reserve(sku: &str, warehouse: &str, id: &str, quantity: i64) -> StockCommand {
    let mut c = command("Reserve", sku, warehouse);
    c.reserve = Some(Reserve {
        reservation_id: id.to_owned(),
        quantity,
        expires_at: c.envelope.occurred_at + 3_600_000_000,
        order_ref: None,
    });
    c
}

pub fn release(sku: &str, warehouse: &str, id: &str) -> StockCommand {
    let mut c = command("Release", sku, warehouse);
    c.release = Some(Release {
        reservation_id: id.to_owned(),
    });
    c
}

pub fn commit(sku: &str, warehouse: &str, id: &str) -> StockCommand {
    let mut c = command("Commit", sku, warehouse);
    c.commit = Some(Commit {
        reservation_id: id.to_owned(),
        reference: None,
    });
    c
}

pub fn create_product(sku: &str) -> CatalogCommand {
    let actor = Actor {
        id: "test-manager".into(),
        kind: ActorKind::User,
        role: "manager".into(),
    };
    let envelope = Envelope::new(
        "CreateProduct",
        actor,
        &uuid::Uuid::now_v7().to_string(),
        "test",
    );
    let mut c = CatalogCommand::empty(envelope, sku.to_owned());
    c.create_product = Some(CreateProduct {
        sku: sku.into(),
        name_th: format!("สินค้า {sku}"),
        name_en: format!("Product {sku}"),
        description: None,
        category: "ทั่วไป".into(),
        unit: "ชิ้น".into(),
        barcodes: Vec::new(),
        price_satang: 10_000,
        cost_satang: 7_500,
        min_stock: 3,
    });
    c
}

pub fn upsert_warehouse(code: &str) -> CatalogCommand {
    let actor = Actor {
        id: "test-admin".into(),
        kind: ActorKind::User,
        role: "admin".into(),
    };
    let envelope = Envelope::new(
        "UpsertWarehouse",
        actor,
        &uuid::Uuid::now_v7().to_string(),
        "test",
    );
    let mut c = CatalogCommand::empty(envelope, warehouse_key(code));
    c.upsert_warehouse = Some(UpsertWarehouse {
        code: code.into(),
        name_th: format!("คลัง {code}"),
        name_en: format!("Warehouse {code}"),
        address: "-".into(),
        active: true,
    });
    c
}

/// The value of a labelled sample of `metric` (`name{labels}`) the `n`th
/// start of `processor` serves; 0 when it has none yet.
pub async fn metric(processor: &Processor, n: usize, sample: &str) -> f64 {
    processor.metric(n, sample).await.unwrap_or(0.0)
}
