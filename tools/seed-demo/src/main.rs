//! `khlang-seed-demo`: the demo data of `make up`, all of it written
//! through the public API as the demo admin, like any client, so it goes
//! through validation, Kafka and the processors: one account per role
//! (people with generated passwords, a service and a device account with
//! the secrets the ingress generates), 3 warehouses, a dozen products with
//! Thai names, valid EAN-13 barcodes and prices, and stock movements
//! (receipts into every warehouse, a transfer in transit, an adjustment, a
//! reservation, and one product under its minimum, so a `LowStock` event
//! shows up).
//!
//! Idempotent: accounts are made once (while their credentials file
//! exists, nothing is sent); warehouses and products that exist are left
//! alone (a change someone made is kept); the stock movements are skipped
//! when the ledger has a receipt; and every catalog and stock write carries
//! its own `Idempotency-Key`, so an interrupted run started again publishes
//! each command at most once.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Parser;
use rand::distributions::{Alphanumeric, DistString as _};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

#[derive(Parser)]
struct Args {
    /// The ingress.
    #[arg(long, env = "KHLANG_API_URL", default_value = "http://127.0.0.1:8080")]
    api: String,
    /// The admin's `login=` and `password=` lines (written by scripts/up.sh).
    #[arg(long)]
    admin_file: PathBuf,
    /// Where the demo accounts' generated credentials are written (mode 600).
    #[arg(long)]
    out: PathBuf,
}

/// People: username, display name, role.
const PEOPLE: [(&str, &str, &str); 3] = [
    ("manager", "ผู้จัดการคลัง (เดโม)", "manager"),
    ("staff", "พนักงานคลัง (เดโม)", "warehouse_staff"),
    ("viewer", "ผู้ดูรายงาน (เดโม)", "report_viewer"),
];

/// Machines: username, display name, kind, scopes.
const MACHINES: [(&str, &str, &str, &[&str]); 2] = [
    (
        "erp",
        "ระบบ ERP (เดโม)",
        "service",
        &["catalog:read", "catalog:write", "stock:read", "stock:write"],
    ),
    (
        "scanner01",
        "เครื่องสแกน 01 (เดโม)",
        "device",
        &["catalog:read", "stock:read", "scans:write"],
    ),
];

/// Warehouses: code, Thai name, English name, address.
const WAREHOUSES: [(&str, &str, &str, &str); 3] = [
    (
        "BKK1",
        "คลังกรุงเทพ (บางนา)",
        "Bangkok (Bang Na)",
        "99 ถนนบางนา-ตราด แขวงบางนา เขตบางนา กรุงเทพฯ 10260",
    ),
    (
        "CNX1",
        "คลังเชียงใหม่",
        "Chiang Mai",
        "199 ถนนซุปเปอร์ไฮเวย์ ตำบลป่าตัน อำเภอเมือง เชียงใหม่ 50300",
    ),
    (
        "HKT1",
        "คลังภูเก็ต",
        "Phuket",
        "45 ถนนเทพกระษัตรี ตำบลรัษฎา อำเภอเมือง ภูเก็ต 83000",
    ),
];

/// A demo product.
struct Product {
    sku: &'static str,
    name_th: &'static str,
    name_en: &'static str,
    category: &'static str,
    unit: &'static str,
    barcode: &'static str,
    price: &'static str,
    cost: &'static str,
    min_stock: i64,
}

macro_rules! products {
    ($(($sku:literal, $th:literal, $en:literal, $cat:literal, $unit:literal, $ean:literal, $price:literal, $cost:literal, $min:literal),)*) => {
        [$(Product {
            sku: $sku, name_th: $th, name_en: $en, category: $cat, unit: $unit,
            barcode: $ean, price: $price, cost: $cost, min_stock: $min,
        },)*]
    };
}

