//! `khlang-seed-demo` (the demo data of `make up`) against a fresh
//! environment: every account, warehouse, product and stock movement is
//! made through the API, and a second run changes nothing.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use khlang_contract::topics::{STOCK_COMMANDS, STOCK_COMMANDS_DLQ, STOCK_EVENTS};
use khlang_testkit::kill9;
use reqwest::Method;
use serde_json::Value;
use support::{binary, TestEnv, ADMIN_EMAIL, ADMIN_PASSWORD};

/// Runs the seeder (asynchronously: the ingress under test runs on this
/// test's runtime).
async fn seed(env: &TestEnv, admin_file: &std::path::Path, out: &std::path::Path) -> String {
    let output = tokio::process::Command::new(binary("khlang-seed-demo"))
        .env("KHLANG_API_URL", &env.base)
        .arg("--admin-file")
        .arg(admin_file)
        .arg("--out")
        .arg(out)
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "khlang-seed-demo failed: {text}");
    text
}

/// A processor killed when the test ends, passed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        kill9(&mut self.0);
    }
}

#[tokio::test]
async fn the_demo_data_is_made_through_the_api_once() {
    let env = TestEnv::new().await;
    env.infra
        .create_topics(&[
            (STOCK_COMMANDS.namespaced(&env.ns).as_str(), 3),
            (STOCK_EVENTS.namespaced(&env.ns).as_str(), 3),
            (STOCK_COMMANDS_DLQ.namespaced(&env.ns).as_str(), 1),
        ])
        .await;
    let stock = Killed(env.processor("stock").start());
    let dir =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-seed", env.ns));
    std::fs::create_dir_all(&dir).unwrap();
    let admin_file = dir.join("admin.txt");
    std::fs::write(
        &admin_file,
        format!("login={ADMIN_EMAIL}\npassword={ADMIN_PASSWORD}\n"),
    )
    .unwrap();
    let out = dir.join("demo-users.txt");

    let first = seed(&env, &admin_file, &out).await;
    assert!(first.contains("demo accounts: 5 made"), "{first}");
    assert!(first.contains("(15 created, 0 already there)"), "{first}");

    // every account it wrote down signs in with its password or secret
    let accounts = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = accounts.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 5, "{accounts}");
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        env.login(fields[0], fields[2]).await;
    }
    let admin = env.admin_token().await;
    let products: Value = env
        .call(
            Method::GET,
            "/v1/products?page_size=100",
            Some(&admin),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        products["items"].as_array().unwrap().len(),
        12,
        "{products}"
    );
    let levels: Value = env
        .call(Method::GET, "/v1/stock/items/WATER-600", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    let levels = levels.as_array().unwrap();
    assert_eq!(levels.len(), 3, "{levels:?}");
    let bkk = levels.iter().find(|l| l["warehouse"] == "BKK1").unwrap();
    assert_eq!(bkk["reserved"], 12, "the demo reservation: {bkk}");

    // a second run (credentials file kept) sends nothing new
    let again = seed(&env, &admin_file, &out).await;
    assert!(again.contains("demo accounts: already made"), "{again}");
    assert!(again.contains("(0 created, 15 already there)"), "{again}");
    assert!(again.contains("demo stock: already there"), "{again}");
    drop(stock);
    env.stop().await;
}
