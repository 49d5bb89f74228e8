//! Shared set-up of the catalog processor's integration tests: an isolated
//! environment (database, topics, Redis prefix, consumer group) and the real
//! `khlang-catalog` binary started as a child process.

#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use khlang_catalog::{CatalogCache, CatalogStore};
use khlang_codec::Codec;
use khlang_contract::catalog::{
    warehouse_key, CatalogCommand, CatalogEvent, CreateProduct, DiscontinueProduct, UpdateProduct,
    UpsertWarehouse,
};
use khlang_contract::topics::{
    CATALOG_COMMANDS, CATALOG_COMMANDS_DLQ, CATALOG_COMMAND_SUBJECT, CATALOG_EVENTS,
    COMMAND_OUTCOMES,
};
use khlang_contract::{Actor, ActorKind, Envelope, TopicName};
use khlang_testkit::{read_committed, unique_suffix, Infra};
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::{PgPool, Row};

pub const WAIT: Duration = Duration::from_secs(240);

pub struct TestEnv {
    pub infra: Infra,
    pub ns: String,
    pub service: String,
    pub db_url: String,
    pub pool: PgPool,
    pub redis_prefix: String,
    pub commands: TopicName,
    pub events: TopicName,
    pub outcomes: TopicName,
    pub dlq: TopicName,
    pub codec: Codec,
    pub producer: FutureProducer,
    pub partitions: i32,
    pub log_dir: PathBuf,
    pub starts: AtomicUsize,
}

impl TestEnv {
    pub async fn new(partitions: i32) -> Self {
        let infra = Infra::from_env();
        let suffix = unique_suffix();
        let ns = format!("t{suffix}");
        let (db_url, pool) = infra.fresh_database().await;
        let commands = CATALOG_COMMANDS.namespaced(&ns);
        let events = CATALOG_EVENTS.namespaced(&ns);
        let outcomes = COMMAND_OUTCOMES.namespaced(&ns);
        let dlq = CATALOG_COMMANDS_DLQ.namespaced(&ns);
        infra
            .create_topics(&[
                (commands.as_str(), partitions),
                (events.as_str(), partitions),
                (outcomes.as_str(), partitions),
                (dlq.as_str(), 1),
            ])
            .await;
        let codec = Codec::new(&infra.registry_url).unwrap();
        let producer = infra.producer();
        let log_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("logs");
        std::fs::create_dir_all(&log_dir).unwrap();
        Self {
            log_dir,
            starts: AtomicUsize::new(0),
            redis_prefix: format!("{ns}:"),
            service: format!("catalog-{suffix}"),
            infra,
            ns,
            db_url,
            pool,
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
        self.log_dir
            .join(format!("khlang-catalog-{}-{n}.log", self.ns))
    }

    /// Starts the real processor binary against this environment; each
    /// start logs to its own file (see [`TestEnv::log`]).
    pub fn start(&self) -> Child {
        let n = self.starts.fetch_add(1, Ordering::SeqCst);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(n))
            .unwrap();
        Command::new(env!("CARGO_BIN_EXE_khlang-catalog"))
            .env("KHLANG_KAFKA_BROKERS", &self.infra.brokers)
            .env("KHLANG_REGISTRY_URL", &self.infra.registry_url)
            .env("KHLANG_DATABASE_URL", &self.db_url)
            .env("KHLANG_REDIS_URL", &self.infra.redis_url)
            .env("KHLANG__REDIS__PREFIX", &self.redis_prefix)
            .env("KHLANG__TOPIC_NAMESPACE", &self.ns)
            .env("KHLANG__SERVICE", &self.service)
            .env("KHLANG__TELEMETRY_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start khlang-catalog")
    }

    pub fn kill9(child: &mut Child) {
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(child: &mut Child) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let status = child.wait().unwrap();
        assert!(status.success(), "processor exited with {status}");
    }

    pub async fn send(&self, command: &CatalogCommand, partition: Option<i32>) {
        let payload = self
            .codec
            .encode(self.commands, CATALOG_COMMAND_SUBJECT, command)
            .await
            .unwrap();
        let mut record = FutureRecord::to(self.commands.as_str())
            .key(command.aggregate_id.as_str())
            .payload(&payload);
        if let Some(p) = partition {
            record = record.partition(p);
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }

    pub async fn send_all(&self, commands: &[CatalogCommand], partition: Option<i32>) {
        for command in commands {
            self.send(command, partition).await;
        }
    }

    pub async fn outcome_count(&self) -> i64 {
        match sqlx::query("SELECT count(*) FROM khlang_runtime.command_outcomes")
            .fetch_one(&self.pool)
            .await
        {
            Ok(row) => row.get(0),
            Err(_) => 0, // tables not migrated yet
        }
    }

    pub async fn outcome(&self, command_id: &str) -> Option<(String, Option<String>)> {
        sqlx::query(
            "SELECT status, reason_code FROM khlang_runtime.command_outcomes WHERE command_id = $1",
        )
        .bind(command_id)
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten()
        .map(|r| (r.get(0), r.get(1)))
    }

    pub async fn wait_for_outcomes(&self, expected: i64, timeout: Duration) {
        khlang_testkit::eventually("all outcomes", timeout, || async {
            (self.outcome_count().await >= expected).then_some(())
        })
        .await;
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
    let body = format!("{:012}", n % 1_000_000_000_000);
    let sum: u32 = body
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap();
            if i % 2 == 0 {
                d
            } else {
                d * 3
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
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