const PRODUCTS: [Product; 12] = products![
    (
        "WATER-600",
        "น้ำดื่ม 600 มล.",
        "Drinking water 600 ml",
        "เครื่องดื่ม",
        "ขวด",
        "8851234000012",
        "7.00",
        "4.50",
        120
    ),
    (
        "WATER-1500",
        "น้ำดื่ม 1.5 ลิตร",
        "Drinking water 1.5 l",
        "เครื่องดื่ม",
        "ขวด",
        "8851234000029",
        "14.00",
        "9.00",
        60
    ),
    (
        "GREENTEA-500",
        "ชาเขียวพร้อมดื่ม 500 มล.",
        "Green tea 500 ml",
        "เครื่องดื่ม",
        "ขวด",
        "8851234000036",
        "20.00",
        "13.50",
        48
    ),
    (
        "COFFEE-3IN1-27",
        "กาแฟปรุงสำเร็จ 3in1 (27 ซอง)",
        "3-in-1 instant coffee, 27 sachets",
        "เครื่องดื่ม",
        "แพ็ก",
        "8851234000043",
        "125.50",
        "98.00",
        20
    ),
    (
        "RICE-HOMMALI-5KG",
        "ข้าวหอมมะลิ 5 กก.",
        "Hom Mali jasmine rice 5 kg",
        "ข้าวและธัญพืช",
        "ถุง",
        "8851234000050",
        "185.00",
        "150.00",
        30
    ),
    (
        "RICE-STICKY-2KG",
        "ข้าวเหนียว 2 กก.",
        "Glutinous rice 2 kg",
        "ข้าวและธัญพืช",
        "ถุง",
        "8851234000067",
        "79.00",
        "61.25",
        20
    ),
    (
        "FISHSAUCE-700",
        "น้ำปลาแท้ 700 มล.",
        "Fish sauce 700 ml",
        "เครื่องปรุง",
        "ขวด",
        "8851234000074",
        "35.00",
        "26.00",
        36
    ),
    (
        "SUGAR-1KG",
        "น้ำตาลทรายขาว 1 กก.",
        "White sugar 1 kg",
        "เครื่องปรุง",
        "ถุง",
        "8851234000081",
        "26.00",
        "21.50",
        40
    ),
    (
        "CHILIPASTE-200",
        "น้ำพริกเผา 200 ก.",
        "Roasted chili paste 200 g",
        "เครื่องปรุง",
        "กระปุก",
        "8851234000098",
        "45.00",
        "32.00",
        24
    ),
    (
        "NOODLE-TOMYUM",
        "บะหมี่กึ่งสำเร็จรูป รสต้มยำกุ้ง",
        "Instant noodles, tom yum goong",
        "อาหารแห้ง",
        "ซอง",
        "8851234000104",
        "6.00",
        "4.20",
        200
    ),
    (
        "SOAP-JASMINE",
        "สบู่ก้อนกลิ่นมะลิ 100 ก.",
        "Jasmine soap bar 100 g",
        "ของใช้ในบ้าน",
        "ก้อน",
        "8851234000111",
        "19.00",
        "12.00",
        50
    ),
    (
        "DETERGENT-900",
        "ผงซักฟอก 900 ก.",
        "Washing powder 900 g",
        "ของใช้ในบ้าน",
        "ถุง",
        "8851234000128",
        "89.00",
        "68.75",
        24
    ),
];

/// The API as the admin sees it.
struct Api {
    http: Client,
    base: String,
    token: String,
}

