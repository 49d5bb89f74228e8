#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
mod support;
use support::TestEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn st() {
    let env = TestEnv::new().await;
    let admin = env.admin_token().await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new(format!("{root}/.khlang/venv/bin/st"))
            .current_dir("/tmp")
            .env("KHLANG_FUZZ_USER_ID", "x").env("KHLANG_FUZZ_COMMAND_ID", "x")
            .args(["--config-file", &format!("{root}/robot/schemathesis.toml"), "run", &format!("{}/openapi.json", env.base),
                   "--url", &env.base, "--header", &format!("Authorization: Bearer {admin}"),
                   "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                   "--phases", "examples,coverage,fuzzing", "--max-examples", "60",
                   "--include-path-regex", "^/v1/(products|warehouses)", "--request-timeout", "30"])
            .output()
            .unwrap()
    });
    println!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let page: serde_json::Value = env.call(reqwest::Method::GET, "/v1/warehouses", Some(&admin), None).await.json().await.unwrap();
    println!("WAREHOUSES {page}");
    let page: serde_json::Value = env.call(reqwest::Method::GET, "/v1/products?page_size=100", Some(&admin), None).await.json().await.unwrap();
    println!("PRODUCTS {}", page["items"].as_array().unwrap().len());
    assert!(out.status.success());
}
