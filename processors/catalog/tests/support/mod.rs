//! Shared set-up of the catalog processor's integration tests: an isolated
//! environment (database, topics, Redis prefix, consumer group) and the real
//! `khlang-catalog` binary started as a child process.

#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use khlang_catalog::{CatalogCache, CatalogStore};
use khlang_codec::Codec;
use khlang_contract::catalog::{
    warehouse_key, CatalogCommand, CatalogEvent, CreateProduct, DiscontinueProduct, UpdateProduct,
    UpsertWarehouse,
};
use khlang_contract::topics::{
    CATALOG_COMMANDS, CATALOG_COMMANDS_DLQ, CATALOG_COMMAND_SUBJECT, CATALOG_EVENTS, CATALOG_STATE,
    COMMAND_OUTCOMES,
};
use khlang_contract::values::Ean13;
use khlang_contract::{Actor, ActorKind, Envelope, TopicName};
use khlang_testkit::{
    outcomes, read_committed, send_record, unique_suffix, Infra, Processor, ProcessorEnv,
    TestDatabase,
};
use rdkafka::producer::FutureProducer;
use sqlx::PgPool;

pub const WAIT: Duration = Duration::from_secs(240);

pub struct TestEnv {
    pub infra: Infra,
    pub ns: String,
    /// The database behind `pool`: dropped with the environment, kept when
    /// the test fails.
    database: TestDatabase,
    pub pool: PgPool,
    pub redis_prefix: String,
    pub commands: TopicName,
    pub events: TopicName,
    pub outcomes: TopicName,
    pub dlq: TopicName,
    pub codec: Codec,
    pub producer: FutureProducer,
    pub partitions: i32,
    pub processor: Processor,
    /// The processor's consumer group (`khlang-<service>`).
    pub group: String,
}

impl TestEnv {
    pub async fn new(partitions: i32) -> Self {
        let infra = Infra::from_env();
        let suffix = unique_suffix();
        let ns = format!("t{suffix}");
        let database = infra.test_database().await;
        let commands = CATALOG_COMMANDS.namespaced(&ns);
        let events = CATALOG_EVENTS.namespaced(&ns);
        let outcomes = COMMAND_OUTCOMES.namespaced(&ns);
        let dlq = CATALOG_COMMANDS_DLQ.namespaced(&ns);
        infra
            .create_topics(&[
                (commands.as_str(), partitions),
                (events.as_str(), partitions),
                (CATALOG_STATE.namespaced(&ns).as_str(), partitions),
                (outcomes.as_str(), partitions),
                (dlq.as_str(), 1),
            ])
            .await;
        let codec = Codec::new(&infra.registry_url).unwrap();
        let producer = infra.producer();
        let redis_prefix = format!("{ns}:");
        let processor = Processor::new(
            env!("CARGO_BIN_EXE_khlang-catalog"),
            ProcessorEnv {
                infra: &infra,
                database_url: database.url(),
                topic_namespace: &ns,
                redis_prefix: &redis_prefix,
                service: &format!("catalog-{suffix}"),
            },
        );
        Self {
            group: format!("khlang-catalog-{suffix}"),
            pool: database.pool().clone(),
            database,
            processor,
            redis_prefix,
            infra,
            ns,
            commands,
            events,
            outcomes,
            dlq,
            codec,
            producer,
            partitions,
        }
    }

    /// The log file of the `n`th start (0-based).
    pub fn log(&self, n: usize) -> PathBuf {
        self.processor.log(n)
    }

    /// Starts the real processor binary against this environment; each
    /// start logs to its own file (see [`TestEnv::log`]).
    pub fn start(&self) -> Child {
        self.processor.start()
    }

    pub async fn send(&self, command: &CatalogCommand, partition: Option<i32>) {
        let payload = self
            .codec
            .encode(self.commands, CATALOG_COMMAND_SUBJECT, command)
            .await
            .unwrap();
        let key = command.aggregate_id.as_str();
        send_record(
            &self.producer,
            self.commands.as_str(),
            key,
            &payload,
            partition,
        )
        .await;
    }

    pub async fn send_all(&self, commands: &[CatalogCommand], partition: Option<i32>) {
        for command in commands {
            self.send(command, partition).await;
        }
    }

    pub async fn outcome_count(&self) -> i64 {
        outcomes::count(&self.pool).await
    }

    pub async fn outcome(&self, command_id: &str) -> Option<(String, Option<String>)> {
        outcomes::status(&self.pool, command_id).await
    }

    pub async fn wait_for_outcomes(&self, expected: i64, timeout: Duration) {
        outcomes::wait_for(&self.pool, expected, timeout).await;
    }