/// An answer: status (`None`: no connection) and JSON body.
type Answer = (Option<StatusCode>, Value);

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("accept", "application/json");
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                (Some(status), response.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (None, Value::Null),
        }
    }

    /// Signs in as the admin. A 401 is retried a few times (the ingress
    /// may be ready a moment before the users processor has applied the
    /// bootstrap admin), only a few because failed logins are throttled.
    async fn login(&mut self, login: &str, password: &str) -> anyhow::Result<()> {
        let body = json!({ "login": login, "password": password });
        let (mut failures, mut waited) = (0, 0);
        loop {
            let (status, answer) = self
                .call(Method::POST, "/v1/auth/login", Some(&body), None)
                .await;
            match status {
                Some(StatusCode::OK) => {
                    self.token = answer["access_token"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    return Ok(());
                }
                Some(StatusCode::UNAUTHORIZED) => failures += 1,
                None | Some(StatusCode::SERVICE_UNAVAILABLE) => {}
                Some(other) => bail!(
                    "the admin ({login}) cannot log in at {}: HTTP {other} {answer}",
                    self.base
                ),
            }
            if failures >= 3 || waited >= 60 {
                bail!(
                    "the admin ({login}) cannot log in at {}: {status:?} {answer}",
                    self.base
                );
            }
            tokio::time::sleep(Duration::from_secs(4)).await;
            waited += 4;
        }
    }

    /// True if `path` answers 200, false on 404.
    async fn exists(&self, path: &str) -> anyhow::Result<bool> {
        match self.call(Method::GET, path, None, None).await {
            (Some(StatusCode::OK), _) => Ok(true),
            (Some(StatusCode::NOT_FOUND), _) => Ok(false),
            (status, answer) => bail!("GET {path}: {status:?} {answer}"),
        }
    }

    /// Publishes one command; its answer (with `command_id`). In flight
    /// (409) or Kafka not ready (503, no connection): the same key again.
    async fn write(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> anyhow::Result<Value> {
        let mut last = (None, Value::Null);
        for _ in 0..5 {
            last = self.call(method.clone(), path, Some(body), key).await;
            match last.0 {
                Some(StatusCode::ACCEPTED) => return Ok(last.1),
                None | Some(StatusCode::CONFLICT | StatusCode::SERVICE_UNAVAILABLE) => {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                Some(_) => break,
            }
        }
        bail!("{method} {path}: {:?} {}", last.0, last.1)
    }

    /// Waits for the outcome of each command; a rejection with one of
    /// `tolerated` (the thing exists already) is fine, any other is not.
    async fn wait_for(
        &self,
        commands: &[(String, Value)],
        tolerated: &[&str],
    ) -> anyhow::Result<Vec<Value>> {
        let mut outcomes = Vec::with_capacity(commands.len());
        for (what, answer) in commands {
            let id = answer["command_id"].as_str().unwrap_or_default();
            let mut outcome = Value::Null;
            for _ in 0..12 {
                let (status, body) = self
                    .call(
                        Method::GET,
                        &format!("/v1/commands/{id}?wait=5"),
                        None,
                        None,
                    )
                    .await;
                if status == Some(StatusCode::OK) && body["status"] != "pending" {
                    outcome = body;
                    break;
                }
            }
            match outcome["status"].as_str() {
                Some("accepted") => {}
                Some("rejected")
                    if tolerated.contains(&outcome["reason_code"].as_str().unwrap_or_default()) => {
                }
                Some("rejected") => bail!(
                    "{what}: rejected: {} {}",
                    outcome["reason_code"],
                    outcome["message"]
                ),
                _ => bail!("{what}: command {id} is still pending; are the processors running?"),
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }
}

/// `login=` and `password=` from the admin file.
fn admin_credentials(path: &Path) -> anyhow::Result<(String, String)> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "no {}; start the platform with scripts/up.sh",
            path.display()
        )
    })?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::to_owned)
            .with_context(|| format!("{} has no {name} line", path.display()))
    };
    Ok((field("login=")?, field("password=")?))
}

async fn seed_accounts(api: &Api, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        println!(
            "demo accounts: already made; credentials in {}",
            out.display()
        );
        return Ok(());
    }
    let mut lines =
        String::from("# khlang demo accounts (generated on this machine; do not commit)\n");
    let mut made = 0;
    for (username, name, role) in PEOPLE {
        let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 20);
        let email = format!("{username}@demo.khlang.local");
        let body = json!({
            "email": email, "username": username, "display_name": name,
            "password": password, "role": role,
        });
        let answer = api.write(Method::POST, "/v1/users", &body, None).await?;
        let outcome = api
            .wait_for(&[(format!("account {username}"), answer)], &["user_exists"])
            .await?;
        if outcome[0]["status"] == "accepted" {
            lines.push_str(&format!("{email}\t{role}\t{password}\n"));
            made += 1;
        } else {
            lines.push_str(&format!(
                "# {email}\t{role}\texisted already: password unchanged\n"
            ));
        }
    }
    for (username, name, kind, scopes) in MACHINES {
        let body =
            json!({ "username": username, "display_name": name, "kind": kind, "scopes": scopes });
        let answer = api
            .write(Method::POST, "/v1/service-accounts", &body, None)
            .await?;
        let secret = answer["client_secret"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let outcome = api
            .wait_for(&[(format!("account {username}"), answer)], &["user_exists"])
            .await?;
        if outcome[0]["status"] == "accepted" {
            lines.push_str(&format!("{username}\t{kind}\t{secret}\n"));
            made += 1;
        } else {
            lines.push_str(&format!(
                "# {username}\t{kind}\texisted already: secret unchanged\n"
            ));
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .with_context(|| format!("writing {}", out.display()))?;
    file.write_all(lines.as_bytes())?;
    println!(
        "demo accounts: {made} made; credentials in {}",
        out.display()
    );
    Ok(())
}

async fn seed_catalog(api: &Api) -> anyhow::Result<()> {
    let (mut commands, mut kept) = (Vec::new(), 0);
    for (code, name_th, name_en, address) in WAREHOUSES {
        let path = format!("/v1/warehouses/{code}");
        if api.exists(&path).await? {
            kept += 1;
            continue;
        }
        let body =
            json!({"name_th": name_th, "name_en": name_en, "address": address, "active": true});
        let key = format!("seed-demo-warehouse-{code}");
        commands.push((
            format!("warehouse {code}"),
            api.write(Method::PUT, &path, &body, Some(&key)).await?,
        ));
    }
    for p in &PRODUCTS {
        if api.exists(&format!("/v1/products/{}", p.sku)).await? {
            kept += 1;
            continue;
        }
        let body = json!({
            "sku": p.sku, "name_th": p.name_th, "name_en": p.name_en, "category": p.category,
            "unit": p.unit, "barcodes": [p.barcode], "price": p.price, "cost": p.cost,
            "min_stock": p.min_stock,
        });
        let key = format!("seed-demo-product-{}", p.sku);
        commands.push((
            format!("product {}", p.sku),
            api.write(Method::POST, "/v1/products", &body, Some(&key))
                .await?,
        ));
    }
    api.wait_for(&commands, &["sku_exists"]).await?;
    println!(
        "demo catalog: {} warehouses, {} products ({} created, {kept} already there)",
        WAREHOUSES.len(),
        PRODUCTS.len(),
        commands.len()
    );
    Ok(())
}

async fn seed_stock(api: &Api) -> anyhow::Result<()> {
    let (status, page) = api
        .call(
            Method::GET,
            "/v1/stock/ledger?movement=Received&page_size=1",
            None,
            None,
        )
        .await;
    if status == Some(StatusCode::OK)
        && page["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
    {
        println!("demo stock: already there");
        return Ok(());
    }
    let mut commands = Vec::new();
    for (i, p) in PRODUCTS.iter().enumerate() {
        for (j, (code, ..)) in WAREHOUSES.iter().enumerate() {
            // the last product stays below its minimum in HKT1
            let quantity = if i == PRODUCTS.len() - 1 && *code == "HKT1" {
                (p.min_stock / 2).max(1)
            } else {
                p.min_stock * i64::try_from(3 + (i + j) % 4)?
            };
            let body = json!({
                "sku": p.sku, "warehouse": code, "quantity": quantity,
                "reference": format!("PO-DEMO-{:03}", i + 1),
            });
            let key = format!("seed-demo-receipt-{}-{code}", p.sku);
            commands.push((
                format!("receipt {}@{code}", p.sku),
                api.write(Method::POST, "/v1/stock/receipts", &body, Some(&key))
                    .await?,
            ));
        }
    }
    api.wait_for(&commands, &[]).await?;
    let first = PRODUCTS[0].sku;
    let movements = [
        (
            "/v1/stock/transfers",
            json!({"transfer_id": "DEMO-T1", "sku": first, "from_warehouse": "BKK1", "to_warehouse": "CNX1", "quantity": 24}),
        ),
        (
            "/v1/stock/adjustments",
            json!({"sku": first, "warehouse": "BKK1", "delta": -6, "reason": "damaged", "note": "แพ็กแตกระหว่างขนย้าย"}),
        ),
        (
            "/v1/stock/reservations",
            json!({"reservation_id": "DEMO-R1", "sku": first, "warehouse": "BKK1", "quantity": 12, "ttl_seconds": 86400, "order_ref": "SO-DEMO-1/1"}),
        ),
    ];
    let mut commands = Vec::new();
    for (path, body) in movements {
        let key = format!("seed-demo-{}", path.rsplit('/').next().unwrap_or(path));
        commands.push((
            path.to_owned(),
            api.write(Method::POST, path, &body, Some(&key)).await?,
        ));
    }
    api.wait_for(&commands, &[]).await?;
    println!(
        "demo stock: {} receipts, a transfer BKK1 -> CNX1 (in transit: receive it with \
         POST /v1/stock/transfers/DEMO-T1/receive), an adjustment and a reservation",
        PRODUCTS.len() * WAREHOUSES.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (login, password) = admin_credentials(&args.admin_file)?;
    let mut api = Api {
        http: Client::builder().timeout(Duration::from_secs(30)).build()?,
        base: args.api.trim_end_matches('/').to_owned(),
        token: String::new(),
    };
    api.login(&login, &password).await?;
    seed_accounts(&api, &args.out).await?;
    seed_catalog(&api).await?;
    seed_stock(&api).await?;
    Ok(())
}