    /// Every committed catalog event, decoded, in partition order.
    pub async fn events(&self) -> Vec<(Option<Vec<u8>>, CatalogEvent)> {
        let mut events = Vec::new();
        for record in read_committed(&self.infra.brokers, self.events.as_str()) {
            let event: CatalogEvent = self
                .codec
                .decode(record.value.as_deref().unwrap())
                .await
                .unwrap();
            events.push((record.key, event));
        }
        events
    }

    pub async fn cache(&self) -> CatalogCache {
        CatalogCache::connect(&self.infra.redis_url, &self.redis_prefix)
            .await
            .unwrap()
    }

    /// The Redis copy holds exactly what PostgreSQL holds: every product,
    /// barcode and warehouse, field by field.
    pub async fn assert_redis_matches_pg(&self) {
        let cache = self.cache().await;
        let products = CatalogStore::all_products(&self.pool).await.unwrap();
        assert!(!products.is_empty());
        for p in &products {
            let want: HashMap<String, String> = [
                ("sku", p.sku.clone()),
                ("name_th", p.name_th.clone()),
                ("name_en", p.name_en.clone()),
                ("description", p.description.clone().unwrap_or_default()),
                ("category", p.category.clone()),
                ("unit", p.unit.clone()),
                ("barcodes", p.barcodes.join(",")),
                ("price_satang", p.price_satang.to_string()),
                ("cost_satang", p.cost_satang.to_string()),
                ("min_stock", p.min_stock.to_string()),
                ("status", p.status.clone()),
                ("version", p.version.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            assert_eq!(
                cache.product(&p.sku).await.unwrap(),
                want,
                "product {}",
                p.sku
            );
            for barcode in &p.barcodes {
                assert_eq!(
                    cache.sku_by_barcode(barcode).await.unwrap().as_deref(),
                    Some(p.sku.as_str()),
                    "barcode {barcode}"
                );
            }
        }
        for w in CatalogStore::all_warehouses(&self.pool).await.unwrap() {
            let want: HashMap<String, String> = [
                ("code", w.code.clone()),
                ("name_th", w.name_th.clone()),
                ("name_en", w.name_en.clone()),
                ("address", w.address.clone()),
                ("active", if w.active { "1" } else { "0" }.to_owned()),
                ("version", w.version.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            assert_eq!(
                cache.warehouse(&w.code).await.unwrap(),
                want,
                "warehouse {}",
                w.code
            );
        }
    }
}

/// The EAN-13 with the 12 digits of `n` (zero-padded) and its check digit.
pub fn ean13(n: u64) -> String {
    Ean13::from_body(n).into_inner()
}

pub fn envelope(kind: &str) -> Envelope {
    let actor = Actor {
        id: "test-manager".into(),
        kind: ActorKind::User,
        role: "manager".into(),
    };
    let mut envelope = Envelope::new(kind, actor, &uuid::Uuid::now_v7().to_string(), "test");
    envelope.correlation_id = uuid::Uuid::now_v7().to_string();
    envelope
}

pub fn new_product(sku: &str, barcodes: &[String]) -> CreateProduct {
    CreateProduct {
        sku: sku.into(),
        name_th: format!("สินค้า {sku}"),
        name_en: format!("Product {sku}"),
        description: None,
        category: "ทั่วไป".into(),
        unit: "ชิ้น".into(),
        barcodes: barcodes.to_vec(),
        price_satang: 10_000,
        cost_satang: 7_500,
        min_stock: 10,
    }
}

pub fn create(product: CreateProduct) -> CatalogCommand {
    let mut c = CatalogCommand::empty(envelope("CreateProduct"), product.sku.clone());
    c.create_product = Some(product);
    c
}

pub fn update(sku: &str, update: UpdateProduct) -> CatalogCommand {
    let mut c = CatalogCommand::empty(envelope("UpdateProduct"), sku.to_owned());
    c.update_product = Some(update);
    c
}

pub fn discontinue(sku: &str) -> CatalogCommand {
    let mut c = CatalogCommand::empty(envelope("DiscontinueProduct"), sku.to_owned());
    c.discontinue_product = Some(DiscontinueProduct {
        reason: Some("เลิกผลิต".into()),
    });
    c
}

pub fn upsert_warehouse(code: &str, name_th: &str, active: bool) -> CatalogCommand {
    let mut c = CatalogCommand::empty(envelope("UpsertWarehouse"), warehouse_key(code));
    c.upsert_warehouse = Some(UpsertWarehouse {
        code: code.into(),
        name_th: name_th.into(),
        name_en: format!("Warehouse {code}"),
        address: "99 ถนนบางนา-ตราด แขวงบางนา เขตบางนา กรุงเทพฯ 10260".into(),
        active,
    });
    c
}

/// (status, reason) of an outcome, borrowed for comparisons.
pub fn pair(outcome: &(String, Option<String>)) -> (&str, Option<&str>) {
    (outcome.0.as_str(), outcome.1.as_deref())
}
